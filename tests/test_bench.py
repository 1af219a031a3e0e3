"""The benchmark runner: independent processes, verified markers, reproducible iteration budgets.

Every number the runner reports is checked against the marker file it wrote, re-read and
re-measured with shapely (`nest verify`'s checker), never against the engine's own figures.
"""

import importlib.util
import json
import math

import numpy as np
import pytest
import shapely

import benchmarks.engines
from benchmarks.catalog import best_known_density
from benchmarks.run import run_one
from benchmarks.table import summarize, table_markdown
from cli import main
from nesting.markerfile import load
from nesting.verify_file import verify_file
from patterns.instances import load_instance
from tests.conftest import INSTANCES

FU = INSTANCES / "fu.json"


def _measured_utilization(marker_path):
    marker = load(marker_path)
    area = sum(p.area for p in marker.polygons)
    return area / (marker.width * max(p.bounds[2] for p in marker.polygons))


def test_same_seed_and_iterations_give_the_same_marker_in_separate_processes(tmp_path):
    first = run_one(FU, "ours", 3, 30.0, 25, tmp_path / "a.json")
    second = run_one(FU, "ours", 3, 30.0, 25, tmp_path / "b.json")
    assert first["verified"] and second["verified"]
    assert first["marker_digest"] == second["marker_digest"]
    a, b = load(tmp_path / "a.json"), load(tmp_path / "b.json")
    assert [p.wkt for p in a.polygons] == [p.wkt for p in b.polygons]


def test_bench_command_writes_verified_results_table_and_plots(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["bench", "fu", "--iterations", "20", "--seeds", "1", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert {"cpu", "logical_cores", "python", "versions"} <= set(results["machine"])
    assert results["machine"]["versions"]["numba"]
    [run] = results["runs"]
    assert {"instance", "engine", "seed", "time_budget_s", "wall_s", "length", "utilization", "verified",
            "improvements"} <= set(run)
    marker = out / run["marker"]
    assert verify_file(marker, instance=FU) == []
    assert run["verified"] and math.isclose(run["utilization"], _measured_utilization(marker), rel_tol=1e-9)
    assert run["improvements"] and all(0 < u <= 1 for _, u in run["improvements"])
    # The lower bound is below the best known marker and at least the area bound.
    instance = load_instance(FU)
    area_bound = sum(p.outline.area * p.demand for p in instance.pieces) / instance.width
    best_length = area_bound / best_known_density("fu")
    assert area_bound - 1e-9 <= run["lower_bound_length"] <= best_length
    table = (out / "results.md").read_text()
    assert "| fu | 92.39 |" in table and f"{run['utilization'] * 100:.2f}" in table
    for png in ("anytime.png", "utilization.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_peer_marker_is_rebuilt_and_verified_by_our_checker(tmp_path):
    pytest.importorskip("spyrrow")
    run = run_one(FU, "spyrrow", 0, 1.0, None, tmp_path / "peer.json")
    assert "error" not in run, run.get("error")
    problems = verify_file(tmp_path / "peer.json", instance=FU)
    assert run["verified"] == (problems == [])
    assert math.isclose(run["utilization"], _measured_utilization(tmp_path / "peer.json"), rel_tol=1e-9)
    assert run["threads"] == 1 and run["time_budget_s"] == 1.0
    curve = [u for _, u in run["improvements"]]
    assert curve and curve == sorted(curve)


def test_asking_for_an_absent_peer_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    real = benchmarks.engines.importlib.util.find_spec
    monkeypatch.setattr(benchmarks.engines.importlib.util, "find_spec",
                        lambda name, *a: None if name == "spyrrow" else real(name, *a))
    out = tmp_path / "run"
    assert main(["bench", "fu", "--engines", "ours,spyrrow", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "spyrrow is not installed" in err
    assert not out.exists()


def test_unknown_instance_is_exit_2(tmp_path, capsys):
    assert main(["bench", "no-such-instance", "--out", str(tmp_path / "x")]) == 2
    assert "no-such-instance" in capsys.readouterr().err


def _run(engine, seed, utilization, length, verified=True, error=None):
    return {"instance": "toy", "engine": engine, "seed": seed, "utilization": utilization, "length": length,
            "verified": verified, "violations": [] if verified else ["overlap"], "error": error, "wall_s": 1.0,
            "lower_bound_length": 8.0, "utilization_bound": 1.0, "improvements": []}


def test_medians_count_only_verified_markers_and_the_table_compares_them():
    ours = [_run("ours", 0, 0.80, 10.0), _run("ours", 1, 0.90, 8.9), _run("ours", 2, 0.85, 9.4)]
    peer = [_run("spyrrow", 0, 0.95, 8.4, verified=False), _run("spyrrow", 1, 0.88, 9.1),
            _run("spyrrow", 2, 0.86, 9.3)]
    summary = summarize(peer)
    assert (summary.valid, summary.invalid, summary.failed) == (2, 1, 0)
    assert summary.median_utilization == pytest.approx(0.87) and summary.best_utilization == 0.88
    results = {"settings": {"engines": ["ours", "spyrrow"]}, "instances": {"toy": {"best_known_density": 0.9}},
               "runs": ours + peer}
    [row] = [line for line in table_markdown(results).splitlines() if line.startswith("| toy")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3] == "85.00" and cells[4] == "90.00"
    assert cells[5] == "87.00 (2/3 valid)" and cells[7] == f"{0.85 / 0.87:.3f}"
    assert cells[8] == f"{(9.4 / 8.0 - 1) * 100:.1f} %"


def test_kernel_benchmark_pieces_queries_and_placement_agree_with_shapely():
    from benchmarks.kernels import constructive_placement, overlap_queries, reference_nfp, smooth_piece, time_reference

    rng = np.random.default_rng(1)
    a, b = smooth_piece(30, rng), smooth_piece(30, rng)
    polygon = shapely.Polygon(a)
    assert polygon.is_valid and len(a) == 30 and not math.isclose(polygon.area, polygon.convex_hull.area, rel_tol=1e-3)
    # The reference ring is NFP(A, B) = A - B: B placed at one of its vertices touches A without overlap.
    corner = reference_nfp(a, b)[0]
    touching = shapely.intersection(polygon, shapely.Polygon(b + np.array(corner))).area
    assert touching <= 1e-9 * polygon.area
    q = overlap_queries(a, b, 300, rng)
    assert q["agreement"] >= 0.99 and q["ours_point_s"] > 0 and q["shapely_intersects_s"] > 0
    slow_a, slow_b = smooth_piece(150, rng), smooth_piece(150, rng)
    assert time_reference(slow_a, slow_b, 0.01) is None  # given up on, child killed
    [row] = constructive_placement(["fu"])
    assert row["verified"] and 0.5 < row["utilization"] <= 1 and 0 < row["nfp_pairs"] <= row["shapes"] * (row["shapes"] + 1) // 2


def test_sets_name_the_comparison_instances_and_shirts_x10_is_shirts_times_ten():
    from benchmarks.catalog import GARDEYN, GARMENT, expand

    names = [path.stem for path in expand(["comparison", "shirts"])]
    assert names == [*GARMENT, *GARDEYN, "shirts-x10"]  # shirts given twice is run once
    assert all(best_known_density(name) for name in GARMENT + GARDEYN)
    shirts, large = load_instance(INSTANCES / "shirts.json"), load_instance(INSTANCES / "shirts-x10.json")
    assert large.width == shirts.width
    assert [(p.outline.wkt, p.demand * 10) for p in shirts.pieces] == [(p.outline.wkt, p.demand) for p in large.pieces]


def test_bench_gives_each_engine_the_same_cores(tmp_path):
    out = tmp_path / "run"
    engines = "ours,spyrrow" if importlib.util.find_spec("spyrrow") else "ours"
    assert main(["bench", "fu", "--time", "1", "--iterations", "20", "--seeds", "1", "--workers", "2",
                 "--engines", engines, "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["workers"] == 2
    assert [run["threads"] for run in results["runs"]] == [2] * len(engines.split(","))
    assert all(verify_file(out / run["marker"], instance=FU) == [] for run in results["runs"])
    assert "--workers 2" in (out / "results.md").read_text()
