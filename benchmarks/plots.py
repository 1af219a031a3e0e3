"""results.json -> PNG: anytime curves per instance and median utilization per instance.

Drawn with matplotlib's object API (no pyplot state), so it runs headless and in tests.
"""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure

from benchmarks.table import summaries

COLORS = {"ours": "#1f77b4", "spyrrow": "#d62728"}
_PANEL_COLUMNS = 5


def _curve(run: dict) -> tuple[list[float], list[float]]:
    """The run's improvements as a step curve in %, ending at its verified result at its wall time."""
    times = [t for t, _ in run["improvements"]]
    values = [u * 100 for _, u in run["improvements"]]
    if run.get("utilization") is not None:
        times.append(max(run["wall_s"], times[-1] if times else 0.0))
        values.append(run["utilization"] * 100 if run["verified"] else (values[-1] if values else 0.0))
    return times, values


def anytime_figure(results: dict) -> Figure:
    """One panel per instance: utilization over time of every run, best known dashed."""
    names = list(dict.fromkeys(r["instance"] for r in results["runs"]))
    columns = min(_PANEL_COLUMNS, len(names))
    rows = math.ceil(len(names) / columns)
    figure = Figure(figsize=(3.2 * columns, 2.6 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    labelled = set()
    for ax, name in zip(axes, names):
        best = results["instances"].get(name, {}).get("best_known_density")
        finals = []
        for run in (r for r in results["runs"] if r["instance"] == name and not r.get("error")):
            times, values = _curve(run)
            if not times:
                continue
            engine = run["engine"]
            label = engine if engine not in labelled else None
            labelled.add(engine)
            ax.step(times, values, where="post", color=COLORS.get(engine, "gray"), alpha=0.75, lw=1.2,
                    ls="-" if run["verified"] else ":", label=label)
            finals.append(values[-1])
        if best:
            ax.axhline(best * 100, color="black", ls="--", lw=0.8, label="best known" if "best" not in labelled else None)
            labelled.add("best")
        if finals:
            top = max(finals + ([best * 100] if best else []))
            ax.set_ylim(max(0.0, min(finals) - 8), min(100.0, top + 1.5))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("seconds", fontsize=8)
        ax.set_ylabel("utilization %", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    figure.legend(loc="outside lower center", ncols=len(labelled) or 1, fontsize=8)
    return figure


def bars_figure(results: dict) -> Figure:
    """Median utilization per instance and engine; whiskers span the seeds, ticks mark best known."""
    stats = summaries(results)
    names = list(stats)
    engines = list(results["settings"]["engines"])
    width = 0.8 / len(engines)
    figure = Figure(figsize=(max(6.0, 1.1 * len(names) + 2), 4.0), layout="constrained")
    ax = figure.subplots()
    lows = []
    for k, engine in enumerate(engines):
        xs, medians, spans = [], [], [[], []]
        for i, name in enumerate(names):
            summary = stats[name].get(engine)
            if summary is None or summary.median_utilization is None:
                continue
            utils = [r["utilization"] for r in results["runs"]
                     if r["instance"] == name and r["engine"] == engine and r.get("verified")]
            xs.append(i + (k - (len(engines) - 1) / 2) * width)
            medians.append(summary.median_utilization * 100)
            spans[0].append((summary.median_utilization - min(utils)) * 100)
            spans[1].append((max(utils) - summary.median_utilization) * 100)
            lows.append(min(utils) * 100)
        ax.bar(xs, medians, width, yerr=spans, capsize=2, color=COLORS.get(engine, "gray"), label=f"{engine} (median)")
    best_label = "best known"
    for i, name in enumerate(names):
        best = results["instances"].get(name, {}).get("best_known_density")
        if best:
            ax.hlines(best * 100, i - 0.45, i + 0.45, colors="black", lw=1.5, label=best_label)
            best_label = None
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel("utilization % (axis does not start at 0)")
    if lows:
        ax.set_ylim(max(0.0, math.floor(min(lows)) - 5), 100)
    ax.grid(axis="y", alpha=0.3)
    figure.legend(loc="outside upper center", ncols=len(engines) + 1, fontsize=8)
    return figure


def write_plots(results: dict, out: Path) -> list[Path]:
    from nesting.atomic import atomic_path

    written = []
    for filename, figure in (("anytime.png", anytime_figure(results)), ("utilization.png", bars_figure(results))):
        path = Path(out) / filename
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=110)
        written.append(path)
    return written
