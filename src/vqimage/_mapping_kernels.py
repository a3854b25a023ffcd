"""numba kernels of stage 3: table look-ups, threshold comparisons, the exact nearest color.

Measured on this project's 2-core machine (numpy 2.4, numba 0.68):

=================================  ==========  ===========================
pass                               numpy        numba
=================================  ==========  ===========================
encode 768x1024 uint8, 8 levels    0.58 ms     0.25 ms table, 0.04 ms compare
encode 2048x3072 uint16 (table)    11.4 ms     2.3 ms
=================================  ==========  ===========================

Up to 16 levels an unsigned image is encoded by counting the thresholds each
pixel exceeds, with the comparisons written out so that LLVM vectorises them
(16-32 pixels per instruction); above that, a table look-up, one gather per
pixel. Colors and blocks go to their nearest codeword through the candidate
lists of :mod:`vqimage._cells`.

Import lazily: numba takes ~0.3 s to import.
"""

from __future__ import annotations

import numba
import numpy as np

from ._cells_kernels import candidates

__all__ = ["apply_lut", "encode_by_comparison", "nearest_codes"]


@numba.njit(cache=True, nogil=True)
def _lut(a, lut, out):
    for i in range(a.size):
        out[i] = lut[a[i]]


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


@numba.njit(cache=True, nogil=True, parallel=True)
def nearest_codes(vectors, centers, bits, out):
    """Write the nearest center of every uint8 row of ``vectors`` into ``out`` (exact; ties: lowest index)."""
    n, d = vectors.shape
    shift = 8 - bits
    ncell = 1 << (bits * d)
    cell = np.empty(n, np.int64)
    slot = np.full(ncell, -1, np.int64)
    for i in range(n):
        c = 0
        for j in range(d):
            c = (c << bits) | (vectors[i, j] >> shift)
        cell[i] = c
        slot[c] = 0
    m = 0
    for c in range(ncell):
        if slot[c] == 0:
            slot[c] = m
            m += 1
    cell_ids = np.empty(m, np.int64)
    for c in range(ncell):
        if slot[c] >= 0:
            cell_ids[slot[c]] = c
    start, items, _ = candidates(centers, cell_ids, bits, 0.0, 0.0)
    for i in numba.prange(n):
        t = slot[cell[i]]
        a = start[t]
        b = start[t + 1]
        best = np.inf
        arg = items[a]
        if b - a > 1:
            for q in range(a, b):
                c = items[q]
                dist = 0.0
                for j in range(d):
                    diff = vectors[i, j] - centers[c, j]
                    dist += diff * diff
                if dist < best:
                    best = dist
                    arg = c
        out[i] = arg


