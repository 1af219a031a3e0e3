"""The options of a marker job, declared once: one row each in `OPTIONS`.

Everything that takes options is derived from the table: ``nest marker``'s argparse arguments
(and ``nest plan``'s and ``nest batch``'s where they are the same option), the job's record
(`jobs.marker.MarkerJob`, built by `job_record`), the keys a batch jobs file allows and how
their values are read (`jobs.batch.jobs`), and `with_options`, which lays the options over a
marker spec. A row's ``parse`` reads a value as the command line gives it (text) or a TOML
file does (numbers, booleans, tables) and raises one `SpecError` line, ``NAME: reason``,
where NAME is the option (``--seed``) or the batch key (``seed``).

Adding an option is adding a row (and using its value where it acts). `describe` lists the
rows as plain data (name, flag, kind, default, help, choices) for a form that offers them.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from export import DEFAULT_FORMATS, parse_formats
from jobs.limits import parse_limits
from jobs.spec import MarkerSpec, boolean, fabric_code, non_negative, parse_shrinkage, parse_spread, positive
from nesting.config import DEFAULT_CONFIG, PARALLEL_MODES
from nesting.errors import SpecError, shown
from nesting.fabric import SPREADS, Margins
from nesting.orientation import ROTATION_RULES, OrientationRule, RuleSet, parse_number, parse_rotations, parse_tilt
from nesting.search import STRATEGIES
from patterns.sizes import Sizes

MAX_SEED = 2**63 - 1
MAX_ITERATIONS = 10**15
KINDS = ("number", "integer", "text", "path", "choice", "bool", "flag", "sizes", "list")


def _identity(value):
    return value


@dataclass(frozen=True, slots=True)
class Option:
    """One option: its name (the job's field and the batch key), how it is read and what it overrides.

    ``kind`` says what a form shows (one of `KINDS`: ``flag`` is a switch, ``bool`` a
    ``--x``/``--no-x`` pair, ``list`` comma-separated or, if ``repeatable``, given again);
    ``choices`` are the only values of a ``choice`` and the usual ones of a ``text``
    (``free:STEP``: a form). ``parse(value, label)`` returns the job's value or raises
    ``SpecError("label: reason")``. ``spec`` names the `MarkerSpec` field the
    option overrides (``orientation.X``: a field of the fabric's orientation rule), ``to_spec``
    turns the value into that field's. ``batch`` says why a batch job may not set it (empty: it
    may); ``job`` is false for an option of the command line alone. ``commands`` lists the
    ``nest`` commands that take it. ``plain`` gives the value as JSON data.
    """

    name: str
    kind: str
    parse: Callable[[Any, str], Any]
    default: Any = None
    help: str = ""
    example: str = ""  # a valid value as typed on the command line (a form's placeholder; the tests use it)
    flag: str = ""  # the command-line spelling; "" is --name with '-' for '_'; "INPUT" a positional
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    required: bool = False
    repeatable: bool = False
    spec: str | None = None
    to_spec: Callable[[Any], Any] = _identity
    batch: str = ""
    job: bool = True
    commands: tuple[str, ...] = ("marker",)
    group: str = ""  # "rules": listed with the marker rules in --help
    plain: Callable[[Any], Any] = _identity

    @property
    def option(self) -> str:
        """How messages name it on the command line: ``--fabric-price``, or ``INPUT``."""
        return self.flag or "--" + self.name.replace("_", "-")

    def describe(self) -> dict:
        """The row as plain data, for a form or a listing."""
        return {"name": self.name, "flag": self.option, "kind": self.kind, "default": self.plain(self.default),
                "help": self.help, "example": self.example, "choices": list(self.choices), "spec": self.spec,
                "batch": not self.batch}


# --- how values are read: text from the command line, or TOML values -------------------------


def number(low: float = -math.inf, high: float = math.inf, *, low_open=False, high_open=True, reason: str):
    """A finite number in the range, else ``label: reason, got VALUE``."""
    def parse(value, label):
        value = parse_number(value, label, reason)
        if value < low or (low_open and value == low) or value > high or (high_open and value == high):
            raise SpecError(f"{label}: {reason}, got {value:g}")
        return value
    return parse


def whole(low: int, high: int, reason: str):
    """A whole number in ``low..high`` (text of digits, or an integer; not a bool nor 2.5)."""
    def parse(value, label):
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value.strip()) <= 20:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SpecError(f"{label}: {reason}, got {shown(value)}")
        return value
    return parse


def text(value, label) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{label}: must be non-empty text, got {shown(value)}")
    return value.strip()


def path(value, label) -> str:
    """A file or folder name; the empty text is kept (``--out ''`` is refused by the folder check)."""
    if not isinstance(value, str):
        raise SpecError(f"{label}: must be a file name, got {shown(value)}")
    return value


def optional_path(value, label) -> str | None:
    """A file name, the empty text being none (``INPUT`` may come from the spec file)."""
    return path(value, label) or None


def choice(names, noun: str):
    def parse(value, label):
        if value not in names:
            raise SpecError(f"{label}: unknown {noun} {shown(value)}; choose from {', '.join(sorted(names))}")
        return value
    return parse


def sizes(value, label) -> Sizes:
    try:
        return Sizes.of(value)
    except ValueError as exc:
        raise SpecError(f"{label}: {exc}") from None


def formats(value, label) -> tuple[str, ...]:
    """``json,png`` or a list of names: known formats only, each once."""
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        value = ",".join(value)
    if not isinstance(value, str):
        raise SpecError(f"{label}: must be format names such as json,png, got {shown(value)}")
    return parse_formats(value, label)


def limits(value, label) -> tuple[str, ...]:
    """``NAME=N`` items (repeated on the command line) or a table ``{NAME = N}``, checked now."""
    if isinstance(value, str):
        value = [value]
    items = [f"{k}={v}" for k, v in value.items()] if isinstance(value, dict) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise SpecError(f"{label}: must be NAME=N items or a table of NAME = N, got {shown(value)}")
    try:
        parse_limits(items)
    except SpecError as exc:
        raise SpecError(f"{label}: {str(exc).removeprefix('--limit').lstrip(': ')}") from None
    return tuple(items)


def _margins(margin: float) -> Margins:
    return Margins(margin, margin, margin, margin)


_TIME = "must be a finite number of seconds >= 0"
OPTIONS: tuple[Option, ...] = (
    Option("input", "path", optional_path, flag="INPUT", spec="patterns", to_spec=lambda p: (p,), example="pattern.dxf",
           help="pattern file (.dxf) or strip-packing instance (.json); optional with --spec"),
    Option("width", "number", positive, spec="width", group="rules", example="1500",
           help="fabric width (mm for DXF; required for DXF input)"),
    Option("time", "number", number(0, reason=_TIME), example="12.5",
           help="search budget in wall-clock seconds (default 30)"),
    Option("iterations", "integer", whole(1, MAX_ITERATIONS, f"must be a whole number in 1..{MAX_ITERATIONS:.0e}"),
           example="40", help="search budget in iterations (reproducible)"),
    Option("seed", "integer", whole(0, MAX_SEED, "must be a whole number in 0..2**63-1"), DEFAULT_CONFIG.seed,
           commands=("marker", "plan"), example="7",
           help="random seed: the same input, seed and iterations give the same result"),
    Option("strategy", "choice", choice(tuple(STRATEGIES), "strategy"), DEFAULT_CONFIG.strategy,
           choices=tuple(STRATEGIES), example="blf", help="blf, ga, compact or auto"),
    Option("target", "number", number(0, 1, low_open=True, high_open=False, reason="must be a fraction in (0, 1]"),
           DEFAULT_CONFIG.target_utilization, example="0.85",
           help="stop once this utilization (a fraction) is reached; default 0.92"),
    Option("workers", "integer", whole(1, 10**6, "must be a whole number >= 1"), 1, example="2",
           batch="a batch runs each job in one process (the parallelism is across jobs)",
           help="cores the search uses (see --parallel)"),
    Option("parallel", "choice", choice(PARALLEL_MODES, "mode"), DEFAULT_CONFIG.parallel, choices=PARALLEL_MODES,
           example="portfolio", batch="a batch runs each job in one process (the parallelism is across jobs)",
           help="how --workers share the search: shared (one search, each round's moves on every worker, "
                "the best kept) or portfolio (independently seeded searches, the shortest kept)"),
    Option("units", "text", text, choices=("mm", "cm", "in"), example="cm",
           help="units of a DXF that does not state them: mm, cm, in"),
    Option("sizes", "sizes", sizes, spec="sizes", group="rules", plain=lambda s: None if s is None else str(s),
           example="S=1,M=2", help="sizes of a graded pattern: S,M,L (one each), a ratio S=1,M=2, or all"),
    Option("fabric", "text", fabric_code, spec="fabric_code", group="rules", example="2",
           help="fabric code of the pieces to nest (default: the file's first)"),
    Option("layer", "text", text, example="CUT", help="generic DXF: read contours from this layer only"),
    Option("simplify", "number", number(0, reason="must be a finite tolerance >= 0"), 0.0, metavar="MM", example="0.5",
           help="nest outer approximations within MM of the outlines (faster on dense curves; "
                "the true outlines are still verified and written)"),
    Option("warm_start", "path", path, metavar="MARKER.json", example="old/marker.json",
           help="start from an earlier marker of the same pieces (repeat orders)"),
    Option("formats", "list", formats, DEFAULT_FORMATS, plain=list, example="json,svg", help="outputs, e.g. json,png"),
    Option("out", "path", path, required=True, batch="the batch writes each job into DIR/<name>", example="out/a",
           help="output folder"),
    Option("quiet", "flag", boolean, False, job=False, commands=("marker", "plan"), help="no progress lines"),
    Option("limits", "list", limits, (), flag="--limit", metavar="NAME=N", repeatable=True, plain=list,
           example="pieces=3000", help="raise a resource limit: pieces, orientations, nfp_pairs, workers (repeatable)"),
    Option("scheduler", "text", text, job=False, commands=("batch", "plan"), example="local",
           help="a Dask scheduler (tcp://HOST:PORT), or 'local' for an embedded cluster"),
    Option("spec", "path", path, group="rules", example="style.toml",
           help="marker specification (.toml): patterns, size ratio, fabric, rules"),
    Option("spacing", "number", non_negative, spec="spacing", group="rules", example="4",
           help="minimum gap between pieces (mm for DXF)"),
    Option("margin", "number", non_negative, spec="margins", to_spec=_margins, group="rules", example="3",
           help="unusable margin at all four fabric edges"),
    Option("rotations", "text", parse_rotations, spec="orientation.rotations", group="rules", choices=ROTATION_RULES,
           example="free:15", help="none (one-way nap), 180, 90 or free:STEP, relative to the grain"),
    Option("tilt", "number", parse_tilt, spec="orientation.tilt", group="rules", example="2",
           help="tilt tolerance off the allowed rotations, +/- degrees"),
    Option("flip", "bool", boolean, spec="orientation.flip", group="rules", help="may pieces be mirrored"),
    Option("shrinkage", "text", parse_shrinkage, spec="shrinkage", group="rules", example="2,1",
           plain=lambda s: None if s is None else list(s), help="fabric shrinkage in % along,across the grain, e.g. 2,1"),
    Option("fabric_price", "number", non_negative, spec="fabric_price", group="rules", example="6.5",
           help="fabric price per metre, for the cost per garment"),
    Option("spread", "choice", parse_spread, spec="spread", group="rules", choices=SPREADS, example="folded",
           help="open, face-to-face, folded or tubular (--width is the width nested)"),
    Option("round_to_repeat", "flag", boolean, spec="round_to_repeat", group="rules",
           help="marker length a whole number of repeats"),
)
BY_NAME = {option.name: option for option in OPTIONS}
JOB_OPTIONS = tuple(option for option in OPTIONS if option.job)
BATCH_KEYS = tuple(option.name for option in JOB_OPTIONS if not option.batch)


def describe(command: str = "marker") -> list[dict]:
    """Every option of ``command`` as plain data: ``name``, ``flag``, ``kind``, ``default``, ``help``, ``choices``..."""
    return [option.describe() for option in OPTIONS if command in option.commands]


# --- what is derived from the table --------------------------------------------------------


def job_record(name: str, module: str, namespace: dict | None = None) -> type:
    """The frozen dataclass of the job's options, one field per job row, each parsed on construction.

    Every job, from the command line, a batch file or a Python caller, so holds parsed values:
    ``sizes`` a `Sizes`, ``shrinkage`` a pair, ``rotations`` the normalised rule.
    """
    def __post_init__(self):
        for option in JOB_OPTIONS:
            value = getattr(self, option.name)
            if value is not None:
                object.__setattr__(self, option.name, option.parse(value, option.option))

    def option_names(cls) -> tuple[str, ...]:
        return tuple(option.name for option in JOB_OPTIONS)

    fields = [(option.name, Any, field(default=option.default) if not option.required else field())
              for option in JOB_OPTIONS]
    body = {"__module__": module, "__post_init__": __post_init__, "option_names": classmethod(option_names),
            **(namespace or {})}
    return dataclasses.make_dataclass(name, fields, namespace=body, frozen=True, slots=True, kw_only=True)


def add_arguments(parser: argparse.ArgumentParser, command: str, names: tuple[str, ...] | None = None) -> None:
    """``command``'s options from the table (or only ``names``), read as given: the rows parse them later.

    Every default is ``None`` (not given), so `parsed_arguments` tells a given value from the row's default.
    """
    groups = {}
    for option in OPTIONS:
        if command not in option.commands or (names is not None and option.name not in names):
            continue
        target = parser
        if option.group == "rules":
            if "rules" not in groups:
                groups["rules"] = parser.add_argument_group("marker rules (each overrides the --spec file's field)")
            target = groups["rules"]
        help_text = option.help.replace("%", "%%")
        if option.flag == "INPUT":
            target.add_argument(option.name, nargs="?", help=help_text)
            continue
        extra = {"action": "store_true"} if option.kind == "flag" else \
            {"action": argparse.BooleanOptionalAction} if option.kind == "bool" else \
            {"action": "append"} if option.repeatable else {}
        if option.metavar:
            extra["metavar"] = option.metavar
        target.add_argument(option.option, dest=option.name, default=None, required=option.required,
                            help=help_text, **extra)


def parsed_arguments(args: argparse.Namespace, command: str) -> dict:
    """The table's options of ``command`` from argparse's namespace, parsed; the row's default when not given."""
    values = {}
    for option in OPTIONS:
        if command in option.commands and hasattr(args, option.name):
            value = getattr(args, option.name)
            values[option.name] = option.default if value is None else option.parse(value, option.option)
    return values


def with_options(spec: MarkerSpec, /, **values) -> MarkerSpec:
    """The spec with each option given (not ``None``) in place of its field; errors name the option.

    ``values`` are options by name (``spacing=4``, ``rotations="90"``, ``fabric="2"``), as
    given or parsed; options that override no spec field (``--spec`` itself, ``--seed``) are
    ignored. The ``orientation.X`` options refine the fabric's default rule; the spec's
    category and piece rules still apply.
    """
    changes, rule = {}, {}
    for name, value in values.items():
        option = BY_NAME[name]
        if value is None or option.spec is None:
            continue
        value = option.parse(value, option.option)
        target, _, part = option.spec.partition(".")
        if part:
            rule[part] = value
        else:
            changes[target] = option.to_spec(value)
    if rule:
        rules = spec.orientation
        changes["orientation"] = RuleSet(OrientationRule(**rule).over(rules.default), rules.categories, rules.pieces)
    result = replace(spec, **changes)
    result.check_fabric()
    return result


def job_spec_options(job) -> dict:
    """The job's options that override spec fields, by name (for `with_options`)."""
    return {option.name: getattr(job, option.name) for option in JOB_OPTIONS if option.spec is not None}
