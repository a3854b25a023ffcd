"""vqimage.quantize: the one call the command line, batch, targets, compare and the report go through."""

import json
import sys
import warnings

import numpy as np
import pytest
from PIL import Image

import vqimage
from vqimage import ConflictError, Quantized
from vqimage.cli import main
from vqimage.solvers import fit_mode


def test_gray_image_is_fitted_optimally_and_measured(camera):
    result = vqimage.quantize(camera, 8)
    codebook = vqimage.fit(camera, 8)
    assert isinstance(result, Quantized) and result.codebook == codebook and result.mode == "gray"
    np.testing.assert_array_equal(result.codes, vqimage.encode(camera, codebook))
    np.testing.assert_array_equal(result.reconstruction, vqimage.decode(result.codes, codebook))
    m = result.metrics
    error = camera.astype(np.float64) - result.reconstruction  # the measures written out here
    assert m.mse == pytest.approx(np.mean(error**2), rel=1e-12)
    assert m.psnr == pytest.approx(10 * np.log10(255**2 / np.mean(error**2)), rel=1e-12)
    assert m.ssim == pytest.approx(vqimage.metrics.ssim(camera, result.reconstruction))
    assert m.max_error == np.abs(error).max()
    assert (m.fmt, m.bytes, m.bits_per_pixel) == ("packed", 512 * 512 * 3 // 8, 3.0)
    vq = result.evaluate(fmt="vq")
    assert vq.bytes == len(vqimage.compress(camera, codebook=codebook)) == len(result.to_bytes("vq"))
    assert repr(result) == "Quantized(512x512 uint8 -> 8 gray levels, optimal)"


def test_a_built_in_name_or_path_is_loaded(tmp_path, camera):
    Image.fromarray(camera).save(tmp_path / "c.png")
    by_name = vqimage.quantize("camera", 4)
    by_path = vqimage.quantize(tmp_path / "c.png", 4)
    np.testing.assert_array_equal(by_name.codes, by_path.codes)
    assert by_name.name == "camera" and repr(by_name).startswith("Quantized(camera: 512x512")


def test_face_is_the_seeds_gray_face_everywhere(face, tmp_path, capsys):
    """`vqimage quantize face -k 8` writes the seed's gray face at its optimal 8 levels."""
    from scipy.datasets import face as scipy_face

    seed = scipy_face(gray=True)
    np.testing.assert_array_equal(vqimage.load_image("face"), seed)
    np.testing.assert_array_equal(vqimage.load_image("face", gray=False), seed)
    assert vqimage.load_image("face_color", gray=False).shape == (768, 1024, 3)
    assert main(["quantize", "face", "-k", "8", "-o", str(tmp_path / "face8.png"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["mode"], record["n_levels"], record["strategy"]) == ("gray", 8, "optimal")
    assert record["mse"] == pytest.approx(63.41, abs=0.01)
    optimal = vqimage.fit(seed, 8)
    with Image.open(tmp_path / "face8.png") as img:
        assert img.mode == "P" and img.size == (1024, 768)
        np.testing.assert_array_equal(np.asarray(img), vqimage.encode(seed, optimal))
        np.testing.assert_array_equal(np.asarray(img.convert("L")), vqimage.decode(vqimage.encode(seed, optimal),
                                                                                   optimal))


def test_equal_channel_rgb_is_gray_in_the_api_and_the_cli(tmp_path, capsys, camera):
    rgb = np.dstack([camera] * 3)
    Image.fromarray(rgb).save(tmp_path / "rgbgray.png")
    assert fit_mode(rgb, "auto") == "gray" and fit_mode(rgb[..., ::-1] * [1, 1, 0], "auto") == "color"
    api = vqimage.quantize(rgb, 6)
    assert api.mode == "gray" and api.codebook == vqimage.fit(camera, 6)
    assert vqimage.fit(rgb, 6, mode="auto") == api.codebook
    assert main(["quantize", str(tmp_path / "rgbgray.png"), "-k", "6", "-o", str(tmp_path / "o.png"), "-q"]) == 0
    with Image.open(tmp_path / "o.png") as img:
        np.testing.assert_array_equal(np.asarray(img.convert("L")), api.reconstruction)
    # an RGBA image with any clear pixel is color, even with equal channels
    rgba = np.dstack([rgb, np.full(camera.shape, 255, np.uint8)])
    assert fit_mode(rgba, "auto") == "gray"
    rgba[0, 0, 3] = 0
    assert fit_mode(rgba, "auto") == "color"


def test_color_palette_lock_dither_and_blocks():
    astronaut = vqimage.load_image("astronaut", gray=False)[::4, ::4]
    colors = vqimage.quantize(astronaut, 16)  # the perceptual default: an Oklab palette, adaptive dithering
    assert colors.mode == "color" and colors.codebook.levels.shape == (16, 3) and colors.dither == "adaptive"
    oklab = vqimage.fit(astronaut, 16, mode="color", space="oklab")
    assert colors.codebook == oklab
    np.testing.assert_array_equal(colors.codes, vqimage.encode(astronaut, oklab, dither="adaptive"))
    plain = vqimage.quantize(astronaut, 16, space="rgb", dither="none")  # least RGB error, undithered
    rgb = vqimage.fit(astronaut, 16, mode="color")
    assert plain.codebook == rgb and plain.dither == "none"
    assert plain.metrics.psnr > colors.metrics.psnr + 1.15  # measured 1.22 dB more
    np.testing.assert_array_equal(plain.codes, vqimage.encode(astronaut, rgb))
    assert vqimage.quantize(astronaut, target_psnr=25).codebook.space == "rgb"  # targets measure PSNR
    alpha = np.full(astronaut.shape[:2], 255, np.uint8)
    alpha[:4] = 128
    translucent = vqimage.quantize(np.dstack([astronaut, alpha]), 8)
    assert translucent.codebook.space == "composite" and translucent.reconstruction.shape[-1] == 4  # on black, white
    opaque = vqimage.quantize(np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)]), 16)
    assert opaque.codebook == colors.codebook and opaque.image.shape[-1] == 3  # no alpha to keep: RGB in Oklab
    np.testing.assert_array_equal(opaque.codes, colors.codes)
    assert vqimage.quantize(np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)]), 16,
                            space="composite").reconstruction.shape[-1] == 4  # asked for: kept
    locked = vqimage.quantize(astronaut, 8, lock="#ff00ff")
    assert [255, 0, 255] in locked.codebook.levels.tolist()
    dithered = vqimage.quantize(astronaut, 16, selective=True)
    assert dithered.dither == "floyd-steinberg"
    np.testing.assert_array_equal(dithered.codes, vqimage.encode(astronaut, colors.codebook, dither="floyd-steinberg",
                                                                 selective=True))
    assert dithered.codebook.space == "oklab"
    epaper = vqimage.quantize(astronaut, palette="epaper7")
    assert epaper.strategy == "palette" and epaper.codebook == vqimage.palette_codebook("epaper7")
    gray_on_gray = vqimage.quantize(vqimage.load_image("camera"), palette="gray4")
    assert gray_on_gray.mode == "gray" and gray_on_gray.codebook.levels.tolist() == [0, 85, 170, 255]
    colored_on_gray = vqimage.quantize(vqimage.load_image("camera"), palette="epaper-bwr")
    assert colored_on_gray.mode == "color" and colored_on_gray.image.shape == (512, 512, 3)
    blocks = vqimage.quantize("camera", 16, mode="block", block=(4, 4))
    assert blocks.codes.shape == (128, 128) and blocks.reconstruction.shape == (512, 512)
    assert blocks.summary()["block"] == [4, 4]


def test_a_shared_codebook(camera):
    shared = vqimage.fit(camera, 8)
    result = vqimage.quantize(np.dstack([camera] * 3), codebook=shared)
    assert result.codebook is shared and result.mode == "gray"
    with pytest.raises(ConflictError, match="'codebook' is a gray codebook; it does not take 'mode' color"):
        vqimage.quantize(camera, codebook=shared, mode="color")


def test_write_is_atomic_and_never_overwrites(tmp_path, camera):
    result = vqimage.quantize(camera, 4)
    info = result.write(tmp_path / "c.png")
    assert info["bytes"] == (tmp_path / "c.png").stat().st_size == len(result.to_bytes("png"))
    with pytest.raises(FileExistsError, match="exists"):
        result.write(tmp_path / "c.png")
    assert result.write(tmp_path / "c.png", force=True)["skipped"] is False
    skipped = result.write(tmp_path / "d.png", smaller_than=10)
    assert skipped["skipped"] and not (tmp_path / "d.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png"]
    with pytest.raises(ValueError, match="Cannot tell the output format from .*x.bmp"):
        result.write(tmp_path / "x.bmp")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, r"Missing 'n_levels' \(or give 'palette'\)"),
        ({"n_levels": 4, "palette": "gray4"}, "'palette' maps to given colors; it does not take 'n_levels' or 'lock'"),
        ({"palette": "gray4", "codebook": vqimage.palette_codebook("gray4", mode="gray")},
         "Give either 'palette' or 'codebook'"),
        ({"target_psnr": 30, "palette": "gray4"}, "Targets choose the number of levels; they do not combine"),
        ({"n_levels": 4, "strategy": "auto"}, "'strategy' auto needs a target"),
        ({"n_levels": 4, "lock": "#000000"}, "'lock' applies to color mode"),
        ({"n_levels": 4, "strategy": "wu"}, "'strategy' wu applies to color and block modes"),
        ({"n_levels": 4, "block": (2, 2)}, "'block' applies to block mode"),
        ({"mode": "block", "palette": "gray4"}, "'palette' applies to gray and color modes"),
        ({"n_levels": 4, "mode": "color", "reconstruction": "median"}, "'reconstruction' applies to gray mode"),
        ({"n_levels": 4, "mode": "color", "strategy": "optimal"}, "'strategy' optimal applies to gray mode"),
    ],
)
def test_parameters_that_do_not_go_together(camera, kwargs, message):
    with pytest.raises(ConflictError, match=message):
        vqimage.quantize(camera, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_levels": 1}, ValueError, r"The 'n_levels' parameter of quantize must be an int in \[2, 65536\]"),
        ({"n_levels": 4, "dither": "stucki"}, ValueError, "The 'dither' parameter of quantize must be None or one of"),
        ({"n_levels": 4, "strategy": "best"}, ValueError, "The 'strategy' parameter of quantize must be None or one of"),
        ({"n_levels": 4, "fmt": "bmp"}, ValueError, "The 'fmt' parameter of quantize must be None or one of"),
        ({"n_levels": 4, "mode": "colour"}, ValueError, "The 'mode' parameter of quantize must be one of"),
        ({"n_levels": 4, "dither_strength": 2.0}, ValueError, r"'dither_strength' parameter of quantize .* \[0, 1\]"),
    ],
)
def test_invalid_parameters(camera, kwargs, error, message):
    with pytest.raises(error, match=message):
        vqimage.quantize(camera, **kwargs)


def test_float_color_says_what_to_do():
    rgb = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"float32 color; color palettes are 8-bit.*mode='gray'"):
        vqimage.quantize(rgb, 8)
    assert vqimage.quantize(rgb, 8, mode="gray").codebook.dtype == np.float32
    rgb16 = (rgb * 65535).astype(np.uint16)  # 16-bit color is rounded to 8 bits (tests/test_pipeline_inputs.py)
    assert vqimage.quantize(rgb16, 8, mode="gray").codebook.dtype == np.uint16


def test_fewer_distinct_values_warn(camera):
    two = np.array([[0, 255], [255, 0]], np.uint8)
    with pytest.warns(vqimage.FitWarning, match="only 2 distinct value"):
        assert vqimage.quantize(two, 8).n_levels == 2


def test_target_search_reports_progress(camera):
    seen = []
    result = vqimage.quantize(camera, target_psnr=35, progress=lambda k, e: seen.append((k, e.psnr)))
    assert seen[0][0] == 256  # the most levels allowed first: an unreachable target fails there
    assert result.n_levels == next(k for k, psnr in seen[1:] if psnr >= 35)
    assert result.metrics.psnr >= 35 and result.metrics.fmt == "packed"


def test_unreachable_color_target_fails_at_the_first_step():
    astronaut = vqimage.load_image("astronaut", gray=False)[::4, ::4]
    seen = []
    with pytest.raises(vqimage.TargetError, match="out of reach with 'kmeans': 256 levels give PSNR"):
        vqimage.quantize(astronaut, target_psnr=99, progress=lambda k, e: seen.append(k))
    assert seen == [256]


def test_a_missing_extra_is_one_line(monkeypatch):
    from vqimage._optional import require

    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=r"^The drop-in needs scikit-learn, which is not installed: "
                                          r"pip install 'vqimage\[sklearn\]' \(or 'vqimage\[all\]'\)\.$"):
        require("sklearn", "The drop-in")
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.delitem(sys.modules, "vqimage.distributed", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'vqimage\[dask\]'"):
        import vqimage.distributed  # noqa: F401


def test_import_vqimage_loads_no_optional_or_heavy_module():
    import subprocess

    code = ("import sys, vqimage; heavy = [m for m in ('numba', 'sklearn', 'dask', 'matplotlib', 'zarr', 'skimage', "
            "'scipy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_quantize_files_is_the_one_batch_engine(tmp_path, camera):
    from vqimage.batch import quantize_files

    for i in range(3):
        Image.fromarray(camera[i * 100:(i + 1) * 100]).save(tmp_path / f"p{i}.png")
    threads = quantize_files([tmp_path / "*.png"], tmp_path / "t", 4, workers=2)
    dask = quantize_files([tmp_path / "*.png"], tmp_path / "d", 4, scheduler="synchronous")
    strip = [{k: v for k, v in r.items() if k != "output"} for r in threads]
    assert strip == [{k: v for k, v in r.items() if k != "output"} for r in dask]
    for i, record in enumerate(threads):
        expected = vqimage.quantize(camera[i * 100:(i + 1) * 100], 4, fmt="png")
        assert record["bytes"] == len(expected.to_bytes())
        assert (tmp_path / "t" / f"p{i}.png").read_bytes() == (tmp_path / "d" / f"p{i}.png").read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shared = quantize_files([tmp_path], tmp_path / "s", 4, shared=True, ext=".vq")
    codebooks = {vqimage.decompress((tmp_path / "s" / f"p{i}.vq").read_bytes())[1] == vqimage.fit(camera[:300], 4)
                 for i in range(3)}
    assert codebooks == {True} and len(shared) == 3 and all(r["error"] is None for r in shared)
