"""Histograms: exact counts for every dtype, weights, binning, merging."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vqimage
from vqimage import Histogram


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"])
def test_integer_counts_are_exact(dtype):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype)
    image = rng.integers(max(info.min, -40000), min(info.max, 40000), (50, 70), endpoint=True).astype(dtype)
    hist = vqimage.histogram(image)
    values, counts = np.unique(image, return_counts=True)
    np.testing.assert_array_equal(hist.values, values.astype(float))
    np.testing.assert_array_equal(hist.counts, counts)
    assert hist.dtype == image.dtype and hist.total == image.size
    assert (hist.low, hist.high) == (values[0], values[-1])


def test_wide_integer_span_uses_unique():
    image = np.array([-(2**40), 0, 0, 2**40], dtype=np.int64)
    hist = vqimage.histogram(image)
    assert hist.values.tolist() == [-(2**40), 0, 2**40] and hist.counts.tolist() == [1, 2, 1]


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float32, st.integers(1, 200), elements=st.floats(-1e6, 1e6, width=32)))
def test_float_histogram_is_exact_on_unique_values(image):
    hist = vqimage.histogram(image)
    values, counts = np.unique(image, return_counts=True)
    np.testing.assert_array_equal(hist.values, values.astype(np.float64))
    np.testing.assert_array_equal(hist.counts, counts)


def test_weights_and_zero_weights():
    image = np.array([1, 2, 2, 3], dtype=np.uint8)
    hist = vqimage.histogram(image, weights=[0.5, 1, 2, 0])
    assert hist.values.tolist() == [1, 2] and hist.counts.tolist() == [0.5, 3]
    assert hist.high == 2  # the zero-weight 3 is not counted


def test_binned_keeps_exact_means_and_merges_on_the_same_grid():
    rng = np.random.default_rng(1)
    a, b = rng.random(1000), rng.random(500)
    ha = vqimage.histogram(a, bins=10, data_range=(0, 1))
    hb = vqimage.histogram(b, bins=10, data_range=(0, 1))
    merged = ha + hb
    whole = vqimage.histogram(np.concatenate([a, b]), bins=10, data_range=(0, 1))
    np.testing.assert_allclose(merged.values, whole.values)
    np.testing.assert_array_equal(merged.counts, whole.counts)
    assert merged.mean() == pytest.approx(np.concatenate([a, b]).mean())
    with pytest.raises(ValueError, match="different binning"):
        ha + vqimage.histogram(b, bins=20, data_range=(0, 1))
    with pytest.raises(ValueError, match="different binning"):
        ha + vqimage.histogram(b)


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(np.uint16, st.integers(1, 300), elements=st.integers(0, 2000)),
    hnp.arrays(np.uint16, st.integers(1, 300), elements=st.integers(0, 2000)),
)
def test_sum_of_histograms_is_the_histogram_of_the_union(a, b):
    merged = vqimage.histogram(a) + vqimage.histogram(b)
    whole = vqimage.histogram(np.concatenate([a, b]))
    np.testing.assert_array_equal(merged.values, whole.values)
    np.testing.assert_array_equal(merged.counts, whole.counts)


def test_mixed_dtypes_promote():
    merged = vqimage.histogram(np.array([1], np.uint8)) + vqimage.histogram(np.array([300], np.uint16))
    assert merged.dtype == np.uint16 and merged.values.tolist() == [1, 300]


def test_repr_and_errors():
    hist = vqimage.histogram(np.arange(4, dtype=np.uint8))
    assert repr(hist) == "Histogram(n_values=4, total=4, dtype=uint8, range=[0, 3], exact)"
    assert isinstance(hist, Histogram)
    with pytest.raises(ValueError, match=r"The 'bins' parameter of histogram must be None or an int"):
        vqimage.histogram(np.ones(3), bins=0)
    with pytest.raises(ValueError, match=r"'data_range' parameter of histogram must be a pair"):
        vqimage.histogram(np.ones(3), bins=3, data_range=(0, np.nan))
    with pytest.raises(ValueError, match="Use vqimage.histogram|apply to images"):
        vqimage.fit(hist, 2, weights=np.ones(4))
