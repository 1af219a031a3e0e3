"""Search strategies by name; each is ``run(problem, stop, listener, rng) -> Layout``.

The table is the registry: the strategies import only what lies below them
(`nesting.search.base`, the collision core), never this package.
"""

from __future__ import annotations

from nesting.errors import SpecError
from nesting.search import auto, bottom_left, compaction, genetic

STRATEGIES = {"auto": auto.run, "blf": bottom_left.run, "compact": compaction.run, "ga": genetic.run}


def get_strategy(name):
    if name not in STRATEGIES:
        raise SpecError(f"--strategy: unknown strategy {name!r}; choose from {', '.join(sorted(STRATEGIES))}")
    return STRATEGIES[name]
