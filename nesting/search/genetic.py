"""Genetic search over piece order and orientation, decoded by bottom-left fill.

The SVGnest/Deepnest scheme, done right: NFPs are shared by the whole run (never recomputed
per generation) and the RNG is the run's seeded generator (reproducible). On several cores
each worker of the portfolio (`nesting.search.portfolio`) evolves its own population: an
island model, with no per-generation process traffic.
"""

from __future__ import annotations

import numpy as np

from nesting.search.bottom_left import area_order, bottom_left


def decode(problem, genome):
    """Fitness of ``(order, shapes)``: (length, compactness) and the decoded layout.

    ``shapes`` None lets the decoder choose each piece's best orientation.
    """
    order, shapes = genome
    layout = bottom_left(problem, order, shapes)
    right = layout.position[:, 0] + np.array([problem.prep.shapes[s].bounds[2] for s in layout.shape_of])
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


def evolve(problem, stop, listener, rng):
    """Run the GA until ``stop``; returns the best decoded layout and its fitness.

    The first individual is the constructive marker (area order, each piece's best
    orientation); the others are heavy mutations of it.
    """
    cfg = problem.config.genetic
    order = area_order(problem)
    best_fitness, best_layout = decode(problem, (order, None))  # the decoder picks orientations
    best_genome = (order, best_layout.shape_of.copy())
    stop.tick()
    listener.improved_layout(stop.elapsed(), best_fitness[0] / problem.prep.scale,
                             problem.utilization_at(best_fitness[0]), "ga", best_layout)
    population = [(best_fitness, best_genome, best_layout)]
    population += _evaluate(problem, [mutate(problem, *best_genome, 0.3, rng) for _ in range(cfg.population - 1)], stop)
    while not stop.done():
        population.sort(key=lambda entry: entry[0])
        if population[0][0] < best_fitness:
            best_fitness, best_genome, best_layout = population[0]
            listener.improved_layout(stop.elapsed(), best_fitness[0] / problem.prep.scale,
                                     problem.utilization_at(best_fitness[0]), "ga", best_layout)
        children = []
        weights = np.arange(len(population), 0, -1, dtype=np.float64)
        weights /= weights.sum()
        while len(children) < cfg.population - cfg.elite:
            a, b = rng.choice(len(population), size=2, replace=False, p=weights)
            order = order_crossover(population[a][1][0], population[b][1][0], rng)
            shapes = np.where(rng.random(len(order)) < 0.5, population[a][1][1], population[b][1][1])
            children.append(mutate(problem, order, shapes, cfg.mutation_rate, rng))
        population = population[: cfg.elite] + _evaluate(problem, children, stop)
    population.sort(key=lambda entry: entry[0])
    if population[0][0] < best_fitness:
        best_fitness, best_genome, best_layout = population[0]
    return best_layout, best_fitness


def _evaluate(problem, genomes, stop):
    """Decode genomes within the remaining budget."""
    population = []
    for genome in genomes:
        if stop.done():
            break
        fitness, layout = decode(problem, genome)
        population.append((fitness, genome, layout))
        stop.tick()
    return population


def run(problem, stop, listener, rng):
    """The genetic search alone."""
    layout, _ = evolve(problem, stop, listener, rng)
    return layout
