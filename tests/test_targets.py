"""Targets choose the level count a brute-force sweep chooses; unreachable targets fail cleanly."""

import json
import re

import numpy as np
import pytest

import vqimage
from vqimage import metrics
from vqimage.cli import main
from vqimage.pack.formats import export_bytes
from vqimage.targets import TargetError


def psnr_of(image, k, strategy="optimal"):
    cb = vqimage.fit(image, k, strategy=strategy)
    return vqimage.metrics.psnr(image, vqimage.decode(vqimage.encode(image, cb), cb))


@pytest.fixture(params=["camera", "face"])
def gray(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("target", [25.0, 33.3, 38.0, 44.0])
def test_target_psnr_is_the_first_count_a_sweep_finds(gray, target):
    expected = next(k for k in range(2, 257) if psnr_of(gray, k) >= target)
    out = vqimage.quantize(gray, target_psnr=target)
    assert out.n_levels == expected and out.strategy == "optimal"
    assert out.metrics.psnr >= target > psnr_of(gray, expected - 1)


@pytest.mark.parametrize("bound", [0, 1, 3.5, 4, 12])
def test_max_error_is_the_fewest_levels_of_any_codebook(gray, bound):
    out = vqimage.quantize(gray, max_error=bound)
    # Independent count: greedy covering by intervals of width 2 * floor(bound) of the distinct values.
    values = np.unique(gray)
    groups, first = 1, values[0]
    for v in values[1:]:
        if v - first > 2 * int(bound):
            groups, first = groups + 1, v
    assert out.n_levels == groups
    assert out.metrics.max_error <= bound
    restored = vqimage.decode(out.codes, out.codebook)
    assert np.abs(restored.astype(int) - gray.astype(int)).max() <= bound


@pytest.mark.parametrize("share", [0.05, 0.1])
@pytest.mark.parametrize("name, fmt", [("camera", "png"), ("camera", "vq"), ("face", "vq")])
def test_max_bytes_is_the_most_levels_that_fit(request, name, fmt, share):
    gray = request.getfixturevalue(name)
    budget = int(share * gray.nbytes)
    sizes = {}
    for k in range(2, 41):
        cb = vqimage.fit(gray, k)
        sizes[k] = len(export_bytes(fmt, vqimage.encode(gray, cb), cb)[0])
    expected = max(k for k, size in sizes.items() if size <= budget)
    assert expected < 40  # the window holds the answer
    out = vqimage.quantize(gray, max_bytes=budget, fmt=fmt)
    assert out.n_levels == expected and out.metrics.bytes == sizes[expected] <= budget
    assert out.metrics.fmt == fmt and len(out.to_bytes()) == sizes[expected]


def test_target_ssim_and_auto_strategy(camera):
    out = vqimage.quantize(camera, target_ssim=0.9, fmt="vq", strategy="auto")
    best = {}
    for strategy in vqimage.solvers.STRATEGIES:
        for k in range(2, 40):
            cb = vqimage.fit(camera, k, strategy=strategy)
            if vqimage.metrics.ssim(camera, vqimage.decode(vqimage.encode(camera, cb), cb)) >= 0.9:
                best[strategy] = k
                break
    assert out.n_levels == min(best.values()) and out.metrics.ssim >= 0.9
    assert best[out.strategy] == out.n_levels


def test_combined_targets_and_what_is_reported(camera):
    out = vqimage.quantize(camera, target_psnr=30, max_bytes=100_000, fmt="png")
    assert {"n_levels", "strategy", "psnr", "ssim", "max_error", "bytes"} <= out.summary().keys()
    assert out.metrics.bytes == len(export_bytes("png", out.codes, out.codebook)[0]) <= 100_000
    assert out.metrics.psnr >= 30 and out.metrics.ssim is not None
    with pytest.raises(TargetError, match=r"needs \d+ levels, whose png takes .* above max_bytes=10,000"):
        vqimage.quantize(camera, target_psnr=30, max_bytes=10_000, fmt="png")


def test_unreachable_targets_fail_cleanly(camera):
    with pytest.raises(TargetError, match=r"out of reach with 'optimal': 8 levels give PSNR") as info:
        vqimage.quantize(camera, 8, target_psnr=45)
    assert info.value.closest.n_levels == 8
    with pytest.raises(TargetError, match="2 levels already take"):
        vqimage.quantize(camera, max_bytes=50, fmt="png")
    with pytest.raises(vqimage.ConflictError, match="Missing 'n_levels'"):
        vqimage.quantize(camera)
    with pytest.raises(vqimage.ConflictError, match="'strategy' wu applies to color and block modes"):
        vqimage.quantize(camera, target_psnr=30, strategy="wu")
    with pytest.raises(ValueError, match="Float images .* have no natural peak value: pass data_range"):
        vqimage.quantize(camera / 255.0, target_psnr=30)
    assert vqimage.quantize(camera / 255.0, target_psnr=30, data_range=1.0).metrics.psnr >= 30


def test_color_target(camera):
    from skimage.data import astronaut

    image = astronaut()[::4, ::4]
    out = vqimage.quantize(image, target_psnr=28, fmt="png")
    assert out.metrics.psnr >= 28 and out.codebook.mode == "color"
    smaller = vqimage.fit(image, out.n_levels - 1, mode="color")
    assert vqimage.metrics.psnr(image, vqimage.decode(vqimage.encode(image, smaller), smaller)) < 28


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_targets(tmp_path, capsys, camera):
    code, out, err = run(["quantize", "camera", "--target-psnr", 35, "-o", tmp_path / "t.png", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert {"n_levels", "strategy", "psnr", "ssim", "max_error", "bytes"} <= result.keys()
    assert result["n_levels"] == next(k for k in range(2, 257) if psnr_of(camera, k) >= 35)
    assert result["bytes"] == (tmp_path / "t.png").stat().st_size
    code, out, err = run(["quantize", "camera", "--target-psnr", 45, "-k", 8, "-o", tmp_path / "u.png"], capsys)
    assert code == 3 and not (tmp_path / "u.png").exists()
    assert err.strip().count("\n") == 0 and "target not met" in err and "8 levels give" in err
    code, _, err = run(["quantize", "camera", "--max-error", 2, "--lock", "#000", "-o", tmp_path / "v.png"], capsys)
    assert code == 2 and "do not combine" in err
    code, _, err = run(["quantize", "camera", "-k", 4, "-s", "auto", "-o", tmp_path / "w.png"], capsys)
    assert code == 2 and "--strategy auto needs a target" in err


def test_cli_skip_if_larger_keeps_the_input(tmp_path, capsys, camera):
    source = tmp_path / "c8.png"
    assert run(["quantize", "camera", "-k", 8, "-o", source], capsys)[0] == 0
    code, out, err = run(["quantize", source, "-k", 64, "--skip-if-larger", "-o", tmp_path / "out.png", "--json"],
                         capsys)
    assert code == 0 and json.loads(out)["skipped"] is True
    assert not (tmp_path / "out.png").exists()
    code, _, err = run(["quantize", "camera", "-k", 8, "--skip-if-larger", "-o", tmp_path / "x.png"], capsys)
    assert code == 2 and "INPUT must be a file" in err


def test_a_dithered_target_is_met_by_the_dithered_output(tmp_path, capsys, camera):
    code, out, err = run(["quantize", "camera", "--target-psnr", 30, "-d", "floyd-steinberg", "-o", tmp_path / "d.png",
                          "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    k = result["n_levels"]
    assert result["dither"] == "floyd-steinberg"
    written = vqimage.load_image(tmp_path / "d.png")
    assert metrics.psnr(camera, written) == pytest.approx(result["psnr"], abs=1e-9) and result["psnr"] >= 30
    below = vqimage.quantize(camera, k - 1, dither="floyd-steinberg")  # bisection: the count below misses it
    assert below.metrics.psnr < 30 <= vqimage.quantize(camera, k, dither="floyd-steinberg").metrics.psnr
    assert k > next(n for n in range(2, 257) if psnr_of(camera, n) >= 30)  # dithering costs PSNR: more levels


def test_target_ssimulacra2_picks_the_fewest_colors_as_written(tmp_path, capsys, astronaut):
    image = astronaut[::4, ::4].copy()
    result = vqimage.quantize(image, target_ssimulacra2=60)
    k = result.n_levels
    assert result.dither == "adaptive" and result.codebook.space == "oklab"  # the perceptual defaults
    assert result.metrics.ssimulacra2 == pytest.approx(metrics.ssimulacra2(image, result.reconstruction), abs=1e-9)
    assert result.metrics.ssimulacra2 >= 60
    assert vqimage.quantize(image, k - 1).metrics.ssimulacra2 is None  # only measured when asked
    assert vqimage.quantize(image, k - 1, ssimulacra2=True).metrics.ssimulacra2 < 60  # the count below misses it
    np.testing.assert_array_equal(vqimage.quantize(image, k).codes, result.codes)  # what `-k K` gives
    (tmp_path / "in.png").write_bytes(_png(image))
    code, out, err = run(["quantize", tmp_path / "in.png", "--target-ssimulacra2", 60, "-o", tmp_path / "t.png",
                          "--json"], capsys)
    assert code == 0, err
    record = json.loads(out)
    assert record["n_levels"] == k and record["ssimulacra2"] == pytest.approx(result.metrics.ssimulacra2)
    assert metrics.ssimulacra2(image, vqimage.load_image(tmp_path / "t.png", gray=False)) == pytest.approx(
        record["ssimulacra2"], abs=1e-9)
    code, _, err = run(["quantize", tmp_path / "in.png", "--target-ssimulacra2", 95, "-k", 4, "-o",
                        tmp_path / "u.png"], capsys)
    assert code == 3 and not (tmp_path / "u.png").exists()
    assert err.count("\n") == 1 and "SSIMULACRA2 >= 95" in err and "4 levels give" in err and "SSIMULACRA2" in err
    code, _, err = run(["quantize", tmp_path / "in.png", "-k", 16, "--ssimulacra2", "-o", tmp_path / "s.png"], capsys)
    assert code == 0 and re.search(r"SSIMULACRA2 \d+\.\d", err), err


def test_target_ssimulacra2_refuses_what_it_cannot_score():
    deep = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 7)
    with pytest.raises(ValueError, match="SSIMULACRA2 scores 8-bit 2-D gray or color images"):
        vqimage.quantize(deep, target_ssimulacra2=70)
    with pytest.raises(ValueError, match=r"The 'target_ssimulacra2' parameter of quantize must be None or a finite "
                                         r"float <= 100\. Got 120 instead"):
        vqimage.quantize(deep.astype(np.uint8), target_ssimulacra2=120)


def _png(image):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()
