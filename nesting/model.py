"""The engine's plain, frozen data: a placement, the rules a marker is held to, a marker.

A `Placement` is a transform, never moved geometry: mirror the piece's outline across its
y axis (x -> -x) if ``mirrored``, rotate it ``rotation`` degrees counter-clockwise about the
origin, then translate by (x, y). x runs along the marker length, y across the width.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from shapely import affinity
from shapely.geometry import Polygon, box

from nesting.fabric import Fabric, Margins, Repeat
from patterns.piece import Match, Piece

__all__ = ["Fabric", "Margins", "Match", "Repeat", "Marker", "MarkerRules", "PieceRules", "Placement", "near_rotation", "oriented",
           "placed_polygon"]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one copy of a piece lies: ``piece`` indexes `Marker.pieces`."""

    piece: int
    copy: int
    rotation: float
    mirrored: bool
    x: float
    y: float


def near_rotation(rotation: float, angles, tolerance: float) -> bool:
    """Is ``rotation`` within ``tolerance`` degrees of one of ``angles`` (modulo a full turn)?

    The one angle comparison of the project: rule checks, instance checks and warm starts.
    Vectorised, as a marker file may list a million angles for a piece.
    """
    gaps = np.abs((rotation - np.asarray(angles, dtype=float) + 180.0) % 360.0 - 180.0)
    return bool(gaps.size) and bool(gaps.min() <= tolerance)


def oriented(outline: Polygon, rotation: float, mirrored: bool) -> Polygon:
    """The outline mirrored (x -> -x) if asked, then rotated CCW about the origin."""
    shape = affinity.scale(outline, -1.0, 1.0, origin=(0, 0)) if mirrored else outline
    return affinity.rotate(shape, rotation, origin=(0, 0)) if rotation % 360 else shape


def placed_polygon(piece: Piece, placement: Placement) -> Polygon:
    """The piece's outline as it lies in the marker."""
    shape = oriented(piece.outline, placement.rotation, placement.mirrored)
    return affinity.translate(shape, placement.x, placement.y)


@dataclass(frozen=True, slots=True)
class PieceRules:
    """One piece type's rules as a marker states them (marker.json's ``rules.pieces``).

    ``rotations`` is a rule (``none``/``180``/``90``/``free:STEP``) with ``tilt``, or the explicit
    angles a pattern allowed. ``quantity``/``mirrored_quantity`` are the copies in the marker;
    ``per_garment`` the same for one garment, when a size ratio multiplied them. ``outline`` is
    the grain-aligned outline every placed copy must be an image of.

    On a spread of two plies (`nesting.spread`) each placed copy ``yields`` two pieces, a left
    and a right; a half ``fold`` piece (its mirror line, in the outline's frame) lies with that
    line on a fold edge and yields one whole piece. ``match`` is its stripe or check match.
    """

    id: str
    name: str
    size: str | None
    category: str | None
    source: str | None
    rotations: str | tuple[float, ...]
    tilt: float
    flip: bool
    quantity: int
    mirrored_quantity: int
    outline: Polygon
    per_garment: tuple[int, int] | None = None
    yields: int = 1
    fold: tuple[tuple[float, float], tuple[float, float]] | None = None
    match: Match | None = None

    @property
    def demand(self) -> int:
        return self.quantity + self.mirrored_quantity

    def garment_of(self, copy: int) -> int | None:
        """The (first) garment of its size a placed copy is cut for; None without a size ratio.

        On a two-ply spread a placement of a piece cut once per garment serves two garments:
        the first of them is named (`MarkerRules.bundle_of` keeps such garments together).
        """
        if self.per_garment is None or not sum(self.per_garment):
            return None
        q, m = self.per_garment
        if self.yields == 1 and self.fold is None:  # copies are cut as placed, by hand
            if q and copy < self.quantity:
                return copy // q
            return (copy - self.quantity) // m if m else None
        return copy * self.yields // (q + m)

    @property
    def garments_per_placement(self) -> int:
        """How many garments one placed copy serves at most (2 for a once-per-garment piece on two plies)."""
        total = sum(self.per_garment) if self.per_garment else 0
        return -(-self.yields // total) if 0 < total < self.yields else 1


@dataclass(frozen=True, slots=True)
class MarkerRules:
    """Every rule a marker is held to: what marker.json's ``rules`` states, enough to verify it alone.

    Live markers and files read from disk are checked against this one type. ``pieces`` is
    ``None`` for a file that states no rules (early marker/1): only its geometry is checked.
    ``sizes`` is the size ratio as ``((size, garments), ...)``, ``orientation`` the orientation
    rules as the spec file states them. ``sections`` are the shade sections' ``(start, end)``
    along x, each holding whole garments (bundles); ``section_length`` the longest one allowed.
    ``whole_repeats``: the length is a whole number of repeats along, for multi-ply spreading.
    """

    fabric: Fabric
    spacing: float = 0.0
    pieces: tuple[PieceRules, ...] | None = None
    sizes: tuple[tuple[str, int], ...] | None = None
    shrinkage: tuple[float, float] = (0.0, 0.0)
    orientation: dict | None = None
    fabric_price: float | None = None
    sections: tuple[tuple[float, float], ...] | None = None
    section_length: float | None = None
    whole_repeats: bool = False  # the length is a whole number of the fabric's repeats along

    @property
    def size_ratio(self) -> dict[str, int] | None:
        return None if self.sizes is None else dict(self.sizes)

    def bundle_of(self, stated: PieceRules, copy: int) -> tuple | None:
        """The bundle a placed copy belongs to: ``(source, size, k)``, the garments that must be cut together.

        A bundle is one garment, or two where a two-ply placement serves two garments of a size
        (one front per garment on a folded spread: the pair of garments goes together).
        """
        garment = stated.garment_of(copy)
        if garment is None:
            return None
        span = max(r.garments_per_placement for r in self.pieces or () if (r.source, r.size) == (stated.source, stated.size))
        return (stated.source, stated.size, garment // span)


def own_rules(piece: Piece) -> PieceRules:
    """The rules a piece carries itself: its sampled rotations, flip and quantities."""
    return PieceRules(piece.id, piece.name, piece.size, piece.category, piece.source, tuple(piece.rotations), 0.0,
                      piece.flip, piece.quantity, piece.mirrored_quantity, piece.outline)


@dataclass(frozen=True, slots=True)
class Marker:
    """A nested marker. Length is the extent actually used along x, from 0.

    ``rules`` are the rules it was nested under when a spec set them (size ratio, orientation
    rules, shrinkage); without them the pieces' own rules apply (`effective_rules`).
    """

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
    rules: MarkerRules | None = field(default=None, compare=False)

    def effective_rules(self) -> MarkerRules:
        """The rules this marker is verified against and its file states."""
        if self.rules is not None:
            return self.rules
        return MarkerRules(self.fabric, self.spacing, tuple(own_rules(p) for p in self.pieces))

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
