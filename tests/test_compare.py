"""Strategies side by side and rate-distortion sweeps: compare, compare_colors, sweep (the library)."""

import numpy as np
import pytest

import vqimage
from vqimage.compare import SWEEP_FIELDS, compare, compare_colors, sweep
from vqimage.pack import packed_size
from vqimage.pack.formats import export_bytes
from vqimage.solvers import STRATEGIES, VECTOR_STRATEGIES


def psnr_of(image, k, strategy="optimal"):
    """PSNR of an 8-bit image at k levels, written out here (not vqimage.metrics)."""
    cb = vqimage.fit(image, k, strategy=strategy)
    return 10 * np.log10(255**2 / mse_of(image, vqimage.decode(vqimage.encode(image, cb), cb)))


def mse_of(image, recon):
    return float(np.mean((image.astype(np.float64) - recon) ** 2))


def test_sweep_records(camera):
    rows = sweep(camera, levels=[2, 4], strategies=("optimal", "uniform"), formats=("vq", "png"))
    assert [(r.strategy, r.n_levels) for r in rows] == [("optimal", 2), ("optimal", 4), ("uniform", 2),
                                                              ("uniform", 4)]
    records = [r.as_record() for r in rows]
    assert all(set(r) == set(SWEEP_FIELDS) for r in records)
    assert records[1]["psnr"] == pytest.approx(psnr_of(camera, 4))
    assert records[1]["packed_bpp"] == 2 and np.isnan(records[1]["webp_bytes"])
    cb = vqimage.fit(camera, 4)
    assert records[1]["png_bytes"] == len(export_bytes("png", vqimage.encode(camera, cb), cb)[0])
    assert rows[1].bits_per_pixel("vq") == 8 * len(vqimage.compress(camera, codebook=cb)) / camera.size
    assert rows[0].mse > rows[1].mse and rows[0].ssim < rows[1].ssim


def test_compare_rows_are_the_quantize_results(camera):
    image = camera[::4, ::4]
    rows = compare(image, 4, reference=False, repeat=1)
    assert [r.strategy for r in rows] == list(STRATEGIES)
    for row in rows:
        result = vqimage.quantize(image, 4, strategy=row.strategy)
        assert row.n_levels == result.n_levels == 4 and row.pixels == image.size and row.seconds >= 0
        assert row.mse == pytest.approx(mse_of(image, result.reconstruction), rel=1e-12)
        assert row.psnr == pytest.approx(10 * np.log10(255**2 / row.mse), rel=1e-12)
        assert row.packed_bytes == packed_size(image.size, 4) == image.size * 2 // 8
        assert row.code_bytes == image.size and row.float64_bytes == 8 * image.size
        assert set(row.as_json()) == {"strategy", "n_levels", "mse", "psnr", "ssim", "seconds",
                                      "packed_bytes"}
    optimal = rows[list(STRATEGIES).index("optimal")]
    assert all(optimal.mse <= r.mse + 1e-9 for r in rows)


def test_compare_colors_rows_and_auto_mode(astronaut):
    image = astronaut[::8, ::8]
    rows = compare_colors(image, 8, reference=False, repeat=1)
    assert [r.strategy for r in rows] == list(VECTOR_STRATEGIES)
    for row in rows:
        cb = vqimage.fit(image, 8, mode="color", strategy=row.strategy)
        recon = vqimage.decode(vqimage.encode(image, cb), cb)
        assert row.n_levels == 8 and row.pixels == 64 * 64  # a color pixel counts once
        assert row.mse == pytest.approx(mse_of(image, recon), rel=1e-12)
        assert row.packed_bytes == packed_size(64 * 64, 8)
    auto = compare(image, 8, mode="auto", reference=False, repeat=1)
    assert [(r.strategy, r.mse) for r in auto] == [(r.strategy, r.mse) for r in rows]
    gray = compare(image, 8, mode="gray", reference=False, repeat=1)  # BT.601 luma
    assert [r.strategy for r in gray] == list(STRATEGIES) and gray[0].pixels == 64 * 64


def test_sweep_progress_and_no_formats(camera):
    seen = []
    rows = sweep(camera[::4, ::4], levels=[2, 3], ssim=False, formats=(), progress=seen.append)
    assert seen == rows and [r.n_levels for r in rows] == [2, 3] and [r.ssim for r in rows] == [None, None]
    record = rows[0].as_record()
    assert np.isnan(record["ssim"]) and np.isnan(record["vq_bpp"]) and np.isnan(record["png_bytes"])


def test_compare_errors(camera, astronaut):
    with pytest.raises(ValueError, match=r"compare_colors takes an 8-bit RGB image \(H, W, 3\). "
                                         r"Got uint8 of shape \(512, 512\)"):
        compare_colors(camera, 4)
    with pytest.raises(ValueError, match="Got uint16 of shape"):
        compare_colors(astronaut.astype(np.uint16), 4)
    with pytest.raises(ValueError, match="The 'mode' parameter of compare must be one of"):
        compare(camera, 4, mode="block")
    with pytest.raises(ValueError, match="The 'formats' parameter of sweep must be one of"):
        sweep(camera, levels=[2], formats=("gif",))
