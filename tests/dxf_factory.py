"""Small AAMA/ASTM pattern files built with ezdxf, with geometry known in advance."""

from __future__ import annotations

from dataclasses import dataclass, field

import ezdxf
from ezdxf.addons import gerber_D6673


@dataclass
class PieceSpec:
    """One piece block: boundary polylines (open ones are chained), texts and marks."""

    block: str
    boundary: list  # list of point lists; one closed ring, or open runs to chain
    closed: bool = True
    texts: dict = field(default_factory=dict)  # "Piece Name" -> "FRONT", ...
    grain: tuple | None = None
    mirror: tuple | None = None
    notches: list = field(default_factory=list)  # (x, y, z) POINTs on layer 4 (or notch_layer)
    notch_layer: str = "4"
    cutouts: list = field(default_factory=list)  # closed rings on layer 11
    curve_84: list | None = None  # a closed ring on layer 84
    internal: list = field(default_factory=list)  # open polylines on layer 8
    drills: list = field(default_factory=list)  # POINTs on layer 13
    insert: dict = field(default_factory=dict)  # INSERT attributes: insert, xscale, yscale, rotation
    insert_block: str | None = None  # insert another name than the block (a missing block)


def pattern_file(path, pieces, style=None, gerber=False, insunits=None):
    """Write an R12 AAMA-style DXF with one BLOCK + INSERT per piece; returns ``path``."""
    doc = ezdxf.new("R12")
    if insunits is not None:
        doc.header["$INSUNITS"] = insunits
    msp = doc.modelspace()
    for key, value in (style if style is not None else {"Style Name": "TEST", "Units": "METRIC"}).items():
        msp.add_text(f"{key}: {value}", dxfattribs={"layer": "1", "height": 2})
    for spec in pieces:
        block = doc.blocks.new(spec.block)
        for run in spec.boundary:
            block.add_polyline2d(run, close=spec.closed, dxfattribs={"layer": "1"})
        for ring in spec.cutouts:
            block.add_polyline2d(ring, close=True, dxfattribs={"layer": "11"})
        if spec.curve_84 is not None:
            block.add_polyline2d(spec.curve_84, close=True, dxfattribs={"layer": "84"})
        for line in spec.internal:
            block.add_polyline2d(line, dxfattribs={"layer": "8"})
        if spec.grain is not None:
            block.add_line(*spec.grain, dxfattribs={"layer": "7"})
        if spec.mirror is not None:
            block.add_line(*spec.mirror, dxfattribs={"layer": "6"})
        for point in spec.notches:
            block.add_point(point, dxfattribs={"layer": spec.notch_layer})
        for point in spec.drills:
            block.add_point(point, dxfattribs={"layer": "13"})
        for k, (key, value) in enumerate(spec.texts.items()):
            block.add_text(f"{key}: {value}", dxfattribs={"layer": "1", "height": 2, "insert": (0, -5 * k)})
        msp.add_blockref(spec.insert_block or spec.block, spec.insert.get("insert", (0, 0)), dxfattribs={
            "xscale": spec.insert.get("xscale", 1), "yscale": spec.insert.get("yscale", 1),
            "rotation": spec.insert.get("rotation", 0),
        })
    if gerber:
        gerber_D6673.export_file(doc, path)
    else:
        doc.saveas(path)
    return path


def rectangle(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
