"""The "context" payload coder: round trips, golden bytes, damaged input, compression."""

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vqimage
from vqimage import VQError
from vqimage.pack.entropy import decode_codes, encode_codes

LEVELS = [1, 2, 3, 8, 16, 64, 256, 300, 65536]
SHAPES = [(1, 1), (1, 37), (37, 1), (9, 23), (31, 17)]


def _dtype(n_levels):
    return np.uint8 if n_levels <= 256 else np.uint16


def _round_trip(codes, n_levels):
    data = encode_codes(codes, n_levels)
    restored = decode_codes(data, n_levels, codes.shape)
    assert restored.dtype == _dtype(n_levels)
    np.testing.assert_array_equal(restored, codes)
    return data


@pytest.mark.parametrize("n_levels", LEVELS)
@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip_random_and_smooth(n_levels, shape):
    rng = np.random.default_rng(n_levels * 1000 + shape[0])
    _round_trip(rng.integers(0, n_levels, shape).astype(_dtype(n_levels)), n_levels)
    y, x = np.indices(shape)
    _round_trip(((x * 5 + y * 3) * n_levels // 150 % n_levels).astype(_dtype(n_levels)), n_levels)
    _round_trip(np.full(shape, n_levels - 1, _dtype(n_levels)), n_levels)


@pytest.mark.parametrize("n_levels", [2, 8, 64])
def test_round_trip_camera_codes(camera, n_levels):
    codes = vqimage.encode(camera, vqimage.fit(camera, n_levels))
    _round_trip(codes, n_levels)
    _round_trip(np.ascontiguousarray(codes[:101, :77]), n_levels)  # odd sizes, edges


@pytest.mark.parametrize("n_levels", [300, 65536])
def test_round_trip_camera_as_many_levels(camera, n_levels):
    codes = (camera.astype(np.uint32) * (n_levels - 1) // 255).astype(np.uint16)
    _round_trip(np.ascontiguousarray(codes[::2, ::3]), n_levels)


@pytest.mark.parametrize("n_levels", [126, 127, 128, 129])
def test_round_trip_at_the_byte_lanes_limit(n_levels):
    # Up to 127 levels, neighbours are compared with pv in byte lanes; above, one by one.
    # Extreme codes side by side stress the lanes' arithmetic.
    rng = np.random.default_rng(n_levels)
    y, x = np.indices((40, 53))
    codes = np.where((x // 3 + y // 2) % 2, n_levels - 1, 0)
    codes = np.where(rng.random(codes.shape) < 0.2, rng.integers(0, n_levels, codes.shape), codes)
    codes[:, 20:35] = (x[:, 20:35] * 9 + y[:, 20:35] * 5) % n_levels
    _round_trip(codes.astype(np.uint8), n_levels)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 65536), st.data())
def test_round_trip_any_shape_and_levels(n_levels, data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12))
    codes = data.draw(hnp.arrays(_dtype(n_levels), shape, elements=st.integers(0, n_levels - 1)))
    _round_trip(codes, n_levels)


def test_one_level_and_no_codes_take_no_bytes():
    assert encode_codes(np.zeros((3, 4), np.uint8), 1) == b""
    np.testing.assert_array_equal(decode_codes(b"", 1, (3, 4)), np.zeros((3, 4), np.uint8))
    assert encode_codes(np.zeros((0, 5), np.uint8), 8) == b""
    assert decode_codes(b"", 8, (0, 5)).shape == (0, 5)
    with pytest.raises(VQError, match="has 1 bytes where none are expected"):
        decode_codes(b"\x00", 1, (3, 4))


def test_deterministic_and_dtype_independent():
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 200, (40, 50)).astype(np.uint8)
    data = encode_codes(codes, 200)
    assert encode_codes(codes, 200) == data
    assert encode_codes(codes.astype(np.uint16), 200) == data
    assert encode_codes(codes.astype(np.int64), 200) == data
    assert encode_codes(np.asfortranarray(codes), 200) == data


def _golden_codes():
    y, x = np.mgrid[0:24, 0:40]
    return (
        (((x * 3 + y * y // 4) // 5 + (x * y) % 3) % 16).astype(np.uint8),
        ((x * 37 + y * 101 + (x * y) // 7) % 300).astype(np.uint16),
    )


def test_golden_bytes():
    # Any change to the model or the coder changes these: that is a new format.
    assert encode_codes(np.array([[0, 1, 2, 3], [1, 2, 3, 3]], np.uint8), 4).hex() == "7ddbf3c66b"
    assert encode_codes(np.zeros((1, 1), np.uint8), 2).hex() == "00000000"
    assert encode_codes(np.ones((1, 1), np.uint8), 2).hex() == "802ff7fd"
    codes16, codes300 = _golden_codes()
    for codes, n_levels, size, digest in [
        (codes16, 16, 248, "86ec4126269b0b89c3ecaca7a0517ae6e07683a9b2c0ac802fe46f1b69e9dc9a"),
        (codes300, 300, 631, "4425fbd289bff148e5741744cf728d2c354130aa45402fb6086718f3980088b5"),
    ]:
        data = encode_codes(codes, n_levels)
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, digest)
        np.testing.assert_array_equal(decode_codes(data, n_levels, codes.shape), codes)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([2, 5, 16, 300]), st.data())
def test_truncated_or_extended_payload_is_refused(n_levels, data):
    # The decoder reads exactly the bytes the encoder wrote, so every
    # truncation and every appended byte is detected.
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=10))
    codes = data.draw(hnp.arrays(_dtype(n_levels), shape, elements=st.integers(0, n_levels - 1)))
    payload = encode_codes(codes, n_levels)
    cut = data.draw(st.integers(0, len(payload) - 1))
    with pytest.raises(VQError, match="is truncated"):
        decode_codes(payload[:cut], n_levels, shape)
    extra = data.draw(st.binary(min_size=1, max_size=8))
    with pytest.raises(VQError, match=f"has {len(extra)} bytes after the end of the code"):
        decode_codes(payload + extra, n_levels, shape)


def test_decoder_stops_at_the_end_of_a_short_payload():
    with pytest.raises(VQError, match=r"truncated: 3 bytes, the code needs more \(read 4 before stopping\)"):
        decode_codes(b"\x12\x34\x56", 8, (4000, 4000))
    with pytest.raises(VQError, match="is truncated"):
        decode_codes(b"", 65536, (1, 1))


def test_impossible_start_is_refused():
    with pytest.raises(VQError, match="cannot start with 4 bytes 0xFF"):
        decode_codes(b"\xff\xff\xff\xff\x00", 8, (2, 2))


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=48), st.sampled_from([2, 3, 8, 64, 257, 65536]), st.integers(1, 9), st.integers(1, 9)
)
def test_garbage_never_crashes(data, n_levels, rows, cols):
    try:
        codes = decode_codes(data, n_levels, (rows, cols))
    except VQError:
        return
    assert codes.shape == (rows, cols) and codes.dtype == _dtype(n_levels)
    assert int(codes.max()) < n_levels


def test_invalid_parameters():
    codes = np.zeros((2, 2), np.uint8)
    with pytest.raises(ValueError, match=r"'n_levels' parameter of encode_codes must be an int in \[1, 6"):
        encode_codes(codes, 0)
    with pytest.raises(TypeError, match="'n_levels' parameter of decode_codes must be an int"):
        decode_codes(b"", 2.5, (1, 1))
    with pytest.raises(ValueError, match=r"must lie in \[0, 3\] for n_levels=4. Got values in \[0, 4\]"):
        encode_codes(np.array([[0, 4]]), 4)
    with pytest.raises(ValueError, match=r"must be a 2-D array. Got shape \(4,\)"):
        encode_codes(np.zeros(4, np.uint8), 4)
    with pytest.raises(TypeError, match="must be an integer array. Got dtype float64"):
        encode_codes(np.zeros((2, 2)), 4)
    with pytest.raises(ValueError, match="'shape' parameter of decode_codes must be a pair of ints"):
        decode_codes(b"", 4, (1, 2, 3))
    with pytest.raises(ValueError, match="'shape' parameter of decode_codes must be non-negative"):
        decode_codes(b"", 4, (-1, 2))
    with pytest.raises(TypeError, match="'data' parameter of decode_codes must be bytes-like. Got str"):
        decode_codes("abc", 4, (1, 1))


# Sizes are deterministic, so these are exact checks, not flaky ones. The bounds
# are JPEG XL lossless (effort 9) on the same quantized images, measured with
# imagecodecs 2026.3.6 (see the module docstring), and the 0.70 bpp goal.
@pytest.mark.parametrize(("n_levels", "bound"), [(2, 0.0524), (8, 0.62), (64, 2.3258)])
def test_camera_beats_jpeg_xl(camera, n_levels, bound):
    codes = vqimage.encode(camera, vqimage.fit(camera, n_levels))
    assert len(encode_codes(codes, n_levels)) * 8 / codes.size < bound


@pytest.mark.parametrize(("n_levels", "bound"), [(8, 0.70), (64, 2.3714)])
def test_face_beats_jpeg_xl(face, n_levels, bound):
    codes = vqimage.encode(face, vqimage.fit(face, n_levels))
    assert len(encode_codes(codes, n_levels)) * 8 / codes.size < bound
