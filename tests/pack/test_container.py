"""The .vq container: gray, color and block round trips; safety against damaged and hostile files."""

import json
import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vqimage
from conftest import rgba_image
from vqimage import VQError, fit
from vqimage.pack.container import CODERS, MAGIC

AVAILABLE_CODERS = list(CODERS)


def small_file(coder="packed", shape=(7, 9), k=5, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    return image, vqimage.compress(image, k, coder=coder)


def with_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


def rebuild(header: dict, payload: bytes, **fixed) -> bytes:
    """A .vq file with a valid CRC around any header/payload (to reach the checks after the CRC)."""
    raw = zlib.compress(json.dumps(header).encode())
    fields = {"magic": MAGIC, "major": 1, "minor": 0, "flags": 0, "hlen": len(raw), "plen": len(payload)} | fixed
    head = struct.pack("<8sBBHIQ", *fields.values())
    return with_crc(head + raw + payload)


def parts(data: bytes):
    hlen, plen = struct.unpack_from("<IQ", data, 12)
    return json.loads(zlib.decompress(data[24 : 24 + hlen])), data[24 + hlen : 24 + hlen + plen]


@pytest.mark.parametrize("coder", AVAILABLE_CODERS)
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "float32", "float64"])
def test_round_trip_dtypes(coder, dtype):
    rng = np.random.default_rng(1)
    image = (rng.normal(size=(31, 17)) * 1000).astype(dtype) if dtype != "uint8" else rng.integers(0, 256, (31, 17), dtype=np.uint8)
    codebook = vqimage.fit(image, 6)
    data = vqimage.compress(image, codebook=codebook, coder=coder)
    codes, restored = vqimage.decompress(data)
    np.testing.assert_array_equal(codes, vqimage.encode(image, codebook))
    assert restored == codebook and restored.dtype == image.dtype
    np.testing.assert_array_equal(vqimage.decompress_image(data), vqimage.decode(vqimage.encode(image, codebook), codebook))


@pytest.mark.parametrize("coder", AVAILABLE_CODERS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=16),
    n_levels=st.sampled_from([2, 3, 7, 16, 255, 256, 257, 1000, 65536]),
    data=st.data(),
)
def test_round_trip_property(coder, shape, n_levels, data):
    values = data.draw(hnp.arrays(np.uint16, shape, elements=st.integers(0, 65535)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vqimage.FitWarning)
        codebook = vqimage.fit(values, n_levels)
    blob = vqimage.compress(values, codebook=codebook, coder=coder)
    codes, restored = vqimage.decompress(blob)
    assert codes.shape == values.shape and restored == codebook
    np.testing.assert_array_equal(codes, vqimage.encode(values, codebook))


def test_compact_edges_round_trip_exactly(camera):
    for strategy in ("optimal", "kmeans", "quantile"):
        codebook = vqimage.fit(camera, 16, strategy=strategy)
        data = vqimage.compress(camera, codebook=codebook)
        header, _ = parts(data)
        assert isinstance(header["codebook"]["edges"], dict) == (strategy != "quantile")
        assert vqimage.decompress(data)[1] == codebook
    header, payload = parts(vqimage.compress(camera, 4))
    for bad in ({"low": 0}, {"low": "x", "high": 1}, [1, 0]):
        with pytest.raises(VQError, match="Invalid codebook config"):
            vqimage.decompress(rebuild(header | {"codebook": header["codebook"] | {"edges": bad}}, payload))


def test_info(camera):
    data = vqimage.compress(camera, 8, coder="packed")
    info = vqimage.vq_info(data)
    assert info["shape"] == [512, 512] and info["n_levels"] == 8 and info["coder"] == "packed"
    assert info["payload_bytes"] == 98_304 and info["bytes"] == len(data)
    assert info["bits_per_pixel"] == pytest.approx(8 * len(data) / camera.size)
    assert info["ratio"] == pytest.approx(camera.nbytes / len(data))


@pytest.mark.parametrize("coder", AVAILABLE_CODERS)
def test_every_single_byte_corruption_is_detected(coder):
    image, data = small_file(coder)
    for position in range(len(data)):
        for flip in (0x01, 0x80, 0xFF):
            damaged = bytearray(data)
            damaged[position] ^= flip
            with pytest.raises(VQError):
                vqimage.decompress(bytes(damaged))


@pytest.mark.parametrize("coder", AVAILABLE_CODERS)
def test_every_truncation_and_extension_is_detected(coder):
    _, data = small_file(coder)
    for length in range(len(data)):
        with pytest.raises(VQError, match=r"(shorter than any|truncated|wrong magic)"):
            vqimage.decompress(data[:length])
    with pytest.raises(VQError, match="has trailing data"):
        vqimage.decompress(data + b"\x00")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "shorter than any .vq file"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, r"Not a .vq file \(wrong magic bytes\)"),
        (b"hello world, this is a text file, not an image at all", "wrong magic"),
    ],
)
def test_foreign_files(data, match):
    with pytest.raises(VQError, match=match):
        vqimage.decompress(data)


def test_hostile_headers_are_refused_before_allocating():
    _, data = small_file()
    header, payload = parts(data)
    # A ~100-byte file that declares 10**12 pixels.
    huge = rebuild(header | {"shape": [1_000_000, 1_000_000]}, payload)
    with pytest.raises(VQError, match=r"declares 1,000,000,000,000 pixels, above the limit"):
        vqimage.decompress(huge)
    with pytest.raises(VQError, match=r"payload bytes cannot hold 1,000,000,000,000 packed codes"):
        vqimage.decompress(huge, max_pixels=10**13)
    context = header | {"shape": [100_000, 100_000], "coder": "context"}
    with pytest.raises(VQError, match="payload bytes cannot describe 10,000,000,000 pixels"):
        vqimage.decompress(rebuild(context, payload), max_pixels=10**13)
    cases = [
        (header | {"shape": [0, 5]}, "invalid shape"),
        (header | {"shape": [3, -1]}, "invalid shape"),
        (header | {"shape": "7x9"}, "invalid shape"),
        (header | {"shape": [7.0, 9]}, "invalid shape"),
        (header | {"shape": [1] * 33}, "invalid shape"),
        (header | {"coder": "zip"}, "Unsupported payload coder 'zip'"),
        (header | {"n_levels": 6}, "n_levels disagrees"),
        (header | {"codebook": {"type": "scalar"}}, "Unsupported codebook config version"),
        (header | {"codebook": header["codebook"] | {"edges": [1, 0]}}, "Invalid codebook config"),
        (header | {"codebook": header["codebook"] | {"dtype": "O"}}, "Invalid codebook config"),
        ([1, 2], "not a JSON object"),
    ]
    for bad, match in cases:
        with pytest.raises(VQError, match=match):
            vqimage.decompress(rebuild(bad, payload))
    for bad_header in (b"{x}", zlib.compress(b"{x}"), zlib.compress(b"{}")[:-2], zlib.compress(b"{}") + b"!"):
        raw = with_crc(struct.pack("<8sBBHIQ", MAGIC, 1, 0, 0, len(bad_header), 0) + bad_header)
        with pytest.raises(VQError, match="unreadable header"):
            vqimage.decompress(raw)
    bomb = zlib.compress(b" " * (17 << 20))  # inflates past the 16 MiB limit
    with pytest.raises(VQError, match="unreadable header"):
        vqimage.decompress(with_crc(struct.pack("<8sBBHIQ", MAGIC, 1, 0, 0, len(bomb), 0) + bomb))
    with pytest.raises(VQError, match=r"Unsupported .vq format version 2.0"):
        vqimage.decompress(rebuild(header, payload, major=2))
    with pytest.raises(VQError, match="Unsupported .vq flags 0x0001"):
        vqimage.decompress(rebuild(header, payload, flags=1))
    big = struct.pack("<8sBBHIQ", MAGIC, 1, 0, 0, 1 << 30, 0)
    with pytest.raises(VQError, match="header length 1073741824 exceeds"):
        vqimage.decompress(with_crc(big))
    with pytest.raises(VQError, match="header says 1"):  # a payload length near 2**64
        vqimage.decompress(with_crc(struct.pack("<8sBBHIQ", MAGIC, 1, 0, 0, 0, 2**64 - 1)))


def one_level_file(**options):
    """A real .vq of a constant 8x8 image: one level, so its packed payload is empty at any size."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vqimage.FitWarning)
        return parts(vqimage.compress(np.full((8, 8), 7, np.uint8), 2, coder="packed", **options))


def test_small_hostile_files_cannot_ask_for_gigabytes():
    from vqimage.pack.container import DEFAULT_MAX_PIXELS

    assert DEFAULT_MAX_PIXELS == 2**27
    header, payload = one_level_file()
    assert header["n_levels"] == 1 and payload == b""
    big = rebuild(header | {"shape": [32768, 32768]}, payload)  # a 1 GiB image in under 200 bytes
    assert len(big) < 200
    with pytest.raises(VQError, match=r"declares 1,073,741,824 pixels, above the limit of 134,217,728 \(max_pixels"):
        vqimage.decompress_image(big)
    with pytest.raises(VQError, match=r"declares 1,073,741,824 pixels"):
        vqimage.vq_info(big)
    assert vqimage.vq_info(big, max_pixels=2**30)["image_shape"] == [32768, 32768]  # a user can raise it
    wide = header | {"shape": [10_000, 10_000], "codebook": header["codebook"] | {"dtype": "<f8"}}
    with pytest.raises(VQError, match=r"would decode to 800,000,000 bytes, above 4 bytes per pixel of the limit"):
        vqimage.decompress_image(rebuild(wide, payload))  # 10**8 pixels pass, 8 bytes each do not
    small = rebuild(header | {"shape": [300, 400]}, payload)
    with pytest.raises(VQError, match=r"would decode to 960,000 bytes as float64"):
        vqimage.decompress_image(small, dtype=np.float64, max_pixels=200_000)
    assert vqimage.decompress_image(small).shape == (300, 400)
    # block files count the image, not the tiles: 16x fewer codes than pixels
    blocks, payload = one_level_file(mode="block", block=(4, 4))
    huge = rebuild(blocks | {"shape": [16384, 16384], "image_shape": [65536, 65536]}, payload, minor=1)
    with pytest.raises(VQError, match=r"declares 4,294,967,296 pixels, above the limit of 300,000,000"):
        vqimage.decompress_image(huge, max_pixels=300_000_000)


@pytest.mark.parametrize(("change", "match"), [
    (lambda h: "[" * 100_000 + "]" * 100_000, r"unreadable header \(nested too deeply\)"),
    (lambda h: json.dumps(h | {"codebook": h["codebook"] | {"levels": [10**400]}}), "Invalid codebook config"),
    (lambda h: json.dumps(h | {"codebook": h["codebook"] | {"edges": [0, float("inf")]}}), "Invalid codebook config"),
    (lambda h: json.dumps(h | {"codebook": h["codebook"] | {"levels": [[[[[7]]]]]}}), "Invalid codebook config"),
    (lambda h: json.dumps(h | {"n_levels": 10**400}), "n_levels disagrees"),
    (lambda h: json.dumps(h | {"shape": [10**400, 1]}), r"invalid shape \(a dimension above 2\*\*40\)\.$"),
])
def test_hostile_headers_are_one_vq_error(change, match):
    header, payload = one_level_file()
    raw = zlib.compress(change(header).encode())
    data = with_crc(struct.pack("<8sBBHIQ", MAGIC, 1, 0, 0, len(raw), len(payload)) + raw + payload)
    with pytest.raises(VQError, match=match):
        vqimage.decompress(data)


def test_a_block_size_beyond_int64_is_one_vq_error():
    blocks, payload = one_level_file(mode="block", block=(4, 4))
    for block in ([float("inf"), 4], [10**30, 4], [4.5, 4]):
        bad = blocks | {"codebook": blocks["codebook"] | {"block": block}}
        with pytest.raises(VQError, match="Invalid codebook config"):
            vqimage.decompress(rebuild(bad, payload, minor=1))


@pytest.mark.parametrize("coder", AVAILABLE_CODERS)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_fuzz_mutated_files_with_fixed_crc(coder, data):
    """Mutations re-sealed with a valid CRC reach the parser and decoder: VQError or the original, never else."""
    image, blob = small_file(coder, shape=(5, 6), k=4)
    body = bytearray(blob[:-4])
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "set", "cut", "insert"]))
        position = data.draw(st.integers(0, max(len(body) - 1, 0)))
        if kind == "flip" and body:
            body[position] ^= data.draw(st.integers(1, 255))
        elif kind == "set" and body:
            body[position] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del body[position : position + data.draw(st.integers(1, 8))]
        else:
            body[position:position] = data.draw(st.binary(min_size=1, max_size=8))
    mutated = with_crc(bytes(body))
    try:
        codes, codebook = vqimage.decompress(mutated)
    except VQError:
        return
    assert codes.dtype.kind == "u" and int(codes.max(initial=0)) < codebook.n_levels


def test_errors_of_the_api(camera):
    with pytest.raises(TypeError, match="compress needs n_levels"):
        vqimage.compress(camera)
    with pytest.raises(TypeError, match="either a codebook or n_levels"):
        vqimage.compress(camera, 8, codebook=vqimage.fit(camera, 8))
    with pytest.raises(ValueError, match=r"'coder' parameter of compress must be one of \{'context', 'packed'\}"):
        vqimage.compress(camera, 8, coder="zip")
    with pytest.raises(TypeError, match="read from bytes; got str"):
        vqimage.decompress("camera.vq")
    with pytest.raises(ValueError, match="'max_pixels' parameter of decompress"):
        vqimage.decompress(b"", max_pixels=0)


# --------------------------------------------------------------------------- color and block .vq files


@pytest.mark.parametrize("coder", ["context", "packed"])
@pytest.mark.parametrize("kind", ["rgb", "rgba", "block22", "block44"])
def test_vq_round_trip(coder, kind, astronaut):
    if kind == "rgb":
        image, options = astronaut[100:161, 50:133], {"mode": "color"}
    elif kind == "rgba":
        image, options = rgba_image(), {"mode": "color"}
    else:
        side = 2 if kind == "block22" else 4
        image, options = vqimage.load_image("camera")[:37, :51], {"mode": "block", "block": (side, side)}
    cb = fit(image, 12, **options)
    data = vqimage.compress(image, 12, coder=coder, **options)
    codes, restored = vqimage.decompress(data)
    assert restored == cb
    np.testing.assert_array_equal(codes, vqimage.encode(image, cb))
    recon = vqimage.decompress_image(data)
    assert recon.shape == image.shape and recon.dtype == np.uint8
    expected = vqimage.decode(vqimage.encode(image, cb), cb, shape=image.shape if cb.mode == "block" else None)
    np.testing.assert_array_equal(recon, expected)
    assert vqimage.compress(image, codebook=cb, coder=coder) == data
    info = vqimage.vq_info(data)
    assert info["mode"] == cb.mode and info["image_shape"] == list(image.shape)
    assert info["shape"] == list(codes.shape) and info["n_levels"] == 12 and info["bytes"] == len(data)
    assert info["coder"] == coder and info["original_bytes"] == image.size
    pixels = image.shape[0] * image.shape[1]
    assert info["bits_per_pixel"] == pytest.approx(8 * len(data) / pixels)


def reseal(data: bytes, header: dict) -> bytes:
    """The file with another JSON header, its magic/version/flags kept and its CRC made valid again."""
    hlen, plen = struct.unpack_from("<IQ", data, 12)
    payload = data[24 + hlen : 24 + hlen + plen]
    raw = zlib.compress(json.dumps(header).encode())
    body = data[:12] + struct.pack("<IQ", len(raw), len(payload)) + raw + payload
    return body + struct.pack("<I", zlib.crc32(body))


def header_of(data: bytes) -> dict:
    (hlen,) = struct.unpack_from("<I", data, 12)
    return json.loads(zlib.decompress(data[24 : 24 + hlen]))


@pytest.mark.parametrize("bad", [[100, 51], [37], [37, 51, 1], ["37", 51], [0, 51], None, [37, 56]])
def test_damaged_image_shape_is_refused(bad, camera):
    image = camera[:37, :51]
    data = vqimage.compress(image, 4, mode="block", block=(2, 2), coder="packed")
    header = header_of(data)
    assert header["image_shape"] == [37, 51] and header["shape"] == [19, 26] and data[:8] == MAGIC
    assert vqimage.decompress_image(reseal(data, header)).shape == (37, 51)  # resealing alone is harmless
    header["image_shape"] = bad
    if bad is None:
        del header["image_shape"]
    with pytest.raises(VQError, match="invalid image_shape"):
        vqimage.decompress_image(reseal(data, header))
    with pytest.raises(VQError, match="invalid image_shape"):
        vqimage.vq_info(reseal(data, header))


def test_block_vq_needs_the_image_shape(camera):
    from vqimage.pack.container import write_vq

    cb = fit(camera[:8, :8], 4, mode="block", block=(2, 2))
    codes = vqimage.encode(camera[:8, :8], cb)
    with pytest.raises(ValueError, match=r"needs the image's shape \(image_shape=\)"):
        write_vq(codes, cb)
    with pytest.raises(ValueError, match="needs the image's shape"):
        write_vq(codes, cb, image_shape=(9, 8))
    with pytest.raises(ValueError, match="image_shape= is for block codebooks only"):
        write_vq(codes, vqimage.fit(camera, 4), image_shape=(8, 8))
