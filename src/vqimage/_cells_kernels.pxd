# The candidate lists of the color-cell grid, for the kernels of the fit, the map and dithering.
from libc.stdint cimport int64_t

cdef struct Lists:
    int64_t* start      # (m + 1,): cell t's candidates are items[start[t]:start[t + 1]]
    int64_t* items
    double* radius      # (m,): every codeword left out was farther than this from the cell's box
    Py_ssize_t m
    Py_ssize_t nitems

cdef int cell_lists(const double[:, ::1] centers, const int64_t[::1] cell_ids, int bits, double extent,
                    double margin, Lists* out) noexcept nogil
cdef int candidate_lists(const double[:, ::1] centers, const int64_t[::1] cell_ids, int bits, double extent,
                         double margin, Lists* out) noexcept nogil
cdef void free_lists(Lists* lists) noexcept nogil
