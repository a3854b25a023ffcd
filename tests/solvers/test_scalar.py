"""Gray fitting: the optimum against brute force, every strategy and rule, max_error_codebook."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vqimage
from vqimage import FitWarning
from vqimage.solvers import RECONSTRUCTIONS, STRATEGIES, from_edges, max_error_codebook
from vqimage.solvers._dp import optimal_partition


def sse(values, weights, assignment):
    total = 0.0
    for label in np.unique(assignment):
        x, w = values[assignment == label], weights[assignment == label]
        total += float(np.sum(w * (x - np.average(x, weights=w)) ** 2))
    return total


def brute_force_any_partition(values, weights, k):
    """Minimum SSE over *every* assignment of points to k non-empty groups."""
    best = np.inf
    for labels in itertools.product(range(k), repeat=values.size):
        labels = np.array(labels)
        if np.unique(labels).size == k:
            best = min(best, sse(values, weights, labels))
    return best


def brute_force_contiguous(values, weights, k):
    n = values.size
    best = np.inf
    for cuts in itertools.combinations(range(1, n), k - 1):
        labels = np.repeat(np.arange(k), np.diff([0, *cuts, n]))
        best = min(best, sse(values, weights, labels))
    return best


points = st.lists(st.integers(0, 60), min_size=2, max_size=7, unique=True).map(sorted)


@settings(max_examples=60, deadline=None)
@given(points, st.data())
def test_optimal_is_the_global_minimum_over_all_partitions(values, data):
    values = np.array(values, dtype=np.float64)
    weights = np.array(data.draw(st.lists(st.integers(1, 9), min_size=values.size, max_size=values.size)), float)
    k = data.draw(st.integers(1, min(3, values.size)))
    starts, cost = optimal_partition(values, weights, k)
    assert starts[0] == 0 and np.all(np.diff(starts) > 0)
    assert cost == pytest.approx(brute_force_any_partition(values, weights, k), rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=2, max_size=14, unique=True).map(sorted), st.data())
def test_optimal_equals_contiguous_brute_force(values, data):
    values = np.array(values, dtype=np.float64)
    weights = np.array(
        data.draw(st.lists(st.integers(1, 10_000), min_size=values.size, max_size=values.size)), float
    )
    k = data.draw(st.integers(1, min(6, values.size)))
    _, cost = optimal_partition(values, weights, k)
    assert cost == pytest.approx(brute_force_contiguous(values, weights, k), rel=1e-9, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=3, max_size=300), st.integers(2, 6))
def test_fit_optimal_beats_every_strategy_on_images(pixels, k):
    image = np.array(pixels, dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        errors = {
            s: vqimage.metrics.mse(image, vqimage.decode(
                vqimage.encode(image, vqimage.fit(image, k, strategy=s)), vqimage.fit(image, k, strategy=s),
                dtype=np.float64))
            for s in STRATEGIES
        }
        codebook = vqimage.fit(image, k)
    values, counts = np.unique(image, return_counts=True)
    if values.size >= k:
        best = brute_force_contiguous(values.astype(float), counts.astype(float), k) / image.size
        assert errors["optimal"] == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert all(errors["optimal"] <= e + 1e-9 for e in errors.values())
    # The codebook's edges reproduce the partition its levels are centroids of.
    codes = vqimage.encode(image, codebook)
    for code, level in enumerate(codebook.levels):
        assert level == pytest.approx(image[codes == code].mean())


def test_face_seed_numbers(face):
    codebook = vqimage.fit(face, 8)
    codes = vqimage.encode(face, codebook)
    assert codes.dtype == np.uint8
    assert vqimage.metrics.mse(face, vqimage.decode(codes, codebook, dtype=np.float64)) == pytest.approx(63.32, abs=0.01)
    assert vqimage.metrics.mse(face, vqimage.decode(codes, codebook)) == pytest.approx(63.41, abs=0.01)
    # First gray value of each level: 38, 68, 93, 117, 141, 166, 193.
    starts = np.flatnonzero(np.diff(vqimage.encode(np.arange(256, dtype=np.uint8), codebook))) + 1
    assert starts.tolist() == [38, 68, 93, 117, 141, 166, 193]
    # The seed's kmeans (midpoint reconstruction) is worse: MSE ~74.3 with sklearn, 73.80 here.
    kmeans = vqimage.fit(face, 8, strategy="kmeans", reconstruction="midpoint")
    assert vqimage.metrics.mse(face, vqimage.decode(vqimage.encode(face, kmeans), kmeans, dtype=float)) > 73.7


def test_uniform_matches_kbinsdiscretizer_edges(camera):
    from sklearn.preprocessing import KBinsDiscretizer

    sk = KBinsDiscretizer(n_bins=8, encode="ordinal", strategy="uniform", subsample=None).fit(camera.reshape(-1, 1))
    cb = vqimage.fit(camera, 8, strategy="uniform", reconstruction="midpoint")
    np.testing.assert_allclose(cb.edges, sk.bin_edges_[0])
    codes = sk.transform(camera.reshape(-1, 1)).reshape(camera.shape)
    np.testing.assert_array_equal(vqimage.encode(camera, cb), codes)


@pytest.mark.parametrize("method", ["averaged_inverted_cdf", "inverted_cdf"])
def test_quantile_thresholds_are_numpy_percentiles(method):
    rng = np.random.default_rng(0)
    data = rng.normal(size=999).round(1)  # many ties
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        cb = vqimage.fit(data, 5, strategy="quantile", quantile_method=method)
    expected = np.unique(np.percentile(data, np.linspace(0, 100, 6)[1:-1], method=method))
    assert cb.thresholds.tolist() == expected.tolist()  # all four, not a subset an empty fit would pass


def test_quantile_on_ties_warns_and_drops_empty_bins():
    image = np.array([0] * 90 + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dtype=np.uint8)
    with pytest.warns(FitWarning, match=r"only \d+ of 8 bins non-empty"):
        cb = vqimage.fit(image, 8, strategy="quantile")
    assert cb.n_levels < 8
    assert np.isfinite(cb.edges).all()
    assert np.unique(vqimage.encode(image, cb)).size == cb.n_levels


def test_kmeans_is_a_lloyd_fixed_point_and_deterministic(camera):
    a = vqimage.fit(camera, 16, strategy="kmeans")
    b = vqimage.fit(camera, 16, strategy="kmeans")
    assert a == b
    codes = vqimage.encode(camera, a)
    centroids = np.array([camera[codes == i].mean() for i in range(a.n_levels)])
    np.testing.assert_allclose(a.levels, centroids)
    np.testing.assert_allclose(a.thresholds, (centroids[1:] + centroids[:-1]) / 2)


def test_kmeans_max_iter_warns(camera):
    with pytest.warns(FitWarning, match="did not converge in max_iter=1"):
        vqimage.fit(camera, 16, strategy="kmeans", max_iter=1)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_reconstruction_rules(strategy, camera):
    image = camera[::4, ::4]
    for rule in RECONSTRUCTIONS:
        cb = vqimage.fit(image, 6, strategy=strategy, reconstruction=rule)
        codes = vqimage.encode(image, cb)
        for i in range(cb.n_levels):
            members = np.sort(image[codes == i].astype(float))
            if members.size == 0:
                assert cb.levels[i] == pytest.approx((cb.edges[i] + cb.edges[i + 1]) / 2)
            elif rule == "centroid":
                assert cb.levels[i] == pytest.approx(members.mean())
            elif rule == "median":
                assert cb.levels[i] == members[(members.size - 1) // 2]
            else:
                assert cb.levels[i] == pytest.approx((cb.edges[i] + cb.edges[i + 1]) / 2)


def test_sample_weights_equal_repeated_pixels():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 200, 500).astype(np.uint8)
    weights = rng.integers(0, 4, 500)
    repeated = np.repeat(image, weights)
    for strategy in STRATEGIES:
        a = vqimage.fit(image, 5, strategy=strategy, weights=weights)
        b = vqimage.fit(repeated, 5, strategy=strategy)
        np.testing.assert_allclose(a.levels, b.levels)
        np.testing.assert_allclose(a.edges, b.edges)


def test_merged_histograms_fit_a_shared_codebook(camera):
    top, bottom = camera[:256], camera[256:]
    shared = vqimage.fit(vqimage.histogram(top) + vqimage.histogram(bottom), 8)
    assert shared == vqimage.fit(camera, 8)
    assert sum([vqimage.histogram(top), vqimage.histogram(bottom)]).total == camera.size


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", "uint32", "int32", "int64", "float32", "float64"])
def test_every_dtype_round_trips(dtype):
    rng = np.random.default_rng(2)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "ui" else None
    low, high = (max(info.min, -3000), min(info.max, 3000)) if info else (-1.5, 2.5)
    image = (rng.uniform(low, high, (37, 23))).astype(dtype)
    cb = vqimage.fit(image, 12)
    codes = vqimage.encode(image, cb)
    assert codes.dtype == np.uint8 and codes.shape == image.shape
    recon = vqimage.decode(codes, cb)
    assert recon.dtype == image.dtype
    expected = np.searchsorted(cb.thresholds, image.astype(np.float64), side="right")
    np.testing.assert_array_equal(codes, expected)


def test_16_bit_image_at_256_levels_is_exactly_optimal():
    rng = np.random.default_rng(3)
    image = (rng.gamma(3.0, 6000.0, (300, 200))).clip(0, 65535).astype(np.uint16)
    cb = vqimage.fit(image, 256)
    hist = vqimage.histogram(image)
    _, cost = optimal_partition(hist.values, hist.counts, 256)
    mse = vqimage.metrics.mse(image, vqimage.decode(vqimage.encode(image, cb), cb, dtype=np.float64))
    # The DP's costs come from float64 prefix sums: ~1e-9 relative rounding.
    assert mse == pytest.approx(cost / image.size, rel=1e-8)
    # No single value moved across any edge lowers the exact (two-pass) error.
    labels = vqimage.encode(hist.values.astype(np.uint16), cb).astype(int)

    def cluster_sse(mask):
        x, w = hist.values[mask], hist.counts[mask]
        return float(np.sum(w * (x - np.average(x, weights=w)) ** 2)) if mask.any() else 0.0

    for edge in range(1, cb.n_levels):
        pair = (labels == edge - 1) | (labels == edge)
        before = cluster_sse(labels == edge - 1) + cluster_sse(labels == edge)
        first_upper = np.flatnonzero(labels == edge)[0]
        for moved in (first_upper - 1, first_upper):  # last of the lower group, first of the upper
            shifted = labels.copy()
            shifted[moved] = edge if moved < first_upper else edge - 1
            if not ((shifted == edge - 1).any() and (shifted == edge).any()):
                continue
            after = cluster_sse(pair & (shifted == edge - 1)) + cluster_sse(pair & (shifted == edge))
            assert after >= before * (1 - 1e-12)
    assert vqimage.encode(image, vqimage.fit(image, 300)).dtype == np.uint16


def test_float_images_exact_and_binned():
    rng = np.random.default_rng(4)
    image = rng.random((64, 64))
    exact = vqimage.fit(image, 4)
    binned = vqimage.fit(image, 4, bins=1024)
    assert exact.dtype == np.float64
    # Binning only restricts where edges may fall: the error is nearly the same.
    errors = [vqimage.metrics.mse(image, vqimage.decode(vqimage.encode(image, cb), cb)) for cb in (exact, binned)]
    assert errors[1] == pytest.approx(errors[0], rel=1e-5)  # measured 1.6e-6
    with pytest.raises(ValueError, match="applies to float images only"):
        vqimage.fit(np.zeros(4, np.uint8) + np.arange(4, dtype=np.uint8), 2, bins=10)


def test_fewer_distinct_values_than_levels_warns_and_is_lossless():
    image = np.array([[3, 3, 9], [9, 200, 3]], dtype=np.uint8)
    for strategy in STRATEGIES:
        with pytest.warns(FitWarning, match="only 3 distinct value"):
            cb = vqimage.fit(image, 8, strategy=strategy)
        assert cb.n_levels == 3
        np.testing.assert_array_equal(vqimage.decode(vqimage.encode(image, cb), cb), image)
    with pytest.warns(FitWarning, match="only 1 distinct value"):
        constant = vqimage.fit(np.full((4, 4), 7.5), 2)
    assert constant.levels.tolist() == [7.5] and constant.edges.tolist() == [7.5, 7.5]
    assert vqimage.pack(vqimage.encode(np.full((4, 4), 7.5), constant), constant.n_levels) == b""


def test_uniform_with_an_explicit_range():
    image = np.array([10, 20, 30, 250], dtype=np.uint8)
    cb = vqimage.fit(image, 4, strategy="uniform", data_range=(0, 256), reconstruction="midpoint")
    assert cb.edges.tolist() == [0, 64, 128, 192, 256]
    assert cb.levels.tolist() == [32, 96, 160, 224]
    assert vqimage.encode(image, cb).tolist() == [0, 0, 0, 3]


def test_from_edges():
    cb = from_edges(np.array([1, 2, 3, 9], np.uint8), [0, 5, 10], reconstruction="midpoint")
    assert cb.levels.tolist() == [2.5, 7.5] and cb.strategy == "edges"
    with pytest.raises(ValueError, match="'edges' parameter of from_edges"):
        from_edges(np.arange(3), [5, 1])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_levels": 1}, ValueError, r"The 'n_levels' parameter of fit must be an int in \[2, 65536\]. Got 1 instead."),
        ({"n_levels": 65537}, ValueError, r"Got 65537 instead"),
        ({"n_levels": 2.5}, TypeError, r"'n_levels' parameter of fit must be an int"),
        ({"n_levels": True}, TypeError, r"'n_levels' parameter of fit must be an int"),
        ({"strategy": "best"}, ValueError, r"'strategy' parameter of fit must be one of \{'kmeans', 'optimal', 'quantile', 'uniform'\}"),
        ({"reconstruction": "mean"}, ValueError, r"'reconstruction' parameter of fit"),
        ({"quantile_method": "linear"}, ValueError, r"'quantile_method' parameter of fit"),
        ({"max_iter": 0}, ValueError, r"'max_iter' parameter of fit must be an int >= 1"),
        ({"weights": np.ones(3)}, ValueError, r"must have the image's shape \(2, 2\)"),
        ({"weights": -np.ones((2, 2))}, ValueError, r"'weights' parameter of fit must be >= 0"),
        ({"weights": np.zeros((2, 2))}, ValueError, r"all zeros"),
        ({"data_range": (1, 0), "strategy": "uniform"}, ValueError, r"'data_range' parameter of fit must be a pair"),
        ({"data_range": "0-1", "strategy": "uniform"}, ValueError, r"'data_range' parameter of fit must be a pair"),
    ],
)
def test_fit_parameter_errors(kwargs, error, match):
    params = {"n_levels": 2} | kwargs
    image = np.array([[0.0, 1.0], [2.0, 3.0]])
    with pytest.raises(error, match=match):
        vqimage.fit(image, **params)


@pytest.mark.parametrize(
    ("image", "error", "match"),
    [
        (np.array([], dtype=np.uint8), ValueError, r"'image' parameter of fit is empty"),
        (np.array([1.0, np.nan]), ValueError, r"contains 1 NaN or infinite"),
        (np.array([1.0, np.inf]), ValueError, r"NaN or infinite"),
        (np.array(["a", "b"]), TypeError, r"must be an array of integers or floats. Got dtype <U1"),
        (np.array([1, None], dtype=object), TypeError, r"Got dtype object"),
        (np.array([True, False]), TypeError, r"convert booleans"),
        (np.array([1 + 2j]), TypeError, r"complex128"),
        ([[1, 2], [3]], TypeError, r"must be a numeric array"),
        (np.array([0, 2**60], dtype=np.int64), ValueError, r"beyond \+-2\*\*53"),
    ],
)
def test_bad_images(image, error, match):
    with pytest.raises(error, match=match):
        vqimage.fit(image, 2)


def test_optimal_memory_guard():
    image = np.arange(600_000, dtype=np.float64)
    with pytest.raises(ValueError, match=r"bin the float image first \(bins=65536\)"):
        vqimage.fit(image, 1000)


# --------------------------------------------------------------------------- max_error_codebook


def min_levels_brute_force(values, bound):
    """Fewest groups over every partition of the sorted values (contiguous: optimal for 1-D)."""
    n = len(values)
    for k in range(1, n + 1):
        for cuts in itertools.combinations(range(1, n), k - 1):
            bounds = [0, *cuts, n]
            if all(values[b - 1] - values[a] <= 2 * bound for a, b in zip(bounds, bounds[1:])):
                return k
    return n


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(0, 255), min_size=1, max_size=9, unique=True), bound=st.integers(0, 20))
def test_max_error_codebook_matches_brute_force(values, bound):
    image = np.array(sorted(values), np.uint8)
    cb = max_error_codebook(image, bound)
    assert cb.n_levels == min_levels_brute_force(sorted(values), bound)
    assert np.abs(vqimage.decode(vqimage.encode(image, cb), cb).astype(int) - image.astype(int)).max() <= bound


def test_max_error_on_floats_is_not_rounded():
    image = np.array([0.0, 0.3, 0.61, 2.0])  # 0.61 is 0.01 too far from 0 to share its level
    cb = max_error_codebook(image, 0.3)
    assert cb.n_levels == 3 and np.abs(vqimage.decode(vqimage.encode(image, cb), cb) - image).max() <= 0.3
    assert max_error_codebook(image, 0.305).n_levels == 2
