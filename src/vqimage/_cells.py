"""The color-cell grid, shared by the vector fit (stage 2) and the nearest-color map (stage 3).

A *cell* is the set of 8-bit vectors (colors, pixel blocks) with the same top
``bits`` bits in every component; its id packs those bits, component by
component. For each occupied cell, ``cell_candidates`` lists every
codeword that can be the nearest one to *some* point of the cell's box: those
whose smallest distance to the box is at most the smallest largest distance
of any codeword (a codeword nearest to a point p of the box is within
d(p, c) <= maxdist(c) of it for every c). Lists are built coarse-to-fine (a
fine cell only filters its coarse parent's list), so a search compares a
pixel with one to a few codewords instead of k. A search over a list returns
the least distance, ties to the lowest index: the same answer as a
brute-force scan.

The lists are built by the compiled kernels of :mod:`vqimage._cells_kernels`;
this module holds what the stages share at the Python level.
"""

from __future__ import annotations

__all__ = ["CHUNKS", "cell_bits"]

#: Chunks of cells per parallel pass (a few per core: balance; fixed, so results never depend on the thread count).
CHUNKS = 8


def cell_bits(d: int) -> int:
    """Bits per component of a cell of d-component vectors: cell ids index dense tables of <= 2**20 slots."""
    return max(1, min(6, 20 // d))
