"""One marker job: read the input, nest, verify, write the outputs.

The CLI's ``nest marker`` and every batch job run exactly this, so a job file's options are
``nest marker``'s long option names.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from nesting import rules
from nesting.config import DEFAULT_CONFIG, NestConfig
from nesting.engine import nest
from nesting.errors import SpecError
from nesting.export import DEFAULT_FORMATS, write
from nesting.export.options import ExportOptions
from nesting.model import Marker
from nesting.spec import MarkerSpec, with_options
from nesting.spec import load as load_spec
from patterns import read_pieces
from patterns.selection import select_pieces

MAX_PIECES = 10_000  # copies in one marker; a long cutting table holds a few thousand


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
    spec: str | None = None
    spacing: float | None = None
    margin: float | None = None
    rotations: str | None = None
    tilt: float | None = None
    flip: bool | None = None
    shrinkage: str | tuple[float, ...] | None = None
    fabric_price: float | None = None
    sizes: str | tuple[tuple[str, int], ...] | None = None  # "S,M" or "S=1,M=2", or (size, count) pairs
    fabric: str | None = None
    layer: str | None = None  # generic DXF: the layer holding the cut contours
    warm_start: str | None = None  # an earlier marker.json of the same pieces to start from
    simplify: float = 0.0  # outer simplification of the collision shapes, mm (0: exact outlines)
    extra: dict = field(default_factory=dict)

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "extra")


def load_pieces(job: MarkerJob, report: dict | None = None):
    """Pieces and fabric width of the job's input (a DXF needs ``width``; JSON carries it).

    Only the job's sizes (times their ratio) and one fabric are kept (`select_pieces`);
    ``report``, when given, receives the import report, the selection under ``selection``
    and a line naming the pieces left out under ``left_out``.
    """
    options = {key: value for key, value in (("units", job.units), ("layer", job.layer)) if value}
    pieces, read_report = read_pieces(job.input, **options)
    selection = select_pieces(pieces, job.sizes, job.fabric, source=job.input, refused=read_report.get("refused", ()))
    if report is not None:
        report.update(read_report, selection=selection.as_report(), left_out=selection.summary())
    width = job.width if job.width is not None else read_report.get("width")
    if width is None:
        raise SpecError(f"{job.input}: --width is required for DXF input (the fabric width in mm)")
    if width <= 0:
        raise SpecError(f"--width must be positive, got {width:g}")
    return list(selection.pieces), width, read_report.get("units", "mm")


def run(job: MarkerJob, stop=None, listener=None) -> tuple[Marker, list[Path]]:
    """Nest the job's input and write its verified marker; returns the marker and files."""
    if job.time is not None and not 0 <= job.time < math.inf:
        raise SpecError(f"--time must be a finite number of seconds >= 0, got {job.time:g}")
    if job.iterations is not None and job.iterations < 1:
        raise SpecError(f"--iterations must be >= 1, got {job.iterations}")
    if not 0 < job.target <= 1:
        raise SpecError(f"--target is a fraction in (0, 1], got {job.target:g}")
    if not 0 <= job.simplify < math.inf:
        raise SpecError(f"--simplify must be a finite tolerance >= 0, got {job.simplify:g}")
    if job.workers < 1:
        raise SpecError(f"--workers must be >= 1, got {job.workers}")
    check_out(job.out)
    spec = marker_spec(job)
    left_out = []
    pieces, spec, units = spec_pieces(job, spec, left_out)
    check_size(pieces, spec)
    config = NestConfig(
        seed=job.seed, time_limit=job.time, iterations=job.iterations, strategy=job.strategy,
        target_utilization=job.target, workers=job.workers, spacing=spec.spacing, simplify_tolerance=job.simplify,
    )
    marker = nest(pieces, spec.fabric, config, stop=stop, listener=listener,
                  input_name=", ".join(Path(p).name for p in spec.patterns), units=units,
                  warm_start=warm_start_placements(job.warm_start), rules=rules.marker_rules(pieces, spec))
    if left_out:
        marker.stats["left_out"] = "; ".join(left_out)
    return marker, write_all(marker, job.out, job.formats, ExportOptions.from_spec(spec))


def write_all(marker: Marker, out, formats, options: ExportOptions = ExportOptions()) -> list[Path]:
    """Write every format into a staging folder inside ``out``, then rename each into place.

    An abort while writing (a second Ctrl-C) leaves no new file at all, not a marker.json whose
    drawings and cut files are missing or from an earlier run; each rename is atomic.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".writing-", dir=out))
    try:
        written = []
        for staged in write(marker, staging, formats, options):
            os.replace(staged, out / staged.name)
            written.append(out / staged.name)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def warm_start_placements(path):
    """The placements of an earlier marker file, re-verified first (None without a path)."""
    if path is None:
        return None
    from nesting.markerfile import load
    from nesting.verify_file import verify_file

    problems = verify_file(path)
    if problems:
        raise SpecError(f"--warm-start: {path} fails verification: {problems[0]}")
    return [(e["id"], e["copy"], e["rotation"], e["mirrored"], e["x"], e["y"]) for e in load(path).document["pieces"]]


def check_out(out) -> None:
    """Fail before the search, not after it, when ``out`` cannot be an output folder."""
    path = Path(out)
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise SpecError(f"--out: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SpecError(f"--out: no permission to write into {existing}")


def check_size(pieces, spec: MarkerSpec) -> None:
    """Refuse what no cutting table holds before it exhausts memory or time: a demand of
    millions of copies, or a spacing as wide as the fabric (it inflates every piece past it)."""
    total = sum(piece.demand for piece in pieces)
    if total > MAX_PIECES:
        most = max(pieces, key=lambda piece: piece.demand)
        raise SpecError(f"{most.source}: piece {most.id}: {most.demand} copies make a marker of {total} pieces, "
                        f"more than {MAX_PIECES}; check the quantities and the size ratio, or split the marker")
    margins = spec.fabric.margins
    usable = spec.fabric.width - margins.bottom - margins.top
    if spec.spacing >= usable:
        raise SpecError(f"{spec.label('spacing')}: {spec.spacing:g} is not less than the usable fabric width {usable:g}")


def marker_spec(job: MarkerJob) -> MarkerSpec:
    """The job's spec file (if any) with the job's options in place of its fields."""
    spec = load_spec(job.spec) if job.spec else MarkerSpec()
    spec = with_options(
        spec, patterns=[job.input] if job.input else None, width=job.width, spacing=job.spacing, margin=job.margin,
        rotations=job.rotations, tilt=job.tilt, flip=job.flip, shrinkage=job.shrinkage, fabric_price=job.fabric_price,
        sizes=job.sizes, fabric_code=job.fabric,
    )
    if not spec.patterns:
        raise SpecError("patterns: no pattern file (give INPUT, or patterns in the --spec file)")
    return spec


def spec_pieces(job: MarkerJob, spec: MarkerSpec, left_out: list | None = None):
    """Every pattern file's pieces under the spec's rules; the spec with its width; the units.

    ``left_out``, when given, receives a line per file naming the pieces not in this marker.
    """
    groups, units, ratio = [], set(), {}
    for path in spec.patterns:
        read_report = {}
        selected = replace(job, input=path, width=spec.width, sizes=spec.sizes, fabric=spec.fabric_code)
        pieces, width, unit = load_pieces(selected, read_report)
        if left_out is not None and read_report.get("left_out"):
            prefix = f"{Path(path).name}: " if len(spec.patterns) > 1 else ""
            left_out.append(prefix + read_report["left_out"])
        groups.append((path, pieces))
        units.add(unit)
        if spec.width is None:
            spec = spec.with_width(width, f"{path}: width")
        if spec.sizes is not None:  # the ratio as parsed and matched to the file's size names
            ratio.update(read_report["selection"]["sizes"])
    if ratio:
        spec = replace(spec, sizes=tuple(ratio.items()))
    if len(units) > 1:
        raise SpecError(f"patterns: the files are in different units ({', '.join(sorted(units))}); use one kind of input")
    pieces = rules.apply(rules.unique_ids(groups), spec)
    rules.check_fits(pieces, spec)
    return pieces, spec, units.pop()
