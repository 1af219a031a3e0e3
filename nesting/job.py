"""One marker job: read the input, nest, verify, write the outputs.

The CLI's ``nest marker`` and every batch job run exactly this, so a job file's options are
``nest marker``'s long option names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from nesting.config import DEFAULT_CONFIG, NestConfig
from nesting.engine import nest
from nesting.errors import SpecError
from nesting.export import DEFAULT_FORMATS, write
from nesting.model import Fabric, Marker
from patterns import read_pieces


@dataclass(frozen=True, slots=True)
class MarkerJob:
    """The options of ``nest marker``, as plain data (picklable for batch workers)."""

    input: str
    out: str
    width: float | None = None
    time: float | None = None
    iterations: int | None = None
    seed: int = 0
    strategy: str = DEFAULT_CONFIG.strategy
    target: float = DEFAULT_CONFIG.target_utilization
    formats: tuple[str, ...] = DEFAULT_FORMATS
    units: str | None = None
    workers: int = 1
    extra: dict = field(default_factory=dict)

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "extra")


def load_pieces(job: MarkerJob):
    """Pieces and fabric width of the job's input (a DXF needs ``width``; JSON carries it)."""
    options = {"units": job.units} if job.units else {}
    pieces, report = read_pieces(job.input, **options)
    width = job.width if job.width is not None else report.get("width")
    if width is None:
        raise SpecError(f"{job.input}: --width is required for DXF input (the fabric width in mm)")
    if width <= 0:
        raise SpecError(f"--width must be positive, got {width:g}")
    return pieces, width, report.get("units", "mm")


def run(job: MarkerJob, stop=None, listener=None) -> tuple[Marker, list[Path]]:
    """Nest the job's input and write its verified marker; returns the marker and files."""
    if job.time is not None and job.time < 0:
        raise SpecError(f"--time must be >= 0, got {job.time:g}")
    if job.iterations is not None and job.iterations < 1:
        raise SpecError(f"--iterations must be >= 1, got {job.iterations}")
    if not 0 < job.target <= 1:
        raise SpecError(f"--target is a fraction in (0, 1], got {job.target:g}")
    pieces, width, units = load_pieces(job)
    config = NestConfig(
        seed=job.seed, time_limit=job.time, iterations=job.iterations, strategy=job.strategy,
        target_utilization=job.target, workers=job.workers,
    )
    marker = nest(pieces, Fabric(width=width), config, stop=stop, listener=listener,
                  input_name=Path(job.input).name, units=units)
    return marker, write(marker, job.out, job.formats)
