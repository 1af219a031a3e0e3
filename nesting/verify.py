"""The independent check every marker passes before it is written or reported.

Pure shapely on the true outlines, sharing nothing with the engine's grid, NFPs or kernels:
every demanded copy placed once, inside the usable fabric, clear of zones, no two pieces
overlapping by more than ``overlap`` of the smaller one's area, no two closer than the
spacing, every orientation allowed.
"""

from __future__ import annotations

from collections import Counter

import shapely
from shapely.geometry import box

from nesting.config import Tolerances
from nesting.errors import VerificationError
from nesting.model import Marker, placed_polygon
from nesting.rules import piece_rules
from nesting.spec import rule_step

_ANGLE_TOLERANCE = 1e-6  # degrees


def violations(marker: Marker, tolerances: Tolerances = Tolerances(), limit: int = 20) -> list[str]:
    """Every rule the marker breaks, as readable lines (empty when it is valid)."""
    problems = []
    pieces = marker.pieces
    counts = Counter((p.piece, p.copy) for p in marker.placements)
    for (piece, copy), count in counts.items():
        if not 0 <= piece < len(pieces):
            problems.append(f"placement refers to piece #{piece}, which is not in the marker")
        elif count > 1:
            problems.append(f"piece {pieces[piece].id} copy {copy} placed {count} times")
        elif not 0 <= copy < pieces[piece].demand:
            problems.append(f"piece {pieces[piece].id} copy {copy} is beyond its demand {pieces[piece].demand}")
    for index, piece in enumerate(pieces):
        missing = [c for c in range(piece.demand) if (index, c) not in counts]
        if missing:
            problems.append(f"piece {piece.id}: copies {missing} not placed")
    valid = [p for p in marker.placements if 0 <= p.piece < len(pieces)]
    for placement in valid:
        piece = pieces[placement.piece]
        if not _orientation_allowed(piece, placement):
            problems.append(
                f"piece {piece.id} copy {placement.copy}: orientation rotation={placement.rotation:g} "
                f"mirrored={placement.mirrored} is not allowed"
            )
    labels = [f"piece {pieces[p.piece].id} copy {p.copy}" for p in valid]
    polygons = [placed_polygon(pieces[p.piece], p) for p in valid]
    problems += layout_violations(polygons, labels, marker.fabric, marker.length, marker.spacing, tolerances)
    if marker.spec is not None:
        stated = piece_rules(marker)
        placed = [(labels[k], stated[p.piece], p.copy, p.rotation, p.mirrored) for k, p in enumerate(valid)]
        problems += rule_violations(placed, stated, marker.spec.size_ratio)
    return problems[:limit]


def rule_violations(placed, stated, ratio) -> list[str]:
    """Orientation, flip and quantity rules, from what a marker states.

    ``placed`` is ``[(label, PieceRules, copy, rotation, mirrored), ...]``; ``stated`` every
    piece type's `PieceRules`; ``ratio`` the size ratio or ``None``. A rotation is allowed
    when it lies within the rule's tilt of one of the rule's angles (plus a half turn for a
    mirrored copy, see `Piece.rotations_for`), whatever angles the nesting sampled; a copy is mirrored exactly when it is one of the mirrored quantity,
    unless the piece may flip.
    """
    problems = []
    for label, rules, copy, rotation, mirrored in placed:
        if not rotation_allowed(rotation - 180.0 if mirrored else rotation, rules.rotations, rules.tilt):
            problems.append(f"{label}: rotation {rotation:g} breaks its rotation rule {_rule_text(rules)}")
        if mirrored != (copy >= rules.quantity) and not rules.flip:
            problems.append(f"{label}: {'mirrored' if mirrored else 'not mirrored'}, but the piece may not flip")
    copies = Counter((rules.id, copy) for _, rules, copy, _, _ in placed)
    for rules in stated:
        demand = rules.quantity + rules.mirrored_quantity
        have = sorted(copy for (piece, copy) in copies if piece == rules.id)
        if have != list(range(demand)) or any(copies[(rules.id, c)] > 1 for c in have):
            problems.append(f"piece {rules.id}: copies {have} placed, the marker needs copies 0..{demand - 1}")
        if ratio is not None:
            if rules.size not in ratio:
                problems.append(f"piece {rules.id}: size {rules.size} is not in the size ratio {ratio}")
            elif rules.per_garment is not None:
                q, m = (n * ratio[rules.size] for n in rules.per_garment)
                if (q, m) != (rules.quantity, rules.mirrored_quantity):
                    problems.append(f"piece {rules.id}: {rules.quantity}+{rules.mirrored_quantity} copies, but size "
                                    f"{rules.size} x {ratio[rules.size]} needs {q}+{m}")
    return problems


def rotation_allowed(rotation: float, rule, tilt: float = 0.0) -> bool:
    """Is ``rotation`` within ``tilt`` degrees of an angle the rule allows?

    ``rule`` is ``none``, ``180``, ``90``, ``free:STEP`` or an explicit sequence of angles.
    """
    if isinstance(rule, str):
        step = rule_step(rule)
        angles = [k * step for k in range(int(360.0 // step) + 1)]
    else:
        angles = list(rule)
    return any(abs((rotation - a + 180.0) % 360.0 - 180.0) <= tilt + _ANGLE_TOLERANCE for a in angles)


def _rule_text(rules) -> str:
    if isinstance(rules.rotations, str):
        return rules.rotations + (f" +/-{rules.tilt:g}" if rules.tilt else "")
    return "(" + ", ".join(f"{a:g}" for a in rules.rotations) + ")"


def layout_violations(polygons, labels, fabric, length, spacing=0.0, tolerances=Tolerances(), limit=20) -> list[str]:
    """Geometric rules alone: usable fabric, table length, zones, overlap, spacing."""
    problems = []
    slack = tolerances.verify_distance * fabric.width
    margins = fabric.margins
    usable = box(margins.start - slack, margins.bottom - slack, length - margins.end + slack,
                 fabric.width - margins.top + slack)
    if fabric.max_length is not None and length > fabric.max_length + slack:
        problems.append(f"marker length {length:g} exceeds the table length {fabric.max_length:g}")
    for label, polygon in zip(labels, polygons):
        if not usable.contains(polygon):
            problems.append(f"{label} is outside the usable fabric (bounds {polygon.bounds})")
        for zone in fabric.zones:
            if shapely.intersection(zone, polygon).area > tolerances.verify_overlap * polygon.area:
                problems.append(f"{label} overlaps a clear zone")
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


def _orientation_allowed(piece, placement) -> bool:
    base_mirror = placement.copy >= piece.quantity
    if placement.mirrored != base_mirror and not piece.flip:
        return False
    return any(abs((placement.rotation - r + 180.0) % 360.0 - 180.0) <= _ANGLE_TOLERANCE
               for r in piece.rotations_for(placement.mirrored))


def verify(marker: Marker, tolerances: Tolerances = Tolerances()) -> Marker:
    """Return the marker if it is valid; raise `VerificationError` listing what is wrong."""
    problems = violations(marker, tolerances)
    if problems:
        raise VerificationError("marker failed verification: " + "; ".join(problems))
    return marker
