"""Position rules: where a piece's reference point may lie, per orientation, on each axis.

One mechanism serves half pieces on a fold and stripe or check matching. On each axis a
placed orientation is either free, pinned (the reference coordinate is one value: a half
piece's mirror line on the fold) or on a lattice ``phase + k * period`` (its match point on
the repeat). The bottom-left fill takes only candidates on the rule, the separator snaps its
moves to it (`nesting.kernels.separate`); the verifier checks the placed geometry itself.

A rule is ``(phase, period)`` per axis: ``period`` `FREE` (< 0) for no rule, 0 for a pin.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from nesting.config import Tolerances
from nesting.errors import SpecError
from nesting.model import Fabric, oriented
from nesting.spread import fold_edge, fold_line, oriented_points
from patterns.piece import Piece

FREE = -1.0
Rule = tuple[tuple[float, float], tuple[float, float]]  # ((phase, period) along x, (phase, period) across y)
UNRULED: Rule = ((0.0, FREE), (0.0, FREE))


def position_rule(piece: Piece, rotation: float, mirrored: bool, fabric: Fabric) -> Rule | None:
    """The rule of the piece's reference point in this orientation (marker units), or None if it cannot comply.

    A half piece on a fold is pinned across (its outline's top at y = width, or its bottom at
    y = 0); a matched piece's match point lies on the repeat's lines in the matched
    directions. A pin and a lattice on one axis agree only if the pin lies on the lattice.
    """
    axes = [(0.0, FREE), (0.0, FREE)]
    if fold_line(piece, fabric) is not None:
        edge = fold_edge(piece, rotation, mirrored, fabric)
        if edge is None:
            return None
        _, miny, _, maxy = oriented(piece.outline, rotation, mirrored).bounds
        axes[1] = (fabric.width - maxy, 0.0) if edge == "top" else (-miny, 0.0)
    match, repeat = piece.match, fabric.repeat
    if match is not None and repeat is not None:
        ((px, py),) = oriented_points([match.point], rotation, mirrored)
        for axis, wanted, offset in ((0, match.along, px), (1, match.across, py)):
            period = repeat.period(axis)
            if not wanted or period is None:
                continue
            phase = repeat.offset(axis) - offset
            if axes[axis][1] == 0.0:  # pinned: the pin must lie on the lattice
                if not on_lattice(axes[axis][0], phase, period, Tolerances().verify_fold * fabric.width):
                    return None
                continue
            axes[axis] = (phase % period, period)
    return (axes[0], axes[1])


def ruled(rules: np.ndarray | None, shape: int) -> bool:
    """Does a position rule bind this shape? (``rules``: `nesting.geometry.Prepared.lattice`)"""
    return rules is not None and bool((rules[shape, :, 1] >= 0).any())


def on_lattice(value: float, phase: float, period: float, tolerance: float) -> bool:
    off = (value - phase) % period
    return min(off, period - off) <= tolerance


def snap(value: float, lo: float, hi: float, phase: float, period: float) -> float:
    """The rule's value nearest ``value``, inside [lo, hi] where one lies there."""
    if period < 0:
        return value
    if period == 0:  # a pin is its inner-fit edge (`nesting.geometry`): clamped, rounding cannot move it off
        return phase if hi < lo else min(max(phase, lo), hi)
    v = phase + round((value - phase) / period) * period
    if v < lo:
        v = phase + math.ceil((lo - phase) / period) * period
    if v > hi:
        v = phase + math.floor((hi - phase) / period) * period
    return v


def values(lo: float, hi: float, phase: float, period: float) -> np.ndarray:
    """Every value of a (non-free) rule in [lo, hi], ascending."""
    if period == 0:
        slack = 1e-9 * max(abs(lo), abs(hi), 1.0)
        return np.array([min(max(phase, lo), hi)]) if lo - slack <= phase <= hi + slack else np.empty(0)
    first = math.ceil((lo - phase) / period)
    last = math.floor((hi - phase) / period)
    return phase + period * np.arange(first, last + 1, dtype=np.float64) if last >= first else np.empty(0)


def whole_repeats(marker):
    """The marker lengthened to a whole number of repeats along (for spreading many plies on the repeat).

    The pieces stay where they are; the last shade section, if any, ends with the marker.
    """
    rules = marker.effective_rules()
    period = rules.fabric.repeat.along if rules.fabric.repeat is not None else None
    if period is None:
        raise SpecError("--round-to-repeat: the fabric has no repeat along the marker ([fabric.repeat] along)")
    length = math.ceil(marker.length / period - 1e-9) * period
    sections = rules.sections
    if sections:
        sections = (*sections[:-1], (sections[-1][0], length))
    return replace(marker, length=length, rules=replace(rules, whole_repeats=True, sections=sections))
