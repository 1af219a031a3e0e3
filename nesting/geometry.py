"""The bridge between shapely pieces and the kernels' integer grid.

`prepare` derives, once per marker, the collision shape of every (piece, orientation): the
outline oriented, snapped to the grid, inflated (so rounding can never hide an overlap, and by
half the spacing), cleaned of collinear vertices. Exports and verification never see these
shapes: they use the true outlines (jagua-rs's ``shape_orig`` / ``shape_cd`` split).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyclipper
import shapely
from shapely.geometry import Polygon

from nesting.config import NestConfig
from nesting.errors import InfeasibleError
from nesting.model import Fabric, oriented
from patterns.piece import Piece


@dataclass(frozen=True, slots=True)
class Shape:
    """One piece in one orientation, as the kernels see it (grid units)."""

    piece: int
    rotation: float
    mirrored: bool
    ring: np.ndarray  # (n, 2) int64, CCW, open: the inflated collision outline
    holes: tuple[np.ndarray, ...]  # int64 CW rings: the holes, shrunk by the same inflation
    bounds: tuple[float, float, float, float]  # true outline's bbox (+ rounding margin)
    area: float  # true area, input units squared
    hull_area: float  # collision hull area, grid units squared


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything the placers and the search need, derived once from pieces and fabric."""

    pieces: tuple[Piece, ...]
    fabric: Fabric
    scale: float  # grid units per input unit
    shapes: tuple[Shape, ...]
    item_piece: np.ndarray  # (k,) piece index of each copy to place
    item_copy: np.ndarray  # (k,) copy number within its piece
    item_shapes: tuple[tuple[int, ...], ...]  # allowed shape indices per item
    zones: tuple[np.ndarray, ...]  # clear zones as int rings in grid units (marker frame)
    width: int  # fabric width in grid units
    usable: tuple[int, int, int, int]  # margins in grid units: start, end, bottom, top

    def to_units(self, value):
        return value / self.scale


def grid_scale(pieces, tolerances) -> float:
    """Grid units per input unit: the largest piece diameter spans 2**grid_bits units."""
    diameter = max(math.dist(p.outline.bounds[:2], p.outline.bounds[2:]) for p in pieces)
    return float(2 ** tolerances.grid_bits) / diameter


def prepare(pieces, fabric: Fabric, config: NestConfig) -> Prepared:
    """Collision shapes per (piece, orientation) and the copies to place."""
    tol = config.tolerances
    pieces = tuple(pieces)
    scale = grid_scale(pieces, tol)
    inflate = tol.inflate_units + 0.5 * config.spacing * scale
    shapes, index = [], {}
    item_piece, item_copy, item_shapes = [], [], []
    for p, piece in enumerate(pieces):
        for copies, base_mirror in ((piece.quantity, False), (piece.mirrored_quantity, True)):
            if copies == 0:
                continue
            mirrors = (base_mirror, not base_mirror) if piece.flip else (base_mirror,)
            allowed = []
            for mirrored in mirrors:
                for rotation in piece.rotations_for(mirrored):
                    key = (p, float(rotation), mirrored)
                    if key not in index:
                        index[key] = len(shapes)
                        shapes.append(_shape(piece, p, float(rotation), mirrored, scale, inflate, tol.inflate_units, config))
                    allowed.append(index[key])
            first_copy = 0 if not base_mirror else piece.quantity
            for c in range(copies):
                item_piece.append(p)
                item_copy.append(first_copy + c)
                item_shapes.append(tuple(allowed))
    margins = fabric.margins
    width = int(math.floor(fabric.width * scale))
    usable = tuple(int(math.ceil(m * scale)) for m in (margins.start, margins.end, margins.bottom, margins.top))
    for k, allowed in enumerate(item_shapes):
        if not any(_fits_width(shapes[s], width, usable) for s in allowed):
            piece = pieces[item_piece[k]]
            raise InfeasibleError(
                f"piece {piece.id}: does not fit the fabric width {fabric.width:g} in any allowed orientation"
            )
    zones = tuple(_int_ring(shapely.orient_polygons(z).exterior.coords[:-1], scale) for z in fabric.zones)
    return Prepared(
        pieces, fabric, scale, tuple(shapes), np.array(item_piece, dtype=np.int64),
        np.array(item_copy, dtype=np.int64), tuple(item_shapes), zones, width, usable,
    )


def _fits_width(shape, width, usable):
    return shape.bounds[3] - shape.bounds[1] <= width - usable[2] - usable[3]


def _shape(piece, p, rotation, mirrored, scale, inflate, rounding, config) -> Shape:
    outline = oriented(piece.outline, rotation, mirrored)
    collision = shapely.orient_polygons(outline)  # mirroring reverses the rings; offsets need CCW shells
    if config.simplify_tolerance > 0:
        collision = outer_simplify(collision, config.simplify_tolerance)
    ring, holes = inflate_polygon(
        _int_ring(collision.exterior.coords[:-1], scale),
        [_int_ring(h.coords[:-1], scale) for h in collision.interiors],
        inflate,
    )
    minx, miny, maxx, maxy = outline.bounds
    bounds = (minx * scale - rounding, miny * scale - rounding, maxx * scale + rounding, maxy * scale + rounding)
    hull = shapely.convex_hull(Polygon(ring)).area
    return Shape(p, rotation, mirrored, ring, holes, bounds, piece.area, float(hull))


def _int_ring(coords, scale) -> np.ndarray:
    return np.round(np.asarray(coords, dtype=np.float64) * scale).astype(np.int64)


def inflate_polygon(ring: np.ndarray, holes, delta: float) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Offset an int polygon outward by ``delta`` grid units: a superset (holes shrink).

    Mitred joins, squared past twice the offset: every point within ``delta`` of the
    polygon stays covered. Holes that close up disappear.
    """
    offset = pyclipper.PyclipperOffset(miter_limit=2.0)
    offset.AddPaths([ring.tolist()] + [h.tolist() for h in holes], pyclipper.JT_MITER, pyclipper.ET_CLOSEDPOLYGON)
    result = offset.Execute(math.ceil(delta))
    outer = max(result, key=pyclipper.Area)
    kept = tuple(
        clean_ring(np.array(r, dtype=np.int64), ccw=False)
        for r in result
        if pyclipper.Area(r) < 0 and pyclipper.PointInPolygon(r[0], outer) != 0
    )
    return clean_ring(np.array(outer, dtype=np.int64)), tuple(h for h in kept if len(h) >= 3)


def clean_ring(ring: np.ndarray, ccw: bool = True) -> np.ndarray:
    """Without duplicate, collinear or spike vertices (exact integer tests), CCW or CW.

    The convolution's tie rule needs every vertex to turn.
    """
    pts = [tuple(p) for p in ring.tolist()]
    changed = True
    while changed and len(pts) > 3:
        changed = False
        out = []
        n = len(pts)
        for i in range(n):
            (ax, ay), (bx, by), (cx, cy) = out[-1] if out else pts[i - 1], pts[i], pts[(i + 1) % n]
            if (bx - ax) * (cy - by) - (by - ay) * (cx - bx) == 0:
                changed = True
                continue
            out.append(pts[i])
        pts = out
    arr = np.array(pts, dtype=np.int64)
    if (pyclipper.Area(arr.tolist()) < 0) == ccw:
        arr = arr[::-1].copy()
    return np.ascontiguousarray(arr)


def outer_simplify(polygon: Polygon, tolerance: float) -> Polygon:
    """A simplified outline that contains the original, within ``tolerance`` (Hausdorff).

    Douglas-Peucker at half the tolerance, then grown by half the tolerance, and united with
    the original so that containment holds by construction.
    """
    simplified = shapely.simplify(polygon, tolerance / 2, preserve_topology=True)
    grown = shapely.buffer(simplified, tolerance / 2, join_style="mitre", mitre_limit=2.0)
    merged = shapely.union(grown, polygon)
    merged = shapely.simplify(merged, tolerance / 8, preserve_topology=True)
    merged = shapely.union(merged, polygon)
    if merged.geom_type != "Polygon":
        merged = max(merged.geoms, key=lambda g: g.area)
    return Polygon(merged.exterior)
