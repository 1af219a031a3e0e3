"""The marker/1 JSON file: the one place its schema is written and read.

Other tools read these files: fields are only ever added, never renamed or removed. Numbers
are written unrounded so that a reader can recompute utilization and containment exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from shapely.geometry import Polygon

from nesting.atomic import write_text
from nesting.errors import MarkerFileError, SpecError
from nesting.fabric import EDGES, Fabric, Margins, Repeat, finite_number
from nesting.model import Marker, MarkerRules, Match, PieceRules
from nesting.orientation import parse_rotations, parse_rules
from nesting.report import summary_fields
from nesting.rules import grain_deviation
from nesting.verify import Placed

SCHEMA = "marker/1"
MAX_COPIES = 1_000_000  # of one piece type in a marker file's rules


def to_dict(marker: Marker) -> dict:
    """The marker/1 document of a verified marker."""
    rules = marker.effective_rules()
    yields_of = {stated.id: stated.yields for stated in rules.pieces or ()}
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
            "yields": yields_of.get(piece.id, 1),
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
        "spread": marker.fabric.spread,
        "open_width": marker.fabric.open_width,
        "fold_edges": list(marker.fabric.fold_edges),
        "pieces": pieces,
    }
    document["rules"] = rules_dict(rules)
    document["report"] = summary_fields(marker)
    document["stats"] = {k: v for k, v in marker.stats.items() if isinstance(v, int | float | str | bool)}
    return document


def rules_dict(rules: MarkerRules) -> dict:
    """marker.json's ``rules``: every rule the marker must honour, enough to verify it alone.

    Per piece type it states the rotation rule, flip permission, quantities and the
    grain-aligned outline, so that each placed polygon can be checked to be that outline
    under its stated rotation and mirroring.
    """
    fabric = rules.fabric
    pieces = {}
    for stated in rules.pieces or ():
        pieces[stated.id] = {
            "name": stated.name, "size": stated.size, "category": stated.category, "source": stated.source,
            "rotations": stated.rotations if isinstance(stated.rotations, str) else list(stated.rotations),
            "tilt": stated.tilt, "flip": stated.flip,
            "quantity": stated.quantity, "mirrored_quantity": stated.mirrored_quantity,
            "per_garment": list(stated.per_garment) if stated.per_garment is not None else None,
            "outline": [list(p) for p in stated.outline.exterior.coords[:-1]],
            "holes": [[list(p) for p in ring.coords[:-1]] for ring in stated.outline.interiors],
            "yields": stated.yields,
            "fold": [list(p) for p in stated.fold] if stated.fold is not None else None,
            "match": None if stated.match is None else {
                "point": list(stated.match.point), "along": stated.match.along, "across": stated.match.across,
                "group": stated.match.group},
        }
    repeat = fabric.repeat
    return {
        "spacing": rules.spacing,
        "margins": {edge: getattr(fabric.margins, edge) for edge in EDGES},
        "max_length": fabric.max_length,
        "zones": [[list(p) for p in zone.exterior.coords[:-1]] for zone in fabric.zones],
        "sizes": rules.size_ratio,
        "shrinkage": dict(zip(("along", "across"), rules.shrinkage)),
        "orientation": rules.orientation,
        "fabric_price": rules.fabric_price,
        "spread": fabric.spread,
        "repeat": None if repeat is None else {"along": repeat.along, "across": repeat.across,
                                               "offset_along": repeat.offset_along, "offset_across": repeat.offset_across},
        "sections": [list(section) for section in rules.sections] if rules.sections else None,
        "section_length": rules.section_length,
        "whole_repeats": rules.whole_repeats,
        "pieces": pieces,
    }


def dump(marker: Marker, path) -> None:
    """Write ``marker.json`` atomically."""
    write_text(path, json.dumps(to_dict(marker), indent=1) + "\n")


@dataclass(frozen=True, slots=True)
class MarkerFile:
    """A marker/1 file as read back: the document, each placed copy, the rules it states.

    ``rules`` is ``None`` when the file states none (early marker/1): its pieces can then only
    be checked against the bare fabric.
    """

    path: str
    document: dict
    placed: tuple[Placed, ...]
    rules: MarkerRules | None

    @property
    def polygons(self) -> tuple[Polygon, ...]:
        return tuple(p.polygon for p in self.placed)

    @property
    def width(self) -> float:
        return float(self.document["width"])

    @property
    def length(self) -> float:
        return float(self.document["length"])


def load(path) -> MarkerFile:
    """Read a marker/1 file; raises `MarkerFileError` naming the file and the field on bad content.

    Only the form is checked here (types, required fields); whether the values make sense is
    the verifier's question (`nesting.verify.check`).
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys)
    except OSError as exc:
        raise MarkerFileError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    except _DuplicateKey as exc:
        raise MarkerFileError(f"{path}: key {exc.args[0]!r} occurs twice in one object") from None
    except RecursionError:
        raise MarkerFileError(f"{path}: not a JSON marker file: nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: bad JSON, or an integer of over 4300 digits
        raise MarkerFileError(f"{path}: not a JSON marker file: {exc}") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise MarkerFileError(f"{path}: not a {SCHEMA} marker file (schema field missing or different)")
    for key in ("width", "length", "utilization", "pieces"):
        if key not in document:
            raise MarkerFileError(f"{path}: field {key!r} is missing")
    for key in ("width", "length", "utilization"):
        if not finite_number(document[key]) or document[key] < 0 or (key == "width" and document[key] == 0):
            raise MarkerFileError(f"{path}: field {key!r} must be a finite number {'> 0' if key == 'width' else '>= 0'}, "
                                  f"got {document[key]!r}")
    if not isinstance(document["pieces"], list):
        raise MarkerFileError(f"{path}: field 'pieces' must be a list")
    _check_fields(document, str(path), {}, _OPTIONAL_FIELDS)
    if document.get("rules") is not None and not isinstance(document["rules"], dict):
        raise MarkerFileError(f"{path}: field 'rules' must be an object")
    placed = tuple(_placed(entry, f"{path}: piece #{index}") for index, entry in enumerate(document["pieces"]))
    rules = None if document.get("rules") is None else read_rules(document["rules"], float(document["width"]), path)
    if rules is not None and document.get("spread", rules.fabric.spread) != rules.fabric.spread:
        raise MarkerFileError(f"{path}: spread {document['spread']!r} is not the spread the rules state "
                              f"({rules.fabric.spread!r})")
    return MarkerFile(str(path), document, placed, rules)


def read_rules(rules: dict, width: float, path) -> MarkerRules:
    """Parse a ``rules`` object for form; raises `MarkerFileError` naming the field."""
    def fail(name, reason):
        return MarkerFileError(f"{path}: rules.{name}: {reason}")

    for name in ("margins", "pieces", "sizes", "shrinkage"):
        if not isinstance(rules.get(name) or {}, dict):
            raise fail(name, "must be an object")
    if not isinstance(rules.get("zones") or [], list):
        raise fail("zones", "must be a list of rings")
    margins = rules.get("margins") or {}
    unknown = set(margins) - set(EDGES)
    if unknown:
        raise fail("margins", f"unknown edge {sorted(unknown)[0]!r}; edges are {', '.join(EDGES)}")
    margins = Margins(**{edge: _number(margins.get(edge, 0.0), fail, f"margins.{edge}") for edge in EDGES})
    zones = tuple(Polygon(_ring(ring, f"{path}: rules.zones[{k}]")) for k, ring in enumerate(rules.get("zones") or []))
    max_length = None if rules.get("max_length") is None else _number(rules["max_length"], fail, "max_length")
    spacing = _number(rules.get("spacing") or 0.0, fail, "spacing")
    shrinkage = rules.get("shrinkage") or {}
    shrinkage = (_number(shrinkage.get("along", 0.0), fail, "shrinkage.along"),
                 _number(shrinkage.get("across", 0.0), fail, "shrinkage.across"))
    orientation = rules.get("orientation")
    try:
        if orientation is not None:
            parse_rules(orientation, lambda name: f"{path}: {name}")
    except SpecError as exc:
        raise MarkerFileError(str(exc)) from None
    sizes = rules.get("sizes")
    try:
        sizes = tuple((str(size), _count(n)) for size, n in sizes.items()) if sizes else None
    except ValueError as exc:
        raise fail("sizes", str(exc)) from None
    pieces = tuple(_piece_rules(piece_id, entry, f"{path}: rules.pieces.{piece_id}", fail)
                   for piece_id, entry in (rules.get("pieces") or {}).items())
    spread = rules.get("spread", "open")
    if not isinstance(spread, str):
        raise fail("spread", f"must be a text, got {spread!r}"[:300])
    repeat = rules.get("repeat")
    if repeat is not None:
        if not isinstance(repeat, dict) or set(repeat) - {"along", "across", "offset_along", "offset_across"}:
            raise fail("repeat", "must be an object of along, across, offset_along, offset_across")
        repeat = Repeat(_optional_number(repeat.get("along"), fail, "repeat.along"),
                        _optional_number(repeat.get("across"), fail, "repeat.across"),
                        _number(repeat.get("offset_along") or 0.0, fail, "repeat.offset_along"),
                        _number(repeat.get("offset_across") or 0.0, fail, "repeat.offset_across"))
    sections = rules.get("sections")
    if sections is not None:
        if not isinstance(sections, list) or not sections or not all(isinstance(x, list) and len(x) == 2 for x in sections):
            raise fail("sections", "must be a non-empty list of [start, end] pairs")
        sections = tuple((_number(a, fail, "sections"), _number(b, fail, "sections")) for a, b in sections)
    return MarkerRules(Fabric(width, max_length, margins, zones, spread, repeat), spacing, pieces, sizes, shrinkage,
                       orientation, _optional_number(rules.get("fabric_price"), fail, "fabric_price"), sections,
                       _optional_number(rules.get("section_length"), fail, "section_length"),
                       _bool(rules.get("whole_repeats", False), fail, "whole_repeats"))


def _piece_rules(piece_id: str, entry, where: str, fail) -> PieceRules:
    try:
        rotations = entry["rotations"]
        rotations = (parse_rotations(rotations, "rotations") if isinstance(rotations, str)
                     else tuple(_number(a, fail, f"pieces.{piece_id}.rotations") for a in rotations))
        per_garment = entry.get("per_garment")
        if per_garment and len(per_garment) != 2:
            raise ValueError(f"per_garment must be [quantity, mirrored quantity], got {per_garment!r}")
        outline = Polygon(_ring(entry["outline"], f"{where}.outline"), [_ring(h, f"{where}.holes") for h in entry.get("holes") or []])
        return PieceRules(
            piece_id, _text(entry.get("name")), _text(entry.get("size")), _text(entry.get("category")),
            _text(entry.get("source")), rotations, _number(entry.get("tilt") or 0.0, fail, f"pieces.{piece_id}.tilt"),
            _flag(entry.get("flip", False)), _count(entry["quantity"]), _count(entry.get("mirrored_quantity") or 0),
            outline, tuple(map(_count, per_garment)) if per_garment else None,
            _count(entry.get("yields", 1)), _fold(entry.get("fold"), fail, piece_id), _match(entry.get("match")),
        )
    except MarkerFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, SpecError) as exc:
        raise fail(f"pieces.{piece_id}", f"unreadable ({exc})") from None


def _fold(line, fail, piece_id):
    if line is None:
        return None
    if not (isinstance(line, list) and len(line) == 2 and all(isinstance(p, list) and len(p) == 2 for p in line)):
        raise fail(f"pieces.{piece_id}.fold", "must be the mirror line's two [x, y] ends")
    return tuple((_number(x, fail, f"pieces.{piece_id}.fold"), _number(y, fail, f"pieces.{piece_id}.fold"))
                 for x, y in line)


def _match(entry) -> Match | None:
    if entry is None:
        return None
    point = entry["point"]
    if not (isinstance(point, list) and len(point) == 2 and all(finite_number(v) for v in point)):
        raise ValueError(f"match.point must be an [x, y] pair of finite numbers, got {point!r}"[:200])
    return Match((float(point[0]), float(point[1])), _flag(entry.get("along", False)), _flag(entry.get("across", False)),
                 _text(entry.get("group")))


def _is_copy(value) -> bool:
    return finite_number(value) and float(value).is_integer() and 0 <= value <= MAX_COPIES


_COPY = f"a copy number in 0..{MAX_COPIES}"
_KINDS = {  # what a field must be, as the error says it -> the test
    "a number": finite_number,
    "a whole number": lambda v: finite_number(v) and float(v).is_integer(),
    _COPY: _is_copy,
    "true or false": lambda v: isinstance(v, bool),
    "a text": lambda v: isinstance(v, str),
    "a text or null": lambda v: v is None or isinstance(v, str),
}
_REQUIRED_PIECE_FIELDS = {"id": "a text", "copy": _COPY, "rotation": "a number", "mirrored": "true or false"}
_OPTIONAL_PIECE_FIELDS = {"x": "a number", "y": "a number", "name": "a text or null", "size": "a text or null",
                          "source": "a text or null", "fabric": "a text or null", "category": "a text or null",
                          "grain_deviation": "a number", "yields": "a whole number"}
_OPTIONAL_FIELDS = {"units": "a text", "input": "a text", "target_utilization": "a number", "meets_target": "true or false",
                    "seed": "a whole number", "elapsed_s": "a number", "spread": "a text", "open_width": "a number"}


def _check_fields(entry: dict, where: str, required: dict, optional: dict) -> None:
    """Every required field present, and every field of the tables of the kind it must be."""
    for name in required:
        if name not in entry:
            raise MarkerFileError(f"{where}: field {name!r} is missing")
    for name, kind in (required | optional).items():
        if name in entry and not _KINDS[kind](entry[name]):
            raise MarkerFileError(f"{where}: {name} must be {kind}, got {entry[name]!r}"[:300])


def _placed(entry, where: str) -> Placed:
    """One ``pieces`` entry, after checking its form: id, copy, rotation, mirrored and polygon are required."""
    if not isinstance(entry, dict):
        raise MarkerFileError(f"{where}: must be an object")
    _check_fields(entry, where, _REQUIRED_PIECE_FIELDS, _OPTIONAL_PIECE_FIELDS)
    holes = entry.get("holes", [])
    if not isinstance(holes, list):
        raise MarkerFileError(f"{where}: holes must be a list of rings")
    polygon = Polygon(_ring(entry.get("polygon"), f"{where}: polygon"), [_ring(h, f"{where}: a hole") for h in holes])
    x, y = (float(entry[k]) if k in entry else None for k in ("x", "y"))
    return Placed(entry["id"], int(entry["copy"]), float(entry["rotation"]), entry["mirrored"], x, y, polygon)


def _ring(points, where: str) -> list:
    if not isinstance(points, list) or len(points) < 3:
        raise MarkerFileError(f"{where}: must be a list of at least 3 [x, y] points")
    if not all(isinstance(p, list) and len(p) == 2 and finite_number(p[0]) and finite_number(p[1]) for p in points):
        raise MarkerFileError(f"{where}: every vertex must be an [x, y] pair of finite numbers")
    return points


def _number(value, fail, name: str) -> float:
    if not finite_number(value):
        raise fail(name, f"must be a finite number, got {value!r}"[:300])
    return float(value)


def _bool(value, fail, name: str) -> bool:
    if not isinstance(value, bool):
        raise fail(name, f"must be true or false, got {value!r}"[:300])
    return value


def _optional_number(value, fail, name: str) -> float | None:
    return None if value is None else _number(value, fail, name)


def _text(value) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"expected a text or null, got {value!r}")
    return value


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"flip must be true or false, got {value!r}")
    return value


def _count(value) -> int:
    """A quantity: a whole number in 0 .. MAX_COPIES (a huge one would stall the checks)."""
    if not finite_number(value) or not float(value).is_integer() or not 0 <= value <= MAX_COPIES:
        raise ValueError(f"a quantity must be a whole number in 0..{MAX_COPIES}, got {value!r}")
    return int(value)


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs) -> dict:
    """A JSON object whose keys are unique: a repeated key is refused, not silently the last value."""
    document = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key)
        document[key] = value
    return document
