"""Hand edits of a verified marker: move, turn within the allowed rotations, flip where allowed.

The page sends the whole edited list of placements (it keeps the undo history); everything
geometric is answered here by the engine's model and its verifier: the placed outlines, the
length, and which pieces break which rule (the same check that gates every output).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from nesting.markerfile import to_dict
from nesting.model import Marker, Placement, placed_polygon
from nesting.verify import violations

MAX_REPORTED = 200  # violations listed for one edit


class EditError(ValueError):
    """An edit the marker's rules do not allow, or a malformed one (one readable line)."""


class MarkerRefused(ValueError):
    """An edited marker asked to be kept while the verifier finds violations (``findings`` from `check`)."""

    def __init__(self, message: str, findings: dict):
        super().__init__(message)
        self.findings = findings


def placements_from(base: Marker, entries) -> tuple[Placement, ...]:
    """``base``'s placements (same pieces and copies, same order) at the page's positions and orientations."""
    if not isinstance(entries, list) or len(entries) != len(base.placements):
        raise EditError(f"placements: expected a list of {len(base.placements)} entries, one per placed piece")
    placements = []
    for k, (placement, entry) in enumerate(zip(base.placements, entries)):
        try:
            x, y, rotation = (float(entry[key]) for key in ("x", "y", "rotation"))
            mirrored = entry["mirrored"]
        except (KeyError, TypeError, ValueError):
            raise EditError(f"placements[{k}]: needs numbers x, y, rotation and mirrored true or false") from None
        if not all(map(math.isfinite, (x, y, rotation))) or not isinstance(mirrored, bool):
            raise EditError(f"placements[{k}]: x, y and rotation must be finite numbers, mirrored true or false")
        placements.append(Placement(placement.piece, placement.copy, rotation, mirrored, x, y))
    return tuple(placements)


def edited(base: Marker, placements) -> Marker:
    """The marker with these placements; its length is the extent they use, as the engine measures it."""
    extent = max(placed_polygon(base.pieces[p.piece], p).bounds[2] for p in placements)
    return replace(base, placements=tuple(placements), length=extent + base.fabric.margins.end,
                   stats={"edited": True})


def check(marker: Marker) -> dict:
    """The verifier's findings on a marker, and for each placed piece whether a finding names it."""
    problems = violations(marker, limit=MAX_REPORTED)
    labels = [f"piece {marker.pieces[p.piece].id} copy {p.copy}" for p in marker.placements]
    named = [re.compile(re.escape(label) + r"(?!\d)") for label in labels]
    involved = [k for k, pattern in enumerate(named) if any(pattern.search(line) for line in problems)]
    return {"violations": problems, "involved": involved, "valid": not problems}


def turned(marker: Marker, index: int, action: str) -> tuple[Placement, ...]:
    """The placements with piece ``index`` turned to its next allowed rotation (``turn``) or
    mirrored (``flip``, where its rule allows), about the centre of its bounding box."""
    if not 0 <= index < len(marker.placements):
        raise EditError(f"index: no placed piece #{index}")
    placement = marker.placements[index]
    piece = marker.pieces[placement.piece]
    allowed = sorted(piece.rotations_for(placement.mirrored))
    current = min(range(len(allowed)), key=lambda k: abs((allowed[k] - placement.rotation + 180) % 360 - 180))
    if action == "turn":
        mirrored, rotation = placement.mirrored, allowed[(current + 1) % len(allowed)]
    elif action == "flip":
        if not piece.flip:
            raise EditError(f"piece {piece.id} copy {placement.copy} may not be mirrored: its rule does not allow flipping")
        mirrored = not placement.mirrored
        rotation = sorted(piece.rotations_for(mirrored))[current]
    else:
        raise EditError(f"action: {action!r} is neither turn nor flip")
    before = placed_polygon(piece, placement).bounds
    moved = replace(placement, rotation=rotation, mirrored=mirrored, x=0.0, y=0.0)
    after = placed_polygon(piece, moved).bounds
    moved = replace(moved, x=(before[0] + before[2] - after[0] - after[2]) / 2,
                    y=(before[1] + before[3] - after[1] - after[3]) / 2)
    return marker.placements[:index] + (moved,) + marker.placements[index + 1:]


def view(marker: Marker) -> dict:
    """What the page draws: the marker/1 document's placed outlines, with what each piece may do."""
    document = to_dict(marker)
    for k, (entry, placement) in enumerate(zip(document["pieces"], marker.placements)):
        piece = marker.pieces[placement.piece]
        entry.update(index=k, may_flip=piece.flip, turns=len(piece.rotations_for(placement.mirrored)))
    margins = marker.fabric.margins
    document["margins"] = {"bottom": margins.bottom, "top": margins.top, "start": margins.start, "end": margins.end}
    document["zones"] = [[list(p) for p in zone.exterior.coords[:-1]] for zone in marker.fabric.zones]
    document.pop("rules", None)  # the source outlines: the page needs only what is placed
    return document
