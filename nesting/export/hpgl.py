"""``marker.plt``: HP-GL for pen plotters and cutting plotters.

Only the subset every plotter and cutter accepts: ``IN`` ``PA`` ``SP`` ``PU`` ``PD`` ``SI``
``DI`` ``LB``, absolute non-negative integer coordinates at 40 plotter units per mm, one
instruction per line. Marks are drawn with the draw pen first, while the fabric is still
whole; then the cut pen cuts every contour, closed, in the cut order, and ``PU;SP0;`` ends.
"""

from __future__ import annotations

import math

from nesting.atomic import write_text
from nesting.export import cutorder
from nesting.export.marks import mark_sizes, piece_marks
from nesting.export.options import ExportOptions
from nesting.export.placed import PlacedMarker

UNITS_PER_MM = 40
_POINTS_PER_PD = 64  # long paths are split over several PD instructions for small device buffers
_ETX = "\x03"


class PlotterFrame:
    """Marker mm -> plotter units, turned ``rotation`` degrees CCW and kept non-negative."""

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
        px, py = self.mm(x, y)
        return max(0, round(px * UNITS_PER_MM)), max(0, round(py * UNITS_PER_MM))

    def direction(self, angle: float) -> float:
        return angle + self.rotation

    def origin(self) -> tuple[float, float]:
        """The marker corner that lands on the plotter's origin, in marker mm."""
        return {0: (0.0, 0.0), 90: (0.0, self.width), 180: (self.length, self.width), 270: (self.length, 0.0)}[self.rotation]

    def extent_mm(self) -> tuple[float, float]:
        return (self.length, self.width) if self.rotation in (0, 180) else (self.width, self.length)


def plt_text(marker: PlacedMarker, options: ExportOptions = ExportOptions()) -> str:
    """The whole PLT program for the marker."""
    frame = PlotterFrame(marker.length, marker.width, options.plt_rotation)
    plan = cutorder.plan(marker, start=frame.origin())
    lines = ["IN;", "PA;"]
    if options.plt_draw_pen is not None:
        lines.append(f"SP{options.plt_draw_pen};")
        lines += _drawn(marker, frame, plan)
    lines.append(f"SP{options.plt_cut_pen};")
    for path in plan.paths:
        lines += _stroke(frame, path.points)
    lines += ["PU;", "SP0;"]
    return "\n".join(lines) + "\n"


def write_plt(marker: PlacedMarker, path, options: ExportOptions = ExportOptions()) -> None:
    write_text(path, plt_text(marker, options))


def _drawn(marker, frame, plan) -> list[str]:
    sizes = mark_sizes(marker)
    length, width = marker.length, marker.width
    lines = _stroke(frame, [(0, 0), (length, 0), (length, width), (0, width), (0, 0)])
    labels = []
    for index in plan.piece_order():
        piece = marker.pieces[index]
        marks = piece_marks(piece, sizes)
        for line in marks.lines():
            lines += _stroke(frame, line)
        labels.append((marks.label_at, marks.label_angle, piece.label))
    char_height = sizes.text
    lines.append(f"SI{char_height / 20:.3f},{char_height / 10:.3f};")  # width, height in cm
    placed = [(frame.units(*_centred(x, y, angle, text, char_height)), frame.direction(angle), text)
              for (x, y), angle, text in labels]
    header = f"{marker.input or 'marker'}: length {length:.1f} mm, width {width:g} mm, utilization {marker.utilization * 100:.2f} %, {plan.summary(marker.units)}"
    if marker.units_note:
        header += f" ({marker.units_note})"
    plotter_x, _plotter_y = frame.extent_mm()
    placed.append(((round((plotter_x + 2 * char_height) * UNITS_PER_MM), 0), 90.0, header))
    return lines + _labels(placed)


def _centred(x, y, angle, text, height):
    """Start point of a label whose middle falls on (x, y), in marker mm."""
    advance = 0.75 * height * len(text)  # HP-GL character cell: 1.5 x the character width
    ux, uy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return (x - ux * advance / 2 + uy * height / 2, y - uy * advance / 2 - ux * height / 2)


def _labels(labels) -> list[str]:
    """``LB`` labels, each preceded by ``DI`` when its direction differs from the last one's."""
    out, direction = [], None
    for at, angle, text in labels:
        run, rise = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        if f"DI{run:.4f},{rise:.4f};" != direction:
            direction = f"DI{run:.4f},{rise:.4f};"
            out.append(direction)
        clean = "".join(c if " " <= c <= "~" else "?" for c in text)
        out += [f"PU{at[0]},{at[1]};", f"LB{clean}{_ETX}"]
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
