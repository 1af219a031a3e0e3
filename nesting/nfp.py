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

import concurrent.futures
import time
from typing import NamedTuple

import numpy as np
import pyclipper
import shapely
import shapely.ops
from shapely.geometry import LineString, Polygon, box

from nesting.errors import Abandoned
from nesting.geometry import GRID_ISOMETRIES, clean_ring, grid_image
from nesting.kernels.convolution import convolution_loops

_MIN_RING_AREA = 4.0  # grid units^2: rounding slivers of the union, not geometry
# A pocket (a hole of the NFP: B fits in a concavity of A) narrower than this (grid units, as
# twice its area over its perimeter) is a sliver the union's rounding left along an edge,
# not a place B fits: the line search would find it and put B there, overlapping A. Dropping
# a true pocket this narrow only gives up positions within the inflation of a contact.
_MIN_POCKET_WIDTH = 2.0
_CHUNK = 32  # NFPs a pool process computes per task: large enough to hide the round trip
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
    return [np.array(r, dtype=np.int64) for r in outer if _kept(r)]


def _kept(ring) -> bool:
    """Not a rounding artefact of the union: no sliver ring, no sliver pocket."""
    area = pyclipper.Area(ring)
    if abs(area) <= _MIN_RING_AREA:
        return False
    if area > 0:  # an outer ring: kept (overlap claimed there is only ever too cautious)
        return True
    closed = np.asarray(ring + ring[:1], dtype=np.float64)
    perimeter = float(np.hypot(*np.diff(closed, axis=0).T).sum())
    return 2.0 * abs(area) / perimeter >= _MIN_POCKET_WIDTH


def _translated_nfp(a, b, holes_a, holes_b) -> list[np.ndarray]:
    """`nfp_rings` of the two shapes moved to the origin, moved back: NFP(A + s, B + t) = NFP(A, B) + s - t.

    A piece or zone far from the origin (far down a long table) keeps the kernel's inputs small.
    """
    shift_a, shift_b = a.min(axis=0), b.min(axis=0)
    rings = nfp_rings(a - shift_a, b - shift_b, tuple(h - shift_a for h in holes_a), tuple(h - shift_b for h in holes_b))
    return [ring + (shift_a - shift_b) for ring in rings]


_INVERSE = tuple(next(k for k, n in enumerate(GRID_ISOMETRIES) if (m @ n == np.eye(2)).all()) for m in GRID_ISOMETRIES)
_PRODUCT = tuple(tuple(next(k for k, p in enumerate(GRID_ISOMETRIES) if (m @ n == p).all()) for n in GRID_ISOMETRIES)
                 for m in GRID_ISOMETRIES)


class _Rings(NamedTuple):
    """One NFP's rings stacked: ``xy`` (v, 2) int64, ring r being the next ``lengths[r]`` rows;
    ``box`` the (2, 2) corners of its bounding box."""

    xy: np.ndarray
    lengths: np.ndarray
    box: np.ndarray

    @staticmethod
    def of(rings) -> _Rings:
        if not rings:
            return _Rings(np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((2, 2), dtype=np.int64))
        xy = np.concatenate(rings)
        return _Rings(xy, np.array([len(r) for r in rings], dtype=np.int64), np.array([xy.min(axis=0), xy.max(axis=0)]))

    def image(self, isometry: int, shift: np.ndarray) -> _Rings:
        """g(rings) + shift: a mirror reverses the stack, so every ring keeps its orientation."""
        xy = grid_image(self.xy, isometry) + shift
        lengths = self.lengths if isometry < 4 else self.lengths[::-1]
        corners = self.box @ GRID_ISOMETRIES[isometry].T + shift
        return _Rings(xy, lengths, np.array([corners.min(axis=0), corners.max(axis=0)]))


def _canonical(outer: np.ndarray, holes) -> tuple[bytes, int, np.ndarray]:
    """A congruence key of a shape: equal for shapes that are grid isometries and translations
    of one another. Returns the key, the isometry m and the offset o with
    ``shape == m^-1 (representative + o)``, the representative being the image m(shape) - o."""
    best = None
    for m in range(len(GRID_ISOMETRIES)):
        image = grid_image(outer, m)
        first = np.lexsort((image[:, 1], image[:, 0]))[0]
        offset = image[first]
        normal = np.roll(image, -first, axis=0) - offset
        hole_rings = sorted((_rolled(grid_image(h, m) - offset).tobytes() for h in holes))
        key = normal.tobytes() + b"|" + b"|".join(hole_rings)
        if best is None or key < best[0]:
            best = (key, m, offset)
    return best


def _rolled(ring: np.ndarray) -> np.ndarray:
    return np.roll(ring, -np.lexsort((ring[:, 1], ring[:, 0]))[0], axis=0)


def _computed(tasks, stop, pool) -> list:
    """`_translated_nfp` of each task ``(a, b, holes_a, holes_b)``, in order: here, or in chunks
    on ``pool``; the stop is checked between tasks (every 50 ms on a pool)."""

    def check():
        if stop is not None and stop.done():
            raise Abandoned("the budget ended while the no-fit polygons were built")

    if pool is None:
        results = []
        for task in tasks:
            check()
            results.append(_translated_nfp(*task))
        return results
    futures = [pool.submit(_translated_nfps, tasks[k:k + _CHUNK]) for k in range(0, len(tasks), _CHUNK)]
    results = []  # when abandoned, the pool's owner ends the unfinished tasks (`portfolio.end_now`)
    for future in futures:
        while True:
            check()
            try:
                results += future.result(timeout=0.05)
                break
            except concurrent.futures.TimeoutError:
                continue
    return results


def _translated_nfps(tasks) -> list:
    return [_translated_nfp(*task) for task in tasks]


def _table(n, first_fixed, pose, computed):
    """Every pair's NFP, g_a(NFP(A, h B)) + d_a - d_b, in the flat table the kernels read.

    Returns ``(ring_xy, ring_offsets, pair_rings, pair_bbox)``; pairs of two zones stay empty.
    """
    xy_parts, lengths, pair_rings = [], [], np.zeros((n, n, 2), dtype=np.int64)
    pair_bbox = np.zeros((n, n, 4), dtype=np.float64)
    images = {}  # (key, g) -> the computed NFP mapped by g: pairs differing only in the shift share it
    for a in range(n):
        ca, ga, da = pose[a]
        for b in range(n):
            pair_rings[a, b] = len(lengths)
            if a >= first_fixed and b >= first_fixed:
                continue
            cb, gb, db = pose[b]
            key = (ca, cb, _PRODUCT[_INVERSE[ga]][gb])
            if not len(computed[key].lengths):
                continue
            if (key, ga) not in images:
                images[key, ga] = computed[key].image(ga, np.zeros(2, dtype=np.int64))
            image = images[key, ga]
            shift = da - db
            xy_parts.append(image.xy + shift)
            lengths.extend(image.lengths.tolist())
            pair_rings[a, b, 1] = len(lengths)
            pair_bbox[a, b] = (*(image.box[0] + shift), *(image.box[1] + shift))
    ring_xy = np.concatenate(xy_parts).astype(np.float64) if xy_parts else np.zeros((0, 2))
    return ring_xy, np.concatenate(([0], np.cumsum(lengths, dtype=np.int64))), pair_rings, pair_bbox


class NFPCache:
    """All NFPs of a prepared marker, flat for the kernels.

    Keyed by shape pair (piece type x orientation), never by copy. Only the NFPs no symmetry
    gives are computed: NFP(B, A) is -NFP(A, B), and NFP(gA + s, gB + t) = g NFP(A, B) + s - t
    for a grid isometry g (quarter turns, mirrors), so a piece allowed at 0, 90, 180 and 270
    degrees costs a quarter of its pairs (the collision shapes of those orientations are exact
    grid images of one another, `nesting.geometry`), and congruent piece types share theirs.
    ``ring_xy``/``ring_offsets`` hold every ring; ``pair_rings[a, b]`` gives the ring range
    ``[lo, hi)`` of NFP(a, b) and ``pair_bbox[a, b]`` its bounding box.

    Parameters
    ----------
    shapes : list of ``(outer, holes)``: a CCW int64 ring and a tuple of CW int64 rings.
    fixed : how many of the last shapes are fixed hazards (zones): nothing moves against
        another zone, so their NFPs with each other are never built (left empty).
    stop : a `Stop`, checked between pairs: when it is done the build is abandoned
        (`Abandoned`), so a budget smaller than the NFPs need still holds.
    pool : an executor of processes (the search's workers) to compute the NFPs on, or None:
        here. The table is the same either way.
    """

    def __init__(self, shapes, fixed: int = 0, stop=None, pool=None):
        n = len(shapes)
        start = time.perf_counter()
        first_fixed = n - fixed
        classes, representatives, pose = {}, [], []  # pose[s] = (class, g, d): shape s = g(representative) + d
        for outer, holes in shapes:
            key, m, offset = _canonical(outer, holes)
            if key not in classes:
                classes[key] = len(representatives)
                image = grid_image(outer, m)
                representatives.append((_rolled(image) - offset, tuple(grid_image(h, m) - offset for h in holes)))
            g = _INVERSE[m]
            pose.append((classes[key], g, offset @ GRID_ISOMETRIES[g].T))
        needed = {}  # (class a, class b, h) -> how NFP(A, h B) of the representatives is had: computed, or a swap
        for a in range(n):
            for b in range(n):
                if a < first_fixed or b < first_fixed:
                    (ca, ga, _), (cb, gb, _) = pose[a], pose[b]
                    key = (ca, cb, _PRODUCT[_INVERSE[ga]][gb])
                    swapped = (cb, ca, _INVERSE[key[2]])  # NFP(A, hB) = -h NFP(B, h^-1 A)
                    needed.setdefault(key, swapped if swapped in needed and needed[swapped] is None else None)
        tasks = {}
        for (ca, cb, h), swapped in needed.items():
            if swapped is None:
                (ra, ha), (rb, hb) = representatives[ca], representatives[cb]
                tasks[ca, cb, h] = (ra, grid_image(rb, h), ha, tuple(grid_image(x, h) for x in hb))
        computed = dict(zip(tasks, map(_Rings.of, _computed(list(tasks.values()), stop, pool))))
        for key, swapped in needed.items():
            if swapped is not None:
                computed[key] = computed[swapped].image(_PRODUCT[2][key[2]], np.zeros(2, dtype=np.int64))
        self.computed_pairs = sum(1 for swapped in needed.values() if swapped is None)
        self.ring_xy, self.ring_offsets, self.pair_rings, self.pair_bbox = _table(n, first_fixed, pose, computed)
        self.build_seconds = time.perf_counter() - start

    def rings(self, a: int, b: int) -> list[np.ndarray]:
        """NFP(a, b) as float rings (grid units)."""
        lo, hi = self.pair_rings[a, b]
        return [self.ring_xy[self.ring_offsets[r] : self.ring_offsets[r + 1]] for r in range(lo, hi)]

    @property
    def memory_bytes(self) -> int:
        return self.ring_xy.nbytes + self.ring_offsets.nbytes + self.pair_rings.nbytes + self.pair_bbox.nbytes
