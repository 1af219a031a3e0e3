"""Exports under hostile input and at scale: names with control characters or ``$...$``,
markers too long to tile, too many pieces; plus property tests of the clipping and the cut
order's nearest-start search against slow, obvious oracles."""

import math
import xml.etree.ElementTree as ET
from dataclasses import replace

import ezdxf
import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPoint, Point, box
from shapely.ops import unary_union

from cli import main
from export import MAX_EXPORT_PIECES, view_of, write
from export.clip import clip_annotations, clip_line
from export.cutorder import plan
from export.marks import MarkSizes, piece_marks, safe_text, text_box
from export.options import ExportOptions
from export.placed import PlacedMarker, PlacedPiece
from export.plot import figure
from nesting.errors import SpecError
from patterns.piece import Annotations, Notch
from tests.conftest import EXAMPLE
from tests.export_oracles import marked_marker, read_hpgl


@pytest.fixture(scope="module")
def hostile():
    """The marked marker with pieces renamed to what a hostile file may hold."""
    view = view_of(marked_marker())
    names = ["BAD\x01\x02NAME\x1f", "$\\frac{$", "$x^2$ -- <&>", "\ud800\ufffe", "PLAIN", "$"]
    pieces = tuple(replace(p, name=names[k % len(names)], id=f"{names[k % len(names)]}/{k}") for k, p in enumerate(view.pieces))
    return replace(view, pieces=pieces, input="evil$\x07.dxf")


def test_svg_of_control_characters_is_well_formed_xml(hostile, tmp_path):
    write(hostile, tmp_path, ("svg",))
    root = ET.parse(tmp_path / "marker.svg").getroot()  # raises on ill-formed XML
    names = [g.get("data-name") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "piece"]
    assert names[0] == "BAD\\x01\\x02NAME\\x1f" and names[3] == "\\ud800\\ufffe"
    assert names[1] == "$\\frac{$", "printable text is kept as it is"


def test_dollar_names_are_plain_text_in_png_and_pdf(hostile, tmp_path):
    write(hostile, tmp_path, ("png", "pdf"))  # an invalid formula used to crash the writer
    fig = figure(hostile)
    texts = fig.axes[0].texts
    assert {safe_text(p.label) for p in hostile.pieces} <= {t.get_text() for t in texts}
    assert "$\\frac{$ M" in {t.get_text() for t in texts}
    assert not any(t.get_parse_math() for t in texts + [fig.axes[0].title])


def test_plt_and_dxf_of_hostile_names_read_back(hostile, tmp_path):
    write(hostile, tmp_path, ("plt", "dxf"))
    labels = [text for _pen, _at, text in read_hpgl((tmp_path / "marker.plt").read_text()).labels]
    assert all(" " <= c <= "~" for text in labels for c in text)
    doc = ezdxf.readfile(tmp_path / "marker.dxf")
    assert not doc.audit().has_errors


def _squares(count, step=20.0, size=15.0, columns=100):
    return tuple(PlacedPiece(str(k), "SQ", None, 0, 0.0, False,
                             box((k % columns) * step, (k // columns) * step, (k % columns) * step + size,
                                 (k // columns) * step + size)) for k in range(count))


def test_tiled_pdf_beyond_the_page_limit_is_refused_before_anything_is_written(tmp_path):
    marker = PlacedMarker(1500.0, 200_000.0, "mm", "long.dxf", 0.92, _squares(3), document={})
    with pytest.raises(SpecError, match="pages of A4"):
        write(marker, tmp_path, ("json", "pdf"), ExportOptions(pdf_page="A4", pdf_tiled=True))
    assert not list(tmp_path.iterdir())


def test_more_pieces_than_the_export_limit_are_refused(tmp_path):
    marker = PlacedMarker(100_000.0, 100_000.0, "mm", "many.dxf", 0.92, _squares(MAX_EXPORT_PIECES + 1, columns=1000),
                          document={})
    with pytest.raises(SpecError, match=str(MAX_EXPORT_PIECES)):
        write(marker, tmp_path, ("plt",))
    assert not list(tmp_path.iterdir())


def test_spec_plt_tools_reach_the_cut_file(tmp_path, capsys):
    spec = tmp_path / "marker.toml"
    spec.write_text(f'patterns = ["{EXAMPLE}"]\n[fabric]\nwidth = 1500\n[plt]\ntools = {{ cut = 5, draw = 6 }}\n')
    assert main(["marker", "--spec", str(spec), "--iterations", "1", "--formats", "plt", "--out", str(tmp_path / "o"),
                 "--quiet"]) == 0
    pens = {pen for pen, _ in read_hpgl((tmp_path / "o" / "marker.plt").read_text()).paths}
    assert pens == {5, 6}
    spec.write_text(f'patterns = ["{EXAMPLE}"]\n[fabric]\nwidth = 1500\n[plt]\ntools = "cut=1,draw=1"\n')
    capsys.readouterr()
    assert main(["marker", "--spec", str(spec), "--iterations", "1", "--out", str(tmp_path / "p"), "--quiet"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "plt.tools" in line and "marker.toml" in line


# --- property tests -----------------------------------------------------------------------

coordinate = st.floats(-50, 150, allow_nan=False, width=32)
points = st.lists(st.tuples(coordinate, coordinate), min_size=2, max_size=8)


@given(shell=st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=12), line=points)
def test_clipped_line_is_exactly_the_part_on_the_polygon(shell, line):
    polygon = MultiPoint(shell).convex_hull
    if polygon.geom_type != "Polygon" or polygon.area < 1:
        return
    polygon = polygon.difference(box(40, 40, 60, 60)) if polygon.contains(box(40, 40, 60, 60)) else polygon
    parts = clip_line(line, polygon)
    near = polygon.buffer(1e-7)
    assert all(near.covers(LineString(part)) for part in parts)
    drawn = unary_union([LineString(part) for part in parts]) if parts else LineString()
    expected = LineString(line).intersection(polygon) if LineString(line).length > 0 else LineString()
    expected = unary_union([g for g in shapely.get_parts(expected) if g.length > 0]) if not expected.is_empty else expected
    assert drawn.length == pytest.approx(expected.length, abs=1e-6)
    if not expected.is_empty:
        assert drawn.hausdorff_distance(expected) <= 1e-6


def _greedy_order(pieces, start):
    """The slow, obvious cut order: from here, the piece whose nearest corner is nearest, ties
    to the lower piece (and corner) index."""
    left, here, order = list(range(len(pieces))), np.asarray(start, float), []
    while left:
        best = min(left, key=lambda k: (min(math.hypot(*(np.asarray(c) - here)) for c in pieces[k].polygon.exterior.coords[:-1]), k))
        corners = pieces[best].polygon.exterior.coords[:-1]
        here = np.asarray(min(corners, key=lambda c: math.hypot(*(np.asarray(c) - here))))
        order.append(best)
        left.remove(best)
    return tuple(order)


@given(cells=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=40, unique=True),
       start=st.tuples(st.integers(-20, 400), st.integers(-20, 400)))
def test_cut_order_grid_search_is_the_greedy_nearest_order(cells, start):
    pieces = tuple(PlacedPiece(str(k), "SQ", None, 0, 0.0, False, box(i * 10, j * 10, i * 10 + 6, j * 10 + 6))
                   for k, (i, j) in enumerate(cells))
    marker = PlacedMarker(400.0, 400.0, "mm", "", 0.92, pieces, document={})
    assert plan(marker, start=start).piece_order() == _greedy_order(pieces, start)



@given(shell=st.lists(st.tuples(coordinate, coordinate), min_size=3, max_size=12),
       lines=st.lists(points, min_size=1, max_size=4), grain=points,
       drills=st.lists(st.tuples(coordinate, coordinate), max_size=4), name=st.text(max_size=12))
def test_every_drawn_mark_lies_on_its_piece(shell, lines, grain, drills, name):
    """Whatever a pattern's marks do (run off the piece, cross a cut-out), what is drawn stays on it."""
    polygon = MultiPoint(shell).convex_hull
    if polygon.geom_type != "Polygon" or polygon.area < 100:
        return
    hole = box(40, 40, 50, 50)
    polygon = polygon.difference(hole) if polygon.buffer(-1).contains(hole) else polygon
    notches = tuple(Notch(x, y) for x, y in list(polygon.exterior.coords)[:3])
    raw = Annotations(grain_line=tuple(grain[:2]), notches=notches, internal_lines=tuple(map(tuple, lines)),
                      sew_lines=tuple(map(tuple, lines[:1])), drill_holes=tuple(drills))
    piece = PlacedPiece("P", name or "P", "M", 0, 0.0, False, polygon, clip_annotations(raw, polygon))
    marks = piece_marks(piece, MarkSizes(notch=4.0, text=5.0, arrow=10.0))
    near = polygon.buffer(1e-6)
    for line in marks.lines():
        assert near.covers(LineString(line)), line
    assert all(polygon.covers(Point(p)) for p in piece.annotations.drill_holes)
    if marks.label_height:
        assert polygon.covers(text_box(marks.label_at, marks.label_angle, piece.label, marks.label_height))
