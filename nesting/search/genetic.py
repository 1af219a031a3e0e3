"""Genetic search over piece order and orientation, decoded by bottom-left fill.

The SVGnest/Deepnest scheme, done right: NFPs are shared by the whole run (never recomputed
per generation), the RNG is the run's seeded generator (reproducible), and individuals are
decoded in parallel when the run has several workers.
"""

from __future__ import annotations

import numpy as np

from nesting.placement import bottom_left
from nesting.search import register
from nesting.search.constructive import area_order

_PROBLEM = None  # the problem inherited by pool workers (set by their initializer)


def _init_worker(problem):
    global _PROBLEM
    _PROBLEM = problem


def _decode_in_worker(genome):
    return decode(_PROBLEM, genome)


def decode(problem, genome):
    """Fitness of ``(order, shapes)``: (length, compactness) and the decoded layout."""
    from nesting.engine import Layout

    order, shapes = genome
    shape_of, position = bottom_left(problem.prep, problem.cache, order, shapes)
    layout = Layout(shape_of, position)
    right = position[:, 0] + np.array([problem.prep.shapes[s].bounds[2] for s in shape_of])
    return (float(right.max()), float(right.sum())), layout


def order_crossover(a, b, rng):
    """OX1: a slice of parent a, the rest in parent b's order."""
    n = len(a)
    i, j = sorted(rng.choice(n + 1, size=2, replace=False))
    child = np.full(n, -1, dtype=np.int64)
    child[i:j] = a[i:j]
    taken = set(a[i:j].tolist())
    rest = [g for g in b.tolist() if g not in taken]
    child[:i] = rest[:i]
    child[j:] = rest[i:]
    return child


def mutate(problem, order, shapes, rate, rng):
    order, shapes = order.copy(), shapes.copy()
    n = len(order)
    for k in range(n):
        if rng.random() < rate:
            other = min(n - 1, k + 1) if rng.random() < 0.5 else int(rng.integers(n))
            order[k], order[other] = order[other], order[k]
        if rng.random() < rate:
            item = order[k]
            allowed = problem.prep.item_shapes[item]
            shapes[item] = allowed[int(rng.integers(len(allowed)))]
    return order, shapes


def evolve(problem, stop, listener, rng, start=None):
    """Run the GA until ``stop``; returns the best decoded layout and its fitness."""
    cfg = problem.config.genetic
    order = area_order(problem)
    if start is None:
        from nesting.engine import Layout

        shape_of, position = bottom_left(problem.prep, problem.cache, order)
        start = Layout(shape_of, position)
    best_genome = (order, start.shape_of.copy())
    best_fitness, best_layout = decode(problem, best_genome)
    stop.tick()
    listener.improved(stop.elapsed(), best_fitness[0] / problem.prep.scale, problem.utilization_at(best_fitness[0]), "ga")
    population = [(best_fitness, best_genome, best_layout)]
    population += _evaluate(problem, [mutate(problem, *best_genome, 0.3, rng) for _ in range(cfg.population - 1)], stop)
    pool = _pool(problem)
    try:
        while not stop.done():
            population.sort(key=lambda entry: entry[0])
            if population[0][0] < best_fitness:
                best_fitness, best_genome, best_layout = population[0]
                listener.improved(stop.elapsed(), best_fitness[0] / problem.prep.scale,
                                  problem.utilization_at(best_fitness[0]), "ga")
            children = []
            weights = np.arange(len(population), 0, -1, dtype=np.float64)
            weights /= weights.sum()
            while len(children) < cfg.population - cfg.elite:
                a, b = rng.choice(len(population), size=2, replace=False, p=weights)
                order = order_crossover(population[a][1][0], population[b][1][0], rng)
                shapes = np.where(rng.random(len(order)) < 0.5, population[a][1][1], population[b][1][1])
                children.append(mutate(problem, order, shapes, cfg.mutation_rate, rng))
            population = population[: cfg.elite] + _evaluate(problem, children, stop, pool)
    finally:
        if pool is not None:
            pool.shutdown()
    population.sort(key=lambda entry: entry[0])
    if population[0][0] < best_fitness:
        best_fitness, best_genome, best_layout = population[0]
    return best_layout, best_fitness


def _pool(problem):
    if problem.config.workers <= 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(problem.config.workers, mp_context=context, initializer=_init_worker, initargs=(problem,))


def _evaluate(problem, genomes, stop, pool=None):
    """Decode genomes (in parallel with a pool), within the remaining budget."""
    if stop.iterations is not None:
        genomes = genomes[: max(0, stop.iterations - stop.used_iterations)]
    results = pool.map(_decode_in_worker, genomes) if pool is not None else (decode(problem, g) for g in genomes)
    population = []
    for genome, (fitness, layout) in zip(genomes, results):
        population.append((fitness, genome, layout))
        stop.tick()
        if pool is None and stop.done():
            break
    return population


@register("ga")
def genetic(problem, stop, listener, rng):
    layout, _ = evolve(problem, stop, listener, rng)
    return layout
