"""Collision-shape preparation: conservative by construction."""

import numpy as np
import shapely
from hypothesis import assume, given
from hypothesis import strategies as st
from shapely import affinity

from nesting import Fabric, NestConfig
from nesting.geometry import clean_ring, outer_simplify, prepare
from patterns.piece import Piece
from tests.naive import holed_polygons, non_convex_polygons


def _wiggly(polygon, amplitude, rng):
    """A densified outline with small zig-zags: what flattened curves look like."""
    ring = np.asarray(shapely.segmentize(polygon, polygon.length / 300).exterior.coords[:-1])
    ring = ring + rng.uniform(-amplitude, amplitude, size=ring.shape)
    return shapely.make_valid(shapely.Polygon(ring)).buffer(0)


@given(st.one_of(non_convex_polygons(), holed_polygons()), st.floats(0.5, 20.0))
def test_outer_simplification_contains_the_piece_within_tolerance(polygon, tolerance):
    """Containment, and no added material farther than the tolerance from the piece.

    (The region's one-sided Hausdorff distance: closing a notch narrower than the tolerance
    is allowed, and wanted: no piece could enter it.)
    """
    simplified = outer_simplify(polygon, tolerance)
    assert simplified.buffer(1e-9 * polygon.length).contains(polygon)
    boundary = shapely.segmentize(simplified.exterior, tolerance / 10)
    farthest = max(shapely.distance(shapely.Point(p), polygon) for p in boundary.coords)
    assert farthest <= tolerance * (1 + 1e-6)


def test_simplification_removes_most_vertices_of_a_dense_outline():
    dense = _wiggly(shapely.Point(0, 0).buffer(500, quad_segs=64), 0.2, np.random.default_rng(0))
    if dense.geom_type != "Polygon":
        dense = max(dense.geoms, key=lambda g: g.area)
    simplified = outer_simplify(dense, 1.0)
    assert len(simplified.exterior.coords) < len(dense.exterior.coords) / 3
    assert simplified.contains(dense.buffer(-1e-9))


@given(non_convex_polygons(), st.sampled_from([0.0, 90.0, 180.0, 270.0]), st.booleans(), st.floats(0.0, 30.0))
def test_collision_shape_contains_the_true_piece(polygon, rotation, mirrored, spacing):
    """Inflated by rounding and half the spacing, the grid shape covers the oriented outline.

    (Zero-width spikes — vertices that move by less than 1e-6 of the piece before the outline
    crosses itself — are left out: cleaning them is the pattern reader's job.)
    """
    assume(shapely.minimum_clearance(polygon) > 1e-6 * polygon.length)
    piece = Piece(id="p", name="p", outline=polygon, rotations=(rotation,), quantity=0 if mirrored else 1,
                  mirrored_quantity=1 if mirrored else 0)
    prep = prepare([piece], Fabric(10_000.0), NestConfig(spacing=spacing))
    shape = prep.shapes[0]
    collision = shapely.Polygon(shape.ring / prep.scale, [h / prep.scale for h in shape.holes])
    outline = shapely.orient_polygons(affinity.rotate(affinity.scale(polygon, -1 if mirrored else 1, 1, origin=(0, 0))
                                                      if mirrored else polygon, shape.rotation, origin=(0, 0)))
    grown = outline.buffer(spacing / 2 * (1 - 1e-6), quad_segs=8) if spacing > 1e-6 else outline
    assert collision.contains(grown)


def _turns(ring):
    a, b, c = np.roll(ring, 1, axis=0), ring, np.roll(ring, -1, axis=0)
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - b[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - b[:, 0])


@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(-5, 5)), min_size=3, max_size=30))
def test_clean_ring_keeps_the_region_and_only_turning_vertices(points):
    """Same region as the input (where the input is a valid polygon), every vertex turns."""
    polygon = shapely.Polygon(points)
    assume(polygon.is_valid and polygon.area > 0)
    ring = clean_ring(np.array(points, dtype=np.int64))
    assert len(ring) >= 3 and np.all(_turns(ring) != 0)
    cleaned = shapely.Polygon(ring)
    assert cleaned.is_valid and cleaned.symmetric_difference(polygon).area == 0
    assert shapely.is_ccw(cleaned.exterior)


def test_an_orientation_too_wide_for_the_fabric_is_not_offered():
    """A 100 x 10 strip on fabric 50 wide may lie at 0 or 180 degrees, never across."""
    piece = Piece(id="p", name="p", outline=shapely.box(0, 0, 100, 10), rotations=(0.0, 90.0, 180.0, 270.0), quantity=3)
    prep = prepare([piece], Fabric(50.0), NestConfig())
    for allowed in prep.item_shapes:
        heights = [affinity.rotate(piece.outline, prep.shapes[s].rotation, origin=(0, 0)).bounds for s in allowed]
        assert sorted(prep.shapes[s].rotation for s in allowed) == [0.0, 180.0]
        assert all(b[3] - b[1] <= 50.0 for b in heights)
