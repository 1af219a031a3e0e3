"""The inside of a portfolio worker process.

Imported by the fork server before it forks any worker: the engine's modules are loaded and
its numba kernels compiled (from numba's cache) once, so each worker starts in milliseconds.
"""

from __future__ import annotations

import signal

import numpy as np

from nesting.kernels import warmup
from nesting.search.base import Listener, Stop

warmup()

_PROGRESS = None
_STOP = None


class _QueueListener(Listener):
    """Forwards progress to the parent process, in order."""

    def improved(self, elapsed, length, utilization, phase):
        _PROGRESS.put(("improved", (elapsed, length, utilization, phase)))

    def improved_layout(self, elapsed, length, utilization, phase, layout):
        _PROGRESS.put(("improved_layout", (elapsed, length, utilization, phase, layout)))

    def message(self, text):
        _PROGRESS.put(("message", (text,)))


def initialize(progress):
    """Pool initializer: the progress queue, and Ctrl-C (which reaches the whole process group,
    or is relayed by the caller) stopping the search gracefully. SIGTERM keeps its default: it
    is how the pool ends its workers."""
    global _PROGRESS
    _PROGRESS = progress
    signal.signal(signal.SIGINT, _request_stop)


def ignore_interrupts():
    """Pool initializer of helpers that only compute (the NFPs): Ctrl-C is the caller's to
    handle, which cancels their work; it must not end them with a traceback of their own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def ready():
    """Nothing: a first child proves the server has imported and compiled the engine."""


def _request_stop(signum, frame):
    if _STOP is not None:
        _STOP.request()


def run(task):
    """One seeded search, ``(strategy, problem, seed, clock)``, against the caller's deadline:
    ``clock`` is ``(started, time_limit, iterations)`` in the caller's terms."""
    global _STOP
    strategy, problem, seed, (started, time_limit, iterations) = task
    _STOP = Stop(time_limit=time_limit, iterations=iterations, started=started)
    layout = strategy(problem, _STOP, _QueueListener(), np.random.default_rng(seed))
    return layout, _STOP.used_iterations, _STOP.requested
