"""The cut-planning integer program against brute force on tiny orders, and its lay splitting."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.spec import MarkerSpec
from planning.model import Column, Program, split_lays
from planning.order import Costs, Limits, Order


def brute_force(order: Order, columns: list[Column]):
    """Every ply assignment: (fabric, second objective) of the lexicographic optimum, or None.

    A column's total plies T needs ceil(T / max_plies) lays at least, and is possible only if
    that many lays can each hold min_plies (more lays need even more plies).
    """
    limits, costs = order.limits, order.costs
    sizes, colours = order.sizes, order.colours
    ranges = [range(0, 5)] * (len(columns) * len(colours))
    best = None
    for x in itertools.product(*ranges):
        plies = [x[j * len(colours):(j + 1) * len(colours)] for j in range(len(columns))]
        ok = True
        for s, size in enumerate(sizes):
            for c, colour in enumerate(colours):
                made = sum(col.counts[s] * plies[j][c] for j, col in enumerate(columns))
                lo, hi = order.bounds(size, colour)
                ok &= lo <= made <= hi
        lays = []
        for row in plies:
            total = sum(row)
            n = math.ceil(total / limits.max_plies)
            ok &= limits.min_plies * n <= total
            lays.append(n)
        if not ok:
            continue
        fabric = sum((col.length + limits.end_allowance) * sum(plies[j]) for j, col in enumerate(columns))
        used = sum(1 for n in lays if n)
        if costs.per_lay or costs.per_marker:
            second = costs.per_lay * sum(lays) + costs.per_marker * used
        else:
            second = sum(lays) + used
        key = (round(fabric, 6), round(second, 6))
        best = key if best is None or key < best else best
    return best


def tiny_orders():
    sizes = ("S", "M")
    return st.builds(
        lambda colours, demand, max_plies, min_plies, over, under, allowance, per_lay, per_marker, cols: (
            Order(MarkerSpec(width=1000.0),
                  tuple((colour, tuple(zip(sizes, demand[k]))) for k, colour in enumerate(colours)),
                  Limits(table_length=10_000.0, max_plies=max_plies, min_plies=min(min_plies, max_plies),
                         overcut=over, undercut=under, end_allowance=allowance),
                  Costs(per_lay, per_marker)),
            cols),
        st.sampled_from([("",), ("NAVY", "RED")]),
        st.tuples(st.tuples(st.integers(1, 4), st.integers(1, 4)), st.tuples(st.integers(0, 4), st.integers(0, 4))),
        st.integers(1, 3), st.integers(1, 2),
        st.sampled_from([0.0, 0.25, 0.5]), st.sampled_from([0.0, 0.25]),
        st.sampled_from([0.0, 20.0]), st.sampled_from([0.0, 3.0]), st.sampled_from([0.0, 5.0]),
        st.lists(st.tuples(st.sampled_from([(1, 0), (0, 1), (1, 1), (2, 0), (2, 1), (1, 2)]),
                           st.sampled_from([500, 1000, 1000, 1500])), min_size=1, max_size=4,
                  unique_by=lambda t: t[0]),
    )


@settings(max_examples=40, deadline=None)
@given(tiny_orders())
def test_the_program_finds_the_brute_force_optimum(case):
    order, cols = case
    if len(order.colours) == 2:
        cols = cols[:3]  # 5^(3 x 2) assignments at most
    columns = [Column(counts, float(length)) for counts, length in cols]
    expected = brute_force(order, columns)
    solution = Program(order, columns).solve()
    if expected is None:
        assert solution is None
        assert not Program(order, columns).feasible()
        return
    assert solution is not None and solution.optimal
    any_cost = order.costs.per_lay or order.costs.per_marker
    second = solution.cost if any_cost else sum(solution.lays) + len(solution.used())
    assert (round(solution.fabric_mm, 6), round(second, 6)) == expected
    lp = Program(order, columns).relaxation()
    assert lp <= solution.fabric_mm + 1e-6


@given(st.dictionaries(st.sampled_from(["", "NAVY", "RED"]), st.integers(0, 50), min_size=1), st.integers(1, 12))
def test_split_lays_keeps_every_ply_and_evens_the_heights(plies, max_plies):
    total = sum(plies.values())
    if total == 0:
        return
    count = math.ceil(total / max_plies)
    lays = split_lays(plies, count)
    assert len(lays) == count
    heights = [sum(lay.values()) for lay in lays]
    assert max(heights) <= max_plies and max(heights) - min(heights) <= 1
    for colour, n in plies.items():
        assert sum(lay.get(colour, 0) for lay in lays) == n
