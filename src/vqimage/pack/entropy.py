"""Stage 4: the ``context`` payload coder, an adaptive context-mixing arithmetic code.

Quantization codes are ordinal (scalar quantization keeps the order of the
values), so the codes of an image behave like a low-bit-depth gray image. This
coder predicts every code from its already-coded neighbours, mixes six context
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

*Context models.* Six adaptive probabilities per decision, each from its own
table, each indexed by a context and the decision's kind:

===========  ==================================================================
``exact``    hash of the codes W, N, NW, NE, WW, NN
``shape8``   W, N, NW, NE, WW, NN, NNE, NWW, NNW minus ``pv``, clipped to +-2
``shape14``  signs of 14 neighbours (out to NNWW, NNEE, WWW, NNN) minus ``pv``
``near``     W and N against the threshold to +-2 codes, NE and NW to +-1,
             in half-code steps
``med``      LOCO-I's median predictor against the threshold (+-6 codes),
             local activity (gradients around the pixel, 8 log-scale steps)
``wp``       ``wp`` against the threshold (log scale from 1/8 code), the mean
             of the neighbours' ``wp`` errors (8 log-scale steps)
===========  ==================================================================

The first three are fixed for the pixel: their hash picks an aligned slot of 8
counters and the kind one counter in it (XOR), so a pixel's first decisions
(kinds 0-7) read one cache line per table. Being relative to ``pv``,
``shape8`` and ``shape14`` pool the same texture at every gray level; they
gain most (without ``shape14``, face 8 costs 1% more). Hashed tables have 2^10
to 2^17 counters, about one per four pixels; the others are indexed directly.

*Counters* (lpaq1's StateMap): 32 bits, a 22-bit probability and a 10-bit
count ``n``; the probability moves by ``(bit - p) / (n + 1.5)``, a running
average at first, settling to a rate of 1/128.

*Mixer.* The six probabilities are stretched (``ln(p / (1 - p))`` with 8
fractional bits, a 4096-entry table), weighted, summed with a bias and squashed
back to a 12-bit probability. The weights (16.16 fixed point) come from one of
1024 sets, chosen by the kind and the activity, and learn online:
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

Measurements behind the choices
-------------------------------
Bits per pixel of ``vqimage.fit(image, k).encode(image)``, JPEG XL lossless
effort 9 of the same quantized image in brackets (face 8: [0.742], face 64:
[2.371]). A binary search over the codes, mixing 6 contexts relative to each
split, gave face 8: 0.726; coding ``c == pv`` first with contexts relative to
``pv`` (MED as ``pv``): 0.706; the weighted predictor as ``pv`` and as a
context: 0.691 (face 64: 2.456 -> 2.335), all with 2^22-entry tables. The
static conditional entropy of face 8 given W, N, NW, NE is 0.752. Smaller
tables are faster (2^17 instead of 2^20: face 8 +0.5% and 17% faster, face 64
+0.3% and 45% faster); an APM/SSE stage after the mixer gained at most 0.3%,
the bias and the activity-selected weight sets 0.4%; counter limits from 60 to
255 are within 0.2% (15: +0.5%); the mixer's learning rate from 7 to 14 within
0.1%. On face 8 each model costs about 4 ms, the weighted predictor 14
ms (2-core AMD EPYC); /tmp/entropy_bench.py printed, per image and k: our bpp,
JPEG XL e7/e9, order-0 entropy, encode/decode ms:

======  ===  ======  ======  ======  =====  ======  ======
image    k   ours    e7      e9      H0     enc ms  dec ms
======  ===  ======  ======  ======  =====  ======  ======
face      2  0.1859  0.1982  0.1942  0.999    56      58
face      4  0.3963  0.4240  0.4182  1.978    63      66
face      8  0.6956  0.7543  0.7416  2.971    72      79
face     16  1.0969  1.1739  1.1623  3.943    84      89
face     64  2.3508  2.4149  2.3714  5.939   123     131
camera    2  0.0435  0.0580  0.0524  0.906    18      19
camera    4  0.2692  0.3091  0.2972  1.861    20      21
camera    8  0.6095  0.6927  0.6525  2.818    23      25
camera   16  1.0652  1.1625  1.1161  3.733    27      29
camera   64  2.2987  2.4023  2.3258  5.731    40      43
======  ===  ======  ======  ======  =====  ======  ======

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
import operator
import threading

import numpy as np

from .._validation import Interval, VQError, check_param
from ..codebook import code_dtype

__all__ = ["encode_codes", "decode_codes"]

# --------------------------------------------------------------------------
# Constants of the format: changing any of them changes the bytes.

_LIMIT = 127  # counter count limit: the slowest adaptation rate is 1/128.5
_LEARNING_RATE = 10  # mixer learning rate
_KINDS = 128  # room for the decision kinds (0 to 75 occur)
_MODELS = 6
_SLOT = 8  # counters per hashed context slot (aligned)
_NEAR_CONTEXTS = 9 * 9 * 5 * 5  # W, N (+-2 codes) and NE, NW (+-1) against the threshold
_MED_CONTEXTS = 25 * 8  # med-vs-threshold (25) x activity (8)
_WP_CONTEXTS = 19 * 8  # wp-vs-threshold, log scale (19) x predictor error (8)
_MAX_TABLE_BITS = 17
_MIN_TABLE_BITS = 10
_INITIAL_WEIGHT = 65536 * 3 // 8


def _squash_table() -> np.ndarray:
    """lpaq1's squash: ``4096 / (1 + exp(-x / 256))`` for x in [-2048, 2047], from integers."""
    knots = [1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047, 2549,
             2994, 3348, 3607, 3785, 3901, 3975, 4024, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094]
    out = np.empty(4096, np.int32)
    for x in range(-2048, 2048):
        i, w = (x >> 7) + 16, x & 127
        out[x + 2048] = (knots[i] * (128 - w) + knots[i + 1] * w + 64) >> 7
    return out


def _stretch_table(squash: np.ndarray) -> np.ndarray:
    """Inverse of squash: the smallest x with squash(x) >= p, for p in [0, 4095]."""
    out = np.full(4096, 2047, np.int32)
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
_RATE = np.array([16384 // (n + n + 3) for n in range(1024)], np.int32)  # lpaq1's dt[]
_RECIPROCAL = np.array([(1 << 16) // (e + 1) for e in range(2048)], np.int64)


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


def decode_codes(data, n_levels: int, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`encode_codes`.

    Parameters
    ----------
    data : bytes-like
        The payload.
    n_levels : int in [1, 65536]
    shape : (int, int)
        ``(rows, cols)``, validated by the caller: the output is allocated
        from it (the coder's working memory is ``O(cols)`` plus 2.8 MiB of
        tables at most).

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
    try:
        rows, cols = (operator.index(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"The 'shape' parameter of decode_codes must be a pair of ints. Got {shape!r}."
        ) from None
    if rows < 0 or cols < 0:
        raise ValueError(f"The 'shape' parameter of decode_codes must be non-negative. Got {shape!r}.")
    try:
        payload = np.frombuffer(memoryview(data).cast("B"), np.uint8)
    except TypeError:
        raise TypeError(
            f"The 'data' parameter of decode_codes must be bytes-like. Got {type(data).__name__}."
        ) from None
    codes = np.zeros((rows, cols), code_dtype(n_levels))
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
    """log2 of the hashed tables' size: about a quarter entry per pixel, 2^10 to 2^17."""
    return min(max(math.ceil(math.log2(n_pixels)) - 2, _MIN_TABLE_BITS), _MAX_TABLE_BITS)


def _model(shape: tuple[int, int]) -> tuple[int, np.ndarray, np.ndarray]:
    """Fresh model state: ``(table_bits, counters, mixer weights)``.

    All counters start at zero, which means p = 1/2 and no observations (see
    ``_stretched``), so numpy can hand over untouched zero pages.
    """
    bits = _table_bits(shape[0] * shape[1])
    counters = np.zeros(3 * (1 << bits) + (_NEAR_CONTEXTS + _MED_CONTEXTS + _WP_CONTEXTS) * _KINDS, np.uint32)
    weights = np.full((_KINDS * 8, _MODELS + 1), _INITIAL_WEIGHT, np.int64)
    weights[:, _MODELS] = 0  # the bias input starts unused
    return bits, counters, weights


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
    "_h32", "_clip", "_sign3", "_bucket", "_slot", "_exact", "_shape8", "_shape14", "_near",
    "_wp_weight", "_threshold", "_next_decision", "_stretched", "_learn", "_shift_low",
)


# --------------------------------------------------------------------------
# Kernel helpers (compiled by _kernel; numba inlines them)


def _h32(x):
    """Knuth's multiplicative hash of the low 32 bits of x."""
    return ((x & 0xFFFFFFFF) * 2654435761) & 0xFFFFFFFF


def _clip(d, cap):
    """d clipped to [-cap, cap], shifted to [0, 2 cap]."""
    return min(max(d, -cap), cap) + cap


def _sign3(d):
    """0, 1, 2 for d < 0, d == 0, d > 0."""
    return (d > 0) - (d < 0) + 1


def _bucket(v):
    """Log-scale bucket of v >= 0: 0, 1, 2-3, 4-6, 7-12, 13-24, 25-48, more (0..7)."""
    return (v > 0) + (v > 1) + (v > 3) + (v > 6) + (v > 12) + (v > 24) + (v > 48)


def _slot(h, bits):
    """Start of the aligned slot of 8 counters that hash h picks in a 2^bits table."""
    return (h >> (32 - bits)) & ~(_SLOT - 1)


def _exact(W, N, NW, NE, WW, NN):
    return _h32(_h32(W | (N << 16)) ^ (_h32(NW | (NE << 16)) + (WW | (NN << 16))))


def _shape8(pv, W, N, NW, NE, WW, NN, NNE, NWW, NNW):
    return (
        _clip(W - pv, 2) + 5 * _clip(N - pv, 2) + 25 * _clip(NW - pv, 2)
        + 125 * (_clip(NE - pv, 2) + 5 * _clip(WW - pv, 2) + 25 * _clip(NN - pv, 2))
        + 15625 * (_clip(NNE - pv, 2) + 5 * _clip(NWW - pv, 2) + 25 * _clip(NNW - pv, 2))
    )


def _shape14(pv, W, N, NW, NE, WW, NN, NNE, NWW, NNW, NEE, WWW, NNN, NNWW, NNEE):
    # Summed in groups so the additions do not form one long dependency chain.
    return (
        (_sign3(W - pv) + 3 * _sign3(N - pv) + 9 * _sign3(NW - pv) + 27 * _sign3(NE - pv))
        + 81 * (_sign3(WW - pv) + 3 * _sign3(NN - pv) + 9 * _sign3(NNE - pv) + 27 * _sign3(NWW - pv))
        + 6561 * (_sign3(NNW - pv) + 3 * _sign3(NEE - pv) + 9 * _sign3(WWW - pv) + 27 * _sign3(NNN - pv))
        + 531441 * (_sign3(NNWW - pv) + 3 * _sign3(NNEE - pv))
    )


def _near(t2, W, N, NW, NE):
    return (
        _clip(2 * W - t2, 4) + 9 * _clip(2 * N - t2, 4)
        + 81 * (_clip(2 * NE - t2, 2) + 5 * _clip(2 * NW - t2, 2))
    )


def _wp_weight(above, here, i, cx, scale):
    """Weight of sub-predictor i: scale / (1 + its errors at N (twice), NW, NE, W, WW), 16 fraction bits."""
    errors = (
        2 * np.int64(above[i, cx]) + above[i, cx - 1] + above[i, cx + 1] + here[i, cx - 1] + here[i, cx - 2]
    )
    return scale * _RECIPROCAL[min(errors, 2047)]


def _threshold(pv, sign, m):
    """t2 of the decision "magnitude >= m" on the upper (sign 1) or lower side of pv."""
    return 2 * (pv + m) - 1 if sign else 2 * (pv - m) + 1


def _next_decision(step, bit, pv, n_levels, sign, lo, hi, t, kind):
    """Advance the binarization after a decision with outcome ``bit``.

    ``step``: 0 "c == pv", 1 "c > pv", 2 gamma ("m >= t"), 3 mantissa
    ("m >= (lo + hi) // 2"), 4 done. The magnitude m is known to lie in
    [lo, hi). Returns ``(step, sign, lo, hi, t, kind)``.
    """
    if step == 0:
        if bit:
            return 4, sign, lo, hi, t, kind
        if pv == 0:
            sign = 1
        elif pv == n_levels - 1:
            sign = 0
        else:
            return 1, sign, lo, hi, t, 1
    elif step == 1:
        sign = bit
    if step <= 1:
        lo, hi, t, kind = 1, (n_levels - pv if sign else pv + 1), 2, 2 + sign
        if t < hi:
            return 2, sign, lo, hi, t, kind
        return (3 if hi - lo > 1 else 4), sign, lo, hi, t, kind + 40
    if step == 2:
        if bit:
            lo, t, kind = t, (2 * t - 1 if t > 2 else 3), kind + 2
            if t < hi:
                return 2, sign, lo, hi, t, kind
        else:
            hi = t
        return (3 if hi - lo > 1 else 4), sign, lo, hi, t, kind + 40
    if bit:
        lo = (lo + hi) >> 1
    else:
        hi = (lo + hi) >> 1
    return (3 if hi - lo > 1 else 4), sign, lo, hi, t, kind


def _stretched(counter):
    """Stretched 12-bit probability of a counter; tables store it XOR 2^31 so that 0 is p = 1/2."""
    return np.int64(_STRETCH[(counter >> 20) ^ 2048])


def _learn(counter, bit):
    """lpaq1 StateMap update: p += (bit - p) / (n + 1.5), n += 1 up to the limit."""
    t = np.int64(counter) ^ 0x80000000
    n = t & 1023
    t += ((((bit << 22) - (t >> 10)) >> 3) * _RATE[n]) & 0xFFFFFC00
    t += n < _LIMIT
    return (t & 0xFFFFFFFF) ^ 0x80000000


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


# --------------------------------------------------------------------------
# The kernel: one function codes and decodes, so the two cannot drift apart.


def _code_image(codes, n_levels, buf, decoding, table_bits, tab, weights):
    """Encode ``codes`` into ``buf`` or (``decoding``) decode ``buf`` into ``codes``.

    Returns ``(buf, n)``: the output buffer (grown if needed) and the bytes
    written, or, decoding, the bytes read including those past the end.
    """
    rows, cols = codes.shape
    width = cols + 6  # 3 pad columns left (WWW), 3 right (NEE, and one read ahead)
    ring = np.zeros((4, width), np.int32)  # the current row and three above it
    errors = np.zeros((2, 4, width), np.int32)  # |error| of each sub-predictor, this row and the last
    true_errors = np.zeros((2, width), np.int32)  # signed error of wp (1/8 units)
    big = 1 << table_bits
    near_base = 3 * big
    med_base = near_base + _NEAR_CONTEXTS * _KINDS
    wp_base = med_base + _MED_CONTEXTS * _KINDS
    top = (n_levels - 1) * 8
    row_reserve = 64 * cols + 64  # more than a row can add (<= 33 decisions of <= 12.01 bits a code)

    low = 0
    rng = 0xFFFFFFFF
    cache = 0
    pending = 1
    pos = 0
    code = 0
    overrun = buf.shape[0] if decoding else 1 << 62  # a decoder past its input's end stops
    if decoding:
        for i in range(4):
            code = (code << 8) | (np.int64(buf[i]) if i < buf.shape[0] else 0)
        pos = 4

    for y in range(rows):
        if pos > overrun:
            break
        if not decoding and pos + pending + row_reserve > buf.shape[0]:
            grown = np.empty(2 * buf.shape[0] + row_reserve, np.uint8)
            grown[:pos] = buf[:pos]
            buf = grown
        r0 = ring[(y + 3) & 3]
        r1 = ring[(y + 2) & 3]
        r2 = ring[(y + 1) & 3]
        r3 = ring[y & 3]
        e0 = errors[y & 1]
        e1 = errors[(y + 1) & 1]
        te0 = true_errors[y & 1]
        te1 = true_errors[(y + 1) & 1]
        r0[0] = r0[1] = r0[2] = r1[3]
        # The neighbourhood slides right one pixel at a time.
        W = WW = WWW = np.int64(r0[2])
        NWW = np.int64(r1[1]); NW = np.int64(r1[2]); N = np.int64(r1[3]); NE = np.int64(r1[4])
        NNWW = np.int64(r2[1]); NNW = np.int64(r2[2]); NN = np.int64(r2[3]); NNE = np.int64(r2[4])
        teW = 0
        teNW = 0
        teN = np.int64(te1[3])
        for x in range(cols):
            if pos > overrun:
                break
            cx = x + 3
            NEE = np.int64(r1[cx + 2])
            NNEE = np.int64(r2[cx + 2])
            NNN = np.int64(r3[cx])
            teNE = np.int64(te1[cx + 1])

            lo_wn = min(W, N)
            hi_wn = max(W, N)
            med = lo_wn if NW >= hi_wn else (hi_wn if NW <= lo_wn else W + N - NW)
            activity = _bucket(abs(W - NW) + abs(N - NW) + abs(N - NE) + abs(W - WW) + abs(N - NN))

            # Weighted predictor (JPEG XL's, 3 fractional bits).
            p0 = (W + NE - N) * 8
            p1 = N * 8 - (((teW + teN + teNE) * 16) >> 5)
            p2 = W * 8 - (((teW + teN + teNW) * 10) >> 5)
            p3 = N * 8 - (((teNW + teN + teNE) * 7) >> 5)
            w0 = _wp_weight(e1, e0, 0, cx, 13)
            w1 = _wp_weight(e1, e0, 1, cx, 12)
            w2 = _wp_weight(e1, e0, 2, cx, 12)
            w3 = _wp_weight(e1, e0, 3, cx, 12)
            wsum = w0 + w1 + w2 + w3
            wp = (p0 * w0 + p1 * w1 + p2 * w2 + p3 * w3 + (wsum >> 1)) // wsum
            if ((teN ^ teW) | (teN ^ teNW)) <= 0:
                wp = min(max(wp, min(W, min(N, NE)) * 8), max(W, max(N, NE)) * 8)
            wp = min(max(wp, 0), top)
            wp_error = _bucket((abs(teW) + abs(teN) + abs(teNW) + abs(teNE)) >> 2)
            pv = (wp + 4) >> 3

            s_exact = _slot(_exact(W, N, NW, NE, WW, NN), table_bits)
            shape8 = _shape8(pv, W, N, NW, NE, WW, NN, NNE, NWW, NNW)
            shape14 = _shape14(pv, W, N, NW, NE, WW, NN, NNE, NWW, NNW, NEE, WWW, NNN, NNWW, NNEE)
            s_shape8 = big + _slot(_h32(shape8 + 0x3C3C3C3C), table_bits)
            s_shape14 = 2 * big + _slot(_h32(shape14), table_bits)

            c = np.int64(codes[y, x])  # decoding: a placeholder, only the decoded bits count
            step, sign, lo, hi, t, kind = 0, 0, 0, 0, 0, 0
            t2 = 2 * pv
            bit = 1 if c == pv else 0
            while True:
                # Predict: six counters, stretched, mixed by the weights of (kind, activity).
                i0 = s_exact ^ kind
                i1 = s_shape8 ^ kind
                i2 = s_shape14 ^ kind
                i3 = near_base + _near(t2, W, N, NW, NE) * _KINDS + kind
                i4 = med_base + (_clip(2 * med - t2, 12) * 8 + activity) * _KINDS + kind
                i5 = wp_base + (_LOG_BUCKET[_clip(wp - 4 * t2, 129)] * 8 + wp_error) * _KINDS + kind
                x0 = _stretched(tab[i0])
                x1 = _stretched(tab[i1])
                x2 = _stretched(tab[i2])
                x3 = _stretched(tab[i3])
                x4 = _stretched(tab[i4])
                x5 = _stretched(tab[i5])
                mix = kind * 8 + activity
                dot = (x0 * weights[mix, 0] + x1 * weights[mix, 1] + x2 * weights[mix, 2]
                       + x3 * weights[mix, 3] + x4 * weights[mix, 4] + x5 * weights[mix, 5]
                       + 256 * weights[mix, 6]) >> 16
                p = np.int64(_SQUASH[min(max(dot, -2047), 2047) + 2048])
                bound = (rng >> 12) * min(max(p, 1), 4095)

                # Code (LZMA rc, p is the probability of a 1).
                if decoding:
                    bit = 1 if code < bound else 0
                    if bit:
                        rng = bound
                    else:
                        code -= bound
                        rng -= bound
                    while rng < (1 << 24):
                        rng <<= 8
                        code = ((code << 8) | (np.int64(buf[pos]) if pos < buf.shape[0] else 0)) & 0xFFFFFFFF
                        pos += 1
                else:
                    if bit:
                        rng = bound
                    else:
                        low += bound
                        rng -= bound
                    while rng < (1 << 24):
                        rng <<= 8
                        low, cache, pending, pos = _shift_low(buf, low, cache, pending, pos)

                # Learn.
                err = ((bit << 12) - p) * _LEARNING_RATE
                weights[mix, 0] += (x0 * err) >> 16
                weights[mix, 1] += (x1 * err) >> 16
                weights[mix, 2] += (x2 * err) >> 16
                weights[mix, 3] += (x3 * err) >> 16
                weights[mix, 4] += (x4 * err) >> 16
                weights[mix, 5] += (x5 * err) >> 16
                weights[mix, 6] += (256 * err) >> 16
                tab[i0] = _learn(tab[i0], bit)
                tab[i1] = _learn(tab[i1], bit)
                tab[i2] = _learn(tab[i2], bit)
                tab[i3] = _learn(tab[i3], bit)
                tab[i4] = _learn(tab[i4], bit)
                tab[i5] = _learn(tab[i5], bit)

                step, sign, lo, hi, t, kind = _next_decision(step, bit, pv, n_levels, sign, lo, hi, t, kind)
                if step == 4:
                    break
                if step == 1:
                    t2 = 2 * pv + 1
                    bit = 1 if c > pv else 0
                elif step == 2:
                    t2 = _threshold(pv, sign, t)
                    bit = 1 if abs(c - pv) >= t else 0
                else:
                    mid = (lo + hi) >> 1
                    t2 = _threshold(pv, sign, mid)
                    bit = 1 if abs(c - pv) >= mid else 0

            c = pv if lo == 0 else (pv + lo if sign else pv - lo)
            if decoding:
                codes[y, x] = c
            r0[cx] = c
            c8 = c * 8
            e0[0, cx] = (abs(p0 - c8) + 3) >> 3
            e0[1, cx] = (abs(p1 - c8) + 3) >> 3
            e0[2, cx] = (abs(p2 - c8) + 3) >> 3
            e0[3, cx] = (abs(p3 - c8) + 3) >> 3
            teW = wp - c8
            te0[cx] = teW
            teNW = teN
            teN = teNE
            WWW = WW; WW = W; W = c
            NWW = NW; NW = N; N = NE; NE = NEE
            NNWW = NNW; NNW = NN; NN = NNE; NNE = NNEE
        r0[cols + 3] = r0[cols + 4] = r0[cols + 5] = r0[cols + 2]

    if not decoding:
        for _ in range(5):
            low, cache, pending, pos = _shift_low(buf, low, cache, pending, pos)
        # LZMA's first byte is always 0 (low < 2^32 before the first shift): drop it.
        buf = buf[1:pos]
        pos -= 1
    return buf, pos
