"""numba kernels of the color-cell grid (:mod:`vqimage._cells`): candidate lists per cell.

Shared by the vector fit (Lloyd, Hartigan), the nearest-color map and
dithering. Import lazily: numba takes ~0.3 s to import.
"""

from __future__ import annotations

import numba
import numpy as np

from ._cells import CHUNKS

__all__ = ["cell_candidates", "candidates"]

# Relative and absolute slack on the candidate test: a superset stays exact.
_REL = 1e-9
_ABS = 1e-6


@numba.njit(cache=True, nogil=True, inline="always")
def _filter(centers, parent, lo, hi, margin, out, radius):
    """Write into ``out`` the codewords of ``parent`` that may be nearest in box [lo, hi]; return their count.

    With ``margin`` > 0 the list stays exact while no codeword moves farther
    than ``margin`` from where it is now. ``radius[0]`` is set to a distance
    every codeword left out was beyond, from every point of the box.
    """
    d = centers.shape[1]
    n = parent.size
    near = np.empty(n)
    thr = np.inf
    for t in range(n):
        c = parent[t]
        far = 0.0
        gap = 0.0
        for j in range(d):
            x = centers[c, j]
            below = lo[j] - x
            above = x - hi[j]
            # Largest distance to the box along j, and the distance outside it.
            far += max(-below, -above) ** 2
            gap += max(below, above, 0.0) ** 2
        near[t] = gap
        thr = min(thr, far)
    thr = np.sqrt(thr) + 2.0 * margin
    thr = thr * thr * (1.0 + _REL) + _ABS
    radius[0] = np.sqrt(thr)
    count = 0
    for t in range(n):
        if near[t] <= thr:
            out[count] = parent[t]
            count += 1
    return count


@numba.njit(cache=True, nogil=True)
def cell_candidates(centers, cell_ids, bits, extent, margin):
    """Candidate lists ``(start, items, radius)`` of the cells ``cell_ids`` (at ``bits`` per component).

    A cell's box spans ``[lo, lo + width - 1 + extent]`` per component with
    ``width = 2**(8 - bits)``: ``extent=0`` for integer points, ``1`` for any
    real point of the cell. The lists stay exact while every codeword
    stays within ``margin`` of where it is now (a codeword nearest to a point
    then was within ``sqrt(thr) + 2 * margin`` of it before moving). Lists are built down a pyramid of cells, 1 bit
    per component at a time, each cell filtering its parent's list, and only
    for the ancestors of the cells asked for. Codewords left out of cell
    ``t``'s list were farther than ``radius[t]`` from every point of its box
    when the list was built.
    """
    k, d = centers.shape
    m = cell_ids.size
    # Levels b = 1 .. bits - 1 keep a dense map cell -> its list in ``pool``
    # (first item, count, radius); -1 = not built yet. The finest level
    # writes straight into ``items``.
    offsets = np.zeros(bits + 1, np.int64)
    for b in range(1, bits):
        offsets[b + 1] = offsets[b] + (1 << (b * d))
    first = np.full(offsets[bits], -1, np.int64)
    length = np.zeros(offsets[bits], np.int64)
    level_radius = np.zeros(offsets[bits])
    pool = np.empty(16 * k, np.int64)
    used = 0
    every = np.arange(k)
    lo = np.empty(d)
    hi = np.empty(d)
    scratch = np.empty(k, np.int64)
    ancestors = np.empty(bits + 1, np.int64)
    rad = np.empty(1)
    fmask = (1 << bits) - 1
    start = np.empty(m + 1, np.int64)
    radius = np.empty(m)
    items = np.empty(max(4 * m, k), np.int64)
    nitems = 0
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
                reach = np.inf
            else:
                slot = offsets[b - 1] + ancestors[b - 1]
                parent = pool[first[slot] : first[slot] + length[slot]]
                reach = level_radius[slot]
            width = float(1 << (8 - b))
            mask = (1 << b) - 1
            for j in range(d):
                g = (ancestors[b] >> ((d - 1 - j) * b)) & mask
                lo[j] = g * width
                hi[j] = lo[j] + width - 1.0 + extent
            count = _filter(centers, parent, lo, hi, margin, scratch, rad)
            reach = min(reach, rad[0])
            if b == bits:
                if nitems + count > items.size:
                    grown = np.empty(2 * (nitems + count), np.int64)
                    grown[:nitems] = items[:nitems]
                    items = grown
                start[t] = nitems
                radius[t] = reach
                items[nitems : nitems + count] = scratch[:count]
                nitems += count
            else:
                if used + count > pool.size:
                    grown = np.empty(2 * (used + count), np.int64)
                    grown[:used] = pool[:used]
                    pool = grown
                pool[used : used + count] = scratch[:count]
                slot = offsets[b] + ancestors[b]
                first[slot] = used
                length[slot] = count
                level_radius[slot] = reach
                used += count
    start[m] = nitems
    return start, items[:nitems].copy(), radius


@numba.njit(cache=True, nogil=True, parallel=True)
def candidates(centers, cell_ids, bits, extent, margin):
    """:func:`cell_candidates` on every core: the cells split in chunks, lists joined in order."""
    m = cell_ids.size
    chunks = min(m, CHUNKS)
    if chunks <= 1 or m < 2048:
        return cell_candidates(centers, cell_ids, bits, extent, margin)
    starts = [np.empty(0, np.int64)] * chunks
    lists = [np.empty(0, np.int64)] * chunks
    radii = [np.empty(0)] * chunks
    for chunk in numba.prange(chunks):
        lo = chunk * m // chunks
        hi = (chunk + 1) * m // chunks
        starts[chunk], lists[chunk], radii[chunk] = cell_candidates(centers, cell_ids[lo:hi], bits, extent, margin)
    total = 0
    for chunk in range(chunks):
        total += lists[chunk].size
    start = np.empty(m + 1, np.int64)
    items = np.empty(total, np.int64)
    radius = np.empty(m)
    offset = 0
    for chunk in range(chunks):
        lo = chunk * m // chunks
        hi = (chunk + 1) * m // chunks
        start[lo:hi] = starts[chunk][:-1] + offset
        items[offset : offset + lists[chunk].size] = lists[chunk]
        radius[lo:hi] = radii[chunk]
        offset += lists[chunk].size
    start[m] = offset
    return start, items, radius


