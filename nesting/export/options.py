"""Per-format export options, with the defaults a cutting room can use unchanged."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nesting.errors import SpecError

PLT_ROTATIONS = (0, 90, 180, 270)
PAGES_MM = {"A0": (1189.0, 841.0), "A1": (841.0, 594.0), "A2": (594.0, 420.0), "A3": (420.0, 297.0), "A4": (297.0, 210.0)}
_ROLL = re.compile(r"^roll(\d{2,5})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """How the cut files and drawings are written.

    dxf_exploded : write every piece in model space instead of one BLOCK per piece
        (for laser/router software and viewers that ignore blocks).
    plt_rotation : degrees CCW the marker is turned on the plotter. 0: length along the
        plotter's x, the marker's bottom-left corner at the origin; 90: fabric width along x,
        top-left corner at the origin; 180: top-right corner; 270: width along x, bottom-right.
    plt_cut_pen, plt_draw_pen : pen (tool) numbers; ``plt_draw_pen=None`` writes cut lines only.
    pdf_page : ``A0``..``A4`` (landscape) or ``rollNNN`` (a plotter roll NNN mm wide).
    pdf_tiled : print at 1:1 over as many pages as needed instead of scaling to one page.
    """

    dxf_exploded: bool = False
    plt_rotation: int = 0
    plt_cut_pen: int = 1
    plt_draw_pen: int | None = 2
    pdf_page: str = "A3"
    pdf_tiled: bool = False

    def __post_init__(self):
        if self.plt_rotation not in PLT_ROTATIONS:
            raise SpecError(f"--plt-rotation must be one of {', '.join(map(str, PLT_ROTATIONS))}, got {self.plt_rotation}")
        for name, pen in (("--plt-cut-pen", self.plt_cut_pen), ("--plt-draw-pen", self.plt_draw_pen)):
            if pen is not None and not 1 <= pen <= 99:
                raise SpecError(f"{name} must be a pen number from 1 to 99, got {pen}")
        if self.plt_draw_pen == self.plt_cut_pen:
            raise SpecError(f"--plt-draw-pen {self.plt_draw_pen} is the cut pen: drawn marks would be cut")
        self.pdf_page_mm()

    def pdf_page_mm(self) -> tuple[float | None, float]:
        """(along, across) the page in mm, landscape; ``along`` is None for a roll (no fixed length)."""
        if self.pdf_page.upper() in PAGES_MM:
            return PAGES_MM[self.pdf_page.upper()]
        roll = _ROLL.match(self.pdf_page)
        if roll is None:
            raise SpecError(f"--pdf-page must be one of {', '.join(PAGES_MM)} or rollNNN (roll width in mm), got {self.pdf_page!r}")
        return None, float(roll.group(1))
