"""Independent readers and checks for the export tests: an HP-GL reader, polygon congruence,
and small markers with marked pieces built without any pattern reader."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
from shapely.geometry import Polygon, box

from nesting.config import NestConfig
from nesting.engine import nest
from nesting.model import Fabric
from patterns.piece import Annotations, Notch, Piece

_INSTRUCTION = re.compile(r"\s*([A-Za-z]{2})")


@dataclass
class Plot:
    """What an HP-GL program draws: pen-down paths and labels, in plotter units."""

    commands: list
    paths: list  # (pen, [(x, y), ...])
    labels: list  # (pen, (x, y), text)


def read_hpgl(text: str) -> Plot:
    """Parse the IN/PA/SP/PU/PD/SI/DI/LB subset; raises on anything else or on bad numbers."""
    commands, paths, labels = [], [], []
    pen, position, drawing = 0, (0, 0), None
    i = 0
    while i < len(text):
        match = _INSTRUCTION.match(text, i)
        if match is None:
            if text[i:].strip():
                raise ValueError(f"garbage at {i}: {text[i:i + 20]!r}")
            break
        name = match.group(1).upper()
        i = match.end()
        if name == "LB":
            end = text.index("\x03", i)
            labels.append((pen, position, text[i:end]))
            commands.append((name, text[i:end]))
            i = end + 1
            continue
        end = text.index(";", i)
        arguments = [a for a in text[i:end].replace(" ", "").split(",") if a]
        i = end + 1
        commands.append((name, arguments))
        if name in ("PU", "PD"):
            if any(not re.fullmatch(r"\d+", a) for a in arguments) or len(arguments) % 2:
                raise ValueError(f"{name} needs non-negative integer pairs, got {arguments}")
            points = [(int(x), int(y)) for x, y in zip(arguments[::2], arguments[1::2])]
            if name == "PU":
                drawing = None
                if points:
                    position = points[-1]
            else:
                if drawing is None:
                    drawing = [position]
                    paths.append((pen, drawing))
                drawing.extend(points)
                if points:
                    position = points[-1]
        elif name == "SP":
            pen = int(arguments[0]) if arguments else 0
            drawing = None
        elif name not in ("IN", "PA", "SI", "DI"):
            raise ValueError(f"instruction {name} is outside the subset")
    return Plot(commands, paths, labels)


def congruent(a: Polygon, b: Polygon, tolerance: float) -> bool:
    """Is there a rotation + translation (no reflection) taking ``a``'s vertices onto ``b``'s?

    Collinear vertices are dropped first, then every cyclic correspondence is tried with the
    Kabsch fit; the best fit's largest vertex error must be within ``tolerance``.
    """
    p, q = _corners(a), _corners(b)
    if len(p) != len(q) or len(a.interiors) != len(b.interiors):
        return False
    best = np.inf
    for shift in range(len(q)):
        target = np.roll(q, -shift, axis=0)
        best = min(best, _kabsch_error(p, target))
    return best <= tolerance


def _corners(polygon: Polygon) -> np.ndarray:
    ring = polygon.exterior if polygon.exterior.is_ccw else polygon.exterior.reverse()
    points = np.asarray(Polygon(ring).simplify(1e-7 * np.sqrt(polygon.area)).exterior.coords[:-1])
    return points


def _kabsch_error(p: np.ndarray, q: np.ndarray) -> float:
    pc, qc = p - p.mean(axis=0), q - q.mean(axis=0)
    u, _s, vt = np.linalg.svd(pc.T @ qc)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rotation = vt.T @ np.diag([1.0, d]) @ u.T  # d corrects a reflection: rigid motions only
    return float(np.max(np.linalg.norm(pc @ rotation.T - qc, axis=1)))


def marked_pieces(hole: bool = True) -> list[Piece]:
    """Three piece types with grain lines, notches, internal lines and drill holes; one has a hole."""
    bodice = Polygon([(0, 0), (300, 0), (320, 120), (260, 200), (40, 200), (-10, 100)])
    strip = box(0, 0, 400, 60)
    panel = Polygon([(0, 0), (200, 0), (200, 160), (0, 160)], [[(60, 50), (60, 110), (140, 110), (140, 50)]] if hole else [])
    def marks(poly, notch_points):
        cx, cy = poly.centroid.x, poly.centroid.y
        return Annotations(
            grain_line=((cx - 80, cy), (cx + 80, cy)),
            notches=tuple(Notch(x, y, depth=4.0) for x, y in notch_points),
            internal_lines=(((cx - 30, cy - 30), (cx + 30, cy - 30)),),
            drill_holes=((cx, cy + 25),),
        )
    return [
        Piece("BODICE/M", "BODICE", bodice, quantity=2, size="M", flip=True,
              annotations=marks(bodice, [(150, 0), (300, 0)]), source="synthetic"),
        Piece("STRIP/M", "STRIP", strip, quantity=3, size="M", annotations=marks(strip, [(200, 60)]), source="synthetic"),
        Piece("PANEL/L", "PANEL", panel, quantity=1, size="L", rotations=(0.0, 90.0, 180.0, 270.0),
              annotations=marks(panel, []), source="synthetic"),
    ]


def marked_marker(width: float = 700.0, units: str = "mm"):
    """A small verified marker of `marked_pieces` (two search iterations)."""
    return nest(marked_pieces(), Fabric(width), NestConfig(iterations=2, seed=3), input_name="synthetic.dxf", units=units)


def without_marks(pieces):
    return [replace(p, annotations=Annotations()) for p in pieces]
