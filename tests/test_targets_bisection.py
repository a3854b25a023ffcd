"""Targets above 257 levels: the search bisects instead of sweeping, and still finds the first count.

targets._first_that_meets sweeps 2..top when top - 1 <= 256 and bisects above (16-bit and float
images with many distinct values). The answer is checked against a sweep written here in numpy:
fit each count, decode, measure PSNR.
"""

import numpy as np
import pytest

import vqimage


def psnr_sweep(image, top):
    """PSNR (16-bit peak) of the optimal codebook of every count 2..top, computed in numpy."""
    scores = {}
    for k in range(2, top + 1):
        cb = vqimage.fit(image, k)
        error = vqimage.decode(vqimage.encode(image, cb), cb).astype(np.float64) - image
        mse = float(np.mean(error**2))
        scores[k] = np.inf if mse == 0 else 10 * np.log10(65535.0**2 / mse)
    return scores


@pytest.mark.parametrize(("distinct", "bisects"), [(257, False), (258, True), (600, True)])
def test_the_first_count_meeting_the_target_either_side_of_257(distinct, bisects):
    image = (np.arange(distinct, dtype=np.uint16) * 97).reshape(1, distinct)
    scores = psnr_sweep(image, distinct)
    wanted = int(distinct * 0.7)
    target = float(scores[wanted])
    first = next(k for k in range(2, distinct + 1) if scores[k] >= target)
    assert first == wanted and scores[wanted - 1] < target  # the sweep's answer, and PSNR grows with k here

    tried = []
    found = vqimage.quantize(image, distinct, target_psnr=target, progress=lambda k, evaluation: tried.append(k))
    assert found.codebook.n_levels == first
    assert found.codebook == vqimage.fit(image, first)
    assert found.summary()["psnr"] == pytest.approx(target, abs=1e-9)
    counts = sorted(set(tried))
    if bisects:  # about log2(distinct) counts measured, not one per count
        assert len(counts) <= 2 * int(np.ceil(np.log2(distinct))) and counts[-1] == distinct
    else:  # the sweep: 2, 3, ..., first, and the top count first of all (fail fast)
        assert counts == [*range(2, first + 1), distinct]


def test_a_target_beyond_every_count_fails_fast_above_257():
    image = (np.arange(600, dtype=np.uint16) * 97).reshape(20, 30)
    tried = []
    with pytest.raises(vqimage.TargetError, match=r"^The target \(PSNR >= 75 dB\) is out of reach with 'optimal': "
                                                  r"300 levels give PSNR \d+\.\d\d dB, max error \d+\.$"):
        vqimage.quantize(image, 300, target_psnr=75.0, progress=lambda k, evaluation: tried.append(k))
    assert set(tried) == {300}  # one quantization, at the most levels allowed
