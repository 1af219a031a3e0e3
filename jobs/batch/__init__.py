"""Batches of markers: a jobs file in, one verified marker folder per job and a summary out.

The parallelism is across jobs: a local process pool by default, or a Dask distributed cluster
when asked (the ``cluster`` extra, imported only then). Every job is `jobs.marker.run`, exactly
what ``nest marker`` does, in one process. A re-run skips jobs whose verified marker is already
written with the same options.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

from jobs.batch.jobs import BatchError, BatchJob, load_jobs
from jobs.batch.local import default_workers, run_pool
from jobs.batch.result import ERROR, FAILED, NOT_RUN, OK, SKIPPED, JobResult
from jobs.batch.summary import summary_table, write_summary
from jobs.batch.worker import finished
from jobs.limits import parse_limits

__all__ = [
    "BatchError", "BatchInterrupted", "BatchJob", "JobResult", "load_jobs", "run_batch", "summary_table",
    "OK", "SKIPPED", "FAILED", "ERROR",
]


class BatchInterrupted(Exception):
    """The batch was stopped (Ctrl-C, SIGTERM); the message says which job folders it wrote."""


def run_batch(
    jobs: Sequence[BatchJob],
    out_dir,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    on_result: Callable[[JobResult], None] | None = None,
    about: dict | None = None,
    limits=(),
) -> tuple[JobResult, ...]:
    """Run every job not already finished; write ``summary.json``/``summary.csv`` in ``out_dir``.

    Parameters
    ----------
    jobs : from `load_jobs`; each writes into its own folder under ``out_dir``.
    workers : local processes (default: every core), or LocalCluster workers with ``scheduler="local"``.
    scheduler : None for the local pool, ``"local"`` for an embedded Dask LocalCluster, or the
        address of a Dask scheduler (``tcp://HOST:PORT``).
    force : run finished jobs again.
    on_result : called with each job's result as it arrives (skipped jobs first).
    about : extra fields for ``summary.json`` (e.g. the jobs file).
    limits : ``NAME=N`` items raising `jobs.limits.Limits` (``workers``: local processes).

    Returns
    -------
    The results in the jobs' order. Failures are results, not exceptions.

    Raises
    ------
    BatchError : bad ``workers``/``scheduler``, or Dask asked for but not installed.
    BatchInterrupted : Ctrl-C or SIGTERM (KeyboardInterrupt); ``summary.json`` lists what was
        done, and the jobs in flight keep their folders as they were.
    """
    if workers is not None and workers < 1:
        raise BatchError(f"--workers must be >= 1, got {workers}")
    if workers is not None:
        parse_limits(limits).check("workers", workers, "--workers")
    if workers is not None and scheduler not in (None, "local"):
        raise BatchError("--workers applies to the local pool and --scheduler local; a Dask cluster has its own workers")
    results = {}

    def report(result: JobResult) -> None:
        results[result.name] = result
        if on_result is not None:
            on_result(result)

    pending = []
    for job in jobs:
        done = None if force else finished(job)
        if done is None:
            pending.append(job)
        else:
            report(done)
    count = min(workers or default_workers(), max(len(pending), 1))
    local = scheduler in (None, "local")
    about = {**(about or {}), "scheduler": scheduler or "pool", "workers": count if local else None}
    cluster = _import_cluster() if pending and scheduler is not None else None
    try:
        if pending and scheduler is None:
            for result in run_pool(pending, count):
                report(result)
        elif pending:
            with cluster.connect(scheduler, count) as client:
                for result in cluster.run_dask(pending, client):
                    report(result)
    except KeyboardInterrupt:
        ran = [job.name for job in jobs if job.name in results and results[job.name].status == OK]
        ordered = tuple(results.get(job.name, JobResult(job.name, NOT_RUN, reason="the batch was stopped first"))
                        for job in jobs)
        summary = write_summary(ordered, out_dir, about)
        written = f"wrote the job folders {', '.join(ran)}" if ran else "wrote no job folder"
        raise BatchInterrupted(f"{written} and {summary[0]}; {len(jobs) - len(results)} jobs not run "
                               "(their folders are as they were; run the command again to resume)") from None
    ordered = tuple(results[job.name] for job in jobs)
    write_summary(ordered, out_dir, about)
    return ordered


def _import_cluster():
    """The Dask backend, or a one-line BatchError saying how to install it."""
    for name in ("dask", "distributed"):
        try:
            importlib.import_module(name)
        except ImportError:
            raise BatchError(
                f"--scheduler needs Dask distributed ({name} is not installed): pip install 'marker-nesting[cluster]'"
            ) from None
    from jobs.batch import cluster  # deferred: Dask is an optional dependency

    return cluster
