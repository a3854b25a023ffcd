"""Compiled kernels of the vector fit (stage 2): box splits, Ward merges, Lloyd, Hartigan.

Everything works on 8-bit vectors (colors, pixel blocks) and is exact:

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
  searches it cannot skip going through the candidate lists of
  :mod:`vqimage._cells_kernels`; ``hartigan`` then moves single points where that
  lowers the error.

The parallel passes split the work in a fixed number of chunks and merge
their sums in chunk order, so the results never depend on the thread count.
"""

from cython.parallel cimport prange
from libc.math cimport INFINITY, sqrt
from libc.stdint cimport int64_t, uint8_t
from libc.string cimport memset

from .._cells_kernels cimport Lists, candidate_lists, free_lists

import numpy as np

from .._cells import CHUNKS

__all__ = ["weighted_sums", "split_boxes", "merge_clusters", "lloyd", "hartigan"]

cdef Py_ssize_t _CHUNKS = CHUNKS


def weighted_sums(points, weights, labels, Py_ssize_t k):
    """Per-label total weight (k,) and weighted sum of points (k, d)."""
    cdef const double[:, ::1] p = np.ascontiguousarray(points, np.float64)
    cdef const double[::1] w = np.ascontiguousarray(weights, np.float64)
    cdef const int64_t[::1] lab = np.ascontiguousarray(labels, np.int64)
    cdef Py_ssize_t n = p.shape[0], d = p.shape[1], i, j
    cdef int64_t a
    wsum_arr, vsum_arr = np.zeros(k, np.float64), np.zeros((k, d), np.float64)
    cdef double[::1] wsum = wsum_arr
    cdef double[:, ::1] vsum = vsum_arr
    if w.shape[0] != n or lab.shape[0] != n:
        raise ValueError("weighted_sums: points, weights and labels differ in length.")
    with nogil:
        for i in range(n):
            a = lab[i]
            wsum[a] += w[i]
            for j in range(d):
                vsum[a, j] += w[i] * p[i, j]
    return wsum_arr, vsum_arr


cdef void _best_cut(const int64_t[::1] order, Py_ssize_t lo, Py_ssize_t hi, const int64_t[:, ::1] coords,
                    const double[::1] w, const double[:, ::1] s, double[::1] hist_w, double[:, ::1] hist_s,
                    double* total_s, double* left_s, double* out_gain, int64_t* out_axis,
                    int64_t* out_plane) noexcept nogil:
    """Best cut of the box ``order[lo:hi]``: (gain, axis, plane). gain -1 when it cannot be cut."""
    cdef Py_ssize_t d = s.shape[1], t, j, axis, g, top, i
    cdef double total_w = 0.0, base = 0.0, best_gain = -1.0, left_w, right_w, a, b, r, gain
    cdef int64_t best_axis = -1, best_plane = -1
    for j in range(d):
        total_s[j] = 0.0
    for t in range(lo, hi):
        i = order[t]
        total_w += w[i]
        for j in range(d):
            total_s[j] += s[i, j]
    for j in range(d):
        base += total_s[j] * total_s[j]
    base /= total_w
    for axis in range(d):
        memset(&hist_w[0], 0, hist_w.shape[0] * sizeof(double))
        memset(&hist_s[0, 0], 0, hist_s.shape[0] * hist_s.shape[1] * sizeof(double))
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
        for j in range(d):
            left_s[j] = 0.0
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
    out_gain[0] = best_gain
    out_axis[0] = best_axis
    out_plane[0] = best_plane


def split_boxes(coords, w, s, Py_ssize_t k, Py_ssize_t levels):
    """Greedy variance splitting of weighted points into at most ``k`` boxes.

    ``coords`` (n, d) int are the points' cell coordinates in ``[0, levels)``
    (cuts fall between cell planes), ``w`` their weights and ``s`` (n, d)
    their weighted sums. Returns the label (box) of every point and the
    number of boxes (fewer than ``k`` when no box can be cut further).
    """
    cdef const int64_t[:, ::1] cv = np.ascontiguousarray(coords, np.int64)
    cdef const double[::1] wv = np.ascontiguousarray(w, np.float64)
    cdef const double[:, ::1] sv = np.ascontiguousarray(s, np.float64)
    cdef Py_ssize_t n = cv.shape[0], d = cv.shape[1], nbox = 1, b, t, left, right, i, lo, hi
    cdef int64_t ax, pl
    if n and (np.min(coords) < 0 or np.max(coords) >= levels):
        raise ValueError(f"split_boxes: coordinates must lie in [0, {levels}).")
    order_arr = np.arange(n, dtype=np.int64)
    box_lo_arr, box_hi_arr = np.zeros(k, np.int64), np.zeros(k, np.int64)
    gain_arr, axis_arr, plane_arr = np.full(k, -1.0), np.zeros(k, np.int64), np.zeros(k, np.int64)
    hist_w_arr, hist_s_arr = np.zeros(levels), np.zeros((levels, d))
    scratch_arr, labels_arr = np.empty(n, np.int64), np.empty(n, np.int64)
    sums_arr = np.zeros(2 * max(d, 1))
    cdef int64_t[::1] order = order_arr, box_lo = box_lo_arr, box_hi = box_hi_arr, axis = axis_arr
    cdef int64_t[::1] plane = plane_arr, scratch = scratch_arr, labels = labels_arr
    cdef double[::1] gain = gain_arr, hist_w = hist_w_arr, sums = sums_arr
    cdef double[:, ::1] hist_s = hist_s_arr
    cdef double* total_s = &sums[0]
    cdef double* left_s = &sums[d] if d else &sums[0]
    cdef double best
    with nogil:
        box_hi[0] = n
        _best_cut(order, 0, n, cv, wv, sv, hist_w, hist_s, total_s, left_s, &gain[0], &axis[0], &plane[0])
        while nbox < k:
            b = 0  # np.argmax: the first box of the largest gain
            best = gain[0]
            for t in range(1, nbox):
                if gain[t] > best:
                    best = gain[t]
                    b = t
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
                if cv[i, ax] <= pl:
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
            _best_cut(order, lo, left, cv, wv, sv, hist_w, hist_s, total_s, left_s, &gain[b], &axis[b], &plane[b])
            _best_cut(order, left, hi, cv, wv, sv, hist_w, hist_s, total_s, left_s, &gain[nbox], &axis[nbox],
                      &plane[nbox])
            nbox += 1
        for b in range(nbox):
            for t in range(box_lo[b], box_hi[b]):
                labels[order[t]] = b
    return labels_arr, nbox


cdef inline double _sq(double v) noexcept nogil:
    return v * v


cdef void _search_all(const double[:, ::1] points, Py_ssize_t i, const double[:, ::1] centers, int64_t* arg,
                      double* d1, double* d2) noexcept nogil:
    """Nearest (ties: lowest index) and second-nearest distance over every center."""
    cdef Py_ssize_t k = centers.shape[0], d = centers.shape[1], c, j
    cdef double b1 = INFINITY, b2 = INFINITY, dist, diff
    cdef int64_t best = -1
    for c in range(k):
        dist = 0.0
        for j in range(d):
            diff = points[i, j] - centers[c, j]
            dist += diff * diff
        if dist < b1:
            b2 = b1
            b1 = dist
            best = c
        elif dist < b2:
            b2 = dist
    arg[0] = best
    d1[0] = sqrt(b1)
    d2[0] = sqrt(b2)


cdef void _search_listed(const double[:, ::1] points, Py_ssize_t i, const double[:, ::1] centers,
                         const int64_t* items, Py_ssize_t a, Py_ssize_t b, const int64_t* movers,
                         Py_ssize_t n_movers, double reach, int64_t* out_arg, double* out_d1,
                         double* out_d2) noexcept nogil:
    """Nearest center of point i and a lower bound on the distance to any other.

    Candidates are ``items[a:b]`` and the centers that moved past the lists'
    margin; a result farther than ``reach`` (the distance every other center
    is known to exceed) is checked against every center.
    """
    cdef Py_ssize_t d = points.shape[1], q, j
    cdef double b1 = INFINITY, b2 = INFINITY, dist, diff
    cdef int64_t arg = -1, c
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
    b1 = sqrt(b1)
    if b1 > reach:
        # Some unlisted center may be nearer: scan them all. The lower bound
        # stays capped at reach: unlisted centers move without lowering it.
        _search_all(points, i, centers, out_arg, out_d1, out_d2)
        out_d2[0] = min(out_d2[0], reach)
        return
    out_arg[0] = arg
    out_d1[0] = b1
    out_d2[0] = min(sqrt(b2), reach)


cdef void _assign_pass(const double[:, ::1] points, const double[::1] weights, const int64_t[::1] cell_start,
                       const double[:, ::1] corner, const int64_t[::1] slot, int bits, const double[:, ::1] centers,
                       Lists* lists, double margin, const int64_t[::1] movers, Py_ssize_t n_movers,
                       const double[::1] delta, int64_t[::1] labels, double[::1] upper, double[::1] lower,
                       double[::1] wsum, double[:, ::1] vsum, int64_t[::1] counts, double[:, ::1] dw,
                       double[:, :, ::1] dv, int64_t[:, ::1] tally, int64_t[:, ::1] near_movers,
                       double extent) noexcept nogil:
    """One assignment pass over every cell, in parallel over chunks of cells.

    ``corner[t]`` is cell t's lowest corner; its candidates are list
    ``slot[t]`` (the list of a cell containing it). Moves each point whose
    nearest center changed (its label, and its weight and weighted
    coordinates in ``wsum`` / ``vsum``, merged from per-chunk sums in chunk
    order, so the result never depends on the threads), updating its bounds;
    ``counts`` gets the number of searches and of changes. Centers neither in
    the cell's list nor moving are beyond ``radius[slot[t]] - margin`` (they
    moved <= margin since the list was built); a moving center matters to a
    cell only once it is within that reach of the cell's box.
    """
    cdef Py_ssize_t d = points.shape[1], m = corner.shape[0], k = centers.shape[0]
    cdef double span = <double>(1 << (8 - bits)) - 1.0 + extent  # a cell's box: [corner, corner + span]
    cdef Py_ssize_t chunks = min(m, _CHUNKS), chunk, t, q, j, i, first, last, n_near, c
    cdef int64_t u, a, b
    cdef double reach, step, limit, gap, x, low, bound, dd, diff, d1, d2, w
    memset(&dw[0, 0], 0, dw.shape[0] * dw.shape[1] * sizeof(double))
    memset(&dv[0, 0, 0], 0, dv.shape[0] * dv.shape[1] * dv.shape[2] * sizeof(double))
    memset(&tally[0, 0], 0, tally.shape[0] * tally.shape[1] * sizeof(int64_t))
    for chunk in prange(chunks, schedule="dynamic"):
        for t in range(chunk * m // chunks, (chunk + 1) * m // chunks):
            u = slot[t]
            first = lists.start[u]
            last = lists.start[u + 1]
            reach = lists.radius[u] - margin
            step = 0.0
            for q in range(first, last):
                step = max(step, delta[lists.items[q]])
            n_near = 0
            if n_movers:
                limit = reach * reach
                for q in range(n_movers):
                    c = movers[q]
                    gap = 0.0
                    for j in range(d):
                        x = centers[c, j]
                        low = corner[t, j]
                        gap = gap + _sq(max(max(low - x, x - (low + span)), 0.0))
                        if gap >= limit:
                            break
                    if gap < limit:
                        near_movers[chunk, n_near] = c
                        n_near = n_near + 1
                        step = max(step, delta[c])
            for i in range(cell_start[t], cell_start[t + 1]):
                a = labels[i]
                if a >= 0:  # else: the first pass, every point is searched
                    upper[i] += delta[a]
                    # Capped at reach: after a rebuild of the lists, centers that left this cell's list
                    # move without lowering the bound, and are only known to be beyond the new reach.
                    lower[i] = min(lower[i] - step, reach)
                    bound = lower[i]
                    if upper[i] <= bound:
                        continue
                    dd = 0.0
                    for j in range(d):
                        diff = points[i, j] - centers[a, j]
                        dd = dd + diff * diff
                    upper[i] = sqrt(dd)
                    if upper[i] <= bound:
                        continue
                b = -1  # assigned here, so that each thread has its own (prange makes assigned names private)
                d1 = 0.0
                d2 = 0.0
                _search_listed(points, i, centers, lists.items, first, last, &near_movers[chunk, 0], n_near, reach,
                               &b, &d1, &d2)
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


def lloyd(points, weights, cell_start, cell_ids, int bits, centers, fixed, Py_ssize_t max_iter, double tol,
          stats, double relax=1.0, double extent=0.0):
    """Weighted Lloyd iterations, exact and accelerated; returns ``(centers, labels, n_iter)``.

    Points ``cell_start[t]:cell_start[t + 1]`` lie in cell ``cell_ids[t]``.
    A point is searched for its nearest center only when bounds cannot show
    its center is unchanged (Hamerly: an upper bound on the distance to its
    own center, a lower bound on the distance to any other, both moved by how
    far the centers in question moved), and then only among its cell's
    candidates (:func:`vqimage._cells_kernels.cell_candidates`, built with a
    margin) plus the few centers that have drifted past that margin since
    the lists were built; the lists are rebuilt when those are too many. The
    centers' sums are updated from the points that changed. The assignment
    pass runs on every core. Stops when no point changes center, after
    ``max_iter`` iterations, or when the centers' total squared move is at
    most ``tol``. ``fixed`` centers never move, and a center left without
    points stays where it is. ``stats`` (int64, 3) accumulates the
    iterations, searches and list rebuilds. ``relax`` > 1 over-relaxes the
    updates (a center moves ``relax`` times the way to its centroid; 1 is
    Lloyd's step). Candidate lists are kept for cells one bit coarser than
    the points' (cheaper to rebuild, a few more candidates per search;
    measured best against 0, 2 and 3 bits coarser). A cell's points lie in
    ``[lo, lo + width - 1 + extent]`` per component: ``extent=0`` for integer
    points and their means, 1 for any real point of the cell.
    """
    cdef const double[:, ::1] p = np.ascontiguousarray(points, np.float64)
    cdef const double[::1] wv = np.ascontiguousarray(weights, np.float64)
    cdef const int64_t[::1] cs = np.ascontiguousarray(cell_start, np.int64)
    ids = np.ascontiguousarray(cell_ids, np.int64)
    cdef const int64_t[::1] idv = ids
    centers_arr = np.array(centers, np.float64, order="C", copy=True)
    cdef double[:, ::1] cv = centers_arr
    cdef const uint8_t[::1] fx = np.ascontiguousarray(fixed, np.bool_).view(np.uint8)
    cdef int64_t[::1] st = stats
    cdef Py_ssize_t n = p.shape[0], d = p.shape[1], k = cv.shape[0], m = idv.shape[0], t, j, c
    cdef Py_ssize_t chunks = max(min(m, _CHUNKS), 1)
    if wv.shape[0] != n or cs.shape[0] != m + 1 or fx.shape[0] != k or cv.shape[1] != d or cs[m] != n:
        raise ValueError("lloyd: points, weights, cells, centers and fixed do not match.")
    labels_arr = np.full(n, -1, np.int64)
    upper_arr, lower_arr = np.full(n, np.inf), np.zeros(n)
    wsum_arr, vsum_arr = np.zeros(k), np.zeros((k, d))
    cdef int64_t[::1] labels = labels_arr
    cdef double[::1] upper = upper_arr, lower = lower_arr, wsum = wsum_arr
    cdef double[:, ::1] vsum = vsum_arr
    cdef double margin = 1.0
    cdef Py_ssize_t max_movers = max(4, min(8, k // 16))
    # Candidate lists of coarser cells (each holding several of the points'
    # cells): ~10x cheaper to rebuild, a few more candidates per search.
    cdef int list_bits = max(1, bits - 1), drop = bits - list_bits
    cdef int64_t fmask = (<int64_t>1 << bits) - 1, g
    parent_arr = np.zeros(m, np.int64)
    cdef int64_t[::1] parent = parent_arr
    for t in range(m):
        for j in range(d):
            g = (idv[t] >> ((d - 1 - j) * bits)) & fmask
            parent[t] = (parent[t] << list_bits) | (g >> drop)
    ordered = np.sort(parent_arr)  # np.unique's values, without its import of numpy.ma (14 ms)
    distinct = np.ones(m, np.bool_)
    distinct[1:] = ordered[1:] != ordered[:-1]
    list_ids_arr = ordered[distinct]
    cdef const int64_t[::1] list_ids = list_ids_arr
    cdef const int64_t[::1] slot = np.searchsorted(list_ids_arr, parent_arr).astype(np.int64)
    drift_arr, delta_arr = np.zeros(k), np.zeros(k)
    movers_arr, counts_arr = np.empty(k, np.int64), np.zeros(2, np.int64)
    corner_arr = np.empty((m, d))
    cdef double[::1] drift = drift_arr, delta = delta_arr
    cdef int64_t[::1] movers = movers_arr, counts = counts_arr
    cdef double[:, ::1] corner = corner_arr
    for t in range(m):
        for j in range(d):
            corner[t, j] = ((idv[t] >> ((d - 1 - j) * bits)) & fmask) * <double>(1 << (8 - bits))
    dw_arr, dv_arr = np.zeros((chunks, k)), np.zeros((chunks, k, d))
    tally_arr, near_arr = np.zeros((chunks, 2), np.int64), np.empty((chunks, max(k, 1)), np.int64)
    cdef double[:, ::1] dw = dw_arr
    cdef double[:, :, ::1] dv = dv_arr
    cdef int64_t[:, ::1] tally = tally_arr, near_movers = near_arr
    cdef Lists lists
    cdef int status
    cdef Py_ssize_t n_iter = 0, n_movers = 0
    cdef double moved, dd, new, diff, step
    cdef bint was
    with nogil:
        status = candidate_lists(cv, list_ids, list_bits, extent, margin, &lists)
        if status == 0:
            _assign_pass(p, wv, cs, corner, slot, bits, cv, &lists, margin, movers, 0, delta, labels, upper, lower,
                         wsum, vsum, counts, dw, dv, tally, near_movers, extent)
            while n_iter < max_iter:
                n_iter += 1
                moved = 0.0
                for c in range(k):
                    delta[c] = 0.0
                    if fx[c] or wsum[c] <= 0.0:
                        continue
                    dd = 0.0
                    for j in range(d):
                        new = cv[c, j] + relax * (vsum[c, j] / wsum[c] - cv[c, j])
                        diff = new - cv[c, j]
                        dd += diff * diff
                        cv[c, j] = new
                    delta[c] = sqrt(dd)
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
                    free_lists(&lists)
                    status = candidate_lists(cv, list_ids, list_bits, extent, margin, &lists)
                    if status < 0:
                        break
                    st[2] += 1
                    for c in range(k):
                        drift[c] = 0.0
                    n_movers = 0
                counts[1] = 0
                _assign_pass(p, wv, cs, corner, slot, bits, cv, &lists, margin, movers, n_movers, delta, labels,
                             upper, lower, wsum, vsum, counts, dw, dv, tally, near_movers, extent)
                if counts[1] == 0:
                    break
            free_lists(&lists)
    if status < 0:
        raise MemoryError("Not enough memory for the candidate lists.")
    st[0] += n_iter
    st[1] += counts[0]
    return centers_arr, labels_arr, n_iter


cdef void _nearest_pair(Py_ssize_t i, const double[:, ::1] centers, const double[::1] weights,
                        const uint8_t[::1] alive, int64_t* partner, double* cost) noexcept nogil:
    """Cheapest Ward merge partner of cluster i: (partner, cost)."""
    cdef Py_ssize_t m = centers.shape[0], d = centers.shape[1], j, q
    cdef double best = INFINITY, dist, diff, c
    cdef int64_t arg = -1
    for j in range(m):
        if j == i or not alive[j]:
            continue
        dist = 0.0
        for q in range(d):
            diff = centers[i, q] - centers[j, q]
            dist += diff * diff
        c = dist * weights[i] * weights[j] / (weights[i] + weights[j])
        if c < best:
            best = c
            arg = j
    partner[0] = arg
    cost[0] = best


def merge_clusters(centers, weights, Py_ssize_t k):
    """Ward-merge clusters (centroids, weights) down to ``k``; returns the ``k`` centroids.

    Each step merges the pair that adds the least squared error. Ward's cost
    is reducible (a merged cluster is never cheaper to merge with than its
    parts were), so only clusters whose partner took part in a merge need a
    new partner search.
    """
    centers_arr = np.array(centers, np.float64, order="C", copy=True)
    weights_arr = np.array(weights, np.float64, copy=True)
    cdef double[:, ::1] cv = centers_arr
    cdef double[::1] wv = weights_arr
    cdef Py_ssize_t m = cv.shape[0], d = cv.shape[1], i, j, t, q, step
    if not 1 <= k <= m or wv.shape[0] != m:
        raise ValueError(f"merge_clusters: k must lie in [1, {m}] with one weight per cluster.")
    alive_arr, partner_arr, cost_arr = np.ones(m, np.uint8), np.empty(m, np.int64), np.empty(m)
    cdef uint8_t[::1] alive = alive_arr
    cdef int64_t[::1] partner = partner_arr
    cdef double[::1] cost = cost_arr
    cdef double best, total
    out_arr = np.empty((k, d))
    cdef double[:, ::1] out = out_arr
    with nogil:
        for i in prange(m, schedule="static"):
            _nearest_pair(i, cv, wv, alive, &partner[i], &cost[i])
        for step in range(m - k):
            i = -1
            best = INFINITY
            for t in range(m):
                if alive[t] and cost[t] < best:
                    best = cost[t]
                    i = t
            j = partner[i]
            total = wv[i] + wv[j]
            for q in range(d):
                cv[i, q] = (wv[i] * cv[i, q] + wv[j] * cv[j, q]) / total
            wv[i] = total
            alive[j] = 0
            for t in range(m):
                if alive[t] and (t == i or partner[t] == i or partner[t] == j):
                    _nearest_pair(t, cv, wv, alive, &partner[t], &cost[t])
        q = 0
        for t in range(m):
            if alive[t]:
                for j in range(d):
                    out[q, j] = cv[t, j]
                q += 1
    return out_arr


def hartigan(points, weights, cell_start, cell_ids, int bits, centers, labels, fixed, Py_ssize_t max_pass, stats,
             double extent=0.0):
    """Hartigan's point moves after Lloyd; returns the centers (``labels`` updated in place).

    A point of weight ``w`` leaves center ``a`` (total weight ``W_a``) for
    ``b`` when that lowers the total squared error, counting the move of
    both centers: ``w W_b / (W_b + w) |x - c_b|^2 < w W_a / (W_a - w) |x - c_a|^2``.
    Centers are updated after every move. Lloyd's fixed points are not always
    Hartigan's, so this finds a lower error (Telgarsky & Vattani, "Hartigan's
    method: k-means clustering without Voronoi", AISTATS 2010). Targets ``b``
    come from the cell's candidate list; a pass with no move, or
    ``max_pass`` passes, ends it. ``fixed`` centers neither gain nor
    lose points. ``stats`` (int64, 2) accumulates passes and moves. ``extent``:
    as for :func:`lloyd`.
    """
    cdef const double[:, ::1] p = np.ascontiguousarray(points, np.float64)
    cdef const double[::1] wv = np.ascontiguousarray(weights, np.float64)
    cdef const int64_t[::1] cs = np.ascontiguousarray(cell_start, np.int64)
    cdef const int64_t[::1] idv = np.ascontiguousarray(cell_ids, np.int64)
    centers_arr = np.array(centers, np.float64, order="C", copy=True)
    cdef double[:, ::1] cv = centers_arr
    cdef int64_t[::1] lab = labels
    cdef const uint8_t[::1] fx = np.ascontiguousarray(fixed, np.bool_).view(np.uint8)
    cdef int64_t[::1] st = stats
    cdef Py_ssize_t n = p.shape[0], d = p.shape[1], k = cv.shape[0], m = idv.shape[0], i, j, c, t, q, passes
    cdef Py_ssize_t moves
    if wv.shape[0] != n or lab.shape[0] != n or cs.shape[0] != m + 1 or fx.shape[0] != k or cv.shape[1] != d:
        raise ValueError("hartigan: points, weights, labels, cells, centers and fixed do not match.")
    if n and (np.min(labels) < 0 or np.max(labels) >= k):
        raise ValueError(f"hartigan: labels must lie in [0, {k}).")
    wsum_arr, vsum_arr = np.zeros(k), np.zeros((k, d))
    cdef double[::1] wsum = wsum_arr
    cdef double[:, ::1] vsum = vsum_arr
    cdef int64_t a, b, arg
    cdef double w, da, db, diff, best, factor
    cdef Lists lists
    cdef int status
    with nogil:
        for i in range(n):
            a = lab[i]
            wsum[a] += wv[i]
            for j in range(d):
                vsum[a, j] += wv[i] * p[i, j]
        for c in range(k):
            if wsum[c] > 0.0 and not fx[c]:
                for j in range(d):
                    cv[c, j] = vsum[c, j] / wsum[c]
        # Targets: the centers that could be nearest to a cell's points, listed
        # once (margin 1). As centers move, a list may miss a target; that only
        # skips a move, never makes a wrong one. Wider margins measured no better.
        status = candidate_lists(cv, idv, bits, extent, 2.0, &lists)
        if status == 0:
            for passes in range(max_pass):
                st[0] += 1
                moves = 0
                for t in range(m):
                    for i in range(cs[t], cs[t + 1]):
                        a = lab[i]
                        w = wv[i]
                        if fx[a] or wsum[a] - w <= 1e-12 * w:
                            continue
                        da = 0.0
                        for j in range(d):
                            diff = p[i, j] - cv[a, j]
                            da += diff * diff
                        best = w * wsum[a] / (wsum[a] - w) * da
                        arg = a
                        for q in range(lists.start[t], lists.start[t + 1]):
                            b = lists.items[q]
                            if b == a or fx[b]:
                                continue
                            factor = w * wsum[b] / (wsum[b] + w)
                            db = 0.0
                            for j in range(d):
                                diff = p[i, j] - cv[b, j]
                                db += diff * diff
                            if factor * db < best:
                                best = factor * db
                                arg = b
                        if arg != a:
                            moves += 1
                            wsum[a] -= w
                            wsum[arg] += w
                            for j in range(d):
                                vsum[a, j] -= w * p[i, j]
                                vsum[arg, j] += w * p[i, j]
                                cv[a, j] = vsum[a, j] / wsum[a]
                                cv[arg, j] = vsum[arg, j] / wsum[arg]
                            lab[i] = arg
                st[1] += moves
                if moves == 0:
                    break
            free_lists(&lists)
    if status < 0:
        raise MemoryError("Not enough memory for the candidate lists.")
    return centers_arr
