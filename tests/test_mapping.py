"""Encode and decode: LUT and search paths agree, dtypes, determinism, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vqimage


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["uint8", "int8", "uint16", "int16", "int32", "float32"]),
    st.integers(2, 40),
    st.data(),
)
def test_encode_is_searchsorted_of_thresholds(dtype, k, data):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        elements = st.floats(-1e4, 1e4, width=32)
    else:
        info = np.iinfo(dtype)
        elements = st.integers(max(info.min, -70000), min(info.max, 70000))
    image = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=1, max_dims=3, max_side=12), elements=elements))
    fit_on = data.draw(hnp.arrays(dtype, st.integers(1, 50), elements=elements))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vqimage.FitWarning)
        cb = vqimage.fit(fit_on, k)
    codes = vqimage.encode(image, cb)
    assert codes.shape == image.shape and codes.dtype == np.uint8
    expected = np.searchsorted(cb.thresholds, image.astype(np.float64), side="right")
    np.testing.assert_array_equal(codes, expected)
    np.testing.assert_array_equal(vqimage.decode(codes, cb), cb.levels_as(dtype)[codes])


def test_decode_rounds_half_to_even_and_clips():
    cb = vqimage.Codebook([-3.0, 2.5, 3.5, 300.0], [-3, 0, 3, 100, 300], strategy="edges",
                          reconstruction="centroid", dtype=np.uint8)
    codes = np.arange(4, dtype=np.uint8)
    assert vqimage.decode(codes, cb).tolist() == [0, 2, 4, 255]
    assert vqimage.decode(codes, cb, dtype=np.float32).dtype == np.float32
    assert vqimage.decode(codes.astype(np.int64), cb, dtype=np.int16).tolist() == [-3, 2, 4, 300]


def test_codes_are_uint16_above_256_levels():
    image = np.arange(1000, dtype=np.uint16)
    cb = vqimage.fit(image, 500)
    codes = vqimage.encode(image, cb)
    assert codes.dtype == np.uint16 and codes.max() == 499
    np.testing.assert_array_equal(vqimage.decode(codes, cb), vqimage.decode(codes, cb))


def test_non_contiguous_views_and_determinism(camera):
    cb = vqimage.fit(camera, 8)
    view = camera[::3, ::-2]
    np.testing.assert_array_equal(vqimage.encode(view, cb), vqimage.encode(np.ascontiguousarray(view), cb))
    assert vqimage.encode(camera, cb).tobytes() == vqimage.encode(camera, vqimage.fit(camera, 8)).tobytes()


def test_errors():
    cb = vqimage.fit(np.arange(10, dtype=np.uint8), 4)
    with pytest.raises(ValueError, match=r"must lie in \[0, 3\] for a 4-level codebook. Got values in \[0, 4\]"):
        vqimage.decode(np.array([0, 4], dtype=np.uint8), cb)
    with pytest.raises(TypeError, match="'codes' parameter of decode must be an integer array"):
        vqimage.decode(np.array([0.0]), cb)
    with pytest.raises(TypeError, match="'codebook' parameter of encode must be a vqimage Codebook"):
        vqimage.encode(np.zeros(3), "codebook")
    with pytest.raises(ValueError, match="NaN or infinite"):
        vqimage.encode(np.array([np.nan]), cb)
    with pytest.raises(TypeError, match="'dtype' parameter of decode"):
        vqimage.decode(np.zeros(2, np.uint8), cb, dtype=bool)


def test_decode_tables_are_kept_per_output_dtype():
    cb = vqimage.fit(np.array([0, 1, 10, 11], dtype=np.uint8), 2)
    codes = np.array([0, 1], dtype=np.uint8)
    assert vqimage.decode(codes, cb).dtype == np.uint8
    assert vqimage.decode(codes, cb, dtype=np.float64).tolist() == [0.5, 10.5]
    assert vqimage.decode(codes, cb, dtype=np.dtype(np.float32)).dtype == np.float32
    assert vqimage.decode(codes, cb).tolist() == [0, 10]
