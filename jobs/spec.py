"""The marker specification: what a marker maker sets before nesting, as one frozen object.

A spec names the pattern files, the size ratio, the fabric (width, table length, margins,
clear zones, spread, stripe repeat, shade sections), the spacing between pieces, the shrinkage compensation and the orientation
rules (rotation, tilt, flip; their types and parser are the engine's, `nesting.orientation`) for
the fabric, overridable per category and per piece. It is read from TOML (`load`), and
``nest marker``'s options override it field by field (`jobs.options.with_options`).
Every bad value raises a one-line `SpecError` naming the field and the reason.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from shapely.geometry import Polygon, box

from export.options import PltTools
from nesting.errors import SpecError, shown
from nesting.fabric import SPREADS, Fabric, Margins, Repeat
from nesting.orientation import RuleSet, known_fields, parse_number, parse_rules
from patterns.sizes import MAX_GARMENTS, Sizes

_EDGES = ("bottom", "top", "start", "end")


@dataclass(frozen=True, slots=True)
class MarkerSpec:
    """Everything a marker is nested under, in the pieces' units (mm for DXF).

    ``sizes`` is the `Sizes` asked for (after the pattern files are read, as they name them);
    ``None`` takes what a single-size pattern file offers.
    ``shrinkage`` is (along, across) the grain in percent: pieces are scaled by
    100 / (100 - s) so that the fabric's shrinkage brings them back to size.
    ``width`` may stay ``None`` until a JSON instance supplies it.
    """

    patterns: tuple[str, ...] = ()
    sizes: Sizes | None = None
    width: float | None = None
    max_length: float | None = None
    margins: Margins = field(default_factory=Margins)
    zones: tuple[Polygon, ...] = ()
    fabric_code: str | None = None
    fabric_price: float | None = None
    spacing: float = 0.0
    shrinkage: tuple[float, float] = (0.0, 0.0)
    orientation: RuleSet = field(default_factory=RuleSet)
    plt_tools: PltTools | None = None  # [plt] tools: the cut file's tool per kind of output
    source: str = ""
    spread: str = "open"  # open | face-to-face | folded | tubular (`nesting.spread`)
    repeat: Repeat | None = None  # [fabric.repeat]: the stripe or check repeat
    sections: int | None = None  # shade sections: this many ...
    section_length: float | None = None  # ... or as few as keep each this long at most
    round_to_repeat: bool = False  # the marker length a whole number of repeats along

    @property
    def fabric(self) -> Fabric:
        if self.width is None:
            raise SpecError(f"{self.label('fabric.width')}: is not given (the full fabric width)")
        return Fabric(self.width, self.max_length, self.margins, self.zones, self.spread, self.repeat)

    @property
    def size_ratio(self) -> dict[str, int] | None:
        return None if self.sizes is None else self.sizes.as_dict()

    def with_width(self, width: float, field_name: str = "fabric.width") -> MarkerSpec:
        """The spec on a fabric of this width, checked against its margins and zones."""
        spec = replace(self, width=positive(width, field_name))
        spec.check_fabric()
        return spec

    def check_fabric(self) -> None:
        """Margins and zones must leave room and lie on the fabric."""
        if self.width is None:
            return
        m = self.margins
        if m.bottom + m.top >= self.width:
            raise SpecError(f"{self.label('fabric.margins')}: bottom + top ({m.bottom + m.top:g}) leave no usable width "
                            f"on a fabric {self.width:g} wide")
        if self.max_length is not None and m.start + m.end >= self.max_length:
            raise SpecError(f"{self.label('fabric.margins')}: start + end ({m.start + m.end:g}) leave no usable length "
                            f"on a table {self.max_length:g} long")
        slack = 1e-9 * self.width
        right = self.max_length if self.max_length is not None else math.inf
        for k, zone in enumerate(self.zones):
            x0, y0, x1, y1 = zone.bounds
            if x0 < -slack or y0 < -slack or y1 > self.width + slack or x1 > right + slack:
                extent = f"x {x0:g}..{x1:g}, y {y0:g}..{y1:g}"
                table = f" x 0..{self.max_length:g}," if self.max_length is not None else ""
                raise SpecError(f"{self.label(f'fabric.zones[{k}]')}: lies outside the fabric ({extent};{table} "
                                f"fabric y 0..{self.width:g})")

    def label(self, name: str) -> str:
        """``name`` prefixed by the spec file, for error messages."""
        return f"{self.source}: {name}" if self.source else name


# --- reading TOML ------------------------------------------------------------------------

_TOP_KEYS = {"patterns", "sizes", "spacing", "shrinkage", "fabric", "rules", "plt"}
_FABRIC_KEYS = {"width", "max_length", "margins", "zones", "code", "price", "spread", "repeat", "sections",
                "section_length", "round_to_repeat"}
_REPEAT_KEYS = {"along", "across", "offset_along", "offset_across"}


def load(path) -> MarkerSpec:
    """Read a marker spec TOML file; pattern paths are taken relative to it."""
    path = Path(path)
    return from_dict(read_toml(path, SpecError), source=str(path), base=path.parent)


def read_toml(path: Path, error=SpecError) -> dict:
    """The TOML document of ``path``, or ``error`` in one line naming the file (the spec and the order share it)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not a text file ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise error(f"{path}: not a usable TOML file: {exc}") from None
    except RecursionError:
        raise error(f"{path}: not a usable TOML file: arrays or tables nested too deeply") from None


def from_dict(document: dict, source: str = "", base: Path | None = None) -> MarkerSpec:
    """A spec from the TOML document's data (what `load` parsed)."""
    where = (lambda name: f"{source}: {name}") if source else (lambda name: name)
    known_fields(document, _TOP_KEYS, where, "")
    fabric = document.get("fabric", {})
    if not isinstance(fabric, dict):
        raise SpecError(f"{where('fabric')}: must be a table")
    known_fields(fabric, _FABRIC_KEYS, where, "fabric.")
    patterns = document.get("patterns", [])
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        raise SpecError(f"{where('patterns')}: must be a list of pattern file names")
    if base is not None:
        patterns = [str(base / p) for p in patterns]
    spec = MarkerSpec(
        patterns=tuple(patterns),
        sizes=parse_sizes(document["sizes"], where("sizes")) if "sizes" in document else None,
        width=positive(fabric["width"], where("fabric.width")) if "width" in fabric else None,
        max_length=positive(fabric["max_length"], where("fabric.max_length")) if "max_length" in fabric else None,
        margins=parse_margins(fabric.get("margins", 0.0), where("fabric.margins")),
        zones=tuple(parse_zone(z, where(f"fabric.zones[{k}]"))
                    for k, z in enumerate(_list(fabric.get("zones", []), where("fabric.zones")))),
        fabric_code=fabric_code(fabric["code"], where("fabric.code")) if "code" in fabric else None,
        fabric_price=non_negative(fabric["price"], where("fabric.price")) if "price" in fabric else None,
        spacing=non_negative(document.get("spacing", 0.0), where("spacing")),
        shrinkage=parse_shrinkage(document.get("shrinkage", (0.0, 0.0)), where("shrinkage")),
        orientation=parse_rules(document.get("rules", {}), where),
        plt_tools=_plt_tools(document.get("plt", {}), where),
        source=source,
        spread=parse_spread(fabric.get("spread", "open"), where("fabric.spread")),
        repeat=_repeat(fabric["repeat"], where) if "repeat" in fabric else None,
        sections=_count(fabric["sections"], where("fabric.sections")) if "sections" in fabric else None,
        section_length=positive(fabric["section_length"], where("fabric.section_length"))
        if "section_length" in fabric else None,
        round_to_repeat=boolean(fabric.get("round_to_repeat", False), where("fabric.round_to_repeat")),
    )
    if spec.sections is not None and spec.section_length is not None:
        raise SpecError(f"{where('fabric.sections')}: give sections or section_length, not both")
    spec.check_fabric()
    return spec


def parse_spread(value, name: str) -> str:
    if value not in SPREADS:
        raise SpecError(f"{name}: unknown spread {shown(value)}; spreads are {', '.join(SPREADS)}")
    return value


def _repeat(table, where) -> Repeat:
    if not isinstance(table, dict):
        raise SpecError(f"{where('fabric.repeat')}: must be a table with along and/or across")
    known_fields(table, _REPEAT_KEYS, where, "fabric.repeat.")
    if "along" not in table and "across" not in table:
        raise SpecError(f"{where('fabric.repeat')}: give along and/or across (the repeat's periods)")
    return Repeat(
        positive(table["along"], where("fabric.repeat.along")) if "along" in table else None,
        positive(table["across"], where("fabric.repeat.across")) if "across" in table else None,
        _finite(table.get("offset_along", 0.0), where("fabric.repeat.offset_along")),
        _finite(table.get("offset_across", 0.0), where("fabric.repeat.offset_across")),
    )


def _finite(value, name) -> float:
    return parse_number(value, name, "must be a number")


def _count(value, name) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_GARMENTS:
        raise SpecError(f"{name}: must be a whole number in 1..{MAX_GARMENTS:g}, got {shown(value)}")
    return value


def boolean(value, name) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{name}: must be true or false, got {shown(value)}")
    return value


def _plt_tools(table, where) -> PltTools | None:
    if not isinstance(table, dict):
        raise SpecError(f"{where('plt')}: must be a table")
    known_fields(table, {"tools"}, where, "plt.")
    return PltTools.parse(table["tools"], where("plt.tools")) if "tools" in table else None


# --- one value each: also used for command-line options ----------------------------------


def parse_sizes(value, name: str) -> Sizes:
    """A size ratio from a table ``{S = 1, M = 2}``: garments of each size."""
    if not isinstance(value, dict) or not value:
        raise SpecError(f"{name}: must be a table of size = garments, e.g. S = 1, M = 2")
    ratio = []
    for size, count in value.items():
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_GARMENTS:
            raise SpecError(f"{name}.{size}: must be a whole number of garments >= 1 (at most {MAX_GARMENTS:g}), "
                            f"got {shown(count)}")
        ratio.append((str(size), count))
    return Sizes(tuple(ratio))


def parse_margins(value, name: str) -> Margins:
    """One number for all four edges, or a table with bottom, top, start, end (missing = 0)."""
    if isinstance(value, dict):
        unknown = set(value) - set(_EDGES)
        if unknown:
            raise SpecError(f"{name}: unknown edge {sorted(unknown)[0]!r}; edges are {', '.join(_EDGES)}")
        return Margins(**{edge: non_negative(value.get(edge, 0.0), f"{name}.{edge}") for edge in _EDGES})
    margin = non_negative(value, name)
    return Margins(margin, margin, margin, margin)


def parse_shrinkage(value, name: str) -> tuple[float, float]:
    """``[along, across]``, ``{along = , across = }`` or text ``X,Y``, in percent."""
    if isinstance(value, str):
        value = [p.strip() for p in value.split(",")]
    if isinstance(value, dict):
        unknown = set(value) - {"along", "across"}
        if unknown:
            raise SpecError(f"{name}: unknown key {sorted(unknown)[0]!r}; use along and across")
        value = [value.get("along", 0.0), value.get("across", 0.0)]
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise SpecError(f"{name}: give two percentages, along and across the grain (e.g. 2,1)")
    result = []
    for axis, part in zip(("along", "across"), value):
        percent = parse_number(part, f"{name}.{axis}", "must be a percentage")
        if not -100 < percent < 100:
            raise SpecError(f"{name}.{axis}: must be a percentage in (-100, 100), got {percent:g}")
        result.append(percent)
    return (result[0], result[1])


def parse_zone(value, name: str) -> Polygon:
    """``{rect = [x0, y0, x1, y1]}`` or ``{polygon = [[x, y], ...]}`` in marker coordinates."""
    if not isinstance(value, dict) or len(set(value) & {"rect", "polygon"}) != 1 or set(value) - {"rect", "polygon", "name"}:
        raise SpecError(f"{name}: a zone is a table with either rect = [x0, y0, x1, y1] or polygon = [[x, y], ...]")
    if "rect" in value:
        corners = value["rect"]
        if not isinstance(corners, list) or len(corners) != 4:
            raise SpecError(f"{name}.rect: must be [x0, y0, x1, y1]")
        x0, y0, x1, y1 = (parse_number(c, f"{name}.rect", "must hold numbers") for c in corners)
        if x1 <= x0 or y1 <= y0:
            raise SpecError(f"{name}.rect: needs x0 < x1 and y0 < y1, got {corners}")
        return box(x0, y0, x1, y1)
    points = value["polygon"]
    if not isinstance(points, list) or len(points) < 3 or not all(isinstance(p, list) and len(p) == 2 for p in points):
        raise SpecError(f"{name}.polygon: must be a list of at least 3 [x, y] points")
    polygon = Polygon([tuple(parse_number(c, f"{name}.polygon", "must hold numbers") for c in p) for p in points])
    if not polygon.is_valid or polygon.area <= 0:
        raise SpecError(f"{name}.polygon: not a simple polygon with positive area")
    return polygon


def _list(value, name) -> list:
    if not isinstance(value, list):
        raise SpecError(f"{name}: must be a list")
    return value


def fabric_code(value, name) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise SpecError(f"{name}: must be a fabric code such as \"1\"")
    return str(value).strip()


def positive(value, name) -> float:
    """A number > 0, or a `SpecError` naming the field."""
    number = parse_number(value, name, "must be a positive number")
    if number <= 0:
        raise SpecError(f"{name}: must be a positive number, got {number:g}")
    return number


def non_negative(value, name) -> float:
    """A length or price that may be zero, or a `SpecError` naming the field."""
    number = parse_number(value, name, "must be a number >= 0")
    if number < 0:
        raise SpecError(f"{name}: must be >= 0, got {number:g}")
    return number

