"""How an image is seen as vectors: gray values, colors, or blocks of pixels.

Shared by every stage. One rule decides ``mode='auto'`` (:func:`resolve_mode`)
for the API and the command line alike; :func:`as_mode_image` gives the
image a codebook of each mode takes; :func:`image_blocks` and
:func:`join_blocks` cut a gray image into tiles and put them back.

Gray conversion
---------------
Color images become gray by ITU-R BT.601 luma, ``Y = 0.299 R + 0.587 G +
0.114 B``, computed in float64 and rounded half to even back to the image's
own dtype (so 16-bit stays 16-bit); alpha is ignored. Gray stored as RGB
(equal channels) converts exactly.
"""

from __future__ import annotations

import numpy as np

from ._validation import Options, check_param

__all__ = [
    "MODES",
    "resolve_mode",
    "as_mode_image",
    "to_gray",
    "opaque",
    "image_blocks",
    "join_blocks",
    "check_block",
    "check_vector_image",
]

#: What a code stands for: one gray value, one color (RGB / RGBA), or a block of gray pixels.
MODES = ("gray", "color", "block")
_LUMA = np.array([0.299, 0.587, 0.114])
_MAX_BLOCK_PIXELS = 16


def resolve_mode(image, mode: str = "auto", *, caller: str = "fit") -> str:
    """The mode an array is quantized in: ``mode``, or for 'auto' the one rule.

    'auto' is 'color' for an (H, W, 3) or (H, W, 4) image whose channels
    differ (or whose alpha is not all opaque), and 'gray' for everything
    else, including RGB files that hold a gray image (equal channels).

    Examples
    --------
    >>> import numpy as np
    >>> resolve_mode(np.zeros((2, 2, 3), np.uint8))        # gray stored as RGB
    'gray'
    >>> resolve_mode(np.array([[[255, 0, 0]]], np.uint8))
    'color'
    >>> resolve_mode(np.zeros((4, 4)), "block")
    'block'
    """
    check_param("mode", mode, Options(("auto", *MODES)), caller=caller)
    if mode != "auto":
        return mode
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        if image.shape[-1] == 4 and not (image[..., 3] == np.iinfo(image.dtype).max
                                         if image.dtype.kind in "ui" else image[..., 3] == 1).all():
            return "color"
        return "gray" if _equal_channels(image) else "color"
    return "gray"


def _equal_channels(image: np.ndarray) -> bool:
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def as_mode_image(image: np.ndarray, mode: str) -> np.ndarray:
    """``image`` as a codebook of ``mode`` takes it.

    'gray' and 'block': color becomes gray (:func:`to_gray`). 'color': a gray
    (H, W) image becomes (H, W, 3) with equal channels.
    """
    if mode in ("gray", "block"):
        return to_gray(image)
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=-1)
    return image


_BAND_PIXELS = 1 << 18  # pixels converted at a time: no float64 copy of a whole image (24-32 bytes a pixel)


def row_bands(height: int, width: int):
    """Slices of rows of about :data:`_BAND_PIXELS` pixels each, covering ``height`` rows."""
    rows = max(1, _BAND_PIXELS // max(width, 1))
    return (slice(start, start + rows) for start in range(0, height, rows))


def to_gray(image: np.ndarray) -> np.ndarray:
    """BT.601 luma of an (..., 3) or (..., 4) color image, in its own dtype; gray passes through.

    Only (H, W, 2/3/4) arrays are treated as color (gray+alpha, RGB, RGBA).

    Examples
    --------
    >>> import numpy as np
    >>> to_gray(np.array([[[255, 0, 0], [0, 255, 0]]], dtype=np.uint8))
    array([[ 76, 150]], dtype=uint8)
    """
    if image.ndim != 3 or image.shape[-1] not in (2, 3, 4):
        return image
    if image.shape[-1] == 2:  # gray + alpha
        return np.ascontiguousarray(image[..., 0])
    if _equal_channels(image):
        return np.ascontiguousarray(image[..., 0])  # gray stored as RGB (WebP, palette PNG): exact
    out = np.empty(image.shape[:2], image.dtype)
    info = np.iinfo(image.dtype) if image.dtype.kind in "ui" else None
    for rows in row_bands(*image.shape[:2]):
        y = image[rows, :, :3].astype(np.float64) @ _LUMA
        out[rows] = y if info is None else np.clip(np.rint(y), info.min, info.max)
    return out


def opaque(rgb: np.ndarray) -> np.ndarray:
    """RGB -> RGBA with alpha 255 (an RGB image under an RGBA codebook)."""
    return np.concatenate([rgb, np.full(rgb.shape[:-1] + (1,), 255, rgb.dtype)], axis=-1)


def all_opaque(image: np.ndarray) -> bool:
    """An RGBA image whose alpha is 255 everywhere (as many PNGs are): its alpha holds nothing."""
    return image.ndim >= 2 and image.shape[-1] == 4 and bool((image[..., 3] == 255).all())


def with_channels(image: np.ndarray, d: int) -> np.ndarray:
    """A color image with the ``d`` channels of a codebook's colors.

    RGB under RGBA colors gains alpha 255; RGBA that is opaque everywhere
    loses its alpha under RGB colors. Transparent pixels have no RGB color:
    a ValueError. Other shapes pass, for the caller's own checks.
    """
    c = image.shape[-1] if image.ndim else 0
    if c == d or {c, d} != {3, 4}:
        return image
    if c == 3:
        return opaque(image)
    if all_opaque(image):
        return np.ascontiguousarray(image[..., :3])
    raise ValueError("This codebook holds RGB colors; the image has 4 channels. This RGBA image has transparent "
                     "pixels, which an RGB 'palette' or 'codebook' cannot show: give RGBA colors, or drop the "
                     "alpha channel (image[..., :3]).")


def color_8bit(image: np.ndarray) -> np.ndarray:
    """16-bit color rounded to 8 bits per channel, round(v / 257) (exact: no ties); other images as they are."""
    if image.dtype != np.uint16:
        return image
    return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)


def image_blocks(image: np.ndarray, block: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """The ``block``-sized tiles of a 2-D image as rows ``(h * w, rows * cols)``, and ``(h, w)``.

    Edges are padded by repeating the last row / column (cropped again by
    :func:`join_blocks`).

    Examples
    --------
    >>> import numpy as np
    >>> image_blocks(np.arange(6, dtype=np.uint8).reshape(2, 3), (2, 2))
    (array([[0, 1, 3, 4],
           [2, 2, 5, 5]], dtype=uint8), (1, 2))
    """
    rows, cols = block
    height, width = image.shape
    h, w = -(-height // rows), -(-width // cols)
    if (h * rows, w * cols) != image.shape:
        image = np.pad(image, ((0, h * rows - height), (0, w * cols - width)), mode="edge")
    tiles = image.reshape(h, rows, w, cols).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(tiles).reshape(h * w, rows * cols), (h, w)


def join_blocks(vectors: np.ndarray, grid: tuple[int, int], block: tuple[int, int], shape=None) -> np.ndarray:
    """Inverse of :func:`image_blocks`: tiles back into an image, cropped to ``shape``."""
    rows, cols = block
    h, w = grid
    image = vectors.reshape(h, w, rows, cols).transpose(0, 2, 1, 3).reshape(h * rows, w * cols)
    if shape is not None:
        image = image[: shape[0], : shape[1]]
    return np.ascontiguousarray(image)


def check_block(block, *, caller: str) -> tuple[int, int]:
    """``block`` as ``(rows, cols)`` with at most 16 pixels, or a clear error."""
    if isinstance(block, int | np.integer) and not isinstance(block, bool):
        block = (int(block), int(block))
    ok = (
        isinstance(block, tuple | list)
        and len(block) == 2
        and all(isinstance(b, int | np.integer) and not isinstance(b, bool) and b >= 1 for b in block)
        and block[0] * block[1] <= _MAX_BLOCK_PIXELS
        and block[0] * block[1] >= 2
    )
    if not ok:
        raise ValueError(
            f"The 'block' parameter of {caller} must be (rows, cols) of positive ints with 2 to "
            f"{_MAX_BLOCK_PIXELS} pixels, such as (2, 2) or (4, 4). Got {block!r} instead."
        )
    return int(block[0]), int(block[1])


def check_vector_image(image, *, mode: str, block=None, caller: str) -> np.ndarray:
    """An 8-bit color image (..., 3 | 4) for 'color', a 2-D 8-bit image for 'block'."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        what = "RGB/RGBA" if mode == "color" else "gray"
        raise TypeError(
            f"The 'image' parameter of {caller} must be an 8-bit (uint8) {what} image for mode={mode!r}. "
            f"Got dtype {image.dtype}."
            + (" Scale 16-bit color down first (image >> 8)." if image.dtype == np.uint16 else "")
        )
    if mode == "color":
        if image.ndim < 2 or image.shape[-1] not in (3, 4) or image.size == 0:
            raise ValueError(
                f"The 'image' parameter of {caller} must have 3 (RGB) or 4 (RGBA) channels on its last "
                f"axis for mode='color'. Got shape {image.shape}."
            )
    elif image.ndim != 2 or image.size == 0:
        raise ValueError(
            f"The 'image' parameter of {caller} must be a 2-D gray image for mode='block'. "
            f"Got shape {image.shape}."
        )
    return image


