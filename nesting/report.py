"""What a cutting room reads off a marker: length, utilization against the target, waste."""

from __future__ import annotations

from collections import Counter

from nesting.model import Marker


def summary_fields(marker: Marker) -> dict:
    """Report figures (added to marker.json's ``report`` and printed by the CLI)."""
    width, length = marker.fabric.width, marker.length
    per_size = Counter(marker.pieces[p.piece].size or "-" for p in marker.placements)
    polygons = marker.polygons()
    return {
        "pieces": len(marker.placements),
        "pieces_per_size": dict(sorted(per_size.items())),
        "placed_area": marker.placed_area,
        "waste_area": width * length - marker.placed_area,
        "cut_perimeter": sum(p.exterior.length + sum(r.length for r in p.interiors) for p in polygons),
        "target_gap": marker.utilization - marker.target_utilization,
        "lower_bound_length": lower_bound(marker),
    }


def lower_bound(marker: Marker) -> float:
    """max(total area / width, the longest piece extent in its best allowed orientation)."""
    from nesting.model import oriented

    area_bound = marker.placed_area / marker.fabric.width
    extent = 0.0
    for piece in marker.pieces:
        best = min(
            oriented(piece.outline, r, m).bounds[2] - oriented(piece.outline, r, m).bounds[0]
            for r in piece.rotations for m in ((False, True) if piece.flip else (False,))
        )
        extent = max(extent, best)
    return max(area_bound, extent)


def summary_text(marker: Marker) -> str:
    """The short terminal summary."""
    units = "" if marker.units == "instance" else f" {marker.units}"
    utilization = marker.utilization * 100
    target = marker.target_utilization * 100
    verdict = (
        f"meets the {target:.0f} % target"
        if marker.meets_target
        else f"misses the {target:.0f} % target by {target - utilization:.2f} points"
    )
    return "\n".join([
        f"pieces placed: {len(marker.placements)}",
        f"width: {marker.fabric.width:g}{units}   length: {marker.length:.3f}{units}",
        f"utilization: {utilization:.2f} % ({verdict})",
    ])
