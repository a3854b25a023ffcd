"""The compiled kernel of the ``context`` payload coder (see :mod:`vqimage.pack.entropy` for the model).

One function codes and decodes, so the two cannot drift apart. Everything is
integer arithmetic on 64-bit values (wrapping, arithmetic right shifts), the
tables included, so the bytes are identical across runs and machines. The
decoder never reads past its input: a byte beyond the end reads as 0 and is
counted, and decoding stops at the first pixel after one.
"""

from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memset

import numpy as np

__all__ = ["code_image", "CONSTANTS"]

# --------------------------------------------------------------------------
# Constants of the format: changing any of them changes the bytes.

DEF LIMIT = 127  # counter count limit: the slowest adaptation rate is 1/128.5
DEF LEARNING_RATE = 10  # mixer learning rate
DEF KINDS = 128  # room for the decision kinds (0 to 75 occur)
DEF MODELS = 5
DEF SLOT = 4  # counters per hashed context slot (aligned)
DEF NEAR_CONTEXTS = 9 * 9 * 5 * 5  # W, N (+-2 codes) and NE, NW (+-1) against the threshold
DEF NEAR0_CONTEXTS = 1 << 12  # the same for the first decision, from 12 bits of the byte lanes
DEF WP_CONTEXTS = 19 * 8  # wp-vs-threshold, log scale (19) x predictor error (8)
DEF SMALL = 127  # up to this many levels, neighbours are compared with pv in byte lanes

#: The constants the model's state is sized by (read by :mod:`vqimage.pack.entropy`).
CONSTANTS = {"KINDS": KINDS, "MODELS": MODELS, "NEAR_CONTEXTS": NEAR_CONTEXTS, "NEAR0_CONTEXTS": NEAR0_CONTEXTS,
             "WP_CONTEXTS": WP_CONTEXTS}

# Byte lanes: 8 codes in a 64-bit word, the top bit of each lane set so that
# subtracting (pv + k) in every lane leaves that bit set where code >= pv + k.
cdef uint64_t ONES = 0x0101010101010101
cdef uint64_t HIGH = 0x8080808080808080
cdef uint64_t PHI = 0x9E3779B97F4A7C15  # 2^64 / golden ratio, odd: Fibonacci hashing
# The comparisons kept per lane: bits 7, 6 (>= pv, pv + 1) of word A's lanes and 5, 4 of word B's
# make shape14; shape8 adds bits 3, 2 (>= pv - 1, pv + 2) and 1, 0 for NWW, NW, N, NE, WW, W
# in word A and NNW, NN, NNE in word B (see the kernel's lane layout).
cdef uint64_t SHAPE8_MASK = 0xCCCC0000FFFFFFCC
# Other wide constants, typed here so that no expression of the kernel needs a Python integer.
cdef uint64_t LANES_5_7 = 0x0101010000000000
cdef uint64_t LANES_5_6 = 0x00FFFF0000000000
cdef uint64_t EXACT_MASK_A = 0xFFFF0000FFFFFF00
cdef uint64_t EXACT_MASK_B = 0xFF0000
cdef uint64_t SLOT_MASK = 0xFFFFFFFF - (SLOT - 1)
cdef int64_t CARRY_LOW = 0xFF000000
cdef int64_t TWO_32 = 0x100000000
cdef int64_t MASK_32 = 0xFFFFFFFF
cdef int64_t MASK_24 = 0x00FFFFFF
cdef int64_t TOP_24 = 1 << 24


def _squash_table():
    """lpaq1's squash: ``4096 / (1 + exp(-x / 256))`` for x in [-2048, 2047], from integers."""
    knots = [1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047, 2549,
             2994, 3348, 3607, 3785, 3901, 3975, 4024, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094]
    out = np.empty(4096, np.int16)
    for x in range(-2048, 2048):
        i, w = (x >> 7) + 16, x & 127
        out[x + 2048] = (knots[i] * (128 - w) + knots[i + 1] * w + 64) >> 7
    return out


def _stretch_table(squash):
    """Inverse of squash: the smallest x with squash(x) >= p, for p in [0, 4095]."""
    out = np.full(4096, 2047, np.int16)
    p = 0
    for x in range(-2047, 2048):
        v = int(squash[x + 2048])
        out[p : v + 1] = x
        p = max(p, v + 1)
    return out


def _log_bucket_table():
    """Signed log-scale bucket of d in [-129, 129]: 0, +-1, +-2, +-3..4, ..., +-65..128, beyond."""
    out = np.empty(259, np.int32)
    for d in range(-129, 130):
        a = abs(d)
        b = sum(a > t for t in (0, 1, 2, 4, 8, 16, 32, 64, 128))
        out[d + 129] = 9 + b if d >= 0 else 9 - b
    return out


_SQUASH_ARRAY = _squash_table()
_STRETCH_ARRAY = _stretch_table(_SQUASH_ARRAY)
_LOG_BUCKET_ARRAY = _log_bucket_table()
# Log-scale bucket of v >= 0, capped at 49: 0, 1, 2-3, 4-6, 7-12, 13-24, 25-48, more (0..7)
_BUCKET_ARRAY = np.array([sum(v > t for t in (0, 1, 3, 6, 12, 24, 48)) for v in range(50)], np.int32)
_RATE_ARRAY = np.array([16384 // (n + n + 3) for n in range(1024)], np.int32)  # lpaq1's dt[]
# The weighted predictor's weights for an error sum e < 2048: 13 (sub-predictor 0) or 12
# (1, 2, 3) times 2^16 / (e + 1)
_RECIPROCAL_13_ARRAY = np.array([13 * ((1 << 16) // (e + 1)) for e in range(2048)], np.int32)
_RECIPROCAL_12_ARRAY = np.array([12 * ((1 << 16) // (e + 1)) for e in range(2048)], np.int32)

cdef const int16_t[::1] SQUASH = _SQUASH_ARRAY
cdef const int16_t[::1] STRETCH = _STRETCH_ARRAY
cdef const int32_t[::1] LOG_BUCKET = _LOG_BUCKET_ARRAY
cdef const int32_t[::1] BUCKET = _BUCKET_ARRAY
cdef const int32_t[::1] RATE = _RATE_ARRAY
cdef const int32_t[::1] RECIPROCAL_13 = _RECIPROCAL_13_ARRAY
cdef const int32_t[::1] RECIPROCAL_12 = _RECIPROCAL_12_ARRAY


# --------------------------------------------------------------------------
# Helpers, inlined into the kernel.


cdef inline int64_t _abs(int64_t v) noexcept nogil:
    return -v if v < 0 else v


cdef inline int64_t _min(int64_t a, int64_t b) noexcept nogil:
    return b if b < a else a


cdef inline int64_t _max(int64_t a, int64_t b) noexcept nogil:
    return b if b > a else a


cdef inline int64_t _clip(int64_t d, int64_t cap) noexcept nogil:
    """d clipped to [-cap, cap], shifted to [0, 2 cap]."""
    return _min(_max(d, -cap), cap) + cap


cdef inline uint64_t _lane(int64_t v, int64_t pv, int k) noexcept nogil:
    """Byte lane k holding 64 + (v - pv clipped to +-2), for the comparisons against 64."""
    return (<uint64_t>(_clip(v - pv, 2) + 62)) << (8 * k)


cdef inline uint64_t _hash_slot(uint64_t key, int shift) noexcept nogil:
    """Start of the aligned slot of 4 counters that a 64-bit key picks in a 2^(64 - shift) table."""
    return ((key * PHI) >> shift) & SLOT_MASK


cdef inline int64_t _near(int64_t t2, int64_t W, int64_t N, int64_t NW, int64_t NE) noexcept nogil:
    return (_clip(2 * W - t2, 4) + 9 * _clip(2 * N - t2, 4)
            + 81 * (_clip(2 * NE - t2, 2) + 5 * _clip(2 * NW - t2, 2)))


cdef inline int64_t _threshold(int64_t pv, int64_t sign, int64_t m) noexcept nogil:
    """t2 of the decision "magnitude >= m" on the upper (sign 1) or lower side of pv."""
    return 2 * (pv + m) - 1 if sign else 2 * (pv - m) + 1


cdef struct Binarization:
    int64_t step    # 0 "c == pv", 1 "c > pv", 2 gamma ("m >= t"), 3 mantissa ("m >= (lo + hi) // 2"), 4 done
    int64_t sign
    int64_t lo      # the magnitude m lies in [lo, hi)
    int64_t hi
    int64_t t
    int64_t kind
    int64_t t2      # the next decision's threshold
    int64_t bit     # encoding: the next decision's outcome for the code c


cdef inline void _next_decision(Binarization* s, int64_t bit, int64_t pv, int64_t c, int64_t n_levels) noexcept nogil:
    """Advance the binarization after a decision with outcome ``bit`` (step 0: after a "no")."""
    cdef int64_t mid
    if s.step == 0:
        if pv == 0:
            s.sign = 1
        elif pv == n_levels - 1:
            s.sign = 0
        else:
            s.step, s.kind, s.t2, s.bit = 1, 1, 2 * pv + 1, 1 if c > pv else 0
            return
    elif s.step == 1:
        s.sign = bit
    if s.step <= 1:
        s.lo, s.hi, s.t, s.kind = 1, (n_levels - pv if s.sign else pv + 1), 2, 2 + s.sign
        if s.t < s.hi:
            s.step, s.t2, s.bit = 2, _threshold(pv, s.sign, s.t), 1 if _abs(c - pv) >= s.t else 0
            return
        s.kind += 40
    elif s.step == 2:
        if bit:
            s.lo = s.t
            s.t = 2 * s.t - 1 if s.t > 2 else 3
            s.kind += 2
            if s.t < s.hi:
                s.step, s.t2, s.bit = 2, _threshold(pv, s.sign, s.t), 1 if _abs(c - pv) >= s.t else 0
                return
        else:
            s.hi = s.t
        s.kind += 40
    elif bit:
        s.lo = (s.lo + s.hi) >> 1
    else:
        s.hi = (s.lo + s.hi) >> 1
    mid = (s.lo + s.hi) >> 1
    s.step = 3 if s.hi - s.lo > 1 else 4
    s.t2, s.bit = _threshold(pv, s.sign, mid), 1 if _abs(c - pv) >= mid else 0


cdef inline int64_t _learn(int64_t t, int64_t target) noexcept nogil:
    """lpaq1 StateMap update: p += (bit - p) / (n + 1.5), n += 1 up to the limit.

    ``t`` is a counter, ``(p - 1/2) << 10 | n`` with a 22-bit p; ``target`` is
    +-2^21 (the bit, minus 1/2).
    """
    cdef int64_t n = t & 1023
    t += (((target - (t >> 10)) >> 3) * RATE[n]) & -1024
    t += n < LIMIT
    return t


cdef struct Coder:
    int64_t low
    int64_t rng
    int64_t cache
    int64_t pending
    Py_ssize_t pos
    uint8_t* out        # encoding: the output buffer
    Py_ssize_t capacity


cdef inline void _shift_low(Coder* r) noexcept nogil:
    """LZMA's ShiftLow: emit the top byte of ``low`` (delayed by the carry cache)."""
    cdef int64_t carry, byte
    if r.low < CARRY_LOW or r.low >= TWO_32:
        carry = r.low >> 32
        byte = r.cache
        while True:
            r.out[r.pos] = <uint8_t>((byte + carry) & 0xFF)
            r.pos += 1
            byte = 0xFF
            r.pending -= 1
            if r.pending == 0:
                break
        r.cache = (r.low >> 24) & 0xFF
    r.low = (r.low & MASK_24) << 8
    r.pending += 1


cdef inline int64_t _decide(int64_t bit, uint64_t i0, uint64_t i1, uint64_t i2, uint64_t i3, uint64_t i4,
                            uint64_t mix, int32_t* tab, int64_t* weights, bint decoding, Coder* r) noexcept nogil:
    """One decision: mix counters ``tab[i0..i4]`` with weight set ``mix`` into p, code ``bit``
    (decoding: decode it) in the range, learn. Returns the bit; the caller normalizes the range.
    """
    cdef int64_t c0 = tab[i0], c1 = tab[i1], c2 = tab[i2], c3 = tab[i3], c4 = tab[i4]
    cdef int64_t x0 = STRETCH[(c0 >> 20) + 2048]
    cdef int64_t x1 = STRETCH[(c1 >> 20) + 2048]
    cdef int64_t x2 = STRETCH[(c2 >> 20) + 2048]
    cdef int64_t x3 = STRETCH[(c3 >> 20) + 2048]
    cdef int64_t x4 = STRETCH[(c4 >> 20) + 2048]
    cdef int64_t dot = (x0 * weights[mix] + x1 * weights[mix + 1] + x2 * weights[mix + 2]
                        + x3 * weights[mix + 3] + x4 * weights[mix + 4] + 256 * weights[mix + 5]) >> 16
    cdef int64_t p = SQUASH[_min(_max(dot, -2047), 2047) + 2048]
    # LZMA's range coder, p is the probability of a 1.
    cdef int64_t bound = (r.rng >> 12) * _min(_max(p, 1), 4095)
    cdef int64_t dw, target
    if decoding:
        bit = 1 if r.low < bound else 0
        if bit:
            r.rng = bound
        else:
            r.low -= bound
            r.rng -= bound
    else:
        if bit:
            r.rng = bound
        else:
            r.low += bound
            r.rng -= bound
    # Learn.
    dw = ((bit << 12) - p) * LEARNING_RATE
    weights[mix] += (x0 * dw) >> 16
    weights[mix + 1] += (x1 * dw) >> 16
    weights[mix + 2] += (x2 * dw) >> 16
    weights[mix + 3] += (x3 * dw) >> 16
    weights[mix + 4] += (x4 * dw) >> 16
    weights[mix + 5] += (256 * dw) >> 16
    target = (bit << 22) - (1 << 21)
    tab[i0] = <int32_t>_learn(c0, target)
    tab[i1] = <int32_t>_learn(c1, target)
    tab[i2] = <int32_t>_learn(c2, target)
    tab[i3] = <int32_t>_learn(c3, target)
    tab[i4] = <int32_t>_learn(c4, target)
    return bit


ctypedef fused code_t:
    uint8_t
    uint16_t


cdef int _code(code_t[:, ::1] codes, int64_t n_levels, const uint8_t[::1] data, bint decoding, int table_bits,
               int32_t* tab, int64_t* weights, Coder* r, int32_t* ring, uint64_t* errors, int32_t* wp_errors,
               uint64_t* above_errors, int32_t* above, uint64_t* lanes_a, uint64_t* lanes_b) noexcept nogil:
    """Encode ``codes`` (into ``r.out``, grown as needed) or decode ``data`` into ``codes``; -1: out of memory."""
    cdef Py_ssize_t rows = codes.shape[0], cols = codes.shape[1]
    cdef Py_ssize_t width = cols + 6  # 3 pad columns left (WWW), 3 right (NEE, and one read ahead)
    cdef bint small = n_levels <= SMALL
    cdef uint64_t shape8_base = <uint64_t>1 << (table_bits - 1)
    cdef uint64_t shape14_base = shape8_base + (<uint64_t>1 << table_bits)
    cdef uint64_t near_base = shape14_base + (<uint64_t>1 << table_bits)
    cdef uint64_t wp_base = near_base + NEAR_CONTEXTS * KINDS
    cdef uint64_t near0_base = wp_base + WP_CONTEXTS * KINDS
    cdef int exact_shift = 65 - table_bits, shape_shift = 64 - table_bits
    cdef int64_t top = (n_levels - 1) * 8
    cdef Py_ssize_t row_reserve = 64 * cols + 64  # more than a row can add (<= 33 decisions of <= 12.01 bits a code)
    cdef uint64_t lane16 = 0xFFFF, cap = 2047
    cdef Py_ssize_t overrun = data.shape[0] if decoding else (<Py_ssize_t>1 << 62)  # a decoder past its end stops
    cdef Py_ssize_t y, x, cx, i, n_data = data.shape[0]
    cdef int32_t* r0
    cdef int32_t* r1
    cdef int32_t* r2
    cdef int32_t* r3
    cdef int64_t teNW, teN, teNE, N, NW, NE, W, WW, WWW, teW, activity, p0, p1, p2, p3, w0, w1, w2, w3, wsum
    cdef int64_t num, wp, wp_error, pv, c, bit, c8, kind
    cdef uint64_t b, e, eW, eWW, current, wa, wb, base, da, db, ge0, ge1, gem1, ge2, shape14, levels, shape8, exact
    cdef uint64_t s_exact, s_shape8, s_shape14, i0, i1, i2, i3, i4, mix, k
    cdef bint agree
    cdef Binarization s
    cdef uint8_t* grown
    memset(ring, 0, 4 * width * sizeof(int32_t))
    memset(errors, 0, width * sizeof(uint64_t))
    memset(wp_errors, 0, width * sizeof(int32_t))
    memset(lanes_a, 0, cols * sizeof(uint64_t))
    memset(lanes_b, 0, cols * sizeof(uint64_t))
    r.low = 0
    r.rng = MASK_32
    r.cache = 0
    r.pending = 1
    r.pos = 0
    if decoding:
        for i in range(4):
            r.low = (r.low << 8) | (data[i] if i < n_data else 0)
        r.pos = 4

    for y in range(rows):
        if r.pos > overrun:
            break
        if not decoding and r.pos + r.pending + row_reserve > r.capacity:
            grown = <uint8_t*>realloc(r.out, 2 * r.capacity + row_reserve)
            if grown == NULL:
                return -1
            r.out = grown
            r.capacity = 2 * r.capacity + row_reserve
        r0 = ring + ((y + 3) & 3) * width
        r1 = ring + ((y + 2) & 3) * width
        r2 = ring + ((y + 1) & 3) * width
        r3 = ring + (y & 3) * width
        r0[0] = r1[3]
        r0[1] = r1[3]
        r0[2] = r1[3]

        # What the rows above give each pixel of this row (loops the compiler vectorizes).
        for x in range(cols):
            above_errors[x] = 2 * errors[x + 3] + errors[x + 2] + errors[x + 4]
        for x in range(cols):
            teNW = wp_errors[x + 2]
            teN = wp_errors[x + 3]
            teNE = wp_errors[x + 4]
            N = r1[x + 3]
            above[8 * x] = <int32_t>(teN + teNE)
            above[8 * x + 1] = <int32_t>(teN + teNW)
            above[8 * x + 2] = <int32_t>(N * 8 - (((teNW + teN + teNE) * 7) >> 5))  # sub-predictor 3
            above[8 * x + 3] = <int32_t>(_abs(teN) + _abs(teNW) + _abs(teNE))
            above[8 * x + 4] = <int32_t>teN
            above[8 * x + 5] = <int32_t>(teN ^ teNW)
            above[8 * x + 6] = <int32_t>(_abs(N - r1[x + 2]) + _abs(N - r1[x + 4]) + _abs(N - r2[x + 3]))
            above[8 * x + 7] = 0
        if small:
            for x in range(cols):
                lanes_a[x] = (<uint64_t>r1[x + 1] | (<uint64_t>r1[x + 2] << 8) | (<uint64_t>r1[x + 3] << 16)
                              | (<uint64_t>r1[x + 4] << 24) | (<uint64_t>r1[x + 5] << 32) | HIGH)
                b = (<uint64_t>r2[x + 1] | (<uint64_t>r2[x + 2] << 8) | (<uint64_t>r2[x + 3] << 16)
                     | (<uint64_t>r2[x + 4] << 24) | (<uint64_t>r2[x + 5] << 32))
                lanes_b[x] = b | (<uint64_t>r3[x + 3] << 40) | (b << 48) | HIGH

        W = r0[2]
        WW = W
        WWW = W
        current = <uint64_t>W * LANES_5_7  # WWW, WW, W: lanes 5, 6, 7
        eW = 0
        eWW = 0
        teW = 0
        for x in range(cols):
            if r.pos > overrun:
                break
            cx = x + 3
            N = r1[cx]
            NW = r1[cx - 1]
            NE = r1[cx + 1]
            activity = BUCKET[_min(_abs(W - NW) + _abs(W - WW) + above[8 * x + 6], 49)]

            # Weighted predictor (JPEG XL's, 3 fractional bits).
            p0 = (W + NE - N) * 8
            p1 = N * 8 - ((teW + above[8 * x]) >> 1)
            p2 = W * 8 - (((teW + above[8 * x + 1]) * 10) >> 5)
            p3 = above[8 * x + 2]
            e = above_errors[x] + eW + eWW  # each sub-predictor's errors at N (twice), NW, NE, W, WW
            w0 = RECIPROCAL_13[e & lane16 if (e & lane16) < cap else cap]
            w1 = RECIPROCAL_12[(e >> 16) & lane16 if ((e >> 16) & lane16) < cap else cap]
            w2 = RECIPROCAL_12[(e >> 32) & lane16 if ((e >> 32) & lane16) < cap else cap]
            w3 = RECIPROCAL_12[(e >> 48) if (e >> 48) < cap else cap]
            wsum = w0 + w1 + w2 + w3
            # A negative quotient ends up as the lower clamp, as 0 does: divide unsigned.
            num = _max(p0 * w0 + p1 * w1 + p2 * w2 + p3 * w3 + (wsum >> 1), 0)
            wp = <int64_t>(<uint64_t>num // <uint64_t>wsum)
            agree = ((above[8 * x + 4] ^ teW) | above[8 * x + 5]) <= 0  # the neighbours' errors' signs
            wp = _min(_max(wp, _min(W, _min(N, NE)) * 8 * agree), top if not agree else _max(W, _max(N, NE)) * 8)
            wp_error = BUCKET[_min((_abs(teW) + above[8 * x + 3]) >> 2, 49)]
            pv = (wp + 4) >> 3

            # The neighbours against pv - 1, pv, pv + 1 and pv + 2, every byte lane at once.
            if small:
                wa = lanes_a[x] | current
                wb = lanes_b[x]
                base = <uint64_t>pv * ONES
            else:
                wa = (_lane(r1[cx - 2], pv, 0) | _lane(NW, pv, 1) | _lane(N, pv, 2) | _lane(NE, pv, 3)
                      | _lane(r1[cx + 2], pv, 4) | _lane(WWW, pv, 5) | _lane(WW, pv, 6) | _lane(W, pv, 7) | HIGH)
                b = (_lane(r2[cx - 2], pv, 0) | _lane(r2[cx - 1], pv, 1) | _lane(r2[cx], pv, 2)
                     | _lane(r2[cx + 1], pv, 3) | _lane(r2[cx + 2], pv, 4))
                wb = b | _lane(r3[cx], pv, 5) | (b << 48) | HIGH
                base = <uint64_t>64 * ONES
            da = wa - base  # top bit of a lane: the neighbour >= pv
            db = wb - base
            ge0 = (da & HIGH) | ((db & HIGH) >> 2)
            ge1 = ((da - ONES) & HIGH) | (((db - ONES) & HIGH) >> 2)
            gem1 = ((da + ONES) & HIGH) | (((db + ONES) & HIGH) >> 2)
            ge2 = ((da - ONES - ONES) & HIGH) | (((db - ONES - ONES) & HIGH) >> 2)
            shape14 = ge0 | (ge1 >> 1)
            levels = shape14 | (gem1 >> 4) | (ge2 >> 5)  # 4 comparisons a lane
            shape8 = levels & SHAPE8_MASK
            if small:
                exact = (wa & EXACT_MASK_A) ^ ((wb & EXACT_MASK_B) << 16)
            else:
                exact = (((<uint64_t>W | (<uint64_t>N << 16) | (<uint64_t>NW << 32) | (<uint64_t>NE << 48)) * PHI)
                         ^ (<uint64_t>WW | (<uint64_t>r2[cx] << 16)))
            s_exact = _hash_slot(exact, exact_shift)
            s_shape8 = shape8_base + _hash_slot(shape8, shape_shift)
            s_shape14 = shape14_base + _hash_slot(shape14, shape_shift)

            # The first decision, c == pv (kind 0, t2 = 2 pv), its near from the lanes: W and N
            # (>= pv - 1, pv, pv + 1, pv + 2), NE and NW (>= pv, pv + 1).
            c = codes[y, x]  # decoding: a placeholder, only the decoded bits count
            bit = 1 if c == pv else 0
            i0 = s_exact
            i1 = s_shape8
            i2 = s_shape14
            i3 = near0_base + (((levels >> 56) & 0xCC) | ((levels >> 18) & 0x33) | ((shape14 >> 22) & 0x300)
                               | ((shape14 >> 4) & 0xC00))
            i4 = <uint64_t>(<int64_t>wp_base + LOG_BUCKET[wp - 8 * pv + 129] * 8 + wp_error)
            mix = <uint64_t>(6 * activity)
            s.step, s.sign, s.lo, s.hi, s.t, s.kind = 0, 0, 0, 0, 0, 0
            while True:  # one pass per decision, most pixels one only
                bit = _decide(bit, i0, i1, i2, i3, i4, mix, tab, weights, decoding, r)
                while r.rng < TOP_24:
                    r.rng <<= 8
                    if decoding:
                        r.low = ((r.low << 8) | (data[r.pos] if r.pos < n_data else 0)) & MASK_32
                        r.pos += 1
                    else:
                        _shift_low(r)
                if bit and s.step == 0:
                    break
                _next_decision(&s, bit, pv, c, n_levels)
                bit = s.bit
                if s.step == 4:
                    break
                # The next decision, with the general contexts.
                k = <uint64_t>s.kind
                i0 = s_exact ^ k
                i1 = s_shape8 ^ k
                i2 = s_shape14 ^ k
                i3 = <uint64_t>(<int64_t>near_base + s.kind * NEAR_CONTEXTS + _near(s.t2, W, N, NW, NE))
                i4 = <uint64_t>(<int64_t>wp_base + s.kind * WP_CONTEXTS + LOG_BUCKET[_clip(wp - 4 * s.t2, 129)] * 8
                                + wp_error)
                mix = <uint64_t>(6 * (s.kind * 8 + activity))

            c = pv if s.lo == 0 else (pv + s.lo if s.sign else pv - s.lo)
            if decoding:
                codes[y, x] = <code_t>c
            r0[cx] = <int32_t>c
            c8 = c * 8
            # The sub-predictors' errors, each capped at 2047 (exact: a sum with a larger term is
            # past the weights' cap anyway), so that 6 of them add up within a 16-bit lane.
            eWW = eW
            eW = (<uint64_t>_min((_abs(p0 - c8) + 3) >> 3, 2047)
                  | (<uint64_t>_min((_abs(p1 - c8) + 3) >> 3, 2047) << 16)
                  | (<uint64_t>_min((_abs(p2 - c8) + 3) >> 3, 2047) << 32)
                  | (<uint64_t>_min((_abs(p3 - c8) + 3) >> 3, 2047) << 48))
            errors[cx] = eW
            teW = wp - c8
            wp_errors[cx] = <int32_t>teW
            WWW = WW
            WW = W
            W = c
            current = ((current >> 8) & LANES_5_6) | (<uint64_t>c << 56)
        r0[cols + 3] = r0[cols + 2]
        r0[cols + 4] = r0[cols + 2]
        r0[cols + 5] = r0[cols + 2]

    if not decoding:
        for i in range(5):
            _shift_low(r)
    return 0


def code_image(codes, Py_ssize_t n_levels, data, bint decoding, int table_bits, counters, weights,
               Py_ssize_t capacity=0):
    """Encode ``codes`` (2-D, C-contiguous uint8/uint16) or, ``decoding``, decode ``data`` into them.

    ``counters`` (int32) and ``weights`` (int64) are the model's fresh state,
    sized by :mod:`vqimage.pack.entropy`. Returns the payload bytes
    (encoding) or the number of bytes read, those past the end included
    (decoding).
    """
    cdef int32_t[::1] tab = counters
    cdef int64_t[::1] wv = weights
    cdef const uint8_t[::1] dv = np.frombuffer(data, np.uint8) if decoding else np.zeros(0, np.uint8)
    cdef Py_ssize_t rows = codes.shape[0], cols = codes.shape[1], width = cols + 6
    cdef Coder r
    cdef int status
    cdef Py_ssize_t needed = (5 << (table_bits - 1)) + (NEAR_CONTEXTS + WP_CONTEXTS) * KINDS + NEAR0_CONTEXTS
    cdef uint8_t[:, ::1] c8
    cdef uint16_t[:, ::1] c16
    if tab.shape[0] < needed or wv.shape[0] < KINDS * 8 * (MODELS + 1) or not 1 <= n_levels <= 65536:
        raise ValueError("code_image: the model's state does not match its size.")
    if codes.ndim != 2 or not codes.flags.c_contiguous:
        raise ValueError("code_image takes C-contiguous 2-D codes.")
    ring_arr = np.empty(4 * width, np.int32)
    errors_arr, wp_errors_arr = np.empty(width, np.uint64), np.empty(width, np.int32)
    above_errors_arr, above_arr = np.empty(max(cols, 1), np.uint64), np.empty(8 * max(cols, 1), np.int32)
    lanes_a_arr, lanes_b_arr = np.empty(max(cols, 1), np.uint64), np.empty(max(cols, 1), np.uint64)
    cdef int32_t[::1] ring = ring_arr, wp_errors = wp_errors_arr, above = above_arr
    cdef uint64_t[::1] errors = errors_arr, above_errors = above_errors_arr, lanes_a = lanes_a_arr
    cdef uint64_t[::1] lanes_b = lanes_b_arr
    r.out = NULL
    r.capacity = 0
    if not decoding:
        r.capacity = max(capacity, 64)
        r.out = <uint8_t*>malloc(r.capacity)
        if r.out == NULL:
            raise MemoryError("Not enough memory for the payload.")
    try:
        if codes.dtype == np.uint8:
            c8 = codes
            with nogil:
                status = _code(c8, n_levels, dv, decoding, table_bits, &tab[0], &wv[0], &r, &ring[0], &errors[0],
                               &wp_errors[0], &above_errors[0], &above[0], &lanes_a[0], &lanes_b[0])
        else:
            c16 = codes
            with nogil:
                status = _code(c16, n_levels, dv, decoding, table_bits, &tab[0], &wv[0], &r, &ring[0], &errors[0],
                               &wp_errors[0], &above_errors[0], &above[0], &lanes_a[0], &lanes_b[0])
        if status < 0:
            raise MemoryError("Not enough memory for the payload.")
        if decoding:
            return r.pos
        # LZMA's first byte is always 0 (low < 2^32 before the first shift): drop it.
        return (<char*>r.out)[1:r.pos]
    finally:
        free(r.out)
