"""The one independent check: a live marker before it is written, a marker file before it is trusted.

Pure shapely and numpy on the true outlines, sharing nothing with the engine's grid, NFPs or
kernels. It holds the placed copies (`Placed`) to a `MarkerRules`, trusting neither: the rules
must be sound (margins, zones and spacing leave a fabric), every demanded copy is placed once,
each polygon is its outline under its stated rotation, mirroring and position, every
orientation and quantity is allowed, and the pieces lie inside the usable fabric, clear of
zones, no two overlapping by more than ``verify_overlap`` of the smaller one's area or closer
than the spacing.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import Polygon, box

from nesting.config import Tolerances
from nesting.errors import VerificationError
from nesting.fabric import PLIES, finite_number
from nesting.model import Marker, MarkerRules, oriented, placed_polygon
from nesting.orientation import MAX_TILT
from nesting.rules import resolution_violations, rotation_allowed


@dataclass(frozen=True, slots=True)
class Placed:
    """One placed copy as a marker states it: which piece and copy, its transform, its polygon.

    ``x``/``y`` are ``None`` in early marker/1 files, which stated the polygon alone.
    """

    id: str
    copy: int
    rotation: float
    mirrored: bool
    x: float | None
    y: float | None
    polygon: Polygon

    @property
    def label(self) -> str:
        return f"piece {self.id} copy {self.copy}"


def violations(marker: Marker, tolerances: Tolerances = Tolerances(), limit: int = 20) -> list[str]:
    """Every rule the live marker breaks, as readable lines (empty when it is valid)."""
    pieces = marker.pieces
    problems = [f"placement refers to piece #{p.piece}, which is not in the marker"
                for p in marker.placements if not 0 <= p.piece < len(pieces)]
    rules = marker.effective_rules()
    if rules.fabric != marker.fabric or rules.spacing != marker.spacing:
        problems.append("the marker was nested on another fabric or spacing than its rules state")
    placed = [Placed(pieces[p.piece].id, p.copy, p.rotation, p.mirrored, p.x, p.y, placed_polygon(pieces[p.piece], p))
              for p in marker.placements if 0 <= p.piece < len(pieces)]
    return (problems + check(rules, placed, marker.length, tolerances, limit))[:limit]


def verify(marker: Marker, tolerances: Tolerances = Tolerances()) -> Marker:
    """Return the marker if it is valid; raise `VerificationError` listing what is wrong."""
    problems = violations(marker, tolerances)
    if problems:
        raise VerificationError("marker failed verification: " + "; ".join(problems))
    return marker


def check(rules: MarkerRules, placed, length: float, tolerances: Tolerances = Tolerances(), limit: int = 20) -> list[str]:
    """Every problem of ``placed`` (a sequence of `Placed`) under ``rules`` in a marker ``length`` long.

    The polygons are taken to be valid: a live marker's come from imported outlines, a file's
    are checked by `nesting.verify_file` first.
    """
    problems = rules_violations(rules, length)
    if problems:
        return problems[:limit]  # nothing is measured against unsound rules
    if rules.pieces is not None:
        problems += piece_violations(rules, placed, tolerances)
        problems += fabric_violations(rules, placed, tolerances)
    problems += section_violations(rules, placed, length, tolerances)
    if rules.whole_repeats:
        period = rules.fabric.repeat.along if rules.fabric.repeat is not None else None
        if period is None:
            problems.append("rules.whole_repeats: the fabric states no repeat along the marker")
        elif abs(length / period - round(length / period)) * period > tolerances.verify_distance * rules.fabric.width:
            problems.append(f"length {length:g} is not a whole number of repeats of {period:g}")
    used = max((p.polygon.bounds[2] for p in placed), default=0.0)
    if used > length * (1 + 1e-9) + 1e-12:
        problems.append(f"pieces reach x = {used!r}, beyond the stated length {length!r}")
    problems += layout_violations([p.polygon for p in placed], [p.label for p in placed], rules.fabric, length,
                                  rules.spacing, tolerances, limit)
    return problems[:limit]


def rules_violations(rules: MarkerRules, length: float) -> list[str]:
    """The rules themselves: a fabric with room on it, a spacing, sound piece rules."""
    problems = [f"rules.{name}: {reason}" for name, reason in rules.fabric.problems()]
    if not finite_number(length) or length < 0:
        problems.append(f"length: must be a finite number >= 0, got {length!r}")
    m = rules.fabric.margins
    if not finite_number(rules.spacing) or rules.spacing < 0:
        problems.append(f"rules.spacing: must be a finite number >= 0, got {rules.spacing!r}")
    elif not problems and rules.spacing >= rules.fabric.width - m.bottom - m.top:
        problems.append(f"rules.spacing: {rules.spacing:g} is not less than the usable fabric width")
    for stated in rules.pieces or ():
        where = f"rules.pieces.{stated.id}"
        if not finite_number(stated.tilt) or not 0 <= stated.tilt < MAX_TILT:
            problems.append(f"{where}.tilt: must be in [0, {MAX_TILT:g}) degrees, got {stated.tilt!r}")
        if not isinstance(stated.rotations, str) and not all(finite_number(a) for a in stated.rotations):
            problems.append(f"{where}.rotations: every angle must be a finite number")
    return problems


def piece_violations(rules: MarkerRules, placed, tolerances: Tolerances) -> list[str]:
    """Each copy is its piece's outline in an allowed orientation; each piece's copies all there once."""
    problems = []
    stated_by_id = {stated.id: stated for stated in rules.pieces}
    copies = Counter()
    for p in placed:
        stated = stated_by_id.get(p.id)
        if stated is None:
            problems.append(f"{p.label}: no piece with this id in the marker's rules")
            continue
        copies[p.id, p.copy] += 1
        if p.x is None or p.y is None:
            problems.append(f"{p.label}: x or y missing, the position cannot be checked")
        else:
            expected = affinity.translate(oriented(stated.outline, p.rotation, p.mirrored), p.x, p.y)
            if not same_outline(expected, p.polygon, tolerances.verify_outline):
                problems.append(f"{p.label}: polygon is not its outline under rotation {p.rotation:g}, "
                                f"mirrored={p.mirrored}, at ({p.x:g}, {p.y:g})")
        # a mirrored copy is reflected across its grain: x -> -x then a half turn (`Piece.rotations_for`)
        if not rotation_allowed(p.rotation - 180.0 if p.mirrored else p.rotation, stated.rotations, stated.tilt,
                                tolerances.verify_angle):
            problems.append(f"{p.label}: rotation {p.rotation:g} breaks its rotation rule {_rule_text(stated)}")
        if p.mirrored != (p.copy >= stated.quantity) and not stated.flip:
            problems.append(f"{p.label}: {'mirrored' if p.mirrored else 'not mirrored'}, but the piece may not flip")
    for (piece_id, copy), count in copies.items():
        demand = stated_by_id[piece_id].demand
        if count > 1:
            problems.append(f"piece {piece_id} copy {copy} placed {count} times")
        if not 0 <= copy < demand:
            problems.append(f"piece {piece_id} copy {copy} is beyond its demand {demand}")
    ratio = rules.size_ratio
    for stated in rules.pieces:
        missing = [c for c in range(stated.demand) if (stated.id, c) not in copies]
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (f", ... ({len(missing)} in all)" if len(missing) > 10 else "")
            problems.append(f"piece {stated.id}: copies [{shown}] not placed")
        if ratio is not None:
            if stated.size not in ratio:
                problems.append(f"piece {stated.id}: size {stated.size} is not in the size ratio {ratio}")
            elif stated.per_garment is not None and (stated.yields != 1 or stated.fold is not None):
                cut = sum(stated.per_garment) * ratio[stated.size]
                if cut != stated.demand * stated.yields:
                    problems.append(f"piece {stated.id}: {stated.demand} placements cutting {stated.yields} each, but size "
                                    f"{stated.size} x {ratio[stated.size]} needs {cut} pieces")
            elif stated.per_garment is not None:
                q, m = (n * ratio[stated.size] for n in stated.per_garment)
                if (q, m) != (stated.quantity, stated.mirrored_quantity):
                    problems.append(f"piece {stated.id}: {stated.quantity}+{stated.mirrored_quantity} copies, but size "
                                    f"{stated.size} x {ratio[stated.size]} needs {q}+{m}")
    return problems + resolution_violations(rules)


def fabric_violations(rules: MarkerRules, placed, tolerances: Tolerances) -> list[str]:
    """The spread and the repeat: pieces cut per placement, halves on a fold, match points on the repeat."""
    fabric = rules.fabric
    problems = []
    stated_by_id = {stated.id: stated for stated in rules.pieces}
    plies = PLIES.get(fabric.spread, 1)
    edges = {"bottom": 0.0, "top": fabric.width}
    reach = tolerances.verify_fold * fabric.width
    for stated in rules.pieces:
        if stated.fold is not None and not fabric.fold_edges:
            problems.append(f"piece {stated.id}: a half piece on the fold, but a {fabric.spread} spread has no fold")
        expected = 1 if stated.fold is not None else plies
        if stated.yields != expected:
            problems.append(f"piece {stated.id}: states {stated.yields} pieces per placement, a {fabric.spread} spread "
                            f"cuts {expected}")
        if stated.match is not None and (fabric.repeat is None or any(
                wanted and fabric.repeat.period(axis) is None
                for axis, wanted in ((0, stated.match.along), (1, stated.match.across)))):
            problems.append(f"piece {stated.id}: matched {_directions(stated.match)}, but the fabric has no such repeat")
    if problems:
        return problems
    for p in placed:
        stated = stated_by_id.get(p.id)
        if stated is None or p.x is None or p.y is None:
            continue  # reported by piece_violations
        if stated.fold is not None:
            ys = [y for _, y in _placed_points(stated.fold, p)]
            on = [edge for edge in fabric.fold_edges if all(abs(y - edges[edge]) <= reach for y in ys)]
            if not on:
                problems.append(f"{p.label}: its mirror line (y {min(ys):.6g}..{max(ys):.6g}) is not on the fold "
                                f"({' or '.join(f'y = {edges[e]:g}' for e in fabric.fold_edges)})")
        if stated.match is not None:
            ((x, y),) = _placed_points((stated.match.point,), p)
            for axis, wanted, value in ((0, stated.match.along, x), (1, stated.match.across, y)):
                if not wanted:
                    continue
                period, offset = fabric.repeat.period(axis), fabric.repeat.offset(axis)
                phase = (value - offset) % period
                if min(phase, period - phase) > reach:
                    group = f" (group {stated.match.group})" if stated.match.group else ""
                    problems.append(f"{p.label}{group}: match point at {'xy'[axis]} = {value:.6g} is {phase:.6g} off "
                                    f"the repeat ({offset:g} + k x {period:g} {('along', 'across')[axis]})")
    return problems


def section_violations(rules: MarkerRules, placed, length: float, tolerances: Tolerances) -> list[str]:
    """Shade sections: end to end over the marker, none too long, each garment's pieces within one."""
    if not rules.sections:
        return []
    slack = tolerances.verify_distance * rules.fabric.width
    sections = rules.sections
    problems = []
    if abs(sections[0][0]) > slack or abs(sections[-1][1] - length) > slack:
        problems.append(f"sections: they run from {sections[0][0]:g} to {sections[-1][1]:g}, not over the marker "
                        f"(0 to {length:g})")
    for k, (start, end) in enumerate(sections):
        if end < start or (k and abs(start - sections[k - 1][1]) > slack):
            problems.append(f"sections[{k}]: {start:g}..{end:g} does not follow the section before it")
        if rules.section_length is not None and end - start > rules.section_length + slack:
            problems.append(f"sections[{k}]: {end - start:.1f} long, more than the section length "
                            f"{rules.section_length:g}")
    stated_by_id = {stated.id: stated for stated in rules.pieces or ()}
    bundle_section = {}
    for p in placed:
        minx, _, maxx, _ = p.polygon.bounds
        inside = [k for k, (start, end) in enumerate(sections) if minx >= start - slack and maxx <= end + slack]
        if not inside:
            problems.append(f"{p.label} lies across a section boundary (x {minx:.1f}..{maxx:.1f})")
            continue
        stated = stated_by_id.get(p.id)
        bundle = rules.bundle_of(stated, p.copy) if stated is not None else None
        if bundle is None:
            problems.append(f"{p.label}: belongs to no garment of a size ratio, so no section can hold its bundle")
            continue
        first = bundle_section.setdefault(bundle, (inside[0], p.label))
        if first[0] != inside[0]:
            problems.append(f"{p.label} is in section {inside[0] + 1}, but {first[1]} of the same garment "
                            f"(size {stated.size}, bundle {bundle[2] + 1}) is in section {first[0] + 1}")
    return problems


def _placed_points(points, p: Placed) -> list[tuple[float, float]]:
    """Points of the piece frame where the placed copy puts them: mirror (x -> -x), rotate, translate."""
    c, s = math.cos(math.radians(p.rotation)), math.sin(math.radians(p.rotation))
    out = []
    for x, y in points:
        x = -x if p.mirrored else x
        out.append((c * x - s * y + p.x, s * x + c * y + p.y))
    return out


def _directions(match) -> str:
    return " and ".join(name for name, wanted in (("along", match.along), ("across", match.across)) if wanted)


def layout_violations(polygons, labels, fabric, length, spacing=0.0, tolerances=Tolerances(), limit=20) -> list[str]:
    """Geometric rules alone: usable fabric, table length, zones, overlap, spacing."""
    problems = []
    slack = tolerances.verify_distance * fabric.width
    margins = fabric.margins
    usable = box(margins.start - slack, margins.bottom - slack, length - margins.end + slack,
                 fabric.width - margins.top + slack)
    if fabric.max_length is not None and length > fabric.max_length + slack:
        problems.append(f"marker length {length:g} exceeds the table length {fabric.max_length:g}")
    zones = shapely.STRtree(fabric.zones)
    for label, polygon in zip(labels, polygons):
        if not usable.contains(polygon):
            problems.append(f"{label} is outside the usable fabric (bounds {polygon.bounds})")
        for k in zones.query(polygon):
            if shapely.intersection(fabric.zones[k], polygon).area > tolerances.verify_overlap * polygon.area:
                problems.append(f"{label} overlaps a clear zone")
        if len(problems) >= limit:
            return problems[:limit]
    tree = shapely.STRtree(polygons)
    reach = max(spacing - slack, 0.0)
    for i, polygon in enumerate(polygons):
        candidates = tree.query(polygon, predicate="dwithin", distance=reach) if reach > 0 else tree.query(polygon)
        for j in candidates:
            if j <= i:
                continue
            other = polygons[j]
            overlap = shapely.intersection(polygon, other).area
            if overlap > tolerances.verify_overlap * min(polygon.area, other.area):
                problems.append(f"{labels[i]} overlaps {labels[j]} (area {overlap:.6g})")
            elif reach > 0 and shapely.distance(polygon, other) < reach:
                problems.append(f"{labels[i]} is closer than the spacing {spacing:g} to {labels[j]}")
        if len(problems) >= limit:
            break
    return problems[:limit]


def same_outline(expected: Polygon, polygon: Polygon, tolerance: float) -> bool:
    """Is ``polygon`` ``expected``, vertex for vertex, within ``tolerance`` of its size?

    Rings may start at another vertex or run the other way. Linear in the vertices: a
    Hausdorff distance is quadratic, and a 100k-vertex outline would take minutes.
    """
    if len(expected.interiors) != len(polygon.interiors):
        return False
    minx, miny, maxx, maxy = expected.bounds
    reach = tolerance * math.hypot(maxx - minx, maxy - miny)
    pairs = zip([expected.exterior, *expected.interiors], [polygon.exterior, *polygon.interiors])
    return all(_same_ring(np.asarray(a.coords)[:-1], np.asarray(b.coords)[:-1], reach) for a, b in pairs)


def _same_ring(ring: np.ndarray, other: np.ndarray, reach: float) -> bool:
    if ring.shape != other.shape or not len(ring):
        return False
    for candidate in (other, other[::-1]):
        starts = np.flatnonzero(np.abs(candidate - ring[0]).max(axis=1) <= reach)
        for start in starts[:4]:  # more than a few vertices within reach of one is a degenerate ring
            if np.abs(np.roll(candidate, -start, axis=0) - ring).max() <= reach:
                return True
    return False


def _rule_text(stated) -> str:
    if isinstance(stated.rotations, str):
        return stated.rotations + (f" +/-{stated.tilt:g}" if stated.tilt else "")
    return "(" + ", ".join(f"{a:g}" for a in stated.rotations) + ")"

