"""marker.dxf: clean ezdxf audit, one block per placed piece at (0, 0), the AAMA layers, and a
read-back through the project's own AAMA reader that gives congruent pieces, names and sizes."""

from collections import Counter

import ezdxf
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from export import view_of, write
from export.options import ExportOptions
from nesting.config import NestConfig
from nesting.engine import nest
from nesting.model import Fabric
from patterns import read_pieces
from tests.conftest import shared_file
from tests.export_oracles import congruent, marked_marker

EXACT_MM = 1e-6  # ASCII DXF keeps enough digits for this


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    marker = marked_marker()
    out = tmp_path_factory.mktemp("dxf")
    write(marker, out, ("dxf",))
    return view_of(marker), out / "marker.dxf"


def _entities(block, dxftype, layer):
    return [e for e in block if e.dxftype() == dxftype and e.dxf.layer == layer]


def _closed_polygon(polyline) -> Polygon:
    assert polyline.is_closed
    return Polygon([(v.dxf.location.x, v.dxf.location.y) for v in polyline.vertices])


def test_audit_clean_and_one_block_per_piece_inserted_at_origin(exported):
    view, path = exported
    doc = ezdxf.readfile(path)
    auditor = doc.audit()
    assert not auditor.has_errors and not auditor.fixes
    assert doc.dxfversion == "AC1009"  # R12, what every garment CAD reads
    inserts = doc.modelspace().query("INSERT")
    assert len(inserts) == len(view.pieces)
    for insert in inserts:
        assert tuple(insert.dxf.insert) == (0, 0, 0)
        assert (insert.dxf.xscale, insert.dxf.yscale, insert.dxf.rotation) == (1, 1, 0)
    style = {e.dxf.text for e in doc.modelspace().query("TEXT")}
    assert "Units: METRIC" in style


def test_each_block_holds_its_piece_and_marks_in_place(exported):
    view, path = exported
    doc = ezdxf.readfile(path)
    unmatched = list(view.pieces)
    for insert in doc.modelspace().query("INSERT"):
        block = doc.blocks[insert.dxf.name]
        (cut,) = _entities(block, "POLYLINE", "1")
        holes = [_closed_polygon(p).exterior for p in _entities(block, "POLYLINE", "11")]
        outline = Polygon(_closed_polygon(cut).exterior.coords, [h.coords for h in holes])
        piece = min(unmatched, key=lambda p: shapely.hausdorff_distance(p.polygon, outline))
        unmatched.remove(piece)
        assert shapely.hausdorff_distance(piece.polygon, outline) <= EXACT_MM
        texts = {e.dxf.text for e in _entities(block, "TEXT", "1")}
        assert {f"Piece Name: {piece.name}", f"Size: {piece.size}", "Quantity: 1"} <= texts
        assert any(t.startswith(f"Annotation: copy {piece.copy + 1}") for t in texts)
        (grain,) = _entities(block, "LINE", "7")
        assert LineString([grain.dxf.start, grain.dxf.end]).equals_exact(LineString(piece.annotations.grain_line), EXACT_MM)
        notches = [(p.dxf.location.x, p.dxf.location.y, p.dxf.location.z) for p in _entities(block, "POINT", "4")]
        assert np.asarray(sorted(notches)) == pytest.approx(
            np.asarray(sorted((n.x, n.y, n.depth) for n in piece.annotations.notches)), abs=EXACT_MM)
        (internal,) = _entities(block, "POLYLINE", "8")
        assert np.asarray([tuple(v.dxf.location)[:2] for v in internal.vertices]) == pytest.approx(
            np.asarray(piece.annotations.internal_lines[0]), abs=EXACT_MM)
        drills = [(e.dxf.location.x, e.dxf.location.y) for e in _entities(block, "POINT", "13")]
        assert len(drills) == len(piece.annotations.drill_holes)
        for drill, expected in zip(drills, piece.annotations.drill_holes):
            assert Point(drill).distance(Point(expected)) <= EXACT_MM
    assert not unmatched
    marker_lines = doc.modelspace().query('LINE[layer=="MARKER"]')
    corners = {(round(e.dxf.start.x, 6), round(e.dxf.start.y, 6)) for e in marker_lines}
    assert corners == {(0, 0), (round(view.length, 6), 0), (round(view.length, 6), view.width), (0, view.width)}


def test_read_back_by_the_aama_reader_is_congruent_with_names_and_sizes(exported):
    view, path = exported
    pieces, report = read_pieces(path)
    read_back = Counter()
    for piece in pieces:
        read_back[(piece.name, piece.size)] += piece.demand
    assert read_back == Counter((p.name, p.size) for p in view.pieces)
    for piece in pieces:
        same = [p for p in view.pieces if (p.name, p.size) == (piece.name, piece.size)]
        assert any(congruent(piece.outline, p.polygon, 0.01) for p in same), piece.id
        assert piece.area == pytest.approx(same[0].polygon.area, rel=1e-6)
        assert len(piece.outline.interiors) == len(same[0].polygon.interiors)


def test_exploded_variant_puts_every_piece_in_model_space(tmp_path):
    marker = marked_marker()
    write(marker, tmp_path, ("dxf",), ExportOptions(dxf_exploded=True))
    doc = ezdxf.readfile(tmp_path / "marker.dxf")
    assert not doc.audit().has_errors
    msp = doc.modelspace()
    assert not msp.query("INSERT")
    outlines = [_closed_polygon(p) for p in msp.query('POLYLINE[layer=="1"]')]
    view = view_of(marker)
    assert len(outlines) == len(view.pieces)
    for piece in view.pieces:
        assert min(shapely.hausdorff_distance(piece.polygon.exterior, o.exterior) for o in outlines) <= EXACT_MM


def test_instance_marker_dxf_says_units_are_taken_as_mm(tmp_path):
    write(marked_marker(units="instance"), tmp_path, ("dxf",))
    texts = {e.dxf.text for e in ezdxf.readfile(tmp_path / "marker.dxf").modelspace().query("TEXT")}
    assert "Note: 1 instance unit is exported as 1 mm" in texts and "Units: METRIC" in texts


def test_real_pattern_marker_keeps_notches_and_grain_lines(tmp_path):
    source = shared_file("data/dxf/aama_accumark_orilegwb.dxf")
    pieces, report = read_pieces(source)
    chosen = [p for p in pieces if p.size == report["sample_size"]]  # only the base size carries notches
    assert any(p.annotations.notches for p in chosen) and all(p.annotations.grain_line for p in chosen)
    marker = nest(chosen, Fabric(1500.0), NestConfig(iterations=2), input_name=source.name)
    write(marker, tmp_path, ("dxf",))
    doc = ezdxf.readfile(tmp_path / "marker.dxf")
    assert not doc.audit().has_errors
    by_name = {p.name: p for p in chosen}
    for insert in doc.modelspace().query("INSERT"):
        block = doc.blocks[insert.dxf.name]
        name = next(e.dxf.text.split(":", 1)[1].strip() for e in block if e.dxftype() == "TEXT" and e.dxf.text.startswith("Piece Name:"))
        source_piece = by_name[name]
        notch_points = [e for e in block if e.dxftype() == "POINT" and e.dxf.layer in {"4", *map(str, range(80, 88))}]
        assert len(notch_points) == len(source_piece.annotations.notches)
        assert len(_entities(block, "LINE", "7")) == 1
        assert len(_entities(block, "POLYLINE", "8")) == len(source_piece.annotations.internal_lines)
    read_back, _ = read_pieces(tmp_path / "marker.dxf")
    for piece in read_back:
        assert len(piece.annotations.notches) == len(by_name[piece.name].annotations.notches)
        assert congruent(piece.outline, by_name[piece.name].outline, 0.01)
