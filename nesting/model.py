"""The engine's plain, frozen data: the fabric, a placement, a marker.

A `Placement` is a transform, never moved geometry: mirror the piece's outline across its
y axis (x -> -x) if ``mirrored``, rotate it ``rotation`` degrees counter-clockwise about the
origin, then translate by (x, y). x runs along the marker length, y across the width.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shapely import affinity
from shapely.geometry import Polygon, box

from patterns.piece import Piece

if TYPE_CHECKING:
    from nesting.spec import MarkerSpec


@dataclass(frozen=True, slots=True)
class Margins:
    """Unusable fabric at each edge: bottom/top selvedges (y) and start/end (x)."""

    bottom: float = 0.0
    top: float = 0.0
    start: float = 0.0
    end: float = 0.0


@dataclass(frozen=True, slots=True)
class Fabric:
    """The fabric a marker is laid on: width (y), optional table length, margins, clear zones."""

    width: float
    max_length: float | None = None
    margins: Margins = field(default_factory=Margins)
    zones: tuple[Polygon, ...] = ()


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one copy of a piece lies: ``piece`` indexes `Marker.pieces`."""

    piece: int
    copy: int
    rotation: float
    mirrored: bool
    x: float
    y: float


def oriented(outline: Polygon, rotation: float, mirrored: bool) -> Polygon:
    """The outline mirrored (x -> -x) if asked, then rotated CCW about the origin."""
    shape = affinity.scale(outline, -1.0, 1.0, origin=(0, 0)) if mirrored else outline
    return affinity.rotate(shape, rotation, origin=(0, 0)) if rotation % 360 else shape


def placed_polygon(piece: Piece, placement: Placement) -> Polygon:
    """The piece's outline as it lies in the marker."""
    shape = oriented(piece.outline, placement.rotation, placement.mirrored)
    return affinity.translate(shape, placement.x, placement.y)


@dataclass(frozen=True, slots=True)
class Marker:
    """A nested marker. Length is the extent actually used along x, from 0."""

    pieces: tuple[Piece, ...]
    fabric: Fabric
    placements: tuple[Placement, ...]
    length: float
    seed: int = 0
    elapsed_s: float = 0.0
    input: str = ""
    units: str = "mm"
    target_utilization: float = 0.92
    spacing: float = 0.0
    stats: dict = field(default_factory=dict, compare=False)
    spec: MarkerSpec | None = field(default=None, compare=False)  # the rules it was nested under

    def polygons(self) -> list[Polygon]:
        return [placed_polygon(self.pieces[p.piece], p) for p in self.placements]

    @property
    def placed_area(self) -> float:
        return sum(self.pieces[p.piece].area for p in self.placements)

    @property
    def utilization(self) -> float:
        return self.placed_area / (self.fabric.width * self.length) if self.length > 0 else 0.0

    @property
    def meets_target(self) -> bool:
        return self.utilization >= self.target_utilization

    def fabric_rectangle(self) -> Polygon:
        return box(0.0, 0.0, self.length, self.fabric.width)
