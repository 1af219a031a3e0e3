"""The two plans a cutting room makes without a planner, formed by fixed rules.

Both are built from a predicate ``fits(mix)`` (the marker's length, measured or else estimated,
within the table, and its garments within the limit) and then nested for real like every other
candidate; they are handed to the integer program as columns, so the plan is never worse.

- ``one_size_per_lay``: every size alone. For each size, the marker with as many garments ``k``
  as fit (at most the largest quantity of that size in one colour); per colour ``d // k`` plies of
  it, and the remainder ``d mod k`` as a marker of that many garments spread once. Within the
  tolerances the remainder is dropped (undercut) or rounded up to one more full ply (overcut).
- ``single_ratio`` (the hand planner's): per colour, the smallest ply count ``P`` (from
  ``min_plies`` up to ``max_plies``) for which the ratio ``floor(order / P)`` fits; ``P`` plies of
  it; then the same rule on the remainder, until the order is cut (or what is left lies within
  the undercut). When even ``max_plies`` leaves a ratio too big for one marker, ``P = max_plies``
  and one garment at a time is taken off the size with the most until the ratio fits.

Lays of one marker in several colours are merged into as few lays as the ply limit allows.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from planning.garments import Mix
from planning.model import split_lays
from planning.order import Order

LaySpec = tuple[Mix, dict[str, int]]  # a marker and its plies per colour, over all its lays


def one_size_per_lay(order: Order, fits: Callable[[Mix], bool], capacity: int) -> list[LaySpec] | None:
    """Lays of the one-size-per-lay plan, or None when the ply limits make it impossible."""
    plies: dict[Mix, dict[str, int]] = {}
    for size in order.sizes:
        most = min(capacity, max(order.demand(size, c) for c in order.colours))
        k = next((k for k in range(most, 0, -1) if fits(_mix(order, {size: k}))), 0)
        if k == 0:
            return None
        for colour in order.colours:
            d = order.demand(size, colour)
            lo, hi = order.bounds(size, colour)
            full, rest = divmod(d, k)
            if rest and full * k >= lo:
                rest = 0
            elif rest and (full + 1) * k <= hi:
                full, rest = full + 1, 0
            for mix, n in ((_mix(order, {size: k}), full), (_mix(order, {size: rest}), 1 if rest else 0)):
                if n:
                    plies.setdefault(mix, {})[colour] = plies.get(mix, {}).get(colour, 0) + n
    return _merged(order, plies)


def single_ratio(order: Order, fits: Callable[[Mix], bool]) -> list[LaySpec] | None:
    """Lays of the hand planner's single-ratio plan, or None when the ply limits make it impossible."""
    limits = order.limits
    plies: dict[Mix, dict[str, int]] = {}
    for colour in order.colours:
        left = {size: order.demand(size, colour) for size in order.sizes}
        while any(left[s] > order.demand(s, colour) - order.bounds(s, colour)[0] for s in order.sizes):
            for p in range(limits.min_plies, limits.max_plies + 1):
                ratio = {s: left[s] // p for s in order.sizes}
                if not any(ratio.values()):
                    return None  # what is left is fewer than min_plies garments of every size
                mix = _mix(order, ratio)
                if fits(mix):
                    break
            else:  # even max_plies leaves too many garments for one marker: take from the largest sizes
                while any(ratio.values()) and not fits(_mix(order, ratio)):
                    ratio[max(ratio, key=ratio.get)] -= 1
                if not any(ratio.values()):
                    return None
                mix = _mix(order, ratio)
            plies.setdefault(mix, {})[colour] = plies.get(mix, {}).get(colour, 0) + p
            left = {s: left[s] - p * n for s, n in mix}
    return _merged(order, plies)


def _merged(order: Order, plies: dict[Mix, dict[str, int]]) -> list[LaySpec] | None:
    """Each marker's plies in as few lays as the ply limit allows; None if a lay falls below min_plies."""
    lays = []
    for mix, per_colour in plies.items():
        total = sum(per_colour.values())
        count = math.ceil(total / order.limits.max_plies)
        if total < order.limits.min_plies * count:
            return None
        lays += [(mix, lay) for lay in split_lays(per_colour, count)]
    return lays


def _mix(order: Order, ratio: dict[str, int]) -> Mix:
    return tuple((s, ratio.get(s, 0)) for s in order.sizes)


def mixes(lays: list[LaySpec] | None) -> list[Mix]:
    return [] if lays is None else list(dict.fromkeys(mix for mix, _ in lays))

