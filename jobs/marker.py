"""One marker job: read the input, nest, verify, write the outputs.

The CLI's ``nest marker`` and every batch job run exactly this, so a job file's options are
``nest marker``'s long option names.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import replace
from pathlib import Path

import shapely

from export import view_of, write, write_seconds
from export.options import ExportOptions
from jobs.limits import Limits, parse_limits
from jobs.options import job_record, job_spec_options, with_options
from jobs.spec import MarkerSpec
from jobs.spec import load as load_spec
from nesting import lattice, rules, spread
from nesting.atomic import check_folder, staged_folder, write_text
from nesting.config import NestConfig
from nesting.engine import nest
from nesting.errors import SpecError, shown
from nesting.markerfile import load
from nesting.model import Marker
from nesting.orientation import rule_step
from nesting.sections import nest_sections
from nesting.verify import verify
from nesting.verify_file import verify_file
from patterns import read_pieces
from patterns.selection import select_pieces
from patterns.sizes import Sizes

FINISH_S = 0.5  # verifying a marker and swapping its folder in, beyond the writers
MarkerJob = job_record("MarkerJob", __name__)
MarkerJob.__doc__ = """The options of ``nest marker``, as plain parsed data (picklable for batch workers).

One field per row of `jobs.options.OPTIONS` that is a job option; constructing one parses
every value given (text or numbers), so a bad one is a `SpecError` naming the option.
"""


def load_pieces(job: MarkerJob, report: dict | None = None, keep_folds: bool = False):
    """Pieces and fabric width of the job's input (a DXF needs ``width``; JSON carries it).

    Only the job's sizes (times their ratio) and one fabric are kept (`select_pieces`);
    ``report``, when given, receives the import report, the selection under ``selection``
    and a line naming the pieces left out under ``left_out``. ``keep_folds`` keeps a DXF's half
    pieces (a mirror line) as halves, for a spread with a fold.
    """
    options = {key: value for key, value in (("units", job.units), ("layer", job.layer)) if value}
    if keep_folds and Path(job.input).suffix.lower() != ".json":
        options["keep_folds"] = True
    pieces, read_report = read_pieces(job.input, **options)
    selection = select_pieces(pieces, job.sizes, job.fabric, source=job.input, refused=read_report.get("refused", ()))
    if report is not None:
        report.update(read_report, selection=selection.as_report(), left_out=selection.summary())
    width = job.width if job.width is not None else read_report.get("width")
    if width is None:
        raise SpecError(f"{job.input}: --width is required for DXF input (the fabric width in mm)")
    if width <= 0:
        raise SpecError(f"--width: must be a positive number, got {width:g}")
    return list(selection.pieces), width, read_report.get("units", "mm")


def check_options(job: MarkerJob) -> Limits:
    """What the job's parsed options do not check alone: workers within the limits and the
    output folder; returns the job's limits.

    Runs before any work, so that a typo costs nothing: not the import, not the NFPs.
    """
    limits = parse_limits(job.limits)
    limits.check("workers", job.workers, "--workers")
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
        target_utilization=job.target, workers=job.workers, parallel=job.parallel, spacing=spec.spacing,
        simplify_tolerance=job.simplify,
    )
    marker = nest_marker(pieces, spec, config, stop, listener, units, job.warm_start)
    marker.stats["read_s"] = read_s
    if left_out:
        marker.stats["left_out"] = "; ".join(left_out)
    if units == "mm":  # what `nest export` checks before it carries the patterns' marks into cut files
        marker.stats["source_sha256"] = json.dumps(source_digests(pieces), sort_keys=True)
    if stop is not None:  # a stop while writing leaves the folder as it was, at once
        stop.urgent = "while writing the outputs (the folder is as it was)"
    if listener is not None:  # a large marker's drawings and cut files take seconds
        listener.message(f"writing the outputs: {', '.join(job.formats)}")
    try:
        return marker, write_all(marker, job.out, job.formats, also, ExportOptions.from_spec(spec), stop)
    finally:
        if stop is not None:
            stop.urgent = ""


def nest_marker(pieces, spec: MarkerSpec, config: NestConfig, stop, listener, units: str, warm_start=None) -> Marker:
    """The verified marker of the spec's pieces: its spread's placements, in shade sections when
    asked, rounded to whole repeats when asked."""
    if spec.round_to_repeat and (spec.repeat is None or spec.repeat.along is None):
        raise SpecError(f"{spec.label('fabric.round_to_repeat')}: the fabric has no repeat along the marker "
                        "([fabric.repeat] along = PERIOD)")
    stated = rules.marker_rules(pieces, spec)
    placed = spread.placed_pieces(pieces, spec.fabric, spec.label)
    options = {"input_name": ", ".join(Path(p).name for p in spec.patterns), "units": units}
    if spec.sections is not None or spec.section_length is not None:
        if warm_start is not None:
            raise SpecError("--warm-start: a marker in shade sections is nested section by section, from scratch")
        marker = nest_sections(placed, spec.fabric, config, stated, spec.sections, spec.section_length, stop=stop,
                               listener=listener, label=spec.label, **options)
    else:
        marker = nest(placed, spec.fabric, config, stop=stop, listener=listener,
                      warm_start=warm_start_placements(warm_start), rules=stated, **options)
    if spec.round_to_repeat:
        marker = lattice.whole_repeats(marker)
        if spec.max_length is not None and marker.length > spec.max_length:
            raise SpecError(f"{spec.label('fabric.round_to_repeat')}: rounded to whole repeats the marker is "
                            f"{marker.length:.1f} long, more than the table's {spec.max_length:g}")
        marker = verify(marker, config.tolerances)
    return marker


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
              options: ExportOptions = ExportOptions(), stop=None) -> list[Path]:
    """Write every format (and ``also``'s files) as one set that replaces ``out`` as a whole.

    An abort or a failure while writing (a full disk, a second Ctrl-C, a request to
    ``stop`` while it is urgent) leaves ``out`` as it was; an earlier run's formats that this
    run does not write are gone with the swap, so the folder never pairs this marker.json
    with another marker's cut files. marker.json is written last.
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
        if stop is not None:
            stop.check_abandoned()  # the last moment before the swap
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
    spec = with_options(spec, **job_spec_options(job))
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
        pieces, width, unit = load_pieces(selected, read_report, keep_folds=spec.spread in ("folded", "tubular"))
        spread.check_unfolded(pieces, read_report.get("records", ()), spec.spread, path)
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
        spec = replace(spec, sizes=Sizes(tuple(ratio.items())))
    if len(units) > 1:
        raise SpecError(f"patterns: the files are in different units ({', '.join(sorted(units))}); use one kind of input")
    pieces = rules.apply(rules.unique_ids(groups), spec)
    rules.check_fits(pieces, spec)
    return pieces, spec, units.pop()
