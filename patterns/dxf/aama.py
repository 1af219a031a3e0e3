"""AAMA / ASTM D6673 pattern files: one piece per inserted BLOCK (per size in graded files).

Layers are AAMA numbers (see `patterns.dxf.layers`). The boundary on layer 1 may be one
closed polyline or a chain of open ones; ASTM's denser layer-84 curve replaces it when it
traces the same outline. Piece text (``Piece Name``, ``Size``, ``Quantity``...) is read from
the block; in graded files only the base size carries quantity, category, annotation and
fabric, so the other sizes of a piece inherit them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Point, Polygon

from patterns.dxf import layers
from patterns.dxf.assemble import Draft, RawNotch, build_piece
from patterns.dxf.document import entity_text
from patterns.dxf.fields import parse_fields, parse_quantity
from patterns.dxf.loops import UnreadableEntity, contours, explode, nearest_open_ends
from patterns.dxf.outline import OutlineProblem, group_rings, make_outline
from patterns.errors import PatternError

INHERITED = ("quantity", "category", "annotation", "fabric")
_COPY_SUFFIX = re.compile(r"^(?P<base>.+)_\d+(?P<size>_[^_]+)$")
_NOTCH_LAYERS = (layers.NOTCH, *layers.TYPED_NOTCHES)
_USED_LAYERS = frozenset({
    layers.BOUNDARY, layers.TURN_POINTS, layers.CURVE_POINTS, layers.GRADE_REFERENCE, layers.MIRROR,
    layers.GRAIN, layers.INTERNAL, layers.CUTOUT, layers.DRILL, layers.SEW, layers.ANNOTATION_TEXT,
    layers.BOUNDARY_CURVE, *_NOTCH_LAYERS, *layers.VALIDATION_CURVES,
})


@dataclass(frozen=True, slots=True)
class _Block:
    """One inserted block: its name, piece text and transformed entities by AAMA layer."""

    name: str
    fields: dict
    texts: tuple[str, ...]
    by_layer: dict


def is_aama(doc) -> bool:
    """True when piece blocks (blocks carrying a ``Piece Name`` text) hold the pieces."""
    return any(_has_piece_name(doc.blocks.get(name)) for name, _ in _piece_sources(doc, []))


def _piece_sources(doc, warnings: list[str]):
    """``(block name, entities)`` per piece: each model-space INSERT with its transform applied.

    A file whose model space inserts nothing but defines piece blocks (some writers stop
    there) has them read in place, with a warning.
    """
    inserts = list(doc.modelspace().query("INSERT"))
    for insert in inserts:
        name = insert.dxf.get("name")
        if not name:
            warnings.append("INSERT without a block name ignored")
            continue
        if doc.blocks.get(name) is None:
            warnings.append(_missing_block_warning(doc, name))
            continue
        yield name, insert.virtual_entities()
    if inserts:
        return
    uninserted = [b for b in doc.blocks if not b.is_any_layout and not b.block.is_anonymous and _has_piece_name(b)]
    if uninserted:
        warnings.append(f"{len(uninserted)} piece block(s) are defined but not inserted; read where they are drawn")
    for block in uninserted:
        yield block.name, iter(block)


def _has_piece_name(block) -> bool:
    texts = (e.dxf.text if e.dxftype() == "TEXT" else e.plain_text() for e in block.query("TEXT MTEXT"))
    return "piece name" in parse_fields(texts)[0]


def read_aama(doc, path, style: dict, scale: float, options, decode, report) -> list:
    """Pieces of an AAMA/ASTM document, in mm; ``report`` collects repairs and warnings."""
    blocks = _inserted_blocks(doc, options, decode, report)
    _inherit_across_sizes(blocks, style.get("sample size"), report)
    reader = _BlockReader(path, style.get("style name"), scale, options, report)
    pieces = []
    for block in blocks:
        pieces.extend(reader.pieces(block))
    return pieces


def _inserted_blocks(doc, options, decode, report) -> list[_Block]:
    blocks, ignored_layers = [], set()
    for name, entities in _piece_sources(doc, report["warnings"]):
        by_layer = defaultdict(list)
        for entity in explode(entities, report["warnings"]):
            number = layers.layer_number(entity.dxf.layer, options.layer_map)
            by_layer[number].append(entity)
            if number not in _USED_LAYERS:
                ignored_layers.add(entity.dxf.layer)
        texts = {number: [entity_text(e, decode, report) for e in entities if e.dxftype() in ("TEXT", "MTEXT")]
                 for number, entities in by_layer.items()}
        ordered = texts.get(layers.BOUNDARY, []) + [t for n, ts in texts.items() if n != layers.BOUNDARY for t in ts]
        fields, _ = parse_fields(ordered)
        notes = tuple(t.strip() for t in texts.get(layers.ANNOTATION_TEXT, []) if t.strip())
        blocks.append(_Block(name, fields, notes, dict(by_layer)))
    if ignored_layers:
        report["ignored_layers"] = sorted(ignored_layers)
    return blocks


def _missing_block_warning(doc, name: str) -> str:
    match = _COPY_SUFFIX.match(name)
    original = match and f"{match['base']}{match['size']}"
    hint = (f"; it may be another copy of block {original!r}: check that piece's quantity"
            if original and doc.blocks.get(original) is not None else "")
    return f"INSERT of missing block {name!r} ignored{hint}"


def _inherit_across_sizes(blocks: list[_Block], sample_size: str | None, report) -> None:
    """Give every size of a piece the quantity/category/annotation/fabric of its base size."""
    by_piece = defaultdict(list)
    for block in blocks:
        by_piece[block.fields.get("piece name", block.name)].append(block)
    for piece, sizes in by_piece.items():
        carriers = [b for b in sizes if "quantity" in b.fields]
        base = next((b for b in carriers if _size(b) == sample_size), carriers[0] if carriers else None)
        if base is None:
            report["warnings"].append(f"piece {piece}: no Quantity text; 1 assumed")
            continue
        for block in sizes:
            for key in INHERITED:
                if key in base.fields and key not in block.fields:
                    block.fields[key] = base.fields[key]


def _size(block: _Block) -> str | None:
    return block.fields.get("size") or block.fields.get("sample size") or None


class _BlockReader:
    """Turns one `_Block` into drafts and pieces; holds what every block shares."""

    def __init__(self, path, style, scale, options, report):
        self.path, self.style, self.scale, self.options, self.report = path, style, scale, options, report
        self.chord, self.gap = options.chord_mm / scale, options.gap_mm / scale
        self.quantity_zero_warned = set()

    def fail(self, block: _Block, reason: str):
        return PatternError(self.path, reason, piece=block.fields.get("piece name"), block=block.name)

    def pieces(self, block: _Block) -> list:
        name = block.fields.get("piece name") or block.name
        rings, chains = self._contours(block, layers.BOUNDARY)
        if rings and "piece name" not in block.fields:
            self.report["warnings"].append(f"block {block.name}: no Piece Name text; the piece is named after "
                                           f"the block")
        if not rings:
            if chains:
                gap, where = nearest_open_ends(chains) or (0.0, (0.0, 0.0))
                raise self.fail(block, f"open contour: the boundary on layer 1 does not close (gap of {gap:.3f} mm "
                                       f"at ({where[0]:.1f}, {where[1]:.1f}) mm, more than the gap tolerance "
                                       f"{self.options.gap_mm:g} mm)")
            if "piece name" in block.fields:
                raise self.fail(block, "no boundary (no closed contour on layer 1)")
            self.report["warnings"].append(f"block {block.name}: no piece text and no boundary; skipped")
            return []
        if chains:
            self.report["warnings"].append(f"piece {name} (block {block.name}): {len(chains)} open line(s) "
                                           f"on layer 1 besides the boundary ignored")
        try:
            groups, duplicates = group_rings([r.points for r in rings], self.options.limit_mm)
        except OutlineProblem as problem:
            raise self.fail(block, str(problem)) from None
        if duplicates:
            self.report["repairs"].append(f"piece {name} (block {block.name}): {len(duplicates)} repeated "
                                          f"boundary contour(s) dropped")
        self.report["largest_gap_mm"] = max(self.report["largest_gap_mm"], max(r.gap for r in rings))
        cutouts, _ = self._contours(block, layers.CUTOUT)
        shells = [self._shell(block, rings[shell].points, name) for shell, _ in groups]
        hole_sets = [[rings[h].points for h in holes] for _, holes in groups]
        for cutout in cutouts:
            inside = [k for k, shell in enumerate(shells) if Polygon(shell).contains(Polygon(cutout.points))]
            if inside:
                hole_sets[inside[0]].append(cutout.points)
            else:
                self.report["warnings"].append(f"piece {name} (block {block.name}): a cut-out on layer 11 "
                                               f"lies outside the boundary; ignored")
        if len(shells) > 1:
            self.report["warnings"].append(f"block {block.name}: {len(shells)} separate outlines on layer 1, "
                                           f"read as pieces {name}-1 ... {name}-{len(shells)}")
        pieces = []
        for k, (shell, holes) in enumerate(zip(shells, hole_sets), start=1):
            piece_name = name if len(shells) == 1 else f"{name}-{k}"
            pieces.append(self._piece(block, piece_name, shell, holes))
        return pieces

    def _piece(self, block: _Block, name: str, shell, holes):
        options = self.options
        try:
            outline, removed = make_outline(shell, holes, options.duplicate_mm, options.simplify_area_rel)
        except OutlineProblem as problem:
            raise PatternError(self.path, str(problem), piece=name, block=block.name) from None
        self.report["vertices_removed"] += removed
        size = _size(block)
        quantity, mirrored = parse_quantity(block.fields.get("quantity", "1"), self.path, name, block.name)
        if quantity + mirrored == 0 and name not in self.quantity_zero_warned:
            self.quantity_zero_warned.add(name)
            note = f" (annotation {block.fields['annotation']!r})" if block.fields.get("annotation") else ""
            self.report["warnings"].append(f"piece {name}: Quantity: 0{note}; listed, but left out of markers")
        draft = Draft(
            id="/".join(part for part in (self.style, name, size) if part), name=name, outline=outline,
            quantity=quantity, mirrored_quantity=mirrored, size=size, fabric=block.fields.get("fabric") or None,
            category=block.fields.get("category") or None, annotation=block.fields.get("annotation") or None,
            style=self.style, source=str(self.path), block=block.name,
            grain=self._segment(block, layers.GRAIN, longest=True), mirror=self._segment(block, layers.MIRROR),
            notches=self._notches(block, outline), internal_lines=self._lines(block, layers.INTERNAL),
            sew_lines=self._lines(block, layers.SEW), drill_holes=self._points(block, layers.DRILL),
            texts=block.texts,
        )
        piece, problem = build_piece(draft, options)
        if problem:
            self.report["warnings"].append(f"piece {name} (block {block.name}): {problem}")
        elif draft.mirror is not None and not piece.folded:
            self.report["unfolded"] += 1
        return piece

    def _contours(self, block: _Block, number: int):
        try:
            rings, chains = contours(block.by_layer.get(number, ()), self.chord, self.gap)
        except UnreadableEntity as problem:
            raise self.fail(block, str(problem)) from None
        return [r.scaled(self.scale) for r in rings], [c.scaled(self.scale) for c in chains]

    def _shell(self, block: _Block, shell: np.ndarray, name: str) -> np.ndarray:
        """Layer 1's shell, or layer 84's curve when it traces the same outline more densely."""
        curves, _ = self._contours(block, layers.BOUNDARY_CURVE)
        if not curves:
            return shell
        polygon = Polygon(shell)
        limit = self.options.match_84_rel * abs(polygon.area)
        for curve in curves:
            candidate = Polygon(curve.points)
            if (len(curve.points) > len(shell) and candidate.is_valid and polygon.is_valid
                    and polygon.symmetric_difference(candidate).area <= limit):
                self.report["outline_from_layer_84"] += 1
                return curve.points
        return shell

    def _segment(self, block: _Block, number: int, longest: bool = False):
        segments = []
        for entity in block.by_layer.get(number, ()):
            kind = entity.dxftype()
            if kind == "LINE":
                ends = (entity.dxf.start, entity.dxf.end)
            elif kind in ("LWPOLYLINE", "POLYLINE"):
                points = list(entity.points_in_wcs() if kind == "POLYLINE" else entity.vertices_in_wcs())
                if len(points) < 2:
                    continue
                ends = (points[0], points[-1])
            else:
                continue
            segment = tuple((float(p.x) * self.scale, float(p.y) * self.scale) for p in ends)
            if segment[0] != segment[1] and np.isfinite(segment).all():
                segments.append(segment)
        if not segments:
            return None
        if longest:
            return max(segments, key=lambda s: np.hypot(s[1][0] - s[0][0], s[1][1] - s[0][1]))
        if len(segments) > 1:
            self.report["warnings"].append(f"block {block.name}: {len(segments)} lines on layer {number}; "
                                           f"the first is used")
        return segments[0]

    def _notches(self, block: _Block, outline: Polygon) -> tuple[RawNotch, ...]:
        notches = []
        ring = outline.exterior
        for number in _NOTCH_LAYERS:
            for entity in block.by_layer.get(number, ()):
                if entity.dxftype() == "POINT":
                    p = entity.dxf.location
                    notches.append(RawNotch(p.x * self.scale, p.y * self.scale, abs(p.z) * self.scale, number))
                elif entity.dxftype() == "LINE":
                    a, b = (np.array([v.x, v.y]) * self.scale for v in (entity.dxf.start, entity.dxf.end))
                    on = a if ring.distance(Point(a)) <= ring.distance(Point(b)) else b
                    notches.append(RawNotch(float(on[0]), float(on[1]), float(np.hypot(*(b - a))), number))
        return tuple(n for n in notches if np.isfinite((n.x, n.y, n.depth)).all())

    def _lines(self, block: _Block, number: int) -> tuple[np.ndarray, ...]:
        rings, chains = self._contours(block, number)
        lines = [np.vstack([r.points, r.points[:1]]) for r in rings] + [c.points for c in chains]
        return tuple(line for line in lines if np.isfinite(line).all())

    def _points(self, block: _Block, number: int) -> tuple[tuple[float, float], ...]:
        points = []
        for entity in block.by_layer.get(number, ()):
            if entity.dxftype() == "POINT":
                p = entity.dxf.location
            elif entity.dxftype() == "CIRCLE":
                p = entity.ocs().to_wcs(entity.dxf.center)
            else:
                continue
            points.append((float(p.x) * self.scale, float(p.y) * self.scale))
        return tuple(p for p in points if np.isfinite(p).all())
