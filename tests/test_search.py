"""The search strategies: every result verifies, budgets reproduce, warm starts never lose."""

import json
import os
import queue
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import affinity

from cli import main
from nesting import Fabric, NestConfig, nest
from nesting.config import PARALLEL_MODES
from nesting.engine import layout_from_placements
from nesting.errors import NestingError, SpecError
from nesting.geometry import prepare
from nesting.kernels.collision import LayoutState
from nesting.kernels.separate import update_weights
from nesting.search.base import Listener, Stop
from nesting.search.portfolio import BestRelay, _drain
from patterns import read_pieces
from patterns.instances import load_instance
from patterns.piece import Piece
from tests.conftest import EXAMPLE, INSTANCES
from tests.naive import non_convex_polygons


def _instance(name):
    instance = load_instance(INSTANCES / f"{name}.json")
    return list(instance.pieces), Fabric(instance.width)


def _outside_the_fabric(marker):
    """Pieces not inside [0, length] x [0, width] (shapely, with the verifier's slack)."""
    fabric = shapely.box(0, 0, marker.length, marker.fabric.width).buffer(1e-6 * marker.fabric.width, join_style="mitre")
    return [k for k, polygon in enumerate(marker.polygons()) if not fabric.contains(polygon)]


def _independent_overlaps(marker):
    polygons = marker.polygons()
    return [(i, j) for i in range(len(polygons)) for j in range(i + 1, len(polygons))
            if shapely.intersection(polygons[i], polygons[j]).area > 1e-6 * min(polygons[i].area, polygons[j].area)]


@settings(max_examples=12, deadline=None)
@given(st.lists(non_convex_polygons(), min_size=2, max_size=4), st.integers(1, 3),
       st.sampled_from(["blf", "ga", "compact", "auto"]), st.integers(0, 1000))
def test_search_on_random_instances_verifies(outlines, copies, strategy, seed):
    pieces = [Piece(id=str(k), name=str(k), outline=affinity.scale(o, 0.01, 0.01), quantity=copies, rotations=(0.0, 180.0))
              for k, o in enumerate(outlines)]
    width = 1.2 * max(max(p.outline.bounds[3] - p.outline.bounds[1], p.outline.bounds[2] - p.outline.bounds[0])
                      for p in pieces)
    marker = nest(pieces, Fabric(width), NestConfig(seed=seed, iterations=6, strategy=strategy), units="instance")
    assert len(marker.placements) == sum(p.demand for p in pieces)
    assert sorted((p.piece, p.copy) for p in marker.placements) == sorted(
        (k, c) for k, piece in enumerate(pieces) for c in range(piece.demand))
    assert _outside_the_fabric(marker) == []
    assert _independent_overlaps(marker) == []


@pytest.mark.parametrize(("workers", "parallel", "rounds"),
                         [(1, "shared", 1), (2, "shared", 1), (2, "portfolio", 1), (2, "portfolio", 3)])
def test_same_seed_and_iterations_give_the_same_marker(workers, parallel, rounds):
    pieces, fabric = _instance("shapes1")
    config = NestConfig(seed=7, iterations=40, workers=workers, parallel=parallel, rounds=rounds)
    first, second = nest(pieces, fabric, config), nest(pieces, fabric, config)
    assert first.placements == second.placements and first.length == second.length


def test_rounds_keep_the_best_marker_of_every_round():
    """Each round's workers continue from the shortest marker so far: the result is the
    shortest any worker reported in any round, and it verifies."""

    class Lengths(Listener):
        def __init__(self):
            self.reported = []

        def improved(self, elapsed, length, utilization, phase):
            self.reported.append(length)

    pieces, fabric = _instance("jakobs1")
    lengths = Lengths()
    marker = nest(pieces, fabric, NestConfig(seed=2, iterations=60, workers=2, parallel="portfolio", rounds=3,
                                                    target_utilization=1.0),
                  listener=lengths)
    assert lengths.reported == sorted(lengths.reported, reverse=True)
    assert marker.length == pytest.approx(lengths.reported[-1], rel=1e-4)  # true outlines vs inflated grid shapes
    assert _independent_overlaps(marker) == [] and _outside_the_fabric(marker) == []


@pytest.mark.parametrize("parallel", PARALLEL_MODES)
def test_a_timed_two_worker_search_returns_near_its_budget(parallel):
    """The budget is the wall budget, workers included (measured loosely here: the machine may
    be shared; the README gives the measured overrun)."""
    pieces, fabric = _instance("shirts")
    stop = Stop(time_limit=2.0)
    marker = nest(pieces, fabric, NestConfig(seed=1, time_limit=2.0, workers=2, parallel=parallel), stop=stop)
    assert 2.0 <= stop.elapsed() < 2.0 + 3.0
    assert marker.elapsed_s <= stop.elapsed()


def test_compaction_shortens_the_constructive_marker():
    pieces, fabric = _instance("jakobs1")
    constructive = nest(pieces, fabric, NestConfig(iterations=1, strategy="blf"))
    compacted = nest(pieces, fabric, NestConfig(iterations=300, strategy="compact"))
    assert compacted.length < constructive.length
    assert _independent_overlaps(compacted) == []


def test_target_stops_the_search_early():
    pieces, fabric = _instance("shapes1")
    loose = nest(pieces, fabric, NestConfig(iterations=2000, target_utilization=0.5))
    assert loose.utilization >= 0.5
    assert loose.stats["iterations"] < 2000


def test_warm_start_is_never_worse(tmp_path):
    instance = INSTANCES / "jakobs1.json"
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["marker", str(instance), "--iterations", "30", "--out", str(first), "--quiet"]) == 0
    assert main(["marker", str(instance), "--iterations", "30", "--seed", "3", "--warm-start",
                 str(first / "marker.json"), "--out", str(second), "--quiet"]) == 0
    before = json.loads((first / "marker.json").read_text())
    after = json.loads((second / "marker.json").read_text())
    assert after["length"] <= before["length"]
    assert main(["verify", str(second / "marker.json"), "--instance", str(instance)]) == 0


def test_warm_start_from_other_pieces_is_a_user_error(tmp_path, capsys):
    first = tmp_path / "first"
    assert main(["marker", str(INSTANCES / "shapes1.json"), "--iterations", "2", "--out", str(first), "--quiet"]) == 0
    capsys.readouterr()
    code = main(["marker", str(INSTANCES / "jakobs1.json"), "--iterations", "2", "--warm-start",
                 str(first / "marker.json"), "--out", str(tmp_path / "second"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--warm-start" in err and "Traceback" not in err
    assert not (tmp_path / "second" / "marker.json").exists()


def test_warm_start_layout_must_match_every_copy():
    pieces, fabric = _instance("shapes1")
    marker = nest(pieces, fabric, NestConfig(iterations=1, strategy="blf"))
    prep = prepare(pieces, fabric, NestConfig())
    placements = [(pieces[p.piece].id, p.copy, p.rotation, p.mirrored, p.x, p.y) for p in marker.placements]
    layout = layout_from_placements(prep, placements)
    assert np.allclose(layout.position / prep.scale, [(p.x, p.y) for p in marker.placements])
    with pytest.raises(SpecError, match="lacks"):
        layout_from_placements(prep, placements[1:])
    wrong = [(i, c, r + 90.0, m, x, y) for i, c, r, m, x, y in placements]
    with pytest.raises(SpecError, match="not allowed"):
        layout_from_placements(prep, wrong)


def test_guided_local_search_weights_stay_finite_under_persistent_collision():
    """Regression: weights multiplied every round overflowed to inf, and inf x 0 poisoned moves."""
    state = LayoutState(shape_of=np.zeros(2, dtype=np.int64), position=np.zeros((2, 2)), length=1.0, n_movable=2,
                        pair_loss=np.array([[0.0, 5.0], [5.0, 0.0]]), container_loss=np.array([3.0, 0.0]),
                        pair_weight=np.ones((2, 2)), container_weight=np.ones(2))
    for _ in range(5000):
        update_weights(state, 1.2, 2.0, 0.95)
    assert np.isfinite(state.pair_weight).all() and np.isfinite(state.container_weight).all()
    assert state.pair_weight[0, 1] > 1.0 and state.container_weight[0] > 1.0


def test_a_long_search_on_a_small_pattern_verifies():
    """Regression: five garment pieces that cannot get shorter collide for thousands of rounds."""
    pieces, _ = read_pieces(EXAMPLE)
    marker = nest(pieces, Fabric(1500.0), NestConfig(iterations=3000, strategy="compact"))
    assert _outside_the_fabric(marker) == [] and _independent_overlaps(marker) == []


class _Recorder(Listener):
    def __init__(self):
        self.lengths = []

    def improved(self, elapsed, length, utilization, phase):
        self.lengths.append(length)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.floats(1.0, 100.0)), max_size=40))
def test_portfolio_progress_shows_the_global_best_only(reports):
    """Two workers' own bests, interleaved as a queue delivers them: the lines never lengthen."""
    own_best = [float("inf"), float("inf")]
    progress = queue.SimpleQueue()
    for worker, length in reports:
        if length < own_best[worker]:  # a worker reports only its own improvements
            own_best[worker] = length
            progress.put(("improved", (0.0, length, 0.5, f"w{worker}")))
    recorder = _Recorder()
    _drain(progress, BestRelay(recorder))
    lines = recorder.lengths
    assert all(later < earlier for earlier, later in zip(lines, lines[1:]))
    assert (lines[-1] if lines else float("inf")) == min(own_best)


def _grandchildren() -> list[int]:
    """Processes two generations below this one (the fork server's children: the workers), from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    children = {pid for pid, parent in parents.items() if parent == os.getpid()}
    return sorted(pid for pid, parent in parents.items() if parent in children)


def test_a_worker_killed_mid_search_ends_the_run_with_an_error_not_a_hang():
    class KillAWorker(Listener):
        killed = False

        def improved(self, elapsed, length, utilization, phase):
            if not self.killed and _grandchildren():
                os.kill(_grandchildren()[0], signal.SIGKILL)
                self.killed = True

    def hung(signum, frame):
        raise TimeoutError("the portfolio waited for a dead worker")

    pieces, fabric = _instance("shirts")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    started = time.monotonic()
    try:
        with pytest.raises(NestingError, match="worker process ended abnormally"):
            nest(pieces, fabric, NestConfig(seed=1, time_limit=30.0, workers=2, parallel="portfolio"),
                 listener=KillAWorker())
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 30.0
