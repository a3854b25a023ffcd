"""A self-contained HTML report: what quantizing one image costs, strategy by strategy.

One file, figures embedded as PNG data URIs, no scripts and no links: it opens
offline in any browser. Sections: the original beside each strategy's result at
the chosen level count; the histogram with each strategy's levels; error maps;
rate-distortion curves (PSNR and SSIM against the bits per pixel of the ``.vq``
file), with JPEG and WebP (lossy, Pillow) of the original as reference curves
over the same range, and a sentence saying where transform codecs win.
Color images are reported in gray (BT.601 luma).
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path

import numpy as np

from .. import metrics
from .._optional import available, require
from .._validation import FitWarning
from ..compare import sweep
from ..io import to_gray, write_atomic
from ..pipeline import quantize
from ..solvers import STRATEGIES
from .figures import _bins, _figure

__all__ = ["report_html", "write_report", "SWEEP_LEVELS"]

#: The level counts of the rate-distortion curves.
SWEEP_LEVELS = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
_QUALITIES = (2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
_COLORS = {"uniform": "tab:green", "quantile": "tab:purple", "kmeans": "tab:orange", "optimal": "tab:blue"}


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _fits(image, n_levels):
    import warnings

    results = []
    for strategy in STRATEGIES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)
            results.append(quantize(image, n_levels, mode="gray", strategy=strategy))
    return results


def _side_by_side(image, results, name, n_levels):
    n = len(results) + 1
    fig = _figure(figsize=(3.3 * n, 3.8), layout="constrained")
    axes = fig.subplots(ncols=n)
    axes[0].imshow(image, cmap="gray", vmin=image.min(), vmax=image.max())
    axes[0].set_title(f"original\n{np.unique(image).size} gray values", fontsize=10)
    for ax, result in zip(axes[1:], results):
        ax.imshow(result.reconstruction, cmap="gray", vmin=image.min(), vmax=image.max())
        ax.set_title(f"{result.strategy}: {result.n_levels} levels\nPSNR {result.metrics.psnr:.2f} dB", fontsize=10)
    for ax in axes:
        ax.axis("off")
    fig.suptitle(f"{name}: the original and each strategy at {n_levels} levels")
    return fig


def _histograms(image, results, n_levels):
    fig = _figure(figsize=(12, 2.4 * len(results)), layout="constrained")
    axes = fig.subplots(nrows=len(results), sharex=True)
    values = image.ravel()
    for ax, result in zip(axes, results):
        strategy, codebook = result.strategy, result.codebook
        ax.hist(values, bins=_bins(values), color="tab:gray")
        for i, level in enumerate(codebook.levels):
            ax.axvline(level, color=_COLORS[strategy], linewidth=1.2, label="levels" if i == 0 else None)
        for i, edge in enumerate(codebook.thresholds):
            ax.axvline(edge, color="black", linestyle=":", linewidth=0.8, label="edges" if i == 0 else None)
        ax.set_ylabel("pixels")
        ax.set_title(f"{strategy}: {n_levels} levels on the histogram", fontsize=10)
        ax.legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("pixel value")
    return fig


def _error_maps(image, results):
    n = len(results)
    fig = _figure(figsize=(3.6 * n, 3.6), layout="constrained")
    axes = fig.subplots(ncols=n)
    errors = [np.abs(result.reconstruction.astype(np.float64) - image) for result in results]
    top = max(float(e.max()) for e in errors) or 1.0
    for ax, strategy, error in zip(axes, (result.strategy for result in results), errors):
        shown = ax.imshow(error, cmap="magma", vmin=0, vmax=top)
        ax.set_title(f"{strategy}: max {error.max():g}, mean {error.mean():.2f}", fontsize=10)
        ax.axis("off")
    fig.colorbar(shown, ax=list(axes), shrink=0.8, label="|reconstruction - original| (gray levels)")
    fig.suptitle("Error maps (same color scale)")
    return fig


def _lossy(image, peak):
    """(codec, quality, bits per pixel, PSNR, SSIM) of JPEG and WebP encodings of the original."""
    from PIL import Image

    pil = Image.fromarray(image if image.dtype == np.uint8 else (image / 257).astype(np.uint8))
    rows = []
    for codec, options in (("JPEG", {"format": "JPEG", "optimize": True}), ("WebP", {"format": "WEBP", "method": 6})):
        for quality in _QUALITIES:
            buffer = io.BytesIO()
            pil.save(buffer, quality=quality, **options)
            decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L"))
            if image.dtype != np.uint8:
                decoded = decoded.astype(image.dtype) * 257
            rows.append((codec, quality, 8 * buffer.tell() / image.size, metrics.psnr(image, decoded, data_range=peak),
                         metrics.ssim(image, decoded, data_range=peak)))
    return rows


def _rd_figure(records, lossy):
    fig = _figure(figsize=(12, 4.5), layout="constrained")
    axes = fig.subplots(ncols=2)
    for ax, key, label in ((axes[0], "psnr", "PSNR (dB)"), (axes[1], "ssim", "SSIM")):
        for strategy in STRATEGIES:
            rows = [r for r in records if r.strategy == strategy]
            ax.plot([r.bits_per_pixel("vq") for r in rows], [getattr(r, key) for r in rows], "o-", color=_COLORS[strategy],
                    label=f"vqimage {strategy} (.vq)", markersize=4)
        for codec, style in (("JPEG", "s--"), ("WebP", "^--")):
            rows = [r for r in lossy if r[0] == codec]
            ax.plot([r[2] for r in rows], [r[3 if key == "psnr" else 4] for r in rows], style, color="tab:red"
                    if codec == "JPEG" else "tab:brown", label=f"{codec} (lossy, Pillow)", markersize=4)
        ax.set_xscale("log")
        ax.set_xlabel("bits per pixel (file size x 8 / pixels, log scale)")
        ax.set_ylabel(label)
        ax.set_title(f"{label.split(' ')[0]} against file size")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def _verdict(records, lossy) -> str:
    """Where JPEG / WebP reach a higher PSNR than the best vqimage curve at the same bits per pixel."""
    best = sorted((r.bits_per_pixel("vq"), r.psnr) for r in records)
    xs = np.array([b for b, _ in best])
    ys = np.maximum.accumulate(np.array([p for _, p in best]))  # the best PSNR up to each size
    parts = []
    for codec in ("JPEG", "WebP"):
        wins = [r for r in lossy if r[0] == codec and xs[0] <= r[2] <= xs[-1] and r[3] > np.interp(r[2], xs, ys)]
        losses = [r for r in lossy if r[0] == codec and xs[0] <= r[2] <= xs[-1] and r[3] <= np.interp(r[2], xs, ys)]
        if wins:
            parts.append(f"{codec} gives a higher PSNR than vqimage's best curve at {min(r[2] for r in wins):.2f} "
                         f"to {max(r[2] for r in wins):.2f} bits per pixel")
        elif losses:
            parts.append(f"{codec} stays below vqimage's best curve over the sizes both reach")
    sentence = "; ".join(parts) if parts else "JPEG and WebP do not reach the sizes measured here"
    return (f"{sentence}. Transform codecs spend their bits on a smooth approximation of the whole image, "
            "which pays off at higher rates and on photographs; vector quantization keeps exact levels "
            "(palette-friendly, bounded error, decodable by a table look-up) and wins where few levels suffice.")


def report_html(image, name: str, *, n_levels: int = 8, levels=SWEEP_LEVELS, progress=None) -> str:
    """The report's HTML text (see the module notes)."""
    require("matplotlib", "The report")
    image = to_gray(np.asarray(image))
    if image.dtype not in (np.uint8, np.uint16) or image.ndim != 2:
        raise ValueError(f"The report takes an 8- or 16-bit image; {name} is {image.dtype} of shape {image.shape}.")
    peak = metrics.peak(image)
    results = _fits(image, n_levels)
    levels = [k for k in levels if k <= max(2, np.unique(image).size)]
    records = sweep(image, levels=levels, strategies=STRATEGIES, ssim=True, formats=("vq",), progress=progress)
    lossy = _lossy(image, peak)
    figures = [
        ("Side by side", _side_by_side(image, results, name, n_levels)),
        ("Histograms with the levels", _histograms(image, results, n_levels)),
        ("Error maps", _error_maps(image, results)),
        ("Rate and distortion", _rd_figure(records, lossy)),
    ]
    perceptual = image.dtype == np.uint8 and min(image.shape) >= 8 and available("ssimulacra2")
    scores = [r.evaluate(ssim=True, ssimulacra2=perceptual) for r in results]
    rows = "\n".join(
        f"<tr><td>{html.escape(r.strategy)}</td><td>{r.n_levels}</td><td>{e.mse:.2f}</td>"
        f"<td>{e.psnr:.2f}</td><td>{e.ssim:.4f}</td>"
        + (f"<td>{e.ssimulacra2:.1f}</td>" if perceptual else "") + f"<td>{e.max_error:g}</td></tr>"
        for r, e in zip(results, scores)
    )
    perceptual_head = "<th>SSIMULACRA2</th>" if perceptual else ""
    perceptual_note = ("SSIMULACRA2 is the perceptual score of JPEG XL's tools (100 identical, 90 visually "
                       "lossless, 70 high quality)." if perceptual else
                       "Install <code>vqimage[perceptual]</code> for a perceptual score (SSIMULACRA2; 8-bit images).")
    body = "\n".join(f"<h2>{html.escape(title)}</h2>\n<img alt=\"{html.escape(title)}\" src=\"{_png(fig)}\">"
                     for title, fig in figures)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>vqimage report: {html.escape(name)}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}}
img{{max-width:100%}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
</style></head><body>
<h1>vqimage report: {html.escape(name)}</h1>
<p>{image.shape[1]}x{image.shape[0]} {image.dtype}, {np.unique(image).size} distinct values; peak {peak:g} for
PSNR and SSIM. Every strategy at {n_levels} levels:</p>
<table><tr><th>strategy</th><th>levels</th><th>MSE</th><th>PSNR dB</th><th>SSIM</th>{perceptual_head}<th>max error</th></tr>
{rows}</table>
<p>{perceptual_note}</p>
{body}
<p>The curves put each strategy at {', '.join(map(str, levels))} levels; bits per pixel are those of the whole
<code>.vq</code> file (context coder). JPEG and WebP encode the original at qualities
{', '.join(map(str, _QUALITIES))}.</p>
<p><strong>Where transform codecs win:</strong> {html.escape(_verdict(records, lossy))}</p>
</body></html>
"""


def write_report(image, name: str, outdir, *, n_levels: int = 8, force: bool = False, progress=None) -> Path:
    """Write ``outdir/NAME-report.html`` atomically; return its path."""
    outdir = Path(outdir)
    path = outdir / f"{Path(name).stem}-report.html"
    if os.path.lexists(path) and not force:  # before the work, not after it (a dangling link too)
        raise FileExistsError(f"{path} exists; use --force (force=True) to overwrite it.")
    outdir.mkdir(parents=True, exist_ok=True)
    text = report_html(image, name, n_levels=n_levels, progress=progress)
    write_atomic(path, text.encode("utf-8"), force=force)
    return path
