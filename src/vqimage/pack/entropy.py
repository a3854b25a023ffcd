"""Stage 4: the ``context`` payload coder, an adaptive context-mixing arithmetic code.

Quantization codes are ordinal (scalar quantization keeps the order of the
values), so the codes of an image behave like a low-bit-depth gray image. This
coder predicts every code from its already-coded neighbours, mixes five context
models into one probability per binary decision, and feeds that to a binary
range coder. Nothing about the model is stored: encoder and decoder start from
the same state and adapt identically, so the payload is the range coder's bytes
and nothing else (the ``.vq`` container adds sizes, shape and a CRC-32).

The model
---------
Neighbours are named by compass direction from the current pixel (``W`` is the
left one, ``NE`` the upper right one, ``NNWW`` two up and two left). Outside
the image, a pixel left of a row reads as the first pixel of the row above, one
right of a row as the row's last pixel, and one above the first row as 0.

*Prediction.* JPEG XL's weighted predictor (four sub-predictors, each weighted
by the inverse of its recent errors around the pixel, three fractional bits,
the result clamped to the range of W, N and NE when the neighbours' errors
agree in sign) gives ``wp``; the reference value is ``pv = round(wp)``, always
in ``[0, n_levels)``.

*Binarization.* A code ``c`` is sent as binary decisions relative to ``pv``,
each of which splits the codes still possible into two intervals, so a decoded
value lies in ``[0, n_levels)`` by construction, whatever the input bytes:

1. ``c == pv``?  (79% of face's pixels at 8 levels stop here, 38% at 64)
2. ``c > pv``?  (skipped when only one side exists)
3. the magnitude ``m = |c - pv| >= 1``, Elias-gamma style: ``m >= 2``,
   ``m >= 3``, ``m >= 5``, ``m >= 9``, ``m >= 17``, ... until a "no" or the
   end of the range, then a binary search inside the last bucket.

Each decision has a *kind* (0: equal, 1: sign, 2-33: gamma step and side,
42-75: mantissa bucket and side) and a threshold ``t2``, twice the code value
it compares against (``2c`` for "equal", ``2s - 1`` for "c >= s"), so that a
context can say where a neighbour lies relative to the question asked. Face
needs 1.40 decisions per pixel at 8 levels and 2.88 at 64, where a binary
search over the codes needs 3 and 6.

*Context models.* Five adaptive probabilities per decision, each from its own
table, each indexed by a context and the decision's kind:

===========  ==================================================================
``exact``    hash of the codes W, N, NW, NE, WW, NN
``shape8``   W, N, NW, NE, WW, NN, NNE, NWW, NNW minus ``pv``, clipped to +-2
``shape14``  signs of 14 neighbours (out to NNWW, NNEE, WWW, NNN) minus ``pv``
``near``     W and N against the threshold to +-2 codes, NE and NW to +-1,
             in half-code steps
``wp``       ``wp`` against the threshold (log scale from 1/8 code), the mean
             of the neighbours' ``wp`` errors (8 log-scale steps)
===========  ==================================================================

The first three are fixed for the pixel: their hash picks an aligned slot of 4
counters and the kind one counter in it (XOR), so a pixel's first decisions
(kinds 0-3) read 16 bytes of each table. Being relative to ``pv``, ``shape8``
and ``shape14`` pool the same texture at every gray level; they gain most
(without ``shape14``, face 8 costs 1% more). The shape tables have 2^10 to
2^17 counters, about one per four pixels, ``exact`` half as many; the others
are indexed directly.

*Counters* (lpaq1's StateMap): 32 bits, a 22-bit probability and a 10-bit
count ``n``; the probability moves by ``(bit - p) / (n + 1.5)``, a running
average at first, settling to a rate of 1/128. A counter stores ``p - 1/2``, so
that a zeroed table is all ``p = 1/2``, nothing observed.

*Mixer.* The five probabilities are stretched (``ln(p / (1 - p))`` with 8
fractional bits, a 4096-entry table), weighted, summed with a bias and squashed
back to a 12-bit probability. The weights (16.16 fixed point, 1/4 at first)
come from one of 1024 sets, chosen by the kind and the activity (gradients
around the pixel, 8 log-scale steps), and learn online:
``w += x * (bit - p) * 10 >> 16``.

*Range coder.* LZMA's: 32-bit range, 12-bit probabilities clamped to
``[1, 4095]``, carries propagated through a cache byte and a run of 0xFF
bytes. A decision costs at least ``log2(4096 / 4095)`` bits, so a payload of P
bytes describes at most ``22,700 * P`` pixels (the container's bound,
``65,536 * (P + 64)``, holds). The encoder drops LZMA's first byte (always 0)
and flushes the 4 bytes of ``low``; the decoder starts with 4 bytes and takes
one more per normalisation, as the encoder wrote one, so it reads *exactly*
the payload. Reads past the end feed zeros and are counted, and decoding stops
at the first pixel after one; a payload that ends early (truncated) or late
(bytes appended), or starts with 4 bytes 0xFF (no code can), raises
:class:`vqimage.VQError`. Damage that keeps the length decodes to wrong codes
(always < ``n_levels``): the container's CRC-32 catches it.

Everything is integer arithmetic, the tables included, so the bytes are
identical across runs and machines.

Speed
-----
Decoding is sequential: every pixel's contexts need the code just decoded. The
kernel keeps that loop short. Before each row, loops the compiler vectorizes
gather what the rows above give each pixel (the sub-predictors' error sums,
four 16-bit lanes in one word; ``wp``'s neighbour errors; the activity; the
neighbours' codes, one byte each). Up to 127 levels, ``shape8``, ``shape14``
and the first decision's ``near`` come from comparing eight neighbours with
``pv`` - 1 to ``pv`` + 2 at once in the byte lanes of a 64-bit word (with
more levels, each neighbour is clipped against ``pv`` into the same lanes); the
first decision (the only one for 79% of face 8's pixels) runs without the
general case's bookkeeping. What is left is about 800 instructions per pixel on face 8, run at
about 4 a cycle, and waits for the hashed tables (a quarter of the time).

Measurements behind the choices
-------------------------------
Bits per pixel of ``vqimage.encode(image, vqimage.fit(image, k))``, JPEG XL lossless
effort 9 of the same quantized image in brackets (face 8: [0.742], face 64:
[2.371]). A binary search over the codes, mixing 6 contexts relative to each
split, gave face 8: 0.726; coding ``c == pv`` first with contexts relative to
``pv`` (MED as ``pv``): 0.706; the weighted predictor as ``pv`` and as a
context: 0.691 (face 64: 2.456 -> 2.335), all with 2^22-entry tables. The
static conditional entropy of face 8 given W, N, NW, NE is 0.752. Smaller
tables are faster (2^17 instead of 2^20: face 8 +0.5% and 17% faster, face 64
+0.3% and 45% faster; the three hashed tables at 2^16 instead of 2^17: face 8
+0.3%, face 64 +0.1%, 4% faster; ``exact`` at half the shapes' size costs
0.02% and saves 2%); slots of 4 counters instead of 8 gained 0.3% on face 8; a
sixth model, LOCO-I's median predictor against the threshold with the
activity, gained nothing once the others were there (face 8 0.03% better
without it, face 64 0.1% worse) and cost 7% of the time; each of the five
costs 4-7% of the time; an APM/SSE stage after the mixer gained at most 0.3%,
the bias and the activity-selected weight sets 0.4%; counter limits from 60
to 255 are within 0.2% (15: +0.5%); the mixer's learning rate from 7 to 14
within 0.1%; initial weights of 1/4 beat 3/8 by 0.02-0.4%. Guessing the side
first ("c == pv + 1" or "c == pv - 1", by where ``wp`` leans, before the sign)
saves 8% of face 8's decisions but costs 0.5% and no time. Per image and k:
our bpp, JPEG XL e7/e9, order-0 entropy, encode/decode ms (best of 14 warm
runs, 2-core AMD EPYC (Zen 4), numba's cache loaded):

======  ===  ======  ======  ======  =====  ======  ======
image    k   ours    e7      e9      H0     enc ms  dec ms
======  ===  ======  ======  ======  =====  ======  ======
face      2  0.1853  0.1982  0.1942  0.999    32      33
face      4  0.3947  0.4240  0.4182  1.978    37      38
face      8  0.6927  0.7543  0.7416  2.971    42      45
face     16  1.0933  1.1739  1.1623  3.943    49      54
face     64  2.3489  2.4149  2.3714  5.939    73      81
camera    2  0.0429  0.0580  0.0524  0.906    10      10
camera    4  0.2664  0.3091  0.2972  1.861    12      12
camera    8  0.6048  0.6927  0.6525  2.818    13      14
camera   16  1.0615  1.1625  1.1161  3.733    16      17
camera   64  2.2932  2.4023  2.3258  5.731    25      28
======  ===  ======  ======  ======  =====  ======  ======

The coder before the changes the Speed section describes (six models, slots of
8 counters, 3/8 initial weights) coded face 8 in 0.6956 bits per pixel, 72 ms
to encode and 76 to decode; face 64 in 2.3508, 120 and 129 ms.

Examples
--------
>>> import numpy as np
>>> codes = (np.arange(64, dtype=np.uint8).reshape(8, 8) // 9) % 4
>>> data = encode_codes(codes, 4)
>>> len(data) < codes.size * 2 // 8
True
>>> np.array_equal(decode_codes(data, 4, (8, 8)), codes)
True
"""

from __future__ import annotations

import math
import threading

import numpy as np

from .._validation import Interval, VQError, check_param, check_raster
from ..codebook import code_dtype

__all__ = ["encode_codes", "decode_codes"]

# --------------------------------------------------------------------------
# Constants of the format: changing any of them changes the bytes.

_LIMIT = 127  # counter count limit: the slowest adaptation rate is 1/128.5
_LEARNING_RATE = 10  # mixer learning rate
_KINDS = 128  # room for the decision kinds (0 to 75 occur)
_MODELS = 5
_SLOT = 4  # counters per hashed context slot (aligned)
_NEAR_CONTEXTS = 9 * 9 * 5 * 5  # W, N (+-2 codes) and NE, NW (+-1) against the threshold
_NEAR0_CONTEXTS = 1 << 12  # the same for the first decision, from 12 bits of the byte lanes
_WP_CONTEXTS = 19 * 8  # wp-vs-threshold, log scale (19) x predictor error (8)
_MAX_TABLE_BITS = 17
_MIN_TABLE_BITS = 10
_INITIAL_WEIGHT = 65536 // 4
_SMALL = 127  # up to this many levels, neighbours are compared with pv in byte lanes

# Byte lanes: 8 codes in a 64-bit word, the top bit of each lane set so that
# subtracting (pv + k) in every lane leaves that bit set where code >= pv + k.
_ONES = 0x0101010101010101
_HIGH = 0x8080808080808080
_PHI = 0x9E3779B97F4A7C15  # 2^64 / golden ratio, odd: Fibonacci hashing
# The comparisons kept per lane: bits 7, 6 (>= pv, pv + 1) of word A's lanes and 5, 4 of word B's
# make shape14; shape8 adds bits 3, 2 (>= pv - 1, pv + 2) and 1, 0 for NWW, NW, N, NE, WW, W
# in word A and NNW, NN, NNE in word B (see the kernel's lane layout).
_SHAPE8_MASK = 0xCCCC0000FFFFFFCC


def _squash_table() -> np.ndarray:
    """lpaq1's squash: ``4096 / (1 + exp(-x / 256))`` for x in [-2048, 2047], from integers."""
    knots = [1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047, 2549,
             2994, 3348, 3607, 3785, 3901, 3975, 4024, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094]
    out = np.empty(4096, np.int16)
    for x in range(-2048, 2048):
        i, w = (x >> 7) + 16, x & 127
        out[x + 2048] = (knots[i] * (128 - w) + knots[i + 1] * w + 64) >> 7
    return out


def _stretch_table(squash: np.ndarray) -> np.ndarray:
    """Inverse of squash: the smallest x with squash(x) >= p, for p in [0, 4095]."""
    out = np.full(4096, 2047, np.int16)
    p = 0
    for x in range(-2047, 2048):
        v = int(squash[x + 2048])
        out[p : v + 1] = x
        p = max(p, v + 1)
    return out


def _log_bucket_table() -> np.ndarray:
    """Signed log-scale bucket of d in [-129, 129]: 0, +-1, +-2, +-3..4, ..., +-65..128, beyond."""
    out = np.empty(259, np.int32)
    for d in range(-129, 130):
        a = abs(d)
        b = sum(a > t for t in (0, 1, 2, 4, 8, 16, 32, 64, 128))
        out[d + 129] = 9 + b if d >= 0 else 9 - b
    return out


_SQUASH = _squash_table()
_STRETCH = _stretch_table(_SQUASH)
_LOG_BUCKET = _log_bucket_table()
# Log-scale bucket of v >= 0, capped at 49: 0, 1, 2-3, 4-6, 7-12, 13-24, 25-48, more (0..7)
_BUCKET = np.array([sum(v > t for t in (0, 1, 3, 6, 12, 24, 48)) for v in range(50)], np.int32)
_RATE = np.array([16384 // (n + n + 3) for n in range(1024)], np.int32)  # lpaq1's dt[]
# The weighted predictor's weights for an error sum e < 2048: 13 (sub-predictor 0) or 12
# (1, 2, 3) times 2^16 / (e + 1)
_RECIPROCAL_13 = np.array([13 * ((1 << 16) // (e + 1)) for e in range(2048)], np.int32)
_RECIPROCAL_12 = np.array([12 * ((1 << 16) // (e + 1)) for e in range(2048)], np.int32)


# --------------------------------------------------------------------------
# Public API


def encode_codes(codes: np.ndarray, n_levels: int) -> bytes:
    """Context-mix and range-code a 2-D array of codes.

    Parameters
    ----------
    codes : ndarray of unsigned ints, shape (rows, cols)
        Every value must be < ``n_levels``. Coded in C order, each row
        predicted from the rows above it.
    n_levels : int in [1, 65536]

    Returns
    -------
    bytes
        The payload; ``b""`` for one level or no codes.
    """
    check_param("n_levels", n_levels, Interval(int, 1, 65536), caller="encode_codes")
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(
            f"The 'codes' parameter of encode_codes must be a 2-D array. Got shape {codes.shape}."
        )
    if codes.dtype.kind not in "ui":
        raise TypeError(
            f"The 'codes' parameter of encode_codes must be an integer array. Got dtype {codes.dtype}."
        )
    if codes.size and (int(codes.min()) < 0 or int(codes.max()) >= n_levels):
        raise ValueError(
            f"The 'codes' parameter of encode_codes must lie in [0, {n_levels - 1}] for n_levels="
            f"{n_levels}. Got values in [{int(codes.min())}, {int(codes.max())}]."
        )
    if n_levels == 1 or codes.size == 0:
        return b""
    codes = np.ascontiguousarray(codes, dtype=code_dtype(n_levels))
    # A generous first guess; the kernel grows the buffer when a row might not fit.
    capacity = codes.size * int(n_levels - 1).bit_length() // 8 + 64
    buffer, size = _kernel()(codes, n_levels, np.empty(capacity, np.uint8), False, *_model(codes.shape))
    return buffer[:size].tobytes()


def decode_codes(data, n_levels: int, shape: tuple[int, int], *, out: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`encode_codes`.

    Parameters
    ----------
    data : bytes-like
        The payload.
    n_levels : int in [1, 65536]
    shape : (int, int)
        ``(rows, cols)``, validated by the caller: the output is allocated
        from it (the coder's working memory is ``O(cols)`` plus 2.4 MiB of
        tables at most).
    out : ndarray, optional
        Where to decode: C-contiguous, of shape ``shape`` and the codes' dtype
        (uint8 up to 256 levels, uint16 above).

    Returns
    -------
    ndarray, shape ``shape``
        uint8 for up to 256 levels, uint16 above; every value < ``n_levels``
        whatever ``data`` holds.

    Raises
    ------
    VQError
        When ``data`` is not exactly as long as the code it holds (truncated,
        or with bytes appended), or its first bytes cannot start a code.
    """
    check_param("n_levels", n_levels, Interval(int, 1, 65536), caller="decode_codes")
    rows, cols = check_raster(shape, caller="decode_codes")
    try:
        payload = np.frombuffer(memoryview(data).cast("B"), np.uint8)
    except TypeError:
        raise TypeError(
            f"The 'data' parameter of decode_codes must be bytes-like. Got {type(data).__name__}."
        ) from None
    if out is None:
        codes = np.zeros((rows, cols), code_dtype(n_levels))
    elif out.shape != (rows, cols) or out.dtype != code_dtype(n_levels) or not out.flags.c_contiguous:
        raise ValueError(f"The 'out' parameter of decode_codes must be a C-contiguous {code_dtype(n_levels)} array "
                         f"of shape {(rows, cols)}. Got {out.dtype} of shape {out.shape}.")
    else:
        codes = out
        codes[...] = 0
    if n_levels == 1 or codes.size == 0:
        if payload.size:
            raise VQError(f"Context-coded payload has {payload.size} bytes where none are expected.")
        return codes
    if payload.size >= 4 and payload[:4].tobytes() == b"\xff\xff\xff\xff":
        raise VQError("Context-coded payload is damaged: it cannot start with 4 bytes 0xFF.")
    _, read = _kernel()(codes, n_levels, payload.copy(), True, *_model(codes.shape))
    if read > payload.size:
        raise VQError(
            f"Context-coded payload is truncated: {payload.size} bytes, the code needs more "
            f"(read {read} before stopping)."
        )
    if read < payload.size:
        raise VQError(f"Context-coded payload has {payload.size - read} bytes after the end of the code.")
    return codes


# --------------------------------------------------------------------------
# Model state


def _table_bits(n_pixels: int) -> int:
    """log2 of the shape tables' size: about a quarter entry per pixel, 2^10 to 2^17."""
    return min(max(math.ceil(math.log2(n_pixels)) - 2, _MIN_TABLE_BITS), _MAX_TABLE_BITS)


def _model(shape: tuple[int, int]) -> tuple[int, np.ndarray, np.ndarray]:
    """Fresh model state: ``(table_bits, counters, mixer weights)``.

    The counters of the five models, one after the other: ``exact`` (2^(bits - 1)),
    ``shape8`` and ``shape14`` (2^bits each), ``near`` and ``wp`` by kind, and the
    first decision's ``near``. All start at zero, which means p = 1/2 and no
    observations (see ``_learn``), so numpy can hand over untouched zero pages.
    """
    bits = _table_bits(shape[0] * shape[1])
    size = 5 << (bits - 1)
    size += (_NEAR_CONTEXTS + _WP_CONTEXTS) * _KINDS + _NEAR0_CONTEXTS
    counters = np.zeros(size, np.int32)
    weights = np.full((_KINDS * 8, _MODELS + 1), _INITIAL_WEIGHT, np.int64)
    weights[:, _MODELS] = 0  # the bias input starts unused
    return bits, counters, weights.reshape(-1)


def _kernel():
    """The compiled coder. numba is imported here, on first use: it takes ~0.3 s to import.

    The helpers below are plain functions until then; they are compiled to be
    inlined into ``_code_image``, which numba caches on disk beside this file.
    """
    global _COMPILED
    with _COMPILE_LOCK:
        if _COMPILED is None:
            import numba

            module = globals()
            for name in _INLINE:
                module[name] = numba.njit(inline="always")(module[name])
            _COMPILED = numba.njit(cache=True, nogil=True)(_code_image)
    return _COMPILED


_COMPILED = None
_COMPILE_LOCK = threading.Lock()
_INLINE = (
    "_u", "_clip", "_lane", "_hash_slot", "_near", "_threshold", "_next_decision", "_learn",
    "_shift_low", "_decide",
)


# --------------------------------------------------------------------------
# Kernel helpers (compiled by _kernel; numba inlines them). ``_decide`` is kept
# free of loops: with one, numba counted references to its arrays at every call.


def _u(i):
    """An index as unsigned, so that numba skips the negative-index wraparound."""
    return np.uint64(i)


def _clip(d, cap):
    """d clipped to [-cap, cap], shifted to [0, 2 cap]."""
    return min(max(d, -cap), cap) + cap


def _lane(v, pv, k):
    """Byte lane k holding 64 + (v - pv clipped to +-2), for the comparisons against 64."""
    return np.uint64(_clip(v - pv, 2) + 62) << np.uint64(8 * k)


def _hash_slot(key, shift):
    """Start of the aligned slot of 4 counters that a 64-bit key picks in a 2^(64 - shift) table."""
    return ((np.uint64(key) * np.uint64(_PHI)) >> shift) & np.uint64(0xFFFFFFFF - (_SLOT - 1))


def _near(t2, W, N, NW, NE):
    return (
        _clip(2 * W - t2, 4) + 9 * _clip(2 * N - t2, 4)
        + 81 * (_clip(2 * NE - t2, 2) + 5 * _clip(2 * NW - t2, 2))
    )


def _threshold(pv, sign, m):
    """t2 of the decision "magnitude >= m" on the upper (sign 1) or lower side of pv."""
    return 2 * (pv + m) - 1 if sign else 2 * (pv - m) + 1


def _next_decision(step, bit, pv, c, n_levels, sign, lo, hi, t, kind):
    """Advance the binarization after a decision with outcome ``bit`` (step 0: after a "no").

    ``step``: 0 "c == pv", 1 "c > pv", 2 gamma ("m >= t"), 3 mantissa
    ("m >= (lo + hi) // 2"), 4 done. The magnitude m is known to lie in
    [lo, hi). Returns ``(step, sign, lo, hi, t, kind, t2, bit)``: the next
    decision's threshold and, encoding, its outcome for the code ``c``.
    """
    if step == 0:
        if pv == 0:
            sign = 1
        elif pv == n_levels - 1:
            sign = 0
        else:
            return 1, sign, lo, hi, t, 1, 2 * pv + 1, 1 if c > pv else 0
    elif step == 1:
        sign = bit
    if step <= 1:
        lo, hi, t, kind = 1, (n_levels - pv if sign else pv + 1), 2, 2 + sign
        if t < hi:
            return 2, sign, lo, hi, t, kind, _threshold(pv, sign, t), 1 if abs(c - pv) >= t else 0
        kind += 40
    elif step == 2:
        if bit:
            lo, t, kind = t, (2 * t - 1 if t > 2 else 3), kind + 2
            if t < hi:
                return 2, sign, lo, hi, t, kind, _threshold(pv, sign, t), 1 if abs(c - pv) >= t else 0
        else:
            hi = t
        kind += 40
    elif bit:
        lo = (lo + hi) >> 1
    else:
        hi = (lo + hi) >> 1
    mid = (lo + hi) >> 1
    step = 3 if hi - lo > 1 else 4
    return step, sign, lo, hi, t, kind, _threshold(pv, sign, mid), 1 if abs(c - pv) >= mid else 0


def _learn(t, target):
    """lpaq1 StateMap update: p += (bit - p) / (n + 1.5), n += 1 up to the limit.

    ``t`` is a counter, ``(p - 1/2) << 10 | n`` with a 22-bit p; ``target`` is
    +-2^21 (the bit, minus 1/2).
    """
    n = t & 1023
    t += (((target - (t >> 10)) >> 3) * _RATE[_u(n)]) & -1024
    t += n < _LIMIT
    return t


def _shift_low(buf, low, cache, pending, pos):
    """LZMA's ShiftLow: emit the top byte of ``low`` (delayed by the carry cache)."""
    if low < 0xFF000000 or low >= 0x100000000:
        carry = low >> 32
        byte = cache
        while True:
            buf[pos] = (byte + carry) & 0xFF
            pos += 1
            byte = 0xFF
            pending -= 1
            if pending == 0:
                break
        cache = (low >> 24) & 0xFF
    return (low & 0x00FFFFFF) << 8, cache, pending + 1, pos


def _decide(bit, i0, i1, i2, i3, i4, mix, tab, weights, decoding, rng, low):
    """One decision: mix counters ``tab[i0..i4]`` with weight set ``mix`` into p, code ``bit``
    (decoding: decode it) in the range ``rng`` (``low`` is the decoder's code), learn.

    Returns ``(bit, rng, low)``; the caller normalizes the range.
    """
    c0 = np.int64(tab[i0])
    c1 = np.int64(tab[i1])
    c2 = np.int64(tab[i2])
    c3 = np.int64(tab[i3])
    c4 = np.int64(tab[i4])
    x0 = np.int64(_STRETCH[_u((c0 >> 20) + 2048)])
    x1 = np.int64(_STRETCH[_u((c1 >> 20) + 2048)])
    x2 = np.int64(_STRETCH[_u((c2 >> 20) + 2048)])
    x3 = np.int64(_STRETCH[_u((c3 >> 20) + 2048)])
    x4 = np.int64(_STRETCH[_u((c4 >> 20) + 2048)])
    dot = (x0 * weights[mix] + x1 * weights[mix + 1] + x2 * weights[mix + 2]
           + x3 * weights[mix + 3] + x4 * weights[mix + 4] + 256 * weights[mix + 5]) >> 16
    p = np.int64(_SQUASH[_u(min(max(dot, -2047), 2047) + 2048)])
    # LZMA's range coder, p is the probability of a 1.
    bound = (rng >> 12) * min(max(p, 1), 4095)
    if decoding:
        bit = 1 if low < bound else 0
        if bit:
            rng = bound
        else:
            low -= bound
            rng -= bound
    else:
        if bit:
            rng = bound
        else:
            low += bound
            rng -= bound
    # Learn.
    dw = ((bit << 12) - p) * _LEARNING_RATE
    weights[mix] += (x0 * dw) >> 16
    weights[mix + 1] += (x1 * dw) >> 16
    weights[mix + 2] += (x2 * dw) >> 16
    weights[mix + 3] += (x3 * dw) >> 16
    weights[mix + 4] += (x4 * dw) >> 16
    weights[mix + 5] += (256 * dw) >> 16
    target = (bit << 22) - (1 << 21)
    tab[i0] = _learn(c0, target)
    tab[i1] = _learn(c1, target)
    tab[i2] = _learn(c2, target)
    tab[i3] = _learn(c3, target)
    tab[i4] = _learn(c4, target)
    return bit, rng, low


# --------------------------------------------------------------------------
# The kernel: one function codes and decodes, so the two cannot drift apart.


def _code_image(codes, n_levels, buf, decoding, table_bits, tab, weights):
    """Encode ``codes`` into ``buf`` or (``decoding``) decode ``buf`` into ``codes``.

    Returns ``(buf, n)``: the output buffer (grown if needed) and the bytes
    written, or, decoding, the bytes read including those past the end.
    """
    rows, cols = codes.shape
    flat = codes.reshape(rows * cols)
    width = cols + 6  # 3 pad columns left (WWW), 3 right (NEE, and one read ahead)
    ring = np.zeros(4 * width, np.int32)  # the current row and three above it
    # Of the last row coded: |error| of the 4 sub-predictors (16-bit lanes), signed error of wp
    errors = np.zeros(width, np.uint64)
    wp_errors = np.zeros(width, np.int32)
    # What the rows above give each pixel of the row being coded: the sub-predictors' errors
    # at N (twice), NW and NE, summed in 16-bit lanes; 7 quantities from wp's errors and the
    # activity; the neighbours' codes in byte lanes (word A: NWW, NW, N, NE, NEE, then WWW,
    # WW, W added per pixel; word B: NNWW, NNW, NN, NNE, NNEE, NNN, and NNWW, NNW again).
    above_errors = np.zeros(cols, np.uint64)
    above = np.zeros(8 * cols, np.int32)
    lanes_a = np.zeros(cols, np.uint64)
    lanes_b = np.zeros(cols, np.uint64)
    small = n_levels <= _SMALL
    shape8_base = 1 << (table_bits - 1)
    shape14_base = shape8_base + (1 << table_bits)
    near_base = shape14_base + (1 << table_bits)
    wp_base = near_base + _NEAR_CONTEXTS * _KINDS
    near0_base = wp_base + _WP_CONTEXTS * _KINDS
    exact_shift = np.uint64(65 - table_bits)
    shape_shift = np.uint64(64 - table_bits)
    top = (n_levels - 1) * 8
    row_reserve = 64 * cols + 64  # more than a row can add (<= 33 decisions of <= 12.01 bits a code)
    ones = np.uint64(_ONES)
    high = np.uint64(_HIGH)
    lane16 = np.uint64(0xFFFF)
    lanes_5_6 = np.uint64(0x00FFFF0000000000)
    cap = np.uint64(2047)

    low = 0
    rng = 0xFFFFFFFF
    cache = 0
    pending = 1
    pos = 0
    overrun = buf.shape[0] if decoding else 1 << 62  # a decoder past its input's end stops
    if decoding:
        for i in range(4):
            low = (low << 8) | (np.int64(buf[i]) if i < buf.shape[0] else 0)
        pos = 4

    for y in range(rows):
        if pos > overrun:
            break
        if not decoding and pos + pending + row_reserve > buf.shape[0]:
            grown = np.empty(2 * buf.shape[0] + row_reserve, np.uint8)
            grown[:pos] = buf[:pos]
            buf = grown
        o0 = ((y + 3) & 3) * width
        o1 = ((y + 2) & 3) * width
        o2 = ((y + 1) & 3) * width
        o3 = (y & 3) * width
        r0 = ring[o0:o0 + width]
        r1 = ring[o1:o1 + width]
        r2 = ring[o2:o2 + width]
        r3 = ring[o3:o3 + width]
        r0[0] = r0[1] = r0[2] = r1[3]

        # What the rows above give each pixel of this row (loops the compiler vectorizes).
        for x in range(cols):
            above_errors[x] = 2 * errors[x + 3] + errors[x + 2] + errors[x + 4]
        for x in range(cols):
            teNW = wp_errors[x + 2]
            teN = wp_errors[x + 3]
            teNE = wp_errors[x + 4]
            N = r1[x + 3]
            above[8 * x] = teN + teNE
            above[8 * x + 1] = teN + teNW
            above[8 * x + 2] = N * 8 - (((teNW + teN + teNE) * 7) >> 5)  # sub-predictor 3
            above[8 * x + 3] = abs(teN) + abs(teNW) + abs(teNE)
            above[8 * x + 4] = teN
            above[8 * x + 5] = teN ^ teNW
            above[8 * x + 6] = abs(N - r1[x + 2]) + abs(N - r1[x + 4]) + abs(N - r2[x + 3])
            above[8 * x + 7] = 0
        if small:
            for x in range(cols):
                lanes_a[x] = (np.uint64(r1[x + 1]) | (np.uint64(r1[x + 2]) << np.uint64(8))
                              | (np.uint64(r1[x + 3]) << np.uint64(16))
                              | (np.uint64(r1[x + 4]) << np.uint64(24))
                              | (np.uint64(r1[x + 5]) << np.uint64(32)) | high)
                b = (np.uint64(r2[x + 1]) | (np.uint64(r2[x + 2]) << np.uint64(8))
                     | (np.uint64(r2[x + 3]) << np.uint64(16)) | (np.uint64(r2[x + 4]) << np.uint64(24))
                     | (np.uint64(r2[x + 5]) << np.uint64(32)))
                lanes_b[x] = b | (np.uint64(r3[x + 3]) << np.uint64(40)) | (b << np.uint64(48)) | high

        W = WW = WWW = np.int64(r0[2])
        current = np.uint64(W) * np.uint64(0x0101010000000000)  # WWW, WW, W: lanes 5, 6, 7
        eW = eWW = np.uint64(0)
        teW = 0
        for x in range(cols):
            if pos > overrun:
                break
            cx = x + 3
            N = np.int64(r1[cx])
            NW = np.int64(r1[cx - 1])
            NE = np.int64(r1[cx + 1])
            activity = np.int64(_BUCKET[_u(min(abs(W - NW) + abs(W - WW) + above[8 * x + 6], 49))])

            # Weighted predictor (JPEG XL's, 3 fractional bits).
            p0 = (W + NE - N) * 8
            p1 = N * 8 - ((teW + above[8 * x]) >> 1)
            p2 = W * 8 - (((teW + above[8 * x + 1]) * 10) >> 5)
            p3 = np.int64(above[8 * x + 2])
            e = above_errors[x] + eW + eWW  # each sub-predictor's errors at N (twice), NW, NE, W, WW
            w0 = np.int64(_RECIPROCAL_13[min(e & lane16, cap)])
            w1 = np.int64(_RECIPROCAL_12[min((e >> np.uint64(16)) & lane16, cap)])
            w2 = np.int64(_RECIPROCAL_12[min((e >> np.uint64(32)) & lane16, cap)])
            w3 = np.int64(_RECIPROCAL_12[min(e >> np.uint64(48), cap)])
            wsum = w0 + w1 + w2 + w3
            # A negative quotient ends up as the lower clamp, as 0 does: divide unsigned.
            num = max(p0 * w0 + p1 * w1 + p2 * w2 + p3 * w3 + (wsum >> 1), 0)
            wp = np.int64(np.uint64(num) // np.uint64(wsum))
            agree = ((above[8 * x + 4] ^ teW) | above[8 * x + 5]) <= 0  # the neighbours' errors' signs
            wp = min(max(wp, min(W, min(N, NE)) * 8 * agree), top if not agree else max(W, max(N, NE)) * 8)
            wp_error = np.int64(_BUCKET[_u(min((abs(teW) + above[8 * x + 3]) >> 2, 49))])
            pv = (wp + 4) >> 3

            # The neighbours against pv - 1, pv, pv + 1 and pv + 2, every byte lane at once.
            if small:
                wa = lanes_a[x] | current
                wb = lanes_b[x]
                base = np.uint64(pv) * ones
            else:
                wa = (_lane(np.int64(r1[cx - 2]), pv, 0) | _lane(NW, pv, 1) | _lane(N, pv, 2)
                      | _lane(NE, pv, 3) | _lane(np.int64(r1[cx + 2]), pv, 4) | _lane(WWW, pv, 5)
                      | _lane(WW, pv, 6) | _lane(W, pv, 7) | high)
                b = (_lane(np.int64(r2[cx - 2]), pv, 0) | _lane(np.int64(r2[cx - 1]), pv, 1)
                     | _lane(np.int64(r2[cx]), pv, 2) | _lane(np.int64(r2[cx + 1]), pv, 3)
                     | _lane(np.int64(r2[cx + 2]), pv, 4))
                wb = b | _lane(np.int64(r3[cx]), pv, 5) | (b << np.uint64(48)) | high
                base = np.uint64(64) * ones
            da = wa - base  # top bit of a lane: the neighbour >= pv
            db = wb - base
            ge0 = (da & high) | ((db & high) >> np.uint64(2))
            ge1 = ((da - ones) & high) | (((db - ones) & high) >> np.uint64(2))
            gem1 = ((da + ones) & high) | (((db + ones) & high) >> np.uint64(2))
            ge2 = ((da - ones - ones) & high) | (((db - ones - ones) & high) >> np.uint64(2))
            shape14 = ge0 | (ge1 >> np.uint64(1))
            levels = shape14 | (gem1 >> np.uint64(4)) | (ge2 >> np.uint64(5))  # 4 comparisons a lane
            shape8 = levels & np.uint64(_SHAPE8_MASK)
            if small:
                exact = (wa & np.uint64(0xFFFF0000FFFFFF00)) ^ ((wb & np.uint64(0xFF0000)) << np.uint64(16))
            else:
                exact = ((np.uint64(W) | (np.uint64(N) << np.uint64(16)) | (np.uint64(NW) << np.uint64(32))
                          | (np.uint64(NE) << np.uint64(48))) * np.uint64(_PHI)
                         ^ (np.uint64(WW) | (np.uint64(r2[cx]) << np.uint64(16))))
            s_exact = _hash_slot(exact, exact_shift)
            s_shape8 = np.uint64(shape8_base) + _hash_slot(shape8, shape_shift)
            s_shape14 = np.uint64(shape14_base) + _hash_slot(shape14, shape_shift)

            # The first decision, c == pv (kind 0, t2 = 2 pv), its near from the lanes: W and N
            # (>= pv - 1, pv, pv + 1, pv + 2), NE and NW (>= pv, pv + 1).
            c = np.int64(flat[y * cols + x])  # decoding: a placeholder, only the decoded bits count
            bit = 1 if c == pv else 0
            i0 = s_exact
            i1 = s_shape8
            i2 = s_shape14
            i3 = np.uint64(near0_base) + (((levels >> np.uint64(56)) & np.uint64(0xCC))
                                          | ((levels >> np.uint64(18)) & np.uint64(0x33))
                                          | ((shape14 >> np.uint64(22)) & np.uint64(0x300))
                                          | ((shape14 >> np.uint64(4)) & np.uint64(0xC00)))
            i4 = _u(wp_base + _LOG_BUCKET[_u(wp - 8 * pv + 129)] * 8 + wp_error)
            mix = _u(6 * activity)
            step, sign, lo, hi, t, kind = 0, 0, 0, 0, 0, 0
            while True:  # one pass per decision, most pixels one only
                bit, rng, low = _decide(bit, i0, i1, i2, i3, i4, mix, tab, weights, decoding, rng, low)
                while rng < (1 << 24):
                    rng <<= 8
                    if decoding:
                        low = ((low << 8) | (np.int64(buf[pos]) if pos < buf.shape[0] else 0)) & 0xFFFFFFFF
                        pos += 1
                    else:
                        low, cache, pending, pos = _shift_low(buf, low, cache, pending, pos)
                if bit and step == 0:
                    break
                step, sign, lo, hi, t, kind, t2, bit = _next_decision(
                    step, bit, pv, c, n_levels, sign, lo, hi, t, kind
                )
                if step == 4:
                    break
                # The next decision, with the general contexts.
                k = np.uint64(kind)
                i0 = s_exact ^ k
                i1 = s_shape8 ^ k
                i2 = s_shape14 ^ k
                i3 = _u(near_base + kind * _NEAR_CONTEXTS + _near(t2, W, N, NW, NE))
                i4 = _u(wp_base + kind * _WP_CONTEXTS
                        + _LOG_BUCKET[_u(_clip(wp - 4 * t2, 129))] * 8 + wp_error)
                mix = _u(6 * (kind * 8 + activity))

            c = pv if lo == 0 else (pv + lo if sign else pv - lo)
            if decoding:
                flat[y * cols + x] = c
            r0[cx] = c
            c8 = c * 8
            # The sub-predictors' errors, each capped at 2047 (exact: a sum with a larger term is
            # past the weights' cap anyway), so that 6 of them add up within a 16-bit lane.
            eWW = eW
            eW = (np.uint64(min((abs(p0 - c8) + 3) >> 3, 2047))
                  | (np.uint64(min((abs(p1 - c8) + 3) >> 3, 2047)) << np.uint64(16))
                  | (np.uint64(min((abs(p2 - c8) + 3) >> 3, 2047)) << np.uint64(32))
                  | (np.uint64(min((abs(p3 - c8) + 3) >> 3, 2047)) << np.uint64(48)))
            errors[cx] = eW
            teW = wp - c8
            wp_errors[cx] = teW
            WWW = WW
            WW = W
            W = c
            current = ((current >> np.uint64(8)) & lanes_5_6) | (np.uint64(c) << np.uint64(56))
        r0[cols + 3] = r0[cols + 4] = r0[cols + 5] = r0[cols + 2]

    if not decoding:
        for _ in range(5):
            low, cache, pending, pos = _shift_low(buf, low, cache, pending, pos)
        # LZMA's first byte is always 0 (low < 2^32 before the first shift): drop it.
        buf = buf[1:pos]
        pos -= 1
    return buf, pos
