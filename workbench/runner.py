"""What a job's worker process runs: nest (or compact an edited marker), verify, write, report.

The page draws the best marker as it improves, but the engine's listener hears lengths, not
markers. So a job is a sequence of engine calls of doubling budgets (1 s, 2 s, 4 s, ...), each
warm-started from the previous call's verified marker, which the engine never lengthens;
between two calls the page receives the marker itself, and every improvement's length and
utilization in between. A stop (SIGINT from the server) ends the current call with its best
marker and skips the rest; that marker is verified and written like ``nest marker --out``.
"""

from __future__ import annotations

import signal
import time
import traceback
from dataclasses import dataclass, replace

import numpy as np

from jobs.marker import write_all
from nesting.config import NestConfig
from nesting.engine import layout_from_placements, nest, to_marker
from nesting.errors import NestingError, VerificationError
from nesting.geometry import prepare
from nesting.kernels import warmup
from nesting.model import Marker, MarkerRules
from nesting.nfp import NFPCache
from nesting.search import get_strategy
from nesting.search.base import Listener, Problem, Stop
from nesting.verify import verify, violations
from patterns.errors import PatternError
from workbench.edit import view

FIRST_BUDGET = 1.0  # seconds of the first engine call; each next one doubles
PROGRESS_INTERVAL = 0.2  # seconds between two progress events of one phase


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


def budgets(total: float, first: float = FIRST_BUDGET) -> list[float]:
    """The engine calls' budgets: doubling from ``first``, summing to ``total``, none under half a second
    (a remainder that short joins the last call)."""
    if total <= 0:
        return [0.0]
    result, size = [], first
    while sum(result) < total - 1e-9:
        left = total - sum(result)
        result.append(left if left - size < 0.5 else size)
        size *= 2
    return result


class _Stopper:
    """Holds the current engine call's `Stop`; a signal requests it and every later call is skipped."""

    def __init__(self):
        self.current = Stop()
        self.requested = False

    def handle(self, signum, frame):
        self.requested = True
        self.current.request()


class _Progress(Listener):
    """Sends improvements to the server, on the job's clock, a few a second at most."""

    def __init__(self, events, started):
        self.events, self.started, self.last = events, started, (-1.0, "")

    def improved(self, elapsed, length, utilization, phase):
        now = time.perf_counter() - self.started
        if now - self.last[0] >= PROGRESS_INTERVAL or phase != self.last[1]:
            self.last = (now, phase)
            self.events.put(("progress", {"t": now, "length": length, "utilization": utilization, "phase": phase}, None))

    def message(self, text):
        self.events.put(("message", {"text": text}, None))


def run(search: Search, events) -> None:
    """The worker's entry point: every outcome is one event on ``events``, the last being done or failed."""
    stopper = _Stopper()
    signal.signal(signal.SIGINT, stopper.handle)
    signal.signal(signal.SIGTERM, stopper.handle)
    events.put(("message", {"text": "searching"}, None))  # the first event: from now on a stop is heard
    try:
        marker = _search(search, events, stopper)
        written = write_all(marker, search.out, search.formats)
        events.put(("done", {"files": [p.name for p in written], "interrupted": stopper.requested}, marker))
    except VerificationError as exc:
        events.put(("failed", {"error": f"internal error: the final check refused the marker (a bug): {exc}",
                               "detail": traceback.format_exc()}, None))
    except (PatternError, NestingError, OSError) as exc:
        events.put(("failed", {"error": str(exc)}, None))
    except Exception as exc:  # a bug: report it with its traceback rather than die silently
        events.put(("failed", {"error": f"internal error: {exc!r}", "detail": traceback.format_exc()}, None))


def _search(search: Search, events, stopper: _Stopper) -> Marker:
    rules = search.rules
    started = time.perf_counter()
    listener = _Progress(events, started)
    best = search.start if search.start_valid else None
    for k, budget in enumerate(budgets(search.time)):
        if best is not None and (stopper.requested or best.meets_target):
            break  # (without a marker yet, even a stopped call completes the first one)
        config = NestConfig(seed=search.seed + k, time_limit=budget, target_utilization=search.target,
                            workers=search.workers, spacing=rules.spacing,
                            strategy="auto" if best is None else "compact")
        stopper.current = Stop(time_limit=budget, requested=stopper.requested)
        if best is None and search.start is not None:
            found = separate(search.start, config, stopper.current, listener)
        else:
            found = nest(search.pieces, rules.fabric, config, stop=stopper.current, listener=listener,
                         input_name=search.input_name, units=search.units, rules=rules,
                         warm_start=placements_of(best) if best is not None else None)
        if found is None:
            continue
        best = replace(found, elapsed_s=time.perf_counter() - started)  # verified by the engine
        events.put(("marker", {"t": best.elapsed_s, "marker": view(best)}, None))
    if best is None:
        when = "when stopped" if stopper.requested else f"after {search.time:g} s of compaction"
        raise NestingError(f"the pieces still collide {when}; the edit is unchanged "
                           "(move the pieces apart, or compact for longer)")
    best.stats.update(interrupted=stopper.requested, elapsed_total_s=time.perf_counter() - started)
    if search.left_out:
        best.stats["left_out"] = search.left_out
    return verify(best)  # again: an edit kept as it was has been checked only by the server


def placements_of(marker: Marker) -> list[tuple]:
    """A marker's placements as the engine's warm start takes them."""
    return [(marker.pieces[p.piece].id, p.copy, p.rotation, p.mirrored, p.x, p.y) for p in marker.placements]


def separate(edited: Marker, config: NestConfig, stop: Stop, listener: Listener) -> Marker | None:
    """Compaction from an edited marker whose pieces collide; None if the budget ends first.

    The engine's warm start expects a verified marker (it keeps the start when the search
    finds nothing shorter), so this drives the same pieces directly: prepare, NFPs, the
    compaction strategy from the edited layout, and the engine's own check of the result.
    """
    warmup()
    prep = prepare(edited.pieces, edited.fabric, config)
    cache = NFPCache([(s.ring, s.holes) for s in prep.shapes] + [(z, ()) for z in prep.zones])
    problem = Problem(prep, cache, config)
    start = layout_from_placements(prep, placements_of(edited))
    stop.started = time.perf_counter()
    layout = get_strategy("compact")(problem, stop, listener, np.random.default_rng(config.seed), start=start)
    marker = replace(to_marker(problem, layout, edited.input, edited.units, stop.elapsed()), rules=edited.rules)
    return None if violations(marker, config.tolerances) else marker

