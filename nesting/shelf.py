"""The fallback marker: columns of bounding boxes, always feasible, linear in the pieces.

It needs no no-fit polygon and takes milliseconds for thousands of pieces, so a run whose
budget ends (or that is stopped) before its first bottom-left marker is complete still
writes a verified marker, only a longer one. Pieces stand in columns across the fabric,
tallest extent along the marker first, each in its allowed orientation of least height; the
bounding boxes of the collision shapes (inflated by half the spacing) never meet, so no two
pieces come closer than the spacing, and every column starts past the last zone.
"""

from __future__ import annotations

import numpy as np

from nesting import lattice
from nesting.search.base import Layout


def shelf_layout(prep):
    """A feasible `Layout` of every item of ``prep`` (grid units)."""
    n_items = len(prep.item_piece)
    start, _, bottom, top = prep.margins
    low, high = bottom, prep.width - top
    boxes = [_box(prep.shapes[s]) for s in range(len(prep.shapes))]
    choice = np.empty(n_items, dtype=np.int64)
    for item, allowed in enumerate(prep.item_shapes):
        fitting = [s for s in allowed if prep.shapes[s].bounds[3] - prep.shapes[s].bounds[1] <= high - low]
        choice[item] = min(fitting or allowed, key=lambda s: (boxes[s][3] - boxes[s][1], s))
    x = float(max([start, *(float(zone[:, 0].max()) + 1.0 for zone in prep.zones)]))
    position = np.zeros((n_items, 2))
    order = sorted(range(n_items), key=lambda i: (-(boxes[choice[i]][2] - boxes[choice[i]][0]), i))
    ruled = [i for i in order if lattice.ruled(prep.lattice, choice[i])]
    order = [i for i in order if not lattice.ruled(prep.lattice, choice[i])]
    y, column = float(low), 0.0
    for item in order:
        x0, y0, x1, y1 = boxes[choice[item]]
        if y1 - y0 > high - low:  # only its outline fits (a spacing wider than the margin): alone in a column
            x0, y0, _, y1 = prep.shapes[choice[item]].bounds
        if y > low and y + (y1 - y0) > high:
            x, y, column = x + column + 1.0, float(low), 0.0
        position[item] = (x - x0, y - y0)
        y += (y1 - y0) + 1.0
        column = max(column, x1 - x0)
    x += column + 1.0
    for item in ruled:  # a fold pin or a stripe lattice: each alone in a column, on its rule
        s = choice[item]
        bx0, by0, _, by1 = prep.shapes[s].bounds
        (px, dx), (py, dy) = prep.lattice[s]
        ys = lattice.values(low - by0, high - by1, py, dy) if dy >= 0 else [low - by0]
        rx = lattice.snap(x - boxes[s][0], x - boxes[s][0], np.inf, px, dx)
        position[item] = (rx, float(ys[0]))
        x = rx + boxes[s][2] + 1.0
    return Layout(choice, position)


def _box(shape) -> tuple[float, float, float, float]:
    """The collision shape's bounding box, rounded outwards (the ring is already on the grid)."""
    lo, hi = shape.ring.min(axis=0), shape.ring.max(axis=0)
    bx0, by0, bx1, by1 = shape.bounds
    return (float(min(lo[0], bx0)), float(min(lo[1], by0)), float(max(hi[0], bx1)), float(max(hi[1], by1)))
