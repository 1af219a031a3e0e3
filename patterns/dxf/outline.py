"""Rings to valid piece outlines: holes by containment, clean-up, checks, fold unfolding.

Everything here works in mm on shapely geometry and knows nothing of DXF. Problems raise
`OutlineProblem` with a reason; the readers add the file, block and piece to it.
"""

from __future__ import annotations

import re

import numpy as np
import shapely
from shapely import ops
from shapely.geometry import LineString, Point, Polygon

from patterns.piece import sliver_reason

_REASON = re.compile(r"^(?P<what>.*?)\[(?P<x>\S+) (?P<y>\S+)\]$")


class OutlineProblem(ValueError):
    """A contour that cannot become a piece outline; the message is the reason.

    ``rings`` holds the indices of the rings concerned, when known.
    """

    def __init__(self, reason: str, rings: tuple[int, ...] = ()):
        super().__init__(reason)
        self.rings = rings


def group_rings(rings: list[np.ndarray], limit_mm: float) -> tuple[list[tuple[int, list[int]]], list[int]]:
    """``(groups, duplicates)``: ``(shell, holes)`` index groups, largest shell first, and the
    indices of rings that repeat an earlier one (dropped). A ring inside an odd number of
    others is a hole of its smallest container.

    Raises `OutlineProblem` for a coordinate that is not finite or lies farther than
    ``limit_mm`` from the origin, and when two rings cross (neither contains the other),
    since then no outline is meant unambiguously.
    """
    for i, ring in enumerate(rings):
        if not np.isfinite(ring).all():
            raise OutlineProblem("a contour has a coordinate that is not a finite number (NaN or infinity)", (i,))
        if np.abs(ring).max() > limit_mm:
            raise OutlineProblem(f"a contour reaches {np.abs(ring).max():.3g} mm from the origin, beyond any "
                                 f"fabric (limit {limit_mm:g} mm): check the file and its units", (i,))
    polygons = [shapely.make_valid(Polygon(ring)) for ring in rings]
    areas = np.array([polygon.area for polygon in polygons])
    tree = shapely.STRtree(polygons)
    duplicates = set()
    parents: list[int | None] = [None] * len(rings)
    for i, polygon in enumerate(polygons):
        if i in duplicates:
            continue
        # Walk the rings around i from the smallest up and stop at the first that contains it:
        # nested drawings (5,000 concentric squares) cost one check per ring, not one per pair.
        # A crossing is still found: if i crosses a larger ring, that ring is met before i's
        # container, or i's container crosses it too and is caught on its own walk.
        candidates = np.asarray(tree.query(polygon), dtype=np.int64)
        candidates = candidates[(candidates != i) & (areas[candidates] >= areas[i])]
        for j in candidates[np.lexsort((candidates, areas[candidates]))]:
            j = int(j)
            if j in duplicates:
                continue
            other = polygons[j]
            if other.contains(polygon):
                if polygon.contains(other):  # the same ring drawn twice: the later copy goes
                    duplicates.add(max(i, j))
                    if i > j:
                        break
                    continue
                parents[i] = j
                break
            if polygon.intersection(other).area > 0:
                raise OutlineProblem(f"contours cross each other near {_where(polygon.intersection(other))}", (i, j))
    kept = [i for i in range(len(rings)) if i not in duplicates]
    depth = {}
    for i in sorted(kept, key=lambda k: -areas[k]):  # containers first
        depth[i] = 0 if parents[i] is None else depth[parents[i]] + 1
    groups = {i: [] for i in kept if depth[i] % 2 == 0}
    for i in kept:
        if depth[i] % 2 == 1:
            groups[parents[i]].append(i)
    return sorted(groups.items(), key=lambda item: -polygons[item[0]].area), sorted(duplicates)


def make_outline(shell, holes, duplicate_mm: float, area_rel: float) -> tuple[Polygon, int]:
    """``(polygon, vertices removed)``: valid, CCW shell, CW holes, without repeated or
    collinear vertices.

    The clean-up changes the area by at most ``area_rel`` (relative). A zero-area or
    self-intersecting outline raises `OutlineProblem`.
    """
    polygon = Polygon(shell, holes)
    before = shapely.get_num_coordinates(polygon)
    polygon = shapely.remove_repeated_points(polygon, duplicate_mm)
    if not isinstance(polygon, Polygon) or polygon.is_empty or not shapely.make_valid(polygon).area > 0:
        raise OutlineProblem("zero-area outline")
    if not polygon.is_valid:
        raise OutlineProblem(f"self-intersecting outline ({invalidity(polygon)})")
    if sliver_reason(polygon):
        raise OutlineProblem(sliver_reason(polygon))
    # Douglas-Peucker at this tolerance moves the boundary so little that the area bound holds.
    simplified = shapely.simplify(polygon, 0.1 * area_rel * polygon.area / polygon.length, preserve_topology=True)
    if simplified.is_valid and abs(simplified.area - polygon.area) <= area_rel * polygon.area:
        polygon = simplified
    return shapely.orient_polygons(polygon), before - shapely.get_num_coordinates(polygon)


def thin(outline: Polygon, tolerance: float, most: int) -> Polygon:
    """An outline of far more vertices than a cutter can follow, within ``tolerance`` of it.

    Douglas-Peucker at the curve chord tolerance, so the cut line moves no more than the
    flattening of an arc already does. Raises `OutlineProblem` when it still has more than
    ``most`` vertices.
    """
    before = shapely.get_num_coordinates(outline)
    thinned = shapely.simplify(outline, tolerance, preserve_topology=True)
    if not isinstance(thinned, Polygon) or not thinned.is_valid or thinned.is_empty:
        raise OutlineProblem(f"{before} vertices, and no valid outline within {tolerance:g} mm of them "
                             f"has fewer; simplify the piece in the CAD system")
    after = shapely.get_num_coordinates(thinned)
    if after > most:
        raise OutlineProblem(f"{before} vertices, still {after} within {tolerance:g} mm of the drawn outline: "
                             f"more than the limit max_vertices ({most}) allows; simplify the piece in the CAD system")
    return shapely.orient_polygons(thinned)


def unfold(outline: Polygon, mirror: tuple, on_line_mm: float) -> Polygon:
    """The whole piece of a half ``outline`` whose fold edge runs along ``mirror`` (two points).

    The outline is cut at the mirror line's ends; the side that does not run along the line
    is kept and reflected across it. Raises `OutlineProblem` when the line's ends are not
    on the outline.
    """
    ring = LineString(outline.exterior.coords)
    a, b = Point(mirror[0]), Point(mirror[1])
    if ring.distance(a) > on_line_mm or ring.distance(b) > on_line_mm:
        raise OutlineProblem("mirror line does not end on the outline")
    start, end = sorted((ring.project(a), ring.project(b)))
    inside = ops.substring(ring, start, end)
    around = np.vstack([np.asarray(ops.substring(ring, end, ring.length).coords),
                        np.asarray(ops.substring(ring, 0.0, start).coords)])
    line = LineString(mirror)
    fold_is_inside = inside.hausdorff_distance(line) <= LineString(around).hausdorff_distance(line)
    kept = around if fold_is_inside else np.asarray(inside.coords)
    reflected = reflect(kept, mirror)[::-1]
    whole = Polygon(np.vstack([kept, reflected]))
    holes = [Polygon(h) for h in outline.interiors]
    holes += [Polygon(reflect(np.asarray(h.coords), mirror)) for h in outline.interiors]
    if holes:
        whole = whole.difference(shapely.union_all(holes))
    if not isinstance(whole, Polygon) or not whole.is_valid:
        raise OutlineProblem("the piece unfolded across its mirror line overlaps itself")
    return whole


def reflect(points, mirror) -> np.ndarray:
    """(n, 2) points reflected across the line through ``mirror[0]`` and ``mirror[1]``."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    origin = np.asarray(mirror[0], dtype=np.float64)
    direction = np.asarray(mirror[1], dtype=np.float64) - origin
    direction /= np.hypot(*direction)
    relative = points - origin
    along = relative @ direction
    return origin + 2.0 * np.outer(along, direction) - relative


def invalidity(polygon: Polygon) -> str:
    """GEOS's reason, its location written in mm: ``Self-intersection at (221.2, 179.0) mm``."""
    reason = shapely.is_valid_reason(polygon)
    match = _REASON.match(reason)
    if not match:
        return reason
    return f"{match['what']} at ({float(match['x']):.1f}, {float(match['y']):.1f}) mm"


def _where(geometry) -> str:
    point = geometry.representative_point()
    return f"({point.x:.1f}, {point.y:.1f}) mm"
