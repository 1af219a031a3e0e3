"""The red-team corpus: hostile inputs, options and faults, each with its expected outcome.

``python -m tests.redteam [FOLDER]`` writes every input file (default ``tests/data/redteam``,
where the small ones are committed); `tests/test_redteam.py` writes them afresh into a
temporary folder and runs each case as a real ``nest`` process under a timeout and a memory
cap, checking its exit code and the first line it prints (and, for a budget, its wall time).

A case is a careful user's mistake or an attacker's file: a value that overflows a reader,
an option that would make the engine run for hours or exhaust memory, an output folder that
cannot be written. Classes:

- ``output``: outputs that cannot lie (stale files, changed sources, unwritable folders);
- ``verifier``: a marker file that must not be trusted (margins, pieces off the fabric);
- ``input``: user input that once gave a traceback (exit 1) instead of one line and exit 2;
- ``budget``: work that must end within its budget or be refused by a stated limit;
- ``options``: options checked before any work, with a message that names the problem.

Cases whose fix belongs to another part of the engine and is not in yet are marked
``xfail`` with the class of defect (the suite reports them as expected failures).
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import ezdxf

HERE = Path(__file__).resolve().parent
DEFAULT_FOLDER = HERE / "data" / "redteam"
ROOT = HERE.parent
EXAMPLE = ROOT / "patterns" / "examples" / "tee.dxf"
SMALL_FILE = 64 * 1024  # files above this are written only into the test's temporary folder


@dataclass(frozen=True)
class Case:
    """One run: ``argv`` after ``nest``, with ``{D}`` the corpus folder, ``{OUT}`` a fresh output folder
    and ``{TMP}`` the folder holding both.

    ``first`` must appear in the first line of stderr (exit 2) or stdout (exit 0), or with
    ``anywhere`` in some line of either (a batch reports a job's failure in its table); ``wall``
    bounds the wall time in seconds, start-up included; ``budget`` bounds what ``nest marker``
    reports as the time from the end of reading to the files written (its ``--time`` + 5 s);
    ``setup`` names a `SETUPS` function run before it.
    """

    name: str
    klass: str
    argv: tuple[str, ...]
    exit: int
    first: str
    xfail: str = ""
    wall: float | None = None
    setup: str = ""
    stdout: str = "pipe"  # or "closed": the read end is closed before the run (``| true``)
    check: str = ""  # a `CHECKS` post-condition on {OUT}
    anywhere: bool = False
    budget: float | None = None
    extra: dict = field(default_factory=dict)


# --- files ------------------------------------------------------------------------------------

SQUARE = [[0, 0], [100, 0], [100, 60], [0, 60]]


def _instance(items, width=500.0, **top) -> dict:
    return {"name": "redteam", "strip_height": width, "items": items, **top}


def _item(k, shape=None, demand=1, orientations=(0, 180)):
    return {"id": f"i{k}", "demand": demand, "allowed_orientations": list(orientations),
            "shape": {"type": "simple_polygon", "data": shape or SQUARE}}


def _poly(k, n=8, r=20.0):
    return [[round(r * (1 + 0.3 * ((i * k) % 3)) * math.cos(2 * math.pi * i / n), 3),
             round(r * (1 + 0.3 * ((i * k) % 3)) * math.sin(2 * math.pi * i / n), 3)] for i in range(n)]


def _json_files() -> dict[str, str]:
    big = "1" * 5000
    files = {
        "inner_not_list.json": json.dumps(_instance([{"id": "a", "shape": {"type": "polygon", "data": {
            "outer": SQUARE, "inner": 5}}}])),
        "big_int_coordinate.json": json.dumps(_instance([_item(0)])).replace("100", big, 1),
        "big_int_demand.json": json.dumps(_instance([_item(0)])).replace('"demand": 1', f'"demand": {big}'),
        "int_400_digits.json": json.dumps(_instance([_item(0)])).replace("100", "9" * 400, 1),
        "int_400_digits_width.json": json.dumps(_instance([_item(0)])).replace("500.0", "9" * 400),
        "duplicate_keys.json": '{"name": "x", "strip_height": 500, "strip_height": 50, "items": '
                               + json.dumps([_item(0)]) + "}",
        "duplicate_item_keys.json": '{"strip_height": 500, "items": [{"id": "a", "demand": 1, "demand": 900, '
                                    '"shape": {"type": "simple_polygon", "data": [[0,0],[10,0],[10,10]]}}]}',
        "deep_nesting.json": "[" * 100_000 + "]" * 100_000,
        "id_object.json": json.dumps(_instance([{**_item(0), "id": {"a": 1}}])),
        "far_piece.json": json.dumps(_instance([_item(0, [[x + 1e7, y] for x, y in SQUARE]), _item(1)])),
        "orientations_3600.json": json.dumps(_instance([_item(0, orientations=[k / 10 for k in range(3600)])])),
        "orientations_100000.json": json.dumps(_instance([_item(0, orientations=[k * 0.0036 for k in range(100_000)])])),
        "items_1000.json": json.dumps(_instance([_item(k, _poly(k)) for k in range(1000)], width=2000)),
        "items_300.json": json.dumps(_instance([_item(k, _poly(k)) for k in range(300)])),
        "pieces_10000.json": json.dumps(_instance([_item(0, [[0, 0], [10, 0], [10, 7], [0, 7]], demand=10_000)],
                                                  width=2000)),
        "pieces_2000.json": json.dumps(_instance([_item(0, _poly(3, 6, 8.0), demand=2000)], width=1000)),
        "small.json": json.dumps(_instance([_item(0), _item(1, _poly(1)), _item(2, _poly(2))], width=200)),
        "easy_target.json": json.dumps(_instance([_item(k, [[0, 0], [50, 0], [50, 40], [0, 40]], demand=4)
                                                  for k in range(3)], width=80)),
    }
    return files


def _toml_files(folder: Path) -> dict[str, str]:
    """Spec and jobs files; the example pattern named relative to ``folder`` inside the repository
    (a spec's paths are relative to it), absolute elsewhere."""
    tee = os.path.relpath(EXAMPLE, folder) if folder.resolve().is_relative_to(ROOT) else str(EXAMPLE)
    big = "1" * 5000
    hexa = "0x" + "f" * 5000
    zones = "\n".join(f"[[fabric.zones]]\nrect = [{20 * k}, 0, {20 * k + 5}, 5]" for k in range(2000))
    return {
        "spec_big_int.toml": f'patterns = ["small.json"]\nspacing = {big}\n',
        "spec_hex_int.toml": f'patterns = ["small.json"]\nspacing = {hexa}\n',
        "spec_deep.toml": "a = " + "[" * 100_000 + "]" * 100_000 + "\n",
        "spec_sizes_hex.toml": f'patterns = ["{tee}"]\n[sizes]\nM = {hexa}\n[fabric]\nwidth = 1500\n',
        "spec_free_tiny.toml": f'patterns = ["{tee}"]\n[fabric]\nwidth = 1500\n[rules]\nrotations = "free:1e-9"\n',
        "spec_zone_far.toml": f'patterns = ["{tee}"]\n[fabric]\nwidth = 1500\n'
                              '[[fabric.zones]]\nrect = [1e9, 0, 1.0001e9, 100]\n',
        "spec_zones_2000.toml": f'patterns = ["{tee}"]\n[fabric]\nwidth = 1500\n{zones}\n',
        "jobs_big_int.toml": f'[[job]]\nname = "a"\ninput = "small.json"\ntime = {big}\n',
        "jobs_hex_int.toml": f'[[job]]\nname = "a"\ninput = "small.json"\ntime = {hexa}\n',
        "jobs_hex_seed.toml": f'[[job]]\nname = "a"\ninput = "small.json"\nseed = {hexa}\n',
        "jobs_deep.toml": "[[job]]\nname = \"a\"\ninput = \"small.json\"\nx = " + "[" * 100_000 + "]" * 100_000 + "\n",
        "jobs_ok.toml": '[[job]]\nname = "a"\ninput = "small.json"\niterations = 1\nstrategy = "blf"\n'
                        '[[job]]\nname = "b"\ninput = "small.json"\niterations = 1\nstrategy = "blf"\nseed = 1\n',
    }


def _dxf(path: Path, build, units=True, version="R12") -> None:
    doc = ezdxf.new(version)
    msp = doc.modelspace()
    if units:
        msp.add_text("Units: METRIC", dxfattribs={"height": 2, "insert": (0, -20)})
    build(doc, msp)
    doc.saveas(path)


def _dxf_files(folder: Path) -> None:
    import logging

    logging.getLogger("ezdxf").setLevel(logging.ERROR)
    ezdxf.options.write_fixed_meta_data_for_testing = True  # the same bytes on every run
    def minsert(doc, msp):
        block = doc.blocks.new("SQ")
        block.add_polyline2d([(0, 0), (100, 0), (100, 60), (0, 60)], close=True)
        msp.add_blockref("SQ", (0, 0), dxfattribs={"column_count": 3, "row_count": 3,
                                                    "column_spacing": 200, "row_spacing": 200})

    def arc_nan(doc, msp):
        msp.add_polyline2d([(0, 0), (100, 0), (100, 60), (0, 60)], close=True)
        msp.add_arc((50, 30), 10, 0, 90)

    def arc_huge(doc, msp):
        msp.add_polyline2d([(0, 0), (100, 0), (100, 60), (0, 60)], close=True)
        msp.add_arc((0, 0), 1e300, 0, 90)

    def line_grid(doc, msp):
        for k in range(6):
            msp.add_line((0, 50 * k), (250, 50 * k))
            msp.add_line((50 * k, 0), (50 * k, 250))

    def fanout(doc, msp):
        leaf = doc.blocks.new("B0")
        leaf.add_polyline2d([(0, 0), (10, 0), (10, 6), (0, 6)], close=True)
        for depth in range(1, 16):
            block = doc.blocks.new(f"B{depth}")
            block.add_blockref(f"B{depth - 1}", (0, 0))
            block.add_blockref(f"B{depth - 1}", (20 * depth, 0))
        msp.add_blockref("B15", (0, 0))

    def open_lines(doc, msp):
        for k in range(20_000):
            msp.add_line((k * 3.0, 0), (k * 3.0 + 1, 1))

    def concentric(doc, msp):
        for k in range(5000):
            r = 10 + k * 0.5
            msp.add_polyline2d([(-r, -r), (r, -r), (r, r), (-r, r)], close=True)

    def big_int(doc, msp):
        msp.add_polyline2d([(0, 0), (100, 0), (100, 60), (0, 60)], close=True)

    def no_units(doc, msp):
        doc.header["$INSUNITS"] = 99
        msp.add_polyline2d([(0, 0), (100, 0), (100, 60), (0, 60)], close=True)

    def mathtext(doc, msp):
        block = doc.blocks.new("P")
        block.add_polyline2d([(0, 0), (100, 0), (100, 60), (0, 60)], close=True, dxfattribs={"layer": "1"})
        block.add_line((10, 30), (90, 30), dxfattribs={"layer": "7"})
        for k, text in enumerate(("Piece Name: $\\frac{$", "Size: M", "Quantity: 1")):
            block.add_text(text, dxfattribs={"layer": "1", "height": 2, "insert": (0, -5 * (k + 1))})
        msp.add_text("Style Name: RT", dxfattribs={"layer": "1", "height": 2})
        msp.add_blockref("P", (0, 0))

    def control(doc, msp):
        block = doc.blocks.new("P")
        block.add_polyline2d([(0, 0), (100, 0), (100, 60), (0, 60)], close=True, dxfattribs={"layer": "1"})
        block.add_line((10, 30), (90, 30), dxfattribs={"layer": "7"})
        for k, text in enumerate(("Piece Name: A\x01B", "Size: M", "Quantity: 1")):
            block.add_text(text, dxfattribs={"layer": "1", "height": 2, "insert": (0, -5 * (k + 1))})
        msp.add_text("Style Name: RT", dxfattribs={"layer": "1", "height": 2})
        msp.add_blockref("P", (0, 0))

    builds = {"minsert.dxf": minsert, "arc_nan.dxf": arc_nan, "arc_huge.dxf": arc_huge, "line_grid.dxf": line_grid,
              "insert_fanout.dxf": fanout, "open_lines_20000.dxf": open_lines, "concentric_5000.dxf": concentric,
              "big_int.dxf": big_int, "mathtext_name.dxf": mathtext, "control_name.dxf": control}
    for name, build in builds.items():
        _dxf(folder / name, build, units=name != "bad_insunits.dxf")
    _dxf(folder / "bad_insunits.dxf", no_units, units=False, version="R2000")  # R12 has no $INSUNITS
    text = (folder / "arc_nan.dxf").read_text()  # ezdxf will not write NaN: put it in the ARC's radius
    arc = text.index("\nARC\n")
    (folder / "arc_nan.dxf").write_text(text[:arc] + text[arc:].replace("\n 40\n10.0\n", "\n 40\nnan\n", 1))
    text = (folder / "big_int.dxf").read_text()
    (folder / "big_int.dxf").write_text(text.replace("\n100.0\n", "\n" + "1" * 5000 + "\n", 1))


def write_files(folder: Path, small_only: bool = False) -> None:
    """Write every input file of the corpus into ``folder`` (only the small ones with ``small_only``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**_json_files(), **_toml_files(folder)}.items():
        if not small_only or len(text) <= SMALL_FILE:
            (folder / name).write_text(text)
    scratch = folder if not small_only else folder / ".dxf-scratch"
    scratch.mkdir(exist_ok=True)
    _dxf_files(scratch)
    if small_only:
        for path in scratch.iterdir():
            if path.stat().st_size <= SMALL_FILE:
                path.replace(folder / path.name)
            else:
                path.unlink()
        scratch.rmdir()


# --- cases ----------------------------------------------------------------------------------

BUDGET = 5.0  # --time of the budget cases
SLACK = 5.0  # what a run may take past its budget, as the run measures it after reading
START_UP = 20.0  # the interpreter, imports and reading, on a 2-core machine shared by other work
BUDGET_WALL = BUDGET + SLACK + START_UP
QUICK = 15.0  # a refusal before any work: start-up and reading only


def _m(*argv) -> tuple[str, ...]:
    return ("marker", *argv, "--out", "{OUT}", "--quiet")


T = ("--time", str(BUDGET))
TEE = (str(EXAMPLE), "--width", "1500")

CASES: tuple[Case, ...] = (
    # outputs that cannot lie
    Case("stale-formats-removed", "output", _m("{D}/small.json", "--iterations", "1", "--formats", "json"), 0,
         "pieces placed", setup="earlier_marker_all_formats", check="only_marker_json"),
    Case("export-stale-formats-removed", "output", ("export", "{OUT}/marker.json", "--formats", "svg", "--out", "{OUT}"),
         0, "cut order", setup="earlier_marker_all_formats", check="json_and_svg_only"),
    Case("export-source-marks-changed", "output", ("export", "{OUT}/marker.json", "--formats", "plt", "--out", "{OUT}"),
         2, "changed since", setup="tee_marker_then_edit_drill"),
    Case("out-is-proc", "output", ("marker", "{D}/small.json", "--iterations", "1", "--out", "/proc/x"), 2, "/proc",
         wall=QUICK),
    Case("out-empty", "output", ("marker", "{D}/small.json", "--out", "", "--quiet"), 2, "--out", wall=QUICK),
    Case("out-holds-a-folder", "output", _m("{D}/small.json", "--iterations", "1"), 2, "holds the folder",
         setup="out_with_subfolder", check="subfolder_kept"),
    Case("out-foreign-file-kept", "output", _m("{D}/small.json", "--iterations", "1", "--formats", "json"), 0,
         "pieces placed", setup="out_with_notes", check="notes_kept"),
    Case("stale-staging-removed", "output", _m("{D}/small.json", "--iterations", "1", "--formats", "json"), 0,
         "pieces placed", setup="stale_staging", check="no_staging"),
    Case("closed-stdout-after-writing", "output", _m("{D}/small.json", "--iterations", "1", "--formats", "json"), 0,
         "warning: stdout is closed", stdout="closed", check="only_marker_json"),
    # the verifier trusts nothing in the file
    Case("verify-negative-margins", "verifier", ("verify", "{OUT}/marker.json"), 2, "margin",
         setup="marker_negative_margins"),
    Case("export-negative-margins", "verifier", ("export", "{OUT}/marker.json", "--out", "{OUT}/x"), 2, "margin",
         setup="marker_negative_margins"),
    Case("verify-piece-off-fabric", "verifier", ("verify", "{OUT}/marker.json"), 2, "outside",
         setup="marker_piece_off_fabric"),
    Case("verify-duplicate-keys", "verifier", ("verify", "{OUT}/marker.json"), 2, "twice",
         setup="marker_duplicate_keys"),
    Case("verify-big-int", "verifier", ("verify", "{OUT}/marker.json"), 2, "marker.json",
         setup="marker_big_int"),
    Case("verify-missing-width", "verifier", ("verify", "{OUT}/marker.json"), 2, "width",
         setup="marker_missing_width"),
    # user input: one line and exit 2, never a traceback
    Case("json-inner-not-list", "input", _m("{D}/inner_not_list.json", "--iterations", "1"), 2, "inner"),
    Case("json-big-int-coordinate", "input", _m("{D}/big_int_coordinate.json", "--iterations", "1"), 2, "4300"),
    Case("json-big-int-demand", "input", _m("{D}/big_int_demand.json", "--iterations", "1"), 2, "4300"),
    Case("json-int-400-digits", "input", _m("{D}/int_400_digits.json", "--iterations", "1"), 2, "beyond +/-1e+08"),
    Case("json-int-400-digits-width", "input", _m("{D}/int_400_digits_width.json", "--iterations", "1"), 2,
         "strip_height"),
    Case("json-duplicate-keys", "input", _m("{D}/duplicate_keys.json", "--iterations", "1"), 2, "appears twice"),
    Case("json-duplicate-item-keys", "input", _m("{D}/duplicate_item_keys.json", "--iterations", "1"), 2,
         "appears twice"),
    Case("json-deep-nesting", "input", _m("{D}/deep_nesting.json", "--iterations", "1"), 2, "nested too deeply"),
    Case("json-id-object", "input", _m("{D}/id_object.json", "--iterations", "1"), 2, "id must be"),
    Case("json-far-piece", "input", _m("{D}/far_piece.json", "--iterations", "1"), 0, "pieces placed"),
    Case("sizes-big-int", "input", _m(*TEE, "--sizes", "M=" + "1" * 5000), 2, "--sizes", wall=QUICK),
    Case("spec-big-int", "input", _m("--spec", "{D}/spec_big_int.toml"), 2, "spec_big_int.toml"),
    Case("spec-hex-int", "input", _m("--spec", "{D}/spec_hex_int.toml"), 2, "spacing"),
    Case("spec-deep", "input", _m("--spec", "{D}/spec_deep.toml"), 2, "nested too deeply"),
    Case("spec-sizes-hex", "input", _m("--spec", "{D}/spec_sizes_hex.toml"), 2, "sizes.M"),
    Case("spec-zone-far", "input", _m("--spec", "{D}/spec_zone_far.toml", "--iterations", "1", "--strategy", "blf",
                                      "--formats", "json"), 0, "pieces placed", wall=60),
    Case("jobs-big-int", "input", ("batch", "{D}/jobs_big_int.toml", "--out", "{OUT}"), 2, "4300"),
    Case("jobs-hex-int", "input", ("batch", "{D}/jobs_hex_int.toml", "--out", "{OUT}"), 2, "time"),
    Case("jobs-hex-seed", "input", ("batch", "{D}/jobs_hex_seed.toml", "--out", "{OUT}"), 2, "--seed must be",
         anywhere=True),
    Case("jobs-deep", "input", ("batch", "{D}/jobs_deep.toml", "--out", "{OUT}"), 2, "nested too deeply"),
    Case("seed-negative", "input", _m("{D}/small.json", "--seed", "-1"), 2, "--seed", wall=QUICK),
    Case("seed-huge", "input", _m("{D}/small.json", "--seed", str(2**64)), 2, "--seed", wall=QUICK),
    Case("seed-5000-digits", "input", _m("{D}/small.json", "--seed", "1" * 5000), 2, "--seed", wall=QUICK),
    Case("warm-start-without-xy", "input", _m("{D}/small.json", "--iterations", "1", "--warm-start",
                                              "{TMP}/old/marker.json"), 2, "x and y", setup="marker_without_xy"),
    Case("bench-time-nan", "input", ("bench", "fu", "--time", "nan", "--out", "{OUT}"), 2, "--time", wall=QUICK),
    Case("bench-time-inf", "input", ("bench", "fu", "--time", "inf", "--out", "{OUT}"), 2, "--time", wall=QUICK),
    Case("bench-seeds-zero", "input", ("bench", "fu", "--seeds", "0", "--out", "{OUT}"), 2, "--seeds", wall=QUICK),
    Case("simplify-1e7", "input", _m(*TEE, "--simplify", "1e7", "--iterations", "1"), 2, "--simplify"),
    Case("simplify-nan", "input", _m(*TEE, "--simplify", "nan"), 2, "--simplify", wall=QUICK),
    Case("limit-unknown", "input", _m("{D}/small.json", "--limit", "bogus=3"), 2, "unknown limit", wall=QUICK),
    Case("limit-not-a-number", "input", _m("{D}/small.json", "--limit", "pieces=1e9"), 2, "whole number", wall=QUICK),
    Case("iterations-huge", "input", _m("{D}/small.json", "--iterations", "9" * 30), 2, "--iterations", wall=QUICK),
    Case("dxf-minsert", "input", _m("{D}/minsert.dxf", "--width", "1500", "--iterations", "1"), 0, "pieces placed: 9"),
    Case("dxf-arc-nan", "input", _m("{D}/arc_nan.dxf", "--width", "1500", "--iterations", "1"), 2, "arc_nan.dxf"),
    Case("dxf-arc-huge", "input", _m("{D}/arc_huge.dxf", "--width", "1500", "--iterations", "1"), 2, "arc_huge.dxf",
         wall=30),
    # lines across a piece from edge to edge are its internal lines, not cut lines and not "outside"
    Case("dxf-line-grid", "input", _m("{D}/line_grid.dxf", "--width", "1500", "--iterations", "1"), 0,
         "pieces placed: 1", wall=30),
    Case("dxf-big-int", "input", _m("{D}/big_int.dxf", "--width", "1500", "--iterations", "1"), 2, "big_int.dxf"),
    Case("dxf-bad-insunits", "input", _m("{D}/bad_insunits.dxf", "--width", "1500", "--iterations", "1"), 2,
         "$INSUNITS = '99'"),
    Case("png-mathtext-name", "input", _m("{D}/mathtext_name.dxf", "--width", "1500", "--iterations", "1",
                                          "--formats", "json,png,pdf"), 0, "pieces placed"),
    Case("svg-control-name", "input", _m("{D}/control_name.dxf", "--width", "1500", "--iterations", "1",
                                         "--formats", "json,svg"), 0, "pieces placed", check="svg_well_formed"),
    # budgets and resource limits
    Case("nfp-300-items-refused", "budget", _m("{D}/items_300.json", *T), 2, "nfp_pairs", wall=QUICK),
    Case("nfp-300-items-in-budget", "budget", _m("{D}/items_300.json", *T, "--limit", "nfp_pairs=200000",
                                                 "--formats", "json,plt"), 0,
         "pieces placed: 300", wall=BUDGET_WALL, budget=BUDGET + SLACK),
    Case("items-1000-refused", "budget", _m("{D}/items_1000.json", *T), 2, "nfp_pairs", wall=QUICK),
    Case("pieces-10000-refused", "budget", _m("{D}/pieces_10000.json", *T), 2, "the limit pieces", wall=QUICK),
    Case("pieces-2000-in-budget", "budget", _m("{D}/pieces_2000.json", *T, "--formats", "json,plt"), 0,
         "pieces placed: 2000", wall=BUDGET_WALL, budget=BUDGET + SLACK),
    Case("orientations-3600-refused", "budget", _m("{D}/orientations_3600.json", *T), 2, "the limit orientations",
         wall=QUICK),
    Case("orientations-100000-refused", "budget", _m("{D}/orientations_100000.json", *T), 2,
         "the limit orientations", wall=QUICK),
    Case("free-0.5-refused", "budget", _m(*TEE, *T, "--rotations", "free:0.5"), 2, "the limit orientations",
         wall=QUICK),
    Case("free-1e-9-refused", "budget", _m(*TEE, *T, "--rotations", "free:1e-9"), 2, "the limit orientations",
         wall=QUICK),
    Case("free-1e-9-spec-refused", "budget", _m("--spec", "{D}/spec_free_tiny.toml", *T), 2,
         "the limit orientations", wall=QUICK),
    Case("free-1-tilt-refused", "budget", _m(*TEE, *T, "--rotations", "free:1", "--tilt", "0.5"), 2,
         "the limit orientations", wall=QUICK),
    Case("zones-2000-in-budget", "budget", _m("--spec", "{D}/spec_zones_2000.toml", *T, "--formats", "json"), 0,
         "pieces placed", wall=BUDGET_WALL, budget=BUDGET + SLACK),
    Case("ga-honours-target", "budget", _m("{D}/easy_target.json", "--strategy", "ga", "--time", "60",
                                           "--target", "0.45", "--formats", "json"), 0, "meets the 45 % target", wall=QUICK + 10,
         anywhere=True),
    Case("workers-200-refused", "budget", _m("{D}/small.json", "--workers", "200"), 2, "the limit workers",
         wall=QUICK),
    Case("batch-workers-200-refused", "budget", ("batch", "{D}/jobs_ok.toml", "--out", "{OUT}", "--workers", "200"),
         2, "the limit workers", wall=QUICK),
    Case("dxf-insert-fanout", "budget", _m("{D}/insert_fanout.dxf", "--width", "1500", *T), 2, "insert_fanout.dxf",
         wall=BUDGET_WALL),
    Case("dxf-open-lines-20000", "budget", _m("{D}/open_lines_20000.dxf", "--width", "1500", *T), 2,
         "open_lines_20000.dxf", wall=BUDGET_WALL),
    Case("dxf-concentric-5000", "budget", _m("{D}/concentric_5000.dxf", "--width", "1500", *T), 2,
         "concentric_5000.dxf", wall=BUDGET_WALL),
    Case("pdf-tiled-long-marker", "budget", ("export", "{OUT}/marker.json", "--formats", "pdf", "--pdf-tiled",
                                             "--out", "{OUT}/x"), 2, "--pdf-tiled", setup="long_marker",
         wall=BUDGET_WALL),
    # options checked before any work
    Case("strategy-bogus-before-work", "options", _m("{D}/items_300.json", "--strategy", "bogus", "--limit",
                                                      "nfp_pairs=200000"), 2, "--strategy", wall=QUICK),
    Case("time-nan", "options", _m("{D}/small.json", "--time", "nan"), 2, "--time", wall=QUICK),
    Case("time-inf", "options", _m("{D}/small.json", "--time", "inf"), 2, "--time", wall=QUICK),
    Case("time-negative", "options", _m("{D}/small.json", "--time", "-1"), 2, "--time", wall=QUICK),
    Case("target-zero", "options", _m("{D}/small.json", "--target", "0"), 2, "--target", wall=QUICK),
    Case("workers-zero", "options", _m("{D}/small.json", "--workers", "0"), 2, "--workers", wall=QUICK),
    Case("formats-bogus", "options", _m("{D}/small.json", "--formats", "json,exe"), 2, "--formats", wall=QUICK),
    Case("warm-start-with-blf", "options", _m("{D}/small.json", "--strategy", "blf", "--warm-start",
                                              "{TMP}/old/marker.json"), 2, "--warm-start", setup="marker_without_xy"),
)


# --- set-ups and checks (run by the test; {OUT} is the case's output folder) ------------------


def _nest(argv) -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "cli", *argv, "--quiet"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"set-up run failed: {done.stderr[-500:]}")


def _edit_marker(out: Path, change) -> None:
    _nest(["marker", str(out.parent / "corpus" / "small.json"), "--iterations", "1", "--strategy", "blf",
           "--formats", "json", "--out", str(out)])
    path = out / "marker.json"
    document = json.loads(path.read_text())
    text = change(document)
    path.write_text(text if isinstance(text, str) else json.dumps(document))


def earlier_marker_all_formats(out: Path) -> None:
    _nest(["marker", str(out.parent / "corpus" / "small.json"), "--iterations", "1", "--strategy", "blf",
           "--formats", "json,png,dxf,plt,svg,pdf", "--out", str(out)])


def tee_marker_then_edit_drill(out: Path) -> None:
    import shutil

    pattern = out.parent / "tee.dxf"
    shutil.copy(EXAMPLE, pattern)
    _nest(["marker", str(pattern), "--width", "1500", "--iterations", "1", "--strategy", "blf", "--formats", "json",
           "--out", str(out)])
    doc = ezdxf.readfile(pattern)
    block = next(b for b in doc.blocks if not b.name.startswith("*"))
    block.add_point((30, 30), dxfattribs={"layer": "13"})  # a drill hole added after nesting
    doc.saveas(pattern)


def out_with_subfolder(out: Path) -> None:
    (out / "keep").mkdir(parents=True)
    (out / "keep" / "notes.txt").write_text("mine")


def out_with_notes(out: Path) -> None:
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "marker.plt").write_text("IN;stale")


def stale_staging(out: Path) -> None:
    out.mkdir(parents=True)
    stale = out.parent / f".{out.name}.incomplete-999999999-abc"
    stale.mkdir()
    (stale / "marker.json").write_text("{}")


def marker_negative_margins(out: Path) -> None:
    def change(document):
        document["rules"]["margins"] = {"bottom": -400.0, "top": -400.0, "start": -400.0, "end": -400.0}
        for entry in document["pieces"][:1]:
            entry["y"] = entry["y"] - 400.0
            entry["polygon"] = [[x, y - 400.0] for x, y in entry["polygon"]]
    _edit_marker(out, change)


def marker_piece_off_fabric(out: Path) -> None:
    def change(document):
        entry = document["pieces"][0]
        entry["y"] = entry["y"] + 10_000.0
        entry["polygon"] = [[x, y + 10_000.0] for x, y in entry["polygon"]]
    _edit_marker(out, change)


def marker_duplicate_keys(out: Path) -> None:
    _edit_marker(out, lambda document: json.dumps(document).replace('"width": ', '"width": 1e9, "width": ', 1))


def marker_big_int(out: Path) -> None:
    _edit_marker(out, lambda document: json.dumps(document).replace('"seed": 0', '"seed": ' + "1" * 5000, 1))


def marker_missing_width(out: Path) -> None:
    _edit_marker(out, lambda document: document.pop("width"))


def marker_without_xy(out: Path) -> None:
    old = out.parent / "old"

    def change(document):
        for entry in document["pieces"]:
            entry.pop("x", None)
            entry.pop("y", None)
        document.pop("rules", None)
    _edit_marker(old, change)


def long_marker(out: Path) -> None:
    """A valid marker 10 km long: one piece moved far down the table (a tiled PDF of it is unbounded)."""
    from shapely.geometry import Polygon

    def change(document):
        entry = document["pieces"][0]
        entry["x"] = entry["x"] + 1e7
        entry["polygon"] = [[x + 1e7, y] for x, y in entry["polygon"]]
        document["length"] = max(x for e in document["pieces"] for x, _ in e["polygon"])
        area = sum(Polygon(e["polygon"]).area for e in document["pieces"])
        document["utilization"] = area / (document["width"] * document["length"])
        document.pop("report", None)
    _edit_marker(out, change)


SETUPS = {f.__name__: f for f in (
    earlier_marker_all_formats, tee_marker_then_edit_drill, out_with_subfolder, out_with_notes, stale_staging,
    marker_negative_margins, marker_piece_off_fabric, marker_duplicate_keys, marker_big_int, marker_missing_width,
    marker_without_xy, long_marker,
)}


def only_marker_json(out: Path) -> str:
    names = sorted(p.name for p in out.iterdir())
    return "" if names == ["marker.json"] else f"the folder holds {names}"


def json_and_svg_only(out: Path) -> str:
    names = sorted(p.name for p in out.iterdir())
    return "" if names == ["marker.json", "marker.svg"] else f"the folder holds {names}"


def subfolder_kept(out: Path) -> str:
    return "" if (out / "keep" / "notes.txt").read_text() == "mine" else "the user's folder changed"


def notes_kept(out: Path) -> str:
    names = sorted(p.name for p in out.iterdir())
    if names != ["marker.json", "notes.txt"]:
        return f"the folder holds {names}"
    return "" if (out / "notes.txt").read_text() == "mine" else "notes.txt changed"


def no_staging(out: Path) -> str:
    left = [p.name for p in out.parent.iterdir() if ".incomplete-" in p.name]
    return f"staging folders left: {left}" if left else ""


def svg_well_formed(out: Path) -> str:
    import xml.etree.ElementTree as ElementTree

    try:
        ElementTree.parse(out / "marker.svg")
    except ElementTree.ParseError as exc:
        return f"marker.svg is not well-formed XML: {exc}"
    return ""


CHECKS = {f.__name__: f for f in (only_marker_json, json_and_svg_only, subfolder_kept, notes_kept, no_staging,
                                   svg_well_formed)}


def table(report: Path) -> str:
    """The robustness table of a run (``REDTEAM_REPORT=FILE pytest tests/test_redteam.py``), by class."""
    from collections import defaultdict

    rows = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    by_class = defaultdict(list)
    for row in rows:
        by_class[row["class"]].append(row)
    lines = ["| class | cases | as expected | expected failures (other parts) | exit 0 / 2 / 1 / killed | "
             "worst wall s | peak MiB |", "|---|---|---|---|---|---|---|"]
    for klass, group in sorted(by_class.items()):
        exits = [sum(r["exit"] == code for r in group) for code in (0, 2, 1)]
        other = len(group) - sum(exits)
        good = sum(r["exit"] == r["expected"] and not r["xfail"] for r in group)
        lines.append(f"| {klass} | {len(group)} | {good} | {sum(r['xfail'] for r in group)} | "
                     f"{exits[0]} / {exits[1]} / {exits[2]} / {other} | {max(r['wall'] for r in group):.1f} | "
                     f"{max(r['peak_mib'] for r in group):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--table":
        print(table(Path(sys.argv[2])))
        sys.exit(0)
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER
    write_files(target, small_only=target == DEFAULT_FOLDER)
    print(f"wrote the red-team corpus into {target} ({len(CASES)} cases)")
