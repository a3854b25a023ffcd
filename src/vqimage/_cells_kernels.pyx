"""Compiled kernels of the color-cell grid (:mod:`vqimage._cells`): candidate lists per cell.

Shared by the vector fit (Lloyd, Hartigan), the nearest-color map and
dithering, which ``cimport`` the C-level functions declared in
``_cells_kernels.pxd``; :func:`cell_candidates` and :func:`candidates` are
the same for Python callers and tests.
"""

from cython.parallel cimport prange
from libc.math cimport INFINITY, sqrt
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy

import numpy as np

from ._cells import CHUNKS

__all__ = ["cell_candidates", "candidates"]

# Relative and absolute slack on the candidate test: a superset stays exact.
cdef double _REL = 1e-9
cdef double _ABS = 1e-6
cdef Py_ssize_t _CHUNKS = CHUNKS
# Below this many cells, one thread builds every list.
cdef Py_ssize_t _PARALLEL_MIN = 2048


cdef inline double _sq(double v) noexcept nogil:
    return v * v


cdef Py_ssize_t _filter(const double[:, ::1] centers, const int64_t* parent, Py_ssize_t n, const double* lo,
                        const double* hi, double margin, int64_t* out, double* near, double* radius) noexcept nogil:
    """Write into ``out`` the codewords of ``parent`` that may be nearest in box [lo, hi]; return their count.

    With ``margin`` > 0 the list stays exact while no codeword moves farther
    than ``margin`` from where it is now. ``radius[0]`` is set to a distance
    every codeword left out was beyond, from every point of the box.
    """
    cdef Py_ssize_t d = centers.shape[1], t, j, count = 0
    cdef int64_t c
    cdef double thr = INFINITY, far, gap, x, below, above
    for t in range(n):
        c = parent[t]
        far = 0.0
        gap = 0.0
        for j in range(d):
            x = centers[c, j]
            below = lo[j] - x
            above = x - hi[j]
            # Largest distance to the box along j, and the distance outside it.
            far += _sq(-below if -below >= -above else -above)
            gap += _sq(max(max(below, above), 0.0))
        near[t] = gap
        thr = min(thr, far)
    thr = sqrt(thr) + 2.0 * margin
    thr = thr * thr * (1.0 + _REL) + _ABS
    radius[0] = sqrt(thr)
    for t in range(n):
        if near[t] <= thr:
            out[count] = parent[t]
            count += 1
    return count


cdef int _grow(int64_t** array, Py_ssize_t* size, Py_ssize_t need) noexcept nogil:
    cdef int64_t* grown
    if need <= size[0]:
        return 0
    grown = <int64_t*>realloc(array[0], 2 * need * sizeof(int64_t))
    if grown == NULL:
        return -1
    array[0] = grown
    size[0] = 2 * need
    return 0


cdef void free_lists(Lists* lists) noexcept nogil:
    free(lists.start)
    free(lists.items)
    free(lists.radius)
    lists.start = NULL
    lists.items = NULL
    lists.radius = NULL


cdef int cell_lists(const double[:, ::1] centers, const int64_t[::1] cell_ids, int bits, double extent,
                    double margin, Lists* out) noexcept nogil:
    """Candidate lists of the cells ``cell_ids`` (at ``bits`` per component); see :func:`cell_candidates`.

    Returns 0, or -1 when memory runs out (then nothing is left allocated).
    """
    cdef Py_ssize_t k = centers.shape[0], d = centers.shape[1], m = cell_ids.shape[0]
    cdef Py_ssize_t b, j, t, top, slot, count, used = 0, nitems = 0, levels
    cdef int64_t cid, a, g, fmask = (<int64_t>1 << bits) - 1, mask
    cdef double width, reach, rad = 0.0
    cdef Py_ssize_t pool_size = max(16 * k, 1), items_size = max(4 * m, k, 1)
    cdef const int64_t* parent
    cdef Py_ssize_t parent_n
    cdef int failed = 0
    # Levels b = 1 .. bits - 1 keep a dense map cell -> its list in ``pool``
    # (first item, count, radius); -1 = not built yet. The finest level
    # writes straight into ``items``.
    cdef int64_t offsets[17]
    offsets[0] = 0
    offsets[1] = 0
    for b in range(1, bits):
        offsets[b + 1] = offsets[b] + (<int64_t>1 << (b * d))
    levels = max(<Py_ssize_t>offsets[bits], 1)
    cdef int64_t* first = <int64_t*>malloc(levels * sizeof(int64_t))
    cdef int64_t* length = <int64_t*>malloc(levels * sizeof(int64_t))
    cdef double* level_radius = <double*>malloc(levels * sizeof(double))
    cdef int64_t* pool = <int64_t*>malloc(pool_size * sizeof(int64_t))
    cdef int64_t* every = <int64_t*>malloc(max(k, 1) * sizeof(int64_t))
    cdef int64_t* scratch = <int64_t*>malloc(max(k, 1) * sizeof(int64_t))
    cdef double* near = <double*>malloc(max(k, 1) * sizeof(double))
    cdef double lo[16]
    cdef double hi[16]
    cdef int64_t ancestors[17]
    out.start = <int64_t*>malloc((m + 1) * sizeof(int64_t))
    out.radius = <double*>malloc(max(m, 1) * sizeof(double))
    out.items = <int64_t*>malloc(items_size * sizeof(int64_t))
    out.m = m
    out.nitems = 0
    if (first == NULL or length == NULL or level_radius == NULL or pool == NULL or every == NULL
            or scratch == NULL or near == NULL or out.start == NULL or out.radius == NULL or out.items == NULL):
        failed = 1
    else:
        for t in range(levels):
            first[t] = -1
            length[t] = 0
            level_radius[t] = 0.0
        for t in range(k):
            every[t] = t
        for t in range(m):
            cid = cell_ids[t]
            for b in range(1, bits + 1):
                a = 0
                for j in range(d):
                    g = (cid >> ((d - 1 - j) * bits)) & fmask
                    a = (a << b) | (g >> (bits - b))
                ancestors[b] = a
            top = bits - 1
            while top >= 1 and first[offsets[top] + ancestors[top]] < 0:
                top -= 1
            for b in range(top + 1, bits + 1):
                if b == 1:
                    parent = every
                    parent_n = k
                    reach = INFINITY
                else:
                    slot = offsets[b - 1] + ancestors[b - 1]
                    parent = pool + first[slot]
                    parent_n = length[slot]
                    reach = level_radius[slot]
                width = <double>(1 << (8 - b))
                mask = (<int64_t>1 << b) - 1
                for j in range(d):
                    g = (ancestors[b] >> ((d - 1 - j) * b)) & mask
                    lo[j] = g * width
                    hi[j] = lo[j] + width - 1.0 + extent
                count = _filter(centers, parent, parent_n, lo, hi, margin, scratch, near, &rad)
                reach = min(reach, rad)
                if b == bits:
                    if _grow(&out.items, &items_size, nitems + count) < 0:
                        failed = 1
                        break
                    out.start[t] = nitems
                    out.radius[t] = reach
                    memcpy(out.items + nitems, scratch, count * sizeof(int64_t))
                    nitems += count
                else:
                    if _grow(&pool, &pool_size, used + count) < 0:
                        failed = 1
                        break
                    memcpy(pool + used, scratch, count * sizeof(int64_t))
                    slot = offsets[b] + ancestors[b]
                    first[slot] = used
                    length[slot] = count
                    level_radius[slot] = reach
                    used += count
            if failed:
                break
        out.start[m] = nitems
        out.nitems = nitems
    free(first)
    free(length)
    free(level_radius)
    free(pool)
    free(every)
    free(scratch)
    free(near)
    if failed:
        free_lists(out)
        return -1
    return 0


cdef int candidate_lists(const double[:, ::1] centers, const int64_t[::1] cell_ids, int bits, double extent,
                         double margin, Lists* out) noexcept nogil:
    """:func:`cell_lists` on every core: the cells split in chunks, lists joined in order (the same lists)."""
    cdef Py_ssize_t m = cell_ids.shape[0], chunks = min(m, _CHUNKS), chunk, lo, hi, offset = 0, t
    cdef Lists parts[64]
    cdef int status[64]
    cdef int failed = 0
    if chunks <= 1 or m < _PARALLEL_MIN:
        return cell_lists(centers, cell_ids, bits, extent, margin, out)
    for chunk in prange(chunks, schedule="dynamic"):
        status[chunk] = cell_lists(centers, cell_ids[chunk * m // chunks:(chunk + 1) * m // chunks], bits, extent,
                                   margin, &parts[chunk])
    for chunk in range(chunks):
        if status[chunk] < 0:
            failed = 1
    if not failed:
        out.m = m
        out.nitems = 0
        for chunk in range(chunks):
            out.nitems += parts[chunk].nitems
        out.start = <int64_t*>malloc((m + 1) * sizeof(int64_t))
        out.items = <int64_t*>malloc(max(out.nitems, 1) * sizeof(int64_t))
        out.radius = <double*>malloc(m * sizeof(double))
        if out.start == NULL or out.items == NULL or out.radius == NULL:
            free_lists(out)
            failed = 1
        else:
            for chunk in range(chunks):
                lo = chunk * m // chunks
                hi = (chunk + 1) * m // chunks
                for t in range(lo, hi):
                    out.start[t] = parts[chunk].start[t - lo] + offset
                    out.radius[t] = parts[chunk].radius[t - lo]
                memcpy(out.items + offset, parts[chunk].items, parts[chunk].nitems * sizeof(int64_t))
                offset += parts[chunk].nitems
            out.start[m] = offset
    for chunk in range(chunks):
        free_lists(&parts[chunk])
    return -1 if failed else 0


cdef _as_arrays(Lists* lists):
    start = np.empty(lists.m + 1, np.int64)
    items = np.empty(lists.nitems, np.int64)
    radius = np.empty(lists.m, np.float64)
    cdef int64_t[::1] s = start, it = items
    cdef double[::1] r = radius
    if lists.m + 1:
        memcpy(&s[0], lists.start, (lists.m + 1) * sizeof(int64_t))
    if lists.nitems:
        memcpy(&it[0], lists.items, lists.nitems * sizeof(int64_t))
    if lists.m:
        memcpy(&r[0], lists.radius, lists.m * sizeof(double))
    free_lists(lists)
    return start, items, radius


def _lists(centers, cell_ids, int bits, double extent, double margin, bint parallel):
    cdef const double[:, ::1] cv = np.ascontiguousarray(centers, np.float64)
    cdef const int64_t[::1] ids = np.ascontiguousarray(cell_ids, np.int64)
    cdef Lists lists
    cdef int status
    if not 1 <= bits <= 8 or cv.shape[1] > 16 or cv.shape[0] < 1:
        raise ValueError("cell candidates need 1 <= bits <= 8, 1 to 16 components and at least one codeword.")
    with nogil:
        if parallel:
            status = candidate_lists(cv, ids, bits, extent, margin, &lists)
        else:
            status = cell_lists(cv, ids, bits, extent, margin, &lists)
    if status < 0:
        raise MemoryError("Not enough memory for the candidate lists.")
    return _as_arrays(&lists)


def cell_candidates(centers, cell_ids, int bits, double extent, double margin):
    """Candidate lists ``(start, items, radius)`` of the cells ``cell_ids`` (at ``bits`` per component).

    A cell's box spans ``[lo, lo + width - 1 + extent]`` per component with
    ``width = 2**(8 - bits)``: ``extent=0`` for integer points, ``1`` for any
    real point of the cell. The lists stay exact while every codeword
    stays within ``margin`` of where it is now (a codeword nearest to a point
    then was within ``sqrt(thr) + 2 * margin`` of it before moving). Lists are
    built down a pyramid of cells, 1 bit per component at a time, each cell
    filtering its parent's list, and only for the ancestors of the cells
    asked for. Codewords left out of cell ``t``'s list were farther than
    ``radius[t]`` from every point of its box when the list was built.
    """
    return _lists(centers, cell_ids, bits, extent, margin, False)


def candidates(centers, cell_ids, int bits, double extent, double margin):
    """:func:`cell_candidates` on every core: the cells split in chunks, lists joined in order."""
    return _lists(centers, cell_ids, bits, extent, margin, True)
