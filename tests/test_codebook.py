"""The Codebook value object: config round trips (gray, color, block), JSON, invalid configs."""

import json

import numpy as np
import pytest

import vqimage
from vqimage import Codebook, VQError, fit
from vqimage.palettes import palette_codebook

# --------------------------------------------------------------------------- gray codebooks


def test_config_round_trip_and_json():
    cb = vqimage.fit(np.arange(100, dtype=np.uint16), 5, strategy="quantile")
    import json

    text = json.dumps(cb.to_config())
    again = Codebook.from_config(text)
    assert again == cb and again.dtype == np.uint16
    assert repr(again) == "Codebook(n_levels=5, strategy='quantile', reconstruction='centroid', dtype=uint16)"
    with pytest.raises(VQError, match="not valid JSON"):
        Codebook.from_config("{nope")
    with pytest.raises(VQError, match="Not a codebook config"):
        Codebook.from_config({"type": "matrix"})
    bad = cb.to_config() | {"edges": [0, 1]}
    with pytest.raises(VQError, match="needs 6 edges"):
        Codebook.from_config(bad)


# --------------------------------------------------------------------------- color and block codebooks


def test_vector_config_round_trip(camera):
    rng = np.random.default_rng(0)
    color = fit(rng.integers(0, 256, (20, 20, 4), dtype=np.uint8), 9, mode="color")
    block = fit(camera[:64, :64], 8, mode="block", block=(2, 4))
    palette = palette_codebook("epaper7")
    for cb in (color, block, palette):
        config = cb.to_config()
        assert config["type"] == "vector" and config["mode"] == cb.mode
        again = Codebook.from_config(config)
        assert again == cb and again.mode == cb.mode and again.block == cb.block and again.dtype == cb.dtype
        np.testing.assert_array_equal(again.levels, cb.levels)
        assert Codebook.from_config(json.dumps(config)) == cb
    assert block.to_config()["block"] == [2, 4] and "block" not in color.to_config()
    assert repr(color) == ("Codebook(n_levels=9, mode='color', n_components=4, strategy='kmeans', "
                           "reconstruction='centroid', dtype=uint8)")
    assert repr(block) == ("Codebook(n_levels=8, mode='block', n_components=8, block=(2, 4), strategy='kmeans', "
                           "reconstruction='centroid', dtype=uint8)")
    assert color != block and color.bits == 4 and block.n_components == 8


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mode": "gray"}, "vector mode 'gray' is not 'color' or 'block'"),
        ({"mode": None}, "vector mode None"),
        ({"levels": [[1, 2, 3, 4, 5]]}, r"RGB \(3\) or RGBA \(4\) levels"),
        ({"levels": [1, 2, 3]}, r"levels have shape \(k, d\)"),
        ({"levels": [[0, 0, float("inf")]]}, "must be finite"),
        ({"levels": [[0, 0, "x"]]}, "Invalid codebook config"),
        ({"dtype": "object"}, "is not numeric"),
        ({"version": 2}, "Unsupported codebook config version 2"),
        ({"type": "matrix"}, "Not a codebook config"),
        ({"strategy": None, "levels": None}, "Invalid codebook config"),
    ],
)
def test_invalid_color_configs(change, message):
    config = palette_codebook("#000000,#ffffff,#ff0000").to_config() | change
    with pytest.raises(VQError, match=message):
        Codebook.from_config(config)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"block": None}, r"needs block=\(rows, cols\)"),
        ({"block": [2, 3]}, "has 6 pixels; the levels have 4"),
        ({"block": [0, 4]}, r"needs block=\(rows, cols\)"),
        ({"block": (2.5, 1.6)}, r"needs block=\(rows, cols\) of positive ints. Got \(2.5, 1.6\)"),
        ({"block": (True, 4)}, r"needs block=\(rows, cols\) of positive ints. Got \(True, 4\)"),
        ({"block": "ab"}, r"needs block=\(rows, cols\) of positive ints. Got 'ab'"),
        ({"block": 4}, r"needs block=\(rows, cols\) of positive ints. Got 4"),
        ({"mode": "color"}, "block= is for block codebooks; this one is color"),
    ],
)
def test_invalid_block_configs(change, message):
    config = Codebook([[0, 1, 2, 3], [4, 5, 6, 7]], None, strategy="kmeans", reconstruction="centroid",
                      dtype=np.uint8, mode="block", block=(2, 2)).to_config() | change
    with pytest.raises(VQError, match=message):
        Codebook.from_config(config)


def test_config_that_is_not_json():
    with pytest.raises(VQError, match="not valid JSON"):
        Codebook.from_config('{"type": "vector",')


# --------------------------------------------------------------------------- the constructor and the value


def make(levels, edges=None, **options):
    return Codebook(levels, edges, strategy="edges", reconstruction="centroid", dtype=np.uint8, **options)


@pytest.mark.parametrize(
    ("levels", "edges", "options", "message"),
    [
        ([1.0, 2.0], None, {}, "A gray codebook needs edges"),
        ([1.0, 2.0], [0, 1, 2], {"mode": "rgb"}, "A codebook's mode is one of gray, color, block. Got 'rgb'"),
        ([1.0, 2.0], [0, 1], {}, "A codebook with 2 levels needs 3 edges. Got 2"),
        ([1.0, 2.0], [0, 2, 1], {}, "edges must be non-decreasing"),
        ([1.0, np.inf], [0, 1, 2], {}, "levels and edges must be finite"),
        ([1.0, 2.0], [0, np.nan, 2], {}, "levels and edges must be finite"),
        ([[1, 2, 3]], [0, 1], {}, r"A color codebook has no edges \(codes go to the nearest codeword\)"),
        ([[1, 2]], None, {}, r"A color codebook has RGB \(3\) or RGBA \(4\) levels. Got 2 components"),
        (np.zeros((0, 3)), None, {}, "A codebook has 1 to 65536 levels. Got 0"),
        ([[0, 1, 2, 3]], None, {"mode": "block"}, r"A block codebook needs block=\(rows, cols\) of positive ints. Got None"),
        ([[0, 1, 2, 3]], None, {"mode": "block", "block": (2, 3)},
         r"Block \(2, 3\) has 6 pixels; the levels have 4"),
        ([[0, 1, 2]], None, {"block": (1, 3)}, "block= is for block codebooks; this one is color"),
    ],
)
def test_constructor_validation(levels, edges, options, message):
    with pytest.raises(ValueError, match=message):
        make(levels, edges, **options)


def test_value_semantics():
    cb = make([0.5, 2.5, 300.0], [0, 1, 2, 400])
    assert cb.mode == "gray" and cb.n_levels == 3 and cb.bits == 2 and cb.code_dtype == np.uint8
    assert not cb.levels.flags.writeable and not cb.edges.flags.writeable
    assert cb.thresholds.tolist() == [1, 2]
    assert cb.levels_as(np.uint8).tolist() == [0, 2, 255]  # half to even, clipped
    assert cb == make([0.5, 2.5, 300.0], [0, 1, 2, 400]) and cb != make([0.5, 2.5, 301.0], [0, 1, 2, 400])
    with pytest.raises(TypeError, match="unhashable"):
        hash(cb)
    color = make([[0, 0, 0], [255, 255, 255]])
    assert color.mode == "color" and color.n_components == 3 and color != cb and cb != "codebook"
    with pytest.raises(AttributeError, match="A color codebook has no thresholds"):
        color.thresholds
    assert make(np.zeros((257, 3))).code_dtype == np.uint16
