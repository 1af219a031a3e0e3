"""AAMA / ASTM D6673 layer numbers, and the layer names some writers use instead."""

from __future__ import annotations

import re

BOUNDARY = 1
TURN_POINTS, CURVE_POINTS = 2, 3
NOTCH = 4
GRADE_REFERENCE = 5
MIRROR = 6
GRAIN = 7
INTERNAL = 8
STRIPE, PLAID = 9, 10
CUTOUT = 11
DRILL = 13
SEW = 14
ANNOTATION_TEXT = 15
TYPED_NOTCHES = (80, 81, 82, 83)  # T, castle, check and U notches
BOUNDARY_CURVE = 84  # ASTM quality-validation curve of layer 1
VALIDATION_CURVES = (85, 86, 87)  # of layers 8, 11 and 14: not used

# Older "DXF-AAMA" writers name layers; Optitex lets users remap them (see ImportOptions.layer_map).
NAMED_LAYERS = {
    "CUT": BOUNDARY, "OUTLINE": BOUNDARY, "BOUNDARY": BOUNDARY, "CUTLINE": BOUNDARY,
    "NOTCH": NOTCH, "NOTCHES": NOTCH, "MIRROR": MIRROR, "FOLD": MIRROR,
    "GRAIN": GRAIN, "GRAINLINE": GRAIN, "DRAW": INTERNAL, "INK": INTERNAL, "INTERNAL": INTERNAL,
    "INTCUT": CUTOUT, "CUTOUT": CUTOUT, "DRILL": DRILL, "SEW": SEW, "SEWLINE": SEW, "STITCH": SEW,
}
_NUMBERED = re.compile(r"^(?:L|LAYER)?\s*(\d{1,3})$")


def layer_number(name: str, extra: dict | None = None) -> int | None:
    """The AAMA layer number of a DXF layer name (``"1"``, ``"L1"``, ``"CUT"``...), or None."""
    key = name.strip().upper()
    if extra:
        for alias, number in extra.items():
            if alias.strip().upper() == key:
                return int(number)
    match = _NUMBERED.match(key)
    if match:
        return int(match.group(1))
    return NAMED_LAYERS.get(key)
