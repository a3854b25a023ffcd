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
runs, 2-core AMD EPYC (Zen 4), the numba kernel this Cython one replaced, bit for bit):

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

import numpy as np

from .._validation import Interval, VQError, check_param, check_raster
from ..codebook import code_dtype

__all__ = ["encode_codes", "decode_codes"]

# --------------------------------------------------------------------------
# The model's size (the kernel, ``_entropy_kernels.pyx``, holds the constants of the format).

_MAX_TABLE_BITS = 17
_MIN_TABLE_BITS = 10
_INITIAL_WEIGHT = 65536 // 4


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
    from ._entropy_kernels import code_image

    codes = np.ascontiguousarray(codes, dtype=code_dtype(n_levels))
    # A generous first guess; the kernel grows the buffer when a row might not fit.
    capacity = codes.size * int(n_levels - 1).bit_length() // 8 + 64
    return code_image(codes, n_levels, None, False, *_model(codes.shape), capacity=capacity)


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
    from ._entropy_kernels import code_image

    read = code_image(codes, n_levels, payload, True, *_model(codes.shape))
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
    from ._entropy_kernels import CONSTANTS as C

    bits = _table_bits(shape[0] * shape[1])
    size = 5 << (bits - 1)
    size += (C["NEAR_CONTEXTS"] + C["WP_CONTEXTS"]) * C["KINDS"] + C["NEAR0_CONTEXTS"]
    counters = np.zeros(size, np.int32)
    weights = np.full((C["KINDS"] * 8, C["MODELS"] + 1), _INITIAL_WEIGHT, np.int64)
    weights[:, C["MODELS"]] = 0  # the bias input starts unused
    return bits, counters, weights.reshape(-1)
