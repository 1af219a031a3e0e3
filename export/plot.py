"""Drawings of a marker with matplotlib: ``marker.png`` and ``marker.pdf``.

Both show the fabric, each piece filled and labelled with its grain arrow and marks, the
length, the utilization against the target (and where the marker would have to end to meet
it), and a scale bar. The PDF is either scaled to one page or tiled at 1:1 over as many
pages as the marker needs, for printing on a plotter roll or office paper and taping up.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # files only: no display needed on cutting-room servers or CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.patches import PathPatch, Rectangle  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from export.marks import mark_sizes, piece_marks, safe_text  # noqa: E402
from export.options import MAX_TILED_PAGES, ExportOptions  # noqa: E402
from export.placed import PlacedMarker  # noqa: E402
from nesting.atomic import atomic_path  # noqa: E402
from nesting.errors import SpecError  # noqa: E402

MM_PER_INCH = 25.4
POINTS_PER_MM = 72.0 / MM_PER_INCH
MAX_PAGE_MM = 5000.0  # PDF viewers refuse pages longer than 200 inches
MAX_LABELS = 400  # beyond this many pieces labels only clutter the drawing


def _polygon_path(polygon):
    vertices, codes = [], []
    for ring in [polygon.exterior, *polygon.interiors]:
        coords = list(ring.coords)
        vertices += coords
        codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(coords) - 2) + [MplPath.CLOSEPOLY]
    return MplPath(vertices, codes)


def _draw_marker(ax, marker: PlacedMarker, font_points: float, window=None) -> None:
    """Fabric, zones, pieces and their marks, in marker coordinates; only the pieces that
    reach into ``window`` ((x0, y0, x1, y1)) when one is given (a tile of the 1:1 print).

    Every text is plain (``parse_math=False``): a ``$`` in a piece name is no formula."""
    ax.add_patch(Rectangle((0, 0), marker.length, marker.width, fill=False, edgecolor="black", linewidth=1.2))
    for zone in marker.zones:
        ax.add_patch(PathPatch(_polygon_path(zone), facecolor="#dddddd", edgecolor="#888888", hatch="//"))
    cmap = plt.get_cmap("tab20")
    colours = {piece_id: k for k, piece_id in enumerate(dict.fromkeys(p.id for p in marker.pieces))}
    sizes = mark_sizes(marker)
    labels = len(marker.pieces) <= MAX_LABELS
    grain, other = [], []
    for piece in marker.pieces:
        if window is not None and not _overlaps(piece.polygon.bounds, window):
            continue
        ax.add_patch(PathPatch(_polygon_path(piece.polygon), facecolor=cmap(colours[piece.id] % 20),
                               edgecolor="#333333", linewidth=0.5, alpha=0.85))
        marks = piece_marks(piece, sizes)
        grain += marks.grain
        other += marks.notches + marks.internal + marks.sew + marks.drill
        if labels and marks.label_height > 0:
            ax.text(*marks.label_at, safe_text(piece.label), rotation=marks.label_angle, rotation_mode="anchor",
                    ha="center", va="center", fontsize=font_points * marks.label_height / sizes.text,
                    parse_math=False)
    ax.add_collection(LineCollection(grain, colors="#a50f15", linewidths=0.6))
    ax.add_collection(LineCollection(other, colors="black", linewidths=0.4))
    guides = marker.guides()
    ax.add_collection(LineCollection(guides.get("REPEAT", []), colors="#6baed6", linewidths=0.3, alpha=0.5, zorder=0))
    ax.add_collection(LineCollection(guides.get("FOLD", []), colors="#08519c", linewidths=2.0, linestyles="dashdot"))
    ax.add_collection(LineCollection(guides.get("SECTION", []), colors="#54278f", linewidths=1.2, linestyles="dashed"))
    for k, ((x, _), _) in enumerate(guides.get("SECTION", [])):
        ax.text(x, marker.width, f" section {k + 2} ", ha="left", va="bottom", fontsize=font_points, color="#54278f",
                parse_math=False)


def _scale_bar(ax, marker: PlacedMarker, x: float, y: float, span: float, font_points: float) -> None:
    """A bar of a round length, so a printout can be checked with a ruler."""
    unit = "mm" if marker.units == "mm" else "units"
    ax.plot([x, x + span], [y, y], color="black", linewidth=2, solid_capstyle="butt")
    ax.text(x + span / 2, y, f"{span:g} {unit}", ha="center", va="bottom", fontsize=font_points, parse_math=False)


def round_span(limit: float) -> float:
    """The largest 1, 2 or 5 x 10^k not above ``limit``."""
    power = 10 ** math.floor(math.log10(limit))
    return max(m * power for m in (1, 2, 5) if m * power <= limit)


def _headline(marker: PlacedMarker) -> str:
    units = "" if marker.units == "instance" else f" {marker.units}"
    utilization, target = marker.utilization * 100, marker.target_utilization * 100
    status = "meets it" if marker.meets_target else f"{target - utilization:.2f} points below"
    line = (f"{marker.input or 'marker'}: length {marker.length:.2f}{units}, width {marker.width:g}{units}, "
            f"utilization {utilization:.2f} % (target {target:.0f} %: {status})")
    return safe_text(line + (f"; {marker.units_note}" if marker.units_note else ""))


def _target_line(ax, marker: PlacedMarker) -> None:
    target = marker.target_utilization * 100
    ax.axvline(marker.placed_area / (marker.target_utilization * marker.width), color="red", linestyle="--",
               linewidth=0.8, label=f"length at the {target:.0f} % target")
    ax.legend(loc="upper right", fontsize=7)


def figure(marker: PlacedMarker, size_in: tuple[float, float] | None = None):
    """The whole marker on one figure (length along x), ``size_in`` inches or a 16-inch-wide default."""
    width, length = marker.width, max(marker.length, 1e-9)
    if size_in is None:
        size_in = (16.0, max(2.5, min(12.0, 16.0 * width / length + 1.2)))
    fig, ax = plt.subplots(figsize=size_in)
    _draw_marker(ax, marker, font_points=6)
    _target_line(ax, marker)
    _scale_bar(ax, marker, 0.0, -0.06 * width, round_span(length / 3), font_points=7)
    ax.set_title(_headline(marker), fontsize=9, parse_math=False)
    ax.set_xlim(-0.01 * length, length * 1.01)
    ax.set_ylim(-0.09 * width, width * 1.02)
    ax.set_aspect("equal")
    units = "" if marker.units == "instance" else f" ({marker.units})"
    ax.set_xlabel(f"length{units}", parse_math=False)
    ax.set_ylabel(f"width{units}", parse_math=False)
    fig.tight_layout()
    return fig


def write_png(marker: PlacedMarker, path, options: ExportOptions = ExportOptions(), dpi: int = 120) -> None:
    fig = figure(marker)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi)
    finally:
        plt.close(fig)


def pdf_pages_mm(marker: PlacedMarker, options: ExportOptions) -> tuple[float, float, int, int]:
    """(page along, page across, pages along, pages across) of the PDF, pages in mm landscape."""
    along, across = options.pdf_page_mm()
    if along is None:  # a roll: the page runs as long as the marker needs, up to what viewers open
        along = marker.length if options.pdf_tiled else across * max(1.0, marker.length / marker.width)
        along = min(MAX_PAGE_MM, along)
    if not options.pdf_tiled:
        return along, across, 1, 1
    columns, rows = max(1, math.ceil(marker.length / along)), max(1, math.ceil(marker.width / across))
    if columns * rows > MAX_TILED_PAGES:
        raise SpecError(f"--pdf-tiled: the marker needs {columns * rows} pages of {options.pdf_page} at 1:1, more than "
                        f"{MAX_TILED_PAGES}; print it on a roll (--pdf-page rollNNN) or scaled to one page")
    return along, across, columns, rows


def _overlaps(bounds, window) -> bool:
    return bounds[0] <= window[2] and bounds[2] >= window[0] and bounds[1] <= window[3] and bounds[3] >= window[1]


def write_pdf(marker: PlacedMarker, path, options: ExportOptions = ExportOptions()) -> None:
    along, across, columns, rows = pdf_pages_mm(marker, options)
    size_in = (along / MM_PER_INCH, across / MM_PER_INCH)
    with atomic_path(path) as tmp, PdfPages(tmp) as pdf:
        if not options.pdf_tiled:
            fig = figure(marker, size_in)
            try:
                pdf.savefig(fig)
            finally:
                plt.close(fig)
            return
        for row in range(rows):
            for column in range(columns):
                fig = _tile(marker, size_in, along * column, across * row, along, across,
                            f"{row + 1}.{column + 1} of {rows} x {columns} at 1:1")
                try:
                    pdf.savefig(fig)
                finally:
                    plt.close(fig)


def _tile(marker, size_in, x0, y0, along, across, caption):
    """One page of the 1:1 print: the window [x0, x0 + along] x [y0, y0 + across] of the marker."""
    fig = plt.figure(figsize=size_in)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    text_points = mark_sizes(marker).text * POINTS_PER_MM
    _draw_marker(ax, marker, font_points=text_points, window=(x0, y0, x0 + along, y0 + across))
    _scale_bar(ax, marker, x0 + 0.02 * along, y0 + 0.02 * across, round_span(along / 4), font_points=8)
    ax.text(x0 + 0.01 * along, y0 + 0.98 * across, f"{_headline(marker)}\npage {caption}", va="top", fontsize=8,
            parse_math=False)
    ax.set_xlim(x0, x0 + along)
    ax.set_ylim(y0, y0 + across)
    return fig
