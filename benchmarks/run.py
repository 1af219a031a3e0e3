"""Instances x seeds x engines, one process per run, into results.json, results.md and plots.

This is what ``nest bench`` calls. Runs go one at a time, each engine given the same number
of cores (``workers``: our worker processes, the peer's threads), interleaving the engines per
instance and seed so that a drift in machine load hits both alike.
``results.json`` is rewritten after every run: an interrupted benchmark keeps what it measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.catalog import BenchmarkError, best_known_density, expand
from benchmarks.engines import check_engines
from benchmarks.machine import describe

SCHEMA = "bench/1"
_REPO_ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(
    instances: Sequence[str] = (),
    time_s: float = 30.0,
    seeds: int = 3,
    engines: Sequence[str] = ("ours",),
    out: Path | str = "benchmarks/results/run",
    iterations: int | None = None,
    workers: int = 1,
    parallel: str = "shared",
    progress: Callable[[str], None] = lambda line: None,
) -> list[Path]:
    """Run the benchmark and write its files; return the paths written.

    Parameters
    ----------
    instances : bundled instance names, set names (``garment``, ``gardeyn``, ``comparison``...)
        or JSON paths; empty means the default ten.
    time_s : wall-clock budget per run, seconds (the peer gets it rounded to whole seconds).
    seeds : runs per instance and engine, with seeds 0 .. seeds - 1.
    engines : ``ours`` and/or ``spyrrow``.
    iterations : an iteration budget for our engine instead of ``time_s`` (reproducible).
    workers : cores per run: our engine's workers, the peer's threads.
    parallel : how our workers share a run (`nesting.config.PARALLEL_MODES`).
    progress : receives one line per finished run.

    Raises
    ------
    BenchmarkError : unknown instance or engine, peer not installed, bad budget.
    """
    from benchmarks.plots import write_plots
    from benchmarks.table import write_table
    from nesting.atomic import write_text

    if time_s <= 0 or seeds < 1 or workers < 1 or (iterations is not None and iterations < 1):
        raise BenchmarkError("--time must be positive, --seeds, --workers and --iterations at least 1")
    check_engines(engines)
    paths = {path.stem: path.resolve() for path in expand(instances)}
    out = Path(out).resolve()
    (out / "markers").mkdir(parents=True, exist_ok=True)
    results = {
        "schema": SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": {"time_s": time_s, "seeds": seeds, "engines": list(engines), "iterations": iterations,
                     "workers": workers, "parallel": parallel, "instances": list(paths)},
        "machine": describe(),
        "instances": {name: {"path": _shown(path), "best_known_density": best_known_density(name)}
                      for name, path in paths.items()},
        "runs": [],
    }
    results_path = out / "results.json"
    for name, path in paths.items():
        for seed in range(seeds):
            for engine in engines:
                marker = out / "markers" / f"{name}-{engine}-seed{seed}.json"
                record = run_one(path, engine, seed, time_s, iterations, marker, workers, parallel)
                record = {"instance": name, **record}
                results["runs"].append(record)
                write_text(results_path, json.dumps(results, indent=1) + "\n")
                progress(_progress_line(record))
    written = [results_path, write_table(results, out / "results.md")]
    return written + write_plots(results, out)


def run_one(path: Path, engine: str, seed: int, time_s: float, iterations: int | None, marker: Path,
            workers: int = 1, parallel: str = "shared") -> dict:
    """One run in a fresh process; a crash or a hang is recorded, never raised."""
    command = [sys.executable, "-m", "benchmarks.single", str(path), engine, "--seed", str(seed),
               "--time", str(time_s), "--workers", str(workers), "--marker", str(marker)]
    if engine == "ours":
        command += ["--parallel", parallel] + ([] if iterations is None else ["--iterations", str(iterations)])
    timeout = 3 * time_s + 300
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=_REPO_ROOT)
    except subprocess.TimeoutExpired:
        return _failed(engine, seed, time_s, started, f"no result after {timeout:.0f} s (killed)")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return _failed(engine, seed, time_s, started, reason)
    record = json.loads(lines[-1])
    record["marker"] = f"{marker.parent.name}/{marker.name}"
    record["process_s"] = time.perf_counter() - started
    return record


def _shown(path: Path) -> str:
    """A path relative to the repository when inside it, so committed results read the same anywhere."""
    return str(path.relative_to(_REPO_ROOT)) if path.is_relative_to(_REPO_ROOT) else str(path)


def _failed(engine, seed, time_s, started, reason) -> dict:
    return {"engine": engine, "seed": seed, "time_budget_s": time_s, "wall_s": time.perf_counter() - started,
            "length": None, "utilization": None, "verified": False, "violations": [], "error": reason,
            "improvements": []}


def _progress_line(record: dict) -> str:
    head = f"{record['instance']:<10} {record['engine']:<8} seed {record['seed']}"
    if record.get("error"):
        return f"{head}  FAILED: {record['error']}"
    verdict = "verified" if record["verified"] else f"INVALID ({len(record['violations'])} violations)"
    return f"{head}  utilization {record['utilization'] * 100:6.2f} %  length {record['length']:.4g}  {record['wall_s']:.1f} s  {verdict}"
