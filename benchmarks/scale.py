"""Scale: a 1,000-piece marker and a marker of 2,000-vertex pieces, with time and peak memory.

``python -m benchmarks.scale [--time 300] [--out benchmarks/results]`` writes
``DIR/scale.md`` and ``DIR/scale.json``; the markers themselves (megabytes of drawings) are
checked with ``nest verify`` and left in a temporary folder.

Cases, each one ``nest marker`` process on a JSON instance written for it:

- ``shirts-x10``: the shirts instance with every demand times ten (990 pieces, 8 types).
- ``dense-2000``: 8 smooth garment-like piece types of 2,000 vertices each (150 to 700 mm),
  4 copies of each, rotations 0/180, on 1,500 mm fabric: flattened curves as dense as CAD
  exports get, far above the bundled patterns (under 300 vertices a piece).
- ``shirts-x10-interrupted``: the first case again, SIGINT after a tenth of the budget: how
  long a large marker takes to stop and write.

For each: wall time, the engine's own times (compile, NFPs, search), time to the first
feasible marker, peak RSS of the process (``ru_maxrss``, workers included), length,
utilization, and whether ``nest verify`` accepts the marker.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import describe, describe_text

ROOT = Path(__file__).resolve().parent.parent
SHIRTS = ROOT / "benchmarks" / "instances" / "shirts.json"
DENSE_VERTICES, DENSE_TYPES, DENSE_COPIES, DENSE_WIDTH = 2_000, 8, 4, 1500.0
MEMORY_LIMIT_GIB = 4.0

# Runs one `nest marker` in this child and reports its own peak RSS (and its forked workers').
_CHILD = """
import json, resource, sys
sys.path.insert(0, {root!r})
from cli import main
code = main({argv!r})
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print("SCALE-RESULT " + json.dumps({{"code": code, "peak_rss_kib": peak}}), flush=True)
"""


def shirts_times_ten(path: Path) -> Path:
    document = json.loads(SHIRTS.read_text())
    for item in document["items"]:
        item["demand"] *= 10
    document["name"] = "shirts-x10"
    path.write_text(json.dumps(document))
    return path


def garment_like(vertices: int, size: float, rng: np.random.Generator) -> list[list[float]]:
    """A smooth, non-convex closed curve of ``vertices`` vertices about ``size`` mm across."""
    theta = np.linspace(0.0, 2 * np.pi, vertices, endpoint=False)
    radius = np.ones(vertices)
    for k in range(2, 7):
        radius += rng.uniform(0.0, 0.1) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    stretch = rng.uniform(1.0, 2.0)
    xy = np.column_stack((radius * np.cos(theta) * stretch, radius * np.sin(theta))) * size / (2.4 * stretch)
    return (xy - xy.min(axis=0)).round(6).tolist()


def dense_instance(path: Path) -> Path:
    rng = np.random.default_rng(2000)
    items = [{"id": f"P{k}", "demand": DENSE_COPIES, "allowed_orientations": [0, 180],
              "shape": {"type": "simple_polygon", "data": garment_like(DENSE_VERTICES, size, rng)}}
             for k, size in enumerate(np.linspace(150.0, 700.0, DENSE_TYPES))]
    path.write_text(json.dumps({"name": "dense-2000", "strip_height": DENSE_WIDTH, "items": items}))
    return path


def run_case(name: str, instance: Path, out: Path, budget: float, interrupt_after: float | None = None) -> dict:
    """One ``nest marker`` child: wall time, progress, peak RSS, the marker's figures."""
    argv = ["marker", str(instance), "--time", str(budget), "--out", str(out)]
    child = subprocess.Popen([sys.executable, "-c", _CHILD.format(root=str(ROOT), argv=argv)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.perf_counter()
    sent = None
    if interrupt_after is not None:
        try:
            child.wait(timeout=interrupt_after)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGINT)
            sent = time.perf_counter()
    stdout, stderr = child.communicate()
    ended = time.perf_counter()
    report = next((json.loads(line.split(" ", 1)[1]) for line in stdout.splitlines()
                   if line.startswith("SCALE-RESULT ")), {"code": child.returncode, "peak_rss_kib": None})
    result = {"case": name, "exit": report["code"], "wall_s": ended - started, "peak_rss_mib": _mib(report["peak_rss_kib"]),
              "exit_after_signal_s": None if sent is None else ended - sent}
    progress = [line.split() for line in stderr.splitlines() if line.strip().endswith("%")]
    result["first_marker_s"] = float(progress[0][0]) if progress else None
    marker = out / "marker.json"
    if report["code"] == 0 and marker.is_file():
        from nesting.verify_file import verify_file

        document = json.loads(marker.read_text())
        stats = document.get("stats", {})
        result.update(
            pieces=len(document["pieces"]), length=document["length"], utilization=document["utilization"],
            elapsed_s=document["elapsed_s"], compile_s=stats.get("compile_s"), nfp_s=stats.get("nfp_s"),
            nfp_pairs=stats.get("nfp_pairs"), interrupted=stats.get("interrupted"),
            verified=verify_file(marker, instance=instance) == [],
        )
    else:
        result["error"] = stderr.strip().splitlines()[-1:] or [""]
    return result


def _mib(kib):
    return None if kib is None else kib / 1024.0


def write_results(results: list[dict], budget: float, out: Path) -> list[Path]:
    machine = describe()
    (out / "scale.json").write_text(json.dumps({"schema": "scale/1", "machine": machine, "time_budget_s": budget,
                                                "runs": results}, indent=1) + "\n")
    lines = [
        "# Scale: large markers, time and peak memory", "",
        f"`python -m benchmarks.scale --time {budget:g}` on {describe_text(machine)}", "",
        "| case | pieces | exit | wall s | search s | compile s | NFPs (s) | first marker s | peak RSS MiB "
        "| utilization | verified |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        nfp = f"{r.get('nfp_pairs')} ({_fmt(r.get('nfp_s'))})" if r.get("nfp_pairs") is not None else "-"
        utilization = f"{100 * r['utilization']:.2f} %" if r.get("utilization") is not None else "-"
        lines.append(f"| {r['case']} | {r.get('pieces', '-')} | {r['exit']} | {_fmt(r['wall_s'])} "
                     f"| {_fmt(r.get('elapsed_s'))} | {_fmt(r.get('compile_s'))} | {nfp} | {_fmt(r.get('first_marker_s'))} "
                     f"| {_fmt(r['peak_rss_mib'])} | {utilization} | {r.get('verified', '-')} |")
    interrupted = [r for r in results if r.get("exit_after_signal_s") is not None]
    for r in interrupted:
        lines += ["", f"{r['case']}: SIGINT after {budget / 10:g} s; the process exited "
                      f"{r['exit_after_signal_s']:.2f} s later (search stop, verification and every output written)."]
    over = [r["case"] for r in results if r["peak_rss_mib"] and r["peak_rss_mib"] > MEMORY_LIMIT_GIB * 1024]
    lines += ["", f"Memory limit {MEMORY_LIMIT_GIB:g} GiB: " + (f"exceeded by {', '.join(over)}" if over else "held by every case") + "."]
    (out / "scale.md").write_text("\n".join(lines) + "\n")
    return [out / "scale.json", out / "scale.md"]


def _fmt(value) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=float, default=300.0, help="search budget of each marker (default 300 s)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="results folder")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        shirts = shirts_times_ten(Path(folder) / "shirts-x10.json")
        dense = dense_instance(Path(folder) / "dense-2000.json")
        results = []
        for name, instance, interrupt in (("shirts-x10", shirts, None), ("dense-2000", dense, None),
                                          ("shirts-x10-interrupted", shirts, args.time / 10)):
            print(f"{name} ...", flush=True)
            results.append(run_case(name, instance, Path(folder) / name, args.time, interrupt))
            print(f"  {json.dumps(results[-1])}", flush=True)
            write_results(results, args.time, out)  # an interrupted benchmark keeps what it measured
    print("wrote " + ", ".join(str(p) for p in write_results(results, args.time, out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
