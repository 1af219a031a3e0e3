"""No-fit polygons: exact, from the convolution kernel, cached per pair of shapes.

NFP(A, B) is the set of positions of B's reference point (its local origin) at which B,
translated there, overlaps A at the origin. Positions strictly inside overlap; on the
boundary the pieces touch; outside they are apart.

For simple polygons it is the Minkowski sum A + (-B), the positive-winding region of their
convolution loops. Pieces with holes add "part in part": the outer sum minus the positions
where B lies wholly inside a hole of A (and where A lies inside a hole of B). Those come from
the complement of the hole — a box with the hole cut out, split into simple polygons — whose
sum with -B covers exactly the positions where B reaches outside the hole.
"""

from __future__ import annotations

import time

import numpy as np
import pyclipper
import shapely
import shapely.ops
from shapely.geometry import LineString, Polygon, box

from nesting.errors import Abandoned
from nesting.geometry import clean_ring
from nesting.kernels.convolution import convolution_loops

_MIN_RING_AREA = 4.0  # grid units^2: rounding slivers of the union, not geometry
_MAX_COORDINATE = 2**30  # the convolution kernel's int64 cross products stay exact below this


def minkowski_rings(a: np.ndarray, b: np.ndarray) -> list[list]:
    """A + (-B) of two simple CCW int rings, as clipper paths (outer CCW, pockets CW).

    The convolution loops of A and -B, united with the positive-winding rule: the regions the
    loops wind around at least once are exactly the Minkowski sum, closed pockets included.
    """
    for ring in (a, b):
        if ring.ndim != 2 or ring.shape[0] < 3 or ring.shape[1] != 2 or pyclipper.Area(ring.tolist()) <= 0:
            raise ValueError("NFP input must be CCW int rings of at least 3 vertices and positive area")
        if np.abs(ring).max() >= _MAX_COORDINATE:
            raise ValueError("NFP input coordinates must stay below 2**30 (exact int64 cross products)")
    if len(a) * len(b) >= _MAX_COORDINATE:  # (the kernel's sort keys stay below 2**63; memory ends first)
        raise ValueError("NFP input rings too large: the product of their vertex counts must stay below 2**30")
    xy, offsets = convolution_loops(np.ascontiguousarray(a, dtype=np.int64), np.ascontiguousarray(-b, dtype=np.int64))
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
    return clipper.Execute(pyclipper.CT_UNION, pyclipper.PFT_POSITIVE, pyclipper.PFT_POSITIVE)


def _inside_hole(hole: np.ndarray, b: np.ndarray) -> list[list]:
    """Positions p at which B + p lies inside ``hole`` (int ring), as clipper paths."""
    hole_polygon = shapely.orient_polygons(Polygon(hole))
    hx0, hy0, hx1, hy1 = hole_polygon.bounds
    bx0, by0 = b.min(axis=0)
    bx1, by1 = b.max(axis=0)
    if bx1 - bx0 >= hx1 - hx0 or by1 - by0 >= hy1 - hy0:
        return []
    candidates = [[hx0 - bx0, hy0 - by0], [hx1 - bx1, hy0 - by0], [hx1 - bx1, hy1 - by1], [hx0 - bx0, hy1 - by1]]
    reach = float(np.abs(b).max()) * 2 + 4
    frame = box(hx0 - reach, hy0 - reach, hx1 + reach, hy1 + reach)
    cut_x = float(np.floor(hole_polygon.representative_point().x))
    complement = shapely.difference(frame, hole_polygon)
    pieces = shapely.ops.split(complement, LineString([(cut_x, hy0 - 2 * reach), (cut_x, hy1 + 2 * reach)]))
    clipper = pyclipper.Pyclipper()
    for piece in pieces.geoms:
        ring = shapely.orient_polygons(piece).exterior.coords[:-1]
        int_ring = clean_ring(np.round(np.asarray(ring)).astype(np.int64))
        if len(int_ring) < 3 or pyclipper.Area(int_ring.tolist()) <= 0:
            continue
        for path in minkowski_rings(int_ring, b):
            try:
                clipper.AddPath(path, pyclipper.PT_CLIP, True)
            except pyclipper.ClipperException:
                continue
    clipper.AddPath(candidates, pyclipper.PT_SUBJECT, True)
    return clipper.Execute(pyclipper.CT_DIFFERENCE, pyclipper.PFT_NONZERO, pyclipper.PFT_NONZERO)


def nfp_rings(a: np.ndarray, b: np.ndarray, holes_a=(), holes_b=()) -> list[np.ndarray]:
    """NFP(A, B) of two CCW int rings with optional CW int holes, as int rings.

    Outer rings are CCW and holes CW; read a point against all rings with the even-odd rule.
    """
    outer = minkowski_rings(a, b)
    free = [path for hole in holes_a for path in _inside_hole(hole, b)]
    free += [(-np.asarray(path)).tolist() for hole in holes_b for path in _inside_hole(hole, a)]
    if outer and free:
        clipper = pyclipper.Pyclipper()
        clipper.AddPaths(outer, pyclipper.PT_SUBJECT, True)
        for path in free:
            try:
                clipper.AddPath(path, pyclipper.PT_CLIP, True)
            except pyclipper.ClipperException:
                continue
        outer = clipper.Execute(pyclipper.CT_DIFFERENCE, pyclipper.PFT_NONZERO, pyclipper.PFT_NONZERO)
    return [np.array(r, dtype=np.int64) for r in outer if abs(pyclipper.Area(r)) > _MIN_RING_AREA]


def _translated_nfp(a, b, holes_a, holes_b) -> list[np.ndarray]:
    """`nfp_rings` of the two shapes moved to the origin, moved back: NFP(A + s, B + t) = NFP(A, B) + s - t.

    A piece or zone far from the origin (far down a long table) keeps the kernel's inputs small.
    """
    shift_a, shift_b = a.min(axis=0), b.min(axis=0)
    rings = nfp_rings(a - shift_a, b - shift_b, tuple(h - shift_a for h in holes_a), tuple(h - shift_b for h in holes_b))
    return [ring + (shift_a - shift_b) for ring in rings]


class NFPCache:
    """All NFPs of a prepared marker, flat for the kernels.

    Keyed by shape pair (piece type x orientation), never by copy. NFP(B, A) is -NFP(A, B), so
    only half the pairs are computed. ``ring_xy``/``ring_offsets`` hold every ring;
    ``pair_rings[a, b]`` gives the ring range ``[lo, hi)`` of NFP(a, b) and ``pair_bbox[a, b]``
    its bounding box.

    Parameters
    ----------
    shapes : list of ``(outer, holes)``: a CCW int64 ring and a tuple of CW int64 rings.
    fixed : how many of the last shapes are fixed hazards (zones): nothing moves against
        another zone, so their NFPs with each other are never built (left empty).
    stop : a `Stop`, checked between pairs: when it is done the build is abandoned
        (`Abandoned`), so a budget smaller than the NFPs need still holds.
    """

    def __init__(self, shapes, fixed: int = 0, stop=None):
        n = len(shapes)
        start = time.perf_counter()
        computed = {}
        first_fixed = n - fixed
        for a in range(n):
            for b in range(a, n):
                if b >= first_fixed and a >= first_fixed:
                    computed[a, b] = []
                    continue
                if stop is not None and stop.done():
                    raise Abandoned("the budget ended while the no-fit polygons were built")
                (ra, ha), (rb, hb) = shapes[a], shapes[b]
                computed[a, b] = _translated_nfp(ra, rb, ha, hb)
        self.build_seconds = time.perf_counter() - start
        self.computed_pairs = sum(1 for (a, b) in computed if a < first_fixed)
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
