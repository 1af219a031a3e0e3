"""Batch throughput: markers per minute of ``nest batch`` with 1 and 2 workers.

``python -m benchmarks.batch_throughput [--iterations N] [--seeds K] [--dask] [--out DIR]``
nests the same small jobs (bundled instances x seeds, an iteration budget, marker.json only)
with the local process pool at each worker count, and optionally on an embedded Dask
LocalCluster, and writes ``DIR/batch_throughput.md`` (default ``benchmarks/results``).

Wall time is the whole batch as a user sees it: worker start-up and kernel loading included,
every marker verified and written. Each configuration starts from an empty output folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.machine import describe, describe_text
from jobs.batch import OK, load_jobs, run_batch
from nesting.atomic import write_text

INSTANCES = Path(__file__).resolve().parent / "instances"
DEFAULT_INSTANCES = ("jakobs1", "jakobs2", "shapes0", "shapes1", "fu", "dagli")


def jobs_file(folder: Path, instances, seeds: int, iterations: int) -> Path:
    """A jobs file of every instance x seed, with an iteration budget (reproducible markers)."""
    tables = [f'[defaults]\niterations = {iterations}\nformats = ["json"]\n']
    for name in instances:
        for seed in range(seeds):
            tables.append(f'[[job]]\nname = "{name}-s{seed}"\ninput = "{INSTANCES / name}.json"\nseed = {seed}\n')
    path = folder / "jobs.toml"
    path.write_text("\n".join(tables), encoding="utf-8")
    return path


def measure(path: Path, out: Path, workers: int, scheduler: str | None) -> dict:
    jobs = load_jobs(path, out)
    start = time.perf_counter()
    results = run_batch(jobs, out, workers=workers, scheduler=scheduler, force=True)
    wall = time.perf_counter() - start
    done = sum(r.status == OK for r in results)
    return {
        "backend": "Dask LocalCluster" if scheduler else "process pool", "workers": workers, "jobs": len(jobs),
        "ok": done, "wall_s": wall, "per_minute": 60 * done / wall,
        "nest_s": sum(r.nest_s or 0.0 for r in results), "job_s": sum(r.wall_s or 0.0 for r in results),
    }


def report(rows, machine: dict, load_after, args) -> str:
    base = rows[0]["per_minute"]
    lines = [
        "# Batch throughput",
        "",
        f"`python -m benchmarks.batch_throughput --iterations {args.iterations} --seeds {args.seeds}"
        f"{' --dask' if args.dask else ''}`: {rows[0]['jobs']} jobs ({', '.join(args.instances)} x {args.seeds} seeds), "
        f"iteration budget {args.iterations}, marker.json only; each configuration from an empty output folder.",
        "",
        "| backend | workers | markers | wall s | markers / min | speed-up | sum of job times s | of which search s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['backend']} | {row['workers']} | {row['ok']}/{row['jobs']} | {row['wall_s']:.1f} | "
            f"{row['per_minute']:.1f} | {row['per_minute'] / base:.2f}x | {row['job_s']:.1f} | {row['nest_s']:.1f} |"
        )
    lines += [
        "",
        "Wall time includes starting the workers and loading the numba kernels in each (once per worker).",
        "\"Sum of job times\" is reading, nesting, verifying and writing, summed over jobs inside the workers;",
        "with an iteration budget each job does the same work at any worker count, so when this sum grows",
        "with the worker count the workers were sharing cores (with each other or with other processes).",
        "",
        f"Machine: {describe_text(machine)} Load average at the end {load_after}.",
        "",
        "This machine is shared: other processes were using the CPU during the run (see the load",
        "averages), so the absolute rates, and the speed-up from a second worker, are lower bounds of",
        "what an idle machine gives.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch_throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=500, help="search budget of each job (default 500)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per instance (default 2)")
    parser.add_argument("--instances", nargs="+", default=list(DEFAULT_INSTANCES))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--dask", action="store_true", help="also run on an embedded Dask LocalCluster")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    machine = describe()
    rows = []
    with tempfile.TemporaryDirectory(prefix="batch-throughput-") as tmp:
        path = jobs_file(Path(tmp), args.instances, args.seeds, args.iterations)
        configurations = [(w, None) for w in args.workers] + ([(max(args.workers), "local")] if args.dask else [])
        for workers, scheduler in configurations:
            row = measure(path, Path(tmp) / f"out-{workers}-{scheduler or 'pool'}", workers, scheduler)
            print(f"{row['backend']:<17} {workers} workers: {row['ok']}/{row['jobs']} markers in {row['wall_s']:.1f} s"
                  f" = {row['per_minute']:.1f} per minute", file=sys.stderr)
            rows.append(row)
    load_after = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "batch_throughput.md", report(rows, machine, load_after, args))
    print(f"wrote {out / 'batch_throughput.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
