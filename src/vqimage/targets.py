"""Quality and size targets: the fewest levels that meet them.

Users rarely know the right number of levels; they know what they can accept.
:func:`vqimage.quantize` takes the targets and :func:`search` finds the
codebook for them:

``target_psnr`` / ``target_ssim``
    The fewest levels whose reconstruction reaches at least this PSNR (dB) /
    SSIM. Gray images are measured exactly on their histogram, so every
    count is tried in increasing order (up to 256 candidates; beyond, by
    bisection, which assumes quality grows with the levels): the choice is
    exactly the first count a sweep finds. Colors and blocks need a full fit
    per count, so they are searched by bisection: the count found meets the
    target and the one below it does not.
``max_error``
    Every pixel within this absolute error of the original, guaranteed. For
    gray images with ``strategy='optimal'`` (or 'auto') the fewest levels
    that can guarantee it are found exactly by
    :func:`vqimage.solvers.max_error_codebook` (strategy 'max-error').
``target_ssimulacra2``
    The fewest levels whose output reaches at least this SSIMULACRA2 score
    (:func:`vqimage.metrics.ssimulacra2`: 90 is visually lossless, 70 high
    quality; 8-bit images, the ``[perceptual]`` extra). Searched by
    bisection, each count fitted, dithered as the output will be, and
    scored (about 0.6 s per count for a 512x512 color image).
``max_bytes``
    The output (in ``fmt``) must take at most this many bytes. Alone, it
    picks the *most* levels that fit (the best quality under the budget):
    bisection on the level count, then a look at the next few counts, as
    sizes can dip by a few bytes from one count to the next. With a quality
    target it is a limit the choice must also meet.

A quality target is first tried at the most levels allowed: one that cannot
be met there fails at once, in about the time of one quantization at that
count. Every target is checked on the actual output: what is reported is what
was reached. A target that cannot be met raises :class:`TargetError`, which
carries the closest result. ``strategy='auto'`` tries every strategy and keeps
the one needing the fewest levels (ties: the higher PSNR).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import metrics
from ._progress import SlowStatus
from ._validation import FitWarning, Interval, Options, check_image, check_param
from .codebook import Codebook
from .histogram import histogram, vector_histogram
from .mapping import decode, encode
from .metrics import Evaluation
from .pack.formats import FORMATS, export_bytes
from .solvers import STRATEGIES, VECTOR_STRATEGIES, default_strategy, fit, max_error_codebook

__all__ = ["TARGETS", "Candidate", "TargetError", "search"]

#: The target parameters, as :func:`vqimage.quantize` and the command line name them.
TARGETS = ("target_psnr", "target_ssim", "max_error", "max_bytes", "target_ssimulacra2")
_LINEAR_LIMIT = 256
# Extra level counts looked at past the bisection's answer for max_bytes.
_SIZE_LOOKAHEAD = 8


@dataclass
class Candidate:
    """One level count tried: its codebook, codes and :class:`~vqimage.metrics.Evaluation`."""

    codebook: Codebook
    codes: np.ndarray = field(repr=False)
    evaluation: Evaluation
    recon: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_levels(self) -> int:
        return self.codebook.n_levels


class TargetError(ValueError):
    """No codebook meets the target; ``closest`` is the best :class:`Candidate` found (or None)."""

    def __init__(self, message: str, closest: Candidate | None = None):
        super().__init__(message)
        self.closest = closest


class _Evaluator:
    """Fits, encodes and measures level counts on demand, each once.

    Gray images are fitted on their histogram, computed once, and PSNR and
    maximum error come from it exactly (:func:`vqimage.metrics.evaluate_histogram`),
    so a search step costs no pass over the pixels (unless dithered); SSIM,
    SSIMULACRA2 and sizes need the image itself. Colors and blocks are
    fitted on their vector histogram, also computed once. ``dithering``
    holds :func:`vqimage.encode`'s dither options: candidates are encoded as
    the output will be.
    """

    def __init__(self, image, hist, strategy, mode, fmt, coder, data_range, fit_options, progress, ssim,
                 ssimulacra2, dithering):
        self.image, self.hist, self.strategy, self.mode = image, hist, strategy, mode
        self.fmt, self.coder, self.data_range, self.progress, self.ssim = fmt, coder, data_range, progress, ssim
        self.ssimulacra2 = ssimulacra2
        self.dithering = dithering
        self.fit_options = {k: v for k, v in fit_options.items() if hist is None or k != "weights"}
        self.cache: dict = {}

    @property
    def exact_gray(self) -> bool:
        return self.mode == "gray" and self.hist is not None and self.dithering["dither"] == "none"

    def codebook(self, k: int) -> Codebook:
        key = ("cb", k)
        if key not in self.cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FitWarning)
                data = self.hist if self.hist is not None else self.image
                self.cache[key] = fit(data, k, mode=self.mode, strategy=self.strategy, **self.fit_options)
        return self.cache[key]

    def quick(self, k: int, codebook=None) -> Evaluation:
        """MSE, PSNR and max error of count ``k`` (or of ``codebook``): from the histogram for gray images."""
        cb = codebook if codebook is not None else self.codebook(k)
        if not self.exact_gray:
            return self.candidate(k, codebook=codebook).evaluation
        key = ("quick", k, id(codebook))
        if key not in self.cache:
            values = self.hist.values
            decoded = cb.levels_as(self.image.dtype)[np.searchsorted(cb.thresholds, values, side="right")]
            self.cache[key] = metrics.evaluate_histogram(values, self.hist.counts, decoded,
                                                         data_range=self.data_range, dtype=self.image.dtype)
            self._report(cb.n_levels, self.cache[key])
        return self.cache[key]

    def candidate(self, k: int, *, ssim=False, size=False, codebook=None, ssimulacra2=False) -> Candidate:
        """Count ``k`` (or ``codebook``) encoded and measured; ``ssim``: True, or None for the report's rule.

        ``ssimulacra2``: True, or None for the search's rule (when asked for).
        """
        key = ("out", k, id(codebook))
        out = self.cache.get(key)
        if out is None:
            cb = codebook if codebook is not None else self.codebook(k)
            codes = encode(self.image, cb, **self.dithering)
            recon = decode(codes, cb, shape=self.image.shape if cb.mode == "block" else None)
            evaluation = metrics.evaluate(self.image, recon, data_range=self.data_range, color=cb.mode == "color",
                                          ssim=False)
            out = self.cache[key] = Candidate(cb, codes, evaluation, recon)
            self._report(cb.n_levels, evaluation)
        wanted = True if ssim else self.ssim  # asked for, or the report's rule (None: when cheap)
        if ssim is not False and wanted is not False and out.evaluation.ssim is None \
                and not (wanted is None and out.evaluation.ssim_skipped):
            scored = dataclasses.replace(metrics.evaluate(self.image, out.recon, data_range=self.data_range,
                                                          color=out.codebook.mode == "color", ssim=wanted),
                                         ssimulacra2=out.evaluation.ssimulacra2)
            out.evaluation = scored if out.evaluation.bytes is None else scored.with_size(
                out.evaluation.bytes, _pixels(self.image, out.codebook), out.evaluation.fmt)
        if (ssimulacra2 or (ssimulacra2 is None and self.ssimulacra2)) and out.evaluation.ssimulacra2 is None:
            score = metrics.ssimulacra2(self.image, out.recon)
            out.evaluation = dataclasses.replace(out.evaluation, ssimulacra2=score)
            self._report(out.codebook.n_levels, out.evaluation)
        if size and out.evaluation.bytes is None and self.fmt is not None:
            shape = self.image.shape if out.codebook.mode == "block" else None
            data, _ = export_bytes(self.fmt, out.codes, out.codebook, coder=self.coder, image_shape=shape)
            out.evaluation = out.evaluation.with_size(len(data), _pixels(self.image, out.codebook), self.fmt)
        return out

    def _report(self, k, evaluation):
        if self.progress is not None:
            self.progress(k, evaluation)


def _pixels(image, codebook) -> int:
    return image.size // (image.shape[-1] if codebook.mode == "color" else 1)


def search(
    image,
    *,
    target_psnr: float | None = None,
    target_ssim: float | None = None,
    max_error: float | None = None,
    max_bytes: int | None = None,
    mode: str = "gray",
    strategy: str | None = None,
    max_levels: int = 256,
    fmt: str | None = "vq",
    coder: str | None = None,
    data_range=None,
    progress: bool | Callable[[int, Evaluation], None] = False,
    ssim: bool | None = None,
    target_ssimulacra2: float | None = None,
    ssimulacra2: bool = False,
    dither: str = "none",
    dither_strength: float = 1.0,
    selective: bool = False,
    caller: str = "quantize",
    **fit_options,
) -> Candidate:
    """The codebook with the fewest levels that meets every given target.

    Parameters
    ----------
    image : ndarray
        As the codebook takes it: gray (any shape), 8-bit color (``mode='color'``)
        or 8-bit gray (``mode='block'``).
    target_psnr, target_ssim, max_error, max_bytes, target_ssimulacra2
        The targets (at least one); see the module notes.
    mode : {'gray', 'color', 'block'}
    strategy : str, optional
        A strategy of :func:`vqimage.fit` for ``mode`` (default: 'optimal' for
        gray, 'kmeans' for color and block), or 'auto' (try each).
    max_levels : int
        The most levels tried (at most the data's distinct values).
    fmt : str
        Output format whose size ``max_bytes`` limits and the result reports
        (a key of :data:`vqimage.pack.formats.FORMATS`).
    coder : str, optional
        The .vq payload coder.
    data_range : float, optional
        Peak for PSNR / SSIM (float images).
    progress : bool or callable
        True: a status line on a terminal when the search takes more than a
        second. A callable is called as ``progress(n_levels, evaluation)``
        after each count measured.
    ssim : bool or None
        Whether the chosen count's report includes SSIM (None: when cheap);
        ``target_ssim`` always measures it.
    ssimulacra2 : bool
        Whether the chosen count's report includes SSIMULACRA2;
        ``target_ssimulacra2`` always measures it.
    dither, dither_strength, selective
        How candidates are encoded (see :func:`vqimage.encode`): as the
        output will be, so the targets are met by what is written.
    **fit_options
        Passed to :func:`vqimage.fit`.

    Returns
    -------
    Candidate
        With PSNR, SSIM, max error and bytes measured on the output.

    Raises
    ------
    TargetError
        When no level count up to ``max_levels`` meets the targets.
    """
    check_param("mode", mode, Options(("gray", "color", "block")), caller=caller)
    allowed = (STRATEGIES if mode == "gray" else VECTOR_STRATEGIES) + ("auto",)
    strategy = default_strategy(mode) if strategy is None else strategy
    check_param("strategy", strategy, Options(allowed), caller=caller)
    check_param("target_psnr", target_psnr, None, Interval(float, 0, None), caller=caller)
    check_param("target_ssim", target_ssim, None, Interval(float, -1, 1), caller=caller)
    check_param("max_error", max_error, None, Interval(float, 0, None), caller=caller)
    check_param("max_bytes", max_bytes, None, Interval(int, 1, None), caller=caller)
    check_param("target_ssimulacra2", target_ssimulacra2, None, Interval(float, None, 100), caller=caller)
    check_param("max_levels", max_levels, Interval(int, 2, 65536), caller=caller)
    check_param("fmt", fmt, None, Options(FORMATS), caller=caller)
    quality = {"target_psnr": target_psnr, "target_ssim": target_ssim, "max_error": max_error,
               "target_ssimulacra2": target_ssimulacra2}
    quality = {key: value for key, value in quality.items() if value is not None}
    if not quality and max_bytes is None:
        raise ValueError(f"{caller} needs a target: target_psnr, target_ssim, max_error, max_bytes or "
                         "target_ssimulacra2.")
    if max_bytes is not None and fmt is None:
        raise ValueError(f"The 'max_bytes' parameter of {caller} needs an output format (fmt=).")
    image = check_image(image, caller=caller) if mode == "gray" else np.asarray(image)
    if target_psnr is not None or target_ssim is not None:
        metrics.peak(image, data_range)  # float images must say their range
    if target_ssimulacra2 is not None or ssimulacra2:
        _check_perceptual(image, mode)
    if mode == "gray":
        hist = None if fit_options.get("weights") is not None else histogram(image)
    else:
        hist = vector_histogram(image, mode=mode, block=fit_options.get("block"), weights=fit_options.get("weights"))
    strategies = [s for s in allowed if s != "auto"] if strategy == "auto" else [strategy]
    results, failures = [], []
    with SlowStatus(progress is True) as status:
        report = progress if callable(progress) else lambda k, e: status(
            f"searching the fewest levels: tried {k}" + ("" if e.psnr is None else f", PSNR {e.psnr:.2f} dB")
            + ("" if e.ssimulacra2 is None else f", SSIMULACRA2 {e.ssimulacra2:.1f}"))
        dithering = {"dither": dither, "dither_strength": dither_strength, "selective": selective}
        for name in strategies:
            evaluator = _Evaluator(image, hist, name, mode, fmt, coder, data_range, fit_options, report, ssim,
                                   ssimulacra2, dithering)
            try:
                results.append(_search(evaluator, quality, max_bytes, max_levels))
            except TargetError as exc:
                failures.append(exc)
    if not results:
        closest = min((f.closest for f in failures if f.closest is not None),
                      key=lambda c: c.evaluation.mse, default=None)
        raise TargetError(str(failures[0]) if len(failures) == 1 else
                          f"No strategy meets the target ({'; '.join(map(str, failures))}).", closest)
    if quality:
        return min(results, key=lambda c: (c.n_levels, c.evaluation.mse))
    return min(results, key=lambda c: (c.evaluation.mse, c.n_levels))


def _check_perceptual(image, mode):
    from ._optional import require

    require("ssimulacra2", "SSIMULACRA2")
    if image.dtype != np.uint8 or mode == "block" or (mode == "gray" and image.ndim != 2):
        raise ValueError("SSIMULACRA2 scores 8-bit 2-D gray or color images (not blocks). "
                         f"Got a {mode} image of {image.dtype}, shape {image.shape}.")


def _search(ev: _Evaluator, quality: dict, max_bytes, max_levels) -> Candidate:
    target_psnr, target_ssim = quality.get("target_psnr"), quality.get("target_ssim")
    max_error, target_ssimulacra2 = quality.get("max_error"), quality.get("target_ssimulacra2")
    if ev.hist is None:
        distinct = histogram(ev.image).n_values
    elif ev.mode == "gray":
        distinct = ev.hist.n_values
    else:
        distinct = ev.hist.n_vectors + (ev.hist.transparent > 0)
    top = max(2, min(max_levels, distinct))
    if not quality:
        return _largest_that_fits(ev, max_bytes, top)

    def meets(k: int) -> bool:
        quick = ev.quick(k)
        if target_psnr is not None and not (quick.psnr is not None and quick.psnr >= target_psnr):
            return False
        if max_error is not None and not quick.max_error <= max_error:
            return False
        if target_ssimulacra2 is not None and \
                not ev.candidate(k, ssimulacra2=True).evaluation.ssimulacra2 >= target_ssimulacra2:
            return False
        return target_ssim is None or ev.candidate(k, ssim=True).evaluation.ssim >= target_ssim

    given = None
    if set(quality) == {"max_error"} and ev.exact_gray and ev.strategy == "optimal":
        given = max_error_codebook(ev.hist, max_error)
        if given.n_levels > max_levels:
            raise TargetError(
                f"max_error={max_error:g} needs {given.n_levels} levels, more than the {max_levels} allowed.")
        chosen = ev.candidate(given.n_levels, codebook=given)
    else:
        if not meets(top):  # fail fast: one quantization at the most levels allowed
            closest = ev.candidate(top)
            psnr, score = closest.evaluation.psnr, closest.evaluation.ssimulacra2
            raise TargetError(
                f"{_describe(quality)} is out of reach with {ev.strategy!r}: "
                f"{top} levels give " + (f"PSNR {psnr:.2f} dB, " if psnr is not None else "")
                + (f"SSIMULACRA2 {score:.1f}, " if score is not None else "")
                + f"max error {closest.evaluation.max_error:g}.", closest)
        linear = ev.exact_gray and top - 1 <= _LINEAR_LIMIT
        chosen = ev.candidate(_first_that_meets(meets, top, linear))
    chosen = ev.candidate(chosen.n_levels, ssim=None, size=True, codebook=given, ssimulacra2=None)
    if max_bytes is not None and chosen.evaluation.bytes > max_bytes:
        raise TargetError(
            f"{_describe(quality)} needs {chosen.n_levels} levels, whose {ev.fmt} "
            f"takes {chosen.evaluation.bytes:,} bytes, above max_bytes={max_bytes:,}.", chosen)
    return chosen


def _first_that_meets(meets, top, linear):
    """The first level count in 2..top for which ``meets(k)``, knowing ``meets(top)``."""
    if linear:
        return next(k for k in range(2, top + 1) if meets(k))
    lo, hi = 2, top  # bisection: quality assumed to grow with the levels
    while lo < hi:
        mid = (lo + hi) // 2
        if meets(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _largest_that_fits(ev, max_bytes, top):
    def fits(k):
        return ev.candidate(k, size=True).evaluation.bytes <= max_bytes

    if not fits(2):
        smallest = ev.candidate(2, size=True)
        raise TargetError(f"max_bytes={max_bytes:,} is out of reach: 2 levels already take "
                          f"{smallest.evaluation.bytes:,} bytes as {ev.fmt}.", smallest)
    lo, hi = 2, top  # the largest count that fits, sizes assumed to grow with the levels
    if fits(hi):
        lo = hi
    while lo < hi - 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    for k in range(lo + 1, min(top, lo + _SIZE_LOOKAHEAD) + 1):  # sizes may dip a little
        if fits(k):
            lo = k
    return ev.candidate(lo, ssim=None, size=True, ssimulacra2=None)


def _describe(quality: dict) -> str:
    templates = {"target_psnr": "PSNR >= {:g} dB", "target_ssim": "SSIM >= {:g}", "max_error": "max error <= {:g}",
                 "target_ssimulacra2": "SSIMULACRA2 >= {:g}"}
    return "The target (" + ", ".join(templates[key].format(value) for key, value in quality.items()) + ")"
