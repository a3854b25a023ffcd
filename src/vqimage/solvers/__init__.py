"""Stage 2: codebooks fitted on histograms.

``scalar`` holds the gray-level solvers (uniform, quantile, kmeans, optimal,
and the max-error cover); ``vector`` the color and pixel-block ones (kmeans,
wu). :func:`fit` takes an image or a histogram and picks the solver by mode.
"""

from __future__ import annotations

from .._validation import FitWarning
from .._vectors import MODES, as_mode_image, resolve_mode
from ..codebook import Codebook
from ..histogram import Histogram, VectorHistogram
from .scalar import QUANTILE_METHODS, RECONSTRUCTIONS, STRATEGIES, fit_scalar, from_edges, max_error_codebook
from .vector import INITS, VECTOR_STRATEGIES, fit_vectors

__all__ = [
    "MODES",
    "INITS",
    "QUANTILE_METHODS",
    "RECONSTRUCTIONS",
    "STRATEGIES",
    "VECTOR_STRATEGIES",
    "FitWarning",
    "default_strategy",
    "fit",
    "fit_mode",
    "from_edges",
    "max_error_codebook",
]


def default_strategy(mode: str) -> str:
    """'optimal' for gray levels, 'kmeans' for colors and blocks."""
    return "optimal" if mode == "gray" else "kmeans"


def fit_mode(data, mode: str, *, caller: str = "fit") -> str:
    """The mode ``data`` (an image or a histogram) is fitted in: histograms carry theirs."""
    if isinstance(data, Histogram | VectorHistogram):
        if mode == "auto":
            return data.mode
        resolve_mode(None, mode, caller=caller)  # validates the name
        return mode
    return resolve_mode(data, mode, caller=caller)


def fit(image, n_levels: int, *, mode: str = "gray", strategy: str | None = None, **options) -> Codebook:
    """Fit a codebook of ``n_levels`` gray levels, colors or pixel blocks.

    Parameters
    ----------
    image : array_like, Histogram or VectorHistogram
        The data: an image, or a histogram (the sum of several images'
        histograms gives a codebook shared by all of them).
    n_levels : int in [2, 65536]
        Number of codes.
    mode : {'gray', 'color', 'block', 'auto'}
        'gray' (default): one value per pixel, any shape and dtype (see
        :func:`vqimage.solvers.scalar.fit_scalar`). 'color': one RGB/RGBA
        color per pixel of an 8-bit (..., 3 | 4) image. 'block': one
        ``block=(rows, cols)`` tile of an 8-bit gray image. 'auto': the rule
        of :func:`vqimage.quantize` -- 'color' for (H, W, 3 | 4) images whose
        channels differ, else 'gray' (an RGB image of equal channels is
        fitted as its gray image).
    strategy : str, optional
        Gray: 'optimal' (default), 'kmeans', 'quantile', 'uniform'.
        Color and block: 'kmeans' (default) or 'wu' (see
        :mod:`vqimage.solvers.vector`).
    **options
        Gray: ``reconstruction, weights, data_range, bins, quantile_method,
        max_iter``. Color and block: ``block, weights, fixed`` (colors that
        must stay, shape (n, d)), ``init`` ('split-merge' or 'k-means++'),
        ``max_iter, tol, random_state``.

    Returns
    -------
    Codebook

    Examples
    --------
    >>> import numpy as np, vqimage
    >>> image = np.array([0, 1, 2, 10, 11, 12, 40], dtype=np.uint8)
    >>> vqimage.fit(image, 3).levels
    array([ 1., 11., 40.])
    >>> rgb = np.array([[[250, 0, 0], [255, 0, 0], [0, 0, 250], [0, 0, 255]]], dtype=np.uint8)
    >>> vqimage.fit(rgb, 2, mode="color").levels
    array([[  0.,   0., 252.],
           [252.,   0.,   0.]])
    """
    resolved = fit_mode(image, mode)
    if mode == "auto" and not isinstance(image, Histogram | VectorHistogram):
        image = as_mode_image(image, resolved)
    if resolved == "gray":
        if isinstance(image, VectorHistogram):
            raise ValueError("A VectorHistogram fits color or block codebooks; pass mode='color' or 'block'.")
        return fit_scalar(image, n_levels, strategy=default_strategy(resolved) if strategy is None else strategy,
                          **options)
    if isinstance(image, Histogram):
        raise ValueError(f"A gray Histogram cannot fit a {resolved} codebook; pass the image or a VectorHistogram.")
    if strategy in STRATEGIES and strategy not in VECTOR_STRATEGIES:
        raise ValueError(
            f"The 'strategy' parameter of fit with mode={resolved!r} must be one of {', '.join(VECTOR_STRATEGIES)}. "
            f"Got {strategy!r} instead ('{strategy}' exists for gray levels only"
            + ("; an exact optimum of vector quantization is NP-hard" if strategy == "optimal" else "") + ")."
        )
    return fit_vectors(image, n_levels, mode=resolved, strategy=default_strategy(resolved) if strategy is None
                       else strategy, **options)
