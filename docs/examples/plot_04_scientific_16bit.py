"""
==================================================
16-bit scientific images with a guaranteed error
==================================================

A microscope or a telescope writes 16-bit images whose pixels are
measurements. Quantizing them is only acceptable if no pixel moves by more
than a known amount -- say, well below the noise of the detector.
``vqimage.quantize(image, max_error=e)`` gives exactly that: every pixel within
``e`` of its original value, with **the fewest levels that can guarantee it**
(the sorted values are covered by intervals of width ``2 e``, which is
optimal). Levels that minimize the mean squared error give no such bound.

The image here is synthetic, so the page builds offline: a 16-bit fluorescence
micrograph of 80 cells on a smooth background, with photon (Poisson) noise.
"""

# %%
# A 16-bit image
# --------------

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from scipy.ndimage import gaussian_filter

import vqimage

rng = np.random.default_rng(0)  # seeded: the page is the same at every build
height = width = 512
cells = np.zeros((height, width))
cells[rng.integers(0, height, 80), rng.integers(0, width, 80)] = rng.uniform(2e6, 1e7, 80)
photons = 800 + gaussian_filter(cells, 6) + 300 * gaussian_filter(rng.standard_normal((height, width)), 20)
image = rng.poisson(np.clip(photons, 0, None)).astype(np.uint16)

print(image.shape, image.dtype, f"values {image.min()}..{image.max()}, {len(np.unique(image)):,} distinct")
print(f"photon noise: standard deviation {np.sqrt(image.min()):.0f} (background) to {np.sqrt(image.max()):.0f} (brightest)")

# %%
# A guaranteed maximum error
# --------------------------
#
# ``max_error`` is a target: :func:`vqimage.quantize` finds the fewest levels
# that meet it. ``n_levels`` is then the most it may use (default 256), so it is
# raised here. The bound is checked below against the reconstruction, which
# keeps the image's dtype (uint16).

limits = (4, 16, 64)
results = {}
print(f"{'max_error':>9} {'levels':>7} {'measured':>9} {'PSNR':>9} {'.vq bytes':>10} {'uniform grid':>13}")
for e in limits:
    result = vqimage.quantize(image, 4096, max_error=e)
    results[e] = result
    measured = vqimage.metrics.max_error(image, result.reconstruction)
    assert measured <= e and result.reconstruction.dtype == np.uint16
    grid = -(-(int(image.max()) - int(image.min()) + 1) // (2 * e + 1))  # levels of a uniform grid of step 2e+1
    print(f"{e:9} {result.n_levels:7,} {measured:9.0f} {result.metrics.psnr:6.2f} dB "
          f"{len(result.to_bytes('vq')):10,} {grid:13,}")

# %%
# The last column is what a uniform grid needs for the same bound: vqimage's
# levels go only where the values are.
#
# What the mean squared error does not promise
# --------------------------------------------
#
# The optimal levels for the MSE, with the same number of levels, have a
# better PSNR -- and a maximum error several times the limit, in the rare
# bright values where few pixels are.

print(f"{'levels':>7} {'max error: optimal (MSE)':>25} {'PSNR':>9} {'max error: max_error=':>22}")
for e, result in results.items():
    optimal = vqimage.quantize(image, result.n_levels)
    print(f"{result.n_levels:7,} {optimal.metrics.max_error:25.0f} {optimal.metrics.psnr:6.2f} dB {e:22}")

# %%
# The image, its error and its levels
# -----------------------------------

result = results[16]
error = result.reconstruction.astype(np.int32) - image
values, counts = np.unique(image, return_counts=True)
low, high = 43500, 44500  # a stretch of the bright tail, where values are sparse
inside = (values >= low) & (values < high)
levels = result.codebook.levels[(result.codebook.levels >= low) & (result.codebook.levels < high)]

fig, ax = plt.subplots(1, 3, figsize=(13, 4.2), layout="constrained")
shown = ax[0].imshow(image, cmap="magma", norm=LogNorm())
fig.colorbar(shown, ax=ax[0], shrink=0.8)
ax[0].set_title("16-bit image (log scale)")
shown = ax[1].imshow(error[:128, :128], cmap="coolwarm", vmin=-16, vmax=16, interpolation="nearest")
fig.colorbar(shown, ax=ax[1], shrink=0.8)
ax[1].set_title(f"error, max_error=16 ({result.n_levels} levels), a corner")
for axis in ax[:2]:
    axis.axis("off")
ax[2].vlines(values[inside], 0, counts[inside], color="0.4", linewidth=1)
for level in levels:
    ax[2].axvspan(level - 16, level + 16, color="tab:blue", alpha=0.15, linewidth=0)
    ax[2].axvline(level, color="tab:blue", linewidth=1)
ax[2].set_xlim(low, high)
ax[2].set_xlabel("value")
ax[2].set_ylabel("pixels")
_ = ax[2].set_title(f"{low:,}-{high:,}: {len(levels)} levels (blue, ±16)")

# %%
# Storing it
# ----------
#
# The codes of up to 65,536 levels are uint16 (uint8 up to 256); the ``.vq``
# container stores them entropy coded, with the codebook, so the 16-bit
# reconstruction comes back exactly. A lossless 16-bit PNG of the original is
# shown for scale.

import imagecodecs

data = vqimage.compress(image, codebook=result.codebook)
restored = vqimage.decompress_image(data)
print("restored:", restored.dtype, "equal to the quantized image:", np.array_equal(restored, result.reconstruction))
print(f"original, raw:            {image.nbytes:9,} bytes")
print(f"original, lossless PNG:   {len(imagecodecs.png_encode(image)):9,} bytes")
print(f".vq, every pixel within 16: {len(data):7,} bytes ({8 * len(data) / image.size:.2f} bits/pixel)")

# %%
# The same from a shell: ``vqimage quantize scan.tif --max-error 16 -o
# scan-e16.tif`` (or ``-o scan-e16.vq``); a limit that cannot be met within
# ``-k`` levels exits with code 3 and says how many it would need.
