"""The bridge between shapely pieces and the kernels' integer grid.

`prepare` derives, once per marker, the collision shape of every (piece, orientation): the
outline oriented, snapped to the grid, inflated (so rounding can never hide an overlap, and by
half the spacing), cleaned of collinear vertices. Exports and verification never see these
shapes: they use the true outlines (jagua-rs's ``shape_orig`` / ``shape_cd`` split).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import pyclipper
import shapely
from shapely import affinity
from shapely.geometry import Polygon

from nesting.config import NestConfig
from nesting.errors import InfeasibleError
from nesting.lattice import FREE, UNRULED, position_rule, values
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


class GridMargins(NamedTuple):
    """The fabric's unusable margins in whole grid units, rounded up: inside them is inside the true ones."""

    start: int
    end: int
    bottom: int
    top: int


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
    margins: GridMargins
    lattice: np.ndarray | None = None  # (shapes, 2 axes, (phase, period)) position rules (`nesting.lattice`), grid units


# The eight isometries of the integer grid (the square's symmetries) as integer matrices:
# quarter turns, then the same after mirroring x -> -x. They map grid rings onto grid rings exactly.
GRID_ISOMETRIES = tuple(np.array(m, dtype=np.int64) for m in (
    ((1, 0), (0, 1)), ((0, -1), (1, 0)), ((-1, 0), (0, -1)), ((0, 1), (-1, 0)),
    ((-1, 0), (0, 1)), ((0, -1), (-1, 0)), ((1, 0), (0, -1)), ((0, 1), (1, 0)),
))


def grid_image(ring: np.ndarray, isometry: int) -> np.ndarray:
    """The int ring mapped by ``GRID_ISOMETRIES[isometry]``, its orientation kept (a mirror reverses it)."""
    m = GRID_ISOMETRIES[isometry]
    image = ring @ m.T
    return np.ascontiguousarray(image if isometry < 4 else image[::-1])


def quarter_turns(rotation: float, mirrored: bool) -> int | None:
    """The grid isometry of an orientation (`nesting.model.oriented`: mirror x -> -x, then
    rotate), or None for an angle that is not a quarter turn."""
    turns = rotation / 90.0
    if turns != round(turns):
        return None
    return int(round(turns)) % 4 + (4 if mirrored else 0)


MAX_GRID = 2**40  # grid coordinates of a marker stay below this (pyclipper's fast range is 2**62)


def grid_scale(pieces, tolerances, spacing: float = 0.0) -> float:
    """Grid units per input unit: the largest piece diameter, spacing included, spans 2**grid_bits.

    So every collision shape and NFP stays within 2**(grid_bits + 2) units, far inside the
    int64 range of the convolution kernel's exact cross products.
    """
    diameter = max(math.dist(p.outline.bounds[:2], p.outline.bounds[2:]) for p in pieces) + spacing
    return float(2 ** tolerances.grid_bits) / diameter


def prepare(pieces, fabric: Fabric, config: NestConfig) -> Prepared:
    """Collision shapes per (piece, orientation) and the copies to place."""
    tol = config.tolerances
    pieces = tuple(pieces)
    scale = grid_scale(pieces, tol, config.spacing)
    if fabric.width * scale > MAX_GRID:
        raise InfeasibleError(
            f"fabric width {fabric.width:g} is more than {MAX_GRID / 2**tol.grid_bits:.0e} times the largest piece: "
            "check the units of the pattern and of --width"
        )
    inflate = tol.inflate_units + 0.5 * config.spacing * scale
    width = int(math.floor(fabric.width * scale))
    margins = fabric.margins
    grid_margins = GridMargins(*(int(math.ceil(m * scale)) for m in (margins.start, margins.end, margins.bottom, margins.top)))
    upright = functools.cache(lambda p: _collision_rings(pieces[p].outline, scale, inflate, config))
    shapes, index, rules = [], {}, []
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
                        rule = position_rule(piece, float(rotation), mirrored, fabric)
                        if rule is None:  # no position of this orientation keeps the piece's rule
                            index[key] = None
                            continue
                        shape = _pinned(_shape(piece, p, float(rotation), mirrored, scale, inflate, tol.inflate_units,
                                                config, upright), rule, scale, width)
                        phase, period = rule[1]
                        if period >= 0 and not len(values(grid_margins.bottom - shape.bounds[1],
                                                          width - grid_margins.top - shape.bounds[3],
                                                          phase * scale, period * scale)):
                            index[key] = None  # no stripe line (or fold) within its reach across the fabric
                            continue
                        index[key] = len(shapes)
                        shapes.append(shape)
                        rules.append(rule)
                    if index[key] is not None:
                        allowed.append(index[key])
            if not allowed:
                raise InfeasibleError(f"piece {piece.id}: no allowed orientation keeps its fold or match rule")
            first_copy = 0 if not base_mirror else piece.quantity
            for c in range(copies):
                item_piece.append(p)
                item_copy.append(first_copy + c)
                item_shapes.append(tuple(allowed))
    # An orientation too wide for the fabric is no choice at all: no strategy may try it (a
    # genetic mutation forcing one found no position for the piece on the open strip).
    item_shapes = [tuple(s for s in allowed if _fits_width(shapes[s], width, grid_margins)) for allowed in item_shapes]
    for k, allowed in enumerate(item_shapes):
        if not allowed:
            piece = pieces[item_piece[k]]
            raise InfeasibleError(
                f"piece {piece.id}: does not fit the fabric width {fabric.width:g} in any allowed orientation"
            )
    zones = tuple(_int_ring(shapely.orient_polygons(z).exterior.coords[:-1], scale) for z in fabric.zones)
    lattice = None
    if any(rule != UNRULED for rule in rules):
        lattice = np.array(rules, dtype=np.float64).reshape(-1, 2, 2)
        lattice[:, :, 0] *= scale
        lattice[:, :, 1] = np.where(lattice[:, :, 1] < 0, FREE, lattice[:, :, 1] * scale)
    return Prepared(
        pieces, fabric, scale, tuple(shapes), np.array(item_piece, dtype=np.int64),
        np.array(item_copy, dtype=np.int64), tuple(item_shapes), zones, width, grid_margins, lattice,
    )


def _pinned(shape: Shape, rule, scale: float, width: int) -> Shape:
    """A shape pinned across to a fold, its bounds set so that the pin is its inner-fit edge.

    The pin puts the true outline's edge on the fold (y = width or 0) exactly; the rounding
    margin of the bounds is dropped on that side, so bottom-left fill, the container loss and
    the pin agree (the fold edges have no margin).
    """
    (phase, period) = rule[1]
    if period != 0.0:
        return shape
    x0, y0, x1, y1 = shape.bounds
    pin = phase * scale
    if abs(pin + y0) <= abs(width - pin - y1) + 1e-9 * width:  # bottom fold: y0 + pin == 0
        return replace(shape, bounds=(x0, -pin, x1, y1))
    return replace(shape, bounds=(x0, y0, x1, width - pin))


def _fits_width(shape, width, margins):
    return shape.bounds[3] - shape.bounds[1] <= width - margins.bottom - margins.top


def _shape(piece, p, rotation, mirrored, scale, inflate, rounding, config, upright) -> Shape:
    """Piece p in one orientation. A quarter turn or mirror image is the exact grid image of the
    upright collision shape (``upright(p)``), so the NFPs of such orientations are images of one
    another (`nesting.nfp`); the inflation covers it as it covers the upright one."""
    outline = oriented(piece.outline, rotation, mirrored)
    isometry = quarter_turns(rotation, mirrored)
    if isometry is None:
        ring, holes = _collision_rings(outline, scale, inflate, config)
    else:
        ring, holes = upright(p)
        ring, holes = grid_image(ring, isometry), tuple(grid_image(h, isometry) for h in holes)
    minx, miny, maxx, maxy = outline.bounds
    bounds = (minx * scale - rounding, miny * scale - rounding, maxx * scale + rounding, maxy * scale + rounding)
    hull = shapely.convex_hull(Polygon(ring)).area
    return Shape(p, rotation, mirrored, ring, holes, bounds, piece.area, float(hull))


def _collision_rings(outline: Polygon, scale, inflate, config) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The outline (oriented, input units) as the search sees it: simplified if asked, on the grid, inflated."""
    collision = shapely.orient_polygons(outline)  # mirroring reverses the rings; offsets need CCW shells
    if config.simplify_tolerance > 0:
        collision = outer_simplify(collision, config.simplify_tolerance)
    return inflate_polygon(affinity.scale(collision, scale, scale, origin=(0, 0)), inflate)


def _int_ring(coords, scale) -> np.ndarray:
    return np.round(np.asarray(coords, dtype=np.float64) * scale).astype(np.int64)


def inflate_polygon(polygon: Polygon, delta: float) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Grow a polygon (grid units) by ``delta`` and snap it to the grid: always a superset.

    The offset is computed in floats (mitred joins bevelled past twice the offset, so every
    point within ``delta`` of the polygon stays covered) with one more grid unit, which the
    rounding of each vertex (at most 0.71 units) cannot use up. Holes shrink; those that
    close up disappear.
    """
    grown = shapely.buffer(polygon, delta + 1.0, join_style="mitre", mitre_limit=2.0)
    if grown.geom_type != "Polygon":
        grown = max(grown.geoms, key=lambda g: g.area)
    grown = shapely.orient_polygons(grown)
    ring = clean_ring(np.round(np.asarray(grown.exterior.coords[:-1])).astype(np.int64))
    holes = (clean_ring(np.round(np.asarray(h.coords[:-1])).astype(np.int64), ccw=False) for h in grown.interiors)
    return ring, tuple(h for h in holes if len(h) >= 3 and pyclipper.Area(h.tolist()) != 0)


def clean_ring(ring: np.ndarray, ccw: bool = True) -> np.ndarray:
    """Without duplicate, collinear or spike vertices (exact integer tests), CCW or CW.

    The convolution's tie rule needs every vertex to turn. A stack walk drops each vertex
    that does not turn (a spike is a turn of 180 degrees, with zero cross product too), then
    the seam between the ring's end and start is mended the same way.
    """

    def straight(a, b, c):
        return (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) == 0

    out = []
    for point in ring.tolist():
        if out and point == out[-1]:
            continue
        while len(out) >= 2 and straight(out[-2], out[-1], point):
            out.pop()
        out.append(point)
    mended = False
    while len(out) >= 3 and not mended:
        if out[-1] == out[0] or straight(out[-2], out[-1], out[0]):
            out.pop()
        elif straight(out[-1], out[0], out[1]):
            out.pop(0)
        else:
            mended = True
    arr = np.array(out, dtype=np.int64).reshape(-1, 2)
    if len(arr) >= 3 and (pyclipper.Area(arr.tolist()) < 0) == ccw:
        arr = arr[::-1].copy()
    return np.ascontiguousarray(arr)


def outer_simplify(polygon: Polygon, tolerance: float) -> Polygon:
    """A simplified outline that contains the original, within ``tolerance`` (Hausdorff).

    Grow by half the tolerance (round joins), Douglas-Peucker at a quarter (sharp corners
    add to the offset), then
    unite with the original so containment holds by construction: nesting the simplified
    shape can only leave more room around the true one, and verification checks the truth.
    """
    grown = shapely.buffer(polygon, tolerance / 2, quad_segs=4)
    simplified = shapely.simplify(grown, tolerance / 4, preserve_topology=True)
    merged = shapely.union(simplified, polygon)
    if merged.geom_type != "Polygon":
        merged = max(merged.geoms, key=lambda g: g.area)
    return shapely.orient_polygons(merged)
