"""Stage 4: the ``.vq`` container (specified in FORMAT.md).

One file holds everything needed to rebuild a quantized image: its shape, the
codebook (levels, edges, how they were made, the source dtype), and the codes,
compressed by a payload coder. A CRC-32 covers every byte before it.

Decoding never trusts the file: the length, magic, version, checksum, header
fields, codebook and the pixel count (against a limit and against what the
payload could possibly encode) are all checked before anything is allocated,
and every failure is a :class:`vqimage.VQError` with a one-line reason.
"""

from __future__ import annotations

import json
import math
import struct
import zlib

import numpy as np

from .._validation import Interval, VQError, check_param
from ..io import DEFAULT_MAX_PIXELS
from ..codebook import Codebook, code_dtype
from .bits import packed_size
from .coders import CODERS, DEFAULT_CODER, get_codec

__all__ = [
    "MAGIC",
    "CODERS",
    "DEFAULT_CODER",
    "DEFAULT_MAX_PIXELS",
    "write_vq",
    "read_vq",
    "read_info",
    "describe_info",
]

MAGIC = b"\x89VQI\r\n\x1a\n"
VERSION = (1, 1)
# Files with gray codebooks are written as 1.0 (readable by every 1.x reader);
# 1.1 added vector (color and block) codebooks and the image_shape key.
_GRAY_MINOR = 0
# magic, major, minor, flags, header length, payload length
_FIXED = struct.Struct("<8sBBHIQ")
_CRC = struct.Struct("<I")
_MAX_HEADER = 16 << 20  # compressed or not; the JSON of a 65,536-level codebook is ~3 MB
_MAX_NDIM = 32
_MAX_SIDE = 1 << 40
# DEFAULT_MAX_PIXELS (vqimage.io's, shared with the image readers) bounds a file's image pixels (a
# color pixel counts once; block files count the image, not the tiles), and the decoded image may take
# at most _MAX_BYTES_PER_PIXEL bytes per pixel of that limit (512 MiB at the default): RGBA and float32
# images reach the pixel limit, float64 ones stop at half of it.
_MAX_BYTES_PER_PIXEL = 4
# A context-coded payload spends at least log2(4096/4095) bits per binary
# decision (its probabilities are clamped), so it cannot describe more than
# ~22,700 pixels per payload byte; FORMAT.md states this looser bound.
_CONTEXT_PIXELS_PER_BYTE = 1 << 16
_CONTEXT_SLACK = 64



def _as_2d(shape) -> tuple[int, int]:
    """The 2-D raster the coders see: rows x last axis (1-D: one row)."""
    if len(shape) == 1:
        return (1, shape[0])
    return (math.prod(shape[:-1]), shape[-1])


def _compact(config: dict) -> dict:
    """Drop interior edges that are exactly the midpoints of adjacent levels (kmeans, optimal).

    They are most of a many-level header's bytes; FORMAT.md's ``{"low", "high"}`` form.
    """
    if config.get("type") != "scalar":
        return config
    levels, edges = np.asarray(config["levels"]), np.asarray(config["edges"])
    if levels.size >= 2 and np.array_equal((levels[1:] + levels[:-1]) / 2, edges[1:-1]):
        return config | {"edges": {"low": config["edges"][0], "high": config["edges"][-1]}}
    return config


def _expand(config):
    """Inverse of :func:`_compact` (anything malformed is left for ``from_config`` to refuse)."""
    if not isinstance(config, dict) or not isinstance(config.get("edges"), dict):
        return config
    outer, levels = config["edges"], config.get("levels")
    try:
        low, high = float(outer["low"]), float(outer["high"])
        levels = np.asarray(levels, dtype=np.float64).reshape(-1)
    except (KeyError, TypeError, ValueError):
        raise VQError("Invalid codebook config: malformed compact edges.") from None
    return config | {"edges": [low, *((levels[1:] + levels[:-1]) / 2).tolist(), high]}


def write_vq(codes: np.ndarray, codebook: Codebook, *, coder: str = DEFAULT_CODER, image_shape=None) -> bytes:
    """Serialise codes and their codebook into the bytes of a ``.vq`` file.

    Block codebooks need ``image_shape``, the (height, width) the tiles are
    cropped to when decoding.
    """
    codes = np.asarray(codes)  # checked before ascontiguousarray, which makes a scalar 1-d
    if codes.size == 0 or codes.ndim == 0 or codes.ndim > _MAX_NDIM:
        raise ValueError(f"A .vq file holds a non-empty array of 1 to {_MAX_NDIM} dimensions; got shape {codes.shape}.")
    codes = np.ascontiguousarray(codes)
    extra = {}
    if codebook.mode == "block":
        if image_shape is None or _block_grid(image_shape, codebook.block) != codes.shape:
            raise ValueError(
                f"A .vq file of {codebook.block[0]}x{codebook.block[1]} block codes of shape {codes.shape} "
                f"needs the image's shape (image_shape=); got {image_shape!r}."
            )
        extra["image_shape"] = [int(s) for s in image_shape]
    elif image_shape is not None:
        raise ValueError("image_shape= is for block codebooks only.")
    raster = _as_2d(codes.shape)
    codec = get_codec(coder, codebook.n_levels, raster, caller="compress")
    payload = codec.encode(codes.reshape(raster).astype(code_dtype(codebook.n_levels), copy=False))
    header = zlib.compress(
        json.dumps(
            {
                "shape": list(codes.shape),
                "coder": coder,
                "n_levels": codebook.n_levels,
                "codebook": _compact(codebook.to_config()),
                **extra,
            },
            separators=(",", ":"),
        ).encode(),
        9,
    )
    minor = _GRAY_MINOR if codebook.mode == "gray" else VERSION[1]
    body = _FIXED.pack(MAGIC, VERSION[0], minor, 0, len(header), len(payload)) + header + payload
    return body + _CRC.pack(zlib.crc32(body))


def _parse(data, max_pixels: int):
    """Check everything checkable without decoding; return (header dict, codebook, payload view)."""
    try:
        view = memoryview(data).cast("B")
    except TypeError:
        raise TypeError(f"A .vq file is read from bytes; got {type(data).__name__}.") from None
    if len(view) < _FIXED.size + _CRC.size:
        raise VQError(f"Not a .vq file: {len(view)} bytes is shorter than any .vq file.")
    magic, major, minor, flags, header_len, payload_len = _FIXED.unpack_from(view, 0)
    if magic != MAGIC:
        raise VQError("Not a .vq file (wrong magic bytes).")
    if major != VERSION[0]:
        raise VQError(f"Unsupported .vq format version {major}.{minor} (this vqimage reads {VERSION[0]}.x).")
    if flags != 0:
        raise VQError(f"Unsupported .vq flags 0x{flags:04x} (damaged file, or a newer writer).")
    if header_len > _MAX_HEADER:
        raise VQError(f"Damaged .vq file: header length {header_len} exceeds {_MAX_HEADER}.")
    expected = _FIXED.size + header_len + payload_len + _CRC.size
    if len(view) != expected:
        state = "truncated" if len(view) < expected else "has trailing data"
        raise VQError(f"Damaged .vq file: {len(view)} bytes, its header says {expected} ({state}).")
    body = view[: expected - _CRC.size]
    (stored,) = _CRC.unpack_from(view, expected - _CRC.size)
    if zlib.crc32(body) != stored:
        raise VQError("Damaged .vq file: checksum mismatch.")
    try:
        inflate = zlib.decompressobj()
        text = inflate.decompress(bytes(view[_FIXED.size : _FIXED.size + header_len]), _MAX_HEADER)
        if inflate.unconsumed_tail or not inflate.eof or inflate.unused_data:
            raise ValueError("not one complete zlib stream within the size limit")
        header = json.loads(text)
    except RecursionError:
        raise VQError("Damaged .vq file: unreadable header (nested too deeply).") from None
    except (zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise VQError(f"Damaged .vq file: unreadable header ({exc}).") from None
    if not isinstance(header, dict):
        raise VQError("Damaged .vq file: the header is not a JSON object.")
    shape = header.get("shape")
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= _MAX_NDIM
        or not all(type(s) is int and s >= 1 for s in shape)
    ):
        raise VQError(f"Damaged .vq file: invalid shape {shape!r}.")
    if max(shape) > _MAX_SIDE:  # not printed: it may have hundreds of digits
        raise VQError("Damaged .vq file: invalid shape (a dimension above 2**40).")
    coder = header.get("coder")
    if not isinstance(coder, str) or coder not in CODERS:  # a list or a dict is no name (and unhashable)
        raise VQError(f"Unsupported payload coder {coder!r} (known: {', '.join(CODERS)}).")
    codebook = Codebook.from_config(_expand(header.get("codebook")))
    if header.get("n_levels") != codebook.n_levels:
        raise VQError("Damaged .vq file: n_levels disagrees with the codebook.")
    if codebook.mode == "block":
        image_shape = header.get("image_shape")
        if (
            not isinstance(image_shape, list)
            or not all(type(s) is int and s >= 1 for s in image_shape)
            or _block_grid(image_shape, codebook.block) != tuple(shape)
        ):
            shown = repr(image_shape) if len(repr(image_shape)) <= 80 else "(too long to show)"
            raise VQError(f"Damaged .vq file: invalid image_shape {shown} for block codes of shape {shape}.")
    pixels = math.prod(shape)
    decoded = image_shape_of(header, codebook)
    image_pixels = math.prod(decoded[:-1]) if codebook.mode == "color" else math.prod(decoded)
    if max(pixels, image_pixels) > max_pixels:
        raise VQError(f"The .vq file declares {max(pixels, image_pixels):,} pixels, above the limit of "
                      f"{max_pixels:,} (max_pixels; --max-pixels).")
    decoded_bytes = math.prod(decoded) * codebook.dtype.itemsize
    if decoded_bytes > _MAX_BYTES_PER_PIXEL * max_pixels:
        raise VQError(f"The .vq file would decode to {decoded_bytes:,} bytes, above {_MAX_BYTES_PER_PIXEL} bytes "
                      f"per pixel of the limit of {max_pixels:,} pixels (max_pixels; --max-pixels).")
    if coder == "packed" and payload_len != packed_size(pixels, codebook.n_levels):
        raise VQError(
            f"Damaged .vq file: {payload_len} payload bytes cannot hold {pixels:,} packed codes "
            f"of {codebook.bits} bits."
        )
    if coder == "context" and codebook.n_levels > 1 and pixels > _CONTEXT_PIXELS_PER_BYTE * (payload_len + _CONTEXT_SLACK):
        raise VQError(f"Damaged .vq file: {payload_len} payload bytes cannot describe {pixels:,} pixels.")
    payload = view[expected - _CRC.size - payload_len : expected - _CRC.size]
    return header, codebook, payload


def _block_grid(image_shape, block):
    """The (rows, cols) of tiles covering a 2-D image, or None for another shape."""
    if len(image_shape) != 2:
        return None
    return (-(-int(image_shape[0]) // block[0]), -(-int(image_shape[1]) // block[1]))


def image_shape_of(header: dict, codebook: Codebook) -> tuple:
    """Shape of the decoded image: the codes' (gray), plus the channels (color), the stored one (block)."""
    shape = tuple(header["shape"])
    if codebook.mode == "color":
        return shape + (codebook.n_components,)
    if codebook.mode == "block":
        return tuple(header["image_shape"])
    return shape


def read_vq(data, *, max_pixels: int = DEFAULT_MAX_PIXELS, with_shape: bool = False):
    """Codes and codebook from the bytes of a ``.vq`` file (and the image's shape, ``with_shape=True``).

    Raises
    ------
    VQError
        For anything that is not an intact .vq file, with the reason.
    """
    check_param("max_pixels", max_pixels, Interval(int, 1, None), caller="decompress")
    header, codebook, payload = _parse(data, max_pixels)
    shape = tuple(header["shape"])
    codec = get_codec(header["coder"], codebook.n_levels, _as_2d(shape), caller="decompress")
    codes = codec.decode(bytes(payload)).reshape(shape)
    if with_shape:
        return codes, codebook, image_shape_of(header, codebook)
    return codes, codebook


def read_info(data, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> dict:
    """The header of a ``.vq`` file (checksum verified) and its sizes, without decoding."""
    header, codebook, payload = _parse(data, max_pixels)
    shape = tuple(header["shape"])
    image_shape = image_shape_of(header, codebook)
    original = math.prod(image_shape) * codebook.dtype.itemsize
    pixels = math.prod(image_shape[:-1]) if codebook.mode == "color" else math.prod(image_shape)
    size = len(memoryview(data).cast("B"))
    return dict(
        shape=list(shape),
        image_shape=list(image_shape),
        mode=codebook.mode,
        dtype=str(codebook.dtype),
        n_levels=codebook.n_levels,
        strategy=codebook.strategy,
        reconstruction=codebook.reconstruction,
        coder=header["coder"],
        bytes=size,
        payload_bytes=len(payload),
        bits_per_pixel=8 * size / pixels,
        original_bytes=original,
        ratio=original / size,
    )


def describe_info(info: dict, name: str) -> str:
    """Two lines on a ``.vq`` file, from :func:`read_info`'s dict (``vqimage info``)."""
    noun = {"gray": "levels", "color": "colors", "block": "blocks"}[info["mode"]]
    tiles = f" in {'x'.join(map(str, info['shape']))} tiles" if info["mode"] == "block" else ""
    return (f"{name}: {'x'.join(map(str, info['image_shape']))} {info['dtype']}, {info['n_levels']} {noun}{tiles} "
            f"({info['strategy']}, {info['reconstruction']}), coder {info['coder']}\n"
            f"  {info['bytes']:,} bytes ({info['payload_bytes']:,} payload), {info['bits_per_pixel']:.4f} bits/pixel, "
            f"{info['ratio']:.2f}x smaller than the {info['original_bytes']:,}-byte original")
