"""Writers of a verified marker: one module per format, each writing atomically.

``write(marker, out_dir, formats)`` is the only entry point the CLI and batch use; it takes a
live `Marker` or a `PlacedMarker` (what `export_file` builds from a marker/1 file), so a
marker re-exported from disk gives the same files as the run that nested it.
"""

from __future__ import annotations

import json
from pathlib import Path

from export.cutorder import plan
from export.options import ExportOptions
from export.placed import PlacedMarker, from_file, from_marker
from nesting.atomic import write_text
from nesting.errors import SpecError

DEFAULT_FORMATS = ("json", "png", "dxf", "plt")
MAX_EXPORT_PIECES = 10_000  # as many as `nest marker` nests; every writer is about linear in the pieces
# Seconds each writer takes: (fixed, per piece, per outline vertex). Measured writing shirts
# (99 pieces of 7 vertices), shirts x 10 and 32 pieces of 2,000 vertices on 2 cores under load
# (load average 12): an upper estimate for `write_seconds`.
WRITE_SECONDS = {
    "json": (0.01, 0.00005, 0.000008), "png": (0.4, 0.001, 0.000022), "dxf": (0.05, 0.0025, 0.000145),
    "plt": (0.02, 0.0004, 0.000017), "svg": (0.02, 0.0003, 0.00001), "pdf": (0.3, 0.0012, 0.00002),
}


def write_seconds(formats, pieces: int, vertices: int) -> float:
    """About how long writing ``formats`` of a marker takes: what a wall budget keeps for it."""
    return sum(fixed + pieces * per_piece + vertices * per_vertex
               for fixed, per_piece, per_vertex in (WRITE_SECONDS[f] for f in formats))


def _write_json(marker, path, options) -> None:
    write_text(path, json.dumps(marker.document, indent=1) + "\n")


def _writers():
    from export import (  # deferred: matplotlib and ezdxf are slow imports, and the CLI reads the format names
        dxf,
        hpgl,
        plot,
        svg,
    )

    return {
        "json": ("marker.json", _write_json),
        "png": ("marker.png", plot.write_png),
        "dxf": ("marker.dxf", dxf.write_dxf),
        "plt": ("marker.plt", hpgl.write_plt),
        "svg": ("marker.svg", svg.write_svg),
        "pdf": ("marker.pdf", plot.write_pdf),
    }


def available_formats() -> tuple[str, ...]:
    return tuple(_writers())


def parse_formats(text: str) -> tuple[str, ...]:
    """``"json,png"`` -> ("json", "png"), rejecting unknown names (a user error)."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in _writers()]
    if unknown or not names:
        raise SpecError(f"--formats: unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(_writers())}")
    return names


def view_of(marker):
    """The export view of a live `Marker` (a `PlacedMarker` passes through)."""
    return marker if isinstance(marker, PlacedMarker) else from_marker(marker)


def check(view, formats, options: ExportOptions) -> None:
    """Refuse, before anything is written, what the writers cannot do in bounded time."""
    if len(view.pieces) > MAX_EXPORT_PIECES:
        raise SpecError(f"{view.input or 'marker'}: {len(view.pieces)} pieces, more than the {MAX_EXPORT_PIECES} "
                        f"the cut files and drawings are written for; split the marker")
    if "pdf" in formats:
        from export.plot import pdf_pages_mm  # deferred: matplotlib is a slow import

        pdf_pages_mm(view, options)


def write(marker, out_dir, formats=DEFAULT_FORMATS, options: ExportOptions = ExportOptions()) -> list[Path]:
    """Write the marker in each format into ``out_dir``; returns the paths written."""
    view = view_of(marker)
    check(view, formats, options)
    out_dir = Path(out_dir)
    written = []
    for name in formats:
        filename, writer = _writers()[name]
        writer(view, out_dir / filename, options)
        written.append(out_dir / filename)
    return written


def export_file(marker_path, out_dir, formats=DEFAULT_FORMATS, options: ExportOptions = ExportOptions()) -> tuple[object, list[Path]]:
    """``nest export``: re-verify a marker/1 file and write it again in ``formats``, without nesting.

    Returns the export view (for its summary) and the paths written. Raises `MarkerFileError`
    when the file is unreadable or fails verification; nothing is written then.
    """
    view = from_file(marker_path)
    return view, write(view, out_dir, formats, options)


def cut_summary(marker) -> str:
    """One line: contours, cut length and pen-up travel of the cut order from the marker origin."""
    view = view_of(marker)
    return plan(view).summary(view.units)
