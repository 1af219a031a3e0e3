"""What the drawings (SVG, PLT, PNG, PDF) draw on a placed piece besides its cut line.

Plotting conventions of cutting rooms: the grain line with an arrow head, notches as short
ticks perpendicular to the cut line, internal and sew lines, drill holes as crosses, and the
piece label inside the piece, along the grain. Every mark is a polyline in marker coordinates
so each writer only has to stroke lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shapely.geometry import Point
from shapely.ops import polylabel

from nesting.export.placed import PlacedMarker, PlacedPiece

Polyline = tuple[tuple[float, float], ...]

NOTCH_DEPTH_MM = 4.0  # drawn length of a notch whose depth the pattern does not give
TEXT_HEIGHT_MM = 5.0  # piece labels; above the 3 mm plotter minimum cutting rooms use


@dataclass(frozen=True, slots=True)
class MarkSizes:
    """Sizes of drawn marks, scaled down for narrow (instance) fabrics."""

    notch: float
    text: float
    arrow: float


@dataclass(frozen=True, slots=True)
class PieceMarks:
    grain: tuple[Polyline, ...]
    notches: tuple[Polyline, ...]
    internal: tuple[Polyline, ...]
    sew: tuple[Polyline, ...]
    drill: tuple[Polyline, ...]
    label_at: tuple[float, float]
    label_angle: float  # degrees, in (-90, 90] so that text never reads upside down

    def lines(self) -> tuple[Polyline, ...]:
        return self.grain + self.notches + self.internal + self.sew + self.drill


def mark_sizes(marker: PlacedMarker) -> MarkSizes:
    scale = min(1.0, marker.width / 1000.0)
    return MarkSizes(notch=NOTCH_DEPTH_MM * scale, text=TEXT_HEIGHT_MM * scale, arrow=2 * TEXT_HEIGHT_MM * scale)


def piece_marks(piece: PlacedPiece, sizes: MarkSizes) -> PieceMarks:
    marks = piece.annotations
    grain = _arrow(marks.grain_line, sizes.arrow) if marks.grain_line and len(marks.grain_line) >= 2 else ()
    angle = (piece.grain_angle + 90.0) % 180.0 - 90.0 if marks.grain_line else 0.0
    if angle == -90.0:
        angle = 90.0
    label_at = _label_point(piece.polygon, angle, sizes.text if marks.grain_line else 0.0)
    return PieceMarks(
        grain=grain,
        notches=tuple(_notch_tick(piece.polygon, n, sizes.notch) for n in marks.notches),
        internal=tuple(tuple(line) for line in marks.internal_lines),
        sew=tuple(tuple(line) for line in marks.sew_lines),
        drill=tuple(tick for x, y in marks.drill_holes for tick in _cross(x, y, sizes.notch / 2)),
        label_at=label_at,
        label_angle=angle,
    )


def _label_point(polygon, angle, lift) -> tuple[float, float]:
    """The centroid when it lies inside (else the pole of inaccessibility), lifted ``lift``
    across the text direction so that the label sits beside a grain line through the middle."""
    centre = polygon.centroid
    if not polygon.contains(centre):
        centre = polylabel(polygon, tolerance=math.dist(polygon.bounds[:2], polygon.bounds[2:]) / 200.0)
    nx, ny = -math.sin(math.radians(angle)), math.cos(math.radians(angle))
    lifted = Point(centre.x + nx * lift, centre.y + ny * lift)
    return (lifted.x, lifted.y) if polygon.contains(lifted) else (centre.x, centre.y)


def _arrow(line, size) -> tuple[Polyline, ...]:
    (x0, y0), (x1, y1) = line[-2], line[-1]
    length = math.hypot(x1 - x0, y1 - y0)
    if length == 0:
        return (tuple(line),)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    head = min(size, length / 4)
    left = (x1 - head * ux - head / 2 * uy, y1 - head * uy + head / 2 * ux)
    right = (x1 - head * ux + head / 2 * uy, y1 - head * uy - head / 2 * ux)
    return (tuple(line), (left, (x1, y1), right))


def _notch_tick(polygon, notch, default_depth) -> Polyline:
    """A tick from the notch's point on the cut line into the piece, perpendicular to the line."""
    rings = [polygon.exterior, *polygon.interiors]
    point = Point(notch.x, notch.y)
    ring = min(rings, key=point.distance)
    at = ring.project(point)
    step = max(ring.length * 1e-4, 1e-9)
    a, b = ring.interpolate(at - step), ring.interpolate(at + step)
    tx, ty = b.x - a.x, b.y - a.y
    norm = math.hypot(tx, ty) or 1.0
    nx, ny = -ty / norm, tx / norm
    on = ring.interpolate(at)
    depth = abs(notch.depth) or default_depth
    if not polygon.contains(Point(on.x + nx * depth / 10, on.y + ny * depth / 10)):
        nx, ny = -nx, -ny
    return ((on.x, on.y), (on.x + nx * depth, on.y + ny * depth))


def _cross(x, y, half) -> tuple[Polyline, Polyline]:
    return (((x - half, y), (x + half, y)), ((x, y - half), (x, y + half)))
