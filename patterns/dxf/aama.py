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
from patterns.dxf.grading import transfer_notches
from patterns.dxf.loops import Contour, UnreadableEntity, contours, explode, flatten, nearest_open_ends
from patterns.dxf.outline import OutlineProblem, group_rings, make_outline
from patterns.dxf.repair import SelfIntersection, repair_ring, report_repair
from patterns.errors import PatternError
from patterns.report import Code, new_report, note

INHERITED = ("quantity", "category", "annotation", "fabric")
_COPY_SUFFIX = re.compile(r"^(?P<base>.+)_\d+(?P<size>_[^_]+)$")
_NOTCH_LAYERS = (layers.NOTCH, *layers.TYPED_NOTCHES)
# layers only a garment CAD writes: a block with a boundary and one of these is a piece block
_MARK_LAYERS = frozenset({layers.TURN_POINTS, layers.CURVE_POINTS, layers.NOTCH, layers.GRAIN, layers.SEW,
                          layers.BOUNDARY_CURVE, *layers.TYPED_NOTCHES, *layers.VALIDATION_CURVES})
_CUT_COUNT = re.compile(r"\bcut\s+(\d+)\b", re.IGNORECASE)
_ON_FOLD = re.compile(r"\bon\s+(?:the\s+)?fold\b", re.IGNORECASE)
_USED_LAYERS = frozenset({
    layers.BOUNDARY, layers.TURN_POINTS, layers.CURVE_POINTS, layers.GRADE_REFERENCE, layers.MIRROR,
    layers.GRAIN, layers.INTERNAL, layers.CUTOUT, layers.DRILL, layers.SEW, layers.ANNOTATION_TEXT,
    layers.BOUNDARY_CURVE, *_NOTCH_LAYERS, *layers.VALIDATION_CURVES,
})


class RefusedPiece(PatternError):
    """One piece of a file whose cut line really crosses itself; the rest of the file is read."""


@dataclass(frozen=True, slots=True)
class _Block:
    """One inserted block: its name, piece text and transformed entities by AAMA layer."""

    name: str
    fields: dict
    texts: tuple[str, ...]
    by_layer: dict


def is_aama(doc) -> bool:
    """True when piece blocks hold the pieces: blocks carrying a ``Piece Name`` text, or the
    AAMA layer structure itself (Valentina/Seamly2D write the name as plain text): every
    inserted block inserted once, each with a boundary on layer 1 and marks on AAMA layers."""
    sources = [name for name, _ in _piece_sources(doc, new_report())]
    if any(_has_piece_name(doc.blocks.get(name)) for name in sources):
        return True
    if not sources or len(set(sources)) != len(sources):
        return False
    return all(_has_aama_layers(doc.blocks.get(name)) for name in sources)


def _has_aama_layers(block) -> bool:
    numbers = {layers.layer_number(e.dxf.layer) for e in block if e.dxf.is_supported("layer")}
    curves = any(e.dxftype() in ("POLYLINE", "LWPOLYLINE", "LINE", "ARC", "SPLINE") and
                 layers.layer_number(e.dxf.layer) == layers.BOUNDARY for e in block)
    return curves and bool(numbers & _MARK_LAYERS)


def _piece_sources(doc, report: dict):
    """``(block name, entities)`` per piece: each model-space INSERT with its transform applied.

    A file whose model space inserts nothing but defines piece blocks (some writers stop
    there) has them read in place, with a warning.
    """
    inserts = list(doc.modelspace().query("INSERT"))
    for insert in inserts:
        name = insert.dxf.get("name")
        if not name:
            note(report, Code.MISSING_BLOCK, "INSERT without a block name ignored")
            continue
        if doc.blocks.get(name) is None:
            note(report, Code.MISSING_BLOCK, _missing_block_warning(doc, name), block=name)
            continue
        for copy in (insert.multi_insert() if insert.mcount > 1 else (insert,)):
            yield name, copy.virtual_entities()
    if inserts:
        return
    uninserted = [b for b in doc.blocks if not b.is_any_layout and not b.block.is_anonymous and _has_piece_name(b)]
    if uninserted:
        note(report, Code.UNINSERTED_BLOCKS, f"{len(uninserted)} piece block(s) are defined but not inserted; "
                                             f"read where they are drawn", count=len(uninserted))
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
    drafts = []
    for block in blocks:
        try:
            drafts.extend(reader.drafts(block))
        except RefusedPiece as refused:
            if len(blocks) == 1:
                raise
            name = block.fields.get("piece name") or block.name
            report.setdefault("refused", []).append({"piece": name, "size": _size(block), "block": block.name,
                                                     "reason": refused.reason})
            note(report, Code.REFUSED_PIECE, f"(block {block.name}, size {_size(block)}) not imported: "
                                             f"{refused.reason}", piece=name, size=_size(block), block=block.name)
    if not drafts and report.get("refused"):
        first = report["refused"][0]
        raise PatternError(path, first["reason"], piece=first["piece"], block=first["block"])
    drafts = transfer_notches(drafts, style.get("sample size"), options.on_line_mm, report)
    pieces = []
    for draft in drafts:
        piece, problem = build_piece(draft, options)
        if problem:
            note(report, Code.FOLD, f"(block {draft.block}): {problem}", piece=draft.name, block=draft.block,
                 size=draft.size, unfold_failed=True)
        elif draft.mirror is not None and not piece.folded:
            report["unfolded"] += 1
        pieces.append(piece)
    return pieces


def _inserted_blocks(doc, options, decode, report) -> list[_Block]:
    blocks, ignored_layers = [], set()
    count = [0]
    for name, entities in _piece_sources(doc, report):
        by_layer = defaultdict(list)
        for entity in explode(entities, report, options.max_inserts, count):
            number = layers.layer_number(entity.dxf.layer, options.layer_map)
            by_layer[number].append(entity)
            if number not in _USED_LAYERS:
                ignored_layers.add(entity.dxf.layer)
        texts = {number: [entity_text(e, decode, report) for e in entities if e.dxftype() in ("TEXT", "MTEXT")]
                 for number, entities in by_layer.items()}
        ordered = texts.get(layers.BOUNDARY, []) + [t for n, ts in texts.items() if n != layers.BOUNDARY for t in ts]
        fields, plain = parse_fields(ordered)
        if "piece name" not in fields:
            _fields_from_plain_text(name, plain, texts.get(layers.BOUNDARY, []), fields)
        notes = tuple(t.strip() for t in texts.get(layers.ANNOTATION_TEXT, []) if t.strip())
        blocks.append(_Block(name, fields, notes, dict(by_layer)))
    if ignored_layers:
        report["ignored_layers"] = sorted(ignored_layers)
    return blocks


def _fields_from_plain_text(block_name: str, plain: list[str], boundary_texts: list[str], fields: dict) -> None:
    """Name, quantity and fold of a piece whose text has no keys (Valentina/Seamly2D: a letter,
    the name, ``Fabric, Cut 2 on fold``): the name is the text that spells the block's name,
    else the longest layer-1 text that is not a cutting note."""
    squeeze = re.compile(r"[^0-9a-z]+")
    for text in plain:
        if "quantity" not in fields and (cut := _CUT_COUNT.search(text)):
            fields["quantity"] = cut.group(1)
        if _ON_FOLD.search(text):
            fields["on fold"] = text
    named = [t for t in plain if squeeze.sub("", t.lower()) == squeeze.sub("", block_name.lower())]
    candidates = [t.strip() for t in boundary_texts if t.strip() and not _CUT_COUNT.search(t) and
                  not _ON_FOLD.search(t) and len(t.strip()) > 1]
    if named:
        fields["piece name"] = named[0].strip()
    elif candidates:
        fields["piece name"] = max(candidates, key=len)


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
            note(report, Code.NO_QUANTITY, "no Quantity text; 1 assumed", piece=piece)
            continue
        for block in sizes:
            for key in INHERITED:
                if key in base.fields and key not in block.fields:
                    block.fields[key] = base.fields[key]


def _size(block: _Block) -> str | None:
    return block.fields.get("size") or block.fields.get("sample size") or None


class _BlockReader:
    """Turns one `_Block` into drafts; holds what every block shares."""

    def __init__(self, path, style, scale, options, report):
        self.path, self.style, self.scale, self.options, self.report = path, style, scale, options, report
        self.chord, self.gap = options.chord_mm / scale, options.gap_mm / scale
        self.limit = options.limit_mm / scale
        self.quantity_zero_warned, self.fold_warned = set(), set()

    def fail(self, block: _Block, reason: str):
        return PatternError(self.path, reason, piece=block.fields.get("piece name"), block=block.name)

    def drafts(self, block: _Block) -> list[Draft]:
        name = block.fields.get("piece name") or block.name
        rings, chains = self._contours(block, layers.BOUNDARY, name)
        if rings and "piece name" not in block.fields:
            note(self.report, Code.NO_PIECE_NAME, f"block {block.name}: no Piece Name text; the piece is named "
                                                  f"after the block", block=block.name)
        if not rings:
            if chains:
                gap, where = nearest_open_ends(chains) or (0.0, (0.0, 0.0))
                raise self.fail(block, f"open contour: the boundary on layer 1 does not close (gap of {gap:.3f} mm "
                                       f"at ({where[0]:.1f}, {where[1]:.1f}) mm, more than the gap tolerance "
                                       f"{self.options.gap_mm:g} mm)")
            if "piece name" in block.fields:
                raise self.fail(block, "no boundary (no closed contour on layer 1)")
            note(self.report, Code.SKIPPED_BLOCK, f"block {block.name}: no piece text and no boundary; skipped",
                 block=block.name)
            return []
        if chains:
            note(self.report, Code.OPEN_LINES, f"(block {block.name}): {len(chains)} open line(s) on layer 1 "
                                               f"besides the boundary ignored", piece=name, count=len(chains))
        rings, slits = self._repaired(block, name, rings)
        try:
            groups, duplicates = group_rings([r.points for r in rings], self.options.limit_mm)
        except OutlineProblem as problem:
            raise self.fail(block, str(problem)) from None
        if duplicates:
            note(self.report, Code.DUPLICATE_CONTOUR, f"(block {block.name}): {len(duplicates)} repeated boundary "
                                                      f"contour(s) dropped", piece=name, count=len(duplicates))
        self.report["largest_gap_mm"] = max(self.report["largest_gap_mm"], max(r.gap for r in rings))
        cutouts, slit_cuts = self._contours(block, layers.CUTOUT, name)
        if not cutouts and not slit_cuts:  # ASTM's validation copy of layer 11, when 11 itself is absent
            cutouts, slit_cuts = self._contours(block, layers.VALIDATION_CURVES[1], name)
        shells = [self._shell(block, rings[shell].points, name) for shell, _ in groups]
        hole_sets = [[rings[h].points for h in holes] for _, holes in groups]
        for cutout in cutouts:
            inside = [k for k, shell in enumerate(shells) if Polygon(shell).contains(Polygon(cutout.points))]
            if inside:
                hole_sets[inside[0]].append(cutout.points)
            else:
                note(self.report, Code.CUTOUT_OUTSIDE, f"(block {block.name}): a cut-out on layer 11 lies "
                                                       f"outside the boundary; ignored", piece=name)
        if len(shells) > 1:
            note(self.report, Code.SEPARATE_OUTLINES, f"block {block.name}: {len(shells)} separate outlines on "
                                                      f"layer 1, read as pieces {name}-1 ... {name}-{len(shells)}",
                 block=block.name, count=len(shells))
        runs = self._runs(block) if len(shells) == 1 else None
        drafts = []
        for k, (shell, holes) in enumerate(zip(shells, hole_sets), start=1):
            piece_name = name if len(shells) == 1 else f"{name}-{k}"
            drafts.append(self._draft(block, piece_name, shell, holes, slits, slit_cuts, runs))
        return drafts

    def _repaired(self, block: _Block, name: str, rings: list[Contour]):
        """The boundary rings with spikes and tiny self-overlaps taken out (reported), and the
        slit notches found."""
        repaired, slits = [], []
        for ring in rings:
            try:
                fixed = repair_ring(ring.points, self.options.repair_limits)
            except SelfIntersection as problem:
                raise RefusedPiece(self.path, str(problem), piece=name, block=block.name) from None
            except OutlineProblem as problem:
                raise PatternError(self.path, str(problem), piece=name, block=block.name) from None
            report_repair(self.report, fixed, name)
            slits.extend(fixed.slits)
            repaired.append(Contour(fixed.points, ring.layer, True, ring.gap))
        return repaired, slits

    def _draft(self, block: _Block, name: str, shell, holes, slits, slit_cuts, runs) -> Draft:
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
            annotation = f" (annotation {block.fields['annotation']!r})" if block.fields.get("annotation") else ""
            note(self.report, Code.QUANTITY_ZERO, f"Quantity: 0{annotation}; listed, but left out of markers",
                 piece=name)
        mirror = self._segment(block, layers.MIRROR)
        if block.fields.get("on fold") and mirror is None and name not in self.fold_warned:
            self.fold_warned.add(name)
            note(self.report, Code.FOLD, f"{block.fields['on fold']!r} says the piece is cut on a fold, but "
                                         f"no mirror line (layer 6) says where: read as drawn", piece=name)
        notches = self._notches(block, outline) + tuple(
            RawNotch(s.base[0], s.base[1], s.length, layers.NOTCH) for s in slits)
        internal = self._lines(block, layers.INTERNAL) + tuple(c.points for c in slit_cuts)
        return Draft(
            id="/".join(part for part in (self.style, name, size) if part), name=name, outline=outline,
            quantity=quantity, mirrored_quantity=mirrored, size=size, fabric=block.fields.get("fabric") or None,
            category=block.fields.get("category") or None, annotation=block.fields.get("annotation") or None,
            style=self.style, source=str(self.path), block=block.name,
            grain=self._segment(block, layers.GRAIN, longest=True), mirror=mirror,
            notches=notches, internal_lines=internal,
            sew_lines=self._lines(block, layers.SEW), drill_holes=self._points(block, layers.DRILL),
            texts=block.texts, runs=runs,
        )

    def _runs(self, block: _Block):
        """The boundary's runs between grade points (one per layer-1 entity, in file order; one
        per edge when the boundary is a single closed polyline), in mm, for notch transfer."""
        runs = []
        for entity in block.by_layer.get(layers.BOUNDARY, ()):
            if entity.dxftype() not in ("LINE", "POLYLINE", "LWPOLYLINE", "ARC", "SPLINE"):
                continue
            try:
                points = flatten(entity, self.chord) * self.scale
            except Exception:  # noqa: BLE001 - an unreadable run only costs the notch transfer
                return None
            if len(points) >= 2 and np.isfinite(points).all():
                runs.append(points)
        if len(runs) == 1 and len(runs[0]) > 2:
            ring = runs[0]
            runs = [ring[k:k + 2] for k in range(len(ring) - 1)]
        return tuple(runs) or None

    def _contours(self, block: _Block, number: int, name: str | None = None):
        degenerate = []
        try:
            rings, chains = contours(block.by_layer.get(number, ()), self.chord, self.gap, self.limit, degenerate)
        except UnreadableEntity as problem:
            raise self.fail(block, str(problem)) from None
        if degenerate:
            note(self.report, Code.DEGENERATE_CHAIN, f"(block {block.name}): {len(degenerate)} closed chain(s) "
                 f"without area on layer {number} (a line drawn there and back) kept as open lines",
                 piece=name or block.fields.get("piece name") or block.name, layer=number, count=len(degenerate))
        return [r.scaled(self.scale) for r in rings], [c.scaled(self.scale) for c in chains]

    def _shell(self, block: _Block, shell: np.ndarray, name: str) -> np.ndarray:
        """Layer 1's shell, or layer 84's curve when it traces the same outline more densely."""
        curves, _ = self._contours(block, layers.BOUNDARY_CURVE, name)
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
            note(self.report, Code.LINES_ON_LAYER, f"block {block.name}: {len(segments)} lines on layer {number}; "
                                                   f"the first is used", block=block.name, layer=number)
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
