"""The four real exports that were refused or misread: Valentina/Seamly2D, Optitex, AccuMark.

Each is checked against its README in ../shared/data/dxf and an oracle that reads the raw
entities with ezdxf and shapely, apart from the importer (skipped when ../shared is absent).
"""

import collections
import functools

import ezdxf
import pytest
from shapely.geometry import Polygon

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
