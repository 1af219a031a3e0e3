"""Bottom-left-fill decoding with exact NFPs: a piece order in, a feasible layout out.

For each piece, the free region of its reference point is the inner-fit rectangle minus the
union of the NFPs of everything already placed (pyclipper, exact on the integer grid); the
candidates are that region's vertices, and the piece takes the one that keeps the marker
shortest (leftmost, then lowest), over its allowed orientations.
"""

from __future__ import annotations

import numpy as np
import pyclipper

from nesting.errors import InfeasibleError

_FAR = 2**40  # an open-ended strip: the right end of the inner-fit rectangle


def inner_fit(prep, shape_index, length=None) -> tuple[float, float, float, float]:
    """Range of a shape's reference point inside the usable fabric: ``(x0, y0, x1, y1)``.

    ``length`` (grid units) closes the strip on the right; ``None`` leaves it open.
    """
    minx, miny, maxx, maxy = prep.shapes[shape_index].bounds
    start, end, bottom, top = prep.usable
    right = _FAR if length is None else length - end
    return (start - minx, bottom - miny, right - maxx, prep.width - top - maxy)


def bottom_left(prep, cache, order, shape_choice=None) -> tuple[np.ndarray, np.ndarray]:
    """Place items in ``order``; returns ``(shape_of_item, position_of_item)`` (grid units).

    ``shape_choice[item]`` forces a shape (an index into ``prep.shapes``); ``-1`` or ``None``
    lets the decoder try every allowed orientation.
    """
    n_items = len(prep.item_piece)
    n_shapes = len(prep.shapes)
    shape_of = np.full(n_items, -1, dtype=np.int64)
    position = np.zeros((n_items, 2), dtype=np.float64)
    placed = [(n_shapes + z, 0.0, 0.0) for z in range(len(prep.zones))]  # zones: fixed hazards
    for item in order:
        forced = -1 if shape_choice is None else int(shape_choice[item])
        options = (forced,) if forced >= 0 else prep.item_shapes[item]
        best = None
        for s in options:
            found = _lowest_position(prep, cache, s, placed)
            if found is not None:
                score = (found[0] + prep.shapes[s].bounds[2], found[1])
                if best is None or score < best[0]:
                    best = (score, s, found)
        if best is None:
            piece = prep.pieces[prep.item_piece[item]]
            raise InfeasibleError(f"piece {piece.id}: no free position on the fabric (zones or margins leave no room)")
        _, s, (x, y) = best
        shape_of[item] = s
        position[item] = (x, y)
        placed.append((s, x, y))
    return shape_of, position


def _lowest_position(prep, cache, s, placed):
    x0, y0, x1, y1 = inner_fit(prep, s)
    if x0 > x1 or y0 > y1:
        return None
    x0, y0, x1, y1 = int(np.ceil(x0)), int(np.ceil(y0)), int(np.floor(x1)), int(np.floor(y1))
    if x0 > x1 or y0 > y1:
        return None
    clipper = pyclipper.Pyclipper()
    clipper.AddPath([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], pyclipper.PT_SUBJECT, True)
    any_clip = False
    for other, px, py in placed:
        for ring in cache.rings(other, s):
            try:
                clipper.AddPath((ring + (px, py)).astype(np.int64).tolist(), pyclipper.PT_CLIP, True)
                any_clip = True
            except pyclipper.ClipperException:
                continue
    if not any_clip:
        return (float(x0), float(y0))
    free = clipper.Execute(pyclipper.CT_DIFFERENCE, pyclipper.PFT_NONZERO, pyclipper.PFT_NONZERO)
    if not free:
        return None
    vertices = np.concatenate([np.asarray(r, dtype=np.float64) for r in free])
    best = np.lexsort((vertices[:, 1], vertices[:, 0]))[0]
    return (float(vertices[best, 0]), float(vertices[best, 1]))
