"""
=====================================================
The .vq format, and rate-distortion against JPEG/WebP
=====================================================

:func:`vqimage.compress` stores a quantized image in a ``.vq`` file: its
shape, the codebook that maps codes back to values, and the codes, entropy
coded by an adaptive context-mixing coder, with a CRC-32 over everything. This
example takes a file apart byte by byte (the layout is in
:doc:`/guide/format`), shows that damage is detected, and then places ``.vq``
on a rate-distortion plot against JPEG and WebP at every quality.
"""

# %%
# A .vq file, byte by byte
# ------------------------

import io
import json
import struct
import zlib

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter
from PIL import Image

import vqimage

try:
    image = vqimage.load_image("face")
    name = "face"
except vqimage.io.FaceUnavailable as exc:
    print(f"note: {exc} Using scikit-image's camera instead.")
    image = vqimage.load_image("camera")
    name = "camera"

data = vqimage.compress(image, 8)
print(f"{name}: {image.shape} {image.dtype} -> {len(data):,} bytes")

magic, major, minor, flags, header_length, payload_length = struct.unpack_from("<8sBBHIQ", data)
print("magic:", magic, " version:", f"{major}.{minor}", " flags:", flags)
print(f"header: {header_length} bytes (zlib), payload: {payload_length:,} bytes, "
      f"file: 28 + {header_length} + {payload_length:,} = {28 + header_length + payload_length:,}")

header = json.loads(zlib.decompress(data[24 : 24 + header_length]))
print(json.dumps(header, indent=1)[:600])

(crc,) = struct.unpack_from("<I", data, len(data) - 4)
print("CRC-32 matches:", crc == zlib.crc32(data[:-4]))

# %%
# The codebook is stored as :meth:`vqimage.Codebook.to_config` writes it, its
# floats in Python's shortest round-trip form, so the levels come back bit for
# bit. Kmeans and optimal codebooks, whose edges are the midpoints between
# levels, store only the outer edges (``"low"``, ``"high"``).
#
# :func:`vqimage.vq_info` reads the header without decoding the codes:

info = vqimage.vq_info(data)
print({key: info[key] for key in ("shape", "n_levels", "strategy", "coder", "bytes", "bits_per_pixel", "ratio")})

# %%
# Damage is detected
# ------------------
#
# Decoders never trust a file: every single-byte corruption is caught by the
# CRC, every truncation by the lengths, and a header that asks for more pixels
# than ``max_pixels`` is refused before anything is allocated.

for label, damaged in [
    ("one byte changed", data[:500] + bytes([data[500] ^ 0x10]) + data[501:]),
    ("truncated", data[:-100]),
    ("not a .vq file", b"GIF89a" + data[6:]),
]:
    try:
        vqimage.decompress(damaged)
    except vqimage.VQError as exc:
        print(f"{label:18} VQError: {exc}")

# %%
# Rate and distortion
# -------------------
#
# Quantization with the optimal levels is one way to spend bits; lossy JPEG
# and WebP are others. :func:`vqimage.compare.sweep` measures the error and
# the file sizes of every level count; Pillow encodes JPEG and WebP at every
# quality. Sizes are whole files, in bits per pixel.

from vqimage.compare import sweep

levels = [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]
rows = sweep(image, levels=levels, formats=("vq", "png"))
print(f"{'levels':>6} {'PSNR':>9} {'SSIM':>7} {'max error':>9} {'.vq bpp':>8} {'PNG bpp':>8}")
for row in rows:
    print(f"{row.n_levels:6} {row.psnr:6.2f} dB {row.ssim:7.4f} {row.max_error:9.0f} {row.bits_per_pixel('vq'):8.3f} "
          f"{row.bits_per_pixel('png'):8.3f}")


def lossy(fmt, quality):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt, quality=quality)
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L"))
    bpp = 8 * buffer.tell() / image.size
    metrics = vqimage.metrics
    return bpp, metrics.psnr(image, decoded), metrics.ssim(image, decoded), metrics.max_error(image, decoded)


qualities = [2, 5, 10, 20, 30, 50, 70, 85, 95]
peers = {fmt: np.array([lossy(fmt, q) for q in qualities]) for fmt in ("JPEG", "WEBP")}
print(f"{'':5} {'quality':>7} {'bpp':>6} {'PSNR':>9} {'SSIM':>7} {'max error':>9}")
for fmt, table in peers.items():
    for quality, (bpp, psnr, ssim, worst) in zip(qualities, table):
        print(f"{fmt:5} {quality:7} {bpp:6.3f} {psnr:6.2f} dB {ssim:7.4f} {worst:9.0f}")

# %%
fig, ax = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
curves = {
    ".vq (optimal levels)": np.array([(r.bits_per_pixel("vq"), r.psnr, r.ssim) for r in rows]),
    "palette PNG (optimal levels)": np.array([(r.bits_per_pixel("png"), r.psnr, r.ssim) for r in rows]),
    "JPEG (Pillow, quality 2-95)": peers["JPEG"],
    "WebP (Pillow, quality 2-95)": peers["WEBP"],
}
for label, curve in curves.items():
    style = "o-" if "levels" in label else "s--"
    ax[0].plot(curve[:, 0], curve[:, 1], style, label=label, markersize=4)
    ax[1].plot(curve[:, 0], curve[:, 2], style, label=label, markersize=4)
for axis, metric in zip(ax, ("PSNR (dB)", "SSIM")):
    axis.set_xscale("log")
    axis.set_xticks([0.2, 0.5, 1, 2], labels=["0.2", "0.5", "1", "2"])
    axis.xaxis.set_minor_formatter(NullFormatter())
    axis.set_xlabel("bits per pixel (log scale)")
    axis.set_ylabel(metric)
    axis.grid(True, which="both", alpha=0.3)
ax[0].legend()
_ = fig.suptitle(f"{name}: rate and distortion")

# %%
# What the curves say
# -------------------
#
# On a photograph the transform codecs give more PSNR and SSIM per bit at
# every rate here: JPEG and WebP spend their bits on the frequencies the eye
# needs, while a few gray levels flatten the smooth shading into bands.
# Quantization is not a photo codec, and vqimage does not claim to be one.
#
# What the ``.vq`` file gives instead:
#
# - the same quantized image as a palette PNG in far fewer bytes (its coder
#   predicts each code from its neighbours), decoded to exactly the quantized
#   values;
# - a known, small set of values: the codes are labels a program can use as
#   they are (segmentation, lookup tables, e-paper frame buffers);
# - a bound on the error of every pixel, chosen in advance with ``max_error``
#   (:doc:`plot_04_scientific_16bit`), where a JPEG's worst pixel is found
#   only afterwards.

for row in rows:
    if row.n_levels in (4, 8, 16, 64):
        vq_bytes, png_bytes = row.sizes["vq"], row.sizes["png"]
        print(f"{row.n_levels:3} levels: .vq {vq_bytes:7,} bytes, palette PNG {png_bytes:7,} bytes "
              f"({vq_bytes / png_bytes:.0%}); every pixel within {row.max_error:.0f}")
