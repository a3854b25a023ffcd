"""KBinsQuantizer: the scikit-learn estimator contract, and agreement with KBinsDiscretizer."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.preprocessing import KBinsDiscretizer
from sklearn.utils.estimator_checks import (
    check_estimator,
    check_get_feature_names_out_error,
    check_set_output_transform,
    check_transformer_get_feature_names_out,
)

import vqimage
from vqimage.sklearn import KBinsQuantizer

STRATEGIES = ("uniform", "quantile", "kmeans", "optimal")
# (strategy, quantile_method): the fits KBinsDiscretizer reproduces exactly.
EXACT = [
    ("uniform", "averaged_inverted_cdf"),
    ("quantile", "averaged_inverted_cdf"),
    ("quantile", "inverted_cdf"),
    ("quantile", "linear"),
]
# The settings KBinsQuantizer's Notes name to restore scikit-learn's behaviour (dtype=None,
# subsample=200_000 are KBinsDiscretizer's defaults).
SKLEARN_SETTINGS = dict(dtype=None, subsample=200_000, reconstruction="midpoint", kmeans_method="sklearn")


def _random(n_features, seed=0, n=1000):
    rng = np.random.default_rng(seed)
    columns = [rng.normal(size=n), rng.exponential(size=n) * 10, rng.uniform(-5, 5, size=n)]
    return np.column_stack(columns[:n_features])


@pytest.fixture(scope="module")
def camera_column():
    return vqimage.load_image("camera").reshape(-1, 1)


def _datasets(camera_column):
    return {"camera": camera_column, "random2": _random(2), "random3": _random(3, seed=1)}


# --- the estimator contract -------------------------------------------------------------------


# check_estimator fits n_bins=5 on tiny integer data with 3 or 4 distinct values: vqimage's
# FitWarning (one level per value) is right there, and pytest.ini makes it an error.
@pytest.mark.filterwarnings("ignore::vqimage.FitWarning")
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"encode": "onehot-dense"},
        *({"encode": "ordinal", "strategy": s} for s in STRATEGIES),
        {"encode": "ordinal", "dtype": np.float64, "reconstruction": "midpoint"},
        # The settings that restore scikit-learn's behaviour.
        *(
            {"encode": encode, "dtype": None, "reconstruction": "midpoint", "subsample": 200_000}
            for encode in ("ordinal", "onehot")
        ),
    ],
    ids=str,
)
def test_check_estimator(params):
    check_estimator(KBinsQuantizer(**params))


# Like KBinsDiscretizer, quantile_method='linear' refuses sample weights (np.percentile has
# no weighted 'linear'), so the checks that fit with weights must fail; everything else passes.
LINEAR_REFUSES_WEIGHTS = "quantile_method='linear' refuses sample_weight, as in KBinsDiscretizer"
WEIGHT_CHECKS = (
    "check_sample_weights_not_an_array",
    "check_sample_weights_list",
    "check_sample_weights_shape",
    "check_sample_weights_not_overwritten",
    "check_sample_weight_equivalence_on_dense_data",
)


def test_check_estimator_unweighted_quantile_method():
    est = KBinsQuantizer(strategy="quantile", quantile_method="linear", encode="ordinal")
    expected = dict.fromkeys(WEIGHT_CHECKS, LINEAR_REFUSES_WEIGHTS)
    results = check_estimator(est, expected_failed_checks=expected)
    assert {r["check_name"] for r in results if r["status"] == "xfail"} == set(WEIGHT_CHECKS)


# scikit-learn skips this check for its own 'kmeans' (KMeans with weights is not the same as
# with repeated rows); kmeans_method='sklearn' runs that KMeans.
SKLEARN_KMEANS_WEIGHTS = "KMeans (kmeans_method='sklearn') is not weight-equivalent, as in KBinsDiscretizer"


@pytest.mark.filterwarnings("ignore::UserWarning")  # KMeans on data with fewer values than bins
def test_check_estimator_sklearn_kmeans():
    est = KBinsQuantizer(encode="ordinal", strategy="kmeans", kmeans_method="sklearn", dtype=None)
    check = "check_sample_weight_equivalence_on_dense_data"
    results = check_estimator(est, expected_failed_checks={check: SKLEARN_KMEANS_WEIGHTS})
    assert {r["check_name"] for r in results if r["status"] == "xfail"} == {check}


@pytest.mark.filterwarnings("ignore::vqimage.FitWarning")
@pytest.mark.parametrize("encode", ["onehot", "onehot-dense", "ordinal"])
@pytest.mark.parametrize(
    "check",
    [check_transformer_get_feature_names_out, check_get_feature_names_out_error, check_set_output_transform],
)
def test_feature_name_checks(check, encode):
    check("KBinsQuantizer", KBinsQuantizer(encode=encode))


# --- agreement with KBinsDiscretizer ----------------------------------------------------------


@pytest.mark.parametrize("data", ["camera", "random2", "random3"])
@pytest.mark.parametrize("strategy, quantile_method", EXACT)
@pytest.mark.parametrize("n_bins", [2, 3, 5, 8, 16])
def test_same_as_kbinsdiscretizer(camera_column, data, strategy, quantile_method, n_bins):
    X = _datasets(camera_column)[data]
    params = dict(n_bins=n_bins, encode="ordinal", strategy=strategy, quantile_method=quantile_method)
    params.update(dtype=np.float64, subsample=None)
    theirs = KBinsDiscretizer(**params).fit(X)
    ours = KBinsQuantizer(**params, reconstruction="midpoint").fit(X)
    np.testing.assert_array_equal(ours.n_bins_, theirs.n_bins_)
    for mine, their in zip(ours.bin_edges_, theirs.bin_edges_, strict=True):
        np.testing.assert_array_equal(mine, their)
    codes = ours.transform(X)
    assert codes.dtype == np.float64
    np.testing.assert_array_equal(codes, theirs.transform(X))
    np.testing.assert_array_equal(ours.inverse_transform(codes), theirs.inverse_transform(codes))


def _kmeans_edges(column, n_bins):
    """KBinsDiscretizer's kmeans edges, with KMeans run to convergence (tol=0)."""
    column = column.astype(np.float64)
    uniform = np.linspace(column.min(), column.max(), n_bins + 1)
    init = ((uniform[1:] + uniform[:-1]) / 2)[:, None]
    centers = KMeans(n_bins, init=init, n_init=1, tol=0, max_iter=1000).fit(column[:, None])
    centers = np.sort(centers.cluster_centers_[:, 0])
    return np.r_[column.min(), (centers[1:] + centers[:-1]) / 2, column.max()]


@pytest.mark.parametrize("data", ["camera", "random2"])
@pytest.mark.parametrize("n_bins", [2, 3, 5, 8, 16])
def test_kmeans_is_converged_lloyd(camera_column, data, n_bins):
    # Same start as KBinsDiscretizer, same Lloyd iterations, run to the fixed point. (These
    # cases hit no empty cluster and no value exactly between two centres, where the two
    # implementations break ties differently.)
    X = _datasets(camera_column)[data]
    ours = KBinsQuantizer(n_bins, encode="ordinal", strategy="kmeans").fit(X)
    for j, edges in enumerate(ours.bin_edges_):
        np.testing.assert_allclose(edges, _kmeans_edges(X[:, j], n_bins), rtol=0, atol=1e-9)


@pytest.mark.parametrize("n_bins", [3, 5, 8, 16])
def test_kmeans_close_to_kbinsdiscretizer(camera_column, n_bins):
    # KBinsDiscretizer's KMeans stops at tol=1e-4 (relative to the variance), vqimage's
    # Lloyd at the fixed point: same path, so the edges differ by about a gray level at
    # most, and vqimage's partition is at least as good.
    X = camera_column
    params = dict(n_bins=n_bins, encode="ordinal", strategy="kmeans", dtype=np.float64, subsample=None)
    theirs = KBinsDiscretizer(**params).fit(X)
    ours = KBinsQuantizer(**params, reconstruction="midpoint").fit(X)
    np.testing.assert_array_equal(ours.n_bins_, theirs.n_bins_)
    np.testing.assert_allclose(ours.bin_edges_[0], theirs.bin_edges_[0], rtol=0, atol=1.2)  # measured 1.15 (5 bins)
    assert (ours.transform(X) == theirs.transform(X)).mean() >= 0.999
    assert _centroid_mse(X, ours.transform(X)) <= _centroid_mse(X, theirs.transform(X)) + 1e-9


def _centroid_mse(X, codes):
    """Mean squared error of the partition ``codes`` with each bin's mean as its level."""
    x, codes = X[:, 0].astype(np.float64), codes[:, 0].astype(np.intp)
    means = np.bincount(codes, x) / np.maximum(np.bincount(codes), 1)
    return float(np.mean((x - means[codes]) ** 2))


def _mse(estimator, X):
    return float(np.mean((estimator.inverse_transform(estimator.transform(X)) - X) ** 2))


@pytest.mark.filterwarnings("ignore::vqimage.FitWarning")  # quantile: ties empty some bins
@pytest.mark.parametrize("n_bins", [2, 4, 8, 16])
def test_optimal_has_least_error(camera_column, n_bins):
    X = camera_column
    optimal = _mse(KBinsQuantizer(n_bins, encode="ordinal", strategy="optimal").fit(X), X)
    for strategy in ("uniform", "quantile", "kmeans"):
        for reconstruction in ("centroid", "midpoint", "median"):
            est = KBinsQuantizer(n_bins, encode="ordinal", strategy=strategy, reconstruction=reconstruction)
            assert optimal <= _mse(est.fit(X), X) + 1e-9, (strategy, reconstruction)
        theirs = KBinsDiscretizer(n_bins, encode="ordinal", strategy=strategy, subsample=None).fit(X)
        assert optimal <= _mse(theirs, X), strategy


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("quantile_method", ["averaged_inverted_cdf", "inverted_cdf"])
def test_integer_weights_equal_repeated_rows(strategy, quantile_method):
    X = _random(2, n=300)
    weights = np.random.default_rng(3).integers(0, 4, size=len(X))
    params = dict(n_bins=6, encode="ordinal", strategy=strategy, quantile_method=quantile_method)
    weighted = KBinsQuantizer(**params).fit(X, sample_weight=weights)
    repeated = KBinsQuantizer(**params).fit(np.repeat(X, weights, axis=0))
    for a, b in zip(weighted.bin_edges_, repeated.bin_edges_, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(weighted.transform(X), repeated.transform(X))
    codes = weighted.transform(X)
    np.testing.assert_array_equal(weighted.inverse_transform(codes), repeated.inverse_transform(codes))


@pytest.mark.filterwarnings("ignore::UserWarning")  # KMeans on float32 draws
@pytest.mark.parametrize(
    "strategy, quantile_method",
    [
        ("uniform", "linear"),
        ("quantile", "averaged_inverted_cdf"),
        ("quantile", "linear"),
        ("kmeans", "linear"),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_subsample_draws_the_same_rows_as_sklearn(strategy, quantile_method, dtype):
    # With subsampling the weights are used by the draw, so even 'linear' accepts them.
    X = _random(2, n=5000).astype(dtype)
    weights = np.random.default_rng(4).uniform(0, 2, size=len(X))
    params = dict(n_bins=4, encode="ordinal", strategy=strategy, quantile_method=quantile_method)
    ours = KBinsQuantizer(**params, **{**SKLEARN_SETTINGS, "subsample": 1000, "random_state": 7})
    ours.fit(X, sample_weight=weights)
    params.update(subsample=1000, random_state=7)
    theirs = KBinsDiscretizer(**params).fit(X, sample_weight=weights)
    for a, b in zip(ours.bin_edges_, theirs.bin_edges_, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours.transform(X), theirs.transform(X))


CASES = [*EXACT, ("kmeans", "averaged_inverted_cdf"), ("quantile", "hazen")]


def _tied(dtype, n=300, seed=5):
    """Three features with many ties (and one with more bins than values), in ``dtype``."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.integers(0, 12, n), rng.integers(0, 4, n), rng.normal(size=n).round(1) * 10])
    return X.astype(dtype)


@pytest.mark.filterwarnings("ignore::UserWarning")  # removed bins, KMeans's duplicate centres
@pytest.mark.parametrize(
    "strategy, quantile_method, weights",
    [
        (strategy, method, weights)
        for strategy, method in CASES
        for weights in ("none", "uniform", "integers")
        # scikit-learn refuses sample weights with the other methods (see test_invalid_data).
        if weights == "none" or method in ("averaged_inverted_cdf", "inverted_cdf")
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64])
@pytest.mark.parametrize("encode", ["ordinal", "onehot"])
def test_sklearn_settings_reproduce_kbinsdiscretizer(strategy, quantile_method, weights, dtype, encode):
    # Edges, bin counts, codes and inverse, value for value and dtype for dtype, with sample
    # weights (zeros included: integers in [0, 3]) and ties that make scikit-learn remove bins.
    X = _tied(dtype)
    rng = np.random.default_rng(6)
    draws = {"none": None, "uniform": rng.uniform(0, 3, len(X)), "integers": rng.integers(0, 4, len(X))}
    sample_weight = draws[weights]
    params = dict(n_bins=[6, 7, 9], encode=encode, strategy=strategy, quantile_method=quantile_method)
    theirs = KBinsDiscretizer(**params).fit(X, sample_weight=sample_weight)
    ours = KBinsQuantizer(**params, **SKLEARN_SETTINGS).fit(X, sample_weight=sample_weight)
    np.testing.assert_array_equal(ours.n_bins_, theirs.n_bins_)
    assert ours.bin_edges_.shape == theirs.bin_edges_.shape
    for mine, their in zip(ours.bin_edges_, theirs.bin_edges_, strict=True):
        np.testing.assert_array_equal(mine, np.asarray(their, dtype=np.float64))
    codes, their_codes = ours.transform(X), theirs.transform(X)
    assert codes.dtype == their_codes.dtype and sp.issparse(codes) == sp.issparse(their_codes)
    if sp.issparse(codes):
        codes, their_codes = codes.toarray(), their_codes.toarray()
    np.testing.assert_array_equal(codes, their_codes)
    restored, their_restored = ours.inverse_transform(codes), theirs.inverse_transform(their_codes)
    assert restored.dtype == their_restored.dtype
    np.testing.assert_array_equal(restored, their_restored)


# --- the seed: scikit-learn's Vector Quantization Example, KBinsQuantizer swapped in ---------


def _vector_quantization_example(raccoon_face, KBinsDiscretizer):
    """The example's code, verbatim but for face(gray=True) coming in; returns its variables."""
    import matplotlib

    matplotlib.use("Agg")

    print(f"The dimension of the image is {raccoon_face.shape}")
    print(f"The data used to encode the image is of type {raccoon_face.dtype}")
    print(f"The number of bytes taken in RAM is {raccoon_face.nbytes}")

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(ncols=2, figsize=(12, 4))
    ax[0].imshow(raccoon_face, cmap=plt.cm.gray)
    ax[0].axis("off")
    ax[0].set_title("Rendering of the image")
    ax[1].hist(raccoon_face.ravel(), bins=256)
    ax[1].set_xlabel("Pixel value")
    ax[1].set_ylabel("Count of pixels")
    ax[1].set_title("Distribution of the pixel values")
    _ = fig.suptitle("Original image of a raccoon face")

    n_bins = 8
    encoder = KBinsDiscretizer(
        n_bins=n_bins,
        encode="ordinal",
        strategy="uniform",
        random_state=0,
        subsample=200_000,
    )
    compressed_raccoon_uniform = encoder.fit_transform(raccoon_face.reshape(-1, 1)).reshape(
        raccoon_face.shape
    )

    fig, ax = plt.subplots(ncols=2, figsize=(12, 4))
    ax[0].imshow(compressed_raccoon_uniform, cmap=plt.cm.gray)
    ax[0].axis("off")
    ax[0].set_title("Rendering of the image")
    ax[1].hist(compressed_raccoon_uniform.ravel(), bins=256)
    ax[1].set_xlabel("Pixel value")
    ax[1].set_ylabel("Count of pixels")
    ax[1].set_title("Sub-sampled distribution of the pixel values")
    _ = fig.suptitle("Raccoon face compressed using 3 bits and a uniform strategy")

    bin_edges = encoder.bin_edges_[0]
    bin_center = bin_edges[:-1] + (bin_edges[1:] - bin_edges[:-1]) / 2
    bin_center  # noqa: B018 - the example displays it
    uniform_center = bin_center  # not in the example: kept for the assertions

    _, ax = plt.subplots()
    ax.hist(raccoon_face.ravel(), bins=256)
    color = "tab:orange"
    for center in bin_center:
        ax.axvline(center, color=color)
        ax.text(center - 10, ax.get_ybound()[1] + 100, f"{center:.1f}", color=color)

    encoder = KBinsDiscretizer(
        n_bins=n_bins,
        encode="ordinal",
        strategy="kmeans",
        random_state=0,
        subsample=200_000,
    )
    compressed_raccoon_kmeans = encoder.fit_transform(raccoon_face.reshape(-1, 1)).reshape(
        raccoon_face.shape
    )

    fig, ax = plt.subplots(ncols=2, figsize=(12, 4))
    ax[0].imshow(compressed_raccoon_kmeans, cmap=plt.cm.gray)
    ax[0].axis("off")
    ax[0].set_title("Rendering of the image")
    ax[1].hist(compressed_raccoon_kmeans.ravel(), bins=256)
    ax[1].set_xlabel("Pixel value")
    ax[1].set_ylabel("Number of pixels")
    ax[1].set_title("Distribution of the pixel values")
    _ = fig.suptitle("Raccoon face compressed using 3 bits and a K-means strategy")

    bin_edges = encoder.bin_edges_[0]
    bin_center = bin_edges[:-1] + (bin_edges[1:] - bin_edges[:-1]) / 2
    bin_center  # noqa: B018

    _, ax = plt.subplots()
    ax.hist(raccoon_face.ravel(), bins=256)
    color = "tab:orange"
    for center in bin_center:
        ax.axvline(center, color=color)
        ax.text(center - 10, ax.get_ybound()[1] + 100, f"{center:.1f}", color=color)

    print(f"The number of bytes taken in RAM is {compressed_raccoon_kmeans.nbytes}")
    print(f"Compression ratio: {compressed_raccoon_kmeans.nbytes / raccoon_face.nbytes}")
    print(f"Type of the compressed image: {compressed_raccoon_kmeans.dtype}")
    plt.close("all")
    return locals()


def test_vector_quantization_example(face):
    # The one change to the example: KBinsQuantizer passed in as KBinsDiscretizer.
    result = _vector_quantization_example(face, KBinsQuantizer)
    compressed_raccoon_kmeans = result["compressed_raccoon_kmeans"]

    # The example's punchline, reversed: the codes take the original's 786,432 bytes, not 8x.
    assert face.nbytes == 786432
    assert compressed_raccoon_kmeans.dtype == np.uint8
    assert compressed_raccoon_kmeans.nbytes == 786432 != 6291456
    assert result["compressed_raccoon_uniform"].dtype == np.uint8

    # Uniform: scikit-learn's own edges, codes and centres on the same subsample. (The centres
    # the example prints, 15.625 + 31.25 i, are those of every pixel: subsample=None.)
    X = face.reshape(-1, 1)
    params = dict(n_bins=8, encode="ordinal", random_state=0, subsample=200_000)
    ours = KBinsQuantizer(**params, strategy="uniform", reconstruction="midpoint").fit(X)
    theirs = KBinsDiscretizer(**params, strategy="uniform").fit(X)
    np.testing.assert_array_equal(result["uniform_center"], _centres(theirs.bin_edges_[0]))
    np.testing.assert_array_equal(ours.bin_edges_[0], theirs.bin_edges_[0])
    codes = ours.transform(X)
    np.testing.assert_array_equal(codes, theirs.transform(X))
    np.testing.assert_array_equal(ours.inverse_transform(codes), theirs.inverse_transform(codes))
    every_pixel = KBinsQuantizer(8, strategy="uniform").fit(X)
    np.testing.assert_array_equal(_centres(every_pixel.bin_edges_[0]), np.arange(8) * 31.25 + 15.625)

    # kmeans: scikit-learn's centres on the same subsample, and within a gray level of those
    # the example prints (made by an older scikit-learn).
    theirs = KBinsDiscretizer(**params, strategy="kmeans").fit(X)
    np.testing.assert_allclose(result["bin_center"], _centres(theirs.bin_edges_[0]), rtol=0, atol=1e-6)  # 8e-12
    printed = [18.90885631, 53.34346583, 82.64447187, 109.28225276,
               134.70763101, 159.78681467, 185.17226834, 224.02069427]  # fmt: skip
    np.testing.assert_allclose(result["bin_center"], printed, rtol=0, atol=0.9)  # measured 0.85


def _centres(bin_edges):
    return bin_edges[:-1] + (bin_edges[1:] - bin_edges[:-1]) / 2


# --- dtypes, one-hot, names -------------------------------------------------------------------


def test_code_dtypes(camera_column):
    codes = KBinsQuantizer(256, encode="ordinal", strategy="uniform").fit_transform(camera_column)
    assert codes.dtype == np.uint8 and codes.max() == 255
    X = _random(2, n=2000)
    assert len(np.unique(X[:, 0])) >= 300
    est = KBinsQuantizer(300, encode="ordinal", strategy="quantile").fit(X)
    assert est.transform(X).dtype == np.uint16
    assert est.transform(X).max() == 299
    mixed = KBinsQuantizer([4, 300], encode="ordinal").fit(X)
    assert mixed.transform(X).dtype == np.uint16
    np.testing.assert_array_equal(mixed.n_bins_, [4, 300])
    assert KBinsQuantizer(4, encode="ordinal", dtype=np.float32).fit_transform(X).dtype == np.float32
    assert KBinsQuantizer(4, encode="ordinal").fit(X).inverse_transform([[0, 3]]).dtype == np.float64


# dtype -> the one-hot data's dtype for float64 input ('uint' is vqimage's default; None is
# scikit-learn's: the input's float dtype).
ONEHOT_DTYPES = {"uint": np.uint8, None: np.float64, np.float32: np.float32, np.float64: np.float64}


@pytest.mark.parametrize("dtype", list(ONEHOT_DTYPES), ids=str)
def test_onehot_layout_and_round_trip(dtype):
    X = _random(3, n=200)
    params = dict(n_bins=[2, 3, 5], strategy="uniform", dtype=dtype)
    ordinal = KBinsQuantizer(**params, encode="ordinal").fit(X)
    onehot = KBinsQuantizer(**params, encode="onehot").fit(X)
    dense = KBinsQuantizer(**params, encode="onehot-dense").fit(X)
    sparse_codes, dense_codes = onehot.transform(X), dense.transform(X)
    assert isinstance(sparse_codes, sp.csr_matrix) and isinstance(dense_codes, np.ndarray)
    assert sparse_codes.dtype == dense_codes.dtype == ONEHOT_DTYPES[dtype]
    np.testing.assert_array_equal(sparse_codes.toarray(), dense_codes)
    theirs = KBinsDiscretizer(n_bins=[2, 3, 5], strategy="uniform", encode="onehot-dense").fit(X)
    np.testing.assert_array_equal(dense_codes, theirs.transform(X))
    # The levels of each code, from the codebooks (float64, like every one-hot inverse).
    codes = ordinal.transform(X).astype(np.intp)
    expected = np.column_stack([cb.levels[codes[:, j]] for j, cb in enumerate(ordinal.codebooks_)])
    for restored in (
        onehot.inverse_transform(sparse_codes),
        dense.inverse_transform(dense_codes),
        dense.inverse_transform(sp.csr_array(dense_codes)),
    ):
        assert restored.dtype == np.float64
        np.testing.assert_array_equal(restored, expected)
    # Ordinal codes decode as scikit-learn's: float32 codes to float32, any other to float64.
    restored = ordinal.inverse_transform(ordinal.transform(X))
    assert restored.dtype == (np.float32 if dtype is np.float32 else np.float64)
    np.testing.assert_array_equal(restored, expected.astype(restored.dtype))


def test_centroid_reconstruction_is_each_bins_mean():
    X = _random(2, n=500)
    est = KBinsQuantizer(4, encode="ordinal", strategy="quantile").fit(X)
    codes = est.transform(X)
    restored = est.inverse_transform(codes)
    for j in range(X.shape[1]):
        for code in range(4):
            in_bin = codes[:, j] == code
            np.testing.assert_allclose(restored[in_bin, j], X[in_bin, j].mean(), rtol=1e-12)


@pytest.mark.parametrize("encode", ["onehot", "onehot-dense", "ordinal"])
def test_feature_names_match_kbinsdiscretizer(encode):
    X = _random(3, n=100)
    ours = KBinsQuantizer([2, 3, 4], encode=encode, strategy="uniform").fit(X)
    theirs = KBinsDiscretizer([2, 3, 4], encode=encode, strategy="uniform").fit(X)
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())
    names = ["a", "b", "c"]
    np.testing.assert_array_equal(ours.get_feature_names_out(names), theirs.get_feature_names_out(names))
    if encode != "ordinal":
        assert ours.get_feature_names_out()[:3].tolist() == ["x0_0.0", "x0_1.0", "x1_0.0"]
    with pytest.raises(ValueError, match=r"equal to number of features \(3\), got 2"):
        ours.get_feature_names_out(["a", "b"])


def test_constant_feature():
    X = np.column_stack([np.full(20, 7.5), np.arange(20.0)])
    est = KBinsQuantizer(4, encode="ordinal")
    with pytest.warns(vqimage.FitWarning, match="Feature 0 is constant and will be replaced with 0."):
        est.fit(X)
    np.testing.assert_array_equal(est.n_bins_, [1, 4])
    np.testing.assert_array_equal(est.bin_edges_[0], [-np.inf, np.inf])  # scikit-learn's
    np.testing.assert_array_equal(est.codebooks_[0].edges, [7.5, 7.5])
    codes = est.transform(X)
    assert (codes[:, 0] == 0).all()
    np.testing.assert_array_equal(est.inverse_transform(codes)[:, 0], 7.5)
    with pytest.warns(vqimage.FitWarning, match="Feature 0 is constant"):
        est.set_params(reconstruction="midpoint").fit(X)
    assert np.isnan(est.inverse_transform(codes)[:, 0]).all()  # the centre of [-inf, inf], as sklearn


def test_fewer_values_than_bins():
    X = np.array([[0.0], [0.0], [1.0], [5.0]])
    for strategy in ("kmeans", "optimal"):
        with pytest.warns(vqimage.FitWarning, match="only 3 distinct values: 3 bins, one per value"):
            est = KBinsQuantizer(5, encode="ordinal", strategy=strategy).fit(X)
        np.testing.assert_array_equal(est.inverse_transform(est.transform(X)), X)  # lossless
    # quantile: scikit-learn's percentiles [0, 0, 0, 1, 5, 5], bins narrower than 1e-8 removed.
    with pytest.warns(vqimage.FitWarning, match="Bins whose width are too small"):
        quantile = KBinsQuantizer(5, encode="ordinal", strategy="quantile").fit(X)
    np.testing.assert_array_equal(quantile.bin_edges_[0], [0, 1, 5])
    uniform = KBinsQuantizer(5, encode="ordinal", strategy="uniform").fit(X)  # equal widths kept
    np.testing.assert_array_equal(uniform.bin_edges_[0], [0, 1, 2, 3, 4, 5])


def test_attributes(camera_column):
    est = KBinsQuantizer(8, strategy="optimal").fit(camera_column)
    assert est.n_features_in_ == 1
    # scikit-learn's layout: an object array of float64 edge arrays, one per feature.
    assert est.bin_edges_.dtype == object and est.bin_edges_.shape == (1,)
    assert est.bin_edges_[0].dtype == np.float64 and not est.bin_edges_[0].flags.writeable
    assert est.n_bins_.dtype == np.int64
    assert est.codebooks_[0] == vqimage.fit(camera_column, 8)


@pytest.mark.filterwarnings("ignore::UserWarning")  # ties: removed bins, one bin per value
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("encode", ["onehot", "ordinal"])
@pytest.mark.parametrize("kmeans_method", ["converged", "sklearn"])
def test_inputs_are_not_modified(strategy, encode, kmeans_method):
    # scikit-learn's test_overwrite, for every strategy and with sample weights and codes too.
    X, weights = _tied(np.float64), np.random.default_rng(7).integers(0, 3, 300).astype(np.float64)
    X_before, weights_before = X.copy(), weights.copy()
    est = KBinsQuantizer(4, encode=encode, strategy=strategy, kmeans_method=kmeans_method)
    codes = est.fit(X, sample_weight=weights).transform(X)
    codes_before = codes.copy()
    est.inverse_transform(codes)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(weights, weights_before)
    assert (codes != codes_before).nnz == 0 if sp.issparse(codes) else np.array_equal(codes, codes_before)


def test_every_parameter_and_method_of_kbinsdiscretizer():
    ours, theirs = KBinsQuantizer(), KBinsDiscretizer()
    assert set(theirs.get_params()) <= set(ours.get_params())
    public = {name for name in dir(theirs) if not name.startswith("_")}
    assert public <= set(dir(ours)), public - set(dir(ours))


# --- errors -----------------------------------------------------------------------------------


X4 = _random(2, n=40)


@pytest.mark.parametrize(
    "params, error, match",
    [
        (
            {"n_bins": 1},
            ValueError,
            r"The 'n_bins' parameter of KBinsQuantizer must be an int in \[2, 65536\] "
            "or an array-like of ints. Got 1 instead.",
        ),
        ({"n_bins": "a"}, TypeError, r"The 'n_bins' parameter of KBinsQuantizer must be .* Got 'a' instead."),
        ({"n_bins": 70000}, ValueError, r"parameter of KBinsQuantizer must be an int in \[2, 65536\]"),
        ({"n_bins": [2, 1]}, ValueError, "invalid number of bins at indices 1"),
        ({"n_bins": [2.5, 3]}, ValueError, "invalid number of bins at indices 0"),
        ({"n_bins": [2, 3, 4]}, ValueError, r"n_bins must be a scalar or array of shape \(n_features,\)"),
        ({"strategy": "bogus"}, ValueError, "The 'strategy' parameter of KBinsQuantizer must be one of"),
        ({"encode": "bogus"}, ValueError, "The 'encode' parameter of KBinsQuantizer must be one of"),
        (
            {"dtype": np.int32},
            ValueError,
            "The 'dtype' parameter of KBinsQuantizer must be 'uint', np.float32, np.float64 or None.",
        ),
        ({"kmeans_method": "lloyd"}, ValueError, "The 'kmeans_method' parameter of KBinsQuantizer"),
        ({"quantile_method": "nearest"}, ValueError, "The 'quantile_method' parameter of KBinsQuantizer"),
        ({"reconstruction": "mean"}, ValueError, "The 'reconstruction' parameter of KBinsQuantizer"),
        ({"subsample": 0}, ValueError, "The 'subsample' parameter of KBinsQuantizer"),
        ({"random_state": "seed"}, TypeError, "The 'random_state' parameter of KBinsQuantizer"),
    ],
)
def test_invalid_parameters(params, error, match):
    with pytest.raises(error, match=match):
        KBinsQuantizer(**params).fit(X4)


def test_invalid_data():
    with pytest.raises(ValueError, match="quantile_method should either be set to 'averaged_inverted_cdf'"):
        KBinsQuantizer(quantile_method="hazen").fit(X4, sample_weight=np.ones(len(X4)))
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(3,\), expected \(40,\)"):
        KBinsQuantizer().fit(X4, sample_weight=[1, 2, 3])
    with pytest.raises(ValueError, match="sample_weight must be finite and non-negative"):
        KBinsQuantizer().fit(X4, sample_weight=-np.ones(len(X4)))
    bad = X4.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        KBinsQuantizer().fit(bad)
    est = KBinsQuantizer(encode="ordinal").fit(X4)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.transform(bad)
    with pytest.raises(ValueError, match="X has 3 features, but KBinsQuantizer is expecting 2 features"):
        est.transform(_random(3, n=5))
    with pytest.raises(ValueError, match=r"Incorrect number of features. Expecting 2, received 3."):
        est.inverse_transform(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"X holds 1 invalid code\(s\), e.g. 5.0 for feature 1"):
        est.inverse_transform([[0, 5.0]])
    with pytest.raises(ValueError, match=r"X holds 1 invalid code\(s\), e.g. 0.5 for feature 0"):
        est.inverse_transform([[0.5, 1]])
    onehot = KBinsQuantizer(encode="onehot").fit(X4)
    with pytest.raises(ValueError, match=r"not correct. Expected 10 columns, got 9\."):
        onehot.inverse_transform(np.zeros((2, 9)))
    with pytest.raises(ValueError, match=r"Samples \[0 1\] can not be inverted .* all zeros"):
        onehot.inverse_transform(np.zeros((2, 10)))


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="This KBinsQuantizer instance is not fitted yet"):
        KBinsQuantizer().transform(X4)
