"""Grade the bundled example tee into four sizes, for the example order and the planning benchmark.

Run ``python -m planning.examples.make_tee_graded`` to regenerate ``tee-graded.dxf``. The pieces are
the bundled tee's own outlines (`patterns.examples.make_tee`), scaled per size about the drawing's
origin: 5 % wider and 3 % longer per size step, M being the drawn size. It is synthetic, like the tee.
"""

from __future__ import annotations

from pathlib import Path

import ezdxf

from patterns.examples.make_tee import PIECES

HERE = Path(__file__).resolve().parent
SIZES = {"S": -1, "M": 0, "L": 1, "XL": 2}  # size -> grade steps from the drawn M
WIDTH_STEP, LENGTH_STEP = 0.05, 0.03  # across the grain (drawing x), along it (drawing y)


def write(path=HERE / "tee-graded.dxf"):
    """Write one BLOCK per piece per size (AAMA style), boundary on layer 1, grain on layer 7."""
    doc = ezdxf.new("R2000")
    doc.header["$INSUNITS"] = 4  # millimetres
    msp = doc.modelspace()
    msp.add_text("Style Name: TEE-GRADED", dxfattribs={"layer": "1", "height": 5})
    msp.add_text("Units: METRIC", dxfattribs={"layer": "1", "height": 5})
    for size, steps in SIZES.items():
        fx, fy = 1 + WIDTH_STEP * steps, 1 + LENGTH_STEP * steps
        for name, outline, quantity, grain_start, grain_end in PIECES:
            scale = (lambda p: (p[0] * fx, p[1] * fy)) if name != "NECKBAND" else (lambda p: (p[0] * fx, p[1]))
            block = doc.blocks.new(name=f"{name}-{size}")
            block.add_lwpolyline([scale(p) for p in outline], close=True, dxfattribs={"layer": "1"})
            block.add_line(scale(grain_start), scale(grain_end), dxfattribs={"layer": "7"})
            texts = (f"Piece Name: {name}", f"Size: {size}", f"Quantity: {quantity}", "Category: SHELL")
            x, y = scale(grain_start)
            for k, text in enumerate(texts):
                block.add_text(text, dxfattribs={"layer": "1", "height": 5, "insert": (x, y + 20 + 8 * k)})
            msp.add_blockref(f"{name}-{size}", (0, 0))
    doc.saveas(path)
    return path


if __name__ == "__main__":
    print(write())
