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


# --------------------------------------------------------------------------- bounded memory


def reference_ssim(a, b, top, channel_axis=None):
    """SSIM the straightforward way: whole float64 copies, every window's moments by numpy."""
    if channel_axis is not None:
        return np.mean([reference_ssim(np.take(a, c, channel_axis), np.take(b, c, channel_axis), top)
                        for c in range(a.shape[channel_axis])])
    x, y = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * top) ** 2, (0.03 * top) ** 2
    smallest = min(x.shape)
    window = 7 if smallest >= 7 else max(smallest - (1 - smallest % 2), 1)
    if window < 3:  # the whole image as one window, population moments
        mx, my = x.mean(), y.mean()
        cov = np.mean((x - mx) * (y - my))
        return (2 * mx * my + c1) * (2 * cov + c2) / ((mx**2 + my**2 + c1) * (x.var() + y.var() + c2))
    axes = tuple(range(x.ndim, 2 * x.ndim))
    wx = np.lib.stride_tricks.sliding_window_view(x, (window,) * x.ndim)
    wy = np.lib.stride_tricks.sliding_window_view(y, (window,) * x.ndim)
    ux, uy = wx.mean(axis=axes), wy.mean(axis=axes)
    vx, vy = wx.var(axis=axes, ddof=1), wy.var(axis=axes, ddof=1)
    expand = (...,) + (None,) * x.ndim
    vxy = ((wx - ux[expand]) * (wy - uy[expand])).sum(axis=axes) / (window**x.ndim - 1)
    s = (2 * ux * uy + c1) * (2 * vxy + c2) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return s.mean()


def _pair_of(rng, shape, dtype, scale):
    """An image and a coarsened, slightly noisy copy of it, both of ``dtype``, in [0, scale] (or around 0)."""
    if np.dtype(dtype).kind == "f":
        a = rng.random(shape) * scale - (scale / 3 if scale > 1 else 0)
        b = np.round(a / scale * 9) / 9 * scale + rng.normal(0, scale / 100, shape)
        return a.astype(dtype), b.astype(dtype)
    info = np.iinfo(dtype)
    low = max(info.min, -int(scale) // 3)
    high = min(info.max, low + int(scale))
    a = rng.integers(low, high, shape, endpoint=True)
    b = np.clip(a // 23 * 23 + rng.integers(-2, 3, shape), low, high)
    return a.astype(dtype), b.astype(dtype)


@settings(max_examples=80, deadline=None)
@given(shape=st.sampled_from([(7, 7), (8, 9), (13, 11), (31, 9), (50, 17), (3, 5), (2, 9), (1, 7), (9, 2),
                              (17, 13, 3), (9, 23, 4), (3, 10, 11), (8, 9, 10), (11, 6, 3)]),
       dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.int16, np.int32, np.uint32]),
       scale=st.sampled_from([1.0, 255.0, 4095.0, 65535.0, 1e6]),
       band=st.sampled_from([None, 1, 2, 3, 5, 6, 7, 1000]),
       seed=st.integers(0, 2**32 - 1), channels=st.booleans())
def test_banded_ssim_is_the_whole_image_ssim(shape, dtype, scale, band, seed, channels):
    """SSIM by bands of rows (any band, smaller than the window's reach too) is the whole-image SSIM to 1e-9."""
    rng = np.random.default_rng(seed)
    a, b = _pair_of(rng, shape, dtype, scale)
    top = float(scale)
    axis = -1 if channels and len(shape) == 3 else None
    got = metrics._ssim(a, b, top, axis, band)
    assert got == pytest.approx(reference_ssim(a, b, top, axis), abs=1e-9, rel=0)
    if band is None:
        assert metrics.ssim(a, b, data_range=top, channel_axis=axis) == got


@pytest.mark.parametrize("band", [None, 1, 4, 6, 33])
def test_banded_ssim_on_views_and_mixed_dtypes(astronaut, band):
    """Channels read through strided views, transposed and flipped images, and two dtypes: one answer."""
    a = astronaut[::3, ::2][:151, :97]  # odd sizes
    b = (a // 40 * 40 + 20).astype(np.uint8)
    expected = reference_ssim(a, b, 255.0, -1)
    assert metrics._ssim(a, b, 255.0, -1, band) == pytest.approx(expected, abs=1e-9, rel=0)
    assert metrics._ssim(a, b.astype(np.float64), 255.0, -1, band) == pytest.approx(expected, abs=1e-9, rel=0)
    moved = np.moveaxis(a, -1, 0), np.moveaxis(b, -1, 0)
    assert metrics._ssim(*moved, 255.0, 0, band) == pytest.approx(expected, abs=1e-9, rel=0)
    flipped = a[::-1, ::-1, 1].T, b[::-1, ::-1, 1].T
    assert metrics._ssim(*flipped, 255.0, None, band) == pytest.approx(reference_ssim(*flipped, 255.0), abs=1e-9,
                                                                     rel=0)


@settings(max_examples=60, deadline=None)
@given(shape=st.sampled_from([(1,), (9,), (5, 7), (13, 11, 3), (4, 3, 5, 2)]),
       dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.int16, np.int64]),
       other=st.sampled_from([None, np.float64, np.int32]), piece=st.sampled_from([1, 2, 5, 7, 64, 1 << 20]),
       view=st.sampled_from(["plain", "transposed", "step"]), seed=st.integers(0, 2**32 - 1))
def test_errors_by_pieces_are_the_whole_image_errors(shape, dtype, other, piece, view, seed):
    """MSE, PSNR and max error by pieces of any size (views, mixed dtypes) are the whole-image values."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(metrics, "_PIECE_VALUES", piece)
        _check_errors(shape, dtype, other, view, seed)


def _check_errors(shape, dtype, other, view, seed):
    rng = np.random.default_rng(seed)
    a, b = _pair_of(rng, shape, dtype, 60000.0)
    if other is not None:
        b = b.astype(other)
    if view == "transposed":
        a, b = a.T, b.T
    elif view == "step" and a.ndim >= 2:
        a, b = a[::2, ::-1], b[::2, ::-1]
    diff = a.astype(np.float64) - b.astype(np.float64)
    assert metrics.mse(a, b) == pytest.approx(np.mean(diff * diff), rel=1e-12, abs=1e-12)
    assert metrics.max_error(a, b) == np.max(np.abs(diff))
    assert metrics.psnr(a, b, data_range=60000.0) == pytest.approx(
        10 * np.log10(60000.0**2 / np.mean(diff * diff)) if diff.any() else float("inf"), rel=1e-12)
    thin = a.reshape(1, -1), b.reshape(1, -1)  # one window: the thin-image SSIM, by pieces
    assert metrics._ssim(*thin, 60000.0, None) == pytest.approx(reference_ssim(*thin, 60000.0), abs=1e-9, rel=0)


def test_metrics_make_no_float64_copy_of_the_image(monkeypatch):
    """What numpy allocates while measuring stays far below one float64 copy of the image."""
    import tracemalloc

    piece = 1 << 14
    monkeypatch.setattr(metrics, "_PIECE_VALUES", piece)
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (768, 1024), dtype=np.uint8)
    color = rng.integers(0, 256, (512, 683, 3), dtype=np.uint8)
    floats = rng.random((768, 1024)).astype(np.float32)
    cases = [(gray, gray // 32 * 32, {}), (color, color // 32 * 32, {"color": True}),
             (gray.astype(np.int16), (gray // 32 * 32).astype(np.int16), {}),
             (gray.astype(np.int64), gray.astype(np.float64), {}),
             (floats, np.round(floats * 7) / 7, {"data_range": 1.0}),
             (rng.integers(0, 256, (2, 200_001), dtype=np.uint16), np.zeros((2, 200_001), np.int32), {})]
    for reference, test, options in cases:
        tracemalloc.start()
        try:
            metrics.evaluate(reference, test, ssim=True, **options)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # A float64 piece of each image at a time (SSIM's bands: with the rows below), never 8 bytes a
        # value; check_image's finite test of a float image takes a byte a value.
        mask = reference.size if "f" in (reference.dtype.kind, test.dtype.kind) else 0
        assert peak < 4 * 8 * piece + mask < 8 * reference.size / 4, (peak, reference.dtype, reference.shape)


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
