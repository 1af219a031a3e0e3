"""ESICUP / jagua-rs strip-packing instances (JSON) as pieces.

The fabric width is the file's ``strip_height``; units are the instance's own.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import Polygon

from patterns.errors import PatternError
from patterns.piece import MAX_VERTICES, Piece, sliver_reason

ANY_ROTATION_STEP = 90.0  # an absent orientation list means "any": sampled at this step
COORDINATE_LIMIT = 1e8  # farther coordinates are refused (as in DXF import): they overflow the geometry
MAX_ID_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Instance:
    """A strip-packing instance: its pieces and the fabric width it was published with."""

    name: str
    width: float
    pieces: tuple[Piece, ...]
    source: str


def read_instance(path, **_ignored) -> tuple[list[Piece], dict]:
    """Read pieces of a JSON instance; the report carries the width and the name."""
    instance = load_instance(path)
    return list(instance.pieces), {"width": instance.width, "name": instance.name, "units": "instance"}


def load_instance(path) -> Instance:
    """Parse and validate a JSON instance, raising `PatternError` with item and reason."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys)
    except OSError as exc:
        raise PatternError(path, f"cannot read file: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PatternError(path, f"not a JSON instance: {exc}") from None
    except RecursionError:
        raise PatternError(path, "not a JSON instance: nested too deeply") from None
    except ValueError as exc:  # a duplicate key, or an integer of more than 4,300 digits
        raise PatternError(path, f"not a usable JSON instance: {exc}") from None
    if not isinstance(data, dict):
        raise PatternError(path, "not a JSON instance: the top level must be an object")
    width = _positive_number(data.get("strip_height"), path, None, "strip_height")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise PatternError(path, "'items' must be a non-empty list")
    pieces = tuple(_read_item(item, index, path) for index, item in enumerate(items))
    ids = [p.id for p in pieces]
    if len(set(ids)) != len(ids):
        raise PatternError(path, "item ids are not unique")
    return Instance(str(data.get("name", path.stem)), width, pieces, str(path))


def _unique_keys(pairs) -> dict:
    """A JSON object, refusing a repeated key (json takes the last one silently: which did the author mean?)."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _read_item(item, index, path) -> Piece:
    if not isinstance(item, dict):
        raise PatternError(path, "item is not an object", piece=index)
    item_id = item.get("id", index)
    if not isinstance(item_id, str | int) or isinstance(item_id, bool) or len(str(item_id)) > MAX_ID_LENGTH:
        raise PatternError(path, f"id must be a string or an integer of at most {MAX_ID_LENGTH} characters", piece=index)
    item_id = str(item_id)
    demand = item.get("demand", 1)
    if isinstance(demand, bool) or not isinstance(demand, int) or demand < 0:
        raise PatternError(path, f"demand must be a non-negative integer, got {_shown(demand)}", piece=item_id)
    outline = _read_shape(item.get("shape"), path, item_id)
    rotations = item.get("allowed_orientations")
    if rotations is None or rotations == []:
        rotations = [k * ANY_ROTATION_STEP for k in range(int(round(360 / ANY_ROTATION_STEP)))]
    if not isinstance(rotations, list):
        raise PatternError(path, "allowed_orientations must be a list of degrees", piece=item_id)
    rotations = tuple(dict.fromkeys(_finite_number(r, path, item_id, "allowed_orientations") % 360.0 for r in rotations))
    return Piece(
        id=item_id, name=item_id, outline=outline, quantity=demand, rotations=rotations,
        source=str(path),
    )


def _read_shape(shape, path, item_id) -> Polygon:
    if not isinstance(shape, dict):
        raise PatternError(path, "missing 'shape' object", piece=item_id)
    kind, data = shape.get("type"), shape.get("data")
    if kind == "simple_polygon":
        shell, holes = _ring(data, path, item_id, "shape.data"), []
    elif kind == "polygon":
        if not isinstance(data, dict):
            raise PatternError(path, "shape.data must hold 'outer' and 'inner'", piece=item_id)
        shell = _ring(data.get("outer"), path, item_id, "shape.data.outer")
        inner = data.get("inner") or []
        if not isinstance(inner, list):
            raise PatternError(path, "shape.data.inner must be a list of rings", piece=item_id)
        holes = [_ring(r, path, item_id, "shape.data.inner") for r in inner]
    else:
        raise PatternError(path, f"unknown shape type {kind!r}", piece=item_id)
    polygon = Polygon(shell, holes)
    if not shapely.make_valid(polygon).area > 0:
        raise PatternError(path, "zero-area shape", piece=item_id)
    if not polygon.is_valid:
        raise PatternError(path, f"invalid outline: {shapely.is_valid_reason(polygon)}", piece=item_id)
    if sliver_reason(polygon):
        raise PatternError(path, sliver_reason(polygon), piece=item_id)
    return polygon


def _ring(points, path, item_id, what):
    if not isinstance(points, list) or len(points) < 3:
        raise PatternError(path, f"{what} must be a list of at least 3 [x, y] points", piece=item_id)
    if len(points) > MAX_VERTICES:
        raise PatternError(path, f"{what}: {len(points)} vertices, more than the {MAX_VERTICES} a piece may have",
                           piece=item_id)
    ring = []
    for point in points:
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise PatternError(path, f"{what}: a vertex is not an [x, y] pair", piece=item_id)
        ring.append((_finite_number(point[0], path, item_id, what), _finite_number(point[1], path, item_id, what)))
    return ring


def _shown(value) -> str:
    """A bad value for a message: cut short (an integer too long to print is described)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _finite_number(value, path, item_id, what) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or (isinstance(value, float) and not math.isfinite(value)):
        raise PatternError(path, f"{what}: {_shown(value)} is not a finite number", piece=item_id)
    if abs(value) > COORDINATE_LIMIT:
        raise PatternError(path, f"{what}: {_shown(value)} is beyond +/-{COORDINATE_LIMIT:g}, too far for the engine's "
                                 f"integer grid", piece=item_id)
    return float(value)


def _positive_number(value, path, item_id, what) -> float:
    number = _finite_number(value, path, item_id, what)
    if number <= 0:
        raise PatternError(path, f"{what} must be positive, got {_shown(value)}", piece=item_id)
    return number
