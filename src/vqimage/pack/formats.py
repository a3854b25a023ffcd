"""Stage 4: every file writer, chosen by name or extension from one registry.

============  =============================================================
extension     what is written
============  =============================================================
``.vq``       vqimage's own container (FORMAT.md): codes, codebook, CRC.
``.png``      8-bit gray or color codebooks of at most 256 levels: a palette
              PNG (PNG-8) whose palette is the codebook and whose pixels are
              the codes, at the smallest bit depth (1, 2, 4 or 8 bits per
              pixel), with exactly ``n_levels`` palette entries and a tRNS
              chunk when some entry is transparent (:func:`png8`). Fitted
              palettes are reordered and the rows filtered for the smallest
              file (``optimize=True``); a fixed palette (``strategy ==
              'palette'``, e.g. a device's) keeps its indices. 16-bit
              data: a 16-bit gray PNG of the reconstruction. Blocks: an 8-bit
              gray PNG of the reconstruction.
``.gif``      the same palette image as a GIF (:func:`gif`: palette padded
              to a power of two; one fully transparent entry at most).
``.raw``      an e-paper frame buffer: the codes, 1, 2, 4 or 8 bits each
              (the fewest that hold them), first pixel in the most
              significant bits, rows starting on a byte (:func:`epaper`).
``.webp``     the reconstruction, WebP lossless (method 6; 8-bit only).
``.jxl``      the reconstruction, JPEG XL lossless (effort 7; 8 or 16 bits).
``.tif``      the reconstruction (any dtype), zlib-compressed TIFF.
``.tiff``
``.npy``      the codes (uint8 / uint16) as a NumPy file.
============  =============================================================

Color metadata: given the input's :class:`vqimage.io.ImageMeta` (``meta=``),
PNG keeps its ICC profile (iCCP) -- or else its sRGB, gAMA and cHRM chunks --
WebP and TIFF its ICC profile, so that viewers show the colors the input
had. GIF, ``.raw``, ``.npy`` and ``.vq`` hold none; JPEG XL is written as
sRGB.

Reading any of them back with :func:`vqimage.load_image` (or the ``.vq``
with :func:`vqimage.decompress_image`) gives the reconstruction exactly
(``vqimage.decode(codes, codebook)``); ``.npy`` and ``.raw`` give the codes.

:func:`png8`, :func:`gif` and :func:`epaper` also write codes with any fixed
palette (a uint8 array of shape (k, 3) or (k, 4), see
:mod:`vqimage.palettes`): each takes ``codes``, a 2-D array (rows, columns)
of palette indices (uint8, or any integer dtype whose values fit).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._validation import Interval, Options, VQError, check_param
from ..codebook import Codebook
from ..io import write_atomic
from ..mapping import decode
from ..palettes import check_palette
from .bits import pack_rows, unpack_rows

__all__ = [
    "FORMATS",
    "EXTENSIONS",
    "EPAPER_BITS",
    "Format",
    "format_of",
    "export",
    "export_bytes",
    "palette_of",
    "png8",
    "color_chunks",
    "cooccurrence_order",
    "gif",
    "epaper",
    "epaper_unpack",
]

#: Bits per pixel :func:`epaper` packs.
EPAPER_BITS = (1, 2, 4, 8)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IDAT_CHUNK = 1 << 20  # split IDAT so no chunk nears PNG's 2**31 - 1 length limit
_GIF_MAX_SIDE = 65535


def _check_codes(codes, *, caller: str, n_colors: int, what: str) -> np.ndarray:
    """2-D, non-empty, integer codes in [0, n_colors); returned as contiguous uint8."""
    try:
        array = np.asarray(codes)
    except (ValueError, TypeError):
        raise TypeError(
            f"The 'codes' parameter of {caller} must be a 2-D integer array of palette indices. "
            f"Got {type(codes).__name__} instead."
        ) from None
    if array.dtype.kind not in "ui":
        raise TypeError(
            f"The 'codes' parameter of {caller} must be a 2-D integer array (uint8) of palette indices. "
            f"Got dtype {array.dtype} instead."
        )
    if array.ndim != 2:
        raise ValueError(
            f"The 'codes' parameter of {caller} must be a 2-D array (rows, columns) of palette indices. "
            f"Got shape {array.shape} instead."
        )
    if array.size == 0:
        raise ValueError(f"The 'codes' parameter of {caller} is empty (shape {array.shape}).")
    low, high = int(array.min()), int(array.max())
    if low < 0 or high >= n_colors:
        raise ValueError(
            f"The 'codes' parameter of {caller} must lie in [0, {n_colors - 1}] ({what}). "
            f"Got values in [{low}, {high}] instead."
        )
    return np.ascontiguousarray(array, dtype=np.uint8)


def _check_bits(bits, caller: str) -> int:
    if isinstance(bits, bool | np.bool_):
        raise TypeError(
            f"The 'bits' parameter of {caller} must be one of {{1, 2, 4, 8}}. Got {bits!r} instead."
        )
    check_param("bits", bits, Options(EPAPER_BITS), caller=caller)
    return int(bits)


def _indices(k: int) -> str:
    return f"indices into the palette's {k} color{'s' if k != 1 else ''}"


def color_chunks(meta) -> bytes:
    """The PNG chunks that say how ``meta``'s pixels are to be shown (placed before PLTE and IDAT).

    An ICC profile is an iCCP chunk, and then there is no sRGB chunk (the PNG
    specification's rule); gAMA and cHRM go with either, as the specification
    recommends for decoders that know no ICC. ``meta`` is a
    :class:`vqimage.io.ImageMeta` or None (no chunks).

    Examples
    --------
    >>> from vqimage.io import ImageMeta
    >>> color_chunks(ImageMeta(format="PNG", bit_depth=8, srgb_intent=0, gamma=0.45455))
    b'\\x00\\x00\\x00\\x04gAMA\\x00\\x00\\xb1\\x8f\\x0b\\xfca\\x05\\x00\\x00\\x00\\x01sRGB\\x00\\xae\\xce\\x1c\\xe9'
    """
    if meta is None:
        return b""
    chunks = []
    if meta.chromaticities is not None:
        chunks.append(_chunk(b"cHRM", struct.pack(">8I", *(round(v * 100000) for v in meta.chromaticities))))
    if meta.gamma is not None:
        chunks.append(_chunk(b"gAMA", struct.pack(">I", round(meta.gamma * 100000))))
    if meta.icc_profile:
        chunks.append(_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(meta.icc_profile, 9)))
    elif meta.srgb_intent is not None:
        chunks.append(_chunk(b"sRGB", bytes([meta.srgb_intent])))
    return b"".join(chunks)


def _kept(meta, icc_only: bool = False) -> str:
    """What a description says of the color metadata a file keeps."""
    if meta is None:
        return ""
    if meta.icc_profile:
        return ", ICC profile kept"
    if icc_only:
        return ""
    kept = [name for name, value in (("sRGB", meta.srgb_intent), ("gamma", meta.gamma),
                                     ("chromaticities", meta.chromaticities)) if value is not None]
    return f", {' and '.join(kept)} kept" if kept else ""


def _with_color_chunks(png: bytes, meta) -> bytes:
    """``png`` with :func:`color_chunks` right after its IHDR (the signature and IHDR take 33 bytes)."""
    chunks = color_chunks(meta)
    return png[:33] + chunks + png[33:] if chunks else png


def _depth(n_colors: int) -> int:
    return next(b for b in (1, 2, 4, 8) if n_colors <= 1 << b)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


#: Up to this many pixels palette PNGs are deflated at libdeflate's level 10, above at 7 (see :func:`png8`).
_PNG_SLOW_PIXELS = 1 << 22
#: Up to this many pixels ``optimize=True`` also deflates the plain layout at the final level and keeps the smaller.
_PNG_TWO_FINALS = 1 << 20
#: Above this many pixels the layouts are estimated on a quarter of the rows (bands of 16).
_PNG_SAMPLED = 1 << 18
#: A layout must be estimated this much smaller than the plain one to be chosen.
_PNG_MIN_GAIN = 0.01
_PNG_FILTERS = (0, 1, 2, 4)  # None, Sub, Up, Paeth (Average never won on palette images)


def cooccurrence_order(codes: np.ndarray, k: int) -> np.ndarray:
    """A palette order that puts colors which touch in the image next to each other.

    The 4-neighbour pairs of different codes are counted; the chain starts
    from the most frequent pair and grows greedily at whichever end has the
    more frequent unplaced neighbour (ties: the lower index), then takes the
    colors no pair reaches in index order. Neighbouring colors then get
    nearby indices, which PNG's Sub, Up and Paeth filters turn into small
    differences. Returns ``order``: new index ``i`` holds old entry
    ``order[i]``.

    Examples
    --------
    >>> import numpy as np
    >>> cooccurrence_order(np.array([[0, 2, 2, 1, 1]]), 3).tolist()
    [0, 2, 1]
    """
    codes = np.asarray(codes)
    k = int(k)
    if k <= 2:
        return np.arange(k)
    pairs = np.zeros(k * k, np.int64)
    for a, b in ((codes[:, :-1], codes[:, 1:]), (codes[:-1], codes[1:])):
        a = a.ravel().astype(np.int64)
        b = b.ravel().astype(np.int64)
        differ = a != b
        pairs += np.bincount(a[differ] * k + b[differ], minlength=k * k)
    counts = pairs.reshape(k, k)
    counts = counts + counts.T
    if not counts.any():
        return np.arange(k)
    first, second = np.unravel_index(int(counts.argmax()), counts.shape)
    chain = [int(first), int(second)]
    free = np.ones(k, bool)
    free[chain] = False
    while free.any():
        head = np.where(free, counts[chain[0]], -1)
        tail = np.where(free, counts[chain[-1]], -1)
        if max(head.max(), tail.max()) <= 0:
            chain.extend(np.flatnonzero(free).tolist())
            break
        if head.max() > tail.max():
            pick = int(head.argmax())
            chain.insert(0, pick)
        else:
            pick = int(tail.argmax())
            chain.append(pick)
        free[pick] = False
    return np.asarray(chain)


def _png_filter(rows: np.ndarray, kind: int) -> np.ndarray:
    """PNG filter ``kind`` (0 None, 1 Sub, 2 Up, 4 Paeth) of packed scanlines, one byte per pixel step.

    Palette images have less than a byte per pixel or exactly one, so the
    filters' "bytes per pixel" is 1 (PNG specification, section 9.2).
    """
    if kind == 0:
        return rows
    x = rows.astype(np.int16)
    left = np.zeros_like(x)
    left[:, 1:] = x[:, :-1]
    up = np.zeros_like(x)
    up[1:] = x[:-1]
    if kind == 1:
        pred = left
    elif kind == 2:
        pred = up
    else:
        upleft = np.zeros_like(x)
        upleft[1:, 1:] = x[:-1, :-1]
        p = left + up - upleft
        pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - upleft)
        pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
    return (x - pred).astype(np.uint8)  # modulo 256


def _scanlines(rows: np.ndarray, kind: int) -> bytes:
    return _with_filter_bytes(_png_filter(rows, kind), kind)


def _with_filter_bytes(filtered: np.ndarray, kind: int) -> bytes:
    """PNG scanlines: each filtered row after its filter-type byte."""
    return np.hstack([np.full((len(filtered), 1), kind, np.uint8), filtered]).tobytes()


def png8(codes, palette, *, optimize: bool = False) -> bytes:
    """A palette PNG (color type 3): pixels are the codes, PLTE the palette.

    - bit depth: the smallest of 1, 2, 4, 8 that holds k colors (k <= 2, 4,
      16, 256);
    - PLTE: exactly k entries (never padded to 2**depth), in palette order
      unless ``optimize`` reorders them;
    - tRNS: only for an RGBA palette with some alpha < 255, and then trimmed
      after the last entry whose alpha is < 255 (PNG's default for missing
      entries is opaque);
    - rows compressed by libdeflate (through imagecodecs), at level 10 (its
      first near-optimal parsing level) up to 2**22 pixels and level 7
      above. Measured on palette PNGs of 512x512 photos at 16 and 64
      colors, dithered or not: level 10 gives 6-7% fewer bytes than level 9
      (pngquant 3's files of the same pixels shrink from 59,230 to 55,555
      and 98,579 to 92,579 bytes) in 2-3x its time (30-60 ms); levels 11-12
      add under 1% for 2x more. On a 3.1 MP 256-color photo level 10 takes
      0.4 s (7% fewer bytes than level 9, 0.125 s); above 4 MP level 7 keeps
      the time bounded (there it takes 0.4-0.55x level 9's time, and even
      writes 1% fewer bytes). No other chunks, so the bytes depend on the
      inputs only.
    - rows: with ``optimize=False`` filter type None on every row, in the
      given palette order (the PNG specification's advice for palette
      images; the file's indices are ``codes``). With ``optimize=True`` the
      layout is chosen by measurement: two palette orders (the given one
      and :func:`cooccurrence_order`) times four filters (None, Sub, Up,
      Paeth, one for the whole image) are deflated at libdeflate's fastest
      level (above 2**18 pixels on a quarter of the rows, in bands of 16),
      and the smallest, if at least 1% below the plain layout's estimate,
      is deflated at the final level; up to 2**20 pixels so is the plain
      layout, and the smaller wins, so the file is never larger than with
      ``optimize=False``. The pixels' colors are the same; their indices
      are not. Measured on the 42 palette PNGs of benchmark part 10 (7
      images, 16/64/256 colors, dithered or not): 1.7% fewer bytes in all,
      up to 10% on undithered photos and on the logo at 256 colors, 0-2% on
      dithered photos, for 10-60 ms per 512x512 image (a second final
      deflate is most of it); a 3.1 MP photo at 256 colors takes 0.1 s
      more dithered (the plain layout kept), 0.23 s more undithered (0.7%
      smaller). Per-row "minimum sum" filter choice, the usual heuristic
      for true color, was 1-12% larger than the best single filter on
      every one of them; oxipng at level 2 (pyoxipng) took 0-8% off the
      unoptimized files in 40-140 ms, about what this does, and zopfli
      (zopflipy's ZopfliPNG) 1-6% more in 1-2 s per file, too slow for a
      default; neither is a dependency.

    Parameters
    ----------
    codes : 2-D array of ints, shape (height, width)
        Palette indices, each < k.
    palette : array of uint8, shape (k, 3) or (k, 4)
        See :func:`vqimage.palettes.load_palette`.
    optimize : bool, default False
        Reorder the palette and filter the rows for the smallest file (see
        above). Leave it off when the indices matter (a device's palette).

    Returns
    -------
    bytes
        A complete PNG file.

    Examples
    --------
    >>> import numpy as np
    >>> from vqimage.palettes import load_palette
    >>> data = png8(np.array([[0, 1, 2]]), load_palette("epaper-bwr"))
    >>> data[24:26]     # IHDR: bit depth 2, color type 3 (palette)
    b'\\x02\\x03'
    >>> data[33:41]     # PLTE: 9 bytes, 3 entries
    b'\\x00\\x00\\x00\\tPLTE'
    """
    palette = check_palette(palette, caller="png8")
    check_param("optimize", optimize, Options({False, True}), caller="png8")
    k = len(palette)
    codes = _check_codes(codes, caller="png8", n_colors=k, what=_indices(k))
    height, width = codes.shape
    if max(height, width) > 2**31 - 1:
        raise ValueError(f"PNG images are at most 2**31 - 1 pixels on a side. Got shape {codes.shape}.")
    depth = _depth(k)
    import imagecodecs

    level = 10 if codes.size <= _PNG_SLOW_PIXELS else 7
    if optimize and codes.size:
        compressed, palette = _smallest_layout(codes, palette, depth, level)
    else:
        compressed = imagecodecs.deflate_encode(_scanlines(pack_rows(codes, depth), 0), level=level)
    parts = [
        _PNG_SIGNATURE,
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, 3, 0, 0, 0)),
        _chunk(b"PLTE", palette[:, :3].tobytes()),
    ]
    if palette.shape[1] == 4 and (palette[:, 3] < 255).any():
        last = int(np.flatnonzero(palette[:, 3] < 255)[-1])
        parts.append(_chunk(b"tRNS", palette[: last + 1, 3].tobytes()))
    for at in range(0, len(compressed), _IDAT_CHUNK):
        parts.append(_chunk(b"IDAT", compressed[at : at + _IDAT_CHUNK]))
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)


def _sample_rows(height: int) -> np.ndarray:
    """Every 4th band of 16 rows (all rows of a short image): what a large image's layouts are estimated on."""
    rows = np.arange(height)
    return rows if height <= 64 else rows[(rows // 16) % 4 == 0]


def _smallest_layout(codes: np.ndarray, palette: np.ndarray, depth: int, level: int) -> tuple[bytes, np.ndarray]:
    """(zlib stream, palette) of the smallest of :func:`png8`'s candidate layouts."""
    import imagecodecs

    k = len(palette)
    sample = _sample_rows(codes.shape[0]) if codes.size > _PNG_SAMPLED else np.arange(codes.shape[0])
    previous = np.maximum(sample - 1, 0)
    estimates = []  # (estimate, position, order, filter); the first is the plain layout
    for order in (np.arange(k), cooccurrence_order(codes[sample], k)):
        if estimates and np.array_equal(order, np.arange(k)):
            continue
        rank = np.argsort(order).astype(np.uint8)  # old index -> new index
        rows = pack_rows(rank[codes[sample]], depth)
        above = pack_rows(rank[codes[previous]], depth)
        above[sample == 0] = 0  # the first row has none above
        for kind in _PNG_FILTERS:
            lines = _filtered_sample(rows, above, kind)
            estimates.append((len(imagecodecs.deflate_encode(lines, level=1)), len(estimates), order, kind))
    plain = estimates[0]
    best = min(estimates, key=lambda e: e[:2])
    if best[0] > (1.0 - _PNG_MIN_GAIN) * plain[0]:
        best = plain  # within the estimate's noise: not worth a relabelled file
    finals = [best] if best is plain or codes.size > _PNG_TWO_FINALS else [best, plain]
    streams = []
    for _, _, order, kind in finals:
        lines = _scanlines(pack_rows(np.argsort(order).astype(np.uint8)[codes], depth), kind)
        streams.append((imagecodecs.deflate_encode(lines, level=level), palette[order]))
    return min(streams, key=lambda s: len(s[0]))


def _filtered_sample(rows: np.ndarray, above: np.ndarray, kind: int) -> bytes:
    """Scanlines of filter ``kind`` for sampled ``rows`` whose rows above (in the image) are ``above``."""
    if kind in (0, 1):
        return _scanlines(rows, kind)
    pairs = np.stack([above, rows], axis=1).reshape(-1, rows.shape[1])  # each row after its own predecessor
    return _with_filter_bytes(_png_filter(pairs, kind)[1::2], kind)


def gif(codes, palette) -> bytes:
    """A GIF89a (one frame) whose pixels are the codes and whose color table is the palette.

    GIF color tables hold a power of two of entries (2 to 256): a palette of
    k colors is padded with black entries up to the next power of two, and
    to at least 4 (Pillow's smallest table). No pixel uses them, and reading
    the file back with :func:`vqimage.palettes.load_palette` drops them again.

    Alpha: GIF has one transparent index and no partial transparency. An RGBA
    palette may have at most one entry with alpha 0 (it becomes the
    transparent index; its RGB is still stored) and every other alpha must be
    255. Anything else is refused: write :func:`png8` instead.

    Parameters
    ----------
    codes : 2-D array of ints, shape (height, width), each side <= 65535
        Palette indices, each < k.
    palette : array of uint8, shape (k, 3) or (k, 4)

    Returns
    -------
    bytes
        A complete GIF file (Pillow's encoder; palette order kept as given).

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> palette = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)
    >>> with Image.open(io.BytesIO(gif(np.array([[2, 1, 0]]), palette))) as img:
    ...     img.getpalette(), np.asarray(img).tolist()
    ([0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 0], [[2, 1, 0]])
    """
    from PIL import Image

    palette = check_palette(palette, caller="gif")
    k = len(palette)
    codes = _check_codes(codes, caller="gif", n_colors=k, what=_indices(k))
    height, width = codes.shape
    if max(height, width) > _GIF_MAX_SIDE:
        raise ValueError(f"GIF images are at most {_GIF_MAX_SIDE} pixels on a side. Got shape {codes.shape}.")
    transparency = None
    if palette.shape[1] == 4:
        alpha = palette[:, 3]
        partial = np.flatnonzero((alpha > 0) & (alpha < 255))
        if partial.size:
            i = int(partial[0])
            raise ValueError(
                f"The 'palette' parameter of gif must have alpha 0 or 255 (GIF has no partial transparency). "
                f"Got alpha {int(alpha[i])} in entry {i} instead. Write a PNG (png8) for partial alpha."
            )
        clear = np.flatnonzero(alpha == 0)
        if clear.size > 1:
            raise ValueError(
                f"The 'palette' parameter of gif must have at most one entry with alpha 0 (GIF has one "
                f"transparent index). Got {clear.size}: entries {clear.tolist()}. Write a PNG (png8) instead."
            )
        if clear.size:
            transparency = int(clear[0])
    size = max(4, 1 << (k - 1).bit_length())
    table = np.zeros((size, 3), np.uint8)
    table[:k] = palette[:, :3]
    image = Image.frombytes("P", (width, height), codes.tobytes())
    image.putpalette(table.tobytes(), rawmode="RGB")
    options = {} if transparency is None else {"transparency": transparency}
    out = io.BytesIO()
    # optimize=False: Pillow would otherwise drop unused entries and renumber the codes.
    image.save(out, format="GIF", optimize=False, **options)
    return out.getvalue()


def epaper(codes, bits: int) -> bytes:
    """A raw e-paper frame buffer: codes packed ``bits`` per pixel, rows byte-aligned.

    Layout (no header; the firmware knows width, height and bits):

    - rows top to bottom, each row's pixels left to right;
    - a byte holds ``8 // bits`` pixels, the first (leftmost) in the most
      significant bits: with ``bits=1`` pixel ``x`` of a row is bit
      ``7 - x % 8`` of the row's byte ``x // 8``; with ``bits=4`` the left
      pixel is the high nibble (``byte = left << 4 | right``); with
      ``bits=2`` the four pixels sit at bits 7-6, 5-4, 3-2, 1-0;
    - every row starts on a new byte: a row takes
      ``ceil(width * bits / 8)`` bytes, the unused low bits of its last byte
      are 0 (as Waveshare and GxEPD drivers do for widths that are not a
      multiple of 8, e.g. 122-pixel panels);
    - total size ``height * ceil(width * bits / 8)`` bytes.

    Codes must be < ``2 ** bits``. The code of a pixel is what the controller
    receives, so the palette order must be the panel's: with the presets of
    :mod:`vqimage.palettes`, ``gray2`` gives 1-bit buffers with 0 = black and
    1 = white (Waveshare's monochrome convention; 0xFF is a white byte),
    ``epaper7`` (7-color ACeP) is sent with ``bits=4``, and ``epaper6``
    (Spectra 6) needs its device codes first:
    ``epaper(DEVICE_CODES["epaper6"][codes], 4)``. 3-color (black, white,
    red/yellow) panels take two 1-bit planes rather than one buffer, e.g.
    ``epaper((codes != 0).astype(np.uint8), 1)`` (0 where black) and
    ``epaper((codes == 2).astype(np.uint8), 1)`` (1 where red); controllers
    differ in each plane's polarity, so invert a plane (``1 - plane``) where
    yours expects the opposite. Rotation to the panel's native orientation
    (``np.rot90(codes)``) is the caller's.

    Parameters
    ----------
    codes : 2-D array of ints, shape (height, width)
    bits : {1, 2, 4, 8}

    Returns
    -------
    bytes

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.array([[1, 0, 1, 1, 0, 0, 0, 0, 1, 1]])   # 10 pixels, 1 bit
    >>> epaper(codes, 1).hex()                                # 10110000 11000000
    'b0c0'
    >>> epaper(np.array([[1, 2, 3]]), 4).hex()                # nibbles 1 2 | 3 pad
    '1230'
    >>> epaper_unpack(bytes.fromhex("b0c0"), (1, 10), 1)
    array([[1, 0, 1, 1, 0, 0, 0, 0, 1, 1]], dtype=uint8)
    """
    bits = _check_bits(bits, "epaper")
    codes = _check_codes(codes, caller="epaper", n_colors=1 << bits, what=f"{bits}-bit codes")
    return pack_rows(codes, bits).tobytes()


def epaper_unpack(data, shape, bits: int) -> np.ndarray:
    """Inverse of :func:`epaper`: the (height, width) uint8 codes of a frame buffer.

    The size is checked before anything is allocated: ``data`` must have
    exactly ``height * ceil(width * bits / 8)`` bytes. The padding bits at
    the end of each row are ignored.

    Raises
    ------
    VQError
        ``data`` has the wrong number of bytes for ``shape`` and ``bits``.
    """
    bits = _check_bits(bits, "epaper_unpack")
    if isinstance(shape, str | bytes) or not hasattr(shape, "__len__") or len(shape) != 2:
        raise ValueError(
            f"The 'shape' parameter of epaper_unpack must be a pair (height, width) of ints >= 1. "
            f"Got {shape!r} instead."
        )
    height, width = (
        int(check_param("shape", side, Interval(int, 1, None), caller="epaper_unpack")) for side in shape
    )
    if isinstance(data, str) or not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(
            f"The 'data' parameter of epaper_unpack must be bytes-like. Got {type(data).__name__} instead."
        )
    view = memoryview(data)
    row_bytes = -(-width * bits // 8)
    expected = height * row_bytes
    if view.nbytes != expected:
        raise VQError(
            f"The e-paper buffer has {view.nbytes} bytes; {height} rows of {width} pixels at {bits} bit(s) "
            f"need exactly {expected}."
        )
    rows = np.frombuffer(view, dtype=np.uint8).reshape(height, row_bytes)
    return unpack_rows(rows, width, bits)




# --------------------------------------------------------------------------- codes + codebook -> file


def palette_of(codebook: Codebook, what: str) -> np.ndarray:
    """The codebook as a uint8 palette, (k, 3) or (k, 4): gray levels become R = G = B."""
    if codebook.mode == "block":
        raise ValueError(f"{what} needs one code per pixel; block codes are tiles. Write .png, .tif or .npy.")
    if codebook.n_levels > 256:
        raise ValueError(f"{what} holds at most 256 colors; this codebook has {codebook.n_levels}.")
    if codebook.dtype != np.uint8:
        raise ValueError(f"{what} holds 8-bit colors; this codebook was fitted on {codebook.dtype}.")
    levels = codebook.levels_as(np.uint8)
    return np.repeat(levels[:, None], 3, axis=1) if codebook.mode == "gray" else levels


def _raw_bits(n_levels: int) -> int:
    return next(b for b in (1, 2, 4, 8) if 1 << b >= n_levels) if n_levels <= 256 else 16


def _noun(codebook: Codebook) -> str:
    return {"gray": "levels", "color": "colors", "block": "blocks"}[codebook.mode]


def _two_d(codes: np.ndarray, fmt: str) -> None:
    if codes.ndim != 2:
        raise ValueError(f"{fmt} needs a 2-D image; the codes have shape {codes.shape}. Write .tif or .npy.")


def _reconstruction(codes, codebook, image_shape):
    return decode(codes, codebook, shape=image_shape if codebook.mode == "block" else None)


def _png_gray(image: np.ndarray) -> bytes:
    import imagecodecs

    return imagecodecs.png_encode(image, level=9)


def _write_vq(codes, codebook, *, coder, image_shape, meta=None):
    from .container import DEFAULT_CODER, write_vq

    coder = coder or DEFAULT_CODER
    data = write_vq(codes, codebook, coder=coder, image_shape=image_shape if codebook.mode == "block" else None)
    return data, f".vq, {coder} coder, {codebook.n_levels} {_noun(codebook)}"


def _write_png(codes, codebook, *, coder, image_shape, meta=None):
    _two_d(codes, "PNG")
    if codebook.mode == "block":
        recon = _reconstruction(codes, codebook, image_shape)
        return (_with_color_chunks(_png_gray(recon), meta),
                f"{recon.dtype.itemsize * 8}-bit gray PNG of the reconstruction{_kept(meta)}")
    if codebook.dtype == np.uint8:
        levels = "gray levels" if codebook.mode == "gray" else "colors"
        alpha = ", tRNS" if codebook.n_components == 4 and (codebook.levels[:, 3] < 255).any() else ""
        fixed = codebook.strategy == "palette"  # a device's palette: keep its indices
        return (_with_color_chunks(png8(codes, palette_of(codebook, "PNG"), optimize=not fixed), meta),
                f"{_raw_bits(codebook.n_levels)}-bit palette PNG, {codebook.n_levels} {levels}{alpha}{_kept(meta)}")
    if codebook.dtype == np.uint16:
        return (_with_color_chunks(_png_gray(_reconstruction(codes, codebook, image_shape)), meta),
                f"16-bit gray PNG of the reconstruction{_kept(meta)}")
    raise ValueError(
        f"PNG holds 8- or 16-bit unsigned images; this codebook was fitted on {codebook.dtype}. "
        "Write .tif or .npy instead."
    )


def _write_gif(codes, codebook, *, coder, image_shape, meta=None):
    _two_d(codes, "GIF")
    return gif(codes, palette_of(codebook, "GIF")), f"GIF, {codebook.n_levels} {_noun(codebook)}"


def _write_raw(codes, codebook, *, coder, image_shape, meta=None):
    _two_d(codes, "RAW")
    if codebook.mode == "block" or codebook.n_levels > 256:
        raise ValueError("An e-paper buffer holds one code of at most 8 bits per pixel. Write .npy instead.")
    bits = _raw_bits(codebook.n_levels)
    return epaper(codes, bits), f"e-paper buffer, {bits} bit(s) per pixel, MSB first, rows byte-aligned"


def _write_webp(codes, codebook, *, coder, image_shape, meta=None):
    from PIL import Image

    _two_d(codes, "WebP")
    if codebook.dtype != np.uint8:
        raise ValueError(
            f"WebP holds 8-bit images; this codebook was fitted on {codebook.dtype}. Write .jxl, .tif or .npy."
        )
    out = io.BytesIO()
    recon = _reconstruction(codes, codebook, image_shape)
    icc = {"icc_profile": meta.icc_profile} if meta is not None and meta.icc_profile else {}
    Image.fromarray(recon).save(out, format="WEBP", lossless=True, quality=100, method=6, exact=True, **icc)
    return out.getvalue(), f"WebP lossless of the reconstruction{_kept(meta, icc_only=True)}"


def _write_jxl(codes, codebook, *, coder, image_shape, meta=None):
    import imagecodecs

    _two_d(codes, "JPEG XL")
    if codebook.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"JPEG XL export takes 8- or 16-bit unsigned images; this codebook was fitted on {codebook.dtype}. "
            "Write .tif or .npy instead."
        )
    recon = _reconstruction(codes, codebook, image_shape)
    return imagecodecs.jpegxl_encode(recon, lossless=True, effort=7), "JPEG XL lossless of the reconstruction"


def _write_tiff(codes, codebook, *, coder, image_shape, meta=None):
    import tifffile

    out = io.BytesIO()
    recon = _reconstruction(codes, codebook, image_shape)
    icc = {"iccprofile": meta.icc_profile} if meta is not None and meta.icc_profile else {}
    tifffile.imwrite(out, recon, compression="zlib", **icc)
    return out.getvalue(), f"reconstruction, {recon.dtype} TIFF{_kept(meta, icc_only=True)}"


def _write_npy(codes, codebook, *, coder, image_shape, meta=None):
    out = io.BytesIO()
    np.save(out, np.ascontiguousarray(codes), allow_pickle=False)
    return out.getvalue(), f"codes, {codes.dtype} NumPy array"


@dataclass(frozen=True)
class Format:
    """One output format: its name, extensions, what it holds, and its writer."""

    name: str
    extensions: tuple[str, ...]
    holds: str
    writer: Callable


#: Every output format, by name (the registry all writing goes through).
FORMATS = {
    f.name: f
    for f in (
        Format("vq", (".vq",), "vqimage's container (codes, codebook, CRC-32)", _write_vq),
        Format("png", (".png",), "palette PNG of the levels or colors, smallest bit depth, tRNS for transparency "
               "(gray PNG for 16-bit data and blocks)", _write_png),
        Format("gif", (".gif",), "GIF of the palette image", _write_gif),
        Format("raw", (".raw",), "e-paper frame buffer: the codes at 1/2/4/8 bits per pixel, MSB first, rows "
               "byte-aligned", _write_raw),
        Format("webp", (".webp",), "WebP lossless of the reconstruction (8-bit)", _write_webp),
        Format("jxl", (".jxl",), "JPEG XL lossless of the reconstruction (8/16-bit)", _write_jxl),
        Format("tiff", (".tif", ".tiff"), "TIFF of the reconstruction (any dtype)", _write_tiff),
        Format("npy", (".npy",), "the codes as a NumPy file", _write_npy),
    )
}
#: Output extension -> format name.
EXTENSIONS = {ext: f.name for f in FORMATS.values() for ext in f.extensions}


def format_of(path, fmt: str | None = None, *, force: bool = True) -> str:
    """The format of an output path: ``fmt``, or the one its extension names.

    With ``force=False`` an existing ``path`` is refused too, so that a bad
    output is caught before any work is done.

    Raises
    ------
    ValueError
        For an extension no format has (and no ``fmt``), or an unknown ``fmt``.
    FileExistsError
        ``path`` exists and ``force`` is False.
    """
    if fmt is None:
        fmt = EXTENSIONS.get(Path(path).suffix.lower())
        if fmt is None:
            raise ValueError(f"Cannot tell the output format from {str(path)!r}; use an extension among "
                             f"{', '.join(EXTENSIONS)}.")
    elif fmt not in FORMATS:
        raise ValueError(f"Unknown output format {fmt!r}; known: {', '.join(FORMATS)}.")
    if not force and os.path.lexists(path):
        raise FileExistsError(f"{path} exists; use --force (force=True) to overwrite it.")
    return fmt


def formats_help() -> str:
    """One sentence on every format, from the registry (the command line's help)."""
    return "; ".join(f"{' / '.join(f.extensions)}: {f.holds}" for f in FORMATS.values()) + "."


def export_bytes(fmt: str, codes: np.ndarray, codebook: Codebook, *, coder: str | None = None,
                 image_shape=None, meta=None) -> tuple[bytes, str]:
    """The bytes of format ``fmt`` (a key of :data:`FORMATS`) and a one-line description.

    ``coder`` is the payload coder of the 'vq' format (default: the container's
    default); ``image_shape`` the image's (height, width) for block codebooks;
    ``meta`` the input's :class:`vqimage.io.ImageMeta`, whose color metadata
    the formats that hold it keep (see the module notes).

    Examples
    --------
    >>> import numpy as np, vqimage
    >>> image = np.array([[0, 100], [200, 255]], dtype=np.uint8)
    >>> cb = vqimage.fit(image, 4)
    >>> data, what = export_bytes("png", vqimage.encode(image, cb), cb)
    >>> data[24:26], what    # IHDR bit depth 2, color type 3 (palette)
    (b'\\x02\\x03', '2-bit palette PNG, 4 gray levels')
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}; known: {', '.join(FORMATS)}.")
    return FORMATS[fmt].writer(codes, codebook, coder=coder, image_shape=image_shape, meta=meta)


def export(path, codes: np.ndarray, codebook: Codebook, *, force: bool = False, fmt: str | None = None,
           coder: str | None = None, image_shape=None, meta=None) -> dict:
    """Write codes (or their reconstruction) to ``path``, format by extension.

    The file is written atomically and an existing file is only replaced with
    ``force=True``. Returns ``{"path", "format", "bytes", "description"}``.
    """
    fmt = format_of(path) if fmt is None else fmt
    data, description = export_bytes(fmt, codes, codebook, coder=coder, image_shape=image_shape, meta=meta)
    write_atomic(path, data, force=force)
    return {"path": str(path), "format": fmt, "bytes": len(data), "description": description}
