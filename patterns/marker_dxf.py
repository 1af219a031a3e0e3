"""The marker as an AAMA/ASTM D6673-style DXF, the file garment CAD systems and auto-cutters read.

R12, mm, numbered AAMA layers. One BLOCK per placed piece holds its geometry already moved
into place and is inserted at (0, 0), scale 1, rotation 0: how Gerber AccuMark writes its
own files, so every reader copes. The cut line is one closed POLYLINE on layer 1, inner
cut-outs on 11, a half piece's mirror line (cut on the fold) on 6, the grain line on 7, notches (POINTs, depth in z) on 4 or their typed layer
(80-87), internal lines on 8, drill holes on 13, sew lines on 14, and the piece text on
layer 1 the AAMA way. The marker rectangle lies on its own layer in model space. The
``exploded`` variant puts everything in model space for viewers and laser/router software.

ezdxf always writes the two layout blocks (``$Model_Space``, ``$Paper_Space``) into an R12
file; AAMA readers take every block for a piece and fail on those empty ones, so the file
ezdxf writes is filtered tag by tag with ezdxf's own tag reader and writer: the layout blocks
go, and the units (``$INSUNITS`` = mm, ``$MEASUREMENT`` = metric, which ezdxf leaves out of
R12 headers) go in, for generic readers that do not read the AAMA ``Units:`` text.

This module takes plain data (placed outlines and marks already in marker coordinates), so
`patterns` still never imports the engine.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

import ezdxf
from ezdxf.bbox import extents
from ezdxf.lldxf.tagger import ascii_tags_loader
from ezdxf.lldxf.tagwriter import TagWriter
from ezdxf.lldxf.types import DXFTag
from shapely.geometry import Polygon
from shapely.ops import polylabel

from patterns.piece import Annotations

LAYER_CUT, LAYER_NOTCH, LAYER_MIRROR, LAYER_GRAIN, LAYER_INTERNAL = "1", "4", "6", "7", "8"
LAYER_CUTOUT, LAYER_DRILL, LAYER_SEW, LAYER_ANNOTATION = "11", "13", "14", "15"
MARKER_LAYER = "MARKER"
_BLOCK_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]+")
_CONTROL = re.compile(r"[\x00-\x1f]+")
_LAYOUT_BLOCKS = {"$MODEL_SPACE", "$PAPER_SPACE"}
_UNITS_HEADER = (("$INSUNITS", 4), ("$MEASUREMENT", 1))  # millimetres, metric


class PlacedOutline(Protocol):
    """One placed piece, as the writer needs it (marker coordinates, mm)."""

    name: str
    size: str | None
    copy: int
    mirrored: bool
    fabric: str | None
    polygon: Polygon
    annotations: Annotations
    folded: bool  # a half piece cut on the fold: its mirror line goes on layer 6


def write_marker_dxf(
    path,
    pieces: Sequence[PlacedOutline],
    width: float,
    length: float,
    style_texts: Iterable[str] = (),
    exploded: bool = False,
    text_height: float = 5.0,
    guides: dict[str, Sequence] | None = None,
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
    guides : model-space lines of the fabric by layer name (fold edges, shade section
        boundaries, the stripe repeat), each a ``((x0, y0), (x1, y1))`` segment.
    """
    doc = _new_r12()
    guides = guides or {}
    for name in (LAYER_CUT, LAYER_NOTCH, LAYER_GRAIN, LAYER_INTERNAL, LAYER_CUTOUT, LAYER_DRILL, LAYER_SEW,
                 LAYER_ANNOTATION, MARKER_LAYER, *{str(n.kind) for p in pieces for n in p.annotations.notches},
                 *([LAYER_MIRROR] if any(p.folded for p in pieces) else []), *guides):
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
    for layer, segments in guides.items():
        for start, end in segments:
            msp.add_line(start, end, dxfattribs={"layer": layer})
    texts = ["Units: METRIC", f"Marker Width: {width:.3f}", f"Marker Length: {length:.3f}", *style_texts]
    for k, text in enumerate(texts):  # in a margin above the marker, inside the extents
        msp.add_text(_one_line(text), height=text_height, dxfattribs={"layer": LAYER_CUT, "insert": (0.0, width + (k + 1) * 1.6 * text_height)})
    save_aama_r12(doc, path)


def save_aama_r12(doc, path) -> None:
    """Write an R12 drawing in mm as AAMA readers take it: no layout blocks, real extents
    in ``$EXTMIN``/``$EXTMAX``, and the units in ``$INSUNITS``/``$MEASUREMENT``."""
    box = extents(doc.modelspace(), fast=True)
    header = {  # ezdxf writes $EXTMIN/$EXTMAX as "unset" when the extents start at (0, 0)
        "$EXTMIN": ((10, box.extmin.x), (20, box.extmin.y), (30, 0.0)),
        "$EXTMAX": ((10, box.extmax.x), (20, box.extmax.y), (30, 0.0)),
        **{name: ((70, value),) for name, value in _UNITS_HEADER},
    }
    written = io.StringIO()
    with _logger_level(logging.getLogger("ezdxf"), logging.ERROR):  # "no $INSUNITS in R12": added below
        doc.write(written)
    cleaned = io.StringIO()
    writer = TagWriter(cleaned)
    for tag in _aama_tags(ascii_tags_loader(io.StringIO(written.getvalue())), header):
        writer.write_tag(tag)
    with open(path, "wb") as stream:
        stream.write(doc.encode(cleaned.getvalue()))


def _aama_tags(tags: Iterator[DXFTag], header: dict[str, tuple]) -> Iterator[DXFTag]:
    """The tags of ezdxf's R12 file without the layout blocks, with ``header``'s variables
    (name -> group code/value pairs) set or added."""
    dropping = False
    for chunk in _chunks(tags):
        head = chunk[0].value
        if head == "BLOCK":
            dropping = any(t.code == 2 and str(t.value).upper() in _LAYOUT_BLOCKS for t in chunk)
        if not dropping:
            is_header = head == "SECTION" and len(chunk) > 1 and (chunk[1].code, chunk[1].value) == (2, "HEADER")
            yield from _with_header(chunk, header) if is_header else chunk
        if head == "ENDBLK":
            dropping = False


def _with_header(section: list[DXFTag], header: dict[str, tuple]) -> Iterator[DXFTag]:
    """The HEADER section with each variable of ``header`` replaced, or added at its end."""
    left, replacing = dict(header), False
    for tag in section:
        if tag.code == 9:
            replacing = tag.value in left
            yield tag
            if replacing:
                yield from (DXFTag(code, str(value)) for code, value in left.pop(tag.value))
        elif not replacing:
            yield tag
    for name, values in left.items():
        yield DXFTag(9, name)
        yield from (DXFTag(code, str(value)) for code, value in values)


def _chunks(tags: Iterator[DXFTag]) -> Iterator[list[DXFTag]]:
    """The tags cut before every group code 0 (an entity, a section mark, the header)."""
    chunk: list[DXFTag] = []
    for tag in tags:
        if tag.code == 0 and chunk:
            yield chunk
            chunk = []
        chunk.append(tag)
    if chunk:
        yield chunk


def _new_r12():
    """An R12 drawing; the units ezdxf leaves out of R12 headers are added by `_aama_tags`."""
    logger = logging.getLogger("ezdxf")
    with _logger_level(logger, logging.ERROR):
        doc = ezdxf.new("R12", units=0)
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
    if piece.folded and marks.mirror_line and len(marks.mirror_line) >= 2:
        layout.add_line(marks.mirror_line[0], marks.mirror_line[-1], dxfattribs={"layer": LAYER_MIRROR})
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
    """``Piece Name``/``Size``/``Quantity`` as AAMA readers expect; the copy goes in ``Annotation``.

    The lines are stacked about the piece's pole of inaccessibility, made smaller when needed
    so that every line starts inside the circle there that the piece contains."""
    copy = f"copy {piece.copy + 1}" + (" mirrored" if piece.mirrored else "")
    lines = [f"Piece Name: {piece.name}"]
    if piece.size is not None:
        lines.append(f"Size: {piece.size}")
    if piece.fabric is not None:
        lines.append(f"Fabric: {piece.fabric}")
    lines += ["Quantity: 1", f"Annotation: {copy}"]
    layers = [LAYER_CUT] * len(lines) + [LAYER_ANNOTATION] * len(piece.annotations.texts)
    lines += list(piece.annotations.texts)
    extent = math.dist(piece.polygon.bounds[:2], piece.polygon.bounds[2:])
    centre = polylabel(piece.polygon, tolerance=extent / 200.0)
    room = piece.polygon.boundary.distance(centre)
    height = min(height, 0.9 * room / (0.8 * (len(lines) - 1))) if len(lines) > 1 else height
    top = centre.y + (len(lines) - 1) * 0.8 * height
    for k, (text, layer) in enumerate(zip(lines, layers)):
        layout.add_text(_one_line(text), height=height, dxfattribs={"layer": layer, "insert": (centre.x, top - k * 1.6 * height)})


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text)
