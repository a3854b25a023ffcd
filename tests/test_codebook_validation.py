"""The Codebook constructor: every check, by its whole message, and the values just inside each limit."""

import re

import numpy as np
import pytest

import vqimage
from vqimage import Codebook


def make(levels, edges=None, **options):
    options = {"strategy": "edges", "reconstruction": "centroid", "dtype": np.uint8} | options
    return Codebook(levels, edges, **options)


GRAY = ([1.0, 2.0], [0.0, 1.5, 3.0])  # two levels and their three edges

# (levels, edges, options, the whole message), in the order the constructor checks.
INVALID = [
    (*GRAY, {"mode": "rgb"}, "A codebook's mode is one of gray, color, block. Got 'rgb'."),
    (*GRAY, {"mode": "Gray"}, "A codebook's mode is one of gray, color, block. Got 'Gray'."),
    ([1.0, 2.0], None, {}, "A gray codebook needs edges."),
    ([1.0, 2.0, 3.0], None, {"mode": "color"},
     "A color codebook's levels have shape (k, d) with 1 <= d <= 16. Got shape (3,)."),
    (np.zeros((1, 1, 3)), None, {},
     "A color codebook's levels have shape (k, d) with 1 <= d <= 16. Got shape (1, 1, 3)."),
    (np.zeros((2, 0)), None, {"mode": "block", "block": (1, 1)},
     "A block codebook's levels have shape (k, d) with 1 <= d <= 16. Got shape (2, 0)."),
    (np.zeros((2, 17)), None, {"mode": "block", "block": (1, 17)},
     "A block codebook's levels have shape (k, d) with 1 <= d <= 16. Got shape (2, 17)."),
    ([[0, 0, 0]], [0, 1], {}, "A color codebook has no edges (codes go to the nearest codeword)."),
    ([[0, 0, 0, 0]], [0, 1], {"mode": "block", "block": (2, 2)},
     "A block codebook has no edges (codes go to the nearest codeword)."),
    (np.zeros((0, 3)), None, {}, "A codebook has 1 to 65536 levels. Got 0."),
    ([], [0.0], {}, "A codebook has 1 to 65536 levels. Got 0."),
    (np.arange(65537.0), np.arange(65538.0), {}, "A codebook has 1 to 65536 levels. Got 65537."),
    (np.zeros((2, 5)), None, {}, "A color codebook has RGB (3) or RGBA (4) levels. Got 5 components."),
    (np.zeros((2, 1)), None, {"mode": "color"}, "A color codebook has RGB (3) or RGBA (4) levels. Got 1 components."),
    ([[0, 1, 2, 3]], None, {"mode": "block"},
     "A block codebook needs block=(rows, cols) of positive ints. Got None."),
    ([[0, 1, 2, 3]], None, {"mode": "block", "block": (2, 2, 1)},
     "A block codebook needs block=(rows, cols) of positive ints. Got (2, 2, 1)."),
    ([[0, 1, 2, 3]], None, {"mode": "block", "block": (0, 4)},
     "A block codebook needs block=(rows, cols) of positive ints. Got (0, 4)."),
    ([[0, 1, 2, 3]], None, {"mode": "block", "block": (-2, -2)},
     "A block codebook needs block=(rows, cols) of positive ints. Got (-2, -2)."),
    ([[0, 1, 2, 3]], None, {"mode": "block", "block": (2.0, 2)},
     "A block codebook needs block=(rows, cols) of positive ints. Got (2.0, 2)."),
    ([[0, 1, 2, 3]], None, {"mode": "block", "block": (True, 4)},
     "A block codebook needs block=(rows, cols) of positive ints. Got (True, 4)."),
    ([[0, 1, 2, 3]], None, {"mode": "block", "block": "22"},
     "A block codebook needs block=(rows, cols) of positive ints. Got '22'."),
    ([[0, 1, 2, 3]], None, {"mode": "block", "block": (1, 3)}, "Block (1, 3) has 3 pixels; the levels have 4."),
    (*GRAY, {"block": (1, 1)}, "block= is for block codebooks; this one is gray."),
    ([[0, 1, 2]], None, {"block": (1, 3)}, "block= is for block codebooks; this one is color."),
    ([1.0, 2.0], [0, 1], {}, "A codebook with 2 levels needs 3 edges. Got 2."),
    ([1.0, 2.0], [0, 1, 2, 3], {}, "A codebook with 2 levels needs 3 edges. Got 4."),
    ([1.0, 2.0], [0, 1, np.inf], {}, "Codebook levels and edges must be finite."),
    ([1.0, 2.0], [-np.inf, 1, 2], {}, "Codebook levels and edges must be finite."),
    ([1.0, 2.0], [0, 2, 1], {}, "Codebook edges must be non-decreasing."),
    ([1.0, np.nan], [0, 1, 2], {}, "Codebook levels and edges must be finite."),
    ([[0, 0, np.inf]], None, {}, "Codebook levels and edges must be finite."),
    ([[0, np.nan, 0, 0]], None, {"mode": "block", "block": (2, 2)}, "Codebook levels and edges must be finite."),
    ([[0, 0, 0]], None, {"space": "xyz"}, "A codebook's space is one of rgb, oklab, composite. Got 'xyz'."),
    (*GRAY, {"space": "oklab"},
     "space='oklab' is for RGB color codebooks; this one is gray with 1 component(s)."),
    ([[0, 0, 0, 0]], None, {"space": "oklab"},
     "space='oklab' is for RGB color codebooks; this one is color with 4 component(s)."),
    ([[0, 0, 0]], None, {"space": "composite"},
     "space='composite' is for RGBA color codebooks; this one is color with 3 component(s)."),
    ([[0, 0, 0, 0]], None, {"mode": "block", "block": (2, 2), "space": "composite"},
     "space='composite' is for RGBA color codebooks; this one is block with 4 component(s)."),
    (*GRAY, {"counts": [1, 2, 3]},
     "A codebook's counts are 2 finite weights >= 0, one per level. Got shape (3,)."),
    (*GRAY, {"counts": [[1, 2]]},
     "A codebook's counts are 2 finite weights >= 0, one per level. Got shape (1, 2)."),
    (*GRAY, {"counts": [1, np.nan]},
     "A codebook's counts are 2 finite weights >= 0, one per level. Got shape (2,)."),
    (*GRAY, {"counts": [1, -1]},
     "A codebook's counts are 2 finite weights >= 0, one per level. Got shape (2,)."),
    ([[0, 0, 0]], None, {"counts": 5},
     "A codebook's counts are 1 finite weights >= 0, one per level. Got shape ()."),
]


@pytest.mark.parametrize(("levels", "edges", "options", "message"), INVALID)
def test_every_check_has_its_message(levels, edges, options, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$") as caught:
        make(levels, edges, **options)
    assert type(caught.value) is ValueError  # a parameter error, not VQError (corrupt data)


def test_checks_come_in_order_the_first_problem_is_named():
    # Both the mode and the edges are wrong: the mode is named.
    with pytest.raises(ValueError, match="mode is one of"):
        make([1.0, 2.0], [0, 2, 1], mode="grey")
    # Too many levels and the wrong edge count: the count of levels is named first.
    with pytest.raises(ValueError, match="Got 65537.$"):
        make(np.arange(65537.0), [0, 1])


def test_values_just_inside_each_limit_are_accepted():
    one = make([7.0], [7.0, 7.0])  # one level, equal edges: non-decreasing allows ties
    assert (one.n_levels, one.bits, one.code_dtype) == (1, 0, np.uint8)
    assert one.edges.tolist() == [7.0, 7.0]

    full = make(np.arange(65536.0), np.arange(65537.0) - 0.5, dtype=np.uint16)
    assert (full.n_levels, full.bits, full.code_dtype) == (65536, 16, np.uint16)
    assert vqimage.encode(np.array([0, 300, 65535], np.uint16), full).tolist() == [0, 300, 65535]

    at_256 = make(np.arange(256.0), np.arange(257.0) - 0.5)
    at_257 = make(np.arange(257.0), np.arange(258.0) - 0.5, dtype=np.uint16)
    assert (at_256.code_dtype, at_256.bits, at_257.code_dtype, at_257.bits) == (np.uint8, 8, np.uint16, 9)

    tile = make(np.arange(32.0).reshape(2, 16), mode="block", block=[4, 4])  # 16 components: the most
    assert (tile.block, tile.n_components, tile.mode) == ((4, 4), 16, "block")
    pixel = make([[3.0], [9.0]], mode="block", block=(np.int64(1), np.uint8(1)))  # numpy ints, 1 component
    assert pixel.block == (1, 1) and type(pixel.block[0]) is int and pixel.n_components == 1

    rgba = make([[0, 0, 0, 0], [255, 255, 255, 255]], space="composite")
    assert (rgba.mode, rgba.n_components, rgba.space) == ("color", 4, "composite")
    oklab = make([[0, 0, 0]], space="oklab")
    assert (oklab.mode, oklab.space) == ("color", "oklab")

    counted = make(*GRAY, counts=[0, 2.5])  # zero weights are allowed
    assert counted.counts.tolist() == [0.0, 2.5] and not counted.counts.flags.writeable
    counted_config = counted.to_config()
    assert "counts" not in counted_config and Codebook.from_config(counted_config) == make(*GRAY)


def test_the_inputs_are_copied_and_frozen():
    levels, edges = np.array([1.0, 2.0]), np.array([0.0, 1.5, 3.0])
    cb = make(levels, edges)
    levels[0], edges[0] = 100.0, -100.0  # the caller's arrays change; the codebook does not
    assert cb.levels.tolist() == [1.0, 2.0] and cb.edges.tolist() == [0.0, 1.5, 3.0]
    for array in (cb.levels, cb.edges):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 5.0


def test_the_default_mode_follows_the_levels_shape():
    assert make(*GRAY).mode == "gray" and make([[0, 0, 0]]).mode == "color"
    assert make(np.float64(4.0), [0.0, 8.0]).levels.tolist() == [4.0]  # a scalar is one gray level


def test_gray_levels_of_two_dimensions_are_refused():
    with pytest.raises(ValueError, match=r"gray codebook's levels have shape \(k,\)"):
        make(np.arange(6.0).reshape(2, 3), np.arange(7.0), mode="gray")  # accepted today as 6 levels


@pytest.mark.parametrize("dtype", [object, np.bool_, np.complex64])
def test_a_non_numeric_dtype_is_refused(dtype):
    with pytest.raises((ValueError, TypeError), match="dtype"):
        make(*GRAY, dtype=dtype)


def test_levels_that_are_not_numbers_are_named():
    with pytest.raises((ValueError, TypeError), match="levels"):
        make(["a", "b"], [0, 1, 2])
