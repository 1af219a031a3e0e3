"""What every search strategy receives and returns.

A strategy is ``run(problem, stop, listener, rng) -> Layout``: the `Problem` (the prepared
pieces, their NFPs and collision core, the configuration), a stop condition and a progress
listener — after sparrow's ``Terminator`` and ``SolutionListener``: the engine never prints
and never reads the clock on its own; the CLI passes a signal-aware `Stop` and a printing
listener, tests pass an iteration budget and nothing else.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np

from nesting.collision import CollisionCore
from nesting.config import NestConfig
from nesting.errors import Abandoned
from nesting.geometry import Prepared
from nesting.nfp import NFPCache


@dataclass(frozen=True, slots=True)
class Layout:
    """A search result on the grid: each item's shape (orientation) and reference position."""

    shape_of: np.ndarray  # (k,) int64 index into Prepared.shapes
    position: np.ndarray  # (k, 2) float64 grid units


@dataclass
class Problem:
    """What strategies share: the prepared pieces, the NFPs and the configuration."""

    prep: Prepared
    cache: NFPCache
    config: NestConfig

    @functools.cached_property
    def collision(self) -> CollisionCore:
        """The overlap queries every strategy asks (built once, on first use)."""
        return CollisionCore(self.prep, self.cache, self.config.tolerances.contact_units)

    def length_of(self, layout: Layout) -> float:
        """Marker length (grid units) of a layout: the rightmost collision-free extent."""
        maxx = np.array([self.prep.shapes[s].bounds[2] for s in layout.shape_of])
        return float(np.max(layout.position[:, 0] + maxx)) if len(maxx) else 0.0

    def utilization_at(self, length_grid: float) -> float:
        area = sum(self.prep.pieces[p].area for p in self.prep.item_piece)
        return area / (self.prep.fabric.width * length_grid / self.prep.scale)


@dataclass
class Stop:
    """When to stop searching: a wall-clock deadline, an iteration budget, or a request.

    ``request()`` (called from a signal handler) asks every loop to wind down at its next check;
    the best verified marker so far is still returned. While ``urgent`` names a phase in which
    there is nothing to keep yet (reading the input, building the first marker, writing the
    files), a request raises `Abandoned` at once instead, so no phase keeps a signal waiting. ``satisfied`` (the
    target utilization is reached) ends the search like the budget, without counting as a stop.
    """

    time_limit: float | None = None
    iterations: int | None = None
    started: float = field(default_factory=time.perf_counter)
    requested: bool = False
    used_iterations: int = 0
    urgent: str = ""  # e.g. "while reading the input": a request abandons that work
    satisfied: bool = False
    abandoned: str = ""  # the urgent phase a request abandoned (`check_abandoned`)

    def request(self) -> None:
        self.requested = True
        if self.urgent:
            self.abandoned = self.urgent
            raise Abandoned(self.urgent)

    def check_abandoned(self) -> None:
        """Raise `Abandoned` again if a request abandoned the current urgent phase. Python drops
        an exception raised in a finalizer (a weakref callback, ``__del__``), and a signal handler
        may run in one: before a step that cannot be undone, check that it was not lost. (An
        earlier phase's abandonment was handled: its fallback is what this phase writes.)"""
        if self.urgent and self.abandoned == self.urgent:
            raise Abandoned(self.abandoned)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def remaining(self) -> float:
        if self.time_limit is None:
            return float("inf")
        return self.time_limit - self.elapsed()

    def tick(self, count: int = 1) -> None:
        self.used_iterations += count

    def share(self, fraction: float) -> Stop:
        """A child stop over ``fraction`` of what remains (time and iterations), sharing requests."""
        child = _ChildStop(self)
        if self.time_limit is not None:
            child.time_limit = self.elapsed() + max(self.remaining(), 0.0) * fraction
            child.started = self.started
        if self.iterations is not None:
            child.iterations = self.used_iterations + int((self.iterations - self.used_iterations) * fraction)
            child.used_iterations = self.used_iterations
        return child

    def done(self) -> bool:
        if self.requested or self.satisfied:
            return True
        if self.iterations is not None and self.used_iterations >= self.iterations:
            return True
        return self.time_limit is not None and self.elapsed() >= self.time_limit


class _ChildStop(Stop):
    def __init__(self, parent: Stop):
        super().__init__(started=parent.started)
        self._parent = parent

    def tick(self, count: int = 1) -> None:
        super().tick(count)
        self._parent.tick(count)

    def done(self) -> bool:
        return self._parent.done() or super().done()


class Listener:
    """Receives progress; the default ignores it."""

    def improved(self, elapsed: float, length: float, utilization: float, phase: str) -> None:
        """A shorter feasible marker was found."""

    def improved_layout(self, elapsed: float, length: float, utilization: float, phase: str,
                        layout: Layout | None) -> None:
        """The same, with the improved layout itself, for a live drawing (None from a strategy that
        reports lengths only). Strategies call this one; by default it is heard as `improved`."""
        self.improved(elapsed, length, utilization, phase)

    def message(self, text: str) -> None:
        """A one-line status note (phase changes, compile time)."""
