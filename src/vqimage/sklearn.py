"""KBinsQuantizer: scikit-learn's ``KBinsDiscretizer`` on vqimage's histogram fitting.

A drop-in for :class:`sklearn.preprocessing.KBinsDiscretizer`: same
parameters, attributes and methods, and the same edges and codes for
'uniform' and 'quantile' (with ``reconstruction="midpoint"`` the same
``inverse_transform`` too). Each feature is fitted as one vqimage
:class:`~vqimage.Codebook` on its weighted histogram, so every row is cheap.

Deliberate differences from ``KBinsDiscretizer``
------------------------------------------------
- ``transform`` returns integer codes (uint8 up to 256 bins, uint16 above)
  with ``encode="ordinal"`` and ``dtype=None``, and uint8 one-hot data with
  ``encode="onehot"``/``"onehot-dense"``; scikit-learn returns float64 (8x the
  memory). Pass ``dtype=np.float64`` (or ``np.float32``) for its floats.
- ``inverse_transform`` maps each code to its bin's mean
  (``reconstruction="centroid"``, the MSE-optimal level);
  ``reconstruction="midpoint"`` gives scikit-learn's bin centres.
- ``strategy="optimal"`` (the exact MSE-optimal bins) is added; 'kmeans' is
  Lloyd's algorithm on the histogram, run until the partition stops changing,
  so its edges agree with scikit-learn's ``KMeans`` (which stops at ``tol``)
  only closely, not exactly.
- ``subsample`` defaults to None (every row): fitting on histograms makes rows
  cheap. With an int, rows are resampled exactly as scikit-learn does.
- ``bin_edges_`` is a list of read-only float64 arrays, not an object array;
  ``codebooks_`` holds the fitted codebooks.
- A constant feature gets the edges ``[c, c]`` and decodes to ``c``
  (scikit-learn: ``[-inf, inf]`` and NaN).
- 'quantile', 'kmeans' and 'optimal' give a feature with fewer distinct values
  than ``n_bins`` one bin per value (lossless), and 'quantile' removes bins
  that ties leave empty; both with a :class:`vqimage.FitWarning`, where
  scikit-learn removes bins narrower than 1e-8.
- Invalid parameters raise ValueError or TypeError (scikit-learn's
  ``InvalidParameterError`` is both); ``inverse_transform`` refuses codes out
  of range instead of wrapping them around.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp

from ._optional import require

require("sklearn", "vqimage.sklearn (the KBinsQuantizer drop-in)")

from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402
from sklearn.utils import check_array, resample  # noqa: E402
from sklearn.utils.validation import check_is_fitted, validate_data  # noqa: E402

from ._validation import Interval, Options, check_param  # noqa: E402
from .codebook import code_dtype  # noqa: E402
from .histogram import histogram  # noqa: E402
from .mapping import encode  # noqa: E402
from .solvers import QUANTILE_METHODS, RECONSTRUCTIONS, STRATEGIES, fit, from_edges  # noqa: E402

__all__ = ["KBinsQuantizer"]

ENCODES = ("onehot", "onehot-dense", "ordinal")
#: Every method scikit-learn accepts; those outside QUANTILE_METHODS go through np.percentile.
PERCENTILE_METHODS = (
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "linear",
    "median_unbiased",
    "normal_unbiased",
)
_MAX_BINS = 65536


class _Where:
    """A constraint given by a predicate and its description (for ``check_param``)."""

    def __init__(self, text, predicate):
        self.text, self.accepts = text, predicate

    def __str__(self) -> str:
        return self.text


_ARRAY_LIKE = _Where(
    "an array-like of ints", lambda v: not isinstance(v, str | bytes) and hasattr(v, "__len__")
)
_PARAMETERS = {
    "n_bins": (Interval(int, 2, _MAX_BINS), _ARRAY_LIKE),
    "encode": (Options(ENCODES),),
    "strategy": (Options(STRATEGIES),),
    "quantile_method": (Options(PERCENTILE_METHODS),),
    "dtype": (_Where("np.float32 or np.float64", lambda v: v is np.float32 or v is np.float64), None),
    "subsample": (Interval(int, 1, None), None),
    "random_state": (
        Interval(int, 0, 2**32 - 1),
        _Where("a numpy RandomState", lambda v: isinstance(v, np.random.RandomState)),
        None,
    ),
    "reconstruction": (Options(RECONSTRUCTIONS),),
}


class KBinsQuantizer(TransformerMixin, BaseEstimator):
    """Bin continuous data into intervals, with vqimage's codebooks.

    A drop-in for :class:`sklearn.preprocessing.KBinsDiscretizer`; see the
    module notes for the deliberate differences (integer codes, centroid
    reconstruction, ``strategy="optimal"``, ``subsample=None``).

    Parameters
    ----------
    n_bins : int or array-like of shape (n_features,), default=5
        Number of bins per feature, each in [2, 65536].
    encode : {'onehot', 'onehot-dense', 'ordinal'}, default='onehot'
        'onehot': a sparse CSR one-hot matrix; 'onehot-dense': the same as a
        dense array; 'ordinal': the bin index of each value.
    strategy : {'uniform', 'quantile', 'kmeans', 'optimal'}, default='quantile'
        'uniform': equal widths; 'quantile': equal counts; 'kmeans': Lloyd's
        algorithm from the uniform bin centres (a local optimum); 'optimal':
        the bins of least squared error (the global optimum).
    quantile_method : str, default='averaged_inverted_cdf'
        'quantile' only: any ``numpy.percentile`` method scikit-learn accepts.
        Only 'averaged_inverted_cdf' and 'inverted_cdf' support sample
        weights (unless subsampling is active, as in scikit-learn).
    dtype : {np.float32, np.float64}, default=None
        Output dtype of ``transform`` and ``inverse_transform``. None: integer
        codes (uint8, or uint16 above 256 bins), uint8 one-hot data and
        float64 reconstructions.
    subsample : int or None, default=None
        Fit on at most this many rows, drawn with replacement like
        scikit-learn (``sklearn.utils.resample``, weighted by
        ``sample_weight``). None: every row.
    random_state : int, RandomState instance or None, default=None
        Seed of the subsampling.
    reconstruction : {'centroid', 'midpoint', 'median'}, default='centroid'
        Value ``inverse_transform`` gives each bin: its mean (MSE-optimal),
        the centre of its edges (scikit-learn's) or its median.

    Attributes
    ----------
    codebooks_ : list of vqimage.Codebook
        The fitted codebook of each feature.
    bin_edges_ : list of ndarray of float64
        The edges of each feature's bins, shape ``(n_bins_[j] + 1,)``
        (read-only: ``codebooks_[j].edges``).
    n_bins_ : ndarray of int64, shape (n_features,)
        Number of bins of each feature (fewer than asked when ties leave bins
        empty, 1 for a constant feature).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Feature names seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.preprocessing.KBinsDiscretizer : the estimator this replaces.
    vqimage.fit : fit one codebook to a whole image.

    Examples
    --------
    >>> import numpy as np
    >>> from vqimage.sklearn import KBinsQuantizer
    >>> X = [[-2, 1, -4,   -1],
    ...      [-1, 2, -3, -0.5],
    ...      [ 0, 3, -2,  0.5],
    ...      [ 1, 4, -1,    2]]
    >>> est = KBinsQuantizer(n_bins=3, encode="ordinal", strategy="uniform").fit(X)
    >>> Xt = est.transform(X)
    >>> Xt
    array([[0, 0, 0, 0],
           [1, 1, 1, 0],
           [2, 2, 2, 1],
           [2, 2, 2, 2]], dtype=uint8)
    >>> est.bin_edges_[0]
    array([-2., -1.,  0.,  1.])
    >>> est.inverse_transform(Xt)           # each bin's mean
    array([[-2.  ,  1.  , -4.  , -0.75],
           [-1.  ,  2.  , -3.  , -0.75],
           [ 0.5 ,  3.5 , -1.5 ,  0.5 ],
           [ 0.5 ,  3.5 , -1.5 ,  2.  ]])
    >>> est.set_params(reconstruction="midpoint").fit(X).inverse_transform(Xt)  # sklearn's
    array([[-1.5,  1.5, -3.5, -0.5],
           [-0.5,  2.5, -2.5, -0.5],
           [ 0.5,  3.5, -1.5,  0.5],
           [ 0.5,  3.5, -1.5,  1.5]])

    The Vector Quantization Example's image, in 8 optimal gray levels whose
    codes take one byte per pixel:

    >>> import vqimage
    >>> image = vqimage.load_image("camera")
    >>> est = KBinsQuantizer(n_bins=8, encode="ordinal", strategy="optimal")
    >>> codes = est.fit_transform(image.reshape(-1, 1))
    >>> codes.dtype, codes.nbytes == image.nbytes
    (dtype('uint8'), True)
    """

    def __init__(
        self,
        n_bins=5,
        *,
        encode="onehot",
        strategy="quantile",
        quantile_method="averaged_inverted_cdf",
        dtype=None,
        subsample=None,
        random_state=None,
        reconstruction="centroid",
    ):
        self.n_bins = n_bins
        self.encode = encode
        self.strategy = strategy
        self.quantile_method = quantile_method
        self.dtype = dtype
        self.subsample = subsample
        self.random_state = random_state
        self.reconstruction = reconstruction

    def fit(self, X, y=None, sample_weight=None):
        """Fit one codebook per feature.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to be discretized.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of each row.

        Returns
        -------
        self : KBinsQuantizer
        """
        self._validate_params()
        X = _numeric(validate_data(self, X, dtype="numeric"))
        n_samples, n_features = X.shape
        sample_weight = _check_sample_weight(sample_weight, n_samples)
        if self.subsample is not None and n_samples > self.subsample:
            # Exactly scikit-learn's draw: same rows for the same random_state.
            X = resample(
                X,
                replace=True,
                n_samples=self.subsample,
                random_state=self.random_state,
                sample_weight=sample_weight,
            )
            sample_weight = None  # already used by the draw
        n_bins = self._n_bins(n_features)
        percentile = self.strategy == "quantile" and self.quantile_method not in QUANTILE_METHODS
        if percentile and sample_weight is not None:
            raise ValueError(
                "When fitting with strategy='quantile' and sample weights, quantile_method "
                "should either be set to 'averaged_inverted_cdf' or 'inverted_cdf', got "
                f"quantile_method={self.quantile_method!r} instead."
            )
        codebooks = []
        for j in range(n_features):
            codebooks.append(self._fit_feature(X[:, j], sample_weight, int(n_bins[j]), j, percentile))
        self.codebooks_ = codebooks
        self.bin_edges_ = [codebook.edges for codebook in self.codebooks_]
        self.n_bins_ = np.array([codebook.n_levels for codebook in self.codebooks_], dtype=np.int64)
        return self

    def _fit_feature(self, column, weights, k, j, percentile):
        hist = histogram(column, weights=weights)
        rule = self.reconstruction
        if hist.n_values == 1:
            warnings.warn(f"Feature {j} is constant and will be replaced with 0.", UserWarning, stacklevel=3)
            return from_edges(hist, [hist.low, hist.high], reconstruction=rule)
        if self.strategy == "uniform" and hist.n_values < k:
            # Keep equal widths: vqimage.fit would give each value its own level.
            return from_edges(hist, np.linspace(hist.low, hist.high, k + 1), reconstruction=rule)
        if percentile:
            edges = np.percentile(column, np.linspace(0, 100, k + 1), method=self.quantile_method)
            # Like scikit-learn: drop bins narrower than 1e-8.
            edges = edges[np.ediff1d(edges, to_begin=np.inf) > 1e-8]
            if edges.size - 1 != k:
                warnings.warn(
                    f"Bins whose width are too small (i.e., <= 1e-8) in feature {j} are removed. "
                    "Consider decreasing the number of bins.",
                    UserWarning,
                    stacklevel=3,
                )
            return from_edges(hist, edges, reconstruction=rule)
        method = self.quantile_method if self.strategy == "quantile" else "averaged_inverted_cdf"
        return fit(hist, k, strategy=self.strategy, reconstruction=rule, quantile_method=method)

    def transform(self, X):
        """Bin the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Xt : ndarray or scipy.sparse.csr_matrix
            'ordinal': the codes, shape (n_samples, n_features), uint8/uint16
            (or ``dtype``). 'onehot' / 'onehot-dense': shape (n_samples,
            sum(n_bins_)), uint8 (or ``dtype``), columns ordered by feature,
            then by bin.
        """
        check_is_fitted(self)
        X = _numeric(validate_data(self, X, dtype="numeric", reset=False))
        codes = np.empty(X.shape, dtype=code_dtype(int(self.n_bins_.max())))
        for j, codebook in enumerate(self.codebooks_):
            codes[:, j] = encode(X[:, j], codebook)
        if self.encode == "ordinal":
            return codes if self.dtype is None else codes.astype(self.dtype)
        n_samples, n_features = codes.shape
        offsets = np.concatenate([[0], np.cumsum(self.n_bins_)[:-1]])
        onehot = sp.csr_matrix(
            (
                np.ones(codes.size, dtype=self.dtype or np.uint8),
                (codes + offsets).reshape(-1),
                np.arange(0, codes.size + 1, n_features),
            ),
            shape=(n_samples, int(self.n_bins_.sum())),
        )
        return onehot if self.encode == "onehot" else onehot.toarray()

    def inverse_transform(self, X):
        """Map codes back to values: code ``i`` of feature ``j`` -> ``codebooks_[j].levels[i]``.

        Parameters
        ----------
        X : array-like or sparse matrix
            Codes as ``transform`` returns them: shape (n_samples,
            n_features) for 'ordinal' (ints, or floats holding ints), or
            (n_samples, sum(n_bins_)) one-hot data.

        Returns
        -------
        X_original : ndarray of float64 (or ``dtype``), shape (n_samples, n_features)
        """
        check_is_fitted(self)
        codes = self._onehot_codes(X) if self.encode != "ordinal" else self._ordinal_codes(X)
        out = np.empty(codes.shape, dtype=self.dtype or np.float64)
        for j, codebook in enumerate(self.codebooks_):
            out[:, j] = codebook.levels[codes[:, j]]
        return out

    def _ordinal_codes(self, X):
        X = check_array(X, dtype="numeric")
        if X.shape[1] != self.n_bins_.size:
            raise ValueError(
                f"Incorrect number of features. Expecting {self.n_bins_.size}, received {X.shape[1]}."
            )
        bad = (X != np.floor(X)) | (X < 0) | (X >= self.n_bins_)
        if bad.any():
            rows, cols = np.nonzero(bad)
            raise ValueError(
                f"X holds {rows.size} invalid code(s), e.g. {X[rows[0], cols[0]].item()!r} for feature "
                f"{cols[0]}; codes of feature j must be ints in [0, n_bins_[j] - 1]."
            )
        return X.astype(np.intp)

    def _onehot_codes(self, X):
        X = check_array(X, accept_sparse="csr", dtype="numeric")
        width = int(self.n_bins_.sum())
        if X.shape[1] != width:
            raise ValueError(
                f"Shape of the passed X data is not correct. Expected {width} columns, got {X.shape[1]}."
            )
        codes = np.empty((X.shape[0], self.n_bins_.size), dtype=np.intp)
        start = 0
        for j, k in enumerate(self.n_bins_):
            block = X[:, start : start + k]
            codes[:, j] = np.asarray(block.argmax(axis=1)).reshape(-1)
            empty = np.flatnonzero(np.asarray(block.sum(axis=1)).reshape(-1) == 0)
            if empty.size:
                raise ValueError(
                    f"Samples {empty} can not be inverted because they contain all zeros "
                    f"in the one-hot columns of feature {j}."
                )
            start += k
        return codes

    def get_feature_names_out(self, input_features=None):
        """Output feature names, as ``KBinsDiscretizer`` gives them.

        Parameters
        ----------
        input_features : array-like of str, optional
            Input feature names; default ``feature_names_in_``, or
            ``["x0", "x1", ...]``.

        Returns
        -------
        ndarray of str objects
            'ordinal': the input names; one-hot: ``f"{name}_{i}.0"`` for bin
            ``i`` of each feature (``OneHotEncoder``'s names for the float
            categories ``KBinsDiscretizer`` uses).
        """
        check_is_fitted(self, "n_features_in_")
        names = self._input_names(input_features)
        if self.encode == "ordinal":
            return names
        pairs = zip(names, self.n_bins_, strict=True)
        return np.asarray([f"{name}_{float(i)}" for name, k in pairs for i in range(k)], dtype=object)

    def _input_names(self, input_features):
        known = getattr(self, "feature_names_in_", None)
        if input_features is None:
            if known is not None:
                return known
            return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
        input_features = np.asarray(input_features, dtype=object)
        if known is not None and not np.array_equal(known, input_features):
            raise ValueError("input_features is not equal to feature_names_in_")
        if len(input_features) != self.n_features_in_:
            raise ValueError(
                "input_features should have length equal to number of features "
                f"({self.n_features_in_}), got {len(input_features)}"
            )
        return input_features

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Codes are integers (or the dtype asked), whatever the input's float dtype.
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _validate_params(self):
        for name, constraints in _PARAMETERS.items():
            check_param(name, getattr(self, name), *constraints, caller=type(self).__name__)

    def _n_bins(self, n_features):
        if isinstance(self.n_bins, numbers.Integral):
            return np.full(n_features, self.n_bins, dtype=np.int64)
        n_bins = np.asarray(self.n_bins)
        if n_bins.shape != (n_features,):
            raise ValueError(
                f"n_bins must be a scalar or array of shape (n_features,). Got shape {n_bins.shape} "
                f"for {n_features} features."
            )
        if n_bins.dtype.kind not in "uif":
            raise TypeError(f"n_bins must hold ints. Got {self.n_bins!r} instead.")
        bad = np.flatnonzero((n_bins != np.floor(n_bins)) | (n_bins < 2) | (n_bins > _MAX_BINS))
        if bad.size:
            raise ValueError(
                f"{type(self).__name__} received an invalid number of bins at indices "
                f"{', '.join(map(str, bad))}. Number of bins must be an int in [2, {_MAX_BINS}]."
            )
        return n_bins.astype(np.int64)


def _numeric(X):
    """Booleans (which vqimage refuses) become float64; ints and floats stay as they are."""
    return X if X.dtype.kind in "uif" else X.astype(np.float64)


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 0:
        w = np.full(n_samples, float(w))
    if w.shape != (n_samples,):
        raise ValueError(f"sample_weight.shape == {w.shape}, expected {(n_samples,)}!")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite and non-negative.")
    if not w.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return w
