"""numba kernels of :mod:`vqimage.dither`: error diffusion and ordered dithering.

One scan per image, row by row (alternate rows reversed when serpentine).
Each pixel is quantized after adding the error diffused into it; that error is
kept in a ring of three rows (the deepest kernel, Sierra's, reaches two rows
down), padded by two columns on both sides so that no tap needs a bounds
check: error pushed past the left or right border is dropped, as usual.

Colors are searched in candidate lists (:func:`vqimage._cells_kernels.cell_candidates`):
the error-adjusted value, clamped to [0, 255], falls in one cell of the
8-bit cube, whose list holds every palette entry that can be nearest to any
point of the cell; a scan of that list with strict ``<`` gives exactly the
brute-force nearest entry, ties to the lowest index. Gray values are searched
by bisection: of the thresholds (a scalar codebook's edges), or of the
distinct sorted levels.

Gray images come in as (H, W, 1) with their levels as (k, 1) centers, so
one kernel serves both; ``quant = (values, index, thresholds, centers,
start, items)`` and ``spec = (gray, use_thresholds, bits)`` describe the
quantizer (the arrays the other kind does not use are empty).

The selective weights of a pixel (see :func:`vqimage.dither.dither_codes`)
are computed on the fly from the source pixel, its four neighbours and its
undithered code, so nothing image-sized is allocated besides the codes.

Import lazily: numba takes ~0.3 s to import.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["diffuse", "ordered", "nearest_other"]


@numba.njit(cache=True, nogil=True)
def _ramp(v, a, b):
    """0 below a, 1 above b, linear in between."""
    if v <= a:
        return 0.0
    if v >= b:
        return 1.0
    return (v - a) / (b - a)


# ----------------------------------------------------------------------------- search


@numba.njit(cache=True, nogil=True)
def _gray_nearest(x, values, index):
    """Code of the level nearest to x (ties: lowest code) among distinct sorted ``values``.

    ``index[i]`` is the lowest code whose level is ``values[i]``.
    """
    n = values.size
    lo = 0
    hi = n
    while lo < hi:  # first value >= x
        mid = (lo + hi) >> 1
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    if lo == 0:
        return index[0]
    if lo == n:
        return index[n - 1]
    below = x - values[lo - 1]
    above = values[lo] - x
    if below < above:
        return index[lo - 1]
    if above < below:
        return index[lo]
    return min(index[lo - 1], index[lo])


@numba.njit(cache=True, nogil=True)
def _gray_bin(x, thresholds):
    """``np.searchsorted(thresholds, x, side="right")``."""
    lo = 0
    hi = thresholds.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if thresholds[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True, nogil=True)
def _gray_gap(x, values):
    """Gap between the distinct levels that bracket x; 0 outside [min, max] or with one level."""
    n = values.size
    if n < 2 or x < values[0] or x > values[n - 1]:
        return 0.0
    lo = 0
    hi = n
    while lo < hi:  # first value > x
        mid = (lo + hi) >> 1
        if values[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    if lo == n:  # x is the top level: the gap below it
        return values[n - 1] - values[n - 2]
    return values[lo] - values[lo - 1]


@numba.njit(cache=True, nogil=True, inline="always")
def _color_code(x, centers, start, items, bits):
    """Nearest center to x (clamped to [0, 255]) among its cell's candidates; ties: lowest index."""
    d = centers.shape[1]
    shift = 8 - bits
    top = (1 << bits) - 1
    cid = 0
    for j in range(d):
        g = int(x[j]) >> shift
        if g > top:
            g = top
        cid = (cid << bits) | g
    a = start[cid]
    b = start[cid + 1]
    if b - a == 1:
        return items[a]
    best = np.inf
    arg = -1
    for q in range(a, b):
        c = items[q]
        dist = 0.0
        for j in range(d):
            diff = x[j] - centers[c, j]
            dist += diff * diff
        if dist < best:
            best = dist
            arg = c
    return arg


@numba.njit(cache=True, nogil=True)
def nearest_other(centers):
    """Distance from each center to the closest other center (inf when k == 1)."""
    k, d = centers.shape
    out = np.full(k, np.inf)
    for a in range(k):
        for b in range(a + 1, k):
            dist = 0.0
            for j in range(d):
                diff = centers[a, j] - centers[b, j]
                dist += diff * diff
            if dist < out[a]:
                out[a] = dist
            if dist < out[b]:
                out[b] = dist
    return np.sqrt(out)


# ----------------------------------------------------------------------------- quantizer


@numba.njit(cache=True, nogil=True, inline="always")
def _code(v, quant, spec):
    """Code of the (clamped) value ``v`` (d,): its gray bin or level, or its nearest color."""
    values, index, thresholds, centers, start, items = quant
    gray, use_thresholds, bits = spec
    if gray:
        if use_thresholds:
            return _gray_bin(v[0], thresholds)
        return _gray_nearest(v[0], values, index)
    return _color_code(v, centers, start, items, bits)


@numba.njit(cache=True, nogil=True, inline="always")
def _step(v, q, quant, spec, nearest):
    """Local quantizer step at source value ``v`` whose undithered code is ``q``.

    Gray: the gap between the levels around v (0 outside the levels' range:
    no offset can help there). Color: the distance from center q to the
    closest other center.
    """
    if spec[0]:
        return _gray_gap(v[0], quant[0])
    return nearest[q]


# ----------------------------------------------------------------------------- selective weights


@numba.njit(cache=True, nogil=True)
def _contrast(image, y, x):
    """Largest absolute difference, in any channel, between pixel (y, x) and its 4 neighbours."""
    h = image.shape[0]
    w = image.shape[1]
    c = 0.0
    for j in range(image.shape[2]):
        p = float(image[y, x, j])
        if x > 0:
            c = max(c, abs(float(image[y, x - 1, j]) - p))
        if x < w - 1:
            c = max(c, abs(float(image[y, x + 1, j]) - p))
        if y > 0:
            c = max(c, abs(float(image[y - 1, x, j]) - p))
        if y < h - 1:
            c = max(c, abs(float(image[y + 1, x, j]) - p))
    return c


@numba.njit(cache=True, nogil=True)
def _selective(image, y, x, err, step, params):
    """Weights ``(fit * edge, edge)`` of a pixel with undithered error ``err`` and local step ``step``.

    ``params = (fit_low, fit_high, edge_low, edge_high, max_error)``: fit
    rises from 0 to 1 as ``2 * err / step`` goes from fit_low to fit_high;
    edge falls from 1 to 0 as the local contrast / step goes from edge_low
    to edge_high. Both are 0 where the step is 0 or infinite.
    """
    if not (step > 0.0 and step < np.inf):
        return 0.0, 0.0
    fit = _ramp(2.0 * err / step, params[0], params[1])
    edge = 1.0 - _ramp(_contrast(image, y, x) / step, params[2], params[3])
    return fit * edge, edge


# ----------------------------------------------------------------------------- dithering


@numba.njit(cache=True, nogil=True)
def diffuse(image, quant, spec, nearest, high, taps, strength, serpentine, selective, params, out):
    """Error diffusion of ``image`` (H, W, d) into the codes ``out`` (H, W).

    ``taps`` (n, 3): (row offset, column offset, weight) of the kernel for a
    left-to-right row; reversed rows mirror the column offsets. A pixel takes
    in ``strength`` times the error that reached it, clamped per channel to
    [0, high], and passes on the difference between that value and its
    code's center. Selective: the error taken in is further scaled by the
    pixel's fit * edge weight and capped at ``params[4]`` local steps in
    length, the error passed on is scaled by its edge weight.
    """
    h, w, d = image.shape
    centers = quant[3]
    ntap = taps.shape[0]
    tap_dy = np.empty(ntap, np.int64)
    tap_dx = np.empty(ntap, np.int64)
    tap_f = np.empty(ntap)
    for t in range(ntap):
        tap_dy[t] = int(taps[t, 0])
        tap_dx[t] = int(taps[t, 1])
        tap_f[t] = taps[t, 2]
    buf = np.zeros((3, w + 4, d))
    v = np.empty(d)
    e = np.empty(d)
    for y in range(h):
        row = y % 3
        reverse = serpentine and (y & 1) == 1
        for i in range(w):
            x = w - 1 - i if reverse else i
            take = strength
            give = 1.0
            q = -1
            if selective and take > 0.0:
                for j in range(d):
                    v[j] = image[y, x, j]
                q0 = _code(v, quant, spec)
                err = 0.0
                for j in range(d):
                    diff = v[j] - centers[q0, j]
                    err += diff * diff
                step = _step(v, q0, quant, spec, nearest)
                fit, give = _selective(image, y, x, np.sqrt(err), step, params)
                take *= fit
                if take > 0.0:
                    size = 0.0
                    for j in range(d):
                        size += buf[row, x + 2, j] * buf[row, x + 2, j]
                    size = np.sqrt(size) * take
                    if size > params[4] * step:
                        take *= params[4] * step / size
                else:
                    q = q0  # v holds the source pixel
            if q < 0:
                for j in range(d):
                    a = image[y, x, j] + take * buf[row, x + 2, j]
                    if a < 0.0:
                        a = 0.0
                    elif a > high:
                        a = high
                    v[j] = a
                q = _code(v, quant, spec)
            out[y, x] = q
            moved = False
            for j in range(d):
                e[j] = give * (v[j] - centers[q, j])
                moved = moved or e[j] != 0.0
            if moved:
                sign = -1 if reverse else 1
                for t in range(ntap):
                    r = row + tap_dy[t]
                    if r >= 3:
                        r -= 3
                    c = x + 2 + sign * tap_dx[t]
                    f = tap_f[t]
                    for j in range(d):
                        buf[r, c, j] += f * e[j]
        buf[row, :, :] = 0.0
    return out


@numba.njit(cache=True, nogil=True)
def ordered(image, quant, spec, nearest, high, bayer, strength, selective, params, out):
    """Ordered dithering of ``image`` (H, W, d) into the codes ``out`` (H, W).

    Every channel is offset by ``strength * (bayer - 1/2) * step`` (times the
    fit * edge weight when selective), clamped to [0, high], then quantized.
    """
    h, w, d = image.shape
    centers = quant[3]
    n = bayer.shape[0]
    v = np.empty(d)
    for y in range(h):
        for x in range(w):
            for j in range(d):
                v[j] = image[y, x, j]
            q0 = _code(v, quant, spec)
            off = 0.0
            if strength > 0.0:
                step = _step(v, q0, quant, spec, nearest)
                if step > 0.0 and step < np.inf:
                    off = strength * (bayer[y % n, x % n] - 0.5) * step
                    if selective:
                        err = 0.0
                        for j in range(d):
                            diff = v[j] - centers[q0, j]
                            err += diff * diff
                        off *= _selective(image, y, x, np.sqrt(err), step, params)[0]
            if off == 0.0:
                out[y, x] = q0
                continue
            for j in range(d):
                a = v[j] + off
                if a < 0.0:
                    a = 0.0
                elif a > high:
                    a = high
                v[j] = a
            out[y, x] = _code(v, quant, spec)
    return out
