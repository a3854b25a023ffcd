"""Stage 1: sufficient statistics of an image, counts (weights) per value or vector.

An 8-bit image has at most 256 distinct values and a 16-bit one 65,536,
however many pixels it has, so every scalar codebook is fitted on (value,
count) pairs (:class:`Histogram`). Colors and pixel blocks are counted the
same way, distinct vector by distinct vector, grouped by color cell
(:class:`VectorHistogram`). Histograms of tiles, frames or whole collections
add up with ``+`` and are fitted once: that is how a codebook is shared.

Resolution (gray)
-----------------
Integer images are counted exactly. Float images are, by default, counted
exactly on their sorted unique values. With ``bins=N`` they are binned into
``N`` equal-width bins over ``data_range`` (default: the data's own min and
max); each bin keeps the exact count and the exact mean of the values that
fall in it, so centroids stay exact and only the positions where a codebook
can split are rounded to the bin grid (width ``(high - low) / N``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._cells import cell_bits
from ._validation import Interval, Options, check_image, check_param, check_range, check_weights
from ._vectors import check_block, check_vector_image, image_blocks

__all__ = ["Histogram", "VectorHistogram", "histogram", "vector_histogram", "importance_map"]

# Integers beyond 2**53 are not exactly representable as float64.
_EXACT_INT_LIMIT = 2**53
# Above this value span an integer image is counted with np.unique (a sort)
# rather than a dense bincount table.
_DENSE_SPAN_LIMIT = 1 << 22


@dataclass(frozen=True, eq=False)
class Histogram:
    """Weighted histogram of scalar values: what every scalar codebook is fitted on.

    Attributes
    ----------
    values : ndarray of float64, shape (n,)
        Strictly increasing. The exact distinct values, or for a binned float
        histogram the mean of the values in each occupied bin.
    counts : ndarray of float64, shape (n,)
        Total weight (pixel count, or sum of sample weights) of each value, > 0.
    dtype : numpy.dtype
        The dtype of the image(s) it was made from.
    low, high : float
        The smallest and largest value counted (with non-zero weight).
    bins : tuple (low, high, n_bins) or None
        The bin grid of a binned float histogram; None when values are exact.
    bin_index : ndarray of int64 or None
        For binned histograms, the grid index of each entry.

    Notes
    -----
    Merge histograms with ``+`` (or ``sum``): counts of equal values add. Both
    must be exact, or both binned on the same grid (pass the same explicit
    ``data_range`` and ``bins`` to :func:`histogram`).

    Examples
    --------
    >>> import numpy as np
    >>> h = histogram(np.array([[0, 0, 3], [3, 3, 7]], dtype=np.uint8))
    >>> h.values, h.counts
    (array([0., 3., 7.]), array([2., 3., 1.]))
    >>> (h + h).counts
    array([4., 6., 2.])
    """

    values: np.ndarray
    counts: np.ndarray
    dtype: np.dtype
    low: float
    high: float
    bins: tuple | None = None
    bin_index: np.ndarray | None = None

    mode = "gray"

    @property
    def n_values(self) -> int:
        """Number of distinct values (occupied bins)."""
        return int(self.values.size)

    @property
    def total(self) -> float:
        """Total weight: the number of pixels when unweighted."""
        return float(self.counts.sum())

    def mean(self) -> float:
        """Weighted mean of the values."""
        return float(np.dot(self.values, self.counts) / self.total)

    def __add__(self, other: Histogram) -> Histogram:
        if isinstance(other, int) and other == 0:  # lets sum([h1, h2, ...]) start from 0
            return self
        if not isinstance(other, Histogram):
            return NotImplemented
        if (self.bins is None) != (other.bins is None) or (
            self.bins is not None and self.bins != other.bins
        ):
            raise ValueError(
                "Cannot add histograms with different binning "
                f"({self.bins} and {other.bins}); make both with the same "
                "'bins' and an explicit 'data_range'."
            )
        dtype = np.promote_types(self.dtype, other.dtype)
        if self.bins is None:
            keys = np.concatenate([self.values, other.values])
            values, inverse = np.unique(keys, return_inverse=True)
            counts = np.bincount(inverse, np.concatenate([self.counts, other.counts]))
            return Histogram(values, counts, dtype, min(self.low, other.low), max(self.high, other.high))
        keys = np.concatenate([self.bin_index, other.bin_index])
        index, inverse = np.unique(keys, return_inverse=True)
        weights = np.concatenate([self.counts, other.counts])
        sums = np.bincount(inverse, weights * np.concatenate([self.values, other.values]))
        counts = np.bincount(inverse, weights)
        return Histogram(
            sums / counts, counts, dtype, min(self.low, other.low), max(self.high, other.high),
            self.bins, index,
        )

    __radd__ = __add__

    def __repr__(self) -> str:
        grid = "exact" if self.bins is None else f"bins={self.bins[2]} over [{self.bins[0]:g}, {self.bins[1]:g}]"
        return (
            f"Histogram(n_values={self.n_values}, total={self.total:g}, dtype={self.dtype}, "
            f"range=[{self.low:g}, {self.high:g}], {grid})"
        )


def histogram(image, *, weights=None, bins=None, data_range=None) -> Histogram:
    """Count the values of an image (any shape) into a :class:`Histogram`.

    Parameters
    ----------
    image : array_like of int or float
        Any shape. Must be finite.
    weights : array_like, optional
        Per-pixel non-negative weights of the image's shape. Zero-weight
        pixels are left out.
    bins : int, optional
        Float images only: bin into this many equal-width bins over
        ``data_range`` instead of counting exact unique values. See the
        module notes for the resolution this gives.
    data_range : (float, float), optional
        With ``bins``: the grid's ``(low, high)``. Values outside are counted
        in the first or last bin. Default: the data's min and max.

    Returns
    -------
    Histogram

    Examples
    --------
    >>> import numpy as np
    >>> histogram(np.array([0.5, 0.25, 0.5])).values
    array([0.25, 0.5 ])
    >>> h = histogram(np.linspace(0, 1, 1001), bins=4, data_range=(0, 1))
    >>> h.counts
    array([250., 250., 250., 251.])
    """
    return _histogram(image, weights=weights, bins=bins, data_range=data_range, caller="histogram")


def _histogram(image, *, weights, bins, data_range, caller) -> Histogram:
    """:func:`histogram`, with errors naming the public function that was called."""
    image = check_image(image, caller=caller)
    w = check_weights(weights, image.shape, caller=caller)
    check_param("bins", bins, None, Interval(int, 1, 1 << 26), caller=caller)
    if data_range is not None:
        data_range = check_range(data_range, caller=caller)
    if bins is not None and image.dtype.kind != "f":
        raise ValueError(
            f"The 'bins' parameter of {caller} applies to float images only; "
            f"{image.dtype} images are always counted exactly. Got bins={bins!r}."
        )
    flat = image.reshape(-1)
    if w is not None:
        keep = w.reshape(-1) > 0
        flat, w = flat[keep], w.reshape(-1)[keep]
    if bins is not None:
        return _binned(flat, w, image.dtype, bins, data_range)
    if image.dtype.kind in "ui":
        values, counts = _count_ints(flat, w)
    else:
        values, inverse = np.unique(flat, return_inverse=True)
        counts = np.bincount(inverse.reshape(-1), w, minlength=values.size)
    values = values.astype(np.float64)
    counts = counts.astype(np.float64)
    keep = counts > 0
    values, counts = values[keep], counts[keep]
    return Histogram(values, counts, image.dtype, float(values[0]), float(values[-1]))


def _count_ints(flat, w):
    if flat.dtype.itemsize <= 2:
        # uint8/int8/uint16/int16: a dense table over the dtype's range, read
        # through the unsigned view (int8 -> its two's-complement byte).
        udtype = np.dtype(f"u{flat.dtype.itemsize}")
        nbins = 1 << (8 * flat.dtype.itemsize)
        u = flat.view(udtype)
        if w is None:
            from ._histogram_kernels import count_values

            counts = count_values(u, nbins)
        else:
            counts = np.bincount(u, w, minlength=nbins)
        values = np.arange(nbins, dtype=np.int64)
        if flat.dtype.kind == "i":  # unsigned view order -> signed order
            values = values.astype(udtype).view(flat.dtype).astype(np.int64)
            order = np.argsort(values, kind="stable")
            values, counts = values[order], counts[order]
        return values, counts
    low, high = int(flat.min()), int(flat.max())
    if max(abs(low), abs(high)) > _EXACT_INT_LIMIT:
        raise ValueError(
            f"Integer values beyond +-2**53 cannot be quantized exactly (float64 levels); "
            f"got values in [{low}, {high}]."
        )
    if high - low < _DENSE_SPAN_LIMIT:
        counts = np.bincount((flat - low).astype(np.intp), w, minlength=high - low + 1)
        return np.arange(low, high + 1, dtype=np.int64), counts
    values, inverse = np.unique(flat, return_inverse=True)
    return values, np.bincount(inverse.reshape(-1), w, minlength=values.size)


def _binned(flat, w, dtype, n_bins, data_range):
    x = flat.astype(np.float64, copy=False)
    low, high = data_range if data_range is not None else (float(x.min()), float(x.max()))
    if high <= low:  # a constant image: one bin
        high = low + 1.0
    index = np.floor((x - low) * (n_bins / (high - low))).astype(np.int64)
    np.clip(index, 0, n_bins - 1, out=index)
    counts = np.bincount(index, w, minlength=n_bins)
    sums = np.bincount(index, x if w is None else w * x, minlength=n_bins)
    occupied = np.flatnonzero(counts > 0)
    counts, sums = counts[occupied].astype(np.float64), sums[occupied]
    return Histogram(
        sums / counts, counts, dtype, float(x.min()), float(x.max()),
        (float(low), float(high), int(n_bins)), occupied,
    )


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
    >>> from vqimage.histogram import vector_histogram
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
    from ._histogram_kernels import unique_cells

    d = vectors.shape[1]
    bits = cell_bits(d)
    vectors = np.ascontiguousarray(vectors)
    weights = None if weights is None else np.ascontiguousarray(weights, dtype=np.float64)  # None: 1 each
    if d <= 4:  # packed into 32-bit keys
        uniques, counts, cell_start, cell_ids, _ = unique_cells(vectors, weights, bits)
    else:  # big blocks: sort the rows, then group them by cell
        rows, inverse = np.unique(vectors.view(np.dtype((np.void, d))), return_inverse=True)
        uniques = rows.view(np.uint8).reshape(-1, d)
        counts = np.bincount(inverse.reshape(-1), weights, minlength=uniques.shape[0]).astype(np.float64)
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
        w = None  # 1 each
    else:
        if block is not None:
            raise ValueError(f"The 'block' parameter of {caller} applies to mode='block' only.")
        vectors = image.reshape(-1, image.shape[-1])
        w = None if weights is None else _pixel_weights(weights, image.shape[:-1], caller)
        if vectors.shape[1] == 4:
            clear = vectors[:, 3] == 0
            if clear.any():
                transparent = float(clear.sum() if w is None else w[clear].sum())
                vectors, w = vectors[~clear], (None if w is None else w[~clear])
    return VectorHistogram(*_from_vectors(vectors, w, mode, block), transparent=transparent)


def _pixel_weights(weights, shape, caller):
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != tuple(shape):
        raise ValueError(f"The 'weights' parameter of {caller} must have shape {tuple(shape)}. Got {w.shape}.")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"The 'weights' parameter of {caller} must be finite and non-negative.")
    return w.reshape(-1)


def importance_map(image, *, floor: float = 0.3, contrast: float = 24.0) -> np.ndarray:
    """Per-pixel weights for a fit: 1 in flat areas, where banding shows, down to ``floor`` in texture.

    Errors hide in noisy texture and at edges and show in flat areas and
    smooth gradients, so a palette does better spending its entries on the
    latter. This is libimagequant's "contrast map" idea: for every pixel the
    second differences along rows and columns (the largest over the
    channels) measure how busy it is; differences in both directions
    (noise, texture) count fully, in one direction (a clean edge) half.
    ``z = min(busy / contrast, 1)`` gives the weight ``floor + (1 - floor)
    * (1 - z)**4``, which is then closed and smoothed over 3 to 7 pixels
    (maximum, mean, minimum filters) so that thin lines inside flat areas
    keep the area's weight.

    Pass it as ``weights=`` to :func:`vqimage.fit`, or use
    ``vqimage.quantize(..., importance="auto")``. Measured with the judges
    of benchmark part 10 against the unweighted default (21 cases): the
    same 11 wins against pngquant 3, butteraugli better on chelsea at 64
    colors (5.79 to 4.80) and on coffee at 16 (14.5 to 8.6), SSIMULACRA2
    0.5 lower on average, worse on the busy rocket at 16. So it is offered,
    not the default.

    Parameters
    ----------
    image : ndarray of uint8 or uint16, (H, W) or (H, W, C)
    floor : float in [0, 1]
        The weight of the busiest pixels.
    contrast : float > 0
        Second difference (in 8-bit steps; scaled for 16-bit images) at and
        above which a pixel counts as fully busy.

    Returns
    -------
    ndarray of float64, (H, W)
        Weights in [floor, 1].

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((32, 32), np.uint8)
    >>> image[:, 16:] = np.random.default_rng(0).integers(0, 256, (32, 16))   # noise on the right
    >>> w = importance_map(image)
    >>> float(w[:, :8].min()), bool(w[:, 24:].max() < 0.5)
    (1.0, True)
    """
    from scipy import ndimage

    caller = "importance_map"
    image = check_image(image, caller=caller)
    if image.dtype not in (np.uint8, np.uint16) or image.ndim not in (2, 3):
        raise ValueError(f"The 'image' parameter of {caller} must be an 8- or 16-bit image of shape (H, W) or "
                         f"(H, W, C). Got {image.dtype} of shape {image.shape}.")
    check_param("floor", floor, Interval(float, 0.0, 1.0), caller=caller)
    check_param("contrast", contrast, Interval(float, 1e-9, None), caller=caller)
    x = image.astype(np.float32) * (255.0 / float(np.iinfo(image.dtype).max))
    if x.ndim == 2:
        x = x[:, :, None]
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="edge")
    along_rows = np.abs(padded[1:-1, :-2] + padded[1:-1, 2:] - 2.0 * x).max(axis=-1)
    along_columns = np.abs(padded[:-2, 1:-1] + padded[2:, 1:-1] - 2.0 * x).max(axis=-1)
    busy = np.maximum(np.maximum(along_rows, along_columns) - 0.5 * np.abs(along_rows - along_columns),
                      np.minimum(along_rows, along_columns))
    z = np.clip(busy / contrast, 0.0, 1.0)
    weight = floor + (1.0 - floor) * (1.0 - z) ** 4
    weight = ndimage.minimum_filter(ndimage.uniform_filter(ndimage.maximum_filter(weight, 3), 7), 3)
    return np.clip(weight.astype(np.float64), floor, 1.0)
