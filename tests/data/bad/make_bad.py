"""Build the bad-input corpus in this folder: ``python tests/data/bad/make_bad.py``.

Each file is one way a pattern file, instance, spec or marker file reaches a cutting room
broken: from a CAD export gone wrong, a hand edit, a truncated copy or a hostile sender.
Every one is small and committed; the 10^6-vertex contour is too big to commit and is built
on demand by `huge_contour` (tests write it into a temporary folder).

The generic DXFs state their units in a ``Units: METRIC`` text, so no option is needed to
read them; AAMA ones carry piece blocks with ``Piece Name`` text, so errors name the piece.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
from pathlib import Path

import ezdxf

HERE = Path(__file__).resolve().parent
SQUARE = [(0, 0), (300, 0), (300, 200), (0, 200)]


def _generic(path: Path, build) -> None:
    """An R12 drawing with a units text; ``build(msp)`` draws the contours."""
    doc = ezdxf.new("R12")
    msp = doc.modelspace()
    msp.add_text("Units: METRIC", dxfattribs={"height": 2, "insert": (0, -20)})
    build(msp)
    doc.saveas(path)


def _aama(path: Path, boundary, quantity="1", closed=True) -> None:
    """An AAMA file with one piece block FRONT (size M) whose layer-1 boundary is ``boundary``."""
    doc = ezdxf.new("R12")
    msp = doc.modelspace()
    msp.add_text("Style Name: BAD", dxfattribs={"layer": "1", "height": 2})
    msp.add_text("Units: METRIC", dxfattribs={"layer": "1", "height": 2, "insert": (0, -5)})
    block = doc.blocks.new("FRONT-M")
    block.add_polyline2d(boundary, close=closed, dxfattribs={"layer": "1"})
    block.add_line((50, 100), (250, 100), dxfattribs={"layer": "7"})
    for k, text in enumerate(("Piece Name: FRONT", "Size: M", f"Quantity: {quantity}")):
        block.add_text(text, dxfattribs={"layer": "1", "height": 2, "insert": (0, -5 * (k + 1))})
    msp.add_blockref("FRONT-M", (0, 0))
    doc.saveas(path)


def _closed(points):
    return lambda msp: msp.add_polyline2d(points, close=True)


def _gap_square(msp) -> None:
    """Four lines of a square; the last stops 5 mm short of the first (tolerance 0.5 mm)."""
    corners = SQUARE + [(0, 5)]
    for a, b in zip(corners, corners[1:]):
        msp.add_line(a, b)


def _open_only(msp) -> None:
    """An open zigzag and a lone arc: curves, but nothing closes."""
    msp.add_polyline2d([(0, 0), (100, 50), (200, 0), (300, 50)])
    msp.add_arc((500, 0), 50, 0, 180)


def _dxf_files() -> dict:
    bow_tie = [(0, 0), (300, 200), (300, 0), (0, 200)]
    (x0, y0), (x1, _), (_, y1) = SQUARE[0], SQUARE[1], SQUARE[2]
    dense = [(x0, y0)] * 3 + [(x1, y0)] * 2 + [(x1, y1), (x1, y1 + 1e-9), (150, y1), (150, y1), (x0, y1)]
    return {
        "self_intersecting.dxf": lambda p: _generic(p, _closed(bow_tie)),
        "zero_area.dxf": lambda p: _generic(p, _closed([(0, 0), (100, 0), (300, 0)])),
        "gap.dxf": lambda p: _generic(p, _gap_square),
        "no_closed_contour.dxf": lambda p: _generic(p, _open_only),
        "text_only.dxf": lambda p: _generic(p, lambda msp: msp.add_text("FRONT", dxfattribs={"height": 5})),
        "nan_vertex.dxf": lambda p: _generic(p, _closed([(0, 0), (300, 0), (math.nan, 200), (0, 200)])),
        "inf_vertex.dxf": lambda p: _generic(p, _closed([(0, 0), (math.inf, 0), (300, 200), (0, 200)])),
        "huge_coordinate.dxf": lambda p: _generic(p, _closed([(0, 0), (1e300, 0), (1e300, 200), (0, 200)])),
        "duplicate_vertices.dxf": lambda p: _generic(p, _closed(dense)),
        "too_wide.dxf": lambda p: _generic(p, _closed([(0, 0), (1800, 0), (1800, 1600), (0, 1600)])),
        "aama_self_intersecting.dxf": lambda p: _aama(p, bow_tie),
        "aama_open_boundary.dxf": lambda p: _aama(p, SQUARE + [(0, 10)], closed=False),
        "aama_bad_quantity.dxf": lambda p: _aama(p, SQUARE, quantity="two"),
        "aama_nan_vertex.dxf": lambda p: _aama(p, [(0, 0), (300, 0), (300, math.nan), (0, 200)]),
    }


def _three_pieces(msp) -> None:
    for k in range(3):
        msp.add_polyline2d([(x + 400 * k, y) for x, y in SQUARE], close=True)


def _cut_before_last(data: bytes, marker: bytes) -> bytes:
    """``data`` cut at a line end just before its last ``marker`` entity: a copy that stopped
    short between two pieces, every tag in it whole (the hardest truncation to notice)."""
    return data[: data.rindex(marker) - 3]


def _byte_files(valid_dxf: bytes) -> dict:
    rng = random.Random(10)
    return {
        "empty.dxf": b"",
        "not_dxf.dxf": b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(2000)),
        "text_not_dxf.dxf": b"Piece Name: FRONT\nSize: M\nthis is a note, not a drawing\n",
        "truncated.dxf": _cut_before_last(valid_dxf, b"\nPOLYLINE\n"),
        "utf16.dxf": valid_dxf.decode("ascii", errors="replace").encode("utf-16"),
        "empty.json": b"",
        "not_json.json": b"\x00\x01\x02 strip_height items \xff\xfe",
        "truncated.json": json.dumps(_instance()).encode()[:150],
    }


def _instance(**changes) -> dict:
    """A valid two-item instance, with ``changes`` applied to the top level or ``items[0]``."""
    data = {
        "name": "bad",
        "strip_height": 100.0,
        "items": [
            {"id": 0, "demand": 2, "allowed_orientations": [0, 180],
             "shape": {"type": "simple_polygon", "data": [[0, 0], [40, 0], [40, 30], [0, 30]]}},
            {"id": 1, "demand": 1, "allowed_orientations": [0, 90],
             "shape": {"type": "simple_polygon", "data": [[0, 0], [30, 0], [0, 30]]}},
        ],
    }
    for key, value in changes.items():
        target, _, name = key.rpartition(".")
        holder = data["items"][0] if target == "item" else data
        if value is _DELETE:
            del holder[name]
        else:
            holder[name] = value
    return data


_DELETE = object()


def _json_files() -> dict:
    square = {"type": "simple_polygon", "data": [[0, 0], [10, 0], [10, 10], [0, 10]]}
    return {
        "missing_strip_height.json": _instance(strip_height=_DELETE),
        "missing_items.json": _instance(items=_DELETE),
        "missing_shape.json": _instance(**{"item.shape": _DELETE}),
        "negative_demand.json": _instance(**{"item.demand": -1}),
        "huge_demand.json": _instance(**{"item.demand": 10**9}),
        "string_demand.json": _instance(**{"item.demand": "2"}),
        "string_coordinates.json": _instance(**{"item.shape": {"type": "simple_polygon",
                                                              "data": [["0", "0"], ["40", "0"], ["40", "30"]]}}),
        "string_width.json": _instance(strip_height="100"),
        "items_not_a_list.json": _instance(items={"0": square}),
        "unknown_shape_type.json": _instance(**{"item.shape": {"type": "circle", "data": [0, 0, 10]}}),
        "two_points.json": _instance(**{"item.shape": {"type": "simple_polygon", "data": [[0, 0], [10, 0]]}}),
        "self_intersecting.json": _instance(**{"item.shape": {"type": "simple_polygon",
                                                             "data": [[0, 0], [30, 20], [30, 0], [0, 20]]}}),
        "zero_area.json": _instance(**{"item.shape": {"type": "simple_polygon", "data": [[0, 0], [10, 0], [20, 0]]}}),
        # found by fuzzing: valid in shapely, but placing it rounds it into an invalid polygon
        "sliver.json": _instance(**{"item.shape": {"type": "simple_polygon", "data": [[0, 0], [30, 0], [0, 6.7e-174]]}}),
        "orientation_not_number.json": _instance(**{"item.allowed_orientations": ["up"]}),
        "too_wide.json": _instance(**{"item.shape": {"type": "simple_polygon",
                                                    "data": [[0, 0], [150, 0], [150, 120], [0, 120]]}}),
        "duplicate_ids.json": _instance(**{"item.id": 1}),
        "top_level_list.json": [square],
    }


def _json_texts() -> dict:
    """Instances that ``json.dumps`` would not write: non-standard literals Python reads anyway."""
    valid = json.dumps(_instance())
    return {
        "nan_coordinate.json": valid.replace("[40, 30]", "[NaN, 30]", 1),
        "infinite_width.json": valid.replace('"strip_height": 100.0', '"strip_height": Infinity'),
        "overflow_coordinate.json": valid.replace("[40, 30]", "[1e400, 30]", 1),
        "deeply_nested.json": "[" * 10_000 + "]" * 10_000,
    }


def _fuzz_regressions(generic: list[str], aama: list[str]) -> dict:
    """Line edits of valid files that crashed a reader once (found by tests/test_fuzz.py)."""
    vertex = generic.index("VERTEX")
    location = next(k for k in range(vertex, vertex + 14) if generic[k] == " 10")
    return {
        # ezdxf's message quotes the bad line with its newline: the error must stay one line
        "bad_group_code.dxf": generic[:2] + generic[3:],
        # a header variable without its value: IndexError inside ezdxf's loader
        "header_value_missing.dxf": generic[:10] + generic[12:],
        # a VERTEX without coordinates: TypeError inside ezdxf's path conversion
        "vertex_without_location.dxf": generic[:location] + generic[location + 6:],
        # an entity type ezdxf does not know, inside a piece block: it has no layer at all
        "aama_unknown_entity.dxf": [("0.0" if line == "LINE" else line) for line in aama],
    }


_SPECS = {
    "spec_unknown_field.toml": '[fabric]\nwidth = 1500\nwidht = 1600\n',
    "spec_unknown_section.toml": '[fabric]\nwidth = 1500\n\n[fabirc]\nwidth = 1600\n',
    "spec_wrong_type.toml": '[fabric]\nwidth = "wide"\n',
    "spec_not_toml.toml": '[fabric\nwidth = 1500\n',
    "spec_negative_spacing.toml": 'spacing = -2\n\n[fabric]\nwidth = 1500\n',
    "spec_unknown_rule.toml": '[fabric]\nwidth = 1500\n\n[rules]\nrotations = "45"\n',
}


def _marker_files() -> dict:
    """marker/1 files broken after the fact (nest verify / nest export inputs)."""
    piece = {"id": "0", "name": "0", "size": None, "copy": 0, "rotation": 0.0, "mirrored": False,
             "polygon": [[0, 0], [40, 0], [40, 30], [0, 30]], "holes": []}
    valid = {"schema": "marker/1", "units": "mm", "width": 100.0, "length": 40.0, "utilization": 0.3,
             "pieces": [piece]}

    def changed(**fields):
        return {**valid, **fields}

    return {
        "marker_wrong_schema.json": changed(schema="marker/0"),
        "marker_missing_pieces.json": {k: v for k, v in valid.items() if k != "pieces"},
        "marker_pieces_not_list.json": changed(pieces=7),
        "marker_piece_not_object.json": changed(pieces=["FRONT"]),
        "marker_string_width.json": changed(width="wide"),
        "marker_bad_polygon.json": changed(pieces=[{**piece, "polygon": [[0, 0], ["a", 1], [2, 2]]}]),
        "marker_nan_polygon.json": changed(pieces=[{**piece, "polygon": [[0, 0], [40, 0], [40, float("nan")], [0, 30]]}]),
        "marker_zero_length.json": changed(length=0.0),
        "marker_rules_pieces_number.json": changed(rules={"pieces": 0.5}),
        "marker_empty_rotation_rule.json": changed(rules={"pieces": {"0": {
            "rotations": "", "quantity": 1, "outline": [[0, 0], [40, 0], [40, 30], [0, 30]]}}}),
    }


def huge_contour(path, vertices: int = 1_000_000, radius: float = 250.0) -> Path:
    """A generic DXF with one closed LWPOLYLINE of ``vertices`` points on a wavy circle.

    The waves (0.05 mm, far below any cutter's resolution) keep every vertex a real turn, so
    only a tolerance-based simplification can thin it. Written as text: ezdxf's writer would
    take a minute.
    """
    t = [2 * math.pi * k / vertices for k in range(vertices)]
    lines = ["0", "SECTION", "2", "HEADER", "9", "$ACADVER", "1", "AC1015", "9", "$INSUNITS", "70", "4",
             "0", "ENDSEC", "0", "SECTION", "2", "ENTITIES", "0", "LWPOLYLINE", "5", "100", "100", "AcDbEntity",
             "8", "0", "100", "AcDbPolyline", "90", str(vertices), "70", "1"]
    for a in t:
        r = radius + 0.05 * math.sin(997 * a)
        lines += ["10", f"{r * math.cos(a):.6f}", "20", f"{r * math.sin(a):.6f}"]
    lines += ["0", "ENDSEC", "0", "EOF"]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


@contextlib.contextmanager
def _reproducible_ezdxf():
    """ezdxf writing the same bytes on every run, without its R12 units notice (the text says mm)."""
    logger = logging.getLogger("ezdxf")
    level, fixed = logger.level, ezdxf.options.write_fixed_meta_data_for_testing
    logger.setLevel(logging.ERROR)
    ezdxf.options.write_fixed_meta_data_for_testing = True
    try:
        yield
    finally:
        logger.setLevel(level)
        ezdxf.options.write_fixed_meta_data_for_testing = fixed


def main(folder: Path = HERE) -> None:
    """Write the whole corpus into ``folder``."""
    folder = Path(folder)
    with _reproducible_ezdxf():
        for name, build in _dxf_files().items():
            build(folder / name)
        _generic(folder / "three_pieces.dxf", _three_pieces)
        _aama(folder / "aama_valid.dxf", SQUARE)
        generic = (folder / "three_pieces.dxf").read_bytes()
        aama = (folder / "aama_valid.dxf").read_text(encoding="ascii").splitlines()
    (folder / "three_pieces.dxf").unlink()
    (folder / "aama_valid.dxf").unlink()
    for name, data in _byte_files(generic).items():
        (folder / name).write_bytes(data)
    for name, lines in _fuzz_regressions(generic.decode("ascii").splitlines(), aama).items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="ascii")
    for name, data in {**_json_files(), **_marker_files()}.items():
        (folder / name).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    for name, text in _json_texts().items():
        (folder / name).write_text(text + "\n", encoding="utf-8")
    for name, text in _SPECS.items():
        (folder / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
