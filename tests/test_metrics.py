"""Metrics: known values, explicit peaks, errors."""

import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.metrics import structural_similarity

from vqimage import metrics


def test_known_values():
    a = np.array([[0, 10], [20, 30]], np.uint8)
    b = np.array([[1, 10], [18, 30]], np.uint8)  # no uint8 wrap-around: differences in float
    assert metrics.mse(a, b) == 1.25
    assert metrics.max_error(a, b) == 2.0
    assert metrics.psnr(a, b) == pytest.approx(10 * np.log10(255**2 / 1.25))
    assert metrics.psnr(a, a) == float("inf")
    assert metrics.psnr(a.astype(np.uint16), b.astype(np.uint16)) == pytest.approx(10 * np.log10(65535**2 / 1.25))
    assert metrics.psnr(a / 255, b / 255, data_range=1.0) == pytest.approx(metrics.psnr(a, b))


def test_ssim_is_scikit_image(camera):
    noisy = np.clip(camera + np.random.default_rng(0).normal(0, 10, camera.shape), 0, 255).astype(np.uint8)
    expected = structural_similarity(camera.astype(float), noisy.astype(float), data_range=255)
    assert metrics.ssim(camera, noisy) == pytest.approx(expected)
    assert metrics.ssim(camera, camera) == pytest.approx(1.0)
    assert 0 < metrics.ssim(camera[:3, :5], noisy[:3, :5]) <= 1  # smaller than the 7x7 window
    assert metrics.ssim(camera[:1, :5], camera[:1, :5]) == pytest.approx(1.0)


def test_bits_and_entropy():
    assert metrics.bits_per_pixel(294_912, (768, 1024)) == 3.0
    assert metrics.entropy(np.zeros(10, np.uint8)) == 0.0
    assert metrics.entropy(np.array([0, 0, 1, 1, 2, 2, 3, 3])) == 2.0


def test_errors():
    with pytest.raises(ValueError, match=r"Float images \(float64\) have no natural peak value: pass data_range"):
        metrics.psnr(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="same shape"):
        metrics.mse(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="'data_range' parameter must be a positive"):
        metrics.psnr(np.zeros(3), np.ones(3), data_range=0)
    with pytest.raises(TypeError, match="codes must be integers"):
        metrics.entropy(np.zeros(3))
    with pytest.raises(ValueError, match="has no pixels"):
        metrics.bits_per_pixel(1, (0, 3))


@settings(max_examples=60, deadline=None)
@given(shape=st.sampled_from([(7, 7), (9, 31), (64, 40), (8, 9, 10), (20, 17, 3)]),
       dtype=st.sampled_from([np.uint8, np.uint16]), seed=st.integers(0, 2**32 - 1),
       step=st.integers(1, 4000))
def test_ssim_agrees_with_scikit_image(shape, dtype, seed, step):
    """The running-sum SSIM (no scipy) gives scikit-image's value: gray 2-D and n-D, and per channel."""
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    a = rng.integers(0, top, shape, endpoint=True).astype(dtype)
    b = (a // min(step, top) * min(step, top)).astype(dtype)
    color = len(shape) == 3 and shape[-1] == 3
    expected = structural_similarity(a.astype(float), b.astype(float), data_range=float(top),
                                     channel_axis=-1 if color else None)
    assert metrics.ssim(a, b, channel_axis=-1 if color else None) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(dtype=st.sampled_from([np.uint8, np.uint16]), size=st.integers(1, 500), seed=st.integers(0, 2**32 - 1))
def test_integer_errors_are_exact(dtype, size, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.integers(0, np.iinfo(dtype).max, size, endpoint=True).astype(dtype) for _ in range(2))
    diff = [int(x) - int(y) for x, y in zip(a.tolist(), b.tolist())]
    assert metrics.mse(a, b) == sum(d * d for d in diff) / size
    assert metrics.max_error(a, b) == max(abs(d) for d in diff)


def test_ssim_only_when_cheap_unless_asked():
    big = np.zeros((2048, 2049), np.uint8)  # just over SSIM_CHEAP_VALUES
    assert big.size > metrics.SSIM_CHEAP_VALUES
    skipped = metrics.evaluate(big, big)
    assert skipped.ssim is None and skipped.ssim_skipped and "SSIM skipped" in str(skipped)
    asked = metrics.evaluate(big, big, ssim=True)
    assert asked.ssim == 1.0 and not asked.ssim_skipped
    assert metrics.evaluate(big, big, ssim=False).ssim_skipped is False
    small = metrics.evaluate(big[:100, :100], big[:100, :100])
    assert small.ssim == 1.0


# --------------------------------------------------------------------------- SSIMULACRA2


def test_ssimulacra2_is_the_package_score_of_the_files(astronaut, tmp_path):
    from PIL import Image
    from ssimulacra2 import compute_ssimulacra2

    import vqimage

    image = astronaut[::2, ::2]
    quantized = vqimage.quantize(image, 16).reconstruction
    Image.fromarray(image).save(tmp_path / "a.png")
    Image.fromarray(quantized).save(tmp_path / "b.png")
    score = metrics.ssimulacra2(image, quantized)
    assert score == pytest.approx(compute_ssimulacra2(str(tmp_path / "a.png"), str(tmp_path / "b.png")), abs=1e-9)
    assert 33.0 < score < 33.6  # 16 colors, dithered: visibly degraded (measured 33.28)
    assert metrics.ssimulacra2(image, image) == pytest.approx(100.0)
    assert metrics.ssimulacra2(image, vqimage.quantize(image, 256).reconstruction) > score + 51.5  # 51.9


def test_ssimulacra2_gray_and_alpha(camera, astronaut):
    gray = camera[::4, ::4]
    noisy = np.clip(gray.astype(int) + np.random.default_rng(0).integers(-8, 9, gray.shape), 0, 255).astype(np.uint8)
    as_rgb = metrics.ssimulacra2(np.dstack([gray] * 3), np.dstack([noisy] * 3))
    assert metrics.ssimulacra2(gray, noisy) == pytest.approx(as_rgb, abs=1e-12)
    rgb = astronaut[::4, ::4]
    alpha = np.full(rgb.shape[:2] + (1,), 255, np.uint8)
    alpha[:, : rgb.shape[1] // 2] = 0  # the left half transparent: its colors do not count
    scrambled = rgb.copy()
    scrambled[:, : rgb.shape[1] // 2] = 255 - scrambled[:, : rgb.shape[1] // 2]
    assert metrics.ssimulacra2(np.dstack([rgb, alpha]), np.dstack([scrambled, alpha])) == pytest.approx(100.0)
    opaque = np.full_like(alpha, 255)
    assert metrics.ssimulacra2(np.dstack([rgb, opaque]), np.dstack([scrambled, opaque])) < -300  # measured -318


BUTTERAUGLI = shutil.which("butteraugli")


@pytest.mark.skipif(BUTTERAUGLI is None, reason="the butteraugli tool is not installed (apt-get install butteraugli)")
def test_butteraugli_is_the_tool_score_of_the_files(astronaut, tmp_path):
    import subprocess

    from PIL import Image

    import vqimage

    image = astronaut[::4, ::4]
    quantized = vqimage.quantize(image, 8, space="rgb", dither="none").reconstruction
    Image.fromarray(image).save(tmp_path / "a.png")
    Image.fromarray(quantized).save(tmp_path / "b.png")
    direct = float(subprocess.run([BUTTERAUGLI, str(tmp_path / "a.png"), str(tmp_path / "b.png")],
                                  capture_output=True, text=True, check=True).stdout.split()[0])
    score = metrics.butteraugli(image, quantized)
    assert score == pytest.approx(direct, rel=1e-6) and score > 11.4  # 8 colors: far from the original (11.46)
    assert metrics.butteraugli(image, image) < 0.01
    assert metrics.butteraugli(image, vqimage.quantize(image, 256).reconstruction) < 0.08 * score  # 0.078
    alpha = np.full(image.shape[:2] + (1,), 255, np.uint8)
    alpha[:, :64] = 0  # the left half transparent: its colors do not count
    scrambled = image.copy()
    scrambled[:, :64] = 255 - scrambled[:, :64]
    assert metrics.butteraugli(np.dstack([image, alpha]), np.dstack([scrambled, alpha])) < 0.01
    gray = image[..., 1]
    assert metrics.butteraugli(gray, quantized[..., 1]) == pytest.approx(
        metrics.butteraugli(np.dstack([gray] * 3), np.dstack([quantized[..., 1]] * 3)), rel=1e-9)


def test_butteraugli_errors(astronaut, monkeypatch):
    with pytest.raises(ValueError, match="must be an 8-bit gray, RGB or RGBA image"):
        metrics.butteraugli(astronaut.astype(np.float64), astronaut.astype(np.float64))
    monkeypatch.setattr(shutil, "which", lambda name: None)  # as if not installed
    with pytest.raises(FileNotFoundError, match="apt-get install butteraugli"):
        metrics.butteraugli(astronaut, astronaut)


def test_ssimulacra2_errors(astronaut, monkeypatch):
    with pytest.raises(ValueError, match="must be an 8-bit gray, RGB or RGBA image"):
        metrics.ssimulacra2(astronaut.astype(np.float64), astronaut.astype(np.float64))
    with pytest.raises(ValueError, match="at least 8x8 pixels. Got"):
        metrics.ssimulacra2(astronaut[:7, :40], astronaut[:7, :40])
    with pytest.raises(ValueError, match="same shape"):
        metrics.ssimulacra2(astronaut, astronaut[1:])
    import sys

    monkeypatch.setitem(sys.modules, "ssimulacra2", None)  # as if not installed
    with pytest.raises(ImportError, match=r"SSIMULACRA2 needs ssimulacra2, which is not installed: "
                                          r"pip install 'vqimage\[perceptual\]'"):
        metrics.ssimulacra2(astronaut, astronaut)
