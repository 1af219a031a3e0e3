"""Write a cut plan: ``markers/<name>/`` (each marker's files), ``plan.json``, ``plan.md``, ``plan.png``.

Everything is written into a staging folder beside the output folder first (`nesting.atomic`);
the staged ``plan.json`` is verified there (`planning.verify`) and only then does the staged set
replace the folder as a whole. A plan that fails its own check is a bug and is never written.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from export import DEFAULT_FORMATS
from jobs.marker import write_all
from nesting.atomic import check_folder, staged_folder, write_text
from nesting.errors import VerificationError
from planning.document import plan_document
from planning.garments import mix_name
from planning.plan import CutPlan
from planning.verify import verify_plan

MARKERS = "markers"
PLAN_FILES = frozenset({"plan.json", "plan.md", "plan.png", MARKERS})


def write_plan(cut_plan: CutPlan, out, order_file: str = "", formats=DEFAULT_FORMATS) -> list[Path]:
    """Write the plan as one set that replaces ``out`` as a whole; returns the files written (plan.json last)."""
    with staged_folder(out, members=PLAN_FILES) as staging:
        paths = {}
        for mix, marker in cut_plan.markers.items():
            folder = staging / MARKERS / mix_name(mix)
            write_all(marker, folder, tuple(f for f in formats if f != "json") + ("json",))
            digest = hashlib.sha256((folder / "marker.json").read_bytes()).hexdigest()
            paths[mix] = {"path": f"{MARKERS}/{mix_name(mix)}/marker.json", "sha256": digest}
        document = plan_document(cut_plan, paths, order_file)
        write_text(staging / "plan.md", plan_markdown(document))
        from planning.drawing import draw_plan  # deferred: matplotlib's import is slow

        draw_plan(cut_plan, staging / "plan.png")
        write_text(staging / "plan.json", json.dumps(document, indent=1) + "\n")
        problems = verify_plan(staging / "plan.json")
        if problems:
            raise VerificationError("the plan failed its own check (nothing written): " + "; ".join(problems[:5]))
    out = check_folder(out, PLAN_FILES)
    return [out / MARKERS, out / "plan.md", out / "plan.png", out / "plan.json"]


def plan_markdown(document: dict) -> str:
    """The table a cutting-room manager reads: lays, what is cut against the order, the baselines."""
    totals = document["totals"]
    e = document["limits"]["end_allowance"]
    lines = [f"# Cut plan: {totals['fabric_m']:.2f} m of fabric, {totals['lays']} lays, {totals['markers']} markers",
             "", f"Patterns: {', '.join(Path(p).name for p in document['patterns'])}; fabric "
             f"{document['fabric']['width']:g} mm wide; end allowance {e:g} mm per ply; table "
             f"{document['limits']['table_length']:g} mm; plies {document['limits']['min_plies']}.."
             f"{document['limits']['max_plies']}.", "",
             "| lay | marker | ratio | garments | plies | length m | utilization | fabric m |",
             "|---|---|---|---|---|---|---|---|"]
    for k, lay in enumerate(document["lays"], start=1):
        ratio = " ".join(f"{s}={n}" for s, n in lay["ratio"].items())
        plies = lay["plies"] if isinstance(lay["plies"], int) else ", ".join(f"{c} {n}" for c, n in lay["plies"].items())
        lines.append(f"| {k} | `{lay['marker'].split('/')[-2]}` | {ratio} | {lay['garments']} | {plies} | "
                     f"{lay['length'] / 1000:.3f} | {lay['utilization'] * 100:.2f} % | {lay['fabric_m']:.2f} |")
    lines += ["", "| | " + " | ".join(_sizes(document)) + " |", "|---|" + "---|" * len(_sizes(document))]
    for colour in document["colours"] or [""]:
        ordered = document["order"][colour] if colour else document["order"]
        cut = totals["cut"].get(colour, {}) if colour else totals["cut"]
        name = f"{colour} " if colour else ""
        lines.append(f"| {name}ordered | " + " | ".join(str(ordered.get(s, 0)) for s in _sizes(document)) + " |")
        lines.append(f"| {name}cut | " + " | ".join(str(cut.get(s, 0)) for s in _sizes(document)) + " |")
    gap = totals["gap_to_lower_bound"]
    lines += ["", f"Utilization over every ply: {totals['utilization'] * 100:.2f} % (target 92 %). Cost "
              f"{totals['cost']:g}." + (f" Lower bound {totals['lower_bound_m']:.2f} m (gap {gap * 100:.2f} %)."
                                        if gap is not None else ""), "",
              "| plan | fabric m | lays | markers | saved by the plan |", "|---|---|---|---|---|",
              f"| this plan | {totals['fabric_m']:.2f} | {totals['lays']} | {totals['markers']} | |"]
    for name, baseline in document["baselines"].items():
        if baseline["fabric_m"] is None:
            lines.append(f"| {name} | not possible within the limits | | | |")
            continue
        markers = len({lay["marker"] for lay in baseline["lays"]})
        lines.append(f"| {name} | {baseline['fabric_m']:.2f} | {len(baseline['lays'])} | {markers} | "
                     f"{baseline['saved_by_plan'] * 100:.2f} % |")
    lines += [""] + [f"- {name}: {b['method']}" for name, b in document["baselines"].items()]
    stats = document["stats"]
    lines += ["", f"{stats['nestings']} nestings ({stats['measured']} of {stats['candidates']} candidate mixes "
              f"measured), {stats['wall_s']:.1f} s of a {stats['time_budget_s']:g} s budget"
              + (" (interrupted)" if stats.get("interrupted") else "") + "."]
    return "\n".join(lines) + "\n"


def _sizes(document: dict) -> list[str]:
    order = document["order"]
    rows = order.values() if document["colours"] else [order]
    return list(dict.fromkeys(s for row in rows for s in row))
