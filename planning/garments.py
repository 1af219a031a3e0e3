"""The order's garments as the engine sees them: one garment's pieces per size, and size mixes.

A *mix* is a marker's size ratio, ``((size, garments), ...)`` in the order's size order. The
pattern files are read once, through the same path as ``nest marker --spec`` (`jobs.marker`),
with every ordered size once; a mix's pieces are those pieces with their quantities multiplied,
exactly what ``nest marker --spec ... --sizes S=1,M=2`` would nest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from jobs.marker import MarkerJob, spec_pieces
from jobs.spec import MarkerSpec
from patterns import read_pieces
from patterns.errors import PatternError
from patterns.piece import Piece
from planning.order import Order, OrderError

Mix = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Garments:
    """One garment's pieces of every ordered size (rules and shrinkage applied) on the order's fabric."""

    spec: MarkerSpec  # the order's marker spec; its max_length is the table length
    pieces: tuple[Piece, ...]
    units: str

    def area(self, mix: Mix) -> float:
        """Piece area of a marker of this mix."""
        ratio = dict(mix)
        return sum(p.area * p.demand * ratio.get(p.size, 0) for p in self.pieces)

    def marker_pieces(self, mix: Mix) -> tuple[Piece, ...]:
        ratio = dict(mix)
        return tuple(replace(p, quantity=p.quantity * ratio[p.size], mirrored_quantity=p.mirrored_quantity * ratio[p.size])
                     for p in self.pieces if ratio.get(p.size, 0) > 0)

    def marker_spec(self, mix: Mix) -> MarkerSpec:
        """The spec a marker of this mix is nested and verified under (its size ratio set)."""
        return replace(self.spec, sizes=tuple((s, n) for s, n in mix if n > 0))

    @property
    def usable_width(self) -> float:
        m = self.spec.margins
        return self.spec.width - m.bottom - m.top

    def shortest(self, mix: Mix) -> float:
        """A lower bound on the marker length of a mix: its area over the usable width, margins added."""
        m = self.spec.margins
        return self.area(mix) / self.usable_width + m.start + m.end


def load_garments(order: Order) -> Garments:
    """Read the order's pattern files with every ordered size once.

    Raises `OrderError` for an ordered size no pattern file has (naming the order field and the
    file's sizes), and the spec's own errors (unreadable pattern, piece wider than the fabric).
    """
    spec = replace(order.spec, sizes=tuple((size, 1) for size in order.sizes), max_length=None)
    try:
        pieces, spec, units = spec_pieces(MarkerJob(input="", out=""), spec)
    except PatternError as exc:
        _unknown_sizes(order)
        raise exc
    return Garments(replace(spec, max_length=order.limits.table_length, sizes=None), pieces, units)


def _unknown_sizes(order: Order) -> None:
    """Raise an `OrderError` naming the first ordered size a pattern file lacks, if there is one."""
    for path in order.spec.patterns:
        pieces, _ = read_pieces(path)
        available = [s for s in dict.fromkeys(p.size for p in pieces) if s is not None]
        for colour, row in order.quantities:
            for size, count in row:
                if count > 0 and size not in available and size.casefold() not in {a.casefold() for a in available}:
                    field = f"order.{colour}.{size}" if colour else f"order.{size}"
                    raise OrderError(f"{order.label(field)}: the pattern {path} has no size {size!r} "
                                     f"(its sizes: {', '.join(available) or 'none'})")


def mix_name(mix: Mix) -> str:
    """A folder name for a mix: ``Sx1-Mx2-Lx1`` (garments of each size)."""
    return "-".join(f"{re.sub(r'[^A-Za-z0-9.]', '_', size)}x{n}" for size, n in mix if n > 0)


def garments_in(mix: Mix) -> int:
    return sum(n for _, n in mix)
