"""The vqimage command, called through main(argv) -> exit code."""

import io
import json
import sys

import numpy as np
import pytest
from PIL import Image

import vqimage
from vqimage.cli import main


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_quantize_png_is_the_optimal_reconstruction(tmp_path, capsys, camera):
    out = tmp_path / "camera8.png"
    code, _, err = run(["quantize", "camera", "-k", "8", "-o", str(out)], capsys)
    assert code == 0
    assert "camera: 512x512 uint8 -> 8 levels (optimal)" in err and "4-bit palette PNG" in err
    cb = vqimage.fit(camera, 8)
    with Image.open(out) as img:
        assert img.mode == "P"
        np.testing.assert_array_equal(np.asarray(img.convert("L")), vqimage.decode(vqimage.encode(camera, cb), cb))


def test_quantize_npy_tif_json_and_strategy(tmp_path, capsys, camera):
    code, out, _ = run(["quantize", "camera", "-k", "4", "-s", "kmeans", "-o", str(tmp_path / "c.npy"), "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert result["n_levels"] == 4 and result["strategy"] == "kmeans" and result["bytes"] > 0
    cb = vqimage.fit(camera, 4, strategy="kmeans")
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), vqimage.encode(camera, cb))
    assert run(["quantize", "camera", "-k", "4", "-o", str(tmp_path / "c.tif"), "-q"], capsys) == (0, "", "")
    import tifffile

    written = tifffile.imread(tmp_path / "c.tif")  # the reconstruction at the optimal 4 levels
    optimal = vqimage.fit(camera, 4)
    assert written.dtype == np.uint8 and np.unique(written).tolist() == optimal.levels_as(np.uint8).tolist()
    np.testing.assert_array_equal(written, vqimage.decode(vqimage.encode(camera, optimal), optimal))


def test_never_overwrites_without_force(tmp_path, capsys):
    out = tmp_path / "x.png"
    out.write_bytes(b"precious")
    code, _, err = run(["quantize", "camera", "-k", "4", "-o", str(out)], capsys)
    assert code == 1 and err.strip() == f"vqimage: error: {out} exists; use --force (force=True) to overwrite it."
    assert out.read_bytes() == b"precious"
    assert run(["quantize", "camera", "-k", "4", "-o", str(out), "--force"], capsys)[0] == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    np.testing.assert_array_equal(vqimage.load_image(out), vqimage.quantize("camera", 4).reconstruction)


def test_stdin_and_stdout(monkeypatch, capsysbinary, camera):
    buffer = io.BytesIO()
    Image.fromarray(camera).save(buffer, format="PNG")
    monkeypatch.setattr(sys, "stdin", type("In", (), {"buffer": io.BytesIO(buffer.getvalue())})())
    code = main(["quantize", "-", "-k", "2", "-o", "-", "--format", "npy", "-q"])
    out, _ = capsysbinary.readouterr()
    assert code == 0
    np.testing.assert_array_equal(np.load(io.BytesIO(out)), vqimage.encode(camera, vqimage.fit(camera, 2)))


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["quantize", "camera", "-k", "1", "-o", "x.png"], 2, "Invalid value for '-k' / '--levels': 1 is not in the range 2<=x<=65536"),
        (["quantize", "camera", "-k", "70000", "-o", "x.png"], 2, "not in the range"),
        (["quantize", "camera", "-o", "x.png"], 2, "Missing -k/--levels (or give --palette)."),
        (["quantize", "no_such_image", "-k", "4", "-o", "x.png"], 1, "vqimage: error: Unknown image 'no_such_image'"),
        (["quantize", "missing.png", "-k", "4", "-o", "x.png"], 1, "vqimage: error: missing.png: no such file."),
        (["quantize", "camera", "-k", "4", "-o", "x.bmp"], 2, "Cannot tell the output format from 'x.bmp'"),
        (["quantize", "camera", "-k", "4", "-o", "-"], 2, "needs --format"),
        (["quantize", "camera", "-k", "4", "-s", "best", "-o", "x.png"], 2, "Invalid value for '-s' / '--strategy'"),
        (["compare", "camera"], 2, "Missing option '-k'"),
        (["bogus"], 2, "No such command 'bogus'"),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(tmp_path, monkeypatch, capsys, argv, code, message):
    monkeypatch.chdir(tmp_path)
    got, out, err = run(argv, capsys)
    assert got == code
    assert message in err
    assert "Traceback" not in err and out == ""
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_not_an_image_file(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    code, _, err = run(["quantize", str(bad), "-k", "4", "-o", str(tmp_path / "o.png")], capsys)
    assert code == 1 and err.count("\n") == 1 and "not a readable image" in err
    assert not (tmp_path / "o.png").exists()


def test_float_tiff_to_png_fails_cleanly(tmp_path, capsys):
    import tifffile

    ramp = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    tifffile.imwrite(tmp_path / "f.tif", ramp)
    code, _, err = run(["quantize", str(tmp_path / "f.tif"), "-k", "4", "-o", str(tmp_path / "o.png")], capsys)
    assert code == 1 and "Write .tif or .npy instead" in err
    assert not (tmp_path / "o.png").exists()
    assert run(["quantize", str(tmp_path / "f.tif"), "-k", "4", "-o", str(tmp_path / "o.tif")], capsys)[0] == 0
    # 64 evenly spaced values in 4 levels: the optimum is 4 runs of 16 (a run's squared error is convex in
    # its length), each at its mean, (16 i + 7.5) / 63; written back as float32.
    written = tifffile.imread(tmp_path / "o.tif")
    means = ramp.reshape(4, 16).astype(np.float64).mean(axis=1)
    np.testing.assert_allclose(means, (16 * np.arange(4) + 7.5) / 63, rtol=1e-7)
    assert written.dtype == np.float32
    np.testing.assert_array_equal(written, np.repeat(means, 16).reshape(8, 8).astype(np.float32))


def test_warning_for_fewer_levels(tmp_path, capsys):
    Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8)).save(tmp_path / "two.png")
    code, _, err = run(["quantize", str(tmp_path / "two.png"), "-k", "8", "-o", str(tmp_path / "o.png")], capsys)
    assert code == 0 and "warning: The data has only 2 distinct value(s)" in err
    np.testing.assert_array_equal(vqimage.load_image(tmp_path / "o.png"), [[0, 255], [255, 0]])  # kept exactly


def test_compare_json(capsys):
    code, out, _ = run(["compare", "camera", "-k", "8", "--json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert [r["strategy"] for r in rows] == ["uniform", "quantile", "kmeans", "optimal", "sklearn-kmeans"]
    for row in rows:
        assert set(row) == {"strategy", "n_levels", "mse", "psnr", "ssim", "seconds", "packed_bytes"}
        assert row["packed_bytes"] == 512 * 512 * 3 // 8
    optimal = next(r for r in rows if r["strategy"] == "optimal")
    assert all(optimal["mse"] <= r["mse"] + 1e-9 for r in rows)


def test_compare_float_image_needs_a_peak(tmp_path, capsys):
    import tifffile

    tifffile.imwrite(tmp_path / "f.tif", np.linspace(0, 1, 400, dtype=np.float32).reshape(20, 20))
    code, _, err = run(["compare", str(tmp_path / "f.tif"), "-k", "4", "--no-reference"], capsys)
    assert code == 1 and "pass data_range" in err
    code, out, _ = run(["compare", str(tmp_path / "f.tif"), "-k", "4", "--json", "--data-range", "1"], capsys)
    assert code == 0 and len(json.loads(out)) == 5
    # 400 evenly spaced values (step 1/399) in 4 runs of 100 at their means: MSE = step^2 (100^2 - 1) / 12.
    optimal = next(row for row in json.loads(out) if row["strategy"] == "optimal")
    assert optimal["mse"] == pytest.approx((100**2 - 1) / 12 / 399**2, rel=1e-6)


def test_compare_table(capsys):
    code, out, _ = run(["compare", "camera", "-k", "4", "--no-reference"], capsys)
    assert code == 0 and "optimal" in out and "sklearn" not in out and "65,536" in out


def test_demo_on_camera_writes_the_figures(tmp_path, capsys):
    code, out, _ = run(["demo", "camera", "-o", str(tmp_path / "d")], capsys)
    assert code == 0
    assert "The number of bytes taken in RAM is 262144" in out
    assert "Type of the compressed image: float64" in out
    assert "codes packed at 3 bits per pixel (vqimage.pack): 98304 bytes (0.375 of the original)" in out
    figures = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert figures == [
        "01_original.png", "02_uniform.png", "03_uniform_centers.png", "04_kmeans.png",
        "05_kmeans_centers.png", "06_optimal.png", "07_optimal_levels.png", "08_comparison.png",
        "camera-report.html",
    ]
    assert f"Report (open it in a browser; it works offline): {tmp_path / 'd' / 'camera-report.html'}" in out
    assert "levels start at gray values: [19, 47, 91, 131, 154, 181, 207]" in out
    assert "MSE 51.74 with float levels, 51.86 with levels rounded to uint8" in out
    written = {p.name: p.read_bytes() for p in (tmp_path / "d").iterdir()}
    for name in figures[:-1]:
        with Image.open(tmp_path / "d" / name) as img:
            assert img.format == "PNG" and img.width >= 800 and img.height >= 400
    assert written["camera-report.html"].startswith(b"<!DOCTYPE html>")
    code, _, err = run(["demo", "camera", "-o", str(tmp_path / "d")], capsys)
    assert code == 1 and "exists; use --force" in err
    assert {p.name: p.read_bytes() for p in (tmp_path / "d").iterdir()} == written
    for path in (tmp_path / "d").iterdir():
        path.write_bytes(b"stale")
    assert run(["demo", "camera", "-o", str(tmp_path / "d"), "--force"], capsys)[0] == 0
    # Every file rewritten, byte for byte what the first run wrote (the figures are deterministic).
    assert {p.name: p.read_bytes() for p in (tmp_path / "d").iterdir()} == written


def test_demo_on_face_prints_the_seed_and_the_fix(tmp_path, capsys, face):
    code, out, _ = run(["demo", "-o", str(tmp_path)], capsys)
    assert code == 0
    assert "on 'face'" in out and "The dimension of the image is (768, 1024)" in out
    assert "The number of bytes taken in RAM is 6291456" in out and "Compression ratio: 8.0" in out
    assert "levels start at gray values: [38, 68, 93, 117, 141, 166, 193]" in out
    assert "MSE 63.32 with float levels, 63.41 with levels rounded to uint8" in out
    assert "294912 bytes (0.375 of the original)" in out and "true compression ratio: 2.67:1" in out


def test_demo_falls_back_to_camera_when_face_is_unavailable(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(vqimage.io, "face_cache_path", lambda: tmp_path / "none" / "face.dat")
    code, out, _ = run(["demo", "-o", str(tmp_path / "d")], capsys)
    assert code == 0
    assert out.splitlines()[0].startswith("note: face is not in scipy's cache")
    assert "Using 'camera' instead." in out and "on 'camera'" in out


def test_version_and_images(capsys):
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and vqimage.__version__ in out
    code, out, _ = run(["images"], capsys)
    assert code == 0 and out.split() == list(vqimage.BUILTINS)


def test_compress_decompress_info(tmp_path, capsys, camera):
    vq = tmp_path / "c.vq"
    code, _, err = run(["compress", "camera", "-k", "8", "-o", str(vq), "--coder", "packed"], capsys)
    assert code == 0 and "bits/pixel" in err
    code, out, _ = run(["info", str(vq), "--json"], capsys)
    info = json.loads(out)
    assert code == 0 and info["coder"] == "packed" and info["n_levels"] == 8 and info["bytes"] == vq.stat().st_size
    code, out, _ = run(["info", str(vq)], capsys)
    assert code == 0 and "512x512 uint8, 8 levels (optimal, centroid), coder packed" in out
    code, _, _ = run(["decompress", str(vq), "-o", str(tmp_path / "c.png")], capsys)
    cb = vqimage.fit(camera, 8)
    assert code == 0
    np.testing.assert_array_equal(vqimage.load_image(tmp_path / "c.png"), vqimage.decode(vqimage.encode(camera, cb), cb))
    code, _, err = run(["decompress", str(vq), "-o", str(tmp_path / "c.png")], capsys)
    assert code == 1 and "exists; use --force" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "shorter than any .vq file"), (b"GIF89a" + b"\x00" * 40, "wrong magic"), (None, "checksum mismatch")],
)
def test_damaged_or_foreign_vq_is_one_line(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.vq"
    if content is None:
        data = bytearray(vqimage.compress(np.arange(100, dtype=np.uint8).reshape(10, 10), 4, coder="packed"))
        data[40] ^= 0x10
        content = bytes(data)
    bad.write_bytes(content)
    for argv in (["info", str(bad)], ["decompress", str(bad), "-o", str(tmp_path / "o.png")]):
        code, out, err = run(argv, capsys)
        assert code == 1 and out == "" and err.count("\n") == 1 and message in err
    assert not (tmp_path / "o.png").exists()
    code, _, err = run(["info", str(tmp_path / "missing.vq")], capsys)
    assert code == 1 and "no such file" in err


def test_cli_never_replaces_a_dangling_link_and_refuses_hostile_vq_in_one_line(tmp_path, capsys):
    link = tmp_path / "out.png"
    link.symlink_to(tmp_path / "elsewhere.png")
    code, _, err = run(["quantize", "camera", "-k", "4", "-o", str(link)], capsys)
    assert code == 1 and err.count("\n") == 1 and "out.png exists; use --force" in err
    assert link.is_symlink() and not (tmp_path / "elsewhere.png").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temporary file either
    assert run(["quantize", "camera", "-k", "4", "-o", str(link), "--force"], capsys)[0] == 0
    np.testing.assert_array_equal(vqimage.load_image(link), vqimage.quantize("camera", 4).reconstruction)

    import struct
    import zlib

    header = {"shape": [32768, 32768], "coder": "packed", "n_levels": 1,
              "codebook": {"type": "scalar", "version": 1, "strategy": "optimal", "reconstruction": "centroid",
                           "dtype": "|u1", "levels": [7.0], "edges": [7.0, 7.0]}}
    raw = zlib.compress(json.dumps(header).encode())
    from vqimage.pack.container import MAGIC

    body = struct.pack("<8sBBHIQ", MAGIC, 1, 0, 0, len(raw), 0) + raw
    hostile = tmp_path / "bomb.vq"
    hostile.write_bytes(body + struct.pack("<I", zlib.crc32(body)))
    assert hostile.stat().st_size < 200
    code, _, err = run(["decompress", str(hostile), "-o", str(tmp_path / "bomb.tif")], capsys)
    assert code == 1 and err.count("\n") == 1 and "declares 1,073,741,824 pixels" in err and "--max-pixels" in err
    assert not (tmp_path / "bomb.tif").exists()
    code, out, err = run(["info", str(hostile), "--max-pixels", str(2**30), "--json"], capsys)
    assert code == 0 and json.loads(out)["image_shape"] == [32768, 32768]


def test_sigterm_exits_143_with_one_line_and_leaves_nothing(tmp_path):
    import os
    import signal
    import subprocess
    import time

    out = tmp_path / "out.png"
    env = os.environ | {"PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen([sys.executable, "-c", "from vqimage.cli import run; run()", "quantize", "-", "-k", "4",
                                "-o", str(out)], stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               cwd=tmp_path)
    time.sleep(3.0)  # started, and waiting for the image on stdin
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143 and err == "vqimage: terminated\n"
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file


def test_a_termination_while_writing_removes_the_temporary_file(tmp_path, monkeypatch):
    import os

    from vqimage.cli import _Terminated
    from vqimage.io import write_atomic

    def stop(src, dst):
        raise _Terminated

    monkeypatch.setattr(os, "link", stop)
    with pytest.raises(_Terminated):
        write_atomic(tmp_path / "out.png", b"data")
    assert list(tmp_path.iterdir()) == []
