"""The plan file, ``plan.json`` (schema ``plan/1``): the plan as JSON values, and reading it back."""

from __future__ import annotations

from planning.garments import garments_in
from planning.order import SINGLE
from planning.plan import CutPlan, Layout

SCHEMA = "plan/1"


def plies_value(plies) -> int | dict:
    """An integer for a single-colour order, else ``{colour: plies}``."""
    plies = dict(plies)
    return plies[SINGLE] if set(plies) == {SINGLE} else plies


def per_colour(value) -> dict[str, int]:
    """``plies`` or a cut table as ``{colour: ...}`` again (colour "" for an integer / a flat table)."""
    return {SINGLE: value} if not isinstance(value, dict) else value


def lays_document(layout: Layout, paths: dict, end_allowance: float) -> list[dict]:
    return [{
        "marker": paths[lay.mix]["path"], "marker_sha256": paths[lay.mix]["sha256"],
        "ratio": {s: n for s, n in lay.mix if n}, "garments": garments_in(lay.mix),
        "plies": plies_value(lay.plies), "length": lay.length, "utilization": lay.utilization,
        "fabric_m": lay.fabric_mm(end_allowance) / 1000,
    } for lay in layout.lays]


def plan_document(cut_plan: CutPlan, paths: dict, order_file: str = "") -> dict:
    """The ``plan/1`` document; ``paths`` maps each mix to its marker file's relative path and SHA-256."""
    order, limits = cut_plan.order, cut_plan.order.limits
    e = limits.end_allowance
    colours = [c for c in order.colours if c != SINGLE]
    cut = cut_plan.layout.cut()
    fabric_m = cut_plan.fabric_mm / 1000
    lower = None if cut_plan.lower_bound_mm is None else cut_plan.lower_bound_mm / 1000
    utilization = cut_plan.layout.utilization(cut_plan.markers)
    spec = order.spec
    baselines = {}
    for name, layout in cut_plan.baselines.items():
        if layout is None:
            baselines[name] = {"fabric_m": None, "lays": [], "method": "not possible within the limits"}
            continue
        fabric = layout.fabric_mm(e) / 1000
        baselines[name] = {"fabric_m": fabric, "lays": lays_document(layout, paths, e), "method": layout.method,
                           "saved_by_plan": (fabric - fabric_m) / fabric if fabric else 0.0}
    return {
        "schema": SCHEMA,
        "units": "mm",
        "order_file": order_file,
        "patterns": list(spec.patterns),
        "fabric": {"width": spec.width, "code": spec.fabric_code, "price": spec.fabric_price},
        "colours": colours,
        "order": _flat(order.as_dict()),
        "limits": limits.as_dict(),
        "costs": order.costs.as_dict(),
        "method": cut_plan.layout.method,
        "lays": lays_document(cut_plan.layout, paths, e),
        "totals": {
            "fabric_m": fabric_m,
            "cut": _flat({c: cut.get(c, {}) for c in order.colours}),
            "ordered": _flat(order.as_dict()),
            "garments": cut_plan.garments,
            "lays": len(cut_plan.lays),
            "markers": len(cut_plan.layout.markers),
            "utilization": utilization,
            "target_utilization": 0.92,
            "meets_target": utilization >= 0.92,
            "cost": cut_plan.layout.cost(order),
            "fabric_cost": None if spec.fabric_price is None else fabric_m * spec.fabric_price,
            "lower_bound_m": lower,
            "gap_to_lower_bound": None if not lower else (fabric_m - lower) / lower,
        },
        "baselines": baselines,
        "stats": cut_plan.stats,
    }


def _flat(table: dict) -> dict:
    """``{size: n}`` for a single-colour order, else ``{colour: {size: n}}``."""
    return table[SINGLE] if set(table) == {SINGLE} else table
