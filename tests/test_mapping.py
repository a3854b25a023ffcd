"""Encode and decode: gray LUT and search paths, color and block codes by brute force, dtypes, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vqimage
from conftest import FAST, brute_nearest, reference_codes, tie_image, tie_palette
from vqimage import Codebook, _mapping_kernels, fit
from vqimage._vectors import image_blocks, join_blocks
from vqimage.pack.formats import export_bytes
from vqimage.palettes import palette_codebook

# --------------------------------------------------------------------------- gray codebooks


@FAST
@given(st.sampled_from([np.uint8, np.uint16]), st.sampled_from([7, 15]), st.integers(0, 300), st.integers(0, 9),
       st.data())
def test_encode_by_comparison_counts_the_thresholds(dtype, count, n, base, data):
    # Lengths around every vector width the compiled versions use (16 to 64 bytes), and their tails.
    top = np.iinfo(dtype).max
    image = data.draw(hnp.arrays(dtype, n, elements=st.integers(0, int(top))))
    above = np.sort(data.draw(hnp.arrays(dtype, count, elements=st.integers(0, int(top)))))
    codes = _mapping_kernels.encode_by_comparison(image, above, base)
    assert codes.dtype == np.uint8 and codes.shape == image.shape
    np.testing.assert_array_equal(codes, base + (image[:, None] > above[None, :]).sum(1))


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
    # 1000 evenly spaced values in 500 levels: the optimum pairs neighbours (2i, 2i + 1) at 2i + 0.5,
    # which decodes half to even to 2i.
    np.testing.assert_array_equal(cb.levels, np.arange(500) * 2 + 0.5)
    np.testing.assert_array_equal(codes, image // 2)
    decoded = vqimage.decode(codes, cb)
    assert decoded.dtype == np.uint16
    np.testing.assert_array_equal(decoded, image // 2 * 2)


def test_non_contiguous_views_and_determinism(camera):
    cb = vqimage.fit(camera, 8)
    view = camera[::3, ::-2]
    np.testing.assert_array_equal(vqimage.encode(view, cb), np.searchsorted(cb.thresholds, view, side="right"))
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


# --------------------------------------------------------------------------- colors and blocks: exact remap


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(2, 256),
    d=st.sampled_from([3, 4]),
    kind=st.sampled_from(["int", "float", "ties", "duplicates", "outside"]),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 9)),
)
def test_color_encode_is_the_brute_force_nearest(seed, k, d, kind, shape):
    rng = np.random.default_rng(seed)
    if kind == "ties":
        levels, image = tie_palette(rng, k, d), tie_image(rng, shape + (d,))
    else:
        image = rng.integers(0, 256, shape + (d,), dtype=np.uint8)
        if kind == "float":
            levels = rng.uniform(0, 255, (k, d))
        elif kind == "outside":  # codewords beyond the 8-bit cube are still searched exactly
            levels = rng.uniform(-300, 600, (k, d))
        elif kind == "duplicates":  # identical entries: the lowest code wins
            levels = rng.integers(0, 256, (max(1, k // 3), d)).astype(np.float64)[rng.integers(0, max(1, k // 3), k)]
        else:
            levels = rng.integers(0, 256, (k, d)).astype(np.float64)
    if d == 4 and kind != "outside":
        image[..., 3][rng.random(shape) < 0.2] = 0  # some fully transparent pixels
    cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8, mode="color")
    codes = vqimage.encode(image, cb)
    assert codes.shape == shape and codes.dtype == np.uint8
    np.testing.assert_array_equal(codes, reference_codes(image, levels))


def test_encode_ties_go_to_the_lowest_code():
    # (1, 0, 0) is 1 away from both (0, 0, 0) and (2, 0, 0), (1, 1, 1) 3 away from both, in either order.
    image = np.array([[[1, 0, 0], [1, 1, 1], [3, 0, 0]]], np.uint8)
    for levels, expected in [([[0, 0, 0], [2, 0, 0]], [0, 0, 1]), ([[2, 0, 0], [0, 0, 0]], [0, 0, 0]),
                             ([[9, 9, 9], [2, 0, 0], [2, 0, 0], [0, 0, 0]], [1, 1, 1]),
                             ([[9, 9, 9], [0, 0, 0], [2, 0, 0], [2, 0, 0]], [1, 1, 2])]:
        cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8)
        assert vqimage.encode(image, cb).tolist() == [expected]


def test_encode_rgb_image_with_rgba_codebook_is_opaque():
    levels = [[0, 0, 0, 0], [10, 10, 10, 255], [10, 10, 10, 0], [200, 0, 0, 255]]
    cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8)
    image = np.array([[[9, 9, 9], [0, 0, 0], [255, 0, 0]]], np.uint8)
    assert vqimage.encode(image, cb).tolist() == [[1, 1, 3]]  # RGB pixels count as alpha 255
    rgba = np.array([[[250, 250, 250, 0], [10, 10, 10, 1]]], np.uint8)
    assert vqimage.encode(rgba, cb).tolist() == [[0, 2]]  # alpha 0: the first clear entry, whatever its color


def test_encode_256_colors_every_cube_corner_and_center():
    rng = np.random.default_rng(5)
    levels = rng.integers(0, 256, (256, 3)).astype(np.float64)
    grid = np.array(np.meshgrid(*[np.arange(0, 256, 15, dtype=np.uint8)] * 3, indexing="ij")).reshape(3, -1).T
    image = grid.reshape(1, -1, 3)
    cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8)
    np.testing.assert_array_equal(vqimage.encode(image, cb), reference_codes(image, levels))


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.sampled_from([1, 2, 3, 4]),
    bits=st.integers(1, 6),
    k=st.integers(1, 64),
    n=st.integers(1, 200),
    ties=st.booleans(),
)
def test_nearest_codes_every_cell_resolution(seed, d, bits, k, n, ties):
    if d == 4:
        bits = min(bits, 5)  # the dense cell table has 2**(bits * d) slots
    rng = np.random.default_rng(seed)
    if ties:
        vectors, centers = tie_image(rng, (n, d)), tie_palette(rng, k, d)
    else:
        vectors, centers = rng.integers(0, 256, (n, d), dtype=np.uint8), rng.uniform(-20, 275, (k, d))
    out = np.full(n, -1, np.int64)
    _mapping_kernels.nearest_codes(vectors, centers, bits, out)
    expected = brute_nearest(vectors, centers)
    np.testing.assert_array_equal(out, expected)


def test_more_than_256_colors_use_uint16_codes(tmp_path):
    rng = np.random.default_rng(9)
    levels = rng.integers(0, 256, (300, 4)).astype(np.float64)
    image = rng.integers(0, 256, (21, 34, 4), dtype=np.uint8)
    cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8, mode="color")
    codes = vqimage.encode(image, cb)
    assert codes.dtype == np.uint16 and cb.bits == 9
    np.testing.assert_array_equal(codes, reference_codes(image, levels))
    data = vqimage.compress(image, codebook=cb)
    np.testing.assert_array_equal(vqimage.decompress_image(data), vqimage.decode(codes, cb))
    with pytest.raises(ValueError, match="PNG holds at most 256 colors; this codebook has 300"):
        export_bytes("png", codes, cb)


@pytest.mark.parametrize("block", [(2, 2), (4, 4), (1, 3), (2, 4)])
@pytest.mark.parametrize("shape", [(8, 8), (9, 13), (1, 1), (5, 2)])
def test_block_encode_is_the_brute_force_nearest(block, shape):
    rng = np.random.default_rng(shape[0] * 31 + block[1])
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    d = block[0] * block[1]
    for levels in (rng.integers(0, 256, (37, d)).astype(np.float64), tie_palette(rng, 20, d)):
        cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8, mode="block",
                      block=block)
        codes = vqimage.encode(image, cb)
        tiles, grid = image_blocks(image, block)
        assert codes.shape == grid == (-(-shape[0] // block[0]), -(-shape[1] // block[1]))
        np.testing.assert_array_equal(codes.reshape(-1), brute_nearest(tiles, levels))
        recon = vqimage.decode(codes, cb, shape=shape)
        assert recon.shape == shape and recon.dtype == np.uint8
        np.testing.assert_array_equal(recon, join_blocks(cb.levels_as(np.uint8)[codes.reshape(-1)], grid, block, shape))


# --------------------------------------------------------------------------- colors, blocks: errors, dither


def test_encode_decode_errors(camera, astronaut):
    rgb = palette_codebook("#000000,#ffffff")
    rgba = palette_codebook("#00000000,#ffffffff")
    with pytest.raises(ValueError, match=r"holds RGB colors; the image has 4 channels.*image\[..., :3\]"):
        vqimage.encode(np.zeros((2, 2, 4), np.uint8), rgb)
    # Opaque black is 255 away from transparent black (alpha is a component) and 255 * sqrt(3) from white.
    assert vqimage.encode(np.zeros((2, 2, 3), np.uint8), rgba).tolist() == [[0, 0], [0, 0]]
    with pytest.raises(TypeError, match="8-bit"):
        vqimage.encode(np.zeros((2, 2, 3), np.uint16), rgb)
    block = fit(camera[:8, :8], 4, mode="block", block=(2, 2))
    codes = vqimage.encode(camera[:8, :8], block)
    with pytest.raises(ValueError, match=r"a 2-D shape tiled by \(4, 4\) blocks of 2x2. Got \(9, 8\)"):
        vqimage.decode(codes, block, shape=(9, 8))
    with pytest.raises(ValueError, match="Block codes are 2-D"):
        vqimage.decode(codes.reshape(-1), block)
    with pytest.raises(ValueError, match="'shape' parameter of decode applies to block codebooks only"):
        vqimage.decode(np.zeros((2, 2), np.uint8), rgb, shape=(2, 2))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        vqimage.decode(np.array([[2]], np.uint8), rgb)
    with pytest.raises(ValueError, match="Dithering applies to gray and color codebooks, not to blocks"):
        vqimage.encode(camera[:8, :8], block, dither="floyd-steinberg")


def test_dithered_rgba_keeps_clear_pixels_on_the_transparent_entry():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (24, 24, 4), dtype=np.uint8)
    image[..., 3] = 255
    image[:8, :, 3] = 0  # clear rows with random colors
    cb = vqimage.fit(image, 8, mode="color")
    assert cb.levels[0].tolist() == [0, 0, 0, 0]
    for selective in (False, True):
        codes = vqimage.encode(image, cb, dither="floyd-steinberg", selective=selective)
        assert (codes[:8] == 0).all()
    with pytest.raises(ValueError, match="The 'dither' parameter of encode must be one of"):
        vqimage.encode(image, cb, dither="bayer")
