"""Several independent searches in parallel, one process per core, the best one kept.

Seed-to-seed spread of this kind of search is about a point at short budgets, so on two
cores a portfolio of two differently seeded runs buys more than splitting one run's moves
(sparrow's run logs: best-of-two is worth +0.2 to +0.5 points). Workers are forked, so the
prepared problem and its NFPs are shared copy-on-write, and each worker compiles nothing.
"""

from __future__ import annotations

import dataclasses
import multiprocessing

import numpy as np

_JOB = None  # (strategy, problem, stop, listener) inherited by the forked workers


def _run_worker(seed):
    strategy, problem, stop, listener = _JOB
    layout = strategy(problem, stop, listener, np.random.default_rng(seed))
    return layout, problem.length_of(layout), stop.used_iterations


def run_portfolio(strategy, problem, stop, listener, rng):
    """Run ``strategy`` in ``config.workers`` processes with child seeds; the shortest layout wins.

    Deterministic with an iteration budget: each worker is, and ties go to the lower worker.
    """
    global _JOB
    workers = problem.config.workers
    single = dataclasses.replace(problem, config=dataclasses.replace(problem.config, workers=1))
    seeds = [int(s) for s in rng.integers(2**63, size=workers)]
    used = stop.used_iterations
    _JOB = (strategy, single, stop, listener)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_run_worker, seeds)
    finally:
        _JOB = None
    best = min(range(workers), key=lambda w: (results[w][1], w))
    stop.tick(sum(r[2] - used for r in results))
    return results[best][0]
