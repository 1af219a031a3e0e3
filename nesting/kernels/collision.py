"""The collision kernels: every overlap question of the engine, answered from the NFP table.

Two typed records carry the state. They are named tuples of arrays: numba caches kernels that
take them (it cannot cache a jitclass), and with their arrays bound to locals before a loop the
kernels run as fast as they did on positional arrays (measured on the separator's moves):

- `Instance`, immutable for a marker: the NFP table of every pair of shapes (`nesting.nfp`),
  each shape's true bounding box and loss scale, the fabric's width and margins. Shapes
  ``n_shapes..`` are the clear zones, in the marker frame.
- `LayoutState`, what a search changes: each item's shape (orientation) and reference
  position, the strip length, the pair and container losses and their guided-local-search
  weights. Items ``n_movable..`` are the clear zones, fixed at (0, 0); an item whose shape is
  ``UNPLACED`` is not on the fabric yet (bottom-left fill places them one by one).

Overlap of two pieces is the penetration depth of their relative position into their NFP
(the shortest translation that separates them). A depth at or below ``contact`` grid units is
touching, not overlapping (collision shapes are inflated by more): the one tolerance of the
search, for bottom-left fill and the separator alike. The loss of an overlapping pair is
``(depth + epsilon) * loss_scale_a * loss_scale_b``, the loss scale being the hull area ** 0.25
(sparrow's shape penalty) and epsilon 1 % of the shape's diameter.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from nesting.kernels.polygon import depth_in_rings
from nesting.kernels.sorting import sort_prefix

UNPLACED = -1


class Instance(NamedTuple):
    nfp_xy: np.ndarray  # (v, 2) float64: every NFP ring's vertices
    nfp_offsets: np.ndarray  # (r + 1,) int64: ring r is nfp_xy[nfp_offsets[r]:nfp_offsets[r + 1]]
    nfp_rings: np.ndarray  # (n, n, 2) int64: NFP(a, b) is rings [lo, hi)
    nfp_bbox: np.ndarray  # (n, n, 4) float64: NFP(a, b)'s bounding box
    bounds: np.ndarray  # (n, 4) float64: each shape's true bounding box (+ rounding margin)
    loss_scale: np.ndarray  # (n,) float64: hull area ** 0.25
    epsilon: np.ndarray  # (n,) float64: 1 % of the shape's diameter
    contact: float  # depth (grid units) still counted as touching
    width: float  # fabric width, grid units
    margin_start: float
    margin_end: float
    margin_bottom: float
    margin_top: float
    ruled: bool  # some shape has a position rule (`nesting.lattice`): the separator's moves snap to it
    lattice: np.ndarray  # (n, 2, 2) float64: per shape and axis (phase, period); period < 0 free, 0 a pin


class LayoutState(NamedTuple):
    shape_of: np.ndarray  # (k,) int64: each item's shape, or UNPLACED
    position: np.ndarray  # (k, 2) float64: each item's reference point
    length: float  # the strip's length (grid units)
    n_movable: int  # items 0..n_movable-1 are pieces, the rest fixed zones
    pair_loss: np.ndarray  # (k, k) float64, symmetric, unweighted
    container_loss: np.ndarray  # (k,) float64, unweighted
    pair_weight: np.ndarray  # (k, k) float64: guided-local-search weights
    container_weight: np.ndarray  # (k,) float64


@njit(cache=True, nogil=True)
def outside_nfp_box(nfp_bbox, sa, sb, rx, ry):
    """True if the offset (rx, ry) lies outside NFP(sa, sb)'s bounding box: no overlap.

    The test every query makes first, against every placed item. Callers make it themselves
    and call `depth_in_rings` only inside the box: a kernel that took the whole NFP table to do
    both cost about 40 ns a call in passing arrays, more than the test (measured on shirts'
    separator moves: a weighted loss 6x slower).
    """
    return rx <= nfp_bbox[sa, sb, 0] or rx >= nfp_bbox[sa, sb, 2] or ry <= nfp_bbox[sa, sb, 1] or ry >= nfp_bbox[sa, sb, 3]


@njit(cache=True, nogil=True)
def inner_fit(instance, length, s):
    """(x0, y0, x1, y1) range of shape s's reference point inside a strip of ``length``."""
    b = instance.bounds
    return (instance.margin_start - b[s, 0], instance.margin_bottom - b[s, 1],
            length - instance.margin_end - b[s, 2], instance.width - instance.margin_top - b[s, 3])


@njit(cache=True, nogil=True)
def container_loss(instance, length, s, x, y):
    """Loss of shape s at (x, y) reaching outside the strip: the excess distance, scaled."""
    epsilon, loss_scale = instance.epsilon, instance.loss_scale
    x0, y0, x1, y1 = inner_fit(instance, length, s)
    over = 0.0
    if x < x0:
        over += x0 - x
    if x > x1:
        over += x - x1
    if y < y0:
        over += y0 - y
    if y > y1:
        over += y - y1
    if over <= 0.0:
        return 0.0
    return (over + epsilon[s]) * loss_scale[s] * loss_scale[s]


@njit(cache=True, nogil=True)
def overlap_loss(instance, depth, sa, sb):
    """Loss of a penetration ``depth`` (beyond contact) between shapes sa and sb."""
    epsilon, loss_scale = instance.epsilon, instance.loss_scale
    return (depth + max(epsilon[sa], epsilon[sb])) * loss_scale[sa] * loss_scale[sb]


@njit(cache=True, nogil=True)
def overlap_depth(instance, state, i, s, x, y):
    """Deepest penetration of item i, as shape s at (x, y), into any other placed item."""
    bbox, rings, xy, offsets = instance.nfp_bbox, instance.nfp_rings, instance.nfp_xy, instance.nfp_offsets
    shape_of, position = state.shape_of, state.position
    deepest = 0.0
    for j in range(shape_of.shape[0]):
        sj = shape_of[j]
        if j == i or sj == UNPLACED:
            continue
        rx, ry = x - position[j, 0], y - position[j, 1]
        if not outside_nfp_box(bbox, sj, s, rx, ry):
            deepest = max(deepest, depth_in_rings(rx, ry, xy, offsets, rings[sj, s, 0], rings[sj, s, 1]))
    return deepest


@njit(cache=True, nogil=True)
def weighted_loss(instance, state, i, s, x, y, bound):
    """Weighted loss of item i as shape s at (x, y); stops early once above ``bound``."""
    bbox, rings, xy, offsets, contact = instance.nfp_bbox, instance.nfp_rings, instance.nfp_xy, instance.nfp_offsets, instance.contact
    shape_of, position, pair_weight = state.shape_of, state.position, state.pair_weight
    total = 0.0
    outside = container_loss(instance, state.length, s, x, y)
    if outside > 0.0:
        total = state.container_weight[i] * outside
        if total > bound:
            return total
    for j in range(shape_of.shape[0]):
        sj = shape_of[j]
        if j == i or sj == UNPLACED:
            continue
        rx, ry = x - position[j, 0], y - position[j, 1]
        if outside_nfp_box(bbox, sj, s, rx, ry):
            continue
        depth = depth_in_rings(rx, ry, xy, offsets, rings[sj, s, 0], rings[sj, s, 1])
        if depth > contact:
            total += pair_weight[i, j] * overlap_loss(instance, depth, sj, s)
            if total > bound:
                return total
    return total


@njit(cache=True, nogil=True)
def refresh_item(instance, state, i):
    """Recompute item i's row and column of the pair losses and its container loss."""
    bbox, rings, xy, offsets, contact = instance.nfp_bbox, instance.nfp_rings, instance.nfp_xy, instance.nfp_offsets, instance.contact
    shape_of, position, cached = state.shape_of, state.position, state.pair_loss
    s, x, y = shape_of[i], position[i, 0], position[i, 1]
    placed = s != UNPLACED
    state.container_loss[i] = container_loss(instance, state.length, s, x, y) if placed else 0.0
    for j in range(shape_of.shape[0]):
        if j == i:
            continue
        sj = shape_of[j]
        loss = 0.0
        rx, ry = x - position[j, 0], y - position[j, 1]
        if placed and sj != UNPLACED and not outside_nfp_box(bbox, sj, s, rx, ry):
            depth = depth_in_rings(rx, ry, xy, offsets, rings[sj, s, 0], rings[sj, s, 1])
            if depth > contact:
                loss = overlap_loss(instance, depth, sj, s)
        cached[i, j] = loss
        cached[j, i] = loss


@njit(cache=True, nogil=True)
def refresh_all(instance, state):
    for i in range(state.n_movable):
        refresh_item(instance, state, i)


@njit(cache=True, nogil=True)
def total_loss(state):
    pair, container = state.pair_loss, state.container_loss
    total = 0.0
    for i in range(state.n_movable):
        total += container[i]
        for j in range(i + 1, pair.shape[0]):
            total += pair[i, j]
    return total


@njit(cache=True, nogil=True)
def loss_mismatch(instance, state):
    """Largest difference between the cached losses and a recomputation from scratch.

    The recomputation is the plain one — every pair, no bounding-box shortcut, straight from
    the NFP rings — so a stale cache entry or a wrong shortcut shows (sparrow's debug check).
    """
    shape_of, position, pair, container = state.shape_of, state.position, state.pair_loss, state.container_loss
    rings, xy, offsets = instance.nfp_rings, instance.nfp_xy, instance.nfp_offsets
    worst = 0.0
    n_items = shape_of.shape[0]
    for i in range(state.n_movable):
        si, xi, yi = shape_of[i], position[i, 0], position[i, 1]
        if si != UNPLACED:
            worst = max(worst, abs(container[i] - container_loss(instance, state.length, si, xi, yi)))
        for j in range(n_items):
            sj = shape_of[j]
            expected = 0.0
            if j != i and sj != UNPLACED and si != UNPLACED:
                rx, ry = xi - position[j, 0], yi - position[j, 1]
                depth = depth_in_rings(rx, ry, xy, offsets, rings[sj, si, 0], rings[sj, si, 1])
                expected = overlap_loss(instance, depth, sj, si) if depth > instance.contact else 0.0
            if j != i:
                worst = max(worst, abs(pair[i, j] - expected), abs(pair[j, i] - expected))
    return worst


@njit(cache=True, nogil=True)
def _line_crossings(instance, lo, hi, axis, level, out):
    """Sorted coordinates where the line {axis-coordinate == level} crosses NFP rings lo..hi-1.

    ``axis`` 1 is a horizontal line (y == level, x crossings returned), 0 a vertical one.
    Consecutive pairs of crossings bound the line's intervals inside the region (even-odd).
    """
    xy, offsets = instance.nfp_xy, instance.nfp_offsets
    other = 1 - axis
    n = 0
    for r in range(lo, hi):
        start, end = offsets[r], offsets[r + 1]
        j = end - 1
        for k in range(start, end):
            a, b = xy[j, axis], xy[k, axis]
            if (a > level) != (b > level):
                t = (level - a) / (b - a)
                out[n] = xy[j, other] + t * (xy[k, other] - xy[j, other])
                n += 1
            j = k
    sort_prefix(out, n)
    return n


@njit(cache=True, nogil=True)
def _grown(values, used, size):
    """A larger copy of ``values[:used]`` with room for ``size`` (a loop: numba's slice copy compiles slowly)."""
    grown = np.empty(max(2 * values.shape[0], size))
    for k in range(used):
        grown[k] = values[k]
    return grown


@njit(cache=True, nogil=True)
def line_search(instance, state, i, s, x, y, axis):
    """Nearest collision-free position to (x, y) on the horizontal (axis 1) or vertical (0) line.

    Exact on the NFPs: the line meets each neighbour's NFP in intervals of overlapping
    positions; their union's complement inside the inner-fit range is the free set (Umetani
    et al. 2009, Imamichi et al. 2009). Returns (found, coordinate along the line).
    """
    x0, y0, x1, y1 = inner_fit(instance, state.length, s)
    if axis == 1:
        level, target, lo_lim, hi_lim = y, x, x0, x1
        if y < y0 or y > y1:
            return False, 0.0
    else:
        level, target, lo_lim, hi_lim = x, y, y0, y1
        if x < x0 or x > x1:
            return False, 0.0
    if hi_lim < lo_lim:
        return False, 0.0
    shape_of, position = state.shape_of, state.position
    bbox, rings, offsets = instance.nfp_bbox, instance.nfp_rings, instance.nfp_offsets
    other = 1 - axis
    n_items = shape_of.shape[0]
    starts, ends = np.empty(2 * n_items + 2), np.empty(2 * n_items + 2)  # the overlap intervals
    m = 0
    crossings = np.empty(64)
    for j in range(n_items):
        sj = shape_of[j]
        if j == i or sj == UNPLACED:
            continue
        rel = level - position[j, axis]
        if rel <= bbox[sj, s, axis] or rel >= bbox[sj, s, axis + 2]:
            continue
        lo, hi = rings[sj, s, 0], rings[sj, s, 1]
        size = offsets[hi] - offsets[lo]
        if crossings.shape[0] < size:
            crossings = np.empty(2 * size)
        n = _line_crossings(instance, lo, hi, axis, rel, crossings)
        if m + n // 2 > starts.shape[0]:
            starts, ends = _grown(starts, m, m + n), _grown(ends, m, m + n)
        for c in range(0, n - 1, 2):
            starts[m] = crossings[c] + position[j, other]
            ends[m] = crossings[c + 1] + position[j, other]
            m += 1
    if m == 0:
        return True, min(max(target, lo_lim), hi_lim)
    sort_prefix(starts, m)
    sort_prefix(ends, m)
    # Sweep the union of the intervals block by block (touching ones merge: a start is taken
    # before an equal end); the candidates are the free gaps' points nearest the target.
    best, best_dist = 0.0, np.inf
    free_from = lo_lim  # start of the current free gap
    k = e = 0
    while k < m:
        a, covering = starts[k], 0
        while True:
            if k < m and starts[k] <= ends[e]:
                covering += 1
                k += 1
            else:
                covering -= 1
                b = ends[e]
                e += 1
                if covering == 0:
                    break
        gap_end = min(a, hi_lim)
        if gap_end >= free_from:
            candidate = min(max(target, free_from), gap_end)
            if abs(candidate - target) < best_dist:
                best, best_dist = candidate, abs(candidate - target)
        free_from = max(free_from, b)
        if free_from > hi_lim:
            break
    if free_from <= hi_lim:
        candidate = min(max(target, free_from), hi_lim)
        if abs(candidate - target) < best_dist:
            best, best_dist = candidate, abs(candidate - target)
    return best_dist < np.inf, best


def warmup_instance():
    """A two-square instance and layout, for compiling the kernels."""
    ring = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]])
    nfp_rings = np.zeros((1, 1, 2), dtype=np.int64)
    nfp_rings[0, 0, 1] = 1
    instance = Instance(ring, np.array([0, 4], dtype=np.int64), nfp_rings, np.array([[[-1.0, -1.0, 1.0, 1.0]]]),
                        np.array([[0.0, 0.0, 1.0, 1.0]]), np.ones(1), np.full(1, 0.01), 0.0, 2.0, 0.0, 0.0, 0.0, 0.0,
                        False, np.full((1, 2, 2), -1.0))
    state = LayoutState(np.zeros(2, dtype=np.int64), np.array([[1.0, 1.0], [1.5, 1.0]]), 4.0, 2,
                        np.zeros((2, 2)), np.zeros(2), np.ones((2, 2)), np.ones(2))
    return instance, state


def warmup():
    instance, state = warmup_instance()
    refresh_all(instance, state)
    total_loss(state)
    loss_mismatch(instance, state)
    overlap_depth(instance, state, 0, 0, 1.0, 1.0)
    line_search(instance, state, 0, 0, 1.0, 1.0, 1)
