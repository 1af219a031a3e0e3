"""The constructive strategy: one bottom-left-fill pass in decreasing-area order."""

from __future__ import annotations

import numpy as np

from nesting.placement import bottom_left
from nesting.search import register


def area_order(problem) -> np.ndarray:
    """Items by decreasing piece area (ties by item index): big pieces first, small fill gaps."""
    areas = np.array([problem.prep.pieces[p].area for p in problem.prep.item_piece])
    return np.lexsort((np.arange(len(areas)), -areas))


@register("blf")
def constructive(problem, stop, listener, rng):
    from nesting.engine import Layout

    shape_of, position = bottom_left(problem.prep, problem.cache, area_order(problem))
    layout = Layout(shape_of, position)
    length = problem.length_of(layout)
    listener.improved(stop.elapsed(), length / problem.prep.scale, problem.utilization_at(length), "blf")
    stop.tick()
    return layout
