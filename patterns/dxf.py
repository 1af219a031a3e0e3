"""DXF pattern files as pieces (first version: closed polylines, AAMA-style blocks).

One piece per closed LWPOLYLINE/POLYLINE contour; pieces drawn as BLOCKs inserted in model
space take their name, size and quantity from the block's AAMA texts and their grain from
layer 7. Everything is converted to mm.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import ezdxf
import shapely
from shapely import affinity
from shapely.geometry import LineString, Polygon

from patterns.errors import PatternError
from patterns.piece import Annotations, Piece

UNIT_SCALE = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "in": 25.4, "inch": 25.4}
INSUNITS_TO_MM = {1: 25.4, 4: 1.0, 5: 10.0, 6: 1000.0}
_TEXT_FIELD = re.compile(r"^\s*([A-Za-z ]+?)\s*:\s*(.*?)\s*$")


def read_dxf(path, units=None, **_ignored) -> tuple[list[Piece], dict]:
    """Read the pieces of a DXF file; returns ``(pieces, report)``."""
    path = Path(path)
    try:
        doc = ezdxf.readfile(path)
    except OSError as exc:
        raise PatternError(path, f"cannot read file: {exc.strerror or exc}") from None
    except ezdxf.DXFError as exc:
        raise PatternError(path, f"not a readable DXF file: {exc}") from None
    msp = doc.modelspace()
    style_texts = _fields(e.dxf.text for e in msp.query("TEXT"))
    scale = _unit_scale(path, units, style_texts.get("units"), doc.header.get("$INSUNITS", 0))
    pieces, report = [], {"units": "mm", "scale_to_mm": scale, "warnings": []}
    groups = [(ref.dxf.name, list(ref.virtual_entities())) for ref in msp.query("INSERT")]
    groups.append((None, list(msp)))
    for block, entities in groups:
        texts = _fields(e.dxf.text for e in entities if e.dxftype() == "TEXT")
        contours = [e for e in entities if e.dxftype() in ("LWPOLYLINE", "POLYLINE") and e.is_closed]
        grain = next((e for e in entities if e.dxftype() == "LINE" and e.dxf.layer == "7"), None)
        for k, contour in enumerate(contours):
            name = texts.get("piece name") or (block or f"PIECE{len(pieces) + 1}")
            if len(contours) > 1:
                name = f"{name}-{k + 1}"
            pieces.append(_piece(path, contour, grain, texts, name, block, scale))
    if not pieces:
        raise PatternError(path, "no closed contour found (no piece to nest)")
    return pieces, report


def _piece(path, contour, grain, texts, name, block, scale) -> Piece:
    points = [(float(x) * scale, float(y) * scale) for x, y, *_ in contour.get_points("xy")] if contour.dxftype() == "LWPOLYLINE" else [
        (float(v.dxf.location.x) * scale, float(v.dxf.location.y) * scale) for v in contour.vertices
    ]
    if any(not math.isfinite(c) for p in points for c in p):
        raise PatternError(path, "non-finite coordinate", piece=name)
    outline = Polygon(points)
    if outline.area <= 0:
        raise PatternError(path, "zero-area outline", piece=name)
    if not outline.is_valid:
        raise PatternError(path, f"self-intersecting outline ({shapely.is_valid_reason(outline)})", piece=name)
    annotations = Annotations()
    if grain is not None:
        start, end = grain.dxf.start, grain.dxf.end
        angle = math.degrees(math.atan2(end.y - start.y, end.x - start.x))
        outline = affinity.rotate(outline, -angle, origin=(0, 0))
        line = affinity.rotate(LineString([(start.x * scale, start.y * scale), (end.x * scale, end.y * scale)]), -angle, origin=(0, 0))
        annotations = Annotations(grain_line=tuple(line.coords))
    size = texts.get("size")
    quantity, mirrored = _quantity(texts.get("quantity", "1"), path, name)
    piece_id = f"{name}/{size}" if size else name
    return Piece(
        id=piece_id, name=name, outline=outline, quantity=quantity, mirrored_quantity=mirrored,
        size=size, category=texts.get("category"), fabric=texts.get("fabric"), source=str(path),
        block=block, grain_found=grain is not None, annotations=annotations,
    )


def _quantity(text, path, name) -> tuple[int, int]:
    parts = [p.strip() for p in text.split(",")]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise PatternError(path, f"unreadable quantity {text!r}", piece=name) from None
    if any(n < 0 for n in numbers) or len(numbers) > 2:
        raise PatternError(path, f"unreadable quantity {text!r}", piece=name)
    return numbers[0], (numbers[1] if len(numbers) == 2 else 0)


def _fields(texts) -> dict[str, str]:
    fields = {}
    for text in texts:
        match = _TEXT_FIELD.match(text)
        if match:
            fields.setdefault(match.group(1).strip().lower(), match.group(2))
    return fields


def _unit_scale(path, option, units_text, insunits) -> float:
    if option:
        if option.lower() not in UNIT_SCALE:
            raise PatternError(path, f"unknown units {option!r}; use one of {', '.join(UNIT_SCALE)}")
        return UNIT_SCALE[option.lower()]
    if units_text:
        if units_text.strip().upper() == "ENGLISH":
            return 25.4
        if units_text.strip().upper() == "METRIC":
            return 1.0
    if insunits in INSUNITS_TO_MM:
        return INSUNITS_TO_MM[insunits]
    raise PatternError(path, "the file does not say its units; pass --units mm|cm|in")
