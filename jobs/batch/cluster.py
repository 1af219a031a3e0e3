"""Jobs on a Dask distributed cluster: the ``cluster`` extra, imported only when asked for.

Jobs carry absolute paths, so every worker must see the inputs and the output folder at the
same paths (one machine, or a shared filesystem). Each worker compiles the numba kernels once,
through a worker plugin; a job runs in one worker thread, so workers with one thread each use
every core without oversubscribing it.
"""

from __future__ import annotations

import contextlib
import traceback
import uuid
from collections.abc import Iterable, Iterator

from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin, as_completed

from jobs.batch.jobs import BatchError, BatchJob
from jobs.batch.result import ERROR, FAILED, WORKER_DIED, JobResult
from jobs.batch.worker import init_worker, run_job

CONNECT_TIMEOUT_S = 30


class KernelWarmup(WorkerPlugin):
    """Compiles the kernels when a worker starts (and when a dead one is restarted)."""

    name = "nesting-kernel-warmup"

    def setup(self, worker):
        init_worker()


@contextlib.contextmanager
def connect(scheduler: str, workers: int) -> Iterator[Client]:
    """A client of the scheduler at ``scheduler``, or of an embedded LocalCluster for ``"local"``."""
    if scheduler == "local":
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, ValueError) as exc:
        raise BatchError(f"--scheduler: cannot reach a Dask scheduler at {scheduler}: {exc}") from None
    with client:
        yield client


def run_dask(jobs: Iterable[BatchJob], client: Client) -> Iterator[JobResult]:
    """Submit every job to the cluster; yield each result as it completes."""
    client.register_plugin(KernelWarmup())
    batch = uuid.uuid4().hex[:8]
    futures = {client.submit(run_job, job, key=f"nest-{job.name}-{batch}", pure=False): job for job in jobs}
    for future in as_completed(futures):
        job = futures[future]
        try:
            yield future.result()
        except KilledWorker:  # the job killed its worker on every allowed attempt
            yield JobResult(job.name, FAILED, reason=WORKER_DIED)
        except Exception as exc:  # noqa: BLE001 - the job could not be sent or its result not returned
            yield JobResult(job.name, ERROR, reason=f"{type(exc).__name__}: {exc}", detail=traceback.format_exc())
