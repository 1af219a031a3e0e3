"""Jobs on a local process pool: the default, using every core.

A worker that dies (killed, out of memory, a crash in native code) breaks a
`ProcessPoolExecutor` and every job in flight with it. So at most ``workers`` jobs are in
flight at a time; a job alone in flight at a break is the one that killed its worker and is
reported failed, and when several were in flight each runs again alone in a fresh pool to find
it. The other jobs finish normally and the batch goes on.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from jobs.batch.jobs import BatchJob
from jobs.batch.result import ERROR, FAILED, WORKER_DIED, JobResult
from jobs.batch.worker import init_worker, run_job
from jobs.limits import cores
from nesting.search.portfolio import end_now


def default_workers() -> int:
    """The cores this process may use."""
    return cores()


def run_pool(jobs: Iterable[BatchJob], workers: int, task: Callable = run_job) -> Iterator[JobResult]:
    """Run ``task`` on each job in ``workers`` processes; yield each result as it completes."""
    queue, suspects = deque(jobs), deque()
    while queue or suspects:
        in_flight = yield from _run_until_broken(queue, suspects, workers, task)
        if len(in_flight) == 1:
            yield JobResult(in_flight[0].name, FAILED, reason=WORKER_DIED)
        else:
            suspects.extend(in_flight)


def _run_until_broken(queue: deque, suspects: deque, workers: int, task: Callable) -> Iterator[JobResult]:
    """Yield results until both deques are empty or the pool breaks; return the jobs in flight at a break.

    Suspects run first, one at a time; then the queue, ``workers`` at a time.
    """
    pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=init_worker, initargs=(os.getpid(),))
    running, alone = {}, None
    try:
        while queue or suspects or running:
            if suspects and not running:
                job = suspects.popleft()
                alone = pool.submit(task, job)
                running[alone] = job
            while alone is None and not suspects and queue and len(running) < workers:
                job = queue.popleft()
                running[pool.submit(task, job)] = job
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = []
            for future in done:
                job = running.pop(future)
                alone = None if future is alone else alone
                try:
                    yield future.result()
                except BrokenProcessPool:
                    broken.append(job)
                except Exception as exc:  # noqa: BLE001 - the job could not be sent or its result not returned
                    yield JobResult(job.name, ERROR, reason=f"{type(exc).__name__}: {exc}", detail=traceback.format_exc())
            if broken:
                return [*broken, *running.values()]
        return []
    finally:  # done, broken or stopped (Ctrl-C, SIGTERM): jobs in flight end now, their folders as they were
        end_now(pool)


def _context():
    """Workers forked from a clean server process that has imported the engine once.

    Not plain fork: the calling process may run threads (a Dask client, a GUI); not spawn:
    every worker, and every pool started after a crash, would import the engine again.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["jobs.batch.worker"])
    return context
