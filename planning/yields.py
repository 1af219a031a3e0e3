"""The yield table: markers really nested for candidate mixes, and estimates for the others.

A measured marker was nested by the engine (on a local pool or a cluster), checked against the
table length and verified again on the client under its mix's spec; an unmeasured mix's length
is estimated from its piece area and the utilization measured on markers with as many garments
(interpolated between garment counts), so the integer program can say which mixes to nest next.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np

from jobs.batch.tasks import NestTask, TaskRunner
from nesting import rules
from nesting.config import NestConfig
from nesting.errors import VerificationError
from nesting.model import Marker
from nesting.verify import verify
from planning.garments import Garments, Mix, garments_in, mix_name
from planning.order import Order

FIRST_GUESS_UTILIZATION = 0.75  # before any marker is measured (short budgets reach 70-85 %)
ESTIMATE_MARGIN = 0.04  # an unmeasured mix must be estimated this much shorter than the table to be tried
MAX_GARMENTS = 12  # per marker when the order sets no limit: a mix beyond it is not a candidate


def candidate_mixes(order: Order, garments: Garments) -> list[Mix]:
    """Every size mix the garment limit, the order quantities and the table length allow.

    A mix is left out when even a marker of 100 % utilization would be longer than the table, or
    when it holds more garments of a size than that size's largest quantity in one colour (plus
    overcut) — no plan could spread it once.
    """
    limit = order.limits.max_garments_per_marker or MAX_GARMENTS
    most = [max(order.bounds(s, c)[1] for c in order.colours) for s in order.sizes]
    result = []
    for counts in itertools.product(*(range(min(m, limit) + 1) for m in most)):
        if 0 < sum(counts) <= limit:
            mix = tuple(zip(order.sizes, counts))
            if garments.shortest(mix) <= order.limits.table_length:
                result.append(mix)
    return result


class YieldTable:
    """Measured markers by mix, mixes known to be too long, and length estimates for the rest."""

    def __init__(self, order: Order, garments: Garments):
        self.order, self.garments = order, garments
        self.measured: dict[Mix, Marker] = {}
        self.refined: set[Mix] = set()
        self.too_long: set[Mix] = set()
        self.failed: dict[Mix, str] = {}
        self.nestings = 0

    def length(self, mix: Mix) -> float:
        marker = self.measured.get(mix)
        return marker.length if marker is not None else self.estimate(mix)

    def estimate(self, mix: Mix) -> float:
        return self.garments.area(mix) / (self.garments.spec.width * self.utilization_for(garments_in(mix)))

    def utilization_for(self, count: int) -> float:
        """Mean measured utilization of markers with ``count`` garments, interpolated between counts,
        and no more than any marker of as many garments that came out longer than the table reached."""
        by_count: dict[int, list[float]] = {}
        for mix, marker in self.measured.items():
            by_count.setdefault(garments_in(mix), []).append(marker.utilization)
        guess = FIRST_GUESS_UTILIZATION
        if by_count:
            counts = sorted(by_count)
            guess = float(np.interp(count, counts, [np.mean(by_count[c]) for c in counts]))
        width, table = self.garments.spec.width, self.order.limits.table_length
        caps = [self.garments.area(m) / (width * table) for m in self.too_long if garments_in(m) == count]
        return min([guess, *caps])  # a marker of this many garments came out too long: it did not reach more

    def fits(self, mix: Mix) -> bool:
        """Within the garment limit and, measured or estimated, within the table.

        A mix holding every garment of one nested too long is taken to be too long as well.
        """
        limit = self.order.limits.max_garments_per_marker
        if mix in self.failed or (limit is not None and garments_in(mix) > limit):
            return False
        if any(all(n >= k for (_, n), (_, k) in zip(mix, long)) for long in self.too_long):
            return False  # it holds every garment of a marker that came out longer than the table
        if mix in self.measured:
            return self.measured[mix].length <= self.order.limits.table_length
        return self.estimate(mix) * (1 + ESTIMATE_MARGIN) <= self.order.limits.table_length

    @property
    def best_utilization(self) -> float:
        return max((m.utilization for m in self.measured.values()), default=0.0)


class Nester:
    """Sends mixes to the runner and files each returned marker in the yield table, verified."""

    def __init__(self, runner: TaskRunner, table: YieldTable, seed: int, stop=None, progress=None):
        self.runner, self.table, self.seed, self.stop = runner, table, seed, stop
        self.progress = progress or (lambda line: None)
        spec = table.garments.spec
        self.input_name = ", ".join(Path(p).name for p in spec.patterns)

    def nest(self, mixes: list[Mix], seconds: float, warm: bool = False) -> None:
        """Nest each mix within ``seconds``; with ``warm``, from its measured marker (never longer)."""
        table = self.table
        tasks = []
        for mix in mixes:
            earlier = table.measured.get(mix) if warm else None
            tasks.append(NestTask(
                name=mix_name(mix), pieces=table.garments.marker_pieces(mix),
                fabric=replace(table.garments.spec.fabric, max_length=None),
                config=NestConfig(seed=self.seed, time_limit=seconds, spacing=table.garments.spec.spacing),
                warm_start=None if earlier is None else _placements(earlier),
                input_name=self.input_name, units=table.garments.units,
            ))
        by_name = {mix_name(mix): mix for mix in mixes}
        self.progress(f"nesting {len(mixes)} markers, {seconds:.1f} s each{' (warm start)' if warm else ''}: "
                      + ", ".join(by_name))
        for outcome in self.runner.run(tasks, self.stop):
            mix = by_name[outcome.name]
            table.nestings += 1
            if outcome.marker is None:
                if outcome.internal:
                    raise VerificationError(f"marker {outcome.name}: {outcome.reason}\n{outcome.detail}")
                table.failed[mix] = outcome.reason
                self.progress(f"marker {outcome.name}: not nested: {outcome.reason}")
                continue
            self._file(mix, outcome.marker)
            if warm:
                table.refined.add(mix)

    def _file(self, mix: Mix, marker: Marker) -> None:
        """Keep the worker's marker if it fits the table, verified again here under its mix's rules."""
        table = self.table
        spec = table.garments.marker_spec(mix)
        if marker.length > spec.max_length:
            if mix not in table.measured:
                table.too_long.add(mix)
            return
        marker = verify(replace(marker, fabric=spec.fabric, rules=rules.marker_rules(marker.pieces, spec)),
                        NestConfig().tolerances)
        earlier = table.measured.get(mix)
        if earlier is None or marker.length < earlier.length:
            table.measured[mix] = marker
        table.too_long.discard(mix)


def _placements(marker: Marker) -> tuple:
    return tuple((marker.pieces[p.piece].id, p.copy, p.rotation, p.mirrored, p.x, p.y) for p in marker.placements)
