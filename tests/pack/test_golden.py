"""Golden .vq files: committed bytes that must keep decoding, and that today's encoder must still write."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import vqimage
from vqimage.pack.container import CODERS

GOLDEN = Path(__file__).resolve().parents[1] / "golden"  # tests/golden, beside tests/pack
_spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
make_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_golden)
FILES = sorted(GOLDEN.glob("*.vq"))


def test_the_golden_images_are_unchanged():
    np.testing.assert_array_equal(np.load(GOLDEN / "image.npy"), make_golden.golden_image())
    np.testing.assert_array_equal(np.load(GOLDEN / "color.npy"), make_golden.golden_color())


def test_every_coder_has_golden_files():
    assert {p.name for p in FILES} >= {f"{n}-{c}.vq" for n in make_golden.CASES for c in CODERS}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_golden_file_decodes_and_is_reproduced(path):
    name, coder = path.stem.split("-")
    source, k, options = make_golden.CASES[name]
    image = np.load(GOLDEN / source)
    data = path.read_bytes()
    codes, codebook = vqimage.decompress(data)
    np.testing.assert_array_equal(codes, vqimage.encode(image, codebook))
    assert data[9] == (0 if codebook.mode == "gray" else 1), "format minor version: 0 for gray, 1 for vectors"
    assert vqimage.compress(image, codebook=codebook, coder=coder) == data, "the .vq encoder's output changed"
    assert codebook == vqimage.fit(image, k, **options), "fit() no longer gives the golden codebook"
