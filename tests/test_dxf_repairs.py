"""Drawing habits of real CAD exports and hostile DXF content, built with ezdxf in the test.

Assertions are on the typed report's codes and on geometry against shapely, never on wording.
"""

import math
import time

import ezdxf
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from patterns.dxf import read_dxf
from patterns.dxf.repair import RepairLimits, repair_ring
from patterns.errors import PatternError
from patterns.report import codes
from tests.dxf_factory import PieceSpec, pattern_file, rectangle

FRONT = {"Piece Name": "FRONT", "Size": "M", "Quantity": "1"}
SQUARE = [(0, 0), (100, 0), (100, 100), (0, 100)]


def with_spike(ring, edge, at, depth):
    """``ring`` with an inward out-and-back spike of ``depth`` at fraction ``at`` of ``edge``."""
    a, b = np.array(ring[edge]), np.array(ring[(edge + 1) % len(ring)])
    if np.hypot(*(b - a)) == 0:
        return ring
    base = a + at * (b - a)
    normal = np.array([-(b - a)[1], (b - a)[0]]) / np.hypot(*(b - a))
    tip = base + depth * normal
    return ring[: edge + 1] + [tuple(base), tuple(tip), tuple(base)] + ring[edge + 1:]


def test_slit_spike_is_taken_out_and_kept_as_a_notch(tmp_path):
    ring = with_spike(SQUARE, 0, 0.3, 2.54)
    pieces, report = read_dxf(pattern_file(tmp_path / "p.dxf", [PieceSpec("FRONT_M", [ring], texts=FRONT)]))
    (piece,) = pieces
    assert piece.outline.equals(Polygon(SQUARE))
    (notch,) = piece.annotations.notches
    assert (notch.x, notch.y) == pytest.approx((30, 0)) and notch.depth == pytest.approx(2.54)
    assert codes(report).count("slit-notch") == 1
    (record,) = [r for r in report["records"] if r.code == "slit-notch"]
    assert record.piece == "FRONT" and record.data["length_mm"] == pytest.approx(2.54)


def test_spike_around_the_start_vertex():
    ring = with_spike(SQUARE, 3, 0.5, 3.0)  # on the closing edge
    rotated = ring[-2:] + ring[:-2]  # the tip and its return are the first vertices
    fixed = repair_ring(np.array(rotated, float), RepairLimits())
    assert Polygon(fixed.points).equals(Polygon(SQUARE)) and len(fixed.slits) == 1


def test_a_spike_longer_than_a_slit_is_refused_with_its_point():
    ring = with_spike(SQUARE, 0, 0.5, 40.0)
    with pytest.raises(PatternError, match=r"spike 40\.0 mm long at \(50\.0, 40\.0\) mm"):
        read_dxf(pattern_file("/tmp/long_spike.dxf", [PieceSpec("FRONT_M", [ring], texts=FRONT)]))


def test_tiny_self_overlap_is_repaired_and_a_bow_tie_refused(tmp_path):
    # the line runs 0.2 mm past the corner (100, 100) and back across the edge it came along
    overlap = [(0, 0), (100, 0), (100, 100.2), (100.2, 99.8), (99.9, 100), (0, 100)]
    pieces, report = read_dxf(pattern_file(tmp_path / "o.dxf", [PieceSpec("FRONT_M", [overlap], texts=FRONT)]))
    assert "self-overlap" in codes(report)
    assert pieces[0].outline.symmetric_difference(Polygon(SQUARE)).area < 0.1
    with pytest.raises(PatternError, match=r"piece FRONT.*self-intersecting outline.*\(50\.0, 50\.0\) mm"):
        read_dxf(pattern_file(tmp_path / "b.dxf", [PieceSpec("FRONT_M", [[(0, 0), (100, 100), (100, 0), (0, 100)]],
                                                             texts=FRONT)]))


def valentina_block(doc, name, ring, texts, internal=None):
    """A piece block as Valentina/Seamly2D write it: no keys in the text, internal lines twice."""
    block = doc.blocks.new(name)
    block.add_polyline2d(ring, close=True, dxfattribs={"layer": "1"})
    inner = Polygon(ring).buffer(-10, join_style="mitre")
    block.add_polyline2d(list(inner.exterior.coords)[:-1], close=True, dxfattribs={"layer": "14"})
    block.add_line((20, 50), (80, 50), dxfattribs={"layer": "7"})
    for layer in ("8", "85"):
        if internal:
            block.add_polyline2d(internal, dxfattribs={"layer": layer})
    for k, text in enumerate(texts):
        block.add_text(text, dxfattribs={"layer": "1", "insert": (10, 10 + 5 * k)})
    doc.modelspace().add_blockref(name, (0, 0))


def test_valentina_layout_without_piece_name_text(tmp_path):
    doc = ezdxf.new("R12")
    valentina_block(doc, "BACK_COLLAR", rectangle(0, 0, 100, 100), ["A", "back_collar", "Fabric, Cut 2 on fold"],
                    internal=[(30, 30), (70, 30)])
    doc.saveas(tmp_path / "v.dxf")
    (piece,), report = read_dxf(tmp_path / "v.dxf", units="mm")
    assert (piece.name, piece.quantity) == ("back_collar", 2)
    assert not piece.outline.interiors and piece.area == pytest.approx(10000)  # layer 14 is a sew line
    assert len(piece.annotations.sew_lines) == 1 and piece.grain_found
    assert "fold" in codes(report) and report["flavor"] == "aama"


def test_coincident_open_lines_are_a_degenerate_chain_not_a_crash(tmp_path):
    doc = ezdxf.new("R12")
    msp = doc.modelspace()
    msp.add_polyline2d(rectangle(0, 0, 100, 100), close=True)
    msp.add_line((10, 50), (90, 50))
    msp.add_line((90, 50), (10, 50))  # the same line drawn back: chains to a loop of no area
    doc.saveas(tmp_path / "d.dxf")
    (piece,), report = read_dxf(tmp_path / "d.dxf", units="mm")
    assert "degenerate-chain" in codes(report) and piece.area == pytest.approx(10000)
    assert len(piece.annotations.internal_lines) == 1


def optitex_file(path, sizes=("S", "M")):
    doc = ezdxf.new("R12")
    msp = doc.modelspace()
    msp.add_text("Style Name: TEE", dxfattribs={"layer": sizes[0]})
    for k, size in enumerate(sizes):
        grow = 10 * k
        for x0, name in ((0, "Front"), (300, "Back")):
            ring = with_spike(rectangle(x0, 0, x0 + 200 + grow, 300 + grow), 0, 0.5, 6.35)
            msp.add_polyline2d(ring, close=True, dxfattribs={"layer": size})
            msp.add_polyline2d(rectangle(x0 + 10, 10, x0 + 190 + grow, 290 + grow), close=True,
                               dxfattribs={"layer": size})
            msp.add_line((x0 + 100, 50), (x0 + 100, 250), dxfattribs={"layer": size})
            texts = [f"Piece Name: {name}", f"Size: {size}"] + (["Quantity: 2", "Material: Self"] if k == 0 else [])
            for j, text in enumerate(texts):
                msp.add_text(text, dxfattribs={"layer": size, "insert": (x0 + 20, 100 + 10 * j)})
    doc.saveas(path)
    return path


def test_optitex_model_space_layout(tmp_path):
    pieces, report = read_dxf(optitex_file(tmp_path / "o.dxf"), units="mm")
    assert report["flavor"] == "optitex" and report["sizes"] == ["S", "M"]
    assert sorted((p.name, p.size, p.quantity) for p in pieces) == [
        ("Back", "M", 2), ("Back", "S", 2), ("Front", "M", 2), ("Front", "S", 2)]
    for piece in pieces:
        assert not piece.outline.interiors and len(piece.annotations.sew_lines) == 1
        assert len(piece.annotations.notches) == 1 and piece.fabric == "Self" and piece.grain_found
    assert codes(report).count("slit-notch") == 4


def marker_plot_file(path, count=6):
    doc = ezdxf.new("R12")
    msp = doc.modelspace()
    msp.add_polyline2d(rectangle(0, 0, 1000, 500), close=True, dxfattribs={"layer": "CUT"})
    for k in range(count):
        x = 20 + 160 * k
        ring = with_spike(rectangle(x, 20, x + 150, 220), 0, 0.5, 2.54)
        msp.add_polyline2d(ring, close=True, dxfattribs={"layer": "CUT"})
        msp.add_text(f"Piece Name: P{k % 3}", dxfattribs={"layer": "TEXT", "insert": (x + 10, 100)})
        msp.add_text("Size: M", dxfattribs={"layer": "TEXT", "insert": (x + 10, 90)})
    doc.saveas(path)
    return path


def test_marker_plot_lists_placed_pieces_and_the_source_marker(tmp_path):
    pieces, report = read_dxf(marker_plot_file(tmp_path / "m.dxf"), units="mm")
    assert report["flavor"] == "marker-plot" and len(pieces) == 6 and len({p.id for p in pieces}) == 6
    assert report["width"] == pytest.approx(500)
    source = report["source_marker"]
    assert source["length"] == pytest.approx(1000)
    assert source["utilization"] == pytest.approx(6 * 150 * 200 / (1000 * 500))
    assert all(len(p.annotations.notches) == 1 for p in pieces)


def test_marker_plot_renests_and_verifies(tmp_path):
    from cli import main
    from nesting.verify_file import verify_file

    out = tmp_path / "out"
    assert main(["marker", str(marker_plot_file(tmp_path / "m.dxf")), "--units", "mm", "--sizes", "M",
                 "--iterations", "1", "--quiet", "--out", str(out)]) == 0
    assert verify_file(out / "marker.json") == []


def test_notches_carried_to_graded_sizes_along_their_runs(tmp_path):
    base_runs = [[(0, 0), (100, 0)], [(100, 0), (100, 100)], [(100, 100), (0, 100)], [(0, 100), (0, 0)]]
    big_runs = [[(0, 0), (120, 0)], [(120, 0), (120, 140)], [(120, 140), (0, 140)], [(0, 140), (0, 0)]]
    specs = [PieceSpec("FRONT_M", base_runs, closed=False, texts=FRONT, notches=[(25, 0, 4), (100, 75, 4)]),
             PieceSpec("FRONT_L", big_runs, closed=False, texts={"Piece Name": "FRONT", "Size": "L"})]
    pieces, report = read_dxf(pattern_file(tmp_path / "g.dxf", specs, style={"Units": "METRIC",
                                                                             "Sample Size": "M"}))
    large = next(p for p in pieces if p.size == "L")
    found = sorted((round(n.x, 6), round(n.y, 6)) for n in large.annotations.notches)
    # same run, same fraction of its length: 1/4 along the bottom, 3/4 up the right side
    assert found == [(30.0, 0.0), (120.0, 105.0)]
    assert all(n.depth == pytest.approx(4) for n in large.annotations.notches)
    assert codes(report).count("notches-transferred") == 1


def test_no_notches_are_invented_where_the_base_has_none(tmp_path):
    specs = [PieceSpec("FRONT_M", [rectangle(0, 0, 100, 100)], texts=FRONT),
             PieceSpec("FRONT_L", [rectangle(0, 0, 120, 120)], texts={"Piece Name": "FRONT", "Size": "L"})]
    pieces, report = read_dxf(pattern_file(tmp_path / "g.dxf", specs))
    assert all(not p.annotations.notches for p in pieces) and "notches-transferred" not in codes(report)


# --- hostile input: each a one-line project error or a bounded, correct read ---------------------

def generic_doc():
    doc = ezdxf.new("R2000")
    doc.header["$INSUNITS"] = 4
    return doc, doc.modelspace()


def test_minsert_expands_to_every_copy(tmp_path):
    doc, msp = generic_doc()
    doc.blocks.new("SQ").add_lwpolyline(rectangle(0, 0, 10, 10), close=True)
    msp.add_blockref("SQ", (0, 0)).grid(size=(3, 3), spacing=(20, 20))
    doc.saveas(tmp_path / "m.dxf")
    pieces, _ = read_dxf(tmp_path / "m.dxf")
    assert len(pieces) == 9
    assert sorted(p.outline.bounds[:2] for p in pieces) == sorted((20.0 * c, 20.0 * r) for r in range(3)
                                                                    for c in range(3))


@pytest.mark.parametrize("radius", [math.nan, math.inf, 1e300])
def test_arc_radius_not_finite_or_huge_is_a_project_error(tmp_path, radius):
    doc, msp = generic_doc()
    msp.add_line((0, 0), (10, 0))
    msp.add_arc((0, 0), radius, 0, 90)
    doc.saveas(tmp_path / "a.dxf")
    started = time.perf_counter()
    with pytest.raises(PatternError, match="ARC .* is unreadable"):
        read_dxf(tmp_path / "a.dxf")
    assert time.perf_counter() - started < 60  # a hang guard, not a benchmark


def test_grid_of_lines_reads_as_its_outline_quickly(tmp_path):
    doc, msp = generic_doc()
    n = 5
    for i in range(n + 1):
        for j in range(n):
            msp.add_line((10 * j, 10 * i), (10 * (j + 1), 10 * i))
            msp.add_line((10 * i, 10 * j), (10 * i, 10 * (j + 1)))
    doc.saveas(tmp_path / "g.dxf")
    started = time.perf_counter()
    (piece,), _ = read_dxf(tmp_path / "g.dxf")
    assert time.perf_counter() - started < 60  # a hang guard, not a benchmark
    assert piece.outline.equals(Polygon(rectangle(0, 0, 50, 50)))


def test_lines_from_edge_to_edge_are_the_pieces_internal_lines(tmp_path):
    doc, msp = generic_doc()
    for k in range(6):
        msp.add_line((0, 50 * k), (250, 50 * k))
        msp.add_line((50 * k, 0), (50 * k, 250))
    doc.saveas(tmp_path / "g.dxf")
    (piece,), report = read_dxf(tmp_path / "g.dxf")
    assert piece.outline.equals(Polygon(rectangle(0, 0, 250, 250)))
    across = {tuple(map(tuple, np.round(np.asarray(line)[[0, -1]], 6))) for line in piece.annotations.internal_lines}
    drawn = {((0.0, 50.0 * k), (250.0, 50.0 * k)) for k in range(1, 5)} | \
            {((50.0 * k, 0.0), (50.0 * k, 250.0)) for k in range(1, 5)}
    assert {tuple(sorted(line)) for line in across} == {tuple(sorted(line)) for line in drawn}
    assert "open-lines" not in codes(report)


def test_self_inserting_block_hits_the_insert_limit(tmp_path):
    doc, msp = generic_doc()
    block = doc.blocks.new("BOMB")
    block.add_lwpolyline(rectangle(0, 0, 1, 1), close=True)
    block.add_blockref("BOMB", (1, 0))
    block.add_blockref("BOMB", (0, 1))
    msp.add_blockref("BOMB", (0, 0))
    doc.saveas(tmp_path / "b.dxf")
    started = time.perf_counter()
    with pytest.raises(PatternError, match="max_inserts"):
        read_dxf(tmp_path / "b.dxf", max_inserts=500)
    assert time.perf_counter() - started < 60  # a hang guard, not a benchmark


def test_contour_limit_is_named(tmp_path):
    doc, msp = generic_doc()
    for k in range(30):
        msp.add_lwpolyline(rectangle(20 * k, 0, 20 * k + 10, 10), close=True)
    doc.saveas(tmp_path / "c.dxf")
    with pytest.raises(PatternError, match="max_contours"):
        read_dxf(tmp_path / "c.dxf", max_contours=10)


def test_many_open_lines_nearest_ends_by_spatial_index(tmp_path):
    doc, msp = generic_doc()
    for k in range(20_000):
        msp.add_line((3 * k, 0), (3 * k + 1, 0))
    doc.saveas(tmp_path / "l.dxf")
    started = time.perf_counter()
    with pytest.raises(PatternError, match=r"nearest open ends are 2\.000 mm apart"):
        read_dxf(tmp_path / "l.dxf")
    assert time.perf_counter() - started < 120  # a hang guard, not a benchmark


def test_concentric_squares_nest_without_pairwise_checks(tmp_path):
    doc, msp = generic_doc()
    count = 2_000
    for k in range(count):
        msp.add_lwpolyline(rectangle(-k - 1, -k - 1, k + 1, k + 1), close=True)
    doc.saveas(tmp_path / "s.dxf")
    started = time.perf_counter()
    pieces, _ = read_dxf(tmp_path / "s.dxf")
    assert time.perf_counter() - started < 120  # a hang guard, not a benchmark
    assert len(pieces) == count // 2 and all(len(p.outline.interiors) == 1 for p in pieces)


def test_unusable_insunits_is_named(tmp_path):
    doc, msp = generic_doc()
    doc.header["$INSUNITS"] = 3  # miles
    msp.add_lwpolyline(rectangle(0, 0, 10, 10), close=True)
    doc.saveas(tmp_path / "u.dxf")
    with pytest.raises(PatternError, match=r"no usable unit \(\$INSUNITS = '3'"):
        read_dxf(tmp_path / "u.dxf")


def test_huge_integer_is_a_one_line_project_error(tmp_path):
    doc, msp = generic_doc()
    msp.add_lwpolyline(rectangle(0, 0, 10, 10), close=True)
    doc.saveas(tmp_path / "i.dxf")
    text = (tmp_path / "i.dxf").read_text()
    at = text.index("\n 90\n", text.index("LWPOLYLINE"))
    end = text.index("\n", at + 5)
    (tmp_path / "i.dxf").write_text(text[: at + 5] + "9" * 5000 + text[end:])
    with pytest.raises(PatternError) as error:
        read_dxf(tmp_path / "i.dxf")
    assert "\n" not in str(error.value) and len(str(error.value)) < 500


# --- readers never raise anything but the project's errors ---------------------------------------

@st.composite
def aama_like_blocks(draw):
    """A boundary (random star-shaped polygon) split into runs, with spikes, zero-length
    segments and internal lines drawn twice."""
    n = draw(st.integers(3, 12))
    radii = draw(st.lists(st.floats(5, 200), min_size=n, max_size=n))
    ring = [(r * math.cos(2 * math.pi * k / n), r * math.sin(2 * math.pi * k / n)) for k, r in enumerate(radii)]
    for _ in range(draw(st.integers(0, 3))):
        edge = draw(st.integers(0, len(ring) - 1))
        ring = with_spike(ring, edge, draw(st.floats(0.05, 0.95)), draw(st.floats(0.0, 30.0)))
    for _ in range(draw(st.integers(0, 2))):
        k = draw(st.integers(0, len(ring) - 1))
        ring = ring[:k + 1] + [ring[k]] + ring[k + 1:]  # a zero-length segment
    cuts = sorted(set(draw(st.lists(st.integers(1, len(ring) - 1), max_size=4))))
    closed = ring + ring[:1]
    bounds = [0, *cuts, len(ring)]
    runs = [closed[a:b + 1] for a, b in zip(bounds, bounds[1:])]
    internal = draw(st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=2, max_size=4))
    return runs, internal


@settings(max_examples=60, deadline=None)
@given(aama_like_blocks(), st.booleans())
def test_readers_raise_only_project_errors(tmp_path_factory, block, named):
    runs, internal = block
    path = tmp_path_factory.mktemp("fuzz") / "f.dxf"
    doc = ezdxf.new("R12")
    doc.modelspace().add_text("Units: METRIC", dxfattribs={"layer": "1"})
    piece = doc.blocks.new("P_M")
    for run in runs:
        piece.add_polyline2d(run, dxfattribs={"layer": "1"})
    for layer in ("8", "8", "85"):
        piece.add_polyline2d(internal, dxfattribs={"layer": layer})
    piece.add_line((0, 0), (10, 0), dxfattribs={"layer": "7"})
    if named:
        piece.add_text("Piece Name: P", dxfattribs={"layer": "1"})
    doc.modelspace().add_blockref("P_M", (0, 0))
    doc.saveas(path)
    for flavor in ("auto", "generic"):
        try:
            pieces, report = read_dxf(path, flavor=flavor)
        except PatternError:
            continue
        for p in pieces:
            assert p.outline.is_valid and p.area > 0
            for notch in p.annotations.notches:
                assert p.outline.exterior.distance(Point(notch.x, notch.y)) < 1e-6 * max(1.0, p.outline.length)


def test_slit_notch_sits_on_the_repaired_outline():
    ring = with_spike(rectangle(0, 0, 80, 60), 1, 0.25, 5.0)
    fixed = repair_ring(np.array(ring, float), RepairLimits())
    (slit,) = fixed.slits
    assert LineString(np.vstack([fixed.points, fixed.points[:1]])).distance(Point(slit.base)) < 1e-9
    assert slit.length == pytest.approx(5.0)


def test_nest_info_shows_repairs_per_piece(tmp_path, capsys):
    from cli import main

    assert main(["info", str(optitex_file(tmp_path / "o.dxf")), "--units", "mm"]) == 0
    out = capsys.readouterr().out
    repairs = out[out.index("repairs:"):].splitlines()[1:]
    repairs = repairs[: next((k for k, line in enumerate(repairs) if not line.startswith("  ")), len(repairs))]
    # one line per piece and kind of repair; the second size's spike is counted, not repeated
    assert [line.split(":")[0].strip() for line in repairs] == ["Front", "Back"]
    assert all(line.endswith("(and 1 more like it)") for line in repairs)
