"""NFP correctness against shapely: strictly inside <=> the interiors overlap."""

import numpy as np
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import LinearRing, Point, Polygon

from nesting.geometry import clean_ring
from nesting.nfp import nfp_rings
from tests.naive import non_convex_polygons, overlap_area


def _int_ring(polygon):
    ring = np.round(np.asarray(shapely.orient_polygons(polygon).exterior.coords[:-1])).astype(np.int64)
    return clean_ring(ring)


def _classify(rings, point):
    """(inside, distance to boundary) of a point for an even-odd ring set."""
    inside = False
    for ring in rings:
        if Polygon(ring).contains(Point(point)):
            inside = not inside
    distance = min(LinearRing(r).distance(Point(point)) for r in rings)
    return inside, distance


@given(non_convex_polygons(), non_convex_polygons(), st.integers(0, 2**32 - 1))
def test_nfp_matches_shapely_overlap(a, b, seed):
    ra, rb = _int_ring(a), _int_ring(b)
    a, b = Polygon(ra), Polygon(rb)
    rings = nfp_rings(ra, rb)
    assert rings, "a non-empty pair has a non-empty NFP"
    rng = np.random.default_rng(seed)
    lo = np.array(a.bounds[:2]) - np.array(b.bounds[2:]) - 50
    hi = np.array(a.bounds[2:]) - np.array(b.bounds[:2]) + 50
    band = 1e-6 * max(a.length, b.length)
    for point in rng.uniform(lo, hi, size=(40, 2)):
        inside, distance = _classify(rings, point)
        if distance <= band:
            continue  # touching: either answer is right
        overlap = overlap_area(a, b, *point)
        assert inside == (overlap > 1e-9 * min(a.area, b.area)), (point, inside, overlap, distance)


@given(non_convex_polygons(), non_convex_polygons())
def test_nfp_area_is_at_least_both_pieces(a, b):
    """|A + (-B)| >= |A| + |B| for any two non-empty sets (Brunn-Minkowski gives more)."""
    ra, rb = _int_ring(a), _int_ring(b)
    area = sum(Polygon(r).area if shapely.is_ccw(LinearRing(r)) else -Polygon(r).area for r in nfp_rings(ra, rb))
    assert area >= Polygon(ra).area + Polygon(rb).area - 1e-6


def test_nfp_of_squares_is_the_square_sum():
    a = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=np.int64)
    b = np.array([[0, 0], [4, 0], [4, 4], [0, 4]], dtype=np.int64)
    (ring,) = nfp_rings(a, b)
    assert Polygon(ring).equals(shapely.box(-4, -4, 10, 10))


def test_part_in_concavity_positions_exist():
    """A U shape leaves a pocket in which a small square fits: a hole in the NFP."""
    u = np.array([[0, 0], [30, 0], [30, 30], [20, 30], [20, 10], [10, 10], [10, 30], [0, 30]], dtype=np.int64)
    square = np.array([[0, 0], [5, 0], [5, 5], [0, 5]], dtype=np.int64)
    rings = nfp_rings(u, square)
    inside, _ = _classify(rings, (12.5, 15.0))  # the square sits inside the U's slot
    assert not inside
    assert overlap_area(Polygon(u), Polygon(square), 12.5, 15.0) == 0
