"""Generic DXF drawings: every closed contour (or one chained from loose edges) is a piece.

Contours come from one layer (``--layer``) or all of them, with INSERTs exploded (mirrored,
rotated and nested ones included). A contour inside another is a hole; one inside a hole is
a new piece. Open lines inside a piece are kept as its internal lines; text is ignored.
"""

from __future__ import annotations

from pathlib import Path

from shapely.geometry import Point

from patterns.dxf.assemble import Draft, build_piece
from patterns.dxf.loops import UnreadableEntity, contours, explode, nearest_open_ends
from patterns.dxf.outline import OutlineProblem, group_rings, make_outline
from patterns.errors import PatternError


def read_generic(doc, path: Path, scale: float, options, report) -> list:
    """Pieces of a drawing without AAMA piece blocks, in mm, one per outer contour."""
    entities = list(explode(doc.modelspace(), report["warnings"]))
    if options.layer is not None:
        wanted = options.layer.strip().lower()
        present = sorted({e.dxf.layer for e in entities})
        entities = [e for e in entities if e.dxf.layer.lower() == wanted]
        if not entities:
            raise PatternError(path, f"nothing on layer {options.layer!r}; layers present: {', '.join(present)}")
    try:
        rings, chains = contours(entities, options.chord_mm / scale, options.gap_mm / scale)
    except UnreadableEntity as problem:
        raise PatternError(path, str(problem)) from None
    rings, chains = [r.scaled(scale) for r in rings], [c.scaled(scale) for c in chains]
    if not rings:
        raise PatternError(path, _no_contour_reason(entities, chains, options))
    report["largest_gap_mm"] = max(report["largest_gap_mm"], max(r.gap for r in rings))
    try:
        groups, duplicates = group_rings([r.points for r in rings], options.limit_mm)
    except OutlineProblem as problem:
        layers = sorted({rings[i].layer for i in problem.rings})
        hint = "; choose the cut layer with --layer" if len(layers) > 1 and options.layer is None else ""
        raise PatternError(path, f"{problem} (on layer {' and '.join(layers)}){hint}") from None
    if duplicates:
        report["repairs"].append(f"{len(duplicates)} contour(s) drawn twice dropped")
    stem = path.stem
    pieces, lines_placed = [], 0
    for k, (shell, holes) in enumerate(groups, start=1):
        name = stem if len(groups) == 1 else f"{stem}-{k}"
        try:
            outline, removed = make_outline(rings[shell].points, [rings[h].points for h in holes],
                                            options.duplicate_mm, options.simplify_area_rel)
        except OutlineProblem as problem:
            raise PatternError(path, str(problem), piece=name) from None
        report["vertices_removed"] += removed
        inside = [c.points for c in chains if outline.contains(Point(c.points[len(c.points) // 2]))]
        lines_placed += len(inside)
        draft = Draft(id=name, name=name, outline=outline, source=str(path), internal_lines=tuple(inside))
        pieces.append(build_piece(draft, options)[0])
    if len(chains) > lines_placed:
        report["warnings"].append(f"{len(chains) - lines_placed} open line(s) outside every piece ignored")
    report["warnings"].append("no grain lines in a generic DXF: pieces keep their drawn orientation")
    return pieces


def _no_contour_reason(entities, chains, options) -> str:
    where = f" on layer {options.layer!r}" if options.layer else ""
    if chains:
        gap, at = nearest_open_ends(chains) or (0.0, (0.0, 0.0))
        return (f"open contour{where}: no closed contour found; the nearest open ends are {gap:.3f} mm apart "
                f"at ({at[0]:.1f}, {at[1]:.1f}) mm, more than the gap tolerance {options.gap_mm:g} mm")
    kinds = sorted({e.dxftype() for e in entities})
    if not kinds:
        return f"no pieces found{where}: the drawing is empty"
    return f"no pieces found{where}: no closed contour among {', '.join(kinds)}"
