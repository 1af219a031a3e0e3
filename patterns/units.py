"""Drawing units of a pattern file, resolved once and turned into a factor to millimetres.

A file says its units in the AAMA/ASTM style text (``Units: ENGLISH`` = inches,
``Units: METRIC`` = millimetres) or in the DXF header (``$INSUNITS``); ``--units`` overrides
both. A file that states neither is an error rather than a guess: unit mix-ups are the most
common complaint about nesting tools.
"""

from __future__ import annotations

from dataclasses import dataclass

from patterns.errors import PatternError

MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "in": 25.4, "ft": 304.8}
UNIT_ALIASES = {
    "millimetre": "mm", "millimeter": "mm", "millimetres": "mm", "millimeters": "mm", "metric": "mm",
    "centimetre": "cm", "centimeter": "cm", "centimetres": "cm", "centimeters": "cm",
    "metre": "m", "meter": "m", "metres": "m", "meters": "m",
    "inch": "in", "inches": "in", "english": "in", "imperial": "in", '"': "in",
    "foot": "ft", "feet": "ft",
}
INSUNITS = {1: "in", 2: "ft", 4: "mm", 5: "cm", 6: "m"}  # DXF $INSUNITS codes we accept
STYLE_UNITS = {"ENGLISH": "in", "METRIC": "mm", "IMPERIAL": "in"}


@dataclass(frozen=True, slots=True)
class Units:
    """The unit a file is drawn in, where that was learnt, and the factor to mm."""

    name: str
    origin: str  # "option", "style text" or "$INSUNITS"

    @property
    def to_mm(self) -> float:
        return MM_PER_UNIT[self.name]


def unit_name(text: str) -> str | None:
    """Canonical unit name (``mm``, ``cm``, ``m``, ``in``, ``ft``) of a user's spelling."""
    key = text.strip().lower()
    return key if key in MM_PER_UNIT else UNIT_ALIASES.get(key)


def resolve_units(path, option: str | None, style_text: str | None, insunits: int | None,
                  warnings: list[str]) -> Units:
    """The file's units: ``--units`` first, then the style's ``Units:`` text, then ``$INSUNITS``.

    Raises `PatternError` for an unknown ``--units`` value and for a file stating no units.
    """
    if option:
        name = unit_name(option)
        if name is None:
            raise PatternError(path, f"unknown units {option!r}: use one of {', '.join(MM_PER_UNIT)}")
        return Units(name, "option")
    from_style = STYLE_UNITS.get(style_text.strip().upper()) if style_text else None
    if style_text and from_style is None:
        from_style = unit_name(style_text)
        if from_style is None:
            warnings.append(f"style text 'Units: {style_text}' is not ENGLISH or METRIC; ignored")
    from_header = INSUNITS.get(insunits) if insunits and isinstance(insunits, int) else None
    unusable = insunits not in (None, 0) and from_header is None
    if unusable:
        warnings.append(f"$INSUNITS = {str(insunits)[:20]!r} is not a unit used for patterns; ignored")
    if from_style and from_header and from_style != from_header:
        warnings.append(f"'Units: {style_text}' says {from_style} but $INSUNITS says {from_header}; "
                        f"using {from_style} (override with --units)")
    if from_style:
        return Units(from_style, "style text")
    if from_header:
        return Units(from_header, "$INSUNITS")
    if unusable:
        raise PatternError(path, f"the file states no usable unit ($INSUNITS = {str(insunits)[:20]!r} is not mm, cm, "
                                 f"m, in or ft; no 'Units:' text): pass --units mm, cm or in")
    raise PatternError(path, "the file does not state its units (no 'Units:' text, no $INSUNITS): "
                             "pass --units mm, cm or in")
