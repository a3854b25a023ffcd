"""
========================================================
Images larger than memory: Dask and zarr
========================================================

A codebook is fitted from a histogram, and the histograms of chunks add up.
So :mod:`vqimage.distributed` fits a chunked array without ever holding it:
every chunk is counted where it lives (in parallel, on Dask's threads here, or
on a ``dask.distributed`` cluster), the counts are summed, and the in-memory
solver runs once. Encoding is a per-pixel map, so it runs chunk by chunk and
the codes go straight to a zarr array on disk.

The sizes here are small, so that the page builds in seconds; nothing in the
code depends on them. Integer images give results bit-identical to the
in-memory path, which the example checks.
"""

# %%
# A chunked 16-bit image on disk
# ------------------------------
#
# A synthetic 16-bit image of 2048 x 2048 pixels, generated chunk by chunk by
# Dask (each chunk from its own seeded random generator) and written to a zarr
# array: the kind of input that a slide scanner or a survey telescope leaves.

import shutil
import tempfile
from pathlib import Path

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np

import vqimage
from vqimage import distributed

size, chunk = 2048, 512


def tile(block, block_info=None):
    """One chunk: a smooth field in global coordinates, plus seeded noise."""
    (y0, y1), (x0, x1) = block_info[None]["array-location"]
    y, x = np.mgrid[y0:y1, x0:x1]
    waves = 12000 * np.sin(x / 170.0) * np.cos(y / 230.0)
    spot = 9000 * np.exp(-((x - 1300) ** 2 + (y - 700) ** 2) / 2e5)
    field = 24000 + waves + spot
    rng = np.random.default_rng([y0, x0])
    return np.clip(field + rng.normal(0, 400, field.shape), 0, 65535).astype(np.uint16)


lazy = da.zeros((size, size), dtype=np.uint16, chunks=chunk).map_blocks(tile, dtype=np.uint16)
workdir = Path(tempfile.mkdtemp(prefix="vqimage-dask-"))
source = workdir / "scan.zarr"
lazy.to_zarr(str(source))
print(lazy)

# %%
# Fit: a map-reduce of histograms
# -------------------------------
#
# :func:`vqimage.distributed.fit` takes the zarr path (or any dask array, or a
# tiled TIFF) and returns an ordinary :class:`vqimage.Codebook`.

image = distributed.as_dask(source)
print("chunks:", image.chunksize, "x", image.numblocks)
codebook = distributed.fit(image, 16)
print(codebook)
print("levels:", np.round(codebook.levels).astype(int))

# %%
# Encode and store: codes in zarr
# -------------------------------
#
# :func:`vqimage.distributed.quantize_to_zarr` fits (or takes) the codebook and
# writes the codes chunk by chunk, uint8 for 16 levels: a quarter of the
# 16-bit source. The codebook goes into the array's attributes. The output is
# written under a temporary name and renamed when complete, so an interrupted
# run never leaves an array that :func:`~vqimage.distributed.read_codes` would
# take for a finished one.

target = workdir / "codes.zarr"
distributed.quantize_to_zarr(source, target, codebook=codebook)
codes, stored = distributed.read_codes(target)
print(codes)
print("codebook stored with the codes:", stored == codebook)


def disk_bytes(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


print(f"on disk: source {disk_bytes(source):,} bytes, codes {disk_bytes(target):,} bytes (zarr's default compression)")

# %%
# Decode lazily
# -------------
#
# :func:`vqimage.distributed.decode` is lazy too: only the chunks a slice
# touches are read and decoded.

restored = distributed.decode(codes, stored)
window = (slice(600, 856), slice(1200, 1456))
crop, crop_restored = image[window].compute(), restored[window].compute()
print("max error in the window:", vqimage.metrics.max_error(crop, crop_restored))

fig, ax = plt.subplots(1, 3, figsize=(13, 4.3), layout="constrained")
ax[0].imshow(image[::8, ::8].compute(), cmap="viridis")
ax[0].add_patch(plt.Rectangle((1200 / 8, 600 / 8), 32, 32, fill=False, color="w"))
ax[0].set_title("16-bit source, 1/8 scale")
scale = {"cmap": "viridis", "vmin": crop.min(), "vmax": crop.max()}  # one color scale for both
ax[1].imshow(crop, **scale)
ax[1].set_title("window, original")
ax[2].imshow(crop_restored, **scale)
ax[2].set_title("window, 16 levels")
for axis in ax:
    axis.axis("off")

# %%
# The same as in memory
# ---------------------
#
# This image is small enough to check: the in-memory pipeline gives the same
# codebook and the same codes, bit for bit.

in_memory = np.asarray(image)
assert vqimage.fit(in_memory, 16) == codebook
assert np.array_equal(vqimage.encode(in_memory, codebook), np.asarray(codes))
print("identical to vqimage.fit and vqimage.encode in memory")

# %%
# The same from a shell::
#
#     vqimage quantize scan.zarr -k 16 -o codes.zarr --chunks 512
#     vqimage quantize scan.zarr -k 16 -o codes.zarr --scheduler tcp://HOST:8786
#
# ``scheduler=`` (and ``--scheduler``) also takes ``"processes"``,
# ``"synchronous"``, or the address of a running ``dask.distributed`` cluster.

shutil.rmtree(workdir)  # the temporary files of this example
