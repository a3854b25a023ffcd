"""The ``vqimage`` command: a thin layer over the public API.

Exit codes: 0 success; 1 the work failed (unreadable input, invalid data, an
output that exists without --force, ...), with one line on stderr; 2 a usage
error (unknown option, missing argument); 130 interrupted.
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings
from pathlib import Path

import click

from .codebook import RECONSTRUCTIONS, STRATEGIES, VECTOR_STRATEGIES
from .dither import DITHER_METHODS
from .pack.container import CODERS

__all__ = ["main", "run"]

EPILOG = """\b
Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error,
3 a target (--target-psnr, --target-ssim, --max-error, --max-bytes) cannot be met.
INPUT is an image file (PNG, JPEG, TIFF, PGM/PPM, ...; '-' reads stdin) or a
built-in name: face, camera, astronaut, coffee, ... (see `vqimage images`).
"""

MODE_CHOICES = ("auto", "gray", "color", "block")


def _levels_option(required: bool = True):
    return click.option(
        "-k",
        "--levels",
        "n_levels",
        type=click.IntRange(2, 65536),
        required=required,
        help="Number of levels: gray levels, colors or blocks (2..65536)."
        + ("" if required else " Not with --palette; with a target, the most levels tried (default 256)."),
    )


def _load(source: str, gray: bool = True):
    from .io import decode_image, load_image

    if source == "-":
        return "stdin", decode_image(sys.stdin.buffer.read(), gray=gray, name="stdin")
    return source, load_image(source, gray=gray)


def _mode_of(image, mode: str) -> str:
    """auto: color for RGB/RGBA images whose channels differ, else gray."""
    if mode != "auto":
        return mode
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        channels = image[..., :3]
        opaque = image.shape[-1] == 3 or bool((image[..., 3] == 255).all())
        if opaque and (channels == channels[..., :1]).all():
            return "gray"  # gray stored as RGB
        return "color"
    return "gray"


def _parse_dims(value: str, option: str, counts=(2,)) -> tuple[int, ...]:
    """'4x4' -> (4, 4) (or '128' -> (128,) where one count is allowed), else a usage error naming the option."""
    try:
        dims = tuple(int(v) for v in value.lower().split("x"))
    except ValueError:
        dims = ()
    if len(dims) not in counts:
        form = "ROWSxCOLS such as 2x2 or 4x4" if counts == (2,) else "ROWS or ROWSxCOLS such as 4096 or 4096x4096"
        raise click.UsageError(f"{option}: expected {form}, got {value!r}")
    return dims


def _parse_block(value: str):
    return _parse_dims(value, "--block")


def _note(message: str, quiet: bool = False):
    if not quiet:
        click.echo(message, err=True)


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vqimage")
def cli():
    """Quantize images to a few gray levels (optimally), colors or pixel blocks; store the codes at their true size.

    \b
    vqimage quantize camera -k 8 -o camera8.png   # optimal 8 levels, palette PNG
    vqimage compress camera -k 8 -o camera8.vq    # the same, entropy coded (.vq)
    vqimage decompress camera8.vq -o camera8.tif  # and back, exactly
    vqimage info camera8.vq                       # what a .vq file holds
    vqimage compare camera -k 8                   # every strategy: MSE / PSNR / SSIM / bytes / time
    vqimage quantize astronaut -k 64 -o a64.png   # 64 colors, PNG-8 (color images stay color)
    vqimage quantize coffee -p epaper7 -d floyd-steinberg -o frame.raw   # 7-color e-paper buffer
    vqimage report camera -o report               # HTML: strategies, error maps, rate-distortion vs JPEG/WebP
    vqimage demo                                  # scikit-learn's Vector Quantization Example, fixed
    """


_OUTPUT_HELP = (
    "Its extension picks the format: .vq (vqimage's container), .png (palette PNG of the levels or "
    "colors, smallest bit depth, tRNS for transparency; gray PNG for 16-bit input and blocks), .gif, "
    ".raw (e-paper frame buffer: the codes at 1/2/4/8 bits per pixel, MSB first, rows byte-aligned), "
    ".webp / .jxl (lossless), .tif (the reconstruction, any dtype), .npy (the codes). '-' writes to "
    "stdout (needs --format)."
)


def _fit_options(function):
    options = [
        _levels_option(required=False),
        click.option("-m", "--mode", type=click.Choice(MODE_CHOICES), default="auto", show_default=True,
                     help="What a code stands for: gray = one gray level (color input is converted, BT.601); "
                          "color = one RGB(A) color (8-bit input); block = a --block of gray pixels; "
                          "auto = color for color images, gray otherwise."),
        click.option("-s", "--strategy", type=click.Choice(STRATEGIES + ("wu", "auto")), default=None,
                     help="How the codebook is chosen. Gray: optimal (default; least squared error, exactly), "
                          "kmeans, quantile, uniform. Color/block: kmeans (default; split, merge, then exact "
                          "Lloyd), wu (greedy splits only, fastest). auto (with a target): try each, keep the "
                          "one needing the fewest levels."),
        click.option("-r", "--reconstruction", type=click.Choice(RECONSTRUCTIONS), default=None,
                     help="Gray only: value of each level: centroid (default; mean of its pixels), "
                          "midpoint (sklearn), median."),
        click.option("--block", "block", default="2x2", show_default=True, metavar="ROWSxCOLS",
                     help="Block shape for --mode block (2 to 16 pixels)."),
        click.option("-p", "--palette", metavar="PALETTE",
                     help="Map to these colors instead of fitting: a preset (gray2, gray4, gray16, epaper7, "
                          "epaper6, epaper-bwr, epaper-bwy, websafe, gameboy), hex colors ('#000,#fff,#f00'), "
                          "or a file (.gpl, .hex, .txt, .json, .act, or a palette image). Codes keep its order."),
        click.option("--lock", metavar="COLORS",
                     help="Colors the fitted palette must contain (hex colors, preset or file, as --palette)."),
        click.option("-d", "--dither", type=click.Choice(DITHER_METHODS), default="none", show_default=True,
                     help="Dither gray or color output: error diffusion (serpentine) or ordered (Bayer 8x8)."),
        click.option("--dither-strength", type=click.FloatRange(0, 1), default=1.0, show_default=True,
                     help="Fraction of the error diffused (ordered: threshold amplitude)."),
        click.option("--selective", is_flag=True,
                     help="Dither only smooth gradients, keeping flat areas and edges clean "
                          "(default method: floyd-steinberg)."),
        click.option("--target-psnr", type=click.FloatRange(min=0), metavar="DB",
                     help="Use the fewest levels whose output reaches this PSNR (dB); -k is then the most tried."),
        click.option("--target-ssim", type=click.FloatRange(-1, 1), metavar="S",
                     help="Use the fewest levels whose output reaches this SSIM."),
        click.option("--max-error", type=click.FloatRange(min=0), metavar="E",
                     help="Guarantee every pixel within E of the original, with the fewest levels that can "
                          "(exact for gray images with the optimal strategy)."),
        click.option("--max-bytes", type=click.IntRange(min=1), metavar="N",
                     help="The output may take at most N bytes: alone, the most levels that fit; with a quality "
                          "target, a limit it must also meet."),
        click.option("--skip-if-larger", is_flag=True,
                     help="Write nothing (and keep INPUT) when the output would not be smaller than INPUT."),
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


def _write(output, fmt, codes, codebook, force, coder, image_shape=None, skip_above=None) -> dict:
    """Write OUT; with ``skip_above``, only when it is smaller than that many bytes."""
    from .io import write_atomic
    from .pack.export import export_bytes

    data, description = export_bytes(fmt, codes, codebook, coder=coder, image_shape=image_shape)
    info = {"path": output, "format": fmt, "bytes": len(data), "description": description, "skipped": False}
    if skip_above is not None and len(data) >= skip_above:
        return info | {"skipped": True}
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_atomic(output, data, force=force)
    return info


class TargetNotMet(click.ClickException):
    """A quality or size target no codebook meets: exit code 3."""

    exit_code = 3

    def show(self, file=None):
        click.echo(f"vqimage: target not met: {self.message}", err=True)


def _codebook_for(image, mode, n_levels, strategy, reconstruction, block, palette, lock, quiet):
    """Fit (or take from --palette) the codebook; returns (codebook, image as the codebook sees it)."""
    import numpy as np

    from .codebook import fit
    from .io import to_gray
    from .palettes import load_palette, palette_codebook

    if palette is not None:
        if n_levels is not None or lock is not None:
            raise click.UsageError("--palette maps to given colors; it does not take -k or --lock.")
        if mode == "block":
            raise click.UsageError("--palette applies to gray and color modes, not to blocks.")
        if mode == "gray":
            image = to_gray(image)
            try:
                return palette_codebook(palette, mode="gray"), image
            except ValueError:  # a colored or unordered palette: map the gray image as colors
                image = np.repeat(image[..., None], 3, axis=-1)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=-1)
        return palette_codebook(palette, mode="color"), image
    if n_levels is None:
        raise click.UsageError("Missing option '-k' / '--levels' (or give --palette).")
    options = {}
    if mode in ("gray", "block"):
        image = to_gray(image)
    if mode == "gray":
        if lock is not None:
            raise click.UsageError("--lock applies to color mode.")
        if strategy == "wu":
            raise click.UsageError("--strategy wu applies to color and block modes.")
        options["reconstruction"] = reconstruction or "centroid"
    else:
        if reconstruction is not None:
            raise click.UsageError("--reconstruction applies to gray mode (color and block levels are centroids).")
        if strategy not in (None, *VECTOR_STRATEGIES):
            raise click.UsageError(f"--strategy {strategy} applies to gray mode; color and block take kmeans or wu.")
        if mode == "block":
            options["block"] = _parse_block(block)
        if lock is not None:
            options["fixed"] = _locked_colors(load_palette(lock), image, mode)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        codebook = fit(image, n_levels, mode=mode, strategy=strategy, **options)
    for warning in caught:
        _note(f"warning: {warning.message}", quiet)
    return codebook, image


def _locked_colors(colors, image, mode):
    """--lock colors in the image's components: alpha added (opaque) or dropped as needed."""
    import numpy as np

    if mode == "block":
        raise click.UsageError("--lock applies to color mode.")
    d = image.shape[-1]
    if colors.shape[1] == 3 and d == 4:
        return np.concatenate([colors, np.full((colors.shape[0], 1), 255, np.uint8)], axis=1)
    if colors.shape[1] == 4 and d == 3:
        if (colors[:, 3] != 255).any():
            raise click.UsageError("--lock has transparent colors; the image has no alpha channel.")
        return colors[:, :3]
    return colors


def _input_size(source: str) -> int | None:
    """Bytes of the input file (--skip-if-larger); built-ins and stdin have none to keep."""
    path = Path(source)
    if source == "-" or not path.is_file():
        raise click.UsageError("--skip-if-larger keeps the input file, so INPUT must be a file.")
    return path.stat().st_size


def _ssim(image, recon, mode):
    from . import metrics

    if image.dtype.kind not in "ui" or image.ndim not in (2, 3) or min(image.shape[:2]) < 2:
        return None
    return metrics.ssim(image, recon, channel_axis=-1 if mode == "color" else None)


def _to_target(image, mode, n_levels, strategy, reconstruction, block, targets, fmt, coder):
    """The codebook with the fewest levels that meets the targets (targets.py); codes and image."""
    from .io import to_gray
    from .targets import TargetError, quantize_to_target

    options = {}
    if mode in ("gray", "block"):
        image = to_gray(image)
    if mode == "block":
        options["block"] = _parse_block(block)
    if reconstruction is not None:
        if mode != "gray":
            raise click.UsageError("--reconstruction applies to gray mode.")
        options["reconstruction"] = reconstruction
    if strategy is None:
        strategy = "optimal" if mode == "gray" else "kmeans"
    try:
        out = quantize_to_target(image, **targets, fmt=fmt, coder=coder, strategy=strategy, mode=mode,
                                 max_levels=n_levels or 256, **options)
    except TargetError as exc:
        raise TargetNotMet(str(exc)) from None
    return out.codebook, out.codes, image


_OPTION_NAMES = ("n_levels", "mode", "strategy", "reconstruction", "block", "palette", "lock", "dither",
                 "dither_strength", "selective", "target_psnr", "target_ssim", "max_error", "max_bytes",
                 "skip_if_larger")


def _process(input, output, fmt, coder, force, opts, *, shared=None, quiet=True) -> dict:
    """Quantize one input and write its output; the result as a dict (raises on failure)."""
    import numpy as np

    from . import metrics
    from .mapping import encode

    mode = opts["mode"]
    name, image = _load(input, gray=mode in ("gray", "block"))
    mode = _mode_of(image, mode)
    if mode == "color" and image.dtype != np.uint8 and opts["palette"] is None and shared is None:
        raise ValueError(f"{name} is {image.dtype} color; color palettes are 8-bit. Use --mode gray for its "
                         f"{image.dtype} gray levels, or convert it to 8 bits first.")
    dither, selective = opts["dither"], opts["selective"]
    targets = {key: opts[key] for key in ("target_psnr", "target_ssim", "max_error", "max_bytes")}
    if shared is not None:
        codebook, image = shared, _as_codebook_input(image, shared)
        codes = encode(image, codebook, dither=dither, dither_strength=opts["dither_strength"], selective=selective)
    elif any(v is not None for v in targets.values()):
        if opts["palette"] is not None or opts["lock"] is not None or dither != "none" or selective:
            raise click.UsageError("Targets choose the number of levels; they do not combine with --palette, "
                                   "--lock or dithering.")
        codebook, codes, image = _to_target(image, mode, opts["n_levels"], opts["strategy"], opts["reconstruction"],
                                            opts["block"], targets, fmt, coder)
    else:
        if opts["strategy"] == "auto":
            raise click.UsageError("--strategy auto needs a target (--target-psnr, --target-ssim, --max-error, "
                                   "--max-bytes) to choose by.")
        codebook, image = _codebook_for(image, mode, opts["n_levels"], opts["strategy"], opts["reconstruction"],
                                        opts["block"], opts["palette"], opts["lock"], quiet)
        if selective and dither == "none":
            dither = "floyd-steinberg"
        codes = encode(image, codebook, dither=dither, dither_strength=opts["dither_strength"], selective=selective)
    image_shape = image.shape if codebook.mode == "block" else None
    recon = codebook.decode(codes, shape=image_shape)
    skip_above = _input_size(input) if opts["skip_if_larger"] else None
    info = _write(output, fmt, codes, codebook, force, coder, image_shape, skip_above)
    pixels = image.size // (image.shape[-1] if codebook.mode == "color" else 1)
    scored = image
    if codebook.mode == "color" and image.shape[-1] == 4:  # the colors of clear pixels do not count
        visible = image[..., 3] > 0
        scored, recon = image[visible], recon[visible]
    result = {
        "input": name,
        "shape": list(image.shape),
        "dtype": str(image.dtype),
        "mode": codebook.mode,
        "n_levels": codebook.n_levels,
        "strategy": codebook.strategy,
        "dither": dither,
        "levels": codebook.levels.tolist(),
        "mse": metrics.mse(scored, recon),
        "psnr": metrics.psnr(scored, recon) if image.dtype.kind in "ui" else None,
        "ssim": None if scored is not image else _ssim(image, recon, codebook.mode),
        "max_error": metrics.max_error(scored, recon),
        "output": info["path"],
        "format": info["format"],
        "bytes": info["bytes"],
        "bits_per_pixel": 8 * info["bytes"] / pixels,
        "skipped": info["skipped"],
    }
    psnr = f", PSNR {result['psnr']:.2f} dB (peak {metrics.peak(image):g})" if result["psnr"] is not None else ""
    ssim = f", SSIM {result['ssim']:.4f}" if result["ssim"] is not None else ""
    what = {"gray": "levels", "color": "colors", "block": f"{'x'.join(map(str, codebook.block or ()))} blocks"}
    dithered = "" if dither == "none" else f", {'selective ' if selective else ''}{dither} dither"
    wrote = (f"kept {input}: the output would take {info['bytes']:,} bytes, not fewer than its {skip_above:,}"
             if info["skipped"] else
             f"wrote {info['path']} ({info['bytes']:,} bytes, {result['bits_per_pixel']:.3f} bits/pixel, "
             f"{info['description']})")
    result["message"] = (
        f"{name}: {'x'.join(map(str, image.shape))} {image.dtype} -> {codebook.n_levels} "
        f"{what[codebook.mode]} ({codebook.strategy}{dithered}), MSE {result['mse']:.2f}{psnr}{ssim}, "
        f"max error {result['max_error']:g}; {wrote}"
    )
    result["input_bytes"] = Path(input).stat().st_size if input != "-" and Path(input).is_file() else None
    return result


def _quantize_chunked(source, output, opts, chunks, scheduler, force, quiet, as_json):
    """A zarr array or big TIFF -> codes in OUT.zarr, chunk by chunk (vqimage.distributed)."""
    from . import distributed

    if not output.endswith(".zarr"):
        raise click.UsageError("Chunked processing writes the codes to a zarr array: -o OUT.zarr.")
    unsupported = [name for name in ("palette", "lock", "target_psnr", "target_ssim", "max_error", "max_bytes")
                   if opts[name] is not None] + (["dither"] if opts["dither"] != "none" or opts["selective"] else [])
    if unsupported or opts["mode"] not in ("auto", "gray"):
        raise click.UsageError("Chunked processing fits gray levels with -k; it does not take "
                               f"{', '.join('--' + n.replace('_', '-') for n in unsupported) or '--mode color/block'}.")
    if opts["n_levels"] is None:
        raise click.UsageError("Missing option '-k' / '--levels'.")
    if Path(output).exists() and not force:
        raise FileExistsError(f"{output} exists; use --force to overwrite it.")
    sizes = _parse_dims(chunks, "--chunks", counts=(1, 2)) if chunks else None
    if Path(source).exists():
        darr = distributed.as_dask(source)
    else:  # a built-in image: in memory, then chunked like any array
        darr = distributed.as_dask(_load(source, gray=True)[1])
    if sizes:
        darr = darr.rechunk(sizes + darr.shape[len(sizes):])
    options = {"strategy": opts["strategy"] or "optimal", "reconstruction": opts["reconstruction"] or "centroid"}
    codebook = distributed.quantize_to_zarr(darr, output, opts["n_levels"], scheduler=scheduler, overwrite=force,
                                            progress=not quiet and not as_json and sys.stderr.isatty(), **options)
    result = {"input": source, "shape": list(darr.shape), "dtype": str(darr.dtype), "chunks": list(darr.chunksize),
              "n_levels": codebook.n_levels, "strategy": codebook.strategy, "levels": codebook.levels.tolist(),
              "output": output, "format": "zarr"}
    if as_json:
        click.echo(json.dumps(result))
    else:
        _note(f"{source}: {'x'.join(map(str, darr.shape))} {darr.dtype} in {'x'.join(map(str, darr.chunksize))} "
              f"chunks -> {codebook.n_levels} levels ({codebook.strategy}); wrote the codes to {output} (zarr, "
              "codebook in its attributes)", quiet)


def _as_codebook_input(image, codebook):
    """An image as a shared codebook expects it: gray for gray and block codebooks."""
    from .io import to_gray

    return to_gray(image) if codebook.mode in ("gray", "block") else image


def _quantize(inputs, output, fmt, coder, force, quiet, as_json, ext=None, shared_codebook=False, workers=None,
              verbose=False, chunks=None, scheduler=None, **opts):
    opts = {name: opts[name] for name in _OPTION_NAMES}
    from .batch import expand_inputs, is_batch

    if output.endswith(".zarr") or inputs[0].endswith(".zarr") or chunks or scheduler:
        if len(inputs) != 1:
            raise click.UsageError("Chunked processing (zarr, --chunks, --scheduler) takes one input.")
        _quantize_chunked(inputs[0], output, opts, chunks, scheduler, force, quiet, as_json)
        return
    if not is_batch(inputs) and not shared_codebook:
        fmt = _check_output(output, fmt, force, as_json)
        result = _process(inputs[0], output, fmt, coder, force, opts, quiet=quiet)
        message = result.pop("message")
        result.pop("input_bytes")
        if as_json:
            click.echo(json.dumps(result))
        else:
            _note(message, quiet)
        return
    files = expand_inputs(inputs)
    _batch(files, output, fmt, coder, force, quiet, as_json, ext, shared_codebook, workers, opts, verbose)


def _batch(files, outdir, fmt, coder, force, quiet, as_json, ext, shared_codebook, workers, opts, verbose=False):
    """Many inputs into OUTDIR, in parallel; every good file is finished, failures are summarised."""
    from .batch import run_batch

    if outdir == "-":
        raise click.UsageError("Several inputs write into a directory: -o OUTDIR, not '-'.")
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise click.UsageError(f"Several inputs write into a directory; {outdir} is a file.")
    ext = ext or (f".{fmt}" if fmt else ".png")
    ext = ext if ext.startswith(".") else f".{ext}"
    fmt = fmt or _formats().get(ext.lower())
    if fmt is None:
        raise click.UsageError(f"Cannot tell the output format from --ext {ext!r}; use one of {', '.join(_formats())}.")
    names = [Path(f).stem for f in files]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise click.UsageError(f"Inputs would write the same output name: {', '.join(clash[:5])}.")
    shared = _shared_codebook(files, opts, quiet) if shared_codebook else None
    outdir.mkdir(parents=True, exist_ok=True)
    jobs = [(f, str(outdir / f"{Path(f).stem}{ext}")) for f in files]

    def work(job):
        source, target = job
        if Path(target).exists() and not force:
            raise FileExistsError(f"{target} exists; use --force to overwrite it.")
        return _process(source, target, fmt, coder, force, opts, shared=shared)

    def done(job, result, error):
        if verbose and not quiet:
            _note(f"failed: {error}" if error else result["message"])
        if as_json:
            record = {"input": job[0], "output": job[1], "error": error} if error else {
                k: v for k, v in result.items() if k not in ("message", "levels")}
            click.echo(json.dumps(record))

    results, failures = run_batch(jobs, work, workers=workers, quiet=quiet, on_done=done)
    if not quiet:
        _summary(results, failures)
    if failures:
        raise click.exceptions.Exit(1)


def _shared_codebook(files, opts, quiet):
    """One codebook for every input: fitted on the sum of their histograms."""
    from .codebook import fit, vector_histogram
    from .histogram import histogram
    from .io import to_gray

    if any(opts[key] is not None for key in ("target_psnr", "target_ssim", "max_error", "max_bytes", "palette")):
        raise click.UsageError("--shared-codebook fits one codebook for all inputs; it does not take targets or "
                               "--palette.")
    if opts["n_levels"] is None:
        raise click.UsageError("--shared-codebook needs -k.")
    mode = opts["mode"]
    total = None
    for source in files:
        _, image = _load(source, gray=mode in ("gray", "block"))
        image_mode = _mode_of(image, mode)
        mode = image_mode if mode == "auto" else mode
        if image_mode != mode:
            raise click.UsageError(f"--shared-codebook needs inputs of one kind; {source} is {image_mode}, not {mode}.")
        if mode == "gray":
            part = histogram(to_gray(image))
        elif mode == "block":
            part = vector_histogram(to_gray(image), mode="block", block=_parse_block(opts["block"]))
        else:
            part = vector_histogram(image, mode="color")
        total = part if total is None else total + part
    options = {}
    if mode == "gray":
        options["reconstruction"] = opts["reconstruction"] or "centroid"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        codebook = fit(total, opts["n_levels"], mode=mode, strategy=opts["strategy"], **options)
    for warning in caught:
        _note(f"warning: {warning.message}", quiet)
    return codebook


def _summary(results, failures):
    """The batch summary on stderr: files, bytes in and out, mean PSNR, failures with their reasons."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, width=120)
    written = [r for r in results if not r["skipped"]]
    bytes_in = sum(r["input_bytes"] or 0 for r in results)
    bytes_out = sum(r["bytes"] for r in written)
    psnrs = [r["psnr"] for r in results if r["psnr"] is not None and math.isfinite(r["psnr"])]
    table = Table(title="vqimage batch", show_header=True)
    for header in ("files", "written", "skipped", "failed", "bytes in", "bytes out", "mean PSNR dB"):
        table.add_column(header, justify="right")
    table.add_row(str(len(results) + len(failures)), str(len(written)), str(len(results) - len(written)),
                  str(len(failures)), f"{bytes_in:,}", f"{bytes_out:,}",
                  f"{sum(psnrs) / len(psnrs):.2f}" if psnrs else "-")
    console.print(table)
    for source, reason in failures:
        reason = reason if reason.startswith(str(source)) else f"{source}: {reason}"
        console.print(f"failed: {reason}", markup=False, highlight=False)


_batch_options = [
    click.option("--ext", metavar="EXT", help="Several inputs: the outputs' extension (default .png for quantize, "
                                              ".vq for compress), written as OUTDIR/NAME.EXT."),
    click.option("--shared-codebook", is_flag=True,
                 help="Fit one codebook on all inputs (their summed histograms) and apply it to each."),
    click.option("-j", "--workers", type=click.IntRange(1, 256), default=None,
                 help="Several inputs: files processed at once (default: the number of cores)."),
    click.option("-v", "--verbose", is_flag=True, help="Several inputs: a line per file as it is done."),
    click.option("--chunks", metavar="ROWS[xCOLS]",
                 help="Process a zarr array or a big TIFF chunk by chunk with Dask (never all in memory) and write "
                      "the codes to OUT.zarr; default: the input's own chunks or tiles."),
    click.option("--scheduler", metavar="WHERE",
                 help="Dask scheduler for chunked work: threads (default), processes, synchronous, or the address "
                      "of a dask.distributed cluster (tcp://HOST:PORT)."),
]


def _with(options):
    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


@cli.command(epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@_fit_options
@_output_options("Output file; with several inputs, a directory (created if missing).")
@_with(_batch_options)
def quantize(inputs, output, fmt, coder, force, quiet, as_json, **options):
    """Quantize INPUT to N gray levels, colors or blocks and write OUT (format by extension).

    \b
    vqimage quantize camera -k 8 -o camera8.png            # optimal gray levels
    vqimage quantize astronaut -k 64 -o astro64.png        # 64-color PNG-8
    vqimage quantize astronaut -k 16 -d floyd-steinberg -o a.gif
    vqimage quantize coffee -p epaper7 -d floyd-steinberg -o frame.raw   # 7-color e-paper, 4 bits/pixel
    vqimage quantize camera -m block --block 4x4 -k 256 -o blocks.vq
    vqimage quantize photos/ 'scans/*.tif' -k 16 -o out/ --ext .png   # many files, all cores
    vqimage quantize frames/ -k 64 --shared-codebook -o gif/ --ext .gif   # one palette for all

    Color images stay color unless --mode gray (BT.601 luma). Several inputs
    (files, directories, globs) go to -o OUTDIR as NAME.EXT, in parallel; every
    good file is finished, a summary lists the failures, and the exit code is
    1 if any failed.
    """
    _quantize(inputs, output=output, fmt=fmt, coder=coder, force=force, quiet=quiet, as_json=as_json, **options)


@cli.command(epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@_fit_options
@_output_options("Output file, normally OUT.vq; with several inputs, a directory (created if missing).")
@_with(_batch_options)
def compress(inputs, output, fmt, coder, force, quiet, as_json, **options):
    """Quantize INPUT to N gray levels, colors or blocks and store it as a .vq file (FORMAT.md).

    The .vq file holds the codes, entropy coded near their information limit
    (--coder context, the default) or at exactly ceil(log2 N) bits each
    (--coder packed), and the codebook, under a CRC-32; `vqimage decompress`
    restores the quantized image exactly. Options as for `vqimage quantize`.
    """
    if options.get("ext") is None and fmt is None:
        options["ext"] = ".vq"
    _quantize(inputs, output=output, fmt=fmt, coder=coder, force=force, quiet=quiet, as_json=as_json, **options)


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
    from .pack.container import read_vq

    fmt = _check_output(output, fmt, force, as_json)
    codes, codebook, image_shape = read_vq(_read_vq_bytes(input), with_shape=True)
    info = _write(output, fmt, codes, codebook, force, coder, image_shape if codebook.mode == "block" else None)
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
              help="Print one JSON object: shape (of the codes), image_shape, mode, dtype, n_levels, strategy, "
                   "reconstruction, coder, bytes, payload_bytes, bits_per_pixel, original_bytes, ratio.")
def info(input, as_json):
    """Describe a .vq file (its checksum is verified; the codes are not decoded)."""
    from .pipeline import vq_info

    details = vq_info(_read_vq_bytes(input))
    if as_json:
        click.echo(json.dumps(details))
        return
    noun = {"gray": "levels", "color": "colors", "block": "blocks"}[details["mode"]]
    tiles = f" in {'x'.join(map(str, details['shape']))} tiles" if details["mode"] == "block" else ""
    click.echo(
        f"{input}: {'x'.join(map(str, details['image_shape']))} {details['dtype']}, {details['n_levels']} {noun}"
        f"{tiles} ({details['strategy']}, {details['reconstruction']}), coder {details['coder']}\n"
        f"  {details['bytes']:,} bytes ({details['payload_bytes']:,} payload), "
        f"{details['bits_per_pixel']:.4f} bits/pixel, "
        f"{details['ratio']:.2f}x smaller than the {details['original_bytes']:,}-byte original"
    )


@cli.command(epilog=EPILOG)
@click.argument("input")
@_levels_option()
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

    Gray: one row per strategy (uniform, quantile, kmeans, optimal) and
    scikit-learn's KBinsDiscretizer kmeans (the Vector Quantization Example's
    choice): MSE, PSNR, SSIM, the bytes of the codes as float64 (what
    KBinsDiscretizer returns), as uint8/uint16, and packed at ceil(log2 N)
    bits, and the fit+encode time (best of 3).

    Color: vqimage kmeans and wu beside Pillow's median cut and fast octree and
    scikit-learn's KMeans fitted on 1,000 pixels (its Color Quantization
    example); the float64 column is that example's float image.
    """
    from .compare import compare as run_compare
    from .compare import compare_colors

    name, image = _load(input, gray=mode == "gray")
    if _mode_of(image, mode) == "color":
        rows = compare_colors(image, n_levels, reference=not no_reference)
        unit = "colors"
    else:
        from .io import to_gray

        image = to_gray(image)
        rows = run_compare(image, n_levels, reference=not no_reference, data_range=data_range)
        unit = "levels"
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows], indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{name}: {'x'.join(map(str, image.shape))} {image.dtype}, {n_levels} {unit}")
    for header in ("strategy", unit, "MSE", "PSNR dB", "SSIM", "float64 B", "codes B", "packed B", "seconds"):
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


@cli.command(epilog=EPILOG)
@click.argument("input")
@click.option("-k", "--levels", "n_levels", type=click.IntRange(2, 256), default=8, show_default=True,
              help="Level count of the side-by-side, histogram and error-map sections.")
@click.option("-o", "--output", "outdir", default="report", show_default=True, metavar="DIR",
              help="Folder for NAME-report.html (created if missing).")
@click.option("-f", "--force", is_flag=True, help="Overwrite the report if it exists.")
def report(input, n_levels, outdir, force):
    """Write a self-contained HTML report of what quantizing INPUT costs.

    One file, figures embedded, no scripts or links (it opens offline): the
    original beside each strategy at N levels, the histogram with each
    strategy's levels, error maps, and rate-distortion curves (PSNR and SSIM
    against the .vq file's bits per pixel) beside JPEG and WebP (lossy) of
    the original, with a sentence on where transform codecs win. Color
    images are reported in gray.
    """
    from .report.html import write_report

    name, image = _load(input)
    path = Path(outdir) / f"{Path(name).stem}-report.html"
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; use --force to overwrite it.")
    written = write_report(image, name, outdir, n_levels=n_levels, force=force)
    click.echo(str(written))


@cli.command()
def images():
    """List the built-in image names."""
    from .io import BUILTINS

    click.echo("\n".join(BUILTINS))


def main(argv=None) -> int:
    """Run the command line; return the exit code instead of exiting."""
    try:
        code = cli.main(args=argv, prog_name="vqimage", standalone_mode=False)
        if isinstance(code, int):  # click returns a raised Exit's code when not standalone
            return code
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
