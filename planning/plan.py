"""A cut plan as plain frozen data: lays (a marker and its plies per colour), totals, baselines."""

from __future__ import annotations

from dataclasses import dataclass, field

from nesting.model import Marker
from planning.garments import Mix, garments_in, mix_name
from planning.order import Order


@dataclass(frozen=True, slots=True)
class Lay:
    """One spread: a marker (its size mix) laid in plies, per colour."""

    mix: Mix
    plies: tuple[tuple[str, int], ...]  # (colour, plies); colour "" for a single-colour order
    length: float  # mm, the marker's
    utilization: float  # the marker's

    @property
    def marker(self) -> str:
        return mix_name(self.mix)

    @property
    def total_plies(self) -> int:
        return sum(n for _, n in self.plies)

    def fabric_mm(self, end_allowance: float) -> float:
        return self.total_plies * (self.length + end_allowance)


@dataclass(frozen=True, slots=True)
class Layout:
    """A set of lays for an order, and how it was formed."""

    lays: tuple[Lay, ...]
    method: str = ""

    def fabric_mm(self, end_allowance: float) -> float:
        return sum(lay.fabric_mm(end_allowance) for lay in self.lays)

    def cut(self) -> dict[str, dict[str, int]]:
        """Garments cut, ``{colour: {size: n}}``."""
        result: dict[str, dict[str, int]] = {}
        for lay in self.lays:
            for colour, plies in lay.plies:
                row = result.setdefault(colour, {})
                for size, n in lay.mix:
                    row[size] = row.get(size, 0) + n * plies
        return result

    @property
    def markers(self) -> list[Mix]:
        return list(dict.fromkeys(lay.mix for lay in self.lays))

    def cost(self, order: Order) -> float:
        return order.costs.per_lay * len(self.lays) + order.costs.per_marker * len(self.markers)

    def utilization(self, markers: dict[Mix, Marker]) -> float:
        """Piece area over marker area, every ply counted (the end allowance left out)."""
        area = sum(lay.total_plies * markers[lay.mix].placed_area for lay in self.lays)
        fabric = sum(lay.total_plies * markers[lay.mix].fabric.width * lay.length for lay in self.lays)
        return area / fabric if fabric else 0.0


@dataclass(frozen=True, slots=True)
class CutPlan:
    """The chosen lays, every marker they and the baselines use, the lower bound and the run's figures."""

    order: Order
    layout: Layout
    markers: dict = field(compare=False)  # Mix -> verified Marker (plan and baselines)
    baselines: dict = field(compare=False)  # name -> Layout (None: not possible within the limits)
    lower_bound_mm: float | None = None
    stats: dict = field(default_factory=dict, compare=False)

    @property
    def lays(self) -> tuple[Lay, ...]:
        return self.layout.lays

    @property
    def fabric_mm(self) -> float:
        return self.layout.fabric_mm(self.order.limits.end_allowance)

    @property
    def garments(self) -> int:
        return sum(garments_in(lay.mix) * lay.total_plies for lay in self.lays)
