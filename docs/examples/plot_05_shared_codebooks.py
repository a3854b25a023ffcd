"""
=====================================
Shared codebooks for a collection
=====================================

An 8-bit gray image has at most 256 distinct values, however many pixels it
has, so vqimage fits its codebooks on histograms -- and histograms add up.
The sum of the histograms of a whole collection (the frames of a video, the
tiles of a slide, the images of a dataset) is fitted once, and the one
codebook then applies to every image: stored once, with codes that mean the
same gray value in every file.
"""

# %%
# A collection
# ------------
#
# Five of scikit-image's gray images, of different sizes, written as PNG files
# to a temporary directory (the command line and :mod:`vqimage.batch` take
# files, directories and glob patterns).

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

import vqimage

names = ["camera", "coins", "moon", "page", "text"]
images = {name: vqimage.load_image(name) for name in names}
workdir = Path(tempfile.mkdtemp(prefix="vqimage-shared-"))
paths = []
for name, image in images.items():
    paths.append(workdir / f"{name}.png")
    Image.fromarray(image).save(paths[-1])
    print(f"{name:8} {image.shape!s:12} {image.dtype}")

# %%
# One codebook from the summed histograms
# ---------------------------------------
#
# :func:`vqimage.histogram` counts each image; ``+`` merges the counts; and
# :func:`vqimage.fit` finds the optimal 8 levels of the whole collection, as if
# it were one image.

total = sum(vqimage.histogram(image) for image in images.values())
print(total)
shared = vqimage.fit(total, 8)
print(shared)
print("levels:", np.round(shared.levels, 1))

# %%
# What sharing costs
# ------------------
#
# Each image's own optimal levels are, by definition, at least as good for
# that image as the shared ones. The cost is about 1 dB for the images whose
# values spread like the collection's, and more for those least like the
# others: ``moon``, whose values crowd into a narrow band, and ``text``.

print(f"{'image':8} {'own levels':>11} {'shared':>9}")
for name, image in images.items():
    own = vqimage.quantize(image, 8)
    common = vqimage.quantize(image, codebook=shared)
    print(f"{name:8} {own.metrics.psnr:8.2f} dB {common.metrics.psnr:6.2f} dB")

# %%
fig, ax = plt.subplots(figsize=(11, 4.2), layout="constrained")
for name, image in images.items():
    h = vqimage.histogram(image)
    ax.plot(h.values, h.counts / h.total, label=name, linewidth=1)
for level in shared.levels:
    ax.axvline(level, color="k", linewidth=0.8, linestyle="--")
ax.set_yscale("log")
ax.set_xlabel("gray value")
ax.set_ylabel("fraction of pixels")
ax.set_title("each image's histogram, and the shared levels (dashed)")
_ = ax.legend(ncols=5, loc="lower center")

# %%
# Every file at once
# ------------------
#
# :func:`vqimage.batch.quantize_files` is the engine of the command line's
# several-input mode: it reads the files in parallel, fits the shared
# codebook when ``shared=True``, writes ``outdir/NAME.EXT`` for each, and
# returns one record per file (a file that fails becomes a record with its
# reason; the others go on).

from vqimage.batch import quantize_files, totals

records = quantize_files(paths, workdir / "out", 8, shared=True, ext=".vq", workers=2)
for record in records:
    print(f"{Path(record['input']).name:10} -> {Path(record['output']).name:9} "
          f"{record['bytes']:7,} bytes, PSNR {record['psnr']:.2f} dB")
summary = totals(records)
print(summary)

# %%
# Every ``.vq`` file carries the same codebook, so any of them decodes alone;
# the codes are comparable across files.

codes, codebook = vqimage.decompress((workdir / "out" / "moon.vq").read_bytes())
print(codebook == shared, codes.dtype, codes.shape)

# %%
# The same from a shell::
#
#     vqimage compress camera coins moon page text -k 8 --shared-codebook -o shared
#
# The codebook as JSON
# --------------------
#
# A codebook is a small JSON-safe dict (:meth:`vqimage.Codebook.to_config`), so
# it can be stored beside a dataset and applied to images that arrive later.

import json

config = shared.to_config()
text = json.dumps(config)
print(len(text), "characters:", text[:160], "...")
assert vqimage.Codebook.from_config(json.loads(text)) == shared

# %%
# One palette for many color images
# ---------------------------------
#
# Color histograms merge the same way (:func:`vqimage.vector_histogram`): one
# palette for every frame of an animated GIF, or for a set of images shown
# together.

colors = {name: vqimage.load_image(name, gray=False) for name in ("astronaut", "coffee", "chelsea")}
palette = vqimage.fit(sum(vqimage.vector_histogram(rgb) for rgb in colors.values()), 32, mode="color")
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
for axis, (name, rgb) in zip(axes, colors.items()):
    restored = vqimage.decode(vqimage.encode(rgb, palette), palette)
    axis.imshow(restored)
    axis.set_title(f"{name}: {vqimage.metrics.psnr(rgb, restored):.2f} dB")
    axis.axis("off")
_ = fig.suptitle("three images, one 32-color palette")

# %%
import shutil

shutil.rmtree(workdir)  # the temporary files of this example
