"""numba kernels of the vector fit (stage 2): box splits, Ward merges, Lloyd, Hartigan.

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
  :mod:`vqimage._cells`; ``hartigan`` then moves single points where that
  lowers the error.

Import lazily: numba takes ~0.3 s to import.
"""

from __future__ import annotations

import numba
import numpy as np

from .._cells import CHUNKS
from .._cells_kernels import candidates

__all__ = ["weighted_sums", "split_boxes", "merge_clusters", "lloyd", "hartigan"]


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
    chunks = min(m, CHUNKS)
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


