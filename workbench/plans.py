"""Cut plans on the page: an order file in the workspace, planned as ``nest plan`` plans it.

The order is read (and refused in one line) by the planner's own reader before the job
starts; the job runs `planning.plan` in a worker process and writes the plan folder with
`planning.output.write_plan` (which verifies it before the swap). What the page is shown or
offered is read back from the folder's files and re-checked by `planning.verify` first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from planning import load_order, plan
from planning.garments import load_garments
from planning.output import write_plan
from planning.planner import check_feasible
from planning.verify import verify_plan
from planning.yields import candidate_mixes
from workbench import runner
from workbench.workspace import Workspace, WorkspaceError

DOWNLOADS = ("plan.json", "plan.md", "plan.png")
DEFAULT_TIME = 60.0  # seconds of planning from the page (nest plan's default is 120)


@dataclass(frozen=True)
class PlanSearch:
    """A plan job, as plain picklable data: the order file (checked by `read_order`) and where to write."""

    order: str
    out: str
    time: float
    workers: int = 1
    seed: int = 0


def read_order(path: Path, workspace: Workspace):
    """The order of ``path``, refused (one line) if it is bad, names a pattern outside the workspace,
    or asks for what no plan can cut within its limits: the checks `plan` makes before nesting."""
    order = load_order(path)
    for pattern in order.spec.patterns:
        if not Path(pattern).resolve().is_relative_to(workspace.root):
            raise WorkspaceError(f"{order.label('patterns')}: {Path(pattern).resolve()} is outside the workspace")
    garments = load_garments(order)
    check_feasible(order, garments, candidate_mixes(order, garments))
    return order


def run(search: PlanSearch, events) -> None:
    """The worker's entry point for a plan: progress lines as messages; a stop keeps the best plan."""

    def say(line: str) -> None:
        events.put(("message", {"text": line}, None))

    def job(stop):
        result = plan(load_order(search.order), time=search.time, seed=search.seed, workers=search.workers,
                      progress=say, stop=stop)
        write_plan(result, search.out, order_file=Path(search.order).name)
        return {"interrupted": bool(result.stats.get("interrupted"))}, None

    runner.work(events, job)


def shown(folder: Path) -> dict:
    """What the page shows of a written plan: ``plan.json`` and, per marker of its lays, the placed
    outlines from its ``marker.json``; raises `PlanRefused` unless the plan verifies from its files."""
    problems = verify_plan(folder / "plan.json")
    if problems:
        raise PlanRefused(f"{folder.name}/plan.json fails verification: {problems[0]}")
    document = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    markers = {}
    for lay in document["lays"]:
        if lay["marker"] not in markers:
            marker = json.loads((folder / lay["marker"]).read_text(encoding="utf-8"))
            markers[lay["marker"]] = {key: marker[key] for key in ("width", "length", "utilization", "units")}
            markers[lay["marker"]]["pieces"] = [{key: piece[key] for key in ("name", "size", "polygon", "holes")}
                                                for piece in marker["pieces"]]
    return {"plan": document, "markers": markers}


class PlanRefused(ValueError):
    """A plan folder whose files no longer verify: not shown, not offered."""
