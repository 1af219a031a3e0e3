"""How the fabric is spread, and what one placed piece then cuts.

- ``open``: one ply face up; a placed piece is one piece. Half pieces with a mirror line are
  unfolded by the reader.
- ``face-to-face``: plies laid in pairs, face to face; the marker is cut through each pair, so
  a placed piece is a left and a right piece (mirror images). Half pieces are unfolded.
- ``folded``: the fabric folded lengthwise, the fold at y = width (the marker is the folded
  width); a placed piece is a left and a right piece, and a half piece (a mirror line, AAMA
  layer 6) lies with its mirror line on the fold and is one whole piece.
- ``tubular``: a knitted tube laid flat, both long edges folds; as ``folded``, with half
  pieces on either edge.

A piece's copies to cut (its quantity and mirrored quantity, already times the size ratio)
become placements: on a two-ply spread a ``Quantity: 2`` or a ``1,1`` pair is one placement,
a half piece on the fold one placement per copy. The engine nests the placements; the
marker states each piece's ``yields`` and fold line, and the verifier checks the counts and
that every half lies on a fold from the file alone.
"""

from __future__ import annotations

import math
from dataclasses import replace

from nesting.config import Tolerances
from nesting.errors import SpecError
from nesting.fabric import FOLD_EDGES, PLIES, Fabric
from nesting.model import oriented
from patterns.piece import Piece

Line = tuple[tuple[float, float], tuple[float, float]]


def fold_line(piece: Piece, fabric: Fabric) -> Line | None:
    """The mirror line a half piece is placed on, in its outline's frame: only on a spread with folds."""
    line = piece.annotations.mirror_line
    if not piece.folded or line is None or not fabric.fold_edges:
        return None
    return (tuple(line[0]), tuple(line[-1]))


def yields(piece: Piece, fabric: Fabric) -> int:
    """Pieces one placed copy cuts: 1 for a half on the fold, else one per ply."""
    return 1 if fold_line(piece, fabric) is not None else PLIES.get(fabric.spread, 1)


def fold_edge(piece: Piece, rotation: float, mirrored: bool, fabric: Fabric) -> str | None:
    """The fold edge (``top`` or ``bottom``) a half piece can lie on in this orientation, or None.

    Its mirror line must run along the marker (level within the fold tolerance) at the
    piece's top (for the fold at y = width) or bottom (y = 0), the piece on the fabric side.
    """
    line = fold_line(piece, fabric)
    if line is None:
        return None
    shape = oriented(piece.outline, rotation, mirrored)
    ends = oriented_points(line, rotation, mirrored)
    reach = Tolerances().verify_fold * fabric.width
    ys = [y for _, y in ends]
    _, miny, _, maxy = shape.bounds
    if "top" in fabric.fold_edges and min(ys) >= maxy - reach:
        return "top"
    if "bottom" in fabric.fold_edges and max(ys) <= miny + reach:
        return "bottom"
    return None


def oriented_points(points, rotation: float, mirrored: bool) -> list[tuple[float, float]]:
    """Points of the piece frame under the placement's mirroring and rotation (`nesting.model.oriented`)."""
    c, s = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
    out = []
    for x, y in points:
        x = -x if mirrored else x
        out.append((c * x - s * y, s * x + c * y))
    return out


def placed_pieces(pieces, fabric: Fabric, label=str) -> tuple[Piece, ...]:
    """The pieces with their demand in placements on ``fabric``'s spread (`check` first)."""
    check(pieces, fabric, label)
    result = []
    for piece in pieces:
        n = yields(piece, fabric)
        if n == 1 and fold_line(piece, fabric) is None:
            result.append(piece)
        else:
            result.append(replace(piece, quantity=piece.demand // n, mirrored_quantity=0))
    return tuple(result)


def check(pieces, fabric: Fabric, label=str) -> None:
    """One line for the first piece the spread cannot cut as asked; ``label`` names a spec field
    (``fabric.spread`` -> ``marker.toml: fabric.spread``)."""
    for where, reason in fabric.problems():
        if where == "spread" or where.startswith(("margins.", "repeat")):
            raise SpecError(f"{label('fabric.' + where)}: {reason}")
    for piece in pieces:
        if piece.folded and not fabric.fold_edges:
            raise SpecError(f"{label('fabric.spread')}: piece {piece.id}: a half piece (mirror line) on a {fabric.spread} spread, which has no "
                            "fold: it must be unfolded (read it without keeping folds)")
        n = yields(piece, fabric)
        if piece.demand % n:
            raise SpecError(f"{label('fabric.spread')}: piece {piece.id}: {piece.demand} cop{'y' if piece.demand == 1 else 'ies'} to cut, but each "
                            f"placement on a {fabric.spread} spread cuts {n} (a left and a right): give a size ratio "
                            "that makes it even")
        if fold_line(piece, fabric) is not None:
            mirrors = (False, True) if piece.flip else (False,)
            if not any(fold_edge(piece, r, m, fabric) for m in mirrors for r in piece.rotations_for(m)):
                raise SpecError(f"{label('fabric.spread')}: piece {piece.id}: its mirror line cannot lie on the fold in any allowed rotation "
                                "(it must run along the grain, at the edge of the half piece)")


def check_unfolded(pieces, records, spread: str, path: str) -> None:
    """A half piece the reader could not unfold cannot be cut on a spread without a fold: one line.

    ``records`` are the import report's; the reader keeps such a piece as drawn and says why.
    """
    if FOLD_EDGES.get(spread):
        return
    chosen = {(p.name, p.size) for p in pieces}
    for record in records:
        if record.data.get("unfold_failed") and (record.piece, record.data.get("size")) in chosen:
            raise SpecError(f"{path}: piece {record.piece} (block {record.data.get('block')}): a half piece whose "
                            f"mirror line cannot unfold it ({record.message.partition('): ')[2]}), so a "
                            f"{spread} spread cannot cut it; use a folded or tubular spread")
