"""Exact bit packing: sizes, round trips, golden bytes, corrupt input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vqimage
from vqimage import VQError
from vqimage.pack import bits_per_code, packed_size


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 65536), st.data())
def test_round_trip_and_exact_size(n_levels, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=20))
    codes = data.draw(hnp.arrays(np.uint16, shape, elements=st.integers(0, n_levels - 1)))
    packed = vqimage.pack(codes, n_levels)
    assert len(packed) == math.ceil(codes.size * bits_per_code(n_levels) / 8) == packed_size(codes.size, n_levels)
    restored = vqimage.unpack(packed, n_levels, shape)
    assert restored.dtype == (np.uint8 if n_levels <= 256 else np.uint16)
    np.testing.assert_array_equal(restored, codes)


def test_large_input_crosses_chunks():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 5, 3_000_001).astype(np.uint8)
    packed = vqimage.pack(codes, 5)
    assert len(packed) == math.ceil(3_000_001 * 3 / 8)
    np.testing.assert_array_equal(vqimage.unpack(packed, 5, codes.shape), codes)


def test_golden_bytes():
    # MSB first, no padding between codes: 0..7 as 3-bit fields.
    assert vqimage.pack(np.arange(8), 8) == bytes.fromhex("053977")
    assert vqimage.pack(np.array([1, 0, 1]), 2) == bytes([0b10100000])
    assert vqimage.pack(np.array([3, 0x1FF]), 512) == bytes.fromhex("01ffc0")  # 000000011 111111111 000000
    assert vqimage.pack(np.array([0xABCD]), 65536) == bytes.fromhex("abcd")


def test_face_packs_to_three_eighths(face):
    codes = vqimage.encode(face, vqimage.fit(face, 8))
    packed = vqimage.pack(codes, 8)
    assert len(packed) == 294_912 == 0.375 * face.nbytes
    np.testing.assert_array_equal(vqimage.unpack(packed, 8, face.shape), codes)


def test_corrupt_and_invalid_input():
    with pytest.raises(VQError, match="has 2 bytes; 8 codes of 3 bits need exactly 3"):
        vqimage.unpack(b"\x00\x00", 8, (8,))
    with pytest.raises(VQError, match="holds code 6 >= n_levels=5"):
        vqimage.unpack(bytes([0b11000000]), 5, (1,))
    with pytest.raises(VQError, match="non-zero padding"):
        vqimage.unpack(bytes([0b00000001]), 8, (1,))
    with pytest.raises(ValueError, match=r"must lie in \[0, 7\] for n_levels=8. Got values in \[0, 8\]"):
        vqimage.pack(np.array([0, 8]), 8)
    with pytest.raises(ValueError, match=r"'n_levels' parameter of bits_per_code must be an int in \[1, 65536\]"):
        vqimage.pack(np.array([0]), 0)
    with pytest.raises(TypeError, match="must be an integer array"):
        vqimage.pack(np.array([0.5]), 4)
    with pytest.raises(ValueError, match="'shape' parameter of unpack must be non-negative"):
        vqimage.unpack(b"", 4, (-1,))
