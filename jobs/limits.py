"""Resource limits: checked before the work they bound, each a default that ``--limit`` raises.

A marker that would take more pieces, orientations, no-fit polygons or processes than a
cutting room ever needs is refused with one line naming the limit, instead of running out of
memory or past its budget. ``--limit NAME=N`` (repeatable, or ``limits = {NAME = N}`` in a
jobs file) raises one for a run that really needs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from nesting.errors import SpecError


def cores() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Limits:
    """The defaults; every one is a count, and exceeding it is a `SpecError` naming it.

    ``pieces``: copies in one marker (a style is 300 to 800; writing the cut files and drawings
    of a marker takes about 5 ms a piece, outside the search budget).
    ``orientations``: collision shapes per piece (rotations x mirrorings, tilt samples
    included): ``free:1`` is 360.
    ``nfp_pairs``: distinct no-fit polygons (shape pairs, and shapes against zones); they are
    kept in memory, about 5 kB each for pieces of a few hundred vertices.
    ``workers``: processes; by default the cores this process may use.
    """

    pieces: int = 2_000
    orientations: int = 360
    nfp_pairs: int = 100_000
    workers: int = 0  # 0: the cores

    @property
    def max_workers(self) -> int:
        return self.workers or cores()

    def check(self, name: str, count: int, what: str) -> None:
        """Refuse ``count`` of ``name`` beyond the limit, in one line that says how to raise it."""
        limit = self.max_workers if name == "workers" else getattr(self, name)
        if count > limit:
            shown = "over 10**18" if count >= 10**18 else str(count)
            raise SpecError(f"{what}: {shown} is more than {limit}, the limit {name}; "
                            f"raise it with --limit {name}=N if this is intended")


LIMIT_NAMES = tuple(f.name for f in fields(Limits))


def parse_limits(items, base: Limits = Limits()) -> Limits:
    """``["pieces=20000", ...]`` (or a mapping) over ``base``; a bad name or value is a `SpecError`."""
    pairs = items.items() if isinstance(items, dict) else (_split(item) for item in items or ())
    changes = {}
    for name, value in pairs:
        if name not in LIMIT_NAMES:
            raise SpecError(f"--limit: unknown limit {name!r}; limits are {', '.join(LIMIT_NAMES)}")
        changes[name] = _count(value, name)
    return replace(base, **changes)


def _split(item: str) -> tuple[str, str]:
    name, equals, value = str(item).partition("=")
    if not equals:
        raise SpecError(f"--limit: expected NAME=N, got {item!r}")
    return name.strip(), value.strip()


def _count(value, name) -> int:
    if isinstance(value, bool):
        raise SpecError(f"--limit {name}: must be a whole number >= 1, got {value!r}")
    text = str(value)
    if isinstance(value, str) and (len(text) > 18 or not text.isdigit()):
        raise SpecError(f"--limit {name}: must be a whole number >= 1 of at most 18 digits, got {text[:40]!r}")
    if not isinstance(value, int | str) or int(value) < 1 or int(value) >= 10**18:
        raise SpecError(f"--limit {name}: must be a whole number >= 1 of at most 18 digits")
    return int(value)
