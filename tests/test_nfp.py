"""NFP correctness against shapely: strictly inside <=> the interiors overlap."""

import numpy as np
import shapely
from hypothesis import assume, given
from hypothesis import strategies as st
from shapely.geometry import LinearRing, Point, Polygon

from nesting.geometry import clean_ring, grid_image
from nesting.nfp import NFPCache, nfp_rings
from tests.naive import holed_polygons, non_convex_polygons, overlap_area


def _int_ring(polygon):
    """The polygon on the integer grid (as the engine snaps it); rejects what snapping degenerates."""
    ring = clean_ring(np.round(np.asarray(shapely.orient_polygons(polygon).exterior.coords[:-1])).astype(np.int64))
    assume(len(ring) >= 3 and Polygon(ring).is_valid and Polygon(ring).area > 1.0)
    return ring


def _int_holes(polygon):
    holes = shapely.orient_polygons(polygon).interiors
    return tuple(clean_ring(np.round(np.asarray(h.coords[:-1])).astype(np.int64), ccw=False) for h in holes)


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
    band = 1e-4 * max(a.length, b.length)  # the tolerance band: touching, either answer is right
    for point in rng.uniform(lo, hi, size=(40, 2)):
        inside, distance = _classify(rings, point)
        if distance <= band:
            continue
        overlap = overlap_area(a, b, *point)
        assert inside == (overlap > 1e-12 * min(a.area, b.area)), (point, inside, overlap, distance)


@given(non_convex_polygons(), non_convex_polygons(), st.integers(0, 7), st.integers(0, 7), st.integers(0, 2**32 - 1))
def test_cached_nfps_of_grid_images_match_shapely_overlap(a, b, ga, gb, seed):
    """The cache computes only the NFPs no symmetry gives: every pair it derives from another
    (a quarter turn, a mirror, a translation, a swap) still says exactly when the true shapes overlap."""
    ra, rb = _int_ring(a), _int_ring(b)
    shapes = [ra, rb, grid_image(ra, ga) + (1000, -300), grid_image(rb, gb) + (-77, 5000)]
    cache = NFPCache([(r, ()) for r in shapes])
    rng = np.random.default_rng(seed)
    for i, j in rng.integers(0, 4, size=(6, 2)):
        pa, pb = Polygon(shapes[i]), Polygon(shapes[j])
        rings = cache.rings(i, j)
        lo = np.array(pa.bounds[:2]) - np.array(pb.bounds[2:]) - 50
        hi = np.array(pa.bounds[2:]) - np.array(pb.bounds[:2]) + 50
        band = 1e-4 * max(pa.length, pb.length) + 2.0  # touching, or a vertex the union rounded
        for point in rng.uniform(lo, hi, size=(15, 2)):
            inside, distance = _classify(rings, point)
            if distance <= band:
                continue
            assert inside == (overlap_area(pa, pb, *point) > 1e-12 * min(pa.area, pb.area)), (i, j, point)


def test_quarter_turns_of_a_piece_cost_a_quarter_of_their_pairs():
    """Four orientations of an asymmetric piece: 16 ordered pairs, 10 without the swap, 3 up to turns."""
    piece = np.array([[0, 0], [40, 0], [40, 10], [10, 10], [10, 30], [0, 30]], dtype=np.int64)
    shapes = [(grid_image(piece, k), ()) for k in range(4)]
    cache = NFPCache(shapes)
    assert cache.computed_pairs == 3
    for i in range(4):
        for j in range(4):
            direct = Polygon(nfp_rings(shapes[i][0], shapes[j][0])[0])
            assert Polygon(cache.rings(i, j)[0]).symmetric_difference(direct).area == 0


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


@given(holed_polygons(), non_convex_polygons(), st.booleans(), st.integers(0, 2**32 - 1))
def test_nfp_with_holes_allows_part_in_part(holed, other, swap, seed):
    """Positions inside a hole are free exactly when the other piece fits in the hole."""
    other = shapely.affinity.scale(other, 0.15, 0.15, origin=(0, 0))
    ring_h, holes_h = _int_ring(holed), _int_holes(holed)
    ring_o = _int_ring(other)
    holed, other = Polygon(ring_h, holes_h), Polygon(ring_o)
    assume(len(ring_o) >= 3 and other.is_valid and other.area > 100 and holed.is_valid and len(holes_h) == 1)
    a, b = (other, holed) if swap else (holed, other)
    rings = nfp_rings(ring_o, ring_h, (), holes_h) if swap else nfp_rings(ring_h, ring_o, holes_h, ())
    rng = np.random.default_rng(seed)
    # Sample mostly where the small piece would sit inside the hole region.
    centre = np.array(holed.interiors[0].centroid.coords[0])
    points = centre + rng.normal(0, 150, size=(40, 2))
    if swap:
        points = -points
    band = 1e-6 * max(a.length, b.length) + 1.0  # integer rounding of the hole split
    for point in points:
        inside, distance = _classify(rings, point)
        if distance <= band:
            continue
        overlap = overlap_area(a, b, *point)
        assert inside == (overlap > 1e-12 * min(a.area, b.area)), (point, inside, overlap, distance)


def test_small_piece_fits_in_a_hole():
    frame = np.array([[0, 0], [100, 0], [100, 100], [0, 100]], dtype=np.int64)
    hole = np.array([[30, 30], [30, 70], [70, 70], [70, 30]], dtype=np.int64)  # CW
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=np.int64)
    rings = nfp_rings(frame, square, (hole,), ())
    assert not _classify(rings, (45, 45))[0]  # wholly inside the hole: free
    assert _classify(rings, (25, 45))[0]  # straddles the hole's edge: overlaps
    assert _classify(rings, (10, 10))[0]  # on the frame's material
    swapped = nfp_rings(square, frame, (), (hole,))
    assert not _classify(swapped, (-45, -45))[0]  # the frame placed around the square


def test_nfps_computed_on_worker_processes_give_the_same_table():
    from nesting.search.portfolio import process_pool

    rng = np.random.default_rng(3)
    pieces = [np.round(rng.uniform(0, 1000, size=(9, 2))).astype(np.int64) for _ in range(5)]
    rings = [clean_ring(np.asarray(shapely.orient_polygons(shapely.convex_hull(shapely.MultiPoint(p))).exterior.coords[:-1],
                                   dtype=np.int64)) for p in pieces]
    shapes = [(grid_image(r, k), ()) for r in rings for k in (0, 1, 6)]
    here = NFPCache(shapes)
    with process_pool(2) as pool:
        pooled = NFPCache(shapes, pool=pool)
    assert pooled.computed_pairs == here.computed_pairs
    for name in ("ring_xy", "ring_offsets", "pair_rings", "pair_bbox"):
        assert np.array_equal(getattr(pooled, name), getattr(here, name)), name
