"""The piece model: what a pattern maker gives the engine, in mm, frozen.

A piece's ``outline`` is already turned so that its grain line runs along +x (the marker
length). Every rotation the engine applies is relative to that frame, and marker/1's
``rotation``/``mirrored`` fields describe exactly that transform of the outline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely
from shapely.geometry import Polygon

Point = tuple[float, float]
MAX_VERTICES = 20_000  # per outline: beyond this the no-fit polygons of one pair outgrow memory
SLIVER_AREA_REL = 1e-9  # area / diameter**2 below this: a line, not a piece
Polyline = tuple[Point, ...]


def sliver_reason(outline: Polygon) -> str | None:
    """Why a valid outline is no piece: an area so small next to its size that placing it
    (one rotation, one translation) can round it into an invalid polygon; else None."""
    minx, miny, maxx, maxy = outline.bounds
    diameter = ((maxx - minx) ** 2 + (maxy - miny) ** 2) ** 0.5
    if outline.area > SLIVER_AREA_REL * diameter**2:
        return None
    return f"zero-area outline: a sliver of area {outline.area:.3g} for a size of {diameter:.4g}"


@dataclass(frozen=True, slots=True)
class Notch:
    """A notch mark on the cut line: position, direction (degrees) and depth, in the piece frame."""

    x: float
    y: float
    angle: float = 0.0
    depth: float = 0.0
    kind: int = 4  # AAMA/ASTM notch layer (4 = generic, 80-87 = typed notches)


@dataclass(frozen=True, slots=True)
class Annotations:
    """Marks drawn on a piece, kept for drawings and cut files, never used for nesting."""

    grain_line: Polyline | None = None
    mirror_line: Polyline | None = None
    notches: tuple[Notch, ...] = ()
    internal_lines: tuple[Polyline, ...] = ()
    sew_lines: tuple[Polyline, ...] = ()
    drill_holes: tuple[Point, ...] = ()
    texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """A stripe or check match: the point (piece frame) that must lie on the fabric's repeat.

    ``along``/``across``: matched along the marker (x, to vertical lines of a check) and/or
    across it (y, to the stripes). Pieces of one ``group`` are matched together.
    """

    point: Point
    along: bool = False
    across: bool = True
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Piece:
    """One pattern piece type and how many copies a marker needs of it.

    Parameters
    ----------
    id : unique within a marker (instance item id, or ``STYLE/PIECE/SIZE`` for DXF).
    name : the pattern maker's piece name.
    outline : shapely Polygon in mm (or instance units), grain along +x, CCW, holes CW, valid.
    quantity : copies cut as drawn.
    mirrored_quantity : copies cut mirrored (the ``left`` of an ASTM ``right,left`` pair).
    rotations : allowed rotations in degrees, relative to the grain-aligned frame.
    flip : whether any copy may also be mirrored (pair pieces on single-ply fabric).
    style : the style (pattern) the piece belongs to.
    sample_size : the style's sample (base) size (AAMA ``Sample Size``), if the file names one.
    annotation : the pattern maker's free cutting note (AAMA ``Annotation``, e.g. ``2XFABRIC``).
    folded : the outline is half a piece, to be cut on a fold along ``annotations.mirror_line``.
    match : where the piece must meet a stripe or check repeat (a marker rule), if anywhere.
    grain_angle : direction of the drawn grain line, degrees CCW from the drawing's +x; the
        outline is the drawing (in mm) turned by ``-grain_angle`` about the drawing's origin.
    """

    id: str
    name: str
    outline: Polygon
    quantity: int = 1
    mirrored_quantity: int = 0
    rotations: tuple[float, ...] = (0.0, 180.0)
    flip: bool = False
    size: str | None = None
    fabric: str | None = None
    category: str | None = None
    source: str | None = None
    block: str | None = None
    grain_found: bool = True
    annotations: Annotations = field(default_factory=Annotations)
    style: str | None = None
    annotation: str | None = None
    folded: bool = False
    grain_angle: float = 0.0
    sample_size: str | None = None
    match: Match | None = None

    def __post_init__(self):
        if not isinstance(self.outline, Polygon):
            raise TypeError(f"piece {self.id}: outline must be a shapely Polygon")
        # Normalise once so every consumer can rely on CCW shells and CW holes.
        object.__setattr__(self, "outline", shapely.orient_polygons(self.outline))

    def rotations_for(self, mirrored: bool) -> tuple[float, ...]:
        """Allowed rotations of a copy cut as drawn, or mirrored.

        A mirrored copy is the piece reflected across its grain line (y -> -y), so that a
        one-way nap still runs one way: marker/1 writes that as x -> -x followed by a half
        turn, so a mirrored copy's rotations are the piece's own plus 180 degrees.
        """
        if not mirrored:
            return self.rotations
        return tuple((r + 180.0) % 360.0 for r in self.rotations)

    @property
    def area(self) -> float:
        return float(self.outline.area)

    @property
    def demand(self) -> int:
        """Copies the marker must hold, mirrored ones included."""
        return self.quantity + self.mirrored_quantity
