"""Per-format export options, with the defaults a cutting room can use unchanged."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nesting.errors import SpecError

PLT_ROTATIONS = (0, 90, 180, 270)
PAGES_MM = {"A0": (1189.0, 841.0), "A1": (841.0, 594.0), "A2": (594.0, 420.0), "A3": (420.0, 297.0), "A4": (297.0, 210.0)}
_ROLL = re.compile(r"^roll(\d{2,5})$", re.IGNORECASE)
MAX_TILED_PAGES = 500  # a 1:1 print beyond this many sheets is a plotter-roll job, not a tiled one


@dataclass(frozen=True, slots=True)
class PltTools:
    """The pen (tool) number of each kind of PLT output; 0 leaves that kind out.

    The defaults are the usual numbering of cutting plotters: 1 the knife, 2 the pen, 3 the
    notcher, 4 the drill or punch. Marks go to their tool before anything is cut (draw, then
    notch, then drill), so a kind that shares the draw pen is simply drawn.
    """

    cut: int = 1
    draw: int = 2
    notch: int = 3
    drill: int = 4

    KINDS = ("cut", "draw", "notch", "drill")

    def __post_init__(self):
        for kind in self.KINDS:
            tool = getattr(self, kind)
            if isinstance(tool, bool) or not isinstance(tool, int) or not (1 if kind == "cut" else 0) <= tool <= 99:
                low = 1 if kind == "cut" else 0
                raise SpecError(f"--plt-tools: {kind} must be a tool number from {low} to 99, got {tool!r}")
        for kind in self.KINDS[1:]:
            if getattr(self, kind) == self.cut:
                raise SpecError(f"--plt-tools: {kind}={self.cut} is the cut tool: those marks would be cut")

    @classmethod
    def parse(cls, value, name: str = "--plt-tools") -> PltTools:
        """``"cut=1,draw=2"`` (or a TOML table of the same); kinds not named keep their default."""
        if isinstance(value, str):
            pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs) or not pairs:
                raise SpecError(f"{name}: expected KIND=N pairs such as cut=1,draw=2,notch=3,drill=4, got {value!r}")
            table = {}
            for kind, number in pairs:
                try:
                    table[kind.strip().lower()] = int(number)
                except ValueError:
                    raise SpecError(f"{name}: {kind.strip()}: not a tool number: {number.strip()!r}") from None
        elif isinstance(value, dict):
            table = dict(value)
        else:
            raise SpecError(f"{name}: must be KIND=N pairs or a table, got {value!r}")
        unknown = sorted(set(table) - set(cls.KINDS))
        if unknown:
            raise SpecError(f"{name}: unknown kind {', '.join(unknown)}; kinds are {', '.join(cls.KINDS)}")
        try:
            return cls(**table)
        except SpecError as exc:
            raise SpecError(str(exc).replace("--plt-tools", name, 1)) from None

    def __str__(self) -> str:
        return ",".join(f"{kind}={getattr(self, kind)}" for kind in self.KINDS)


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """How the cut files and drawings are written.

    dxf_exploded : write every piece in model space instead of one BLOCK per piece
        (for laser/router software and viewers that ignore blocks).
    plt_rotation : degrees CCW the marker is turned on the plotter. 0: length along the
        plotter's x, the marker's bottom-left corner at the origin; 90: fabric width along x,
        top-left corner at the origin; 180: top-right corner; 270: width along x, bottom-right.
    plt_tools : the pen (tool) number of each kind of output (`PltTools`).
    pdf_page : ``A0``..``A4`` (landscape) or ``rollNNN`` (a plotter roll NNN mm wide).
    pdf_tiled : print at 1:1 over as many pages as needed instead of scaling to one page.
    """

    dxf_exploded: bool = False
    plt_rotation: int = 0
    plt_tools: PltTools = PltTools()
    pdf_page: str = "A3"
    pdf_tiled: bool = False

    def __post_init__(self):
        if self.plt_rotation not in PLT_ROTATIONS:
            raise SpecError(f"--plt-rotation must be one of {', '.join(map(str, PLT_ROTATIONS))}, got {self.plt_rotation}")
        self.pdf_page_mm()

    @classmethod
    def from_spec(cls, spec) -> ExportOptions:
        """The options a marker spec sets (its ``[plt] tools``), the defaults for the rest."""
        tools = getattr(spec, "plt_tools", None)
        return cls(plt_tools=tools) if tools is not None else cls()

    def pdf_page_mm(self) -> tuple[float | None, float]:
        """(along, across) the page in mm, landscape; ``along`` is None for a roll (no fixed length)."""
        if self.pdf_page.upper() in PAGES_MM:
            return PAGES_MM[self.pdf_page.upper()]
        roll = _ROLL.match(self.pdf_page)
        if roll is None:
            raise SpecError(f"--pdf-page must be one of {', '.join(PAGES_MM)} or rollNNN (roll width in mm), got {self.pdf_page!r}")
        return None, float(roll.group(1))
