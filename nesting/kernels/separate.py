"""Overlap-minimisation kernels: move colliding pieces to their least-overlap positions.

Every overlap is asked of `nesting.kernels.collision` (the `Instance` and the `LayoutState`);
this module adds what only the separator needs: `MoveSettings` (each item's allowed shapes
and step size, the sample counts), the sampling, the coordinate descent and the
guided-local-search weights.

Randomness comes from an explicit xorshift state so runs are reproducible from a seed.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from nesting.kernels.collision import (
    inner_fit,
    line_search,
    loss_mismatch,
    refresh_item,
    warmup_instance,
    weighted_loss,
)

_N_BEST = 3
_MAX_WEIGHT = 1e12  # GLS weights grow geometrically on pairs that keep colliding: keep them finite
_MISMATCH = 1e-9  # a relative difference larger than this between cached and recomputed losses is a bug


class MoveSettings(NamedTuple):
    allowed_start: np.ndarray  # (k + 1,) int64: item i may take allowed_shapes[allowed_start[i]:allowed_start[i + 1]]
    allowed_shapes: np.ndarray  # int64 shape indices
    step: np.ndarray  # (k,) float64: each item's smaller extent, the unit of its moves
    container_samples: int  # uniform samples over the strip per move
    focused_samples: int  # samples near the item's current position per move
    use_line_search: bool  # exact NFP line searches through the best samples
    check_losses: bool  # debug: recompute every loss after every move and compare


class Candidates(NamedTuple):
    """The best few samples of a move, best first."""

    loss: np.ndarray  # (_N_BEST,) float64
    shape: np.ndarray  # (_N_BEST,) int64
    x: np.ndarray
    y: np.ndarray


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
def _no_candidates():
    return Candidates(np.full(_N_BEST, np.inf), np.full(_N_BEST, -1, dtype=np.int64),
                      np.full(_N_BEST, np.inf), np.full(_N_BEST, np.inf))


@njit(cache=True, nogil=True)
def _insert(best, loss, s, x, y, step):
    """Keep the best distinct samples (closer than 5 % of the step on the same shape: one sample)."""
    losses, shapes, xs, ys = best
    for k in range(_N_BEST):
        if shapes[k] == s and abs(xs[k] - x) < 0.05 * step and abs(ys[k] - y) < 0.05 * step:
            if loss < losses[k]:
                losses[k], xs[k], ys[k] = loss, x, y
                _sort(best)
            return
    last = _N_BEST - 1
    if loss < losses[last]:
        losses[last], shapes[last], xs[last], ys[last] = loss, s, x, y
        _sort(best)


@njit(cache=True, nogil=True)
def _sort(best):
    losses, shapes, xs, ys = best
    for a in range(1, _N_BEST):
        k = a
        while k > 0 and losses[k] < losses[k - 1]:
            losses[k], losses[k - 1] = losses[k - 1], losses[k]
            shapes[k], shapes[k - 1] = shapes[k - 1], shapes[k]
            xs[k], xs[k - 1] = xs[k - 1], xs[k]
            ys[k], ys[k - 1] = ys[k - 1], ys[k]
            k -= 1


@njit(cache=True, nogil=True)
def _clamp(value, lo, hi):
    if hi < lo:
        return lo
    return min(max(value, lo), hi)


@njit(cache=True, nogil=True)
def _on_rule(value, lo, hi, phase, period):
    """The value of a position rule nearest ``value`` within [lo, hi] (`nesting.lattice.snap`)."""
    if period < 0.0:
        return value
    if period == 0.0:
        return _clamp(phase, lo, hi) if hi >= lo else phase
    v = phase + np.round((value - phase) / period) * period
    if v < lo:
        v = phase + np.ceil((lo - phase) / period) * period
    if v > hi:
        v = phase + np.floor((hi - phase) / period) * period
    return v


@njit(cache=True, nogil=True)
def _snap(instance, length, s, x, y):
    """(x, y) moved onto shape s's position rule (`Instance.lattice`), if it has one."""
    if not instance.ruled:
        return x, y
    x0, y0, x1, y1 = inner_fit(instance, length, s)
    rule = instance.lattice[s]
    return _on_rule(x, x0, x1, rule[0, 0], rule[0, 1]), _on_rule(y, y0, y1, rule[1, 0], rule[1, 1])


@njit(cache=True, nogil=True)
def _descend(instance, state, rng, i, best, k, step, step_min):
    """Refine candidate k of item i in place: adaptive coordinate descent over x, y and the
    diagonals (sparrow's refinement)."""
    losses, shapes, xs, ys = best
    s, x, y, loss = shapes[k], xs[k], ys[k], losses[k]
    x0, y0, x1, y1 = inner_fit(instance, state.length, s)
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
            nx, ny = _snap(instance, state.length, s, _clamp(x + sign * dx, x0, x1), _clamp(y + sign * dy, y0, y1))
            value = weighted_loss(instance, state, i, s, nx, ny, loss)
            if value < loss:
                x, y, loss = nx, ny, value
                improved = True
                break
        if improved:
            step *= 1.1
        else:
            step *= 0.5
            axis = (axis + 1 + randint(rng, 3)) % 4
    losses[k], xs[k], ys[k] = loss, x, y


@njit(cache=True, nogil=True)
def move_item(instance, state, moves, rng, i):
    """Move item i to the least weighted-overlap position found by sampling and descent."""
    best = _no_candidates()
    shape_of, position, bounds = state.shape_of, state.position, instance.bounds
    allowed_start, allowed_shapes = moves.allowed_start, moves.allowed_shapes
    n_container, n_samples = moves.container_samples, moves.container_samples + moves.focused_samples
    cs, cx, cy = shape_of[i], position[i, 0], position[i, 1]
    step = moves.step[i]
    current = weighted_loss(instance, state, i, cs, cx, cy, np.inf)
    _insert(best, current, cs, cx, cy, step)
    first, count = allowed_start[i], allowed_start[i + 1] - allowed_start[i]
    width_i = bounds[cs, 2] - bounds[cs, 0]
    height_i = bounds[cs, 3] - bounds[cs, 1]
    for k in range(n_samples):
        s = allowed_shapes[first + randint(rng, count)]
        x0, y0, x1, y1 = inner_fit(instance, state.length, s)
        if k < n_container:
            x = x0 + rand(rng) * max(x1 - x0, 0.0)
            y = y0 + rand(rng) * max(y1 - y0, 0.0)
        else:
            x = _clamp(cx + (rand(rng) - 0.5) * width_i, x0, x1)
            y = _clamp(cy + (rand(rng) - 0.5) * height_i, y0, y1)
        x, y = _snap(instance, state.length, s, x, y)
        value = weighted_loss(instance, state, i, s, x, y, best.loss[_N_BEST - 1])
        _insert(best, value, s, x, y, step)
    for k in range(_N_BEST):
        if np.isfinite(best.loss[k]):
            _descend(instance, state, rng, i, best, k, 0.25 * step, 0.02 * step)
    _sort(best)
    if not np.isfinite(best.loss[0]):
        return current  # nothing comparable was found: stay (cannot happen with finite weights)
    _descend(instance, state, rng, i, best, 0, 0.01 * step, 0.001 * step)
    s, x, y, loss = best.shape[0], best.x[0], best.y[0], best.loss[0]
    if loss > 0.0 and moves.use_line_search:
        # Exact line searches through the best candidates: an overlap-free slot on the same
        # row or column beats any overlapping position.
        shift = np.inf
        for k in range(_N_BEST):
            if not np.isfinite(best.loss[k]):
                continue
            sk, bx, by = best.shape[k], best.x[k], best.y[k]
            for axis in (1, 0):
                found, c = line_search(instance, state, i, sk, bx, by, axis)
                if not found:
                    continue
                nx, ny = (c, by) if axis == 1 else (bx, c)
                nx, ny = _snap(instance, state.length, sk, nx, ny)
                value = weighted_loss(instance, state, i, sk, nx, ny, loss)
                moved = abs(nx - bx) + abs(ny - by)
                if value < loss or (value == 0.0 and moved < shift):
                    s, x, y, loss, shift = sk, nx, ny, value, moved
    shape_of[i] = s
    position[i, 0], position[i, 1] = x, y
    return loss


@njit(cache=True, nogil=True)
def _colliding(state, i):
    pair_loss = state.pair_loss
    if state.container_loss[i] > 0.0:
        return True
    for j in range(pair_loss.shape[0]):
        if pair_loss[i, j] > 0.0:
            return True
    return False


@njit(cache=True, nogil=True)
def _largest(values):
    """Largest absolute value (a loop: numba's array reductions compile slowly)."""
    largest = 0.0
    for value in values:
        largest = max(largest, abs(value))
    return largest


@njit(cache=True, nogil=True)
def move_items(instance, state, moves, rng, items):
    """Move each listed item that still collides; keep the losses current.

    With ``moves.check_losses`` every move is followed by a recomputation of all losses from
    scratch, and a mismatch raises.
    """
    moved = 0
    for i in items:
        if not _colliding(state, i):
            continue
        move_item(instance, state, moves, rng, i)
        refresh_item(instance, state, i)
        moved += 1
        if moves.check_losses:
            scale = max(1.0, _largest(state.pair_loss.ravel()), _largest(state.container_loss))
            if loss_mismatch(instance, state) > _MISMATCH * scale:
                raise AssertionError("cached pair/container losses differ from a recomputation")
    return moved


@njit(cache=True, nogil=True)
def weighted_total(state):
    """The total weighted loss: what the threads of one iteration compete on (sparrow's choice)."""
    pair_loss, pair_weight = state.pair_loss, state.pair_weight
    total = 0.0
    for i in range(state.n_movable):
        total += state.container_loss[i] * state.container_weight[i]
        for j in range(i + 1, pair_loss.shape[0]):
            total += pair_loss[i, j] * pair_weight[i, j]
    return total


@njit(cache=True, nogil=True)
def copy_moves(source, target):
    """Give ``target`` the pieces and losses of ``source`` (the weights are shared)."""
    target.shape_of[:] = source.shape_of
    target.position[:] = source.position
    target.pair_loss[:] = source.pair_loss
    target.container_loss[:] = source.container_loss


@njit(cache=True, nogil=True)
def update_weights(state, w_min, w_max, decay):
    """GLS: raise the weights of colliding pairs (more for worse ones), decay the others to 1."""
    pair_loss, container_loss = state.pair_loss, state.container_loss
    pair_weight, container_weight = state.pair_weight, state.container_weight
    n_items, n_movable = pair_loss.shape[0], state.n_movable
    worst = 0.0
    for i in range(n_movable):
        worst = max(worst, container_loss[i])
        for j in range(n_items):
            worst = max(worst, pair_loss[i, j])
    for i in range(n_movable):
        for j in range(n_items):
            if pair_loss[i, j] > 0.0:
                pair_weight[i, j] = min(_MAX_WEIGHT, pair_weight[i, j] * (w_min + (w_max - w_min) * pair_loss[i, j] / worst))
            else:
                pair_weight[i, j] = max(1.0, pair_weight[i, j] * decay)
        if container_loss[i] > 0.0:
            container_weight[i] = min(_MAX_WEIGHT, container_weight[i] * (w_min + (w_max - w_min) * container_loss[i] / worst))
        else:
            container_weight[i] = max(1.0, container_weight[i] * decay)
    for i in range(n_movable, n_items):  # fixed hazards: keep the matrix symmetric
        for j in range(n_movable):
            pair_weight[i, j] = pair_weight[j, i]


def warmup():
    """Compile the separation kernels on a two-square problem (both debug settings)."""
    instance, state = warmup_instance()
    rng = np.array([12345], dtype=np.uint64)
    for check in (False, True):
        moves = MoveSettings(np.array([0, 1, 2], dtype=np.int64), np.zeros(2, dtype=np.int64), np.ones(2), 2, 2, True, check)
        move_items(instance, state, moves, rng, np.arange(2))
        move_items(instance._replace(ruled=True, lattice=np.array([[[0.0, -1.0], [1.0, 0.5]]])), state, moves, rng,
                   np.arange(2))
    update_weights(state, 1.2, 2.0, 0.95)
    weighted_total(state)
    copy_moves(state, state._replace(shape_of=state.shape_of.copy(), position=state.position.copy(),
                                     pair_loss=state.pair_loss.copy(), container_loss=state.container_loss.copy()))
    shuffled(2, rng)
