"""What quantize does to real-world inputs before fitting: 16-bit color, float16 and long double data."""

import numpy as np
import pytest

import vqimage
from vqimage.cli import main


def rgb16(seed=0, shape=(40, 56, 3)):
    return np.random.default_rng(seed).integers(0, 65536, shape, dtype=np.uint16)


def test_16_bit_color_is_rounded_to_8_bits_and_says_so():
    image = rgb16()
    image[0, :4, 0] = [0, 128, 129, 65535]  # round(v / 257): 0, 0.498 -> 0, 0.502 -> 1, 255
    result = vqimage.quantize(image, 16, dither="none")
    assert result.image.dtype == np.uint8 and result.mode == "color"
    np.testing.assert_array_equal(result.image[0, :4, 0], [0, 0, 1, 255])
    reference = np.floor(image / 257.0 + 0.5).astype(np.uint8)  # the same rounding, in float64
    np.testing.assert_array_equal(result.image, reference)
    assert result.notes == ("16-bit color reduced to 8 bits per channel (rounded) for an 8-bit palette",)
    assert result.summary()["notes"] == list(result.notes)
    assert vqimage.quantize(reference, 16, dither="none").codebook == result.codebook


def test_16_bit_rgba_keeps_its_alpha_rounded():
    image = rgb16(1, (24, 24, 4))
    result = vqimage.quantize(image, 8, dither="none")
    assert result.image.shape == (24, 24, 4)
    np.testing.assert_array_equal(result.image[..., 3], np.floor(image[..., 3] / 257.0 + 0.5))


def test_16_bit_gray_stays_16_bit():
    gray = rgb16(2, (30, 30))
    result = vqimage.quantize(gray, 8)
    assert result.image.dtype == np.uint16 and result.notes == ()


def test_the_cli_says_16_bit_color_was_reduced(tmp_path, capsys):
    import imagecodecs
    from PIL import Image

    source = tmp_path / "rgb16.png"
    source.write_bytes(imagecodecs.png_encode(rgb16(3)))
    assert main(["quantize", str(source), "-k", "8", "-d", "none", "-o", str(tmp_path / "out.png")]) == 0
    err = capsys.readouterr().err
    assert "note: 16-bit color reduced to 8 bits per channel (rounded)" in err
    expected = vqimage.quantize(np.floor(rgb16(3) / 257.0 + 0.5).astype(np.uint8), 8, dither="none")
    with Image.open(tmp_path / "out.png") as written:
        np.testing.assert_array_equal(np.asarray(written.convert("RGB")), expected.reconstruction)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.longdouble, np.int8, np.int64, np.uint64])
def test_every_dtype_fit_accepts_survives_compress_and_decompress(dtype):
    image = (np.random.default_rng(4).random((20, 30)) * 100).astype(dtype)
    result = vqimage.quantize(image, 4)
    restored = vqimage.decompress_image(vqimage.compress(image, 4))
    assert restored.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(restored, result.reconstruction)
    assert len(np.unique(restored)) == 4


def test_a_batch_summary_lists_the_notes(tmp_path, capsys):
    import imagecodecs

    for i in range(4):
        (tmp_path / f"rgb16_{i}.png").write_bytes(imagecodecs.png_encode(rgb16(10 + i, (16, 16, 3))))
    assert main(["quantize", str(tmp_path), "-k", "4", "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert (f"note: 16-bit color reduced to 8 bits per channel (rounded) for an 8-bit palette: "
            f"{tmp_path / 'rgb16_0.png'}, {tmp_path / 'rgb16_1.png'}, {tmp_path / 'rgb16_2.png'} and 1 more") in err
    assert len(list((tmp_path / "out").iterdir())) == 4


def _icc() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("output", ["out.png", "out.webp", "out.tif"])
def test_an_icc_profile_is_kept_and_strip_drops_it(tmp_path, astronaut, output, capsys):
    from PIL import Image

    icc = _icc()
    Image.fromarray(astronaut[:64, :64]).save(tmp_path / "in.png", icc_profile=icc)
    assert main(["quantize", str(tmp_path / "in.png"), "-k", "8", "-o", str(tmp_path / output)]) == 0
    assert "ICC profile kept" in capsys.readouterr().err
    with Image.open(tmp_path / output) as written:
        assert written.info["icc_profile"] == icc
        kept = np.asarray(written.convert("RGB"))
    assert main(["quantize", str(tmp_path / "in.png"), "-k", "8", "--strip", "-o", str(tmp_path / f"s{output}")]) == 0
    assert "ICC profile" not in capsys.readouterr().err
    with Image.open(tmp_path / f"s{output}") as stripped:
        assert "icc_profile" not in stripped.info or not stripped.info["icc_profile"]
        np.testing.assert_array_equal(np.asarray(stripped.convert("RGB")), kept)  # the same pixels


def test_a_jpeg_profile_reaches_the_png_and_the_api_keeps_it_too(tmp_path, astronaut):
    from PIL import Image

    icc = _icc()
    Image.fromarray(astronaut[:64, :64]).save(tmp_path / "in.jpg", icc_profile=icc, quality=90)
    result = vqimage.quantize(tmp_path / "in.jpg", 8)
    assert result.meta.icc_profile == icc
    result.write(tmp_path / "out.png")
    result.write(tmp_path / "bare.png", strip=True)
    with Image.open(tmp_path / "out.png") as a, Image.open(tmp_path / "bare.png") as b:
        assert a.info["icc_profile"] == icc and "icc_profile" not in b.info
    assert vqimage.quantize(np.asarray(Image.open(tmp_path / "in.jpg")), 8).meta is None  # an array has none


def test_srgb_and_gamma_chunks_are_kept_in_png(tmp_path, astronaut):
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add(b"gAMA", (45455).to_bytes(4, "big"))
    info.add(b"sRGB", b"\x01")  # relative colorimetric
    Image.fromarray(astronaut[:32, :48]).save(tmp_path / "in.png", pnginfo=info)
    vqimage.quantize(tmp_path / "in.png", 4).write(tmp_path / "out.png")
    data = (tmp_path / "out.png").read_bytes()
    assert data.index(b"gAMA") < data.index(b"PLTE") and data.index(b"sRGB") < data.index(b"PLTE")
    with Image.open(tmp_path / "out.png") as written:
        assert written.info["gamma"] == pytest.approx(0.45455) and written.info["srgb"] == 1


def test_opaque_rgba_takes_rgb_palettes_and_codebooks(astronaut):
    """Many PNGs are RGBA with every alpha 255: they map to RGB colors as their RGB does."""
    rgba = np.dstack([astronaut[:40, :60], np.full((40, 60), 255, np.uint8)])
    codebook = vqimage.fit(astronaut[:40, :60], 8, mode="color", space="oklab")
    for given in ({"codebook": codebook}, {"palette": "epaper7"}):
        result = vqimage.quantize(rgba, dither="none", **given)
        assert result.image.shape == (40, 60, 3)
        np.testing.assert_array_equal(result.codes, vqimage.quantize(astronaut[:40, :60], dither="none", **given).codes)
    rgba[0, 0, 3] = 0
    with pytest.raises(ValueError, match="has transparent pixels, which an RGB 'palette' or 'codebook' cannot show"):
        vqimage.quantize(rgba, palette="epaper7")


def test_a_shared_batch_of_rgb_and_opaque_rgba_files(tmp_path, astronaut):
    from PIL import Image

    Image.fromarray(astronaut[:32, :32]).save(tmp_path / "a.png")
    Image.fromarray(np.dstack([astronaut[64:96, :32], np.full((32, 32), 255, np.uint8)])).save(tmp_path / "b.png")
    assert main(["quantize", str(tmp_path), "-k", "8", "--shared-codebook", "-o", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
