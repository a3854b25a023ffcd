"""Many files at once: expand the inputs, run them in parallel, keep going past bad ones.

Used by ``vqimage quantize`` / ``compress`` with several inputs. Work runs in
threads: vqimage's kernels release the GIL (numba ``nogil``), so threads use
every core without a process per file re-loading numba.
"""

from __future__ import annotations

import glob
import os
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

__all__ = ["IMAGE_EXTENSIONS", "expand_inputs", "is_batch", "run_batch"]

#: Files a directory input contributes (by extension, case-insensitive).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".pgm", ".ppm", ".pnm",
                    ".jxl")
_GLOB = set("*?[")


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
    for source in inputs:
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


def run_batch(jobs, work, *, workers=None, quiet=False, on_done=None):
    """Run ``work(job)`` for every job on ``workers`` threads; return ``(results, failures)``.

    A job that raises becomes a failure ``(job's first item, one-line reason)``
    and the others go on. A rich progress bar shows on stderr when it is a
    terminal and ``quiet`` is false. ``on_done(job, result, error)`` is called
    as each job ends (in the calling thread).
    """
    workers = workers or os.cpu_count() or 1
    results, failures = [], []
    progress = None
    if not quiet and sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        progress = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
    task = None
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(work, job): job for job in jobs}
        if progress is not None:
            progress.start()
            task = progress.add_task("quantizing", total=len(jobs))
        try:
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # every failure is reported, none stops the others
                    reason = " ".join(str(exc).split()) or type(exc).__name__
                    failures.append((job[0], reason))
                    if on_done is not None:
                        on_done(job, None, reason)
                else:
                    results.append(result)
                    if on_done is not None:
                        on_done(job, result, None)
                if progress is not None:
                    progress.advance(task)
        finally:
            if progress is not None:
                progress.stop()
    order = {job[0]: i for i, job in enumerate(jobs)}
    results.sort(key=lambda r: order.get(r["input"], 0))
    failures.sort(key=lambda f: order.get(f[0], 0))
    return results, failures
