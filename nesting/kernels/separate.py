"""Overlap-minimisation kernels: move colliding pieces to their least-overlap positions.

The state is flat arrays (structure of arrays), all in grid units:

- ``shape_of[i]``, ``pos[i]``: item i's shape (orientation) and reference position;
  items ``n_movable..`` are fixed hazards (clear zones) at (0, 0);
- ``allowed_ptr``/``allowed``: CSR list of the shapes each item may take;
- ``ring_xy``/``ring_off``/``pair_rings``/``pair_bbox``: the NFP cache (see `nesting.nfp`);
- ``bounds[s]``: the shape's true bbox (for the inner-fit range), ``h4[s]``: hull area ** 0.25
  (sparrow's shape penalty), ``eps[s]``: 1 % of the shape's diameter;
- ``strip``: ``[length, width, start, end, bottom, top]``;
- ``pair_loss``/``cont_loss``: unweighted losses; ``weights``/``cweights``: GLS weights.

Overlap of two pieces is the penetration depth of their relative position into their NFP
(the shortest translation that separates them), read exactly from the cached NFP. The loss of
an overlapping pair is ``(depth + eps) * (hull_a * hull_b) ** 0.25``; a depth at or below
``contact`` grid units is touching, not overlapping (collision shapes are inflated by more).

Randomness comes from an explicit xorshift state so runs are reproducible from a seed.
"""

import numpy as np
from numba import njit

from nesting.kernels.polygon import depth_in_rings

_N_BEST = 3
_MAX_WEIGHT = 1e12  # GLS weights grow geometrically on pairs that keep colliding: keep them finite


@njit(cache=True, nogil=True)
def rand(state):
    """Uniform [0, 1) from a xorshift64* state (uint64[1])."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return float((x * np.uint64(2685821657736338717)) >> np.uint64(11)) / 9007199254740992.0


@njit(cache=True, nogil=True)
def randint(state, n):
    return min(int(rand(state) * n), n - 1)


@njit(cache=True, nogil=True)
def shuffled(n, state):
    """A random permutation of 0..n-1 (Fisher-Yates on the xorshift state)."""
    order = np.arange(n)
    for k in range(n - 1, 0, -1):
        j = randint(state, k + 1)
        order[k], order[j] = order[j], order[k]
    return order


@njit(cache=True, nogil=True)
def pair_depth(ring_xy, ring_off, pair_rings, pair_bbox, sa, xa, ya, sb, xb, yb):
    """Penetration depth of shape sb at (xb, yb) into shape sa at (xa, ya)."""
    rx, ry = xb - xa, yb - ya
    if rx <= pair_bbox[sa, sb, 0] or rx >= pair_bbox[sa, sb, 2]:
        return 0.0
    if ry <= pair_bbox[sa, sb, 1] or ry >= pair_bbox[sa, sb, 3]:
        return 0.0
    return depth_in_rings(rx, ry, ring_xy, ring_off, pair_rings[sa, sb, 0], pair_rings[sa, sb, 1])


@njit(cache=True, nogil=True)
def inner_fit(bounds, strip, s):
    """(x0, y0, x1, y1) range of shape s's reference point inside the strip."""
    return (strip[2] - bounds[s, 0], strip[4] - bounds[s, 1],
            strip[0] - strip[3] - bounds[s, 2], strip[1] - strip[5] - bounds[s, 3])


@njit(cache=True, nogil=True)
def container_loss(bounds, h4, eps, strip, s, x, y):
    x0, y0, x1, y1 = inner_fit(bounds, strip, s)
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
    return (over + eps[s]) * h4[s] * h4[s]


@njit(cache=True, nogil=True)
def pair_loss_of(geo_xy, geo_off, pair_rings, pair_bbox, h4, eps, contact, sa, xa, ya, sb, xb, yb):
    depth = pair_depth(geo_xy, geo_off, pair_rings, pair_bbox, sa, xa, ya, sb, xb, yb)
    if depth <= contact:
        return 0.0
    return (depth + max(eps[sa], eps[sb])) * h4[sa] * h4[sb]


@njit(cache=True, nogil=True)
def evaluate(i, s, x, y, shape_of, pos, n_items, ring_xy, ring_off, pair_rings, pair_bbox,
             bounds, h4, eps, strip, contact, weights, cweights, bound):
    """Weighted loss of item i as shape s at (x, y); stops early once above ``bound``."""
    total = 0.0
    outside = container_loss(bounds, h4, eps, strip, s, x, y)
    if outside > 0.0:
        total = cweights[i] * outside
        if total > bound:
            return total
    for j in range(n_items):
        if j == i:
            continue
        loss = pair_loss_of(ring_xy, ring_off, pair_rings, pair_bbox, h4, eps, contact,
                            shape_of[j], pos[j, 0], pos[j, 1], s, x, y)
        if loss > 0.0:
            total += weights[i, j] * loss
            if total > bound:
                return total
    return total


@njit(cache=True, nogil=True)
def refresh_item(i, shape_of, pos, n_items, ring_xy, ring_off, pair_rings, pair_bbox, bounds, h4, eps,
                 strip, contact, pair_loss, cont_loss):
    """Recompute item i's row and column of the loss matrix and its container loss."""
    s, x, y = shape_of[i], pos[i, 0], pos[i, 1]
    cont_loss[i] = container_loss(bounds, h4, eps, strip, s, x, y) if i < cont_loss.shape[0] else 0.0
    for j in range(n_items):
        if j == i:
            continue
        loss = pair_loss_of(ring_xy, ring_off, pair_rings, pair_bbox, h4, eps, contact,
                            shape_of[j], pos[j, 0], pos[j, 1], s, x, y)
        pair_loss[i, j] = loss
        pair_loss[j, i] = loss


@njit(cache=True, nogil=True)
def refresh_all(n_movable, shape_of, pos, n_items, ring_xy, ring_off, pair_rings, pair_bbox, bounds, h4,
                eps, strip, contact, pair_loss, cont_loss):
    for i in range(n_movable):
        refresh_item(i, shape_of, pos, n_items, ring_xy, ring_off, pair_rings, pair_bbox, bounds, h4, eps,
                     strip, contact, pair_loss, cont_loss)


@njit(cache=True, nogil=True)
def _insert_best(best, loss, s, x, y, min_dim):
    """Keep the 3 best distinct samples: rows are [loss, shape, x, y]."""
    for k in range(_N_BEST):
        if best[k, 1] == s and abs(best[k, 2] - x) < 0.05 * min_dim and abs(best[k, 3] - y) < 0.05 * min_dim:
            if loss < best[k, 0]:
                best[k, 0], best[k, 2], best[k, 3] = loss, x, y
                _sort_best(best)
            return
    if loss < best[_N_BEST - 1, 0]:
        best[_N_BEST - 1, 0], best[_N_BEST - 1, 1] = loss, s
        best[_N_BEST - 1, 2], best[_N_BEST - 1, 3] = x, y
        _sort_best(best)


@njit(cache=True, nogil=True)
def _sort_best(best):
    for a in range(1, _N_BEST):
        k = a
        while k > 0 and best[k, 0] < best[k - 1, 0]:
            for c in range(4):
                best[k, c], best[k - 1, c] = best[k - 1, c], best[k, c]
            k -= 1


@njit(cache=True, nogil=True)
def _clamp(value, lo, hi):
    if hi < lo:
        return lo
    return min(max(value, lo), hi)


@njit(cache=True, nogil=True)
def _descend(i, s, x, y, loss, step, step_min, shape_of, pos, n_items, ring_xy, ring_off, pair_rings,
             pair_bbox, bounds, h4, eps, strip, contact, weights, cweights, rng):
    """Adaptive coordinate descent over x, y and the diagonals (sparrow's refinement)."""
    x0, y0, x1, y1 = inner_fit(bounds, strip, s)
    axis = 0
    while step > step_min and loss > 0.0:
        if axis == 0:
            dx, dy = step, 0.0
        elif axis == 1:
            dx, dy = 0.0, step
        elif axis == 2:
            dx, dy = step * 0.7071, step * 0.7071
        else:
            dx, dy = step * 0.7071, -step * 0.7071
        improved = False
        for sign in (1.0, -1.0):
            nx = _clamp(x + sign * dx, x0, x1)
            ny = _clamp(y + sign * dy, y0, y1)
            value = evaluate(i, s, nx, ny, shape_of, pos, n_items, ring_xy, ring_off, pair_rings, pair_bbox,
                             bounds, h4, eps, strip, contact, weights, cweights, loss)
            if value < loss:
                x, y, loss = nx, ny, value
                improved = True
                break
        if improved:
            step *= 1.1
        else:
            step *= 0.5
            axis = (axis + 1 + randint(rng, 3)) % 4
    return x, y, loss


@njit(cache=True, nogil=True)
def _line_crossings(ring_xy, ring_off, lo, hi, axis, level, out):
    """Sorted coordinates where the line {axis-coordinate == level} crosses rings lo..hi-1.

    ``axis`` 1 is a horizontal line (y == level, x crossings returned), 0 a vertical one.
    Consecutive pairs of crossings bound the line's intervals inside the region (even-odd).
    """
    other = 1 - axis
    n = 0
    for r in range(lo, hi):
        start, end = ring_off[r], ring_off[r + 1]
        j = end - 1
        for k in range(start, end):
            a, b = ring_xy[j, axis], ring_xy[k, axis]
            if (a > level) != (b > level):
                t = (level - a) / (b - a)
                out[n] = ring_xy[j, other] + t * (ring_xy[k, other] - ring_xy[j, other])
                n += 1
            j = k
    out[:n].sort()
    return n


@njit(cache=True, nogil=True)
def line_search(i, s, x, y, axis, shape_of, pos, n_items, ring_xy, ring_off, pair_rings, pair_bbox, bounds,
                strip):
    """Nearest collision-free position to (x, y) on the horizontal (axis 1) or vertical (0) line.

    Exact on the NFPs: the line meets each neighbour's NFP in intervals of overlapping
    positions; their union's complement inside the inner-fit range is the free set (Umetani
    et al. 2009, Imamichi et al. 2009). Returns (found, coordinate along the line).
    """
    x0, y0, x1, y1 = inner_fit(bounds, strip, s)
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
    other = 1 - axis
    intervals = np.empty((2 * n_items + 2, 2))
    m = 0
    crossings = np.empty(64)
    for j in range(n_items):
        if j == i:
            continue
        sj = shape_of[j]
        rel = level - pos[j, axis]
        if rel <= pair_bbox[sj, s, axis] or rel >= pair_bbox[sj, s, axis + 2]:
            continue
        lo, hi = pair_rings[sj, s, 0], pair_rings[sj, s, 1]
        size = ring_off[hi] - ring_off[lo]
        if crossings.shape[0] < size:
            crossings = np.empty(2 * size)
        n = _line_crossings(ring_xy, ring_off, lo, hi, axis, rel, crossings)
        for c in range(0, n - 1, 2):
            if m == intervals.shape[0]:
                grown = np.empty((2 * m, 2))
                grown[:m] = intervals
                intervals = grown
            intervals[m, 0] = crossings[c] + pos[j, other]
            intervals[m, 1] = crossings[c + 1] + pos[j, other]
            m += 1
    if m == 0:
        return True, min(max(target, lo_lim), hi_lim)
    order = np.argsort(intervals[:m, 0])
    # Walk the merged intervals; candidates are free gaps' points nearest the target.
    best, best_dist = 0.0, np.inf
    free_from = lo_lim  # start of the current free gap
    k = 0
    while k < m:
        a, b = intervals[order[k], 0], intervals[order[k], 1]
        k += 1
        while k < m and intervals[order[k], 0] <= b:
            b = max(b, intervals[order[k], 1])
            k += 1
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


@njit(cache=True, nogil=True)
def move_item(i, shape_of, pos, n_items, allowed_ptr, allowed, ring_xy, ring_off, pair_rings, pair_bbox,
              bounds, h4, eps, min_dim, strip, contact, weights, cweights, rng, n_container, n_focused,
              use_line_search):
    """Move item i to the least weighted-overlap position found by sampling and descent."""
    best = np.full((_N_BEST, 4), np.inf)
    cs, cx, cy = shape_of[i], pos[i, 0], pos[i, 1]
    current = evaluate(i, cs, cx, cy, shape_of, pos, n_items, ring_xy, ring_off, pair_rings, pair_bbox,
                       bounds, h4, eps, strip, contact, weights, cweights, np.inf)
    _insert_best(best, current, cs, cx, cy, min_dim[i])
    first, count = allowed_ptr[i], allowed_ptr[i + 1] - allowed_ptr[i]
    width_i = bounds[cs, 2] - bounds[cs, 0]
    height_i = bounds[cs, 3] - bounds[cs, 1]
    for k in range(n_container + n_focused):
        s = allowed[first + randint(rng, count)]
        x0, y0, x1, y1 = inner_fit(bounds, strip, s)
        if k < n_container:
            x = x0 + rand(rng) * max(x1 - x0, 0.0)
            y = y0 + rand(rng) * max(y1 - y0, 0.0)
        else:
            x = _clamp(cx + (rand(rng) - 0.5) * width_i, x0, x1)
            y = _clamp(cy + (rand(rng) - 0.5) * height_i, y0, y1)
        value = evaluate(i, s, x, y, shape_of, pos, n_items, ring_xy, ring_off, pair_rings, pair_bbox,
                         bounds, h4, eps, strip, contact, weights, cweights, best[_N_BEST - 1, 0])
        _insert_best(best, value, s, x, y, min_dim[i])
    for k in range(_N_BEST):
        if not np.isfinite(best[k, 0]):
            continue
        s = int(best[k, 1])
        x, y, loss = _descend(i, s, best[k, 2], best[k, 3], best[k, 0], 0.25 * min_dim[i], 0.02 * min_dim[i],
                              shape_of, pos, n_items, ring_xy, ring_off, pair_rings, pair_bbox, bounds, h4, eps,
                              strip, contact, weights, cweights, rng)
        best[k, 0], best[k, 2], best[k, 3] = loss, x, y
    _sort_best(best)
    if not np.isfinite(best[0, 0]):
        return current  # nothing comparable was found: stay (cannot happen with finite weights)
    s = int(best[0, 1])
    x, y, loss = _descend(i, s, best[0, 2], best[0, 3], best[0, 0], 0.01 * min_dim[i], 0.001 * min_dim[i],
                          shape_of, pos, n_items, ring_xy, ring_off, pair_rings, pair_bbox, bounds, h4, eps,
                          strip, contact, weights, cweights, rng)
    if loss > 0.0 and use_line_search:
        # Exact line searches through the best candidates: an overlap-free slot on the same
        # row or column beats any overlapping position.
        best[0, 0], best[0, 2], best[0, 3] = loss, x, y
        shift = np.inf
        for k in range(_N_BEST):
            if not np.isfinite(best[k, 0]):
                continue
            sk, bx, by = int(best[k, 1]), best[k, 2], best[k, 3]
            for axis in (1, 0):
                found, c = line_search(i, sk, bx, by, axis, shape_of, pos, n_items, ring_xy, ring_off,
                                       pair_rings, pair_bbox, bounds, strip)
                if not found:
                    continue
                nx, ny = (c, by) if axis == 1 else (bx, c)
                value = evaluate(i, sk, nx, ny, shape_of, pos, n_items, ring_xy, ring_off, pair_rings,
                                 pair_bbox, bounds, h4, eps, strip, contact, weights, cweights, loss)
                moved = abs(nx - bx) + abs(ny - by)
                if value < loss or (value == 0.0 and moved < shift):
                    s, x, y, loss, shift = sk, nx, ny, value, moved
    shape_of[i] = s
    pos[i, 0], pos[i, 1] = x, y
    return loss


@njit(cache=True, nogil=True)
def move_items(items, shape_of, pos, n_items, allowed_ptr, allowed, ring_xy, ring_off, pair_rings, pair_bbox,
               bounds, h4, eps, min_dim, strip, contact, weights, cweights, rng, n_container, n_focused,
               use_line_search, pair_loss, cont_loss):
    """Move each listed item that still collides; keep the loss matrix current."""
    moved = 0
    for i in items:
        colliding = cont_loss[i] > 0.0
        if not colliding:
            for j in range(n_items):
                if pair_loss[i, j] > 0.0:
                    colliding = True
                    break
        if not colliding:
            continue
        move_item(i, shape_of, pos, n_items, allowed_ptr, allowed, ring_xy, ring_off, pair_rings, pair_bbox,
                  bounds, h4, eps, min_dim, strip, contact, weights, cweights, rng, n_container, n_focused,
                  use_line_search)
        refresh_item(i, shape_of, pos, n_items, ring_xy, ring_off, pair_rings, pair_bbox, bounds, h4, eps,
                     strip, contact, pair_loss, cont_loss)
        moved += 1
    return moved


@njit(cache=True, nogil=True)
def update_weights(pair_loss, cont_loss, weights, cweights, n_movable, w_min, w_max, decay):
    """GLS: raise the weights of colliding pairs (more for worse ones), decay the others to 1."""
    n_items = pair_loss.shape[0]
    worst = 0.0
    for i in range(n_movable):
        worst = max(worst, cont_loss[i])
        for j in range(n_items):
            worst = max(worst, pair_loss[i, j])
    for i in range(n_movable):
        for j in range(n_items):
            if pair_loss[i, j] > 0.0:
                weights[i, j] = min(_MAX_WEIGHT, weights[i, j] * (w_min + (w_max - w_min) * pair_loss[i, j] / worst))
            else:
                weights[i, j] = max(1.0, weights[i, j] * decay)
        if cont_loss[i] > 0.0:
            cweights[i] = min(_MAX_WEIGHT, cweights[i] * (w_min + (w_max - w_min) * cont_loss[i] / worst))
        else:
            cweights[i] = max(1.0, cweights[i] * decay)
    for i in range(n_movable, n_items):  # fixed hazards: keep the matrix symmetric
        for j in range(n_movable):
            weights[i, j] = weights[j, i]


@njit(cache=True, nogil=True)
def total_loss(pair_loss, cont_loss, n_movable):
    total = 0.0
    for i in range(n_movable):
        total += cont_loss[i]
        for j in range(i + 1, pair_loss.shape[0]):
            total += pair_loss[i, j]
    return total


def warmup():
    """Compile the separation kernels on a two-square problem."""
    ring = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]])
    ring_off = np.array([0, 4], dtype=np.int64)
    pair_rings = np.zeros((1, 1, 2), dtype=np.int64)
    pair_rings[0, 0, 1] = 1
    pair_bbox = np.array([[[-1.0, -1.0, 1.0, 1.0]]])
    shape_of = np.zeros(2, dtype=np.int64)
    pos = np.array([[1.0, 1.0], [1.5, 1.0]])
    bounds = np.array([[0.0, 0.0, 1.0, 1.0]])
    h4, eps, min_dim = np.ones(1), np.full(1, 0.01), np.ones(2)
    strip = np.array([4.0, 2.0, 0.0, 0.0, 0.0, 0.0])
    weights, cweights = np.ones((2, 2)), np.ones(2)
    pair_loss, cont_loss = np.zeros((2, 2)), np.zeros(2)
    rng = np.array([12345], dtype=np.uint64)
    allowed_ptr, allowed = np.array([0, 1, 2], dtype=np.int64), np.zeros(2, dtype=np.int64)
    refresh_all(2, shape_of, pos, 2, ring, ring_off, pair_rings, pair_bbox, bounds, h4, eps, strip, 0.0,
                pair_loss, cont_loss)
    move_items(np.arange(2), shape_of, pos, 2, allowed_ptr, allowed, ring, ring_off, pair_rings, pair_bbox,
               bounds, h4, eps, min_dim, strip, 0.0, weights, cweights, rng, 2, 2, True, pair_loss, cont_loss)
    update_weights(pair_loss, cont_loss, weights, cweights, 2, 1.2, 2.0, 0.95)
    total_loss(pair_loss, cont_loss, 2)
    shuffled(2, rng)
