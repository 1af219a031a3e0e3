"""The fabric a marker is laid on: a leaf module, so the spec, the engine and the readers share it.

x runs along the marker length, y across the width; margins are the unusable edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from shapely.geometry import Polygon

EDGES = ("bottom", "top", "start", "end")
SPREADS = ("open", "face-to-face", "folded", "tubular")
FOLD_EDGES = {"open": (), "face-to-face": (), "folded": ("top",), "tubular": ("bottom", "top")}
PLIES = {"open": 1, "face-to-face": 2, "folded": 2, "tubular": 2}  # layers one placement cuts through


@dataclass(frozen=True, slots=True)
class Repeat:
    """A stripe or check repeat: ``along`` (x) and ``across`` (y) periods, ``None`` where plain.

    The lattice lines lie at ``offset_along + k * along`` and ``offset_across + k * across``.
    """

    along: float | None = None
    across: float | None = None
    offset_along: float = 0.0
    offset_across: float = 0.0

    def period(self, axis: int) -> float | None:
        return self.along if axis == 0 else self.across

    def offset(self, axis: int) -> float:
        return self.offset_along if axis == 0 else self.offset_across


@dataclass(frozen=True, slots=True)
class Margins:
    """Unusable fabric at each edge: bottom/top selvedges (y) and start/end (x)."""

    bottom: float = 0.0
    top: float = 0.0
    start: float = 0.0
    end: float = 0.0


@dataclass(frozen=True, slots=True)
class Fabric:
    """The fabric a marker is laid on: width (y), optional table length, margins, clear zones.

    ``spread`` is how it is laid (`SPREADS`): ``width`` is always the width nested, the folded
    width of a folded spread and the flat tube of a tubular one, whose edges are folds
    (`fold_edges`). ``repeat`` is its stripe or check repeat, if any.
    """

    width: float
    max_length: float | None = None
    margins: Margins = field(default_factory=Margins)
    zones: tuple[Polygon, ...] = ()
    spread: str = "open"
    repeat: Repeat | None = None

    @property
    def fold_edges(self) -> tuple[str, ...]:
        """The long edges that are folds: ``top`` (y = width) and/or ``bottom`` (y = 0)."""
        return FOLD_EDGES.get(self.spread, ())

    @property
    def open_width(self) -> float:
        """The fabric's width opened out: twice the nested width on a folded or tubular spread."""
        return self.width * (2 if self.fold_edges else 1)

    def problems(self) -> list[tuple[str, str]]:
        """What makes this fabric unusable, as ``(field, reason)`` pairs (empty when it is sound).

        A verifier reads the fabric from a file it does not trust: a negative margin or a zone
        off the fabric would otherwise move the usable area off the cloth.
        """
        found = []
        if not finite_number(self.width) or self.width <= 0:
            return [("width", f"must be a finite number > 0, got {self.width!r}")]
        if self.max_length is not None and (not finite_number(self.max_length) or self.max_length <= 0):
            found.append(("max_length", f"must be a finite number > 0, got {self.max_length!r}"))
        m = self.margins
        bad_edges = [(e, getattr(m, e)) for e in EDGES if not finite_number(getattr(m, e)) or getattr(m, e) < 0]
        found += [(f"margins.{edge}", f"must be a finite number >= 0, got {value!r}") for edge, value in bad_edges]
        if bad_edges:
            return found
        if self.spread not in SPREADS:
            return found + [("spread", f"unknown spread {self.spread!r}; spreads are {', '.join(SPREADS)}")]
        found += [(f"margins.{edge}", f"must be 0 on a {self.spread} spread: that edge is a fold")
                  for edge in self.fold_edges if getattr(m, edge) != 0]
        found += self._repeat_problems()
        if m.bottom + m.top >= self.width:
            found.append(("margins", f"bottom + top ({m.bottom + m.top:g}) leave no usable width on a fabric "
                                     f"{self.width:g} wide"))
        if self.max_length is not None and m.start + m.end >= self.max_length:
            found.append(("margins", f"start + end ({m.start + m.end:g}) leave no usable length on a table "
                                     f"{self.max_length:g} long"))
        right = self.max_length if self.max_length is not None and finite_number(self.max_length) else math.inf
        slack = 1e-9 * self.width
        for k, zone in enumerate(self.zones):
            if not zone.is_valid or zone.area <= 0:
                found.append((f"zones[{k}]", "is not a valid polygon with an area"))
                continue
            x0, y0, x1, y1 = zone.bounds
            if x0 < -slack or y0 < -slack or y1 > self.width + slack or x1 > right + slack:
                found.append((f"zones[{k}]", f"lies outside the fabric (x {x0:g}..{x1:g}, y {y0:g}..{y1:g}; "
                                             f"fabric y 0..{self.width:g})"))
        return found


    def _repeat_problems(self) -> list[tuple[str, str]]:
        if self.repeat is None:
            return []
        found = []
        usable = self.width - self.margins.bottom - self.margins.top
        for axis, name in ((0, "along"), (1, "across")):
            period, offset = self.repeat.period(axis), self.repeat.offset(axis)
            if period is not None and (not finite_number(period) or period <= 0):
                found.append((f"repeat.{name}", f"must be a finite number > 0, got {period!r}"))
            elif axis == 1 and period is not None and period > usable:
                found.append((f"repeat.{name}", f"the repeat {period:g} is larger than the usable width {usable:g}: "
                                                "no two pieces could be matched across it"))
            if not finite_number(offset):
                found.append((f"repeat.offset_{name}", f"must be a finite number, got {offset!r}"))
        if self.repeat.along is None and self.repeat.across is None:
            found.append(("repeat", "states neither an along nor an across period"))
        return found


def finite_number(value) -> bool:
    """A JSON/TOML number that is finite (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
