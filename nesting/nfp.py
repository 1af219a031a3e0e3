"""No-fit polygons: exact, from the convolution kernel, cached per pair of shapes.

NFP(A, B) is the set of positions of B's reference point (its local origin) at which B,
translated there, overlaps A at the origin: the Minkowski sum A + (-B). Positions strictly
inside overlap; on the boundary the pieces touch; outside they are apart.
"""

from __future__ import annotations

import time

import numpy as np
import pyclipper

from nesting.kernels.nfp import convolution_loops

_MIN_RING_AREA = 4.0  # grid units^2: rounding slivers of the union, not geometry


def nfp_rings(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """NFP(A, B) of two CCW int rings, as int rings (outer CCW, holes CW).

    The convolution loops of A and -B, united with the positive-winding rule: the regions the
    loops wind around at least once are exactly the Minkowski sum, pockets included.
    """
    xy, offsets = convolution_loops(np.ascontiguousarray(a), np.ascontiguousarray(-b))
    clipper = pyclipper.Pyclipper()
    added = False
    for r in range(len(offsets) - 1):
        loop = xy[offsets[r] : offsets[r + 1]]
        if len(loop) < 3:
            continue
        try:
            clipper.AddPath(loop.tolist(), pyclipper.PT_SUBJECT, True)
            added = True
        except pyclipper.ClipperException:  # a loop of zero area: contributes no winding
            continue
    if not added:
        return []
    result = clipper.Execute(pyclipper.CT_UNION, pyclipper.PFT_POSITIVE, pyclipper.PFT_POSITIVE)
    return [np.array(r, dtype=np.int64) for r in result if abs(pyclipper.Area(r)) > _MIN_RING_AREA]


class NFPCache:
    """All NFPs of a prepared marker, flat for the kernels.

    Keyed by shape pair (piece type x orientation), never by copy. NFP(B, A) is -NFP(A, B), so
    only half the pairs are computed. ``ring_xy``/``ring_offsets`` hold every ring;
    ``pair_rings[a, b]`` gives the ring range ``[lo, hi)`` of NFP(a, b) and ``pair_bbox[a, b]``
    its bounding box.
    """

    def __init__(self, rings: list[np.ndarray], extra_rings: dict | None = None):
        self._shape_rings = rings
        n = len(rings)
        start = time.perf_counter()
        computed = {}
        for a in range(n):
            for b in range(a, n):
                computed[a, b] = nfp_rings(rings[a], rings[b])
        self.build_seconds = time.perf_counter() - start
        self.computed_pairs = len(computed)
        xy_parts, offsets, pair_rings = [], [0], np.zeros((n, n, 2), dtype=np.int64)
        pair_bbox = np.zeros((n, n, 4), dtype=np.float64)
        for a in range(n):
            for b in range(n):
                nfp = computed[a, b] if a <= b else [-r for r in computed[b, a]]
                pair_rings[a, b, 0] = len(offsets) - 1
                for ring in nfp:
                    xy_parts.append(ring.astype(np.float64))
                    offsets.append(offsets[-1] + len(ring))
                pair_rings[a, b, 1] = len(offsets) - 1
                if nfp:
                    allxy = np.concatenate(nfp)
                    pair_bbox[a, b] = (*allxy.min(axis=0), *allxy.max(axis=0))
        self.ring_xy = np.ascontiguousarray(np.concatenate(xy_parts)) if xy_parts else np.zeros((0, 2))
        self.ring_offsets = np.array(offsets, dtype=np.int64)
        self.pair_rings = pair_rings
        self.pair_bbox = pair_bbox

    def rings(self, a: int, b: int) -> list[np.ndarray]:
        """NFP(a, b) as float rings (grid units)."""
        lo, hi = self.pair_rings[a, b]
        return [self.ring_xy[self.ring_offsets[r] : self.ring_offsets[r + 1]] for r in range(lo, hi)]

    @property
    def memory_bytes(self) -> int:
        return self.ring_xy.nbytes + self.ring_offsets.nbytes + self.pair_rings.nbytes + self.pair_bbox.nbytes
