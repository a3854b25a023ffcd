"""Stage 3: image -> codes (a table look-up or a search), codes -> image.

Gray codebooks
--------------
Integer images of 8 or 16 bits are encoded by counting the thresholds each
pixel reaches (unsigned, up to 16 levels: vectorised comparisons) or through a
look-up table with one entry per possible value (256 or 65,536 entries); the
tables are built once per codebook and dtype. Wider integers and floats go
through a binary search of the codebook's thresholds. Codes come in the
smallest unsigned dtype: uint8 up to 256 levels, uint16 above.
"""

from __future__ import annotations

import math

import numpy as np

from ._cells import cell_bits
from ._spaces import space_cells, to_space
from ._validation import Options, check_image, check_param
from ._vectors import check_vector_image, image_blocks, join_blocks, with_channels
from .codebook import Codebook
from .dither import DITHER_METHODS, dither_codes

__all__ = ["encode", "decode"]


def encode(image, codebook: Codebook, *, dither: str = "none", dither_strength: float = 1.0,
           selective: bool = False, serpentine: bool = True) -> np.ndarray:
    """Code of every pixel of ``image``: the bin of the codebook it falls in.

    Parameters
    ----------
    image : array_like of int or float, any shape
        Gray codebooks: any shape; color: (..., 3 | 4) uint8; block: 2-D uint8.
    codebook : Codebook
    dither : {'none', 'floyd-steinberg', 'atkinson', 'sierra', 'ordered'}
        Dither 2-D gray or (H, W, d) color images (see :mod:`vqimage.dither`).
    dither_strength : float in [0, 1]
        How much of the error is diffused (ordered: the threshold amplitude).
    selective : bool
        Dither only where it helps: smooth gradients, not flat areas or
        edges (see :func:`vqimage.dither.dither_codes`); with
        ``dither='none'`` it uses Floyd-Steinberg.
    serpentine : bool
        Error diffusion alternates the row direction.

    Returns
    -------
    codes : ndarray of uint8 (<= 256 levels) or uint16, same shape as ``image``
        (without the channel axis for colors; one per tile for blocks)

    Examples
    --------
    >>> import numpy as np, vqimage
    >>> cb = vqimage.fit(np.array([0, 10, 20, 30], dtype=np.uint8), 2)
    >>> encode(np.array([[0, 14], [16, 255]], dtype=np.uint8), cb)
    array([[0, 0],
           [1, 1]], dtype=uint8)
    """
    _check_codebook(codebook, "encode")
    check_param("dither", dither, Options(DITHER_METHODS), caller="encode")
    if dither != "none" or selective:
        return _dithered(image, codebook, dither, dither_strength, selective, serpentine)
    if codebook.mode != "gray":
        return _encode_vectors(image, codebook)
    image = check_image(image, caller="encode")
    if image.dtype.kind == "u" and image.dtype.itemsize <= 2 and codebook.n_levels <= 16:
        from ._mapping_kernels import encode_by_comparison

        above, base = _comparison_table(codebook, image.dtype)
        return encode_by_comparison(image, above, base)
    if image.dtype.kind in "ui" and image.dtype.itemsize <= 2:
        from ._mapping_kernels import apply_lut

        udtype = np.dtype(f"u{image.dtype.itemsize}")
        return apply_lut(image.view(udtype), _encode_lut(codebook, image.dtype))
    codes = np.searchsorted(codebook.thresholds, image, side="right")
    return codes.astype(codebook.code_dtype, copy=False)


def decode(codes, codebook: Codebook, *, dtype=None, shape=None) -> np.ndarray:
    """Reconstruction of an image from its codes.

    Parameters
    ----------
    codes : array_like of unsigned or signed ints, any shape (2-D for blocks)
        Values in ``[0, codebook.n_levels)``.
    codebook : Codebook
    dtype : numpy dtype, optional
        Output dtype; default the dtype the codebook was fitted on. Integer
        dtypes get the levels rounded half to even (and clipped to the dtype's
        range); ask for ``np.float64`` to get the exact levels.
    shape : (int, int), optional
        Block codebooks: the image's shape, to crop the padded tiles to.

    Returns
    -------
    ndarray of ``dtype``: the shape of ``codes`` (gray), ``codes.shape + (d,)``
    (color), or ``shape`` (blocks; default ``codes.shape`` times the block)

    Examples
    --------
    >>> import numpy as np, vqimage
    >>> cb = vqimage.fit(np.array([0, 1, 10, 11], dtype=np.uint8), 2)
    >>> decode(np.array([0, 1, 1], dtype=np.uint8), cb)
    array([ 0, 10, 10], dtype=uint8)
    >>> decode(np.array([0, 1, 1], dtype=np.uint8), cb, dtype=np.float64)
    array([ 0.5, 10.5, 10.5])
    """
    _check_codebook(codebook, "decode")
    codes = np.asarray(codes)
    if codes.dtype.kind not in "ui":
        raise TypeError(f"The 'codes' parameter of decode must be an integer array. Got dtype {codes.dtype}.")
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "uif":
            raise TypeError(f"The 'dtype' parameter of decode must be an int or float dtype. Got {dtype}.")
    if codes.size:
        low, high = int(codes.min()), int(codes.max())
        if low < 0 or high >= codebook.n_levels:
            raise ValueError(
                f"The 'codes' parameter of decode must lie in [0, {codebook.n_levels - 1}] "
                f"for a {codebook.n_levels}-level codebook. Got values in [{low}, {high}]."
            )
    if codebook.mode == "block":
        return _decode_blocks(codes, codebook, dtype, shape)
    if shape is not None:
        raise ValueError("The 'shape' parameter of decode applies to block codebooks only.")
    if codebook.mode == "gray" and codes.dtype.kind == "u" and codes.dtype.itemsize <= 2:
        from ._mapping_kernels import apply_lut

        return apply_lut(codes, _decode_lut(codebook, dtype, codes.dtype))
    return np.take(codebook.levels_as(dtype), codes, axis=0)  # 4x quicker than levels[codes] for rows


def _dithered(image, codebook, method, strength, selective, serpentine):
    if codebook.mode == "block":
        raise ValueError("Dithering applies to gray and color codebooks, not to blocks.")
    image = np.asarray(image)
    if codebook.mode == "color":
        image = with_channels(image, codebook.n_components)
    thresholds = codebook.thresholds if codebook.mode == "gray" else None
    codes = dither_codes(image, codebook.levels, method="floyd-steinberg" if method == "none" else method,
                         strength=strength, serpentine=serpentine, selective=selective, thresholds=thresholds,
                         space=codebook.space)
    if codebook.mode == "color" and codebook.n_components == 4:
        _clear_to_transparent(codes, image, codebook)
    return codes


def _encode_vectors(image, codebook: Codebook) -> np.ndarray:
    from ._mapping_kernels import nearest_codes

    image = check_vector_image(image, mode=codebook.mode, caller="encode")
    d = codebook.n_components
    if codebook.mode == "block":
        vectors, grid = image_blocks(image, codebook.block)
        shape = grid
    else:
        image = with_channels(image, d)
        vectors = image.reshape(-1, d)
        shape = image.shape[:-1]
    if codebook.space != "rgb":
        codes = _nearest_in_space(vectors, codebook).reshape(shape)
    else:
        centers = codebook.derived("centers", lambda cb: np.ascontiguousarray(cb.levels_as(np.float64)))
        codes = np.empty(vectors.shape[0], codebook.code_dtype)
        nearest_codes(np.ascontiguousarray(vectors), centers, cell_bits(d), codes)
        codes = codes.reshape(shape)
    if codebook.mode == "color" and d == 4:
        _clear_to_transparent(codes, image, codebook)
    return codes


def _nearest_in_space(vectors, codebook: Codebook) -> np.ndarray:
    """Codes of 8-bit RGB(A) rows by the nearest codeword in the codebook's space (exact; ties: lowest code).

    Each distinct color is searched once, on the fit's grid laid over the
    space; pixels take their color's code.
    """
    from ._histogram_kernels import unique_cells
    from ._mapping_kernels import nearest_in_cells

    uniques, _, _, _, inverse = unique_cells(np.ascontiguousarray(vectors), None, cell_bits(vectors.shape[1]), True)
    points, order, cell_start, cell_ids, bits = space_cells(uniques, codebook.space)
    # The levels converted as dither_codes converts them, so that both search the same points.
    centers = codebook.derived(("centers", codebook.space),
                               lambda cb: np.ascontiguousarray(to_space(cb.levels, cb.space)))
    found = nearest_in_cells(points, cell_start, cell_ids, bits, 1.0, centers)
    per_color = np.empty(uniques.shape[0], codebook.code_dtype)
    per_color[order] = found
    return per_color[inverse]


def _clear_to_transparent(codes, image, codebook):
    """Fully transparent pixels get the codebook's first fully transparent entry, if it has one."""
    clear = np.flatnonzero(codebook.levels[:, 3] == 0)
    if clear.size:
        codes[image[..., 3] == 0] = clear[0]


def _decode_blocks(codes, codebook, dtype, shape):
    if codes.ndim != 2:
        raise ValueError(f"Block codes are 2-D (one code per tile). Got shape {codes.shape}.")
    rows, cols = codebook.block
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        grid = (-(-shape[0] // rows), -(-shape[1] // cols)) if len(shape) == 2 else None
        if grid != codes.shape:
            raise ValueError(
                f"The 'shape' parameter of decode must be a 2-D shape tiled by {codes.shape} blocks of "
                f"{rows}x{cols}. Got {shape}."
            )
    return join_blocks(codebook.levels_as(dtype)[codes.reshape(-1)], codes.shape, codebook.block, shape)


def _check_codebook(codebook, caller):
    if not isinstance(codebook, Codebook):
        raise TypeError(
            f"The 'codebook' parameter of {caller} must be a vqimage Codebook. "
            f"Got {type(codebook).__name__} instead."
        )


def _encode_lut(codebook: Codebook, dtype: np.dtype) -> np.ndarray:
    """Code of every value of an 8/16-bit dtype, indexed by its unsigned view."""

    def build(cb):
        udtype = np.dtype(f"u{dtype.itemsize}")
        every = np.arange(1 << (8 * dtype.itemsize), dtype=np.int64).astype(udtype).view(dtype)
        return np.searchsorted(cb.thresholds, every, side="right").astype(cb.code_dtype)

    return codebook.derived(("encode", dtype.str), build)


def _decode_lut(codebook: Codebook, dtype, codes_dtype: np.dtype) -> np.ndarray:
    """Levels in ``dtype``, padded to every value of ``codes_dtype`` (checked codes never reach the pad)."""

    def build(cb):
        table = cb.levels_as(dtype)
        lut = np.zeros(1 << (8 * codes_dtype.itemsize), table.dtype)
        lut[: table.size] = table[: lut.size]
        return lut

    key = np.dtype(codebook.dtype if dtype is None else dtype).str
    return codebook.derived(("decode", key, codes_dtype.str), build)


def _comparison_table(codebook: Codebook, dtype: np.dtype) -> tuple[np.ndarray, int]:
    """``(above, base)`` with ``code(x) = base + #{j : x > above[j]}`` for every ``x`` of ``dtype``.

    For integers ``x >= t`` is ``x > ceil(t) - 1``. Thresholds every value
    reaches go into ``base``; ``above`` is padded to 7 or 15 entries with the
    dtype's maximum, which no value exceeds.
    """

    def build(cb):  # at most 15 thresholds: plain Python beats numpy's call overhead
        top = int(np.iinfo(dtype).max)
        above = [math.ceil(t) - 1 for t in cb.thresholds.tolist()]
        base = sum(a < 0 for a in above)
        above = [min(a, top) for a in above if a >= 0]
        width = 7 if cb.n_levels <= 8 else 15
        return np.array(above + [top] * (width - len(above)), dtype), base

    return codebook.derived(("compare", dtype.str), build)
