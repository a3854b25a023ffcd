"""The options the ``vqimage`` commands share: fitting, targets, output and batch (see :mod:`vqimage.cli`)."""

from __future__ import annotations

import functools

import click

from ._spaces import SPACES
from .dither import DITHER_METHODS
from .io import DEFAULT_MAX_PIXELS
from .pack.coders import CODERS, DEFAULT_CODER
from .pack.formats import FORMATS, formats_help
from .palettes import PALETTE_FORMATS, PRESETS
from .solvers import RECONSTRUCTIONS, STRATEGIES

__all__ = ["FIT_OPTIONS", "BATCH_OPTIONS", "MAX_PIXELS_OPTION", "output_options", "with_options"]

MAX_PIXELS_OPTION = click.option(
    "--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS, show_default=True, metavar="N",
    help="Refuse, before decoding, an input whose header declares more pixels than N (a .vq file: or that would "
         "decode to more than 4N bytes), so a small hostile file cannot ask for gigabytes.")


def with_options(*options):
    """A decorator applying click ``options`` in the order given (as --help lists them)."""
    return lambda function: functools.reduce(lambda f, option: option(f), reversed(options), function)


_OUTPUT_HELP = f"Its extension picks the format: {formats_help()} '-' writes to stdout (needs --format)."
FIT_OPTIONS = (
    click.option("-k", "--levels", "n_levels", type=click.IntRange(2, 65536),
                 help="Number of levels: gray levels, colors or blocks (2..65536). Not with --palette; with a "
                      "target, the most levels tried (default 256)."),
    click.option("-m", "--mode", type=click.Choice(("auto", "gray", "color", "block")), default="auto",
                 show_default=True, help="What a code stands for: gray = one gray level (color input is converted, "
                 "BT.601); color = one RGB(A) color (8-bit input); block = a --block of gray pixels; auto = color "
                 "for color images, gray otherwise (also for RGB files of equal channels)."),
    click.option("-s", "--strategy", type=click.Choice(STRATEGIES + ("wu", "auto")), default=None,
                 help="How the codebook is chosen. Gray: optimal (default; least squared error, exactly), kmeans, "
                      "quantile, uniform. Color/block: kmeans (default; split, merge, then exact Lloyd), wu (greedy "
                      "splits only, fastest). auto (with a target): try each, keep the one needing the fewest levels."),
    click.option("--space", type=click.Choice(SPACES), help="Colors: where the palette is fitted, pixels mapped and "
                 "dithered: oklab (RGB default; perceptual), composite (RGBA default: error on black and white), rgb "
                 "(what PSNR measures; the default with a PSNR, SSIM, error or size target)."),
    click.option("-r", "--reconstruction", type=click.Choice(RECONSTRUCTIONS), default=None, help="Gray only: "
                 "value of each level: centroid (default; mean of its pixels), midpoint (sklearn), median."),
    click.option("--block", "block", default=None, metavar="ROWSxCOLS",
                 help="Block shape for --mode block (2 to 16 pixels; default 2x2)."),
    click.option("-p", "--palette", metavar="PALETTE", help=f"Map to these colors instead of fitting: a preset "
                 f"({', '.join(PRESETS)}), hex colors ('#000,#fff,#f00'), or a file ({', '.join(PALETTE_FORMATS)}, "
                 "or a palette image). Codes keep its order."),
    click.option("--importance", metavar="auto|FILE", help="Weight the fit: auto (flat areas, where banding "
                 "shows, count more than busy texture) or a gray image of the input's size whose values are the "
                 "weights (e.g. bright on a face)."),
    click.option("--lock", metavar="COLORS",
                 help="Colors the fitted palette must contain (hex colors, preset or file, as --palette)."),
    click.option("-d", "--dither", type=click.Choice(DITHER_METHODS), help="Dither: error diffusion (serpentine), "
                 "ordered (Bayer 8x8), blue-noise (ordered, by a 64x64 void-and-cluster map: no crawling pattern), "
                 "adaptive (spares edges and texture; default for color), none (gray's default; the default with a "
                 "PSNR, SSIM or error target)."),
    click.option("--dither-strength", type=click.FloatRange(0, 1), default=1.0, show_default=True,
                 help="Fraction of the error diffused (ordered: threshold amplitude)."),
    click.option("--selective", is_flag=True, help="Dither only smooth gradients, keeping flat areas and edges "
                                                   "clean (default method: floyd-steinberg)."),
    click.option("--target-psnr", type=click.FloatRange(min=0), metavar="DB",
                 help="Use the fewest levels whose output reaches this PSNR (dB); -k is then the most tried."),
    click.option("--target-ssim", type=click.FloatRange(-1, 1), metavar="S",
                 help="Use the fewest levels whose output reaches this SSIM."),
    click.option("--target-ssimulacra2", type=click.FloatRange(max=100), metavar="S", help="Use the fewest levels "
                 "whose output reaches this SSIMULACRA2 score (90 visually lossless, 70 high quality; 8-bit images; "
                 "needs vqimage[perceptual]). Candidates are fitted and dithered as the output will be."),
    click.option("--max-error", type=click.FloatRange(min=0), metavar="E", help="Guarantee every pixel within E "
                 "of the original, with the fewest levels that can (exact for gray images with the optimal strategy)."),
    click.option("--max-bytes", type=click.IntRange(min=1), metavar="N", help="The output may take at most N "
                 "bytes: alone, the most levels that fit; with a quality target, a limit it must also meet."),
    click.option("--skip-if-larger", is_flag=True,
                 help="Write nothing (and keep INPUT) when the output would not be smaller than INPUT."),
    click.option("--strip", is_flag=True, help="Leave INPUT's color profile out of the output. By default a PNG, "
                 "WebP or TIFF output keeps it (ICC profile; for PNG also sRGB, gAMA, cHRM), so colors show as "
                 "in INPUT."),
    click.option("--ssim", is_flag=True, default=None, help="Always report SSIM (by default only when cheap: "
                                                            "images up to 4 million values)."),
    MAX_PIXELS_OPTION,
    click.option("--ssimulacra2", is_flag=True, help="Also report the perceptual score SSIMULACRA2 (8-bit images; "
                 "needs vqimage[perceptual]; about 0.3 s per 512x512 image)."),
)
BATCH_OPTIONS = (
    click.option("--ext", metavar="EXT", help="Several inputs: the outputs' extension (default .png for quantize, "
                                              ".vq for compress), written as OUTDIR/NAME.EXT."),
    click.option("--shared-codebook", is_flag=True, help="Fit one codebook on all inputs (their summed histograms)."),
    click.option("-j", "--workers", type=click.IntRange(1, 256), help="Several inputs: files processed at once "
                                                                      "(default: the number of cores)."),
    click.option("-v", "--verbose", is_flag=True, help="Several inputs: a line per file as it is done. Also "
                 "shows the warnings of the libraries vqimage uses (hidden otherwise)."),
    click.option("--chunks", metavar="ROWS[xCOLS]", help="Process a zarr array or a big TIFF chunk by chunk with "
                 "Dask (never all in memory) into OUT.zarr; default: the input's own chunks or tiles."),
    click.option("--scheduler", metavar="WHERE", help="Dask scheduler for chunked work and several inputs: threads, "
                 "processes, synchronous, or a dask.distributed cluster's address (tcp://HOST:PORT)."),
)


def output_options(default_help: str):
    return with_options(
        click.option("-o", "--output", required=True, metavar="OUT", help=f"{default_help} {_OUTPUT_HELP}"),
        click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
                     help="Output format, when OUT's extension does not tell (e.g. '-')."),
        click.option("--coder", type=click.Choice(list(CODERS)), default=DEFAULT_CODER, show_default=True,
                     help=".vq payload coder (FORMAT.md): context = entropy coded near the "
                          "information limit; packed = exactly ceil(log2 N) bits per pixel."),
        click.option("-f", "--force", is_flag=True, help="Overwrite OUT if it exists."),
        click.option("-q", "--quiet", is_flag=True, help="Print nothing on success."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object on stdout."),
    )
