"""``nest verify``: check a marker.json from disk, trusting nothing the engine computed.

The file is read for form (`nesting.markerfile.load`), then held by the same verifier as a
live marker (`nesting.verify.check`) to the rules the file states: every value of those rules
checked first (a negative margin would move the usable fabric off the cloth), then each polygon
its piece's outline under the stated rotation and mirroring, the orientation and quantity
rules, the fabric, zones, overlaps and spacing. The stated utilization must be the pieces'.
With the JSON instance it also checks that every placed polygon is its item under an allowed
rotation and every demand is met.
"""

from __future__ import annotations

import math
from collections import Counter

from shapely import affinity

from nesting.config import Tolerances
from nesting.fabric import Fabric
from nesting.markerfile import MarkerFile, load
from nesting.model import MarkerRules, near_rotation, oriented
from nesting.verify import check, same_outline
from patterns.instances import load_instance


def verify_file(path, instance=None, tolerances: Tolerances = Tolerances()) -> list[str]:
    """Every problem found in the marker file (empty when it is valid)."""
    marker = load(path)
    rules = marker.rules if marker.rules is not None else MarkerRules(Fabric(marker.width))
    problems = [f"{p.label}: invalid polygon" for p in marker.placed if not _sound(p.polygon)]
    problems += [f"rules.pieces.{r.id}.outline: invalid polygon" for r in rules.pieces or () if not _sound(r.outline)]
    if problems:
        return problems
    problems = check(rules, marker.placed, marker.length, tolerances)
    area = sum(p.polygon.area for p in marker.placed)
    utilization = area / (marker.width * marker.length) if marker.length > 0 else 0.0
    stated = marker.document["utilization"]
    if not math.isclose(utilization, stated, rel_tol=1e-6):
        problems.append(f"stated utilization {stated!r} but the pieces give {utilization!r}")
    if instance is not None and not problems:
        problems += _instance_violations(marker, instance, tolerances)
    return problems


def _instance_violations(marker: MarkerFile, instance_path, tolerances: Tolerances) -> list[str]:
    instance = load_instance(instance_path)
    problems = []
    if not math.isclose(instance.width, marker.width, rel_tol=1e-12):
        problems.append(f"width {marker.width!r} differs from the instance's {instance.width!r}")
    items = {piece.id: piece for piece in instance.pieces}
    counts = Counter()
    for placed in marker.placed:
        item = items.get(placed.id)
        if item is None:
            problems.append(f"{placed.label}: no item with this id in the instance")
            continue
        counts[item.id] += 1
        if not _is_allowed_image(item, placed, tolerances):
            problems.append(f"{placed.label}: polygon is not the item under rotation {placed.rotation:g} "
                            f"(allowed {list(item.rotations)})")
    for item in instance.pieces:
        if counts[item.id] != item.demand:
            problems.append(f"item {item.id}: {counts[item.id]} placed, demand {item.demand}")
    return problems


def _is_allowed_image(item, placed, tolerances: Tolerances) -> bool:
    """Is the placed polygon the item turned by an allowed rotation (and translated)?"""
    if placed.mirrored and not item.flip:
        return False
    if not near_rotation(placed.rotation, item.rotations_for(placed.mirrored), tolerances.verify_angle):
        return False
    shape = oriented(item.outline, placed.rotation, placed.mirrored)
    dx = placed.polygon.bounds[0] - shape.bounds[0]
    dy = placed.polygon.bounds[1] - shape.bounds[1]
    return same_outline(affinity.translate(shape, dx, dy), placed.polygon, tolerances.verify_outline)


def _sound(polygon) -> bool:
    return polygon.is_valid and polygon.area > 0
