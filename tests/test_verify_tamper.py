"""The verifier trusts nothing in a marker file: hand-placed markers, tampered, judged against shapely.

Each marker is built by hand (no engine): every piece in its own square slot, wide enough for
the piece in any rotation, so a piece turned in its slot stays clear of the others. A tampered
file (a piece moved, turned, stacked on another, a margin made negative) must be refused
exactly when the shapely oracle, or the rule itself, says it is invalid — by ``nest verify``,
by the live verifier on the same marker, and by ``nest export``, which then writes nothing.
"""

import json
import math
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import Polygon, box

from cli import main
from jobs.spec import MarkerSpec
from nesting import rules
from nesting.errors import MarkerFileError
from nesting.fabric import Margins
from nesting.markerfile import dump, load
from nesting.model import Marker, Placement, oriented
from nesting.orientation import OrientationRule, RuleSet
from nesting.verify import same_outline, violations
from nesting.verify_file import verify_file
from patterns.piece import Piece
from tests.naive import non_convex_polygons

MARGIN = 20.0
GAP = 10.0
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _diameter(outline) -> float:
    minx, miny, maxx, maxy = outline.bounds
    return math.hypot(maxx - minx, maxy - miny)


def _centred(shape, cx, cy):
    """(dx, dy) that puts the shape's bounding-box centre on (cx, cy)."""
    minx, miny, maxx, maxy = shape.bounds
    return cx - (minx + maxx) / 2, cy - (miny + maxy) / 2


class HandPlaced:
    """A marker placed by hand: piece k at rotation 0 in slot k along x; a slot fits any rotation."""

    def __init__(self, outlines, rule):
        spec = MarkerSpec(width=1.0, orientation=RuleSet(default=OrientationRule(rule)))
        pieces = [Piece(id=f"P{k}", name=f"P{k}", outline=o, size="M") for k, o in enumerate(outlines)]
        self.pieces = tuple(rules.apply(pieces, spec))
        self.slot = max(_diameter(o) for o in outlines) + GAP
        width = self.slot + 2 * MARGIN
        self.spec = MarkerSpec(width=width, margins=Margins(MARGIN, MARGIN, MARGIN, MARGIN),
                               orientation=spec.orientation)
        placements = []
        for k, piece in enumerate(self.pieces):
            cx, cy = self.centre(k)
            dx, dy = _centred(piece.outline, cx, cy)
            placements.append(Placement(k, 0, 0.0, False, dx, dy))
        self.marker = Marker(pieces=self.pieces, fabric=self.spec.fabric, placements=tuple(placements),
                             length=2 * MARGIN + len(self.pieces) * self.slot,
                             rules=rules.marker_rules(self.pieces, self.spec))

    def centre(self, k):
        return MARGIN + (k + 0.5) * self.slot, MARGIN + self.slot / 2

    def document(self, tmp_path):
        path = tmp_path / "hand.json"
        dump(self.marker, path)
        return json.loads(path.read_text())


def place(entry, outline, rotation, x, y):
    """Re-place a file's piece honestly: its polygon is its outline under the stated transform."""
    polygon = affinity.translate(oriented(Polygon(outline), rotation, False), x, y)
    entry.update(rotation=rotation, x=x, y=y, polygon=[list(p) for p in polygon.exterior.coords[:-1]],
                 holes=[[list(p) for p in ring.coords[:-1]] for ring in polygon.interiors])


def write(tmp_path, document):
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(document))
    return path


def geometry_is_valid(document) -> bool:
    """The oracle: shapely alone on the file's polygons, margins as stated and never below zero."""
    m = {edge: max(v, 0.0) for edge, v in document["rules"]["margins"].items()}
    usable = box(m["start"], m["bottom"], document["length"] - m["end"], document["width"] - m["top"])
    polygons = [Polygon(e["polygon"], e["holes"]) for e in document["pieces"]]
    if not all(usable.buffer(1e-9 * document["width"], join_style="mitre").contains(p) for p in polygons):
        return False
    return all(shapely.intersection(a, b).area <= 1e-6 * min(a.area, b.area)
               for i, a in enumerate(polygons) for b in polygons[i + 1:])


def borderline(document) -> bool:
    """Near enough to flip the oracle's answer: such cases test tolerances, not the verifier."""
    reach = 1e-5 * document["width"]  # ten times the verifier's containment slack
    m = {edge: max(v, 0.0) for edge, v in document["rules"]["margins"].items()}
    usable = box(m["start"], m["bottom"], document["length"] - m["end"], document["width"] - m["top"])
    polygons = [Polygon(e["polygon"], e["holes"]) for e in document["pieces"]]
    inner, outer = usable.buffer(-reach, join_style="mitre"), usable.buffer(reach, join_style="mitre")
    if any(outer.contains(p) != inner.contains(p) for p in polygons):
        return True
    for i, a in enumerate(polygons):
        for b in polygons[i + 1:]:
            area = shapely.intersection(a, b).area
            if 0 < area <= 1e-2 * min(a.area, b.area) or (area == 0 and shapely.distance(a, b) < reach):
                return True
    return False


def refused_by_export(path, tmp_path) -> bool:
    """``nest export`` (cut file formats only) exits 2 and writes nothing, or exits 0."""
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "export"
    code = main(["export", str(path), "--out", str(out), "--formats", "plt,dxf"])
    assert code in (0, 2)
    if code == 2:
        assert not out.exists() or not any(out.iterdir())
    return code == 2


def outlines(min_size=2, max_size=4):
    """Pieces a pattern reader would pass: no zero-width spikes (they turn invalid when moved)."""
    pieces = non_convex_polygons().filter(lambda o: shapely.minimum_clearance(o) > 1.0)
    return st.lists(pieces, min_size=min_size, max_size=max_size)


@SLOW
@given(outlines(), st.sampled_from(["none", "180", "90"]))
def test_a_hand_placed_marker_is_accepted_live_and_from_its_file(tmp_path, shapes, rule):
    hand = HandPlaced(shapes, rule)
    document = hand.document(tmp_path)
    assert geometry_is_valid(document)
    assert violations(hand.marker) == []
    assert verify_file(tmp_path / "hand.json") == []


@SLOW
@given(outlines(), st.data())
def test_a_moved_piece_is_refused_exactly_when_shapely_says_it_is_off_the_fabric_or_overlaps(tmp_path, shapes, data):
    hand = HandPlaced(shapes, "none")
    document = hand.document(tmp_path)
    k = data.draw(st.integers(0, len(shapes) - 1))
    entry = document["pieces"][k]
    reach = hand.slot * 1.5
    dx, dy = data.draw(st.floats(-reach, reach)), data.draw(st.floats(-reach, reach))
    outline = document["rules"]["pieces"][entry["id"]]["outline"]
    place(entry, outline, 0.0, entry["x"] + dx, entry["y"] + dy)
    assume(not borderline(document))
    path = write(tmp_path, document)
    valid = geometry_is_valid(document)
    assert (verify_file(path) == []) == valid
    assert (not refused_by_export(path, tmp_path)) == valid


@SLOW
@given(outlines(), st.sampled_from(["none", "180", "90"]), st.data())
def test_a_piece_turned_in_its_slot_is_refused_exactly_when_the_rule_forbids_the_angle(tmp_path, shapes, rule, data):
    hand = HandPlaced(shapes, rule)
    document = hand.document(tmp_path)
    k = data.draw(st.integers(0, len(shapes) - 1))
    angle = data.draw(st.one_of(st.floats(0, 360, exclude_max=True), st.sampled_from([90.0, 180.0, 270.0])))
    step = {"none": 360.0, "180": 180.0, "90": 90.0}[rule]
    off_rule = min(abs(angle - m) for m in np.arange(0.0, 360.0 + step, step))  # slow and obvious
    assume(off_rule == 0 or off_rule > 1e-3)
    entry = document["pieces"][k]
    outline = document["rules"]["pieces"][entry["id"]]["outline"]
    dx, dy = _centred(oriented(Polygon(outline), angle, False), *hand.centre(k))
    place(entry, outline, angle, dx, dy)
    assert geometry_is_valid(document)  # the slot holds the piece in any rotation
    path = write(tmp_path, document)
    problems = verify_file(path)
    assert (problems == []) == (off_rule == 0), problems
    live = hand.marker.placements[k]
    turned = replace(hand.marker, placements=tuple(Placement(p.piece, p.copy, angle, False, dx, dy) if p is live else p
                                                   for p in hand.marker.placements))
    assert (violations(turned) == []) == (off_rule == 0)


@SLOW
@given(outlines(), st.data())
def test_a_piece_stacked_on_another_is_refused(tmp_path, shapes, data):
    hand = HandPlaced(shapes, "none")
    document = hand.document(tmp_path)
    i, j = data.draw(st.permutations(range(len(shapes))))[:2]
    entry = document["pieces"][j]
    outline = document["rules"]["pieces"][entry["id"]]["outline"]
    place(entry, outline, 0.0, *_centred(Polygon(outline), *hand.centre(i)))
    assume(not borderline(document))
    path = write(tmp_path, document)
    a, b = Polygon(document["pieces"][i]["polygon"]), Polygon(entry["polygon"])
    overlapping = shapely.intersection(a, b).area > 1e-6 * min(a.area, b.area)
    assert (verify_file(path) != []) == overlapping


@SLOW
@given(outlines(), st.sampled_from(["bottom", "top", "start", "end"]), st.floats(1.0, 400.0), st.booleans())
def test_negative_margins_are_refused_even_when_they_would_cover_a_piece_off_the_fabric(
        tmp_path, shapes, edge, depth, move_off):
    """A negative margin widens the "usable" area past the cloth; a piece there is off the fabric."""
    hand = HandPlaced(shapes, "none")
    document = hand.document(tmp_path)
    document["rules"]["margins"][edge] = -depth
    if move_off:  # a piece pushed past the edge, inside the tampered margin
        entry = document["pieces"][0 if edge != "end" else -1]
        outline = document["rules"]["pieces"][entry["id"]]["outline"]
        minx, miny, maxx, maxy = Polygon(entry["polygon"]).bounds
        shift = {"bottom": (0, -miny - depth / 2), "top": (0, document["width"] - maxy + depth / 2),
                 "start": (-minx - depth / 2, 0), "end": (document["length"] - maxx + depth / 2, 0)}[edge]
        place(entry, outline, 0.0, entry["x"] + shift[0], entry["y"] + shift[1])
        fabric = box(0, 0, document["length"], document["width"])
        assert not fabric.contains(Polygon(entry["polygon"]))  # shapely: off the cloth
    path = write(tmp_path, document)
    problems = verify_file(path)
    assert any(f"rules.margins.{edge}" in p for p in problems), problems
    assert refused_by_export(path, tmp_path)


def test_a_piece_400_mm_off_the_fabric_under_negative_margins_fails_verify_and_export(tmp_path, capsys):
    hand = HandPlaced([box(0, 0, 300, 200), box(0, 0, 250, 180)], "none")
    document = hand.document(tmp_path)
    document["rules"]["margins"]["bottom"] = -500.0
    entry = document["pieces"][0]
    place(entry, document["rules"]["pieces"][entry["id"]]["outline"], 0.0, entry["x"], entry["y"] - 400.0 - MARGIN)
    assert Polygon(entry["polygon"]).bounds[3] < 0  # wholly below the fabric
    path = write(tmp_path, document)
    assert main(["verify", str(path)]) == 2
    assert "rules.margins.bottom: must be a finite number >= 0, got -500.0" in capsys.readouterr().err
    assert refused_by_export(path, tmp_path)


# --- the reader: one line, exit 2, for hostile content ------------------------------------


def _good_document(tmp_path):
    return HandPlaced([box(0, 0, 300, 200)], "none").document(tmp_path)


@pytest.mark.parametrize("tamper, needle", [
    (lambda text: text.replace('"schema": "marker/1",', '"schema": "marker/1", "width": 5.0,', 1), "occurs twice"),
    (lambda text: text.replace('"copy": 0', '"copy": ' + "9" * 5000, 1), "not a JSON marker file"),
    (lambda text: text.replace('"seed": 0', '"seed": ' + "9" * 5000, 1), "not a JSON marker file"),
])
def test_hostile_json_is_a_one_line_error(tmp_path, capsys, tamper, needle):
    path = tmp_path / "hostile.json"
    path.write_text(tamper(json.dumps(_good_document(tmp_path), indent=1)))
    for command in (["verify", str(path)], ["export", str(path), "--out", str(tmp_path / "out")]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err and str(path) in err and "Traceback" not in err


@pytest.mark.parametrize("field, value", [("target_utilization", "high"), ("units", 1), ("seed", 0.5),
                                          ("input", None), ("meets_target", "yes")])
def test_mistyped_marker_fields_are_one_line_errors(tmp_path, capsys, field, value):
    document = _good_document(tmp_path)
    document[field] = value
    path = write(tmp_path, document)
    for command in (["verify", str(path)], ["export", str(path), "--out", str(tmp_path / "out")]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"{field} must be" in err and "Traceback" not in err


@pytest.mark.parametrize("change, needle", [
    (lambda e: e.pop("id"), "field 'id' is missing"),
    (lambda e: e.pop("copy"), "field 'copy' is missing"),
    (lambda e: e.pop("rotation"), "field 'rotation' is missing"),
    (lambda e: e.pop("mirrored"), "field 'mirrored' is missing"),
    (lambda e: e.pop("polygon"), "polygon: must be a list"),
    (lambda e: e.update(id=7), "id must be a text"),
    (lambda e: e.update(copy="first"), "copy must be a copy number"),
    (lambda e: e.update(copy=1.5), "copy must be a copy number"),
    (lambda e: e.update(copy=-1), "copy must be a copy number"),
    (lambda e: e.update(source=5), "source must be a text or null"),
    (lambda e: e.update(name=["FRONT"]), "name must be a text or null"),
    (lambda e: e.update(rotation=[0]), "rotation must be a number"),
    (lambda e: e.update(mirrored="no"), "mirrored must be true or false"),
    (lambda e: e.update(x="left"), "x must be a number"),
    (lambda e: e.update(holes={}), "holes must be a list"),
])
def test_missing_or_mistyped_piece_fields_are_one_line_errors(tmp_path, capsys, change, needle):
    document = _good_document(tmp_path)
    change(document["pieces"][0])
    path = write(tmp_path, document)
    assert main(["verify", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "piece #0" in err and "Traceback" not in err


@pytest.mark.parametrize("change, needle", [
    (lambda r: r.update(margins=[1, 2]), "rules.margins: must be an object"),
    (lambda r: r["margins"].update(left=3), "unknown edge 'left'"),
    (lambda r: r["margins"].update(top="wide"), "rules.margins.top: must be a finite number"),
    (lambda r: r.update(spacing=-2.0), "rules.spacing: must be a finite number >= 0"),
    (lambda r: r.update(max_length=-1.0), "rules.max_length: must be a finite number > 0"),
    (lambda r: r.update(zones=[[[-500, -500], [-400, -500], [-400, -400]]]), "rules.zones[0]: lies outside the fabric"),
    (lambda r: r["margins"].update(bottom=300.0, top=300.0), "leave no usable width"),
    (lambda r: next(iter(r["pieces"].values())).update(tilt=90.0), "tilt: must be in [0, 45)"),
    (lambda r: next(iter(r["pieces"].values())).update(quantity=-1), "unreadable"),
    (lambda r: next(iter(r["pieces"].values())).update(per_garment=[1, 0, 2]), "per_garment must be"),
    (lambda r: next(iter(r["pieces"].values())).update(flip="yes"), "flip must be true or false"),
    (lambda r: r.update(orientation="90"), "rules: must be a table"),
    (lambda r: r.update(sizes={"M": 0.5}), "rules.sizes: a quantity must be a whole number"),
])
def test_unsound_rules_are_refused_before_use(tmp_path, change, needle):
    document = _good_document(tmp_path)
    change(document["rules"])
    path = write(tmp_path, document)
    try:
        problems = verify_file(path)
    except MarkerFileError as exc:  # a form error: the reader's one line
        problems = [str(exc)]
    assert any(needle in p for p in problems), problems


# --- outline matching ----------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(non_convex_polygons(), st.integers(0, 200), st.booleans(), st.floats(0, 360), st.floats(0, 2e-6),
       st.floats(0, 2 * math.pi))
def test_same_outline_ignores_start_vertex_and_direction_and_agrees_with_hausdorff(polygon, start, reverse, angle,
                                                                                   offset, direction):
    shape = affinity.rotate(polygon, angle, origin=(0, 0))
    ring = list(shape.exterior.coords)[:-1]
    start %= len(ring)
    moved = ring[start:] + ring[:start]
    assert same_outline(shape, Polygon(moved[::-1] if reverse else moved), 1e-9)
    size = _diameter(shape)
    bent = list(ring)
    bent[start] = (bent[start][0] + offset * size * math.cos(direction), bent[start][1] + offset * size * math.sin(direction))
    other = Polygon(bent)
    matched = same_outline(shape, other, 1e-6)
    if offset * max(abs(math.cos(direction)), abs(math.sin(direction))) > 1.01e-6:  # moved past the tolerance
        assert not matched
    if matched:  # the oracle: shapely's (quadratic) Hausdorff distance stays within the tolerance
        assert shapely.hausdorff_distance(shape, other) <= 1.5e-6 * size


def test_a_file_with_a_100k_vertex_outline_is_verified(tmp_path):
    """Outline matching is linear in the vertices (a Hausdorff distance here ran for minutes)."""
    t = np.linspace(0, 2 * np.pi, 100_000, endpoint=False)
    circle = Polygon(np.c_[500 + 400 * np.cos(t), 500 + 400 * np.sin(t)])
    hand = HandPlaced([circle], "none")
    path = tmp_path / "big.json"
    dump(hand.marker, path)
    assert verify_file(path) == []
    assert len(load(path).placed[0].polygon.exterior.coords) == 100_001


# --- any field replaced by any JSON value ------------------------------------------------------


def _paths(node, path=()):
    """Every place in a JSON document (a polygon's vertices count as one place each ring)."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list) and not (node and isinstance(node[0], int | float)):
        for k, value in enumerate(node[:3]):
            yield from _paths(value, path + (k,))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data(), JSON_VALUES)
def test_any_field_replaced_by_any_value_is_a_verdict_or_a_one_line_error(tmp_path, data, value):
    document = _good_document(tmp_path)
    path = data.draw(st.sampled_from(list(_paths(document))[1:]))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    file = write(tmp_path, document)
    try:
        problems = verify_file(file)
    except MarkerFileError as error:  # the reader's refusal names the file
        assert str(error).startswith(str(file))
        return
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
