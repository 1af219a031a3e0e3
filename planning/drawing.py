"""``plan.png``: each lay drawn as a spread (length x plies, one band per colour) beside its marker."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from planning.plan import CutPlan  # noqa: E402

BANDS = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"]


def draw_plan(cut_plan: CutPlan, path) -> None:
    lays = cut_plan.lays
    colours = list(cut_plan.order.colours)
    longest = max(lay.length for lay in lays) / 1000
    most = max(lay.total_plies for lay in lays)
    figure, axes = plt.subplots(len(lays), 2, figsize=(12, 1.6 * len(lays) + 0.8), squeeze=False,
                                gridspec_kw={"width_ratios": [1, 1.4]})
    for row, lay in enumerate(lays):
        spread, thumb = axes[row]
        bottom = 0
        for colour, plies in lay.plies:
            band = BANDS[colours.index(colour) % len(BANDS)]
            spread.add_patch(Rectangle((0, bottom), lay.length / 1000, plies, color=band, alpha=0.8,
                                       label=colour or None))
            bottom += plies
        spread.set_xlim(0, longest * 1.02)
        spread.set_ylim(0, most * 1.05)
        ratio = " ".join(f"{s}={n}" for s, n in lay.mix if n)
        spread.set_title(f"lay {row + 1}: {ratio}, {lay.total_plies} plies x {lay.length / 1000:.3f} m", fontsize=8,
                         loc="left")
        spread.set_ylabel("plies", fontsize=7)
        spread.tick_params(labelsize=7)
        marker = cut_plan.markers[lay.mix]
        polygons = [list(p.exterior.coords) for p in marker.polygons()]
        thumb.add_collection(PolyCollection(polygons, facecolor="#a0c4e8", edgecolor="#1f3b5a", linewidth=0.3))
        thumb.add_patch(Rectangle((0, 0), marker.length, marker.fabric.width, fill=False, linewidth=0.6))
        thumb.set_xlim(0, cut_plan.order.limits.table_length)
        thumb.set_ylim(0, marker.fabric.width)
        thumb.set_aspect("equal")
        thumb.set_axis_off()
        thumb.set_title(f"marker {lay.marker}: {lay.utilization * 100:.1f} %", fontsize=8, loc="left")
    axes[-1][0].set_xlabel("length (m)", fontsize=7)
    if len(colours) > 1:
        axes[0][0].legend(fontsize=7, loc="upper right")
    total = cut_plan.fabric_mm / 1000
    figure.suptitle(f"cut plan: {total:.2f} m of fabric in {len(lays)} lays", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
