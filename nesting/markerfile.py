"""The marker/1 JSON file: the one place its schema is written and read.

Other tools read these files: fields are only ever added, never renamed or removed. Numbers
are written unrounded so that a reader can recompute utilization and containment exactly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from shapely.geometry import Polygon

from nesting.atomic import write_text
from nesting.errors import MarkerFileError, SpecError
from nesting.model import Fabric, Margins, Marker
from nesting.report import summary_fields
from nesting.rules import PieceRules, grain_deviation, piece_rules
from nesting.spec import RuleSet, parse_rotations, parse_rules

SCHEMA = "marker/1"
MAX_COPIES = 1_000_000  # of one piece type in a marker file's rules


def to_dict(marker: Marker) -> dict:
    """The marker/1 document of a verified marker."""
    pieces = []
    for placement, polygon in zip(marker.placements, marker.polygons()):
        piece = marker.pieces[placement.piece]
        pieces.append({
            "id": piece.id,
            "name": piece.name,
            "size": piece.size,
            "copy": placement.copy,
            "rotation": placement.rotation,
            "mirrored": placement.mirrored,
            "polygon": [list(p) for p in polygon.exterior.coords[:-1]],
            "holes": [[list(p) for p in ring.coords[:-1]] for ring in polygon.interiors],
            "x": placement.x,
            "y": placement.y,
            "source": piece.source,
            "fabric": piece.fabric,
            "category": piece.category,
            "grain_deviation": grain_deviation(placement.rotation),
        })
    document = {
        "schema": SCHEMA,
        "units": marker.units,
        "width": marker.fabric.width,
        "length": marker.length,
        "utilization": marker.utilization,
        "target_utilization": marker.target_utilization,
        "meets_target": marker.meets_target,
        "seed": marker.seed,
        "elapsed_s": marker.elapsed_s,
        "input": marker.input,
        "pieces": pieces,
    }
    document["rules"] = rules_dict(marker)
    document["report"] = summary_fields(marker)
    document["stats"] = {k: v for k, v in marker.stats.items() if isinstance(v, int | float | str | bool)}
    return document


def rules_dict(marker: Marker) -> dict:
    """marker.json's ``rules``: every rule the marker must honour, enough to verify it alone.

    Per piece type it states the rotation rule, flip permission, quantities and the
    grain-aligned outline, so that each placed polygon can be checked to be that outline
    under its stated rotation and mirroring.
    """
    fabric, spec = marker.fabric, marker.spec
    pieces = {}
    for piece, rules in zip(marker.pieces, piece_rules(marker)):
        pieces[piece.id] = {
            "name": rules.name, "size": rules.size, "category": rules.category, "source": rules.source,
            "rotations": rules.rotations if isinstance(rules.rotations, str) else list(rules.rotations),
            "tilt": rules.tilt, "flip": rules.flip,
            "quantity": rules.quantity, "mirrored_quantity": rules.mirrored_quantity,
            "per_garment": list(rules.per_garment) if rules.per_garment is not None else None,
            "outline": [list(p) for p in piece.outline.exterior.coords[:-1]],
            "holes": [[list(p) for p in ring.coords[:-1]] for ring in piece.outline.interiors],
        }
    return {
        "spacing": marker.spacing,
        "margins": {"bottom": fabric.margins.bottom, "top": fabric.margins.top,
                    "start": fabric.margins.start, "end": fabric.margins.end},
        "max_length": fabric.max_length,
        "zones": [[list(p) for p in zone.exterior.coords[:-1]] for zone in fabric.zones],
        "sizes": spec.size_ratio if spec is not None else None,
        "shrinkage": dict(zip(("along", "across"), spec.shrinkage if spec is not None else (0.0, 0.0))),
        "orientation": spec.orientation.as_dict() if spec is not None else None,
        "pieces": pieces,
    }


def dump(marker: Marker, path) -> None:
    """Write ``marker.json`` atomically."""
    write_text(path, json.dumps(to_dict(marker), indent=1) + "\n")


@dataclass(frozen=True, slots=True)
class MarkerFile:
    """A marker/1 file as read back: the document and each placed outline."""

    path: str
    document: dict
    polygons: tuple[Polygon, ...]

    @property
    def width(self) -> float:
        return float(self.document["width"])

    @property
    def length(self) -> float:
        return float(self.document["length"])

    @property
    def rules(self) -> StatedRules | None:
        """The file's ``rules`` object, read and checked for form (``None`` when absent)."""
        return read_rules(self.document["rules"], self.width, self.path) if self.document.get("rules") is not None else None


@dataclass(frozen=True, slots=True)
class StatedRules:
    """The ``rules`` of a marker file: the fabric, the spacing and each piece type's rules."""

    fabric: Fabric
    spacing: float
    sizes: dict | None
    orientation: RuleSet | None
    pieces: dict  # id -> PieceRules
    outlines: dict  # id -> grain-aligned Polygon


def read_rules(rules, width, path) -> StatedRules:
    """Parse a ``rules`` object; raises `MarkerFileError` naming the field."""
    def fail(name, reason):
        return MarkerFileError(f"{path}: rules.{name}: {reason}")

    try:
        margins = Margins(**{k: float(v) for k, v in (rules.get("margins") or {}).items()})
        zones = tuple(Polygon(_ring(ring, f"{path}: rules.zones[{k}]")) for k, ring in enumerate(rules.get("zones") or []))
        max_length = None if rules.get("max_length") is None else float(rules["max_length"])
        fabric = Fabric(width, max_length, margins, zones)
        spacing = float(rules.get("spacing") or 0.0)
    except MarkerFileError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:
        raise fail("fabric", f"unreadable ({exc})") from None
    try:
        stated = rules.get("orientation")
        orientation = None if stated is None else parse_rules(stated, lambda name: f"{path}: {name}")
    except SpecError as exc:
        raise MarkerFileError(str(exc)) from None
    for name in ("pieces", "sizes"):
        if not isinstance(rules.get(name) or {}, dict):
            raise fail(name, "must be an object")
    pieces, outlines = {}, {}
    for piece_id, entry in (rules.get("pieces") or {}).items():
        try:
            rotations = entry["rotations"]
            rotations = (parse_rotations(rotations, "rotations") if isinstance(rotations, str)
                         else tuple(float(a) for a in rotations))
            per_garment = entry.get("per_garment")
            pieces[piece_id] = PieceRules(
                piece_id, entry.get("name"), entry.get("size"), entry.get("category"), entry.get("source"), rotations,
                float(entry.get("tilt") or 0.0), bool(entry.get("flip")), _count(entry["quantity"]),
                _count(entry.get("mirrored_quantity") or 0), tuple(map(_count, per_garment)) if per_garment else None,
            )
            where = f"{path}: rules.pieces.{piece_id}"
            outlines[piece_id] = Polygon(_ring(entry["outline"], f"{where}.outline"),
                                         [_ring(h, f"{where}.holes") for h in entry.get("holes") or []])
        except MarkerFileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise fail(f"pieces.{piece_id}", f"unreadable ({exc})") from None
    sizes = rules.get("sizes")
    return StatedRules(fabric, spacing, dict(sizes) if sizes else None, orientation, pieces, outlines)


def load(path) -> MarkerFile:
    """Read a marker/1 file; raises `MarkerFileError` naming the file and the field on bad content."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MarkerFileError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MarkerFileError(f"{path}: not a JSON marker file: {exc}") from None
    except RecursionError:
        raise MarkerFileError(f"{path}: not a JSON marker file: nested too deeply") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise MarkerFileError(f"{path}: not a {SCHEMA} marker file (schema field missing or different)")
    for key in ("width", "length", "utilization", "pieces"):
        if key not in document:
            raise MarkerFileError(f"{path}: field {key!r} is missing")
    for key in ("width", "length", "utilization"):
        if not _is_number(document[key]) or document[key] < 0 or (key == "width" and document[key] == 0):
            raise MarkerFileError(f"{path}: field {key!r} must be a finite number {'> 0' if key == 'width' else '>= 0'}, "
                                  f"got {document[key]!r}")
    if not isinstance(document["pieces"], list):
        raise MarkerFileError(f"{path}: field 'pieces' must be a list")
    if document.get("rules") is not None and not isinstance(document["rules"], dict):
        raise MarkerFileError(f"{path}: field 'rules' must be an object")
    polygons = tuple(_placed_polygon(entry, f"{path}: piece #{index}") for index, entry in enumerate(document["pieces"]))
    return MarkerFile(str(path), document, polygons)


_PIECE_FIELDS = {"rotation": "a number", "x": "a number", "y": "a number", "copy": "a whole number",
                 "mirrored": "true or false"}


def _placed_polygon(entry, where: str) -> Polygon:
    """One ``pieces`` entry's polygon, after checking the entry's form (fields are optional)."""
    if not isinstance(entry, dict):
        raise MarkerFileError(f"{where}: must be an object")
    for name, kind in _PIECE_FIELDS.items():
        if not _field_ok(name, entry.get(name)):
            raise MarkerFileError(f"{where}: {name} must be {kind}, got {entry.get(name)!r}")
    holes = entry.get("holes") or []
    if not isinstance(holes, list):
        raise MarkerFileError(f"{where}: holes must be a list of rings")
    return Polygon(_ring(entry.get("polygon"), f"{where}: polygon"), [_ring(h, f"{where}: a hole") for h in holes])


def _field_ok(name: str, value) -> bool:
    if value is None:
        return True
    if name == "mirrored":
        return isinstance(value, bool)
    return _is_number(value) and (name != "copy" or float(value).is_integer())


def _ring(points, where: str) -> list:
    if not isinstance(points, list) or len(points) < 3:
        raise MarkerFileError(f"{where}: must be a list of at least 3 [x, y] points")
    if not all(isinstance(p, list) and len(p) == 2 and _is_number(p[0]) and _is_number(p[1]) for p in points):
        raise MarkerFileError(f"{where}: every vertex must be an [x, y] pair of finite numbers")
    return points


def _count(value) -> int:
    """A quantity: a whole number in 0 .. MAX_COPIES (a huge one would stall the checks)."""
    if not _is_number(value) or not float(value).is_integer() or not 0 <= value <= MAX_COPIES:
        raise ValueError(f"a quantity must be a whole number in 0..{MAX_COPIES}, got {value!r}")
    return int(value)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
