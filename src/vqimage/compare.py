"""Side-by-side comparison of the scalar strategies on one image.

Used by ``vqimage compare`` and the demo: one row per strategy (uniform,
quantile, kmeans, optimal) plus scikit-learn's ``KBinsDiscretizer`` kmeans,
the Vector Quantization Example's reference, with its own float64 output.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from . import metrics
from .codebook import STRATEGIES, FitWarning, fit
from .pack import packed_size

__all__ = ["Row", "compare", "SKLEARN_REFERENCE"]

SKLEARN_REFERENCE = "sklearn-kmeans"


@dataclass
class Row:
    """One strategy's result on one image."""

    strategy: str
    n_levels: int
    mse: float
    psnr: float
    ssim: float
    seconds: float
    packed_bytes: int
    float64_bytes: int
    code_bytes: int
    code_dtype: str

    def as_json(self) -> dict:
        """The documented JSON keys of ``vqimage compare --json``."""
        keys = ("strategy", "n_levels", "mse", "psnr", "ssim", "seconds", "packed_bytes")
        return {k: v for k, v in asdict(self).items() if k in keys}


def _best_time(function, repeat: int):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def compare(image, n_levels: int, *, reference: bool = True, repeat: int = 3, data_range=None) -> list[Row]:
    """Quantize ``image`` with every strategy and measure what each costs.

    Parameters
    ----------
    image : ndarray
        Gray image (any shape for vqimage's strategies; the sklearn reference
        treats it as one feature).
    n_levels : int
    reference : bool
        Add scikit-learn's ``KBinsDiscretizer(strategy="kmeans",
        subsample=200_000, random_state=0)`` as in the seed.
    repeat : int
        ``seconds`` is the best of this many fit+encode runs (after one
        untimed warm-up, so a first JIT compile is not counted).
    data_range : float, optional
        Peak for PSNR/SSIM; default from the integer dtype (see
        :func:`vqimage.metrics.peak`).

    Returns
    -------
    list of Row
        vqimage rows decode to the image's dtype (what a saved file holds);
        the sklearn row uses its own float64 ``inverse_transform``.
    """
    peak = metrics.peak(image, data_range)
    rows = []
    size = int(np.asarray(image).size)
    for strategy in STRATEGIES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)

            def run(strategy=strategy):
                codebook = fit(image, n_levels, strategy=strategy)
                return codebook, codebook.encode(image)

            run()
            seconds, (codebook, codes) = _best_time(run, repeat)
        recon = codebook.decode(codes)
        rows.append(_row(strategy, codebook.n_levels, image, recon, seconds, size, codes.dtype, peak))
    if reference:
        rows.append(_sklearn_row(image, n_levels, size, peak))
    return rows


def _row(strategy, k, image, recon, seconds, size, code_dtype, peak) -> Row:
    return Row(
        strategy=strategy,
        n_levels=int(k),
        mse=metrics.mse(image, recon),
        psnr=metrics.psnr(image, recon, data_range=peak),
        ssim=metrics.ssim(image, recon, data_range=peak) if np.ndim(image) >= 2 else float("nan"),
        seconds=float(seconds),
        packed_bytes=packed_size(size, k),
        float64_bytes=8 * size,
        code_bytes=np.dtype(code_dtype).itemsize * size,
        code_dtype=str(np.dtype(code_dtype)),
    )


def _sklearn_row(image, n_levels, size, peak) -> Row:
    from sklearn.preprocessing import KBinsDiscretizer

    column = np.asarray(image).reshape(-1, 1)

    def run():
        encoder = KBinsDiscretizer(
            n_bins=n_levels, encode="ordinal", strategy="kmeans", subsample=200_000, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return encoder, encoder.fit_transform(column)

    seconds, (encoder, codes) = _best_time(run, 1)
    recon = encoder.inverse_transform(codes).reshape(np.shape(image))
    k = int(encoder.n_bins_[0])
    return _row(SKLEARN_REFERENCE, k, image, recon, seconds, size, codes.dtype, peak)
