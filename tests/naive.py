"""Slow, obviously correct oracles (shapely) and generators of test polygons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import Polygon, box


def checked_marker_file(path) -> dict:
    """A marker.json's document, after checking it with shapely alone: pieces inside the fabric,
    no overlap beyond 1e-6 of the smaller piece, utilization as stated."""
    import json

    import pytest

    document = json.loads(Path(path).read_text())
    polygons = [Polygon(p["polygon"], p["holes"]) for p in document["pieces"]]
    fabric = box(0, 0, document["length"], document["width"]).buffer(1e-9 * document["width"])
    assert all(fabric.contains(p) for p in polygons)
    for i, a in enumerate(polygons):
        for b in polygons[i + 1:]:
            assert shapely.intersection(a, b).area <= 1e-6 * min(a.area, b.area)
    area = sum(p.area for p in polygons)
    assert document["utilization"] == pytest.approx(area / (document["width"] * document["length"]), rel=1e-9)
    return document


def overlap_area(a: Polygon, b: Polygon, dx: float, dy: float) -> float:
    """Area of A ∩ (B + (dx, dy))."""
    return shapely.intersection(a, affinity.translate(b, dx, dy)).area


def star_polygon(radii, angles, scale=1000.0) -> Polygon:
    """A star-shaped (so simple) polygon from sorted angles and radii in (0, 1]."""
    order = np.argsort(angles)
    angles, radii = np.asarray(angles)[order], np.asarray(radii)[order]
    return Polygon(np.c_[radii * np.cos(angles), radii * np.sin(angles)] * scale)


def cell_polygon(cells, cell=100.0) -> Polygon | None:
    """The largest polygon of a union of grid cells, holes dropped: orthogonal, deeply concave."""
    if not cells:
        return None
    union = shapely.union_all([box(i * cell, j * cell, (i + 1) * cell, (j + 1) * cell) for i, j in cells])
    parts = [union] if union.geom_type == "Polygon" else list(union.geoms)
    biggest = max(parts, key=lambda g: g.area)
    return Polygon(biggest.exterior)


@st.composite
def stars(draw, min_vertices=3, max_vertices=24):
    n = draw(st.integers(min_vertices, max_vertices))
    angles = draw(st.lists(st.floats(0, 2 * np.pi, allow_nan=False), min_size=n, max_size=n, unique=True))
    radii = draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n))
    polygon = star_polygon(radii, angles)
    if not polygon.is_valid or polygon.area < 1.0:
        from hypothesis import reject

        reject()
    return polygon


@st.composite
def cell_shapes(draw, size=5):
    cells = draw(st.sets(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)), min_size=1, max_size=size * size))
    polygon = cell_polygon(sorted(cells))
    from hypothesis import assume

    assume(polygon is not None and polygon.is_valid)
    return polygon


def non_convex_polygons():
    return st.one_of(stars(), cell_shapes())


@st.composite
def holed_polygons(draw):
    """A star-shaped piece with a star-shaped hole around an interior point (valid by rejection)."""
    from hypothesis import assume

    outer = draw(stars(min_vertices=5))
    n = draw(st.integers(3, 10))
    angles = draw(st.lists(st.floats(0, 2 * np.pi, allow_nan=False), min_size=n, max_size=n, unique=True))
    radii = draw(st.lists(st.floats(0.3, 1.0), min_size=n, max_size=n))
    scale = draw(st.floats(100.0, 400.0))
    hole = affinity.translate(star_polygon(radii, angles, scale), *outer.centroid.coords[0])
    polygon = Polygon(outer.exterior, [hole.exterior])
    assume(polygon.is_valid and outer.contains(hole) and hole.area > 0.01 * outer.area)
    return polygon
