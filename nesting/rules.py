"""A spec's rules applied to pattern pieces before nesting, and stated for verification after.

Each piece gets the rotations its orientation rule allows (tilt included, sampled), its flip
permission and its shrinkage-compensated outline; pieces from several pattern files get ids
that stay unique (``STYLE/PIECE/SIZE``). The engine then only sees plain pieces, and the
marker carries the `MarkerRules` (`marker_rules`) it is verified against.

``spec`` is the application's marker spec (`jobs.spec.MarkerSpec`): read here for its fields
(orientation, shrinkage, fabric, spacing, sizes, label) only, so that the engine never imports
the application above it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from shapely import affinity

from nesting import spread
from nesting.errors import SpecError
from nesting.fabric import finite_number
from nesting.model import MarkerRules, PieceRules, near_rotation, oriented
from nesting.orientation import parse_rules, piece_key_matches, rule_step
from patterns.piece import Annotations, Match, Notch, Piece


def base_angles(rule: str) -> tuple[float, ...]:
    """The rotations a rule allows before tilt: ``none`` (0), ``180``, ``90``, ``free:STEP``.

    The one enumeration of a rule's angles (`_grid`): the nesting samples them, the verifier
    checks against them.
    """
    step, count = _grid(rule)
    return tuple(k * step for k in range(count))


def rotation_allowed(rotation: float, rule, tilt: float, tolerance: float) -> bool:
    """Is ``rotation`` within ``tilt`` (plus ``tolerance``) degrees of an angle the rule allows?

    ``rule`` is ``none``, ``180``, ``90``, ``free:STEP`` or an explicit sequence of angles. For a
    rule only the allowed angles next to ``rotation`` are compared, so that a file stating
    ``free:1e-9`` costs no more to check than ``90``.
    """
    if isinstance(rule, str):
        step, count = _grid(rule)
        k = math.floor(rotation % 360.0 / step)
        rule = [j * step for j in (k, k + 1, 0, count - 1) if 0 <= j < count]
    return near_rotation(rotation, rule, tilt + tolerance)


def _grid(rule: str) -> tuple[float, int]:
    """A rule's angles as (step, count): ``k * step`` for ``k`` in ``range(count)``."""
    step = rule_step(rule)
    return step, math.ceil(360.0 / step - 1e-9)


def rotation_angles(rule: str, tilt: float = 0.0) -> tuple[float, ...]:
    """Every rotation the nesting tries: each base angle, and +/- ``tilt`` around it."""
    return _around(base_angles(rule), tilt)


def tilted(rotations, tilt: float) -> tuple[float, ...]:
    """A piece's own rotations with the tilt samples added around each."""
    return tuple(rotations) if tilt <= 0 else _around(rotations, tilt)


def _around(angles, tilt: float) -> tuple[float, ...]:
    offsets = (0.0, -tilt, tilt) if tilt > 0 else (0.0,)
    return tuple(dict.fromkeys(round((a + d) % 360.0, 9) % 360.0 for a in angles for d in offsets))


def apply(pieces, spec) -> tuple[Piece, ...]:
    """The pieces with the spec's orientation rules and shrinkage applied.

    A rule field left unset keeps the pattern's own value (an instance's allowed rotations,
    a DXF piece's flip).
    """
    pieces = tuple(pieces)
    check_rule_keys(pieces, spec)
    along, across = spec.shrinkage
    fx, fy = 100.0 / (100.0 - along), 100.0 / (100.0 - across)
    result = []
    for piece in pieces:
        rule = spec.orientation.resolve(piece.name, piece.id, piece.category)
        tilt = rule.tilt or 0.0
        rotations = rotation_angles(rule.rotations, tilt) if rule.rotations else tilted(piece.rotations, tilt)
        flip = piece.flip if rule.flip is None else rule.flip
        if (fx, fy) != (1.0, 1.0):
            piece = scaled(piece, fx, fy)
        match = None
        if rule.match is not None:
            match = match_of(piece, rule.match, rule.match_point, rule.match_group, spec.label(_rule_name(spec, piece)))
            _check_repeat(match, spec, piece)
        result.append(replace(piece, rotations=rotations, flip=flip, match=match))
    return tuple(result)


def _rule_name(spec, piece) -> str:
    """The most particular rule table that speaks of this piece (for error messages)."""
    keys = [key for key, _ in spec.orientation.pieces if piece_key_matches(key, piece.name, piece.id)]
    if keys:
        return f"rules.pieces.{keys[-1]}"
    categories = [key for key, _ in spec.orientation.categories if key == piece.category]
    return f"rules.categories.{categories[-1]}" if categories else "rules"


def _check_repeat(match: Match, spec, piece) -> None:
    repeat = spec.repeat
    for wanted, period, name in ((match.along, repeat and repeat.along, "along"),
                                 (match.across, repeat and repeat.across, "across")):
        if wanted and period is None:
            raise SpecError(f"{spec.label('fabric.repeat')}: piece {piece.id} is matched {name}, but the fabric has "
                            f"no repeat {name} ([fabric.repeat] {name} = PERIOD)")


MATCH_DIRECTIONS = {"across": (False, True), "along": (True, False), "both": (True, True)}


def match_of(piece: Piece, direction: str, point, group: str | None, where: str) -> Match:
    """A piece's stripe or check match: the directions and the point (`match_point`) in its frame."""
    if direction not in MATCH_DIRECTIONS:
        raise SpecError(f"{where}.match: must be one of {', '.join(MATCH_DIRECTIONS)}, got {direction!r}")
    along, across = MATCH_DIRECTIONS[direction]
    return Match(match_point(piece, point, f"{where}.match_point"), along, across, group)


def match_point(piece: Piece, value, where: str) -> tuple[float, float]:
    """``grain`` (the grain line's start), ``notch:N`` (the piece's N-th notch, from 1) or ``[x, y]``.

    A point is in the piece's own frame as marker.json states its outline (mm, grain along +x).
    """
    if value is None:
        raise SpecError(f"{where}: is required with match (grain, notch:N or [x, y]) for piece {piece.id}")
    if isinstance(value, list | tuple) and len(value) == 2 and all(finite_number(v) for v in value):
        return (float(value[0]), float(value[1]))
    text = str(value).strip().lower()
    if text == "grain":
        if piece.annotations.grain_line is None:
            raise SpecError(f"{where}: piece {piece.id} has no grain line to match at")
        return tuple(map(float, piece.annotations.grain_line[0]))
    if text.startswith("notch:") and text[6:].strip().isdigit():
        k = int(text[6:])
        notches = piece.annotations.notches
        if not 1 <= k <= len(notches):
            raise SpecError(f"{where}: piece {piece.id} has {len(notches)} notch{'es' * (len(notches) != 1)}, "
                            f"no notch {k}")
        return (notches[k - 1].x, notches[k - 1].y)
    raise SpecError(f"{where}: must be grain, notch:N or [x, y], got {value!r}"[:300])


def check_rule_keys(pieces, spec) -> None:
    """A piece or category rule that matches no piece is a typo: say so."""
    categories = {p.category for p in pieces}
    for key, _ in spec.orientation.categories:
        if key not in categories:
            known = ", ".join(sorted(c for c in categories if c)) or "none"
            raise SpecError(f"{spec.label(f'rules.categories.{key}')}: no piece has this category (categories: {known})")
    for key, _ in spec.orientation.pieces:
        if not any(piece_key_matches(key, p.name, p.id) for p in pieces):
            names = ", ".join(sorted({p.name for p in pieces}))
            raise SpecError(f"{spec.label(f'rules.pieces.{key}')}: no piece has this name or id (pieces: {names})")


def scaled(piece: Piece, fx: float, fy: float) -> Piece:
    """The piece scaled by ``fx`` along the grain (x) and ``fy`` across it, about its origin.

    Shrinkage compensation enlarges (factors > 1): the fabric shrinks the cut piece back to size.
    """
    return replace(piece, outline=affinity.scale(piece.outline, fx, fy, origin=(0, 0)),
                   annotations=_scaled_annotations(piece.annotations, fx, fy))


def _scaled_annotations(a: Annotations, fx: float, fy: float) -> Annotations:
    def line(points):
        return None if points is None else tuple((x * fx, y * fy) for x, y in points)

    def notch(n: Notch) -> Notch:
        angle = math.degrees(math.atan2(math.sin(math.radians(n.angle)) * fy, math.cos(math.radians(n.angle)) * fx))
        return replace(n, x=n.x * fx, y=n.y * fy, angle=angle)

    return replace(
        a, grain_line=line(a.grain_line), mirror_line=line(a.mirror_line), notches=tuple(notch(n) for n in a.notches),
        internal_lines=tuple(line(p) for p in a.internal_lines), sew_lines=tuple(line(p) for p in a.sew_lines),
        drill_holes=line(a.drill_holes) or (),
    )


def unique_ids(groups) -> tuple[Piece, ...]:
    """Pieces of several pattern files, ids prefixed by style so that none repeats.

    ``groups`` is ``[(pattern_path, pieces), ...]``. With one file the ids stay as read.
    """
    groups = list(groups)
    if len(groups) > 1:
        styles = {}
        renamed = []
        for path, pieces in groups:
            style = next((p.style for p in pieces if getattr(p, "style", None)), None) or Path(path).stem
            styles[style] = styles.get(style, 0) + 1
            if styles[style] > 1:
                style = f"{style}-{styles[style]}"
            renamed.append((path, [p if p.id.startswith(style + "/") else replace(p, id=f"{style}/{p.id}") for p in pieces]))
        groups = renamed
    seen = {}
    for path, pieces in groups:
        for piece in pieces:
            if piece.id in seen:
                raise SpecError(f"patterns: piece id {piece.id!r} occurs twice ({seen[piece.id]} and {path})")
            seen[piece.id] = path
    return tuple(p for _, pieces in groups for p in pieces)


def _from_file(piece) -> str:
    return f" (of {Path(piece.source).name})" if piece.source else ""


def check_fits(pieces, spec) -> None:
    """Fail before nesting when the fabric cannot hold a piece, or the table the whole marker.

    Width: every piece must fit between the margins in one of its allowed orientations.
    Table length: the marker is at least the pieces' area over the usable width, and at least
    the longest piece in its shortest allowed orientation.
    """
    fabric = spec.fabric
    m = fabric.margins
    usable = fabric.width - m.bottom - m.top
    longest = 0.0
    for piece in pieces:
        extents = [_extents(oriented(piece.outline, r, mirrored)) for r in piece.rotations
                   for mirrored in ((False, True) if piece.flip else (False,))]
        across = min(h for _, h in extents)
        if across > usable * (1 + 1e-9):
            raise SpecError(
                f"{spec.label('fabric.width')}: piece {piece.id}{_from_file(piece)} does not fit: it needs {across:.1f} in its narrowest "
                f"allowed rotation, the fabric is {fabric.width:g} wide ({usable:g} between the margins)"
            )
        longest = max(longest, min(w for w, h in extents if h <= usable * (1 + 1e-9)))
    if fabric.max_length is None:
        return
    area = sum(p.area * p.demand / spread.yields(p, fabric) for p in pieces)  # a two-ply placement cuts two
    needed = max(area / usable, longest) + m.start + m.end
    if needed > fabric.max_length:
        raise SpecError(
            f"{spec.label('fabric.max_length')}: the pieces need at least {needed:.1f} of marker length "
            f"(margins included), more than the table's {fabric.max_length:g}"
        )


def _extents(polygon) -> tuple[float, float]:
    minx, miny, maxx, maxy = polygon.bounds
    return maxx - minx, maxy - miny


def marker_rules(pieces, spec) -> MarkerRules:
    """The rules a marker of these (`apply`-ed) pieces is held to under ``spec``, as its file states them."""
    ratio = spec.size_ratio
    fabric = spec.fabric
    stated = []
    for piece in pieces:
        rule = spec.orientation.resolve(piece.name, piece.id, piece.category)
        rotations = rule.rotations if rule.rotations else tuple(piece.rotations)
        tilt = (rule.tilt or 0.0) if rule.rotations else 0.0
        per_garment = None
        if ratio and piece.size in ratio:
            per_garment = (piece.quantity // ratio[piece.size], piece.mirrored_quantity // ratio[piece.size])
        placed = spread.placed_pieces((piece,), fabric, spec.label)[0]
        stated.append(PieceRules(piece.id, piece.name, piece.size, piece.category, piece.source, rotations, tilt,
                                 piece.flip, placed.quantity, placed.mirrored_quantity, piece.outline, per_garment,
                                 spread.yields(piece, fabric), spread.fold_line(piece, fabric), piece.match))
    sizes = None if ratio is None else tuple(ratio.items())
    return MarkerRules(spec.fabric, spec.spacing, tuple(stated), sizes, spec.shrinkage,
                       spec.orientation.as_dict(), spec.fabric_price)


def resolution_violations(rules: MarkerRules) -> list[str]:
    """Each piece's stated rule must be what the stated orientation rules give it."""
    if rules.orientation is None or rules.pieces is None:
        return []
    try:
        orientation = parse_rules(rules.orientation, lambda name: name)
    except SpecError as exc:
        return [f"rules.orientation: {exc}"]
    problems = []
    for stated in rules.pieces:
        rule = orientation.resolve(stated.name, stated.id, stated.category)
        label = f"piece {stated.id}"
        if rule.rotations is not None and (rule.rotations, rule.tilt or 0.0) != (stated.rotations, stated.tilt):
            problems.append(f"{label}: rules.orientation gives rotations {rule.rotations} +/-{rule.tilt or 0:g}, "
                            f"but the piece states {stated.rotations} +/-{stated.tilt:g}")
        if rule.flip is not None and rule.flip != stated.flip:
            problems.append(f"{label}: rules.orientation gives flip={rule.flip}, but the piece states flip={stated.flip}")
        stated_match = None if stated.match is None else ((stated.match.along, stated.match.across), stated.match.group)
        wanted = None if rule.match is None else (MATCH_DIRECTIONS.get(rule.match), rule.match_group)
        if stated_match != wanted:
            problems.append(f"{label}: rules.orientation gives match {rule.match} (group {rule.match_group}), but the "
                            f"piece states {stated.match}")
    return problems


def garments(rules, ratio) -> int:
    """Garments in a marker: each pattern file's sizes, times the size ratio."""
    ratio = ratio or {}
    return sum(ratio.get(size, 1) for _, size in {(r.source, r.size) for r in rules})


def grain_deviation(rotation: float) -> float:
    """Angle between a placed piece's grain line and the marker length, in (-90, 90] degrees."""
    folded = (rotation + 90.0) % 180.0 - 90.0
    return 90.0 if folded == -90.0 else folded
