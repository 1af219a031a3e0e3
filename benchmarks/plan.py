"""Cut-planning benchmark: the plan's fabric against both baselines and the lower bound, per order.

``python -m benchmarks.plan [ORDERS...] [--time S] [--workers N] [--seed N] [--keep DIR] [--out DIR]``
plans each order of ``benchmarks/plan_orders/`` (the graded example tee, and AccuMark patterns
from ``../shared/data/dxf``, skipped when absent) with `planning.plan`, writes and verifies every
plan (in a temporary folder unless ``--keep``), and writes ``DIR/results.json`` and
``DIR/results.md`` (default ``benchmarks/results/plan``) with the machine description.

The baselines are formed and nested in the same run and under the same budgets as the plan
(`planning.baselines`); the fabric saved is ``(baseline - plan) / baseline``; the gap is
``(plan - lower bound) / lower bound``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from benchmarks.machine import describe, describe_text
from nesting.atomic import write_text
from planning import load_order, plan
from planning.output import write_plan
from planning.verify import verify_plan

ORDERS = Path(__file__).resolve().parent / "plan_orders"
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "plan"


def run_order(path: Path, time_s: float, workers: int, seed: int, keep: Path) -> dict:
    order = load_order(path)
    result = plan(order, time=time_s, seed=seed, workers=workers,
                  progress=lambda line: print(f"  {path.stem}: {line}", file=sys.stderr, flush=True))
    out = keep / path.stem
    write_plan(result, out, order_file=str(path))
    problems = verify_plan(out / "plan.json")
    document = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    totals = document["totals"]
    return {
        "order": path.stem, "garments": order.total, "colours": len(order.colours), "sizes": len(order.sizes),
        "fabric_m": totals["fabric_m"], "lays": totals["lays"], "markers": totals["markers"],
        "utilization": totals["utilization"], "lower_bound_m": totals["lower_bound_m"],
        "gap_to_lower_bound": totals["gap_to_lower_bound"],
        "baselines": {name: {"fabric_m": b["fabric_m"], "lays": len(b["lays"]), "saved_by_plan": b.get("saved_by_plan")}
                      for name, b in document["baselines"].items()},
        "nestings": document["stats"]["nestings"], "candidates": document["stats"]["candidates"],
        "wall_s": document["stats"]["wall_s"], "time_budget_s": time_s, "verified": not problems,
        "violations": problems, "plan_md": (out / "plan.md").read_text(encoding="utf-8"),
    }


def report(rows: list[dict], machine: dict, time_s: float, workers: int) -> str:
    lines = [
        "# Cut planning benchmark", "",
        f"`python -m benchmarks.plan --time {time_s:g} --workers {workers}`: each order planned in {time_s:g} s of wall "
        f"clock with {workers} nesting processes. The machine was shared with other work while this ran, so the "
        "budgets are short and the markers are short-budget markers (utilization 70-85 %); the comparison holds "
        "because the baselines are nested in the same run under the same budgets.", "",
        f"Machine: {describe_text(machine)}", "",
        "| order | garments | plan m | one size per lay m | saved | single ratio m | saved | lower bound m | gap | "
        "lays | markers | nestings | wall s | verified |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        a, b = row["baselines"]["one_size_per_lay"], row["baselines"]["single_ratio"]
        cell = lambda x: "n/a" if x["fabric_m"] is None else f"{x['fabric_m']:.2f}"  # noqa: E731
        saved = lambda x: "" if x["saved_by_plan"] is None else f"{x['saved_by_plan'] * 100:.2f} %"  # noqa: E731
        lines.append(
            f"| {row['order']} | {row['garments']} | {row['fabric_m']:.2f} | {cell(a)} | {saved(a)} | {cell(b)} | "
            f"{saved(b)} | {row['lower_bound_m']:.2f} | {row['gap_to_lower_bound'] * 100:.2f} % | {row['lays']} | "
            f"{row['markers']} | {row['nestings']} | {row['wall_s']:.0f} | {'yes' if row['verified'] else 'NO'} |")
    strictly = sum(all(b["fabric_m"] is None or row["fabric_m"] < b["fabric_m"] - 1e-9
                       for b in row["baselines"].values()) for row in rows)
    lines += ["", f"The plan uses strictly less fabric than both baselines on {strictly} of {len(rows)} orders."]
    for row in rows:
        lines += ["", f"## {row['order']}", "", row["plan_md"].split("\n", 1)[1].strip()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plan", description=__doc__.splitlines()[0])
    parser.add_argument("orders", nargs="*", help="order files (default: every file of benchmarks/plan_orders)")
    parser.add_argument("--time", type=float, default=60.0, help="seconds per order (default 60)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", help="write the plans here (default: a temporary folder)")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.orders] or sorted(ORDERS.glob("*.toml"))
    machine = describe()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        keep = Path(args.keep) if args.keep else Path(scratch)
        for path in paths:
            order = load_order(path)
            missing = [p for p in order.spec.patterns if not Path(p).exists()]
            if missing:
                print(f"{path.stem}: skipped, {missing[0]} is not available", file=sys.stderr)
                continue
            rows.append(run_order(path, args.time, args.workers, args.seed, keep))
            out = Path(args.out)
            write_text(out / "results.json", json.dumps({"schema": "plan-bench/1", "machine": machine,
                                                        "runs": rows}, indent=1) + "\n")
            write_text(out / "results.md", report(rows, machine, args.time, args.workers))
    print(f"wrote {Path(args.out) / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
