"""Compiled kernels of stage 4: fixed-width bit packing, most significant bit first.

Measured on this project's 2-core machine: packing 768x1024 codes at 3 bits
takes 6.4 ms with numpy (``np.packbits`` on unpacked bit planes) against
under a millisecond with a compiled loop; unpacking 2.9 ms against 0.5 ms.
"""

from libc.stdint cimport uint8_t, uint16_t, uint64_t

import numpy as np

__all__ = ["pack_bits", "unpack_bits"]

ctypedef fused code_t:
    uint8_t
    uint16_t


cdef void _pack(const code_t[::1] codes, int bits, uint8_t[::1] out) noexcept nogil:
    cdef uint64_t acc = 0
    cdef int pending = 0
    cdef Py_ssize_t i, o = 0
    for i in range(codes.shape[0]):
        acc = (acc << bits) | <uint64_t>codes[i]
        pending += bits
        while pending >= 8:
            pending -= 8
            out[o] = <uint8_t>((acc >> pending) & 0xFF)
            o += 1
    if pending > 0:
        out[o] = <uint8_t>((acc << (8 - pending)) & 0xFF)


cdef uint8_t _unpack(const uint8_t[::1] data, int bits, code_t[::1] out) noexcept nogil:
    cdef uint64_t acc = 0
    cdef uint64_t mask = (<uint64_t>1 << bits) - 1
    cdef int pending = 0
    cdef Py_ssize_t i, p = 0
    for i in range(out.shape[0]):
        while pending < bits:
            acc = (acc << 8) | data[p]  # high bits may drop off: unused
            p += 1
            pending += 8
        pending -= bits
        out[i] = <code_t>((acc >> pending) & mask)
    # The padding bits after the last code, for the caller to check.
    return <uint8_t>(acc & ((<uint64_t>1 << pending) - 1))


def pack_bits(flat, int bits, Py_ssize_t n_bytes):
    """Codes (1-D uint8/uint16) as ``bits``-bit fields (1 <= bits <= 16), most significant bit first."""
    out = np.empty(n_bytes, np.uint8)
    cdef uint8_t[::1] o = out
    flat = np.ascontiguousarray(flat)
    cdef const uint8_t[::1] c8
    cdef const uint16_t[::1] c16
    if flat.dtype == np.uint8:
        c8 = flat
        with nogil:
            _pack(c8, bits, o)
    else:
        c16 = flat
        with nogil:
            _pack(c16, bits, o)
    return out


def unpack_bits(data, int bits, Py_ssize_t size, dtype):
    """Inverse of :func:`pack_bits`; also returns the value of the padding bits.

    ``data`` must hold exactly ``ceil(size * bits / 8)`` bytes (the caller checks).
    """
    out = np.empty(size, dtype)
    cdef const uint8_t[::1] d = np.ascontiguousarray(data, np.uint8)
    cdef uint8_t[::1] o8
    cdef uint16_t[::1] o16
    cdef uint8_t padding
    if d.shape[0] * 8 < size * bits:
        raise ValueError(f"{d.shape[0]} bytes cannot hold {size} codes of {bits} bits.")
    if out.dtype == np.uint8:
        o8 = out
        with nogil:
            padding = _unpack(d, bits, o8)
    else:
        o16 = out
        with nogil:
            padding = _unpack(d, bits, o16)
    return out, int(padding)
