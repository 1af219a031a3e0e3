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
from nesting.errors import MarkerFileError
from nesting.model import Marker
from nesting.report import summary_fields

SCHEMA = "marker/1"


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
    document["report"] = summary_fields(marker)
    document["stats"] = {k: v for k, v in marker.stats.items() if isinstance(v, int | float | str | bool)}
    return document


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


def load(path) -> MarkerFile:
    """Read a marker/1 file; raises `MarkerFileError` naming the file and the field on bad content."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MarkerFileError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MarkerFileError(f"{path}: not a JSON marker file: {exc}") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise MarkerFileError(f"{path}: not a {SCHEMA} marker file (schema field missing or different)")
    for key in ("width", "length", "utilization", "pieces"):
        if key not in document:
            raise MarkerFileError(f"{path}: field {key!r} is missing")
    polygons = []
    for index, entry in enumerate(document["pieces"]):
        try:
            polygons.append(Polygon(entry["polygon"], entry.get("holes") or []))
        except (KeyError, TypeError, ValueError) as exc:
            raise MarkerFileError(f"{path}: piece #{index}: unreadable polygon ({exc})") from None
    return MarkerFile(str(path), document, tuple(polygons))
