"""The marker specification: what a marker maker sets before nesting, as one frozen object.

A spec names the pattern files, the size ratio, the fabric (width, table length, margins,
clear zones), the spacing between pieces, the shrinkage compensation and the orientation
rules (rotation, tilt, flip; their types and parser are the engine's, `nesting.orientation`) for
the fabric, overridable per category and per piece. It is read from TOML (`load`), and
``nest marker``'s options override it field by field (`with_options`).
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
from nesting.fabric import Fabric, Margins
from nesting.orientation import (
    OrientationRule,
    RuleSet,
    known_fields,
    parse_number,
    parse_rotations,
    parse_rules,
    parse_tilt,
)

MAX_GARMENTS = 10**6  # of one size in a ratio: far beyond any cutting table, far below an overflow
_EDGES = ("bottom", "top", "start", "end")


@dataclass(frozen=True, slots=True)
class MarkerSpec:
    """Everything a marker is nested under, in the pieces' units (mm for DXF).

    ``sizes`` is the size ratio as ``((size, garments), ...)`` (or ``--sizes`` text until the
    pattern files are read); ``None`` takes what a single-size pattern file offers.
    ``shrinkage`` is (along, across) the grain in percent: pieces are scaled by
    100 / (100 - s) so that the fabric's shrinkage brings them back to size.
    ``width`` may stay ``None`` until a JSON instance supplies it.
    """

    patterns: tuple[str, ...] = ()
    sizes: tuple[tuple[str, int], ...] | str | None = None
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

    @property
    def fabric(self) -> Fabric:
        if self.width is None:
            raise SpecError(f"{self.label('fabric.width')}: is not given (the full fabric width)")
        return Fabric(self.width, self.max_length, self.margins, self.zones)

    @property
    def size_ratio(self) -> dict[str, int] | None:
        return None if self.sizes is None else dict(self.sizes)

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
_FABRIC_KEYS = {"width", "max_length", "margins", "zones", "code", "price"}


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
        fabric_code=_code(fabric["code"], where("fabric.code")) if "code" in fabric else None,
        fabric_price=non_negative(fabric["price"], where("fabric.price")) if "price" in fabric else None,
        spacing=non_negative(document.get("spacing", 0.0), where("spacing")),
        shrinkage=parse_shrinkage(document.get("shrinkage", (0.0, 0.0)), where("shrinkage")),
        orientation=parse_rules(document.get("rules", {}), where),
        plt_tools=_plt_tools(document.get("plt", {}), where),
        source=source,
    )
    spec.check_fabric()
    return spec


def _plt_tools(table, where) -> PltTools | None:
    if not isinstance(table, dict):
        raise SpecError(f"{where('plt')}: must be a table")
    known_fields(table, {"tools"}, where, "plt.")
    return PltTools.parse(table["tools"], where("plt.tools")) if "tools" in table else None


def with_options(spec: MarkerSpec, *, patterns=None, width=None, spacing=None, margin=None,
                 rotations=None, tilt=None, flip=None, shrinkage=None, sizes=None, fabric_code=None,
                 fabric_price=None) -> MarkerSpec:
    """The spec with each command-line option that is given (not ``None``) in place of its field.

    The options take the values ``nest marker`` parses (text or numbers); errors name the option.
    """
    changes = {}
    if patterns:
        changes["patterns"] = tuple(str(p) for p in patterns)
    if width is not None:
        changes["width"] = positive(width, "--width")
    if spacing is not None:
        changes["spacing"] = non_negative(spacing, "--spacing")
    if margin is not None:
        changes["margins"] = parse_margins(margin, "--margin")
    if shrinkage is not None:
        changes["shrinkage"] = parse_shrinkage(shrinkage, "--shrinkage")
    if sizes is not None:
        changes["sizes"] = sizes  # text: parsed with the pattern file's sizes (patterns.selection)
    if fabric_code is not None:
        changes["fabric_code"] = _code(fabric_code, "--fabric")
    if fabric_price is not None:
        changes["fabric_price"] = non_negative(fabric_price, "--fabric-price")
    if rotations is not None or tilt is not None or flip is not None:
        override = OrientationRule(
            parse_rotations(rotations, "--rotations") if rotations is not None else None,
            parse_tilt(tilt, "--tilt") if tilt is not None else None,
            flip,
        )
        rules = spec.orientation
        changes["orientation"] = RuleSet(override.over(rules.default), rules.categories, rules.pieces)
    result = replace(spec, **changes)
    result.check_fabric()
    return result


# --- one value each: also used for command-line options ----------------------------------


def parse_sizes(value, name: str) -> tuple[tuple[str, int], ...]:
    """A size ratio from a table ``{S = 1, M = 2}``: garments of each size."""
    if not isinstance(value, dict) or not value:
        raise SpecError(f"{name}: must be a table of size = garments, e.g. S = 1, M = 2")
    ratio = []
    for size, count in value.items():
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_GARMENTS:
            raise SpecError(f"{name}.{size}: must be a whole number of garments >= 1 (at most {MAX_GARMENTS:g}), "
                            f"got {shown(count)}")
        ratio.append((str(size), count))
    return tuple(ratio)


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


def _code(value, name) -> str:
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

