"""Nestings as in-memory tasks: pieces, fabric and options travel with the task, the marker comes back.

A batch job (`jobs.batch.jobs`) reads its pattern file and writes its folder on the worker, so
a cluster needs a shared filesystem. A `NestTask` needs none: the client sends the prepared pieces
and the configuration, the worker nests and returns the verified `Marker`, and the client checks it
again and writes it. The same tasks run on a local process pool or a Dask cluster (`TaskRunner`).
"""

from __future__ import annotations

import signal
import traceback
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from jobs.batch import _import_cluster
from jobs.batch.local import _context, default_workers
from jobs.batch.result import WORKER_DIED
from jobs.batch.worker import USER_ERRORS, _one_line, init_worker
from nesting.config import NestConfig
from nesting.engine import nest
from nesting.errors import VerificationError
from nesting.model import Fabric, Marker
from nesting.search.base import Stop
from nesting.search.portfolio import end_now


@dataclass(frozen=True, slots=True)
class NestTask:
    """One marker to nest: everything the engine needs, no file names.

    ``warm_start`` is the placements of an earlier marker of the same pieces (see `nesting.engine.nest`).
    """

    name: str
    pieces: tuple
    fabric: Fabric
    config: NestConfig
    warm_start: tuple | None = None
    input_name: str = ""
    units: str = "mm"


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """A task's marker, or the one-line reason it has none (``internal``: a bug, with ``detail``)."""

    name: str
    marker: Marker | None
    reason: str = ""
    internal: bool = False
    detail: str = ""


def run_task(task: NestTask) -> TaskOutcome:
    """Nest one task in this process. A stop signal ends the search early with its best marker."""
    config = task.config
    stop = Stop(time_limit=config.time_limit, iterations=config.iterations)
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(signum, lambda *_: stop.request())
        except ValueError:  # not the main thread (a Dask worker thread): the client stops waiting instead
            break
    try:
        marker = nest(task.pieces, task.fabric, config, stop=stop, input_name=task.input_name, units=task.units,
                      warm_start=task.warm_start)
    except VerificationError as exc:
        return TaskOutcome(task.name, None, _one_line(exc), internal=True, detail=traceback.format_exc())
    except USER_ERRORS as exc:
        return TaskOutcome(task.name, None, _one_line(exc))
    except Exception as exc:  # noqa: BLE001 - reported to the client, which decides
        return TaskOutcome(task.name, None, _one_line(exc), internal=True, detail=traceback.format_exc())
    return TaskOutcome(task.name, marker)


class TaskRunner:
    """Runs tasks on a local process pool (default) or a Dask scheduler (``tcp://HOST:PORT`` or ``local``).

    The pool or client lives as long as the runner, so successive waves of tasks reuse warm workers.
    Use as a context manager.
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        self.workers = workers or default_workers()
        self.scheduler = scheduler
        self._pool = self._client = self._connection = None

    def __enter__(self) -> TaskRunner:
        if self.scheduler is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=_context(), initializer=init_worker)
        else:
            cluster = _import_cluster()
            self._connection = cluster.connect(self.scheduler, self.workers)
            self._client = self._connection.__enter__()
            self._client.register_plugin(cluster.KernelWarmup())
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            end_now(self._pool)
        if self._connection is not None:
            self._connection.__exit__(*exc_info)

    def run(self, tasks: Iterable[NestTask], stop=None) -> Iterator[TaskOutcome]:
        """Yield each task's outcome as it completes; once ``stop.requested``, tasks not started are dropped."""
        tasks = list(tasks)
        if self._client is not None:
            yield from self._run_dask(tasks, stop)
            return
        waiting, running = deque(tasks), {}
        while waiting or running:
            if stop is not None and stop.requested:
                waiting.clear()
            while waiting and len(running) < self.workers:  # one task a worker: nothing to cancel at a stop
                task = waiting.popleft()
                running[self._pool.submit(run_task, task)] = task
            done, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                task = running.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    yield TaskOutcome(task.name, None, WORKER_DIED)
                    waiting.extendleft(reversed(running.values()))  # the others in flight run again
                    running.clear()
                    end_now(self._pool)
                    self._pool = ProcessPoolExecutor(self.workers, mp_context=_context(), initializer=init_worker)
                    break

    def _run_dask(self, tasks, stop) -> Iterator[TaskOutcome]:
        from distributed import KilledWorker, as_completed  # deferred: Dask is an optional dependency

        wave = uuid.uuid4().hex[:8]
        futures = {self._client.submit(run_task, task, key=f"nest-{task.name}-{wave}", pure=False): task
                   for task in tasks}
        pending = as_completed(futures)
        for future in pending:
            task = futures[future]
            try:
                yield future.result()
            except KilledWorker:
                yield TaskOutcome(task.name, None, WORKER_DIED)
            except Exception as exc:  # noqa: BLE001 - could not be sent or returned
                yield TaskOutcome(task.name, None, f"{type(exc).__name__}: {exc}", internal=True,
                                  detail=traceback.format_exc())
            if stop is not None and stop.requested:
                for other in futures:
                    other.cancel()
                break
