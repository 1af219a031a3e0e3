"""What a cutting room reads off a marker: length, utilization against the target, waste."""

from __future__ import annotations

from collections import Counter

from nesting.model import Marker
from nesting.rules import garments, grain_deviation


def summary_fields(marker: Marker) -> dict:
    """Report figures (added to marker.json's ``report`` and printed by the CLI)."""
    width, length = marker.fabric.width, marker.length
    rules = marker.effective_rules()
    yields = {stated.id: stated.yields for stated in rules.pieces or ()}
    per_size = Counter()
    for p in marker.placements:
        piece = marker.pieces[p.piece]
        per_size[piece.size or "-"] += yields.get(piece.id, 1)
    polygons = marker.polygons()
    return {
        "pieces": len(marker.placements),
        "spread": marker.fabric.spread,
        "open_width": marker.fabric.open_width,
        "pieces_cut": sum(per_size.values()),
        "pieces_per_placement": dict(sorted(Counter(yields.get(marker.pieces[p.piece].id, 1)
                                                    for p in marker.placements).items())),
        "sections": len(rules.sections) if rules.sections else None,
        "pieces_per_size": dict(sorted(per_size.items())),
        "placed_area": marker.placed_area,
        "waste_area": width * length - marker.placed_area,
        "cut_perimeter": sum(p.exterior.length + sum(r.length for r in p.interiors) for p in polygons),
        "target_gap": marker.utilization - marker.target_utilization,
        "lower_bound_length": lower_bound(marker),
        "max_grain_deviation": max((abs(grain_deviation(p.rotation)) for p in marker.placements), default=0.0),
        **consumption(marker),
    }


def consumption(marker: Marker) -> dict:
    """Fabric per garment (marker length / garments) and, with a price per metre, its cost.

    Garments are counted per pattern file and size, times the size ratio; JSON instances
    have none, so these figures are ``None`` for them.
    """
    rules = marker.effective_rules()
    count = None if marker.units == "instance" else garments(rules.pieces, rules.size_ratio)
    per_garment = marker.length / count if count else None
    price = rules.fabric_price
    cost = None
    if per_garment is not None and price is not None and marker.units == "mm":
        cost = per_garment / 1000.0 * price
    return {"garments": count, "consumption_per_garment": per_garment, "fabric_price": price,
            "fabric_cost_per_garment": cost}


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
    fields = summary_fields(marker)
    fabric = marker.fabric
    lines = [f"pieces placed: {len(marker.placements)}"]
    if fabric.spread != "open":
        per = ", ".join(f"{n} placed x {k}" for k, n in fields["pieces_per_placement"].items())
        lines.append(f"spread: {fabric.spread}, {fields['pieces_cut']} pieces cut ({per})"
                     + (f"; open width {fabric.open_width:g}{units}" if fabric.fold_edges else ""))
    if fields["sections"]:
        ends = ", ".join(f"{b:.0f}" for _, b in marker.effective_rules().sections)
        lines.append(f"shade sections: {fields['sections']}, ending at x = {ends}{units}")
    lines += [
        f"width: {marker.fabric.width:g}{units}   length: {marker.length:.3f}{units}",
        f"utilization: {utilization:.2f} % ({verdict})",
    ]
    sizes = {size: n for size, n in fields["pieces_per_size"].items() if size != "-"}
    if sizes:
        lines.append("pieces per size: " + ", ".join(f"{size} {n}" for size, n in sizes.items()))
    if marker.units == "mm":
        lines.append(f"waste: {fields['waste_area'] / 1e6:.3f} m2   cut perimeter: {fields['cut_perimeter'] / 1000:.2f} m")
    else:
        lines.append(f"waste area: {fields['waste_area']:.6g}   cut perimeter: {fields['cut_perimeter']:.6g}")
    if fields["consumption_per_garment"] is not None and marker.units == "mm":
        count = fields["garments"]
        line = f"consumption: {fields['consumption_per_garment'] / 1000:.3f} m per garment ({count} garment{'s' * (count != 1)})"
        if fields["fabric_cost_per_garment"] is not None:
            line += f", fabric cost {fields['fabric_cost_per_garment']:.2f} per garment at {fields['fabric_price']:g} per metre"
        lines.append(line)
    if fields["max_grain_deviation"]:
        lines.append(f"largest grain deviation: {fields['max_grain_deviation']:g} degrees")
    return "\n".join(lines)
