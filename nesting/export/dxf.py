"""``marker.dxf``: the AAMA-style marker DXF, written by `patterns.marker_dxf` in cut order.

Pieces follow the cut order and every contour starts where the knife goes down, so a cutter
that takes the file as it comes cuts it the planned way.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from shapely.geometry import Polygon

from nesting.atomic import atomic_path
from nesting.export import cutorder
from nesting.export.marks import mark_sizes
from nesting.export.options import ExportOptions
from nesting.export.placed import PlacedMarker
from patterns.marker_dxf import write_marker_dxf


def write_dxf(marker: PlacedMarker, path, options: ExportOptions = ExportOptions()) -> None:
    plan = cutorder.plan(marker)
    rings: dict[int, list] = {}
    for cut in plan.paths:
        rings.setdefault(cut.piece, []).append(cut.points[:-1])
    pieces = [
        replace(marker.pieces[index], polygon=Polygon(rings[index][-1], rings[index][:-1]))
        for index in plan.piece_order()
    ]
    texts = [
        f"Style Name: {Path(marker.input).stem or 'marker'}",
        "Author: marker-nesting",
        f"Utilization: {marker.utilization * 100:.2f} %",
        f"Target Utilization: {marker.target_utilization * 100:.0f} %",
        f"Cut Length: {plan.cut_length:.1f}",
        f"Pen-up Travel: {plan.travel_length:.1f}",
    ]
    if marker.units_note:
        texts.append(f"Note: {marker.units_note}")
    with atomic_path(path) as tmp:
        write_marker_dxf(tmp, pieces, marker.width, marker.length, texts, exploded=options.dxf_exploded,
                         text_height=mark_sizes(marker).text)
