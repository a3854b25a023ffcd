"""Stage 2 (scalar): fit a codebook of gray levels on a weighted histogram.

Strategies
----------
uniform
    ``n_levels`` equal-width bins over ``data_range`` (default: the data's
    min and max), like ``KBinsDiscretizer(strategy="uniform")``. Bins no
    value falls in are kept (they decode to their midpoint).
quantile
    Edges at the weighted quantiles ``i / n_levels`` of the data, computed
    with ``quantile_method`` ('averaged_inverted_cdf', scikit-learn's default,
    or 'inverted_cdf'), as ``KBinsDiscretizer(strategy="quantile")`` does.
    Image histograms are all ties, so several quantiles can fall on one value:
    bins left empty are removed and a warning says how many levels remain.
kmeans
    Lloyd's algorithm on the weighted histogram, started like
    ``KBinsDiscretizer(strategy="kmeans")`` from the centres of the uniform
    bins, run until the partition no longer changes (or ``max_iter``). It is
    deterministic, and finds a local optimum only.
optimal
    The exact global minimum of the mean squared error over all partitions,
    by dynamic programming on the histogram (see ``_dp.py``). Default.

kmeans and optimal edges are the midpoints between adjacent centroids (the
nearest-level rule), so values never seen while fitting map to the closest
level.

Reconstruction
--------------
centroid (default)
    The weighted mean of the values in each bin: the MSE-optimal level for
    the bin.
midpoint
    The centre of the bin's edges: ``KBinsDiscretizer.inverse_transform``.
median
    The lower weighted median of the values in each bin (minimises the mean
    absolute error).
Empty bins (possible with 'uniform' only) decode to their midpoint.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._validation import FitWarning, Interval, Options, check_param, check_range
from ..codebook import Codebook
from ..histogram import Histogram, _histogram

__all__ = ["STRATEGIES", "RECONSTRUCTIONS", "QUANTILE_METHODS", "fit_scalar", "from_edges", "max_error_codebook"]

#: In the order tables and figures show them: simplest first.
STRATEGIES = ("uniform", "quantile", "kmeans", "optimal")
RECONSTRUCTIONS = ("centroid", "midpoint", "median")
QUANTILE_METHODS = ("averaged_inverted_cdf", "inverted_cdf")
# The optimal DP keeps a (k + 1) x (n + 1) int32 argmin table.
_DP_MEMORY_LIMIT = 2 << 30


def fit_scalar(
    image,
    n_levels: int,
    *,
    strategy: str = "optimal",
    reconstruction: str = "centroid",
    weights=None,
    data_range=None,
    bins: int | None = None,
    quantile_method: str = "averaged_inverted_cdf",
    max_iter: int = 300,
) -> Codebook:
    """Fit a scalar codebook of ``n_levels`` gray levels to an image or histogram.

    Parameters
    ----------
    image : array_like or Histogram
        Image of any shape (int or float dtype), or a :class:`Histogram`
        (for instance the sum of several images' histograms: a shared
        codebook).
    n_levels : int in [2, 65536]
        Number of levels. When the data has fewer distinct values, each value
        gets its own level (lossless) and a :class:`FitWarning` says so.
    strategy : {'optimal', 'kmeans', 'quantile', 'uniform'}
        How edges are chosen; see the module notes.
    reconstruction : {'centroid', 'midpoint', 'median'}
        How each bin's level is chosen; see the module notes.
    weights : array_like, optional
        Per-pixel sample weights (image input only).
    data_range : (float, float), optional
        'uniform': the range the bins divide (default: data min and max).
        Also the grid of ``bins`` for float images.
    bins : int, optional
        Bin float images into this many bins first (see
        :func:`vqimage.histogram`); default: exact unique values.
    quantile_method : {'averaged_inverted_cdf', 'inverted_cdf'}
        'quantile' only: how a quantile falling between two values is placed.
    max_iter : int
        'kmeans' only: iteration budget of Lloyd's algorithm.

    Returns
    -------
    Codebook

    Examples
    --------
    >>> import numpy as np, vqimage
    >>> image = np.array([0, 1, 2, 10, 11, 12, 40], dtype=np.uint8)
    >>> vqimage.fit(image, 3).levels
    array([ 1., 11., 40.])
    >>> vqimage.fit(image, 3, strategy="uniform").levels   # the middle bin is empty
    array([ 6., 20., 40.])
    >>> vqimage.fit(image, 3, strategy="uniform", reconstruction="midpoint").levels
    array([ 6.66666667, 20.        , 33.33333333])
    """
    caller = "fit"
    check_param("n_levels", n_levels, Interval(int, 2, 65536), caller=caller)
    check_param("strategy", strategy, Options(STRATEGIES), caller=caller)
    check_param("reconstruction", reconstruction, Options(RECONSTRUCTIONS), caller=caller)
    check_param("quantile_method", quantile_method, Options(QUANTILE_METHODS), caller=caller)
    check_param("max_iter", max_iter, Interval(int, 1, None), caller=caller)
    if data_range is not None:
        data_range = check_range(data_range, caller=caller)
    hist = _as_histogram(image, weights=weights, bins=bins, data_range=data_range, caller=caller)
    k = int(n_levels)
    low, high = hist.low, hist.high
    if hist.n_values < k:
        warnings.warn(
            f"The data has only {hist.n_values} distinct value(s); fitting {hist.n_values} "
            f"level(s) instead of {k} (lossless).",
            FitWarning,
            stacklevel=3,
        )
        thresholds = (hist.values[1:] + hist.values[:-1]) / 2
        return _build(hist, thresholds, low, high, strategy, reconstruction)
    if strategy == "uniform":
        if data_range is not None:
            low, high = data_range
        thresholds = np.linspace(low, high, k + 1)[1:-1]
        return _build(hist, thresholds, low, high, strategy, reconstruction)
    if strategy == "quantile":
        thresholds = _quantile_thresholds(hist, k, quantile_method)
        return _build(hist, thresholds, low, high, strategy, reconstruction, drop_empty=True)
    if strategy == "kmeans":
        centers = _lloyd(hist, k, max_iter)
    else:
        centers = _optimal_centroids(hist, k)
    thresholds = (centers[1:] + centers[:-1]) / 2
    return _build(hist, thresholds, low, high, strategy, reconstruction)


def from_edges(image, edges, *, reconstruction: str = "centroid", weights=None) -> Codebook:
    """A codebook with given bin edges, levels fitted to the data.

    Parameters
    ----------
    image : array_like or Histogram
        The data the levels are computed from.
    edges : array_like of float, shape (k + 1,)
        Non-decreasing edges; ``edges[1:-1]`` are the decision thresholds and
        the outer two are used by the 'midpoint' rule.
    reconstruction : {'centroid', 'midpoint', 'median'}
    weights : array_like, optional
        Per-pixel sample weights (image input only).

    Examples
    --------
    >>> import numpy as np
    >>> from vqimage.solvers import from_edges
    >>> from_edges(np.array([1, 2, 3, 9]), [0, 5, 10]).levels
    array([2., 9.])
    """
    caller = "from_edges"
    check_param("reconstruction", reconstruction, Options(RECONSTRUCTIONS), caller=caller)
    edges = np.asarray(edges, dtype=np.float64).reshape(-1)
    if edges.size < 2 or not np.isfinite(edges).all() or (np.diff(edges) < 0).any():
        raise ValueError(
            f"The 'edges' parameter of {caller} must be at least 2 finite, non-decreasing "
            f"values. Got {edges!r} instead."
        )
    hist = _as_histogram(image, weights=weights, bins=None, data_range=None, caller=caller)
    return _build(hist, edges[1:-1], edges[0], edges[-1], "edges", reconstruction)


def _as_histogram(image, *, weights, bins, data_range, caller) -> Histogram:
    if isinstance(image, Histogram):
        if weights is not None or bins is not None:
            raise ValueError(
                f"The 'weights' and 'bins' parameters of {caller} apply to images; "
                "pass them to vqimage.histogram() when making the histogram."
            )
        return image
    return _histogram(image, weights=weights, bins=bins, data_range=data_range if bins else None, caller=caller)


def _quantile_thresholds(hist: Histogram, k: int, method: str) -> np.ndarray:
    cum = np.cumsum(hist.counts)
    total = cum[-1]
    targets = np.arange(1, k) * (total / k)
    # inverted_cdf: the first value whose cumulative weight reaches the target.
    index = np.minimum(np.searchsorted(cum, targets * (1 - 1e-12), side="left"), hist.n_values - 1)
    thresholds = hist.values[index]
    if method == "averaged_inverted_cdf":
        # A target hit exactly (up to rounding) lies between two values: average them.
        following = hist.values[np.minimum(index + 1, hist.n_values - 1)]
        hit = np.isclose(cum[index], targets, rtol=1e-12, atol=0)
        thresholds = np.where(hit, (thresholds + following) / 2, thresholds)
    return thresholds


def _assign(hist: Histogram, thresholds: np.ndarray) -> np.ndarray:
    return np.searchsorted(thresholds, hist.values, side="right")


def _lloyd(hist: Histogram, k: int, max_iter: int) -> np.ndarray:
    x, w = hist.values, hist.counts
    grid = np.linspace(hist.low, hist.high, k + 1)
    centers = (grid[1:] + grid[:-1]) / 2
    previous = None
    for _ in range(max_iter):
        codes = _assign(hist, (centers[1:] + centers[:-1]) / 2)
        if previous is not None and np.array_equal(codes, previous):
            return centers
        weight = np.bincount(codes, w, minlength=k)
        total = np.bincount(codes, w * x, minlength=k)
        occupied = weight > 0
        new = np.where(occupied, total / np.where(occupied, weight, 1), centers)
        if not occupied.all():
            # Like scikit-learn's KMeans: move each empty cluster to the value
            # farthest from its assigned center (ties: the smallest value).
            distance = np.abs(x - new[codes])
            for cluster in np.flatnonzero(~occupied):
                far = int(np.argmax(distance))
                new[cluster] = x[far]
                distance[far] = -1.0
        centers = np.sort(new)
        previous = codes
    warnings.warn(
        f"kmeans did not converge in max_iter={max_iter} iterations; the levels are "
        "those of the last iteration.",
        FitWarning,
        stacklevel=4,
    )
    return centers


def _optimal_centroids(hist: Histogram, k: int) -> np.ndarray:
    n = hist.n_values
    if 4 * (k + 1) * (n + 1) > _DP_MEMORY_LIMIT:
        raise ValueError(
            f"strategy='optimal' on {n} distinct values with {k} levels needs "
            f"{4 * (k + 1) * (n + 1) / 2**30:.1f} GiB; bin the float image first "
            "(bins=65536) or use fewer levels."
        )
    from ._dp import optimal_partition

    starts, _ = optimal_partition(hist.values, hist.counts, k)
    weight = np.add.reduceat(hist.counts, starts)
    return np.add.reduceat(hist.counts * hist.values, starts) / weight


def _build(hist, thresholds, low, high, strategy, reconstruction, *, drop_empty=False) -> Codebook:
    thresholds = np.asarray(thresholds, dtype=np.float64)
    k = thresholds.size + 1
    codes = _assign(hist, thresholds)
    weight = np.bincount(codes, hist.counts, minlength=k)
    if drop_empty and not (weight > 0).all():
        occupied = np.flatnonzero(weight > 0)
        warnings.warn(
            f"strategy={strategy!r}: ties in the data leave only {occupied.size} of {k} bins "
            f"non-empty; the codebook has {occupied.size} levels. strategy='optimal' always "
            "uses every level the data allows.",
            FitWarning,
            stacklevel=4,
        )
        thresholds = thresholds[occupied[1:] - 1]
        return _build(hist, thresholds, low, high, strategy, reconstruction)
    edges = np.concatenate([[low], thresholds, [high]])
    midpoints = (edges[1:] + edges[:-1]) / 2
    occupied = weight > 0
    safe = np.where(occupied, weight, 1.0)
    if reconstruction == "centroid":
        levels = np.bincount(codes, hist.counts * hist.values, minlength=k) / safe
    elif reconstruction == "median":
        cum = np.cumsum(hist.counts)
        before = np.concatenate([[0.0], np.cumsum(weight)[:-1]])
        index = np.searchsorted(cum, before + weight / 2, side="left")
        levels = hist.values[np.minimum(index, hist.n_values - 1)]
    else:
        levels = midpoints
    levels = np.where(occupied, levels, midpoints)
    return Codebook(levels, edges, strategy=strategy, reconstruction=reconstruction, dtype=hist.dtype, counts=weight)


def max_error_codebook(image, max_error: float) -> Codebook:
    """The gray codebook with the fewest levels that keeps every pixel within ``max_error``.

    ``image`` is an image or an exact (unbinned) :class:`~vqimage.Histogram`.

    Greedy interval covering of the sorted distinct values (each level covers
    a span of ``2 * max_error``) is optimal. Integer images count
    ``floor(max_error)`` (their errors are integers); each level is its
    pixels' mean moved into the range that keeps all of them within the bound,
    and rounded for integer dtypes.

    Examples
    --------
    >>> import numpy as np
    >>> cb = max_error_codebook(np.array([0, 1, 2, 10, 11, 30], np.uint8), 1)
    >>> cb.levels, cb.n_levels
    (array([ 1., 10., 30.]), 3)
    >>> import vqimage
    >>> pixels = np.array([0, 2, 11], np.uint8)
    >>> int(np.abs(vqimage.decode(vqimage.encode(pixels, cb), cb).astype(int) - pixels).max())
    1
    """
    caller = "max_error_codebook"
    check_param("max_error", max_error, Interval(float, 0, None), caller=caller)
    hist = _as_histogram(image, weights=None, bins=None, data_range=None, caller=caller)
    if hist.bins is not None:
        raise ValueError(f"The 'image' parameter of {caller} must be an image or an exact histogram, not a binned one.")
    values, counts = hist.values, hist.counts
    integer = hist.dtype.kind in "ui"
    bound = math.floor(max_error) if integer else float(max_error)
    starts = [0]
    for i in range(1, values.size):  # a new group when the value is beyond the group's reach
        if values[i] - values[starts[-1]] > 2 * bound:
            starts.append(i)
    starts = np.array(starts)
    ends = np.append(starts[1:], values.size) - 1
    low, high = values[starts], values[ends]
    mean = np.add.reduceat(counts * values, starts) / np.add.reduceat(counts, starts)
    levels = np.clip(mean, high - bound, low + bound)
    if integer:
        levels = np.clip(np.rint(levels), high - bound, low + bound)
    edges = np.concatenate([[values[0]], (high[:-1] + low[1:]) / 2, [values[-1]]])
    return Codebook(levels, edges, strategy="max-error", reconstruction="centroid", dtype=hist.dtype,
                    counts=np.add.reduceat(counts, starts))
