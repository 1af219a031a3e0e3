"""A piece as read from the drawing (mm, drawing frame) to a `Piece`: unfold, turn to grain.

Both DXF readers fill a `Draft`; this module applies the two frame changes every consumer
relies on, to the outline and to every annotation alike:

1. a half piece with a mirror line is unfolded (reflected across the line), unless folds are
   kept;
2. the piece is turned about the drawing origin so that its grain line runs along +x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from shapely import affinity
from shapely.geometry import Polygon

from patterns.dxf.outline import OutlineProblem, make_outline, reflect, unfold
from patterns.piece import Annotations, Notch, Piece

Segment = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True, slots=True)
class RawNotch:
    """A notch as drawn: where, how deep (mm) and its AAMA layer (the notch type)."""

    x: float
    y: float
    depth: float
    kind: int


@dataclass(frozen=True, slots=True)
class Draft:
    """Everything a reader found for one piece, in mm in the drawing frame."""

    id: str
    name: str
    outline: Polygon
    quantity: int = 1
    mirrored_quantity: int = 0
    size: str | None = None
    fabric: str | None = None
    category: str | None = None
    annotation: str | None = None
    style: str | None = None
    source: str | None = None
    block: str | None = None
    grain: Segment | None = None
    mirror: Segment | None = None
    notches: tuple[RawNotch, ...] = ()
    internal_lines: tuple[np.ndarray, ...] = field(default=())
    sew_lines: tuple[np.ndarray, ...] = field(default=())
    drill_holes: tuple[tuple[float, float], ...] = ()
    texts: tuple[str, ...] = ()
    runs: tuple[np.ndarray, ...] | None = None  # the boundary between grade points, for notch transfer


def build_piece(draft: Draft, options) -> tuple[Piece, str | None]:
    """``(piece, problem)``: the `Piece` of a draft, and why its mirror line was not used (or None).

    ``options`` is the reader's `ImportOptions` (keep_folds and the tolerances).
    """
    folded, problem = draft.mirror is not None and options.keep_folds, None
    if draft.mirror is not None and not folded:
        try:
            whole = unfold(draft.outline, draft.mirror, options.on_line_mm)
            whole, _ = make_outline(whole.exterior.coords, [h.coords for h in whole.interiors],
                                    options.duplicate_mm, options.simplify_area_rel)
            draft = _unfolded(draft, whole)
        except OutlineProblem as reason:
            problem = f"{reason}; the piece is kept as drawn (a half)"
    angle = _grain_angle(draft.grain)
    turn = _turner(-angle)
    outline = affinity.rotate(draft.outline, -angle, origin=(0.0, 0.0)) if angle else draft.outline
    annotations = Annotations(
        grain_line=turn(draft.grain) if draft.grain else None,
        mirror_line=turn(draft.mirror) if draft.mirror else None,
        notches=tuple(_notch(outline, *turn([(n.x, n.y)])[0], n.depth, n.kind) for n in draft.notches),
        internal_lines=tuple(turn(line) for line in draft.internal_lines),
        sew_lines=tuple(turn(line) for line in draft.sew_lines),
        drill_holes=turn(draft.drill_holes) if draft.drill_holes else (),
        texts=draft.texts,
    )
    return Piece(
        id=draft.id, name=draft.name, outline=outline, quantity=draft.quantity,
        mirrored_quantity=draft.mirrored_quantity, size=draft.size, fabric=draft.fabric,
        category=draft.category, source=draft.source, block=draft.block, grain_found=draft.grain is not None,
        annotations=annotations, style=draft.style, annotation=draft.annotation, folded=folded, grain_angle=angle,
    ), problem


def _unfolded(draft: Draft, whole: Polygon) -> Draft:
    """The draft with its annotations copied onto the reflected half too."""
    mirror = draft.mirror

    def both(points):
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        mirrored = reflect(points, mirror)
        away = np.hypot(*(mirrored - points).T) > 1e-6
        return [tuple(p) for p in points] + [tuple(p) for p in mirrored[away]]

    notches = list(draft.notches)
    for notch, (x, y) in zip(draft.notches, reflect([(n.x, n.y) for n in draft.notches], mirror)):
        if math.hypot(x - notch.x, y - notch.y) > 1e-6:
            notches.append(RawNotch(float(x), float(y), notch.depth, notch.kind))
    return replace(
        draft, outline=whole, notches=tuple(notches),
        internal_lines=draft.internal_lines + tuple(reflect(line, mirror) for line in draft.internal_lines),
        sew_lines=draft.sew_lines + tuple(reflect(line, mirror) for line in draft.sew_lines),
        drill_holes=tuple(both(draft.drill_holes)) if draft.drill_holes else (),
    )


def _grain_angle(grain: Segment | None) -> float:
    """Direction of the grain line in degrees, folded into (-90, 90]: grain has no sense."""
    if grain is None:
        return 0.0
    (x0, y0), (x1, y1) = grain
    angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
    if angle <= -90.0:
        angle += 180.0
    elif angle > 90.0:
        angle -= 180.0
    return angle


def _turner(degrees: float):
    """A function turning point sequences about the origin, returning tuples of tuples."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    matrix = np.array([[c, s], [-s, c]])

    def turn(points):
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return tuple((float(x), float(y)) for x, y in (points @ matrix if degrees else points))

    return turn


def _notch(outline: Polygon, x: float, y: float, depth: float, kind: int) -> Notch:
    """A notch pointing into the piece, perpendicular to the nearest edge of the CCW outline."""
    ring = np.asarray(outline.exterior.coords)
    a, b = ring[:-1], ring[1:]
    ab = b - a
    t = np.clip(((np.array([x, y]) - a) * ab).sum(axis=1) / np.maximum((ab * ab).sum(axis=1), 1e-300), 0.0, 1.0)
    nearest = a + t[:, None] * ab
    k = int(np.argmin(np.hypot(*(nearest - (x, y)).T)))
    dx, dy = ab[k]
    inward = math.degrees(math.atan2(dx, -dy))  # the left normal of a CCW edge points inside
    return Notch(x=x, y=y, angle=inward, depth=depth, kind=kind)
