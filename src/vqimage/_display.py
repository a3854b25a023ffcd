"""Rich notebook displays: codebooks as swatches and histograms, results as images side by side.

Jupyter calls ``_repr_html_``; :class:`vqimage.Codebook` and
:class:`vqimage.Quantized` delegate here. Everything is inline HTML and SVG
(images as base64 PNG), so a notebook shows it offline and keeps it when
saved, and nothing here imports matplotlib: a display takes milliseconds.
"""

from __future__ import annotations

import base64
import html

import numpy as np

__all__ = ["codebook_html", "quantized_html"]

#: At most this many swatches; the rest are counted ("... and N more").
MAX_SWATCHES = 256
#: Images are shown at most this many pixels on their long side (every n-th pixel: codes stay codes).
MAX_SIDE = 512
_SWATCH = 18  # pixels
_LABELLED = 64  # up to this many codes, each swatch says its share of the pixels


def _gray8(values: np.ndarray, dtype: np.dtype, low: float, high: float) -> np.ndarray:
    """Display gray (0..255) of values of ``dtype``: 8-bit as is, 16-bit / 257, others over [low, high]."""
    values = np.asarray(values, dtype=np.float64)
    if dtype == np.uint8:
        scaled = values
    elif dtype == np.uint16:
        scaled = values / 257.0
    else:
        scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _css_color(rgba) -> str:
    r, g, b = (int(v) for v in rgba[:3])
    return f"rgba({r},{g},{b},{int(rgba[3]) / 255:.3g})" if len(rgba) == 4 else f"rgb({r},{g},{b})"


def _number(value) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.4g}"


def _swatches(codebook, counts, gray) -> str:
    k = codebook.n_levels
    shown = min(k, MAX_SWATCHES)
    total = float(np.sum(counts)) if counts is not None else 0.0
    checker = ("background-image:linear-gradient(45deg,#ccc 25%,transparent 25%,transparent 75%,#ccc 75%),"
               "linear-gradient(45deg,#ccc 25%,transparent 25%,transparent 75%,#ccc 75%);"
               "background-size:8px 8px;background-position:0 0,4px 4px;")
    cells = []
    for i in range(shown):
        level = codebook.levels[i]
        if codebook.mode == "block":
            rows, cols = codebook.block
            tone = _gray8(level, codebook.dtype, 0, 255).reshape(rows, cols)
            size = _SWATCH / max(rows, cols)
            rects = "".join(f'<rect x="{c * size:.2f}" y="{r * size:.2f}" width="{size:.2f}" height="{size:.2f}" '
                            f'fill="rgb({t},{t},{t})"/>' for r in range(rows) for c in range(cols)
                            for t in [int(tone[r, c])])
            inner = f'<svg width="{_SWATCH}" height="{_SWATCH}" style="display:block">{rects}</svg>'
            style, what = "", "block " + " ".join(_number(v) for v in level)
        elif codebook.mode == "color":  # a transparent color shows over a checkerboard
            what = ("RGBA " if len(level) == 4 else "RGB ") + " ".join(_number(v) for v in level)
            style = checker if len(level) == 4 and level[3] < 255 else ""
            inner = f'<div style="width:100%;height:100%;background:{_css_color(level)}"></div>'
        else:
            t = int(gray[i])
            style, inner, what = f"background:rgb({t},{t},{t});", "", f"level {_number(level)}"
        title = f"code {i}: {what}" + (f", {_number(counts[i])} pixels" if counts is not None else "")
        swatch = (f'<div class="vq-swatch" style="width:{_SWATCH}px;height:{_SWATCH}px;border:1px solid #888;'
                  f'{style}">{inner}</div>')
        share = ""  # with few codes, each one's share of the pixels is written under it
        if counts is not None and k <= _LABELLED and total > 0:
            share = f'<div style="font-size:9px;text-align:center">{100 * counts[i] / total:.0f}%</div>'
        cells.append(f'<div title="{html.escape(title)}">{swatch}{share}</div>')
    more = f'<span style="align-self:center">&nbsp;... and {k - shown:,} more</span>' if k > shown else ""
    return f'<div style="display:flex;flex-wrap:wrap;gap:3px;max-width:640px">{"".join(cells)}{more}</div>'


def _histogram_svg(codebook, counts, gray, width=480, height=120) -> str:
    """Bars over the bins [edges[i], edges[i+1]] (height: pixels per unit of value), levels as ticks."""
    edges, levels = codebook.edges, codebook.levels
    low, high = float(edges[0]), float(edges[-1])
    span = high - low if high > low else 1.0

    def x(value):
        return 4 + (float(value) - low) / span * (width - 8)

    parts = [f'<svg class="vq-histogram" width="{width}" height="{height + 16}" '
             f'style="background:#fff;border:1px solid #ddd">']
    if counts is not None:
        widths = np.maximum(np.diff(edges), span * 1e-3)  # a bin of one value still shows
        density = np.asarray(counts, dtype=np.float64) / widths
        top = density.max() if density.max() > 0 else 1.0
        for i in range(codebook.n_levels):
            left, right = x(edges[i]), x(edges[i + 1])
            h = density[i] / top * (height - 8)
            t = int(gray[i])
            parts.append(f'<rect class="vq-bin" x="{left:.2f}" y="{height - h:.2f}" width="{max(right - left, 1):.2f}" '
                         f'height="{h:.2f}" fill="rgb({t},{t},{t})" stroke="#446" stroke-width="0.5">'
                         f'<title>code {i}: [{_number(edges[i])}, {_number(edges[i + 1])}), '
                         f'{_number(counts[i])} pixels</title></rect>')
    for edge in edges:
        parts.append(f'<line x1="{x(edge):.2f}" x2="{x(edge):.2f}" y1="{height}" y2="{height + 5}" stroke="#666"/>')
    for level in levels:
        parts.append(f'<line class="vq-level" x1="{x(level):.2f}" x2="{x(level):.2f}" y1="0" y2="{height}" '
                     f'stroke="#c33" stroke-width="1" stroke-dasharray="3,2"/>')
    parts.append(f'<text x="4" y="{height + 15}" font-size="10">{_number(low)}</text>'
                 f'<text x="{width - 4}" y="{height + 15}" font-size="10" text-anchor="end">{_number(high)}</text>')
    parts.append("</svg>")
    return "".join(parts)


_WHAT = {"gray": "gray levels", "color": "colors", "block": "blocks"}


def codebook_html(codebook, counts=None) -> str:
    """HTML of a codebook: what it is, its codes as swatches, and for gray levels the histogram of its bins.

    ``counts`` (pixels per code) default to the codebook's own, when its fit
    knew them (:attr:`vqimage.Codebook.counts`).
    """
    counts = codebook.counts if counts is None else np.asarray(counts)
    what = {"gray": "gray levels", "color": "colors",
            "block": f"{'x'.join(map(str, codebook.block or ()))} blocks"}[codebook.mode]
    facts = [f"<b>{codebook.n_levels:,} {what}</b>", f"strategy <code>{html.escape(codebook.strategy)}</code>",
             f"reconstruction <code>{html.escape(codebook.reconstruction)}</code>",
             f"fitted on <code>{codebook.dtype}</code>",
             f"codes <code>{codebook.code_dtype}</code>, {codebook.bits} bits packed"]
    if codebook.mode == "color" and codebook.space != "rgb":
        facts.insert(3, f"space <code>{codebook.space}</code>")
    if counts is not None:
        facts.append(f"{_number(np.sum(counts))} pixels")
    gray = None
    if codebook.mode == "gray":
        gray = _gray8(codebook.levels, codebook.dtype, float(codebook.edges[0]), float(codebook.edges[-1]))
    body = [f'<div class="vq-codebook" style="font-family:sans-serif;font-size:13px">',
            f"<div>Codebook: {' &middot; '.join(facts)}</div>", _swatches(codebook, counts, gray)]
    if codebook.mode == "gray":
        body.append(_histogram_svg(codebook, counts, gray))
    body.append("</div>")
    return "".join(body)


def _thumbnail(image: np.ndarray, low: float, high: float) -> str:
    """A base64 PNG of ``image`` at most :data:`MAX_SIDE` on its long side (every n-th pixel), 8-bit."""
    import imagecodecs

    step = max(1, -(-max(image.shape[:2]) // MAX_SIDE))
    small = image[::step, ::step]
    if small.dtype != np.uint8:
        small = _gray8(small, small.dtype, low, high)
    return base64.b64encode(imagecodecs.png_encode(np.ascontiguousarray(small), level=1)).decode("ascii")


def quantized_html(result) -> str:
    """HTML of a quantization: the image and its reconstruction side by side, the metrics, the codebook."""
    image, recon = result.image, result.reconstruction
    low, high = (0.0, 0.0) if image.dtype in (np.uint8, np.uint16) else (float(image.min()), float(image.max()))
    evaluation = result.metrics
    rows = [("MSE", f"{evaluation.mse:.4g}"),
            ("PSNR", "inf (lossless)" if evaluation.psnr == float("inf") else f"{evaluation.psnr:.2f} dB"),
            ("SSIM", "not computed (large image)" if evaluation.ssim is None else f"{evaluation.ssim:.4f}"),
            ("max error", _number(evaluation.max_error))]
    if evaluation.ssimulacra2 is not None:
        rows.append(("SSIMULACRA2", f"{evaluation.ssimulacra2:.1f}"))
    if evaluation.bytes is not None:
        rows.append(("size", f"{evaluation.bytes:,} bytes ({evaluation.bits_per_pixel:.3f} bits/pixel, "
                             f"{html.escape(evaluation.fmt or 'packed')})"))
    for note in result.notes:
        rows.append(("note", html.escape(note)))
    table = "".join(f"<tr><th style='text-align:left;padding-right:8px'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    shape = "x".join(map(str, image.shape))
    figures = "".join(
        f'<figure style="margin:0"><img src="data:image/png;base64,{_thumbnail(picture, low, high)}" '
        f'alt="{alt}" style="max-width:{MAX_SIDE}px;image-rendering:pixelated"><figcaption>{caption}</figcaption>'
        f"</figure>"
        for picture, alt, caption in ((image, "original", f"original, {shape} {image.dtype}"),
                                      (recon, "quantized", f"{result.n_levels} {_WHAT[result.mode]}, "
                                                           f"{html.escape(result.strategy)}"
                                                           + ("" if result.dither == "none" else
                                                              f", {html.escape(result.dither)} dither"))))
    counts = np.bincount(result.codes.ravel(), minlength=result.n_levels)
    return (f'<div class="vq-quantized" style="font-family:sans-serif;font-size:13px"><div><b>'
            f"{html.escape(repr(result))}</b></div>"
            f'<div style="display:flex;gap:8px;flex-wrap:wrap">{figures}</div>'
            f"<table>{table}</table>{codebook_html(result.codebook, counts)}</div>")
