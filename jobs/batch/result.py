"""What a batch reports per job: its status and the figures of its marker."""

from __future__ import annotations

from dataclasses import dataclass

OK, SKIPPED, FAILED, ERROR = "ok", "skipped", "failed", "error"  # failed: user side; error: a bug
NOT_RUN = "not run"  # the batch was stopped before the job finished
WORKER_DIED = "the worker process died while running this job (killed, out of memory or crashed)"


@dataclass(frozen=True, slots=True)
class JobResult:
    """One job's outcome. Marker figures are None when there is no marker.

    ``reason`` is the one-line cause of a failure; ``detail`` the traceback of an internal error.
    ``nest_s`` is the marker's search time; ``wall_s`` the job's time in this batch (None if skipped).
    """

    name: str
    status: str
    reason: str = ""
    pieces: int | None = None
    length: float | None = None
    units: str | None = None
    utilization: float | None = None
    meets_target: bool | None = None
    nest_s: float | None = None
    wall_s: float | None = None
    detail: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status in (OK, SKIPPED)

    @classmethod
    def of_marker(cls, name: str, marker, wall_s: float) -> JobResult:
        """The result of a marker nested and written in this batch."""
        return cls(
            name, OK, pieces=len(marker.placements), length=marker.length, units=marker.units,
            utilization=marker.utilization, meets_target=marker.meets_target, nest_s=marker.elapsed_s,
            wall_s=wall_s,
        )

    @classmethod
    def of_document(cls, name: str, document: dict) -> JobResult:
        """The result of a marker/1 document already on disk (a skipped job)."""
        return cls(
            name, SKIPPED, pieces=len(document["pieces"]), length=float(document["length"]),
            units=document.get("units"), utilization=float(document["utilization"]),
            meets_target=bool(document.get("meets_target")), nest_s=document.get("elapsed_s"),
        )
