"""Pieces drawn straight into model space, without piece blocks, grouped by containment.

Two layouts are recognised:

* **Optitex** (PDS export): one DXF layer per size; on each, every piece is an outer cut line
  with its sew line inside, a grain line, notch lines and ``Piece Name:`` / ``Size:`` /
  ``Quantity:`` / ``Material:`` texts inside the piece. Only the sample size carries quantity
  and material; the other sizes inherit them by piece name.
* **Marker plot** (a marker drawn by a CAD system, e.g. AccuMark): on one layer a rectangle, the
  marker's border, around the placed pieces; the pieces' texts on another layer. The pieces
  are read as they lie (each its own piece), the border gives the fabric width, and the
  report gives the source marker's own length and utilization.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import numpy as np
from shapely.geometry import LineString, Point, Polygon

from patterns.dxf.assemble import Draft, RawNotch, build_piece
from patterns.dxf.document import entity_text
from patterns.dxf.fields import parse_fields, parse_quantity
from patterns.dxf.loops import UnreadableEntity, check_contour_count, contours, explode
from patterns.dxf.outline import OutlineProblem, group_rings, make_outline
from patterns.dxf.repair import repair_ring, report_repair
from patterns.errors import PatternError
from patterns.report import Code, note

_CLOSED_TYPES = ("LWPOLYLINE", "POLYLINE")


def model_space_flavor(doc, model_texts) -> str | None:
    """``optitex``, ``marker-plot`` or None, from the model space's texts and contours."""
    if _is_marker_plot(doc):
        return "marker-plot"
    if any("piece name" in parse_fields([text])[0] for text in model_texts):
        return "optitex"
    return None


def _is_marker_plot(doc) -> bool:
    """A rectangle around every other closed contour, all on one layer, texts on another."""
    closed = [e for e in doc.modelspace() if e.dxftype() in _CLOSED_TYPES and e.is_closed]
    if len(closed) < 3 or len({e.dxf.layer for e in closed}) != 1:
        return False
    texts_elsewhere = any(e.dxf.layer != closed[0].dxf.layer for e in doc.modelspace().query("TEXT MTEXT"))
    boxes = [_box(e) for e in closed]
    if not texts_elsewhere or any(box is None for box in boxes):
        return False
    border = max(range(len(boxes)), key=lambda k: (boxes[k][2] - boxes[k][0]) * (boxes[k][3] - boxes[k][1]))
    bx0, by0, bx1, by1 = boxes[border]
    rectangle = _is_rectangle(closed[border])
    inside = all(bx0 <= b[0] and by0 <= b[1] and b[2] <= bx1 and b[3] <= by1 for b in boxes)
    return rectangle and inside


def _points(entity) -> np.ndarray:
    try:
        points = entity.points_in_wcs() if entity.dxftype() == "POLYLINE" else entity.vertices_in_wcs()
        return np.array([(p.x, p.y) for p in points], dtype=np.float64).reshape(-1, 2)
    except Exception:  # noqa: BLE001 - a broken vertex: the contour readers name it later
        return np.empty((0, 2))


def _box(entity):
    points = _points(entity)
    if not len(points) or not np.isfinite(points).all():
        return None
    return (*points.min(axis=0), *points.max(axis=0))


def _is_rectangle(entity) -> bool:
    points = _points(entity)
    if len(points) > 1 and np.allclose(points[0], points[-1]):
        points = points[:-1]
    if len(points) != 4:
        return False
    xs, ys = np.unique(points[:, 0]), np.unique(points[:, 1])
    return len(xs) == 2 and len(ys) == 2


def read_model_space(doc, path, flavor: str, style: dict, scale: float, options, decode, report) -> list:
    """Pieces of an Optitex or marker-plot model space, in mm."""
    entities = list(explode(doc.modelspace(), report, options.max_inserts))
    by_layer = defaultdict(list)
    for entity in entities:
        by_layer[entity.dxf.layer].append(entity)
    reader = _Reader(path, style.get("style name"), scale, options, decode, report)
    if flavor == "optitex":
        drafts = [d for layer, items in by_layer.items() for d in reader.optitex_layer(layer, items)]
        drafts = _inherit(drafts, reader.stated, report)
    else:
        drafts = reader.marker_plot(entities)
    return [build_piece(draft, options)[0] for draft in drafts]


class _Reader:
    def __init__(self, path, style, scale, options, decode, report):
        self.path, self.style, self.scale, self.options = path, style, scale, options
        self.decode, self.report = decode, report
        self.stated = {}  # Optitex piece name -> (quantity, mirrored, fabric) of the size stating them

    def rings(self, entities, what: str):
        """Repaired closed contours (mm) of ``entities``, with their slit notches."""
        degenerate = []
        curves = [e for e in entities if e.dxftype() != "LINE"]
        try:
            rings, _ = contours(curves, self.options.chord_mm / self.scale, self.options.gap_mm / self.scale,
                                self.options.limit_mm / self.scale, degenerate)
        except UnreadableEntity as problem:
            raise PatternError(self.path, str(problem)) from None
        check_contour_count(len(rings), self.options.max_contours)
        repaired = []
        for ring in rings:
            try:
                repaired.append(repair_ring(ring.points * self.scale, self.options.repair_limits))
            except OutlineProblem as problem:
                raise PatternError(self.path, f"{problem} (a contour {what})") from None
        return repaired

    def texts(self, entities):
        """``(point in mm, text)`` of the TEXT/MTEXT entities."""
        found = []
        for entity in entities:
            if entity.dxftype() in ("TEXT", "MTEXT"):
                at = entity.dxf.insert
                point = (float(at.x) * self.scale, float(at.y) * self.scale)
                if np.isfinite(point).all():
                    found.append((point, entity_text(entity, self.decode, self.report)))
        return found

    def groups(self, repaired, what: str):
        try:
            return group_rings([r.points for r in repaired], self.options.limit_mm)
        except OutlineProblem as problem:
            raise PatternError(self.path, f"{problem} ({what})") from None

    def outline(self, shell, holes, name):
        try:
            outline, removed = make_outline(shell, holes, self.options.duplicate_mm, self.options.simplify_area_rel)
        except OutlineProblem as problem:
            raise PatternError(self.path, str(problem), piece=name) from None
        self.report["vertices_removed"] += removed
        return outline

    def optitex_layer(self, layer: str, entities) -> list[Draft]:
        """One size: each outer contour a piece, the contour inside it its sew line."""
        repaired = self.rings(entities, f"on layer {layer}")
        if not repaired:
            return []
        groups, _ = self.groups(repaired, f"on layer {layer}")
        texts = self.texts(entities)
        lines = [self._line(e) for e in entities if e.dxftype() == "LINE"]
        lines = [line for line in lines if line is not None]
        regions = [Polygon(repaired[shell].points) for shell, _ in groups]
        owner = [min(range(len(regions)), key=lambda k: regions[k].distance(Point(at))) for at, _ in texts]
        drafts = []
        for k, (shell, inner) in enumerate(groups):
            region = regions[k]
            fields, _ = parse_fields([t for (at, t), o in zip(texts, owner) if o == k])
            name = fields.get("piece name") or f"{layer}-{len(drafts) + 1}"
            size = fields.get("size") or layer
            outline = self.outline(repaired[shell].points, [], name)
            report_repair(self.report, repaired[shell], name)
            notches, grain, internal = self._marks(outline, [ln for ln in lines if region.intersects(LineString(ln))])
            slits = [RawNotch(s.base[0], s.base[1], s.length, 4) for s in repaired[shell].slits
                     if all(np.hypot(s.base[0] - n.x, s.base[1] - n.y) > 1.0 for n in notches)]
            sew = tuple(np.vstack([repaired[k].points, repaired[k].points[:1]]) for k in inner)
            quantity, mirrored = parse_quantity(fields["quantity"], self.path, name, None) \
                if "quantity" in fields else (1, 0)
            if "quantity" in fields:
                self.stated.setdefault(name, (quantity, mirrored, fields.get("fabric")))
            drafts.append(Draft(
                id="/".join(p for p in (self.style, name, size) if p), name=name, outline=outline,
                quantity=quantity, mirrored_quantity=mirrored, size=size, fabric=fields.get("fabric"),
                style=self.style, source=str(self.path), grain=grain, notches=tuple(notches) + tuple(slits),
                internal_lines=tuple(internal), sew_lines=sew,
            ))
        return drafts

    def _line(self, entity):
        start, end = entity.dxf.start, entity.dxf.end
        line = ((float(start.x) * self.scale, float(start.y) * self.scale),
                (float(end.x) * self.scale, float(end.y) * self.scale))
        return line if np.isfinite(line).all() and line[0] != line[1] else None

    def _marks(self, outline: Polygon, lines):
        """Notch lines (short, from the cut line inwards), the grain line (the longest of the
        others) and internal lines."""
        ring = outline.exterior
        notches, others = [], []
        for a, b in lines:
            length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
            da, db = ring.distance(Point(a)), ring.distance(Point(b))
            if min(da, db) <= self.options.on_line_mm and length <= self.options.repair_limits.slit_mm:
                on = a if da <= db else b
                notches.append(RawNotch(on[0], on[1], length, 4))
            else:
                others.append((a, b))
        grain = max(others, key=lambda s: np.hypot(s[1][0] - s[0][0], s[1][1] - s[0][1])) if others else None
        internal = [np.array(line) for line in others if line is not grain]
        return notches, grain, internal

    def marker_plot(self, entities) -> list[Draft]:
        layer_of = defaultdict(list)
        for entity in entities:
            layer_of[entity.dxf.layer].append(entity)
        cut_layer = max(layer_of, key=lambda layer: sum(e.dxftype() in _CLOSED_TYPES for e in layer_of[layer]))
        repaired = self.rings(layer_of[cut_layer], f"on layer {cut_layer}")
        border = max(range(len(repaired)), key=lambda k: Polygon(repaired[k].points).area)
        x0, y0, x1, y1 = Polygon(repaired[border].points).bounds
        rest = [r for k, r in enumerate(repaired) if k != border]
        groups, _ = self.groups(rest, f"on layer {cut_layer}")
        texts = self.texts(e for layer, items in layer_of.items() if layer != cut_layer for e in items)
        drafts, seen = [], defaultdict(int)
        for shell, holes in groups:
            region = Polygon(rest[shell].points)
            inside = [t for at, t in texts if region.contains(Point(at))]
            fields, plain = parse_fields(inside)
            base = fields.get("piece name") or " ".join(plain) or "piece"
            size = fields.get("size")
            seen[(base, size)] += 1
            name = base if seen[(base, size)] == 1 else f"{base}-{seen[(base, size)]}"
            outline = self.outline(rest[shell].points, [rest[h].points for h in holes], name)
            report_repair(self.report, rest[shell], name)
            notches = tuple(RawNotch(s.base[0], s.base[1], s.length, 4) for s in rest[shell].slits)
            drafts.append(Draft(id="/".join(p for p in (self.style, name, size) if p), name=name, outline=outline,
                                size=size, style=self.style, source=str(self.path), notches=notches))
        if drafts:
            length, width = x1 - x0, y1 - y0
            used = sum(d.outline.area for d in drafts)
            self.report["width"] = width
            self.report["source_marker"] = {"length": length, "width": width, "pieces": len(drafts),
                                            "utilization": used / (length * width) if length * width > 0 else 0.0}
            note(self.report, Code.SOURCE_MARKER, f"a marker plot: {len(drafts)} placed pieces on {width:.1f} mm "
                                                  f"fabric, the source marker {length:.1f} mm long at "
                                                  f"{100 * used / (length * width):.2f} % utilization",
                 **self.report["source_marker"])
            note(self.report, Code.NO_GRAIN, "a marker plot has no grain lines: pieces keep the orientation they "
                                             "were placed in")
        return drafts


def _inherit(drafts: list[Draft], stated: dict, report) -> list[Draft]:
    """Every size of an Optitex piece gets the sample size's quantity and material."""
    for name in dict.fromkeys(d.name for d in drafts if d.name not in stated):
        note(report, Code.NO_QUANTITY, "no Quantity text; 1 assumed", piece=name)
    return [replace(d, quantity=stated[d.name][0], mirrored_quantity=stated[d.name][1],
                    fabric=d.fabric or stated[d.name][2]) if d.name in stated else d for d in drafts]
