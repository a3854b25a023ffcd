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

Collections of files run as Dask tasks through :func:`vqimage.batch.quantize_files`
(``scheduler=``): the same engine as on threads.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from functools import partial
from pathlib import Path

import numpy as np

from ._optional import require
from ._validation import ConflictError, VQError
from .codebook import Codebook
from .histogram import Histogram
from .histogram import histogram as image_histogram
from .io import BUILTINS, DEFAULT_MAX_PIXELS, load_image
from .mapping import decode as decode_codes
from .mapping import encode as encode_codes
from .solvers import fit as fit_codebook

require("dask", "Dask processing (vqimage.distributed)")

__all__ = [
    "as_dask",
    "histogram",
    "fit",
    "encode",
    "decode",
    "quantize_to_zarr",
    "read_codes",
    "scheduler_settings",
    "dask_progress",
    "DEFAULT_CHUNK_BYTES",
]

#: Default chunk size when an input has no chunks of its own: 64 MiB.
DEFAULT_CHUNK_BYTES = 64 << 20
_ATTR_CODEBOOK = "vqimage_codebook"
_ATTR_DONE = "vqimage_complete"
_ATTR_SHAPE = "vqimage_image_shape"
# vqimage.quantize's options that do not apply chunk by chunk, with their "not given" values.
_UNCHUNKED = {"palette": None, "lock": None, "block": None, "target_psnr": None, "target_ssim": None,
              "max_error": None, "max_bytes": None, "dither": "none", "selective": False, "dither_strength": 1.0,
              "ssim": None, "space": None, "target_ssimulacra2": None, "ssimulacra2": False, "importance": None,
              "max_pixels": DEFAULT_MAX_PIXELS}


def as_dask(data, *, chunks=None):
    """A dask array from a dask/numpy array, a zarr array or path, a TIFF path (read lazily) or a built-in name.

    ``chunks`` may give fewer sizes than the array has axes: the other axes
    stay whole (``(4096,)``: row bands).
    """
    import dask.array as da

    if isinstance(data, str | os.PathLike) and not Path(data).exists() and str(data) in BUILTINS:
        data = load_image(str(data))  # a built-in: in memory, then chunked like any array
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory.")
        if path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            zarr = require("zarr", "Reading tiled TIFF files chunk by chunk")
            store = tifffile.imread(path, aszarr=True)
            array = zarr.open(store, mode="r")
            if isinstance(array, zarr.Group):
                array = array["0"]  # a multiscale pyramid: its full-resolution level
        else:
            zarr = require("zarr", "Reading zarr arrays")
            array = zarr.open(str(path), mode="r")
            if isinstance(array, zarr.Group):
                raise ValueError(f"{path} is a zarr group; pass the path of one of its arrays.")
        return da.from_zarr(array, chunks=_full(chunks, array.shape)) if chunks else da.from_zarr(array)
    if isinstance(data, da.Array):
        return data if chunks is None else data.rechunk(_full(chunks, data.shape))
    if hasattr(data, "chunks") and hasattr(data, "shape") and not isinstance(data, np.ndarray):
        return da.from_zarr(data, chunks=_full(chunks, data.shape)) if chunks else da.from_zarr(data)
    data = np.asarray(data)
    return da.from_array(data, chunks=_full(chunks, data.shape) if chunks else _default_chunks(data.shape, data.dtype))


def _full(chunks, shape):
    """Chunk sizes for every axis: the ones given, then whole axes."""
    if isinstance(chunks, int):
        chunks = (chunks,)
    chunks = tuple(chunks)
    return chunks + tuple(shape[len(chunks):])


def _default_chunks(shape, dtype):
    """Row bands of about DEFAULT_CHUNK_BYTES (the last axes whole)."""
    row = int(np.prod(shape[1:], dtype=np.int64)) * np.dtype(dtype).itemsize if len(shape) > 1 else 1
    rows = max(1, DEFAULT_CHUNK_BYTES // max(row, 1))
    return (min(rows, shape[0]),) + tuple(shape[1:]) if shape else ()


@contextlib.contextmanager
def scheduler_settings(scheduler):
    """Dask's compute settings for ``scheduler``: None (threads here), a name, or a distributed address."""
    import dask

    if scheduler is None:
        yield {}
    elif isinstance(scheduler, str) and "://" in scheduler:
        Client = require("distributed", "A dask.distributed cluster").Client

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


def dask_progress(enabled):
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
    with scheduler_settings(scheduler) as settings:
        data_range = None
        if darr.dtype.kind == "f":
            bins = bins or 65536
            low, high = dask.compute(darr.min(), darr.max(), **settings)
            data_range = (float(low), float(high))
        elif bins is not None:
            raise ValueError("The 'bins' parameter applies to float arrays; integers are counted exactly.")
        parts = [dask.delayed(_block_histogram)(block, bins, data_range) for block in darr.to_delayed().ravel()]
        with dask_progress(progress):
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
    return darr.map_blocks(encode_codes, codebook, dtype=codebook.code_dtype)


def decode(codes, codebook: Codebook, *, dtype=None):
    """Reconstruction of chunked codes, chunk by chunk (a lazy dask array)."""
    out = np.dtype(codebook.dtype if dtype is None else dtype)
    return as_dask(codes).map_blocks(partial(decode_codes, codebook=codebook, dtype=dtype), dtype=out)


def quantize_to_zarr(source, target, n_levels: int | None = None, *, codebook: Codebook | None = None,
                     chunks=None, scheduler=None, overwrite: bool = False, bins=None, progress: bool = False,
                     mode: str = "gray", **options) -> Codebook:
    """Fit (or take) a gray codebook for ``source`` and write its codes to the zarr array ``target``.

    ``source`` is anything :func:`as_dask` takes (an array, a zarr or TIFF
    path, a built-in name). The codes are written to ``target`` +
    ``.partial``, their attributes get the codebook and the image's shape,
    then ``vqimage_complete``; the folder is renamed to ``target`` only then.
    An existing ``target`` is replaced only with ``overwrite=True``.
    ``options`` go to :func:`vqimage.fit` (strategy, reconstruction);
    :func:`vqimage.quantize`'s other options (palettes, dithering, targets,
    blocks) are refused, chunk by chunk they do not apply. Returns the
    codebook.
    """
    import dask.array as da

    zarr = require("zarr", "Writing codes to zarr")
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; use overwrite=True (--force) to replace it.")
    unsupported = [f"'{k}'" for k, v in options.items() if k in _UNCHUNKED and v not in (None, _UNCHUNKED[k])]
    unsupported += ["'mode' color/block"] if mode not in ("auto", "gray") else []
    if unsupported:
        raise ConflictError(f"Chunked processing fits gray levels; it does not take {', '.join(unsupported)}.")
    options = {k: v for k, v in options.items() if k not in _UNCHUNKED and v is not None}
    if codebook is None and n_levels is None:
        raise ConflictError("Missing 'n_levels' (or give a 'codebook').")
    darr = as_dask(source, chunks=chunks)
    if darr.ndim == 3 and darr.shape[-1] in (3, 4):
        what = "this array" if isinstance(source, np.ndarray) or hasattr(source, "dask") else str(source)
        raise ValueError(f"Chunked processing fits gray levels; {what} has {darr.shape[-1]} channels.")
    with scheduler_settings(scheduler) as settings:
        if codebook is None:
            codebook = fit(darr, n_levels, bins=bins, scheduler=scheduler, progress=progress, **options)
        codes = encode(darr, codebook)
        staging = target.with_name(target.name + ".partial")
        if staging.exists():
            shutil.rmtree(staging)
        store = zarr.open_array(str(staging), mode="w", shape=codes.shape, chunks=codes.chunksize,
                                dtype=codes.dtype)
        writer = da.store(codes, store, lock=False, compute=False)
        with dask_progress(progress):
            writer.compute(**settings)
    store.attrs[_ATTR_CODEBOOK] = codebook.to_config()
    store.attrs[_ATTR_SHAPE] = list(darr.shape)
    store.attrs[_ATTR_DONE] = True
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return codebook


def read_codes(path):
    """``(codes as a dask array, codebook)`` of a zarr array written by :func:`quantize_to_zarr`.

    Raises
    ------
    VQError
        When the array was not completely written or holds no codebook.
    """
    import dask.array as da

    zarr = require("zarr", "Reading codes from zarr")
    array = zarr.open_array(str(path), mode="r")
    if not array.attrs.get(_ATTR_DONE):
        raise VQError(f"{path}: not a complete vqimage output (interrupted, or written by something else).")
    codebook = Codebook.from_config(dict(array.attrs[_ATTR_CODEBOOK]))
    return da.from_zarr(array), codebook
