"""What the drawings (SVG, PLT, PNG, PDF) draw on a placed piece besides its cut line.

Plotting conventions of cutting rooms: the grain line with an arrow head, notches as short
ticks perpendicular to the cut line, internal and sew lines, drill holes as crosses, and the
piece label inside the piece, along the grain. Every mark is a polyline in marker coordinates
so each writer only has to stroke lines, and every mark lies on its own piece: the annotations
arrive clipped (`export.clip`), the grain arrow is shortened until its head fits, notch
ticks and drill crosses are clipped, and the label is made smaller until it fits (or left out).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from shapely.geometry import LineString, Point, Polygon
from shapely.ops import polylabel

from export.clip import clip_line
from export.placed import PlacedMarker, PlacedPiece

Polyline = tuple[tuple[float, float], ...]

NOTCH_DEPTH_MM = 4.0  # drawn length of a notch whose depth the pattern does not give
TEXT_HEIGHT_MM = 5.0  # piece labels; above the 3 mm plotter minimum cutting rooms use
MIN_TEXT_REL = 0.2  # a label is made at most this much smaller to fit its piece, else left out
CHAR_ADVANCE = 0.75  # width of one character cell as a fraction of the text height (HP-GL: 1.5 x char width)
_GRAIN_STEPS = 12  # shortenings tried before a grain arrow gives up its head
_UNDRAWABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")  # neither XML 1.0 nor a font has them


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
    label_height: float  # text height that fits the piece; 0 when no size does (no label)

    def lines(self) -> tuple[Polyline, ...]:
        return self.grain + self.notches + self.internal + self.sew + self.drill


def safe_text(text: str) -> str:
    """``text`` with each character no drawing can hold (control characters, lone surrogates
    from a damaged file) written as a visible ``\\xNN``/``\\uNNNN`` escape: SVG stays
    well-formed XML and the fonts of PNG/PDF get only characters they can set."""
    return _UNDRAWABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def mark_sizes(marker: PlacedMarker) -> MarkSizes:
    scale = min(1.0, marker.width / 1000.0)
    return MarkSizes(notch=NOTCH_DEPTH_MM * scale, text=TEXT_HEIGHT_MM * scale, arrow=2 * TEXT_HEIGHT_MM * scale)


def piece_marks(piece: PlacedPiece, sizes: MarkSizes) -> PieceMarks:
    marks, polygon = piece.annotations, piece.polygon
    grain = _arrow(polygon, marks.grain_line, sizes.arrow) if marks.grain_line and len(marks.grain_line) >= 2 else ()
    angle = (piece.grain_angle + 90.0) % 180.0 - 90.0 if marks.grain_line else 0.0
    if angle == -90.0:
        angle = 90.0
    label_at = _label_point(polygon, angle, sizes.text if marks.grain_line else 0.0)
    return PieceMarks(
        grain=grain,
        notches=tuple(part for n in marks.notches for part in clip_line(_notch_tick(polygon, n, sizes.notch), polygon)),
        internal=tuple(tuple(line) for line in marks.internal_lines),
        sew=tuple(tuple(line) for line in marks.sew_lines),
        drill=tuple(part for x, y in marks.drill_holes for tick in _cross(x, y, sizes.notch / 2)
                    for part in clip_line(tick, polygon)),
        label_at=label_at,
        label_angle=angle,
        label_height=label_height(polygon, label_at, angle, piece.label, sizes.text),
    )


def text_box(at, angle, text, height) -> Polygon:
    """The cell box of a one-line label whose middle is ``at``, turned ``angle`` degrees."""
    half_run, half_rise = CHAR_ADVANCE * height * max(len(text), 1) / 2, height / 2
    ux, uy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    x, y = at
    return Polygon([(x + sx * half_run * ux - sy * half_rise * uy, y + sx * half_run * uy + sy * half_rise * ux)
                    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])


def label_height(polygon, at, angle, text, height) -> float:
    """The largest height down to ``MIN_TEXT_REL`` x ``height`` at which the label lies on the
    piece (0: none does)."""
    scale = 1.0
    while scale >= MIN_TEXT_REL:
        if polygon.covers(text_box(at, angle, text, height * scale)):
            return height * scale
        scale *= 0.8
    return 0.0


def _label_point(polygon, angle, lift) -> tuple[float, float]:
    """The centroid when it lies inside (else the pole of inaccessibility), lifted ``lift``
    across the text direction so that the label sits beside a grain line through the middle."""
    centre = polygon.centroid
    if not polygon.contains(centre):
        centre = polylabel(polygon, tolerance=math.dist(polygon.bounds[:2], polygon.bounds[2:]) / 200.0)
    nx, ny = -math.sin(math.radians(angle)), math.cos(math.radians(angle))
    lifted = Point(centre.x + nx * lift, centre.y + ny * lift)
    return (lifted.x, lifted.y) if polygon.contains(lifted) else (centre.x, centre.y)


def _arrow(polygon, line, size) -> tuple[Polyline, ...]:
    """The grain line with an arrow head at its end, shortened about its middle until the
    head lies on the piece; a line too short for any head is drawn without one."""
    (x0, y0), (x1, y1) = line[0], line[-1]
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    for step in range(_GRAIN_STEPS):
        keep = 1.0 - step / _GRAIN_STEPS
        a = (mx + (x0 - mx) * keep, my + (y0 - my) * keep)
        b = (mx + (x1 - mx) * keep, my + (y1 - my) * keep)
        length = math.dist(a, b)
        if length == 0:
            break
        ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
        head = min(size, length / 4)
        left = (b[0] - head * ux - head / 2 * uy, b[1] - head * uy + head / 2 * ux)
        right = (b[0] - head * ux + head / 2 * uy, b[1] - head * uy - head / 2 * ux)
        if polygon.covers(LineString([left, b, right])) and (step == 0 or polygon.covers(LineString([a, b]))):
            shaft = tuple(line) if step == 0 else (a, b)
            return (shaft, (left, b, right))
    return (tuple(line),)


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
