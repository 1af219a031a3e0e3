"""Round trips: random valid polygons written as DXF read back congruent; curves within tolerance.

Oracles: shapely (symmetric difference, Hausdorff distance) and de Boor's algorithm written out
here, both independent of the importer's ezdxf-based chaining and flattening.
"""

import ezdxf
import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from shapely.geometry import LineString, Polygon

from patterns.dxf import read_dxf
from tests.naive import holed_polygons, non_convex_polygons, star_polygon

GAP_MM = 0.5  # the importer's default gap tolerance


def bspline_points(knots, control, degree, ts) -> np.ndarray:
    """Points of a B-spline at parameters ``ts`` by de Boor's algorithm (the textbook oracle)."""
    knots, control, ts = (np.asarray(a, dtype=float) for a in (knots, control, ts))
    k = np.clip(np.searchsorted(knots, ts, side="right") - 1, degree, len(control) - 1)
    d = np.stack([control[k - degree + j] for j in range(degree + 1)], axis=1)
    for r in range(1, degree + 1):
        for j in range(degree, r - 1, -1):
            i = k - degree + j
            alpha = ((ts - knots[i]) / (knots[i + degree + 1 - r] - knots[i]))[:, None]
            d[:, j] = (1 - alpha) * d[:, j - 1] + alpha * d[:, j]
    return d[:, degree]


def rings(polygon: Polygon):
    return [np.asarray(polygon.exterior.coords)[:-1]] + [np.asarray(r.coords)[:-1] for r in polygon.interiors]


def congruent(piece_outline: Polygon, polygon: Polygon) -> bool:
    """Same region and same boundary, up to the importer's removal of collinear vertices."""
    return (piece_outline.symmetric_difference(polygon).area <= 1e-7 * polygon.area
            and piece_outline.exterior.hausdorff_distance(polygon.exterior) <= 1e-3
            and len(piece_outline.interiors) == len(polygon.interiors))


def read_back(tmp_path, doc):
    path = tmp_path / "roundtrip.dxf"
    doc.saveas(path)
    pieces, report = read_dxf(path)
    assert len(pieces) == 1 and report["file_units"] == "mm"
    return pieces[0]


def new_doc():
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    return doc


@given(polygon=st.one_of(non_convex_polygons(), holed_polygons()))
def test_lwpolylines_read_back_congruent(tmp_path_factory, polygon):
    doc = new_doc()
    for ring in rings(polygon):
        doc.modelspace().add_lwpolyline(ring, close=True)
    piece = read_back(tmp_path_factory.mktemp("lw"), doc)
    assert congruent(piece.outline, polygon)


@given(polygon=st.one_of(non_convex_polygons(), holed_polygons()), data=st.data())
def test_shuffled_line_chains_read_back_congruent(tmp_path_factory, polygon, data):
    vertices = np.vstack(rings(polygon))
    distances = np.hypot(*(vertices[:, None, :] - vertices[None, :, :]).transpose(2, 0, 1))
    # ends closer than the gap tolerance cannot be told apart by any tolerance-based chaining
    assume(distances[~np.eye(len(vertices), dtype=bool)].min() > 2 * GAP_MM)
    edges = [(tuple(ring[k]), tuple(ring[(k + 1) % len(ring)])) for ring in rings(polygon) for k in range(len(ring))]
    order = data.draw(st.permutations(range(len(edges))))
    flips = data.draw(st.lists(st.booleans(), min_size=len(edges), max_size=len(edges)))
    doc = new_doc()
    for k in order:
        start, end = edges[k]
        doc.modelspace().add_line(end, start) if flips[k] else doc.modelspace().add_line(start, end)
    piece = read_back(tmp_path_factory.mktemp("lines"), doc)
    assert congruent(piece.outline, polygon)


@st.composite
def closed_control_polygons(draw):
    """Control points of a closed cubic curve: a star polygon's vertices, 5..12 of them."""
    n = draw(st.integers(5, 12))
    gaps = np.asarray(draw(st.lists(st.floats(1.0, 3.0), min_size=n, max_size=n)))
    angles = np.cumsum(gaps) / gaps.sum() * 2 * np.pi
    radii = draw(st.lists(st.floats(0.5, 1.0), min_size=n, max_size=n))
    scale = draw(st.floats(50.0, 800.0))
    return np.asarray(star_polygon(radii, angles, scale).exterior.coords)[:-1]


@given(control=closed_control_polygons(), chord=st.sampled_from([0.1, 0.5]))
def test_closed_spline_within_chord_tolerance(tmp_path_factory, control, chord):
    degree = 3
    points = np.vstack([control, control[:1]])  # clamped, first = last control point: a closed curve
    inner = len(points) - degree - 1
    knots = np.r_[np.zeros(degree + 1), np.arange(1, inner + 1), np.full(degree + 1, inner + 1.0)]
    doc = new_doc()
    doc.modelspace().add_open_spline(points, degree=degree, knots=knots)
    path = tmp_path_factory.mktemp("spline") / "spline.dxf"
    doc.saveas(path)
    pieces, _ = read_dxf(path, chord_mm=chord)
    exact = bspline_points(knots, points, degree, np.linspace(0.0, knots[-1], 5001))
    assert len(pieces) == 1
    assert pieces[0].outline.exterior.hausdorff_distance(LineString(exact)) <= chord * (1 + 1e-6)
    curve = Polygon(exact)
    assert abs(pieces[0].area - curve.area) <= chord * curve.length  # the chords stay within the band
