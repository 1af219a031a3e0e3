"""The default strategy: constructive start, a short genetic search, then compaction.

Time shares follow the measured value of each phase: the GA is a seed (about a tenth of the
budget); overlap-minimising compaction is where density comes from.
"""

from __future__ import annotations

from nesting.search import register
from nesting.search.genetic import evolve


@register("auto")
def auto(problem, stop, listener, rng):
    from nesting.search import get_strategy

    ga_stop = stop.share(problem.config.genetic.time_share)
    layout, _ = evolve(problem, ga_stop, listener, rng.spawn(1)[0])
    compact = get_strategy("compact") if "compact" in _available() else None
    if compact is None or stop.done():
        return layout
    return compact(problem, stop, listener, rng.spawn(1)[0], start=layout)


def _available():
    from nesting.search import strategy_names

    return strategy_names()
