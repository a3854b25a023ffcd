"""Quality and size targets: the fewest levels that meet them, and rate-distortion sweeps.

Users rarely know the right number of levels; they know what they can accept.
:func:`quantize_to_target` finds the codebook for it:

``target_psnr`` / ``target_ssim``
    The fewest levels whose reconstruction reaches at least this PSNR (dB) /
    SSIM. Levels are tried in increasing order (up to 256 candidates; beyond,
    by bisection, which assumes quality grows with the levels), so the choice
    is exactly the first count a sweep finds.
``max_error``
    Every pixel within this absolute error of the original, guaranteed. For
    gray images with ``strategy='optimal'`` (or 'auto') the fewest levels
    that can guarantee it are found exactly: sorted values are covered by
    intervals of width ``2 * max_error`` greedily, which is optimal for
    interval covering (for integer images the error is an integer, so
    ``floor(max_error)`` counts). Each level is its pixels' mean, moved into
    the interval that keeps every pixel within the bound (strategy
    'max-error').
``max_bytes``
    The output (in ``fmt``) must take at most this many bytes. Alone, it
    picks the *most* levels that fit (the best quality under the budget):
    bisection on the level count, then a look at the next few counts, as
    sizes can dip by a few bytes from one count to the next. With a quality
    target it is a limit the choice must also meet.

Every target is checked on the actual output: what is reported is what was
reached. A target that cannot be met raises :class:`TargetError`, which
carries the closest result. ``strategy='auto'`` tries every strategy and keeps
the one needing the fewest levels (ties: the higher PSNR).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import metrics
from ._validation import Interval, Options, check_image, check_param
from .codebook import STRATEGIES, VECTOR_STRATEGIES, Codebook, FitWarning, fit

__all__ = ["Outcome", "TargetError", "quantize_to_target", "sweep", "max_error_codebook", "SWEEP_FIELDS"]

_LINEAR_LIMIT = 256
# Extra level counts looked at past the bisection's answer for --max-bytes.
_SIZE_LOOKAHEAD = 8


@dataclass
class Outcome:
    """What a quantization reached: its codebook, codes and numbers."""

    codebook: Codebook
    codes: np.ndarray = field(repr=False)
    n_levels: int
    strategy: str
    psnr: float
    ssim: float | None
    max_error: float
    bytes: int | None
    fmt: str | None
    recon: np.ndarray | None = field(default=None, repr=False)

    def as_json(self) -> dict:
        """The keys of ``--json``: n_levels, strategy, psnr, ssim, max_error, bytes."""
        return {"n_levels": self.n_levels, "strategy": self.strategy, "psnr": self.psnr, "ssim": self.ssim,
                "max_error": self.max_error, "bytes": self.bytes}


class TargetError(ValueError):
    """No codebook meets the target; ``closest`` is the best :class:`Outcome` found."""

    def __init__(self, message: str, closest: Outcome | None = None):
        super().__init__(message)
        self.closest = closest


class _Evaluator:
    """Fits, encodes and measures level counts on demand, each once.

    Gray images are fitted on their histogram, computed once, and PSNR and
    maximum error come from it exactly (each distinct value's error, weighted
    by its count: the same rule as encoding and decoding), so a search step
    costs no pass over the pixels; SSIM and sizes need the image itself.
    """

    def __init__(self, image, strategy, mode, fmt, coder, data_range, fit_options):
        from .histogram import histogram

        self.image, self.strategy, self.mode = image, strategy, mode
        self.fmt, self.coder, self.fit_options = fmt, coder, fit_options
        self.peak = metrics.peak(image, data_range)
        self.channel_axis = -1 if mode == "color" else None
        self.hist = histogram(image) if mode == "gray" and "weights" not in fit_options else None
        self.cache: dict = {}

    def codebook(self, k: int) -> Codebook:
        key = ("cb", k)
        if key not in self.cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FitWarning)
                data = self.hist if self.hist is not None else self.image
                self.cache[key] = fit(data, k, mode=self.mode, strategy=self.strategy, **self.fit_options)
        return self.cache[key]

    def quick(self, k: int, codebook=None) -> tuple[float, float]:
        """(PSNR, max error) of level count ``k`` (or of ``codebook``), from the histogram when there is one."""
        cb = codebook if codebook is not None else self.codebook(k)
        if self.hist is None or cb.mode != "gray":
            out = self.outcome(k, codebook=codebook)
            return out.psnr, out.max_error
        key = ("quick", k, id(codebook))
        if key not in self.cache:
            values = self.hist.values
            decoded = cb.levels_as(self.image.dtype).astype(np.float64)
            error = values - decoded[np.searchsorted(cb.thresholds, values, side="right")]
            mse = float(np.sum(self.hist.counts * error * error) / self.hist.total)
            psnr = float("inf") if mse == 0 else float(10 * np.log10(self.peak**2 / mse))
            self.cache[key] = (psnr, float(np.abs(error).max()))
        return self.cache[key]

    def outcome(self, k: int, *, ssim=False, size=False, codebook=None) -> Outcome:
        key = ("out", k, id(codebook))
        out = self.cache.get(key)
        if out is None:
            cb = codebook if codebook is not None else self.codebook(k)
            codes = cb.encode(self.image)
            recon = cb.decode(codes, shape=self.image.shape if cb.mode == "block" else None)
            out = Outcome(cb, codes, cb.n_levels, cb.strategy, metrics.psnr(self.image, recon, data_range=self.peak),
                          None, metrics.max_error(self.image, recon), None, self.fmt, recon)
            self.cache[key] = out
        if ssim and out.ssim is None:
            out.ssim = metrics.ssim(self.image, out.recon, data_range=self.peak, channel_axis=self.channel_axis)
        if size and out.bytes is None and self.fmt is not None:
            from .pack.export import export_bytes

            shape = self.image.shape if out.codebook.mode == "block" else None
            out.bytes = len(export_bytes(self.fmt, out.codes, out.codebook, coder=self.coder, image_shape=shape)[0])
        return out


def max_error_codebook(image, max_error: float) -> Codebook:
    """The gray codebook with the fewest levels that keeps every pixel within ``max_error``.

    Greedy interval covering of the sorted distinct values (each level covers
    a span of ``2 * max_error``) is optimal. Integer images count
    ``floor(max_error)`` (their errors are integers); each level is its
    pixels' mean moved into the range that keeps all of them within the bound,
    and rounded for integer dtypes.

    Examples
    --------
    >>> import numpy as np
    >>> cb = max_error_codebook(np.array([0, 1, 2, 10, 11, 30], np.uint8), 1)
    >>> cb.levels, cb.n_levels
    (array([ 1., 10., 30.]), 3)
    >>> int(np.abs(cb.decode(cb.encode(np.array([0, 2, 11], np.uint8))).astype(int) - [0, 2, 11]).max())
    1
    """
    from .histogram import histogram

    check_param("max_error", max_error, Interval(float, 0, None), caller="max_error_codebook")
    hist = histogram(image)
    values, counts = hist.values, hist.counts
    integer = hist.dtype.kind in "ui"
    bound = math.floor(max_error) if integer else float(max_error)
    starts = [0]
    for i in range(1, values.size):  # a new group when the value is beyond the group's reach
        if values[i] - values[starts[-1]] > 2 * bound:
            starts.append(i)
    starts = np.array(starts)
    ends = np.append(starts[1:], values.size) - 1
    low, high = values[starts], values[ends]
    mean = np.add.reduceat(counts * values, starts) / np.add.reduceat(counts, starts)
    levels = np.clip(mean, high - bound, low + bound)
    if integer:
        levels = np.clip(np.rint(levels), high - bound, low + bound)
    edges = np.concatenate([[values[0]], (high[:-1] + low[1:]) / 2, [values[-1]]])
    return Codebook(levels, edges, strategy="max-error", reconstruction="centroid", dtype=hist.dtype)


def quantize_to_target(
    image,
    *,
    target_psnr: float | None = None,
    target_ssim: float | None = None,
    max_error: float | None = None,
    max_bytes: int | None = None,
    fmt: str | None = "vq",
    coder: str | None = None,
    strategy: str | None = None,
    mode: str = "gray",
    data_range=None,
    max_levels: int = 256,
    **fit_options,
) -> Outcome:
    """Quantize ``image`` with the fewest levels that meet every given target.

    Parameters
    ----------
    image : ndarray
        Gray (any shape), or 8-bit color with ``mode='color'``.
    target_psnr, target_ssim, max_error, max_bytes
        The targets (at least one); see the module notes.
    fmt : str
        Output format whose size ``max_bytes`` limits and ``bytes`` reports
        (an :data:`vqimage.pack.export.EXPORT_FORMATS` value: 'vq', 'png', ...).
    coder : str, optional
        The .vq payload coder.
    strategy : str, optional
        A strategy of :func:`vqimage.fit` for ``mode`` (default: 'optimal' for
        gray, 'kmeans' for color and block), or 'auto' (try each).
    mode : {'gray', 'color', 'block'}
    data_range : float, optional
        Peak for PSNR / SSIM (float images).
    max_levels : int
        The most levels tried (at most the data's distinct values).
    **fit_options
        Passed to :func:`vqimage.fit`.

    Returns
    -------
    Outcome
        With ``psnr``, ``ssim``, ``max_error`` and ``bytes`` measured on the
        output.

    Raises
    ------
    TargetError
        When no level count up to ``max_levels`` meets the targets.

    Examples
    --------
    >>> import vqimage
    >>> from vqimage.targets import quantize_to_target
    >>> out = quantize_to_target(vqimage.load_image("camera"), target_psnr=35, fmt="png")
    >>> out.n_levels, round(out.psnr, 2)
    (13, 35.06)
    """
    caller = "quantize_to_target"
    check_param("mode", mode, Options(("gray", "color", "block")), caller=caller)
    allowed = STRATEGIES + ("auto",) if mode == "gray" else VECTOR_STRATEGIES + ("auto",)
    if strategy is None:
        strategy = "optimal" if mode == "gray" else "kmeans"
    check_param("strategy", strategy, Options(allowed), caller=caller)
    check_param("target_psnr", target_psnr, None, Interval(float, 0, None), caller=caller)
    check_param("target_ssim", target_ssim, None, Interval(float, -1, 1), caller=caller)
    check_param("max_error", max_error, None, Interval(float, 0, None), caller=caller)
    check_param("max_bytes", max_bytes, None, Interval(int, 1, None), caller=caller)
    check_param("max_levels", max_levels, Interval(int, 2, 65536), caller=caller)
    if target_psnr is None and target_ssim is None and max_error is None and max_bytes is None:
        raise ValueError(f"{caller} needs a target: target_psnr, target_ssim, max_error or max_bytes.")
    if max_bytes is not None and fmt is None:
        raise ValueError(f"The 'max_bytes' parameter of {caller} needs an output format (fmt=).")
    if mode == "gray":
        image = check_image(image, caller=caller)
    else:
        image = np.asarray(image)
    strategies = [s for s in allowed if s != "auto"] if strategy == "auto" else [strategy]
    results, failures = [], []
    for name in strategies:
        evaluator = _Evaluator(image, name, mode, fmt, coder, data_range, fit_options)
        try:
            results.append(_search(evaluator, target_psnr, target_ssim, max_error, max_bytes, max_levels))
        except TargetError as exc:
            failures.append(exc)
    if not results:
        closest = max((f.closest for f in failures if f.closest is not None), key=lambda o: o.psnr, default=None)
        raise TargetError(str(failures[0]) if len(failures) == 1 else
                          f"No strategy meets the target ({'; '.join(map(str, failures))}).", closest)
    quality = target_psnr is not None or target_ssim is not None or max_error is not None
    if quality:
        best = min(results, key=lambda o: (o.n_levels, -o.psnr))
    else:
        best = max(results, key=lambda o: (o.psnr, -o.n_levels))
    return best


def _search(ev: _Evaluator, target_psnr, target_ssim, max_error, max_bytes, max_levels) -> Outcome:
    distinct = ev.hist.n_values if ev.hist is not None else _distinct(ev.image, ev.mode)
    top = max(2, min(max_levels, distinct))
    quality = target_psnr is not None or target_ssim is not None or max_error is not None

    def meets(k: int) -> bool:
        psnr, error = ev.quick(k)
        if target_psnr is not None and not psnr >= target_psnr:
            return False
        if max_error is not None and not error <= max_error:
            return False
        return target_ssim is None or ev.outcome(k, ssim=True).ssim >= target_ssim

    if not quality:
        return _largest_that_fits(ev, max_bytes, top)
    if (max_error is not None and target_psnr is None and target_ssim is None and ev.mode == "gray"
            and ev.strategy == "optimal"):
        given = max_error_codebook(ev.image, max_error)
        if given.n_levels > max_levels:
            raise TargetError(
                f"max_error={max_error:g} needs {given.n_levels} levels, more than max_levels={max_levels}.")
        chosen = ev.outcome(given.n_levels, codebook=given)
    else:
        given = None
        first = _first_that_meets(meets, top)
        chosen = None if first is None else ev.outcome(first)
        if chosen is None:
            closest = ev.outcome(top)
            raise TargetError(
                f"{_describe(target_psnr, target_ssim, max_error)} is out of reach with {ev.strategy!r}: "
                f"{top} levels give PSNR {closest.psnr:.2f} dB, max error {closest.max_error:g}.", closest)
    ev.outcome(chosen.n_levels, ssim=True, size=True, codebook=given)
    if max_bytes is not None and chosen.bytes > max_bytes:
        raise TargetError(
            f"{_describe(target_psnr, target_ssim, max_error)} needs {chosen.n_levels} levels, whose {ev.fmt} "
            f"takes {chosen.bytes:,} bytes, above max_bytes={max_bytes:,}.", chosen)
    return chosen


def _first_that_meets(meets, top):
    """The first level count in 2..top for which ``meets(k)``; None if there is none."""
    if top - 1 <= _LINEAR_LIMIT:
        return next((k for k in range(2, top + 1) if meets(k)), None)
    lo, hi = 2, top  # bisection: quality assumed to grow with the levels
    if not meets(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if meets(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _largest_that_fits(ev, max_bytes, top):
    def fits(k):
        return ev.outcome(k, size=True).bytes <= max_bytes

    if not fits(2):
        smallest = ev.outcome(2, size=True)
        raise TargetError(f"max_bytes={max_bytes:,} is out of reach: 2 levels already take {smallest.bytes:,} "
                          f"bytes as {ev.fmt}.", smallest)
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
    return ev.outcome(lo, ssim=True, size=True)


def _distinct(image, mode) -> int:
    if mode == "gray":
        from .histogram import histogram

        return histogram(image).n_values
    from .codebook.vector import vector_histogram

    return vector_histogram(image, mode=mode).n_vectors + 1


def _describe(target_psnr, target_ssim, max_error) -> str:
    parts = []
    if target_psnr is not None:
        parts.append(f"PSNR >= {target_psnr:g} dB")
    if target_ssim is not None:
        parts.append(f"SSIM >= {target_ssim:g}")
    if max_error is not None:
        parts.append(f"max error <= {max_error:g}")
    return "The target (" + ", ".join(parts) + ")"


#: The columns of :func:`sweep`'s records.
SWEEP_FIELDS = ("n_levels", "strategy", "mse", "psnr", "ssim", "max_error", "packed_bpp", "vq_bpp",
                "png_bytes", "webp_bytes", "jxl_bytes")


def sweep(image, levels=range(2, 257), strategies=("optimal",), *, ssim: bool = True,
          formats=("vq", "png", "webp", "jxl"), data_range=None, progress=None) -> list[dict]:
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
        Which sizes to measure: the .vq container (context coder, bits per
        pixel), and the palette PNG, WebP lossless and JPEG XL lossless of the
        same reconstruction (bytes). Left out: NaN.
    data_range : float, optional
        Peak for PSNR / SSIM.
    progress : callable, optional
        Called with each finished record.

    Returns
    -------
    list of dict
        One record per (strategy, level count) with the keys of
        :data:`SWEEP_FIELDS`; ``packed_bpp`` is ``ceil(log2 n_levels)``.

    Examples
    --------
    >>> import vqimage
    >>> from vqimage.targets import sweep
    >>> rows = sweep(vqimage.load_image("camera"), levels=[2, 8], ssim=False, formats=())
    >>> [(r["n_levels"], round(r["psnr"], 2)) for r in rows]
    [(2, 19.24), (8, 30.98)]
    """
    from .pack.export import export_bytes

    image = check_image(image, caller="sweep")
    formats = tuple(formats)
    for f in formats:
        check_param("formats", f, Options(("vq", "png", "webp", "jxl")), caller="sweep")
    pixels = image.size
    records = []
    for strategy in strategies:
        ev = _Evaluator(image, strategy, "gray", None, None, data_range, {})
        for k in levels:
            out = ev.outcome(int(k), ssim=ssim)
            row = dict.fromkeys(SWEEP_FIELDS, float("nan"))
            row.update(n_levels=out.n_levels, strategy=strategy, mse=metrics.mse(image, out.recon), psnr=out.psnr,
                       max_error=out.max_error, packed_bpp=float(max(1, (out.n_levels - 1).bit_length())))
            if ssim:
                row["ssim"] = out.ssim
            for f in formats:
                data, _ = export_bytes(f, out.codes, out.codebook)
                if f == "vq":
                    row["vq_bpp"] = 8 * len(data) / pixels
                else:
                    row[f"{f}_bytes"] = len(data)
            records.append(row)
            if progress is not None:
                progress(row)
    return records
