"""Several independent searches in parallel, one process per core, the best one kept.

Seed-to-seed spread of this kind of search is about a point at short budgets, so on two
cores a portfolio of two differently seeded runs buys more than splitting one run's moves
(sparrow's run logs: best-of-two is worth +0.2 to +0.5 points).

Workers come from a fork server whose process imported the engine and compiled its kernels
once (`nesting.search.worker`): forking the caller itself is unsafe when it runs threads
(a batch under Dask, a GUI), and spawning afresh would cost seconds of imports per run.
Workers report improvements through a queue; the caller's listener hears the global best
only (`BestRelay`): each worker's own best may be worse than another's earlier one.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import queue as queue_module
import signal

from nesting.search import worker
from nesting.search.base import Listener


def _context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["nesting.search.worker"])
    return context


def start_workers() -> None:
    """Start the fork server and wait until it has loaded and compiled the engine.

    Called before the search clock starts: like compilation, it is not search time.
    """
    process = _context().Process(target=worker.ready)
    process.start()
    process.join()


def run_portfolio(strategy, problem, stop, listener, rng):
    """Run ``strategy`` in ``config.workers`` processes with child seeds; the shortest layout wins.

    Deterministic with an iteration budget: each worker is, and ties go to the lower worker.
    A stop request (Ctrl-C reaches the workers too) makes every worker return its best.
    """
    workers = problem.config.workers
    single = dataclasses.replace(problem, config=dataclasses.replace(problem.config, workers=1))
    seeds = [int(s) for s in rng.integers(2**63, size=workers)]
    context = _context()
    progress = context.SimpleQueue()
    budget = None if stop.iterations is None else stop.iterations - stop.used_iterations
    clock = (stop.started, stop.time_limit, budget)  # one deadline for all: the clock is system-wide
    pool = context.Pool(workers, initializer=worker.initialize, initargs=(progress, clock))
    relay = BestRelay(listener)
    try:
        pending = pool.map_async(worker.run, [(strategy, single, seed) for seed in seeds])
        relayed = False
        while not pending.ready():
            pending.wait(0.1)
            _drain(progress, relay)
            if stop.requested and not relayed:  # e.g. SIGTERM sent to this process alone
                for process in pool._pool:  # the pool's own worker handles
                    os.kill(process.pid, signal.SIGINT)
                relayed = True
        results = pending.get()
        _drain(progress, relay)
        pool.close()
        pool.join()
    finally:
        pool.terminate()
    best = min(range(workers), key=lambda w: (problem.length_of(results[w][0]), w))
    stop.tick(sum(used for _, used, _ in results))
    if any(interrupted for _, _, interrupted in results):
        stop.request()
    return results[best][0]


class BestRelay(Listener):
    """Passes on an improvement only when it beats every worker's best so far (ties dropped),
    so the progress lines of a portfolio never show a longer marker than an earlier line."""

    def __init__(self, listener: Listener):
        self.listener = listener
        self.best = float("inf")

    def improved(self, elapsed, length, utilization, phase):
        self.improved_layout(elapsed, length, utilization, phase, None)

    def improved_layout(self, elapsed, length, utilization, phase, layout):
        if length < self.best:
            self.best = length
            self.listener.improved_layout(elapsed, length, utilization, phase, layout)

    def message(self, text):
        self.listener.message(text)


def _drain(progress, listener):
    try:
        while not progress.empty():
            kind, payload = progress.get()
            getattr(listener, kind)(*payload)
    except (OSError, EOFError, queue_module.Empty):
        pass


