"""Cut order: which contour the knife cuts next and where on it the cut starts.

Cutters lose time on pen-up travel, and a cut that starts in the middle of a smooth curve
leaves a visible nick; so pieces are taken nearest-first from the machine's origin, and each
contour starts at a notch (the nick hides in it) or else at a corner. Inner cut-outs of a
piece are cut before its outline, while the piece is still held by the fabric around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry import LinearRing, Point

from export.placed import PlacedMarker

CORNER_TURN_DEG = 25.0  # a vertex turning the cut line at least this much is a corner
NOTCH_ON_CUT_LINE_MM = 0.01  # a notch this close to a contour marks a start point on it

XY = tuple[float, float]


@dataclass(frozen=True, slots=True)
class CutPath:
    """One closed contour as cut: ``points[0] == points[-1]`` is where the knife goes down."""

    piece: int  # index into PlacedMarker.pieces
    points: tuple[XY, ...]
    hole: bool


@dataclass(frozen=True, slots=True)
class CutPlan:
    paths: tuple[CutPath, ...]
    cut_length: float  # knife-down length, all contours
    travel_length: float  # pen-up moves from ``start`` to the last contour's start point
    start: XY

    def piece_order(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(path.piece for path in self.paths))

    def summary(self, units: str) -> str:
        unit = "m" if units == "mm" else "units"
        scale = 1000.0 if units == "mm" else 1.0
        return (f"cut order: {len(self.paths)} contours, cut length {self.cut_length / scale:.2f} {unit}, "
                f"pen-up travel {self.travel_length / scale:.2f} {unit}")


@dataclass(frozen=True, slots=True)
class _Contour:
    coords: np.ndarray  # (n, 2) open ring
    starts: np.ndarray  # indices of allowed start vertices


def plan(marker: PlacedMarker, start: XY = (0.0, 0.0)) -> CutPlan:
    """Nearest-neighbour cut order from ``start`` (the machine origin in marker coordinates)."""
    contours = [_piece_contours(piece) for piece in marker.pieces]
    owner = np.concatenate([np.full(sum(len(c.starts) for c in cs), i) for i, cs in enumerate(contours)] or [np.zeros(0, int)])
    points = np.concatenate([c.coords[c.starts] for cs in contours for c in cs] or [np.zeros((0, 2))])
    first = np.searchsorted(owner, np.arange(len(contours) + 1))
    starts = _StartGrid(points)
    position = np.asarray(start, dtype=float)
    paths, travel = [], 0.0
    for _ in range(len(contours)):
        piece = int(owner[starts.nearest(position)])
        starts.take(range(first[piece], first[piece + 1]))
        holes, outline = contours[piece][:-1], contours[piece][-1]
        for contour, is_hole in [*_nearest_first(holes, position), (outline, False)]:
            ring, moved = _cut_from_nearest_start(contour, position)
            travel += moved
            position = np.asarray(ring[0])
            paths.append(CutPath(piece, ring, is_hole))
    cut = sum(_closed_length(path.points) for path in paths)
    return CutPlan(tuple(paths), cut, travel, (float(start[0]), float(start[1])))


class _StartGrid:
    """Start points bucketed in a uniform grid, so that the nearest one not yet taken is found
    by searching rings of cells outwards instead of every point: the cut order of n pieces
    then takes about linear time. Ties go to the lowest index, as ``np.argmin`` would."""

    def __init__(self, points: np.ndarray):
        self.points = points
        self.taken = np.zeros(len(points), dtype=bool)
        if not len(points):
            return
        self.low = points.min(axis=0)
        span = float(np.max(points.max(axis=0) - self.low))
        self.cell = span / math.sqrt(len(points)) or 1.0
        keys = np.floor((points - self.low) / self.cell).astype(np.int64)
        self.shape = tuple(int(v) + 1 for v in keys.max(axis=0))
        self.key_of = [tuple(k) for k in keys.tolist()]
        self.members: dict[tuple[int, int], np.ndarray] = {}
        for index, key in enumerate(self.key_of):
            self.members.setdefault(key, []).append(index)
        self.members = {key: np.asarray(indices) for key, indices in self.members.items()}
        self.left = {key: len(indices) for key, indices in self.members.items()}

    def take(self, indices) -> None:
        for index in indices:
            if not self.taken[index]:
                self.taken[index] = True
                self.left[self.key_of[index]] -= 1

    def nearest(self, position: np.ndarray) -> int:
        ci, cj = (int(v) for v in np.floor((position - self.low) / self.cell))
        nx, ny = self.shape
        nearest_ring = max(0, -ci, ci - nx + 1, -cj, cj - ny + 1)  # rings before it miss the grid
        farthest_ring = max(abs(ci), abs(ci - nx + 1), abs(cj), abs(cj - ny + 1))
        best = (math.inf, -1)
        for ring in range(nearest_ring, farthest_ring + 1):
            if best[1] >= 0 and (ring - 1) * self.cell > best[0]:
                break  # every point further out is further than the best found
            for key in self._ring(ci, cj, ring):
                if not self.left.get(key):
                    continue
                indices = self.members[key]
                indices = indices[~self.taken[indices]]
                distance = np.hypot(*(self.points[indices] - position).T)
                closest = float(distance.min())
                candidate = (closest, int(indices[distance == closest].min()))
                if candidate < best:
                    best = candidate
        return best[1]

    def _ring(self, ci: int, cj: int, ring: int):
        """The grid cells at Chebyshev distance ``ring`` from cell (ci, cj)."""
        nx, ny = self.shape
        if ring == 0:
            if 0 <= ci < nx and 0 <= cj < ny:
                yield (ci, cj)
            return
        for j in (cj - ring, cj + ring):
            if 0 <= j < ny:
                yield from ((i, j) for i in range(max(ci - ring, 0), min(ci + ring, nx - 1) + 1))
        for i in (ci - ring, ci + ring):
            if 0 <= i < nx:
                yield from ((i, j) for j in range(max(cj - ring + 1, 0), min(cj + ring - 1, ny - 1) + 1))


def _piece_contours(piece) -> list[_Contour]:
    """The piece's holes, then its outline, each with its allowed start vertices."""
    notches = [(n.x, n.y) for n in piece.annotations.notches]
    rings = [*piece.polygon.interiors, piece.polygon.exterior]
    return [_contour(np.asarray(ring.coords[:-1], dtype=float), notches) for ring in rings]


def _contour(coords: np.ndarray, notches) -> _Contour:
    notch_vertices = []
    for notch in notches:
        coords, index = _vertex_at(coords, notch)
        if index is not None:
            notch_vertices.append(index)
    if notch_vertices:
        return _Contour(coords, np.array(sorted(set(notch_vertices))))
    incoming = coords - np.roll(coords, 1, axis=0)
    outgoing = np.roll(coords, -1, axis=0) - coords
    turn = np.abs(np.arctan2(incoming[:, 0] * outgoing[:, 1] - incoming[:, 1] * outgoing[:, 0],
                             (incoming * outgoing).sum(axis=1)))
    corners = np.flatnonzero(turn >= math.radians(CORNER_TURN_DEG))
    return _Contour(coords, corners if len(corners) else np.arange(len(coords)))


def _vertex_at(coords: np.ndarray, point) -> tuple[np.ndarray, int | None]:
    """The index of the vertex at ``point`` on the contour, inserting one on its edge if needed."""
    distance = np.hypot(*(coords - np.asarray(point)).T)
    nearest = int(np.argmin(distance))
    if distance[nearest] <= NOTCH_ON_CUT_LINE_MM:
        return coords, nearest
    ring = LinearRing(coords)
    if ring.distance(Point(point)) > NOTCH_ON_CUT_LINE_MM:
        return coords, None
    along = ring.project(Point(point))
    edges = np.hypot(*np.diff(np.vstack([coords, coords[:1]]), axis=0).T)
    edge = min(int(np.searchsorted(np.cumsum(edges), along)), len(coords) - 1)
    on_line = ring.interpolate(along)
    return np.insert(coords, edge + 1, [on_line.x, on_line.y], axis=0), edge + 1


def _nearest_first(contours, position):
    """Holes in nearest-neighbour order from ``position`` (by their nearest start vertex)."""
    left, order, here = list(contours), [], np.asarray(position, dtype=float)
    while left:
        # by index: contours hold arrays, so list.remove's equality test cannot compare them
        best = left.pop(min(range(len(left)), key=lambda k: np.min(np.hypot(*(left[k].coords[left[k].starts] - here).T))))
        order.append((best, True))
        here = best.coords[best.starts[np.argmin(np.hypot(*(best.coords[best.starts] - here).T))]]
    return order


def _cut_from_nearest_start(contour: _Contour, position) -> tuple[tuple[XY, ...], float]:
    distance = np.hypot(*(contour.coords[contour.starts] - position).T)
    k = int(np.argmin(distance))
    rolled = np.roll(contour.coords, -int(contour.starts[k]), axis=0)
    ring = tuple((float(x), float(y)) for x, y in rolled)
    return ring + ring[:1], float(distance[k])


def _closed_length(points) -> float:
    return float(np.sum(np.hypot(*np.diff(np.asarray(points), axis=0).T)))
