"""The order file: a marker specification plus ``[order]``, ``[limits]`` and ``[costs]``.

The marker part (patterns, fabric, spacing, rules, shrinkage) goes through the same parser as
``nest marker --spec`` (`jobs.spec.from_dict`), so it has the same fields and the same errors.
The size ratio is what the planner chooses, so ``[sizes]`` is refused here. Every bad value is
one `OrderError` line naming the file and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from jobs.spec import MarkerSpec, from_dict, non_negative, positive, read_toml
from nesting.errors import SpecError

SINGLE = ""  # the colour name of an order given per size only
_LIMIT_KEYS = {"max_plies", "min_plies", "table_length", "max_garments_per_marker", "overcut", "undercut",
               "end_allowance"}
_COST_KEYS = {"per_lay", "per_marker"}
DEFAULT_MAX_PLIES = 60


class OrderError(SpecError):
    """An order that cannot be planned (names the file, the field and the reason)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The cutting room's limits (lengths in mm; overcut/undercut as fractions of each quantity)."""

    table_length: float
    max_plies: int = DEFAULT_MAX_PLIES
    min_plies: int = 1
    max_garments_per_marker: int | None = None
    overcut: float = 0.0
    undercut: float = 0.0
    end_allowance: float = 0.0

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Costs:
    """Secondary costs, in the currency of the user's choice: the objective is fabric first."""

    per_lay: float = 0.0
    per_marker: float = 0.0

    def as_dict(self) -> dict:
        return {"per_lay": self.per_lay, "per_marker": self.per_marker}


@dataclass(frozen=True, slots=True)
class Order:
    """Garments per size and colour to cut from one fabric, with the limits and costs.

    ``quantities`` holds ``(colour, ((size, garments), ...))``; an order given per size has the
    single colour ``""``. ``spec`` is the marker specification every lay's marker is nested under
    (its ``max_length`` is the table length; its size ratio is set per marker).
    """

    spec: MarkerSpec
    quantities: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
    limits: Limits
    costs: Costs = Costs()
    source: str = ""

    @property
    def colours(self) -> tuple[str, ...]:
        return tuple(colour for colour, _ in self.quantities)

    @property
    def sizes(self) -> tuple[str, ...]:
        seen = []
        for _, row in self.quantities:
            seen += [size for size, count in row if count > 0 and size not in seen]
        return tuple(seen)

    def demand(self, size: str, colour: str = SINGLE) -> int:
        return dict(dict(self.quantities).get(colour, ())).get(size, 0)

    def bounds(self, size: str, colour: str = SINGLE) -> tuple[int, int]:
        """Fewest and most garments of this size and colour that may be cut."""
        d = self.demand(size, colour)
        return (math.ceil(d * (1 - self.limits.undercut) - 1e-9), math.floor(d * (1 + self.limits.overcut) + 1e-9))

    @property
    def total(self) -> int:
        return sum(count for _, row in self.quantities for _, count in row)

    def label(self, name: str) -> str:
        return f"{self.source}: {name}" if self.source else name

    def as_dict(self) -> dict:
        """The order as ``{colour: {size: garments}}`` (colour ``""`` for a single one)."""
        return {colour: dict(row) for colour, row in self.quantities}


def load_order(path) -> Order:
    """Read an order file; pattern paths are taken relative to it."""
    path = Path(path)
    return order_from_dict(read_toml(path, OrderError), source=str(path), base=path.parent)


def order_from_dict(document: dict, source: str = "", base: Path | None = None) -> Order:
    """An order from a parsed TOML document (see `load_order`)."""
    where = (lambda name: f"{source}: {name}") if source else (lambda name: name)
    if "sizes" in document:
        raise OrderError(f"{where('sizes')}: an order file gives [order]; the planner chooses each marker's sizes")
    if "order" not in document:
        raise OrderError(f"{where('order')}: is missing (garments per size, e.g. [order] S = 40, M = 80)")
    marker_part = {k: v for k, v in document.items() if k not in ("order", "limits", "costs")}
    spec = from_dict(marker_part, source=source, base=base)
    if not spec.patterns:
        raise OrderError(f"{where('patterns')}: no pattern file")
    if spec.width is None:
        raise OrderError(f"{where('fabric.width')}: is not given (the full fabric width)")
    limits = _limits(_table(document.get("limits", {}), where("limits")), spec, where)
    costs = _costs(_table(document.get("costs", {}), where("costs")), where)
    quantities = _quantities(document["order"], where)
    return Order(replace(spec, max_length=limits.table_length), quantities, limits, costs, source)


def _quantities(table, where) -> tuple:
    table = _table(table, where("order"))
    if not table:
        raise OrderError(f"{where('order')}: is empty (garments per size, e.g. S = 40)")
    nested = [isinstance(v, dict) for v in table.values()]
    if any(nested) and not all(nested):
        raise OrderError(f"{where('order')}: give garments per size (S = 40) or per colour ([order.NAVY] S = 20), "
                         "not both")
    rows = table.items() if all(nested) else [(SINGLE, table)]
    quantities = []
    for colour, row in rows:
        prefix = f"order.{colour}" if colour else "order"
        if not row:
            raise OrderError(f"{where(prefix)}: is empty (garments per size, e.g. S = 20)")
        counts = []
        for size, count in row.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise OrderError(f"{where(f'{prefix}.{size}')}: must be a whole number of garments >= 0, got {count!r}")
            counts.append((str(size), count))
        quantities.append((str(colour), tuple(counts)))
    if sum(count for _, row in quantities for _, count in row) == 0:
        raise OrderError(f"{where('order')}: orders no garment at all")
    return tuple(quantities)


def _limits(table, spec: MarkerSpec, where) -> Limits:
    unknown = sorted(set(table) - _LIMIT_KEYS)
    if unknown:
        raise OrderError(f"{where('limits.' + unknown[0])}: unknown field (known here: {', '.join(sorted(_LIMIT_KEYS))})")
    if "table_length" in table:
        table_length = positive(table["table_length"], where("limits.table_length"))
    elif spec.max_length is not None:
        table_length = spec.max_length
    else:
        raise OrderError(f"{where('limits.table_length')}: is not given (the longest marker the cutting table takes, "
                         "mm; fabric.max_length is also accepted)")
    max_plies = _whole(table.get("max_plies", DEFAULT_MAX_PLIES), where("limits.max_plies"), 1)
    min_plies = _whole(table.get("min_plies", 1), where("limits.min_plies"), 1)
    if min_plies > max_plies:
        raise OrderError(f"{where('limits.min_plies')}: {min_plies} is more than limits.max_plies ({max_plies})")
    garments = table.get("max_garments_per_marker")
    fractions = {}
    for name in ("overcut", "undercut"):
        value = non_negative(table.get(name, 0.0), where(f"limits.{name}"))
        if name == "undercut" and value >= 1:
            raise OrderError(f"{where('limits.undercut')}: must be a fraction below 1, got {value:g}")
        fractions[name] = value
    return Limits(
        table_length=table_length, max_plies=max_plies, min_plies=min_plies,
        max_garments_per_marker=None if garments is None else _whole(garments, where("limits.max_garments_per_marker"), 1),
        end_allowance=non_negative(table.get("end_allowance", 0.0), where("limits.end_allowance")), **fractions,
    )


def _costs(table, where) -> Costs:
    unknown = sorted(set(table) - _COST_KEYS)
    if unknown:
        raise OrderError(f"{where('costs.' + unknown[0])}: unknown field (known here: {', '.join(sorted(_COST_KEYS))})")
    return Costs(**{key: non_negative(table[key], where(f"costs.{key}")) for key in _COST_KEYS if key in table})


def _table(value, name) -> dict:
    if not isinstance(value, dict):
        raise OrderError(f"{name}: must be a table")
    return value


def _whole(value, name, least) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise OrderError(f"{name}: must be a whole number >= {least}, got {value!r}")
    return value
