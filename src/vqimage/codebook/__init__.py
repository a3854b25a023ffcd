"""Stage 2: codebooks fitted on histograms.

``scalar`` holds the gray-level solvers (uniform, quantile, kmeans, optimal);
``vector`` the color and pixel-block ones (kmeans, wu).
"""

from __future__ import annotations

import numpy as np

from .._validation import Options, check_param
from ..histogram import Histogram
from ._codebook import MODES, RECONSTRUCTIONS, STRATEGIES, Codebook, code_dtype
from .scalar import QUANTILE_METHODS, FitWarning, from_edges
from .scalar import fit as fit_scalar
from .vector import VECTOR_STRATEGIES, VectorHistogram, fit_vectors, vector_histogram

__all__ = [
    "MODES",
    "QUANTILE_METHODS",
    "RECONSTRUCTIONS",
    "STRATEGIES",
    "VECTOR_STRATEGIES",
    "Codebook",
    "FitWarning",
    "VectorHistogram",
    "code_dtype",
    "fit",
    "from_edges",
    "resolve_mode",
    "vector_histogram",
]


def resolve_mode(image, mode: str, *, caller: str = "fit") -> str:
    """'auto' -> 'color' for (H, W, 3 | 4) arrays and vector histograms, else 'gray'."""
    check_param("mode", mode, Options(("auto", *MODES)), caller=caller)
    if mode != "auto":
        return mode
    if isinstance(image, VectorHistogram):
        return image.mode
    if isinstance(image, Histogram):
        return "gray"
    shape = np.shape(image)
    return "color" if len(shape) == 3 and shape[-1] in (3, 4) else "gray"


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
        :func:`vqimage.codebook.scalar.fit`). 'color': one RGB/RGBA color
        per pixel of an 8-bit (..., 3 | 4) image. 'block': one
        ``block=(rows, cols)`` tile of an 8-bit gray image. 'auto': 'color'
        for (H, W, 3 | 4) images, else 'gray'.
    strategy : str, optional
        Gray: 'optimal' (default), 'kmeans', 'quantile', 'uniform'.
        Color and block: 'kmeans' (default) or 'wu' (see
        :mod:`vqimage.codebook.vector`).
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
    mode = resolve_mode(image, mode)
    if mode == "gray":
        if isinstance(image, VectorHistogram):
            raise ValueError("A VectorHistogram fits color or block codebooks; pass mode='color' or 'block'.")
        return fit_scalar(image, n_levels, strategy="optimal" if strategy is None else strategy, **options)
    if isinstance(image, Histogram):
        raise ValueError(f"A gray Histogram cannot fit a {mode} codebook; pass the image or a VectorHistogram.")
    if strategy in STRATEGIES and strategy not in VECTOR_STRATEGIES:
        raise ValueError(
            f"The 'strategy' parameter of fit with mode={mode!r} must be one of {', '.join(VECTOR_STRATEGIES)}. "
            f"Got {strategy!r} instead ('{strategy}' exists for gray levels only"
            + ("; an exact optimum of vector quantization is NP-hard" if strategy == "optimal" else "") + ")."
        )
    return fit_vectors(image, n_levels, mode=mode, strategy="kmeans" if strategy is None else strategy, **options)
