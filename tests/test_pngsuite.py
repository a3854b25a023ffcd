"""PngSuite, Willem van Schaik's PNG test images (tests/data/pngsuite/, free to use: PngSuite.LICENSE).

Every valid file reads as Pillow reads it, or better: 16-bit samples stay 16-bit where Pillow keeps only
their high byte (RGB, RGBA, gray+alpha), and tRNS transparency becomes an alpha channel also where
Pillow's ``convert("RGBA")`` drops it (gray below 8 bits, 16-bit gray). Every damaged file (``x*``) is one
VQError line that names it. Nothing reaches stdout or stderr.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import vqimage
from vqimage import VQError
from vqimage.io import read_image, to_gray

SUITE = Path(__file__).parent / "data" / "pngsuite"
VALID = sorted(p.name for p in SUITE.glob("*.png") if not p.name.startswith("x"))
DAMAGED = sorted(p.name for p in SUITE.glob("x*.png"))


def ihdr(name):
    """(bit depth, color type) from the file's header."""
    data = (SUITE / name).read_bytes()
    return data[24], data[25]


def has_trns(name):
    return b"tRNS" in (SUITE / name).read_bytes()


def pillow_reference(name):
    """What Pillow reads, in vqimage's layout: RGBA where there is alpha or tRNS; Pillow's 8 bits."""
    with Image.open(SUITE / name) as img:
        img.load()
        transparent = img.info.get("transparency")
        if img.mode in ("1", "L", "I;16") and transparent is not None:
            # convert("RGBA") ignores gray tRNS below 8 bits and makes 16-bit gray all clear: apply it here.
            gray = np.asarray(img.convert("L") if img.mode == "1" else img)
            depth = ihdr(name)[0]
            key = transparent * (255 // (2**depth - 1)) if depth < 8 else transparent
            alpha = np.where(gray == key, 0, np.iinfo(gray.dtype).max).astype(gray.dtype)
            return np.dstack([gray, gray, gray, alpha])
        if img.mode in ("P", "LA", "RGB") and (transparent is not None or img.mode == "LA"):
            return np.asarray(img.convert("RGBA"))
        if img.mode in ("P", "1"):
            return np.asarray(img.convert("RGB" if img.mode == "P" else "L"))
        return np.asarray(img)


def test_the_suite_is_all_here():
    assert len(VALID) == 161 and len(DAMAGED) == 14
    assert (SUITE / "PngSuite.LICENSE").is_file() and (SUITE / "PngSuite.README").is_file()


@pytest.mark.parametrize("name", VALID)
def test_valid_files_read_as_pillow_reads_them_or_better(name, capfd):
    image, meta = read_image(SUITE / name, gray=False)
    depth, color = ihdr(name)
    expected = pillow_reference(name)
    assert image.dtype == (np.uint16 if depth == 16 else np.uint8)
    assert meta.format == "PNG" and meta.bit_depth == (8 if color == 3 else depth) and meta.orientation == 1
    if image.dtype == np.uint16 and expected.dtype == np.uint8:
        np.testing.assert_array_equal(image >> 8, expected)  # Pillow's high byte; the low byte is a bonus
        assert np.any(image & 0xFF != image >> 8) or name.startswith(("bg", "tb"))  # truly 16-bit data
    else:
        np.testing.assert_array_equal(image, expected)
    with Image.open(SUITE / name) as img:
        assert meta.gamma == pytest.approx(img.info.get("gamma"))
        assert meta.chromaticities == pytest.approx(img.info.get("chromaticity"))
    assert ("PNG tRNS transparency read as an alpha channel." in meta.notes) == has_trns(name)
    gray = read_image(SUITE / name)[0]
    np.testing.assert_array_equal(gray, to_gray(image))
    assert gray.ndim == 2 and gray.dtype == image.dtype
    assert capfd.readouterr() == ("", "")  # libpng's warnings (interlacing, hIST out of place) stay quiet


@pytest.mark.parametrize("name", DAMAGED)
def test_damaged_files_are_one_line_naming_them(name, capfd):
    with pytest.raises(VQError) as info:
        vqimage.load_image(SUITE / name)
    message = str(info.value)
    assert message.startswith(f"{SUITE / name}: not a readable image (") and message.endswith(").")
    assert "\n" not in message and len(message) < len(str(SUITE)) + 200
    assert "Unicode" not in message  # imagecodecs' garbled message for a PNG without IDAT (xdtn0g01)
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("name", VALID)
def test_every_valid_file_quantizes(name):
    image = vqimage.load_image(SUITE / name, gray=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vqimage.FitWarning)  # most have fewer than 16 colors: lossless
        result = vqimage.quantize(image, 16)
    assert result.codes.shape[:2] == image.shape[:2]
