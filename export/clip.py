"""Marks kept inside their own piece.

Patterns often carry internal, sew or grain lines that run past the cut line (a construction
line drawn long, a grain line across the whole block). On a plotter or a pen-equipped cutter
such a line is ink on the neighbouring pieces or off the fabric, so every mark is cut down to
the part of it that lies on its piece before any writer sees it. The cut line itself is never
touched: clipping only ever removes marks.
"""

from __future__ import annotations

import math

import shapely
from shapely.geometry import LineString, Point, Polygon

from patterns.piece import Annotations

ON_CUT_LINE_REL = 1e-6  # a notch this close to the cut line (relative to the piece's size) is on it

Polyline = tuple[tuple[float, float], ...]


def clip_annotations(annotations: Annotations, polygon: Polygon) -> Annotations:
    """The annotations of a placed piece cut down to the piece (its cut line included).

    Lines become the parts of them that lie on the piece (a line leaving and re-entering the
    piece gives several); the grain line becomes its longest such part; drill holes and
    notches off the piece are dropped.
    """
    slack = ON_CUT_LINE_REL * math.dist(polygon.bounds[:2], polygon.bounds[2:])
    grain = clip_line(annotations.grain_line, polygon) if annotations.grain_line else ()
    mirror = clip_line(annotations.mirror_line, polygon) if annotations.mirror_line else ()
    return Annotations(
        grain_line=max(grain, key=_length) if grain else None,
        mirror_line=max(mirror, key=_length) if mirror else None,
        notches=tuple(n for n in annotations.notches if polygon.distance(Point(n.x, n.y)) <= slack),
        internal_lines=tuple(part for line in annotations.internal_lines for part in clip_line(line, polygon)),
        sew_lines=tuple(part for line in annotations.sew_lines for part in clip_line(line, polygon)),
        drill_holes=tuple(p for p in annotations.drill_holes if polygon.covers(Point(p))),
        texts=annotations.texts,
    )


def clip_line(points, polygon: Polygon) -> tuple[Polyline, ...]:
    """The parts of a polyline that lie on the polygon, in the line's own direction."""
    if len(points) < 2:
        return ()
    line = LineString(points)
    if line.length == 0:
        return ()
    if polygon.covers(line):
        return (tuple((float(x), float(y)) for x, y, *_ in points),)
    inside = line.intersection(polygon)
    parts = [g for g in shapely.get_parts(inside) if g.geom_type == "LineString" and g.length > 0]
    if len(parts) > 1:
        merged = shapely.line_merge(shapely.MultiLineString(parts))
        parts = [g for g in shapely.get_parts(merged) if g.length > 0]
    ordered = sorted(parts, key=lambda part: line.project(Point(part.coords[0])))
    return tuple(_along(part, line) for part in ordered)


def _along(part: LineString, line: LineString) -> Polyline:
    """``part``'s coordinates running the same way as ``line``."""
    coords = [(float(x), float(y)) for x, y in part.coords]
    if line.project(Point(coords[0])) > line.project(Point(coords[-1])):
        coords.reverse()
    return tuple(coords)


def _length(points: Polyline) -> float:
    return LineString(points).length
