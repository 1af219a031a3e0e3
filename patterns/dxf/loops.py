"""DXF curves to point sequences: closed rings and open chains, in drawing units.

Closed entities (closed polylines, circles, ellipses, closed splines) are flattened directly.
Open ones (LINE, ARC, open polylines, open splines) are chained end to end with ezdxf's
``edgeminer``/``edgesmith`` within a gap tolerance; a chain whose ends meet is a ring.
Curves are flattened once, by ``ezdxf.path``, to a chord (sagitta) tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from ezdxf import edgeminer, edgesmith, path

from patterns.report import Code, note

CURVE_TYPES = frozenset({"LINE", "ARC", "CIRCLE", "ELLIPSE", "SPLINE", "LWPOLYLINE", "POLYLINE"})
# ezdxf subdivides a curve until each piece's midpoint lies within the distance asked for; the
# largest deviation can sit elsewhere and exceed it slightly, so it is asked for half the bound.
FLATTENING_MARGIN = 0.5
MAX_INSERT_DEPTH = 16


@dataclass(frozen=True, slots=True)
class Contour:
    """A flattened curve: ``points`` (n, 2) float64 in drawing units; open rings when closed."""

    points: np.ndarray
    layer: str
    closed: bool
    gap: float = 0.0  # largest gap between chained entity ends closed by a straight segment

    def scaled(self, factor: float) -> Contour:
        return Contour(self.points * factor, self.layer, self.closed, self.gap * factor)


class ReadProblem(ValueError):
    """Drawing content that cannot be read as it is; the message is the reason."""


class LimitExceeded(ReadProblem):
    """The drawing needs more work than a stated import limit allows."""


def check_contour_count(count: int, most: int) -> None:
    """Refuse more closed contours than the limit ``max_contours`` allows."""
    if count > most:
        raise LimitExceeded(f"{count} closed contours, more than the limit max_contours ({most}) allows")


def explode(entities, report: dict, max_inserts: int, _count=None, depth: int = 0):
    """The entities with every INSERT (nested ones and every copy of a MINSERT array too)
    replaced by its transformed content.

    Raises `LimitExceeded` once more than ``max_inserts`` block references are expanded in
    all (a block inserting itself twice fans out exponentially within the depth limit).
    Entities of a type ezdxf does not know (no layer even) are left out with a warning.
    """
    count = _count if _count is not None else [0]
    for entity in entities:
        if not entity.dxf.is_supported("layer"):
            note(report, Code.UNKNOWN_ENTITY, f"entity of unknown type {entity.dxftype()!r} ignored")
            continue
        if entity.dxftype() != "INSERT":
            yield entity
            continue
        name = entity.dxf.get("name")
        if depth >= MAX_INSERT_DEPTH:
            note(report, Code.NESTED_TOO_DEEP, f"INSERT of block {name!r} nested deeper than {MAX_INSERT_DEPTH}: "
                                               f"ignored")
            continue
        if not name or (entity.doc is not None and entity.doc.blocks.get(name) is None):
            note(report, Code.MISSING_BLOCK, f"INSERT of missing block {name!r}: ignored", block=name)
            continue
        copies = entity.multi_insert() if entity.mcount > 1 else (entity,)
        for copy in copies:
            count[0] += 1
            if count[0] > max_inserts:
                raise LimitExceeded(f"more than {max_inserts} block references to expand (limit max_inserts; "
                                    f"block {name!r} is inserted too often, or inserts itself)")
            yield from explode(copy.virtual_entities(), report, max_inserts, count, depth + 1)


def flatten(entity, chord: float) -> np.ndarray:
    """(n, 2) points of one curve entity within ``chord`` of the curve (its own vertices kept)."""
    points = [(v.x, v.y) for v in path.make_path(entity).flattening(chord * FLATTENING_MARGIN)]
    return np.array(points, dtype=np.float64).reshape(-1, 2)


def contours(entities, chord: float, gap: float, limit: float = math.inf,
             degenerate: list | None = None) -> tuple[list[Contour], list[Contour]]:
    """``(rings, chains)`` of the curve entities: closed loops and what stays open.

    ``chord``, ``gap`` and ``limit`` (the largest coordinate or radius accepted) are in
    drawing units. Chains that meet at junctions (three or more ends at one point) are
    resolved as the outlines of the faces they enclose. A "loop" without area (a line drawn
    twice and chained there and back) is no ring: it is kept as the open line it is and
    appended to ``degenerate``.
    """
    curves = [e for e in entities if e.dxftype() in CURVE_TYPES]
    rings, chained, edges, chains = [], [], [], []
    for entity in curves:
        closed, geometry = _geometry(entity, chord, gap, limit)
        if closed:
            points = _open_ring(geometry, chord * 1e-6)
            if len(points) >= 3:
                rings.append(Contour(points, entity.dxf.layer, True))
        elif geometry is not None:
            edges.append(geometry)
    if edges:
        try:
            chained, chains = _chained(edges, chord, gap)
        except Exception as error:  # noqa: BLE001 - ezdxf's chaining trips on degenerate input in many ways
            raise ReadProblem(f"the open lines on layer {edges[0].payload.dxf.layer} cannot be chained "
                              f"({type(error).__name__}: {error})") from None
    kept = rings
    for ring in chained:
        if _has_area(ring.points, chord):
            kept.append(ring)
            continue
        line = _unique_run(ring.points)
        if degenerate is not None:
            degenerate.append(ring)
        if len(line) >= 2:
            chains.append(Contour(line, ring.layer, False))
    return kept, chains


def _chained(edges, chord: float, gap: float):
    """``(loops, open chains)`` of open edges chained end to end."""
    chained, chains = [], []
    if edges:
        deposit = edgeminer.Deposit(edges, gap_tol=gap)
        open_chains = []
        for chain in edgeminer.find_all_simple_chains(deposit):
            if edgeminer.is_loop_fast(chain, gap_tol=gap):
                chained.append(_chain_contour(chain, chord, closed=True))
            else:
                open_chains.append(chain)
        open_edges = [edge for chain in open_chains for edge in chain]
        if open_edges and deposit.max_degree > 2 and edgeminer.Deposit(open_edges, gap_tol=gap).max_degree > 2:
            found, open_edges = _loops_at_junctions(open_edges, chord, gap)
            chained.extend(found)
            open_chains = edgeminer.find_all_simple_chains(edgeminer.Deposit(open_edges, gap_tol=gap)) \
                if open_edges else []
        chains = [_chain_contour(chain, chord, closed=False) for chain in open_chains]
    return chained, chains


def _has_area(points: np.ndarray, chord: float) -> bool:
    """Whether a ring encloses area: its points do not all lie within a chord of one line."""
    if len(points) < 3:
        return False
    if not np.isfinite(points).all():
        return True  # not for this test to judge: the outline checks refuse it by name
    far = points[int(np.argmax(np.hypot(*(points - points[0]).T)))] - points[0]
    length = float(np.hypot(*far))
    if length == 0.0:
        return False
    offsets = np.abs(far[0] * (points[:, 1] - points[0, 1]) - far[1] * (points[:, 0] - points[0, 0])) / length
    return bool(offsets.max() > chord)


def _unique_run(points: np.ndarray) -> np.ndarray:
    """The points of a there-and-back ring up to its far end (the line it retraces)."""
    if len(points) < 2:
        return points
    far = int(np.argmax(np.hypot(*(points - points[0]).T)))
    return points[: far + 1]


class UnreadableEntity(ReadProblem):
    """A curve entity whose data ezdxf cannot turn into geometry (a vertex without coordinates...)."""

    def __init__(self, entity, error: Exception):
        layer = entity.dxf.get("layer", "?")
        super().__init__(f"{entity.dxftype()} #{entity.dxf.get('handle', '?')} on layer {layer} is unreadable "
                         f"({type(error).__name__}: {error})")


def _geometry(entity, chord: float, gap: float, limit: float):
    """``(True, points)`` of a closed curve, or ``(False, edge or None)`` of an open one.

    Radii and coordinates are checked before anything is flattened: an arc of radius 1e30
    would otherwise be cut into billions of chords.
    """
    _check_size(entity, limit)
    try:
        edgesmith.upright_all((entity,))  # mirrored INSERTs leave arcs with an inverted extrusion
        if edgesmith.is_closed_entity(entity):
            return True, flatten(entity, chord)
        return False, edgesmith.make_edge_2d(entity, gap_tol=gap)
    except Exception as error:  # noqa: BLE001 - ezdxf fails on broken entity data in many ways
        raise UnreadableEntity(entity, error) from None


def _check_size(entity, limit: float) -> None:
    kind = entity.dxftype()
    values = []
    if kind in ("ARC", "CIRCLE"):
        values = [entity.dxf.get("radius", 0.0), *entity.dxf.get("center", (0.0, 0.0, 0.0))]
    elif kind == "ELLIPSE":
        values = [*entity.dxf.get("center", (0.0, 0.0, 0.0)), *entity.dxf.get("major_axis", (0.0, 0.0, 0.0))]
    elif kind == "SPLINE":
        values = [c for p in entity.control_points for c in p] + [c for p in entity.fit_points for c in p]
    elif kind == "LINE":
        values = [*entity.dxf.start, *entity.dxf.end]
    elif kind == "LWPOLYLINE":
        values = [c for p in entity.get_points("xy") for c in p]
    elif kind == "POLYLINE":
        values = [c for v in entity.vertices for c in v.dxf.get("location", (0.0, 0.0, 0.0))]
    if not values:
        return
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise UnreadableEntity(entity, ValueError("a coordinate or radius is not a finite number"))
    if np.abs(values).max() > limit:
        raise UnreadableEntity(entity, ValueError(f"a coordinate or radius of {np.abs(values).max():.3g} drawing "
                                                  f"units, beyond any fabric (limit {limit:.3g}): check the file "
                                                  f"and its units"))


def nearest_open_ends(chains: list[Contour]) -> tuple[float, tuple[float, float]] | None:
    """``(distance, where)`` of the closest pair of free ends that could close a loop.

    A spatial index answers each end's nearest neighbour, so 20,000 open lines cost
    milliseconds rather than 800 million pairs.
    """
    ends = np.array([p for chain in chains for p in (chain.points[0], chain.points[-1])], dtype=np.float64)
    if len(ends) == 0 or not np.isfinite(ends).all():
        return None
    owner = np.repeat(np.arange(len(chains)), 2)
    closable = np.repeat([len(c.points) >= 3 for c in chains], 2)
    points = shapely.points(ends)
    tree = shapely.STRtree(points)
    best = np.full(len(ends), np.inf)
    # Each end's nearest allowed end (another chain's, or its own chain's other end when the
    # chain could close on itself), found in rounds of growing radius around every end at once.
    radius = np.full(len(ends), max(float(np.ptp(ends, axis=0).max()) * 1e-6, 1e-9))
    pending = np.arange(len(ends))
    span = float(np.hypot(*np.ptp(ends, axis=0))) + 1.0
    while len(pending):
        source, target = tree.query(points[pending], predicate="dwithin", distance=radius[pending])
        source = pending[source]
        allowed = (source != target) & ((owner[source] != owner[target]) | closable[source])
        distance = np.hypot(*(ends[source] - ends[target]).T)
        np.minimum.at(best, source[allowed], distance[allowed])
        found = np.isfinite(best[pending]) | (radius[pending] > span)
        pending = pending[~found]
        radius[pending] *= 4.0
    if not np.isfinite(best).any():
        return None
    k = int(np.argmin(best))
    return float(best[k]), (float(ends[k][0]), float(ends[k][1]))


def _chain_contour(chain, chord: float, closed: bool) -> Contour:
    points = flatten_chain(chain, chord)
    gap = 0.0
    pairs = list(zip(chain, chain[1:])) + ([(chain[-1], chain[0])] if closed else [])
    for a, b in pairs:
        gap = max(gap, math.dist((a.end.x, a.end.y), (b.start.x, b.start.y)))
    if closed:
        points = _open_ring(points, chord * 1e-6)
    return Contour(points, chain[0].payload.dxf.layer, closed, gap)


def flatten_chain(chain, chord: float) -> np.ndarray:
    """(n, 2) points along a chain of edges; gaps between edges become straight segments."""
    points = [(v.x, v.y) for v in edgesmith.path2d_from_chain(chain).flattening(chord * FLATTENING_MARGIN)]
    return np.array(points, dtype=np.float64).reshape(-1, 2)


def _open_ring(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Drop the repeated closing vertex(es) of a ring."""
    while len(points) > 1 and np.hypot(*(points[0] - points[-1])) <= tolerance:
        points = points[:-1]
    return points


def _loops_at_junctions(edges, chord: float, gap: float):
    """The outlines of the faces that edges meeting at junctions enclose; the rest stays open.

    A junction (three or more ends at one point) is a drawing of touching contours or of lines
    across a piece. The faces are found by shapely's polygonize (near-linear), and adjoining
    faces are merged: what is cut is their union's outline. Edges not on that outline (lines
    across the piece) stay open.
    """
    grid = max(gap, chord * 1e-3)
    lines = [shapely.set_precision(shapely.linestrings(flatten(edge.payload, chord)), grid) for edge in edges]
    faces = shapely.get_parts(shapely.polygonize(lines))
    faces = faces[shapely.area(faces) > 0]
    if not len(faces):
        return [], edges
    merged = shapely.get_parts(shapely.union_all(faces))
    boundary = shapely.boundary(shapely.union_all(merged)).buffer(grid)
    layer = edges[0].payload.dxf.layer
    rings = [Contour(_open_ring(np.asarray(ring.coords)[:, :2], chord * 1e-6), layer, True, grid)
             for polygon in merged for ring in (polygon.exterior, *polygon.interiors)]
    used = [k for k, line in enumerate(lines) if boundary.covers(line)]
    used_ids = {edges[k].id for k in used}
    return rings, [edge for edge in edges if edge.id not in used_ids]
