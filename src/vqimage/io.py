"""Images in: files (PNG, JPEG, TIFF, PGM/PPM, ...), bytes, and built-in samples.

Formats are recognised by their content, never by the file name: PNG and
JPEG XL go through imagecodecs (exact 8/16-bit gray and color), TIFF through
tifffile (any dtype, 16-bit and float included; palette, CMYK and
white-is-zero samples turned into what they show), everything else Pillow
reads (JPEG, PGM/PPM, BMP, GIF, WebP, ...) through Pillow.

What comes back
---------------
The pixels as the viewer shows them: an EXIF orientation (JPEG, WebP,
TIFF, PNG eXIf) is applied, and :func:`read_image` says which one
(:class:`ImageMeta`). Alpha is kept with ``gray=False``: gray+alpha (PNG
LA, 8 and 16 bit) becomes (H, W, 4) RGBA with the gray in R, G and B, and a
PNG's tRNS transparency (a palette's, or one gray or RGB value) becomes an
alpha channel. Animations and stacks (animated GIF, APNG, animated WebP,
multi-page TIFF) are refused with one line rather than read as their first
frame; a JPEG's MPO extras (depth maps, previews) are not frames, and its
primary image is read. A file that cannot be read is one :class:`VQError`
line naming it; what the decoders print (libpng's warnings) never reaches
stderr.

Gray conversion
---------------
With ``gray=True`` (the default) color images become gray by ITU-R BT.601
luma, ``Y = 0.299 R + 0.587 G + 0.114 B``, computed in float64 and rounded
half to even back to the image's own dtype (so 16-bit stays 16-bit); alpha
is ignored (:func:`to_gray`).

Built-ins
---------
``face`` is ``scipy.datasets.face(gray=True)``, scipy's own conversion:
exactly the gray image of scikit-learn's Vector Quantization Example, with
or without ``gray``. ``face_color`` is the color raccoon. Both come from
``scipy.datasets`` (downloaded once with pooch into
``pooch.os_cache("scipy-data")``; set ``VQIMAGE_OFFLINE=1`` to forbid the
download); the others ship with scikit-image and need no download.
"""

from __future__ import annotations

import contextlib
import io as _io
import os
import struct
import tempfile
import threading
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ._validation import Interval, VQError, check_param
from ._vectors import to_gray

__all__ = ["BUILTINS", "ImageMeta", "load_image", "decode_image", "read_image", "to_gray", "write_atomic",
           "FaceUnavailable"]

#: Built-in image names: ``face`` (gray) and ``face_color`` plus the images scikit-image ships.
BUILTINS = (
    "face",
    "face_color",
    "astronaut",
    "brick",
    "camera",
    "cat",
    "cell",
    "checkerboard",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "colorwheel",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "logo",
    "microaneurysms",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
)

#: Images with more pixels than this are refused before they are decoded (override with ``max_pixels``,
#: ``--max-pixels``): 2**27 = 134,217,728, 1.5x Pillow's decompression-bomb limit, above the largest
#: camera sensors' 100 MP. A 62 KB PNG can declare 8000x8000 pixels; this keeps such files cheap.
DEFAULT_MAX_PIXELS = 1 << 27

#: Error messages quote at most this many characters of a decoder's own words.
_DETAIL_CHARS = 160

#: Deflate's largest expansion (258 bytes from about 2 bits): a bound on what an IDAT can hold.
_DEFLATE_MAX_RATIO = 1032

#: An embedded ICC profile (PNG iCCP) inflating beyond this is ignored: real profiles are a few KB to 1 MB.
_MAX_ICC_BYTES = 1 << 24


class FaceUnavailable(OSError):
    """The built-in ``face`` is not in scipy's cache and cannot be downloaded."""


@dataclass(frozen=True)
class ImageMeta:
    """What a file says about its pixels besides their values (:func:`read_image`).

    Attributes
    ----------
    format : str
        ``"PNG"``, ``"TIFF"``, ``"JPEG XL"``, Pillow's name for the others
        (``"JPEG"``, ``"WEBP"``, ``"GIF"``, ``"BMP"``, ``"PPM"``, ...), or
        ``"built-in"``.
    bit_depth : int
        Bits per stored sample: PNG's IHDR depth (1, 2, 4, 8, 16; 8 for a
        palette, whose entries are 8-bit), TIFF's BitsPerSample, 8 for JPEG;
        otherwise the returned dtype's size.
    icc_profile : bytes or None
        The embedded ICC profile (PNG iCCP inflated, JPEG/WebP APP2/ICCP,
        TIFF tag 34675), or None.
    gamma : float or None
        PNG gAMA: the encoding gamma (0.45455 for a 2.2 display), or None.
    srgb_intent : int or None
        PNG sRGB chunk's rendering intent (0 perceptual, 1 relative
        colorimetric, 2 saturation, 3 absolute colorimetric), or None.
    chromaticities : tuple of 8 floats or None
        PNG cHRM: white point x, y, then red, green and blue x, y.
    orientation : int
        The EXIF orientation that was applied to the pixels (1 to 8; 1 when
        there was none). The returned array is already upright.
    notes : tuple of str
        Sentences on what was done to the pixels or ignored in the file,
        such as ``"EXIF orientation 6 applied (rotated 90° clockwise)."``.
    """

    format: str
    bit_depth: int
    icc_profile: bytes | None = field(default=None, repr=False)
    gamma: float | None = None
    srgb_intent: int | None = None
    chromaticities: tuple[float, ...] | None = None
    orientation: int = 1
    notes: tuple[str, ...] = ()


def load_image(source, *, gray: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file, or a built-in sample by name.

    Parameters
    ----------
    source : str or path-like
        A file path, or one of :data:`BUILTINS` (a name that is not an
        existing file).
    gray : bool
        Convert color to gray (see the module notes). With False, color
        images come back as (H, W, 3) or (H, W, 4), gray+alpha as RGBA.
    max_pixels : int
        Refuse, before decoding, a file whose header declares more pixels
        (:data:`DEFAULT_MAX_PIXELS`; a color pixel counts once; every page
        of a TIFF counts).

    Returns
    -------
    ndarray
        uint8, uint16, other integer or float dtype, as stored, upright
        (EXIF orientation applied). :func:`read_image` also returns the
        file's color metadata.

    Raises
    ------
    FileNotFoundError
        The path does not exist (and is not a built-in name).
    ValueError
        An unknown built-in name.
    VQError
        The file is not an image vqimage can read (damaged, an animation
        or a multi-page TIFF), or declares more than ``max_pixels`` pixels.
        Its message is one line that names the file.
    FaceUnavailable
        ``face`` is not cached and could not be downloaded.

    Examples
    --------
    >>> load_image("camera").shape
    (512, 512)
    >>> load_image("coffee").dtype
    dtype('uint8')
    """
    return read_image(source, gray=gray, max_pixels=max_pixels)[0]


def read_image(source, *, gray: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS,
               name: str | None = None) -> tuple[np.ndarray, ImageMeta]:
    """Read an image and what its file says about color and orientation.

    Parameters
    ----------
    source : str, path-like or bytes-like
        A file path, a built-in name (see :func:`load_image`), or the bytes
        of an image file (as :func:`decode_image`).
    gray, max_pixels
        As :func:`load_image`.
    name : str, optional
        What error messages call bytes (default ``"<bytes>"``); a path
        names itself.

    Returns
    -------
    image : ndarray
        What :func:`load_image` returns.
    meta : ImageMeta
        ICC profile, PNG gAMA / sRGB / cHRM, the EXIF orientation that was
        applied, the stored bit depth, and notes.

    Examples
    --------
    >>> image, meta = read_image("camera")
    >>> meta.format, meta.bit_depth, meta.orientation
    ('built-in', 8, 1)
    """
    if isinstance(source, bytes | bytearray | memoryview):
        name = "<bytes>" if name is None else name
        return _decode(bytes(source), gray=gray, name=name, max_pixels=max_pixels)
    path = Path(os.fspath(source))
    if path.is_file():
        return _decode(path.read_bytes(), gray=gray, name=str(path) if name is None else name,
                       max_pixels=max_pixels)
    text = str(source)
    if text in BUILTINS:
        image = _builtin(text, gray)
        return image, ImageMeta(format="built-in", bit_depth=image.dtype.itemsize * 8)
    if path.exists():
        raise VQError(f"{_printable(text)}: not a regular file.")
    if path.suffix or os.sep in text or text.startswith("."):
        raise FileNotFoundError(f"{_printable(text)}: no such file.")
    raise ValueError(
        f"Unknown image {text!r}: not a file, and not a built-in "
        f"(built-ins: {', '.join(BUILTINS)})."
    )


def decode_image(data: bytes, *, gray: bool = True, name: str = "<bytes>",
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an image held in memory (the bytes of a PNG, TIFF, JPEG, ... file).

    See :func:`load_image`; :func:`read_image` takes bytes too and also
    returns the metadata.
    """
    return _decode(bytes(data), gray=gray, name=name, max_pixels=max_pixels)[0]


def _decode(data: bytes, *, gray: bool, name: str, max_pixels: int) -> tuple[np.ndarray, ImageMeta]:
    check_param("max_pixels", max_pixels, Interval(int, 1, None), caller="load_image")
    name = _printable(name)
    if not data:
        raise VQError(f"{name}: empty file, not an image.")
    with _DECODER_LOG.hold() as said:
        try:  # each decoder checks the size its header declares against max_pixels before decoding pixels
            if data.startswith(_PNG_SIGNATURE):
                image, meta = _png_decode(data, name, max_pixels)
            elif data[:2] == b"\xff\x0a" or data[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
                image, meta = _jpegxl_decode(data, name)  # libjxl's own limits apply
            elif data[:4] in _TIFF_SIGNATURES:
                image, meta = _tiff_decode(data, name, max_pixels)
            else:
                image, meta = _pillow_decode(data, name, max_pixels)
        except (VQError, MemoryError):  # memory is not the file's fault: no "not a readable image"
            raise
        except Exception as exc:  # every decoder has its own exception types
            raise VQError(f"{name}: not a readable image ({_detail(exc, said, data)}).") from None
    return _finish(image, meta, gray=gray, name=name)


def _finish(image, meta: ImageMeta, *, gray: bool, name: str) -> tuple[np.ndarray, ImageMeta]:
    """The decoders' arrays made alike: native byte order, upright, (H, W), (H, W, 3) or (H, W, 4)."""
    image = np.asarray(image)
    if image.dtype.kind == "b":
        image = image.astype(np.uint8) * 255
    if image.dtype.kind not in "uif" or image.size == 0:
        raise VQError(f"{name}: not a readable image (no pixels, or dtype {image.dtype}).")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] <= 4)):
        raise VQError(f"{name}: not a readable image (pixels of shape {image.shape}; vqimage reads gray, "
                      "gray+alpha, RGB and RGBA images).")
    if image.dtype.byteorder == ">":
        image = image.astype(image.dtype.newbyteorder("="))
    notes = list(meta.notes)
    if meta.orientation != 1:
        image = _orient(image, meta.orientation)
        notes.append(f"EXIF orientation {meta.orientation} applied ({_ORIENTATIONS[meta.orientation]}).")
    if gray:
        if image.ndim == 3 and image.shape[-1] in (2, 4):
            notes.append("Alpha ignored (gray).")
        image = to_gray(image)
    elif image.ndim == 3 and image.shape[-1] == 2:  # gray + alpha: RGBA, which the color pipeline takes
        image = image[..., [0, 0, 0, 1]]
        notes.append("Gray+alpha read as RGBA (the gray in R, G and B).")
    return image, replace(meta, notes=tuple(notes))


# --------------------------------------------------------------------------- messages


def _printable(name: str) -> str:
    """A name as one line: control characters (a newline in a file name) and lone surrogates escaped."""
    return name if name.isprintable() else name.encode("unicode_escape", "backslashreplace").decode("ascii")


def _one_line(text: str, limit: int = _DETAIL_CHARS) -> str:
    """A decoder's words on one line of at most ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _detail(exc: Exception, said: list[str], data: bytes) -> str:
    """Why a decoder failed, in its own words when they are words."""
    if type(exc).__name__ == "UnidentifiedImageError":
        if data[1:4] == b"PNG" and data[4:8] != _PNG_SIGNATURE[4:] and set(data[4:8]) <= set(b"\r\n\x1a"):
            return "a damaged PNG signature: line endings converted by a text-mode transfer?"
        if data[1:4] == b"PNG" or (len(data) >= 8 and sum(a != b for a, b in zip(data[:8], _PNG_SIGNATURE)) <= 2):
            return "a damaged PNG signature"
        return "unknown format"
    words = " ".join(str(exc).split())
    if isinstance(exc, UnicodeError) or not (words.isascii() and words.isprintable()):
        # imagecodecs' PNG errors sometimes arrive as stray bytes (not libpng's words): do not quote them
        text = f"{type(exc).__name__}: damaged data" if not isinstance(exc, UnicodeError) else "damaged data"
    else:
        text = f"{type(exc).__name__}: {words}" if words else type(exc).__name__
    said = [line.removeprefix("PNG warning: ").strip() for line in said
            if line.strip() and line.isascii() and line.isprintable()]
    if said and said[-1] not in text:  # libpng's warning often names the cause its error only hints at
        text += f"; {said[-1]}"
    return _one_line(text)


def _animated(name: str, what: str, frames: int, unit: str = "frames") -> VQError:
    shown = "FILE" if name == "stdin" or name.startswith("<") else name
    return VQError(f"{name}: {what} with {frames} {unit}; vqimage reads single images (extract one first, "
                   f"e.g. magick '{shown}[0]' one.png).")


class _DecoderLog:
    """A filter on the decoders' loggers: the records of threads that are decoding are kept, not emitted.

    imagecodecs logs libpng's warnings ("PNG warning: Interlace handling should be turned on ...", "hIST:
    out of place") and tifffile its doubts ("failed to reshape ..."); with no handler configured, logging's
    last resort prints them on stderr. Kept, they can explain a failure instead. Other threads' records pass.
    """

    loggers = ("imagecodecs", "tifffile")

    def __init__(self):
        self.held: dict[int, list[str]] = {}
        self.lock = threading.Lock()

    def filter(self, record) -> bool:
        held = self.held.get(record.thread)
        if held is None:
            return True
        try:
            held.append(record.getMessage())
        except Exception:  # a record whose arguments do not fit its format
            held.append(str(record.msg))
        return False

    @contextlib.contextmanager
    def hold(self):
        """Keep this thread's records; yield the list of their messages."""
        import logging

        ident = threading.get_ident()
        with self.lock:
            for name in self.loggers:
                logging.getLogger(name).addFilter(self)  # once: addFilter ignores a filter it has
            outer = self.held.get(ident)
            said = self.held[ident] = []
        try:
            yield said
        finally:
            with self.lock:
                if outer is None:
                    del self.held[ident]
                else:
                    self.held[ident] = outer


_DECODER_LOG = _DecoderLog()


# --------------------------------------------------------------------------- headers

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _within(name: str, sides: list[tuple[int, int]], max_pixels: int) -> None:
    """Refuse, before any pixel is decoded, an image whose header declares more than ``max_pixels`` pixels.

    ``sides``: (width, height) of every page (all of a TIFF's pages count).
    """
    pixels = sum(w * h for w, h in sides)
    if pixels > max_pixels:
        text = " + ".join(f"{w}x{h}" for w, h in sides[:3]) + (
            f" + {len(sides) - 3} more pages" if len(sides) > 3 else "")
        raise VQError(f"{name}: {text} is {pixels:,} pixels, above the limit of {max_pixels:,} "
                      "(max_pixels; --max-pixels); nothing was decoded.")


# --------------------------------------------------------------------------- orientation

#: EXIF orientation -> what was done to show the image upright.
_ORIENTATIONS = {
    2: "mirrored left-right",
    3: "rotated 180°",
    4: "mirrored top-bottom",
    5: "transposed: mirrored left-right and rotated 90° counter-clockwise",
    6: "rotated 90° clockwise",
    7: "transversed: mirrored left-right and rotated 90° clockwise",
    8: "rotated 90° counter-clockwise",
}


def _orient(image: np.ndarray, orientation: int) -> np.ndarray:
    """Apply EXIF ``orientation`` (what Pillow's ImageOps.exif_transpose does), as a contiguous array."""
    if orientation in (5, 6, 7, 8):
        image = np.swapaxes(image, 0, 1)  # then flip: 5 none, 6 columns, 7 both, 8 rows
    flip_rows = orientation in (3, 4, 7, 8)
    flip_cols = orientation in (2, 3, 6, 7)
    return np.ascontiguousarray(image[:: -1 if flip_rows else 1, :: -1 if flip_cols else 1])


def _checked_orientation(value, notes: list[str]) -> int:
    """An orientation tag's value, or 1 (with a note) when it is not one of the eight."""
    if value is None:
        return 1
    try:
        value = int(value)
    except (TypeError, ValueError):
        value = -1
    if 1 <= value <= 8:
        return value
    notes.append(f"EXIF orientation {_one_line(value, 20)} ignored (not 1 to 8).")
    return 1


def _exif_orientation(exif: bytes) -> int | None:
    """Tag 274 of IFD0 in TIFF-structured EXIF bytes (a leading ``Exif\\0\\0`` allowed); None when absent."""
    exif = bytes(exif)
    if exif.startswith(b"Exif\x00\x00"):
        exif = exif[6:]
    order = {b"II": "<", b"MM": ">"}.get(exif[:2])
    if order is None or len(exif) < 8:
        return None
    (ifd,) = struct.unpack(order + "I", exif[4:8])
    if ifd + 2 > len(exif):
        return None
    (count,) = struct.unpack(order + "H", exif[ifd:ifd + 2])
    for at in range(ifd + 2, min(ifd + 2 + 12 * count, len(exif) - 11), 12):
        tag, kind, n = struct.unpack(order + "HHI", exif[at:at + 8])
        if tag == 0x0112:
            return struct.unpack(order + "H", exif[at + 8:at + 10])[0] if kind == 3 and n == 1 else 0
    return None


# --------------------------------------------------------------------------- PNG


def _png_chunks(data: bytes):
    """(type, payload) of each chunk until IEND; stops quietly at damage (the decoder reports it)."""
    view = memoryview(data)
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", view[pos:pos + 8])
        end = pos + 8 + length
        if end + 4 > len(data):
            return
        yield kind, view[pos + 8:end]
        if kind == b"IEND":
            return
        pos = end + 4


def _png_meta(data: bytes) -> tuple[ImageMeta, int, bool, int]:
    """A PNG's metadata from its chunks, its number of frames (acTL: APNG), whether it has no IDAT, and
    the bytes of its IDAT chunks."""
    depth, color, frames, idat, notes = 8, 0, 1, 0, []
    found: dict = {}
    kinds = set()
    for kind, payload in _png_chunks(data):
        kinds.add(kind)
        if kind == b"IHDR" and len(payload) >= 10:
            depth, color = payload[8], payload[9]
        elif kind == b"IDAT":
            idat += len(payload)
        elif kind == b"acTL" and len(payload) >= 8:
            frames = struct.unpack(">I", payload[:4])[0]
        elif kind == b"gAMA" and len(payload) == 4 and "gamma" not in found:
            found["gamma"] = struct.unpack(">I", payload)[0] / 100000
        elif kind == b"sRGB" and len(payload) == 1 and "srgb_intent" not in found:
            found["srgb_intent"] = payload[0]
        elif kind == b"cHRM" and len(payload) == 32 and "chromaticities" not in found:
            found["chromaticities"] = tuple(v / 100000 for v in struct.unpack(">8I", payload))
        elif kind == b"iCCP" and "icc_profile" not in found:
            found["icc_profile"] = _png_icc(bytes(payload), notes)
        elif kind == b"eXIf" and "orientation" not in found:
            found["orientation"] = _checked_orientation(_exif_orientation(payload), notes)
        elif kind == b"tRNS":
            notes.append("PNG tRNS transparency read as an alpha channel.")
    bit_depth = 8 if color == 3 else depth  # a palette's entries are 8-bit whatever the index depth
    no_pixels = b"IEND" in kinds and b"IDAT" not in kinds  # complete, yet without image data
    meta = ImageMeta(format="PNG", bit_depth=bit_depth, notes=tuple(notes), **found)
    return meta, frames, no_pixels, idat


def _png_icc(payload: bytes, notes: list[str]) -> bytes | None:
    """An iCCP chunk's profile: name, NUL, method 0, zlib stream (inflated to at most _MAX_ICC_BYTES)."""
    end = payload.find(b"\x00")
    if not 1 <= end <= 79 or len(payload) < end + 2 or payload[end + 1] != 0:
        notes.append("PNG iCCP chunk damaged; ignored.")
        return None
    inflate = zlib.decompressobj()
    try:
        profile = inflate.decompress(payload[end + 2:], _MAX_ICC_BYTES)
    except zlib.error:
        notes.append("PNG iCCP chunk damaged; ignored.")
        return None
    if inflate.unconsumed_tail:
        notes.append(f"PNG iCCP profile larger than {_MAX_ICC_BYTES:,} bytes; ignored.")
        return None
    return profile


def _png_decode(data: bytes, name: str, max_pixels: int) -> tuple[np.ndarray, ImageMeta]:
    import imagecodecs

    if len(data) >= 24 and data[12:16] == b"IHDR":
        _within(name, [struct.unpack(">II", data[16:24])], max_pixels)
    meta, frames, no_pixels, idat = _png_meta(data)
    if frames > 1:
        raise _animated(name, "animated PNG (APNG)", frames)
    if no_pixels:  # libpng's message for it arrives garbled through imagecodecs (a UnicodeDecodeError)
        raise VQError(f"{name}: not a readable image (a PNG without image data: no IDAT chunk).")
    width, height, depth, color = struct.unpack(">IIBB", data[16:26])
    samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color, 1)
    filtered = height * (1 + (width * samples * depth + 7) // 8)  # the inflated bytes, without interlacing
    if filtered > _DEFLATE_MAX_RATIO * idat + 4096:
        # imagecodecs allocates the whole image before it finds the data missing: a 100-byte file could
        # make it allocate a GiB. Deflate cannot expand data more than 1032 times.
        raise VQError(f"{name}: not a readable image (truncated: {idat:,} bytes of compressed image data "
                      f"cannot hold the {filtered:,} bytes of a {width}x{height} PNG).")
    return imagecodecs.png_decode(data), meta


def _jpegxl_decode(data: bytes, name: str) -> tuple[np.ndarray, ImageMeta]:
    import imagecodecs

    image = imagecodecs.jpegxl_decode(data)  # libjxl applies the codestream's orientation itself
    if image.ndim == 4:
        raise _animated(name, "animated JPEG XL", image.shape[0])
    return image, ImageMeta(format="JPEG XL", bit_depth=image.dtype.itemsize * 8)


# --------------------------------------------------------------------------- TIFF


def _tiff_decode(data: bytes, name: str, max_pixels: int) -> tuple[np.ndarray, ImageMeta]:
    """The one image of a TIFF; reduced-resolution copies and masks are not images of their own.

    tifffile returns the stored samples; what they mean is applied here: white-is-zero inverted, palette
    indices looked up, CMYK inks turned into RGB (as Pillow does), 1- to 7-bit gray scaled to 8 bits (as
    libpng does). Pillow is not used for TIFF: its libtiff prints its errors on stderr.
    """
    import tifffile

    kinds = tifffile.PHOTOMETRIC
    with tifffile.TiffFile(_io.BytesIO(data)) as tif:
        everything = _tiff_pages(tif, data, name)
        _within(name, [(page.imagewidth, page.imagelength) for page in everything], max_pixels)
        pages = [page for page in everything if not (page.is_reduced or page.is_mask)] or everything[:1]
        if len(pages) > 1:
            raise _animated(name, "multi-page TIFF", len(pages), "pages")
        page = pages[0]
        bits = page.bitspersample
        bits = max(bits) if isinstance(bits, tuple) else int(bits)
        tag = page.tags.get(274)
        notes: list[str] = []
        meta = ImageMeta(format="TIFF", bit_depth=bits, icc_profile=page.iccprofile or None,
                         orientation=_checked_orientation(tag.value if tag is not None else None, notes))
        kind = page.photometric
        ycbcr_jpeg = kind == kinds.YCBCR and page.compression in (6, 7)  # the JPEG decoder gives RGB
        if kind not in (kinds.MINISBLACK, kinds.MINISWHITE, kinds.RGB, kinds.PALETTE, kinds.SEPARATED) \
                and not ycbcr_jpeg:
            label = getattr(kind, "name", kind)
            raise VQError(f"{name}: not a readable image (TIFF samples of kind {label}; vqimage reads gray, "
                          "white-is-zero, RGB, palette and CMYK TIFFs).")
        colormap = page.colormap if kind == kinds.PALETTE else None
        image = page.asarray()
        axes = page.axes
    if set(axes) - set("YXS"):
        raise VQError(f"{name}: not a readable image (a TIFF image of {image.ndim} dimensions, axes {axes}; "
                      "vqimage reads 2-D images).")
    if axes.startswith("S"):  # planar: one plane per sample
        image = np.moveaxis(image, 0, -1)
    if kind == kinds.PALETTE:
        image = _tiff_palette(image, colormap, name)
    elif kind == kinds.SEPARATED:
        image = _cmyk_to_rgb(image, name)
    elif image.dtype.kind == "u" and bits < 8:
        image = (image.astype(np.uint16) * 255 // ((1 << bits) - 1)).astype(np.uint8)
    if kind == kinds.MINISWHITE:
        if image.dtype.kind == "b":
            image = ~image
        elif image.dtype.kind == "u":
            image = np.iinfo(image.dtype).max - image  # 1- to 7-bit samples are 8-bit by now
        else:
            raise VQError(f"{name}: not a readable image (white-is-zero TIFF samples of dtype {image.dtype}).")
    return image, replace(meta, notes=tuple(notes))


def _tiff_pages(tif, data: bytes, name: str) -> list:
    """A TIFF's pages, refused when there are more than its size can hold: a damaged IFD chain can
    point back into itself (a 660-byte file listed 100,000 pages and exhausted memory)."""
    most = len(data) // 18 + 1  # an IFD takes 18 bytes at least: its count, one entry, the next offset
    pages = []
    for page in tif.pages:
        if len(pages) == most:
            raise VQError(f"{name}: not a readable image (a TIFF listing more pages than its {len(data):,} "
                          "bytes can hold: its chain of IFDs loops).")
        pages.append(page)
    return pages


def _tiff_palette(indices: np.ndarray, colormap, name: str) -> np.ndarray:
    """RGB from a TIFF palette: 8-bit when every entry is an 8-bit value times 257 (as writers store it)."""
    if colormap is None or indices.ndim != 2 or indices.dtype.kind not in "ub":
        raise VQError(f"{name}: not a readable image (a palette TIFF without a usable colormap).")
    colormap = np.asarray(colormap, np.uint16).reshape(3, -1)
    if indices.size and int(indices.max()) >= colormap.shape[1]:
        raise VQError(f"{name}: not a readable image (palette index {int(indices.max())} beyond the "
                      f"{colormap.shape[1]} colors of its colormap).")
    if not np.any(colormap % 257):
        colormap = (colormap // 257).astype(np.uint8)
    return np.ascontiguousarray(colormap.T[indices.astype(np.intp)])


def _cmyk_to_rgb(inks: np.ndarray, name: str) -> np.ndarray:
    """Pillow's CMYK -> RGB, ``(255 - K) * (255 - C) / 255`` with its rounding; a fifth sample is alpha."""
    if inks.ndim != 3 or inks.shape[-1] not in (4, 5) or inks.dtype not in (np.uint8, np.uint16):
        raise VQError(f"{name}: not a readable image (CMYK TIFF samples of shape {inks.shape}, dtype "
                      f"{inks.dtype}; vqimage reads 8- and 16-bit CMYK with at most one alpha).")
    top = np.iinfo(inks.dtype).max
    wide = inks.astype(np.int64)
    remaining = top - wide[..., 3:4]  # what black leaves
    if inks.dtype == np.uint8:
        product = wide[..., :3] * remaining + 128
        rgb = remaining - ((product + (product >> 8)) >> 8)  # Pillow's MULDIV255
    else:
        rgb = remaining - (wide[..., :3] * remaining + top // 2) // top
    return np.concatenate([rgb, wide[..., 4:]], axis=-1).astype(inks.dtype)


# --------------------------------------------------------------------------- Pillow

_PILLOW_BITS = {"1": 1, "I": 32, "F": 32, "I;16": 16, "I;16B": 16, "I;16L": 16, "I;16N": 16}


def _pillow_decode(data: bytes, name: str, max_pixels: int) -> tuple[np.ndarray, ImageMeta]:
    """Anything else Pillow reads."""
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DecompressionBombWarning: max_pixels decides (_within)
        img = Image.open(_io.BytesIO(data))  # parses the header; the pixels are decoded by load()
        with img:
            _within(name, [(img.width, img.height)], max_pixels)  # the first frame is what is read
            notes: list[str] = []
            frames = getattr(img, "n_frames", 1)
            if frames > 1 and img.format == "MPO":  # a phone's JPEG with depth maps or previews after it
                notes.append(f"MPO: the primary image of {frames} read.")
            elif frames > 1:
                what = {"GIF": "animated GIF", "WEBP": "animated WebP", "PNG": "animated PNG (APNG)",
                        "TIFF": "multi-page TIFF"}.get(img.format, f"{img.format} file")
                raise _animated(name, what, frames, "pages" if img.format == "TIFF" else "frames")
            img.load()
            try:
                orientation = img.getexif().get(0x0112)
            except Exception:  # damaged EXIF: the pixels are still good
                orientation = None
                notes.append("EXIF damaged; its orientation ignored.")
            meta = ImageMeta(format=img.format or "unknown", bit_depth=_PILLOW_BITS.get(img.mode, 8),
                             icc_profile=img.info.get("icc_profile") or None,
                             orientation=_checked_orientation(orientation, notes))
            if img.mode == "P":
                img = img.convert("RGBA" if "transparency" in img.info else "RGB")
            elif img.mode in ("PA", "RGBa"):
                img = img.convert("RGBA")
            elif img.mode == "La":
                img = img.convert("LA")
            elif img.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
                img = img.convert("RGB")
            elif img.mode == "1":
                img = img.convert("L")
            image = np.asarray(img)
    return image, replace(meta, notes=tuple(notes))


def face_cache_path() -> Path:
    """Where scipy.datasets (pooch) keeps ``face.dat``."""
    import pooch

    return Path(pooch.os_cache("scipy-data")) / "face.dat"


def _builtin(name: str, gray: bool) -> np.ndarray:
    if name in ("face", "face_color"):
        cached = face_cache_path()
        if not cached.exists() and os.environ.get("VQIMAGE_OFFLINE", "") not in ("", "0"):
            raise FaceUnavailable(
                f"face is not in scipy's cache ({cached}) and downloads are disabled (VQIMAGE_OFFLINE)."
            )
        try:
            from scipy.datasets import face
        except ImportError as exc:  # pragma: no cover - scipy and pooch are dependencies
            raise FaceUnavailable(f"face needs scipy.datasets and pooch: {exc}") from None
        import pooch

        logger = pooch.get_logger()
        level = logger.level
        logger.setLevel("WARNING")  # the error below says it all, in one line
        try:
            return face(gray=name == "face" or gray)
        except Exception as exc:  # pooch/requests errors when offline
            raise FaceUnavailable(
                f"face is not in scipy's cache ({cached}) and could not be downloaded "
                f"({type(exc).__name__}); run once with network access."
            ) from None
        finally:
            logger.setLevel(level)
    import skimage.data

    image = np.asarray(getattr(skimage.data, name)())
    return to_gray(image) if gray else image


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A reader never sees a partial file, and an interrupted or failed write
    leaves no file behind (the temporary file is removed). An existing
    ``path`` -- a dangling symbolic link included -- is replaced only with
    ``force=True``. Without it the final step is a hard link, which fails
    if the name exists, so a file that another process creates in the
    meantime is never replaced either; on a file system without hard links
    it is a check and a rename. Errors name ``path``, never the temporary
    file.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``force`` is False.
    """
    path = Path(path)
    if os.path.lexists(path) and not force:
        raise FileExistsError(f"{path} exists; use --force (force=True) to overwrite it.")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory.")
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if force:
            os.replace(tmp, path)
        else:
            _link_no_replace(tmp, path)
    except FileExistsError:
        raise FileExistsError(f"{path} exists (created meanwhile); use --force (force=True) to overwrite it.") \
            from None
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _link_no_replace(tmp: str, path: Path) -> None:
    """Give ``tmp`` the name ``path`` unless that name exists (atomically where hard links work)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (FAT, some network file systems): check, then rename
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.replace(tmp, path)
