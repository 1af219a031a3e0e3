"""The cut files and drawings of real markers read back by independent readers, and nothing any
of them draws or cuts off the marker or off its own piece.

Markers of the bundled tee (M x 4), the shared AccuMark men's classic tee (50 x 2) and the
shared CLO 7.2 T-shirt (XS x 2). Readers: dxfgrabber (an AAMA reading of its blocks, below),
ezdxf's audit, ezhpgl (HP-GL, strict), hp2xx (Debian) and, where ``ASTM_PARSER`` names a
script that runs the open-source TypeScript ASTM parser on a file and prints its JSON, that
parser. A reader that is not installed skips its tests.
"""

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import ezdxf
import matplotlib.pyplot as plt
import pytest
import shapely
from matplotlib.collections import LineCollection
from matplotlib.patches import PathPatch
from shapely.geometry import LineString, Point, Polygon, box

from cli import main
from export import view_of
from export.options import PltTools
from export.placed import from_file
from export.plot import figure
from patterns import read_pieces
from tests.conftest import EXAMPLE, SHARED

dxfgrabber = pytest.importorskip("dxfgrabber")

UNIT_MM = 1 / 40  # one plotter unit
SLACK_MM = 1e-3  # marks on the cut line (notches, clipped ends) lie on it within a micrometre
MARKS = {"4", "7", "8", "11", "13", "14", *map(str, range(80, 88))}

CASES = {
    "tee": (EXAMPLE, "M=4"),
    "accumark": (SHARED / "data/dxf/aama_accumark_men_classic_tee.dxf", "50=2"),
    "clo": (SHARED / "data/dxf/astm_clo3d72_w_ss_tshirt.dxf", "XS=2"),
}
MORE = [  # every other shared pattern with marks, in its sample size (pytest -m slow)
    "aama_accumark_gmh2446f17_sewlines", "aama_accumark_orilegwb",
    "aama_accumark_wm_slim_tank", "aama_browzwear_crew_tee", "astm_accumark_glx4802s19_metric",
    "astm_accumark_orilegwb", "astm_clo3d_pattern", "astm_richpeace_s350_tshirt",
]


@pytest.fixture(scope="module", params=[*CASES, *(pytest.param(name, marks=pytest.mark.slow) for name in MORE)])
def exported(request, tmp_path_factory):
    source, sizes = CASES.get(request.param, (SHARED / f"data/dxf/{request.param}.dxf", None))
    if not source.exists():
        pytest.skip(f"{source} is not available")
    if sizes is None:
        pieces, report = read_pieces(source)
        sizes = report.get("sample_size") if report.get("sample_size") in report["sizes"] else report["sizes"][0]
    out = tmp_path_factory.mktemp(request.param)
    assert main(["marker", str(source), "--width", "1500", "--sizes", sizes, "--iterations", "1",
                 "--formats", "json,dxf,plt,svg", "--out", str(out), "--quiet"]) == 0
    assert main(["export", str(out / "marker.json"), "--formats", "dxf", "--dxf-exploded",
                 "--out", str(out / "exploded")]) == 0
    document = json.loads((out / "marker.json").read_text())
    return out, document, from_file(out / "marker.json")


# --- an AAMA reading of the marker DXF through dxfgrabber -------------------------------

@dataclass
class AamaPiece:
    texts: dict = field(default_factory=dict)
    boundary: Polygon | None = None
    grain: list = field(default_factory=list)
    marks: list = field(default_factory=list)  # (layer, shapely geometry) of every other entity


def _geometry(entity):
    kind = entity.dxftype
    if kind == "POLYLINE":
        return LineString([p[:2] for p in entity.points]) if len(entity.points) > 1 else Point(entity.points[0][:2])
    if kind == "LINE":
        return LineString([entity.start[:2], entity.end[:2]])
    if kind == "POINT":
        return Point(entity.point[:2])
    if kind == "TEXT":
        return Point(entity.insert[:2])
    raise AssertionError(f"unexpected entity {kind} on layer {entity.layer}")


def _add(piece: AamaPiece, entity) -> None:
    if entity.dxftype == "TEXT" and ":" in entity.text and entity.layer == "1":
        key, value = entity.text.split(":", 1)
        piece.texts[key.strip().lower()] = value.strip()
    if entity.dxftype == "POLYLINE" and entity.layer == "1":
        assert entity.is_closed and piece.boundary is None, "one closed cut line per piece"
        piece.boundary = Polygon([p[:2] for p in entity.points])
    elif entity.dxftype == "LINE" and entity.layer == "7":
        piece.grain.append(_geometry(entity))
    else:
        piece.marks.append((entity.layer, _geometry(entity)))


def read_aama(path, exploded=False) -> tuple[list[AamaPiece], dict, list]:
    """Pieces (one per inserted block, or per cut line in model space), style texts, and
    the model-space entities that belong to no piece."""
    drawing = dxfgrabber.readfile(str(path))
    blocks = {block.name: block for block in drawing.blocks}
    pieces, style, loose, current = [], {}, [], None
    for entity in drawing.entities:
        if entity.dxftype == "INSERT":
            assert (tuple(entity.insert)[:2], entity.rotation) == ((0.0, 0.0), 0.0)
            piece = AamaPiece()
            for inner in blocks[entity.name]:
                _add(piece, inner)
            pieces.append(piece)
        elif exploded and entity.dxftype == "POLYLINE" and entity.layer == "1":
            current = AamaPiece()
            pieces.append(current)
            _add(current, entity)
        elif current is not None and entity.layer != "MARKER":
            _add(current, entity)
        else:
            current = None
            if entity.dxftype == "TEXT" and ":" in entity.text:
                key, value = entity.text.split(":", 1)
                style[key.strip().lower()] = value.strip()
            loose.append(entity)
    return pieces, style, loose, drawing


def _matches(pieces, document):
    """Each read piece's (name, size, boundary) against marker.json, one to one."""
    left = list(document["pieces"])
    for piece in pieces:
        outline = piece.boundary
        entry = min(left, key=lambda e: shapely.hausdorff_distance(Polygon(e["polygon"]), outline.exterior))
        assert shapely.hausdorff_distance(Polygon(entry["polygon"]).exterior, outline.exterior) <= SLACK_MM
        assert (piece.texts["piece name"], piece.texts["size"]) == (entry["name"], entry["size"])
        left.remove(entry)
    assert not left


@pytest.mark.parametrize("exploded", [False, True])
def test_marker_dxf_read_as_aama_has_every_piece_with_name_size_boundary_and_grain(exported, exploded):
    out, document, _view = exported
    path = out / "exploded" / "marker.dxf" if exploded else out / "marker.dxf"
    pieces, style, _loose, drawing = read_aama(path, exploded)
    assert not [b.name for b in drawing.blocks if b.name.startswith(("$", "*"))], "no layout blocks"
    assert len(pieces) == len(document["pieces"])
    _matches(pieces, document)
    for piece in pieces:
        (grain,) = piece.grain
        assert grain.length > 0 and piece.boundary.buffer(SLACK_MM).covers(grain)
    assert style["units"] == "METRIC"
    source = ezdxf.readfile(next(iter({e["source"] for e in document["pieces"]})))
    own = {t.dxf.text.split(":", 1)[0].strip().lower(): t.dxf.text.split(":", 1)[1].strip()
           for t in source.modelspace().query("TEXT") if ":" in t.dxf.text}
    if "style name" in own:
        assert style["style name"] == own["style name"]
    sizes = {e["size"] for e in document["pieces"]}
    assert style["sample size"] in sizes
    if own.get("sample size") in sizes:
        assert style["sample size"] == own["sample size"]


@pytest.mark.parametrize("exploded", [False, True])
def test_marker_dxf_marks_lie_on_their_own_piece_and_header_is_right(exported, exploded):
    out, document, _view = exported
    path = out / "exploded" / "marker.dxf" if exploded else out / "marker.dxf"
    pieces, _style, loose, drawing = read_aama(path, exploded)
    fabric = box(0, 0, document["length"], document["width"]).buffer(SLACK_MM)
    for piece in pieces:
        near = piece.boundary.buffer(SLACK_MM)
        assert fabric.covers(piece.boundary)
        for layer, geometry in piece.marks:
            assert near.covers(geometry), f"{piece.texts['piece name']}: layer {layer} mark off its piece"
    for entity in loose:  # the marker rectangle, and the style text in the margin above it
        geometry = _geometry(entity)
        assert fabric.covers(geometry) if entity.layer == "MARKER" else geometry.bounds[1] > document["width"]
    header = drawing.header
    assert (header["$INSUNITS"], header["$MEASUREMENT"]) == (4, 1)
    everything = shapely.GeometryCollection([piece.boundary for piece in pieces] + [_geometry(e) for e in loose])
    x0, y0, x1, y1 = everything.bounds
    assert header["$EXTMIN"][:2] == pytest.approx((x0, y0), abs=1e-6)
    assert header["$EXTMAX"][0] >= x1 - 1e-6 and header["$EXTMAX"][1] >= y1 - 1e-6
    audit = ezdxf.readfile(path).audit()
    assert not audit.has_errors and not audit.fixes


@pytest.mark.skipif(not os.environ.get("ASTM_PARSER"), reason="ASTM_PARSER (a script running the TypeScript ASTM parser) not set")
def test_marker_dxf_accepted_by_the_typescript_astm_parser(exported):
    out, document, _view = exported
    run = subprocess.run(os.environ["ASTM_PARSER"].split() + [str(out / "marker.dxf")], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["ok"] and not [d for d in result["diagnostics"] if d[0] > 1]
    assert {(p["name"], s["size"]) for p in result["pieces"] for s in p["sizes"]} == \
        {(e["name"], e["size"]) for e in document["pieces"]}
    assert all(len(s["grain"]) == 2 and s["boundary"] for p in result["pieces"] for s in p["sizes"])


# --- PLT: ezhpgl and hp2xx ----------------------------------------------------------------

def _owner(geometry, view):
    """The piece that holds ``geometry`` (within one plotter unit), or None."""
    return next((p for p in view.pieces if p.polygon.buffer(UNIT_MM).covers(geometry)), None)


def test_plt_read_by_ezhpgl_in_strict_mode_tools_per_kind_and_marks_on_their_pieces(exported):
    ezhpgl = pytest.importorskip("ezhpgl")
    out, document, view = exported
    plot = ezhpgl.parse((out / "marker.plt").read_bytes(), strict=True)
    assert {d.code for d in plot.diagnostics} <= {"TEXT_APPROXIMATION"}, "only its substitute-font labels approximate"
    tools = PltTools()
    fabric = box(0, 0, document["length"], document["width"]).buffer(UNIT_MM)
    paths = []  # (tool, points): one path per pen-down run (the parser splits runs at each PD)
    for page in plot.pages:
        for operation in page.operations:
            if operation.geometry.kind == "label":
                continue
            points = [(p.x, p.y) for p in operation.geometry.points]
            if paths and paths[-1][0] == operation.style.pen and paths[-1][1][-1] == points[0] and len(points) > 1:
                paths[-1][1].extend(points[1:])
            else:
                paths.append((operation.style.pen, points))
    by_tool = {}
    for tool, points in paths:
        shape = LineString(points) if len(points) > 1 else Point(points[0])
        assert fabric.covers(shape), f"tool {tool}: {shape.wkt[:60]} off the marker"
        by_tool.setdefault(tool, []).append(shape)
    assert set(by_tool) <= {tools.cut, tools.draw, tools.notch, tools.drill}
    contours = sum(1 + len(e["holes"]) for e in document["pieces"])
    assert len(by_tool[tools.cut]) == contours
    notches = [Point(n.x, n.y) for p in view.pieces for n in p.annotations.notches]
    assert len(by_tool.get(tools.notch, [])) == len(notches)
    outlines = shapely.MultiLineString([ring for p in view.pieces for ring in (p.polygon.exterior, *p.polygon.interiors)])
    assert all(outlines.distance(Point(t.coords[0])) <= UNIT_MM for t in by_tool.get(tools.notch, [])), \
        "each notch tick starts on a cut line"
    drills = [Point(h) for p in view.pieces for h in p.annotations.drill_holes]
    assert len(by_tool.get(tools.drill, [])) == len(drills)
    rectangle = box(0, 0, document["length"], document["width"]).exterior
    for shape in by_tool[tools.draw] + by_tool.get(tools.notch, []) + by_tool.get(tools.drill, []):
        if shapely.hausdorff_distance(shape, rectangle) <= UNIT_MM:
            continue
        assert _owner(shape, view) is not None, f"{shape.wkt[:80]} lies on no single piece"


def test_plt_renders_with_hp2xx(exported, tmp_path):
    if shutil.which("hp2xx") is None:
        pytest.skip("hp2xx not installed")
    out, _document, _view = exported
    run = subprocess.run(["hp2xx", "-q", "-m", "eps", "-f", str(tmp_path / "plot.eps"), str(out / "marker.plt")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "%%BoundingBox" in (tmp_path / "plot.eps").read_text(errors="replace")


# --- SVG and the matplotlib drawings -------------------------------------------------------

def test_svg_marks_lie_on_their_own_piece(exported):
    out, document, _view = exported
    ns = {"svg": "http://www.w3.org/2000/svg"}
    root = ET.parse(out / "marker.svg").getroot()
    fabric = box(0, 0, document["length"], document["width"]).buffer(SLACK_MM)
    for group in root.findall(".//svg:g[@class='piece']", ns):
        numbers = [float(v) for v in group.find("svg:path", ns).get("d").replace("M", " ").replace("L", " ").split("Z")[0].split()]
        outline = Polygon(list(zip(numbers[::2], numbers[1::2]))).buffer(SLACK_MM)
        assert fabric.covers(outline)
        for line in group.findall("svg:polyline", ns):
            points = [tuple(map(float, pair.split(","))) for pair in line.get("points").split()]
            assert outline.covers(LineString(points)), f"{group.get('data-id')}: {line.get('class')} off its piece"
        for text in group.findall("svg:text", ns):
            x, y = map(float, text.get("transform").split("(")[1].split(")")[0].split())
            assert outline.covers(Point(x, y))


def test_drawn_figure_marks_lie_on_the_pieces_of_marker_json(exported):
    _out, document, view = exported
    fig = figure(view_of(view))
    ax = fig.axes[0]
    patches = [p for p in ax.patches if isinstance(p, PathPatch)]
    assert len(patches) == len(document["pieces"])
    for patch, entry in zip(patches, document["pieces"]):
        assert patch.get_path().vertices[:len(entry["polygon"])].tolist() == entry["polygon"]
    for collection in ax.collections:
        if isinstance(collection, LineCollection):
            for segment in collection.get_segments():
                assert _owner(LineString(segment), view) is not None
    for text in ax.texts:
        x, y = text.get_position()
        if 0 <= y <= document["width"]:  # piece labels (the scale bar sits below the fabric)
            assert _owner(Point(x, y), view) is not None
    plt.close(fig)


def test_the_bundled_example_pattern_reads_as_aama_without_layout_blocks():
    """The README's example input is itself a file third-party AAMA readers take (R12, piece blocks only)."""
    pieces, style, _loose, drawing = read_aama(EXAMPLE, False)
    assert drawing.dxfversion == "AC1009"
    assert not [b.name for b in drawing.blocks if b.name.startswith(("$", "*"))], "no layout blocks"
    ours, _report = read_pieces(EXAMPLE)
    assert sorted(p.texts["piece name"] for p in pieces) == sorted(p.name for p in ours)
    for piece, own in zip(sorted(pieces, key=lambda p: p.texts["piece name"]), sorted(ours, key=lambda p: p.name)):
        assert piece.boundary.area == pytest.approx(own.outline.area, rel=1e-9)
        (grain,) = piece.grain
        assert piece.boundary.covers(grain)
    assert (style["style name"], style["sample size"], style["units"]) == ("TEE-DEMO", "M", "METRIC")
