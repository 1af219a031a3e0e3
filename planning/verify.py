"""`nest verify plan.json`: re-check a cut plan from the files alone.

Every marker file verifies (`nesting.verify_file`) and is the one the plan names (SHA-256, size
ratio, length, utilization); plies x ratios add up to what the plan says was cut; what was cut
meets the order within the over/undercut; each lay's plies are within the ply limits and each
marker within the table; fabric totals add up; no baseline is better than the plan and the
lower bound is below it.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from nesting.errors import NestingError
from nesting.markerfile import load as load_marker
from nesting.verify_file import verify_file
from planning.document import SCHEMA, per_colour

REL = 1e-6


def is_plan(path) -> bool:
    """Whether ``path`` is a ``plan/1`` file (anything else is left to the marker verifier)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle).get("schema") == SCHEMA
    except (OSError, ValueError, AttributeError):
        return False


def verify_plan(path) -> list[str]:
    """Every violation, one line each (empty: the plan verifies)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [f"cannot read the plan: {exc}"]
    try:
        return _check(document, path.parent)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"not a readable {SCHEMA} file: {type(exc).__name__}: {exc}"]


def _check(document: dict, base: Path) -> list[str]:
    if document.get("schema") != SCHEMA:
        return [f"schema is {document.get('schema')!r}, not {SCHEMA}"]
    problems: list[str] = []
    limits = document["limits"]
    checked: dict[str, list[str]] = {}
    cut = _lays(document["lays"], "lays", base, limits, checked, problems)
    totals = document["totals"]
    colours = document.get("colours") or [""]
    ordered = {c: per_colour(document["order"]).get(c, {}) if c else document["order"] for c in colours}
    stated = {c: (totals["cut"].get(c, {}) if c else totals["cut"]) for c in colours}
    for colour in colours:
        where = f"colour {colour} " if colour else ""
        for size in sorted(set(ordered[colour]) | set(cut.get(colour, {})) | set(stated[colour])):
            made, said = cut.get(colour, {}).get(size, 0), stated[colour].get(size, 0)
            if made != said:
                problems.append(f"totals.cut: {where}size {size}: the lays cut {made}, the plan says {said}")
            d = int(ordered[colour].get(size, 0))
            lo = math.ceil(d * (1 - float(limits["undercut"])) - 1e-9)
            hi = math.floor(d * (1 + float(limits["overcut"])) + 1e-9)
            if not lo <= made <= hi:
                problems.append(f"order: {where}size {size}: {made} cut, the order allows {lo}..{hi} (ordered {d})")
    fabric = sum(float(lay["fabric_m"]) for lay in document["lays"])
    if not _close(fabric, totals["fabric_m"]):
        problems.append(f"totals.fabric_m: the lays add up to {fabric:.6f} m, the plan says {totals['fabric_m']}")
    if len(document["lays"]) != totals["lays"]:
        problems.append(f"totals.lays: {len(document['lays'])} lays, the plan says {totals['lays']}")
    if len({lay["marker"] for lay in document["lays"]}) != totals["markers"]:
        problems.append("totals.markers: does not match the distinct markers of the lays")
    for name, baseline in document.get("baselines", {}).items():
        if baseline.get("fabric_m") is None:
            continue
        _lays(baseline["lays"], f"baselines.{name}", base, limits, checked, problems, orders=False)
        if not _close(sum(float(lay["fabric_m"]) for lay in baseline["lays"]), baseline["fabric_m"]):
            problems.append(f"baselines.{name}.fabric_m: does not match its lays")
        if totals["fabric_m"] > baseline["fabric_m"] * (1 + REL):
            problems.append(f"totals.fabric_m: {totals['fabric_m']:.3f} m, more than the {name} baseline's "
                            f"{baseline['fabric_m']:.3f} m")
    lower = totals.get("lower_bound_m")
    if lower is not None and lower > totals["fabric_m"] * (1 + REL):
        problems.append(f"totals.lower_bound_m: {lower:.3f} m is above the plan's fabric {totals['fabric_m']:.3f} m")
    return problems


def _lays(lays, where, base, limits, checked, problems, orders=True) -> dict:
    """Check each lay and its marker file; return what the lays cut, ``{colour: {size: n}}``."""
    e = float(limits["end_allowance"])
    cut: dict[str, dict[str, int]] = {}
    for k, lay in enumerate(lays):
        here = f"{where}[{k}]"
        plies = per_colour(lay["plies"])
        if any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in plies.values()):
            problems.append(f"{here}.plies: must be whole numbers >= 0, got {lay['plies']!r}")
            continue
        total = sum(plies.values())
        if not limits["min_plies"] <= total <= limits["max_plies"]:
            problems.append(f"{here}.plies: {total} plies, the limits allow {limits['min_plies']}..{limits['max_plies']}")
        if float(lay["length"]) > float(limits["table_length"]) * (1 + 1e-9):
            problems.append(f"{here}.length: {lay['length']:.1f} mm, longer than the table's {limits['table_length']:g}")
        if not _close(total * (float(lay["length"]) + e) / 1000, lay["fabric_m"]):
            problems.append(f"{here}.fabric_m: {lay['fabric_m']} m is not plies x (length + end allowance)")
        for colour, n in plies.items():
            row = cut.setdefault(colour, {})
            for size, count in lay["ratio"].items():
                row[size] = row.get(size, 0) + int(count) * n
        problems += [f"{here}: {p}" for p in _marker(lay, base, checked)]
    return cut


def _marker(lay: dict, base: Path, checked: dict) -> list[str]:
    """The lay's marker file: it verifies, and it is the marker the lay says (digest, ratio, length)."""
    path = base / lay["marker"]
    key = str(path)
    if key not in checked:
        try:
            checked[key] = [f"marker {lay['marker']}: {p}" for p in verify_file(path)]
        except (OSError, NestingError) as exc:
            checked[key] = [f"marker {lay['marker']}: {exc}"]
    problems = list(checked[key])
    if problems:
        return problems
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if lay.get("marker_sha256") and digest != lay["marker_sha256"]:
        problems.append(f"marker {lay['marker']}: the file is not the one the plan was made with (SHA-256 differs)")
    marker = load_marker(path).document
    ratio = (marker.get("rules") or {}).get("sizes") or {}
    if {s: int(n) for s, n in ratio.items()} != {s: int(n) for s, n in lay["ratio"].items()}:
        problems.append(f"marker {lay['marker']}: its size ratio {ratio} is not the lay's {lay['ratio']}")
    if not _close(float(marker["length"]), lay["length"]):
        problems.append(f"marker {lay['marker']}: length {marker['length']:.3f}, the lay says {lay['length']:.3f}")
    return problems


def _close(a, b) -> bool:
    return abs(float(a) - float(b)) <= REL * max(abs(float(a)), abs(float(b)), 1.0)
