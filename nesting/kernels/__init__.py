"""Every numba kernel of the engine lives in this package.

- `convolution`: the convolution cycle of two integer rings (the core of an exact NFP);
- `polygon`: point-in-region and penetration depth on flat ring sets;
- `collision`: the overlap queries on a marker (`Instance`, `LayoutState`);
- `separate`: the separator's moves and guided-local-search weights;
- `sorting`: the one in-place sort they share.

Kernels take C-contiguous arrays or the typed records above, hold no RNG state of numpy's
and trust their input: the validating wrappers live in `nesting.geometry`, `nesting.nfp`,
`nesting.collision` and the search modules.

numba's cache checks only the file a kernel is defined in: after editing one of these modules,
delete ``nesting/kernels/__pycache__`` so that kernels of the other modules that call into it
are compiled again, not loaded with the old code inlined. A wheel built from this tree carries
the cache of everything `warmup` compiles (``setup.py``), so `warmup` must compile every
specialisation a run uses (``tests/test_kernel_cache.py``).
"""

import time

import numpy as np

from nesting.kernels import collision, convolution, polygon, separate


def warmup() -> float:
    """Compile (or load from numba's cache) every kernel; return the seconds it took.

    Run before a timed search so that `--time` budgets measure search, not compilation.
    """
    start = time.perf_counter()
    square = np.array([[0, 0], [4, 0], [4, 4], [0, 4]], dtype=np.int64)
    convolution.convolution_loops(square, -square)
    polygon.point_in_rings(1.0, 1.0, square.astype(np.float64), np.array([0, 4], dtype=np.int64), 0, 1)
    collision.warmup()
    separate.warmup()
    return time.perf_counter() - start
