"""Kernel micro-benchmark: NFP construction, overlap queries, whole-instance NFPs and placement.

``python -m benchmarks.kernels [--quick] [--out DIR]`` writes ``DIR/kernels.json`` and
``DIR/kernels.md`` (default ``benchmarks/results``), with the machine's description.

- NFP per pair: ours (`nesting.nfp.nfp_rings`, convolution + positive-winding union) against
  the SVGnest recipe (pyclipper ``MinkowskiDiff``, keep the largest ring) on the same smooth
  random pieces of 10 .. 1,000 vertices. The reference runs in a child process and is given
  up on after the limit (60 s a pair): larger sizes are then not tried.
- Overlap queries: "does B at offset p overlap A?" as a point query in the cached NFP
  (`point_in_rings`, and `depth_in_rings` which the separator uses), against shapely
  ``intersects`` of A (prepared) and B translated, on the same pairs and offsets.
- All NFPs of trousers (as the engine builds them) and of 100 piece types of 500 vertices.
- Constructive placement (bottom-left fill, decreasing area) of every bundled instance.

Numba compilation is measured apart: cold (empty cache, in a child process) and warm.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyclipper
import shapely
from numba import njit

from benchmarks.catalog import DEFAULT_SET, resolve
from benchmarks.machine import describe, describe_text
from nesting.geometry import clean_ring
from nesting.kernels.polygon import depth_in_rings, point_in_rings
from nesting.nfp import nfp_rings

GRID = 2**20  # piece diameter in grid units, as the engine's grid (Tolerances.grid_bits)
FULL = {"sizes": (10, 50, 100, 200, 1000), "pairs": 3, "reference_limit": 60.0, "queries": 5000,
        "big_types": 100, "big_vertices": 500, "big_limit": 60.0}
QUICK = {"sizes": (10, 50, 100), "pairs": 2, "reference_limit": 5.0, "queries": 1000,
         "big_types": 12, "big_vertices": 200, "big_limit": 5.0}


def smooth_piece(vertices: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth, non-convex, star-shaped int ring (a flattened curve) of ``vertices`` vertices."""
    step = 2 * np.pi / vertices
    theta = np.arange(vertices) * step + rng.uniform(-0.3, 0.3, vertices) * step
    radius = np.ones(vertices)
    for k in range(2, 6):
        radius += rng.uniform(0.0, 0.12) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    xy = np.column_stack((radius * np.cos(theta), radius * np.sin(theta))) * (GRID / 2.8)
    return clean_ring(np.round(xy).astype(np.int64))


def _time_per_call(function, *args, budget=0.3, max_calls=50) -> float:
    """Median seconds per call, repeating until ``budget`` seconds or ``max_calls`` calls."""
    times, spent = [], 0.0
    while spent < budget and len(times) < max_calls:
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return statistics.median(times)


def reference_nfp(a: np.ndarray, b: np.ndarray) -> list:
    """NFP(A, B) the SVGnest way: Clipper's Minkowski difference A - B, largest ring only."""
    rings = pyclipper.MinkowskiDiff(b.tolist(), a.tolist())
    return max(rings, key=lambda r: abs(pyclipper.Area(r)))


def _reference_child(a, b, connection):
    start = time.perf_counter()
    reference_nfp(a, b)
    connection.send(time.perf_counter() - start)


def time_reference(a: np.ndarray, b: np.ndarray, limit: float) -> float | None:
    """Seconds of one reference NFP in a child process; None if it passed ``limit``."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_reference_child, args=(a, b, send))
    child.start()
    ready = receive.poll(limit)
    seconds = receive.recv() if ready else None
    child.terminate()
    child.join()
    return seconds


@njit(cache=True)
def _queries(points, xy, offsets, r1, depth):
    """Overlap queries in a compiled loop, as the search makes them (timing harness only)."""
    hits = 0
    for k in range(points.shape[0]):
        if depth:
            hits += depth_in_rings(points[k, 0], points[k, 1], xy, offsets, 0, r1) > 0.0
        else:
            hits += point_in_rings(points[k, 0], points[k, 1], xy, offsets, 0, r1)
    return hits


def overlap_queries(a, b, queries: int, rng) -> dict:
    """Per-query cost of ours (NFP point query) and shapely (intersects), same pair and offsets."""
    rings = nfp_rings(a, b)
    xy = np.ascontiguousarray(np.concatenate(rings).astype(np.float64))
    offsets = np.cumsum([0] + [len(r) for r in rings]).astype(np.int64)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = hi - lo
    points = rng.uniform(lo - 0.1 * span, hi + 0.1 * span, size=(queries, 2))
    repeats = 20
    tiled = np.ascontiguousarray(np.tile(points, (repeats, 1)))
    ours = {}
    for name, depth in (("point", False), ("depth", True)):
        _queries(points[:2], xy, offsets, len(rings), depth)  # compile outside the timing
        start = time.perf_counter()
        _queries(tiled, xy, offsets, len(rings), depth)
        ours[name] = (time.perf_counter() - start) / len(tiled)
    inside = np.array([point_in_rings(p[0], p[1], xy, offsets, 0, len(rings)) for p in points])
    start = time.perf_counter()
    for p in points[:200]:
        point_in_rings(p[0], p[1], xy, offsets, 0, len(rings))
    python_call = (time.perf_counter() - start) / 200
    moved = shapely.polygons(b[None, :, :].astype(np.float64) + points[:, None, :])
    plain, prepared = shapely.Polygon(a), shapely.Polygon(a)
    shapely.prepare(prepared)
    timings = {}
    for name, polygon_a in (("plain", plain), ("prepared", prepared)):
        start = time.perf_counter()
        overlaps = shapely.intersects(polygon_a, moved)
        timings[name] = (time.perf_counter() - start) / len(points)
    return {
        "queries": queries, "ours_point_s": ours["point"], "ours_depth_s": ours["depth"],
        "ours_python_call_s": python_call, "shapely_intersects_s": timings["plain"],
        "shapely_prepared_intersects_s": timings["prepared"],
        "ratio_point": timings["plain"] / ours["point"], "ratio_depth": timings["plain"] / ours["depth"],
        "ratio_prepared_point": timings["prepared"] / ours["point"],
        "agreement": float(np.mean(inside == overlaps)),
    }


def nfp_by_size(plan: dict, rng, say) -> list[dict]:
    rows, reference_alive = [], True
    for n in plan["sizes"]:
        pairs = [(smooth_piece(n, rng), smooth_piece(n, rng)) for _ in range(plan["pairs"])]
        ours = [_time_per_call(nfp_rings, a, b) for a, b in pairs]
        reference, over_limit = [], False
        if reference_alive:
            for a, b in pairs:
                seconds = time_reference(a, b, plan["reference_limit"])
                if seconds is None:
                    over_limit = reference_alive = False
                    break
                reference.append(seconds)
                if seconds > plan["reference_limit"] / 4:
                    break  # one slow pair is enough at this size
        row = {
            "vertices": n, "pairs": len(pairs), "ours_s": statistics.median(ours),
            "reference_s": statistics.median(reference) if reference else None,
            "reference_pairs": len(reference), "reference_over_limit": over_limit,
            "reference_tried": bool(reference) or over_limit,
            "queries": overlap_queries(*pairs[0], min(plan["queries"], 2_000_000 // n), rng),
        }
        rows.append(row)
        say(f"  {n:5d} vertices: ours {row['ours_s'] * 1e3:.2f} ms/pair, reference "
            f"{_fmt_ref(row, plan['reference_limit'])}, query {row['queries']['ours_point_s'] * 1e9:.0f} ns vs "
            f"shapely {row['queries']['shapely_intersects_s'] * 1e6:.1f} µs")
    return rows


def engine_problem(name: str):
    """The prepared shapes and NFP cache of a bundled instance, built as `nesting.nest` builds them."""
    from nesting import Fabric, NestConfig
    from nesting.geometry import prepare
    from nesting.nfp import NFPCache
    from nesting.search.base import Problem
    from patterns.instances import load_instance

    instance = load_instance(resolve(name))
    start = time.perf_counter()
    prep = prepare(instance.pieces, Fabric(instance.width), NestConfig())
    prepare_s = time.perf_counter() - start
    cache = NFPCache([(s.ring, s.holes) for s in prep.shapes] + [(z, ()) for z in prep.zones])
    return Problem(prep, cache, NestConfig()), prepare_s


def trousers_nfps() -> dict:
    """Every NFP of trousers (17 types x 2 orientations), as the engine builds them."""
    problem, _ = engine_problem("trousers")
    prep, cache = problem.prep, problem.cache
    vertices = [len(s.ring) for s in prep.shapes]
    return {"shapes": len(prep.shapes), "pairs": cache.computed_pairs, "seconds": cache.build_seconds,
            "vertices_mean": float(np.mean(vertices)), "vertices_max": int(max(vertices)),
            "memory_bytes": cache.memory_bytes}


def big_set_nfps(types: int, vertices: int, limit: float, rng) -> dict:
    """All pairs of ``types`` smooth pieces of ``vertices`` vertices, stopped at ``limit`` seconds."""
    rings = [smooth_piece(vertices, rng) for _ in range(types)]
    pairs = [(i, j) for i in range(types) for j in range(i, types)]
    start, done = time.perf_counter(), 0
    for i, j in pairs:
        nfp_rings(rings[i], rings[j])
        done += 1
        if time.perf_counter() - start > limit:
            break
    seconds = time.perf_counter() - start
    return {"types": types, "vertices": vertices, "pairs": len(pairs), "pairs_done": done, "seconds": seconds,
            "projected_s": seconds / done * len(pairs), "complete": done == len(pairs), "limit_s": limit}


def constructive_placement(names=DEFAULT_SET) -> list[dict]:
    """Bottom-left fill (decreasing area) of each instance: NFP time and placement time."""
    from nesting.engine import to_marker
    from nesting.search.bottom_left import area_order, bottom_left
    from nesting.verify import violations

    rows = []
    for name in names:
        problem, prepare_s = engine_problem(name)
        prep, cache = problem.prep, problem.cache
        start = time.perf_counter()
        layout = bottom_left(problem, area_order(problem))
        place_s = time.perf_counter() - start
        marker = to_marker(problem, layout, units="instance")
        rows.append({"instance": name, "pieces": len(prep.item_piece), "shapes": len(prep.shapes),
                     "prepare_s": prepare_s, "nfp_s": cache.build_seconds, "nfp_pairs": cache.computed_pairs,
                     "place_s": place_s, "utilization": marker.utilization, "verified": not violations(marker)})
    return rows


def compile_times() -> dict:
    """Kernel compilation from an empty numba cache (child process) and loading from the cache."""
    from nesting.kernels import warmup

    cached = warmup()  # the first call in this process: loads numba's cache (or compiles into it)
    code = "from nesting.kernels import warmup; print(warmup())"
    with tempfile.TemporaryDirectory() as cache_dir:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                              cwd=Path(__file__).resolve().parent.parent)
    cold = float(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
    return {"cold_s": cold, "cached_s": cached}


def run_kernels(quick: bool = False, out: Path | str = "benchmarks/results", say=print) -> list[Path]:
    """Run the whole micro-benchmark and write kernels.json and kernels.md to ``out``."""
    from nesting.atomic import write_text

    plan = QUICK if quick else FULL
    rng = np.random.default_rng(2024)
    say("compile")
    results = {"schema": "kernels/1", "quick": quick, "plan": plan, "machine": describe(), "compile": compile_times()}
    say("NFP per pair and overlap queries")
    results["nfp"] = nfp_by_size(plan, rng, say)
    say("trousers NFPs")
    results["trousers"] = trousers_nfps()
    say(f"{plan['big_types']} types x {plan['big_vertices']} vertices NFPs")
    results["big_set"] = big_set_nfps(plan["big_types"], plan["big_vertices"], plan["big_limit"], rng)
    say("constructive placement")
    results["placement"] = constructive_placement()
    out = Path(out)
    write_text(out / "kernels.json", json.dumps(results, indent=1) + "\n")
    write_text(out / "kernels.md", kernels_markdown(results))
    return [out / "kernels.json", out / "kernels.md"]


def _fmt_ref(row: dict, limit: float) -> str:
    if row["reference_over_limit"]:
        return f"> {limit:g} s"
    if not row["reference_tried"]:
        return "not run (a smaller size passed the limit)"
    return f"{row['reference_s'] * 1e3:.1f} ms"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}" if seconds < 10 else f"{seconds * 1e3:.0f}"


def kernels_markdown(results: dict) -> str:
    plan, limit = results["plan"], results["plan"]["reference_limit"]
    lines = [
        "# Kernel micro-benchmark" + (" (quick)" if results["quick"] else ""),
        "",
        f"Machine: {describe_text(results['machine'])}",
        "",
        f"Numba compilation (not in any timing below): {results['compile']['cold_s'] or float('nan'):.1f} s from an "
        f"empty cache, {results['compile']['cached_s']:.2f} s loading the cache.",
        "",
        "## NFP construction per pair (smooth random non-convex pieces, both of n vertices)",
        "",
        "Ours: convolution cycle + positive-winding union (exact). Reference: pyclipper `MinkowskiDiff`, "
        f"largest ring kept (the SVGnest recipe; not exact for pieces that fit inside one another), "
        f"stopped after {limit:g} s a pair; median of {plan['pairs']} pairs where measured.",
        "",
        "| vertices | ours ms/pair | reference ms/pair | reference / ours |",
        "|---|---|---|---|",
    ]
    for row in results["nfp"]:
        ref = row["reference_s"]
        ratio = f"{ref / row['ours_s']:.0f}x" if ref else ("> " + f"{limit / row['ours_s']:.0f}x" if row["reference_over_limit"] else "–")
        lines.append(f"| {row['vertices']} | {_ms(row['ours_s'])} | {_fmt_ref(row, limit)} | {ratio} |")
    lines += [
        "",
        "## Overlap queries (same pairs, random offsets around the NFP)",
        "",
        "Ours: point-in-NFP (`point_in_rings`) and penetration depth (`depth_in_rings`, what the separator "
        "evaluates) in a compiled loop over the NFP's rings (no bounding-box reject: nearly every offset lies "
        "inside the NFP's box); the per-call cost from Python is shown apart. Shapely: `intersects` of A with "
        "B translated (geometries built outside the timing), A plain and A prepared. Agreement: share of "
        "offsets where ours and shapely say the same.",
        "",
        "| vertices | queries | ours point ns | ours depth ns | ours from Python µs | shapely µs | shapely prepared µs | "
        "shapely / ours point | shapely / ours depth | prepared / ours point | agreement |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["nfp"]:
        q = row["queries"]
        lines.append(
            f"| {row['vertices']} | {q['queries']} | {q['ours_point_s'] * 1e9:.0f} | {q['ours_depth_s'] * 1e9:.0f} | "
            f"{q['ours_python_call_s'] * 1e6:.2f} | {q['shapely_intersects_s'] * 1e6:.1f} | "
            f"{q['shapely_prepared_intersects_s'] * 1e6:.1f} | {q['ratio_point']:.1f}x | {q['ratio_depth']:.1f}x | "
            f"{q['ratio_prepared_point']:.1f}x | {q['agreement'] * 100:.2f} % |"
        )
    t, big = results["trousers"], results["big_set"]
    big_line = (
        f"all {big['pairs']} NFPs in {big['seconds']:.1f} s"
        if big["complete"] else
        f"over {big['limit_s']:g} s: {big['pairs_done']} of {big['pairs']} NFPs in {big['seconds']:.1f} s, "
        f"all of them would take about {big['projected_s']:.0f} s"
    )
    lines += [
        "",
        "## All NFPs of a marker",
        "",
        f"- trousers ({t['shapes']} shapes: 17 types x 2 orientations, {t['vertices_mean']:.0f} vertices on "
        f"average, {t['vertices_max']} at most): {t['pairs']} NFPs in {t['seconds']:.2f} s "
        f"({t['memory_bytes'] / 2**20:.1f} MiB).",
        f"- {big['types']} types of {big['vertices']}-vertex smooth pieces (one orientation each): {big_line}.",
        "",
        "## Constructive placement (bottom-left fill, decreasing area, one pass)",
        "",
        "| instance | pieces | shapes | prepare s | NFPs | NFP s | placement s | utilization % | verified |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["placement"]:
        lines.append(
            f"| {r['instance']} | {r['pieces']} | {r['shapes']} | {r['prepare_s']:.3f} | {r['nfp_pairs']} | "
            f"{r['nfp_s']:.3f} | {r['place_s']:.3f} | {r['utilization'] * 100:.2f} | {'yes' if r['verified'] else 'NO'} |"
        )
    lines += ["", f"Reproduce: `python -m benchmarks.kernels{' --quick' if results['quick'] else ''}`", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kernels", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short limits (a smoke run)")
    parser.add_argument("--out", default="benchmarks/results", help="folder for kernels.json and kernels.md")
    args = parser.parse_args(argv)
    for path in run_kernels(args.quick, args.out, say=lambda line: print(line, flush=True)):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
