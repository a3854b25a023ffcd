"""Stage 1-2 (vectors): histograms of colors or pixel blocks, and the codebooks fitted on them.

Histogram
---------
A :class:`VectorHistogram` holds every distinct vector (an RGB/RGBA color, or
a block of gray pixels flattened row by row) with its total weight, grouped by
*cell* (the top bits of each component: 6 bits per component for RGB, 5 for
RGBA and 2 x 2 blocks, fewer for bigger blocks). Counts are exact, so every
centroid computed from it is exact. Histograms add with ``+``: one codebook
fitted on the sum of many images' histograms is a shared palette (GIF frames,
a dataset).

Strategies
----------
kmeans (default)
    1. Wu's greedy variance split (generalised to any number of components)
       cuts the color space into boxes until there are ``min(8k, 768)`` of
       them; pairwise-nearest-neighbour (Ward) merges bring them down to
       ``k``;
    2. weighted Lloyd iterations on the cells' means;
    3. weighted Lloyd iterations on the exact distinct vectors, until no
       vector changes codeword, ``max_iter``, or the centers' total squared
       move is at most ``tol`` times the data's mean per-component variance
       (scikit-learn's rule);
    4. three passes of Hartigan's single-point moves, which reach lower
       errors than Lloyd's fixed points; the centers end as the exact
       centroids of their points.
    Steps 2-4 find each vector's nearest center exactly, through candidate
    lists per cell and Hamerly's bounds (see ``_vector_kernels.py``). The
    result is a local optimum of the squared error over all pixels, like
    scikit-learn's ``KMeans`` on all pixels, from a better start. Up to 64
    colors the Lloyd updates are over-relaxed (each center moves 1.7 times
    the way to its centroid), which halves the iterations there.
wu
    Step 1 only, without merges: ``k`` boxes, each decoded to its exact
    centroid. About ten times faster, about 0.5 dB lower PSNR.

There is no random step: the same data always gives the same codebook.

Alpha
-----
RGBA images are quantized as 4-component vectors (straight, not
premultiplied, alpha: a color's alpha is a component like the others).
Fully transparent pixels (alpha 0) are left out of the fit: they all map to
one transparent entry ``(0, 0, 0, 0)``, code 0, which spends one palette
entry in all, whatever their color channels held.

Fitted levels of 8-bit data are rounded to integers (the palette a PNG
stores); learned entries come in order of increasing luma (BT.601), after
locked colors and the transparent entry.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._validation import Interval, Options, check_param
from ._codebook import Codebook

__all__ = [
    "VECTOR_STRATEGIES",
    "VectorHistogram",
    "vector_histogram",
    "fit_vectors",
    "image_blocks",
    "join_blocks",
]

VECTOR_STRATEGIES = ("kmeans", "wu")
INITS = ("split-merge", "k-means++")
_MAX_BLOCK_PIXELS = 16
_LUMA = np.array([0.299, 0.587, 0.114])
# Measured on astronaut, coffee and chelsea at 16/64/256 colors (benchmarks/RESULTS.md):
# 3 passes of Hartigan's moves after Lloyd add 0.003-0.015 dB for 3-15 ms (a Lloyd run
# after them adds ~0.002 dB more for 8-17 ms, so there is none); over-relaxed center
# updates (x1.7) halve Lloyd's iterations up to 64 colors but cost time beyond.
_HARTIGAN_PASSES = 3


def _relax(k: int) -> float:
    return 1.7 if k <= 64 else 1.0


@dataclass(frozen=True, eq=False)
class VectorHistogram:
    """Distinct vectors (colors or pixel blocks) with their total weights.

    Attributes
    ----------
    vectors : ndarray of uint8, shape (n, d)
        Distinct vectors, grouped by cell (in increasing cell id).
    counts : ndarray of float64, shape (n,)
        Total weight of each (its pixel count when unweighted).
    cell_start, cell_ids : ndarray of int64
        Cell ``j`` (id ``cell_ids[j]``) holds ``vectors[cell_start[j]:cell_start[j + 1]]``.
    bits : int
        Bits per component of a cell id.
    mode : {'color', 'block'}
    block : (int, int) or None
        Block shape, for ``mode='block'``.
    transparent : float
        Weight of the fully transparent pixels of RGBA images (left out of
        ``vectors``).

    Examples
    --------
    >>> import numpy as np
    >>> from vqimage.codebook.vector import vector_histogram
    >>> image = np.array([[[255, 0, 0], [255, 0, 0], [0, 0, 255]]], dtype=np.uint8)
    >>> h = vector_histogram(image)
    >>> h.vectors, h.counts
    (array([[  0,   0, 255],
           [255,   0,   0]], dtype=uint8), array([1., 2.]))
    >>> (h + h).counts
    array([2., 4.])
    """

    vectors: np.ndarray
    counts: np.ndarray
    cell_start: np.ndarray
    cell_ids: np.ndarray
    bits: int
    mode: str
    block: tuple | None = None
    transparent: float = 0.0

    @property
    def n_vectors(self) -> int:
        """Number of distinct vectors."""
        return int(self.counts.size)

    @property
    def n_components(self) -> int:
        """Components per vector: 3 (RGB), 4 (RGBA) or the block's pixel count."""
        return int(self.vectors.shape[1])

    @property
    def total(self) -> float:
        """Total weight, transparent pixels included."""
        return float(self.counts.sum()) + self.transparent

    def __add__(self, other: VectorHistogram) -> VectorHistogram:
        if isinstance(other, int) and other == 0:  # lets sum([h1, h2, ...]) start from 0
            return self
        if not isinstance(other, VectorHistogram):
            return NotImplemented
        if (self.mode, self.n_components, self.block) != (other.mode, other.n_components, other.block):
            raise ValueError(
                f"Cannot add a {self._kind()} histogram and a {other._kind()} histogram."
            )
        merged = _from_vectors(
            np.concatenate([self.vectors, other.vectors]),
            np.concatenate([self.counts, other.counts]),
            self.mode,
            self.block,
        )
        return VectorHistogram(*merged, transparent=self.transparent + other.transparent)

    __radd__ = __add__

    def _kind(self) -> str:
        if self.mode == "block":
            return f"{self.block[0]}x{self.block[1]} block"
        return "RGBA" if self.n_components == 4 else "RGB"

    def __repr__(self) -> str:
        return (
            f"VectorHistogram({self._kind()}, n_vectors={self.n_vectors}, total={self.total:g}, "
            f"cells={self.cell_ids.size})"
        )


def _from_vectors(vectors, weights, mode, block):
    from .. import _vector_kernels as K

    d = vectors.shape[1]
    bits = K.cell_bits(d)
    vectors = np.ascontiguousarray(vectors)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if (8 - bits) * d <= 16:  # the in-cell table of unique_cells stays small
        uniques, counts, cell_start, cell_ids, _ = K.unique_cells(vectors, weights, bits)
    else:  # big blocks: sort the rows, then group them by cell
        rows, inverse = np.unique(vectors.view(np.dtype((np.void, d))), return_inverse=True)
        uniques = rows.view(np.uint8).reshape(-1, d)
        counts = np.bincount(inverse.reshape(-1), weights, minlength=uniques.shape[0])
        ids = np.zeros(uniques.shape[0], np.int64)
        for j in range(d):
            ids = (ids << bits) | (uniques[:, j] >> (8 - bits))
        order = np.argsort(ids, kind="stable")
        uniques, counts, ids = uniques[order], counts[order], ids[order]
        cell_ids, cell_start = np.unique(ids, return_index=True)
        cell_start = np.append(cell_start, ids.size).astype(np.int64)
    keep = counts > 0
    if not keep.all():  # zero weights: drop them, re-group
        return _from_vectors(uniques[keep], counts[keep], mode, block)
    return uniques, counts, cell_start, cell_ids, bits, mode, block


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


def vector_histogram(image, *, mode: str = "color", block=None, weights=None) -> VectorHistogram:
    """Distinct colors (or pixel blocks) of an 8-bit image and their counts.

    Parameters
    ----------
    image : array_like of uint8
        ``mode='color'``: shape (..., 3) RGB or (..., 4) RGBA.
        ``mode='block'``: a 2-D gray image.
    mode : {'color', 'block'}
    block : (int, int)
        ``mode='block'``: the block shape, 2 to 16 pixels (e.g. (2, 2), (4, 4)).
    weights : array_like, optional
        ``mode='color'``: per-pixel non-negative weights, shape ``image.shape[:-1]``.

    Returns
    -------
    VectorHistogram
    """
    caller = "vector_histogram"
    check_param("mode", mode, Options(("color", "block")), caller=caller)
    image = check_vector_image(image, mode=mode, caller=caller)
    transparent = 0.0
    if mode == "block":
        if weights is not None:
            raise ValueError(f"The 'weights' parameter of {caller} applies to mode='color' only.")
        block = check_block(block, caller=caller)
        vectors, _ = image_blocks(image, block)
        w = np.ones(vectors.shape[0])
    else:
        if block is not None:
            raise ValueError(f"The 'block' parameter of {caller} applies to mode='block' only.")
        vectors = image.reshape(-1, image.shape[-1])
        w = np.ones(vectors.shape[0]) if weights is None else _pixel_weights(weights, image.shape[:-1], caller)
        if vectors.shape[1] == 4:
            clear = vectors[:, 3] == 0
            if clear.any():
                transparent = float(w[clear].sum())
                vectors, w = vectors[~clear], w[~clear]
    return VectorHistogram(*_from_vectors(vectors, w, mode, block), transparent=transparent)


def _pixel_weights(weights, shape, caller):
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != tuple(shape):
        raise ValueError(f"The 'weights' parameter of {caller} must have shape {tuple(shape)}. Got {w.shape}.")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"The 'weights' parameter of {caller} must be finite and non-negative.")
    return w.reshape(-1)


def fit_vectors(
    data,
    n_levels: int,
    *,
    mode: str = "color",
    block=None,
    strategy: str = "kmeans",
    weights=None,
    fixed=None,
    init: str = "split-merge",
    max_iter: int = 300,
    tol: float = 1e-4,
    random_state: int = 0,
    caller: str = "fit",
) -> Codebook:
    """Fit a color or block codebook; see :func:`vqimage.fit` and the module notes."""
    from .scalar import FitWarning

    check_param("n_levels", n_levels, Interval(int, 2, 65536), caller=caller)
    check_param("strategy", strategy, Options(VECTOR_STRATEGIES), caller=caller)
    check_param("init", init, Options(INITS), caller=caller)
    check_param("max_iter", max_iter, Interval(int, 1, None), caller=caller)
    check_param("tol", tol, Interval(float, 0, None), caller=caller)
    check_param("random_state", random_state, Interval(int, 0, 2**32 - 1), caller=caller)
    if isinstance(data, VectorHistogram):
        if weights is not None:
            raise ValueError(f"The 'weights' parameter of {caller} applies to images, not histograms.")
        hist = data
    else:
        hist = vector_histogram(data, mode=mode, block=block, weights=weights)
    if hist.n_vectors == 0:
        raise ValueError(f"{caller}: every pixel is fully transparent (or has zero weight); nothing to fit.")
    d = hist.n_components
    locked = _check_fixed(fixed, d, caller)
    k = int(n_levels) - (1 if hist.transparent > 0 else 0) - locked.shape[0]
    if k < 1:
        raise ValueError(
            f"The 'n_levels' parameter of {caller} must leave room for at least one learned entry: "
            f"{n_levels} levels, {locked.shape[0]} locked color(s)"
            + (", 1 transparent entry" if hist.transparent > 0 else "") + "."
        )
    points = hist.vectors.astype(np.float64)
    if hist.n_vectors <= k:
        if hist.n_vectors < k:
            warnings.warn(
                f"The data has only {hist.n_vectors} distinct vector(s); fitting {hist.n_vectors} "
                f"learned level(s) instead of {k} (lossless).",
                FitWarning,
                stacklevel=3,
            )
        centers = points
    elif strategy == "wu":
        centers, _ = _split(hist, points, k)
    else:
        if init == "k-means++":
            start = _kmeans_plus_plus(points, hist.counts, k, random_state)
        else:
            start = _split_merge(hist, points, k)
        centers = _refine(hist, points, start, locked, max_iter, tol)
    return _codebook(hist, centers, locked, strategy, FitWarning)


def _check_fixed(fixed, d, caller) -> np.ndarray:
    if fixed is None:
        return np.zeros((0, d))
    locked = np.asarray(fixed)
    if locked.ndim != 2 or locked.shape[1] != d or locked.dtype.kind not in "ui":
        raise ValueError(
            f"The 'fixed' parameter of {caller} must be integer colors of shape (n, {d}). "
            f"Got {locked.dtype} of shape {locked.shape}."
        )
    if locked.size and (locked.min() < 0 or locked.max() > 255):
        raise ValueError(f"The 'fixed' parameter of {caller} must hold values in [0, 255].")
    return locked.astype(np.float64)


def _cell_points(hist: VectorHistogram, points: np.ndarray):
    """Weights, weighted sums and grid coordinates of the occupied cells."""
    from .. import _vector_kernels as K

    m = hist.cell_ids.size
    labels = np.repeat(np.arange(m), np.diff(hist.cell_start))
    weight, total = K.weighted_sums(points, hist.counts, labels, m)
    d = hist.n_components
    shifts = np.arange(d - 1, -1, -1) * hist.bits
    coords = (hist.cell_ids[:, None] >> shifts) & ((1 << hist.bits) - 1)
    return weight, total, coords


def _split(hist, points, max_boxes):
    """Centroids of Wu's greedy variance split into at most ``max_boxes`` boxes, and their weights."""
    from .. import _vector_kernels as K

    if hist.mode == "color":
        weight, total, coords = _cell_points(hist, points)
        labels, n = K.split_boxes(coords, weight, total, max_boxes, 1 << hist.bits)
        box_w, box_s = K.weighted_sums(total / weight[:, None], weight, labels, n)
    else:  # blocks: cut between pixel values, on the distinct blocks themselves
        coords = hist.vectors.astype(np.int64)
        total = points * hist.counts[:, None]
        labels, n = K.split_boxes(coords, hist.counts, total, max_boxes, 256)
        box_w, box_s = K.weighted_sums(points, hist.counts, labels, n)
    return box_s / box_w[:, None], box_w


def _split_merge(hist, points, k):
    from .. import _vector_kernels as K

    centers, weight = _split(hist, points, max(k + 1, min(8 * k, 768)))
    if centers.shape[0] <= k:
        return centers
    return K.merge_clusters(centers, weight, k)


def _kmeans_plus_plus(points, weights, k, random_state):
    """Weighted k-means++ seeding (Arthur & Vassilvitskii 2007), one candidate per step."""
    rng = np.random.default_rng(random_state)
    p = weights / weights.sum()
    chosen = [int(rng.choice(points.shape[0], p=p))]
    dist = ((points - points[chosen[0]]) ** 2).sum(1)
    for _ in range(1, k):
        mass = weights * dist
        if mass.sum() <= 0:
            break
        chosen.append(int(rng.choice(points.shape[0], p=mass / mass.sum())))
        dist = np.minimum(dist, ((points - points[chosen[-1]]) ** 2).sum(1))
    return points[chosen]


def _refine(hist, points, start, locked, max_iter, tol, stats=None):
    """Lloyd on cell means (colors), then on the exact vectors; locked colors stay."""
    from .. import _vector_kernels as K

    centers = np.ascontiguousarray(np.concatenate([locked, start]))
    fixed = np.zeros(centers.shape[0], np.bool_)
    fixed[: locked.shape[0]] = True
    # No BLAS here (no @): OpenBLAS threads spin after a call and stall the
    # numba threads that follow (measured: 2-3x slower Lloyd iterations).
    weight_total = hist.counts.sum()
    mean = (hist.counts[:, None] * points).sum(0) / weight_total
    variance = float((hist.counts[:, None] * (points - mean) ** 2).sum() / (weight_total * points.shape[1]))
    limit = tol * variance
    stats = np.zeros((2, 3), np.int64) if stats is None else stats
    if hist.mode == "color":
        weight, total, _ = _cell_points(hist, points)
        m = hist.cell_ids.size
        centers, _, _ = K.lloyd(total / weight[:, None], weight, np.arange(m + 1), hist.cell_ids, hist.bits,
                                centers, fixed, max_iter, limit, stats[0], _relax(centers.shape[0]))
    centers, labels, _ = K.lloyd(points, hist.counts, hist.cell_start, hist.cell_ids, hist.bits,
                                 centers, fixed, max_iter, limit, stats[1], _relax(centers.shape[0]))
    if _HARTIGAN_PASSES:
        moves = np.zeros(2, np.int64)
        centers = K.hartigan(points, hist.counts, hist.cell_start, hist.cell_ids, hist.bits, centers, labels, fixed,
                             _HARTIGAN_PASSES, moves)
    return centers[locked.shape[0]:]


def _codebook(hist, centers, locked, strategy, FitWarning) -> Codebook:
    centers = np.clip(np.rint(centers), 0, 255)
    if hist.mode == "color":
        luma = _LUMA[0] * centers[:, 0] + _LUMA[1] * centers[:, 1] + _LUMA[2] * centers[:, 2]
        order = np.lexsort((*centers[:, ::-1].T, luma))
    else:
        order = np.lexsort((*centers[:, ::-1].T, centers.mean(1)))
    parts = [locked, centers[order]]
    if hist.transparent > 0:
        parts.insert(0, np.zeros((1, hist.n_components)))
    levels = np.concatenate(parts)
    _, first = np.unique(levels, axis=0, return_index=True)
    if first.size < levels.shape[0]:
        keep = np.sort(first)
        warnings.warn(
            f"{levels.shape[0] - keep.size} learned level(s) coincided with others after rounding to "
            f"integers; the codebook has {keep.size} levels.",
            FitWarning,
            stacklevel=4,
        )
        levels = levels[keep]
    return Codebook(levels, None, strategy=strategy, reconstruction="centroid", dtype=np.uint8,
                    mode=hist.mode, block=hist.block)
