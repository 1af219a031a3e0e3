"""Which pieces of a pattern file go into one marker: sizes (with ratios) and fabric.

A graded file holds every size; a marker cuts some of them, ``S,M,L`` (one of each) or with
a size ratio ``S=1,M=2`` (each piece of M twice). Pieces carry a fabric code; one marker is
cut from one fabric, so the others are left for their own markers and named in the result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from patterns.errors import PatternError
from patterns.piece import Piece
from patterns.sizes import Sizes


@dataclass(frozen=True, slots=True)
class Selection:
    """The pieces chosen for a marker and what was left out, for the summary."""

    pieces: tuple[Piece, ...]
    ratio: dict  # size -> copies of each piece of that size (empty: file without sizes)
    fabric: str | None
    other_fabrics: dict  # fabric code -> names of pieces left for it
    not_cut: tuple[str, ...]  # pieces whose quantity is 0

    def as_report(self) -> dict:
        """Plain data for reports and marker statistics."""
        return {
            "sizes": dict(self.ratio), "fabric": self.fabric,
            "left_for_other_fabrics": {code: list(names) for code, names in self.other_fabrics.items()},
            "quantity_zero": list(self.not_cut),
        }

    def summary(self) -> str | None:
        """One line naming the pieces left out of this marker, or None when none were."""
        parts = [f"fabric {code}: {', '.join(names)}" for code, names in self.other_fabrics.items()]
        if self.not_cut:
            parts.append(f"quantity 0: {', '.join(self.not_cut)}")
        if not parts:
            return None
        marker_fabric = f" (this marker is fabric {self.fabric})" if self.other_fabrics else ""
        return f"left out{marker_fabric}: " + "; ".join(parts)


def select_pieces(pieces, sizes, fabric: str | None, source, refused=()) -> Selection:
    """The pieces of one marker: the sizes asked for (times their ratio), one fabric.

    ``sizes`` is a `Sizes` (or what `Sizes.of` takes: text ``S,M``, ``S=1,M=2``, ``all``, a
    mapping or pairs), or ``None`` for a file of one size. Without a fabric, the first fabric code in the file is cut.

    Raises `PatternError` (one line, naming ``source``) for a graded file without ``sizes``,
    an unknown size or fabric, when nothing is left to cut, and when a chosen size lost a
    piece on import (``refused``: the import report's ``refused`` entries).
    """
    pieces = list(pieces)
    available = unique_in_order([*(p.size for p in pieces), *(r["size"] for r in refused)])
    ratio = _ratio(sizes, available, source)
    for entry in refused:
        if not ratio or entry["size"] in ratio:
            raise PatternError(source, f"size {entry['size']} cannot be cut: {entry['reason']}",
                               piece=entry["piece"], block=entry["block"])
    if ratio:
        pieces = [_times(p, ratio[p.size]) for p in pieces if p.size in ratio]
    codes = unique_in_order(p.fabric for p in pieces)
    if fabric is not None and fabric not in codes:
        raise PatternError(source, f"--fabric {fabric}: no piece has this fabric; fabrics: {_listing(codes)}")
    marker_fabric = fabric if fabric is not None else (codes[0] if codes else None)
    other_fabrics: dict[str, list[str]] = {}
    for piece in pieces:
        if piece.fabric is not None and piece.fabric != marker_fabric:
            names = other_fabrics.setdefault(piece.fabric, [])
            if piece.name not in names:
                names.append(piece.name)
    pieces = [p for p in pieces if p.fabric is None or p.fabric == marker_fabric]
    not_cut = tuple(unique_in_order(p.name for p in pieces if p.demand == 0))
    pieces = [p for p in pieces if p.demand > 0]
    if not pieces:
        raise PatternError(source, "no piece to cut with this selection (every chosen piece has quantity 0)")
    return Selection(tuple(pieces), ratio, marker_fabric if codes else None,
                     {code: tuple(names) for code, names in other_fabrics.items()}, not_cut)


def _ratio(sizes, available: list[str], source) -> dict[str, int]:
    if sizes is None:
        if len(available) > 1:
            raise PatternError(source, f"graded pattern with {len(available)} sizes ({_listing(available)}): "
                                       f"choose with --sizes, e.g. --sizes {available[len(available) // 2]}")
        return {}
    if not available:
        raise PatternError(source, "--sizes given, but the pieces of this file have no sizes")
    try:
        return Sizes.of(sizes).resolve(available).as_dict()
    except ValueError as exc:
        raise PatternError(source, f"--sizes: {exc}") from None


def _times(piece: Piece, count: int) -> Piece:
    if count == 1:
        return piece
    return replace(piece, quantity=piece.quantity * count, mirrored_quantity=piece.mirrored_quantity * count)


def unique_in_order(values) -> list:
    """The distinct non-None values, in order of first appearance."""
    seen = []
    for value in values:
        if value is not None and value not in seen:
            seen.append(value)
    return seen


def _listing(values) -> str:
    return ", ".join(str(v) for v in values) or "none"
