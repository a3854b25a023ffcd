"""The figures of scikit-learn's Vector Quantization Example, and the fix.

Every function returns a matplotlib ``Figure`` (Agg-safe, no pyplot state is
left behind); :func:`save` writes one atomically.
"""

from __future__ import annotations

import io

import numpy as np

from .._optional import require
from ..io import write_atomic

__all__ = ["rendering_and_histogram", "histogram_with_levels", "comparison", "save"]


def _bins(values: np.ndarray):
    """One bar per integer value (no empty stripes from 256 bins over 0..250), else 256."""
    if values.dtype.kind in "ui" and int(values.max()) - int(values.min()) <= 4096:
        return np.arange(int(values.min()), int(values.max()) + 2) - 0.5
    return 256


def _figure(**kwargs):
    require("matplotlib", "Drawing figures")
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def rendering_and_histogram(image, *, title: str, hist_title: str = "Distribution of the pixel values"):
    """The seed's two-panel figure: the image in gray, the histogram of its values."""
    fig = _figure(figsize=(12, 4), layout="constrained")
    ax = fig.subplots(ncols=2)
    ax[0].imshow(image, cmap="gray")
    ax[0].axis("off")
    ax[0].set_title("Rendering of the image")
    values = np.asarray(image).ravel()
    ax[1].hist(values, bins=_bins(values))
    ax[1].set_xlabel("Pixel value")
    ax[1].set_ylabel("Count of pixels")
    ax[1].set_title(hist_title)
    fig.suptitle(title)
    return fig


def histogram_with_levels(image, levels, *, title: str, edges=None):
    """Histogram of the original values with the levels (and edges) marked."""
    fig = _figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    values = np.asarray(image).ravel()
    ax.hist(values, bins=_bins(values), color="tab:blue")
    top = ax.get_ybound()[1]
    if edges is not None:
        for edge in np.asarray(edges)[1:-1]:
            ax.axvline(edge, color="tab:gray", linestyle=":", linewidth=1)
    for level in levels:
        ax.axvline(level, color="tab:orange")
        ax.text(level, top * 1.01, f"{level:.1f}", color="tab:orange", ha="center", fontsize=8)
    ax.set_xlabel("Pixel value")
    ax.set_ylabel("Count of pixels")
    ax.set_title(title, pad=18)
    return fig


def comparison(image, results, *, title: str):
    """One figure for all strategies: renderings (top) and histograms with levels (bottom).

    Parameters
    ----------
    image : ndarray
        The original.
    results : list of (name, reconstruction, levels, subtitle)
    """
    n = len(results) + 1
    fig = _figure(figsize=(3.2 * n, 6.4), layout="constrained")
    axes = fig.subplots(nrows=2, ncols=n)
    panels = [("original", image, None, f"{np.unique(image).size} gray values")] + list(results)
    values = np.asarray(image).ravel()
    for column, (name, recon, levels, subtitle) in enumerate(panels):
        top, bottom = axes[0, column], axes[1, column]
        top.imshow(recon, cmap="gray", vmin=values.min(), vmax=values.max())
        top.axis("off")
        top.set_title(f"{name}\n{subtitle}", fontsize=10)
        bottom.hist(values, bins=_bins(values), color="tab:blue")
        for level in levels if levels is not None else ():
            bottom.axvline(level, color="tab:orange", linewidth=1)
        bottom.set_xlabel("Pixel value")
        bottom.set_yticks([])
    axes[1, 0].set_ylabel("Count of pixels")
    fig.suptitle(title)
    return fig


def save(fig, path, *, force: bool = False, dpi: int = 100) -> str:
    """Write a figure as PNG atomically (never overwrites without ``force``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    write_atomic(path, buffer.getvalue(), force=force)
    return str(path)
