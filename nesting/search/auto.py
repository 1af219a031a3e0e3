"""The default strategy: constructive start, a short genetic search, then compaction.

Time shares follow the measured value of each phase: the GA is a seed (about a tenth of the
budget); overlap-minimising compaction is where density comes from.
"""

from __future__ import annotations

from nesting.search.compaction import compact
from nesting.search.genetic import evolve


def run(problem, stop, listener, rng):
    ga_rng, compact_rng = rng.spawn(2)
    layout, _ = evolve(problem, stop.share(problem.config.genetic.time_share), listener, ga_rng)
    if stop.done():
        return layout
    return compact(problem, stop, listener, compact_rng, start=layout)
