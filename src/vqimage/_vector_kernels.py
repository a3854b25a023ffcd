"""numba kernels of vector quantization: color cells, box splits, exact nearest search.

Everything works on 8-bit vectors (colors, pixel blocks) and is exact:

* ``unique_cells`` groups the distinct vectors by *cell* (the top ``bits`` of
  every component), with their total weights: a counting sort, O(n).
* ``split_boxes`` is Wu's greedy variance split generalised to any number of
  components: start from one box holding every point, and repeatedly cut the
  box whose best axis-aligned cut (between two cell planes) removes the most
  squared error, until there are ``k`` boxes. With cell-level moments each cut
  is a counting sort plus prefix sums.
* ``merge_clusters`` is the pairwise-nearest-neighbour method (Ward merges):
  from many small clusters, repeatedly merge the pair whose merge adds the
  least squared error. Splitting into a few times ``k`` boxes then merging
  down to ``k`` starts Lloyd's iterations closer to a good optimum than either
  alone (Fränti et al., "Fast and memory efficient implementation of the
  exact PNN", IEEE TIP 2000).
* ``lloyd`` runs exact weighted Lloyd iterations with Hamerly's bounds, the
  searches it cannot skip going through the candidate lists below;
  ``hartigan`` then moves single points where that lowers the error.
* ``cell_candidates`` lists, for each occupied cell, every codeword that can be
  the nearest one to *some* point of the cell's box: those whose smallest
  distance to the box is at most the smallest largest distance of any codeword
  (a codeword nearest to a point p of the box is within d(p, c) <= maxdist(c)
  of it for every c). Lists are built coarse-to-fine (a fine cell only filters
  its coarse parent's list), so a search compares a pixel with one to a few
  codewords instead of k. A search over a list returns the least distance, ties
  to the lowest index: the same answer as a brute-force scan.

Import lazily: numba takes ~0.3 s to import.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "cell_bits",
    "unique_cells",
    "weighted_sums",
    "split_boxes",
    "merge_clusters",
    "cell_candidates",
    "candidates",
    "lloyd",
    "hartigan",
    "nearest_codes",
]

# Relative and absolute slack on the candidate test: a superset stays exact.
_REL = 1e-9
# Chunks of cells per parallel assignment pass (a few per core: balance).
_CHUNKS = 8
_ABS = 1e-6


def cell_bits(d: int) -> int:
    """Bits per component of a cell of d-component vectors: cell ids index dense tables of <= 2**20 slots."""
    return max(1, min(6, 20 // d))


@numba.njit(cache=True, nogil=True)
def unique_cells(vectors, weights, bits):
    """Distinct rows of uint8 ``vectors`` (n, d) grouped by cell, and their summed weights.

    Returns ``(uniques (u, d) uint8, counts (u,) float64, cell_start (m + 1,),
    cell_ids (m,) int64, inverse (n,) int32)``: uniques are grouped by cell in
    increasing cell id; cell ``j`` (id ``cell_ids[j]``) holds uniques
    ``cell_start[j]:cell_start[j + 1]``; ``inverse`` maps each input row to its unique.
    """
    n, d = vectors.shape
    shift = 8 - bits
    low_mask = (1 << shift) - 1
    ncell = 1 << (bits * d)
    # int32 tables: half the memory traffic of the counting sort.
    cell = np.empty(n, np.int32)
    start = np.zeros(ncell + 1, np.int32)
    for i in range(n):
        c = 0
        for j in range(d):
            c = (c << bits) | (vectors[i, j] >> shift)
        cell[i] = c
        start[c + 1] += 1
    for c in range(ncell):
        start[c + 1] += start[c]
    order = np.empty(n, np.int32)
    fill = start[:-1].copy()
    for i in range(n):
        c = cell[i]
        order[fill[c]] = i
        fill[c] += 1
    table = np.full(1 << (shift * d), -1, np.int64)
    uniques = np.empty((n, d), np.uint8)
    counts = np.zeros(n, np.float64)
    inverse = np.empty(n, np.int32)
    cell_ids = np.empty(n, np.int64)
    cell_start = np.empty(n + 1, np.int64)
    u = 0
    m = 0
    for c in range(ncell):
        a = start[c]
        b = start[c + 1]
        if a == b:
            continue
        cell_ids[m] = c
        cell_start[m] = u
        m += 1
        first = u
        for t in range(a, b):
            i = order[t]
            key = 0
            for j in range(d):
                key = (key << shift) | (vectors[i, j] & low_mask)
            s = table[key]
            if s < 0:
                s = u
                table[key] = u
                for j in range(d):
                    uniques[u, j] = vectors[i, j]
                u += 1
            counts[s] += weights[i]
            inverse[i] = s
        for s in range(first, u):
            key = 0
            for j in range(d):
                key = (key << shift) | (uniques[s, j] & low_mask)
            table[key] = -1
    cell_start[m] = u
    return uniques[:u].copy(), counts[:u].copy(), cell_start[: m + 1].copy(), cell_ids[:m].copy(), inverse


@numba.njit(cache=True, nogil=True)
def weighted_sums(points, weights, labels, k):
    """Per-label total weight (k,) and weighted sum of points (k, d)."""
    n, d = points.shape
    wsum = np.zeros(k, np.float64)
    vsum = np.zeros((k, d), np.float64)
    for i in range(n):
        a = labels[i]
        w = weights[i]
        wsum[a] += w
        for j in range(d):
            vsum[a, j] += w * points[i, j]
    return wsum, vsum


@numba.njit(cache=True, nogil=True)
def _best_cut(order, lo, hi, coords, w, s, levels, hist_w, hist_s):
    """Best cut of the box ``order[lo:hi]``: (gain, axis, plane). gain -1 when it cannot be cut."""
    d = s.shape[1]
    total_w = 0.0
    total_s = np.zeros(d)
    for t in range(lo, hi):
        i = order[t]
        total_w += w[i]
        for j in range(d):
            total_s[j] += s[i, j]
    base = 0.0
    for j in range(d):
        base += total_s[j] * total_s[j]
    base /= total_w
    best_gain = -1.0
    best_axis = -1
    best_plane = -1
    left_s = np.zeros(d)
    for axis in range(d):
        hist_w[:] = 0.0
        hist_s[:, :] = 0.0
        top = 0
        for t in range(lo, hi):
            i = order[t]
            g = coords[i, axis]
            if g > top:
                top = g
            hist_w[g] += w[i]
            for j in range(d):
                hist_s[g, j] += s[i, j]
        left_w = 0.0
        left_s[:] = 0.0
        for g in range(top):  # cutting after plane g < top leaves points on both sides
            if hist_w[g] == 0.0:
                continue  # same cut as the previous plane
            left_w += hist_w[g]
            for j in range(d):
                left_s[j] += hist_s[g, j]
            right_w = total_w - left_w
            a = 0.0
            b = 0.0
            for j in range(d):
                a += left_s[j] * left_s[j]
                r = total_s[j] - left_s[j]
                b += r * r
            gain = a / left_w + b / right_w - base
            if gain > best_gain:
                best_gain = gain
                best_axis = axis
                best_plane = g
    return best_gain, best_axis, best_plane


@numba.njit(cache=True, nogil=True)
def split_boxes(coords, w, s, k, levels):
    """Greedy variance splitting of weighted points into at most ``k`` boxes.

    ``coords`` (n, d) int are the points' cell coordinates in ``[0, levels)``
    (cuts fall between cell planes), ``w`` their weights and ``s`` (n, d)
    their weighted sums. Returns the label (box) of every point and the
    number of boxes (fewer than ``k`` when no box can be cut further).
    """
    n, d = coords.shape
    order = np.arange(n)
    box_lo = np.zeros(k, np.int64)
    box_hi = np.zeros(k, np.int64)
    gain = np.full(k, -1.0)
    axis = np.zeros(k, np.int64)
    plane = np.zeros(k, np.int64)
    hist_w = np.zeros(levels)
    hist_s = np.zeros((levels, d))
    box_hi[0] = n
    gain[0], axis[0], plane[0] = _best_cut(order, 0, n, coords, w, s, levels, hist_w, hist_s)
    nbox = 1
    scratch = np.empty(n, np.int64)
    while nbox < k:
        b = np.argmax(gain[:nbox])
        if gain[b] < 0.0:
            break
        lo = box_lo[b]
        hi = box_hi[b]
        ax = axis[b]
        pl = plane[b]
        # Stable partition: points at or below the plane first.
        left = lo
        right = 0
        for t in range(lo, hi):
            i = order[t]
            if coords[i, ax] <= pl:
                order[left] = i
                left += 1
            else:
                scratch[right] = i
                right += 1
        for t in range(right):
            order[left + t] = scratch[t]
        box_hi[b] = left
        box_lo[nbox] = left
        box_hi[nbox] = hi
        gain[b], axis[b], plane[b] = _best_cut(order, lo, left, coords, w, s, levels, hist_w, hist_s)
        gain[nbox], axis[nbox], plane[nbox] = _best_cut(order, left, hi, coords, w, s, levels, hist_w, hist_s)
        nbox += 1
    labels = np.empty(n, np.int64)
    for b in range(nbox):
        for t in range(box_lo[b], box_hi[b]):
            labels[order[t]] = b
    return labels, nbox


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
    chunks = min(m, _CHUNKS)
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


@numba.njit(cache=True, nogil=True, inline="always")
def _search_all(points, i, centers):
    """Nearest (ties: lowest index) and second-nearest distance over every center."""
    k, d = centers.shape
    b1 = np.inf
    b2 = np.inf
    arg = -1
    for c in range(k):
        dist = 0.0
        for j in range(d):
            diff = points[i, j] - centers[c, j]
            dist += diff * diff
        if dist < b1:
            b2 = b1
            b1 = dist
            arg = c
        elif dist < b2:
            b2 = dist
    return arg, np.sqrt(b1), np.sqrt(b2)


@numba.njit(cache=True, nogil=True, inline="always")
def _search_listed(points, i, centers, items, a, b, movers, n_movers, reach):
    """Nearest center of point i and a lower bound on the distance to any other.

    Candidates are ``items[a:b]`` and the centers that moved past the lists'
    margin; a result farther than ``reach`` (the distance every other center
    is known to exceed) is checked against every center.
    """
    d = points.shape[1]
    b1 = np.inf
    b2 = np.inf
    arg = -1
    for q in range(a, b + n_movers):
        c = items[q] if q < b else movers[q - b]
        dist = 0.0
        for j in range(d):
            diff = points[i, j] - centers[c, j]
            dist += diff * diff
        if dist < b1 or (dist == b1 and c < arg):
            if c != arg:
                b2 = b1
            b1 = dist
            arg = c
        elif dist < b2 and c != arg:
            b2 = dist
    b1 = np.sqrt(b1)
    if b1 > reach:
        # Some unlisted center may be nearer: scan them all. The lower bound
        # stays capped at reach: unlisted centers move without lowering it.
        arg, b1, b2 = _search_all(points, i, centers)
        return arg, b1, min(b2, reach)
    return arg, b1, min(np.sqrt(b2), reach)


@numba.njit(cache=True, nogil=True, parallel=True)
def _assign_pass(points, weights, cell_start, corner, slot, bits, centers, start, items, radius, margin, movers,
                 n_movers, delta, labels, upper, lower, wsum, vsum, counts):
    """One assignment pass over every cell, in parallel over chunks of cells.

    ``corner[t]`` is cell t's lowest corner; its candidates are list
    ``slot[t]`` (the list of a cell containing it). Moves each point whose
    nearest center changed (its label, and its weight and weighted
    coordinates in ``wsum`` / ``vsum``, merged from per-chunk sums), updating
    its bounds; ``counts`` gets the number of searches and of changes.
    Centers neither in the cell's list nor moving are beyond
    ``radius[slot[t]] - margin`` (they moved <= margin since the list was
    built); a moving center matters to a cell only once it is within that
    reach of the cell's box.
    """
    d = points.shape[1]
    m = corner.shape[0]
    k = centers.shape[0]
    width = float(1 << (8 - bits))
    chunks = min(m, _CHUNKS)
    dw = np.zeros((chunks, k))
    dv = np.zeros((chunks, k, d))
    tally = np.zeros((chunks, 2), np.int64)
    for chunk in numba.prange(chunks):
        near_movers = np.empty(max(n_movers, 1), np.int64)
        for t in range(chunk * m // chunks, (chunk + 1) * m // chunks):
            u = slot[t]
            first = start[u]
            last = start[u + 1]
            reach = radius[u] - margin
            step = 0.0
            for q in range(first, last):
                step = max(step, delta[items[q]])
            n_near = 0
            if n_movers:
                limit = reach * reach
                for q in range(n_movers):
                    c = movers[q]
                    gap = 0.0
                    for j in range(d):
                        x = centers[c, j]
                        low = corner[t, j]
                        gap += max(low - x, x - (low + width - 1.0), 0.0) ** 2
                        if gap >= limit:
                            break
                    if gap < limit:
                        near_movers[n_near] = c
                        n_near += 1
                        step = max(step, delta[c])
            for i in range(cell_start[t], cell_start[t + 1]):
                a = labels[i]
                if a >= 0:  # else: the first pass, every point is searched
                    upper[i] += delta[a]
                    lower[i] -= step
                    bound = lower[i]
                    if upper[i] <= bound:
                        continue
                    dd = 0.0
                    for j in range(d):
                        diff = points[i, j] - centers[a, j]
                        dd += diff * diff
                    upper[i] = np.sqrt(dd)
                    if upper[i] <= bound:
                        continue
                b, d1, d2 = _search_listed(points, i, centers, items, first, last, near_movers, n_near, reach)
                tally[chunk, 0] += 1
                upper[i] = d1
                lower[i] = d2
                if b != a:
                    tally[chunk, 1] += 1
                    w = weights[i]
                    if a >= 0:
                        dw[chunk, a] -= w
                        for j in range(d):
                            dv[chunk, a, j] -= w * points[i, j]
                    dw[chunk, b] += w
                    for j in range(d):
                        dv[chunk, b, j] += w * points[i, j]
                    labels[i] = b
    for chunk in range(chunks):
        counts[0] += tally[chunk, 0]
        counts[1] += tally[chunk, 1]
        for c in range(k):
            wsum[c] += dw[chunk, c]
            for j in range(d):
                vsum[c, j] += dv[chunk, c, j]


@numba.njit(cache=True, nogil=True)
def lloyd(points, weights, cell_start, cell_ids, bits, centers, fixed, max_iter, tol, stats, relax=1.0):
    """Weighted Lloyd iterations, exact and accelerated; returns ``(centers, labels, n_iter)``.

    Points ``cell_start[t]:cell_start[t + 1]`` lie in cell ``cell_ids[t]``.
    A point is searched for its nearest center only when bounds cannot show
    its center is unchanged (Hamerly: an upper bound on the distance to its
    own center, a lower bound on the distance to any other, both moved by how
    far the centers in question moved), and then only among its cell's
    candidates (:func:`cell_candidates`, built with a margin) plus the few
    centers that have drifted past that margin since the lists were built;
    the lists are rebuilt when those are too many. The centers' sums are
    updated from the points that changed. The assignment pass runs on every
    core (one parallel region per iteration: ~3 us on a quiet machine). Stops when no point changes center, after ``max_iter``
    iterations, or when the centers' total squared move is at most ``tol``.
    ``fixed`` centers never move, and a center left without points stays
    where it is. ``stats`` (int64, 3) accumulates the iterations, searches
    and list rebuilds. ``relax`` > 1 over-relaxes the updates (a center
    moves ``relax`` times the way to its centroid; 1 is Lloyd's step).
    Candidate lists are kept for cells one bit coarser than the points'
    (cheaper to rebuild, a few more candidates per search; measured best
    against 0, 2 and 3 bits coarser).
    """
    n, d = points.shape
    k = centers.shape[0]
    centers = centers.copy()
    labels = np.full(n, -1, np.int64)
    upper = np.full(n, np.inf)
    lower = np.zeros(n)
    wsum = np.zeros(k)
    vsum = np.zeros((k, d))
    margin = 1.0
    max_movers = max(4, min(8, k // 16))
    # Candidate lists of coarser cells (each holding several of the points'
    # cells): ~10x cheaper to rebuild, a few more candidates per search.
    list_bits = max(1, bits - 1)
    drop = bits - list_bits
    fmask = (1 << bits) - 1
    parent = np.zeros(cell_ids.size, np.int64)
    for t in range(cell_ids.size):
        for j in range(d):
            g = (cell_ids[t] >> ((d - 1 - j) * bits)) & fmask
            parent[t] = (parent[t] << list_bits) | (g >> drop)
    list_ids = np.unique(parent)
    slot = np.searchsorted(list_ids, parent)
    start, items, radius = candidates(centers, list_ids, list_bits, 0.0, margin)
    drift = np.zeros(k)
    movers = np.empty(k, np.int64)
    n_movers = 0
    delta = np.zeros(k)
    counts = np.zeros(2, np.int64)
    corner = np.empty((cell_ids.size, d))
    for t in range(cell_ids.size):
        for j in range(d):
            corner[t, j] = ((cell_ids[t] >> ((d - 1 - j) * bits)) & fmask) * float(1 << (8 - bits))
    _assign_pass(points, weights, cell_start, corner, slot, bits, centers, start, items, radius, margin, movers, 0,
                 delta, labels, upper, lower, wsum, vsum, counts)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        moved = 0.0
        for c in range(k):
            delta[c] = 0.0
            if fixed[c] or wsum[c] <= 0.0:
                continue
            dd = 0.0
            for j in range(d):
                new = centers[c, j] + relax * (vsum[c, j] / wsum[c] - centers[c, j])
                diff = new - centers[c, j]
                dd += diff * diff
                centers[c, j] = new
            delta[c] = np.sqrt(dd)
            moved += dd
        if moved <= tol:
            break
        for c in range(k):
            was = drift[c] > margin
            drift[c] += delta[c]
            if not was and drift[c] > margin:
                movers[n_movers] = c
                n_movers += 1
        if n_movers > max_movers:
            # Rebuild around where the centers are now; bounds stay valid.
            step = 0.0
            for c in range(k):
                step = max(step, delta[c])
            margin = max(0.5, 2.0 * step)
            start, items, radius = candidates(centers, list_ids, list_bits, 0.0, margin)
            stats[2] += 1
            drift[:] = 0.0
            n_movers = 0
        counts[1] = 0
        _assign_pass(points, weights, cell_start, corner, slot, bits, centers, start, items, radius, margin, movers,
                     n_movers, delta, labels, upper, lower, wsum, vsum, counts)
        if counts[1] == 0:
            break
    stats[0] += n_iter
    stats[1] += counts[0]
    return centers, labels, n_iter


@numba.njit(cache=True, nogil=True)
def _nearest_pair(i, centers, weights, alive):
    """Cheapest Ward merge partner of cluster i: (partner, cost)."""
    m, d = centers.shape
    best = np.inf
    arg = -1
    for j in range(m):
        if j == i or not alive[j]:
            continue
        dist = 0.0
        for q in range(d):
            diff = centers[i, q] - centers[j, q]
            dist += diff * diff
        cost = dist * weights[i] * weights[j] / (weights[i] + weights[j])
        if cost < best:
            best = cost
            arg = j
    return arg, best


@numba.njit(cache=True, nogil=True, parallel=True)
def _all_pairs(centers, weights, alive, partner, cost):
    for i in numba.prange(centers.shape[0]):
        partner[i], cost[i] = _nearest_pair(i, centers, weights, alive)


@numba.njit(cache=True, nogil=True)
def merge_clusters(centers, weights, k):
    """Ward-merge clusters (centroids, weights) down to ``k``; returns the ``k`` centroids.

    Each step merges the pair that adds the least squared error. Ward's cost
    is reducible (a merged cluster is never cheaper to merge with than its
    parts were), so only clusters whose partner took part in a merge need a
    new partner search.
    """
    m, d = centers.shape
    centers = centers.copy()
    weights = weights.copy()
    alive = np.ones(m, np.bool_)
    partner = np.empty(m, np.int64)
    cost = np.empty(m)
    _all_pairs(centers, weights, alive, partner, cost)
    for _ in range(m - k):
        i = -1
        best = np.inf
        for t in range(m):
            if alive[t] and cost[t] < best:
                best = cost[t]
                i = t
        j = partner[i]
        total = weights[i] + weights[j]
        for q in range(d):
            centers[i, q] = (weights[i] * centers[i, q] + weights[j] * centers[j, q]) / total
        weights[i] = total
        alive[j] = False
        for t in range(m):
            if alive[t] and (t == i or partner[t] == i or partner[t] == j):
                partner[t], cost[t] = _nearest_pair(t, centers, weights, alive)
    out = np.empty((k, d))
    q = 0
    for t in range(m):
        if alive[t]:
            out[q] = centers[t]
            q += 1
    return out


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


@numba.njit(cache=True, nogil=True)
def hartigan(points, weights, cell_start, cell_ids, bits, centers, labels, fixed, max_pass, stats):
    """Hartigan's point moves after Lloyd; returns the centers (``labels`` updated in place).

    A point of weight ``w`` leaves center ``a`` (total weight ``W_a``) for
    ``b`` when that lowers the total squared error, counting the move of
    both centers: ``w W_b / (W_b + w) |x - c_b|^2 < w W_a / (W_a - w) |x - c_a|^2``.
    Centers are updated after every move. Lloyd's fixed points are not always
    Hartigan's, so this finds a lower error (Telgarsky & Vattani, "Hartigan's
    method: k-means clustering without Voronoi", AISTATS 2010). Targets ``b``
    come from the cell's candidate list; a pass with no move, or
    ``max_pass`` passes, ends it. ``fixed`` centers neither gain nor
    lose points. ``stats`` (int64, 2) accumulates passes and moves.
    """
    n, d = points.shape
    k = centers.shape[0]
    centers = centers.copy()
    wsum = np.zeros(k)
    vsum = np.zeros((k, d))
    for i in range(n):
        a = labels[i]
        wsum[a] += weights[i]
        for j in range(d):
            vsum[a, j] += weights[i] * points[i, j]
    for c in range(k):
        if wsum[c] > 0.0 and not fixed[c]:
            for j in range(d):
                centers[c, j] = vsum[c, j] / wsum[c]
    m = cell_ids.size
    # Targets: the centers that could be nearest to a cell's points, listed
    # once (margin 1). As centers move, a list may miss a target; that only
    # skips a move, never makes a wrong one. Wider margins measured no better.
    start, items, _ = candidates(centers, cell_ids, bits, 0.0, 2.0)
    for _ in range(max_pass):
        stats[0] += 1
        moves = 0
        for t in range(m):
            for i in range(cell_start[t], cell_start[t + 1]):
                a = labels[i]
                w = weights[i]
                if fixed[a] or wsum[a] - w <= 1e-12 * w:
                    continue
                da = 0.0
                for j in range(d):
                    diff = points[i, j] - centers[a, j]
                    da += diff * diff
                best = w * wsum[a] / (wsum[a] - w) * da
                arg = a
                for q in range(start[t], start[t + 1]):
                    b = items[q]
                    if b == a or fixed[b]:
                        continue
                    factor = w * wsum[b] / (wsum[b] + w)
                    db = 0.0
                    for j in range(d):
                        diff = points[i, j] - centers[b, j]
                        db += diff * diff
                    if factor * db < best:
                        best = factor * db
                        arg = b
                if arg != a:
                    moves += 1
                    wsum[a] -= w
                    wsum[arg] += w
                    for j in range(d):
                        vsum[a, j] -= w * points[i, j]
                        vsum[arg, j] += w * points[i, j]
                        centers[a, j] = vsum[a, j] / wsum[a]
                        centers[arg, j] = vsum[arg, j] / wsum[arg]
                    labels[i] = arg
        stats[1] += moves
        if moves == 0:
            break
    return centers
