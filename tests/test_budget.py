"""Budgets, limits and whole-folder output, in process: each against an independent check.

The fallback marker is checked by the verifier and by shapely distances; the NFP cache's
shifts against NFPs built at the origin; the staged folder against the files on disk.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from jobs.limits import Limits, parse_limits
from nesting.atomic import check_folder, staged_folder
from nesting.config import NestConfig
from nesting.engine import Problem, nest, to_marker
from nesting.errors import Abandoned, OutputError, SpecError
from nesting.geometry import prepare
from nesting.model import Fabric, Margins
from nesting.nfp import NFPCache, nfp_rings
from nesting.search.base import Stop
from nesting.shelf import shelf_layout
from nesting.verify import violations
from patterns.piece import Piece


def _piece(k, polygon, demand, rotations=(0.0, 180.0), flip=False):
    return Piece(id=f"p{k}", name=f"p{k}", outline=polygon, quantity=demand, rotations=rotations, flip=flip)


shapes = st.lists(st.tuples(st.floats(5, 120), st.floats(5, 60), st.integers(1, 6), st.booleans()), min_size=1,
                  max_size=5)


@settings(max_examples=40, deadline=None)
@given(shapes=shapes, spacing=st.sampled_from([0.0, 2.0, 7.5]), margin=st.sampled_from([0.0, 5.0]),
       zone=st.booleans())
def test_the_fallback_marker_is_always_valid(shapes, spacing, margin, zone):
    pieces = [_piece(k, Polygon([(0, 0), (w, 0), (w * (0.6 if tri else 1), h), (0, h)]), n)
              for k, (w, h, n, tri) in enumerate(shapes)]
    zones = (box(10, 0, 40, 30),) if zone else ()
    fabric = Fabric(200.0, None, Margins(margin, margin, margin, margin), zones)
    config = NestConfig(spacing=spacing)
    prep = prepare(pieces, fabric, config)
    marker = to_marker(Problem(prep, None, config), shelf_layout(prep))
    assert violations(marker, config.tolerances) == []
    placed = [shapely.affinity.translate(shapely.affinity.rotate(pieces[p.piece].outline, p.rotation, origin=(0, 0)),
                                         p.x, p.y) for p in marker.placements]
    for i, a in enumerate(placed):  # the spacing, measured here
        assert a.bounds[1] >= margin - 1e-6 and a.bounds[3] <= 200 - margin + 1e-6
        assert all(a.distance(z) >= -1e-9 and a.intersection(z).area < 1e-9 for z in zones)
        for b in placed[i + 1:]:
            assert a.distance(b) >= spacing - 1e-6


def test_a_budget_that_ends_during_the_nfps_gives_the_fallback_marker():
    rng = np.random.default_rng(0)
    pieces = [_piece(k, Polygon(np.c_[np.cos(t := np.linspace(0, 2 * np.pi, 40, endpoint=False)),
                                      np.sin(t)] * rng.uniform(5, 20)), 1, rotations=(0.0, 90.0, 180.0, 270.0))
              for k in range(40)]
    marker = nest(pieces, Fabric(300.0), NestConfig(time_limit=0.3), stop=Stop(time_limit=0.3))
    assert marker.stats["first_marker"] == "fallback"
    assert marker.elapsed_s < 0.3 + 0.5
    assert len(marker.placements) == 40


def test_a_stop_abandons_the_nfp_build():
    stop = Stop()
    stop.request()
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=np.int64)
    with pytest.raises(Abandoned):
        NFPCache([(square, ()), (square, ())], stop=stop)


def test_zones_get_no_nfps_against_each_other_and_far_shapes_are_exact():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=np.int64)
    triangle = np.array([[0, 0], [8, 0], [0, 6]], dtype=np.int64)
    far = 2**40  # beyond what the convolution kernel takes: the cache shifts the shapes to the origin
    zone = square + (far, 0)
    cache = NFPCache([(square, ()), (triangle, ()), (zone, ()), (zone + (0, 50), ())], fixed=2)
    # The pieces' pairs, each piece against each zone: the zones are squares moved, their NFPs images.
    assert cache.computed_pairs == 3
    assert cache.rings(2, 3) == [] and cache.rings(3, 2) == []
    expected = Polygon(nfp_rings(square, triangle)[0] + (far, 0))
    got = Polygon(cache.rings(2, 1)[0])
    assert got.symmetric_difference(expected).area == 0


def test_limits_refuse_with_the_name_and_how_to_raise_them():
    with pytest.raises(SpecError, match=r"2001 is more than 2000, the limit pieces; raise it with --limit pieces=N"):
        Limits().check("pieces", 2001, "marker")
    assert parse_limits(["pieces=5000", "nfp_pairs=7"]) == Limits(pieces=5000, nfp_pairs=7)
    for bad in (["pieces"], ["bogus=1"], ["pieces=0"], ["pieces=1e3"], ["pieces=" + "9" * 30]):
        with pytest.raises(SpecError):
            parse_limits(bad)
    Limits().check("workers", os.cpu_count() or 1, "--workers")  # the cores are allowed


def test_a_failed_write_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "marker.json").write_text("old")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RuntimeError), staged_folder(out) as staging:
        (staging / "marker.json").write_text("new")
        raise RuntimeError("the disk is full")
    assert sorted(p.name for p in out.iterdir()) == ["marker.json", "notes.txt"]
    assert (out / "marker.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "no staging folder left"


def test_a_successful_write_replaces_the_marker_files_and_keeps_the_others(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("marker.json", "marker.plt", "marker.svg", "notes.txt"):
        (out / name).write_text("old")
    with staged_folder(out, keep=("marker.svg",)) as staging:
        (staging / "marker.json").write_text("new")
    assert {p.name: p.read_text() for p in out.iterdir()} == {"marker.json": "new", "marker.svg": "old",
                                                             "notes.txt": "old"}


def test_output_folders_that_cannot_take_a_marker_are_refused_first(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    (tmp_path / "holder" / "sub").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    for out, reason in (("", "empty"), ("file", "is a file"), ("holder", "holds the folder sub"),
                        (".", "current folder"), ("/proc/x", "cannot create a folder in /proc")):
        with pytest.raises(OutputError, match=reason):
            check_folder(out)
    assert check_folder("new/deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists(), "checking creates nothing"


def test_a_stop_abandons_an_nfp_build_on_worker_processes(monkeypatch):
    """... and leaves no thread behind: one blocked on a task too large for its pipe would hang
    the interpreter's exit (each task here is ~300 kB)."""
    from nesting.search.portfolio import process_pool

    failures = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    before = set(threading.enumerate())
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 300, endpoint=False)
    shapes = [(np.round(np.c_[np.cos(t), np.sin(t)] * rng.uniform(5e4, 1e5, 300)[:, None]).astype(np.int64)
               [np.argsort(t)], ()) for _ in range(30)]
    stop = Stop(time_limit=0.3)
    started = time.perf_counter()
    with pytest.raises(Abandoned), process_pool(2) as pool:
        NFPCache(shapes, stop=stop, pool=pool)
    assert time.perf_counter() - started < 0.3 + 0.5
    assert [thread.name for thread in set(threading.enumerate()) - before] == []
    assert failures == []


def test_a_stop_request_lost_in_a_finalizer_still_abandons_the_write(tmp_path):
    """Python drops the `Abandoned` of a signal handler that ran inside a finalizer (a weakref
    callback); the request is remembered, and the new set is not swapped in."""
    from jobs.marker import write_all

    marker = nest([Piece(id="a", name="a", outline=box(0, 0, 40, 30), quantity=2)], Fabric(100),
                  NestConfig(iterations=1, strategy="blf"))
    out = tmp_path / "out"
    write_all(marker, out, ("json",))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    stop = Stop(urgent="while writing the outputs")
    with pytest.raises(Abandoned):  # raised here as in the handler; a finalizer would print and drop it
        stop.request()
    with pytest.raises(Abandoned, match="while writing the outputs"):
        write_all(marker, out, ("svg", "json"), stop=stop)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
