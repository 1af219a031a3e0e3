"""`nest`: pieces and a fabric in, a verified marker out.

prepare -> NFP cache -> strategy (constructive, genetic, compaction) -> marker -> verify.
The search works on integer-grid layouts; the marker it returns is rebuilt from the true
outlines and checked independently before anyone sees it.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
import time
from dataclasses import replace

import numpy as np

from nesting.config import DEFAULT_CONFIG, PARALLEL_MODES, NestConfig, Tolerances
from nesting.errors import Abandoned, InfeasibleError, SpecError, was_abandoned
from nesting.geometry import Prepared, prepare
from nesting.kernels import warmup
from nesting.model import Fabric, Marker, MarkerRules, Placement, near_rotation, placed_polygon
from nesting.nfp import NFPCache
from nesting.search import get_strategy
from nesting.search.base import Layout, Listener, Problem, Stop
from nesting.shelf import shelf_layout
from nesting.verify import verify


def nest(
    pieces,
    fabric: Fabric,
    config: NestConfig = DEFAULT_CONFIG,
    stop: Stop | None = None,
    listener: Listener | None = None,
    input_name: str = "",
    units: str = "mm",
    warm_start=None,
    rules: MarkerRules | None = None,
) -> Marker:
    """Nest ``pieces`` on ``fabric`` into the shortest verified marker the budget allows.

    Parameters
    ----------
    pieces : sequence of `patterns.Piece` (outline, demand, allowed orientations).
    fabric : `Fabric` (width, margins, zones, optional table length), same units as pieces.
    config : `NestConfig` (seed, budgets, strategy, spacing, workers and how they share the search).
    stop : a `Stop`; by default one built from ``config.time_limit`` / ``config.iterations``.
    listener : receives each improvement; the engine itself never prints.
    warm_start : placements of an earlier marker of the same pieces, as
        ``(piece_id, copy, rotation, mirrored, x, y)``: compaction starts from it (a repeat
        order gets a marker at least as good, in seconds) instead of from scratch.
    rules : the `MarkerRules` a spec set (size ratio, orientation rules) for the marker to carry
        and be verified against; by default the pieces' own rules on ``fabric``.

    Raises
    ------
    InfeasibleError : a piece fits the fabric in none of its allowed orientations, or the
        marker is longer than the fabric's ``max_length`` (the search does not bound the length).
    SpecError : the warm start does not place exactly these pieces in allowed orientations.
    VerificationError : the engine produced an invalid marker (a bug; never returned).
    """
    strategy = get_strategy(config.strategy)
    if config.parallel not in PARALLEL_MODES:
        raise SpecError(f"--parallel: unknown mode {config.parallel!r}; choose from {', '.join(PARALLEL_MODES)}")
    if warm_start is not None and config.strategy not in ("auto", "compact"):
        raise SpecError(f"--warm-start continues with compaction: use --strategy auto or compact, not {config.strategy}")
    compile_seconds = warmup()
    if config.workers > 1:
        # Deferred: importing the portfolio loads its worker module, which compiles every kernel.
        from nesting.search.portfolio import start_workers

        started = time.perf_counter()
        start_workers()
        compile_seconds += time.perf_counter() - started
    if stop is None:
        budget = config.time_limit if config.time_limit is not None else (None if config.iterations else config.default_time)
        stop = Stop(time_limit=budget, iterations=config.iterations)
    else:
        stop.started = time.perf_counter()
    prep = prepare(pieces, fabric, config)
    start = None if warm_start is None else layout_from_placements(prep, warm_start, config.tolerances.verify_angle)
    first = _FirstMarker(listener or Listener(), stop, config.target_utilization)
    cache = None
    try:
        with _until_first_marker(stop, first):
            first.message(f"building the no-fit polygons of {len(prep.shapes)} shapes"
                          + (f" and {len(prep.zones)} zones" if prep.zones else ""))
            with _nfp_pool(config.workers) as pool:
                cache = NFPCache([(s.ring, s.holes) for s in prep.shapes] + [(z, ()) for z in prep.zones],
                                 fixed=len(prep.zones), stop=stop, pool=pool)
            problem = Problem(prep, cache, config)
            first.message(f"{len(prep.item_piece)} pieces, {len(prep.shapes)} shapes, "
                          f"{cache.computed_pairs} NFPs in {cache.build_seconds:.2f} s")
            if start is not None:
                strategy = functools.partial(get_strategy("compact"), start=start)
            rng = np.random.default_rng(config.seed)
            if config.workers > 1 and config.parallel == "portfolio":
                from nesting.search.portfolio import run_portfolio  # deferred, as above

                layout = run_portfolio(strategy, problem, stop, first, rng)
            else:
                layout = strategy(problem, stop, first, rng)
    except BaseException as exc:  # stopped, or out of time, before the first marker: the fallback stands
        if not was_abandoned(exc):
            raise
        problem = Problem(prep, cache, config)
        layout = start if start is not None else shelf_layout(prep)
        why = "stopped" if stop.requested else "the budget ended"
        first.message(f"{why} before the first bottom-left marker: writing the fallback marker "
                      "(columns of bounding boxes), a longer one; give more --time for a dense marker")
    marker = to_marker(problem, layout, input_name, units, stop.elapsed())
    if start is not None:
        earlier = to_marker(problem, start, input_name, units, stop.elapsed())
        if earlier.length <= marker.length:  # the search found nothing shorter: keep the earlier marker
            marker = earlier
    if rules is not None:
        marker = replace(marker, rules=rules)
    if fabric.max_length is not None and marker.length > fabric.max_length:
        raise InfeasibleError(f"fabric.max_length: the marker needs {marker.length:.1f} of length, more than the table's "
                              f"{fabric.max_length:g} (shorten the ratio, widen the fabric or allow more rotations)")
    marker.stats.update(
        compile_s=compile_seconds, nfp_s=cache.build_seconds if cache else stop.elapsed(),
        nfp_pairs=cache.computed_pairs if cache else 0, nfp_memory_bytes=cache.memory_bytes if cache else 0,
        strategy=config.strategy, iterations=stop.used_iterations, interrupted=stop.requested,
        first_marker="search" if first.found else ("warm start" if start is not None else "fallback"),
    )
    return verify(marker, config.tolerances)  # the gate: no marker leaves the engine unverified


def _nfp_pool(workers: int):
    """The processes the NFPs are computed on: the search's cores, or none (here) for one worker."""
    if workers <= 1:
        return contextlib.nullcontext(None)
    from nesting.search.portfolio import process_pool  # deferred, as in `nest`

    return process_pool(workers)


class _FirstMarker(Listener):
    """Passes progress on; the first marker found ends the urgency, the target ends the search."""

    def __init__(self, listener: Listener, stop: Stop, target: float):
        self.listener, self.stop, self.target, self.found = listener, stop, target, False

    def improved(self, elapsed, length, utilization, phase):
        self.improved_layout(elapsed, length, utilization, phase, None)

    def improved_layout(self, elapsed, length, utilization, phase, layout):
        self.found = True
        self.stop.urgent = ""
        if utilization >= self.target:
            self.stop.satisfied = True
        self.listener.improved_layout(elapsed, length, utilization, phase, layout)

    def message(self, text):
        self.listener.message(text)


@contextlib.contextmanager
def _until_first_marker(stop: Stop, first: _FirstMarker):
    """Until the first marker exists, a stop request or the deadline abandons the work (`Abandoned`).

    The deadline is an interval timer (SIGALRM) in the main thread; elsewhere (a Dask worker
    thread) only the NFP build checks it, so the bottom-left fill may run past the budget there.
    """
    stop.urgent = "before the first marker"
    timed = stop.time_limit is not None and threading.current_thread() is threading.main_thread()
    previous = None
    if timed:
        def expire(signum, frame):
            if stop.urgent and not first.found:
                raise Abandoned("out of time before the first marker")
            signal.setitimer(signal.ITIMER_REAL, 0)

        previous = signal.signal(signal.SIGALRM, expire)
        # repeating: an expiry that lands where exceptions are swallowed (a __del__) comes again
        signal.setitimer(signal.ITIMER_REAL, max(stop.remaining(), 1e-3), 0.05)
    try:
        yield
    finally:
        stop.urgent = ""
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def to_marker(problem: Problem, layout: Layout, input_name="", units="mm", elapsed=0.0) -> Marker:
    """The marker of a grid layout, with its length measured on the true outlines."""
    prep = problem.prep
    placements = []
    for item, (s, (x, y)) in enumerate(zip(layout.shape_of, layout.position)):
        shape = prep.shapes[s]
        px, py = x / prep.scale, y / prep.scale
        placements.append(Placement(int(prep.item_piece[item]), int(prep.item_copy[item]), shape.rotation, shape.mirrored, px, py))
    length = max(placed_polygon(prep.pieces[p.piece], p).bounds[2] for p in placements) + prep.fabric.margins.end
    return Marker(
        pieces=prep.pieces, fabric=prep.fabric, placements=tuple(placements), length=length,
        seed=problem.config.seed, elapsed_s=elapsed, input=input_name, units=units,
        target_utilization=problem.config.target_utilization, spacing=problem.config.spacing,
    )


def layout_from_placements(prep: Prepared, placements, angle_tolerance: float = Tolerances().verify_angle) -> Layout:
    """The grid layout of an earlier marker's placements, matched to this marker's items.

    Raises `SpecError` unless they place every copy exactly once in an allowed orientation.
    """
    index = {piece.id: k for k, piece in enumerate(prep.pieces)}
    item_of = {(int(p), int(c)): i for i, (p, c) in enumerate(zip(prep.item_piece, prep.item_copy))}
    shape_of = np.full(len(item_of), -1, dtype=np.int64)
    position = np.zeros((len(item_of), 2))
    for piece_id, copy, rotation, mirrored, x, y in placements:
        item = item_of.get((index.get(str(piece_id), -1), int(copy)))
        if item is None or shape_of[item] >= 0:
            raise SpecError(f"--warm-start: piece {piece_id} copy {copy} is not one of this marker's copies (or twice)")
        matches = [s for s in prep.item_shapes[item] if prep.shapes[s].mirrored == bool(mirrored)
                   and near_rotation(prep.shapes[s].rotation, (float(rotation),), angle_tolerance)]
        if not matches:
            raise SpecError(f"--warm-start: piece {piece_id} copy {copy}: rotation {rotation:g} "
                            f"(mirrored {bool(mirrored)}) is not allowed here")
        shape_of[item] = matches[0]
        position[item] = (float(x) * prep.scale, float(y) * prep.scale)
    missing = [f"{prep.pieces[prep.item_piece[i]].id} copy {prep.item_copy[i]}" for i in np.flatnonzero(shape_of < 0)]
    if missing:
        raise SpecError(f"--warm-start: the earlier marker lacks {len(missing)} copies, e.g. {missing[0]}")
    return Layout(shape_of, position)
