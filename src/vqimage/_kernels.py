"""numba kernels for the per-pixel passes (counting and table look-up).

Measured on this project's 2-core machine (numpy 2.4, numba 0.68), the two
passes numpy offers are 2.5-5x slower than a compiled loop, because numpy
first widens the uint8/uint16 indices to intp:

=================================  ==========  ===========================
pass                               numpy        numba
=================================  ==========  ===========================
count 768x1024 uint8               0.88 ms     0.25 ms, 0.19 ms on 2 threads
encode 768x1024 uint8, 8 levels    0.58 ms     0.25 ms table, 0.04 ms compare
encode 2048x3072 uint16 (table)    11.4 ms     2.3 ms
pack 768x1024 codes at 3 bits      6.4 ms      0.7 ms
unpack the same                    2.9 ms      0.5 ms
=================================  ==========  ===========================

Up to 16 levels an unsigned image is encoded by counting the thresholds each
pixel exceeds, with the comparisons written out so that LLVM vectorises them
(16-32 pixels per instruction); above that, a table look-up, one gather per
pixel.

Kernels are compiled on first use with ``cache=True`` (the compiled code is
stored beside this file), so only the very first call of a new signature pays
the JIT. Import this module lazily: numba itself takes ~0.3 s to import.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["count_values", "apply_lut", "encode_by_comparison", "pack_bits", "unpack_bits"]


@numba.njit(cache=True, nogil=True, parallel=True)
def _count(a, nbins, parts):
    # One slice per thread; in each, four sub-histograms break the
    # store-to-load dependency on runs of equal values (flat image regions),
    # which otherwise serialise the loop.
    c = np.zeros((4 * parts, nbins), np.int64)
    step = (a.size // parts) // 4 * 4
    for part in numba.prange(parts):
        lo = part * step
        hi = a.size if part == parts - 1 else lo + step
        end4 = hi - (hi - lo) % 4
        row = 4 * part
        for i in range(lo, end4, 4):
            c[row, a[i]] += 1
            c[row + 1, a[i + 1]] += 1
            c[row + 2, a[i + 2]] += 1
            c[row + 3, a[i + 3]] += 1
        for i in range(end4, hi):
            c[row, a[i]] += 1
    out = np.zeros(nbins, np.int64)
    for r in range(4 * parts):
        for j in range(nbins):
            out[j] += c[r, j]
    return out


@numba.njit(cache=True, nogil=True)
def _lut(a, lut, out):
    for i in range(a.size):
        out[i] = lut[a[i]]


# Below this many values a second thread costs more than it saves.
_PARALLEL_MIN = 1 << 18


def count_values(flat: np.ndarray, nbins: int) -> np.ndarray:
    """Counts of each value of a 1-D uint8/uint16 array (``np.bincount``)."""
    # At most 8 slices: each holds 4 sub-histograms (16 MiB in all for uint16 at 8).
    parts = min(numba.get_num_threads(), 8, max(1, flat.size // _PARALLEL_MIN))
    return _count(np.ascontiguousarray(flat), nbins, parts)


def apply_lut(image: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """``lut[image]`` for uint8/uint16 indices, any shape, C-ordered output."""
    flat = np.ascontiguousarray(image).reshape(-1)
    out = np.empty(flat.size, lut.dtype)
    _lut(flat, np.ascontiguousarray(lut), out)
    return out.reshape(image.shape)


@numba.njit(cache=True, nogil=True)
def _compare7(a, t, base, out):
    t0, t1, t2, t3, t4, t5, t6 = t[0], t[1], t[2], t[3], t[4], t[5], t[6]
    for i in range(a.size):
        x = a[i]
        out[i] = base + ((x > t0) + (x > t1) + (x > t2) + (x > t3) + (x > t4) + (x > t5) + (x > t6))


@numba.njit(cache=True, nogil=True)
def _compare15(a, t, base, out):
    for i in range(a.size):
        x = a[i]
        out[i] = base + (
            (x > t[0]) + (x > t[1]) + (x > t[2]) + (x > t[3]) + (x > t[4]) + (x > t[5]) + (x > t[6])
            + (x > t[7]) + (x > t[8]) + (x > t[9]) + (x > t[10]) + (x > t[11]) + (x > t[12])
            + (x > t[13]) + (x > t[14])
        )


def encode_by_comparison(image: np.ndarray, above: np.ndarray, base: int) -> np.ndarray:
    """uint8 codes ``base + #{j : x > above[j]}`` of an unsigned image.

    ``above`` holds 7 or 15 values of the image's dtype (pad with the dtype's
    maximum, which no pixel exceeds).
    """
    flat = np.ascontiguousarray(image).reshape(-1)
    out = np.empty(flat.size, np.uint8)
    kernel = _compare7 if above.size == 7 else _compare15
    kernel(flat, above, np.uint8(base), out)
    return out.reshape(image.shape)


@numba.njit(cache=True, nogil=True)
def _pack(codes, bits, out):
    acc = np.uint64(0)
    pending = 0
    o = 0
    width = np.uint64(bits)
    for i in range(codes.size):
        acc = (acc << width) | np.uint64(codes[i])
        pending += bits
        while pending >= 8:
            pending -= 8
            out[o] = np.uint8((acc >> np.uint64(pending)) & np.uint64(0xFF))
            o += 1
    if pending > 0:
        out[o] = np.uint8((acc << np.uint64(8 - pending)) & np.uint64(0xFF))


@numba.njit(cache=True, nogil=True)
def _unpack(data, bits, out):
    acc = np.uint64(0)
    pending = 0
    p = 0
    mask = np.uint64((1 << bits) - 1)
    for i in range(out.size):
        while pending < bits:
            acc = (acc << np.uint64(8)) | np.uint64(data[p])  # high bits may drop off: unused
            p += 1
            pending += 8
        pending -= bits
        out[i] = (acc >> np.uint64(pending)) & mask
    # The padding bits after the last code, for the caller to check.
    return np.uint8(acc & np.uint64((1 << pending) - 1))


def pack_bits(flat: np.ndarray, bits: int, n_bytes: int) -> np.ndarray:
    """Codes (1-D uint8/uint16) as ``bits``-bit fields, most significant bit first."""
    out = np.empty(n_bytes, np.uint8)
    _pack(np.ascontiguousarray(flat), bits, out)
    return out


def unpack_bits(data: np.ndarray, bits: int, size: int, dtype) -> tuple[np.ndarray, int]:
    """Inverse of :func:`pack_bits`; also returns the value of the padding bits."""
    out = np.empty(size, dtype)
    padding = _unpack(data, bits, out)
    return out, int(padding)
