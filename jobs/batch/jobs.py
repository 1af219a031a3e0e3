"""The jobs file: ``[[job]]`` tables of ``nest marker`` options, read with tomllib.

Each table names a job and gives its options by their names in `jobs.options.OPTIONS`
(``nest marker``'s long option names, ``_`` for ``-``), read by the same rows as the command
line. An optional ``[defaults]`` table gives options shared by every job. Paths are relative to
the jobs file, so a batch can be moved or run from anywhere.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from export import DEFAULT_FORMATS
from jobs.marker import MarkerJob
from jobs.options import BATCH_KEYS, BY_NAME, JOB_OPTIONS
from nesting.errors import NestingError, SpecError

PATH_OPTIONS = tuple(option.name for option in JOB_OPTIONS if option.kind == "path" and not option.batch)
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
        values = {option.name: option.plain(getattr(self.job, option.name)) for option in JOB_OPTIONS
                  if option.name != "out"}
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
    """The table's options parsed by their rows of the option table; rejects unknown keys.

    Every bad value is one line: ``FILE: job 'a': KEY: reason``.
    """
    options = {}
    for key, value in table.items():
        option = BY_NAME.get(key)
        if option is None or not option.job:
            raise BatchError(f"{path}: {where}: unknown option {key!r} (options: name, {', '.join(BATCH_KEYS)})")
        if option.batch:
            raise BatchError(f"{path}: {where}: option {key!r} cannot be set in a batch: {option.batch}")
        try:
            options[key] = option.parse(value, key)
        except SpecError as exc:
            raise BatchError(f"{path}: {where}: {exc}") from None
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
    if options.get("input") is None:
        raise BatchError(f"{path}: job {name!r}: 'input' is missing (a DXF pattern or JSON instance)")
    for key in PATH_OPTIONS:
        if isinstance(options.get(key), str):
            options[key] = str((path.parent / options[key]).resolve())
    formats = options.get("formats", DEFAULT_FORMATS)
    options["formats"] = tuple(f for f in formats if f != "json") + ("json",)  # marker.json last: trusted on resume
    return MarkerJob(out=str(out.resolve()), workers=1, **options)
