"""Strategies side by side, and rate-distortion sweeps.

:func:`compare` (``vqimage compare`` and the demo): one row per strategy
(uniform, quantile, kmeans, optimal) plus scikit-learn's ``KBinsDiscretizer``
kmeans, the Vector Quantization Example's reference, with its own float64
output. :func:`compare_colors`: vqimage's kmeans and wu beside Pillow's
quantizers and scikit-learn's Color Quantization example. :func:`sweep`: every
strategy at every level count, with the sizes of each output format (the
report's rate-distortion curves).

Every row is a :class:`Row` holding one :class:`~vqimage.metrics.Evaluation`;
vqimage's rows come from :func:`vqimage.quantize`.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import metrics
from ._optional import require
from ._validation import FitWarning, Options, check_image, check_param
from ._vectors import as_mode_image
from .metrics import Evaluation
from .pack import packed_size
from .pipeline import quantize
from .solvers import STRATEGIES, VECTOR_STRATEGIES, fit_mode

__all__ = ["Row", "SKLEARN_REFERENCE", "SWEEP_FIELDS", "compare", "compare_colors", "sweep"]

SKLEARN_REFERENCE = "sklearn-kmeans"
#: The keys of :meth:`Row.as_record`, the columns of a sweep.
SWEEP_FIELDS = ("n_levels", "strategy", "mse", "psnr", "ssim", "max_error", "packed_bpp", "vq_bpp",
                "png_bytes", "webp_bytes", "jxl_bytes")
_SWEEP_FORMATS = ("vq", "png", "webp", "jxl")


@dataclass
class Row:
    """One strategy at one level count on one image.

    ``sizes`` maps a storage form to its bytes: 'packed' (the codes at exactly
    ``ceil(log2 k)`` bits), 'codes' (in their integer dtype), 'float64'
    (what ``KBinsDiscretizer`` returns) and any output format measured.
    """

    strategy: str
    n_levels: int
    evaluation: Evaluation
    pixels: int
    seconds: float = math.nan
    code_dtype: str = "uint8"
    sizes: dict = field(default_factory=dict)

    mse = property(lambda self: self.evaluation.mse)
    psnr = property(lambda self: self.evaluation.psnr)
    ssim = property(lambda self: self.evaluation.ssim)
    max_error = property(lambda self: self.evaluation.max_error)
    packed_bytes = property(lambda self: self.sizes["packed"])
    float64_bytes = property(lambda self: self.sizes["float64"])
    code_bytes = property(lambda self: self.sizes["codes"])

    def bits_per_pixel(self, fmt: str) -> float:
        """Bits per pixel of storage form ``fmt`` (NaN when not measured)."""
        return 8 * self.sizes[fmt] / self.pixels if fmt in self.sizes else math.nan

    def as_json(self) -> dict:
        """The documented JSON keys of ``vqimage compare --json``."""
        return {"strategy": self.strategy, "n_levels": self.n_levels, "mse": self.mse, "psnr": self.psnr,
                "ssim": self.ssim, "seconds": self.seconds, "packed_bytes": self.packed_bytes}

    def as_record(self) -> dict:
        """A flat dict with the keys of :data:`SWEEP_FIELDS` (NaN where not measured)."""
        nan = math.nan
        return {"n_levels": self.n_levels, "strategy": self.strategy, "mse": self.mse, "psnr": self.psnr,
                "ssim": nan if self.ssim is None else self.ssim, "max_error": self.max_error,
                "packed_bpp": float(max(1, (self.n_levels - 1).bit_length())), "vq_bpp": self.bits_per_pixel("vq"),
                **{f"{f}_bytes": self.sizes.get(f, nan) for f in ("png", "webp", "jxl")}}


def _best_time(function, repeat: int):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def _row(strategy, k, image, recon, seconds, code_dtype, peak, *, color=False) -> Row:
    """A row measured on the pixels; a color pixel counts once."""
    pixels = int(np.size(image)) // (image.shape[-1] if color else 1)
    evaluation = metrics.evaluate(image, recon, data_range=peak, color=color, ssim=bool(np.ndim(image) >= 2))
    sizes = {"packed": packed_size(pixels, k), "float64": 8 * int(np.size(image)),
             "codes": np.dtype(code_dtype).itemsize * pixels}
    return Row(strategy, int(k), evaluation, pixels, float(seconds), str(np.dtype(code_dtype)), sizes)


def compare(image, n_levels: int, *, mode: str = "gray", reference: bool = True, repeat: int = 3,
            data_range=None) -> list[Row]:
    """Quantize ``image`` with every strategy and measure what each costs.

    Parameters
    ----------
    image : ndarray
        Gray image (any shape for vqimage's strategies; the sklearn reference
        treats it as one feature), or color with ``mode='color'`` or 'auto'.
    n_levels : int
    mode : {'gray', 'color', 'auto'}
        'color' (or 'auto' for a color image) compares color quantizers
        (:func:`compare_colors`); 'gray' converts color images by BT.601 luma.
    reference : bool
        Add scikit-learn's ``KBinsDiscretizer(strategy="kmeans",
        subsample=200_000, random_state=0)`` as in the seed.
    repeat : int
        ``seconds`` is the best of this many :func:`vqimage.quantize` runs
        (fit + encode; after one untimed warm-up, so first-touch allocations
        are not counted).
    data_range : float, optional
        Peak for PSNR/SSIM; default from the integer dtype (see
        :func:`vqimage.metrics.peak`).

    Returns
    -------
    list of Row
        vqimage rows decode to the image's dtype (what a saved file holds);
        the sklearn row uses its own float64 ``inverse_transform``.
    """
    check_param("mode", mode, Options(("gray", "color", "auto")), caller="compare")
    mode = fit_mode(image, mode, caller="compare")
    image = as_mode_image(np.asarray(image), mode)
    if mode == "color":
        return compare_colors(image, n_levels, reference=reference, repeat=repeat)
    peak = metrics.peak(image, data_range)
    rows = []
    for strategy in STRATEGIES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)

            def run(strategy=strategy):
                return quantize(image, n_levels, mode="gray", strategy=strategy)

            run()
            seconds, result = _best_time(run, repeat)
        rows.append(_row(strategy, result.n_levels, image, result.reconstruction, seconds, result.codes.dtype, peak))
    if reference:
        rows.append(_sklearn_row(image, n_levels, peak))
    return rows


def _sklearn_row(image, n_levels, peak) -> Row:
    require("sklearn", "The scikit-learn reference row (leave it out: reference=False, --no-reference)")
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
    return _row(SKLEARN_REFERENCE, int(encoder.n_bins_[0]), image, recon, seconds, codes.dtype, peak)


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
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"compare_colors takes an 8-bit RGB image (H, W, 3). Got {image.dtype} of shape {image.shape}.")
    rows = []
    for strategy in VECTOR_STRATEGIES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)

            def run(strategy=strategy):
                # The error the peers minimise: RGB, undithered (not quantize's perceptual default).
                return quantize(image, n_colors, mode="color", strategy=strategy, space="rgb", dither="none")

            run()
            seconds, result = _best_time(run, repeat)
        rows.append(_row(strategy, result.n_levels, image, result.reconstruction, seconds, "uint8", 255.0,
                         color=True))
    if reference:
        from PIL import Image

        source = Image.fromarray(image)
        for label, method in (("pillow-mediancut", Image.Quantize.MEDIANCUT),
                              ("pillow-octree", Image.Quantize.FASTOCTREE)):
            seconds, quantized = _best_time(lambda method=method: source.quantize(n_colors, method=method), repeat)
            used = len(quantized.getcolors(256) or ())
            rows.append(_row(label, used, image, np.asarray(quantized.convert("RGB")), seconds, "uint8", 255.0,
                             color=True))
        rows.append(_sklearn_colors(image, n_colors))
    return rows


def _sklearn_colors(image, n_colors) -> Row:
    require("sklearn", "The scikit-learn reference row (leave it out: reference=False, --no-reference)")
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
    return _row("sklearn-kmeans-1000", palette.shape[0], image, recon, seconds, labels.dtype, 255.0, color=True)


def sweep(image, levels=range(2, 257), strategies=("optimal",), *, ssim: bool = True,
          formats=_SWEEP_FORMATS, data_range=None, progress=None) -> list[Row]:
    """Rate-distortion table: every strategy at every level count.

    Parameters
    ----------
    image : ndarray
        A gray image.
    levels : iterable of int
    strategies : iterable of str
    ssim : bool
        Compute SSIM (about 20 ms a row on a 512x512 image).
    formats : iterable of {'vq', 'png', 'webp', 'jxl'}
        Which sizes to measure: the .vq container (context coder), and the
        palette PNG, WebP lossless and JPEG XL lossless of the same
        reconstruction.
    data_range : float, optional
        Peak for PSNR / SSIM.
    progress : callable, optional
        Called with each finished row.

    Returns
    -------
    list of Row
        One per (strategy, level count); :meth:`Row.as_record` gives the
        flat dict of :data:`SWEEP_FIELDS`.

    Examples
    --------
    >>> import vqimage
    >>> from vqimage.compare import sweep
    >>> rows = sweep(vqimage.load_image("camera"), levels=[2, 8], ssim=False, formats=())
    >>> [(r.n_levels, round(r.psnr, 2)) for r in rows]
    [(2, 19.24), (8, 30.98)]
    """
    image = check_image(image, caller="sweep")
    formats = tuple(formats)
    for f in formats:
        check_param("formats", f, Options(_SWEEP_FORMATS), caller="sweep")
    rows = []
    for strategy in strategies:
        for k in levels:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FitWarning)
                result = quantize(image, int(k), mode="gray", strategy=strategy, data_range=data_range)
            row = Row(strategy, result.n_levels, result.evaluate(ssim=ssim), image.size,
                      code_dtype=str(result.codes.dtype),
                      sizes={"packed": packed_size(image.size, result.n_levels),
                             **{f: len(result.to_bytes(f)) for f in formats}})
            rows.append(row)
            if progress is not None:
                progress(row)
    return rows
