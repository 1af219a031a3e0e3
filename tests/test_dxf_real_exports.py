"""The four real exports that were refused or misread: Valentina/Seamly2D, Optitex, AccuMark.

Each is checked against its README in ../shared/data/dxf and an oracle that reads the raw
entities with ezdxf and shapely, apart from the importer (skipped when ../shared is absent).
"""

import collections
import functools
import math

import ezdxf
import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon

from patterns.dxf import read_dxf
from patterns.errors import PatternError
from patterns.report import codes
from tests.conftest import shared_file


@functools.cache
def imported(name: str, units=None):
    return read_dxf(shared_file(f"data/dxf/{name}"), units=units)


def raw_polygons(doc, block_name, layer):
    block = doc.blocks.get(block_name)
    return [Polygon([(v.dxf.location.x, v.dxf.location.y) for v in e.vertices])
            for e in block.query("POLYLINE") if e.dxf.layer == layer and len(e) >= 3]


def test_valentina_collar_is_one_named_piece_with_a_sew_line_not_a_hole():
    with pytest.raises(PatternError, match="does not state its units"):
        read_dxf(shared_file("data/dxf/valentina_seamlint_collar.dxf"))
    (piece,), report = imported("valentina_seamlint_collar.dxf", "mm")
    assert report["flavor"] == "astm" and piece.name == "back_closing_collar"
    assert piece.area / 100 == pytest.approx(154.6, abs=0.05)  # the README's 154.6 cm²
    assert not piece.outline.interiors and len(piece.annotations.sew_lines) == 1
    assert piece.grain_found and piece.quantity == 2  # "Fabric, Cut 2 on fold"
    assert "fold" in codes(report)  # on fold stated, but no mirror line says where


def test_valentina_waist_seven_pieces_cutouts_and_doubled_lines():
    pieces, report = imported("valentina_seamlint_waist.dxf", "mm")
    doc = ezdxf.readfile(shared_file("data/dxf/valentina_seamlint_waist.dxf"))
    assert [p.block for p in pieces] == [i.dxf.name for i in doc.modelspace().query("INSERT")]
    assert [p.name for p in pieces] == ["front", "shirtwaist_sleeve", "lower_sleeve", "first_side", "center_back",
                                        "second_side", "upper_sleeve"]
    for piece in pieces:
        (boundary,) = raw_polygons(doc, piece.block, "1")
        inside = [c for c in raw_polygons(doc, piece.block, "11") if boundary.contains(c)]
        assert piece.area == pytest.approx(boundary.area - sum(c.area for c in inside), rel=1e-6)
        assert len(piece.outline.interiors) == len(inside)  # the sew line on 14 is never a hole
        assert len(piece.annotations.sew_lines) == 1
    # the front's layer-11 contour reaches past its cut line: no hole, and said so
    assert "cutout-outside" in codes(report) and not pieces[0].outline.interiors
    assert "degenerate-chain" not in codes(report)  # layers 8 and 85 are read apart


def test_optitex_four_pieces_in_eight_sizes_named_from_model_space_texts():
    with pytest.raises(PatternError, match="does not state its units"):
        read_dxf(shared_file("data/dxf/optitex_basic_tee_2d.dxf"))
    pieces, report = imported("optitex_basic_tee_2d.dxf", "cm")
    sizes = ["XS", "Small", "Medium", "Large", "XL", "2XL", "3XL", "4XL"]
    names = ["Back", "Front", "Right Sleeve", "Neck Binding"]
    assert report["flavor"] == "optitex" and report["sizes"] == sizes
    assert collections.Counter((p.name, p.size) for p in pieces) == {(n, s): 1 for n in names for s in sizes}
    assert {p.name: p.quantity for p in pieces} == {"Back": 1, "Front": 1, "Right Sleeve": 2, "Neck Binding": 1}
    assert {p.fabric for p in pieces if p.name == "Neck Binding"} == {"Contrast 1"}
    for piece in pieces:
        assert not piece.outline.interiors and len(piece.annotations.sew_lines) == 1 and piece.grain_found
    binding = [p for p in pieces if p.name == "Neck Binding"]
    assert all(len(p.annotations.notches) == 2 for p in binding)
    assert codes(report).count("slit-notch") == 2 * len(binding)  # spikes taken out of every binding


def test_optitex_outer_contour_is_the_cut_line():
    pieces, _ = imported("optitex_basic_tee_2d.dxf", "cm")
    doc = ezdxf.readfile(shared_file("data/dxf/optitex_basic_tee_2d.dxf"))
    small = [Polygon([(v.dxf.location.x * 10, v.dxf.location.y * 10) for v in e.vertices])
             for e in doc.modelspace().query("POLYLINE") if e.dxf.layer == "2"]
    outer = sorted((p.area for p in small if p.is_valid), reverse=True)
    front = next(p for p in pieces if p.name == "Front" and p.size == "Small")
    assert front.area == pytest.approx(max(a for a in outer if abs(a - front.area) < 0.01 * a), rel=1e-6)


def test_accumark_racer_imports_all_but_the_sizes_whose_cut_line_crosses_itself():
    pieces, report = imported("aama_accumark_deep_armhole_racer.dxf")
    refused = {(r["piece"], r["size"]) for r in report["refused"]}
    assert refused == {("DEEP ARMHOLE RACERBK", s) for s in ("48", "50", "52")}
    assert len(pieces) == 28 - 3 and codes(report).count("refused-piece") == 3
    assert "self-overlap" in codes(report)  # FR 50 and 52: a tiny loop, repaired
    front_50 = next(p for p in pieces if p.name == "DEEP ARMHOLE RACE FR" and p.size == "50")
    assert front_50.outline.is_valid


def test_refused_size_cannot_be_chosen_for_a_marker():
    from patterns.selection import select_pieces

    pieces, report = imported("aama_accumark_deep_armhole_racer.dxf")
    assert select_pieces(pieces, "36", None, "racer.dxf", report["refused"]).pieces
    with pytest.raises(PatternError, match="size 48 cannot be cut.*self-intersecting outline"):
        select_pieces(pieces, "48", None, "racer.dxf", report["refused"])


def runs_of(doc, block_name):
    block = next(b for b in doc.blocks if b.name.upper() == block_name.upper())
    return [LineString([(v.dxf.location.x * 25.4, v.dxf.location.y * 25.4) for v in e.vertices])
            for e in block.query("POLYLINE") if e.dxf.layer == "1"], block


def test_graded_sizes_carry_the_base_notches_on_the_same_run_at_the_same_fraction():
    """Oracle: the raw layer-1 runs of base size 50 and size 52, read with ezdxf; each base
    notch POINT's run and fraction of arc length, placed on size 52's run, then turned into
    the piece frame (by the piece's grain angle)."""
    pieces, _ = imported("aama_accumark_men_classic_tee.dxf")
    doc = ezdxf.readfile(shared_file("data/dxf/aama_accumark_men_classic_tee.dxf"))
    for name in ("REGULAR TEEFR", "REGULAR TEEBK"):
        base_runs, base_block = runs_of(doc, f"{name}_50")
        runs, _ = runs_of(doc, f"{name}_52")
        piece = next(p for p in pieces if p.name == name and p.size == "52")
        turn = -math.radians(piece.grain_angle)
        found = np.array([(n.x, n.y) for n in piece.annotations.notches])
        notch_points = [e.dxf.location for e in base_block.query("POINT") if e.dxf.layer == "4"]
        assert notch_points
        for location in notch_points:
            point = Point(location.x * 25.4, location.y * 25.4)
            k = min(range(len(base_runs)), key=lambda r: base_runs[r].distance(point))
            at = runs[k].interpolate(base_runs[k].project(point, normalized=True), normalized=True)
            x = at.x * math.cos(turn) - at.y * math.sin(turn)
            y = at.x * math.sin(turn) + at.y * math.cos(turn)
            assert np.hypot(*(found - (x, y)).T).min() < 1e-6


def test_a_non_base_size_marker_writes_the_transferred_notches(tmp_path):
    from cli import main

    path = shared_file("data/dxf/aama_accumark_men_classic_tee.dxf")
    out = tmp_path / "m"
    assert main(["marker", str(path), "--sizes", "52", "--width", "1500", "--iterations", "1", "--strategy", "blf",
                 "--formats", "json,dxf", "--quiet", "--out", str(out)]) == 0
    pieces, _ = imported("aama_accumark_men_classic_tee.dxf")
    expected = {p.name: len(p.annotations.notches) for p in pieces if p.size == "52" and p.fabric == "1"}
    assert expected["REGULAR TEEFR"] > 0
    written = ezdxf.readfile(out / "marker.dxf")
    for insert in written.modelspace().query("INSERT"):
        block = written.blocks.get(insert.dxf.name)
        texts = [t.dxf.text for t in block.query("TEXT")]
        name = next(t.split(":", 1)[1].strip() for t in texts if t.startswith("Piece Name:"))
        notches = [e for e in block.query("POINT") if e.dxf.layer in ("4", "80", "81", "82", "83")]
        assert len(notches) == expected[name]
