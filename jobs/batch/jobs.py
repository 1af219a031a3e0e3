"""The jobs file: ``[[job]]`` tables of ``nest marker`` options, read with tomllib.

Each table names a job and gives its options under `MarkerJob`'s field names (``nest marker``'s
long option names). An optional ``[defaults]`` table gives options shared by every job. Paths
are relative to the jobs file, so a batch can be moved or run from anywhere.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path
from types import UnionType

from export import DEFAULT_FORMATS, parse_formats
from jobs.marker import MarkerJob
from nesting.errors import NestingError, shown

PATH_OPTIONS = ("input", "spec")  # file options, resolved against the jobs file's folder
BATCH_OPTIONS = {
    "out": "the batch writes each job into DIR/<name>",
    "workers": "a batch runs each job in one process (the parallelism is across jobs)",
}
MARKER_FILE = "marker.json"
OPTIONS_FILE = "job.json"
RESERVED_NAMES = {"summary.json", "summary.csv"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class BatchError(NestingError):
    """A jobs file or batch setup that cannot be run (names the file, the job and the key)."""


@dataclass(frozen=True, slots=True)
class BatchJob:
    """One marker of a batch: its name (the output folder's) and its `MarkerJob`."""

    name: str
    job: MarkerJob

    @property
    def out(self) -> Path:
        return Path(self.job.out)

    def fingerprint(self) -> dict:
        """The options (output folder left out) and the SHA-256 of each input file, as JSON values.

        Recorded beside the marker: a resumed batch trusts a finished marker only if the job's
        fingerprint is unchanged, so an edited option or pattern file runs the job again.
        """
        values = {name: getattr(self.job, name) for name in MarkerJob.option_names() if name != "out"}
        values["sha256"] = {
            key: hashlib.sha256(Path(values[key]).read_bytes()).hexdigest()
            for key in PATH_OPTIONS if isinstance(values.get(key), str) and Path(values[key]).is_file()
        }
        return json.loads(json.dumps(values))


def load_jobs(path, out_dir) -> tuple[BatchJob, ...]:
    """Read a jobs file; every job writes into ``out_dir/<name>``.

    Raises
    ------
    BatchError : unreadable TOML, no jobs, a missing/duplicate/unsafe name, an unknown option or
        an option of the wrong type; one line naming the file, the job and the key.
    """
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BatchError(f"{path}: cannot read the jobs file: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BatchError(f"{path}: not a valid TOML jobs file: {exc}") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise BatchError(f"{path}: not a usable TOML jobs file: {exc}") from None
    except RecursionError:
        raise BatchError(f"{path}: not a usable TOML jobs file: arrays or tables nested too deeply") from None
    unknown = sorted(set(document) - {"job", "defaults"})
    if unknown:
        raise BatchError(
            f"{path}: unknown top-level key {unknown[0]!r} (expected [[job]] tables and an optional [defaults] table)"
        )
    tables = document.get("job")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise BatchError(f"{path}: no jobs: add at least one [[job]] table with a name and an input")
    defaults = document.get("defaults", {})
    if not isinstance(defaults, dict):
        raise BatchError(f"{path}: [defaults] must be a table of options")
    if "name" in defaults:
        raise BatchError(f"{path}: [defaults]: 'name' must be given per job")
    defaults = _check_options(path, "[defaults]", defaults)
    jobs, seen = [], {}
    for number, table in enumerate(tables, start=1):
        name = _job_name(path, number, table.get("name"))
        if name.lower() in seen:
            raise BatchError(f"{path}: job {name!r}: the name is already used by job #{seen[name.lower()]}")
        seen[name.lower()] = number
        options = _check_options(path, f"job {name!r}", {k: v for k, v in table.items() if k != "name"})
        jobs.append(BatchJob(name, _marker_job(path, name, {**defaults, **options}, Path(out_dir) / name)))
    return tuple(jobs)


def _check_options(path, where: str, table: dict) -> dict:
    """The table's options converted to `MarkerJob`'s field types; rejects unknown keys."""
    hints = typing.get_type_hints(MarkerJob)
    known = [name for name in MarkerJob.option_names() if name not in BATCH_OPTIONS]
    options = {}
    for key, value in table.items():
        if key in BATCH_OPTIONS:
            raise BatchError(f"{path}: {where}: option {key!r} cannot be set in a batch: {BATCH_OPTIONS[key]}")
        if key not in known:
            raise BatchError(f"{path}: {where}: unknown option {key!r} (options: name, {', '.join(known)})")
        try:
            options[key] = _parse_formats(value) if key == "formats" else _conform(value, hints[key])
        except (TypeError, ValueError, OverflowError) as exc:
            detail = f": {exc}" if str(exc) else ""
            raise BatchError(f"{path}: {where}: option {key!r} expects {_type_name(hints[key])}, "
                             f"got {shown(value)}{detail}") from None
    return options


def _job_name(path, number: int, name) -> str:
    if name is None:
        raise BatchError(f"{path}: job #{number}: 'name' is missing (it names the job's output folder)")
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.lower() in RESERVED_NAMES:
        raise BatchError(
            f"{path}: job #{number}: name {name!r} is not a usable folder name "
            "(letters, digits, '.', '_' and '-', not starting with '.' or '-', not summary.json/summary.csv)"
        )
    return name


def _marker_job(path, name: str, options: dict, out: Path) -> MarkerJob:
    if "input" not in options:
        raise BatchError(f"{path}: job {name!r}: 'input' is missing (a DXF pattern or JSON instance)")
    for key in PATH_OPTIONS:
        if isinstance(options.get(key), str):
            options[key] = str((path.parent / options[key]).resolve())
    formats = options.get("formats", DEFAULT_FORMATS)
    options["formats"] = tuple(f for f in formats if f != "json") + ("json",)  # marker.json last: trusted on resume
    return MarkerJob(out=str(out.resolve()), workers=1, **options)


def _parse_formats(value) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = ",".join(value)
    if not isinstance(value, str):
        raise TypeError()
    try:
        return parse_formats(value)
    except NestingError as exc:
        raise ValueError(str(exc).removeprefix("--formats: ")) from None


def _conform(value, hint):
    """``value`` as the field type ``hint`` (TOML arrays become tuples, integers floats); TypeError if it is not one."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, UnionType):
        for arm in args:
            try:
                return _conform(value, arm)
            except TypeError:
                continue
        raise TypeError()
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            if isinstance(value, dict) and typing.get_origin(args[0]) is tuple:
                value = list(value.items())  # a TOML table as (key, value) pairs: sizes = {S = 1, M = 2}
            if not isinstance(value, list | tuple):
                raise TypeError()
            return tuple(_conform(v, args[0]) for v in value)
        if not isinstance(value, list | tuple) or (args and len(value) != len(args)):
            raise TypeError()
        return tuple(value if not args else (_conform(v, a) for v, a in zip(value, args, strict=True)))
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool):
        raise TypeError()
    kind = origin or hint
    if isinstance(kind, type) and not isinstance(value, kind):
        raise TypeError()
    return value


def _type_name(hint) -> str:
    return " or ".join(
        getattr(arm, "__name__", str(arm)) for arm in typing.get_args(hint) if arm is not type(None)
    ) if typing.get_origin(hint) in (typing.Union, UnionType) else getattr(hint, "__name__", str(hint))
