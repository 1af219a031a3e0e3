"""Cut lines as CAD systems really draw them, made into simple rings (mm, drawing frame).

Two drawings are not self-intersections although GEOS calls them so:

* a **slit notch** drawn into the cut line as an out-and-back spike of zero (or near-zero)
  width: AccuMark marker plots, Optitex bindings, Valentina darts closed at an edge. The
  spike is taken out of the ring and kept as a notch at its base, its length the depth;
* a **tiny self-overlap**: the line runs a fraction of a millimetre past a corner and back
  across itself. The loop it makes is cut off.

Both are repairs and are reported. A larger crossing (a graded size whose strap was pushed
across its armhole) is read as the one region the cut line's loops enclose together, with a
warning naming the point; a line whose loops do not make one region (a bow-tie, a figure of
eight) is refused, naming the point, and so is a spike longer than a notch can be
(`RepairLimits.slit_mm`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon

from patterns.dxf.outline import OutlineProblem, invalidity
from patterns.report import Code, note


class SelfIntersection(OutlineProblem):
    """A cut line that really crosses itself: its loops make no one region."""


@dataclass(frozen=True, slots=True)
class RepairLimits:
    """What counts as a repairable drawing habit (mm, or relative where noted)."""

    slit_mm: float = 10.0  # longest out-and-back spike taken as a slit notch
    width_mm: float = 0.05  # widest spike (distance between its out and back legs)
    notch_min_mm: float = 0.5  # shorter spikes are clean-up only, not notches
    overlap_rel: float = 2e-3  # largest self-overlap loop cut off, relative to the piece area


@dataclass(frozen=True, slots=True)
class Slit:
    """A spike taken out of a ring: where it leaves the ring, its tip and its length."""

    base: tuple[float, float]
    tip: tuple[float, float]
    length: float


@dataclass(frozen=True, slots=True)
class Repaired:
    """A ring made simple, with what was taken out of it."""

    points: np.ndarray
    slits: tuple[Slit, ...] = ()
    spikes_removed: int = 0  # spikes too short for notches
    overlap_area: float = 0.0  # area the outline changed by, taken as the region its loops enclose
    overlap_at: tuple[float, float] | None = None  # where the cut line crosses itself
    overlap_tiny: bool = True  # within RepairLimits.overlap_rel of the area: a drawing slip


def repair_ring(points: np.ndarray, limits: RepairLimits) -> Repaired:
    """The ring (n, 2) without spikes and tiny self-overlaps; raises `OutlineProblem` for a
    real self-intersection or a spike longer than ``limits.slit_mm``."""
    points = np.asarray(points, dtype=np.float64)
    if not np.isfinite(points).all():
        raise OutlineProblem("a contour has a coordinate that is not a finite number (NaN or infinity)")
    if len(points) >= 3 and Polygon(points).is_valid:
        return Repaired(points)  # a needle of a valid outline is the pattern maker's, not a slip
    kept, tips = _without_spikes(points, limits.width_mm)
    if len(kept) < 3:
        raise OutlineProblem("zero-area outline (the cut line only goes out and back)")
    ring = LineString(np.vstack([kept, kept[:1]]))
    slits, short = [], 0
    for tip in tips:
        base = ring.interpolate(ring.project(Point(tip)))
        length = float(base.distance(Point(tip)))
        if length > limits.slit_mm:
            raise OutlineProblem(f"a zero-width spike {length:.1f} mm long at ({tip[0]:.1f}, {tip[1]:.1f}) mm: "
                                 f"longer than a slit notch may be ({limits.slit_mm:g} mm)")
        if length < limits.notch_min_mm:
            short += 1
            continue
        slits.append(Slit((base.x, base.y), (float(tip[0]), float(tip[1])), length))
    slits = _deepest_per_base(slits, limits.notch_min_mm)
    polygon = Polygon(kept)
    if polygon.is_valid:
        return Repaired(kept, tuple(slits), short)
    main, changed, where = _enclosed(polygon, limits.overlap_rel)
    if main is None:
        raise SelfIntersection(f"self-intersecting outline ({invalidity(polygon)})")
    ring = np.asarray(main.exterior.coords)[:-1]
    return Repaired(ring, tuple(slits), short, changed, where, changed <= limits.overlap_rel * main.area)


def _without_spikes(points: np.ndarray, width: float) -> tuple[np.ndarray, list]:
    """The ring with every out-and-back vertex removed, and the removed tips.

    One pass is a stack scan over the ring as a sequence; the result is turned half way round
    and scanned again until two passes in a row change nothing, so that a spike across the
    first vertex (where the sequence is joined) goes too.
    """
    tips, ring, quiet = [], [tuple(p) for p in points], 0
    while quiet < 2 and len(ring) >= 3:
        stack = []
        for point in ring:
            while stack and _same(stack[-1], point):
                stack.pop()
            while len(stack) >= 2 and _is_tip(stack[-2], stack[-1], point, width):
                tips.append(stack.pop())
                while stack and _same(stack[-1], point):
                    stack.pop()
            stack.append(point)
        while len(stack) > 1 and _same(stack[0], stack[-1]):
            stack.pop()
        quiet = quiet + 1 if len(stack) == len(ring) else 0
        ring = stack[len(stack) // 2:] + stack[: len(stack) // 2]
    return np.array(ring, dtype=np.float64).reshape(-1, 2), tips


def _same(a, b) -> bool:
    return a[0] == b[0] and a[1] == b[1]


def _is_tip(p, c, q, width: float) -> bool:
    """c is the tip of an out-and-back p -> c -> q: the path reverses, and the shorter leg's
    far end lies within ``width`` of the longer leg's line."""
    ux, uy, vx, vy = c[0] - p[0], c[1] - p[1], q[0] - c[0], q[1] - c[1]
    if ux * vx + uy * vy >= 0.0:
        return False
    longer = max(np.hypot(ux, uy), np.hypot(vx, vy))
    return longer == 0.0 or abs(ux * vy - uy * vx) / longer <= width


def _deepest_per_base(slits: list[Slit], tolerance: float) -> list[Slit]:
    """One notch per base point: a slit drawn over several vertices leaves one tip per vertex."""
    kept: list[Slit] = []
    for slit in sorted(slits, key=lambda s: -s.length):
        if all(np.hypot(slit.base[0] - k.base[0], slit.base[1] - k.base[1]) > tolerance for k in kept):
            kept.append(slit)
    return sorted(kept, key=lambda s: s.base)


def _enclosed(polygon: Polygon, tiny_rel: float):
    """``(region, area changed, where)`` of a cut line that crosses itself: the one region its
    loops enclose together; or, when they meet only at points, the largest loop if the others
    are tiny (within ``tiny_rel`` of its area); else ``(None, 0, None)`` (a bow-tie, a figure
    of eight)."""
    lobes = [p for p in shapely.get_parts(shapely.make_valid(polygon, method="structure"))
             if isinstance(p, Polygon) and p.area > 0]
    if not lobes:
        return None, 0.0, None
    region = shapely.union_all(lobes)
    if not isinstance(region, Polygon) or not region.is_valid:
        region = max(lobes, key=lambda lobe: lobe.area)
        if sum(lobe.area for lobe in lobes) - region.area > tiny_rel * region.area:
            return None, 0.0, None
    region = Polygon(region.exterior)
    changed = float(abs(region.area - abs(shapely.area(polygon))))
    inside = region.representative_point()
    return region, changed, _crossing_point(polygon) or (inside.x, inside.y)


def _crossing_point(polygon: Polygon):
    match = re.match(r"^.*?\[(\S+) (\S+)\]$", shapely.is_valid_reason(polygon))
    return (float(match.group(1)), float(match.group(2))) if match else None


def report_repair(report: dict, repaired: Repaired, piece: str) -> None:
    """Records of what `repair_ring` took out of one of ``piece``'s rings."""
    for slit in repaired.slits:
        note(report, Code.SLIT_NOTCH, f"a {slit.length:.2f} mm out-and-back spike at ({slit.base[0]:.1f}, "
                                      f"{slit.base[1]:.1f}) mm taken out of the cut line and kept as a slit notch",
             piece=piece, at=list(slit.base), tip=list(slit.tip), length_mm=slit.length)
    if repaired.spikes_removed:
        note(report, Code.SPIKE_REMOVED, f"{repaired.spikes_removed} zero-width spike(s) shorter than a notch "
                                         f"taken out of the cut line", piece=piece, count=repaired.spikes_removed)
    if repaired.overlap_at is not None:
        x, y = repaired.overlap_at
        if repaired.overlap_tiny:
            note(report, Code.SELF_OVERLAP, f"a tiny self-overlap of the cut line at ({x:.1f}, {y:.1f}) mm "
                                            f"repaired (area changed by {repaired.overlap_area:.3g} mm²)",
                 piece=piece, at=[x, y], area_mm2=repaired.overlap_area)
        else:
            note(report, Code.SELF_CROSSING, f"the cut line crosses itself at ({x:.1f}, {y:.1f}) mm; the outline "
                                             f"is the region its loops enclose (area changed by "
                                             f"{repaired.overlap_area:.4g} mm²): check the piece",
                 piece=piece, at=[x, y], area_mm2=repaired.overlap_area)
