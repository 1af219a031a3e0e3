"""The one view every exporter reads: each piece as it lies in the marker, marks included.

A live `Marker` and a marker/1 file read back from disk both become a `PlacedMarker`, so
``nest marker`` and ``nest export`` write identical files. Annotations (grain line, notches,
internal lines...) are moved with the piece: mirror (x -> -x), rotate CCW, translate, the
same transform as the outline (see `nesting.model`), then cut down to the piece
(`export.clip`), so no writer ever draws a mark off its piece.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import shapely
from shapely import affinity
from shapely.geometry import Polygon

from export.clip import clip_annotations
from nesting.errors import MarkerFileError
from nesting.fabric import FOLD_EDGES
from nesting.markerfile import load, to_dict
from nesting.model import Marker, oriented, placed_polygon
from nesting.verify_file import verify_file
from patterns import read_pieces
from patterns.errors import PatternError
from patterns.piece import Annotations, Notch, Piece

log = logging.getLogger(__name__)

INSTANCE_UNITS_NOTE = "1 instance unit is exported as 1 mm"
MAX_REPEAT_LINES = 5000  # per direction: a finer repeat is not drawn (it would only grey the drawing)
_SAME_OUTLINE = 1e-6  # Hausdorff distance allowed between a file's polygon and its source piece, relative to its size


@dataclass(frozen=True, slots=True)
class PlacedPiece:
    """One placed copy: its outline and marks in marker coordinates, and who it is."""

    id: str
    name: str
    size: str | None
    copy: int
    rotation: float
    mirrored: bool
    polygon: Polygon
    annotations: Annotations = field(default_factory=Annotations)
    fabric: str | None = None
    style: str | None = None  # the pattern's style name
    sample_size: str | None = None  # the pattern's sample (base) size
    folded: bool = False  # a half piece cut on the fold (its mirror line on a fold edge)

    @property
    def label(self) -> str:
        return self.name if self.size is None else f"{self.name} {self.size}"

    @property
    def grain_angle(self) -> float:
        """Direction of the grain (+x of the piece frame) in the marker, in degrees."""
        return (180.0 if self.mirrored else 0.0) + self.rotation


@dataclass(frozen=True, slots=True)
class PlacedMarker:
    """What exporters draw and cut: the fabric, the placed pieces, the marker/1 document."""

    width: float
    length: float
    units: str
    input: str
    target_utilization: float
    pieces: tuple[PlacedPiece, ...]
    document: dict = field(compare=False)
    zones: tuple[Polygon, ...] = ()

    @property
    def placed_area(self) -> float:
        return sum(p.polygon.area for p in self.pieces)

    @property
    def utilization(self) -> float:
        return self.placed_area / (self.width * self.length) if self.length > 0 else 0.0

    @property
    def meets_target(self) -> bool:
        return self.utilization >= self.target_utilization

    def guides(self) -> dict[str, list]:
        """The fabric's lines as the marker file states them, by DXF layer: fold edges (``FOLD``),
        shade section boundaries (``SECTION``) and the stripe or check repeat (``REPEAT``)."""
        rules = self.document.get("rules") or {}
        length, width = self.length, self.width
        edges = {"bottom": 0.0, "top": width}
        folds = FOLD_EDGES.get(rules.get("spread"), ())  # the verified rules, not the informative top-level field
        found = {"FOLD": [((0.0, edges[e]), (length, edges[e])) for e in folds],
                 "SECTION": [((end, 0.0), (end, width)) for _, end in (rules.get("sections") or [])[:-1]],
                 "REPEAT": []}
        repeat = rules.get("repeat") or {}
        for period, offset, span, vertical in ((repeat.get("along"), repeat.get("offset_along") or 0.0, length, True),
                                               (repeat.get("across"), repeat.get("offset_across") or 0.0, width, False)):
            if not period or span / period > MAX_REPEAT_LINES:
                continue
            for k in range(math.ceil(-offset / period), math.floor((span - offset) / period) + 1):
                at = offset + k * period
                found["REPEAT"].append(((at, 0.0), (at, width)) if vertical else ((0.0, at), (length, at)))
        return {layer: lines for layer, lines in found.items() if lines}

    @property
    def units_note(self) -> str | None:
        """Why the files say mm for a unitless instance (None for real mm)."""
        return INSTANCE_UNITS_NOTE if self.units == "instance" else None


def transform_point(point, rotation: float, mirrored: bool, dx: float, dy: float) -> tuple[float, float]:
    """A point of the piece frame moved like the outline: mirror, rotate CCW, translate."""
    x, y = point
    if mirrored:
        x = -x
    angle = math.radians(rotation)
    cos, sin = math.cos(angle), math.sin(angle)
    return (x * cos - y * sin + dx, x * sin + y * cos + dy)


def transform_annotations(annotations: Annotations, rotation: float, mirrored: bool, dx: float, dy: float) -> Annotations:
    """Annotations of the piece frame as they lie in the marker."""

    def move(point):
        return transform_point(point, rotation, mirrored, dx, dy)

    def line(points):
        return tuple(move(p) for p in points)

    def notch(n: Notch) -> Notch:
        angle = (180.0 - n.angle if mirrored else n.angle) + rotation
        x, y = move((n.x, n.y))
        return Notch(x, y, angle % 360.0, n.depth, n.kind)

    return Annotations(
        grain_line=line(annotations.grain_line) if annotations.grain_line else None,
        mirror_line=line(annotations.mirror_line) if annotations.mirror_line else None,
        notches=tuple(notch(n) for n in annotations.notches),
        internal_lines=tuple(line(p) for p in annotations.internal_lines),
        sew_lines=tuple(line(p) for p in annotations.sew_lines),
        drill_holes=line(annotations.drill_holes),
        texts=annotations.texts,
    )


def from_marker(marker: Marker) -> PlacedMarker:
    """The export view of a live, verified marker."""
    pieces = []
    for placement in marker.placements:
        piece = marker.pieces[placement.piece]
        polygon = placed_polygon(piece, placement)
        moved = transform_annotations(piece.annotations, placement.rotation, placement.mirrored,
                                      float(placement.x), float(placement.y))
        pieces.append(PlacedPiece(
            id=piece.id, name=piece.name, size=piece.size, copy=placement.copy,
            rotation=float(placement.rotation), mirrored=bool(placement.mirrored),
            polygon=polygon, annotations=clip_annotations(moved, polygon),
            fabric=piece.fabric, style=piece.style, sample_size=piece.sample_size,
            folded=piece.folded and bool(marker.fabric.fold_edges),
        ))
    return PlacedMarker(
        width=marker.fabric.width, length=marker.length, units=marker.units, input=marker.input,
        target_utilization=marker.target_utilization, pieces=tuple(pieces), document=to_dict(marker),
        zones=marker.fabric.zones,
    )


def from_file(path) -> PlacedMarker:
    """The export view of a marker/1 file, re-verified first; marks come from its source pattern.

    Raises `MarkerFileError` (a user error) when the file is unreadable or fails verification.
    A source pattern that cannot be read, or no longer matches the placed outlines, only costs
    the annotations (logged), never the export.
    """
    problems = verify_file(path)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise MarkerFileError(f"{path}: fails verification: {problems[0]}{more}")
    marker = load(path)
    document = marker.document
    sources = _source_pieces(document, Path(path).parent)
    stated = (document.get("rules") or {}).get("pieces") or {}
    pieces = []
    for entry, polygon in zip(document["pieces"], marker.polygons):
        rotation, mirrored = float(entry.get("rotation", 0.0)), bool(entry.get("mirrored", False))
        source = sources.get((entry.get("source"), str(entry.get("id"))))
        annotations = _carried_annotations(entry, polygon, source, rotation, mirrored)
        fold = (stated.get(str(entry.get("id"))) or {}).get("fold")
        if fold is not None:  # the marker states where the half's mirror line is: it is drawn from there
            moved = tuple(transform_point(p, rotation, mirrored, float(entry["x"]), float(entry["y"])) for p in fold)
            annotations = replace(annotations, mirror_line=moved)
        pieces.append(PlacedPiece(
            id=str(entry.get("id")), name=str(entry.get("name", entry.get("id"))), size=entry.get("size"),
            copy=int(entry.get("copy", 0)), rotation=rotation, mirrored=mirrored, polygon=polygon,
            annotations=clip_annotations(annotations, polygon), fabric=entry.get("fabric"),
            style=source.style if source else None, sample_size=source.sample_size if source else None,
            folded=fold is not None,
        ))
    return PlacedMarker(
        width=marker.width, length=marker.length, units=str(document.get("units", "mm")),
        input=str(document.get("input", "")), target_utilization=float(document.get("target_utilization", 0.92)),
        pieces=tuple(pieces), document=document,
    )


def _source_pieces(document, folder: Path) -> dict[tuple[str, str], Piece]:
    """Pieces of every readable DXF source named in the file, keyed by (source, piece id)."""
    if document.get("units") == "instance":
        return {}  # instances carry no marks
    found = {}
    nested = _nested_digests(document)
    for source in {e.get("source") for e in document["pieces"] if e.get("source")}:
        candidates = [Path(source), folder / Path(source).name]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            log.warning("%s: source pattern not found; exporting without its marks", source)
            continue
        if source in nested and hashlib.sha256(path.read_bytes()).hexdigest() != nested[source]:
            raise MarkerFileError(f"{path}: the source pattern changed since the marker was nested (its SHA-256 "
                                  "differs), so its internal lines, drill holes and notches may not match the "
                                  "placed pieces: nest it again, or export with the pattern as it was")
        try:
            folds = FOLD_EDGES.get((document.get("rules") or {}).get("spread"), ())
            pieces, _report = read_pieces(path, **({"keep_folds": True} if folds else {}))
        except PatternError as exc:
            log.warning("%s: source pattern unreadable (%s); exporting without its marks", source, exc)
            continue
        found.update({(source, piece.id): piece for piece in pieces})
    return found


def _nested_digests(document) -> dict[str, str]:
    """The SHA-256 of each source pattern as it was nested (``stats.source_sha256``; older files lack it)."""
    recorded = (document.get("stats") or {}).get("source_sha256") if isinstance(document.get("stats"), dict) else None
    try:
        digests = json.loads(recorded) if isinstance(recorded, str) else {}
    except ValueError:
        raise MarkerFileError("stats.source_sha256: not a JSON object of file digests") from None
    if not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values()):
        raise MarkerFileError("stats.source_sha256: not a JSON object of file digests")
    return digests


def _carried_annotations(entry, polygon, piece: Piece | None, rotation, mirrored) -> Annotations:
    if piece is None:
        return Annotations()
    shape = oriented(piece.outline, rotation, mirrored)
    if "x" in entry and "y" in entry:
        x, y = float(entry["x"]), float(entry["y"])
    else:  # early marker/1 files: recover the translation from the bounds
        x, y = polygon.bounds[0] - shape.bounds[0], polygon.bounds[1] - shape.bounds[1]
    moved = affinity.translate(shape, x, y)
    size = math.dist(polygon.bounds[:2], polygon.bounds[2:])
    if shapely.hausdorff_distance(moved, polygon) > _SAME_OUTLINE * size:
        log.warning("piece %s: the source pattern changed since nesting; exporting without its marks", entry.get("id"))
        return Annotations()
    return transform_annotations(piece.annotations, rotation, mirrored, x, y)

