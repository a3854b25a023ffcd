"""Many files, one engine: expand the inputs, quantize each, keep going past bad ones.

:func:`quantize_files` is what ``vqimage quantize DIR -o OUT`` runs and what
the Python API offers for collections. Every file goes through
:func:`vqimage.quantize` and :meth:`Quantized.write`; a file that fails becomes
a record with its reason and the others go on. With ``shared=True`` one
codebook is fitted on the sum of every file's histogram
(:func:`shared_codebook`) and applied to each.

The work runs on one of two executors, the same function either way:

* threads on this machine (default, ``workers`` of them): vqimage's kernels
  release the GIL (compiled ``nogil`` loops), so threads use every core without a
  process per file;
* Dask, with ``scheduler=`` a Dask scheduler name ('threads', 'processes',
  'synchronous') or the address of a ``dask.distributed`` cluster
  ('tcp://host:port'): one task per file, run where the cluster has room.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ._progress import progress_bar
from ._validation import ConflictError
from ._vectors import all_opaque, as_mode_image, color_8bit, with_channels
from .codebook import Codebook
from .histogram import histogram, vector_histogram
from .io import DEFAULT_MAX_PIXELS, load_image
from .pack.formats import EXTENSIONS
from .palettes import load_palette
from .pipeline import quantize
from .solvers import fit, fit_mode

__all__ = ["IMAGE_EXTENSIONS", "describe", "expand_inputs", "is_batch", "quantize_files", "run_jobs", "shared_codebook",
           "totals"]

#: Files a directory input contributes (by extension, case-insensitive).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".pgm", ".ppm", ".pnm",
                    ".jxl")
_GLOB = set("*?[")
# quantize() options that fit a codebook; a shared codebook takes them once, not per file.
_FIT_OPTIONS = ("strategy", "reconstruction", "block", "lock", "weights", "bins", "quantile_method", "max_iter",
                "init", "tol", "random_state", "space")


def is_batch(inputs) -> bool:
    """More than one input, or one that is a directory or a glob pattern."""
    if len(inputs) != 1:
        return True
    (source,) = inputs
    return source != "-" and (Path(source).is_dir() or (bool(_GLOB & set(source)) and not Path(source).exists()))


def expand_inputs(inputs) -> list[str]:
    """Files of ``inputs``: directories give their image files, globs their matches, in sorted order.

    Raises
    ------
    FileNotFoundError
        For a glob matching nothing, an empty directory or a missing file.
    """
    files: list[str] = []
    for source in map(str, inputs):
        path = Path(source)
        if source == "-":
            raise ValueError("Several inputs cannot include stdin ('-').")
        if path.is_dir():
            found = sorted(str(p) for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
            if not found:
                raise FileNotFoundError(f"{source}: no image files ({', '.join(IMAGE_EXTENSIONS)}) in this directory.")
            files += found
        elif _GLOB & set(source) and not path.exists():
            found = sorted(p for p in glob.glob(source) if Path(p).is_file())
            if not found:
                raise FileNotFoundError(f"{source}: no file matches this pattern.")
            files += found
        else:
            files.append(source)  # a file or a built-in name; a missing one fails on its own
    seen = set()
    return [f for f in files if not (f in seen or seen.add(f))]


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _guarded(function):
    def run(item):
        try:
            return function(item), None
        except Exception as exc:  # one bad item is a record, not the end of the run
            return None, _reason(exc)

    return run


def run_jobs(function: Callable, items, *, workers: int | None = None, scheduler=None, progress: bool = False,
             on_done: Callable | None = None) -> list[tuple]:
    """``function(item)`` for every item, on threads or as Dask tasks; ``(result, error)`` per item, in order.

    A call that raises gives ``(None, one-line reason)`` and the others go on.
    ``on_done(item, result, error)`` is called in the calling thread as each
    ends (threads) or after all have (Dask). ``progress`` shows a rich
    progress bar on stderr (threads) or Dask's (local Dask schedulers).
    """
    items = list(items)
    run = _guarded(function)
    outcomes: list = [None] * len(items)
    if scheduler is not None:
        import dask

        from .distributed import dask_progress, scheduler_settings

        tasks = [dask.delayed(run)(item) for item in items]
        with scheduler_settings(scheduler) as settings, dask_progress(progress):
            outcomes = list(dask.compute(*tasks, **settings))
        for item, (result, error) in zip(items, outcomes):
            if on_done is not None:
                on_done(item, result, error)
        return outcomes
    from concurrent.futures import ThreadPoolExecutor, as_completed  # not on one file's path (5 ms)

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool, \
            progress_bar(len(items), "quantizing", progress) as advance:
        futures = {pool.submit(run, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            i = futures[future]
            outcomes[i] = future.result()
            if on_done is not None:
                on_done(items[i], *outcomes[i])
            advance()
    return outcomes


def _file_histogram(job):
    source, mode, block, max_pixels = job
    image = load_image(source, gray=False, max_pixels=max_pixels)
    as_rgba = mode == "rgba"
    mode = "color" if as_rgba else fit_mode(image, mode, caller="shared_codebook")
    image = as_mode_image(image, mode)
    if mode == "gray":
        return mode, histogram(image)
    if mode == "color":  # as quantize() takes color: 16-bit rounded, opaque RGBA as RGB
        image = color_8bit(image)
        image = with_channels(image, 4) if as_rgba else image[..., :3] if all_opaque(image) else image
    return mode, vector_histogram(image, mode=mode, block=block)


def _read_histograms(files, mode, block, max_pixels, workers, scheduler, on_failure, empty=False) -> dict:
    """{path: (kind, histogram)} of the files that could be read; the others go to ``on_failure``."""
    outcomes = run_jobs(_file_histogram, [(f, mode, block, max_pixels) for f in files], workers=workers,
                        scheduler=scheduler)
    parts = {}
    for path, (result, error) in zip(files, outcomes):
        if error is not None:
            if on_failure is None:
                raise ValueError(error if error.startswith(path) else f"{path}: {error}")
            on_failure(path, error)
        else:
            parts[path] = result
    if not parts and not empty:
        raise ValueError("No input could be read for the shared codebook.")
    return parts


def shared_codebook(files, n_levels: int, *, mode: str = "auto", strategy: str | None = None, block=None,
                    workers=None, scheduler=None, on_failure: Callable | None = None,
                    on_note: Callable | None = None, max_pixels: int = DEFAULT_MAX_PIXELS,
                    **fit_options) -> Codebook:
    """One codebook for every file: fitted on the sum of their histograms.

    Files are read (and counted) on the executors of :func:`run_jobs`; a file
    that cannot be read is passed to ``on_failure(path, reason)`` and left
    out. ``block`` defaults to (2, 2) for ``mode='block'``; ``fit_options``
    go to :func:`vqimage.fit` (``reconstruction``, ``fixed``, ...);
    ``max_pixels`` is :func:`vqimage.load_image`'s limit.

    Mixed inputs follow one rule: nothing is lost. With ``mode='auto'``,
    when some files are color and others gray, the codebook is a color
    palette and the gray files are counted (and later quantized) as color,
    their gray replicated to RGB. When some color files have alpha and
    others not, the palette is RGBA and the others count as opaque. Which
    files were promoted is said once, through ``on_note(message)``
    (default: a :class:`~vqimage.FitWarning`). A color palette is fitted
    in :func:`vqimage.quantize`'s default space (Oklab for RGB, 'composite'
    for RGBA) unless ``space`` is given; 16-bit color is rounded to 8 bits
    as there.

    Raises
    ------
    ValueError
        When no file could be read (the reasons went to ``on_failure``), or
        the first failure when ``on_failure`` is None.
    """
    block = (2, 2) if block is None and mode == "block" else block
    files = [str(f) for f in files]
    parts = _read_histograms(files, mode, block, max_pixels, workers, scheduler, on_failure)
    notes = []

    def promote(paths, to, what):
        notes.append(f"{len(paths)} of {len(parts)} inputs {what} ({', '.join(paths[:3])}"
                     f"{', ...' if len(paths) > 3 else ''}).")
        kept = {path: part for path, part in parts.items() if path not in paths}
        return kept | _read_histograms(paths, to, block, max_pixels, workers, scheduler, on_failure, empty=True)

    if len({kind for kind, _ in parts.values()}) > 1:  # only 'auto' mixes kinds: gray and color
        parts = promote([path for path, (kind, _) in parts.items() if kind == "gray"], "color",
                        "are gray and the others color: the shared codebook is a color palette and the gray inputs "
                        "are quantized in color")
    if len({hist.vectors.shape[1] for kind, hist in parts.values() if kind == "color"}) > 1:
        parts = promote([path for path, (_, hist) in parts.items() if hist.vectors.shape[1] == 3], "rgba",
                        "have no alpha and the others do: they count as opaque in the shared RGBA palette")
    for note in notes:
        if on_note is None:
            import warnings

            from ._validation import FitWarning

            warnings.warn(note, FitWarning, stacklevel=2)
        else:
            on_note(note)
    kind = next(iter(parts.values()))[0]
    total = sum(hist for _, hist in parts.values())
    if kind == "gray":
        fit_options.setdefault("reconstruction", "centroid")
    if kind == "color" and fit_options.get("space") is None:  # quantize()'s perceptual defaults
        fit_options["space"] = "oklab" if total.vectors.shape[1] == 3 else "composite"
    return fit(total, n_levels, mode=kind, strategy=strategy, **fit_options)


def quantize_files(inputs, outdir, n_levels: int | None = None, *, ext: str = ".png", fmt: str | None = None,
                   force: bool = False, shared: bool = False, skip_if_larger: bool = False, strip: bool = False,
                   workers=None, scheduler=None, progress: bool = False, on_done: Callable | None = None,
                   on_note: Callable | None = None, **options) -> list[dict]:
    """Quantize many image files into ``outdir/NAME.EXT``.

    Parameters
    ----------
    inputs : iterable of str or path
        Files, directories (their image files) or glob patterns
        (:func:`expand_inputs`).
    outdir : str or path
        Created if missing.
    n_levels : int, optional
        As for :func:`vqimage.quantize` (not with a palette).
    ext, fmt : str
        The outputs' extension and format (default: the extension's).
    force : bool
        Replace outputs that exist (else each is a failure).
    shared : bool
        One codebook for all (:func:`shared_codebook`).
    skip_if_larger : bool
        Write nothing for a file whose output would not be smaller than it.
    strip : bool
        Leave each input's color profile out of its output
        (:meth:`Quantized.write`).
    workers, scheduler
        The executor: ``workers`` threads (default: every core), or Dask
        with ``scheduler`` (see the module notes).
    progress : bool
        A progress bar on a terminal.
    on_done : callable, optional
        ``on_done(record)`` as each file ends.
    on_note : callable, optional
        ``on_note(message)`` for what the run decided for all files (gray
        inputs quantized in color with a shared palette, see
        :func:`shared_codebook`); default: a :class:`~vqimage.FitWarning`.
    **options
        Passed to :func:`vqimage.quantize`.

    Returns
    -------
    list of dict
        One record per file, in input order: ``input``, ``output``,
        ``error`` (None, or the reason it failed) and, for files written,
        :meth:`Quantized.summary`'s keys with ``format``, ``bytes``,
        ``bits_per_pixel``, ``description``, ``skipped`` and ``input_bytes``.
    """
    files = expand_inputs(inputs)
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise ConflictError(f"Several inputs write into a directory; {outdir} is a file.")
    ext = ext if ext.startswith(".") else f".{ext}"
    fmt = fmt or EXTENSIONS.get(ext.lower())
    if fmt is None:
        raise ConflictError(f"Cannot tell the output format from 'ext' {ext!r}; use one of {', '.join(EXTENSIONS)}.")
    names = [Path(f).stem for f in files]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise ConflictError(f"Inputs would write the same output name: {', '.join(clash[:5])}.")
    records: dict = {}

    def fail(source, target, reason):
        records[source] = {"input": source, "output": target, "error": reason}
        if on_done is not None:
            on_done(records[source])

    codebook = None
    if shared:
        if n_levels is None or any(options.get(k) is not None for k in ("target_psnr", "target_ssim", "max_error",
                                                                         "max_bytes", "target_ssimulacra2",
                                                                         "palette", "importance")):
            raise ConflictError("A shared codebook is fitted for all inputs: it needs 'n_levels' and does not take "
                                "targets, 'palette' or 'importance'.")
        fitting = {k: options.pop(k) for k in _FIT_OPTIONS if options.get(k) is not None}
        if "lock" in fitting:
            fitting["fixed"] = load_palette(fitting.pop("lock"))
        try:
            codebook = shared_codebook(files, n_levels, mode=options.pop("mode", "auto"), workers=workers,
                                       scheduler=scheduler, on_failure=lambda path, why: fail(path, None, why),
                                       on_note=on_note, max_pixels=options.get("max_pixels", DEFAULT_MAX_PIXELS),
                                       **fitting)
        except ValueError:
            if len(records) < len(files):  # not "nothing could be read": a fitting parameter is wrong
                raise
            return [records[f] for f in files]  # every failure is a record, with its reason
        n_levels = None
    outdir.mkdir(parents=True, exist_ok=True)
    jobs = [(f, str(outdir / f"{Path(f).stem}{ext}")) for f in files if f not in records]

    def work(job):
        source, target = job
        if os.path.lexists(target) and not force:
            raise FileExistsError(f"{target} exists; use --force (force=True) to overwrite it.")
        result = quantize(source, n_levels, codebook=codebook, fmt=fmt, **options)
        size = Path(source).stat().st_size if Path(source).is_file() else None
        summary = result.summary()  # the metrics can fail (memory): before anything is written
        info = result.write(target, fmt=fmt, force=force, smaller_than=size if skip_if_larger else None,
                            strip=strip)
        return summary | {k: info[k] for k in ("format", "description", "skipped")} | {
            "input": source, "output": target, "input_bytes": size, "error": None}

    def done(job, record, error):
        if error is not None:
            return fail(*job, error)
        records[job[0]] = record
        if on_done is not None:
            on_done(record)

    run_jobs(work, jobs, workers=workers, scheduler=scheduler, progress=progress, on_done=done)
    return [records[f] for f in files]


def describe(record: dict) -> str:
    """One line on a quantized file, from its record (:func:`quantize_files`, or a summary with write info)."""
    blocks = f"{'x'.join(map(str, record.get('block', ())))} blocks"
    what = {"gray": "levels", "color": "colors", "block": blocks}[record["mode"]]
    dtype = np.dtype(record["dtype"])
    peak = f" (peak {float(np.iinfo(dtype).max) - float(np.iinfo(dtype).min):g})" if dtype.kind in "ui" else ""
    psnr = f", PSNR {record['psnr']:.2f} dB{peak}" if record["psnr"] is not None else ""
    ssim = (f", SSIM {record['ssim']:.4f}" if record["ssim"] is not None else
            ", SSIM skipped (large image; --ssim computes it)" if record.get("ssim_skipped") else "")
    if record.get("ssimulacra2") is not None:
        ssim += f", SSIMULACRA2 {record['ssimulacra2']:.1f}"
    dithered = "" if record["dither"] == "none" else f", {record['dither']} dither"
    wrote = (f"kept {record['input']}: the output would take {record['bytes']:,} bytes, not fewer than its "
             f"{record['input_bytes']:,}" if record["skipped"] else
             f"wrote {record['output']} ({record['bytes']:,} bytes, {record['bits_per_pixel']:.3f} bits/pixel, "
             f"{record['description']})")
    notes = "".join(f"; note: {note}" for note in record.get("notes", ()))
    return (f"{record['input']}: {'x'.join(map(str, record['shape']))} {record['dtype']} -> {record['n_levels']} "
            f"{what} ({record['strategy']}{dithered}), MSE {record['mse']:.2f}{psnr}{ssim}, "
            f"max error {record['max_error']:g}; {wrote}{notes}")


def totals(records) -> dict:
    """Counts of a batch: files, written, skipped, failed, bytes in and out, mean PSNR (dB, a string)."""
    done = [r for r in records if not r["error"]]
    written = [r for r in done if not r["skipped"]]
    psnrs = [r["psnr"] for r in done if r["psnr"] is not None and r["psnr"] != float("inf")]
    return {"files": len(records), "written": len(written), "skipped": len(done) - len(written),
            "failed": len(records) - len(done), "bytes in": sum(r["input_bytes"] or 0 for r in done),
            "bytes out": sum(r["bytes"] for r in written),
            "mean PSNR dB": f"{sum(psnrs) / len(psnrs):.2f}" if psnrs else "-"}
