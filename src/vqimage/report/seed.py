"""``vqimage demo``: the Vector Quantization Example end to end, then the fix.

The seed (scikit-learn's gallery page) quantizes the raccoon face to 8 gray
levels with ``KBinsDiscretizer`` and finds that the "compressed" image takes
8x more memory. This walks through the same steps, prints the same facts, and
shows what it takes to do the job properly: optimal levels, codes in uint8,
and exact 3-bit packing.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .. import metrics
from .._optional import require
from .._validation import FitWarning
from ..compare import compare
from ..io import FaceUnavailable, load_image
from ..mapping import decode
from ..pack import pack
from ..pipeline import quantize
from . import figures

__all__ = ["run_demo"]


def _load(source, echo):
    if source is not None:
        return str(source), load_image(source)
    try:
        return "face", load_image("face")
    except FaceUnavailable as exc:
        echo(f"note: {exc} Using 'camera' instead.")
        return "camera", load_image("camera")


def _sklearn(image, strategy, n_levels):
    require("sklearn", "The demo's scikit-learn part")
    from sklearn.preprocessing import KBinsDiscretizer

    encoder = KBinsDiscretizer(
        n_bins=n_levels, encode="ordinal", strategy=strategy, random_state=0, subsample=200_000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        codes = encoder.fit_transform(image.reshape(-1, 1)).reshape(image.shape)
    edges = encoder.bin_edges_[0]
    return codes, edges[:-1] + (edges[1:] - edges[:-1]) / 2


def run_demo(source=None, outdir="demo-output", *, n_levels: int = 8, force: bool = False, echo=print) -> dict:
    """Run the seed and the fix; print the story with ``echo``; write figures to ``outdir``.

    Returns a dict of the key numbers (used by tests): name, shape, nbytes,
    per-strategy MSE, the optimal codebook, packed bytes and figure paths.
    """
    require("sklearn", "The demo")
    require("matplotlib", "The demo")
    name, image = _load(source, echo)
    if image.dtype.kind not in "ui":
        raise ValueError(f"The demo needs an integer image; {name} is {image.dtype}.")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, filename):
        written.append(figures.save(fig, outdir / filename, force=force))

    echo(f"== The Vector Quantization Example, on {name!r} ==")
    echo("")
    echo("Original image")
    echo(f"  The dimension of the image is {image.shape}")
    echo(f"  The data used to encode the image is of type {image.dtype}")
    echo(f"  The number of bytes taken in RAM is {image.nbytes}")
    save(figures.rendering_and_histogram(image, title=f"Original image ({name})"), "01_original.png")

    echo("")
    echo(f"Encoding strategy: KBinsDiscretizer, n_bins={n_levels}, as in the seed")
    seed = {}
    for number, strategy in ((2, "uniform"), (4, "kmeans")):
        codes, centers = _sklearn(image, strategy, n_levels)
        seed[strategy] = codes, centers
        echo(f"  {strategy:8s} bin centers: {np.array2string(centers, precision=3, max_line_width=200)}")
        save(
            figures.rendering_and_histogram(
                codes,
                title=f"{name} compressed using {int(n_levels - 1).bit_length()} bits and a {strategy} strategy",
                hist_title=("Sub-sampled distribution" if strategy == "uniform" else "Distribution")
                + " of the pixel values",  # the seed's titles
            ),
            f"0{number}_{strategy}.png",
        )
        save(
            figures.histogram_with_levels(image, centers, title=f"KBinsDiscretizer {strategy}: bin centers"),
            f"0{number + 1}_{strategy}_centers.png",
        )

    kmeans_codes, kmeans_centers = seed["kmeans"]
    echo("")
    echo("Memory footprint (the seed's surprise)")
    echo(f"  The number of bytes taken in RAM is {kmeans_codes.nbytes}")
    echo(f"  Compression ratio: {kmeans_codes.nbytes / image.nbytes}")
    echo(f"  Type of the compressed image: {kmeans_codes.dtype}")
    echo("  -> float64 codes: 8 bytes for a number that needs 3 bits.")

    echo("")
    echo(f"The fix: vqimage, {n_levels} levels")
    rows = compare(image, n_levels)
    echo(f"  {'strategy':15s} {'MSE':>8s} {'PSNR dB':>8s} {'SSIM':>6s} {'fit+encode s':>12s}")
    for row in rows:
        echo(f"  {row.strategy:15s} {row.mse:8.2f} {row.psnr:8.2f} {row.ssim:6.3f} {row.seconds:12.5f}")
    echo("  (vqimage rows decode to uint8, what a saved file holds; sklearn-kmeans is its float64 inverse_transform)")

    result = quantize(image, n_levels, mode="gray")
    codebook, codes, recon = result.codebook, result.codes, result.reconstruction
    exact = decode(codes, codebook, dtype=np.float64)
    first = [int(np.ceil(t)) if image.dtype.kind in "ui" else t for t in codebook.thresholds]
    echo("")
    echo(f"  optimal levels (centroids): {np.array2string(codebook.levels, precision=2, max_line_width=200)}")
    echo(f"  levels start at gray values: {first}")
    echo(
        f"  MSE {metrics.mse(image, exact):.2f} with float levels, "
        f"{metrics.mse(image, recon):.2f} with levels rounded to {image.dtype}"
    )
    packed = pack(codes, codebook.n_levels)
    echo("")
    echo("Memory footprint, done properly")
    echo(f"  codes as {codes.dtype}: {codes.nbytes} bytes ({codes.nbytes / image.nbytes:.3f} of the original)")
    echo(
        f"  codes packed at {codebook.bits} bits per pixel (vqimage.pack): {len(packed)} bytes "
        f"({len(packed) / image.nbytes:.3f} of the original)"
    )
    echo(f"  true compression ratio: {image.nbytes / len(packed):.2f}:1 (plus {codebook.n_levels} levels)")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        results = []
        for row in rows:
            subtitle = f"MSE {row.mse:.1f}, PSNR {row.psnr:.2f} dB"
            if row.strategy == "sklearn-kmeans":
                panel = kmeans_centers[kmeans_codes.astype(np.intp)], kmeans_centers
                results.append(("KBinsDiscretizer kmeans (seed)", *panel, subtitle))
                continue
            other = quantize(image, n_levels, mode="gray", strategy=row.strategy)
            results.append((f"vqimage {row.strategy}", other.reconstruction, other.codebook.levels, subtitle))
    save(
        figures.rendering_and_histogram(recon, title=f"{name} with the optimal {n_levels} gray levels (vqimage)"),
        "06_optimal.png",
    )
    save(
        figures.histogram_with_levels(
            image, codebook.levels, edges=codebook.edges, title="vqimage optimal: levels (orange) and edges (dotted)"
        ),
        "07_optimal_levels.png",
    )
    save(figures.comparison(image, results, title=f"{name}: {n_levels} gray levels by strategy"), "08_comparison.png")
    echo("")
    echo(f"Figures written to {outdir}/:")
    for path in written:
        echo(f"  {path}")
    from .html import write_report

    report = write_report(image, name, outdir, n_levels=n_levels, force=force)
    echo("")
    echo(f"Report (open it in a browser; it works offline): {report}")
    return {
        "name": name,
        "shape": image.shape,
        "nbytes": image.nbytes,
        "rows": rows,
        "codebook": codebook,
        "packed_bytes": len(packed),
        "figures": written,
        "report": str(report),
    }
