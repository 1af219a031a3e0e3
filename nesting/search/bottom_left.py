"""Bottom-left fill: a piece order in, a feasible layout out (the "blf" strategy).

Each piece takes, over its allowed orientations, the collision core's lowest free position
(the inner-fit rectangle minus the NFPs of everything already placed) that keeps the marker
shortest: leftmost, then lowest. The genetic search decodes its genomes with it.
"""

from __future__ import annotations

import numpy as np

from nesting.errors import InfeasibleError
from nesting.search.base import Layout


def area_order(problem) -> np.ndarray:
    """Items by decreasing piece area (ties by item index): big pieces first, small fill gaps."""
    areas = np.array([problem.prep.pieces[p].area for p in problem.prep.item_piece])
    return np.lexsort((np.arange(len(areas)), -areas))


def bottom_left(problem, order, shape_choice=None) -> Layout:
    """Place items in ``order``.

    ``shape_choice[item]`` forces a shape (an index into ``prep.shapes``); ``-1`` or ``None``
    lets the decoder try every allowed orientation.
    """
    prep, core = problem.prep, problem.collision
    state = core.empty_state()
    frontier = {}  # shape -> its last lowest position's x: nothing left of it is free any more
    for item in order:
        forced = -1 if shape_choice is None else int(shape_choice[item])
        options = (forced,) if forced >= 0 else prep.item_shapes[item]
        best = None
        for s in options:
            lowest = core.lowest_on_rule if core.ruled(s) else core.lowest_position
            found = lowest(state, item, s, frontier.get(s, -np.inf))
            if found is not None:
                frontier[s] = found[0]
                score = (found[0] + prep.shapes[s].bounds[2], found[1])
                if best is None or score < best[0]:
                    best = (score, s, found)
        if best is None:
            piece = prep.pieces[prep.item_piece[item]]
            raise InfeasibleError(f"piece {piece.id}: no free position on the fabric (zones or margins leave no room)")
        _, s, (x, y) = best
        core.place(state, item, s, x, y)
    n = core.n_movable
    return Layout(state.shape_of[:n].copy(), state.position[:n].copy())


def run(problem, stop, listener, rng) -> Layout:
    """One bottom-left-fill pass in decreasing-area order."""
    layout = bottom_left(problem, area_order(problem))
    length = problem.length_of(layout)
    listener.improved_layout(stop.elapsed(), length / problem.prep.scale, problem.utilization_at(length), "blf", layout)
    stop.tick()
    return layout
