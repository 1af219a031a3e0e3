"""``marker.plt``: HP-GL for pen plotters and cutting plotters.

Only the subset every plotter and cutter accepts: ``IN`` ``PA`` ``SP`` ``PU`` ``PD`` ``SI``
``DI`` ``LB``, absolute integer coordinates at 40 plotter units per mm, one instruction per
line, every coordinate inside the marker rectangle (a point outside it is a bug and raises).
Each kind of output has its own tool (`PltTools`): the pen draws the marker rectangle, grain
arrows, internal and sew lines, labels and the header; the notcher takes the notch ticks; the
drill plunges at each drill hole; all while the fabric is still whole. Then the knife cuts
every contour, closed, in the cut order, and ``PU;SP0;`` ends.
"""

from __future__ import annotations

import math

import shapely
from shapely.geometry import box
from shapely.ops import polylabel

from export import cutorder
from export.marks import CHAR_ADVANCE, label_height, mark_sizes, piece_marks
from export.options import ExportOptions
from export.placed import PlacedMarker
from nesting.atomic import write_text

UNITS_PER_MM = 40
_POINTS_PER_PD = 64  # long paths are split over several PD instructions for small device buffers
_ETX = "\x03"
_HEADER_SPOTS = 5  # largest free areas of fabric tried for the header label


class PlotterFrame:
    """Marker mm -> plotter units, turned ``rotation`` degrees CCW onto non-negative axes."""

    def __init__(self, length: float, width: float, rotation: int):
        self.length, self.width, self.rotation = length, width, rotation

    def mm(self, x: float, y: float) -> tuple[float, float]:
        """A marker point in the plotter's frame, still in mm."""
        return {
            0: (x, y),
            90: (self.width - y, x),
            180: (self.length - x, self.width - y),
            270: (y, self.length - x),
        }[self.rotation]

    def units(self, x: float, y: float) -> tuple[int, int]:
        """Plotter units of a marker point; a point off the marker is a bug, never clamped."""
        px, py = (round(v * UNITS_PER_MM) for v in self.mm(x, y))
        extent_x, extent_y = (round(v * UNITS_PER_MM) for v in self.extent_mm())
        if not (0 <= px <= extent_x and 0 <= py <= extent_y):
            raise ValueError(f"PLT point ({x:g}, {y:g}) mm lies outside the marker {self.length:g} x {self.width:g}")
        return px, py

    def direction(self, angle: float) -> float:
        return angle + self.rotation

    def origin(self) -> tuple[float, float]:
        """The marker corner that lands on the plotter's origin, in marker mm."""
        return {0: (0.0, 0.0), 90: (0.0, self.width), 180: (self.length, self.width), 270: (self.length, 0.0)}[self.rotation]

    def extent_mm(self) -> tuple[float, float]:
        return (self.length, self.width) if self.rotation in (0, 180) else (self.width, self.length)


def plt_text(marker: PlacedMarker, options: ExportOptions = ExportOptions()) -> str:
    """The whole PLT program for the marker."""
    tools = options.plt_tools
    frame = PlotterFrame(marker.length, marker.width, options.plt_rotation)
    plan = cutorder.plan(marker, start=frame.origin())
    sizes = mark_sizes(marker)
    marks = [(marker.pieces[index], piece_marks(marker.pieces[index], sizes)) for index in plan.piece_order()]
    sections: dict[int, list[str]] = {}  # tool -> instructions, in the order tools are first used
    if tools.draw:
        sections[tools.draw] = _drawn(marker, frame, plan, marks)
    if tools.notch:
        sections.setdefault(tools.notch, []).extend(
            line for _piece, m in marks for tick in m.notches for line in _stroke(frame, tick))
    if tools.drill:
        crosses = tools.drill == tools.draw
        sections.setdefault(tools.drill, []).extend(
            line for piece, m in marks for line in
            ([cmd for tick in m.drill for cmd in _stroke(frame, tick)] if crosses else _plunges(frame, piece)))
    lines = ["IN;", "PA;"]
    for tool, instructions in sections.items():
        if instructions:
            lines += [f"SP{tool};", *instructions]
    lines.append(f"SP{tools.cut};")
    for path in plan.paths:
        lines += _stroke(frame, path.points)
    lines += ["PU;", "SP0;"]
    return "\n".join(lines) + "\n"


def write_plt(marker: PlacedMarker, path, options: ExportOptions = ExportOptions()) -> None:
    write_text(path, plt_text(marker, options))


def _drawn(marker, frame, plan, marks) -> list[str]:
    """The pen's part: the marker rectangle, shade section boundaries, grain/internal/sew lines,
    labels and header."""
    length, width = marker.length, marker.width
    lines = _stroke(frame, [(0, 0), (length, 0), (length, width), (0, width), (0, 0)])
    for boundary in marker.guides().get("SECTION", []):  # where the cutter parts the shade sections
        lines += _stroke(frame, boundary)
    labels = []
    for piece, m in marks:
        for line in m.grain + m.internal + m.sew:
            lines += _stroke(frame, line)
        if m.label_height > 0:
            labels.append((m.label_at, m.label_angle, m.label_height, piece.label))
    header = f"{marker.input or 'marker'}: length {length:.1f} mm, width {width:g} mm, utilization {marker.utilization * 100:.2f} %, {plan.summary(marker.units)}"
    if marker.units_note:
        header += f" ({marker.units_note})"
    spot = header_spot(marker, header, mark_sizes(marker).text)
    if spot is not None:
        labels.append((*spot, header))
    return lines + _labels(frame, labels)


def header_spot(marker: PlacedMarker, text: str, height: float):
    """Where the header label fits on fabric no piece covers: ``(middle, angle, height)``,
    tried in the largest free areas, along and across the marker, from ``height`` down to
    ``MIN_TEXT_REL`` of it (`label_height`); None when it fits nowhere (then it is not plotted)."""
    fabric = box(0.0, 0.0, marker.length, marker.width)
    pieces = shapely.union_all([p.polygon for p in marker.pieces]) if marker.pieces else None
    free = fabric.difference(pieces) if pieces is not None else fabric
    areas = sorted((g for g in shapely.get_parts(free) if g.geom_type == "Polygon" and g.area > 0),
                   key=lambda g: g.area, reverse=True)
    for area in areas[:_HEADER_SPOTS]:
        middle = polylabel(area, tolerance=math.dist(area.bounds[:2], area.bounds[2:]) / 200.0)
        for angle in (0.0, 90.0):
            fitted = label_height(area, (middle.x, middle.y), angle, text, height)
            if fitted:
                return (middle.x, middle.y), angle, fitted
    return None


def _corner(x, y, angle, text, height):
    """Start point of a label whose middle falls on (x, y), in marker mm."""
    advance = CHAR_ADVANCE * height * len(text)
    ux, uy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return (x - ux * advance / 2 + uy * height / 2, y - uy * advance / 2 - ux * height / 2)


def _labels(frame, labels) -> list[str]:
    """``LB`` labels, each preceded by ``SI``/``DI`` when its size or direction differs from the last one's."""
    out, size, direction = [], None, None
    for (x, y), angle, height, text in labels:
        wanted = f"SI{height * CHAR_ADVANCE / 15:.3f},{height / 10:.3f};"  # cm: char width = cell / 1.5
        if wanted != size:
            size = wanted
            out.append(size)
        turned = frame.direction(angle)
        run, rise = math.cos(math.radians(turned)), math.sin(math.radians(turned))
        if f"DI{run:.4f},{rise:.4f};" != direction:
            direction = f"DI{run:.4f},{rise:.4f};"
            out.append(direction)
        clean = "".join(c if " " <= c <= "~" else "?" for c in text)
        at = frame.units(*_corner(x, y, angle, text, height))
        out += [f"PU{at[0]},{at[1]};", f"LB{clean}{_ETX}"]
    return out


def _plunges(frame, piece) -> list[str]:
    """The drill's part for one piece: down and up at each drill hole."""
    out = []
    for x, y in piece.annotations.drill_holes:
        px, py = frame.units(x, y)
        out += [f"PU{px},{py};", "PD;", "PU;"]
    return out


def _stroke(frame, points) -> list[str]:
    """``PU`` to the first point, then ``PD`` through the rest (repeated points dropped)."""
    units = []
    for point in points:
        unit = frame.units(*point)
        if not units or unit != units[-1]:
            units.append(unit)
    if len(units) < 2:
        return []
    out = [f"PU{units[0][0]},{units[0][1]};"]
    for k in range(1, len(units), _POINTS_PER_PD):
        chunk = units[k:k + _POINTS_PER_PD]
        out.append("PD" + ",".join(f"{x},{y}" for x, y in chunk) + ";")
    return out
