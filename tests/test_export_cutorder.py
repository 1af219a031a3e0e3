"""Cut order against slow, obvious re-implementations: every contour once, holes first, starts at
notches or corners, greedy nearest-next, and the reported lengths; plus the placed marks."""

import math

import numpy as np
import pytest
import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box

from export import view_of
from export.cutorder import CORNER_TURN_DEG, plan
from export.placed import PlacedMarker, PlacedPiece
from patterns.piece import Annotations, Notch
from tests.export_oracles import marked_marker


@pytest.fixture(scope="module")
def view():
    return view_of(marked_marker())


def _turn(a, b, c) -> float:
    incoming = math.atan2(b[1] - a[1], b[0] - a[0])
    outgoing = math.atan2(c[1] - b[1], c[0] - b[0])
    return abs((outgoing - incoming + math.pi) % (2 * math.pi) - math.pi)


def _allowed_starts(piece, ring):
    """Notches on this contour if any, else corners, else every vertex."""
    notches = [(n.x, n.y) for n in piece.annotations.notches if ring.distance(Point(n.x, n.y)) <= 0.01]
    if notches:
        return notches
    points = ring.coords[:-1]
    corners = [b for a, b, c in zip(points[-1:] + points[:-1], points, points[1:] + points[:1])
               if _turn(a, b, c) >= math.radians(CORNER_TURN_DEG)]
    return corners or list(points)


def test_every_contour_is_cut_once_closed_and_holes_first(view):
    cut = plan(view)
    seen = []
    for path in cut.paths:
        assert path.points[0] == path.points[-1]
        piece = view.pieces[path.piece].polygon
        rings = [piece.exterior] if not path.hole else list(piece.interiors)
        assert any(shapely.hausdorff_distance(LineString(path.points), ring) < 1e-9 for ring in rings)
        seen.append((path.piece, path.hole))
    assert sorted(seen) == sorted((k, hole) for k, p in enumerate(view.pieces) for hole in [False] + [True] * len(p.polygon.interiors))
    for k in range(len(view.pieces)):
        kinds = [hole for piece, hole in seen if piece == k]
        assert kinds == sorted(kinds, reverse=True), "inner cut-outs before the outline"
    order = [piece for piece, _ in seen]
    assert order == sorted(order, key=cut.piece_order().index), "a piece's contours are cut one after another"


def test_starts_at_a_notch_or_a_corner(view):
    for path in plan(view).paths:
        piece = view.pieces[path.piece]
        ring = LineString(path.points)
        allowed = _allowed_starts(piece, ring)
        assert MultiPoint(allowed).distance(Point(path.points[0])) <= 1e-9
        if any(LineString(path.points).distance(Point(n.x, n.y)) <= 0.01 for n in piece.annotations.notches):
            assert any(math.dist(path.points[0], (n.x, n.y)) <= 0.01 for n in piece.annotations.notches)


def test_next_piece_is_the_nearest_remaining_one_and_lengths_add_up(view):
    cut = plan(view, start=(0.0, 0.0))
    position, left, travel = (0.0, 0.0), set(range(len(view.pieces))), 0.0
    firsts = {}
    for path in cut.paths:
        firsts.setdefault(path.piece, path.points[0])
    for path in cut.paths:
        if path.piece in left:
            nearest = min(
                math.dist(position, start)
                for k in left
                for ring in [view.pieces[k].polygon.exterior, *view.pieces[k].polygon.interiors]
                for start in _allowed_starts(view.pieces[k], ring)
            )
            assert math.dist(position, path.points[0]) == pytest.approx(nearest, abs=1e-9) or path.hole
            left.remove(path.piece)
        travel += math.dist(position, path.points[0])
        position = path.points[0]
    assert cut.travel_length == pytest.approx(travel, rel=1e-12)
    perimeters = sum(p.polygon.exterior.length + sum(r.length for r in p.polygon.interiors) for p in view.pieces)
    assert cut.cut_length == pytest.approx(perimeters, rel=1e-12)


def test_a_row_of_squares_is_cut_along_the_row_from_the_origin():
    squares = [box(x, 10, x + 50, 60) for x in (300, 0, 200, 100)]
    pieces = tuple(PlacedPiece(str(k), "SQ", None, 0, 0.0, False, square) for k, square in enumerate(squares))
    marker = PlacedMarker(100.0, 400.0, "mm", "", 0.92, pieces, document={})
    cut = plan(marker)
    assert cut.piece_order() == (1, 3, 2, 0)
    assert cut.travel_length == pytest.approx(10 + 3 * 100)  # each square starts and ends at its lower-left corner
    far = plan(marker, start=(400.0, 100.0))
    assert far.piece_order() == (0, 2, 3, 1)


def test_a_notch_between_vertices_becomes_the_start():
    square = box(0, 0, 100, 100)
    piece = PlacedPiece("A", "A", None, 0, 0.0, False, square, Annotations(notches=(Notch(100.0, 40.0),)))
    (path,) = plan(PlacedMarker(100.0, 100.0, "mm", "", 0.92, (piece,), document={})).paths
    assert path.points[0] == (100.0, 40.0)
    assert Polygon(path.points).equals(square)


def test_a_piece_with_several_holes_cuts_each_hole_once_nearest_first():
    frame = Polygon(box(0, 0, 300, 100).exterior, [box(x, 30, x + 40, 70).exterior.coords for x in (200, 20, 110)])
    piece = PlacedPiece("F", "FRAME", None, 0, 0.0, False, frame)
    paths = plan(PlacedMarker(100.0, 300.0, "mm", "", 0.92, (piece,), document={})).paths
    holes = [Polygon(p.points) for p in paths if p.hole]
    assert len(holes) == 3 and not paths[-1].hole
    assert [h.bounds[0] for h in holes] == [20, 110, 200]  # from the origin, each next hole nearest


def test_marks_move_with_the_outline(view):
    """Each placed piece's marks relative to its outline are the source's, under shapely's transform,
    cut down to the piece (the panel's grain line crosses its cut-out: its longest part is kept)."""
    marker = marked_marker()
    for placement, placed in zip(marker.placements, view.pieces):
        piece = marker.pieces[placement.piece]
        source = shapely.GeometryCollection([piece.outline, LineString(piece.annotations.grain_line),
                                             *[Point(n.x, n.y) for n in piece.annotations.notches]])
        moved = affinity.scale(source, -1, 1, origin=(0, 0)) if placement.mirrored else source
        moved = affinity.translate(affinity.rotate(moved, placement.rotation, origin=(0, 0)), placement.x, placement.y)
        outline, grain, *notches = moved.geoms
        assert shapely.hausdorff_distance(outline, placed.polygon) <= 1e-9
        on_piece = max(shapely.get_parts(grain.intersection(placed.polygon)), key=lambda part: part.length)
        assert shapely.hausdorff_distance(LineString(placed.annotations.grain_line), on_piece) <= 1e-9
        assert np.asarray([(n.x, n.y) for n in placed.annotations.notches]) == pytest.approx(
            np.asarray([(p.x, p.y) for p in notches]), abs=1e-9)
