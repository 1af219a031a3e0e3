"""Compaction by overlap minimisation: sparrow's explore/compress loop on exact NFP geometry.

Fix the strip a little shorter than the best feasible marker, let pieces overlap, and move
colliding pieces one at a time to their least-overlap positions, with guided-local-search
weights on pairs that keep colliding (Egeblad et al. 2007; Umetani et al. 2009; Gardeyn &
Wauters' sparrow 2025). Overlap reaching zero gives a shorter feasible marker; failing that,
the best infeasible state is disrupted (two large pieces swapped) and separation goes on;
failing again, exploration takes a shorter shrink step (a failed separation costs hundreds of
rounds: on shirts, a fixed step spent most of the exploration failing at one length).
Compression, at the end, tries small shrinks at random split lines.

All per-sample work runs in `nesting.kernels.separate`; this module only orchestrates, in
slices of a few dozen item moves so that a stop request is honoured within milliseconds.

On several cores it is one search (``NestConfig.parallel = "shared"``, sparrow's
`move_items_multi`): every separation round, each thread moves the colliding pieces of its own
copy of the state, and the copy of least weighted loss goes on. The kernels release the GIL,
and all threads read the one NFP table that a portfolio would copy into every process.
"""

from __future__ import annotations

import concurrent.futures
import os

import numpy as np

from nesting.collision import Snapshot
from nesting.kernels import separate
from nesting.search import bottom_left
from nesting.search.base import Layout

_MOVES_PER_SLICE = 32
CHECK_LOSSES_VARIABLE = "NESTING_CHECK_LOSSES"  # set to 1: recompute every loss after every move


class Separator:
    """The mutable search state: the only place compaction keeps anything that changes.

    Its `LayoutState` lives in the collision core's terms; with the environment variable
    ``NESTING_CHECK_LOSSES=1`` every move is followed by a check of the incremental loss
    caches against a recomputation from scratch (slow: for tests and debugging).
    """

    def __init__(self, problem, layout, rng_seed: int, threads: concurrent.futures.Executor | None = None,
                 n_threads: int = 1):
        prep, config = problem.prep, problem.config
        self.problem = problem
        self.core = problem.collision
        self.cfg = config.separator
        self.n_movable = len(prep.item_piece)
        self.state = self.core.layout_state(layout.shape_of, layout.position, problem.length_of(layout))
        allowed_start, allowed = [0], []
        for shapes in prep.item_shapes:
            allowed += shapes
            allowed_start.append(len(allowed))
        step = [min(prep.shapes[s].bounds[2] - prep.shapes[s].bounds[0], prep.shapes[s].bounds[3] - prep.shapes[s].bounds[1])
                for s in layout.shape_of]
        self.moves = separate.MoveSettings(
            allowed_start=np.array(allowed_start, dtype=np.int64), allowed_shapes=np.array(allowed, dtype=np.int64),
            step=np.array(step, dtype=np.float64), container_samples=int(self.cfg.container_samples),
            focused_samples=int(self.cfg.focused_samples), use_line_search=bool(self.cfg.line_search),
            check_losses=os.environ.get(CHECK_LOSSES_VARIABLE, "") not in ("", "0"),
        )
        self.rng = np.array([(rng_seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % 2**64 or 1], dtype=np.uint64)
        self.threads = threads  # runs the other threads' moves of a round (`iterate`), or None
        others = np.random.SeedSequence(rng_seed).generate_state(n_threads - 1, np.uint64) | np.uint64(1)
        self.rngs = [self.rng] + [np.array([seed], dtype=np.uint64) for seed in others]
        self._copies = [_copy(self.state) for _ in others]  # the state's arrays live as long as it does

    # -- state ---------------------------------------------------------------------------
    @property
    def length(self) -> float:
        return self.state.length

    def set_length(self, length: float) -> None:
        self.state = self.state._replace(length=float(length))
        self.core.refresh(self.state)

    def snapshot(self) -> Snapshot:
        return self.core.snapshot(self.state)

    def restore(self, snap: Snapshot) -> None:
        self.state = self.core.restore(self.state, snap)

    def loss(self) -> float:
        return self.core.total_loss(self.state)

    def used_length(self) -> float:
        """The rightmost true extent of the current layout (grid units)."""
        n = self.n_movable
        right = self.state.position[:n, 0] + self.core.instance.bounds[self.state.shape_of[:n], 2]
        return float(right.max()) + self.core.instance.margin_end

    def random(self) -> float:
        return float(separate.rand(self.rng))

    # -- moves -----------------------------------------------------------------------------
    def shrink(self, fraction: float, split: float | None = None) -> None:
        """Shorten the strip by ``fraction``; pieces right of the split line move left with it.

        A new length is a new problem: the weights learnt on the old one's collisions are reset,
        as sparrow resets them when it changes the strip width."""
        delta = self.length * fraction
        split = self.length / 2 if split is None else split
        n, bounds = self.n_movable, self.core.instance.bounds
        shapes = self.state.shape_of[:n]
        right_of = self.state.position[:n, 0] + 0.5 * (bounds[shapes, 0] + bounds[shapes, 2]) > split
        self.state.position[:n, 0][right_of] -= delta
        self.set_length(self.length - delta)
        self.core.snap_all(self.state)
        self.core.reset_weights(self.state)

    def fit(self) -> None:
        """Close the strip on the rightmost piece."""
        self.set_length(self.used_length())

    def iterate(self, stop) -> float:
        """One separation round: move every colliding piece once (random order), update weights.

        With several threads (sparrow's `move_items_multi`), each moves the pieces of its own
        copy of the state in its own random order, and the copy with the least weighted loss
        goes on; ties go to the calling thread, then the lower one, so a run is reproducible."""
        if len(self.rngs) == 1:
            self._move_colliding(self.state, self.rng, stop)
        else:
            copies = self._thread_copies()
            others = [self.threads.submit(self._move_colliding, copy, rng, stop)
                      for copy, rng in zip(copies, self.rngs[1:])]
            totals = [self._move_colliding(self.state, self.rng, stop)] + [future.result() for future in others]
            best = int(np.argmin(totals))  # argmin keeps the first of equals
            if best:
                separate.copy_moves(copies[best - 1], self.state)
        separate.update_weights(self.state, self.cfg.weight_min, self.cfg.weight_max, self.cfg.weight_decay)
        stop.tick()
        return self.loss()

    def _thread_copies(self):
        """The other threads' states, each a copy of the current one sharing its weights (which
        only `update_weights` changes, between rounds); the arrays are reused from round to round."""
        for copy in self._copies:
            separate.copy_moves(self.state, copy)
        return [copy._replace(length=self.state.length) for copy in self._copies]

    def _move_colliding(self, state, rng, stop) -> float:
        """Move the colliding pieces of ``state`` in a random order; its weighted loss after."""
        order = separate.shuffled(self.n_movable, rng)
        for first in range(0, self.n_movable, _MOVES_PER_SLICE):
            if stop.done():
                break
            separate.move_items(self.core.instance, state, self.moves, rng, order[first:first + _MOVES_PER_SLICE])
        return separate.weighted_total(state)

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
        areas = np.array([self.problem.prep.shapes[s].area for s in self.state.shape_of[: self.n_movable]])
        order = np.argsort(-areas, kind="stable")
        cumulative = np.cumsum(areas[order]) / areas.sum()
        large = order[: max(2, int(np.searchsorted(cumulative, 0.75)) + 1)]
        for _ in range(20):
            a, b = large[separate.randint(self.rng, len(large))], large[separate.randint(self.rng, len(large))]
            if a != b and abs(areas[a] - areas[b]) > 0.01 * max(areas[a], areas[b]):
                break
        else:
            return
        shift = self._centre(b) - self._centre(a)
        self.state.position[a] += shift
        self.state.position[b] -= shift
        self.core.refresh(self.state)
        self.core.snap_all(self.state)

    def _centre(self, i) -> np.ndarray:
        b = self.core.instance.bounds[self.state.shape_of[i]]
        return self.state.position[i] + 0.5 * np.array([b[0] + b[2], b[1] + b[3]])


def _copy(state):
    """A state of the same pieces for another thread to move (the weights shared, read-only then)."""
    return state._replace(shape_of=state.shape_of.copy(), position=state.position.copy(),
                          pair_loss=state.pair_loss.copy(), container_loss=state.container_loss.copy())


def compact(problem, stop, listener, rng, start):
    """Explore (shrink, separate, disrupt on failure, a shorter step after failing), then compress.

    With ``config.parallel`` "shared", the separation rounds use ``config.workers`` threads
    (the kernels release the GIL); a portfolio's workers each run this with one.
    """
    n_threads = problem.config.workers if problem.config.parallel == "shared" else 1
    seed = int(rng.integers(2**63))
    if n_threads == 1:
        return _compact(problem, stop, listener, rng, start, Separator(problem, start, seed))
    with concurrent.futures.ThreadPoolExecutor(n_threads - 1) as threads:
        return _compact(problem, stop, listener, rng, start, Separator(problem, start, seed, threads, n_threads))


def _compact(problem, stop, listener, rng, start, sep):
    cfg = problem.config.separator
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
            listener.improved_layout(stop.elapsed(), best.length / problem.prep.scale,
                                     problem.utilization_at(best.length), phase, Layout(best.shape_of, best.position))

    explore = stop.share(cfg.explore_share)
    step = cfg.shrink_explore
    while not explore.done() and best.length > target_length:
        sep.restore(best)
        sep.shrink(step)
        for attempt in range(cfg.explore_attempts):
            if attempt:
                sep.disrupt()
            if explore.done():
                break
            if sep.separate(explore, cfg.iterations_no_improve, cfg.strikes):
                record("explore")
                break
        else:  # this step is too long a stride from here: take shorter ones
            step = max(step * 0.5, cfg.shrink_explore_min)
    while not stop.done() and best.length > target_length:
        sep.restore(best)
        progress = _progress(stop)
        fraction = cfg.shrink_compress_max + (cfg.shrink_compress_min - cfg.shrink_compress_max) * progress
        sep.shrink(fraction, split=sep.random() * sep.length)
        if sep.separate(stop, cfg.compress_iterations_no_improve, cfg.compress_strikes):
            record("compress")
    return Layout(best.shape_of.copy(), best.position.copy())


def _progress(stop) -> float:
    """How much of the budget is spent (time, else iterations): the compression schedule's clock."""
    if stop.time_limit:
        return min(1.0, stop.elapsed() / stop.time_limit)
    if stop.iterations:
        return min(1.0, stop.used_iterations / stop.iterations)
    return 0.5


def _make_feasible(sep, stop, cfg, problem, listener, rng) -> bool:
    """Resolve the start's overlaps in the grid model (a warm start may touch within rounding).

    Separates at the start's own length, then at slightly longer strips; as a last resort the
    constructive marker replaces the start. False only if stopped before that.
    """
    for slack in (0.0, 0.001, 0.01):
        if sep.loss() == 0.0:
            return True
        sep.set_length(sep.used_length() * (1 + slack))
        if sep.separate(stop, cfg.compress_iterations_no_improve, 1):
            return True
    if stop.done():
        return False
    fallback = bottom_left.run(problem, stop, listener, rng)
    sep.restore(Snapshot(fallback.shape_of.copy(), fallback.position.copy(), problem.length_of(fallback)))
    return True


def _target_length(problem) -> float:
    """Stop early once the target utilization is reached (grid units)."""
    prep = problem.prep
    area = sum(prep.pieces[p].area for p in prep.item_piece)
    return area / (problem.config.target_utilization * prep.fabric.width) * prep.scale + prep.margins.end


def run(problem, stop, listener, rng, start=None):
    """Compaction from ``start``, or from one bottom-left-fill pass."""
    if start is None:
        start = bottom_left.run(problem, stop, listener, rng)
    return compact(problem, stop, listener, rng, start)
