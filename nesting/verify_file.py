"""``nest verify``: check a marker.json from disk, trusting nothing the engine computed.

It checks the geometry the file states (inside the fabric, no overlaps, the stated length and
utilization) and, from the file's ``rules`` alone, every rule: spacing, margins, table length,
zones, each polygon being its piece's outline under the stated rotation and mirroring, the
rotation and flip permissions, and the quantities per size. With the JSON instance it also
checks that every placed polygon is its item under an allowed rotation and every demand is met.
"""

from __future__ import annotations

import math
from collections import Counter

import shapely
from shapely import affinity

from nesting.config import Tolerances
from nesting.markerfile import load
from nesting.model import Fabric, oriented
from nesting.verify import layout_violations, rule_violations


def verify_file(path, instance=None, tolerances: Tolerances = Tolerances()) -> list[str]:
    """Every problem found in the marker file (empty when it is valid)."""
    marker = load(path)
    document, polygons = marker.document, marker.polygons
    problems = []
    labels = [f"piece {e.get('id')} copy {e.get('copy')}" for e in document["pieces"]]
    for label, polygon in zip(labels, polygons):
        if not polygon.is_valid or polygon.area <= 0:
            problems.append(f"{label}: invalid polygon")
    if problems:
        return problems
    rules = marker.rules
    if rules is None:
        problems += layout_violations(polygons, labels, Fabric(marker.width), marker.length, 0.0, tolerances)
    else:
        problems += layout_violations(polygons, labels, rules.fabric, marker.length, rules.spacing, tolerances)
        problems += _rule_violations(document, polygons, labels, rules)
    area = sum(p.area for p in polygons)
    used = max((p.bounds[2] for p in polygons), default=0.0)
    if used > marker.length * (1 + 1e-9) + 1e-12:
        problems.append(f"pieces reach x = {used!r}, beyond the stated length {marker.length!r}")
    utilization = area / (marker.width * marker.length) if marker.length > 0 else 0.0
    if not math.isclose(utilization, float(document["utilization"]), rel_tol=1e-6):
        problems.append(f"stated utilization {document['utilization']!r} but the pieces give {utilization!r}")
    if instance is not None:
        problems += _instance_violations(document, polygons, instance, tolerances)
    return problems


def _rule_violations(document, polygons, labels, rules) -> list[str]:
    """The stated rules: each polygon its piece's outline under an allowed orientation, quantities."""
    problems, placed = [], []
    for label, entry, polygon in zip(labels, document["pieces"], polygons):
        stated = rules.pieces.get(str(entry.get("id")))
        if stated is None:
            problems.append(f"{label}: no piece with this id in rules.pieces")
            continue
        try:
            rotation, mirrored, copy = float(entry["rotation"]), bool(entry["mirrored"]), int(entry["copy"])
            x, y = float(entry["x"]), float(entry["y"])
        except (KeyError, TypeError, ValueError):
            problems.append(f"{label}: rotation, mirrored, copy, x or y missing or unreadable")
            continue
        placed.append((label, stated, copy, rotation, mirrored))
        expected = affinity.translate(oriented(rules.outlines[stated.id], rotation, mirrored), x, y)
        if not _same_shape(expected, polygon):
            problems.append(f"{label}: polygon is not its outline under rotation {rotation:g}, "
                            f"mirrored={mirrored}, at ({x:g}, {y:g})")
    if rules.orientation is not None:
        for stated in rules.pieces.values():
            problems += _resolution_violations(f"piece {stated.id}", stated, rules.orientation)
    problems += rule_violations(placed, list(rules.pieces.values()), rules.sizes)
    return problems


def _resolution_violations(label, stated, orientation) -> list[str]:
    """The piece's stated rule must be what the orientation rules give it."""
    rule = orientation.resolve(stated.name, stated.id, stated.category)
    problems = []
    if rule.rotations is not None and (rule.rotations, rule.tilt or 0.0) != (stated.rotations, stated.tilt):
        problems.append(f"{label}: rules.orientation gives rotations {rule.rotations} +/-{rule.tilt or 0:g}, "
                        f"but the piece states {stated.rotations} +/-{stated.tilt:g}")
    if rule.flip is not None and rule.flip != stated.flip:
        problems.append(f"{label}: rules.orientation gives flip={rule.flip}, but the piece states flip={stated.flip}")
    return problems


def _same_shape(expected, polygon) -> bool:
    size = math.dist(expected.bounds[:2], expected.bounds[2:])
    return (shapely.hausdorff_distance(expected, polygon) <= 1e-6 * size
            and math.isclose(expected.area, polygon.area, rel_tol=1e-9))


def _instance_violations(document, polygons, instance_path, tolerances) -> list[str]:
    from patterns.instances import load_instance

    instance = load_instance(instance_path)
    problems = []
    if not math.isclose(instance.width, float(document["width"]), rel_tol=1e-12):
        problems.append(f"width {document['width']!r} differs from the instance's {instance.width!r}")
    items = {piece.id: piece for piece in instance.pieces}
    counts = Counter()
    for entry, polygon in zip(document["pieces"], polygons):
        label = f"piece {entry.get('id')} copy {entry.get('copy')}"
        item = items.get(str(entry.get("id")))
        if item is None:
            problems.append(f"{label}: no item with this id in the instance")
            continue
        counts[item.id] += 1
        if not _is_allowed_image(item, polygon, float(entry.get("rotation", 0.0)), bool(entry.get("mirrored")), tolerances):
            problems.append(f"{label}: polygon is not the item under rotation {entry.get('rotation')} (allowed {list(item.rotations)})")
    for item in instance.pieces:
        if counts[item.id] != item.demand:
            problems.append(f"item {item.id}: {counts[item.id]} placed, demand {item.demand}")
    return problems


def _is_allowed_image(item, polygon, rotation, mirrored, tolerances) -> bool:
    """Is ``polygon`` the item turned by an allowed rotation (and translated)?"""
    if mirrored and not item.flip:
        return False
    if not any(abs((rotation - r + 180.0) % 360.0 - 180.0) <= 1e-6 for r in item.rotations_for(mirrored)):
        return False
    shape = affinity.scale(item.outline, -1, 1, origin=(0, 0)) if mirrored else item.outline
    shape = affinity.rotate(shape, rotation, origin=(0, 0))
    dx = polygon.bounds[0] - shape.bounds[0]
    dy = polygon.bounds[1] - shape.bounds[1]
    moved = affinity.translate(shape, dx, dy)
    size = math.dist(item.outline.bounds[:2], item.outline.bounds[2:])
    return shapely.hausdorff_distance(moved, polygon) <= 1e-6 * size and math.isclose(moved.area, polygon.area, rel_tol=1e-9)
