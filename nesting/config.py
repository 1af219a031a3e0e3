"""Every tunable of the engine, in frozen dataclasses with one default each."""

from __future__ import annotations

from dataclasses import dataclass, field

TARGET_UTILIZATION = 0.92  # the industry's small-run utilization target
PARALLEL_MODES = ("shared", "portfolio")  # how `NestConfig.workers` share a search


@dataclass(frozen=True, slots=True)
class Tolerances:
    """The numeric model, relative to the largest piece diameter D of a marker.

    Geometry is snapped to an integer grid of D / 2**grid_bits (pyclipper and the NFP kernels
    work in exact int64 there). Collision shapes are inflated by ``inflate_units`` grid steps
    so that any position the NFPs call free is free for the true pieces, rounding included;
    an NFP depth below ``contact_units`` counts as touching, not overlapping.
    """

    grid_bits: int = 20
    inflate_units: int = 3
    contact_units: float = 1.0
    verify_overlap: float = 1e-6  # overlap area allowed, relative to the smaller piece
    verify_distance: float = 1e-6  # containment/spacing slack, relative to the fabric width
    verify_angle: float = 1e-6  # degrees a placed rotation may differ from an allowed one
    verify_fold: float = 1e-4  # a mirror line off its fold edge, a match point off the repeat, relative to the width
    verify_outline: float = 1e-6  # vertex offset of a placed polygon from its outline's image, relative to its size


@dataclass(frozen=True, slots=True)
class SeparatorConfig:
    """Overlap-minimisation constants (after sparrow's published defaults)."""

    shrink_explore: float = 0.002  # first strip shrink of exploration (tuned at 10-30 s)
    shrink_explore_min: float = 0.0005  # exploration halves its shrink after failing, down to this
    explore_attempts: int = 2  # separations (each after a disruption) at one length before a shorter shrink
    shrink_compress_max: float = 0.0005
    shrink_compress_min: float = 0.00001
    iterations_no_improve: int = 200
    strikes: int = 3
    compress_iterations_no_improve: int = 100
    compress_strikes: int = 5
    container_samples: int = 50
    focused_samples: int = 25
    line_search: bool = True  # exact NFP line searches through the best samples
    explore_share: float = 0.8
    weight_max: float = 2.0
    weight_min: float = 1.2
    weight_decay: float = 0.95


@dataclass(frozen=True, slots=True)
class GeneticConfig:
    population: int = 12
    mutation_rate: float = 0.1
    elite: int = 2
    time_share: float = 0.05  # of the budget, when compaction follows (a seed: compaction does the rest)


@dataclass(frozen=True, slots=True)
class NestConfig:
    """How to nest: the seed, the budgets and the strategy.

    ``time_limit`` is wall-clock seconds of search (NFP building included, compilation not);
    ``iterations`` is a deterministic budget: with it, the same input and seed give the same
    marker. With neither, a default time budget applies.
    """

    seed: int = 0
    time_limit: float | None = None
    iterations: int | None = None
    strategy: str = "auto"
    workers: int = 1
    parallel: str = "shared"  # shared: one search, its rounds on `workers` threads; portfolio: seeded processes
    rounds: int = 1  # with a portfolio: rounds after which every worker continues from the best layout
    target_utilization: float = TARGET_UTILIZATION
    spacing: float = 0.0
    simplify_tolerance: float = 0.0
    tolerances: Tolerances = field(default_factory=Tolerances)
    separator: SeparatorConfig = field(default_factory=SeparatorConfig)
    genetic: GeneticConfig = field(default_factory=GeneticConfig)

    @property
    def default_time(self) -> float:
        return 30.0


DEFAULT_CONFIG = NestConfig()
