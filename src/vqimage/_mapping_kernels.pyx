"""Compiled kernels of stage 3: table look-ups, threshold comparisons, the exact nearest color.

Measured on this project's 2-core machine: encoding 768x1024 uint8 at 8
levels takes 0.58 ms with numpy (``np.searchsorted``) against about 0.25 ms
through a table and 0.04 ms by comparisons; a 2048x3072 uint16 image through
its 65,536-entry table 11.4 ms with numpy indexing against about 2.3 ms.

Up to 16 levels an unsigned image is encoded by counting the thresholds each
pixel exceeds, written so that the compiler vectorises the comparisons; above
that, a table look-up, one gather per pixel. Colors and blocks go to their
nearest codeword through the candidate lists of :mod:`vqimage._cells_kernels`.
"""

from cython.parallel cimport prange
from libc.math cimport INFINITY
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from ._cells_kernels cimport Lists, candidate_lists, free_lists

import numpy as np

__all__ = ["apply_lut", "encode_by_comparison", "nearest_codes", "nearest_in_cells"]

ctypedef fused index_t:
    uint8_t
    uint16_t

# Table entries are copied bit for bit, so any dtype is its unsigned integer of the same width.
ctypedef fused entry_t:
    uint8_t
    uint16_t
    uint32_t
    uint64_t


cdef void _lut(const index_t[::1] a, const entry_t[::1] lut, entry_t[::1] out) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(a.shape[0]):
        out[i] = lut[a[i]]


def apply_lut(image, lut):
    """``lut[image]`` for uint8/uint16 indices, any shape, C-ordered output.

    ``lut`` must have an entry for every value of the index dtype (256 or 65,536).
    """
    image = np.asarray(image)
    flat = np.ascontiguousarray(image).reshape(-1)
    lut = np.ascontiguousarray(lut)
    if lut.ndim != 1 or lut.shape[0] < (1 << (8 * flat.dtype.itemsize)) or flat.dtype.kind != "u":
        raise ValueError(f"apply_lut: a {flat.dtype} index needs {1 << (8 * flat.dtype.itemsize)} table entries.")
    out = np.empty(flat.size, lut.dtype)
    width = lut.dtype.itemsize
    if width not in (1, 2, 4, 8):  # wider entries: numpy's own gather
        out[...] = lut[flat]
        return out.reshape(image.shape)
    bits = np.dtype(f"u{width}")
    if flat.dtype == np.uint8:
        _gather[uint8_t](flat, lut.view(bits), out.view(bits), width)
    else:
        _gather[uint16_t](flat, lut.view(bits), out.view(bits), width)
    return out.reshape(image.shape)


cdef _gather(const index_t[::1] a, lut, out, int width):
    cdef const uint8_t[::1] l8
    cdef const uint16_t[::1] l16
    cdef const uint32_t[::1] l32
    cdef const uint64_t[::1] l64
    cdef uint8_t[::1] o8
    cdef uint16_t[::1] o16
    cdef uint32_t[::1] o32
    cdef uint64_t[::1] o64
    if width == 1:
        l8, o8 = lut, out
        with nogil:
            _lut(a, l8, o8)
    elif width == 2:
        l16, o16 = lut, out
        with nogil:
            _lut(a, l16, o16)
    elif width == 4:
        l32, o32 = lut, out
        with nogil:
            _lut(a, l32, o32)
    else:
        l64, o64 = lut, out
        with nogil:
            _lut(a, l64, o64)


# The comparison loops in C, compiled three times (x86-64, AVX2, AVX-512; the
# loader picks the widest the CPU has, as GCC's target_clones do): measured on
# this machine for 768x1024 uint8 at 8 levels, 124 us with 16-byte vectors,
# 59 us with AVX2 and 47 us with AVX-512. Integer work: the codes are the same
# whichever version runs.
cdef extern from *:
    """
    #include <stdint.h>
    #if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
    #define VQ_WIDE __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define VQ_WIDE
    #endif
    #define VQ_COMPARE(NAME, T, K)                                                              \
    VQ_WIDE static void NAME(const T* restrict a, const T* restrict t, uint8_t base,               \
                             uint8_t* restrict out, Py_ssize_t n) {                                \
        T u[K];                                                                                     \
        for (int j = 0; j < K; j++) u[j] = t[j];                                                    \
        for (Py_ssize_t i = 0; i < n; i++) {                                                        \
            T x = a[i];                                                                             \
            uint8_t c = base;                                                                       \
            for (int j = 0; j < K; j++) c += (uint8_t)(x > u[j]);                                   \
            out[i] = c;                                                                             \
        }                                                                                           \
    }
    VQ_COMPARE(vq_compare7_u8, uint8_t, 7)
    VQ_COMPARE(vq_compare15_u8, uint8_t, 15)
    VQ_COMPARE(vq_compare7_u16, uint16_t, 7)
    VQ_COMPARE(vq_compare15_u16, uint16_t, 15)
    """
    void vq_compare7_u8(const uint8_t* a, const uint8_t* t, uint8_t base, uint8_t* out, Py_ssize_t n) nogil
    void vq_compare15_u8(const uint8_t* a, const uint8_t* t, uint8_t base, uint8_t* out, Py_ssize_t n) nogil
    void vq_compare7_u16(const uint16_t* a, const uint16_t* t, uint8_t base, uint8_t* out, Py_ssize_t n) nogil
    void vq_compare15_u16(const uint16_t* a, const uint16_t* t, uint8_t base, uint8_t* out, Py_ssize_t n) nogil


def encode_by_comparison(image, above, int base):
    """uint8 codes ``base + #{j : x > above[j]}`` of an unsigned image.

    ``above`` holds 7 or 15 values of the image's dtype (pad with the dtype's
    maximum, which no pixel exceeds).
    """
    image = np.asarray(image)
    flat = np.ascontiguousarray(image).reshape(-1)
    above = np.ascontiguousarray(above, flat.dtype)
    if above.shape[0] not in (7, 15):
        raise ValueError(f"encode_by_comparison takes 7 or 15 thresholds. Got {above.shape[0]}.")
    out = np.empty(flat.size, np.uint8)
    if flat.dtype == np.uint8:
        _compare[uint8_t](flat, above, base, out)
    else:
        _compare[uint16_t](flat, above, base, out)
    return out.reshape(image.shape)


cdef _compare(const index_t[::1] a, const index_t[::1] t, uint8_t base, uint8_t[::1] out):
    cdef Py_ssize_t n = a.shape[0]
    if n == 0:
        return
    with nogil:
        if index_t is uint8_t:
            if t.shape[0] == 7:
                vq_compare7_u8(&a[0], &t[0], base, &out[0], n)
            else:
                vq_compare15_u8(&a[0], &t[0], base, &out[0], n)
        else:
            if t.shape[0] == 7:
                vq_compare7_u16(&a[0], &t[0], base, &out[0], n)
            else:
                vq_compare15_u16(&a[0], &t[0], base, &out[0], n)


ctypedef fused code_t:
    uint8_t
    uint16_t
    int64_t


cdef int _nearest(const uint8_t[:, ::1] vectors, const double[:, ::1] centers, int bits, code_t[::1] out):
    cdef Py_ssize_t n = vectors.shape[0], d = vectors.shape[1], i, j, c, m = 0, t, a, b, q
    cdef int shift = 8 - bits
    cdef Py_ssize_t ncell = <Py_ssize_t>1 << (bits * d)
    cdef int64_t item
    cdef double best, dist, diff
    cdef Lists lists
    cdef int status
    cell_arr = np.empty(n, np.int64)
    slot_arr = np.full(ncell, -1, np.int64)
    cdef int64_t[::1] cell = cell_arr, slot = slot_arr
    with nogil:
        for i in range(n):
            c = 0
            for j in range(d):
                c = (c << bits) | (vectors[i, j] >> shift)
            cell[i] = c
            slot[c] = 0
        for c in range(ncell):
            if slot[c] == 0:
                slot[c] = m
                m += 1
    ids_arr = np.empty(m, np.int64)
    cdef int64_t[::1] ids = ids_arr
    with nogil:
        for c in range(ncell):
            if slot[c] >= 0:
                ids[slot[c]] = c
        status = candidate_lists(centers, ids, bits, 0.0, 0.0, &lists)
        if status == 0:
            for i in prange(n, schedule="static"):
                t = slot[cell[i]]
                a = lists.start[t]
                b = lists.start[t + 1]
                best = INFINITY
                item = lists.items[a]
                if b - a > 1:
                    for q in range(a, b):
                        c = lists.items[q]
                        dist = 0.0
                        for j in range(d):
                            diff = vectors[i, j] - centers[c, j]
                            dist = dist + diff * diff
                        if dist < best:
                            best = dist
                            item = c
                out[i] = <code_t>item
            free_lists(&lists)
    return status


def nearest_codes(vectors, centers, int bits, out):
    """Write the nearest center of every uint8 row of ``vectors`` into ``out`` (exact; ties: lowest index).

    ``out`` is a uint8, uint16 or int64 array with one entry per row.
    """
    cdef const uint8_t[:, ::1] v = np.ascontiguousarray(vectors, np.uint8)
    cdef const double[:, ::1] cv = np.ascontiguousarray(centers, np.float64)
    cdef uint8_t[::1] o8
    cdef uint16_t[::1] o16
    cdef int64_t[::1] o64
    cdef int status
    if v.shape[1] != cv.shape[1] or out.shape[0] != v.shape[0]:
        raise ValueError("nearest_codes: vectors, centers and out do not match.")
    if out.dtype == np.uint8:
        o8 = out
        status = _nearest(v, cv, bits, o8)
    elif out.dtype == np.uint16:
        o16 = out
        status = _nearest(v, cv, bits, o16)
    else:
        o64 = out
        status = _nearest(v, cv, bits, o64)
    if status < 0:
        raise MemoryError("Not enough memory for the candidate lists.")


def nearest_in_cells(points, cell_start, cell_ids, int bits, double extent, centers):
    """Nearest center (exact; ties: lowest index) of real-valued points grouped by cell; int64 codes.

    Points ``cell_start[t]:cell_start[t + 1]`` lie in cell ``cell_ids[t]``,
    whose box spans ``[lo, lo + width - 1 + extent]`` per component (see
    :func:`vqimage._cells_kernels.cell_candidates`): the fit's grid, for
    points in a color space other than the 8-bit cube.
    """
    cdef const double[:, ::1] p = np.ascontiguousarray(points, np.float64)
    cdef const int64_t[::1] cs = np.ascontiguousarray(cell_start, np.int64)
    cdef const int64_t[::1] ids = np.ascontiguousarray(cell_ids, np.int64)
    cdef const double[:, ::1] cv = np.ascontiguousarray(centers, np.float64)
    cdef Py_ssize_t n = p.shape[0], d = p.shape[1], m = ids.shape[0], t, i, q, j
    cdef int64_t c, item
    cdef double best, dist, diff
    cdef Lists lists
    cdef int status = 0
    if cs.shape[0] != m + 1 or cs[m] != n or cv.shape[1] != d or cv.shape[0] < 1:
        raise ValueError("nearest_in_cells: points, cells and centers do not match.")
    out_arr = np.empty(n, np.int64)
    cdef int64_t[::1] out = out_arr
    if n == 0:
        return out_arr
    with nogil:
        status = candidate_lists(cv, ids, bits, extent, 0.0, &lists)
        if status == 0:
            for t in prange(m, schedule="static"):
                for i in range(cs[t], cs[t + 1]):
                    best = INFINITY
                    item = lists.items[lists.start[t]]
                    for q in range(lists.start[t], lists.start[t + 1]):
                        c = lists.items[q]
                        dist = 0.0
                        for j in range(d):
                            diff = p[i, j] - cv[c, j]
                            dist = dist + diff * diff
                        if dist < best or (dist == best and c < item):
                            best = dist
                            item = c
                    out[i] = item
            free_lists(&lists)
    if status < 0:
        raise MemoryError("Not enough memory for the candidate lists.")
    return out_arr
