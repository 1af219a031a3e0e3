"""What a job's worker process runs: nest (or compact an edited marker), verify, write, report.

One engine call with the job's budget (a wall budget, as ``nest marker --time``: the search
leaves the time that writing the files takes). Its listener hears every improvement with the
improved layout itself (`Listener.improved_layout`, relayed best-only by `BestRelay`): the page
gets each improvement's length and utilization for its curve, and the improving marker to draw,
a few frames a second. Those frames are unverified intermediates, flagged so; the marker the
call returns is verified by the engine, verified again here, written like ``nest marker --out``
and sent last. A stop (SIGINT from the server) ends the call with its best marker.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import threading
import time
import traceback
from dataclasses import dataclass, replace

import numpy as np

from jobs.marker import search_budget, write_all
from nesting.config import NestConfig
from nesting.engine import layout_from_placements, nest, to_marker
from nesting.errors import NestingError, VerificationError
from nesting.geometry import prepare
from nesting.kernels import warmup
from nesting.model import Marker, MarkerRules
from nesting.nfp import NFPCache
from nesting.search import get_strategy
from nesting.search.base import Layout, Listener, Problem, Stop
from nesting.verify import verify, violations
from patterns.errors import PatternError
from workbench.edit import view

PROGRESS_INTERVAL = 0.2  # seconds between two points of the utilization curve of one phase
FRAME_INTERVAL = 0.25  # seconds between two drawings of the improving marker: four a second at most


@dataclass(frozen=True)
class Search:
    """Everything a worker needs, as plain picklable data (read and checked by the server).

    ``start`` is an edited marker to compact from (its pieces collide when ``start_valid`` is
    false); without it the pieces are nested from scratch.
    """

    pieces: tuple
    rules: MarkerRules  # fabric, spacing, size ratio and each piece's rules, as marker.json states them
    units: str
    input_name: str
    out: str
    formats: tuple[str, ...]
    time: float
    workers: int = 1
    seed: int = 0
    target: float = 0.92
    start: Marker | None = None
    start_valid: bool = True
    left_out: str = ""


class _Live(Listener):
    """Sends improvements to the server on the job's clock: curve points, and the improving marker.

    A frame the throttle holds back waits in ``pending``; the next improvement or, in a quiet
    spell, a timer thread sends it once its turn comes, so the drawing is never more than a
    frame interval behind. Frames only ever get shorter: a layout shorter on the grid whose
    true outlines are not (by rounding) is not drawn.
    """

    def __init__(self, events, started: float, problem: Problem, input_name: str, units: str):
        self.events, self.started, self.problem = events, started, problem
        self.input_name, self.units = input_name, units
        self.last_progress = (-math.inf, "")
        self.last_frame, self.drawn_length, self.pending = -math.inf, math.inf, None
        self.lock = threading.Lock()
        self.closed = threading.Event()
        threading.Thread(target=self._flush, daemon=True, name="frames").start()

    def now(self) -> float:
        return time.perf_counter() - self.started

    def improved_layout(self, elapsed, length, utilization, phase, layout):
        now = self.now()
        if now - self.last_progress[0] >= PROGRESS_INTERVAL or phase != self.last_progress[1]:
            self.last_progress = (now, phase)
            self.events.put(("progress", {"t": now, "length": length, "utilization": utilization, "phase": phase},
                             None))
        if layout is not None:
            with self.lock:
                self.pending = (now, layout)
            self._draw()

    def message(self, text):
        self.events.put(("message", {"text": text}, None))

    def close(self) -> None:
        """No more frames (the verified marker follows)."""
        self.closed.set()

    def _flush(self) -> None:
        while not self.closed.wait(FRAME_INTERVAL / 2):
            self._draw()

    def _draw(self) -> None:
        with self.lock:
            if self.pending is None or self.closed.is_set() or self.now() - self.last_frame < FRAME_INTERVAL:
                return
            t, layout = self.pending
            self.pending, self.last_frame = None, self.now()
            marker = to_marker(self.problem, layout, self.input_name, self.units, t)
            if marker.length < self.drawn_length:
                self.drawn_length = marker.length
                self.events.put(("marker", {"t": t, "verified": False, "marker": view(marker)}, None))


def run(search: Search, events) -> None:
    """The worker's entry point for a marker: nest, verify, write; the marker drawn last is the verified one."""

    def job(stop: Stop):
        stop.time_limit = search_budget(search.time, search.pieces, search.formats)  # as nest marker's --time
        marker = _search(search, events, stop)
        written = write_all(marker, search.out, search.formats)
        events.put(("marker", {"t": marker.elapsed_s, "verified": True, "marker": view(marker)}, None))
        return {"files": [p.name for p in written], "interrupted": stop.requested}, marker

    work(events, job)


def work(events, job) -> None:
    """What a worker process does around its ``job(stop) -> (payload, result)``: a stop on SIGINT
    and SIGTERM (from the server), and every outcome one event, the last being done or failed."""
    # The server starts this process daemonic (it ends with the server), and multiprocessing
    # refuses children to a daemonic process: a portfolio or a plan's nestings need them.
    multiprocessing.current_process().daemon = False
    stop = Stop()
    signal.signal(signal.SIGINT, lambda signum, frame: stop.request())
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.request())
    events.put(("message", {"text": "searching"}, None))  # the first event: from now on a stop is heard
    try:
        payload, result = job(stop)
        events.put(("done", payload, result))
    except VerificationError as exc:
        events.put(("failed", {"error": f"internal error: the final check refused the result (a bug): {exc}",
                               "detail": traceback.format_exc()}, None))
    except (PatternError, NestingError, OSError) as exc:
        events.put(("failed", {"error": str(exc)}, None))
    except Exception as exc:  # a bug: report it with its traceback rather than die silently
        events.put(("failed", {"error": f"internal error: {exc!r}", "detail": traceback.format_exc()}, None))


def _search(search: Search, events, stop: Stop) -> Marker:
    # Deferred: the portfolio's module loads its worker's, which compiles the kernels at import
    # (this process compiles them anyway; the server importing this module never needs them).
    from nesting.search.portfolio import BestRelay

    rules = search.rules
    started = time.perf_counter()
    config = NestConfig(seed=search.seed, time_limit=search.time, target_utilization=search.target,
                        workers=search.workers, spacing=rules.spacing,
                        strategy="auto" if search.start is None else "compact")
    # the engine's own preparation of the pieces (milliseconds), to turn its layouts into markers
    prep = prepare(search.pieces, rules.fabric, config)
    live = _Live(events, started, Problem(prep, None, config), search.input_name, search.units)
    try:
        if search.start is not None and not search.start_valid:
            best = separate(search.start, prep, config, stop, BestRelay(live))
        else:
            best = nest(search.pieces, rules.fabric, config, stop=stop, listener=BestRelay(live),
                        input_name=search.input_name, units=search.units, rules=rules,
                        warm_start=placements_of(search.start) if search.start is not None else None)
    finally:
        live.close()
    if best is None:
        when = "when stopped" if stop.requested else f"after {search.time:g} s of compaction"
        raise NestingError(f"the pieces still collide {when}; the edit is unchanged "
                           "(move the pieces apart, or compact for longer)")
    best = replace(best, elapsed_s=time.perf_counter() - started)
    best.stats.update(interrupted=stop.requested, elapsed_total_s=best.elapsed_s)
    if search.left_out:
        best.stats["left_out"] = search.left_out
    return verify(best)  # again: the gate before the marker is written or offered


def placements_of(marker: Marker) -> list[tuple]:
    """A marker's placements as the engine's warm start takes them."""
    return [(marker.pieces[p.piece].id, p.copy, p.rotation, p.mirrored, p.x, p.y) for p in marker.placements]


def separate(edited: Marker, prep, config: NestConfig, stop: Stop, listener: Listener) -> Marker | None:
    """Compaction from an edited marker whose pieces collide; None if they still collide at the end.

    The engine's warm start expects a verified marker (it keeps the start when the search
    finds nothing shorter), so this drives the same pieces directly: the NFPs, the compaction
    strategy from the edited layout (it separates the pieces first), and the engine's own check.
    """
    warmup()
    cache = NFPCache([(s.ring, s.holes) for s in prep.shapes] + [(z, ()) for z in prep.zones])
    problem = Problem(prep, cache, config)
    start: Layout = layout_from_placements(prep, placements_of(edited))
    stop.started = time.perf_counter()
    layout = get_strategy("compact")(problem, stop, listener, np.random.default_rng(config.seed), start=start)
    marker = replace(to_marker(problem, layout, edited.input, edited.units, stop.elapsed()), rules=edited.rules)
    return None if violations(marker, config.tolerances) else marker
