"""Images in: files (PNG, JPEG, TIFF, PGM/PPM, ...), bytes, and built-in samples.

Formats are recognised by their content, never by the file name: PNG and
JPEG XL go through imagecodecs (exact 8/16-bit gray and color), TIFF through
tifffile (any dtype, 16-bit and float included), everything else Pillow reads
(JPEG, PGM/PPM, BMP, GIF, WebP, ...) through Pillow.

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
from pathlib import Path

import numpy as np

from ._validation import Interval, VQError, check_param
from ._vectors import to_gray

__all__ = ["BUILTINS", "load_image", "decode_image", "to_gray", "write_atomic", "FaceUnavailable"]

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


class FaceUnavailable(OSError):
    """The built-in ``face`` is not in scipy's cache and cannot be downloaded."""


def load_image(source, *, gray: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file, or a built-in sample by name.

    Parameters
    ----------
    source : str or path-like
        A file path, or one of :data:`BUILTINS` (a name that is not an
        existing file).
    gray : bool
        Convert color to gray (see the module notes). With False, color
        images come back as (H, W, 3) or (H, W, 4).
    max_pixels : int
        Refuse, before decoding, a file whose header declares more pixels
        (:data:`DEFAULT_MAX_PIXELS`; a color pixel counts once; every page
        of a TIFF counts).

    Returns
    -------
    ndarray
        uint8, uint16, other integer or float dtype, as stored.

    Raises
    ------
    FileNotFoundError
        The path does not exist (and is not a built-in name).
    ValueError
        An unknown built-in name.
    VQError
        The file is not an image vqimage can read, or declares more than
        ``max_pixels`` pixels.
    FaceUnavailable
        ``face`` is not cached and could not be downloaded.

    Examples
    --------
    >>> load_image("camera").shape
    (512, 512)
    >>> load_image("coffee").dtype
    dtype('uint8')
    """
    path = Path(os.fspath(source))
    if path.is_file():
        return decode_image(path.read_bytes(), gray=gray, name=str(path), max_pixels=max_pixels)
    name = str(source)
    if name in BUILTINS:
        return _builtin(name, gray)
    if path.exists():
        raise VQError(f"{name}: not a regular file.")
    if path.suffix or os.sep in name or name.startswith("."):
        raise FileNotFoundError(f"{name}: no such file.")
    raise ValueError(
        f"Unknown image {name!r}: not a file, and not a built-in "
        f"(built-ins: {', '.join(BUILTINS)})."
    )


def decode_image(data: bytes, *, gray: bool = True, name: str = "<bytes>",
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an image held in memory (the bytes of a PNG, TIFF, JPEG, ... file).

    See :func:`load_image`.
    """
    check_param("max_pixels", max_pixels, Interval(int, 1, None), caller="load_image")
    data = bytes(data)
    if not data:
        raise VQError(f"{name}: empty file, not an image.")
    declared = _declared_pixels(data)
    if declared is not None and declared[0] > max_pixels:
        raise VQError(f"{name}: {declared[1]} is {declared[0]:,} pixels, above the limit of {max_pixels:,} "
                      "(max_pixels; --max-pixels); nothing was decoded.")
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            import imagecodecs

            image = imagecodecs.png_decode(data)
        elif data[:2] == b"\xff\x0a" or data[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
            import imagecodecs

            image = imagecodecs.jpegxl_decode(data)
        elif data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            image = _tiff_decode(data)
        else:
            image = _pillow_decode(data)
    except VQError:
        raise
    except Exception as exc:  # every decoder has its own exception types
        detail = "unknown format" if type(exc).__name__ == "UnidentifiedImageError" else f"{type(exc).__name__}: {exc}"
        raise VQError(f"{name}: not a readable image ({detail}).") from None
    image = np.asarray(image)
    if image.dtype.kind == "b":
        image = image.astype(np.uint8) * 255
    if image.dtype.kind not in "uif" or image.size == 0:
        raise VQError(f"{name}: not a readable image (no pixels, or dtype {image.dtype}).")
    if image.dtype.byteorder == ">":
        image = image.astype(image.dtype.newbyteorder("="))
    return to_gray(image) if gray else image


def _declared_pixels(data: bytes) -> tuple[int, str] | None:
    """(pixels, 'WxH') a file's header declares, read without decoding; None when it cannot tell.

    The decoders then check the data against it.
    """
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24 and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return width * height, f"{width}x{height}"
        if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            import tifffile

            with _quiet_tifffile(), tifffile.TiffFile(_io.BytesIO(data)) as tif:  # the IFDs, no pixel data
                sides = [(page.imagewidth, page.imagelength) for page in tif.pages]
            return sum(w * h for w, h in sides), " + ".join(f"{w}x{h}" for w, h in sides[:3]) + (
                f" + {len(sides) - 3} more pages" if len(sides) > 3 else "")
        if data[:2] in (b"\xff\x0a",) or data[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
            return None  # JPEG XL: the decoder's own limits apply
        import warnings

        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: the limit here decides
            with Image.open(_io.BytesIO(data)) as img:  # parses the header, decodes nothing
                return img.width * img.height, f"{img.width}x{img.height}"  # the first frame is what is read
    except Exception:  # a damaged header: the decoder says what is wrong
        return None


@contextlib.contextmanager
def _quiet_tifffile():
    """tifffile's log lines ("failed to reshape ...") stay off stderr: a failure is vqimage's one line."""
    import logging

    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _tiff_decode(data: bytes) -> np.ndarray:
    import tifffile

    with _quiet_tifffile():
        return tifffile.imread(_io.BytesIO(data))


def _pillow_decode(data: bytes) -> np.ndarray:
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DecompressionBombWarning: max_pixels was checked before
        img = Image.open(_io.BytesIO(data))
        img.load()
    with img:
        if img.mode == "P":
            img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        elif img.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
            img = img.convert("RGB")
        elif img.mode == "1":
            img = img.convert("L")
        return np.asarray(img)


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
