"""Drawings of a marker with matplotlib: the fabric, each piece filled and labelled."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only: no display needed on cutting-room servers or CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import PathPatch, Rectangle  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from nesting.atomic import atomic_path  # noqa: E402


def _polygon_path(polygon):
    rings = [polygon.exterior, *polygon.interiors]
    vertices, codes = [], []
    for ring in rings:
        coords = list(ring.coords)
        vertices += coords
        codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(coords) - 2) + [MplPath.CLOSEPOLY]
    return MplPath(vertices, codes)


def figure(marker, inches_per_unit=None):
    """A matplotlib figure of the marker (length along x, width along y)."""
    width, length = marker.fabric.width, max(marker.length, 1e-9)
    fig_w = 16.0
    fig_h = max(2.5, min(12.0, fig_w * width / length + 1.2))
    fig, ax = plt.subplots(figsize=(fig_w, fig_h))
    ax.add_patch(Rectangle((0, 0), length, width, fill=False, edgecolor="black", linewidth=1.2))
    for zone in marker.fabric.zones:
        ax.add_patch(PathPatch(_polygon_path(zone), facecolor="#dddddd", edgecolor="#888888", hatch="//"))
    cmap = plt.get_cmap("tab20")
    piece_ids = {piece.id: k for k, piece in enumerate(marker.pieces)}
    labels = len(marker.placements) <= 400
    for placement, polygon in zip(marker.placements, marker.polygons()):
        piece = marker.pieces[placement.piece]
        colour = cmap(piece_ids[piece.id] % 20)
        ax.add_patch(PathPatch(_polygon_path(polygon), facecolor=colour, edgecolor="#333333", linewidth=0.5, alpha=0.85))
        if labels:
            point = polygon.representative_point()
            text = piece.name if piece.size is None else f"{piece.name}\n{piece.size}"
            ax.text(point.x, point.y, text, ha="center", va="center", fontsize=6)
    units = "" if marker.units == "instance" else f" {marker.units}"
    utilization = marker.utilization * 100
    target = marker.target_utilization * 100
    status = "meets" if marker.meets_target else f"{target - utilization:.2f} points below"
    ax.set_title(
        f"{marker.input or 'marker'}: length {marker.length:.2f}{units}, width {marker.fabric.width:g}{units}, "
        f"utilization {utilization:.2f} % (target {target:.0f} %: {status})"
    )
    ax.axvline(marker.placed_area / (marker.target_utilization * width), color="red", linestyle="--", linewidth=0.8,
               label=f"length at the {target:.0f} % target")
    ax.legend(loc="upper right", fontsize=7)
    ax.set_xlim(-0.01 * length, length * 1.01)
    ax.set_ylim(-0.02 * width, width * 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel(f"length{units}")
    ax.set_ylabel(f"width{units}")
    fig.tight_layout()
    return fig


def write_png(marker, path, dpi=120) -> None:
    fig = figure(marker)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi)
    finally:
        plt.close(fig)
