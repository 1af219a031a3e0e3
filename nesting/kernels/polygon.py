"""Point, segment and ring kernels on flat float64 arrays.

A *ring set* is ``(xy, offsets)``: ring r is ``xy[offsets[r]:offsets[r + 1]]``, open (first
vertex not repeated). A region made of several rings (an NFP with holes, say) is the rings
``r0 .. r1 - 1``, read with the even-odd rule.
"""

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def point_in_rings(px, py, xy, offsets, r0, r1):
    """True if (px, py) lies inside the region (even-odd over rings r0..r1-1).

    Points on the boundary may go either way: callers use `depth_in_rings` with a tolerance
    where it matters.
    """
    inside = False
    for r in range(r0, r1):
        start, end = offsets[r], offsets[r + 1]
        j = end - 1
        for i in range(start, end):
            xi, yi = xy[i, 0], xy[i, 1]
            xj, yj = xy[j, 0], xy[j, 1]
            if (yi > py) != (yj > py):
                x_cross = xi + (py - yi) * (xj - xi) / (yj - yi)
                if px < x_cross:
                    inside = not inside
            j = i
    return inside


@njit(cache=True, nogil=True)
def distance_to_rings(px, py, xy, offsets, r0, r1):
    """Euclidean distance from (px, py) to the nearest edge of rings r0..r1-1."""
    best = np.inf
    for r in range(r0, r1):
        start, end = offsets[r], offsets[r + 1]
        j = end - 1
        for i in range(start, end):
            ax, ay = xy[j, 0], xy[j, 1]
            bx, by = xy[i, 0], xy[i, 1]
            dx, dy = bx - ax, by - ay
            length2 = dx * dx + dy * dy
            t = 0.0
            if length2 > 0.0:
                t = ((px - ax) * dx + (py - ay) * dy) / length2
                t = min(1.0, max(0.0, t))
            qx, qy = ax + t * dx - px, ay + t * dy - py
            d2 = qx * qx + qy * qy
            if d2 < best:
                best = d2
            j = i
    return math.sqrt(best)


@njit(cache=True, nogil=True)
def depth_in_rings(px, py, xy, offsets, r0, r1):
    """Penetration depth of (px, py) into the region: distance to its boundary if inside, else 0.

    With the region an NFP, this is the shortest translation that separates the two pieces.
    """
    if not point_in_rings(px, py, xy, offsets, r0, r1):
        return 0.0
    return distance_to_rings(px, py, xy, offsets, r0, r1)
