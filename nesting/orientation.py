"""The orientation rules: how a piece may lie (rotation rule, tilt, flip), and their text form.

A fabric's rule is overridable per category and per piece (`RuleSet`). The engine needs them to
apply rules to pieces and to check markers, the marker file states them, and the spec reads them
from TOML: one parser for all three. Every bad value raises a one-line `SpecError` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from nesting.errors import SpecError, shown

ROTATION_RULES = ("none", "180", "90", "free:STEP")
_RULE_STEPS = {"none": 360.0, "180": 180.0, "90": 90.0}
MAX_TILT = 45.0  # degrees; beyond this a "tilt" is another orientation
_RULE_KEYS = {"rotations", "tilt", "flip", "match", "match_point", "match_group"}
MATCH_DIRECTIONS = ("across", "along", "both")


@dataclass(frozen=True, slots=True)
class OrientationRule:
    """How a piece may lie: rotation rule, tilt tolerance (+/- degrees), mirroring.

    ``None`` in a field means "not set here": a more general rule, or the pattern's own
    value, applies.
    """

    rotations: str | None = None
    tilt: float | None = None
    flip: bool | None = None
    match: str | None = None  # stripe or check matching: across, along or both (`nesting.rules.match_of`)
    match_point: str | tuple[float, float] | None = None  # grain, notch:N or (x, y) in the piece frame
    match_group: str | None = None

    def over(self, general: OrientationRule) -> OrientationRule:
        """This rule where it is set, ``general`` elsewhere."""
        return OrientationRule(*(mine if mine is not None else theirs
                                 for mine, theirs in zip(self._values(), general._values())))

    def _values(self) -> tuple:
        return (self.rotations, self.tilt, self.flip, self.match, self.match_point, self.match_group)

    def as_dict(self) -> dict:
        """The fields that are set, as in the spec file."""
        names = ("rotations", "tilt", "flip", "match", "match_point", "match_group")
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in zip(names, self._values()) if value is not None}


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The fabric's orientation rule, with overrides by category and by piece (piece wins).

    A piece key matches a piece's name, its id, or the leading part of its id
    (``STYLE/PIECE`` matches every size of that piece).
    """

    default: OrientationRule = field(default_factory=OrientationRule)
    categories: tuple[tuple[str, OrientationRule], ...] = ()
    pieces: tuple[tuple[str, OrientationRule], ...] = ()

    def resolve(self, name, piece_id, category) -> OrientationRule:
        rule = self.default
        for key, override in self.categories:
            if key == category:
                rule = override.over(rule)
        for key, override in self.pieces:
            if piece_key_matches(key, name, piece_id):
                rule = override.over(rule)
        return rule

    def as_dict(self) -> dict:
        return {
            **self.default.as_dict(),
            "categories": {key: rule.as_dict() for key, rule in self.categories},
            "pieces": {key: rule.as_dict() for key, rule in self.pieces},
        }


def piece_key_matches(key: str, name, piece_id) -> bool:
    return key == name or key == piece_id or str(piece_id).startswith(key + "/")


def parse_rules(table, where) -> RuleSet:
    if not isinstance(table, dict):
        raise SpecError(f"{where('rules')}: must be a table")
    known_fields(table, _RULE_KEYS | {"pieces", "categories"}, where, "rules.")
    groups = {}
    for group in ("categories", "pieces"):
        entries = table.get(group, {})
        if not isinstance(entries, dict):
            raise SpecError(f"{where(f'rules.{group}')}: must be a table of rules by name")
        groups[group] = tuple(
            (str(key), parse_rule(value, where, f"rules.{group}.{key}")) for key, value in entries.items()
        )
    return RuleSet(parse_rule({k: v for k, v in table.items() if k in _RULE_KEYS}, where, "rules"),
                   groups["categories"], groups["pieces"])


def parse_rule(table, where, name) -> OrientationRule:
    if not isinstance(table, dict):
        raise SpecError(f"{where(name)}: must be a table with rotations, tilt, flip")
    known_fields(table, _RULE_KEYS, where, name + ".")
    rotations = parse_rotations(table["rotations"], where(f"{name}.rotations")) if "rotations" in table else None
    tilt = parse_tilt(table["tilt"], where(f"{name}.tilt")) if "tilt" in table else None
    flip = table.get("flip")
    if flip is not None and not isinstance(flip, bool):
        raise SpecError(f"{where(f'{name}.flip')}: must be true or false, got {flip!r}")
    match, point, group = table.get("match"), table.get("match_point"), table.get("match_group")
    if match is not None and match not in MATCH_DIRECTIONS:
        raise SpecError(f"{where(f'{name}.match')}: must be one of {', '.join(MATCH_DIRECTIONS)}, got {shown(match)}")
    if point is not None:
        if isinstance(point, list) and len(point) == 2:
            point = (parse_number(point[0], where(f"{name}.match_point"), "must be [x, y] numbers"),
                     parse_number(point[1], where(f"{name}.match_point"), "must be [x, y] numbers"))
        elif not isinstance(point, str):
            raise SpecError(f"{where(f'{name}.match_point')}: must be grain, notch:N or [x, y], got {shown(point)}")
    if group is not None and not isinstance(group, str):
        raise SpecError(f"{where(f'{name}.match_group')}: must be a text, got {shown(group)}")
    return OrientationRule(rotations, tilt, flip, match, point, group)


def rule_step(rule: str) -> float:
    """Degrees between the rotations a (parsed) rule allows: ``free:15`` -> 15, ``180`` -> 180."""
    step = _RULE_STEPS.get(rule)
    return step if step is not None else float(rule.partition(":")[2])


def parse_rotations(value, name: str) -> str:
    """``none``, ``180``, ``90`` or ``free:STEP`` (0 < STEP <= 360), normalised."""
    text = str(value).strip().lower()
    if text in _RULE_STEPS:
        return text
    if text.startswith("free:"):
        step = parse_number(text[5:], name, "free:STEP needs a number of degrees")
        if not 0 < step <= 360:
            raise SpecError(f"{name}: the free rotation step must be in (0, 360] degrees, got {step:g}")
        return f"free:{step:g}"
    raise SpecError(f"{name}: unknown rotation rule {value!r}; use one of {', '.join(ROTATION_RULES)}")


def parse_tilt(value, name: str) -> float:
    tilt = parse_number(value, name, "must be a number of degrees")
    if not 0 <= tilt < MAX_TILT:
        raise SpecError(f"{name}: tilt must be in [0, {MAX_TILT:g}) degrees, got {tilt:g}")
    return tilt


def known_fields(table, keys, where, prefix) -> None:
    """A `SpecError` naming the first field of ``table`` not in ``keys`` (the spec and the marker file share it)."""
    unknown = sorted(set(table) - set(keys))
    if unknown:
        raise SpecError(f"{where(prefix + unknown[0])}: unknown field (known here: {', '.join(sorted(keys))})")


def parse_number(value, name, reason) -> float:
    """A finite number (a bool is not one), or a `SpecError` naming the field and ``reason``."""
    if isinstance(value, bool):
        raise SpecError(f"{name}: {reason}, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise SpecError(f"{name}: {reason}, got {shown(value)}") from None
    if not math.isfinite(number):
        raise SpecError(f"{name}: {reason}, got {shown(value)}")
    return number
