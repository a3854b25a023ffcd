"""Standard files from codes: palette PNG, GIF, raw e-paper buffers, 16-bit PNG, TIFF, NPY, WebP, JXL."""

import io
import struct
import warnings
import zlib

import imagecodecs
import numpy as np
import pytest
import tifffile
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

import vqimage
from conftest import reference_codes
from vqimage import FitWarning, VQError, fit
from vqimage.pack.formats import (cooccurrence_order, epaper, epaper_unpack, export, export_bytes, gif, palette_of,
                                   png8)
from vqimage.palettes import DEVICE_CODES, load_palette, palette_codebook

# --------------------------------------------------------------------------- export: gray codebooks


def png_header(data):
    return data[24], data[25]  # IHDR bit depth, color type


def plte_entries(data):
    at = data.index(b"PLTE")
    return int.from_bytes(data[at - 4 : at], "big") // 3


@pytest.mark.parametrize(("k", "depth"), [(2, 1), (3, 2), (4, 2), (5, 4), (16, 4), (17, 8), (256, 8)])
def test_palette_png_bit_depth_and_exact_readback(tmp_path, camera, k, depth):
    cb = vqimage.fit(camera, k)
    codes = vqimage.encode(camera, cb)
    data, _ = export_bytes("png", codes, cb)
    assert png_header(data) == (depth, 3)
    assert plte_entries(data) == cb.n_levels
    with Image.open(io.BytesIO(data)) as img:
        assert img.mode == "P"
        np.testing.assert_array_equal(np.asarray(img.convert("L")), vqimage.decode(codes, cb))
        np.testing.assert_array_equal(np.asarray(img), codes)
    (tmp_path / "x.png").write_bytes(data)
    np.testing.assert_array_equal(vqimage.load_image(tmp_path / "x.png"), vqimage.decode(codes, cb))


def test_tiff_npy_and_16_bit_png(tmp_path):
    rng = np.random.default_rng(0)
    image16 = rng.integers(0, 65536, (40, 50), dtype=np.uint16)
    cb = vqimage.fit(image16, 300)
    codes = vqimage.encode(image16, cb)
    info = export(tmp_path / "a.png", codes, cb)
    assert info["format"] == "png"
    np.testing.assert_array_equal(imagecodecs.png_decode((tmp_path / "a.png").read_bytes()), vqimage.decode(codes, cb))
    export(tmp_path / "a.tif", codes, cb)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "a.tif"), vqimage.decode(codes, cb))
    export(tmp_path / "a.npy", codes, cb)
    loaded = np.load(tmp_path / "a.npy")
    assert loaded.dtype == np.uint16
    np.testing.assert_array_equal(loaded, codes)
    floats = rng.random((8, 8)).astype(np.float32)
    fcb = vqimage.fit(floats, 4)
    export(tmp_path / "f.tiff", vqimage.encode(floats, fcb), fcb)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "f.tiff"), vqimage.decode(vqimage.encode(floats, fcb), fcb))


def test_export_errors(tmp_path, camera):
    cb = vqimage.fit(camera, 4)
    codes = vqimage.encode(camera, cb)
    export(tmp_path / "a.png", codes, cb)
    with pytest.raises(FileExistsError, match="exists"):
        export(tmp_path / "a.png", codes, cb)
    with pytest.raises(ValueError, match=r"Cannot tell the output format from .*a\.bmp'; use an extension among"):
        export(tmp_path / "a.bmp", codes, cb)
    floats = np.linspace(0, 1, 16).reshape(4, 4)
    fcb = vqimage.fit(floats, 2)
    with pytest.raises(ValueError, match="PNG holds 8- or 16-bit unsigned images"):
        export(tmp_path / "f.png", vqimage.encode(floats, fcb), fcb)
    with pytest.raises(ValueError, match="PNG needs a 2-D image"):
        export(tmp_path / "v.png", np.zeros((2, 2, 2), np.uint8), cb)


@pytest.mark.parametrize("extension", [".webp", ".jxl", ".png", ".tif"])
def test_lossless_exports_read_back_exactly(tmp_path, camera, extension):
    cb = vqimage.fit(camera, 6)
    codes = vqimage.encode(camera, cb)
    info = export(tmp_path / f"a{extension}", codes, cb)
    assert info["bytes"] == (tmp_path / f"a{extension}").stat().st_size
    np.testing.assert_array_equal(vqimage.load_image(tmp_path / f"a{extension}"), vqimage.decode(codes, cb))


def test_jxl_16_bit_and_webp_refuses_it(tmp_path):
    rng = np.random.default_rng(5)
    image = rng.integers(0, 65536, (30, 40), dtype=np.uint16)
    cb = vqimage.fit(image, 64)
    codes = vqimage.encode(image, cb)
    export(tmp_path / "a.jxl", codes, cb)
    np.testing.assert_array_equal(vqimage.load_image(tmp_path / "a.jxl"), vqimage.decode(codes, cb))
    with pytest.raises(ValueError, match="WebP holds 8-bit images"):
        export(tmp_path / "a.webp", codes, cb)


def test_vq_export_is_the_container(tmp_path, camera):
    cb = vqimage.fit(camera, 4)
    export(tmp_path / "a.vq", vqimage.encode(camera, cb), cb, coder="packed")
    codes, restored = vqimage.decompress((tmp_path / "a.vq").read_bytes())
    assert restored == cb
    np.testing.assert_array_equal(codes, vqimage.encode(camera, cb))


def chunks(data):
    """[(type, payload)] of a PNG, CRCs checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, payload = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + payload)
        out.append((kind, payload))
        at += 12 + length
    return out


def chunk_types(data):
    return [kind for kind, _ in chunks(data)]


def payload(data, kind):
    return next(p for k, p in chunks(data) if k == kind)


def random_palette(k, alpha=False, seed=0):
    rng = np.random.default_rng(seed)
    colors = rng.choice(1 << 24, size=k, replace=False)
    palette = np.stack([colors >> 16, (colors >> 8) & 255, colors & 255], axis=1).astype(np.uint8)
    if alpha:
        palette = np.column_stack([palette, rng.integers(0, 256, k).astype(np.uint8)])
    return palette


def rgba(palette):
    return palette if palette.shape[1] == 4 else np.column_stack([palette, np.full(len(palette), 255, np.uint8)])


# --------------------------------------------------------------------------- PNG-8


@pytest.mark.parametrize(("k", "depth"), [(1, 1), (2, 1), (3, 2), (4, 2), (5, 4), (16, 4), (17, 8), (256, 8)])
def test_png8_depth_plte_and_exact_readback(k, depth):
    palette = random_palette(k, seed=k)
    codes = np.random.default_rng(1).integers(0, k, (9, 13)).astype(np.uint8)
    data = png8(codes, palette)
    width, height, bit_depth, color_type, *_ = struct.unpack(">IIBBBBB", payload(data, b"IHDR"))
    assert (width, height, bit_depth, color_type) == (13, 9, depth, 3)
    assert len(payload(data, b"PLTE")) == 3 * k  # never padded to 2**depth
    assert chunk_types(data) == [b"IHDR", b"PLTE", b"IDAT", b"IEND"]  # no tRNS for RGB
    with Image.open(io.BytesIO(data)) as img:
        assert img.mode == "P"
        np.testing.assert_array_equal(np.asarray(img), codes)
        np.testing.assert_array_equal(np.asarray(img.convert("RGBA")), rgba(palette)[codes])
    assert png8(codes, palette) == data  # deterministic


def test_png8_trns_present_only_for_alpha_below_255_and_trimmed():
    palette = np.array([[0, 0, 0, 255], [1, 1, 1, 0], [2, 2, 2, 128], [3, 3, 3, 255], [4, 4, 4, 255]], np.uint8)
    codes = np.array([[0, 1, 2, 3, 4]], np.uint8)
    data = png8(codes, palette)
    assert chunk_types(data) == [b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"]
    assert payload(data, b"tRNS") == bytes([255, 0, 128])  # ends at the last entry with alpha < 255
    with Image.open(io.BytesIO(data)) as img:
        np.testing.assert_array_equal(np.asarray(img.convert("RGBA")), palette[codes])
    opaque = palette.copy()
    opaque[:, 3] = 255
    assert b"tRNS" not in chunk_types(png8(codes, opaque))
    assert payload(png8(codes, opaque), b"PLTE") == payload(data, b"PLTE")


def test_png8_random_alpha_palettes_read_back():
    for k in (2, 7, 200):
        palette = random_palette(k, alpha=True, seed=k)
        codes = np.random.default_rng(k).integers(0, k, (5, 31)).astype(np.uint8)
        with Image.open(io.BytesIO(png8(codes, palette))) as img:
            np.testing.assert_array_equal(np.asarray(img.convert("RGBA")), palette[codes])


def test_png8_rows_are_packed_msb_first_with_filter_none():
    codes = np.array([[1, 0, 1], [0, 1, 1]], np.uint8)  # 1 bit: rows 101(00000), 011(00000)
    data = png8(codes, load_palette("gray2"))
    assert zlib.decompress(payload(data, b"IDAT")) == bytes([0, 0b10100000, 0, 0b01100000])


def test_png8_reads_back_through_vqimage_and_load_palette(tmp_path):
    palette = load_palette("epaper7")
    codes = np.arange(7, dtype=np.uint8).reshape(1, 7).repeat(3, axis=0)
    (tmp_path / "a.png").write_bytes(png8(codes, palette))
    np.testing.assert_array_equal(vqimage.load_image(tmp_path / "a.png", gray=False), palette[codes])
    np.testing.assert_array_equal(load_palette(tmp_path / "a.png"), palette)


def brute_cooccurrence(codes, k):
    """4-neighbour pair counts of different codes, symmetric, written out pixel by pixel."""
    counts = np.zeros((k, k), int)
    height, width = codes.shape
    for y in range(height):
        for x in range(width):
            for dy, dx in ((0, 1), (1, 0)):
                if y + dy < height and x + dx < width and codes[y, x] != codes[y + dy, x + dx]:
                    counts[codes[y, x], codes[y + dy, x + dx]] += 1
                    counts[codes[y + dy, x + dx], codes[y, x]] += 1
    return counts


@pytest.mark.parametrize("seed", range(6))
def test_cooccurrence_order_is_a_greedy_chain_of_neighbour_counts(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 12))
    codes = rng.integers(0, k, (7, 9)) // rng.integers(1, 3)  # some colors unused
    order = cooccurrence_order(codes, k)
    assert sorted(order.tolist()) == list(range(k))
    counts = brute_cooccurrence(codes, k)
    assert any(counts[order[i], order[i + 1]] == counts.max() for i in range(k - 1))  # the top pair is adjacent
    # every color that has a neighbour in the image sits beside one of its neighbours in the chain
    for i, color in enumerate(order):
        if counts[color].any() and counts[color][np.isin(np.arange(k), order[max(i - 1, 0):i + 2])].sum() == 0:
            raise AssertionError(f"color {color} at {i} of {order} has no image neighbour next to it")


def test_cooccurrence_order_places_a_ramp_in_sequence():
    ramp = np.array([[3, 3, 0, 0, 4, 4, 1, 1, 2, 2]])
    order = cooccurrence_order(ramp, 5).tolist()
    assert order in ([3, 0, 4, 1, 2], [2, 1, 4, 0, 3])
    assert cooccurrence_order(np.zeros((2, 2), np.uint8), 4).tolist() == [0, 1, 2, 3]  # no pairs: kept


@pytest.mark.parametrize(("k", "alpha"), [(2, False), (3, True), (13, False), (16, True), (64, False), (256, True)])
def test_png8_optimize_keeps_every_pixel_and_is_never_larger(k, alpha):
    rng = np.random.default_rng(k)
    palette = random_palette(k, alpha=alpha, seed=k)
    smooth = (np.add.outer(np.arange(40), np.arange(50)) * k // 90 + rng.integers(0, 2, (40, 50))) % k
    for codes in (smooth.astype(np.uint8), rng.integers(0, k, (40, 50)).astype(np.uint8)):
        plain, optimized = png8(codes, palette), png8(codes, palette, optimize=True)
        assert len(optimized) <= len(plain)
        with Image.open(io.BytesIO(optimized)) as img:
            assert img.mode == "P" and len(img.getpalette()) == 3 * k
            np.testing.assert_array_equal(np.asarray(img.convert("RGBA")), rgba(palette)[codes])
        assert png8(codes, palette, optimize=True) == optimized  # deterministic


def test_png8_layout_estimates_on_sampled_rows_filter_as_the_whole_image():
    from vqimage.pack.formats import _filtered_sample, _png_filter, _sample_rows

    rng = np.random.default_rng(4)
    rows = rng.integers(0, 256, (200, 37)).astype(np.uint8)
    sample = _sample_rows(200)
    assert sample[:17].tolist() == list(range(16)) + [64] and len(sample) == 56  # every 4th band of 16
    above = rows[np.maximum(sample - 1, 0)].copy()
    above[sample == 0] = 0
    for kind in (0, 1, 2, 4):
        lines = np.frombuffer(_filtered_sample(rows[sample], above, kind), np.uint8).reshape(len(sample), 38)
        assert (lines[:, 0] == kind).all()
        np.testing.assert_array_equal(lines[:, 1:], _png_filter(rows, kind)[sample])


def test_png8_optimize_on_a_large_image_keeps_every_pixel():
    rng = np.random.default_rng(5)
    k = 40
    y, x = np.mgrid[:600, :700]
    codes = ((x // 9 + y // 13) % k).astype(np.uint8)  # 420,000 pixels: estimated on sampled rows
    codes[rng.random(codes.shape) < 0.02] = 0
    palette = random_palette(k, seed=3)
    plain, optimized = png8(codes, palette), png8(codes, palette, optimize=True)
    assert len(optimized) <= len(plain)  # still compared at the final level below 2**20 pixels
    with Image.open(io.BytesIO(optimized)) as img:
        np.testing.assert_array_equal(np.asarray(img.convert("RGB")), palette[codes])


def test_png8_optimize_shrinks_an_undithered_photo_and_export_keeps_device_indices(tmp_path, astronaut):
    image = astronaut[:256, :256]
    cb = fit(image, 64, mode="color")
    codes = vqimage.encode(image, cb)
    palette = palette_of(cb, "PNG")
    plain, optimized = png8(codes, palette), png8(codes, palette, optimize=True)
    assert len(optimized) < 0.93 * len(plain)  # measured 0.922 here (9% smaller on the whole image, part 10)
    assert export_bytes("png", codes, cb)[0] == optimized  # computed palettes are written optimized
    device = palette_codebook("epaper7")
    dcodes = vqimage.encode(image, device)
    data = export_bytes("png", dcodes, device)[0]
    with Image.open(io.BytesIO(data)) as img:
        np.testing.assert_array_equal(np.asarray(img), dcodes)  # a device's palette keeps its indices
    with pytest.raises(ValueError, match="The 'optimize' parameter of png8 must be one of"):
        png8(codes, palette, optimize="yes")


def test_png8_large_image_splits_idat():
    codes = np.random.default_rng(0).integers(0, 256, (1200, 1100)).astype(np.uint8)  # incompressible
    data = png8(codes, random_palette(256))
    assert chunk_types(data).count(b"IDAT") == 2
    with Image.open(io.BytesIO(data)) as img:
        np.testing.assert_array_equal(np.asarray(img), codes)


# --------------------------------------------------------------------------- GIF


@pytest.mark.parametrize(("k", "table"), [(1, 4), (3, 4), (4, 4), (5, 8), (16, 16), (17, 32), (256, 256)])
def test_gif_round_trip(tmp_path, k, table):
    palette = random_palette(k, seed=k)
    codes = np.random.default_rng(2).integers(0, k, (6, 11)).astype(np.uint8)
    data = gif(codes, palette)
    assert 2 ** ((data[10] & 7) + 1) == table  # global color table size
    with Image.open(io.BytesIO(data)) as img:
        assert img.mode == "P" and "transparency" not in img.info
        np.testing.assert_array_equal(np.asarray(img), codes)
        stored = np.array(img.getpalette(), np.uint8).reshape(-1, 3)
        np.testing.assert_array_equal(stored[:k], palette)
        assert not stored[k:].any()  # padding is black
        np.testing.assert_array_equal(np.asarray(img.convert("RGBA")), rgba(palette)[codes])
    (tmp_path / "a.gif").write_bytes(data)
    np.testing.assert_array_equal(load_palette(tmp_path / "a.gif"), palette)


def test_gif_transparent_index():
    palette = np.array([[10, 20, 30, 255], [40, 50, 60, 0], [70, 80, 90, 255]], np.uint8)
    codes = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    with Image.open(io.BytesIO(gif(codes, palette))) as img:
        assert img.info["transparency"] == 1
        np.testing.assert_array_equal(np.asarray(img.convert("RGBA")), palette[codes])
    opaque = palette.copy()
    opaque[1, 3] = 255
    with Image.open(io.BytesIO(gif(codes, opaque))) as img:
        assert "transparency" not in img.info


def test_gif_alpha_errors():
    codes = np.zeros((2, 2), np.uint8)
    partial = np.array([[0, 0, 0, 255], [1, 1, 1, 128]], np.uint8)
    with pytest.raises(ValueError, match=r"must have alpha 0 or 255 .* Got alpha 128 in entry 1 instead. "
                                         r"Write a PNG \(png8\)"):
        gif(codes, partial)
    two = np.array([[0, 0, 0, 0], [1, 1, 1, 0]], np.uint8)
    with pytest.raises(ValueError, match=r"at most one entry with alpha 0 .* Got 2: entries \[0, 1\]"):
        gif(codes, two)
    with pytest.raises(ValueError, match="GIF images are at most 65535 pixels on a side"):
        gif(np.zeros((1, 65536), np.uint8), load_palette("gray2"))


# --------------------------------------------------------------------------- e-paper


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([1, 2, 4, 8]), st.data())
def test_epaper_round_trip_and_size(bits, data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40))
    codes = data.draw(hnp.arrays(np.uint8, shape, elements=st.integers(0, (1 << bits) - 1)))
    packed = epaper(codes, bits)
    row_bytes = -(-shape[1] * bits // 8)
    assert len(packed) == shape[0] * row_bytes
    restored = epaper_unpack(packed, shape, bits)
    assert restored.dtype == np.uint8
    np.testing.assert_array_equal(restored, codes)
    # Row padding is zero bits.
    rows = np.frombuffer(packed, np.uint8).reshape(shape[0], row_bytes)
    pad = row_bytes * 8 - shape[1] * bits
    assert not (rows[:, -1] & np.uint8((1 << pad) - 1)).any()


def test_epaper_known_bytes():
    # 1 bit, 3 rows of 10: each row is 2 bytes, first pixel in bit 7, last 6 bits zero.
    codes = np.array(
        [[1, 0, 0, 0, 0, 0, 0, 0, 0, 1],
         [0, 1, 1, 1, 1, 1, 1, 1, 1, 0],
         [1, 1, 1, 1, 0, 0, 0, 0, 1, 1]], np.uint8)
    assert epaper(codes, 1) == bytes([0x80, 0x40, 0x7F, 0x80, 0xF0, 0xC0])
    assert epaper(np.array([[3, 0, 1, 2, 1]]), 2) == bytes([0b11000110, 0b01000000])
    assert epaper(np.array([[1, 2, 3], [15, 14, 0]]), 4) == bytes([0x12, 0x30, 0xFE, 0x00])
    assert epaper(np.array([[7, 255]]), 8) == bytes([7, 255])
    # A Waveshare-style white 1-bit frame (gray2: 1 = white) is all 0xFF.
    assert epaper(np.ones((2, 16), np.uint8), 1) == b"\xff" * 4


def test_epaper_spectra6_device_codes():
    codes = np.arange(6, dtype=np.uint8).reshape(1, 6)  # epaper6 palette indices
    assert epaper(DEVICE_CODES["epaper6"][codes], 4) == bytes([0x01, 0x23, 0x56])


def test_epaper_unpack_ignores_padding_bits():
    np.testing.assert_array_equal(epaper_unpack(b"\xff", (1, 3), 1), [[1, 1, 1]])
    np.testing.assert_array_equal(epaper_unpack(bytearray(b"\x12\x3f"), (1, 3), 4), [[1, 2, 3]])
    np.testing.assert_array_equal(epaper_unpack(memoryview(b"\x12\x3f"), (1, 3), 4), [[1, 2, 3]])


def test_epaper_errors():
    with pytest.raises(ValueError, match=r"The 'codes' parameter of epaper must lie in \[0, 3\] \(2-bit codes\). "
                                         r"Got values in \[0, 4\] instead"):
        epaper(np.array([[0, 4]]), 2)
    with pytest.raises(ValueError, match=r"Got values in \[-1, 0\]"):
        epaper(np.array([[0, -1]]), 8)
    with pytest.raises(ValueError, match=r"The 'bits' parameter of epaper must be one of \{1, 2, 4, 8\}. Got 3"):
        epaper(np.zeros((2, 2), np.uint8), 3)
    with pytest.raises(TypeError, match=r"The 'bits' parameter of epaper must be one of \{1, 2, 4, 8\}. Got True"):
        epaper(np.zeros((2, 2), np.uint8), True)
    with pytest.raises(ValueError, match="The 'bits' parameter of epaper_unpack must be one of"):
        epaper_unpack(b"", (1, 1), 16)
    with pytest.raises(VQError, match="The e-paper buffer has 3 bytes; 3 rows of 10 pixels at 1 bit.s. need exactly 6"):
        epaper_unpack(b"\x00\x00\x00", (3, 10), 1)
    with pytest.raises(ValueError, match=r"The 'shape' parameter of epaper_unpack must be a pair \(height, width\)"):
        epaper_unpack(b"\x00", (1,), 8)
    with pytest.raises(ValueError, match="must be a pair"):
        epaper_unpack(b"\x00", "ab", 8)
    with pytest.raises(ValueError, match="The 'shape' parameter of epaper_unpack must be an int >= 1. Got 0"):
        epaper_unpack(b"", (0, 4), 8)
    with pytest.raises(TypeError, match="The 'shape' parameter of epaper_unpack must be an int >= 1. Got 2.0"):
        epaper_unpack(b"\x00\x00", (1, 2.0), 8)
    with pytest.raises(TypeError, match="The 'data' parameter of epaper_unpack must be bytes-like. Got str"):
        epaper_unpack("00", (1, 2), 8)


# --------------------------------------------------------------------------- shared validation


@pytest.mark.parametrize("writer", [png8, gif, lambda codes, palette: epaper(codes, 1)])
@pytest.mark.parametrize(
    ("codes", "error", "message"),
    [
        (np.zeros((2, 2), np.float32), TypeError, r"must be a 2-D integer array \(uint8\) .* Got dtype float32"),
        (np.zeros((2, 2), bool), TypeError, "Got dtype bool"),
        (np.zeros(4, np.uint8), ValueError, r"must be a 2-D array \(rows, columns\) .* Got shape \(4,\)"),
        (np.zeros((2, 2, 3), np.uint8), ValueError, r"Got shape \(2, 2, 3\)"),
        (np.zeros((0, 5), np.uint8), ValueError, r"is empty \(shape \(0, 5\)\)"),
        ([[0, 1], [2]], TypeError, "must be a 2-D integer array of palette indices. Got list"),
        (np.array([[0, 2]]), ValueError, r"must lie in \[0, 1\] .* Got values in \[0, 2\] instead"),
    ],
)
def test_codes_validation(writer, codes, error, message):
    with pytest.raises(error, match=message):
        writer(codes, load_palette("gray2"))


@pytest.mark.parametrize("writer", [png8, gif])
def test_palette_validation(writer):
    name = writer.__name__
    codes = np.zeros((2, 2), np.uint8)
    with pytest.raises(ValueError, match=rf"The 'palette' parameter of {name} must hold distinct colors. "
                                         "Got #000000 as both entry 0 and entry 1"):
        writer(codes, [[0, 0, 0], [0, 0, 0]])
    with pytest.raises(TypeError, match=rf"The 'palette' parameter of {name} must be an integer array .*load_palette"):
        writer(codes, "gray2")
    with pytest.raises(ValueError, match=rf"The 'palette' parameter of {name} must have shape \(k, 3\)"):
        writer(codes, np.zeros((2, 5), np.uint8))
    with pytest.raises(ValueError, match=r"must lie in \[0, 0\] \(indices into the palette's 1 color\)"):
        writer(np.array([[0, 1]]), [[9, 9, 9]])


# --------------------------------------------------------------------------- export: color and block


def png_chunks(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        out.setdefault(kind, b"")
        out[kind] += data[at + 8 : at + 8 + length]
        at += 12 + length
    return out


@pytest.mark.parametrize(("k", "depth"), [(2, 1), (3, 2), (4, 2), (7, 4), (16, 4), (17, 8), (200, 8)])
@pytest.mark.parametrize("alpha", [False, True])
def test_png8_of_a_color_codebook(tmp_path, astronaut, k, depth, alpha):
    image = astronaut[::8, ::8]
    if alpha:
        image = np.dstack([image, np.where(np.arange(64)[:, None] < 20, 0, np.where(np.arange(64) < 30, 128, 255))
                           .astype(np.uint8)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        cb = fit(image, k, mode="color")
    assert cb.n_levels == k
    codes = vqimage.encode(image, cb)
    info = export(tmp_path / "x.png", codes, cb)
    data = (tmp_path / "x.png").read_bytes()
    assert info["bytes"] == len(data) and info["format"] == "png"
    chunks = png_chunks(data)
    width, height, bit_depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, height, bit_depth, color_type) == (image.shape[1], image.shape[0], depth, 3)
    assert len(chunks[b"PLTE"]) == 3 * k
    assert (b"tRNS" in chunks) == alpha
    with Image.open(tmp_path / "x.png") as img:
        assert img.mode == "P"
        indices = np.asarray(img)
        np.testing.assert_array_equal(np.asarray(img.convert("RGBA" if alpha else "RGB")), vqimage.decode(codes, cb))
    # the palette may be reordered for compression: the file's indices are a one-to-one relabelling of the codes
    pairs = np.unique(np.stack([codes.ravel(), indices.ravel()]), axis=1)
    assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]


def test_gif_round_trip_of_a_color_codebook(tmp_path, astronaut):
    image = astronaut[::8, ::8]
    cb = fit(image, 13, mode="color")
    codes = vqimage.encode(image, cb)
    export(tmp_path / "x.gif", codes, cb)
    with Image.open(tmp_path / "x.gif") as img:
        assert img.mode == "P"
        np.testing.assert_array_equal(np.asarray(img), codes)
        np.testing.assert_array_equal(np.array(img.getpalette()[: 3 * 13]).reshape(13, 3), cb.levels)
        np.testing.assert_array_equal(np.asarray(img.convert("RGB")), vqimage.decode(codes, cb))
    clear = image.copy()
    rgba = np.dstack([clear, np.where(np.arange(64)[:, None] < 10, 0, 255).repeat(64, 1).astype(np.uint8)])
    cb = fit(rgba, 9, mode="color")
    export(tmp_path / "y.gif", vqimage.encode(rgba, cb), cb)
    with Image.open(tmp_path / "y.gif") as img:
        assert img.info["transparency"] == 0
        np.testing.assert_array_equal(np.asarray(img), vqimage.encode(rgba, cb))


@pytest.mark.parametrize(("palette", "bits"), [("#000000,#ffffff", 1), ("gray4", 2), ("epaper-bwr", 2),
                                               ("epaper7", 4), ("websafe", 8)])
def test_raw_is_the_epaper_buffer(tmp_path, astronaut, palette, bits):
    cb = palette_codebook(palette)
    image = astronaut[:31, :45]
    codes = vqimage.encode(image, cb)
    np.testing.assert_array_equal(codes, reference_codes(image, cb.levels))
    data, description = export_bytes("raw", codes, cb)
    assert data == epaper(codes, bits) and f"{bits} bit(s) per pixel" in description
    assert len(data) == 31 * -(-45 * bits // 8)


def test_exports_refuse_block_codebooks_where_they_must(tmp_path, camera):
    cb = fit(camera[:16, :16], 4, mode="block", block=(2, 2))
    codes = vqimage.encode(camera[:16, :16], cb)
    for fmt in ("gif", "raw"):
        with pytest.raises(ValueError, match="block|one code"):
            export_bytes(fmt, codes, cb)
    png, description = export_bytes("png", codes, cb, image_shape=(15, 16))
    assert "gray PNG of the reconstruction" in description
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), vqimage.decode(codes, cb, shape=(15, 16)))
