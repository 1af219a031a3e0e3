"""marker.plt read back by an independent HP-GL reader: every cut path is a piece contour
within one plotter unit (0.025 mm), in every plotter rotation; marks drawn with the draw pen."""

import pytest
import shapely
from shapely import affinity
from shapely.geometry import LineString, box

from export import view_of
from export.hpgl import PlotterFrame, header_spot, plt_text
from export.marks import text_box
from export.options import ExportOptions, PltTools
from export.placed import PlacedMarker, PlacedPiece
from nesting.errors import SpecError
from tests.export_oracles import marked_marker, read_hpgl

UNIT_MM = 1 / 40


@pytest.fixture(scope="module")
def view():
    return view_of(marked_marker())


def _in_plotter_frame(view, rotation):
    """Shapely's own rotation about the origin, shifted so the rotated fabric starts at (0, 0)."""
    fabric = affinity.rotate(box(0, 0, view.length, view.width), rotation, origin=(0, 0))
    dx, dy = -fabric.bounds[0], -fabric.bounds[1]
    return lambda geometry: affinity.translate(affinity.rotate(geometry, rotation, origin=(0, 0)), dx, dy)


def _rings(polygon):
    return [polygon.exterior, *polygon.interiors]


def _mm(points):
    return LineString([(x * UNIT_MM, y * UNIT_MM) for x, y in points])


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_every_cut_path_is_one_piece_contour_within_one_plotter_unit(view, rotation):
    plot = read_hpgl(plt_text(view, ExportOptions(plt_rotation=rotation)))
    move = _in_plotter_frame(view, rotation)
    rings = [ring for piece in view.pieces for ring in _rings(move(piece.polygon))]
    cut = [points for pen, points in plot.paths if pen == 1]
    assert len(cut) == len(rings) == sum(1 + len(p.polygon.interiors) for p in view.pieces)
    unmatched = list(rings)
    for points in cut:
        assert points[0] == points[-1], "every cut path is closed"
        path = _mm(points)
        ring = min(unmatched, key=lambda r: shapely.hausdorff_distance(path, r))
        assert shapely.hausdorff_distance(path, ring) <= UNIT_MM
        unmatched.remove(ring)
    assert not unmatched


def test_program_frame_tools_and_marks(view):
    plot = read_hpgl(plt_text(view))
    assert [name for name, _ in plot.commands[:2]] == ["IN", "PA"]
    assert plot.commands[-2:] == [("PU", []), ("SP", ["0"])]
    tools = PltTools()
    pens = [pen for pen, _ in plot.paths]
    assert pens == sorted(pens, key=[tools.draw, tools.notch, tools.drill, tools.cut].index), \
        "draw, notch and drill before anything is cut"
    drawn = [_mm(points) for pen, points in plot.paths if pen == tools.draw]
    ticks = [_mm(points) for pen, points in plot.paths if pen == tools.notch]
    drills = [shapely.Point(x * UNIT_MM, y * UNIT_MM) for pen, points in plot.paths if pen == tools.drill for x, y in points]
    for piece in view.pieces:
        grain = LineString(piece.annotations.grain_line)
        assert any(line.hausdorff_distance(grain) <= grain.length / 2 and line.length > grain.length / 2 for line in drawn)
        for notch in piece.annotations.notches:
            start = shapely.Point(notch.x, notch.y)
            assert any(start.distance(shapely.Point(line.coords[0])) <= UNIT_MM for line in ticks)
    expected_drills = [shapely.Point(p) for piece in view.pieces for p in piece.annotations.drill_holes]
    assert len(drills) == len(expected_drills) > 0
    assert all(min(d.distance(e) for d in drills) <= UNIT_MM for e in expected_drills)
    fabric = box(0, 0, view.length, view.width).buffer(UNIT_MM)
    labels = [text for _pen, _at, text in plot.labels]
    assert {p.label for p in view.pieces} <= set(labels)
    assert all(fabric.contains(line) for line in drawn + ticks)


def test_cut_lines_only_without_a_draw_pen(view):
    plot = read_hpgl(plt_text(view, ExportOptions(plt_tools=PltTools(cut=3, draw=0, notch=0, drill=0))))
    assert {pen for pen, _ in plot.paths} == {3}
    assert not plot.labels


def test_instance_markers_say_one_unit_is_one_mm():
    view = view_of(marked_marker(units="instance"))
    header = read_hpgl(plt_text(view)).labels[-1][2]
    assert "1 instance unit is exported as 1 mm" in header


@pytest.mark.parametrize("make", [lambda: ExportOptions(plt_rotation=45), lambda: PltTools(draw=1),
                                  lambda: PltTools(cut=0), lambda: PltTools.parse("notch=1"),
                                  lambda: PltTools.parse("knife=1"), lambda: PltTools.parse("drill=x")])
def test_impossible_plotter_options_are_user_errors(make):
    with pytest.raises(SpecError):
        make()


@pytest.mark.parametrize("rotation", [0, 90])
def test_every_label_starts_inside_the_marker_and_the_header_on_free_fabric(view, rotation):
    plot = read_hpgl(plt_text(view, ExportOptions(plt_rotation=rotation)))
    move = _in_plotter_frame(view, rotation)
    fabric = move(box(0, 0, view.length, view.width)).buffer(UNIT_MM)
    assert all(fabric.covers(shapely.Point(x * UNIT_MM, y * UNIT_MM)) for _pen, (x, y), _text in plot.labels)
    (header,) = [at for _pen, at, text in plot.labels if "utilization" in text]
    start = shapely.Point(header[0] * UNIT_MM, header[1] * UNIT_MM)
    assert not any(move(p.polygon).contains(start) for p in view.pieces)


def test_header_spot_is_a_box_of_free_fabric(view):
    text = "marker: length 560.0 mm, width 700 mm, utilization 80.00 %"
    (x, y), angle, height = header_spot(view, text, 5.0)
    label = text_box((x, y), angle, text, height)
    assert box(0, 0, view.length, view.width).covers(label)
    assert all(p.polygon.intersection(label).area <= 1e-9 for p in view.pieces)
    assert header_spot(view, "x" * 100_000, 5.0) is None, "a header that fits nowhere is left out"


def test_a_point_off_the_marker_raises_instead_of_being_clamped():
    frame = PlotterFrame(100.0, 50.0, 0)
    assert frame.units(100.0, 50.0) == (4000, 2000)
    for point in [(-0.5, 10.0), (10.0, 50.5), (100.5, 0.0)]:
        with pytest.raises(ValueError, match="outside the marker"):
            frame.units(*point)
    sticking_out = PlacedMarker(50.0, 100.0, "mm", "", 0.92,
                                (PlacedPiece("A", "A", None, 0, 0.0, False, box(-5, 0, 20, 20)),), document={})
    with pytest.raises(ValueError, match="outside the marker"):
        plt_text(sticking_out)
