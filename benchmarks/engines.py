"""The engines a benchmark compares, each run once in the current process.

``ours`` is this engine through its library API; ``spyrrow`` is sparrow (Gardeyn & Wauters)
through its Python wrapper, given the same items, width, time budget, seed and number of
cores (our worker processes, its threads).
Both markers go through our own verifier; a peer marker that fails it is reported as such.
Every record holds the anytime curve (``improvements``: seconds, utilization) as the engine
reported it, and the final utilization as measured on the verified marker.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import resource
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

ENGINES = ("ours", "spyrrow")
NO_TARGET = 1.0  # benchmark runs use their whole budget: never stop early on a utilization target
_DRAIN_INTERVAL = 0.02  # seconds between reads of the peer's progress queue


def check_engines(engines) -> None:
    """Raise `BenchmarkError` for an unknown engine or a peer that is not installed."""
    from benchmarks.catalog import BenchmarkError

    for engine in engines:
        if engine not in ENGINES:
            raise BenchmarkError(f"--engines: unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if "spyrrow" in engines and importlib.util.find_spec("spyrrow") is None:
        raise BenchmarkError("--engines spyrrow: spyrrow is not installed (pip install '.[bench]')")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _record(marker, improvements, wall, cpu, problems) -> dict:
    from nesting.report import lower_bound

    bound = lower_bound(marker)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "length": marker.length,
        "utilization": marker.utilization,
        "verified": not problems,
        "violations": problems,
        "lower_bound_length": bound,
        "utilization_bound": marker.placed_area / (marker.fabric.width * bound),
        "marker_digest": marker_digest(marker),
        "improvements": improvements,
    }


def marker_digest(marker) -> str:
    """A fingerprint of every placement, exact to the bit: equal digests mean equal markers."""
    rows = [[p.piece, p.copy, p.rotation, p.mirrored, p.x.hex(), p.y.hex()] for p in marker.placements]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def run_ours(path: Path, seed: int, time_s: float | None, iterations: int | None = None, marker_path=None,
             workers: int = 1, parallel: str = "shared") -> dict:
    """One run of our engine on ``workers`` cores; compilation is done first and reported apart."""
    from nesting import Fabric, NestConfig, nest
    from nesting.kernels import warmup
    from nesting.markerfile import dump
    from nesting.search.base import Listener
    from nesting.verify import violations
    from patterns.instances import load_instance

    class Curve(Listener):
        def __init__(self):
            self.points = []

        def improved(self, elapsed, length, utilization, phase):
            self.points.append([elapsed, utilization])

    instance = load_instance(path)
    compile_s = warmup()
    config = NestConfig(seed=seed, time_limit=None if iterations else time_s, iterations=iterations,
                        workers=workers, parallel=parallel, target_utilization=NO_TARGET)
    curve = Curve()
    cpu0, start = _cpu_seconds(), time.perf_counter()
    marker = nest(instance.pieces, Fabric(instance.width), config, listener=curve, input_name=str(path), units="instance")
    wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu0
    if marker_path:
        dump(marker, marker_path)
    record = _record(marker, curve.points, wall, cpu, violations(marker, config.tolerances))
    record.update(
        engine_version=_version("marker-nesting"), threads=workers, parallel=parallel,
        compile_s=marker.stats.get("compile_s", compile_s),
        nfp_s=marker.stats.get("nfp_s"), iterations=marker.stats.get("iterations"),
    )
    return record


def run_spyrrow(path: Path, seed: int, time_s: float, marker_path=None, threads: int = 1) -> dict:
    """One run of sparrow via spyrrow on ``threads`` threads, its marker rebuilt and verified by us.

    spyrrow takes whole seconds: the budget is rounded (at least 1 s) and the record states
    the budget it actually got. ``early_termination`` is off so that it, like ours, uses the
    whole budget.
    """
    import spyrrow

    from nesting import Fabric, Marker, Placement
    from nesting.markerfile import dump
    from nesting.verify import violations
    from patterns.instances import load_instance

    instance = load_instance(path)
    budget = max(1, round(time_s))
    items = [
        spyrrow.Item(p.id, [tuple(xy) for xy in p.outline.exterior.coords[:-1]], p.demand, list(p.rotations))
        for p in instance.pieces if p.demand > 0
    ]
    problem = spyrrow.StripPackingInstance(instance.name, instance.width, items)
    config = spyrrow.StripPackingConfig(early_termination=False, total_computation_time=budget, num_workers=threads,
                                        seed=seed)
    queue, done, curve = spyrrow.ProgressQueue(), threading.Event(), []
    feasible = (spyrrow.ReportType.ExplFeas, spyrrow.ReportType.CmprFeas, spyrrow.ReportType.Final)

    def drain():
        best = 0.0
        while True:
            finished = done.is_set()
            now = time.perf_counter() - start
            for kind, solution in queue.drain():
                if kind in feasible and solution.density > best:
                    best = solution.density
                    curve.append([now, float(solution.density)])
            if finished:
                return
            time.sleep(_DRAIN_INTERVAL)

    cpu0, start = _cpu_seconds(), time.perf_counter()
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    solution = problem.solve(config, progress=queue)
    wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu0
    done.set()
    reader.join()
    index = {p.id: i for i, p in enumerate(instance.pieces)}
    copies = Counter()
    placements = []
    for placed in solution.placed_items:
        piece = index[str(placed.id)]
        tx, ty = placed.translation
        placements.append(Placement(piece, copies[piece], float(placed.rotation), False, float(tx), float(ty)))
        copies[piece] += 1
    marker = Marker(pieces=instance.pieces, fabric=Fabric(instance.width), placements=tuple(placements), length=0.0,
                    seed=seed, elapsed_s=wall, input=str(path), units="instance", target_utilization=NO_TARGET)
    marker = replace(marker, length=max((polygon.bounds[2] for polygon in marker.polygons()), default=0.0))
    problems = violations(marker)
    if marker_path:
        dump(marker, marker_path)
    record = _record(marker, curve, wall, cpu, problems)
    record.update(
        engine_version=_version("spyrrow"), threads=threads, time_budget_s=float(budget),
        reported_length=float(solution.width), reported_utilization=float(solution.density),
    )
    return record


def _version(distribution: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
