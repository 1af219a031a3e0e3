"""Convolution cycle of two polygons on an integer grid (the core of an exact NFP).

For CCW rings A and B (B already negated for an NFP), the convolution A * B is the closed
curve made of the segments ``a_i + edge_j(B)`` where B's edge direction lies in the turn at
A's vertex i, and ``b_j + edge_i(A)`` likewise (Guibas, Ramshaw & Stolfi 1983; Kaul et al.
1991). The Minkowski sum A + B is the set of points the curve winds around positively, which
the caller extracts with a positive-winding union (pyclipper).

Ties between parallel edges are broken by symbolic perturbation (B's edge directions turned
by an infinitesimal +eps): A's vertices take B edges in the half-open turn ``[in, out)``, B's
vertices take A edges in ``(in, out]``, mirrored at reflex vertices. With that rule every node
``a_i + b_j`` has as many segments in as out, so the segments chain into closed loops.

All arithmetic is exact int64: coordinates must stay below about 2**30.
"""

import numpy as np
from numba import njit

from nesting.kernels.sorting import sort_prefix


@njit(cache=True, nogil=True)
def _cross(ux, uy, vx, vy):
    return ux * vy - uy * vx


@njit(cache=True, nogil=True)
def _in_turn(ux, uy, vx, vy, wx, wy, closed_at_start):
    """Is direction w inside the turn from u to v (the shorter way round)?

    ``closed_at_start`` includes w parallel to u (the turn's start) and excludes w parallel to
    v; otherwise the reverse. For a clockwise (reflex) turn the caller swaps u and v.
    """
    cuw = _cross(ux, uy, wx, wy)
    cwv = _cross(wx, wy, vx, vy)
    if cuw > 0 and cwv > 0:
        return True
    if closed_at_start:
        return cuw == 0 and ux * wx + uy * wy > 0
    return cwv == 0 and vx * wx + vy * wy > 0


@njit(cache=True, nogil=True)
def _vertices_against_edges(v, e, closed_at_start, v_stride, e_stride, out, k):
    """Append the segments ``v_p + edge_q(E)`` for every edge of E in the turn at each vertex of V.

    Nodes are numbered ``p * v_stride + q * e_stride``; at a reflex vertex the segment runs
    backwards. Returns the new segment count.
    """
    nv, ne = v.shape[0], e.shape[0]
    for p in range(nv):
        pp, pn = (p - 1) % nv, (p + 1) % nv
        ux, uy = v[p, 0] - v[pp, 0], v[p, 1] - v[pp, 1]
        vx, vy = v[pn, 0] - v[p, 0], v[pn, 1] - v[p, 1]
        convex = _cross(ux, uy, vx, vy) > 0
        for q in range(ne):
            qn = (q + 1) % ne
            wx, wy = e[qn, 0] - e[q, 0], e[qn, 1] - e[q, 1]
            here, there = p * v_stride + q * e_stride, p * v_stride + qn * e_stride
            if convex:
                if _in_turn(ux, uy, vx, vy, wx, wy, closed_at_start):
                    out[k, 0], out[k, 1] = here, there
                    k += 1
            elif _in_turn(vx, vy, ux, uy, wx, wy, closed_at_start):
                out[k, 0], out[k, 1] = there, here
                k += 1
    return k


@njit(cache=True, nogil=True)
def convolution_segments(a, b):
    """Segments of the convolution as node index pairs (node = i * m + j for a_i + b_j).

    A's vertices take B's edges in ``[in, out)``, B's vertices take A's edges in ``(in, out]``.
    Returns ``(k, 2)`` int64 ``[from_node, to_node]``.
    """
    n, m = a.shape[0], b.shape[0]
    out = np.empty((2 * (n * m + n + m), 2), dtype=np.int64)
    k = _vertices_against_edges(a, b, True, m, 1, out, 0)
    k = _vertices_against_edges(b, a, False, 1, m, out, k)
    return out[:k]


@njit(cache=True, nogil=True)
def _lower_bound(sorted_values, value):
    """First index whose value is not below ``value`` (``np.searchsorted``, left)."""
    lo, hi = 0, sorted_values.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if sorted_values[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def convolution_loops(a, b):
    """Chain the convolution segments into closed loops of points.

    Returns ``(xy, offsets)``: loop r is ``xy[offsets[r]:offsets[r + 1]]`` (int64, open).
    Any Eulerian split into loops gives the same winding numbers, so the walk takes the first
    unused segment at each node.
    """
    m = b.shape[0]
    segments = convolution_segments(a, b)
    k = segments.shape[0]
    # Segments by start node, ties in segment order: one sort of the unique keys node * k + segment
    # (below 2**63 while n * m < 2**30, which `nesting.nfp` checks).
    keys = np.empty(k, dtype=np.int64)
    for s in range(k):
        keys[s] = segments[s, 0] * k + s
    sort_prefix(keys, k)
    order, starts = np.empty(k, dtype=np.int64), np.empty(k, dtype=np.int64)
    for s in range(k):
        starts[s] = keys[s] // k
        order[s] = keys[s] - starts[s] * k
    used = np.zeros(k, dtype=np.bool_)
    next_free = np.zeros(k, dtype=np.int64)  # per sorted position: unused pointer by node run
    xy = np.empty((k, 2), dtype=np.int64)
    offsets = np.empty(k + 1, dtype=np.int64)
    offsets[0] = 0
    loops, p = 0, 0
    for s0 in range(k):
        if used[order[s0]]:
            continue
        start_node = segments[order[s0], 0]
        node = start_node
        seg = order[s0]
        while True:
            used[seg] = True
            i, j = node // m, node % m
            xy[p, 0], xy[p, 1] = a[i, 0] + b[j, 0], a[i, 1] + b[j, 1]
            p += 1
            node = segments[seg, 1]
            if node == start_node:
                break
            # First unused outgoing segment of `node` (sorted run found by binary search).
            first = _lower_bound(starts, node)
            pos = first + next_free[first]
            while pos < k and starts[pos] == node and used[order[pos]]:
                pos += 1
            if pos >= k or starts[pos] != node:
                break  # unbalanced node: cannot happen with the tie rule; close the loop here
            next_free[first] = pos - first
            seg = order[pos]
        loops += 1
        offsets[loops] = p
    return xy[:p], offsets[: loops + 1]
