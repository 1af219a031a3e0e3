"""The bad-input corpus (tests/data/bad/, built by make_bad.py) through the ``nest`` command.

Every broken file must give exit 2 and exactly one line on stderr that names the file, the
piece where the file has one, and the reason; never a traceback, never an output file.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Polygon

from cli import main
from nesting.verify_file import verify_file
from tests.conftest import EXAMPLE, ROOT
from tests.data.bad.make_bad import huge_contour
from tests.data.bad.make_bad import main as make_corpus

BAD = ROOT / "tests" / "data" / "bad"
DXF_OPTIONS = ["--width", "1500"]

# file -> what the one stderr line must say besides the file name (the piece first, if any)
DXF_CASES = {
    "empty.dxf": ["not a readable DXF file"],
    "not_dxf.dxf": ["not a readable DXF file"],
    "text_not_dxf.dxf": ["not a readable DXF file"],
    "utf16.dxf": ["not a readable DXF file"],
    "truncated.dxf": ["cut short", "pieces may be missing"],
    "no_closed_contour.dxf": ["open contour", "no closed contour"],
    "text_only.dxf": ["no closed contour among TEXT"],
    "gap.dxf": ["open contour", "5.000 mm apart", "gap tolerance 0.5 mm"],
    "self_intersecting.dxf": ["piece self_intersecting", "self-intersecting outline", "(150.0, 100.0) mm"],
    "zero_area.dxf": ["piece zero_area", "zero-area outline"],
    "nan_vertex.dxf": ["not a finite number"],
    "inf_vertex.dxf": ["not a finite number"],
    "huge_coordinate.dxf": ["beyond any fabric"],
    "aama_self_intersecting.dxf": ["piece FRONT", "self-intersecting outline"],
    "aama_open_boundary.dxf": ["piece FRONT", "open contour", "10.000 mm"],
    "aama_bad_quantity.dxf": ["piece FRONT", "unreadable quantity 'two'"],
    "aama_nan_vertex.dxf": ["piece FRONT", "not a finite number"],
    # crashes that fuzzing found once (tests/test_fuzz.py)
    "bad_group_code.dxf": ["not a readable DXF file", 'Invalid group code "HEADER'],
    "header_value_missing.dxf": ["not a readable DXF file", "IndexError"],
    "vertex_without_location.dxf": ["POLYLINE #2E on layer 0 is unreadable"],
}
JSON_CASES = {
    "empty.json": ["not a JSON instance"],
    "not_json.json": ["not a JSON instance"],
    "truncated.json": ["not a JSON instance"],
    "deeply_nested.json": ["not a JSON instance", "nested too deeply"],
    "top_level_list.json": ["not a JSON instance", "top level must be an object"],
    "missing_strip_height.json": ["strip_height", "not a finite number"],
    "string_width.json": ["strip_height", "not a finite number"],
    "infinite_width.json": ["strip_height", "not a finite number"],
    "missing_items.json": ["'items' must be a non-empty list"],
    "items_not_a_list.json": ["'items' must be a non-empty list"],
    "missing_shape.json": ["piece 0", "missing 'shape'"],
    "negative_demand.json": ["piece 0", "demand must be a non-negative integer, got -1"],
    "string_demand.json": ["piece 0", "demand must be a non-negative integer, got '2'"],
    "huge_demand.json": ["piece 0", "1000000000 copies", "more than 2000, the limit pieces"],
    "string_coordinates.json": ["piece 0", "'0' is not a finite number"],
    "nan_coordinate.json": ["piece 0", "nan is not a finite number"],
    "overflow_coordinate.json": ["piece 0", "inf is not a finite number"],
    "unknown_shape_type.json": ["piece 0", "unknown shape type 'circle'"],
    "two_points.json": ["piece 0", "at least 3 [x, y] points"],
    "self_intersecting.json": ["piece 0", "Self-intersection"],
    "zero_area.json": ["piece 0", "zero-area shape"],
    "sliver.json": ["piece 0", "zero-area outline: a sliver of area"],
    "orientation_not_number.json": ["piece 0", "allowed_orientations", "'up'"],
    "duplicate_ids.json": ["item ids are not unique"],
}
# A piece wider than the fabric: the line names the piece and the width option or spec field
# that it does not fit (the fault may lie with either), not the pattern file.
TOO_WIDE_CASES = {
    "too_wide.dxf": ["fabric.width", "piece too_wide (of too_wide.dxf) does not fit", "1600.0", "1500 wide"],
    "too_wide.json": ["fabric.width", "piece 0 (of too_wide.json) does not fit", "120.0", "100 wide"],
}
SPEC_CASES = {
    "spec_unknown_field.toml": ["fabric.widht: unknown field"],
    "spec_unknown_section.toml": ["fabirc: unknown field"],
    "spec_unknown_rule.toml": ["rules.rotations: unknown rotation rule '45'"],
    "spec_wrong_type.toml": ["fabric.width: must be a positive number, got 'wide'"],
    "spec_negative_spacing.toml": ["spacing: must be >= 0, got -2"],
    "spec_not_toml.toml": ["not valid TOML"],
}
MARKER_CASES = {
    "marker_wrong_schema.json": ["not a marker/1 marker file"],
    "marker_missing_pieces.json": ["field 'pieces' is missing"],
    "marker_pieces_not_list.json": ["field 'pieces' must be a list"],
    "marker_piece_not_object.json": ["piece #0: must be an object"],
    "marker_string_width.json": ["field 'width' must be a finite number > 0, got 'wide'"],
    "marker_bad_polygon.json": ["piece #0: polygon", "finite numbers"],
    "marker_nan_polygon.json": ["piece #0: polygon", "finite numbers"],
    "marker_rules_pieces_number.json": ["rules.pieces: must be an object"],
    "marker_empty_rotation_rule.json": ["rules.pieces.0: unreadable", "unknown rotation rule ''"],
}
REPAIRABLE = {"duplicate_vertices.dxf": "duplicate_vertices", "aama_unknown_entity.dxf": "FRONT"}
GOOD = set(REPAIRABLE) | {"marker_zero_length.json", "make_bad.py"}  # tested on their own below


def user_error(argv, capsys) -> str:
    """Run ``nest argv``; assert exit 2 and exactly one stderr line, and return that line."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def assert_nothing_written(out: Path):
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())


def test_the_corpus_is_what_make_bad_writes_and_every_file_has_a_case(tmp_path):
    cases = DXF_CASES | JSON_CASES | TOO_WIDE_CASES | SPEC_CASES | MARKER_CASES
    assert {p.name for p in BAD.iterdir() if p.is_file()} == set(cases) | GOOD
    make_corpus(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {
        p.name: p.read_bytes() for p in BAD.iterdir() if p.suffix != ".py"}


@pytest.mark.parametrize("name", sorted(DXF_CASES | JSON_CASES | TOO_WIDE_CASES))
def test_bad_pattern_file_is_one_line_and_exit_2(name, tmp_path, capsys):
    out = tmp_path / "out"
    options = DXF_OPTIONS if name.endswith(".dxf") else []
    line = user_error(["marker", str(BAD / name), *options, "--iterations", "1", "--quiet", "--out", str(out)], capsys)
    expected = (DXF_CASES | JSON_CASES | TOO_WIDE_CASES)[name]
    assert line.startswith("error: ")
    if name not in TOO_WIDE_CASES:
        assert name in line
    for part in expected:
        assert part in line
    assert_nothing_written(out)


@pytest.mark.parametrize("name", sorted(DXF_CASES))
def test_bad_dxf_is_refused_by_nest_info_too(name, capsys):
    line = user_error(["info", str(BAD / name)], capsys)
    assert name in line and all(part in line for part in DXF_CASES[name])


@pytest.mark.parametrize("name", sorted(SPEC_CASES))
def test_bad_spec_names_the_spec_file_and_field(name, tmp_path, capsys):
    out = tmp_path / "out"
    line = user_error(["marker", str(EXAMPLE), "--spec", str(BAD / name), "--iterations", "1", "--quiet",
                       "--out", str(out)], capsys)
    assert name in line and all(part in line for part in SPEC_CASES[name])
    assert_nothing_written(out)


@pytest.mark.parametrize("name", sorted(MARKER_CASES))
@pytest.mark.parametrize("command", ["verify", "export"])
def test_bad_marker_file_is_refused_by_verify_and_export(name, command, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [command, str(BAD / name)] + (["--out", str(out)] if command == "export" else [])
    line = user_error(argv, capsys)
    assert name in line and all(part in line for part in MARKER_CASES[name])
    assert_nothing_written(out)


def test_invalid_marker_file_lists_each_violation_and_exports_nothing(tmp_path, capsys):
    """A well-formed file whose pieces break the rules: one line per violation, each naming the file."""
    path = BAD / "marker_zero_length.json"
    assert main(["verify", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"{path}: ") for line in lines)
    assert any("beyond the stated length 0.0" in line for line in lines)
    out = tmp_path / "out"
    line = user_error(["export", str(path), "--out", str(out)], capsys)
    assert "fails verification" in line and "(and 2 more problems)" in line
    assert_nothing_written(out)


@pytest.mark.parametrize("options, expected", [
    (["--time", "nan"], "--time must be a finite number"),
    (["--time", "inf"], "--time must be a finite number"),
    (["--time", "-1"], "--time must be a finite number"),
    (["--workers", "0"], "--workers must be >= 1"),
    (["--width", "nan"], "--width: must be a positive number"),
    (["--spacing", "1e6"], "spacing: 1e+06 is not less than the usable fabric width 40"),
    (["--target", "nan"], "--target is a fraction"),
    (["--formats", "json,docx"], "--formats: unknown format docx"),
    (["--strategy", "bogus"], "--strategy: unknown strategy 'bogus'"),
    (["--iterations", "many"], "argument --iterations: invalid int value"),
])
def test_bad_option_is_one_line_and_exit_2(options, expected, tmp_path, capsys):
    out = tmp_path / "out"
    instance = ROOT / "benchmarks" / "instances" / "shirts.json"
    line = user_error(["marker", str(instance), "--iterations", "1", "--quiet", "--out", str(out), *options], capsys)
    assert expected in line
    assert_nothing_written(out)


def test_an_out_folder_that_is_a_file_is_refused_before_nesting(tmp_path, capsys):
    taken = tmp_path / "marker.json"
    taken.write_text("keep me")
    line = user_error(["marker", str(EXAMPLE), *DXF_OPTIONS, "--iterations", "1", "--quiet", "--out", str(taken)], capsys)
    assert f"--out: {taken} is a file, not a folder" in line
    assert taken.read_text() == "keep me"


@pytest.mark.parametrize("name", sorted(REPAIRABLE))
def test_a_repairable_file_is_cleaned_and_its_piece_nested(name, tmp_path):
    """Repeated and near-repeated vertices, or an entity of an unknown type beside the boundary,
    are not errors: the 300 x 200 mm square they draw comes out whole."""
    assert main(["marker", str(BAD / name), *DXF_OPTIONS, "--iterations", "1", "--quiet",
                 "--out", str(tmp_path)]) == 0
    document = json.loads((tmp_path / "marker.json").read_text())
    (piece,) = document["pieces"]
    assert piece["name"] == REPAIRABLE[name]
    drawn = Polygon([(0, 0), (300, 0), (300, 200), (0, 200)])
    placed = Polygon(piece["polygon"])
    at_origin = shapely.affinity.translate(placed, -placed.bounds[0], -placed.bounds[1])
    assert len(piece["polygon"]) == 4
    assert shapely.equals_exact(shapely.normalize(at_origin), shapely.normalize(drawn), 1e-9)
    assert verify_file(tmp_path / "marker.json") == []


@pytest.mark.parametrize("name", ["truncated.dxf", "deeply_nested.json"])
def test_a_real_process_prints_one_line_and_exits_2(name, tmp_path):
    """The same through a real ``nest`` process: logging and warnings must not add lines either."""
    out = tmp_path / "out"
    options = DXF_OPTIONS if name.endswith(".dxf") else []
    done = subprocess.run([sys.executable, "-m", "cli", "marker", str(BAD / name), *options, "--iterations", "1",
                           "--quiet", "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert_nothing_written(out)


def test_a_million_vertex_contour_is_thinned_within_tolerance_and_nested(tmp_path):
    """10^6 vertices on a circle with 0.05 mm waves: thinned to the 0.1 mm chord tolerance,
    nested, verified, in bounded time (a hang would hit the timeout)."""
    path = huge_contour(tmp_path / "dense.dxf")
    out = tmp_path / "out"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cli", "marker", str(path), "--width", "1500", "--iterations", "1",
                           "--strategy", "blf", "--formats", "json", "--quiet", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=180)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert elapsed < 180
    document = json.loads((out / "marker.json").read_text())
    (piece,) = document["pieces"]
    placed = Polygon(piece["polygon"])
    assert 100 < len(piece["polygon"]) < 5_000
    circle = shapely.Point(0, 0).buffer(250.0, quad_segs=4096)
    moved = shapely.affinity.translate(circle, *(placed.centroid.coords[0]))
    assert shapely.hausdorff_distance(placed, moved) <= 0.05 + 0.1 + 0.01  # waves + chord tolerance
    assert verify_file(out / "marker.json") == []


def test_a_million_vertex_instance_item_is_refused_quickly(tmp_path, capsys):
    points = [[k * 1e-3, k % 2] for k in range(1_000_000)]
    path = tmp_path / "dense.json"
    path.write_text(json.dumps({"strip_height": 100, "items": [{"id": 0, "shape": {"type": "simple_polygon",
                                                                                "data": points}}]}))
    started = time.perf_counter()
    line = user_error(["marker", str(path), "--iterations", "1", "--quiet", "--out", str(tmp_path / "out")], capsys)
    assert time.perf_counter() - started < 30
    assert "piece 0" in line and "1000000 vertices, more than the 20000" in line


def _nest_instance(options, out):
    instance = ROOT / "benchmarks" / "instances" / "shirts.json"
    return subprocess.run([sys.executable, "-m", "cli", "marker", str(instance), *options, "--iterations", "1",
                           "--quiet", "--formats", "json", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_an_absurdly_wide_fabric_is_a_user_error(tmp_path):
    """10^15 against pieces of tens of units: a units mistake, named as one (the grid cannot hold it)."""
    out = tmp_path / "out"
    done = _nest_instance(["--width", "1e15"], out)
    assert done.returncode == 2, done.stderr[-300:]
    assert len(done.stderr.strip().splitlines()) == 1 and "units" in done.stderr
    assert_nothing_written(out)


def test_a_huge_spacing_on_a_huge_fabric_nests_with_that_spacing(tmp_path):
    """The spacing sets the grid's scale too, so NFPs of enormous offsets stay exact: the marker
    nests, and every two pieces are at least the spacing apart (measured here with shapely)."""
    out = tmp_path / "out"
    done = _nest_instance(["--width", "1e9", "--spacing", "1e8"], out)
    assert done.returncode == 0, done.stderr[-300:]
    assert verify_file(out / "marker.json") == []
    document = json.loads((out / "marker.json").read_text())
    polygons = [shapely.Polygon(entry["polygon"]) for entry in document["pieces"]]
    assert len(polygons) == 99
    closest = min(a.distance(b) for i, a in enumerate(polygons) for b in polygons[i + 1:])
    assert closest >= 1e8 * (1 - 1e-6)
    assert all(0 <= p.bounds[1] and p.bounds[3] <= 1e9 for p in polygons)