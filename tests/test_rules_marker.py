"""Garment rules end to end: ``nest marker`` with rules, each checked independently with shapely
on the written marker.json, and ``nest verify`` catching each broken rule from the file alone."""

import json
import math
from collections import Counter

import ezdxf
import pytest
import shapely
from shapely import affinity
from shapely.geometry import Polygon, box

from cli import main
from jobs.marker import MarkerJob, run
from nesting.errors import VerificationError
from nesting.verify_file import verify_file
from patterns import read_pieces
from tests.conftest import EXAMPLE, INSTANCES, shared_file

SIZES = {"S": 0.9, "M": 1.0, "L": 1.1, "XL": 1.2}
# Asymmetric outlines (drawn with the grain along +y, as pattern makers draw), so that a mirrored
# copy is told apart from a turned one. Quantities are AAMA/ASTM text: "1,1" is a right/left pair.
GRADED = {
    "FRONT": ([(0, 0), (300, 0), (320, 500), (150, 560), (0, 520)], "1"),
    "SLEEVE": ([(0, 0), (260, 0), (220, 180), (60, 240), (-10, 120)], "1,1"),
    "POCKET": ([(0, 0), (120, 0), (120, 90), (30, 140)], "2"),
}


def write_graded_dxf(path, sizes=SIZES):
    """An AAMA-style graded pattern: one block per piece per size, scaled by size."""
    doc = ezdxf.new("R2000")
    doc.header["$INSUNITS"] = 4
    msp = doc.modelspace()
    msp.add_text("Style Name: GRADED", dxfattribs={"layer": "1", "height": 5})
    msp.add_text("Units: METRIC", dxfattribs={"layer": "1", "height": 5})
    for size, factor in sizes.items():
        for name, (outline, quantity) in GRADED.items():
            block = doc.blocks.new(name=f"{name}_{size}")
            block.add_lwpolyline([(x * factor, y * factor) for x, y in outline], close=True, dxfattribs={"layer": "1"})
            block.add_line((40 * factor, 30 * factor), (40 * factor, 100 * factor), dxfattribs={"layer": "7"})
            texts = (f"Piece Name: {name}", f"Size: {size}", f"Quantity: {quantity}", "Category: SHELL")
            for k, text in enumerate(texts):
                block.add_text(text, dxfattribs={"layer": "1", "height": 3, "insert": (50 * factor, 40 * factor + 6 * k)})
            msp.add_blockref(f"{name}_{size}", (0, 0))
    doc.saveas(path)
    return path


def _marker(out, *args):
    assert main(["marker", *map(str, args), "--iterations", "2", "--out", str(out), "--quiet", "--formats", "json"]) == 0
    document = json.loads((out / "marker.json").read_text())
    assert verify_file(out / "marker.json") == []
    return document


def _polygons(document):
    return [Polygon(p["polygon"], p["holes"]) for p in document["pieces"]]


def _min_gap(polygons):
    return min(shapely.distance(a, b) for i, a in enumerate(polygons) for b in polygons[i + 1:])


def _turn(angle):
    """Signed distance of a rotation from 0, in (-180, 180]."""
    return -((-angle + 180.0) % 360.0 - 180.0)


def _grain_turn(entry):
    """How far a placed piece's grain is turned: a mirrored copy is reflected across its grain
    line, which marker/1 states as x -> -x and a half turn."""
    return _turn(entry["rotation"] - (180.0 if entry["mirrored"] else 0.0))


@pytest.mark.parametrize("source, width, spacing", [(EXAMPLE, 1500, 5.0), (INSTANCES / "jakobs1.json", None, 0.5)])
def test_spacing_and_two_way_rotations(tmp_path, source, width, spacing):
    args = [source, "--spacing", spacing, "--rotations", "180"] + (["--width", width] if width else [])
    document = _marker(tmp_path, *args)
    polygons = _polygons(document)
    assert _min_gap(polygons) >= spacing - 1e-6 * document["width"]
    assert {p["rotation"] % 360.0 for p in document["pieces"]} <= {0.0, 180.0}
    assert document["rules"]["spacing"] == spacing


def test_one_way_nap_with_tilt_never_turns_a_piece(tmp_path):
    document = _marker(tmp_path, EXAMPLE, "--width", "1500", "--rotations", "none", "--tilt", "2")
    for entry in document["pieces"]:
        assert abs(_grain_turn(entry)) <= 2.0 + 1e-9
        assert abs(entry["grain_deviation"]) == pytest.approx(abs(_grain_turn(entry)))
    assert document["report"]["max_grain_deviation"] <= 2.0 + 1e-9


def test_zones_and_margins_are_kept_clear(tmp_path):
    spec = tmp_path / "marker.toml"
    spec.write_text(f"""
patterns = ["{EXAMPLE}"]
[fabric]
width = 1500
margins = {{ bottom = 15, top = 25, start = 30, end = 40 }}
[[fabric.zones]]
rect = [0, 0, 400, 900]
[[fabric.zones]]
polygon = [[600, 1000], [900, 1100], [700, 1400]]
""")
    document = _marker(tmp_path / "out", "--spec", spec)
    zones = [box(0, 0, 400, 900), Polygon([(600, 1000), (900, 1100), (700, 1400)])]
    width, length = document["width"], document["length"]
    usable = box(30, 15, length - 40, width - 25).buffer(1e-6 * width, join_style="mitre")
    for polygon in _polygons(document):
        assert usable.contains(polygon)
        assert all(shapely.intersection(polygon, zone).area <= 1e-6 * polygon.area for zone in zones)
    assert max(p.bounds[2] for p in _polygons(document)) + 40 == pytest.approx(length)
    assert document["rules"]["margins"] == {"bottom": 15, "top": 25, "start": 30, "end": 40}
    assert len(document["rules"]["zones"]) == 2


def _source_outlines(path):
    return {p.id: p.outline for p in read_pieces(path)[0]}


def _is_image(outline, entry, mirrored):
    shape = affinity.scale(outline, -1.0, 1.0, origin=(0, 0)) if mirrored else outline
    shape = affinity.translate(affinity.rotate(shape, entry["rotation"], origin=(0, 0)), entry["x"], entry["y"])
    placed = Polygon(entry["polygon"], entry["holes"])
    return shapely.hausdorff_distance(shape, placed) <= 1e-6 * math.dist(shape.bounds[:2], shape.bounds[2:])


@pytest.mark.parametrize("flip", ["--flip", "--no-flip"])
def test_mirrored_pieces_are_mirror_images_of_their_source(tmp_path, flip):
    pattern = write_graded_dxf(tmp_path / "graded.dxf", {"M": 1.0})
    document = _marker(tmp_path / "out", pattern, "--width", "900", flip, "--rotations", "90")
    sources = _source_outlines(pattern)
    for entry in document["pieces"]:
        outline = sources[entry["id"]]
        assert _is_image(outline, entry, entry["mirrored"])
        assert not _is_image(outline, entry, not entry["mirrored"])  # asymmetric: the other hand differs
    mirrored = Counter(e["name"] for e in document["pieces"] if e["mirrored"])
    if flip == "--no-flip":
        assert mirrored == Counter({"SLEEVE": 1})  # exactly the left of the 1,1 pair
    assert all(rules["flip"] is (flip == "--flip") for rules in document["rules"]["pieces"].values())


def _spec(tmp_path, pattern, ratio, extra=""):
    path = tmp_path / "marker.toml"
    sizes = "\n".join(f"{size} = {n}" for size, n in ratio.items())
    path.write_text(f'patterns = ["{pattern}"]\nspacing = 2\n{extra}\n[sizes]\n{sizes}\n[fabric]\nwidth = 1200\n')
    return path


def _counts(document):
    return Counter((e["name"], e["size"]) for e in document["pieces"])


def test_size_ratio_sets_piece_counts_exactly(tmp_path):
    pattern = write_graded_dxf(tmp_path / "graded.dxf")
    per_garment = {"FRONT": 1, "SLEEVE": 2, "POCKET": 2}
    for k, ratio in enumerate(({"S": 1, "M": 2, "L": 2, "XL": 1}, {"S": 3, "M": 1, "L": 1, "XL": 2})):
        document = _marker(tmp_path / f"out{k}", "--spec", _spec(tmp_path, pattern, ratio))
        expected = Counter({(name, size): n * ratio[size] for name, n in per_garment.items() for size in ratio})
        assert _counts(document) == expected
        assert document["report"]["pieces_per_size"] == {s: 5 * n for s, n in sorted(ratio.items())}
        assert document["report"]["garments"] == sum(ratio.values())
        assert document["rules"]["sizes"] == ratio
        mirrored = Counter(e["size"] for e in document["pieces"] if e["mirrored"])
        assert mirrored == Counter({size: n for size, n in ratio.items()})  # one left sleeve per garment


def test_size_ratio_over_a_real_graded_pattern(tmp_path):
    pattern = shared_file("data/dxf/aama_accumark_men_classic_tee.dxf")
    counts = []
    for k, ratio in enumerate(({"46": 1, "48": 2, "50": 2, "52": 1}, {"46": 2, "48": 1, "50": 1, "52": 3})):
        document = _marker(tmp_path / f"out{k}", "--spec", _spec(tmp_path, pattern, ratio, 'shrinkage = [1, 0.5]'))
        count = _counts(document)
        names = {name for name, _ in count}
        assert len(names) >= 4  # a multi-piece style
        per_garment = {name: count[(name, "46")] // ratio["46"] for name in names}
        assert count == Counter({(name, size): per_garment[name] * n for name in names for size, n in ratio.items()})
        counts.append(count)
    assert counts[0] != counts[1]


def test_unknown_size_is_a_user_error(tmp_path, capsys):
    pattern = write_graded_dxf(tmp_path / "graded.dxf")
    out = tmp_path / "out"
    assert main(["marker", "--spec", str(_spec(tmp_path, pattern, {"M": 1, "XXL": 1})), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown size" in err and "XXL" in err
    assert not out.exists()


def test_marker_longer_than_the_table_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    document = _marker(tmp_path / "free", EXAMPLE, "--width", "1500")
    spec = tmp_path / "marker.toml"
    # above every lower bound (the front is 720 long, the area needs 578) but shorter than the marker
    spec.write_text(f'patterns = ["{EXAMPLE}"]\n[fabric]\nwidth = 1500\nmax_length = 730\n')
    assert document["length"] > 730
    assert main(["marker", "--spec", str(spec), "--iterations", "2", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "fabric.max_length" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())
    spec.write_text(f'patterns = ["{EXAMPLE}"]\n[fabric]\nwidth = 1500\nmax_length = 3000\n')
    document = _marker(out, "--spec", spec)
    assert document["length"] <= 3000 and document["rules"]["max_length"] == 3000


def test_shrinkage_scales_the_pieces_that_are_cut(tmp_path):
    document = _marker(tmp_path, EXAMPLE, "--width", "1500", "--shrinkage", "4,2")
    sources = _source_outlines(EXAMPLE)
    fx, fy = 100 / 96, 100 / 98
    for entry in document["pieces"]:
        source = sources[entry["id"]]
        assert Polygon(entry["polygon"]).area == pytest.approx(source.area * fx * fy, rel=1e-9)
        expected = affinity.scale(source, fx, fy, origin=(0, 0))
        assert _is_image(expected, entry, entry["mirrored"])
    assert document["rules"]["shrinkage"] == {"along": 4.0, "across": 2.0}


def test_report_figures(tmp_path):
    document = _marker(tmp_path, EXAMPLE, "--width", "1500", "--fabric-price", "7.5")
    report, polygons = document["report"], _polygons(document)
    area = sum(p.area for p in polygons)
    assert report["waste_area"] == pytest.approx(1500 * document["length"] - area)
    assert report["cut_perimeter"] == pytest.approx(sum(p.length for p in polygons))
    assert report["garments"] == 1
    assert report["consumption_per_garment"] == pytest.approx(document["length"])
    assert report["fabric_cost_per_garment"] == pytest.approx(document["length"] / 1000 * 7.5)
    assert report["pieces_per_size"] == {"M": 5}


def test_a_rule_bug_in_the_engine_is_refused(tmp_path, monkeypatch):
    """Should rule expansion ever hand the engine a half turn under a one-way nap, the marker is refused."""
    monkeypatch.setattr("nesting.rules.rotation_angles", lambda rule, tilt=0.0: (180.0,))
    job = MarkerJob(input=str(EXAMPLE), out=str(tmp_path), width=1500, iterations=1, rotations="none")
    with pytest.raises(VerificationError, match="breaks its rotation rule none"):
        run(job)
    assert not any(tmp_path.iterdir())


# --- nest verify: every rule checked from marker.json alone -------------------------------


@pytest.fixture(scope="module")
def ruled_marker(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ruled")
    pattern = write_graded_dxf(folder / "graded.dxf", {"S": 0.9, "M": 1.0})
    spec = folder / "marker.toml"
    spec.write_text(f"""
patterns = ["{pattern}"]
spacing = 4
[sizes]
S = 1
M = 2
[fabric]
width = 1000
margins = 10
[[fabric.zones]]
rect = [0, 0, 200, 300]
[rules]
rotations = "none"
[rules.pieces.POCKET]
rotations = "90"
""")
    return _marker(folder / "out", "--spec", spec)


def _broken(tmp_path, document, change):
    document = json.loads(json.dumps(document))
    change(document)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    return verify_file(path)


def _entry(document, name):
    return next(e for e in document["pieces"] if e["name"] == name)


def _place(entry, outline, rotation, mirrored, x, y):
    shape = affinity.scale(Polygon(outline), -1, 1, origin=(0, 0)) if mirrored else Polygon(outline)
    shape = affinity.translate(affinity.rotate(shape, rotation, origin=(0, 0)), x, y)
    entry.update(rotation=rotation, mirrored=mirrored, x=x, y=y, polygon=[list(p) for p in shape.exterior.coords[:-1]])


def _turned_in_place(document, name, rotation, mirrored=False):
    """Turn a piece about its bounding-box centre, stating the turn honestly."""
    entry = _entry(document, name)
    outline = document["rules"]["pieces"][entry["id"]]["outline"]
    before = Polygon(entry["polygon"]).centroid
    shape = affinity.rotate(affinity.scale(Polygon(outline), -1 if mirrored else 1, 1, origin=(0, 0)), rotation, origin=(0, 0))
    _place(entry, outline, rotation, mirrored, before.x - shape.centroid.x, before.y - shape.centroid.y)


def test_verify_accepts_the_ruled_marker(ruled_marker):
    assert ruled_marker["rules"]["sizes"] == {"S": 1, "M": 2}
    assert ruled_marker["rules"]["orientation"]["pieces"] == {"POCKET": {"rotations": "90"}}
    assert {_grain_turn(e) for e in ruled_marker["pieces"] if e["name"] != "POCKET"} == {0.0}


@pytest.mark.parametrize("change, needle", [
    (lambda d: _turned_in_place(d, "FRONT", 180.0), "breaks its rotation rule none"),
    (lambda d: _turned_in_place(d, "POCKET", 45.0), "breaks its rotation rule 90"),
    (lambda d: _turned_in_place(d, "FRONT", 0.0, mirrored=True), "may not flip"),
    (lambda d: _entry(d, "FRONT").update(rotation=90.0), "polygon is not its outline"),
    (lambda d: _entry(d, "FRONT").update(x=_entry(d, "FRONT")["x"] + 1), "polygon is not its outline"),
    (lambda d: d["pieces"].remove(_entry(d, "POCKET")), "copies"),
    (lambda d: d["rules"]["sizes"].update(M=3), "needs"),
    (lambda d: d["rules"]["sizes"].pop("S"), "not in the size ratio"),
    (lambda d: d["rules"].update(spacing=40.0), "closer than the spacing"),
    (lambda d: d["rules"]["zones"].append([[0, 0], [d["length"], 0], [d["length"], 1000], [0, 1000]]), "clear zone"),
    (lambda d: d["rules"]["margins"].update(bottom=400.0), "outside the usable fabric"),
    (lambda d: d["rules"].update(max_length=d["length"] / 2), "exceeds the table length"),
    (lambda d: d["rules"]["orientation"].update(rotations="180"), "rules.orientation gives rotations 180"),
    (lambda d: d["rules"]["pieces"][_entry(d, "FRONT")["id"]].update(rotations="90"), "rules.orientation gives"),
])
def test_verify_catches_each_broken_rule_from_the_file_alone(tmp_path, ruled_marker, change, needle):
    problems = _broken(tmp_path, ruled_marker, change)
    assert any(needle in p for p in problems), problems
