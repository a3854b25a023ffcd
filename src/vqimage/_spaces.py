"""Color spaces a color palette can be fitted and mapped in: 'rgb', 'oklab' and 'composite'.

'rgb' is the 8-bit cube itself: squared error in sRGB values, what PSNR
measures. 'oklab' is Björn Ottosson's Oklab (2020): sRGB decoded to linear
light, then an LMS-like cone response with a cube root, so that Euclidean
distance follows perceived difference far better than in RGB (dark colors get
more palette entries, saturated ones fewer). Measured on scikit-image's
astronaut at 64 colors, undithered: SSIMULACRA2 57.1 (RGB fit) against 62.0
(Oklab fit), butteraugli 6.96 against 5.31, for 0.9 dB less PSNR.

'composite' is for RGBA: the squared error of the two colors composited on
black plus that composited on white. With premultiplied ``p = rgb * a``
(``a = A / 255``) that sum is ``|dp|^2 + |dp - 255 da|^2 = 2 |d(p - 127.5
a)|^2 + 1.5 (255 da)^2``, a Euclidean distance in the coordinates
``(sqrt(2) (p - 127.5 a), sqrt(1.5) A)``: a translucent color counts as
much as it shows, on any background between black and white, and a
transparent one's color not at all.

Points in a space are float64 scaled and shifted into [0, 255), one scale for
every axis (distances stay Euclidean in the space), so that the color-cell
grid of the fit and the map (:mod:`vqimage._cells`) covers them as it covers
the 8-bit cube; a point of a cell may then be anywhere in its box (extent 1).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHANNELS", "SPACE_BITS", "SPACES", "from_space", "group_by_cell", "space_cells", "to_space"]

SPACES = ("rgb", "oklab", "composite")
#: The channels each space other than RGB takes: RGB for Oklab, RGBA for composite.
CHANNELS = {"oklab": 3, "composite": 4}
#: Bits per component of the cell grid over a space other than RGB, by channel count. Oklab's sRGB
#: gamut fills about half of the scaled cube along a and b, so cells of 2 units (7 bits) hold about as
#: many colors as RGB's cells of 4: on a 3.1 MP photo at 256 colors the fit took 0.46 s, against
#: 0.78-0.93 s with 6 bits. Four components keep RGBA's 5 bits (dense tables of 2**20 cells).
SPACE_BITS = {3: 7, 4: 5}

# linear sRGB -> LMS and LMS^(1/3) -> Lab (Ottosson, "A perceptual color space for image processing", 2020)
_M1 = np.array([
    [0.4122214708, 0.5363325363, 0.0514459929],
    [0.2119034982, 0.6806995451, 0.1073969566],
    [0.0883024619, 0.2817188376, 0.6299787005],
])
_M2 = np.array([
    [0.2104542553, 0.7936177850, -0.0040720468],
    [1.9779984951, -2.4285922050, 0.4505937099],
    [0.0259040371, 0.7827717662, -0.8086757660],
])
_M1_INV = np.linalg.inv(_M1)
_M2_INV = np.linalg.inv(_M2)
# L in [0, 1], a in [-0.234, 0.277], b in [-0.312, 0.199] over the sRGB cube: all land in [2, 252].
_SCALE = 250.0
_SHIFT = np.array([2.0, 0.25 * _SCALE, 0.33 * _SCALE])
# sRGB decoding of every 8-bit value, exact to the float64 formula.
_CODES = np.arange(256) / 255.0
_LINEAR = np.where(_CODES <= 0.04045, _CODES / 12.92, ((_CODES + 0.055) / 1.055) ** 2.4)
# composite: (sqrt(2) (p - 127.5 a), sqrt(1.5) A) in [-180.3, 180.3]^3 x [0, 312.3], scaled by 0.7 into [1, 254].
_C_SCALE = 0.7
_C_SHIFT = np.array([127.5, 127.5, 127.5, 2.0])


def to_space(rgb, space: str) -> np.ndarray:
    """(n, d) sRGB(A) values in [0, 255] -> (n, d) float64 points of ``space`` (scaled into [0, 255)).

    'oklab' takes RGB (d = 3), 'composite' RGBA (d = 4), 'rgb' anything.
    """
    if space == "rgb":
        return np.asarray(rgb, dtype=np.float64)
    if space == "composite":
        rgba = np.clip(np.asarray(rgb, dtype=np.float64), 0.0, 255.0)
        alpha = rgba[:, 3:] / 255.0
        out = np.empty(rgba.shape, np.float64)
        out[:, :3] = np.sqrt(2.0) * (rgba[:, :3] * alpha - 127.5 * alpha)
        out[:, 3] = np.sqrt(1.5) * rgba[:, 3]
        return out * _C_SCALE + _C_SHIFT
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8 and rgb.ndim == 2 and rgb.shape[1] == 3:
        from ._spaces_kernels import oklab_of_srgb8

        out = np.empty(rgb.shape, np.float64)
        oklab_of_srgb8(np.ascontiguousarray(rgb), _LINEAR, _M1, _M2, _SCALE, _SHIFT, out)
        return out
    if rgb.dtype == np.uint8:
        linear = _LINEAR[rgb]
    else:
        c = np.clip(np.asarray(rgb, dtype=np.float64), 0.0, 255.0) / 255.0
        linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lab = np.cbrt(linear @ _M1.T) @ _M2.T
    return lab * _SCALE + _SHIFT


def from_space(points, space: str) -> np.ndarray:
    """Points of ``space`` -> (n, d) float64 sRGB(A) values (not rounded; clipped to [0, 255])."""
    points = np.asarray(points, dtype=np.float64)
    if space == "rgb":
        return np.clip(points, 0.0, 255.0)
    if space == "composite":
        q = (points - _C_SHIFT) / _C_SCALE
        big_a = np.clip(q[:, 3] / np.sqrt(1.5), 0.0, 255.0)
        alpha = big_a[:, None] / 255.0
        premultiplied = q[:, :3] / np.sqrt(2.0) + 127.5 * alpha
        rgb = np.divide(premultiplied, alpha, out=np.zeros_like(premultiplied), where=alpha > 0)
        return np.clip(np.concatenate([rgb, big_a[:, None]], axis=1), 0.0, 255.0)
    lms = ((points - _SHIFT) / _SCALE) @ _M2_INV.T
    linear = np.clip((lms**3) @ _M1_INV.T, 0.0, 1.0)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(encoded * 255.0, 0.0, 255.0)


def space_cells(colors, space: str):
    """8-bit colors (n, d) as points of ``space`` grouped on its grid (:data:`SPACE_BITS`).

    Returns ``(points, order, cell_start, cell_ids, bits)``: ``points`` are
    ``to_space(colors)[order]``, grouped as :func:`group_by_cell` says. The
    fit and the nearest-color map both search this grid.
    """
    points = to_space(colors, space)
    bits = SPACE_BITS[points.shape[1]]
    order, cell_start, cell_ids = group_by_cell(points, bits)
    return np.ascontiguousarray(points[order]), order, cell_start, cell_ids, bits


def group_by_cell(points: np.ndarray, bits: int):
    """Group points of a space (in [0, 255)) by cell of the ``bits``-per-component grid.

    Returns ``(order, cell_start, cell_ids)``: ``points[order]`` holds cell
    ``cell_ids[j]``'s points at ``cell_start[j]:cell_start[j + 1]``, cells in
    increasing id, points within a cell in their input order.
    """
    g = np.minimum(points // (1 << (8 - bits)), (1 << bits) - 1).astype(np.int64)
    ids = np.zeros(points.shape[0], np.int64)
    for j in range(points.shape[1]):
        ids = (ids << bits) | g[:, j]
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    starts = np.flatnonzero(np.concatenate([[True], ids[1:] != ids[:-1]])) if ids.size else np.zeros(0, np.int64)
    return order, np.append(starts, ids.size).astype(np.int64), ids[starts]
