"""One small in-place sort for the kernels.

numba compiles its own ``np.sort``/``np.argsort`` (quicksort, mergesort) and slice copies into
every kernel that uses them, at one to two seconds of a cold compile each; a first run compiled
them four times. A heapsort of a prefix, with no allocation, compiles in a fraction of that.
"""

from numba import njit


@njit(cache=True, nogil=True)
def _sift_down(values, start, end):
    root = start
    while 2 * root + 1 < end:
        child = 2 * root + 1
        if child + 1 < end and values[child] < values[child + 1]:
            child += 1
        if values[root] >= values[child]:
            return
        values[root], values[child] = values[child], values[root]
        root = child


@njit(cache=True, nogil=True)
def sort_prefix(values, n):
    """Sort ``values[:n]`` ascending, in place (heapsort: O(n log n), not stable)."""
    for start in range(n // 2 - 1, -1, -1):
        _sift_down(values, start, n)
    for end in range(n - 1, 0, -1):
        values[0], values[end] = values[end], values[0]
        _sift_down(values, 0, end)
