"""The fabric a marker is laid on: a leaf module, so the spec, the engine and the readers share it.

x runs along the marker length, y across the width; margins are the unusable edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from shapely.geometry import Polygon

EDGES = ("bottom", "top", "start", "end")


@dataclass(frozen=True, slots=True)
class Margins:
    """Unusable fabric at each edge: bottom/top selvedges (y) and start/end (x)."""

    bottom: float = 0.0
    top: float = 0.0
    start: float = 0.0
    end: float = 0.0


@dataclass(frozen=True, slots=True)
class Fabric:
    """The fabric a marker is laid on: width (y), optional table length, margins, clear zones."""

    width: float
    max_length: float | None = None
    margins: Margins = field(default_factory=Margins)
    zones: tuple[Polygon, ...] = ()

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


def finite_number(value) -> bool:
    """A JSON/TOML number that is finite (a bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
