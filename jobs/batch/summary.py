"""The batch summary: a terminal table, ``summary.json`` and ``summary.csv`` (one row per job)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

from jobs.batch.result import ERROR, FAILED, NOT_RUN, OK, SKIPPED, JobResult
from nesting.atomic import write_text

SCHEMA = "batch-summary/1"
FIELDS = ("job", "status", "pieces", "length", "units", "utilization", "meets_target", "nest_s", "wall_s", "reason")


def row(result: JobResult) -> dict:
    """A job's summary row; numbers unrounded, None where the job has no marker."""
    return {
        "job": result.name, "status": result.status, "pieces": result.pieces, "length": result.length,
        "units": result.units, "utilization": result.utilization, "meets_target": result.meets_target,
        "nest_s": result.nest_s, "wall_s": result.wall_s, "reason": result.reason,
    }


def counts(results) -> dict:
    tally = Counter(r.status for r in results)
    return {status: tally[status] for status in (OK, SKIPPED, FAILED, ERROR, NOT_RUN) if status != NOT_RUN or tally[status]}


def write_summary(results, out_dir, about: dict) -> tuple[Path, Path]:
    """Write ``summary.json`` (``about`` + counts + rows) and ``summary.csv`` atomically."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [row(r) for r in results]
    document = {"schema": SCHEMA, **about, "counts": counts(results), "jobs": rows}
    write_text(out_dir / "summary.json", json.dumps(document, indent=1) + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    write_text(out_dir / "summary.csv", buffer.getvalue())
    return out_dir / "summary.json", out_dir / "summary.csv"


def summary_table(results) -> str:
    """The table printed at the end of a batch, with a line of counts."""
    name_width = max([len("job"), *(len(r.name) for r in results)])
    header = f"{'status':<7} {'pieces':>6} {'length':>12}  {'utilization':>11}  {'target':<6} {'time s':>7}  reason"
    lines = [f"{'job':<{name_width}}  {header}"]
    for r in results:
        if r.pieces is None:
            figures = f"{'-':>6} {'-':>12}  {'-':>11}  {'-':<6} {'-':>7}"
        else:
            figures = (f"{r.pieces:>6} {r.length:>12.3f}  {r.utilization * 100:>9.2f} %  "
                       f"{'met' if r.meets_target else 'missed':<6} {r.nest_s or 0.0:>7.2f}")
        lines.append(f"{r.name:<{name_width}}  {r.status:<7} {figures}  {r.reason}".rstrip())
    tally = counts(results)
    lines.append(", ".join(f"{n} {status}" for status, n in tally.items() if n) + f" of {len(results)} jobs")
    return "\n".join(lines)
