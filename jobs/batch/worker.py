"""What runs in a batch worker: one job into its folder, and the check that a folder holds it.

A job's folder is replaced as a whole (`nesting.atomic.staged_folder`): its drawings, cut files,
``job.json`` (the options and input digests) and ``marker.json`` appear together or not at all,
so a job killed midway leaves its folder as it was. A folder whose ``marker.json`` verifies and
whose ``job.json`` matches the job's fingerprint is finished. A worker dies with the batch
that started it, even one killed with SIGKILL, so no orphan keeps writing job folders.
"""

from __future__ import annotations

import json
import os
import select
import signal
import threading
import time
import traceback

from jobs.batch.jobs import MARKER_FILE, OPTIONS_FILE, BatchJob
from jobs.batch.result import ERROR, FAILED, JobResult
from jobs.marker import check_options, run
from nesting.atomic import process_alive
from nesting.errors import NestingError, VerificationError
from nesting.kernels import warmup
from nesting.markerfile import load
from nesting.verify_file import verify_file
from patterns.errors import PatternError

USER_ERRORS = (PatternError, NestingError, OSError)  # the job's own fault: reported, batch goes on


def init_worker(batch: int | None = None) -> None:
    """Compile (or load) the numba kernels once per worker process, before its first job.

    With ``batch`` (the batch's process id) the worker ignores Ctrl-C (the batch ends its
    workers itself) and ends when the batch process does, however it ends: a watchdog thread
    waits on the batch's pidfd (Linux; elsewhere it polls). Not the parent's death signal: the
    parent of a worker is the fork server, which outlives the batch as long as workers hold
    its pipe.
    """
    if batch is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        threading.Thread(target=_die_with, args=(batch,), name="batch-watchdog", daemon=True).start()
    warmup()


def _die_with(pid: int) -> None:
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd here (or the batch is gone already): poll
        while process_alive(pid):
            time.sleep(0.5)
    else:
        select.select([handle], [], [])
    os._exit(1)


    return True


def run_job(batch_job: BatchJob) -> JobResult:
    """Nest one job and write its folder; a user error or a bug becomes a result, never a raise."""
    start = time.perf_counter()
    try:
        marker = _nest_into_folder(batch_job)
    except VerificationError as exc:  # an invalid marker is the engine's bug, not the input's
        return JobResult(batch_job.name, ERROR, reason=_one_line(exc), detail=traceback.format_exc())
    except USER_ERRORS as exc:
        return JobResult(batch_job.name, FAILED, reason=_one_line(exc))
    except Exception as exc:  # noqa: BLE001 - one job's bug must not stop the batch; exit code 1 reports it
        return JobResult(batch_job.name, ERROR, reason=_one_line(exc), detail=traceback.format_exc())
    return JobResult.of_marker(batch_job.name, marker, time.perf_counter() - start)


def _nest_into_folder(batch_job: BatchJob):
    check_options(batch_job.job)  # a bad option fails the job before its fingerprint is taken
    fingerprint = batch_job.fingerprint()  # before nesting: an input edited meanwhile runs again next time
    marker, _ = run(batch_job.job, also={OPTIONS_FILE: json.dumps(fingerprint, indent=1, sort_keys=True) + "\n"})
    return marker


def finished(batch_job: BatchJob) -> JobResult | None:
    """The skipped-job result if the folder holds this job's verified marker, else None."""
    out = batch_job.out
    try:
        recorded = json.loads((out / OPTIONS_FILE).read_text(encoding="utf-8"))
        if recorded != batch_job.fingerprint() or verify_file(out / MARKER_FILE):
            return None
        return JobResult.of_document(batch_job.name, load(out / MARKER_FILE).document)
    except (OSError, ValueError, NestingError):  # missing, unreadable or not marker/1: run it again
        return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
