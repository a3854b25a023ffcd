"""The ``vqimage`` command: options -> a library call -> what to print.

Every command parses its options, calls :func:`vqimage.quantize`,
:func:`vqimage.batch.quantize_files` or another public function, and prints.
Exit codes: 0 success; 1 the work failed (unreadable input, invalid data, an
output that exists without --force, ...), with one line on stderr; 2 a usage
error (unknown option, missing argument, options that do not go together);
3 a target that cannot be met; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
from pathlib import Path

import click

from ._cli_options import BATCH_OPTIONS, FIT_OPTIONS, MAX_PIXELS_OPTION, output_options, with_options
from ._validation import ConflictError, FitWarning
from ._version import __version__
from .io import DEFAULT_MAX_PIXELS
from .pack.formats import format_of
from .targets import TargetError

__all__ = ["main", "run"]

EPILOG = """\b
Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error,
3 a target (--target-psnr, --target-ssim, --target-ssimulacra2, --max-error,
--max-bytes) cannot be met.
INPUT is an image file (PNG, JPEG, TIFF, PGM/PPM, ...; '-' reads stdin) or a
built-in name: face, camera, astronaut, coffee, ... (see `vqimage images`).
"""
# Library parameters whose option is not --NAME-WITH-DASHES.
_OPTIONS = {"n_levels": "-k/--levels", "codebook": "--shared-codebook"}


def _option(name: str) -> str:
    return _OPTIONS.get(name, "--" + name.replace("_", "-"))


def _options_words(message: str) -> str:
    """A library message with its quoted parameter names (``'n_levels'``) replaced by the options that set them."""
    return re.sub(r"'([a-z_]+)'", lambda m: _option(m.group(1)), message)


def _parse_dims(value: str | None, option: str, counts=(2,)) -> tuple[int, ...] | None:
    """'4x4' -> (4, 4) (or '128' -> (128,) where one count is allowed), else a usage error naming the option."""
    if value is None:
        return None
    dims = tuple(map(int, value.lower().split("x"))) if re.fullmatch(r"\d+(x\d+)*", value.lower()) else ()
    if len(dims) not in counts:
        form = "ROWSxCOLS such as 2x2 or 4x4" if counts == (2,) else "ROWS or ROWSxCOLS such as 4096 or 4096x4096"
        raise click.UsageError(f"{option}: expected {form}, got {value!r}")
    return dims


def _note(message: str, quiet: bool = False):
    return None if quiet else click.echo(message, err=True)


def _emit(output: str, data: bytes, force: bool):
    """Write ``data`` to stdout ('-') or, atomically, to the file ``output``."""
    from .io import write_atomic

    if output != "-":
        return write_atomic(output, data, force=force)
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _load(source: str, gray: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS):
    """(name, pixels, ImageMeta) of a file, a built-in or stdin ('-')."""
    from .io import read_image

    if source == "-":
        return "stdin", *read_image(sys.stdin.buffer.read(), gray=gray, name="stdin", max_pixels=max_pixels)
    return source, *read_image(source, gray=gray, max_pixels=max_pixels)


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vqimage")
def cli():
    """Quantize images to a few gray levels (optimally), colors or pixel blocks; store the codes at their true size.

    \b
    vqimage quantize face -k 8 -o face8.png       # the seed's face at its optimal 8 levels
    vqimage compress camera -k 8 -o camera8.vq    # entropy coded (.vq); `decompress` restores it
    vqimage compare camera -k 8                   # every strategy: MSE / PSNR / SSIM / bytes / time
    vqimage quantize astronaut -k 64 -o a64.png   # 64 colors, PNG-8 (color images stay color)
    vqimage report camera -o report               # HTML: strategies, error maps, rate-distortion
    vqimage demo                                  # scikit-learn's Vector Quantization Example, fixed
    """


def _check_output(output, fmt, force, as_json):
    """Refuse a bad output before any work is done; return the format."""
    if output == "-" and (fmt is None or as_json):
        raise click.UsageError("--json and '-o -' both write to stdout; choose one." if fmt else
                               "Writing to stdout ('-o -') needs --format.")
    try:
        return fmt if output == "-" else format_of(output, fmt, force=force)
    except ValueError as exc:
        raise click.UsageError(f"{exc} Or use --format.") from None


def _quantize_one(source, output, fmt, coder, force, quiet, as_json, skip_if_larger, strip, options):
    from .batch import describe
    from .pipeline import quantize

    fmt = _check_output(output, fmt, force, as_json)
    if skip_if_larger and (source == "-" or not Path(source).is_file()):
        raise click.UsageError("--skip-if-larger keeps the input file, so INPUT must be a file.")
    size = Path(source).stat().st_size if skip_if_larger else None
    name, image, meta = _load(source, max_pixels=options.get("max_pixels", DEFAULT_MAX_PIXELS))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FitWarning)
        result = quantize(image, fmt=fmt, coder=coder, progress=not quiet and not as_json, meta=meta, **options)
    for warning in caught:
        _note(f"warning: {warning.message}", quiet)
    # Everything that can fail (the metrics can run out of memory) runs before the output is written.
    summary = None if quiet and not as_json else result.summary()
    if output == "-":
        _emit(output, result.to_bytes(fmt, strip=strip), force)
    info = result.write(output, fmt=fmt, force=force, smaller_than=size, strip=strip) if output != "-" else {
        "path": "-", "skipped": False, "description": ""}
    if summary is None:  # nothing to report: nothing was measured
        return
    record = summary | {"input": name, "output": info["path"], "format": fmt, "skipped": info["skipped"]}
    if as_json:
        return click.echo(json.dumps(record))
    _note(describe(record | {"description": info["description"], "input_bytes": size}), quiet)


def _quantize_many(inputs, outdir, fmt, coder, force, quiet, as_json, ext, shared, workers, scheduler, verbose,
                   skip_if_larger, strip, options):
    from .batch import describe, quantize_files

    if outdir == "-":
        raise click.UsageError("Several inputs write into a directory: -o OUTDIR, not '-'.")
    ext = ext or (f".{fmt}" if fmt else ".png")

    def done(record):
        if verbose and not quiet:
            _note(f"failed: {_reason(record)}" if record["error"] else describe(record))
        if as_json:
            click.echo(json.dumps({k: v for k, v in record.items() if k not in ("levels", "description")}))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        records = quantize_files(inputs, outdir, ext=ext, fmt=fmt, coder=coder, force=force, shared=shared,
                                 skip_if_larger=skip_if_larger, strip=strip, workers=workers, scheduler=scheduler,
                                 progress=not quiet, on_done=done, on_note=lambda m: _note(f"note: {m}", quiet),
                                 **options)
    if not quiet:
        _summary(records)
    if any(r["error"] for r in records):
        raise click.exceptions.Exit(1)


def _reason(record) -> str:
    """A failed input's reason, naming the input once."""
    error, name = record["error"], record["input"]
    return error if error.startswith(name) else f"{name}: {error}"


def _summary(records):
    """The batch summary on stderr: files, bytes in and out, mean PSNR, failures with their reasons."""
    from rich.console import Console
    from rich.table import Column, Table

    from .batch import totals

    counts = totals(records)
    table = Table(*(Column(header, justify="right") for header in counts), title="vqimage batch")
    table.add_row(*(value if isinstance(value, str) else f"{value:,}" for value in counts.values()))
    (console := Console(stderr=True, width=120)).print(table)
    plain = {"markup": False, "highlight": False, "soft_wrap": True}  # one line each, however long
    notes: dict = {}
    for r in records:
        for note in r.get("notes", ()):
            notes.setdefault(note, []).append(r["input"])
    for note, inputs in notes.items():
        more = f" and {len(inputs) - 3} more" if len(inputs) > 3 else ""
        console.print(f"note: {note}: {', '.join(inputs[:3])}{more}", **plain)
    for r in records:
        if r["error"]:
            console.print(f"failed: {_reason(r)}", **plain)


def _quantize_chunked(source, output, options, chunks, scheduler, force, quiet, as_json):
    """A zarr array, a big TIFF or a built-in -> codes in OUT.zarr, chunk by chunk (vqimage.distributed)."""
    from . import distributed

    if not output.endswith(".zarr"):
        raise click.UsageError("Chunked processing writes the codes to a zarr array: -o OUT.zarr.")
    codebook = distributed.quantize_to_zarr(source, output, chunks=_parse_dims(chunks, "--chunks", counts=(1, 2)),
                                            scheduler=scheduler, overwrite=force, progress=not quiet and not as_json
                                            and sys.stderr.isatty(), **options)
    codes, k = distributed.read_codes(output)[0], codebook.n_levels
    if as_json:
        return click.echo(json.dumps({"input": source, "shape": list(codes.shape), "dtype": str(codebook.dtype),
                                      "chunks": list(codes.chunksize), "n_levels": k, "strategy": codebook.strategy,
                                      "levels": codebook.levels.tolist(), "output": output, "format": "zarr"}))
    _note(f"{source}: {'x'.join(map(str, codes.shape))} {codebook.dtype} in {'x'.join(map(str, codes.chunksize))} "
          f"chunks -> {k} levels ({codebook.strategy}); wrote the codes to {output} (zarr, codebook in its attributes)",
          quiet)


def _quantize(inputs, output, fmt, coder, force, quiet, as_json, ext=None, shared_codebook=False, workers=None,
              verbose=False, chunks=None, scheduler=None, skip_if_larger=False, strip=False, **options):
    from .batch import is_batch

    options["block"] = _parse_dims(options["block"], "--block")
    if output.endswith(".zarr") or inputs[0].endswith(".zarr") or chunks or (scheduler and len(inputs) == 1
                                                                              and not is_batch(inputs)):
        if len(inputs) != 1:
            raise click.UsageError("Chunked processing (zarr, --chunks) takes one input.")
        return _quantize_chunked(inputs[0], output, options, chunks, scheduler, force, quiet, as_json)
    if not is_batch(inputs) and not shared_codebook:
        return _quantize_one(inputs[0], output, fmt, coder, force, quiet, as_json, skip_if_larger, strip, options)
    _quantize_many(inputs, output, fmt, coder, force, quiet, as_json, ext, shared_codebook, workers, scheduler,
                   verbose, skip_if_larger, strip, options)


@cli.command(epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@with_options(*FIT_OPTIONS)
@output_options("Output file; with several inputs, a directory (created if missing).")
@with_options(*BATCH_OPTIONS)
def quantize(inputs, **options):
    """Quantize INPUT to N gray levels, colors or blocks and write OUT (format by extension).

    \b
    vqimage quantize camera -k 8 -o camera8.png            # optimal gray levels
    vqimage quantize astronaut -k 16 -d floyd-steinberg -o a.gif   # 16 colors, dithered
    vqimage quantize coffee -p epaper7 -d floyd-steinberg -o frame.raw   # 7-color e-paper, 4 bits/pixel
    vqimage quantize camera --target-psnr 35 -o c35.png     # the fewest levels reaching 35 dB
    vqimage quantize frames/ -k 64 --shared-codebook -o gif/ --ext .gif   # one palette for all

    Color images stay color unless --mode gray (BT.601 luma). Several inputs (files,
    directories, globs) go to -o OUTDIR as NAME.EXT, in parallel; every good file is
    finished, a summary lists the failures, and the exit code is 1 if any failed.
    """
    _quantize(inputs, **options)


@cli.command(epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@with_options(*FIT_OPTIONS)
@output_options("Output file, normally OUT.vq; with several inputs, a directory (created if missing).")
@with_options(*BATCH_OPTIONS)
def compress(inputs, **options):
    """Quantize INPUT to N gray levels, colors or blocks and store it as a .vq file (FORMAT.md).

    The .vq file holds the codes, entropy coded near their information limit
    (--coder context, the default) or at exactly ceil(log2 N) bits each
    (--coder packed), and the codebook, under a CRC-32; `vqimage decompress`
    restores the quantized image exactly. Options as for `vqimage quantize`.
    """
    if options.get("ext") is None and options.get("fmt") is None:
        options["ext"] = ".vq"
    _quantize(inputs, **options)


def _read_vq_bytes(source: str) -> bytes:
    if source != "-" and not Path(source).is_file():
        raise FileNotFoundError(f"{source}: no such file.")
    return sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()


@cli.command(epilog=EPILOG)
@click.argument("input", metavar="IN.vq")
@output_options("Output file.")
@MAX_PIXELS_OPTION
def decompress(input, output, fmt, coder, force, quiet, as_json, max_pixels):
    """Restore the quantized image of a .vq file and write OUT (format by extension).

    A damaged or foreign file gives one line on stderr and exit code 1.
    """
    from .pack.container import read_vq
    from .pack.formats import export_bytes

    fmt = _check_output(output, fmt, force, as_json)
    codes, codebook, image_shape = read_vq(_read_vq_bytes(input), with_shape=True, max_pixels=max_pixels)
    data, description = export_bytes(fmt, codes, codebook, coder=coder, image_shape=image_shape)
    _emit(output, data, force)
    if as_json:
        return click.echo(json.dumps({"input": input, "shape": list(codes.shape), "n_levels": codebook.n_levels,
                                      "output": output, "format": fmt, "bytes": len(data)}))
    _note(f"{input}: {'x'.join(map(str, codes.shape))}, {codebook.n_levels} levels -> wrote {output} "
          f"({len(data):,} bytes, {description})", quiet)


@cli.command(epilog=EPILOG)
@click.argument("input", metavar="IN.vq")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: shape (of the codes), image_shape, mode, dtype, n_levels, strategy, "
                   "reconstruction, coder, bytes, payload_bytes, bits_per_pixel, original_bytes, ratio.")
@MAX_PIXELS_OPTION
def info(input, as_json, max_pixels):
    """Describe a .vq file (its checksum is verified; the codes are not decoded)."""
    from .pack.container import describe_info
    from .pipeline import vq_info

    details = vq_info(_read_vq_bytes(input), max_pixels=max_pixels)
    click.echo(json.dumps(details) if as_json else describe_info(details, input))


@cli.command(epilog=EPILOG)
@click.argument("input")
@click.option("-k", "--levels", "n_levels", type=click.IntRange(2, 65536), required=True,
              help="Number of levels: gray levels or colors (2..65536).")
@click.option("-m", "--mode", type=click.Choice(("auto", "gray", "color")), default="auto", show_default=True,
              help="gray: the gray strategies; color: the color quantizers; auto: color for color images.")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list of objects with keys strategy, n_levels, mse, psnr, ssim, "
                   "seconds, packed_bytes.")
@click.option("--no-reference", is_flag=True, help="Leave out the scikit-learn (and, for colors, Pillow) rows.")
@click.option("--data-range", type=click.FloatRange(min=0, min_open=True), metavar="PEAK",
              help="Peak value for PSNR/SSIM. Default: the integer dtype's range (255 for uint8); "
                   "float images must give it (e.g. 1.0).")
def compare(input, n_levels, mode, as_json, no_reference, data_range):
    """Compare every strategy on INPUT at N levels (gray) or N colors.

    Gray: uniform, quantile, kmeans, optimal and scikit-learn's KBinsDiscretizer
    kmeans (the seed's): MSE, PSNR, SSIM, the codes' bytes as float64 (what
    KBinsDiscretizer returns), as uint8/16 and packed, fit+encode time (best of 3).
    Color: vqimage kmeans and wu, Pillow's median cut and fast octree, and
    scikit-learn's KMeans on 1,000 pixels (its Color Quantization example).
    """
    from .compare import compare as compare_all

    name, image, _ = _load(input)
    rows = compare_all(image, n_levels, mode=mode, reference=not no_reference, data_range=data_range)
    unit = "colors" if rows[0].pixels < image.size else "levels"
    if as_json:
        return click.echo(json.dumps([row.as_json() for row in rows], indent=1))
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{name}: {'x'.join(map(str, image.shape))} {image.dtype}, {n_levels} {unit}")
    for header in ("strategy", unit, "MSE", "PSNR dB", "SSIM", "float64 B", "codes B", "packed B", "seconds"):
        table.add_column(header, justify="left" if header == "strategy" else "right")
    for row in rows:
        table.add_row(row.strategy, str(row.n_levels), f"{row.mse:.2f}", f"{row.psnr:.2f}",
                      "-" if row.ssim is None else f"{row.ssim:.4f}", f"{row.float64_bytes:,}",
                      f"{row.code_bytes:,} ({row.code_dtype})", f"{row.packed_bytes:,}", f"{row.seconds:.5f}")
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


@cli.command(epilog=EPILOG)
@click.argument("input")
@click.option("-k", "--levels", "n_levels", type=click.IntRange(2, 256), default=8, show_default=True,
              help="Level count of the side-by-side, histogram and error-map sections.")
@click.option("-o", "--output", "outdir", default="report", show_default=True, metavar="DIR",
              help="Folder for NAME-report.html (created if missing).")
@click.option("-f", "--force", is_flag=True, help="Overwrite the report if it exists.")
def report(input, n_levels, outdir, force):
    """Write a self-contained HTML report of what quantizing INPUT costs.

    One file that opens offline: each strategy at N levels beside the original,
    histograms with the levels, error maps, and PSNR/SSIM against the .vq
    file's bits per pixel beside JPEG and WebP (lossy), with where transform
    codecs win. Color images are reported in gray.
    """
    from .report.html import write_report

    name, image, _ = _load(input)
    click.echo(str(write_report(image, name, outdir, n_levels=n_levels, force=force)))


@cli.command()
def images():
    """List the built-in image names."""
    from .io import BUILTINS

    click.echo("\n".join(BUILTINS))


def main(argv=None) -> int:
    """Run the command line; return the exit code instead of exiting."""
    args = sys.argv[1:] if argv is None else [str(a) for a in argv]
    try:
        # Not cli.main(): on Ctrl-C it prints a blank line of its own before any message.
        with cli.make_context("vqimage", args) as context, warnings.catch_warnings():
            if not {"-v", "--verbose"} & set(args):  # libraries' warnings are not the user's business
                warnings.simplefilter("ignore")      # (vqimage's own FitWarnings are notes, see _quantize_one)
            code = cli.invoke(context)
        if isinstance(code, int):
            return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        return exc.show() or exc.exit_code
    except ConflictError as exc:  # options that do not go together: a usage error
        click.echo(f"Error: {_options_words(_line(exc))}", err=True)
        return 2
    except TargetError as exc:
        click.echo(f"vqimage: target not met: {_line(exc)}", err=True)
        return 3
    except (click.exceptions.Abort, KeyboardInterrupt):
        # On a terminal the line starts after the "^C" the terminal echoed.
        click.echo(f"{chr(10) if sys.stderr.isatty() else ''}vqimage: interrupted", err=True)
        return 130
    except _Terminated:
        click.echo("vqimage: terminated", err=True)
        return 143
    except BrokenPipeError:
        return 1
    except Exception as exc:  # one line, never a traceback (VQIMAGE_DEBUG=1 shows it)
        if os.environ.get("VQIMAGE_DEBUG"):
            raise
        click.echo(f"vqimage: error: {_line(exc)}", err=True)
        return 1
    return 0


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class _Terminated(BaseException):
    """SIGTERM, raised where the program is (like KeyboardInterrupt) so that cleanups run: no temporary file stays."""


def _terminate(signum, frame):
    raise _Terminated


def run():  # console-script entry point
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(main())
