"""Search strategies, registered by name; each is ``run(problem, stop, listener, rng) -> Layout``."""

from __future__ import annotations

from nesting.errors import SpecError

_STRATEGIES = {}


def register(name):
    def decorate(function):
        _STRATEGIES[name] = function
        return function

    return decorate


def get_strategy(name):
    from nesting.search import auto, compaction, constructive, genetic  # noqa: F401  (they register themselves)

    if name not in _STRATEGIES:
        raise SpecError(f"--strategy: unknown strategy {name!r}; choose from {', '.join(sorted(_STRATEGIES))}")
    return _STRATEGIES[name]
