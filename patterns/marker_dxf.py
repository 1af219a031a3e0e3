"""The marker as an AAMA/ASTM D6673-style DXF, the file garment CAD systems and auto-cutters read.

R12, mm, numbered AAMA layers. One BLOCK per placed piece holds its geometry already moved
into place and is inserted at (0, 0), scale 1, rotation 0: how Gerber AccuMark writes its
own files, so every reader copes. The cut line is one closed POLYLINE on layer 1, inner
cut-outs on 11, the grain line on 7, notches (POINTs, depth in z) on 4 or their typed layer
(80-87), internal lines on 8, drill holes on 13, sew lines on 14, and the piece text on
layer 1 the AAMA way. The marker rectangle lies on its own layer in model space. The
``exploded`` variant puts everything in model space for viewers and laser/router software.

This module takes plain data (placed outlines and marks already in marker coordinates), so
`patterns` still never imports the engine.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

import ezdxf
from shapely.geometry import Polygon
from shapely.ops import polylabel

from patterns.piece import Annotations

LAYER_CUT, LAYER_NOTCH, LAYER_GRAIN, LAYER_INTERNAL = "1", "4", "7", "8"
LAYER_CUTOUT, LAYER_DRILL, LAYER_SEW, LAYER_ANNOTATION = "11", "13", "14", "15"
MARKER_LAYER = "MARKER"
_BLOCK_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]+")
_CONTROL = re.compile(r"[\x00-\x1f]+")


class PlacedOutline(Protocol):
    """One placed piece, as the writer needs it (marker coordinates, mm)."""

    name: str
    size: str | None
    copy: int
    mirrored: bool
    fabric: str | None
    polygon: Polygon
    annotations: Annotations


def write_marker_dxf(
    path,
    pieces: Sequence[PlacedOutline],
    width: float,
    length: float,
    style_texts: Iterable[str] = (),
    exploded: bool = False,
    text_height: float = 5.0,
) -> None:
    """Write the marker DXF to ``path`` (the caller makes the write atomic).

    Parameters
    ----------
    pieces : placed pieces in cut order; each ring is written from its first vertex, which is
        where the cut starts.
    width, length : the marker rectangle (y across the fabric, x along the marker), mm.
    style_texts : extra ``Key: value`` lines for the model-space style text (utilization...).
    exploded : everything in model space instead of one block per piece.
    text_height : height of the piece text, mm.
    """
    doc = _new_r12()
    for name in (LAYER_CUT, LAYER_NOTCH, LAYER_GRAIN, LAYER_INTERNAL, LAYER_CUTOUT, LAYER_DRILL, LAYER_SEW,
                 LAYER_ANNOTATION, MARKER_LAYER, *{str(n.kind) for p in pieces for n in p.annotations.notches}):
        if name not in doc.layers:
            doc.layers.add(name)
    msp = doc.modelspace()
    for index, piece in enumerate(pieces):
        if exploded:
            _draw_piece(msp, piece, text_height)
        else:
            block = doc.blocks.new(_block_name(piece, index, doc))
            _draw_piece(block, piece, text_height)
            msp.add_blockref(block.name, (0, 0))
    corners = [(0.0, 0.0), (length, 0.0), (length, width), (0.0, width), (0.0, 0.0)]
    for start, end in zip(corners, corners[1:]):
        msp.add_line(start, end, dxfattribs={"layer": MARKER_LAYER})
    texts = ["Units: METRIC", f"Marker Width: {width:.3f}", f"Marker Length: {length:.3f}", *style_texts]
    for k, text in enumerate(texts):
        msp.add_text(_one_line(text), height=text_height, dxfattribs={"layer": LAYER_CUT, "insert": (0.0, width + (k + 1) * 1.6 * text_height)})
    doc.saveas(path)


def _new_r12():
    """An R12 drawing; ezdxf's note that R12 has no $INSUNITS is moot: units are in the text."""
    logger = logging.getLogger("ezdxf")
    with _logger_level(logger, logging.ERROR):
        doc = ezdxf.new("R12", units=0)
    doc.header["$MEASUREMENT"] = 1  # metric
    return doc


@contextlib.contextmanager
def _logger_level(logger, level):
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _block_name(piece, index, doc) -> str:
    parts = [piece.name, piece.size, str(piece.copy + 1)]
    name = _BLOCK_NAME_UNSAFE.sub("_", "_".join(p for p in parts if p)).strip("_") or "PIECE"
    return name if name not in doc.blocks else f"{name}_{index + 1}"


def _draw_piece(layout, piece, text_height) -> None:
    polygon, marks = piece.polygon, piece.annotations
    layout.add_polyline2d(polygon.exterior.coords[:-1], close=True, dxfattribs={"layer": LAYER_CUT})
    for ring in polygon.interiors:
        layout.add_polyline2d(ring.coords[:-1], close=True, dxfattribs={"layer": LAYER_CUTOUT})
    if marks.grain_line and len(marks.grain_line) >= 2:
        layout.add_line(marks.grain_line[0], marks.grain_line[-1], dxfattribs={"layer": LAYER_GRAIN})
    for notch in marks.notches:
        layout.add_point((notch.x, notch.y, abs(notch.depth)), dxfattribs={"layer": str(notch.kind)})
    for layer, lines in ((LAYER_INTERNAL, marks.internal_lines), (LAYER_SEW, marks.sew_lines)):
        for line in lines:
            layout.add_polyline2d(line, dxfattribs={"layer": layer})
    for x, y in marks.drill_holes:
        layout.add_point((x, y), dxfattribs={"layer": LAYER_DRILL})
    _piece_text(layout, piece, text_height)


def _piece_text(layout, piece, height) -> None:
    """``Piece Name``/``Size``/``Quantity`` as AAMA readers expect; the copy goes in ``Annotation``."""
    copy = f"copy {piece.copy + 1}" + (" mirrored" if piece.mirrored else "")
    lines = [f"Piece Name: {piece.name}"]
    if piece.size is not None:
        lines.append(f"Size: {piece.size}")
    if piece.fabric is not None:
        lines.append(f"Fabric: {piece.fabric}")
    lines += ["Quantity: 1", f"Annotation: {copy}"]
    extent = math.dist(piece.polygon.bounds[:2], piece.polygon.bounds[2:])
    centre = polylabel(piece.polygon, tolerance=extent / 200.0)
    top = centre.y + (len(lines) - 1) * 0.8 * height
    for k, text in enumerate(lines):
        layout.add_text(_one_line(text), height=height, dxfattribs={"layer": LAYER_CUT, "insert": (centre.x, top - k * 1.6 * height)})
    for k, text in enumerate(piece.annotations.texts):
        layout.add_text(_one_line(text), height=height, dxfattribs={"layer": LAYER_ANNOTATION,
                                                          "insert": (centre.x, top - (len(lines) + k) * 1.6 * height)})


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text)
