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
from ezdxf import edgeminer, edgesmith, path
from shapely.geometry import Polygon

CURVE_TYPES = frozenset({"LINE", "ARC", "CIRCLE", "ELLIPSE", "SPLINE", "LWPOLYLINE", "POLYLINE"})
JUNCTION_SEARCH_SECONDS = 5.0
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


def explode(entities, warnings: list[str], depth: int = 0):
    """The entities with every INSERT (nested ones too) replaced by its transformed content.

    Entities of a type ezdxf does not know (no layer even) are left out with a warning.
    """
    for entity in entities:
        if not entity.dxf.is_supported("layer"):
            warnings.append(f"entity of unknown type {entity.dxftype()!r} ignored")
            continue
        if entity.dxftype() != "INSERT":
            yield entity
            continue
        if depth >= MAX_INSERT_DEPTH:
            warnings.append(f"INSERT of block {entity.dxf.name!r} nested deeper than {MAX_INSERT_DEPTH}: ignored")
            continue
        name = entity.dxf.get("name")
        if not name or (entity.doc is not None and entity.doc.blocks.get(name) is None):
            warnings.append(f"INSERT of missing block {name!r}: ignored")
            continue
        yield from explode(entity.virtual_entities(), warnings, depth + 1)


def flatten(entity, chord: float) -> np.ndarray:
    """(n, 2) points of one curve entity within ``chord`` of the curve (its own vertices kept)."""
    points = [(v.x, v.y) for v in path.make_path(entity).flattening(chord * FLATTENING_MARGIN)]
    return np.array(points, dtype=np.float64).reshape(-1, 2)


def contours(entities, chord: float, gap: float) -> tuple[list[Contour], list[Contour]]:
    """``(rings, chains)`` of the curve entities: closed loops and what stays open.

    ``chord`` and ``gap`` are in drawing units. Chains that meet at junctions (three or more
    ends at one point) are resolved by ezdxf's loop search, largest loop first.
    """
    curves = [e for e in entities if e.dxftype() in CURVE_TYPES]
    rings, edges = [], []
    for entity in curves:
        closed, geometry = _geometry(entity, chord, gap)
        if closed:
            points = _open_ring(geometry, chord * 1e-6)
            if len(points) >= 3:
                rings.append(Contour(points, entity.dxf.layer, True))
        elif geometry is not None:
            edges.append(geometry)
    chains = []
    if edges:
        deposit = edgeminer.Deposit(edges, gap_tol=gap)
        open_edges = []
        for chain in edgeminer.find_all_simple_chains(deposit):
            if edgeminer.is_loop_fast(chain, gap_tol=gap):
                rings.append(_chain_contour(chain, chord, closed=True))
            else:
                open_edges.extend(chain)
        if open_edges and edgeminer.Deposit(open_edges, gap_tol=gap).max_degree > 2:
            found, open_edges = _loops_at_junctions(open_edges, chord, gap)
            rings.extend(found)
        if open_edges:
            leftover = edgeminer.Deposit(open_edges, gap_tol=gap)
            chains = [_chain_contour(chain, chord, closed=False)
                      for chain in edgeminer.find_all_simple_chains(leftover)]
    return rings, chains


class UnreadableEntity(ValueError):
    """A curve entity whose data ezdxf cannot turn into geometry (a vertex without coordinates...)."""

    def __init__(self, entity, error: Exception):
        layer = entity.dxf.get("layer", "?")
        super().__init__(f"{entity.dxftype()} #{entity.dxf.get('handle', '?')} on layer {layer} is unreadable "
                         f"({type(error).__name__}: {error})")


def _geometry(entity, chord: float, gap: float):
    """``(True, points)`` of a closed curve, or ``(False, edge or None)`` of an open one."""
    try:
        edgesmith.upright_all((entity,))  # mirrored INSERTs leave arcs with an inverted extrusion
        if edgesmith.is_closed_entity(entity):
            return True, flatten(entity, chord)
        return False, edgesmith.make_edge_2d(entity, gap_tol=gap)
    except Exception as error:  # noqa: BLE001 - ezdxf fails on broken entity data in many ways
        raise UnreadableEntity(entity, error) from None


def nearest_open_ends(chains: list[Contour]) -> tuple[float, tuple[float, float]] | None:
    """``(distance, where)`` of the closest pair of free ends that could close a loop."""
    pairs = []
    for i, chain in enumerate(chains):
        ends = (chain.points[0], chain.points[-1])
        if len(chain.points) >= 3:
            pairs.append(ends)
        for other in chains[i + 1:]:
            pairs.extend((p, q) for p in ends for q in (other.points[0], other.points[-1]))
    if not pairs:
        return None
    p, q = min(pairs, key=lambda pair: float(np.hypot(*(pair[0] - pair[1]))))
    return float(np.hypot(*(p - q))), (float(p[0]), float(p[1]))


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
    """Edge-disjoint loops among edges that meet at junctions, largest first; the rest stays open."""
    try:
        candidates = edgeminer.find_all_loops(edgeminer.Deposit(edges, gap_tol=gap), timeout=JUNCTION_SEARCH_SECONDS)
    except edgeminer.TimeoutError as exc:
        candidates = exc.solutions or ()
    scored = []
    for loop in candidates:
        contour = _chain_contour(loop, chord, closed=True)
        if len(contour.points) >= 3:
            scored.append((Polygon(contour.points).area, loop, contour))
    used, rings = set(), []
    for _area, loop, contour in sorted(scored, key=lambda item: -item[0]):
        ids = {edge.id for edge in loop}
        if ids & used:
            continue
        used |= ids
        rings.append(contour)
    return rings, [edge for edge in edges if edge.id not in used]
