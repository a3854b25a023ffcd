"""Compiled kernels of :mod:`vqimage.dither`: error diffusion and ordered dithering.

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
The taps are in the ring's padding, but the candidate lists, levels and
codes come from the caller's arrays; the Python entry points check their
shapes before any loop runs.
"""

from libc.math cimport INFINITY, fabs, sqrt
from libc.stdint cimport int64_t, uint8_t, uint16_t

import numpy as np

__all__ = ["diffuse", "ordered", "nearest_other"]

ctypedef fused pixel_t:
    uint8_t
    uint16_t
    double  # colors converted to another space (vqimage._spaces)


cdef struct Quantizer:
    const double* values      # gray: the distinct sorted levels
    const int64_t* index      # gray: the lowest code of each
    Py_ssize_t nvalues
    const double* thresholds  # gray with thresholds: a scalar codebook's interior edges
    Py_ssize_t nthresholds
    const double* centers     # (k, d): the levels or colors, row by row
    Py_ssize_t d
    const int64_t* start      # color: candidate lists of every cell of the cube
    const int64_t* items
    const double* nearest     # color: distance from each color to the closest other one
    bint gray
    bint use_thresholds
    int bits


cdef inline double _ramp(double v, double a, double b) noexcept nogil:
    """0 below a, 1 above b, linear in between."""
    if v <= a:
        return 0.0
    if v >= b:
        return 1.0
    return (v - a) / (b - a)


# ----------------------------------------------------------------------------- search


cdef int64_t _gray_nearest(double x, const Quantizer* q) noexcept nogil:
    """Code of the level nearest to x (ties: lowest code) among the distinct sorted levels."""
    cdef Py_ssize_t n = q.nvalues, lo = 0, hi = n, mid
    cdef double below, above
    while lo < hi:  # first value >= x
        mid = (lo + hi) >> 1
        if q.values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    if lo == 0:
        return q.index[0]
    if lo == n:
        return q.index[n - 1]
    below = x - q.values[lo - 1]
    above = q.values[lo] - x
    if below < above:
        return q.index[lo - 1]
    if above < below:
        return q.index[lo]
    return min(q.index[lo - 1], q.index[lo])


cdef int64_t _gray_bin(double x, const Quantizer* q) noexcept nogil:
    """``np.searchsorted(thresholds, x, side="right")``."""
    cdef Py_ssize_t lo = 0, hi = q.nthresholds, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if q.thresholds[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef double _gray_gap(double x, const Quantizer* q) noexcept nogil:
    """Gap between the distinct levels that bracket x; 0 outside [min, max] or with one level."""
    cdef Py_ssize_t n = q.nvalues, lo = 0, hi = n, mid
    if n < 2 or x < q.values[0] or x > q.values[n - 1]:
        return 0.0
    while lo < hi:  # first value > x
        mid = (lo + hi) >> 1
        if q.values[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    if lo == n:  # x is the top level: the gap below it
        return q.values[n - 1] - q.values[n - 2]
    return q.values[lo] - q.values[lo - 1]


cdef int64_t _color_code(const double* x, const Quantizer* q) noexcept nogil:
    """Nearest center to x (clamped to [0, 255]) among its cell's candidates; ties: lowest index."""
    cdef Py_ssize_t d = q.d, j, a, b, t
    cdef int shift = 8 - q.bits
    cdef int64_t top = (<int64_t>1 << q.bits) - 1, cid = 0, g, c, arg = -1
    cdef double best = INFINITY, dist, diff
    for j in range(d):
        g = (<int64_t>x[j]) >> shift
        if g > top:
            g = top
        cid = (cid << q.bits) | g
    a = q.start[cid]
    b = q.start[cid + 1]
    if b - a == 1:
        return q.items[a]
    for t in range(a, b):
        c = q.items[t]
        dist = 0.0
        for j in range(d):
            diff = x[j] - q.centers[c * d + j]
            dist += diff * diff
        if dist < best:
            best = dist
            arg = c
    return arg


def nearest_other(centers):
    """Distance from each center to the closest other center (inf when k == 1)."""
    cdef const double[:, ::1] cv = np.ascontiguousarray(centers, np.float64)
    cdef Py_ssize_t k = cv.shape[0], d = cv.shape[1], a, b, j
    out_arr = np.full(k, np.inf)
    cdef double[::1] out = out_arr
    cdef double dist, diff
    with nogil:
        for a in range(k):
            for b in range(a + 1, k):
                dist = 0.0
                for j in range(d):
                    diff = cv[a, j] - cv[b, j]
                    dist += diff * diff
                if dist < out[a]:
                    out[a] = dist
                if dist < out[b]:
                    out[b] = dist
    return np.sqrt(out_arr)


# ----------------------------------------------------------------------------- quantizer


cdef inline int64_t _code(const double* v, const Quantizer* q) noexcept nogil:
    """Code of the (clamped) value ``v`` (d,): its gray bin or level, or its nearest color."""
    if q.gray:
        if q.use_thresholds:
            return _gray_bin(v[0], q)
        return _gray_nearest(v[0], q)
    return _color_code(v, q)


cdef inline double _step(const double* v, int64_t code, const Quantizer* q) noexcept nogil:
    """Local quantizer step at source value ``v`` whose undithered code is ``code``.

    Gray: the gap between the levels around v (0 outside the levels' range:
    no offset can help there). Color: the distance from center ``code`` to
    the closest other center.
    """
    if q.gray:
        return _gray_gap(v[0], q)
    return q.nearest[code]


# ----------------------------------------------------------------------------- selective weights


cdef double _contrast(const pixel_t[:, :, ::1] image, Py_ssize_t y, Py_ssize_t x) noexcept nogil:
    """Largest absolute difference, in any channel, between pixel (y, x) and its 4 neighbours."""
    cdef Py_ssize_t h = image.shape[0], w = image.shape[1], j
    cdef double c = 0.0, p, t
    for j in range(image.shape[2]):
        p = <double>image[y, x, j]
        if x > 0:
            t = fabs(<double>image[y, x - 1, j] - p)
            if t > c:
                c = t
        if x < w - 1:
            t = fabs(<double>image[y, x + 1, j] - p)
            if t > c:
                c = t
        if y > 0:
            t = fabs(<double>image[y - 1, x, j] - p)
            if t > c:
                c = t
        if y < h - 1:
            t = fabs(<double>image[y + 1, x, j] - p)
            if t > c:
                c = t
    return c


cdef double _selective(const pixel_t[:, :, ::1] image, Py_ssize_t y, Py_ssize_t x, double err, double step,
                       const double[::1] params, double* edge) noexcept nogil:
    """Weights ``fit * edge`` (returned) and ``edge`` of a pixel with undithered error ``err``, local step ``step``.

    ``params = (fit_low, fit_high, edge_low, edge_high, max_error)``: fit
    rises from 0 to 1 as ``2 * err / step`` goes from fit_low to fit_high;
    edge falls from 1 to 0 as the local contrast / step goes from edge_low
    to edge_high. Both are 0 where the step is 0 or infinite.
    """
    cdef double fit
    if not (step > 0.0 and step < INFINITY):
        edge[0] = 0.0
        return 0.0
    fit = _ramp(2.0 * err / step, params[0], params[1])
    edge[0] = 1.0 - _ramp(_contrast(image, y, x) / step, params[2], params[3])
    return fit * edge[0]


# ----------------------------------------------------------------------------- dithering


cdef void _diffuse(const pixel_t[:, :, ::1] image, const Quantizer* quant, double high, const int64_t[::1] tap_dy,
                   const int64_t[::1] tap_dx, const double[::1] tap_f, double strength, bint serpentine,
                   bint selective, const double[::1] params, uint16_t[:, ::1] out, double[:, :, ::1] buf,
                   double* v, double* e) noexcept nogil:
    cdef Py_ssize_t h = image.shape[0], w = image.shape[1], d = image.shape[2], ntap = tap_dy.shape[0]
    cdef Py_ssize_t y, i, x, j, t, row, r, c
    cdef bint reverse, moved
    cdef double take, give, err, diff, step, fit, size, a, f
    cdef int64_t q, q0
    cdef int sign
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
                q0 = _code(v, quant)
                err = 0.0
                for j in range(d):
                    diff = v[j] - quant.centers[q0 * d + j]
                    err += diff * diff
                step = _step(v, q0, quant)
                fit = _selective(image, y, x, sqrt(err), step, params, &give)
                take *= fit
                if take > 0.0:
                    size = 0.0
                    for j in range(d):
                        size += buf[row, x + 2, j] * buf[row, x + 2, j]
                    size = sqrt(size) * take
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
                q = _code(v, quant)
            out[y, x] = <uint16_t>q
            moved = False
            for j in range(d):
                e[j] = give * (v[j] - quant.centers[q * d + j])
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
        for c in range(w + 4):
            for j in range(d):
                buf[row, c, j] = 0.0


cdef void _ordered(const pixel_t[:, :, ::1] image, const Quantizer* quant, double high, const double[:, ::1] bayer,
                   double strength, bint selective, const double[::1] params, uint16_t[:, ::1] out,
                   double* v) noexcept nogil:
    cdef Py_ssize_t h = image.shape[0], w = image.shape[1], d = image.shape[2], n = bayer.shape[0]
    cdef Py_ssize_t y, x, j
    cdef double off, step, err, diff, a, edge
    cdef int64_t q0
    for y in range(h):
        for x in range(w):
            for j in range(d):
                v[j] = image[y, x, j]
            q0 = _code(v, quant)
            off = 0.0
            if strength > 0.0:
                step = _step(v, q0, quant)
                if step > 0.0 and step < INFINITY:
                    off = strength * (bayer[y % n, x % n] - 0.5) * step
                    if selective:
                        err = 0.0
                        for j in range(d):
                            diff = v[j] - quant.centers[q0 * d + j]
                            err += diff * diff
                        off *= _selective(image, y, x, sqrt(err), step, params, &edge)
            if off == 0.0:
                out[y, x] = <uint16_t>q0
                continue
            for j in range(d):
                a = v[j] + off
                if a < 0.0:
                    a = 0.0
                elif a > high:
                    a = high
                v[j] = a
            out[y, x] = <uint16_t>_code(v, quant)


cdef class _Quantizer:
    """The arrays of a quantizer, kept alive while the kernels read them through raw pointers."""

    cdef Quantizer q
    cdef object keep

    def __init__(self, quant, spec, nearest, Py_ssize_t d):
        values, index, thresholds, centers, start, items = (np.ascontiguousarray(a) for a in quant)
        values, thresholds, centers = (np.ascontiguousarray(a, np.float64) for a in (values, thresholds, centers))
        index, start, items = (np.ascontiguousarray(a, np.int64) for a in (index, start, items))
        nearest = np.ascontiguousarray(nearest, np.float64)
        gray, use_thresholds, bits = spec
        if centers.ndim != 2 or centers.shape[1] != d or centers.shape[0] < 1:
            raise ValueError(f"The levels must have shape (k, {d}).")
        k = centers.shape[0]
        if gray:
            if use_thresholds and thresholds.shape[0] != k - 1:
                raise ValueError("A gray quantizer with thresholds needs k - 1 of them.")
            if not use_thresholds and (values.shape[0] < 1 or index.shape[0] != values.shape[0]
                                       or index.min() < 0 or index.max() >= k):
                raise ValueError("A gray quantizer needs its distinct levels and their codes.")
        else:
            if start.shape[0] != (1 << (bits * d)) + 1 or (items.size and (items.min() < 0 or items.max() >= k)):
                raise ValueError("A color quantizer needs the candidate list of every cell.")
            if nearest.shape[0] != k:
                raise ValueError("A color quantizer needs the distance to the nearest other color of each.")
        self.keep = (values, index, thresholds, centers, start, items, nearest)
        self.q.values = _doubles(values)
        self.q.index = _ints(index)
        self.q.nvalues = values.shape[0]
        self.q.thresholds = _doubles(thresholds)
        self.q.nthresholds = thresholds.shape[0]
        self.q.centers = _doubles(centers.reshape(-1))
        self.q.d = d
        self.q.start = _ints(start)
        self.q.items = _ints(items)
        self.q.nearest = _doubles(nearest)
        self.q.gray = bool(gray)
        self.q.use_thresholds = bool(use_thresholds)
        self.q.bits = int(bits)


cdef const double* _doubles(a):
    cdef const double[::1] view = a
    return &view[0] if view.shape[0] else NULL


cdef const int64_t* _ints(a):
    cdef const int64_t[::1] view = a
    return &view[0] if view.shape[0] else NULL


def diffuse(image, quant, spec, nearest, double high, taps, double strength, bint serpentine, bint selective,
            params, out):
    """Error diffusion of ``image`` (H, W, d) into the uint16 codes ``out`` (H, W).

    ``taps`` (n, 3): (row offset, column offset, weight) of the kernel for a
    left-to-right row, offsets within 2 rows down and 2 columns either way;
    reversed rows mirror the column offsets. A pixel takes in ``strength``
    times the error that reached it, clamped per channel to [0, high], and
    passes on the difference between that value and its code's center.
    Selective: the error taken in is further scaled by the pixel's fit * edge
    weight and capped at ``params[4]`` local steps in length, the error passed
    on is scaled by its edge weight.
    """
    taps = np.asarray(taps, np.float64)
    cdef const int64_t[::1] tap_dy = taps[:, 0].astype(np.int64), tap_dx = taps[:, 1].astype(np.int64)
    cdef const double[::1] tap_f = np.ascontiguousarray(taps[:, 2])
    if taps.size and (np.abs(taps[:, 1]).max() > 2 or taps[:, 0].min() < 0 or taps[:, 0].max() > 2):
        raise ValueError("diffuse: taps reach at most 2 rows down and 2 columns either way.")
    return _run(image, quant, spec, nearest, high, strength, serpentine, selective, params, out,
                tap_dy, tap_dx, tap_f, None)


def ordered(image, quant, spec, nearest, double high, bayer, double strength, bint selective, params, out):
    """Ordered dithering of ``image`` (H, W, d) into the uint16 codes ``out`` (H, W).

    Every channel is offset by ``strength * (bayer - 1/2) * step`` (times the
    fit * edge weight when selective), clamped to [0, high], then quantized.
    """
    return _run(image, quant, spec, nearest, high, strength, False, selective, params, out, None, None, None,
                np.ascontiguousarray(bayer, np.float64))


cdef _run(image, quant, spec, nearest, double high, double strength, bint serpentine, bint selective, params, out,
          tap_dy, tap_dx, tap_f, bayer):
    image = np.ascontiguousarray(image)
    if image.ndim != 3 or out.shape != image.shape[:2] or out.dtype != np.uint16:
        raise ValueError("dither kernels take an (H, W, d) image and (H, W) uint16 codes.")
    cdef Py_ssize_t d = image.shape[2]
    cdef _Quantizer quantizer = _Quantizer(quant, spec, nearest, d)
    cdef const double[::1] pv = np.ascontiguousarray(params, np.float64)
    cdef uint16_t[:, ::1] ov = out
    scratch = np.zeros(2 * d)
    cdef double[::1] sv = scratch
    buf_arr = np.zeros((3, image.shape[1] + 4, d))
    cdef double[:, :, ::1] buf = buf_arr
    cdef const uint8_t[:, :, ::1] i8
    cdef const uint16_t[:, :, ::1] i16
    cdef const double[:, :, ::1] f64
    none_i, none_f = np.zeros(0, np.int64), np.zeros(0, np.float64)
    cdef const int64_t[::1] dy = none_i if tap_dy is None else tap_dy
    cdef const int64_t[::1] dx = none_i if tap_dx is None else tap_dx
    cdef const double[::1] tf = none_f if tap_f is None else tap_f
    cdef bint is_ordered = bayer is not None
    cdef const double[:, ::1] bv = np.zeros((1, 1)) if bayer is None else bayer
    if pv.shape[0] != 5:
        raise ValueError("dither kernels take 5 selective parameters.")
    if image.dtype == np.uint8:
        i8 = image
        with nogil:
            _dispatch(i8, &quantizer.q, high, is_ordered, bv, dy, dx, tf, strength, serpentine, selective, pv, ov,
                      buf, &sv[0], &sv[d])
    elif image.dtype == np.float64:
        f64 = image
        with nogil:
            _dispatch(f64, &quantizer.q, high, is_ordered, bv, dy, dx, tf, strength, serpentine, selective, pv, ov,
                      buf, &sv[0], &sv[d])
    else:
        i16 = image.astype(np.uint16, copy=False)
        with nogil:
            _dispatch(i16, &quantizer.q, high, is_ordered, bv, dy, dx, tf, strength, serpentine, selective, pv, ov,
                      buf, &sv[0], &sv[d])
    return out


cdef void _dispatch(const pixel_t[:, :, ::1] image, const Quantizer* quant, double high, bint is_ordered,
                    const double[:, ::1] bv, const int64_t[::1] dy, const int64_t[::1] dx, const double[::1] tf,
                    double strength, bint serpentine, bint selective, const double[::1] pv, uint16_t[:, ::1] ov,
                    double[:, :, ::1] buf, double* v, double* e) noexcept nogil:
    if is_ordered:
        _ordered(image, quant, high, bv, strength, selective, pv, ov, v)
    else:
        _diffuse(image, quant, high, dy, dx, tf, strength, serpentine, selective, pv, ov, buf, v, e)
