"""Compaction by overlap minimisation: sparrow's explore/compress loop on exact NFP geometry.

Fix the strip a little shorter than the best feasible marker, let pieces overlap, and move
colliding pieces one at a time to their least-overlap positions, with guided-local-search
weights on pairs that keep colliding (Egeblad et al. 2007; Umetani et al. 2009; Gardeyn &
Wauters' sparrow 2025). Overlap reaching zero gives a shorter feasible marker; failing that,
the best infeasible state is disrupted (two large pieces swapped) and separation goes on.
Compression, at the end, tries small shrinks at random split lines.

All per-sample work runs in `nesting.kernels.separate`; this module only orchestrates, in
slices of a few dozen item moves so that a stop request is honoured within milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nesting.kernels import separate as k
from nesting.search import register

_MOVES_PER_SLICE = 32


@dataclass
class Snapshot:
    shape_of: np.ndarray
    pos: np.ndarray
    length: float


class Separator:
    """The mutable search state: the only place compaction keeps anything that changes."""

    def __init__(self, problem, layout, rng_seed: int):
        prep, cache, config = problem.prep, problem.cache, problem.config
        self.problem = problem
        self.cfg = config.separator
        n_movable = len(prep.item_piece)
        n_zones = len(prep.zones)
        n_shapes = len(prep.shapes)
        self.n_movable, self.n_items = n_movable, n_movable + n_zones
        self.shape_of = np.concatenate([layout.shape_of, n_shapes + np.arange(n_zones)]).astype(np.int64)
        self.pos = np.concatenate([layout.position, np.zeros((n_zones, 2))]).astype(np.float64)
        ptr, allowed = [0], []
        for shapes in prep.item_shapes:
            allowed += shapes
            ptr.append(len(allowed))
        self.allowed_ptr, self.allowed = np.array(ptr, dtype=np.int64), np.array(allowed, dtype=np.int64)
        zone_bounds = [(*z.min(axis=0), *z.max(axis=0)) for z in prep.zones]
        self.bounds = np.array([s.bounds for s in prep.shapes] + zone_bounds, dtype=np.float64).reshape(-1, 4)
        hulls = [s.hull_area for s in prep.shapes] + [float((b[2] - b[0]) * (b[3] - b[1])) for b in zone_bounds]
        self.h4 = np.array(hulls, dtype=np.float64) ** 0.25
        diameters = np.hypot(self.bounds[:, 2] - self.bounds[:, 0], self.bounds[:, 3] - self.bounds[:, 1])
        self.eps = 0.01 * diameters
        self.min_dim = np.array([
            min(prep.shapes[s].bounds[2] - prep.shapes[s].bounds[0], prep.shapes[s].bounds[3] - prep.shapes[s].bounds[1])
            for s in layout.shape_of
        ], dtype=np.float64)
        start, end, bottom, top = prep.usable
        self.strip = np.array([problem.length_of(layout), prep.width, start, end, bottom, top], dtype=np.float64)
        self.contact = float(config.tolerances.contact_units)
        self.ring_xy, self.ring_off = cache.ring_xy, cache.ring_offsets
        self.pair_rings, self.pair_bbox = cache.pair_rings, cache.pair_bbox
        self.weights = np.ones((self.n_items, self.n_items))
        self.cweights = np.ones(self.n_items)
        self.pair_loss = np.zeros((self.n_items, self.n_items))
        self.cont_loss = np.zeros(self.n_items)
        self.rng = np.array([(rng_seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % 2**64 or 1], dtype=np.uint64)
        self.refresh()

    # -- state ---------------------------------------------------------------------------
    @property
    def length(self) -> float:
        return float(self.strip[0])

    def snapshot(self) -> Snapshot:
        return Snapshot(self.shape_of[: self.n_movable].copy(), self.pos[: self.n_movable].copy(), self.length)

    def restore(self, snap: Snapshot) -> None:
        self.shape_of[: self.n_movable] = snap.shape_of
        self.pos[: self.n_movable] = snap.pos
        self.strip[0] = snap.length
        self.refresh()

    def refresh(self) -> None:
        k.refresh_all(self.n_movable, self.shape_of, self.pos, self.n_items, self.ring_xy, self.ring_off,
                      self.pair_rings, self.pair_bbox, self.bounds, self.h4, self.eps, self.strip, self.contact,
                      self.pair_loss, self.cont_loss)

    def loss(self) -> float:
        return float(k.total_loss(self.pair_loss, self.cont_loss, self.n_movable))

    def used_length(self) -> float:
        """The rightmost true extent of the current layout (grid units)."""
        right = self.pos[: self.n_movable, 0] + self.bounds[self.shape_of[: self.n_movable], 2]
        return float(right.max()) + self.strip[3]

    def _rand(self) -> float:
        return float(k.rand(self.rng))

    # -- moves -----------------------------------------------------------------------------
    def shrink(self, fraction: float, split: float | None = None) -> None:
        """Shorten the strip by ``fraction``; pieces right of the split line move left with it."""
        delta = self.length * fraction
        split = self.length / 2 if split is None else split
        right_of = self.pos[: self.n_movable, 0] + 0.5 * (
            self.bounds[self.shape_of[: self.n_movable], 0] + self.bounds[self.shape_of[: self.n_movable], 2]) > split
        self.pos[: self.n_movable, 0][right_of] -= delta
        self.strip[0] = self.length - delta
        self.refresh()

    def fit(self) -> None:
        """Close the strip on the rightmost piece."""
        self.strip[0] = self.used_length()
        self.refresh()

    def iterate(self, stop) -> float:
        """One separation round: move every colliding piece once (random order), update weights."""
        order = k.shuffled(self.n_movable, self.rng)
        for first in range(0, self.n_movable, _MOVES_PER_SLICE):
            if stop.done():
                break
            k.move_items(order[first:first + _MOVES_PER_SLICE], self.shape_of, self.pos,
                         self.n_items, self.allowed_ptr, self.allowed, self.ring_xy, self.ring_off, self.pair_rings,
                         self.pair_bbox, self.bounds, self.h4, self.eps, self.min_dim, self.strip, self.contact,
                         self.weights, self.cweights, self.rng, self.cfg.container_samples,
                         self.cfg.focused_samples, self.cfg.line_search, self.pair_loss, self.cont_loss)
        k.update_weights(self.pair_loss, self.cont_loss, self.weights, self.cweights, self.n_movable,
                         self.cfg.weight_min, self.cfg.weight_max, self.cfg.weight_decay)
        stop.tick()
        return self.loss()

    def separate(self, stop, patience: int, strikes: int) -> bool:
        """Try to remove all overlap at the current length; leaves the best state found."""
        best_loss = self.loss()
        if best_loss == 0.0:
            return True
        best = self.snapshot()
        for _ in range(strikes):
            idle = 0
            improved_attempt = False
            while idle < patience and not stop.done():
                loss = self.iterate(stop)
                if loss == 0.0:
                    return True
                if loss < best_loss:
                    if loss < 0.98 * best_loss:
                        idle = 0
                    best_loss, best = loss, self.snapshot()
                    improved_attempt = True
                else:
                    idle += 1
            self.restore(best)
            if stop.done() or not improved_attempt:
                break
        return False

    def disrupt(self) -> None:
        """Swap two large pieces of different shape (sparrow's disruption), keeping orientations legal."""
        areas = np.array([self.problem.prep.shapes[s].area for s in self.shape_of[: self.n_movable]])
        order = np.argsort(-areas, kind="stable")
        cumulative = np.cumsum(areas[order]) / areas.sum()
        large = order[: max(2, int(np.searchsorted(cumulative, 0.75)) + 1)]
        for _ in range(20):
            a, b = large[k.randint(self.rng, len(large))], large[k.randint(self.rng, len(large))]
            if a != b and abs(areas[a] - areas[b]) > 0.01 * max(areas[a], areas[b]):
                break
        else:
            return
        centre_a = self._centre(a)
        centre_b = self._centre(b)
        self.pos[a] += centre_b - centre_a
        self.pos[b] += centre_a - centre_b
        self.refresh()

    def _centre(self, i) -> np.ndarray:
        b = self.bounds[self.shape_of[i]]
        return self.pos[i] + 0.5 * np.array([b[0] + b[2], b[1] + b[3]])


def compact(problem, stop, listener, rng, start):
    """Explore (shrink by a fixed step, separate, disrupt on failure), then compress."""
    from nesting.engine import Layout

    cfg = problem.config.separator
    sep = Separator(problem, start, int(rng.integers(2**63)))
    sep.fit()
    if not _make_feasible(sep, stop, cfg, problem, listener, rng):
        return start  # stopped first: an earlier marker stands as it was given
    sep.fit()
    best = sep.snapshot()
    target_length = _target_length(problem)

    def record(phase):
        nonlocal best
        sep.fit()
        if sep.length < best.length:
            best = sep.snapshot()
            listener.improved(stop.elapsed(), best.length / problem.prep.scale, problem.utilization_at(best.length), phase)

    explore = stop.share(cfg.explore_share)
    while not explore.done() and best.length > target_length:
        sep.restore(best)
        sep.shrink(cfg.shrink_explore)
        while not explore.done():
            if sep.separate(explore, cfg.iterations_no_improve, cfg.strikes):
                record("explore")
                break
            sep.disrupt()
    while not stop.done() and best.length > target_length:
        sep.restore(best)
        progress = min(1.0, stop.elapsed() / stop.time_limit) if stop.time_limit else 0.5
        fraction = cfg.shrink_compress_max + (cfg.shrink_compress_min - cfg.shrink_compress_max) * progress
        sep.shrink(fraction, split=sep._rand() * sep.length)
        if sep.separate(stop, cfg.compress_iterations_no_improve, cfg.compress_strikes):
            record("compress")
    return Layout(best.shape_of.copy(), best.pos.copy())


def _make_feasible(sep, stop, cfg, problem, listener, rng) -> bool:
    """Resolve the start's overlaps in the grid model (a warm start may touch within rounding).

    Separates at the start's own length, then at slightly longer strips; as a last resort the
    constructive marker replaces the start. False only if stopped before that.
    """
    for slack in (0.0, 0.001, 0.01):
        if sep.loss() == 0.0:
            return True
        sep.strip[0] = sep.used_length() * (1 + slack)
        sep.refresh()
        if sep.separate(stop, cfg.compress_iterations_no_improve, 1):
            return True
    from nesting.search.constructive import constructive

    if stop.done():
        return False
    fallback = constructive(problem, stop, listener, rng)
    sep.restore(Snapshot(fallback.shape_of.copy(), fallback.position.copy(), problem.length_of(fallback)))
    return True


def _target_length(problem) -> float:
    """Stop early once the target utilization is reached (grid units)."""
    prep = problem.prep
    area = sum(prep.pieces[p].area for p in prep.item_piece)
    return area / (problem.config.target_utilization * prep.fabric.width) * prep.scale + prep.usable[1]


@register("compact")
def compact_strategy(problem, stop, listener, rng, start=None):
    if start is None:
        from nesting.search.constructive import constructive

        start = constructive(problem, stop, listener, rng)
    return compact(problem, stop, listener, rng, start)



