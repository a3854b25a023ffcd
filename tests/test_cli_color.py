"""The vqimage command on colors and blocks: --mode, --palette, --lock, --dither, --block, compare."""

import io
import json
import struct

import numpy as np
import pytest
from PIL import Image

import vqimage
from vqimage.cli import main
from vqimage.io import to_gray
from vqimage.pack.formats import epaper, epaper_unpack
from vqimage.palettes import palette_codebook


@pytest.fixture(scope="module")
def astronaut():
    image = vqimage.load_image("astronaut", gray=False)
    image.flags.writeable = False
    return image


@pytest.fixture(scope="module")
def fitted(astronaut):
    """What `vqimage quantize astronaut -k 16` must compute: an Oklab palette, adaptive dithering in Oklab."""
    cb = vqimage.fit(astronaut, 16, mode="color", space="oklab")
    return cb, vqimage.encode(astronaut, cb, dither="adaptive")


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def png_header(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height, depth, color_type = struct.unpack(">IIBB", data[16:26])
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks[data[at + 4 : at + 8]] = data[at + 8 : at + 8 + length]
        at += 12 + length
    return (width, height, depth, color_type), chunks


def test_quantize_astronaut_to_every_format(tmp_path, capsys, astronaut, fitted):
    cb, codes = fitted
    recon = vqimage.decode(codes, cb)
    for ext in ("png", "gif", "raw", "vq", "npy"):
        out = tmp_path / f"a.{ext}"
        code, stdout, err = run(["quantize", "astronaut", "-k", 16, "-o", out], capsys)
        assert code == 0 and stdout == "" and err.count("\n") == 1
        assert "astronaut: 512x512x3 uint8 -> 16 colors (kmeans, adaptive dither)" in err and f"wrote {out}" in err
    (width, height, depth, color_type), chunks = png_header(tmp_path / "a.png")
    assert (width, height, depth, color_type) == (512, 512, 4, 3) and len(chunks[b"PLTE"]) == 3 * 16
    with Image.open(tmp_path / "a.png") as img:
        assert img.mode == "P"
        np.testing.assert_array_equal(np.asarray(img), codes)
        np.testing.assert_array_equal(np.asarray(img.convert("RGB")), recon)
    with Image.open(tmp_path / "a.gif") as img:
        np.testing.assert_array_equal(np.asarray(img), codes)
        np.testing.assert_array_equal(np.asarray(img.convert("RGB")), recon)
    raw = (tmp_path / "a.raw").read_bytes()
    assert len(raw) == 512 * -(-512 * 4 // 8) and raw == epaper(codes, 4)
    np.testing.assert_array_equal(epaper_unpack(raw, (512, 512), 4), codes)
    data = (tmp_path / "a.vq").read_bytes()
    np.testing.assert_array_equal(vqimage.decompress_image(data), recon)
    assert vqimage.decompress(data)[1] == cb
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), codes)


def test_quantize_json_and_raw_size_of_an_odd_width(tmp_path, capsys, astronaut):
    image = astronaut[:37, :45]
    Image.fromarray(image).save(tmp_path / "small.png")
    code, out, _ = run(["quantize", tmp_path / "small.png", "-k", 7, "-o", tmp_path / "s.raw", "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert {"input", "shape", "dtype", "mode", "n_levels", "strategy", "dither", "levels", "mse", "psnr", "output",
            "format", "bytes", "bits_per_pixel"} <= set(result)
    cb = vqimage.fit(image, 7, mode="color", space="oklab")
    codes = vqimage.encode(image, cb, dither="adaptive")
    assert result["mode"] == "color" and result["n_levels"] == 7 and result["strategy"] == "kmeans"
    assert result["shape"] == [37, 45, 3] and result["levels"] == cb.levels.tolist()
    assert result["dither"] == "adaptive"
    assert result["format"] == "raw" and result["bytes"] == 37 * -(-45 * 4 // 8)  # 7 colors: 4 bits
    mse = np.mean((image.astype(np.float64) - vqimage.decode(codes, cb)) ** 2)  # over every channel value
    assert result["mse"] == pytest.approx(mse, rel=1e-12)
    assert result["psnr"] == pytest.approx(10 * np.log10(255**2 / mse), rel=1e-12)
    assert result["bits_per_pixel"] == pytest.approx(8 * result["bytes"] / (37 * 45))
    assert (tmp_path / "s.raw").read_bytes() == epaper(codes, 4)


def test_wu_strategy(tmp_path, capsys, astronaut):
    code, out, _ = run(["quantize", "astronaut", "-k", 16, "-s", "wu", "-o", tmp_path / "w.npy", "--json"], capsys)
    assert code == 0 and json.loads(out)["strategy"] == "wu"
    cb = vqimage.fit(astronaut, 16, mode="color", strategy="wu", space="oklab")
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), vqimage.encode(astronaut, cb, dither="adaptive"))
    # --space rgb -d none: the palette of least RGB squared error, undithered.
    code, out, _ = run(["quantize", "astronaut", "-k", 16, "-s", "wu", "--space", "rgb", "-d", "none", "-o",
                        tmp_path / "r.npy"], capsys)
    rgb = vqimage.fit(astronaut, 16, mode="color", strategy="wu")
    np.testing.assert_array_equal(np.load(tmp_path / "r.npy"), vqimage.encode(astronaut, rgb))


def test_mode_gray_on_a_color_image_gives_a_gray_palette(tmp_path, capsys, astronaut):
    out = tmp_path / "g.png"
    code, _, err = run(["quantize", "astronaut", "-k", 8, "--mode", "gray", "-o", out], capsys)
    assert code == 0 and "-> 8 levels (optimal)" in err
    gray = to_gray(astronaut)
    cb = vqimage.fit(gray, 8)
    with Image.open(out) as img:
        assert img.mode == "P"
        palette = np.array(img.getpalette()[: 3 * 8]).reshape(8, 3)
        assert (palette == palette[:, :1]).all()  # R = G = B
        np.testing.assert_array_equal(palette[:, 0], cb.levels_as(np.uint8))
        np.testing.assert_array_equal(np.asarray(img.convert("L")), vqimage.decode(vqimage.encode(gray, cb), cb))


def test_palette_epaper7_dithered_raw(tmp_path, capsys, astronaut):
    try:
        import vqimage.dither  # noqa: F401
    except ImportError as exc:  # being written alongside this test
        pytest.skip(f"vqimage.dither is not importable yet: {exc}")
    out = tmp_path / "frame.raw"
    code, _, err = run(["quantize", "astronaut", "--palette", "epaper7", "-d", "floyd-steinberg", "-o", out], capsys)
    assert code == 0 and "7 colors (palette, floyd-steinberg dither)" in err
    cb = palette_codebook("epaper7")
    expected = vqimage.encode(astronaut, cb, dither="floyd-steinberg")
    raw = out.read_bytes()
    assert len(raw) == 512 * 256 and raw == epaper(expected, 4)
    codes = epaper_unpack(raw, (512, 512), 4)
    assert codes.max() < 7 and np.unique(codes).size == 7
    plain = vqimage.encode(astronaut, cb)
    assert (codes != plain).mean() > 0.39  # dithering changed many pixels (measured 0.402) ...
    # ... and keeps the local mean color closer to the image's than plain nearest mapping does.
    def blur(x):
        return x.astype(np.float64).reshape(64, 8, 64, 8, -1).mean(axis=(1, 3))
    err_dither = np.abs(blur(vqimage.decode(codes, cb)) - blur(astronaut)).mean()
    err_plain = np.abs(blur(vqimage.decode(plain, cb)) - blur(astronaut)).mean()
    assert err_dither < 0.075 * err_plain  # measured 2.75 against 38.66


def test_palette_black_white_on_camera(tmp_path, capsys, camera):
    out = tmp_path / "bw.png"
    code, out_json, _ = run(["quantize", "camera", "--palette", "#000000,#ffffff", "-o", out, "--json"], capsys)
    assert code == 0
    result = json.loads(out_json)
    assert result["mode"] == "gray" and result["n_levels"] == 2 and result["strategy"] == "palette"
    (width, height, depth, color_type), _ = png_header(out)
    assert (width, height, depth, color_type) == (512, 512, 1, 3)
    with Image.open(out) as img:
        np.testing.assert_array_equal(np.asarray(img.convert("L")), np.where(camera >= 128, 255, 0))
    # A palette that is not increasing gray maps a gray image as colors, in the palette's order.
    code, _, _ = run(["quantize", "camera", "--palette", "#ffffff,#000000", "-o", tmp_path / "wb.npy"], capsys)
    assert code == 0
    np.testing.assert_array_equal(np.load(tmp_path / "wb.npy"), np.where(camera >= 128, 0, 1))


def test_lock(tmp_path, capsys, astronaut):
    code, out, _ = run(["quantize", "astronaut", "-k", 8, "--lock", "#ff0000, #00ff00", "-o", tmp_path / "l.npy",
                        "--json"], capsys)
    assert code == 0
    levels = json.loads(out)["levels"]
    assert len(levels) == 8 and levels[:2] == [[255, 0, 0], [0, 255, 0]]
    cb = vqimage.fit(astronaut, 8, mode="color", fixed=np.array([[255, 0, 0], [0, 255, 0]], np.uint8), space="oklab")
    assert levels == cb.levels.tolist()
    np.testing.assert_array_equal(np.load(tmp_path / "l.npy"), vqimage.encode(astronaut, cb, dither="adaptive"))


def test_lock_an_rgb_color_on_an_rgba_image(tmp_path, capsys, astronaut):
    rgba = np.dstack([astronaut[:32, :32], np.full((32, 32), 255, np.uint8)])
    rgba[:4, :, 3] = 0
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    code, out, err = run(["quantize", tmp_path / "rgba.png", "-k", 8, "--lock", "#ff0000", "-o", tmp_path / "o.png",
                          "--json"], capsys)
    assert code == 0, err
    assert [255, 0, 0, 255] in json.loads(out)["levels"]


def test_block_mode_round_trip_through_vq(tmp_path, capsys, camera):
    image = camera[:101, :203]  # not a multiple of 4
    Image.fromarray(image).save(tmp_path / "crop.png")
    vq = tmp_path / "b.vq"
    code, _, err = run(["compress", tmp_path / "crop.png", "-m", "block", "--block", "4x4", "-k", 32, "-o", vq],
                       capsys)
    assert code == 0 and "-> 32 4x4 blocks (kmeans)" in err
    code, out, _ = run(["info", vq, "--json"], capsys)
    info = json.loads(out)
    assert code == 0 and info["mode"] == "block" and info["image_shape"] == [101, 203] and info["shape"] == [26, 51]
    code, out, _ = run(["info", vq], capsys)
    assert code == 0 and "101x203 uint8, 32 blocks in 26x51 tiles" in out
    code, _, _ = run(["decompress", vq, "-o", tmp_path / "b.png"], capsys)
    assert code == 0
    cb = vqimage.fit(image, 32, mode="block", block=(4, 4))
    restored = vqimage.load_image(tmp_path / "b.png")
    assert restored.shape == image.shape
    np.testing.assert_array_equal(restored, vqimage.decode(vqimage.encode(image, cb), cb, shape=image.shape))
    code, _, _ = run(["decompress", vq, "-o", tmp_path / "b.npy"], capsys)
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), vqimage.encode(image, cb))


def test_color_vq_info_and_decompress(tmp_path, capsys, fitted):
    cb, codes = fitted
    vq = tmp_path / "a.vq"
    assert run(["compress", "astronaut", "-k", 16, "-o", vq, "--coder", "packed", "-q"], capsys) == (0, "", "")
    code, out, _ = run(["info", vq, "--json"], capsys)
    info = json.loads(out)
    assert info["mode"] == "color" and info["image_shape"] == [512, 512, 3] and info["n_levels"] == 16
    assert info["payload_bytes"] == 512 * 512 * 4 // 8 and info["original_bytes"] == 512 * 512 * 3
    code, out, _ = run(["info", vq], capsys)
    assert code == 0 and "512x512x3 uint8, 16 colors (kmeans, centroid), coder packed" in out
    code, _, _ = run(["decompress", vq, "-o", tmp_path / "a.png"], capsys)
    assert code == 0
    with Image.open(tmp_path / "a.png") as img:
        np.testing.assert_array_equal(np.asarray(img.convert("RGB")), vqimage.decode(codes, cb))


def test_compare_colors_json(capsys):
    code, out, _ = run(["compare", "astronaut", "-k", 16, "--json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert [r["strategy"] for r in rows] == ["kmeans", "wu", "pillow-mediancut", "pillow-octree",
                                             "sklearn-kmeans-1000"]
    for row in rows:
        assert set(row) == {"strategy", "n_levels", "mse", "psnr", "ssim", "seconds", "packed_bytes"}
        assert 2 <= row["n_levels"] <= 16 and row["packed_bytes"] == 512 * 512 * 4 // 8
    kmeans = rows[0]
    assert kmeans["n_levels"] == 16
    assert all(kmeans["psnr"] >= r["psnr"] for r in rows) and all(kmeans["mse"] <= r["mse"] for r in rows)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["quantize", "astronaut", "-k", "4", "--palette", "gray4", "-o", "x.png"], 2,
         "--palette maps to given colors; it does not take -k/--levels or --lock."),
        (["quantize", "astronaut", "--palette", "gray4", "--lock", "#ff0000", "-o", "x.png"], 2,
         "it does not take -k/--levels or --lock"),
        (["quantize", "astronaut", "-k", "4", "--strategy", "optimal", "--mode", "color", "-o", "x.png"], 2,
         "--strategy optimal applies to gray mode; color and block take kmeans or wu."),
        (["quantize", "astronaut", "-o", "x.png"], 2, "Missing -k/--levels (or give --palette)."),
        (["quantize", "astronaut", "-k", "4", "--reconstruction", "median", "-o", "x.png"], 2,
         "--reconstruction applies to gray mode"),
        (["quantize", "camera", "-k", "4", "-m", "block", "--block", "5x5", "-o", "x.png"], 1,
         "must be (rows, cols) of positive ints with 2 to 16 pixels, such as (2, 2) or (4, 4). Got (5, 5) instead."),
        (["quantize", "camera", "-k", "4", "-m", "block", "--block", "4", "-o", "x.png"], 2,
         "expected ROWSxCOLS such as 2x2 or 4x4, got '4'"),
        (["quantize", "astronaut", "-k", "4", "-m", "gray", "--lock", "#000000", "-o", "x.png"], 2,
         "--lock applies to color mode."),
        (["quantize", "astronaut", "-k", "4", "-m", "gray", "-s", "wu", "-o", "x.png"], 2,
         "--strategy wu applies to color and block modes."),
        (["quantize", "camera", "-m", "block", "--palette", "gray4", "-o", "x.png"], 2,
         "--palette applies to gray and color modes, not to blocks."),
        (["quantize", "astronaut", "-k", "4", "--lock", "#00000g", "-o", "x.png"], 1,
         "must be hex colors ('#rrggbb', '#rgb', '#rrggbbaa', '#rgba' or 'rrggbb') separated by commas or spaces. "
         "Got '#00000g' (color 0) instead."),
        (["quantize", "astronaut", "-k", "3", "--lock", "#000000,#ffffff,#ff0000", "-o", "x.png"], 1,
         "must leave room for at least one learned entry: 3 levels, 3 locked color(s)."),
        (["quantize", "camera", "-k", "4", "-m", "block", "-o", "x.gif"], 1,
         "GIF needs one code per pixel; block codes are tiles."),
        (["quantize", "camera", "-k", "4", "-m", "block", "-o", "x.raw"], 1, "e-paper buffer holds one code"),
        (["compare", "astronaut", "-k", "4", "-m", "block"], 2, "Invalid value for '-m' / '--mode'"),
    ],
)
def test_errors_are_one_line_and_write_nothing(tmp_path, monkeypatch, capsys, argv, code, message):
    monkeypatch.chdir(tmp_path)
    got, out, err = run(argv, capsys)
    assert got == code and out == ""
    assert "Traceback" not in err
    if code == 1:
        assert err.count("\n") == 1 and message in err
    else:  # usage errors: click's usage lines, then the one error line
        errors = [line for line in err.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and message in errors[0]
    assert list(tmp_path.iterdir()) == []


def test_auto_mode_keeps_gray_stored_as_rgb_gray(tmp_path, capsys, camera):
    Image.fromarray(np.dstack([camera] * 3)).save(tmp_path / "rgbgray.png")
    code, out, _ = run(["quantize", tmp_path / "rgbgray.png", "-k", 4, "-o", tmp_path / "o.npy", "--json"], capsys)
    assert code == 0 and json.loads(out)["mode"] == "gray"
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), vqimage.encode(camera, vqimage.fit(camera, 4)))
    code, out, _ = run(["quantize", tmp_path / "rgbgray.png", "-k", 4, "-m", "color", "-o", tmp_path / "c.npy",
                        "--json"], capsys)
    assert code == 0 and json.loads(out)["mode"] == "color"
    levels = json.loads(out)["levels"]
    assert len(levels) == 4 and all(r == g == b for r, g, b in levels)


def test_stdout_png_of_a_color_codebook(monkeypatch, capsysbinary, astronaut, fitted):
    cb, codes = fitted
    code = main(["quantize", "astronaut", "-k", "16", "-o", "-", "--format", "png", "-q"])
    out, _ = capsysbinary.readouterr()
    assert code == 0
    with Image.open(io.BytesIO(out)) as img:
        np.testing.assert_array_equal(np.asarray(img), codes)


def test_16_bit_color_input_is_rounded_to_8_bits_or_kept_16_bit_in_gray(tmp_path, capsys):
    import imagecodecs

    rgb = (np.random.default_rng(0).random((16, 16, 3)) * 65535).astype(np.uint16)
    (tmp_path / "rgb16.png").write_bytes(imagecodecs.png_encode(rgb))
    code, _, err = run(["quantize", tmp_path / "rgb16.png", "-k", 8, "-d", "none", "-o", tmp_path / "c.png"], capsys)
    assert code == 0 and "note: 16-bit color reduced to 8 bits per channel (rounded)" in err
    rgb8 = ((rgb.astype(np.int64) * 255 + 32767) // 65535).astype(np.uint8)  # round(v * 255 / 65535)
    with Image.open(tmp_path / "c.png") as written:  # exactly the 8-bit image's quantization
        np.testing.assert_array_equal(np.asarray(written.convert("RGB")),
                                      vqimage.quantize(rgb8, 8, dither="none").reconstruction)
    code, _, err = run(["quantize", tmp_path / "rgb16.png", "-k", 8, "-m", "gray", "-o", tmp_path / "o.png"], capsys)
    assert code == 0, err
    # A 16-bit gray PNG of the uint16 BT.601 luma (written out here) at its optimal 8 levels.
    written = imagecodecs.png_decode((tmp_path / "o.png").read_bytes())
    gray = np.rint(rgb.astype(np.float64) @ [0.299, 0.587, 0.114]).astype(np.uint16)
    cb = vqimage.fit(gray, 8)
    assert written.dtype == np.uint16 and written.shape == (16, 16)
    assert np.unique(written).tolist() == np.rint(cb.levels).astype(int).tolist()
    np.testing.assert_array_equal(written, vqimage.decode(vqimage.encode(gray, cb), cb))
