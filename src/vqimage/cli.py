"""The ``vqimage`` command: a thin layer over the public API.

Exit codes: 0 success; 1 the work failed (unreadable input, invalid data, an
output that exists without --force, ...), with one line on stderr; 2 a usage
error (unknown option, missing argument); 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import click

from .codebook import RECONSTRUCTIONS, STRATEGIES
from .pack.container import CODERS

__all__ = ["main", "run"]

EPILOG = """\b
Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error.
INPUT is an image file (PNG, JPEG, TIFF, PGM/PPM, ...; '-' reads stdin) or a
built-in name: face, camera, astronaut, coffee, ... (see `vqimage images`).
"""

_levels_option = click.option(
    "-k",
    "--levels",
    "n_levels",
    type=click.IntRange(2, 65536),
    required=True,
    help="Number of gray levels (2..65536).",
)


def _load(source: str):
    from .io import decode_image, load_image

    if source == "-":
        return "stdin", decode_image(sys.stdin.buffer.read(), name="stdin")
    return source, load_image(source)


def _note(message: str, quiet: bool = False):
    if not quiet:
        click.echo(message, err=True)


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vqimage")
def cli():
    """Quantize images to a few gray levels, optimally, and store the codes at their true size.

    \b
    vqimage quantize camera -k 8 -o camera8.png   # optimal 8 levels, palette PNG
    vqimage compress camera -k 8 -o camera8.vq    # the same, entropy coded (.vq)
    vqimage decompress camera8.vq -o camera8.tif  # and back, exactly
    vqimage info camera8.vq                       # what a .vq file holds
    vqimage compare camera -k 8                   # every strategy: MSE / PSNR / SSIM / bytes / time
    vqimage demo                                  # scikit-learn's Vector Quantization Example, fixed
    """


_OUTPUT_HELP = (
    "Its extension picks the format: .vq (vqimage's container), .png (palette PNG of the levels, "
    "smallest bit depth; 16-bit gray PNG for 16-bit input), .webp / .jxl (lossless), .tif (the "
    "reconstruction, any dtype), .npy (the codes). '-' writes to stdout (needs --format)."
)


def _fit_options(function):
    options = [
        _levels_option,
        click.option("-s", "--strategy", type=click.Choice(STRATEGIES), default="optimal", show_default=True,
                     help="How the levels are chosen: optimal = least squared error, exactly."),
        click.option("-r", "--reconstruction", type=click.Choice(RECONSTRUCTIONS), default="centroid",
                     show_default=True,
                     help="Value of each level: centroid (mean of its pixels), midpoint (sklearn), median."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _output_options(default_help: str):
    def decorate(function):
        options = [
            click.option("-o", "--output", required=True, metavar="OUT", help=f"{default_help} {_OUTPUT_HELP}"),
            click.option("--format", "fmt", type=click.Choice(sorted(set(_formats().values()))),
                         help="Output format, when OUT's extension does not tell (e.g. '-')."),
            click.option("--coder", type=click.Choice(CODERS), default=CODERS[0], show_default=True,
                         help=".vq payload coder (FORMAT.md): context = entropy coded near the "
                              "information limit; packed = exactly ceil(log2 N) bits per pixel."),
            click.option("-f", "--force", is_flag=True, help="Overwrite OUT if it exists."),
            click.option("-q", "--quiet", is_flag=True, help="Print nothing on success."),
            click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object on stdout."),
        ]
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def _formats():
    from .pack.export import EXPORT_FORMATS

    return EXPORT_FORMATS


def _check_output(output, fmt, force, as_json):
    """Refuse a bad output before any work is done; return the format."""
    if output == "-":
        if fmt is None:
            raise click.UsageError("Writing to stdout ('-o -') needs --format.")
        if as_json:
            raise click.UsageError("--json and '-o -' both write to stdout; choose one.")
        return fmt
    fmt = fmt or _formats().get(Path(output).suffix.lower())
    if fmt is None:
        raise click.UsageError(
            f"Cannot tell the output format from {output!r}; use an extension among "
            f"{', '.join(_formats())} or --format."
        )
    if Path(output).exists() and not force:
        raise FileExistsError(f"{output} exists; use --force to overwrite it.")
    return fmt


def _write(output, fmt, codes, codebook, force, coder) -> dict:
    from .pack.export import export, export_bytes

    if output != "-":
        return export(output, codes, codebook, force=force, fmt=fmt, coder=coder)
    data, description = export_bytes(fmt, codes, codebook, coder=coder)
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return {"path": "-", "format": fmt, "bytes": len(data), "description": description}


def _quantize(input, n_levels, strategy, reconstruction, output, fmt, coder, force, quiet, as_json):
    from . import metrics
    from .codebook import fit

    fmt = _check_output(output, fmt, force, as_json)
    name, image = _load(input)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        codebook = fit(image, n_levels, strategy=strategy, reconstruction=reconstruction)
    for warning in caught:
        _note(f"warning: {warning.message}", quiet)
    codes = codebook.encode(image)
    recon = codebook.decode(codes)
    info = _write(output, fmt, codes, codebook, force, coder)
    result = {
        "input": name,
        "shape": list(image.shape),
        "dtype": str(image.dtype),
        "n_levels": codebook.n_levels,
        "strategy": strategy,
        "levels": codebook.levels.tolist(),
        "mse": metrics.mse(image, recon),
        "psnr": metrics.psnr(image, recon) if image.dtype.kind in "ui" else None,
        "output": info["path"],
        "format": info["format"],
        "bytes": info["bytes"],
        "bits_per_pixel": 8 * info["bytes"] / image.size,
    }
    if as_json:
        click.echo(json.dumps(result))
        return
    psnr = f", PSNR {result['psnr']:.2f} dB (peak {metrics.peak(image):g})" if result["psnr"] is not None else ""
    _note(
        f"{name}: {'x'.join(map(str, image.shape))} {image.dtype} -> {codebook.n_levels} levels "
        f"({strategy}), MSE {result['mse']:.2f}{psnr}; wrote {info['path']} "
        f"({info['bytes']:,} bytes, {result['bits_per_pixel']:.3f} bits/pixel, {info['description']})",
        quiet,
    )


@cli.command(epilog=EPILOG)
@click.argument("input")
@_fit_options
@_output_options("Output file.")
def quantize(input, n_levels, strategy, reconstruction, output, fmt, coder, force, quiet, as_json):
    """Quantize INPUT to N gray levels and write OUT (format by extension).

    Color images are converted to gray (BT.601 luma).
    """
    _quantize(input, n_levels, strategy, reconstruction, output, fmt, coder, force, quiet, as_json)


@cli.command(epilog=EPILOG)
@click.argument("input")
@_fit_options
@_output_options("Output file, normally OUT.vq.")
def compress(input, n_levels, strategy, reconstruction, output, fmt, coder, force, quiet, as_json):
    """Quantize INPUT to N gray levels and store it as a .vq file (FORMAT.md).

    The .vq file holds the codes, entropy coded near their information limit
    (--coder context, the default) or at exactly ceil(log2 N) bits each
    (--coder packed), and the codebook, under a CRC-32; `vqimage decompress`
    restores the quantized image exactly.
    """
    _quantize(input, n_levels, strategy, reconstruction, output, fmt, coder, force, quiet, as_json)


def _read_vq_bytes(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{source}: no such file.")
    return path.read_bytes()


@cli.command(epilog=EPILOG)
@click.argument("input", metavar="IN.vq")
@_output_options("Output file.")
def decompress(input, output, fmt, coder, force, quiet, as_json):
    """Restore the quantized image of a .vq file and write OUT (format by extension).

    A damaged or foreign file gives one line on stderr and exit code 1.
    """
    from .pipeline import decompress as run_decompress

    fmt = _check_output(output, fmt, force, as_json)
    codes, codebook = run_decompress(_read_vq_bytes(input))
    info = _write(output, fmt, codes, codebook, force, coder)
    result = {"input": input, "shape": list(codes.shape), "n_levels": codebook.n_levels,
              "output": info["path"], "format": info["format"], "bytes": info["bytes"]}
    if as_json:
        click.echo(json.dumps(result))
        return
    _note(
        f"{input}: {'x'.join(map(str, codes.shape))}, {codebook.n_levels} levels -> wrote {info['path']} "
        f"({info['bytes']:,} bytes, {info['description']})",
        quiet,
    )


@cli.command(epilog=EPILOG)
@click.argument("input", metavar="IN.vq")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: shape, dtype, n_levels, strategy, reconstruction, coder, bytes, "
                   "payload_bytes, bits_per_pixel, original_bytes, ratio.")
def info(input, as_json):
    """Describe a .vq file (its checksum is verified; the codes are not decoded)."""
    from .pipeline import vq_info

    details = vq_info(_read_vq_bytes(input))
    if as_json:
        click.echo(json.dumps(details))
        return
    click.echo(
        f"{input}: {'x'.join(map(str, details['shape']))} {details['dtype']}, {details['n_levels']} levels "
        f"({details['strategy']}, {details['reconstruction']}), coder {details['coder']}\n"
        f"  {details['bytes']:,} bytes ({details['payload_bytes']:,} payload), "
        f"{details['bits_per_pixel']:.4f} bits/pixel, "
        f"{details['ratio']:.2f}x smaller than the {details['original_bytes']:,}-byte original"
    )


@cli.command(epilog=EPILOG)
@click.argument("input")
@_levels_option
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list of objects with keys strategy, n_levels, mse, psnr, ssim, "
                   "seconds, packed_bytes.")
@click.option("--no-reference", is_flag=True, help="Leave out scikit-learn's KBinsDiscretizer row.")
@click.option("--data-range", type=click.FloatRange(min=0, min_open=True), metavar="PEAK",
              help="Peak value for PSNR/SSIM. Default: the integer dtype's range (255 for uint8); "
                   "float images must give it (e.g. 1.0).")
def compare(input, n_levels, as_json, no_reference, data_range):
    """Compare every strategy on INPUT at N levels.

    One row per strategy (uniform, quantile, kmeans, optimal) and scikit-learn's
    KBinsDiscretizer kmeans (the Vector Quantization Example's choice) as the
    reference: MSE, PSNR, SSIM, the bytes of the codes as float64 (what
    KBinsDiscretizer returns), as uint8/uint16, and packed at ceil(log2 N) bits,
    and the fit+encode time (best of 3).
    """
    from .compare import compare as run_compare

    name, image = _load(input)
    rows = run_compare(image, n_levels, reference=not no_reference, data_range=data_range)
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows], indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{name}: {'x'.join(map(str, image.shape))} {image.dtype}, {n_levels} levels")
    for header in ("strategy", "levels", "MSE", "PSNR dB", "SSIM", "float64 B", "codes B", "packed B", "seconds"):
        table.add_column(header, justify="left" if header == "strategy" else "right")
    for row in rows:
        table.add_row(
            row.strategy, str(row.n_levels), f"{row.mse:.2f}", f"{row.psnr:.2f}", f"{row.ssim:.4f}",
            f"{row.float64_bytes:,}", f"{row.code_bytes:,} ({row.code_dtype})", f"{row.packed_bytes:,}",
            f"{row.seconds:.5f}",
        )
    Console(width=140).print(table)


@cli.command(epilog=EPILOG)
@click.argument("input", required=False)
@click.option("-o", "--output", "outdir", default="demo-output", show_default=True, metavar="DIR",
              help="Folder for the figures.")
@click.option("-k", "--levels", "n_levels", type=click.IntRange(2, 256), default=8, show_default=True,
              help="Number of gray levels.")
@click.option("-f", "--force", is_flag=True, help="Overwrite figures already in DIR.")
def demo(input, outdir, n_levels, force):
    """Scikit-learn's Vector Quantization Example end to end, then the fix.

    Prints the seed's facts (shape, dtype, bytes, KBinsDiscretizer's bin centers,
    the float64 memory surprise), then vqimage's optimal levels, their error
    beside every strategy, the codes as uint8 and packed at 3 bits, and the true
    compression ratio. Writes the seed's figures and a comparison to DIR.
    INPUT defaults to face (camera when face cannot be loaded offline).
    """
    from .report.seed import run_demo

    run_demo(input, outdir, n_levels=n_levels, force=force, echo=click.echo)


@cli.command()
def images():
    """List the built-in image names."""
    from .io import BUILTINS

    click.echo("\n".join(BUILTINS))


def main(argv=None) -> int:
    """Run the command line; return the exit code instead of exiting."""
    try:
        cli.main(args=argv, prog_name="vqimage", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("vqimage: aborted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("vqimage: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # one line, never a traceback (VQIMAGE_DEBUG=1 shows it)
        if os.environ.get("VQIMAGE_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__  # always one line
        click.echo(f"vqimage: error: {message}", err=True)
        return 1
    return 0


def run():  # console-script entry point
    sys.exit(main())
