"""The integer program that chooses mixes and plies (HiGHS through `scipy.optimize.milp`).

For candidate markers j (a size mix ``r_j`` and a length ``L_j``) and colours c, the variables
are ``P[j, c]`` (plies of marker j spread in colour c, over all its lays), ``n[j]`` (lays of
marker j) and ``u[j]`` (marker j is used). Lexicographically:

1. minimise fabric  ``sum_j (L_j + end_allowance) * sum_c P[j, c]``
2. then the costs   ``per_lay * sum n + per_marker * sum u`` (without costs: the fewest lays
   and markers, ``sum n + sum u``), with the fabric held at its optimum;

subject to ``lo[s, c] <= sum_j r_js P[j, c] <= hi[s, c]`` (the order within over/undercut),
``min_plies * n[j] <= sum_c P[j, c] <= max_plies * n[j]`` (n lays of marker j can hold exactly
those plies, each lay within the ply limits), ``n[j] <= N u[j]``. Lengths beyond the table are
left out by the caller. The LP relaxation of stage 1 is what `lower_bound` solves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from planning.order import Order

MIP_GAP = 1e-7  # relative optimality gap asked of HiGHS: the plans are small, so near-exact is cheap


@dataclass(frozen=True, slots=True)
class Column:
    """A candidate marker: garments per size (in the order's size order) and its length (mm)."""

    counts: tuple[int, ...]
    length: float


@dataclass(frozen=True, slots=True)
class Solution:
    """Plies per column and colour, lays per column; fabric in mm; ``optimal`` False after a time limit."""

    plies: tuple[tuple[int, ...], ...]  # [column][colour]
    lays: tuple[int, ...]
    fabric_mm: float
    cost: float
    optimal: bool

    def used(self) -> list[int]:
        return [j for j, row in enumerate(self.plies) if sum(row) > 0]


class Program:
    """The program's matrices for one order and a list of columns."""

    def __init__(self, order: Order, columns: list[Column]):
        self.order, self.columns = order, columns
        sizes, colours, limits = order.sizes, order.colours, order.limits
        J, C, S = len(columns), len(colours), len(sizes)
        self.J, self.C = J, C
        self.lo = np.array([[order.bounds(s, c)[0] for c in colours] for s in sizes], dtype=float)
        self.hi = np.array([[order.bounds(s, c)[1] for c in colours] for s in sizes], dtype=float)
        counts = np.array([col.counts for col in columns], dtype=float).reshape(J, S)
        # the most plies of column j in colour c that cut no size beyond its upper bound
        ply_ub = np.zeros((J, C))
        for j in range(J):
            ratios = [self.hi[s] / counts[j, s] for s in range(S) if counts[j, s] > 0]
            ply_ub[j] = np.floor(np.min(ratios, axis=0) + 1e-9) if ratios else 0
        lay_ub = np.ceil(ply_ub.sum(axis=1) / limits.min_plies)
        n_vars = J * C + 2 * J
        self.P = lambda j, c: j * C + c
        self.N = lambda j: J * C + j
        self.U = lambda j: J * C + J + j
        upper = np.concatenate([ply_ub.ravel(), lay_ub, np.ones(J)])
        self.bounds = Bounds(np.zeros(n_vars), upper)
        lower, top = [], []
        matrix = lil_matrix((S * C + 3 * J, n_vars))
        r = 0
        for s in range(S):
            for c in range(C):
                for j in range(J):
                    if counts[j, s]:
                        matrix[r, self.P(j, c)] = counts[j, s]
                lower.append(self.lo[s, c])
                top.append(self.hi[s, c])
                r += 1
        for j in range(J):
            for c in range(C):
                matrix[r, self.P(j, c)] = 1.0
                matrix[r + 1, self.P(j, c)] = 1.0
            matrix[r, self.N(j)] = -limits.max_plies  # sum P - max n <= 0
            matrix[r + 1, self.N(j)] = -limits.min_plies  # sum P - min n >= 0
            matrix[r + 2, self.N(j)] = 1.0
            matrix[r + 2, self.U(j)] = -max(lay_ub[j], 1.0)  # n - N u <= 0
            lower += [-np.inf, 0.0, -np.inf]
            top += [0.0, np.inf, 0.0]
            r += 3
        self.constraints = [LinearConstraint(matrix.tocsr(), np.array(lower), np.array(top))]
        self.fabric = np.zeros(n_vars)
        for j, col in enumerate(columns):
            for c in range(C):
                self.fabric[self.P(j, c)] = col.length + limits.end_allowance
        costs = order.costs
        any_cost = costs.per_lay > 0 or costs.per_marker > 0
        self.cost = np.zeros(n_vars)
        self.tiebreak = np.zeros(n_vars)
        for j in range(J):
            self.cost[self.N(j)], self.cost[self.U(j)] = costs.per_lay, costs.per_marker
            self.tiebreak[self.N(j)] = self.tiebreak[self.U(j)] = 1.0
        self.second = self.cost if any_cost else self.tiebreak
        self.integrality = np.ones(n_vars)

    def solve(self, time_limit: float | None = None, gap: float = MIP_GAP, costs: bool = True) -> Solution | None:
        """The lexicographic optimum (fabric, then costs) within a relative ``gap``, or None if no plan
        meets the order. Without ``costs``, only the fabric is minimised (one solve instead of two)."""
        if self.J == 0:
            return None
        options = {"mip_rel_gap": gap, "presolve": True}
        if time_limit is not None:
            options["time_limit"] = max(time_limit, 0.5)
        first = milp(self.fabric, integrality=self.integrality, bounds=self.bounds, constraints=self.constraints,
                     options=options)
        if first.x is None:
            return None
        if not costs:
            return self._solution(np.round(first.x).astype(np.int64), first.status == 0)
        best = float(self.fabric @ np.round(first.x))
        hold = LinearConstraint(self.fabric.reshape(1, -1), -np.inf, best + 1e-6 * max(best, 1.0))
        second = milp(self.second, integrality=self.integrality, bounds=self.bounds,
                      constraints=[*self.constraints, hold], options=options)
        x = second.x if second.x is not None else first.x
        return self._solution(np.round(x).astype(np.int64), first.status == 0 and second.status == 0)

    def feasible(self) -> bool:
        """Whether any plan over these columns meets the order within the limits (lengths do not matter)."""
        if self.J == 0:
            return False
        result = milp(np.zeros_like(self.fabric), integrality=self.integrality, bounds=self.bounds,
                      constraints=self.constraints, options={"time_limit": 30.0})
        return result.x is not None

    def relaxation(self) -> float | None:
        """The LP relaxation's fabric (mm): a lower bound on every plan over these columns."""
        if self.J == 0:
            return None
        result = milp(self.fabric, integrality=np.zeros_like(self.integrality), bounds=self.bounds,
                      constraints=self.constraints)
        return float(result.fun) if result.x is not None else None

    def _solution(self, x, optimal: bool) -> Solution:
        plies = tuple(tuple(int(x[self.P(j, c)]) for c in range(self.C)) for j in range(self.J))
        lays = tuple(int(x[self.N(j)]) if sum(plies[j]) else 0 for j in range(self.J))
        fabric = float(sum((col.length + self.order.limits.end_allowance) * sum(plies[j])
                           for j, col in enumerate(self.columns)))
        cost = float(sum(self.order.costs.per_lay * lays[j] + self.order.costs.per_marker * (lays[j] > 0)
                         for j in range(self.J)))
        return Solution(plies, lays, fabric, cost, optimal)


def split_lays(total_plies: dict[str, int], lays: int) -> list[dict[str, int]]:
    """``lays`` lays of near-equal height holding every colour's plies (colours filled in turn).

    ``min_plies * lays <= total <= max_plies * lays`` (the program's constraint) makes every lay's
    height, the floor or ceiling of total / lays, lie within the ply limits.
    """
    total = sum(total_plies.values())
    heights = [total // lays + (1 if k < total % lays else 0) for k in range(lays)]
    result, queue = [], [[c, n] for c, n in total_plies.items() if n > 0]
    for height in heights:
        lay = {}
        while height > 0:
            colour, left = queue[0]
            take = min(left, height)
            lay[colour] = lay.get(colour, 0) + take
            height -= take
            queue[0][1] -= take
            if queue[0][1] == 0:
                queue.pop(0)
        result.append(lay)
    return result

