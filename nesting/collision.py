"""The collision core: the one place the search asks whether a piece collides.

After jagua-rs's ``CDEngine``: the immutable prepared instance (collision shapes on the grid,
their NFP table, the clear zones, the fabric) is built once per marker; a search owns mutable
`LayoutState` records (positions, orientations, loss caches) and asks a few questions of
them — the overlap depth of an item at a pose, the lowest free position for constructive
placement, the line search — all answered by the compiled kernels of
`nesting.kernels.collision`, with the same tolerance (``Tolerances.contact_units``) for
bottom-left fill and the separator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyclipper

from nesting import lattice
from nesting.kernels import collision
from nesting.kernels.collision import UNPLACED, Instance, LayoutState

OPEN_LENGTH = float(2**40)  # an open-ended strip: where bottom-left fill's inner-fit rectangle ends


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A layout's placements and strip length, to return to (its losses are recomputed)."""

    shape_of: np.ndarray
    position: np.ndarray
    length: float


class CollisionCore:
    """Overlap queries on one prepared marker (`nesting.geometry.Prepared` and its NFPs)."""

    def __init__(self, prep, nfps, contact: float):
        self.nfps = nfps
        self.n_shapes = len(prep.shapes)
        self.n_movable = len(prep.item_piece)
        self.n_zones = len(prep.zones)
        zone_bounds = [(*z.min(axis=0), *z.max(axis=0)) for z in prep.zones]
        bounds = np.array([s.bounds for s in prep.shapes] + zone_bounds, dtype=np.float64).reshape(-1, 4)
        hulls = [s.hull_area for s in prep.shapes] + [float((b[2] - b[0]) * (b[3] - b[1])) for b in zone_bounds]
        diameters = np.hypot(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
        margins = prep.margins
        self.instance = Instance(
            nfp_xy=nfps.ring_xy, nfp_offsets=nfps.ring_offsets, nfp_rings=nfps.pair_rings, nfp_bbox=nfps.pair_bbox,
            bounds=bounds, loss_scale=np.array(hulls, dtype=np.float64) ** 0.25, epsilon=0.01 * diameters,
            contact=float(contact), width=float(prep.width), margin_start=float(margins.start),
            margin_end=float(margins.end), margin_bottom=float(margins.bottom), margin_top=float(margins.top),
            ruled=prep.lattice is not None,
            lattice=prep.lattice if prep.lattice is not None else np.full((1, 2, 2), -1.0),
        )
        self._open_fit = [collision.inner_fit(self.instance, OPEN_LENGTH, s) for s in range(self.n_shapes)]
        self.lattice = prep.lattice  # position rules per shape (`nesting.lattice`), or None

    def ruled(self, shape: int) -> bool:
        """Does a position rule (a fold pin, a stripe lattice) bind this shape?"""
        return lattice.ruled(self.lattice, shape)

    def snap(self, state: LayoutState, shape: int, x: float, y: float) -> tuple[float, float]:
        """The position nearest (x, y) that keeps the shape's rule, inside the strip where one is."""
        if self.lattice is None:
            return x, y
        x0, y0, x1, y1 = self.inner_fit(state.length, shape)
        (px, dx), (py, dy) = self.lattice[shape]
        return lattice.snap(x, x0, x1, px, dx), lattice.snap(y, y0, y1, py, dy)

    def snap_all(self, state: LayoutState) -> None:
        """Every placed piece back on its rule (after moves made outside the kernels); losses refreshed."""
        if self.lattice is None:
            return
        for i in range(self.n_movable):
            s = state.shape_of[i]
            if s != UNPLACED and self.ruled(s):
                state.position[i] = self.snap(state, s, *state.position[i])
        self.refresh(state)

    # -- layout states ------------------------------------------------------------------------
    def layout_state(self, shape_of, position, length: float) -> LayoutState:
        """A state with the pieces as given and the zones fixed; its losses computed."""
        zones = self.n_shapes + np.arange(self.n_zones)
        n_items = self.n_movable + self.n_zones
        state = LayoutState(
            shape_of=np.concatenate([shape_of, zones]).astype(np.int64),
            position=np.ascontiguousarray(np.concatenate([position, np.zeros((self.n_zones, 2))]), dtype=np.float64),
            length=float(length), n_movable=self.n_movable,
            pair_loss=np.zeros((n_items, n_items)), container_loss=np.zeros(n_items),
            pair_weight=np.ones((n_items, n_items)), container_weight=np.ones(n_items),
        )
        self.refresh(state)
        return state

    def empty_state(self) -> LayoutState:
        """No piece placed yet, the zones fixed, the strip open on the right."""
        return self.layout_state(np.full(self.n_movable, UNPLACED), np.zeros((self.n_movable, 2)), OPEN_LENGTH)

    def refresh(self, state: LayoutState) -> None:
        """Recompute every cached loss (after changing positions from Python)."""
        collision.refresh_all(self.instance, state)

    @staticmethod
    def reset_weights(state: LayoutState) -> None:
        """Forget the guided-local-search weights, in place (threads' copies share the arrays)."""
        state.pair_weight[:] = 1.0
        state.container_weight[:] = 1.0

    @staticmethod
    def snapshot(state: LayoutState) -> Snapshot:
        n = state.n_movable
        return Snapshot(state.shape_of[:n].copy(), state.position[:n].copy(), state.length)

    def restore(self, state: LayoutState, snapshot: Snapshot) -> LayoutState:
        """The state at ``snapshot`` (same arrays, weights kept; the length is a new record)."""
        n = state.n_movable
        state.shape_of[:n] = snapshot.shape_of
        state.position[:n] = snapshot.position
        state = state._replace(length=float(snapshot.length))
        self.refresh(state)
        return state

    # -- queries --------------------------------------------------------------------------------
    def overlap_depth(self, state: LayoutState, item: int, shape: int, x: float, y: float) -> float:
        """How deep item ``item`` as ``shape`` at (x, y) reaches into the other placed items."""
        return collision.overlap_depth(self.instance, state, item, shape, float(x), float(y))

    def is_free(self, state: LayoutState, item: int, shape: int, x: float, y: float) -> bool:
        return self.overlap_depth(state, item, shape, x, y) <= self.instance.contact

    def inner_fit(self, length: float, shape: int) -> tuple[float, float, float, float]:
        """Range ``(x0, y0, x1, y1)`` of a shape's reference point on a strip of ``length``."""
        return collision.inner_fit(self.instance, float(length), shape)

    def line_search(self, state: LayoutState, item: int, shape: int, x: float, y: float, axis: int):
        """Nearest free coordinate along a horizontal (axis 1) or vertical (0) line: (found, value)."""
        return collision.line_search(self.instance, state, item, shape, float(x), float(y), axis)

    def lowest_position(self, state: LayoutState, item: int, shape: int,
                        from_x: float = -np.inf) -> tuple[float, float] | None:
        """The leftmost, then lowest, free position of ``item`` as ``shape`` on the open strip, or None.

        The free region is the inner-fit rectangle minus the union of the placed items' NFPs
        (pyclipper, exact on the integer grid); its vertices are the candidates, and the first
        one the overlap kernel calls free (depth at most ``contact``) is the answer — so bottom-
        left fill and the separator agree on what "free" means.

        ``from_x``: no free position lies left of it (an earlier answer for this shape on this
        layout: placing pieces only removes free space). The query is windowed to the right of
        it: first twice the shape's width wide, four times wider while the answer is not inside,
        and only the NFPs reaching into the window are clipped — a few dozen, not every piece
        right of the frontier — so bottom-left fill of many pieces is not quadratic.
        """
        x0, y0, x1, y1 = self._open_fit[shape]
        x0 = max(x0, np.floor(from_x))
        if x0 > x1 or y0 > y1:
            return None
        x0, y0, x1, y1 = int(np.ceil(x0)), int(np.ceil(y0)), int(np.floor(x1)), int(np.floor(y1))
        if x0 > x1 or y0 > y1:
            return None
        bounds = self.instance.bounds[shape]
        reach = 2 * int(np.ceil(bounds[2] - bounds[0])) + 1
        while x0 + reach < x1:
            found = self._lowest_in(state, item, shape, (x0, y0, x0 + reach, y1))
            if found is not None and found[0] < x0 + reach:
                return found
            reach *= 4
        return self._lowest_in(state, item, shape, (x0, y0, x1, y1))

    def _lowest_in(self, state: LayoutState, item: int, shape: int, window) -> tuple[float, float] | None:
        """`lowest_position` within an integer window ``(x0, y0, x1, y1)`` of the inner-fit range.

        Only the NFPs reaching into the window are clipped. A vertex left of the window's right
        edge is one of the unwindowed free region's (the cut adds vertices on that edge only),
        so a narrow window finds the same answer whenever the answer lies inside it.
        """
        x0, y0, x1, y1 = window
        clipper = pyclipper.Pyclipper()
        clipper.AddPath([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], pyclipper.PT_SUBJECT, True)
        any_clip = False
        placed = np.flatnonzero(state.shape_of != UNPLACED)
        nfp_bbox = self.instance.nfp_bbox[state.shape_of[placed], shape]
        left, right = nfp_bbox[:, 0] + state.position[placed, 0], nfp_bbox[:, 2] + state.position[placed, 0]
        for other in placed[(right >= x0) & (left <= x1)]:  # an NFP touching the window's edge still counts
            if other == item:
                continue
            offset = state.position[other]
            for ring in self.nfps.rings(state.shape_of[other], shape):
                try:
                    clipper.AddPath((ring + offset).astype(np.int64).tolist(), pyclipper.PT_CLIP, True)
                    any_clip = True
                except pyclipper.ClipperException:
                    continue
        if not any_clip:
            return (float(x0), float(y0))
        free = clipper.Execute(pyclipper.CT_DIFFERENCE, pyclipper.PFT_NONZERO, pyclipper.PFT_NONZERO)
        if not free:
            return None
        vertices = np.concatenate([np.asarray(r, dtype=np.float64) for r in free])
        for k in np.lexsort((vertices[:, 1], vertices[:, 0])):
            x, y = float(vertices[k, 0]), float(vertices[k, 1])
            if self.is_free(state, item, shape, x, y):
                return (x, y)
        return None

    def lowest_on_rule(self, state: LayoutState, item: int, shape: int,
                       from_x: float = -np.inf) -> tuple[float, float] | None:
        """`lowest_position` for a shape bound by a position rule: the leftmost, then lowest, free point on it.

        Across-ruled (a pin or stripe lines): on each allowed line the exact line search from
        the left end gives the leftmost free point; an along rule then steps right through its
        lattice values until one is free. Only along-ruled: the lowest free point of each
        lattice column, left to right. Past the placed pieces every point is free, so each
        walk ends.
        """
        x0, y0, x1, y1 = self._open_fit[shape]
        x0 = max(x0, from_x)
        (px, dx), (py, dy) = self.lattice[shape]
        placed = np.flatnonzero(state.shape_of != UNPLACED)  # the zones too
        reach = state.position[placed, 0] + self.instance.nfp_bbox[state.shape_of[placed], shape, 2]
        beyond = max(float(reach.max()) if len(placed) else x0, x0) + 1.0  # every reference point past this is free
        if dy < 0:
            for x in lattice.values(x0, beyond + dx, px, dx):
                found, y = self.line_search(state, item, shape, x, y0, 0)
                if found and self.is_free(state, item, shape, x, y):
                    return (float(x), float(y))
            return None
        best = None
        for y in lattice.values(y0, y1, py, dy):
            found, x = self.line_search(state, item, shape, x0, y, 1)
            if not found:
                continue
            if dx >= 0:
                x = lattice.snap(x, x, x1, px, dx)
                while x <= beyond + dx and not self.is_free(state, item, shape, x, y):
                    _, nearest = self.line_search(state, item, shape, x, y, 1)  # jump to the next free stretch
                    x = lattice.snap(max(nearest, x + dx), x + dx, x1, px, dx) if dx > 0 else np.inf
            if self.is_free(state, item, shape, x, y) and (best is None or (x, y) < best):
                best = (float(x), float(y))
        return best

    def place(self, state: LayoutState, item: int, shape: int, x: float, y: float) -> None:
        """Put an unplaced item on the fabric (bottom-left fill keeps no loss caches)."""
        state.shape_of[item] = shape
        state.position[item] = (x, y)

    # -- loss caches ----------------------------------------------------------------------------
    @staticmethod
    def total_loss(state: LayoutState) -> float:
        return float(collision.total_loss(state))

    def loss_mismatch(self, state: LayoutState) -> float:
        """Largest difference between the cached losses and a recomputation (a debug check)."""
        return float(collision.loss_mismatch(self.instance, state))
