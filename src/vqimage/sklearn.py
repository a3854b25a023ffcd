"""KBinsQuantizer: scikit-learn's ``KBinsDiscretizer`` on vqimage's codebooks.

A drop-in for :class:`sklearn.preprocessing.KBinsDiscretizer`: every
parameter, attribute and method, and every value scikit-learn accepts means
what it means there. Only some defaults differ (integer codes, centroid
reconstruction, kmeans run to convergence, no subsampling), each with the
setting that restores scikit-learn's behaviour: see the Notes of
:class:`KBinsQuantizer`. scikit-learn's own test module
(``sklearn/preprocessing/tests/test_discretization.py``) runs against it in
``tests/test_sklearn_suite.py``.
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

from ._validation import FitWarning, Interval, Options, check_param  # noqa: E402
from .codebook import Codebook, code_dtype  # noqa: E402
from .histogram import histogram  # noqa: E402
from .mapping import encode  # noqa: E402
from .solvers import RECONSTRUCTIONS, STRATEGIES, fit, from_edges  # noqa: E402

__all__ = ["KBinsQuantizer"]

ENCODES = ("onehot", "onehot-dense", "ordinal")
#: Every method scikit-learn accepts (np.percentile's; the first two also with sample weights).
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
WEIGHTED_PERCENTILE_METHODS = ("averaged_inverted_cdf", "inverted_cdf")
KMEANS_METHODS = ("converged", "sklearn")
_MAX_BINS = 65536
# scikit-learn removes 'quantile' and 'kmeans' bins this narrow (or narrower).
_NARROW = 1e-8


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
    "dtype": (
        _Where(
            "'uint', np.float32, np.float64",
            lambda v: v is np.float32 or v is np.float64 or (isinstance(v, str) and v == "uint"),
        ),
        None,
    ),
    "subsample": (Interval(int, 1, None), None),
    "random_state": (
        Interval(int, 0, 2**32 - 1),
        _Where("a numpy RandomState", lambda v: isinstance(v, np.random.RandomState)),
        None,
    ),
    "reconstruction": (Options(RECONSTRUCTIONS),),
    "kmeans_method": (Options(KMEANS_METHODS),),
}


class KBinsQuantizer(TransformerMixin, BaseEstimator):
    """Bin continuous data into intervals, with vqimage's codebooks.

    A drop-in for :class:`sklearn.preprocessing.KBinsDiscretizer` (same
    parameters, attributes and methods); see the Notes for the defaults that
    differ and the settings that restore scikit-learn's behaviour.

    Parameters
    ----------
    n_bins : int or array-like of shape (n_features,), default=5
        Number of bins per feature, each in [2, 65536].
    encode : {'onehot', 'onehot-dense', 'ordinal'}, default='onehot'
        'onehot': a sparse CSR one-hot matrix; 'onehot-dense': the same as a
        dense array; 'ordinal': the bin index of each value.
    strategy : {'uniform', 'quantile', 'kmeans', 'optimal'}, default='quantile'
        'uniform': equal widths; 'quantile': equal weights, edges at
        scikit-learn's quantiles; 'kmeans': Lloyd's algorithm from the
        uniform bin centres (a local optimum; see ``kmeans_method``);
        'optimal': the bins of least squared error (the global optimum).
    quantile_method : str, default='averaged_inverted_cdf'
        'quantile' only: any ``numpy.percentile`` method scikit-learn accepts.
        Only 'averaged_inverted_cdf' and 'inverted_cdf' support sample
        weights (unless subsampling is active, as in scikit-learn).
    dtype : {'uint', None, np.float32, np.float64}, default='uint'
        Output dtype of ``transform``. 'uint': integer codes (uint8, or
        uint16 above 256 bins) and uint8 one-hot data. None: the input's
        float dtype (float32 stays float32, anything else becomes float64),
        as scikit-learn's None.
    subsample : int or None, default=None
        Fit on at most this many rows, drawn with replacement like
        scikit-learn (``sklearn.utils.resample``, weighted by
        ``sample_weight``). None: every row.
    random_state : int, RandomState instance or None, default=None
        Seed of the subsampling.
    reconstruction : {'centroid', 'midpoint', 'median'}, default='centroid'
        Value ``inverse_transform`` gives each bin: the mean of the fitted
        values in it (MSE-optimal), the centre of its ``bin_edges_``
        (scikit-learn's) or their median.
    kmeans_method : {'converged', 'sklearn'}, default='converged'
        'kmeans' only. 'converged': Lloyd's algorithm on the weighted
        histogram, run until the partition stops changing. 'sklearn':
        ``sklearn.cluster.KMeans`` exactly as ``KBinsDiscretizer`` runs it.

    Attributes
    ----------
    codebooks_ : list of vqimage.Codebook
        The fitted codebook of each feature.
    bin_edges_ : ndarray of ndarray of float64, shape (n_features,)
        The edges of each feature's bins, shape ``(n_bins_[j] + 1,)``, as
        scikit-learn computes them (read-only): ``[-inf, inf]`` for a
        constant feature, whose codebook has ``[c, c]``; otherwise
        ``codebooks_[j].edges``, but for the outer edge where
        ``kmeans_method='sklearn'`` on float32 data puts a threshold a hair
        outside the data's range.
    n_bins_ : ndarray of int64, shape (n_features,)
        Number of bins of each feature (fewer than asked where bins were
        removed, 1 for a constant feature).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str, one per feature
        Feature names seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.preprocessing.KBinsDiscretizer : the estimator this replaces.
    vqimage.fit : fit one codebook to a whole image.

    Notes
    -----
    Every value scikit-learn accepts means what it means there; what differs
    are defaults and additions. The deliberate differences, each with the
    setting that restores scikit-learn's behaviour:

    - **Integer codes.** The default ``dtype='uint'`` gives uint8 codes up to
      256 bins (uint16 above) with ``encode='ordinal'`` and uint8 one-hot
      data; scikit-learn gives floats, 8x the memory. Restore: ``dtype=None``
      (the input's float dtype), ``np.float64`` or ``np.float32``.
    - **Centroid reconstruction.** ``inverse_transform`` maps each code to the
      mean of the fitted values in its bin (the MSE-optimal level; a constant
      feature decodes to its value). Restore: ``reconstruction='midpoint'``,
      the centres of ``bin_edges_`` (NaN for a constant feature, as
      scikit-learn).
    - **kmeans run to convergence.** Lloyd's algorithm runs until the
      partition stops changing, and a value exactly between two centres goes
      to the upper bin, as ``transform`` maps it; scikit-learn's ``KMeans``
      stops at ``tol=1e-4`` and sends it to the lower one, so edges can
      differ. A feature with fewer distinct values than ``n_bins`` gets one
      bin per value (lossless), with a :class:`vqimage.FitWarning`. Restore:
      ``kmeans_method='sklearn'``.
    - **No subsampling.** ``subsample=None`` by default: fitting on
      histograms makes rows cheap. Restore: ``subsample=200_000`` (the same
      rows as scikit-learn for the same ``random_state``).
    - **Added:** ``strategy='optimal'``, ``reconstruction='median'``, the
      ``codebooks_`` attribute.

    Stricter than scikit-learn, with no setting (only input scikit-learn
    would misread or vqimage cannot represent is refused):

    - ``n_bins`` is at most 65536 (a codebook's limit).
    - Invalid parameters raise ValueError or TypeError (scikit-learn's
      ``InvalidParameterError`` is both) naming ``KBinsQuantizer``.
    - ``inverse_transform`` refuses codes that are out of range or not
      integers (scikit-learn wraps negative codes around and truncates
      fractions); ``sample_weight`` must be non-negative.

    Warnings about removed bins and constant features are
    :class:`vqimage.FitWarning`, a ``UserWarning`` (scikit-learn's category),
    with scikit-learn's text.

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
        dtype="uint",
        subsample=None,
        random_state=None,
        reconstruction="centroid",
        kmeans_method="converged",
    ):
        self.n_bins = n_bins
        self.encode = encode
        self.strategy = strategy
        self.quantile_method = quantile_method
        self.dtype = dtype
        self.subsample = subsample
        self.random_state = random_state
        self.reconstruction = reconstruction
        self.kmeans_method = kmeans_method

    def fit(self, X, y=None, sample_weight=None):
        """Fit one codebook per feature.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to be discretized.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weight of each row, for every strategy.

        Returns
        -------
        self : KBinsQuantizer
        """
        self._validate_params()
        X = _numeric(validate_data(self, X, dtype="numeric"))
        n_samples, n_features = X.shape
        n_bins = self._n_bins(n_features)
        sample_weight = _check_sample_weight(sample_weight, n_samples, X.dtype)
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
        weighted = self.strategy == "quantile" and self.quantile_method in WEIGHTED_PERCENTILE_METHODS
        if sample_weight is not None and self.strategy == "quantile" and not weighted:
            raise ValueError(
                "When fitting with strategy='quantile' and sample weights, quantile_method "
                "should either be set to 'averaged_inverted_cdf' or 'inverted_cdf', got "
                f"quantile_method={self.quantile_method!r} instead."
            )
        codebooks, bin_edges = [], np.empty(n_features, dtype=object)
        for j in range(n_features):
            codebook, bin_edges[j] = self._fit_feature(X[:, j], sample_weight, int(n_bins[j]), j)
            codebooks.append(codebook)
        self.codebooks_ = codebooks
        self.bin_edges_ = bin_edges
        self.n_bins_ = np.array([codebook.n_levels for codebook in codebooks], dtype=np.int64)
        return self

    def _fit_feature(self, column, weights, k, j):
        """One feature's codebook and its ``bin_edges_`` (scikit-learn's, step for step)."""
        hist = histogram(column, weights=weights)
        strategy, rule = self.strategy, self.reconstruction
        # scikit-learn takes the range of the rows with non-zero weight, except for 'quantile'.
        low, high = _weighted_range(column, None if strategy == "quantile" else weights)
        if low == high:
            return self._constant(hist, j)
        if strategy == "uniform":
            edges = np.linspace(low, high, k + 1)
        elif strategy == "quantile":
            edges = _quantile_edges(column, weights, k, self.quantile_method)
        elif strategy == "kmeans" and self.kmeans_method == "sklearn":
            edges = _sklearn_kmeans_edges(column, weights, k, low, high)
        else:
            return self._solve(hist, k, j)
        if strategy != "uniform":
            # In the edges' own dtype (float32 for float32 data), as scikit-learn.
            keep = np.ediff1d(edges, to_begin=np.inf) > _NARROW
            edges = edges[keep]
            if edges.size - 1 != k:
                warnings.warn(
                    f"Bins whose width are too small (i.e., <= 1e-8) in feature {j} are removed. "
                    "Consider decreasing the number of bins.",
                    FitWarning,
                    stacklevel=3,
                )
            if edges.size < 2:  # weights on a single value (scikit-learn fails here)
                return self._constant(hist, j)
        return _edges_codebook(hist, edges, strategy, rule), _read_only(edges.astype(np.float64))

    def _constant(self, hist, j):
        warnings.warn(f"Feature {j} is constant and will be replaced with 0.", FitWarning, stacklevel=4)
        codebook = from_edges(hist, [hist.low, hist.low], reconstruction=self.reconstruction)
        return _relabel(codebook, self.strategy), _read_only(np.array([-np.inf, np.inf]))

    def _solve(self, hist, k, j):
        """'kmeans' run to convergence and 'optimal': vqimage's solvers on the histogram."""
        if hist.n_values < k:
            warnings.warn(
                f"Feature {j} has only {hist.n_values} distinct values: {hist.n_values} bins, one per "
                f"value (lossless), instead of {k}. Consider decreasing the number of bins.",
                FitWarning,
                stacklevel=4,
            )
        with warnings.catch_warnings():
            # Said above, with the feature's index.
            warnings.filterwarnings("ignore", "The data has only", FitWarning)
            codebook = fit(hist, k, strategy=self.strategy, reconstruction=self.reconstruction)
        return codebook, codebook.edges

    def transform(self, X):
        """Bin the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Xt : ndarray or scipy.sparse.csr_matrix
            'ordinal': the codes, shape (n_samples, n_features); 'onehot' /
            'onehot-dense': shape ``(n_samples, sum(n_bins_))``, columns ordered
            by feature, then by bin. Of dtype uint8/uint16 (uint8 one-hot)
            with ``dtype='uint'``, else the float dtype ``dtype`` says.
        """
        check_is_fitted(self)
        X = _numeric(validate_data(self, X, dtype="numeric", reset=False))
        out = self._output_dtype(X.dtype)
        if out == np.float32 and X.dtype != np.float32:
            X = X.astype(np.float32)  # scikit-learn bins the values converted to the output dtype
        codes = np.empty(X.shape, dtype=code_dtype(int(self.n_bins_.max())))
        for j, codebook in enumerate(self.codebooks_):
            codes[:, j] = encode(X[:, j], codebook)
        if self.encode == "ordinal":
            return codes.astype(out, copy=False)
        n_samples, n_features = codes.shape
        offsets = np.concatenate([[0], np.cumsum(self.n_bins_)[:-1]])
        onehot = sp.csr_matrix(
            (
                np.ones(codes.size, dtype=out if out.kind == "f" else np.uint8),
                (codes + offsets).reshape(-1),
                np.arange(0, codes.size + 1, n_features),
            ),
            shape=(n_samples, int(self.n_bins_.sum())),
        )
        return onehot if self.encode == "onehot" else onehot.toarray()

    def _output_dtype(self, input_dtype) -> np.dtype:
        if isinstance(self.dtype, str):  # 'uint'
            return code_dtype(int(self.n_bins_.max()))
        if self.dtype is None:  # scikit-learn's: float32 stays, anything else becomes float64
            return np.dtype(np.float32 if input_dtype == np.float32 else np.float64)
        return np.dtype(self.dtype)

    def inverse_transform(self, X):
        """Map codes back to values: code ``i`` of feature ``j`` -> ``codebooks_[j].levels[i]``.

        Parameters
        ----------
        X : array-like or sparse matrix
            Codes as ``transform`` returns them: shape (n_samples,
            n_features) for 'ordinal' (ints, or floats holding ints), or
            ``(n_samples, sum(n_bins_))`` one-hot data.

        Returns
        -------
        X_original : ndarray, shape (n_samples, n_features)
            float32 for float32 ordinal codes, else float64 (as scikit-learn).
        """
        check_is_fitted(self)
        if self.encode == "ordinal":
            X = check_array(X, dtype="numeric")
            out_dtype = np.float32 if X.dtype == np.float32 else np.float64
            codes = self._ordinal_codes(X)
        else:
            codes, out_dtype = self._onehot_codes(X), np.float64
        out = np.empty(codes.shape, dtype=out_dtype)
        for j, codebook in enumerate(self.codebooks_):
            levels = codebook.levels
            if self.reconstruction == "midpoint" and np.isinf(self.bin_edges_[j][0]):
                levels = np.array([np.nan])  # the centre of a constant feature's [-inf, inf]
            out[:, j] = levels[codes[:, j]]
        return out

    def _ordinal_codes(self, X):
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
                f"{', '.join(map(str, bad))}. Number of bins must be at least 2, and must be an int "
                f"(at most {_MAX_BINS})."
            )
        return n_bins.astype(np.int64)


def _numeric(X):
    """Booleans (which vqimage refuses) become float64; ints and floats stay as they are."""
    return X if X.dtype.kind in "uif" else X.astype(np.float64)


def _float_dtype(dtype) -> np.dtype:
    """The dtype scikit-learn gives sample weights of data of ``dtype``."""
    return np.dtype(dtype) if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _check_sample_weight(sample_weight, n_samples, dtype):
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=_float_dtype(dtype))
    if w.ndim == 0:
        w = np.full(n_samples, w)
    if w.shape != (n_samples,):
        raise ValueError(f"sample_weight.shape == {w.shape}, expected {(n_samples,)}!")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite and non-negative.")
    if not w.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return w


def _weighted_range(column, weights):
    """Min and max over the rows of non-zero weight, in the column's dtype."""
    if weights is not None:
        column = column[weights != 0]
    return column.min(), column.max()


def _read_only(array):
    array.flags.writeable = False
    return array


def _relabel(codebook: Codebook, strategy: str, levels=None) -> Codebook:
    """``from_edges`` labels its codebooks 'edges': record the strategy that chose them."""
    return Codebook(
        codebook.levels if levels is None else levels,
        codebook.edges,
        strategy=strategy,
        reconstruction=codebook.reconstruction,
        dtype=codebook.dtype,
        counts=codebook.counts,
    )


def _edges_codebook(hist, edges, strategy, rule) -> Codebook:
    """The codebook of scikit-learn's ``edges`` (in their own dtype: float32 for float32 data)."""
    decided = edges.astype(np.float64)
    # float32 KMeans can put a centre a hair outside the data's range, and scikit-learn keeps the
    # range as the outer edges: the codebook (which needs order) takes the inner edge there.
    decided[0], decided[-1] = min(decided[0], decided[1]), max(decided[-1], decided[-2])
    codebook = from_edges(hist, decided, reconstruction=rule)
    if rule != "midpoint":
        return _relabel(codebook, strategy)
    # scikit-learn's centres, computed in the edges' dtype as it does.
    return _relabel(codebook, strategy, ((edges[1:] + edges[:-1]) * 0.5).astype(np.float64))


def _quantile_edges(column, weights, k, method):
    """scikit-learn's 'quantile' edges: ``np.percentile``, or its weighted percentiles."""
    ranks = np.linspace(0, 100, k + 1)
    if weights is None:
        return np.asarray(np.percentile(column, ranks, method=method), dtype=np.float64)
    return _weighted_percentile(column, weights, ranks, average=method == "averaged_inverted_cdf")


def _weighted_percentile(x, w, ranks, *, average):
    """Weighted 'inverted_cdf' / 'averaged_inverted_cdf' percentiles of ``x``.

    The same numbers as ``sklearn.utils.stats._weighted_percentile`` (a
    private function): the same sort, cumulative sums and tie rule, in the
    same float dtype, so edges agree bit for bit.
    """
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x = x.astype(dtype, copy=False)
    w = w.astype(dtype)
    order = np.argsort(x)
    cdf = np.cumsum(w[order])
    last = x.size - 1
    target = ranks.astype(dtype) / 100 * cdf[-1]
    # A rank of 0 skips leading zero weights.
    target = np.where(target == 0, np.nextafter(target, target + 1), target)
    index = np.clip(np.searchsorted(cdf, target), 0, last)
    result = x[order[index]]
    if not average:
        return result
    # A rank landing exactly on a sample's cumulative weight: average it with the next value.
    on_point = ~(cdf[index] - target > np.finfo(dtype).eps)
    following = np.clip(index + 1, 0, last)
    zero = w[order[following]] == 0
    # Skip zero-weight samples to the next one that adds weight (or stay put at the end).
    skipped = np.searchsorted(cdf, cdf[index], side="right")
    following = np.where(zero, np.where(skipped > last, index, skipped), following)
    averaged = (result + x[order[following]]) / 2
    return np.where(on_point, averaged, result)


def _sklearn_kmeans_edges(column, weights, k, low, high):
    """``KBinsDiscretizer``'s 'kmeans' edges: ``KMeans`` from the uniform bin centres."""
    from sklearn.cluster import KMeans

    uniform = np.linspace(low, high, k + 1)
    init = (uniform[1:] + uniform[:-1])[:, None] * 0.5
    km = KMeans(n_clusters=k, init=init, n_init=1).fit(column[:, None], sample_weight=weights)
    centers = np.sort(km.cluster_centers_[:, 0])
    return np.r_[low, (centers[1:] + centers[:-1]) * 0.5, high]
