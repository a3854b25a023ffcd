"""Standard files: palette PNG at the smallest bit depth, 16-bit PNG, TIFF, NPY read back exactly."""

import io

import imagecodecs
import numpy as np
import pytest
import tifffile
from PIL import Image

import vqimage
from vqimage.pack.formats import export, export_bytes


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
