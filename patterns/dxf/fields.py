"""AAMA/ASTM ``Key: value`` texts, read the way vendors actually write them.

Keys are matched case-insensitively with spacing and punctuation squeezed out, and vendor
spellings map to one canonical name (Richpeace ``SAMPLE SIZE:L`` inside a piece block is the
piece's size; CLO writes ``PIECE NAME:``; AccuMark ``Piece Name:``).
"""

from __future__ import annotations

import re

from patterns.errors import PatternError

# canonical field -> spellings (compared after removing everything but letters and digits)
_SPELLINGS = {
    "piece name": ("piecename", "piece", "patternname", "partname"),
    "size": ("size", "sizename", "piecesize"),
    "sample size": ("samplesize", "basesize"),
    "quantity": ("quantity", "qty", "quantitypergarment", "pieces", "numberofpieces"),
    "category": ("category",),
    "annotation": ("annotation", "annotations", "comment"),
    "fabric": ("fabric", "fabriccode", "material", "materialcode", "fabrictype"),
    "style name": ("stylename", "style"),
    "units": ("units", "unit"),
    "author": ("author",),
    "product": ("product",),
    "version": ("version",),
    "number of sizes": ("numberofsizes",),
    "grade rule table": ("graderuletable",),
    "tolerance": ("tolerance", "curvetolerance"),
    "rotation": ("rotation",),
    "flip": ("flip",),
    "fold": ("fold",),
}
_CANONICAL = {spelling: name for name, spellings in _SPELLINGS.items() for spelling in spellings}
_SQUEEZE = re.compile(r"[^0-9a-z]+")
_QUANTITY = re.compile(r"^\s*(\d+)\s*(?:[,;/\s]\s*(\d+)\s*)?$")


def canonical_key(key: str) -> str | None:
    """The canonical field name of a text key, or None for keys we do not use."""
    return _CANONICAL.get(_SQUEEZE.sub("", key.lower()))


def parse_fields(texts) -> tuple[dict[str, str], list[str]]:
    """``(fields, other texts)`` of TEXT strings; the first value of a field wins.

    Texts without a colon or with an unknown key (e.g. ``# 12`` grade tags) go to the list.
    """
    fields, others = {}, []
    for text in texts:
        key, colon, value = text.partition(":")
        name = canonical_key(key) if colon else None
        if name is None:
            if text.strip():
                others.append(text.strip())
            continue
        fields.setdefault(name, value.strip())
    return fields, others


def parse_quantity(text: str, path, piece: str, block: str | None) -> tuple[int, int]:
    """``(as drawn, mirrored)`` of a quantity: ``2`` is a count, ASTM ``1,1`` is right,left."""
    match = _QUANTITY.match(text)
    if not match:
        raise PatternError(path, f"unreadable quantity {text!r} (expected a count such as 2 or "
                                 f"an ASTM right,left pair such as 1,1)", piece=piece, block=block)
    return int(match.group(1)), int(match.group(2) or 0)
