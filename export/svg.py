"""``marker.svg``: the marker for people and for web viewers, with exact coordinates.

Path data hold the marker's own coordinates in mm, unrounded; a single transform on the
outer group turns y up (the marker's frame) into SVG's y down. Each piece is one ``<g>``
whose ``data-*`` attributes say which piece and copy it is and how it was turned.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from export import cutorder
from export.marks import mark_sizes, piece_marks, safe_text
from export.options import ExportOptions
from export.placed import PlacedMarker
from nesting.atomic import atomic_path

SVG_NS = "http://www.w3.org/2000/svg"
_STYLE = """
.fabric { fill: #fbfaf5; stroke: #000; stroke-width: 0.8 }
.cut { fill: #9ecae1; fill-opacity: 0.75; fill-rule: evenodd; stroke: #08306b; stroke-width: 0.5 }
.grain { fill: none; stroke: #a50f15; stroke-width: 0.4 }
.notch, .drill { fill: none; stroke: #000; stroke-width: 0.4 }
.internal { fill: none; stroke: #54278f; stroke-width: 0.3; stroke-dasharray: 3 2 }
.sew { fill: none; stroke: #006d2c; stroke-width: 0.3; stroke-dasharray: 1 1 }
.label { font-family: sans-serif; text-anchor: middle; dominant-baseline: middle }
.repeat { stroke: #6baed6; stroke-width: 0.2; stroke-opacity: 0.5 }
.fold { stroke: #08519c; stroke-width: 1.5; stroke-dasharray: 8 2 1 2 }
.section { stroke: #54278f; stroke-width: 1; stroke-dasharray: 6 3 }
"""


def number(value: float) -> str:
    """Shortest text that reads back as the same float."""
    return repr(float(value))


def svg_tree(marker: PlacedMarker) -> ET.ElementTree:
    plan = cutorder.plan(marker)
    order = {piece: k for k, piece in enumerate(plan.piece_order())}
    sizes = mark_sizes(marker)
    length, width = marker.length, marker.width
    root = ET.Element("svg", {
        "xmlns": SVG_NS, "version": "1.1",
        "width": f"{number(length)}mm", "height": f"{number(width)}mm",
        "viewBox": f"0 0 {number(length)} {number(width)}",
        "data-units": marker.units, "data-length": number(length), "data-width": number(width),
        "data-utilization": number(marker.utilization),
    })
    ET.SubElement(root, "title").text = safe_text(f"{marker.input or 'marker'}: marker {length:.1f} x {width:g}")
    description = (f"length {length:.3f}, width {width:g}, utilization {marker.utilization * 100:.2f} % "
                   f"(target {marker.target_utilization * 100:.0f} %), {len(marker.pieces)} pieces; "
                   f"{plan.summary(marker.units)}; coordinates in mm, y up")
    if marker.units_note:
        description += f"; {marker.units_note}"
    description = safe_text(description).replace("--", "- -")  # "--" may not appear in a comment
    root.append(ET.Comment(f" {description} "))
    ET.SubElement(root, "desc").text = description
    ET.SubElement(root, "style").text = _STYLE
    frame = ET.SubElement(root, "g", {"id": "marker", "transform": f"matrix(1 0 0 -1 0 {number(width)})"})
    ET.SubElement(frame, "rect", {"class": "fabric", "x": "0", "y": "0", "width": number(length), "height": number(width)})
    guides = marker.guides()
    for layer in ("REPEAT", "FOLD", "SECTION"):  # the fabric's lines under the pieces, the repeat lightest
        for (x0, y0), (x1, y1) in guides.get(layer, []):
            ET.SubElement(frame, "line", {"class": layer.lower(), "x1": number(x0), "y1": number(y0),
                                          "x2": number(x1), "y2": number(y1)})
    for index, piece in enumerate(marker.pieces):
        group = ET.SubElement(frame, "g", {
            "class": "piece", "id": f"piece-{index}", "data-id": safe_text(piece.id), "data-name": safe_text(piece.name),
            "data-size": safe_text(piece.size or ""), "data-copy": str(piece.copy), "data-rotation": number(piece.rotation),
            "data-mirrored": "true" if piece.mirrored else "false", "data-cut-order": str(order[index]),
        })
        rings = [piece.polygon.exterior, *piece.polygon.interiors]
        ET.SubElement(group, "path", {"class": "cut", "d": " ".join(_ring_data(ring.coords[:-1]) for ring in rings)})
        marks = piece_marks(piece, sizes)
        for kind, lines in (("grain", marks.grain), ("notch", marks.notches), ("internal", marks.internal),
                            ("sew", marks.sew), ("drill", marks.drill)):
            for line in lines:
                ET.SubElement(group, "polyline", {"class": kind, "points": " ".join(f"{number(x)},{number(y)}" for x, y in line)})
        if marks.label_height > 0:
            x, y = marks.label_at
            label = ET.SubElement(group, "text", {
                "class": "label", "font-size": number(marks.label_height),
                "transform": f"translate({number(x)} {number(y)}) scale(1 -1) rotate({number(-marks.label_angle)})",
            })
            label.text = safe_text(piece.label)
    ET.indent(root, space=" ")
    return ET.ElementTree(root)


def write_svg(marker: PlacedMarker, path, options: ExportOptions = ExportOptions()) -> None:
    tree = svg_tree(marker)
    with atomic_path(path) as tmp:
        tree.write(tmp, encoding="utf-8", xml_declaration=True)


def _ring_data(points) -> str:
    head, *rest = points
    return f"M {number(head[0])} {number(head[1])} " + " ".join(f"L {number(x)} {number(y)}" for x, y in rest) + " Z"
