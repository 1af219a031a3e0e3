"""``marker.dxf``: the AAMA-style marker DXF, written by `patterns.marker_dxf` in cut order.

Pieces follow the cut order and every contour starts where the knife goes down, so a cutter
that takes the file as it comes cuts it the planned way. The style text names the pattern's
own style and a ``Sample Size`` the marker holds, which AAMA readers take for the base size.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from shapely.geometry import Polygon

from export import cutorder
from export.marks import mark_sizes
from export.options import ExportOptions
from export.placed import PlacedMarker
from nesting.atomic import atomic_path
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
        f"Style Name: {style_name(marker)}",
        *([f"Sample Size: {size}"] if (size := sample_size(marker)) else []),
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
                         text_height=mark_sizes(marker).text, guides=marker.guides())


def style_name(marker: PlacedMarker) -> str:
    """The pieces' own style names (several for a marker of several styles); the input's
    name only when no piece has one (a JSON instance, a generic DXF)."""
    styles = list(dict.fromkeys(p.style for p in marker.pieces if p.style))
    return ", ".join(styles) if styles else (Path(marker.input.split(",")[0].strip()).stem or "marker")


def sample_size(marker: PlacedMarker) -> str | None:
    """The pattern's sample size when the marker holds pieces of it, else the marker's first
    size: an AAMA reader looks the base size up among the file's sizes."""
    sizes = list(dict.fromkeys(p.size for p in marker.pieces if p.size is not None))
    named = [p.sample_size for p in marker.pieces if p.sample_size in sizes]
    return named[0] if named else (sizes[0] if sizes else None)
