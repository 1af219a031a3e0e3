"""`plan`: an order in, a verified cut plan out.

1. Candidates: every size mix the garment limit and the table allow (`yields.candidate_mixes`).
2. The two baselines are formed and their markers nested (short budget).
3. Yield table: the integer program is solved over every candidate, with measured lengths where
   a marker was nested and estimates elsewhere; the mixes it picks that are not measured yet are
   nested (short budget, in parallel), and again, until it picks only measured mixes or 60 % of
   the budget is spent (at least one round while a third is left).
4. Refinement: the program over measured markers only gives the plan; its markers (and the
   baselines') are nested again at the full budget, starting from their short marker (never
   longer); the program is solved again with the new lengths; repeated while the plan changes
   and the budget lasts.
5. The lower bound: the LP relaxation over every candidate, each at the best utilization any
   marker reached.
"""

from __future__ import annotations

import math
import time as clock
from collections.abc import Callable
from dataclasses import replace

from jobs.batch.tasks import TaskRunner
from planning import baselines
from planning.garments import Garments, Mix, garments_in, load_garments
from planning.model import MIP_GAP, Column, Program, split_lays
from planning.order import Order, OrderError
from planning.plan import CutPlan, Lay, Layout
from planning.yields import MAX_GARMENTS, Nester, YieldTable, candidate_mixes

DEFAULT_TIME = 120.0
YIELD_SHARE = 0.6  # of the budget for the baselines and the yield table; refinement gets the rest
BASELINES = ("one_size_per_lay", "single_ratio")
ROUGH_GAP = 1e-3  # relative gap of the solves that only pick the next mixes to nest
EXPLORED = 150  # unmeasured mixes offered to those solves: the least fabric per garment by estimate


def budgets(total: float) -> tuple[float, float]:
    """Seconds per candidate nesting (short) and per refinement nesting (full)."""
    return min(max(total / 25, 1.0), 10.0), min(max(total / 5, 2.0), 60.0)


def plan(order: Order, time: float = DEFAULT_TIME, seed: int = 0, workers: int | None = None,
         scheduler: str | None = None, progress: Callable[[str], None] | None = None, stop=None) -> CutPlan:
    """Plan the order within ``time`` seconds of wall clock (reading the patterns excluded).

    ``stop`` (a `nesting.search.base.Stop`, e.g. set by Ctrl-C) ends the search early: the best
    plan over the markers measured so far is returned. Raises `OrderError` for an order that no
    plan can meet within the limits, naming the limit.
    """
    if not 0 < time < math.inf:
        raise OrderError(f"--time must be a positive, finite number of seconds, got {time:g}")
    if workers is not None and workers < 1:
        raise OrderError(f"--workers must be >= 1, got {workers}")
    say = progress or (lambda line: None)
    garments = load_garments(order)
    candidates = candidate_mixes(order, garments)
    check_feasible(order, garments, candidates)
    started = clock.perf_counter()
    deadline = started + time
    short, full = budgets(time)
    table = YieldTable(order, garments)
    capacity = order.limits.max_garments_per_marker or MAX_GARMENTS
    history, forms = [], {}
    say(f"{len(candidates)} candidate mixes; nesting {short:.1f} s each, refining {full:.1f} s each")

    def remaining() -> float:
        return deadline - clock.perf_counter()

    def stopped() -> bool:
        return stop is not None and stop.requested

    def note(solution_fabric_mm: float | None, label: str) -> None:
        if solution_fabric_mm is not None:
            if not history or solution_fabric_mm < history[-1][1] * 1000 - 1e-6:
                history.append((round(clock.perf_counter() - started, 2), solution_fabric_mm / 1000))
            say(f"{label}: {table.nestings} nestings, {len(table.measured)} of {len(candidates)} candidates measured, "
                f"best plan {history[-1][1]:.2f} m")

    with TaskRunner(workers, scheduler) as runner:
        nester = Nester(runner, table, seed, stop, say)
        while not stopped():  # the baselines, until every marker they need is measured and fits
            forms = {"one_size_per_lay": baselines.one_size_per_lay(order, table.fits, capacity),
                     "single_ratio": baselines.single_ratio(order, table.fits)}
            wanted = [m for lays in forms.values() for m in baselines.mixes(lays) if m not in table.measured]
            if not wanted:
                break
            nester.nest(list(dict.fromkeys(wanted)), min(short, max(remaining(), 0.5)))
        note(_best_measured(order, table, remaining()), "baselines")
        rounds = 0
        while not stopped() and (remaining() > time * (1 - YIELD_SHARE) or (rounds == 0 and remaining() > time / 3)):
            rounds += 1
            columns = [m for m in candidates if table.fits(m)]
            columns = [m for m in columns if m in table.measured] + sorted(
                (m for m in columns if m not in table.measured), key=lambda m: _per_garment(order, table, m))[:EXPLORED]
            solution = _solve(order, columns, table.length, remaining(), rough=True) or _solve(
                order, [m for m in candidates if table.fits(m)], table.length, remaining(), rough=True)
            wanted = [] if solution is None else [m for m in solution[0] if m not in table.measured]
            if not wanted:
                break
            spare = [m for m in sorted((m for m in candidates if m not in table.measured and table.fits(m)),
                                       key=lambda m: _per_garment(order, table, m)) if m not in wanted]
            wanted += spare[:max(runner.workers - len(wanted), 0)]
            nester.nest(wanted, min(short, max(remaining(), 0.5)))
            note(_best_measured(order, table, remaining()), "yield table")
        chosen = _solve(order, _measured(table), table.length, remaining())
        while chosen is not None and not stopped() and remaining() > 1.0:
            forms_mixes = [m for lays in forms.values() for m in baselines.mixes(lays)]
            todo = [m for m in dict.fromkeys([*chosen[0], *forms_mixes]) if m not in table.refined]
            if not todo:
                break
            waves = math.ceil(len(todo) / runner.workers)
            seconds = min(full, remaining() / waves)
            if seconds < 1.0:
                break
            nester.nest(todo, seconds, warm=True)
            table.refined.update(todo)  # a failed refinement keeps its short marker
            chosen = _solve(order, _measured(table), table.length, remaining()) or chosen
            note(_fabric(order, chosen, table), "refined")
    if chosen is None:
        chosen = _solve(order, _measured(table), table.length, None)
    return _cut_plan(order, garments, candidates, table, chosen, forms, history,
                     {"wall_s": round(clock.perf_counter() - started, 2), "time_budget_s": time, "seed": seed,
                      "short_budget_s": short, "full_budget_s": full, "interrupted": stopped(),
                      "scheduler": scheduler or "pool", "workers": runner.workers if scheduler in (None, "local")
                      else None})


def check_feasible(order: Order, garments: Garments, candidates: list[Mix]) -> None:
    """Refuse, before any nesting, an order no plan can meet; name the limit that forbids it."""
    limits = order.limits
    for size in order.sizes:
        one = tuple((s, int(s == size)) for s in order.sizes)
        if garments.shortest(one) > limits.table_length:
            raise OrderError(f"{order.label('limits.table_length')}: one garment of size {size} needs at least "
                             f"{garments.shortest(one):.0f} mm of marker, more than the table's {limits.table_length:g}")
    if _program(order, candidates, garments.shortest).feasible():
        return
    relaxed = (("min_plies", {"min_plies": 1}), ("max_plies", {"max_plies": order.total}),
               ("max_garments_per_marker", {"max_garments_per_marker": None}))
    for name, change in relaxed:
        looser = replace(order, limits=replace(limits, **change))
        if _program(looser, candidate_mixes(looser, garments), garments.shortest).feasible():
            raise OrderError(f"{order.label('limits.' + name)}: no plan cuts the order within over/undercut with "
                             f"{name} = {getattr(limits, name)}")
    raise OrderError(f"{order.label('limits')}: no plan cuts the order within the over/undercut tolerances and "
                     "the ply limits")


def _program(order: Order, mixes: list[Mix], length) -> Program:
    return Program(order, [Column(tuple(n for _, n in m), length(m)) for m in mixes])


def _solve(order: Order, mixes: list[Mix], length, seconds, rough: bool = False) -> tuple[dict, object] | None:
    """``({mix: (plies per colour, lays)}, solution)`` of the program over ``mixes``, or None.

    ``rough``: to choose what to nest next, fabric alone within a 0.1 % gap and 8 s are enough; a
    plan gets 30 s and the costs.
    """
    program = _program(order, mixes, length)
    cap = 8.0 if rough else 30.0
    solution = program.solve(None if seconds is None else max(min(seconds, cap), 1.0), ROUGH_GAP if rough else MIP_GAP,
                             costs=not rough)
    if solution is None:
        return None
    return {mixes[j]: (solution.plies[j], solution.lays[j]) for j in solution.used()}, solution


def _measured(table: YieldTable) -> list[Mix]:
    return [m for m in table.measured if table.fits(m)]


def _best_measured(order, table, seconds) -> float | None:
    chosen = _solve(order, _measured(table), table.length, seconds, rough=True)
    return None if chosen is None else _fabric(order, chosen, table)


def _fabric(order, chosen, table) -> float | None:
    if chosen is None:
        return None
    e = order.limits.end_allowance
    return sum(sum(plies) * (table.length(m) + e) for m, (plies, _) in chosen[0].items())


def _per_garment(order, table, mix) -> float:
    return (table.estimate(mix) + order.limits.end_allowance) / garments_in(mix)


def _layout(order: Order, table: YieldTable, lay_specs, method: str) -> Layout:
    lays = []
    for mix, plies in lay_specs:
        marker = table.measured[mix]
        lays.append(Lay(mix, tuple((c, n) for c, n in plies.items() if n > 0), marker.length, marker.utilization))
    return Layout(tuple(lays), method)


def _cut_plan(order, garments, candidates, table, chosen, forms, history, stats) -> CutPlan:
    e = order.limits.end_allowance
    layouts = {}
    for name in BASELINES:
        specs = forms.get(name)
        usable = specs is not None and all(m in table.measured and table.fits(m) for m in baselines.mixes(specs))
        layouts[name] = _layout(order, table, specs, _METHODS[name]) if usable else None
    if chosen is None:
        raise OrderError(f"{order.label('order')}: no measured marker set meets the order (stopped too early?)")
    specs = []
    for mix, (plies, lays) in chosen[0].items():
        per_colour = dict(zip(order.colours, plies))
        specs += [(mix, lay) for lay in split_lays(per_colour, lays)]
    layout = _layout(order, table, specs, "integer program over the measured markers")
    for name, other in layouts.items():  # the program was stopped by its time limit: never worse than a baseline
        if other is not None and other.fabric_mm(e) < layout.fabric_mm(e) - 1e-6:
            layout = Layout(other.lays, f"{layout.method} (the {name} baseline, better than the time-limited solve)")
    u_best = table.best_utilization
    bound = _program(order, candidates, lambda m: garments.area(m) / (garments.spec.width * u_best)).relaxation()
    used = {lay.mix for lay in layout.lays} | {lay.mix for other in layouts.values() if other for lay in other.lays}
    stats = {**stats, "nestings": table.nestings, "candidates": len(candidates), "measured": len(table.measured),
             "refined": len(table.refined), "too_long": len(table.too_long), "best_utilization": u_best,
             "history_m": history, "optimal": chosen[1].optimal}
    return CutPlan(order, layout, {m: table.measured[m] for m in used}, layouts, bound, stats)


_METHODS = {
    "one_size_per_lay": "one size per lay: per size the marker with as many garments as the table takes; "
                        "order // garments plies; the remainder as one more marker spread once",
    "single_ratio": "single ratio by hand: the smallest ply count P whose ratio floor(order / P) fits the table "
                    "(at max_plies, garments taken off the largest sizes until it fits); P plies; the same rule on "
                    "the remainder",
}
