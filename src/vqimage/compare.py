"""Side-by-side comparison of the strategies on one image.

Used by ``vqimage compare`` and the demo: one row per strategy (uniform,
quantile, kmeans, optimal) plus scikit-learn's ``KBinsDiscretizer`` kmeans,
the Vector Quantization Example's reference, with its own float64 output.
For colors (:func:`compare_colors`): vqimage's kmeans and wu beside Pillow's
quantizers and scikit-learn's Color Quantization example.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from . import metrics
from .codebook import STRATEGIES, FitWarning, fit
from .pack import packed_size

__all__ = ["Row", "compare", "compare_colors", "SKLEARN_REFERENCE"]

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


def _row(strategy, k, image, recon, seconds, size, code_dtype, peak, *, channel_axis=None) -> Row:
    """One row; ``size`` is the number of codes (pixels), ``channel_axis`` set for colors."""
    return Row(
        strategy=strategy,
        n_levels=int(k),
        mse=metrics.mse(image, recon),
        psnr=metrics.psnr(image, recon, data_range=peak),
        ssim=metrics.ssim(image, recon, data_range=peak, channel_axis=channel_axis)
        if np.ndim(image) >= 2 else float("nan"),
        seconds=float(seconds),
        packed_bytes=packed_size(size, k),
        float64_bytes=8 * np.size(image),
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


def compare_colors(image, n_colors: int, *, reference: bool = True, repeat: int = 3) -> list[Row]:
    """Quantize an 8-bit RGB image to ``n_colors`` colors with vqimage and its peers.

    Rows: vqimage 'kmeans' and 'wu'; with ``reference``, Pillow's median cut
    and fast octree (``Image.quantize``, its own pixel mapping) and
    scikit-learn's Color Quantization example (``KMeans(random_state=0)``
    fitted on 1,000 random pixels, then ``predict`` on all; its centers are
    rounded to 8 bits, the image a palette file would hold). PSNR over all
    three channels; SSIM the mean of the channels'. ``seconds``: fit + map,
    best of ``repeat`` after a warm-up (sklearn: one run).
    """
    from .codebook import VECTOR_STRATEGIES

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"compare_colors takes an 8-bit RGB image (H, W, 3). Got {image.dtype} of shape {image.shape}.")
    pixels = image.shape[0] * image.shape[1]
    rows = []
    for strategy in VECTOR_STRATEGIES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)

            def run(strategy=strategy):
                codebook = fit(image, n_colors, mode="color", strategy=strategy)
                return codebook, codebook.encode(image)

            run()
            seconds, (codebook, codes) = _best_time(run, repeat)
        rows.append(_row(strategy, codebook.n_levels, image, codebook.decode(codes), seconds, pixels, "uint8",
                         255.0, channel_axis=-1))
    if reference:
        from PIL import Image

        source = Image.fromarray(image)
        for label, method in (("pillow-mediancut", Image.Quantize.MEDIANCUT),
                              ("pillow-octree", Image.Quantize.FASTOCTREE)):
            seconds, quantized = _best_time(lambda method=method: source.quantize(n_colors, method=method), repeat)
            used = len(quantized.getcolors(256) or ())
            rows.append(_row(label, used, image, np.asarray(quantized.convert("RGB")), seconds, pixels, "uint8",
                             255.0, channel_axis=-1))
        rows.append(_sklearn_colors(image, n_colors, pixels))
    return rows


def _sklearn_colors(image, n_colors, pixels) -> Row:
    from sklearn.cluster import KMeans
    from sklearn.utils import shuffle

    samples = image.reshape(-1, 3).astype(np.float64) / 255

    def run():
        sample = shuffle(samples, random_state=0, n_samples=min(1000, samples.shape[0]))
        model = KMeans(n_clusters=min(n_colors, sample.shape[0]), random_state=0).fit(sample)
        return model, model.predict(samples)

    seconds, (model, labels) = _best_time(run, 1)
    palette = np.clip(np.rint(model.cluster_centers_ * 255), 0, 255).astype(np.uint8)
    recon = palette[labels].reshape(image.shape)
    return _row("sklearn-kmeans-1000", palette.shape[0], image, recon, seconds, pixels, labels.dtype, 255.0,
                channel_axis=-1)
