"""AAMA/ASTM files built in the test: every number the reader returns is known in advance."""

import math

import ezdxf
import pytest
from shapely import affinity
from shapely.geometry import Polygon

from patterns.dxf import read_dxf
from patterns.errors import PatternError
from patterns.units import resolve_units
from tests.dxf_factory import PieceSpec, pattern_file, rectangle

FRONT = {"Piece Name": "FRONT", "Size": "M", "Quantity": "1"}


def same_shape(a: Polygon, b: Polygon, rel=1e-9) -> bool:
    """Equal regions: the symmetric difference is negligible against the area."""
    return a.symmetric_difference(b).area <= rel * max(a.area, b.area)


def read_one(tmp_path, spec, **options):
    pieces, report = read_dxf(pattern_file(tmp_path / "p.dxf", [spec]), **options)
    assert len(pieces) == 1
    return pieces[0], report


def test_grain_along_x_and_known_area(tmp_path):
    # a 300 x 200 mm rectangle drawn with its grain at 30 degrees
    outline = rectangle(0, 0, 300, 200)
    grain_end = (100 + 150 * math.cos(math.radians(30)), 100 + 150 * math.sin(math.radians(30)))
    piece, report = read_one(tmp_path, PieceSpec("FRONT_M", [outline], texts=FRONT, grain=((100, 100), grain_end)))
    assert piece.area == pytest.approx(60000.0, rel=1e-9)
    assert piece.grain_angle == pytest.approx(30.0, abs=0.01)
    expected = affinity.rotate(Polygon(outline), -30.0, origin=(0, 0))
    assert same_shape(piece.outline, expected)
    (x0, y0), (x1, y1) = piece.annotations.grain_line
    assert math.degrees(math.atan2(y1 - y0, x1 - x0)) == pytest.approx(0.0, abs=0.01)
    assert (piece.name, piece.size, piece.quantity, piece.grain_found) == ("FRONT", "M", 1, True)
    assert report["units"] == "mm" and report["file_units"] == "mm"


def test_piece_without_grain_keeps_its_drawn_orientation(tmp_path):
    outline = [(0, 0), (500, 0), (520, 80), (0, 300)]
    piece, _ = read_one(tmp_path, PieceSpec("FRONT_M", [outline], texts=FRONT))
    assert not piece.grain_found and piece.grain_angle == 0.0
    assert same_shape(piece.outline, Polygon(outline))


def test_mirrored_and_rotated_insert(tmp_path):
    outline = [(0, 0), (400, 0), (400, 100), (100, 250)]
    insert = {"insert": (1000, 500), "xscale": -1, "rotation": 90}
    piece, _ = read_one(tmp_path, PieceSpec("FRONT_M", [outline], texts=FRONT, insert=insert))
    # INSERT transform: scale (mirror x), then rotate, then translate
    mirrored = affinity.scale(Polygon(outline), -1, 1, origin=(0, 0))
    expected = affinity.translate(affinity.rotate(mirrored, 90, origin=(0, 0)), 1000, 500)
    assert same_shape(piece.outline, expected)
    assert piece.outline.exterior.is_ccw


def test_half_piece_with_mirror_line_is_unfolded(tmp_path):
    # the right half of a body; the fold (centre line) is x = 0 from y = 0 to y = 600
    half = [(0, 0), (250, 0), (260, 450), (180, 600), (0, 600)]
    spec = PieceSpec("BODY_M", [half], texts={"Piece Name": "BODY", "Size": "M", "Quantity": "1"},
                     mirror=((0, 600), (0, 0)), grain=((0, 100), (0, 500)), notches=[(250, 0, 4.0)])
    piece, report = read_one(tmp_path, spec)
    whole = Polygon(half).union(affinity.scale(Polygon(half), -1, 1, origin=(0, 0)))
    assert piece.area == pytest.approx(2 * Polygon(half).area, rel=1e-9)
    assert same_shape(piece.outline, affinity.rotate(whole, -90, origin=(0, 0)))
    assert not piece.folded and report["unfolded"] == 1
    assert len(piece.annotations.notches) == 2  # the notch and its mirror image

    folded, _ = read_one(tmp_path, spec, keep_folds=True)
    assert folded.folded and folded.area == pytest.approx(Polygon(half).area, rel=1e-9)


def test_boundary_chained_from_open_polylines_with_small_gaps(tmp_path):
    runs = [[(0, 0), (200, 0), (400, 0.0)], [(400.2, 0), (400, 300)], [(400, 300.3), (150, 320), (0, 300)],
            [(0, 299.9), (0, 0)]]
    piece, report = read_one(tmp_path, PieceSpec("FRONT_M", runs, closed=False, texts=FRONT))
    ring = [p for run in runs for p in run]  # each gap closed by a straight segment
    assert piece.area == pytest.approx(Polygon(ring).area, rel=1e-9)
    assert report["largest_gap_mm"] == pytest.approx(0.3, rel=1e-6)


def test_gap_beyond_tolerance_is_an_open_contour(tmp_path):
    runs = [[(0, 0), (400, 0)], [(400, 0), (400, 300)], [(400, 300), (0, 300)], [(0, 297), (0, 0)]]
    with pytest.raises(PatternError) as error:
        read_one(tmp_path, PieceSpec("FRONT_M", runs, closed=False, texts=FRONT))
    message = str(error.value)
    assert "open contour" in message and "piece FRONT (block FRONT_M)" in message and "3.000 mm" in message


def test_cutout_becomes_a_hole(tmp_path):
    spec = PieceSpec("FRONT_M", [rectangle(0, 0, 400, 300)], texts=FRONT, cutouts=[rectangle(100, 100, 150, 180)])
    piece, _ = read_one(tmp_path, spec)
    assert len(piece.outline.interiors) == 1
    assert piece.area == pytest.approx(400 * 300 - 50 * 80, rel=1e-9)
    assert not piece.outline.interiors[0].is_ccw


@pytest.mark.parametrize("text, expected", [("1", (1, 0)), ("2", (2, 0)), ("1,1", (1, 1)), ("1,0", (1, 0)),
                                            (" 2 , 1 ", (2, 1)), ("0", (0, 0))])
def test_quantity_count_and_right_left_pairs(tmp_path, text, expected):
    spec = PieceSpec("P_M", [rectangle(0, 0, 100, 100)], texts={"Piece Name": "P", "Quantity": text})
    piece, _ = read_one(tmp_path, spec)
    assert (piece.quantity, piece.mirrored_quantity) == expected


def test_vendor_spellings_of_piece_text(tmp_path):
    texts = {"PIECE NAME": "SLEEVE", "SAMPLE SIZE": "L", "QUANTITY": "2", "CATEGORY": "SL", "FABRIC": "A"}
    piece, _ = read_one(tmp_path, PieceSpec("SLEEVE_L", [rectangle(0, 0, 100, 100)], texts=texts))
    assert (piece.name, piece.size, piece.quantity, piece.category, piece.fabric) == ("SLEEVE", "L", 2, "SL", "A")


def test_english_units_are_inches(tmp_path):
    spec = PieceSpec("P_M", [rectangle(0, 0, 10, 5)], texts={"Piece Name": "P"}, notches=[(10, 2, 0.1574)])
    pieces, report = read_dxf(pattern_file(tmp_path / "p.dxf", [spec], style={"Units": "ENGLISH"}))
    assert pieces[0].area == pytest.approx(50 * 25.4**2, rel=1e-12)
    assert report["file_units"] == "in"
    notch = pieces[0].annotations.notches[0]
    assert notch.depth == pytest.approx(3.99796, rel=1e-9)
    assert notch.angle == pytest.approx(180.0, abs=1e-9)  # on the right edge, pointing into the piece


def test_units_override_and_missing_units(tmp_path):
    path = pattern_file(tmp_path / "p.dxf", [PieceSpec("P_M", [rectangle(0, 0, 10, 5)], texts={"Piece Name": "P"})],
                        style={"Style Name": "X"})
    with pytest.raises(PatternError, match="does not state its units.*--units"):
        read_dxf(path)
    pieces, report = read_dxf(path, units="cm")
    assert pieces[0].area == pytest.approx(5000.0) and report["units_from"] == "option"
    with pytest.raises(PatternError, match="unknown units 'furlong'"):
        read_dxf(path, units="furlong")


def test_denser_layer_84_curve_replaces_layer_1(tmp_path):
    coarse = rectangle(0, 0, 400, 300)
    dense = [(400 * t / 10, 0) for t in range(10)] + [(400, 300 * t / 10) for t in range(10)] + \
            [(400 - 400 * t / 10, 300) for t in range(10)] + [(0, 300 - 300 * t / 10) for t in range(10)]
    piece, report = read_one(tmp_path, PieceSpec("P_M", [coarse], texts={"Piece Name": "P"}, curve_84=dense))
    assert report["outline_from_layer_84"] == 1
    assert same_shape(piece.outline, Polygon(coarse))

    other = rectangle(0, 0, 200, 300)  # layer 84 that traces another outline is not used
    other_dense = [(200 * t / 10, 0) for t in range(10)] + list(reversed(other))[:3]
    piece, report = read_one(tmp_path, PieceSpec("P_M", [coarse], texts={"Piece Name": "P"}, curve_84=other_dense))
    assert report["outline_from_layer_84"] == 0 and piece.area == pytest.approx(120000.0)


def test_graded_sizes_inherit_the_base_size_text(tmp_path):
    base = PieceSpec("P_M", [rectangle(0, 0, 100, 100)], texts={
        "Piece Name": "P", "Size": "M", "Quantity": "1,1", "Fabric": "2", "Category": "C"})
    other = PieceSpec("P_L", [rectangle(0, 0, 110, 110)], texts={"Piece Name": "P", "Size": "L"})
    pieces, report = read_dxf(pattern_file(tmp_path / "p.dxf", [other, base],
                                           style={"Units": "METRIC", "Sample Size": "M"}))
    large = next(p for p in pieces if p.size == "L")
    assert (large.quantity, large.mirrored_quantity, large.fabric, large.category) == (1, 1, "2", "C")
    assert report["sizes"] == ["L", "M"] and large.area == pytest.approx(12100.0)


def test_missing_block_is_a_warning(tmp_path):
    pieces = [PieceSpec("SLV_M", [rectangle(0, 0, 100, 100)], texts={"Piece Name": "SLV"}),
              PieceSpec("SLV2_M", [rectangle(0, 0, 1, 1)], insert_block="SLV_1_M")]
    found, report = read_dxf(pattern_file(tmp_path / "p.dxf", pieces))
    assert len(found) == 1  # SLV2_M is defined but not inserted; SLV_1_M is inserted but missing
    assert any("missing block 'SLV_1_M'" in w and "SLV_M" in w for w in report["warnings"])


def test_file_written_by_ezdxf_gerber_exporter(tmp_path):
    spec = PieceSpec("FRONT_M", [rectangle(0, 0, 300, 200)], texts=FRONT, grain=((10, 10), (200, 10)))
    pieces, report = read_dxf(pattern_file(tmp_path / "g.dxf", [spec], gerber=True))
    assert pieces[0].area == pytest.approx(60000.0) and report["flavor"] == "aama"


@pytest.mark.parametrize("boundary, reason", [
    ([(0, 0), (100, 100), (100, 0), (0, 100)], "self-intersecting outline"),
    ([(0, 0), (100, 0), (200, 0)], "zero-area outline"),
])
def test_bad_outlines_name_file_piece_block_and_reason(tmp_path, boundary, reason):
    with pytest.raises(PatternError) as error:
        read_one(tmp_path, PieceSpec("FRONT_M", [boundary], texts=FRONT))
    message = str(error.value)
    assert reason in message and "p.dxf: piece FRONT (block FRONT_M)" in message and "\n" not in message


def test_crossing_contours_in_one_block(tmp_path):
    spec = PieceSpec("FRONT_M", [rectangle(0, 0, 100, 100), rectangle(50, 50, 150, 150)], texts=FRONT)
    with pytest.raises(PatternError, match="contours cross"):
        read_one(tmp_path, spec)


def test_piece_blocks_that_are_never_inserted_are_read_in_place(tmp_path):
    doc = ezdxf.new("R12")
    doc.modelspace().add_text("Units: METRIC", dxfattribs={"layer": "1"})
    block = doc.blocks.new("BACK_M")
    block.add_polyline2d(rectangle(10, 10, 210, 110), close=True, dxfattribs={"layer": "1"})
    block.add_text("Piece Name: BACK", dxfattribs={"layer": "1"})
    doc.saveas(tmp_path / "p.dxf")
    pieces, report = read_dxf(tmp_path / "p.dxf")
    assert [p.name for p in pieces] == ["BACK"] and pieces[0].area == pytest.approx(20000.0)
    assert any("not inserted" in w for w in report["warnings"])


def test_block_without_piece_text_is_named_after_the_block(tmp_path):
    pieces = [PieceSpec("FRONT_M", [rectangle(0, 0, 100, 100)], texts=FRONT),
              PieceSpec("LINING", [rectangle(0, 0, 50, 50)])]
    found, report = read_dxf(pattern_file(tmp_path / "p.dxf", pieces))
    assert [p.name for p in found] == ["FRONT", "LINING"]
    assert any("block LINING: no Piece Name text" in w for w in report["warnings"])


def test_units_precedence_and_conflict_warning():
    warnings = []
    assert resolve_units("f.dxf", None, "METRIC", 1, warnings).name == "mm"  # style text beats $INSUNITS
    assert "says mm but $INSUNITS says in" in warnings[0]
    assert resolve_units("f.dxf", None, None, 5, []).to_mm == 10.0
    assert resolve_units("f.dxf", "inches", "METRIC", 4, []).to_mm == 25.4  # the option beats both
    with pytest.raises(PatternError, match="does not state its units"):
        resolve_units("f.dxf", None, None, 0, [])
