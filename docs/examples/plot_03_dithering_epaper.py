"""
===============================
Dithering and e-paper palettes
===============================

An e-paper panel shows a handful of inks: 2 or 4 grays, or 6 or 7 colors. With
so few levels, mapping each pixel to its nearest ink flattens every gradient
into bands. Dithering spreads the error over the neighbours instead, so that
the *average* over a small area -- what the eye sees -- follows the image.

This example maps scikit-image's ``camera`` to 4 e-paper grays and ``chelsea``
to a 7-color ACeP panel with each of vqimage's dithering methods, and writes
the raw frame buffer the panel's controller takes.
"""

# %%
# Four grays, five ways
# ---------------------
#
# ``palette="gray4"`` maps to a fixed palette (the 4 gray levels of common
# e-paper panels) instead of fitting one; ``dither=`` picks the method.

import matplotlib.pyplot as plt
import numpy as np
from scipy.ndimage import gaussian_filter

import vqimage

camera = vqimage.load_image("camera")
print("gray4:", vqimage.palette_codebook("gray4").levels[:, 0])

methods = ["none", "floyd-steinberg", "atkinson", "ordered", "blue-noise"]
results = {method: vqimage.quantize(camera, palette="gray4", dither=method) for method in methods}

# %%
# The PSNR of the pixels themselves prefers no dithering: each pixel is then
# as close as it can be. Blur both images a little (a Gaussian of 1.5 pixels,
# roughly what the eye averages at reading distance) and the order reverses:
# the dithered images carry the gradients the undithered one lost.


def blurred_psnr(reference, image, sigma=1.5):
    blur = [gaussian_filter(np.asarray(x, dtype=np.float64), sigma) for x in (reference, image)]
    return vqimage.metrics.psnr(*blur, data_range=255)


print(f"{'dither':16} {'PSNR':>9} {'PSNR, blurred':>14}")
for method, result in results.items():
    restored = result.reconstruction
    print(f"{method:16} {vqimage.metrics.psnr(camera, restored):6.2f} dB {blurred_psnr(camera, restored):11.2f} dB")

# %%
crop = (slice(60, 260), slice(180, 380))
fig, axes = plt.subplots(2, 3, figsize=(12, 8.4), layout="constrained")
panels = {"original (256 grays)": camera, **{m: r.reconstruction for m, r in results.items()}}
for axis, (label, image) in zip(axes.ravel(), panels.items()):
    axis.imshow(image[crop], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    axis.set_title(label)
    axis.axis("off")
_ = fig.suptitle("camera on a 4-gray e-paper palette")

# %%
# ``ordered`` (an 8x8 Bayer matrix) and ``blue-noise`` (a 64x64
# void-and-cluster threshold map) decide each pixel from that pixel alone, so
# an animation or a partial e-paper refresh does not make the grain crawl;
# error diffusion (``floyd-steinberg``, ``atkinson``, ``sierra``) gives the
# finest detail. ``atkinson`` diffuses only 3/4 of the error, which keeps
# flat areas clean at the cost of clipped highlights and shadows.
#
# A 7-color panel
# ---------------
#
# ``epaper7`` is the palette of 7-color ACeP panels (black, white, green, blue,
# red, yellow, orange), in the order the controller numbers the inks.

chelsea = vqimage.load_image("chelsea", gray=False)
epaper7 = vqimage.palette_codebook("epaper7")
print(epaper7)
print(np.asarray(epaper7.levels, dtype=np.uint8))

panel = {m: vqimage.quantize(chelsea, palette="epaper7", dither=m) for m in ("none", "floyd-steinberg", "blue-noise")}

fig, axes = plt.subplots(2, 2, figsize=(12, 8.2), layout="constrained")
for axis, (label, image) in zip(axes.ravel(), {"original": chelsea, **{m: r.reconstruction for m, r in panel.items()}}.items()):
    axis.imshow(image)
    axis.set_title(label)
    axis.axis("off")
_ = fig.suptitle("chelsea on a 7-color e-paper palette")

# %%
# The frame buffer
# ----------------
#
# The ``raw`` format (``.raw`` on the command line) is the bytes the panel's
# controller receives: the codes, 4 bits per pixel for 7 inks, the leftmost
# pixel in the high nibble, each row starting on a new byte, no header.

result = panel["floyd-steinberg"]
frame = result.to_bytes("raw")
height, width = result.codes.shape
print(f"{height} x {width} pixels -> {len(frame):,} bytes = {height} rows x {-(-width * 4 // 8)} bytes")
print("first pixels' codes:", result.codes[0, :6], "-> first bytes:", frame[:3].hex(" "))

# %%
# The same from a shell::
#
#     vqimage quantize chelsea -p epaper7 -d floyd-steinberg -o chelsea.raw
#
# Selective dithering
# -------------------
#
# With a fitted palette of more colors, full error diffusion adds noise to
# flat areas that did not need it. ``selective=True`` dithers smooth gradients
# only and leaves flat areas and edges clean.

coffee = vqimage.load_image("coffee", gray=False)
options = {"none": {"dither": "none"}, "floyd-steinberg": {"dither": "floyd-steinberg"},
           "selective": {"dither": "floyd-steinberg", "selective": True}}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
for axis, (label, kwargs) in zip(axes, options.items()):
    result = vqimage.quantize(coffee, 16, space="rgb", ssim=False, **kwargs)
    psnr = vqimage.metrics.psnr(coffee, result.reconstruction)
    print(f"{label:16} {psnr:6.2f} dB")
    axis.imshow(result.reconstruction[100:300, 150:450])
    axis.set_title(f"{label}: {psnr:.2f} dB")
    axis.axis("off")
_ = fig.suptitle("coffee, 16 colors")
