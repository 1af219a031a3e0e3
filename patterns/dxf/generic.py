"""Generic DXF drawings: every closed contour (or one chained from loose edges) is a piece.

Contours come from one layer (``--layer``) or all of them, with INSERTs exploded (mirrored,
rotated and nested ones included). A contour inside another is a hole (or, when the user
names the hole layers, a sew line unless it is on one of them); one inside a hole is a new
piece. Slit notches drawn into the cut line are taken out and kept as notches. Open lines inside a piece are kept as its internal lines; text is ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from shapely.geometry import LineString, Point

from patterns.dxf.assemble import Draft, RawNotch, build_piece
from patterns.dxf.loops import UnreadableEntity, check_contour_count, contours, explode, nearest_open_ends
from patterns.dxf.outline import OutlineProblem, group_rings, make_outline
from patterns.dxf.repair import repair_ring, report_repair
from patterns.errors import PatternError
from patterns.report import Code, note


def read_generic(doc, path: Path, scale: float, options, report) -> list:
    """Pieces of a drawing without AAMA piece blocks, in mm, one per outer contour."""
    entities = list(explode(doc.modelspace(), report, options.max_inserts))
    if options.layer is not None:
        wanted = options.layer.strip().lower()
        present = sorted({e.dxf.layer for e in entities})
        entities = [e for e in entities if e.dxf.layer.lower() == wanted]
        if not entities:
            raise PatternError(path, f"nothing on layer {options.layer!r}; layers present: {', '.join(present)}")
    degenerate = []
    try:
        rings, chains = contours(entities, options.chord_mm / scale, options.gap_mm / scale,
                                 options.limit_mm / scale, degenerate)
    except UnreadableEntity as problem:
        raise PatternError(path, str(problem)) from None
    check_contour_count(len(rings), options.max_contours)
    if degenerate:
        note(report, Code.DEGENERATE_CHAIN, f"{len(degenerate)} closed chain(s) without area (a line drawn there "
                                            f"and back) kept as open lines", count=len(degenerate))
    rings, chains = [r.scaled(scale) for r in rings], [c.scaled(scale) for c in chains]
    if not rings:
        raise PatternError(path, _no_contour_reason(entities, chains, options))
    report["largest_gap_mm"] = max(report["largest_gap_mm"], max(r.gap for r in rings))
    repaired = []
    for k, ring in enumerate(rings):
        try:
            repaired.append(repair_ring(ring.points, options.repair_limits))
        except OutlineProblem as problem:
            raise PatternError(path, f"{problem} (a contour on layer {ring.layer})",
                               piece=path.stem if len(rings) == 1 else None) from None
    hole_rings = _hole_candidates(rings, options)
    try:
        groups, duplicates = group_rings([r.points for r in repaired], options.limit_mm)
    except OutlineProblem as problem:
        layers = sorted({rings[i].layer for i in problem.rings})
        hint = "; choose the cut layer with --layer" if len(layers) > 1 and options.layer is None else ""
        raise PatternError(path, f"{problem} (on layer {' and '.join(layers)}){hint}") from None
    if duplicates:
        note(report, Code.DUPLICATE_CONTOUR, f"{len(duplicates)} contour(s) drawn twice dropped",
             count=len(duplicates))
    stem = path.stem
    pieces, lines_placed = [], 0
    for k, (shell, inner) in enumerate(groups, start=1):
        name = stem if len(groups) == 1 else f"{stem}-{k}"
        holes = [h for h in inner if h in hole_rings]
        sew = [np.vstack([repaired[h].points, repaired[h].points[:1]]) for h in inner if h not in hole_rings]
        try:
            outline, removed = make_outline(repaired[shell].points, [repaired[h].points for h in holes],
                                            options.duplicate_mm, options.simplify_area_rel)
        except OutlineProblem as problem:
            raise PatternError(path, str(problem), piece=name) from None
        report["vertices_removed"] += removed
        report_repair(report, repaired[shell], name)
        inside = [c.points for c in chains if outline.contains(_halfway(c.points))]
        lines_placed += len(inside)
        notches = tuple(RawNotch(s.base[0], s.base[1], s.length, 4) for s in repaired[shell].slits)
        draft = Draft(id=name, name=name, outline=outline, source=str(path), internal_lines=tuple(inside),
                      sew_lines=tuple(sew), notches=notches)
        pieces.append(build_piece(draft, options)[0])
    if len(chains) > lines_placed:
        note(report, Code.OPEN_LINES, f"{len(chains) - lines_placed} open line(s) outside every piece ignored",
             count=len(chains) - lines_placed)
    note(report, Code.NO_GRAIN, "no grain lines in a generic DXF: pieces keep their drawn orientation")
    return pieces


def _halfway(points: np.ndarray) -> Point:
    """The point halfway along an open line: its middle vertex may lie on the piece's edge
    (a line drawn across a piece from edge to edge has no other vertex)."""
    return LineString(points).interpolate(0.5, normalized=True)


def _hole_candidates(rings, options) -> set[int]:
    """Which rings may be holes: those on the user's hole layers, or every ring by default."""
    if options.hole_layers is None:
        return set(range(len(rings)))
    wanted = {layer.strip().lower() for layer in options.hole_layers}
    return {k for k, ring in enumerate(rings) if ring.layer.lower() in wanted}


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
