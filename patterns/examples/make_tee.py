"""Draw the bundled example pattern, a simple T-shirt, as an AAMA-style DXF.

Run ``python -m patterns.examples.make_tee`` to regenerate ``tee.dxf``. The pattern is our own
(synthetic): front and back bodies cut on the fold are drawn unfolded, a sleeve cut as a
right/left pair, and a neckband. One size (M), metric, grain lines along each piece's length.
"""

from __future__ import annotations

import math
from pathlib import Path

import ezdxf

from patterns.marker_dxf import save_aama_r12

HERE = Path(__file__).resolve().parent


def _curve(p0, p1, bulge, steps=12):
    """Points from p0 to p1 bowed sideways by ``bulge`` mm (a smooth armhole/neck curve)."""
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy)
    nx, ny = -dy / length, dx / length
    return [
        (x0 + dx * t + nx * bulge * math.sin(math.pi * t), y0 + dy * t + ny * bulge * math.sin(math.pi * t))
        for t in (k / steps for k in range(1, steps))
    ]


def _body(neck_depth):
    """Half a body (centre line on x = 0), mirrored into a whole front or back, in mm.

    The grain runs along y here (body length), as pattern makers draw it.
    """
    half = [(0.0, 0.0), (260.0, 0.0), (265.0, 470.0)]
    half += _curve((265.0, 470.0), (215.0, 690.0), 35.0)
    half += [(215.0, 690.0), (85.0, 720.0)]
    half += _curve((85.0, 720.0), (0.0, 720.0 - neck_depth), neck_depth * 0.3, 8)
    half += [(0.0, 720.0 - neck_depth)]
    mirrored = [(-x, y) for x, y in reversed(half[1:-1])]
    return half + mirrored


def _sleeve():
    points = [(-230.0, 0.0), (230.0, 0.0), (245.0, 120.0)]
    points += _curve((245.0, 120.0), (0.0, 250.0), 40.0)
    points += [(0.0, 250.0)]
    points += _curve((0.0, 250.0), (-245.0, 120.0), 30.0)
    points += [(-245.0, 120.0)]
    return points


PIECES = [
    ("FRONT", _body(95.0), "1", (0.0, 80.0), (0.0, 620.0)),
    ("BACK", _body(25.0), "1", (0.0, 80.0), (0.0, 620.0)),
    ("SLEEVE", _sleeve(), "1,1", (0.0, 40.0), (0.0, 200.0)),
    ("NECKBAND", [(0.0, 0.0), (520.0, 0.0), (520.0, 50.0), (0.0, 50.0)], "1", (60.0, 25.0), (460.0, 25.0)),
]


def write(path=HERE / "tee.dxf"):
    """Write the tee as one BLOCK per piece, boundary on layer 1, grain on layer 7: an R12 file
    without layout blocks, the form AccuMark writes and third-party AAMA readers take."""
    doc = ezdxf.new("R12")
    msp = doc.modelspace()
    msp.add_text("Style Name: TEE-DEMO", dxfattribs={"layer": "1", "height": 5})
    msp.add_text("Units: METRIC", dxfattribs={"layer": "1", "height": 5})
    msp.add_text("Sample Size: M", dxfattribs={"layer": "1", "height": 5})
    for name, outline, quantity, grain_start, grain_end in PIECES:
        block = doc.blocks.new(name=f"{name}-M")
        block.add_polyline2d(outline, close=True, dxfattribs={"layer": "1"})
        block.add_line(grain_start, grain_end, dxfattribs={"layer": "7"})
        for k, text in enumerate((f"Piece Name: {name}", "Size: M", f"Quantity: {quantity}", "Category: SHELL")):
            block.add_text(text, dxfattribs={"layer": "1", "height": 5, "insert": (grain_start[0], grain_start[1] + 20 + 8 * k)})
        msp.add_blockref(f"{name}-M", (0, 0))
    save_aama_r12(doc, path)
    return path


if __name__ == "__main__":
    print(write())
