"""What runs in a batch worker: one job into its folder, and the check that a folder holds it.

A job's folder is written in an order a resumed batch can trust: the stale ``marker.json`` is
removed first, then the drawings and cut files, then ``job.json`` (the options and input digests), and
``marker.json`` last. A folder whose ``marker.json`` verifies and whose ``job.json`` matches the
job's fingerprint is finished.
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import replace

from nesting.atomic import write_text
from nesting.batch.jobs import MARKER_FILE, OPTIONS_FILE, BatchJob
from nesting.batch.result import ERROR, FAILED, JobResult
from nesting.errors import NestingError, VerificationError
from nesting.export import write
from nesting.job import run
from patterns.errors import PatternError

USER_ERRORS = (PatternError, NestingError, OSError)  # the job's own fault: reported, batch goes on


def init_worker() -> None:
    """Compile (or load) the numba kernels once per worker process, before its first job."""
    from nesting.kernels import warmup

    warmup()


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
    out = batch_job.out
    (out / MARKER_FILE).unlink(missing_ok=True)
    fingerprint = batch_job.fingerprint()  # before nesting: an input edited meanwhile runs again next time
    others = tuple(f for f in batch_job.job.formats if f != "json")
    marker, _ = run(replace(batch_job.job, formats=others))
    write_text(out / OPTIONS_FILE, json.dumps(fingerprint, indent=1, sort_keys=True) + "\n")
    write(marker, out, ("json",))
    return marker


def finished(batch_job: BatchJob) -> JobResult | None:
    """The skipped-job result if the folder holds this job's verified marker, else None."""
    from nesting.markerfile import load
    from nesting.verify_file import verify_file

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
