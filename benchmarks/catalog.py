"""The bundled instances: names, paths and the best-known densities kept beside them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent / "instances"
GARMENT = ("albano", "dagli", "marques", "shirts", "trousers")
CONTROLS = ("fu", "jakobs1", "jakobs2", "shapes0", "shapes1")
GARDEYN = ("gardeyn0", "gardeyn1", "gardeyn2", "gardeyn3", "gardeyn6", "gardeyn8", "gardeyn9")
LARGE = ("shirts-x10",)
DEFAULT_SET = GARMENT + CONTROLS
# Names that stand for several instances on the command line; `comparison` is the side-by-side
# set the density goal is measured on (the garment instances, long real curves, a large marker).
SETS = {"garment": GARMENT, "controls": CONTROLS, "gardeyn": GARDEYN, "large": LARGE,
        "comparison": GARMENT + GARDEYN + LARGE}


class BenchmarkError(ValueError):
    """A problem with what the user asked the benchmark to run (exit 2)."""


def expand(names) -> list[Path]:
    """The JSON files of instance names, set names (`SETS`) and paths, in order, each once."""
    paths = []
    for name in names or DEFAULT_SET:
        for path in (resolve(n) for n in SETS.get(name, (name,))):
            if path not in paths:
                paths.append(path)
    return paths


def resolve(name_or_path: str) -> Path:
    """The JSON file of a bundled instance name (``trousers``) or of a path to one."""
    path = Path(name_or_path)
    if path.suffix == ".json":
        if not path.is_file():
            raise BenchmarkError(f"{path}: no such instance file")
        return path
    bundled = INSTANCE_DIR / f"{name_or_path}.json"
    if not bundled.is_file():
        bundled = sorted(p.stem for p in INSTANCE_DIR.glob("*.json") if p.stem != "best_known")
        raise BenchmarkError(f"{name_or_path}: not a bundled instance ({', '.join(bundled)}), "
                             f"a set ({', '.join(SETS)}) nor a .json file")
    return bundled


@cache
def _best_known() -> dict:
    return json.loads((INSTANCE_DIR / "best_known.json").read_text(encoding="utf-8"))["instances"]


def best_known_density(name: str) -> float | None:
    """The best-known density (a fraction) of a bundled instance, or None for others."""
    entry = _best_known().get(name)
    return None if entry is None else float(entry["best_density"])
