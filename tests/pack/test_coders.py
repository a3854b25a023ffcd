"""The payload codecs: ContextCodec and PackedCodec round trips, configs, decode(out=...), get_codec."""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vqimage import VQError
from vqimage.pack import pack
from vqimage.pack.coders import CODERS, DEFAULT_CODER, ContextCodec, PackedCodec, from_config, get_codec
from vqimage.pack.entropy import encode_codes

CODECS = [ContextCodec, PackedCodec]


def random_codes(seed, n_levels, shape):
    dtype = np.uint8 if n_levels <= 256 else np.uint16
    return np.random.default_rng(seed).integers(0, n_levels, shape).astype(dtype)


def test_the_registry():
    assert CODERS == {"context": ContextCodec, "packed": PackedCodec} and DEFAULT_CODER == "context"
    for codec_id, cls in CODERS.items():
        codec = get_codec(codec_id, 5, (3, 4))
        assert type(codec) is cls and codec.codec_id == codec_id
        assert (codec.n_levels, codec.shape) == (5, (3, 4))
    assert repr(get_codec("packed", 5, [3, 4])) == "PackedCodec(n_levels=5, shape=(3, 4))"


@pytest.mark.parametrize("cls", CODECS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_levels=st.sampled_from([1, 2, 3, 8, 16, 255, 256, 257, 1000, 65536]),
    shape=st.tuples(st.integers(0, 12), st.integers(0, 12)),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_random_codes(cls, n_levels, shape, seed):
    codes = random_codes(seed, n_levels, shape)
    codec = cls(n_levels, shape)
    assert codec.dtype == codes.dtype
    data = codec.encode(codes)
    assert isinstance(data, bytes)
    restored = codec.decode(data)
    assert restored.shape == shape and restored.dtype == codec.dtype
    np.testing.assert_array_equal(restored, codes)
    again = from_config(codec.get_config())  # a codec rebuilt from its config reads the same payload
    np.testing.assert_array_equal(again.decode(data), codes)


def test_payloads_are_the_pack_and_entropy_functions():
    codes = random_codes(1, 300, (9, 11))
    assert PackedCodec(300, (9, 11)).encode(codes) == pack(codes, 300)
    assert ContextCodec(300, (9, 11)).encode(codes) == encode_codes(codes, 300)
    assert PackedCodec(8, (1, 8)).encode(np.arange(8, dtype=np.uint8).reshape(1, 8)).hex() == "053977"
    for cls in CODECS:  # one level, or no codes: an empty payload
        assert cls(1, (3, 3)).encode(np.zeros((3, 3), np.uint8)) == b""
        assert cls(5, (0, 4)).encode(np.zeros((0, 4), np.uint8)) == b""
        np.testing.assert_array_equal(cls(1, (3, 3)).decode(b""), np.zeros((3, 3), np.uint8))


@pytest.mark.parametrize("cls", CODECS)
def test_config_round_trip(cls):
    codec = cls(300, (5, 7))
    config = codec.get_config()
    assert config == {"id": cls.codec_id, "n_levels": 300, "shape": [5, 7]}
    again = from_config(config)
    assert type(again) is cls and (again.n_levels, again.shape) == (300, (5, 7))
    assert again.get_config() == config
    assert from_config(config | {"shape": (5, 7)}).shape == (5, 7)


@pytest.mark.parametrize("cls", CODECS)
@pytest.mark.parametrize("n_levels", [7, 300])
def test_decode_writes_into_out(cls, n_levels):
    codes = random_codes(n_levels, n_levels, (6, 5))
    codec = cls(n_levels, (6, 5))
    data = codec.encode(codes)
    out = np.full((6, 5), 1, codec.dtype)
    assert codec.decode(data, out=out) is out
    np.testing.assert_array_equal(out, codes)


@pytest.mark.parametrize("cls", CODECS)
def test_decode_refuses_an_out_of_the_wrong_shape_or_dtype(cls):
    codes = random_codes(2, 300, (5, 7))
    codec = cls(300, (5, 7))
    data = codec.encode(codes)
    name = cls.__name__
    strided = np.zeros((5, 14), np.uint16)[:, ::2]
    for bad in (np.zeros((5, 7), np.uint8), np.zeros((7, 5), np.uint16), np.zeros(35, np.uint16), strided):
        message = rf"The 'out' parameter of {name}.decode must be a C-contiguous uint16 array of shape \(5, 7\). "
        with pytest.raises(ValueError, match=message + re.escape(f"Got {bad.dtype} of shape {bad.shape}.")):
            codec.decode(data, out=bad)
        assert not bad.any()  # left untouched


@pytest.mark.parametrize("cls", CODECS)
def test_encode_refuses_codes_of_another_shape(cls):
    codec = cls(8, (2, 2))
    with pytest.raises(ValueError, match=rf"'codes' parameter of {cls.__name__}.encode must have shape \(2, 2\). "
                                         r"Got \(3, 3\)"):
        codec.encode(np.zeros((3, 3), np.uint8))


@pytest.mark.parametrize("cls", CODECS)
def test_damaged_payloads_are_refused(cls):
    codes = random_codes(3, 9, (8, 8))
    codec = cls(9, (8, 8))
    data = codec.encode(codes)
    with pytest.raises(VQError):
        codec.decode(data[:-1])
    with pytest.raises(VQError):
        codec.decode(data + b"\x00")


def test_get_codec_and_from_config_refuse_an_unknown_id():
    with pytest.raises(ValueError, match=r"The 'coder' parameter of get_codec must be one of "
                                         r"\{'context', 'packed'\}. Got 'zip' instead"):
        get_codec("zip", 4, (2, 2))
    with pytest.raises(ValueError, match=r"The 'coder' parameter of decompress must be one of .* Got 'lz4'"):
        get_codec("lz4", 4, (2, 2), caller="decompress")
    with pytest.raises(ValueError, match=r"The 'coder' parameter of from_config must be one of .* Got 'zip'"):
        from_config({"id": "zip", "n_levels": 4, "shape": [2, 2]})


@pytest.mark.parametrize("cls", CODECS)
@pytest.mark.parametrize(
    ("n_levels", "shape", "error", "match"),
    [
        (0, (2, 2), ValueError, r"'n_levels' parameter of {name} must be an int in \[1, 65536\]. Got 0"),
        (65537, (2, 2), ValueError, r"'n_levels' parameter of {name} must be an int in \[1, 65536\]"),
        (True, (2, 2), TypeError, r"'n_levels' parameter of {name} must be an int"),
        (4, (2,), ValueError, r"'shape' parameter of {name} must be a pair of ints. Got \(2,\)"),
        (4, (2.0, 2), ValueError, r"'shape' parameter of {name} must be a pair of ints"),
        (4, "ab", ValueError, r"'shape' parameter of {name} must be a pair of ints"),
        (4, (-1, 2), ValueError, r"'shape' parameter of {name} must be non-negative"),
    ],
)
def test_invalid_parameters(cls, n_levels, shape, error, match):
    with pytest.raises(error, match=match.format(name=cls.__name__)):
        cls(n_levels, shape)
