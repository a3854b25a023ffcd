"""Stage 4: exact fixed-width bit packing of codes.

``n_levels`` codes need ``ceil(log2(n_levels))`` bits each: 8 gray levels are
3 bits per pixel, so a 768x1024 image packs into exactly 294,912 bytes. Codes
are written most significant bit first, one after another with no padding
between them; only the last byte is padded with zero bits. The output is raw
(no header): the shape and the number of levels travel beside it, as in the
``.vq`` container.

:func:`pack_rows` packs 1, 2, 4 or 8 bits per code with every row starting
on a byte, the layout of PNG scanlines and e-paper frame buffers.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import Interval, VQError, check_param
from ..codebook import code_dtype

__all__ = ["pack", "unpack", "packed_size", "bits_per_code", "pack_rows", "unpack_rows"]


def bits_per_code(n_levels: int) -> int:
    """``ceil(log2(n_levels))``: 0 for a single level, 3 for 8, 16 for 65,536."""
    check_param("n_levels", n_levels, Interval(int, 1, 65536), caller="bits_per_code")
    return int(n_levels - 1).bit_length()


def packed_size(n_codes: int, n_levels: int) -> int:
    """Exact size in bytes of ``n_codes`` packed codes: ``ceil(n_codes * bits / 8)``."""
    return math.ceil(int(n_codes) * bits_per_code(n_levels) / 8)


def pack(codes, n_levels: int) -> bytes:
    """Pack codes into exactly ``ceil(codes.size * ceil(log2(n_levels)) / 8)`` bytes.

    Parameters
    ----------
    codes : array_like of non-negative ints, any shape
        Read in C order. Every code must be < ``n_levels``.
    n_levels : int in [1, 65536]

    Returns
    -------
    bytes

    Examples
    --------
    >>> import numpy as np
    >>> data = pack(np.array([0, 1, 2, 3, 4, 5, 6, 7]), 8)   # 8 codes x 3 bits
    >>> len(data), data.hex()
    (3, '053977')
    >>> unpack(data, 8, (2, 4))
    array([[0, 1, 2, 3],
           [4, 5, 6, 7]], dtype=uint8)
    """
    bits = bits_per_code(n_levels)
    codes = np.asarray(codes)
    if codes.dtype.kind not in "ui":
        raise TypeError(f"The 'codes' parameter of pack must be an integer array. Got dtype {codes.dtype}.")
    flat = codes.reshape(-1)
    if flat.size and (int(flat.min()) < 0 or int(flat.max()) >= n_levels):
        raise ValueError(
            f"The 'codes' parameter of pack must lie in [0, {n_levels - 1}] for n_levels="
            f"{n_levels}. Got values in [{int(flat.min())}, {int(flat.max())}]."
        )
    if bits == 0:
        return b""
    if bits == 8:
        return flat.astype(np.uint8).tobytes()
    if bits == 16:
        return flat.astype(">u2").tobytes()
    from ._bits_kernels import pack_bits

    return pack_bits(flat.astype(code_dtype(n_levels), copy=False), bits, packed_size(flat.size, n_levels)).tobytes()


def unpack(data, n_levels: int, shape) -> np.ndarray:
    """Inverse of :func:`pack`: codes of the given shape, smallest unsigned dtype.

    Raises
    ------
    VQError
        When ``data`` does not have the exact packed size for ``shape`` and
        ``n_levels``, or holds a code >= ``n_levels``, or non-zero padding.
    """
    bits = bits_per_code(n_levels)
    try:
        shape = tuple(int(s) for s in np.atleast_1d(shape))
    except (TypeError, ValueError):
        raise ValueError(f"The 'shape' parameter of unpack must be a tuple of ints. Got {shape!r}.") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"The 'shape' parameter of unpack must be non-negative. Got {shape!r}.")
    size = math.prod(shape)
    buffer = np.frombuffer(memoryview(data), dtype=np.uint8)
    expected = math.ceil(size * bits / 8)
    if buffer.size != expected:
        raise VQError(
            f"Packed data has {buffer.size} bytes; {size} codes of {bits} bits need exactly {expected}."
        )
    out_dtype = code_dtype(n_levels)
    if bits == 0:
        return np.zeros(shape, out_dtype)
    if bits == 8:
        codes = buffer.copy()
    elif bits == 16:
        codes = buffer.view(">u2").astype(np.uint16)
    else:
        from ._bits_kernels import unpack_bits

        codes, padding = unpack_bits(buffer, bits, size, out_dtype)
        if padding:
            raise VQError("Packed data has non-zero padding bits after the last code.")
    if codes.size and int(codes.max()) >= n_levels:
        raise VQError(f"Packed data holds code {int(codes.max())} >= n_levels={n_levels}.")
    return codes.reshape(shape)


def pack_rows(codes: np.ndarray, bits: int) -> np.ndarray:
    """(H, ceil(W * bits / 8)) uint8 of 2-D uint8 codes: MSB first, each row padded to a byte with zeros.

    ``bits`` is 1, 2, 4 or 8 and every code must be < ``2 ** bits`` (the
    caller checks).

    Examples
    --------
    >>> pack_rows(np.array([[1, 0, 1], [0, 1, 1]], np.uint8), 1)
    array([[160],
           [ 96]], dtype=uint8)
    """
    if bits == 8:
        return codes
    per_byte = 8 // bits
    height, width = codes.shape
    row_bytes = -(-width // per_byte)
    padded = np.zeros((height, row_bytes * per_byte), np.uint8)
    padded[:, :width] = codes
    shifts = (bits * np.arange(per_byte - 1, -1, -1)).astype(np.uint8)
    return np.bitwise_or.reduce(padded.reshape(height, row_bytes, per_byte) << shifts, axis=-1)


def unpack_rows(rows: np.ndarray, width: int, bits: int) -> np.ndarray:
    """Inverse of :func:`pack_rows`: (H, width) uint8 codes; the padding bits are ignored."""
    if bits == 8:
        return rows[:, :width].copy()
    per_byte = 8 // bits
    shifts = (bits * np.arange(per_byte - 1, -1, -1)).astype(np.uint8)
    fields = (rows[:, :, None] >> shifts) & np.uint8((1 << bits) - 1)
    return np.ascontiguousarray(fields.reshape(rows.shape[0], -1)[:, :width])
