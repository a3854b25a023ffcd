"""Beyond one machine's memory: the pipeline as a Dask map-reduce, codes in zarr.

A codebook is fitted from a histogram, and histograms of chunks add up, so
fitting a chunked array is: count every chunk (in parallel, anywhere), sum the
counts (a tree of additions), run the same solver as in memory. Encoding and
decoding are per-pixel maps, so they run chunk by chunk. Dask schedules it all:
its threads on this machine by default, or an existing ``dask.distributed``
cluster (``scheduler="tcp://host:port"``).

Integer images (8 and 16 bits, signed or not) give bit-identical results to
the in-memory path: their counts are exact. Float images are binned
(``bins``, default 65,536) over their range, found by a first pass; counts are
exact and each bin's mean is summed chunk by chunk, so the levels can differ
from the in-memory binned fit in the last bits.

Storage: any array dask can wrap, a zarr array (path or object), or a TIFF
(read tile by tile through tifffile's zarr interface). Codes are written to a
zarr array whose attributes hold the codebook (``Codebook.to_config()``); the
array is written under a temporary name and renamed when complete, and the
attribute ``vqimage_complete`` is set last, so an interrupted run never leaves
an output that looks complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import numpy as np

from .codebook import Codebook, fit as fit_codebook
from .histogram import Histogram, histogram as image_histogram

__all__ = [
    "as_dask",
    "histogram",
    "fit",
    "encode",
    "decode",
    "quantize_to_zarr",
    "read_codes",
    "quantize_files",
    "DEFAULT_CHUNK_BYTES",
]

#: Default chunk size when an input has no chunks of its own: 64 MiB.
DEFAULT_CHUNK_BYTES = 64 << 20
_ATTR_CODEBOOK = "vqimage_codebook"
_ATTR_DONE = "vqimage_complete"
_ATTR_SHAPE = "vqimage_image_shape"


def as_dask(data, *, chunks=None):
    """A dask array from a dask/numpy array, a zarr array or path, or a TIFF path (read lazily)."""
    import dask.array as da

    if isinstance(data, da.Array):
        return data if chunks is None else data.rechunk(chunks)
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory.")
        if path.suffix.lower() in (".tif", ".tiff"):
            import tifffile
            import zarr

            store = tifffile.imread(path, aszarr=True)
            array = zarr.open(store, mode="r")
            if isinstance(array, zarr.Group):
                array = array["0"]  # a multiscale pyramid: its full-resolution level
            return da.from_zarr(array, chunks=chunks) if chunks else da.from_zarr(array)
        import zarr

        array = zarr.open(str(path), mode="r")
        if isinstance(array, zarr.Group):
            raise ValueError(f"{path} is a zarr group; pass the path of one of its arrays.")
        return da.from_zarr(array, chunks=chunks) if chunks else da.from_zarr(array)
    if hasattr(data, "chunks") and hasattr(data, "shape") and not isinstance(data, np.ndarray):
        return da.from_zarr(data, chunks=chunks) if chunks else da.from_zarr(data)
    data = np.asarray(data)
    return da.from_array(data, chunks=chunks or _default_chunks(data.shape, data.dtype))


def _default_chunks(shape, dtype):
    """Row bands of about DEFAULT_CHUNK_BYTES (the last axes whole)."""
    row = int(np.prod(shape[1:], dtype=np.int64)) * np.dtype(dtype).itemsize if len(shape) > 1 else 1
    rows = max(1, DEFAULT_CHUNK_BYTES // max(row, 1))
    return (min(rows, shape[0]),) + tuple(shape[1:]) if shape else ()


@contextlib.contextmanager
def _scheduler(scheduler):
    """Dask's compute settings for ``scheduler``: None (threads here), a name, or a distributed address."""
    import dask

    if scheduler is None:
        yield {}
    elif isinstance(scheduler, str) and "://" in scheduler:
        from distributed import Client

        with Client(scheduler, set_as_default=False) as client:
            yield {"scheduler": client}
    else:
        if hasattr(scheduler, "get"):  # a distributed.Client
            yield {"scheduler": scheduler}
        else:
            with dask.config.set(scheduler=scheduler):
                yield {}


def _tree_sum(parts):
    import dask

    while len(parts) > 1:
        parts = [dask.delayed(_add)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]


def _add(a, b):
    return a + b


def _block_histogram(block, bins, data_range):
    return image_histogram(block, bins=bins, data_range=data_range)


def _progress(enabled):
    if not enabled:
        return contextlib.nullcontext()
    from dask.diagnostics import ProgressBar

    return ProgressBar()


def histogram(data, *, bins: int | None = None, scheduler=None, chunks=None, progress: bool = False) -> Histogram:
    """The :class:`vqimage.Histogram` of a chunked array, counted chunk by chunk.

    Integers are counted exactly; floats are binned into ``bins`` (default
    65,536) over their range. ``progress`` shows Dask's progress bar (local
    schedulers).
    """
    import dask

    darr = as_dask(data, chunks=chunks)
    if darr.dtype.kind not in "uif":
        raise TypeError(f"vqimage.distributed takes int or float arrays. Got dtype {darr.dtype}.")
    with _scheduler(scheduler) as settings:
        data_range = None
        if darr.dtype.kind == "f":
            bins = bins or 65536
            low, high = dask.compute(darr.min(), darr.max(), **settings)
            data_range = (float(low), float(high))
        elif bins is not None:
            raise ValueError("The 'bins' parameter applies to float arrays; integers are counted exactly.")
        parts = [dask.delayed(_block_histogram)(block, bins, data_range) for block in darr.to_delayed().ravel()]
        with _progress(progress):
            (total,) = dask.compute(_tree_sum(parts), **settings)
    return total


def fit(data, n_levels: int, *, bins: int | None = None, scheduler=None, chunks=None, progress: bool = False,
        **options) -> Codebook:
    """Fit a gray codebook on a chunked array's histogram (see :func:`vqimage.fit` for ``options``)."""
    hist = histogram(data, bins=bins, scheduler=scheduler, chunks=chunks, progress=progress)
    return fit_codebook(hist, n_levels, **options)


def encode(data, codebook: Codebook, *, chunks=None):
    """Codes of a chunked array, chunk by chunk (a lazy dask array)."""
    darr = as_dask(data, chunks=chunks)
    return darr.map_blocks(codebook.encode, dtype=codebook.code_dtype)


def decode(codes, codebook: Codebook, *, dtype=None):
    """Reconstruction of chunked codes, chunk by chunk (a lazy dask array)."""
    from functools import partial

    out = np.dtype(codebook.dtype if dtype is None else dtype)
    return as_dask(codes).map_blocks(partial(codebook.decode, dtype=dtype), dtype=out)


def quantize_to_zarr(source, target, n_levels: int | None = None, *, codebook: Codebook | None = None,
                     chunks=None, scheduler=None, overwrite: bool = False, bins=None, progress: bool = False,
                     **options) -> Codebook:
    """Fit (or take) a codebook for ``source`` and write its codes to the zarr array ``target``.

    The codes are written to ``target`` + ``.partial``, their attributes get
    the codebook and the image's shape, then ``vqimage_complete``; the folder is
    renamed to ``target`` only then. An existing ``target`` is replaced only
    with ``overwrite=True``. Returns the codebook.
    """
    import dask.array as da
    import zarr

    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; use overwrite=True (--force) to replace it.")
    darr = as_dask(source, chunks=chunks)
    with _scheduler(scheduler) as settings:
        if codebook is None:
            if n_levels is None:
                raise TypeError("quantize_to_zarr needs n_levels (or a codebook).")
            codebook = fit(darr, n_levels, bins=bins, scheduler=scheduler, progress=progress, **options)
        codes = encode(darr, codebook)
        partial = target.with_name(target.name + ".partial")
        if partial.exists():
            shutil.rmtree(partial)
        store = zarr.open_array(str(partial), mode="w", shape=codes.shape, chunks=codes.chunksize,
                                dtype=codes.dtype)
        writer = da.store(codes, store, lock=False, compute=False)
        with _progress(progress):
            writer.compute(**settings)
    store.attrs[_ATTR_CODEBOOK] = codebook.to_config()
    store.attrs[_ATTR_SHAPE] = list(darr.shape)
    store.attrs[_ATTR_DONE] = True
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)
    return codebook


def read_codes(path):
    """``(codes as a dask array, codebook)`` of a zarr array written by :func:`quantize_to_zarr`.

    Raises
    ------
    VQError
        When the array was not completely written or holds no codebook.
    """
    import dask.array as da
    import zarr

    from ._validation import VQError

    array = zarr.open_array(str(path), mode="r")
    if not array.attrs.get(_ATTR_DONE):
        raise VQError(f"{path}: not a complete vqimage output (interrupted, or written by something else).")
    codebook = Codebook.from_config(dict(array.attrs[_ATTR_CODEBOOK]))
    return da.from_zarr(array), codebook


def quantize_files(paths, outdir, n_levels: int, *, shared: bool = False, ext: str = ".vq", scheduler=None,
                   force: bool = False, **options) -> list[dict]:
    """Quantize many image files as Dask tasks into ``outdir/NAME.EXT`` (any export format).

    With ``shared=True`` one codebook is fitted on the sum of every file's
    histogram (computed as tasks too) and applied to each. Returns one record
    per file: input, output, n_levels, bytes (or error).
    """
    import dask

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = [str(p) for p in paths]
    with _scheduler(scheduler) as settings:
        codebook = None
        if shared:
            parts = [dask.delayed(_file_histogram)(p) for p in paths]
            (total,) = dask.compute(_tree_sum(parts), **settings)
            codebook = fit_codebook(total, n_levels, **options)
        tasks = [dask.delayed(_quantize_file)(p, str(outdir / f"{Path(p).stem}{ext}"), n_levels, codebook, force,
                                              options) for p in paths]
        (records,) = dask.compute(tasks, **settings)
    return records


def _file_histogram(path):
    from .io import load_image

    return image_histogram(load_image(path))


def _quantize_file(path, target, n_levels, codebook, force, options):
    from .io import load_image
    from .pack.export import export

    try:
        image = load_image(path)
        cb = codebook if codebook is not None else fit_codebook(image, n_levels, **options)
        info = export(target, cb.encode(image), cb, force=force)
        return {"input": path, "output": target, "n_levels": cb.n_levels, "bytes": info["bytes"], "error": None}
    except Exception as exc:  # one bad file is a record, not the end of the run
        return {"input": path, "output": target, "n_levels": None, "bytes": None,
                "error": " ".join(str(exc).split()) or type(exc).__name__}
