"""One marker job: read the input, nest, verify, write the outputs.

The CLI's ``nest marker`` and every batch job run exactly this, so a job file's options are
``nest marker``'s long option names.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import shapely

from export import DEFAULT_FORMATS, view_of, write, write_seconds
from export.options import ExportOptions
from jobs.limits import Limits, parse_limits
from jobs.spec import MarkerSpec, with_options
from jobs.spec import load as load_spec
from nesting import rules
from nesting.atomic import check_folder, staged_folder, write_text
from nesting.config import DEFAULT_CONFIG, NestConfig
from nesting.engine import nest
from nesting.errors import SpecError, shown
from nesting.markerfile import load
from nesting.model import Marker
from nesting.orientation import rule_step
from nesting.search import get_strategy
from nesting.verify_file import verify_file
from patterns import read_pieces
from patterns.selection import select_pieces

MAX_SEED = 2**63 - 1
MAX_ITERATIONS = 10**15
MAX_RATIO_DIGITS = 6  # garments of one size in --sizes S=N
FINISH_S = 0.5  # verifying a marker and swapping its folder in, beyond the writers


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
    limits: tuple[str, ...] = ()  # "NAME=N" raising a resource limit (`jobs.limits`)
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


def check_options(job: MarkerJob) -> Limits:
    """Every option that can be checked without reading the input; the job's limits.

    Runs before any work, so that a typo costs nothing: not the import, not the NFPs.
    """
    if job.time is not None and not 0 <= job.time < math.inf:
        raise SpecError(f"--time must be a finite number of seconds >= 0, got {job.time:g}")
    if job.iterations is not None and not 1 <= job.iterations <= MAX_ITERATIONS:
        raise SpecError(f"--iterations must be in 1..{MAX_ITERATIONS:.0e}, got {shown(job.iterations)}")
    if not 0 <= job.seed <= MAX_SEED:
        raise SpecError(f"--seed must be a whole number in 0..2**63-1, got {job.seed if job.seed < 0 else 'a larger one'}")
    if not 0 < job.target <= 1:
        raise SpecError(f"--target is a fraction in (0, 1], got {job.target:g}")
    if not 0 <= job.simplify < math.inf:
        raise SpecError(f"--simplify must be a finite tolerance >= 0, got {job.simplify:g}")
    if job.workers < 1:
        raise SpecError(f"--workers must be >= 1, got {job.workers}")
    if isinstance(job.sizes, str):
        for entry in job.sizes.split(","):
            count = entry.partition("=")[2].strip()
            if len(count) > MAX_RATIO_DIGITS:
                raise SpecError(f"--sizes: the ratio {entry.partition('=')[0].strip()}={count[:12]}... has more than "
                                f"{MAX_RATIO_DIGITS} digits; a ratio counts garments")
    elif job.sizes is not None:
        for size, count in job.sizes:
            if isinstance(count, int) and not 1 <= count <= 10**MAX_RATIO_DIGITS:
                raise SpecError(f"sizes: the ratio of size {size} must be a whole number in 1..1e6, got {shown(count)}")
    limits = parse_limits(job.limits)
    limits.check("workers", job.workers, "--workers")
    get_strategy(job.strategy)
    check_folder(job.out)
    return limits


def run(job: MarkerJob, stop=None, listener=None, also: dict | None = None) -> tuple[Marker, list[Path]]:
    """Nest the job's input and write its verified marker; returns the marker and files.

    ``also`` maps file names to text written into the same set (a batch's ``job.json``).
    """
    started = time.perf_counter()
    limits = check_options(job)
    spec = marker_spec(job)
    check_rules(spec, limits)
    left_out = []
    pieces, spec, units = spec_pieces(job, spec, left_out)
    if job.simplify >= 0.1 * spec.width:
        raise SpecError(f"--simplify {job.simplify:g} is not below a tenth of the fabric width {spec.width:g}")
    check_size(pieces, spec, limits)
    read_s = time.perf_counter() - started
    if stop is not None and stop.time_limit is not None:
        stop.time_limit = search_budget(stop.time_limit, pieces, job.formats)
    config = NestConfig(
        seed=job.seed, time_limit=search_budget(job.time, pieces, job.formats), iterations=job.iterations,
        strategy=job.strategy,
        target_utilization=job.target, workers=job.workers, spacing=spec.spacing, simplify_tolerance=job.simplify,
    )
    marker = nest(pieces, spec.fabric, config, stop=stop, listener=listener,
                  input_name=", ".join(Path(p).name for p in spec.patterns), units=units,
                  warm_start=warm_start_placements(job.warm_start), rules=rules.marker_rules(pieces, spec))
    marker.stats["read_s"] = read_s
    if left_out:
        marker.stats["left_out"] = "; ".join(left_out)
    if units == "mm":  # what `nest export` checks before it carries the patterns' marks into cut files
        marker.stats["source_sha256"] = json.dumps(source_digests(pieces), sort_keys=True)
    if stop is not None:  # a stop while writing leaves the folder as it was, at once
        stop.urgent = "while writing the outputs (the folder is as it was)"
    try:
        return marker, write_all(marker, job.out, job.formats, also, ExportOptions.from_spec(spec))
    finally:
        if stop is not None:
            stop.urgent = ""


def search_budget(budget: float | None, pieces, formats) -> float | None:
    """The search's share of a wall budget: what verifying and writing the files will take
    (`export.write_seconds`, and ``FINISH_S``) is kept back, but the search keeps at least half."""
    if budget is None:
        return None
    copies = sum(piece.demand for piece in pieces)
    vertices = sum(piece.demand * shapely.get_num_coordinates(piece.outline) for piece in pieces)
    return max(budget - FINISH_S - write_seconds(formats, copies, vertices), budget / 2)


def source_digests(pieces) -> dict[str, str]:
    """The SHA-256 of each pattern file the pieces come from, keyed as the marker names it."""
    return {source: hashlib.sha256(Path(source).read_bytes()).hexdigest()
            for source in sorted({piece.source for piece in pieces if piece.source}) if Path(source).is_file()}


def write_all(marker: Marker, out, formats, also: dict | None = None,
              options: ExportOptions = ExportOptions()) -> list[Path]:
    """Write every format (and ``also``'s files) as one set that replaces ``out`` as a whole.

    An abort or a failure while writing (a full disk, a second Ctrl-C) leaves ``out`` as it
    was; an earlier run's formats that this run does not write are gone with the swap, so
    the folder never pairs this marker.json with another marker's cut files. marker.json is
    written last.
    """
    view = view_of(marker)  # once: every writer draws from it
    others = tuple(f for f in formats if f != "json")
    with staged_folder(out) as staging:
        names = [path.name for path in write(view, staging, others, options)]
        for name, text in (also or {}).items():
            write_text(staging / name, text)
            names.append(name)
        if "json" in formats:
            names += [path.name for path in write(view, staging, ("json",), options)]
    return [check_folder(out) / name for name in names]


def warm_start_placements(path):
    """The placements of an earlier marker file, re-verified first (None without a path)."""
    if path is None:
        return None
    problems = verify_file(path)
    if problems:
        raise SpecError(f"--warm-start: {path} fails verification: {problems[0]}")
    placements = []
    for k, e in enumerate(load(path).document["pieces"]):
        values = tuple(e.get(key) for key in ("id", "copy", "rotation", "mirrored", "x", "y"))
        if any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) for v in values[4:]) \
                or not isinstance(values[1], int) or isinstance(values[1], bool):
            raise SpecError(f"--warm-start: {path}: pieces[{k}] has no numeric copy, x and y "
                            "(an early marker file: nest it again without --warm-start)")
        placements.append(values)
    return placements


def check_rules(spec: MarkerSpec, limits: Limits) -> None:
    """Refuse a rotation rule that allows more orientations than the limit before they are listed
    (``free:1e-9`` would be 3.6e11 angles)."""
    rules_set = spec.orientation
    named = [("rules", rules_set.default), *((f"rules.categories.{k}", r) for k, r in rules_set.categories),
             *((f"rules.pieces.{k}", r) for k, r in rules_set.pieces)]
    for name, rule in named:
        rule = rule.over(rules_set.default)
        if rule.rotations is not None:
            angles = math.ceil(360.0 / rule_step(rule.rotations) - 1e-9) * (3 if rule.tilt else 1)
            limits.check("orientations", angles, f"{spec.label(name + '.rotations')}: {rule.rotations} "
                                                 f"{'with tilt ' if rule.tilt else ''}gives orientations")


def check_size(pieces, spec: MarkerSpec, limits: Limits = Limits()) -> None:
    """Refuse what no cutting table holds before it exhausts memory or time: more copies or
    orientations than the limits, or a spacing as wide as the fabric (it inflates every piece past it)."""
    total = sum(piece.demand for piece in pieces)
    if total > limits.pieces:
        most = max(pieces, key=lambda piece: piece.demand)
        limits.check("pieces", total, f"{most.source}: piece {most.id}: {shown(most.demand)} copies make a marker of "
                                      f"{shown(total)} pieces (check the quantities and the size ratio, or split the marker)")
    shapes = 0
    for piece in pieces:
        orientations = len(piece.rotations) * (2 if piece.flip or (piece.quantity and piece.mirrored_quantity) else 1)
        limits.check("orientations", orientations,
                     f"{piece.source}: piece {piece.id}: orientations (rotations x mirrorings, tilt samples included)")
        shapes += orientations
    zones = len(spec.fabric.zones)
    limits.check("nfp_pairs", shapes * (shapes + 1) // 2 + zones * shapes,
                 f"no-fit polygons of {shapes} piece orientations" + (f" and {zones} zones" if zones else ""))
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
