"""results.json -> results.md: medians and bests per instance and engine, side by side.

Medians over seeds, never single runs: at 30 s seeds spread by up to two points. Only verified
markers count towards a median; invalid and failed runs are counted and named in the notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import median

from benchmarks.machine import describe_text

PEER = "spyrrow"


@dataclass(frozen=True, slots=True)
class Summary:
    """One engine on one instance, over its seeds."""

    runs: int
    valid: int
    invalid: int
    failed: int
    median_utilization: float | None
    best_utilization: float | None
    median_length: float | None


def summarize(runs: list[dict]) -> Summary:
    valid = [r for r in runs if r.get("verified")]
    failed = sum(1 for r in runs if r.get("error"))
    utilizations = [r["utilization"] for r in valid]
    return Summary(
        runs=len(runs), valid=len(valid), invalid=len(runs) - len(valid) - failed, failed=failed,
        median_utilization=median(utilizations) if utilizations else None,
        best_utilization=max(utilizations) if utilizations else None,
        median_length=median(r["length"] for r in valid) if valid else None,
    )


def summaries(results: dict) -> dict[str, dict[str, Summary]]:
    """``{instance: {engine: Summary}}`` in the order the runs were made."""
    grouped: dict[str, dict[str, list]] = {}
    for run in results["runs"]:
        grouped.setdefault(run["instance"], {}).setdefault(run["engine"], []).append(run)
    return {name: {engine: summarize(runs) for engine, runs in engines.items()} for name, engines in grouped.items()}


def lower_bounds(results: dict) -> dict[str, tuple[float, float]]:
    """Per instance: the lower bound on the length and the utilization a marker that short has."""
    bounds = {}
    for run in results["runs"]:
        if run.get("lower_bound_length"):
            bounds[run["instance"]] = (run["lower_bound_length"], run["utilization_bound"])
    return bounds


def _pct(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}"


def _cell(summary: Summary | None, field: str) -> str:
    if summary is None:
        return "–"
    text = _pct(getattr(summary, field))
    if summary.valid < summary.runs:
        text += f" ({summary.valid}/{summary.runs} valid)"
    return text


def _gap(summary: Summary | None, bound: float | None) -> str:
    if summary is None or summary.median_length is None or not bound:
        return "–"
    return f"{(summary.median_length / bound - 1) * 100:.1f} %"


def table_markdown(results: dict) -> str:
    """The comparison table (Markdown), one row per instance."""
    stats, bounds = summaries(results), lower_bounds(results)
    with_peer = PEER in results["settings"]["engines"]
    head = ["instance", "best known", "LB (max util.)", "ours median", "ours best"]
    if with_peer:
        head += ["spyrrow median", "spyrrow best", "ours / spyrrow"]
    head += ["ours gap to LB"] + (["spyrrow gap to LB"] if with_peer else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, engines in stats.items():
        ours, peer = engines.get("ours"), engines.get(PEER)
        info = results["instances"].get(name, {})
        bound, upper = bounds.get(name, (None, None))
        row = [name, _pct(info.get("best_known_density")), _pct(upper), _cell(ours, "median_utilization"),
               _cell(ours, "best_utilization")]
        if with_peer:
            ratio = None
            if ours and peer and ours.median_utilization and peer.median_utilization:
                ratio = ours.median_utilization / peer.median_utilization
            row += [_cell(peer, "median_utilization"), _cell(peer, "best_utilization"),
                    "–" if ratio is None else f"{ratio:.3f}"]
        row += [_gap(ours, bound)] + ([_gap(peer, bound)] if with_peer else [])
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def runs_markdown(results: dict) -> str:
    """Every run, for the record."""
    lines = ["| instance | engine | seed | utilization % | length | wall s | cpu s | verified |", "|" + "---|" * 8]
    for r in results["runs"]:
        if r.get("error"):
            lines.append(f"| {r['instance']} | {r['engine']} | {r['seed']} | – | – | {r['wall_s']:.1f} | – | failed: {r['error']} |")
            continue
        verdict = "yes" if r["verified"] else f"NO: {'; '.join(r['violations'][:2])}"
        lines.append(
            f"| {r['instance']} | {r['engine']} | {r['seed']} | {r['utilization'] * 100:.2f} | {r['length']:.6g} | "
            f"{r['wall_s']:.1f} | {r.get('cpu_s', 0):.1f} | {verdict} |"
        )
    return "\n".join(lines)


def _sharing(settings: dict) -> str:
    """How our workers shared a run (results written before the option was recorded ran a portfolio)."""
    if settings.get("workers", 1) == 1:
        return "one search"
    if settings.get("parallel", "portfolio") == "shared":
        return "one search on as many threads"
    return "a portfolio of as many independently seeded processes"


def report_markdown(results: dict) -> str:
    settings = results["settings"]
    budget = (f"{settings['iterations']} iterations (ours)" if settings.get("iterations") else f"{settings['time_s']:g} s")
    engines = ", ".join(settings["engines"])
    workers = settings.get("workers", 1)
    command = (f"nest bench {' '.join(settings['instances'])} --time {settings['time_s']:g} --seeds {settings['seeds']} "
               f"--engines {','.join(settings['engines'])} --workers {workers}"
               + (" --parallel portfolio" if settings.get("parallel", "portfolio") == "portfolio" else "")
               + (f" --iterations {settings['iterations']}" if settings.get("iterations") else ""))
    return "\n\n".join([
        f"# Benchmark: {engines}, {budget} per run, {settings['seeds']} seed(s)",
        f"Run {results['created']} on: {describe_text(results['machine'])}",
        "Utilization in %, measured on each verified marker (placed area / (width x length)); medians "
        f"and bests over seeds of verified markers only. Each run is its own process, given {workers} core(s) "
        f"(ours {_sharing(settings)}, the peer's threads), one run at a time; "
        "numba compilation is excluded from the budget. `LB (max util.)` is the utilization of a marker "
        "as short as the lower bound (max of total area / width and the longest piece's extent in its shortest allowed "
        "orientation); `gap to LB` is how much longer the median marker is than that bound.",
        table_markdown(results),
        "## Runs",
        runs_markdown(results),
        f"Reproduce: `{command} --out DIR`",
    ]) + "\n"


def write_table(results: dict, path: Path) -> Path:
    from nesting.atomic import write_text

    write_text(path, report_markdown(results))
    return path
