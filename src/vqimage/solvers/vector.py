"""Stage 2 (vectors): color and pixel-block codebooks, fitted on a :class:`~vqimage.VectorHistogram`.

The histogram holds every distinct vector (an RGB/RGBA color, or a block of
gray pixels flattened row by row) with its exact total weight, grouped by
color cell (see :mod:`vqimage.histogram`), so every centroid computed from it
is exact. One codebook fitted on the sum of many images' histograms is a
shared palette (GIF frames, a dataset).

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
    lists per cell (:mod:`vqimage._cells`) and Hamerly's bounds (see
    ``_vector_kernels.pyx``). The
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

Spaces
------
``space='oklab'`` (RGB) fits and maps in Oklab, ``space='composite'`` (RGBA) by the error
composited on black and on white (:mod:`vqimage._spaces`): the distinct
colors are converted, regrouped on a cell grid laid over the space, and
steps 1-4 run there unchanged (each point may lie anywhere in its cell's
box); the centers are converted back to sRGB(A) and rounded, and the
codebook maps pixels by distance in the space.

Fitted levels of 8-bit data are rounded to integers (the palette a PNG
stores); learned entries come in order of increasing luma (BT.601), after
locked colors and the transparent entry.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from .._spaces import CHANNELS, SPACES, from_space, space_cells, to_space
from .._validation import FitWarning, Interval, Options, check_param
from ..codebook import Codebook
from ..histogram import VectorHistogram, vector_histogram
from ._vector_kernels import hartigan, lloyd, merge_clusters, split_boxes, weighted_sums

__all__ = ["VECTOR_STRATEGIES", "INITS", "fit_vectors"]

VECTOR_STRATEGIES = ("kmeans", "wu")
INITS = ("split-merge", "k-means++")
_LUMA = np.array([0.299, 0.587, 0.114])
# Measured on astronaut, coffee and chelsea at 16/64/256 colors (benchmarks/RESULTS.md):
# 3 passes of Hartigan's moves after Lloyd add 0.003-0.015 dB for 3-15 ms (a Lloyd run
# after them adds ~0.002 dB more for 8-17 ms, so there is none); over-relaxed center
# updates (x1.7) halve Lloyd's iterations up to 64 colors but cost time beyond.
_HARTIGAN_PASSES = 3


def _relax(k: int) -> float:
    return 1.7 if k <= 64 else 1.0


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
    space: str = "rgb",
    caller: str = "fit",
) -> Codebook:
    """Fit a color or block codebook; see :func:`vqimage.fit` and the module notes."""
    check_param("n_levels", n_levels, Interval(int, 2, 65536), caller=caller)
    check_param("strategy", strategy, Options(VECTOR_STRATEGIES), caller=caller)
    check_param("init", init, Options(INITS), caller=caller)
    check_param("max_iter", max_iter, Interval(int, 1, None), caller=caller)
    check_param("tol", tol, Interval(float, 0, None), caller=caller)
    check_param("random_state", random_state, Interval(int, 0, 2**32 - 1), caller=caller)
    check_param("space", space, Options(SPACES), caller=caller)
    if isinstance(data, VectorHistogram):
        if weights is not None:
            raise ValueError(f"The 'weights' parameter of {caller} applies to images, not histograms.")
        hist = data
    else:
        hist = vector_histogram(data, mode=mode, block=block, weights=weights)
    if hist.n_vectors == 0:
        raise ValueError(f"{caller}: every pixel is fully transparent (or has zero weight); nothing to fit.")
    d = hist.n_components
    if space != "rgb" and (hist.mode != "color" or d != CHANNELS[space]):
        raise ValueError(
            f"The 'space' parameter of {caller} is {space!r}, which applies to "
            f"{'RGB' if CHANNELS[space] == 3 else 'RGBA'} colors only, not to {hist._kind()} data; pass space='rgb'."
        )
    locked = _check_fixed(fixed, d, caller)
    k = int(n_levels) - (1 if hist.transparent > 0 else 0) - locked.shape[0]
    if k < 1:
        raise ValueError(
            f"The 'n_levels' parameter of {caller} must leave room for at least one learned entry: "
            f"{n_levels} levels, {locked.shape[0]} locked color(s)"
            + (", 1 transparent entry" if hist.transparent > 0 else "") + "."
        )
    points, grid, extent = hist.vectors.astype(np.float64), hist, 0.0
    locked_rgb = locked
    if space != "rgb":
        points, grid = _space_grid(hist, space)
        locked, extent = to_space(locked, space), 1.0
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
        centers = _top_up(points, grid.counts, _split(grid, points, k)[0], k)
    else:
        if init == "k-means++":
            start = _kmeans_plus_plus(points, grid.counts, k, random_state)
        else:
            start = _top_up(points, grid.counts, _split_merge(grid, points, k), k)
        centers = _refine(grid, points, start, locked, max_iter, tol, extent=extent)
    return _codebook(hist, from_space(centers, space), locked_rgb, strategy, space)


class _Grid(NamedTuple):
    """A VectorHistogram's points regrouped by cell of a grid over another space."""

    counts: np.ndarray
    cell_start: np.ndarray
    cell_ids: np.ndarray
    bits: int
    mode: str
    n_components: int


def _space_grid(hist: VectorHistogram, space: str):
    """The distinct colors as points of ``space``, grouped by cell of the grid laid over it."""
    points, order, cell_start, cell_ids, bits = space_cells(hist.vectors, space)
    return points, _Grid(hist.counts[order], cell_start, cell_ids, bits, hist.mode, hist.n_components)


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
    m = hist.cell_ids.size
    labels = np.repeat(np.arange(m), np.diff(hist.cell_start))
    weight, total = weighted_sums(points, hist.counts, labels, m)
    d = hist.n_components
    shifts = np.arange(d - 1, -1, -1) * hist.bits
    coords = (hist.cell_ids[:, None] >> shifts) & ((1 << hist.bits) - 1)
    return weight, total, coords


def _split(hist, points, max_boxes):
    """Centroids of Wu's greedy variance split into at most ``max_boxes`` boxes, and their weights."""
    if hist.mode == "color":
        weight, total, coords = _cell_points(hist, points)
        labels, n = split_boxes(coords, weight, total, max_boxes, 1 << hist.bits)
        box_w, box_s = weighted_sums(total / weight[:, None], weight, labels, n)
    else:  # blocks: cut between pixel values, on the distinct blocks themselves
        coords = hist.vectors.astype(np.int64)
        total = points * hist.counts[:, None]
        labels, n = split_boxes(coords, hist.counts, total, max_boxes, 256)
        box_w, box_s = weighted_sums(points, hist.counts, labels, n)
    return box_s / box_w[:, None], box_w


def _split_merge(hist, points, k):
    centers, weight = _split(hist, points, max(k + 1, min(8 * k, 768)))
    if centers.shape[0] <= k:
        return centers
    return merge_clusters(centers, weight, k)


def _top_up(points, weights, centers, k):
    """``centers`` and, when they are fewer than ``k``, the points farthest from them, one at a time.

    The box splits cut between grid cells; colors crowded into a few cells
    (a dark image: 2,614 colors in 64 cells of 4 x 4 x 4) give fewer boxes
    than asked. Each added center is the point of largest weight x squared
    distance to the centers so far (deterministic farthest-first), until
    there are ``k`` or every point is a center.
    """
    if centers.shape[0] >= k:
        return centers
    dist = np.full(points.shape[0], np.inf)
    for center in centers:
        dist = np.minimum(dist, ((points - center) ** 2).sum(1))
    added = []
    for _ in range(k - centers.shape[0]):
        i = int(np.argmax(weights * dist))
        if not dist[i] > 0:
            break
        added.append(i)
        dist = np.minimum(dist, ((points - points[i]) ** 2).sum(1))
    return np.concatenate([centers, points[added]])


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


def _refine(hist, points, start, locked, max_iter, tol, stats=None, extent=0.0):
    """Lloyd on cell means (colors), then on the exact vectors; locked colors stay."""
    centers = np.ascontiguousarray(np.concatenate([locked, start]))
    fixed = np.zeros(centers.shape[0], np.bool_)
    fixed[: locked.shape[0]] = True
    # No BLAS here (no @): OpenBLAS threads spin after a call and stall the
    # kernel's OpenMP threads that follow (measured with the earlier numba
    # threads: 2-3x slower Lloyd iterations).
    weight_total = hist.counts.sum()
    mean = (hist.counts[:, None] * points).sum(0) / weight_total
    variance = float((hist.counts[:, None] * (points - mean) ** 2).sum() / (weight_total * points.shape[1]))
    limit = tol * variance
    stats = np.zeros((2, 3), np.int64) if stats is None else stats
    if hist.mode == "color":
        weight, total, _ = _cell_points(hist, points)
        m = hist.cell_ids.size
        centers, _, _ = lloyd(total / weight[:, None], weight, np.arange(m + 1), hist.cell_ids, hist.bits,
                                centers, fixed, max_iter, limit, stats[0], _relax(centers.shape[0]), extent)
    centers, labels, _ = lloyd(points, hist.counts, hist.cell_start, hist.cell_ids, hist.bits,
                                 centers, fixed, max_iter, limit, stats[1], _relax(centers.shape[0]), extent)
    if _HARTIGAN_PASSES:
        moves = np.zeros(2, np.int64)
        centers = hartigan(points, hist.counts, hist.cell_start, hist.cell_ids, hist.bits, centers, labels, fixed,
                             _HARTIGAN_PASSES, moves, extent)
    return centers[locked.shape[0]:]


def _codebook(hist, centers, locked, strategy, space="rgb") -> Codebook:
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
                    mode=hist.mode, block=hist.block, space=space)
