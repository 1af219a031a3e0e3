"""Several independent searches in parallel, one process per core, the best one kept
(``NestConfig.parallel = "portfolio"``); the process pool that also builds the NFPs.

Seed-to-seed spread is about a point at short budgets, so the best of two seeds is worth a
few tenths of a point. On the garment instances that measured level with one search shared
by two threads (the default, `nesting.search.compaction`); on markers of long curves the
shared search was ahead, as each worker here needs its own copy of the NFP table.

Workers come from a fork server whose process imported the engine and compiled its kernels
once (`nesting.search.worker`): forking the caller itself is unsafe when it runs threads
(a batch under Dask, a GUI), and spawning afresh would cost seconds of imports per run.
Workers report improvements through a queue; the caller's listener hears the global best
only (`BestRelay`): each worker's own best may be worse than another's earlier one.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import multiprocessing
import os
import queue as queue_module
import signal
from concurrent.futures.process import BrokenProcessPool

from nesting.errors import NestingError
from nesting.search import compaction, worker
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


@contextlib.contextmanager
def process_pool(workers: int, initializer=worker.ignore_interrupts, initargs=()):
    """``workers`` processes from the fork server. An executor, not a multiprocessing.Pool: a
    pool silently replaces a worker that dies (killed, out of memory) and then waits for its
    task forever; an executor raises. Leaving with work unfinished ends it (`end_now`)."""
    pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=_context(), initializer=initializer,
                                                  initargs=initargs)
    try:
        yield pool
    except BrokenProcessPool:
        raise NestingError("a search worker process ended abnormally (killed, or out of memory): "
                           "no marker; run again, or with fewer --workers") from None
    finally:
        end_now(pool)


def end_now(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Shut the executor down; with tasks unfinished, or a process dead, kill its processes first.

    Killed, not terminated: a worker may take SIGTERM as a stop request and finish its task,
    then block writing a large result that the executor's thread no longer reads. That thread
    fails the unfinished tasks and closes the pipe the waiting ones are in (a task too large
    for it would otherwise block the interpreter's exit), so nobody may cancel a task of the
    pool: the thread cannot fail a cancelled one and dies before closing that pipe.
    """
    if pool._pending_work_items or pool._broken:  # the executor's own records, as are its worker handles
        for process in list((pool._processes or {}).values()):
            process.kill()
    pool.shutdown(wait=True)  # with every task done, the processes exit on their own


def run_portfolio(strategy, problem, stop, listener, rng):
    """Run ``strategy`` in ``config.workers`` processes with child seeds; the shortest layout wins.

    With ``config.rounds`` > 1 the budget is cut into rounds: after each, every worker starts
    the next from the shortest layout found so far (compaction, a fresh seed each): one search
    on all cores that keeps the best, rather than independent runs that never meet.

    An iteration budget is each worker's (they run side by side), and deterministic: each
    worker is, and ties go to the lower worker.
    A stop request (Ctrl-C reaches the workers too) makes every worker return its best.
    """
    workers, rounds = problem.config.workers, max(1, problem.config.rounds)
    single = dataclasses.replace(problem, config=dataclasses.replace(problem.config, workers=1))
    seeds = rng.integers(2**63, size=(rounds, workers))
    progress = _context().SimpleQueue()
    relay = BestRelay(listener)
    best = None
    with process_pool(workers, worker.initialize, (progress,)) as pool:
        for r in range(rounds):
            share = stop.share(1.0 / (rounds - r))
            budget = None if share.iterations is None else share.iterations - share.used_iterations
            clock = (stop.started, share.time_limit, budget)  # one deadline for all: the clock is system-wide
            task = strategy if best is None else functools.partial(compaction.run, start=best)
            results = _round(pool, [(task, single, int(seed), clock) for seed in seeds[r]], stop, progress, relay)
            stop.tick(max(used for _, used, _ in results))  # the workers' iterations run side by side
            layouts = [layout for layout, _, _ in results] + ([] if best is None else [best])
            best = min(layouts, key=problem.length_of)  # min keeps the first of equals: the lower worker
            if any(interrupted for _, _, interrupted in results):
                stop.request()
            if stop.done():
                break
    return best


def _round(pool, tasks, stop, progress, relay):
    """One round of the workers, relaying their progress and a stop request."""
    pending = [pool.submit(worker.run, task) for task in tasks]
    relayed = False
    while not all(future.done() for future in pending):
        concurrent.futures.wait(pending, timeout=0.1, return_when=concurrent.futures.FIRST_EXCEPTION)
        _drain(progress, relay)
        if stop.requested and not relayed:  # e.g. SIGTERM sent to this process alone
            for process in list((pool._processes or {}).values()):
                os.kill(process.pid, signal.SIGINT)
            relayed = True
        if any(future.done() and future.exception() for future in pending):
            break
    results = [future.result() for future in pending]  # raises the first worker's failure
    _drain(progress, relay)
    return results


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


