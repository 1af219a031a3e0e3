"""Every numba kernel of the engine lives in this package.

Kernels take plain C-contiguous arrays (float64 or int64 ``(n, 2)`` open rings plus int64
offsets), hold no RNG state of numpy's and trust their input: the validating wrappers live in
`nesting.geometry`, `nesting.nfp` and the search modules.
"""

import time


def warmup() -> float:
    """Compile (or load from numba's cache) every kernel; return the seconds it took.

    Run before a timed search so that `--time` budgets measure search, not compilation.
    """
    import numpy as np

    from nesting.kernels import nfp, polygon, separate

    start = time.perf_counter()
    square = np.array([[0, 0], [4, 0], [4, 4], [0, 4]], dtype=np.int64)
    nfp.convolution_loops(square, -square)
    ring = square.astype(np.float64)
    offsets = np.array([0, 4], dtype=np.int64)
    polygon.point_in_rings(1.0, 1.0, ring, offsets, 0, 1)
    polygon.depth_in_rings(1.0, 1.0, ring, offsets, 0, 1)
    separate.warmup()
    return time.perf_counter() - start
