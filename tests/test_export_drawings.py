"""marker.png and marker.pdf without golden images: they open, and their pages have the sizes
asked for (one scaled page, or 1:1 tiles that cover the marker)."""

import json
import math
import re
import shutil
import subprocess

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import PathPatch
from shapely.geometry import LineString, Polygon, box
from shapely.ops import unary_union

from export import view_of, write
from export.marks import mark_sizes, piece_marks, text_box
from export.options import ExportOptions
from export.plot import figure
from nesting.errors import SpecError
from tests.export_oracles import marked_marker

POINTS_PER_MM = 72 / 25.4


@pytest.fixture(scope="module")
def marker():
    return marked_marker()


def _pdf_pages(path):
    """Each page's MediaBox (points) read from the raw PDF: matplotlib writes page dictionaries uncompressed."""
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", data)
    return [tuple(float(v) for v in box.split()) for box in boxes]


def _probe(region):
    """A point well inside ``region``, or None when it is empty."""
    return None if region.is_empty else region.representative_point()


def test_png_shows_each_piece_of_marker_json_where_it_lies(marker, tmp_path):
    """Pixels of marker.png at a clear spot inside every piece carry that piece's fill, and clear
    fabric stays blank: the drawing is checked against marker.json, not against itself."""
    write(marker, tmp_path, ("png", "json"))
    image = matplotlib.image.imread(tmp_path / "marker.png")[..., :3]
    document = json.loads((tmp_path / "marker.json").read_text())
    view = view_of(marker)
    fig = figure(view)
    fig.set_dpi(120)
    fig.canvas.draw()
    assert image.shape[:2] == fig.canvas.get_width_height()[::-1]
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    colours = {p.get_path().vertices[0].tobytes(): p.get_facecolor()[:3] for p in ax.patches if isinstance(p, PathPatch)}
    sizes = mark_sizes(view)

    def pixel(point):
        x, y = ax.transData.transform((point.x, point.y))
        return image[image.shape[0] - 1 - int(round(y)), int(round(x))]

    probed = 0
    for entry, piece in zip(document["pieces"], view.pieces):
        outline = Polygon(entry["polygon"], entry["holes"])
        marks = piece_marks(piece, sizes)
        busy = unary_union([LineString(line) for line in marks.lines()]
                           + [text_box(marks.label_at, marks.label_angle, piece.label, marks.label_height or 1)])
        spot = _probe(outline.buffer(-8).difference(busy.buffer(8)))
        if spot is None:
            continue
        fill = np.asarray(colours[np.asarray(entry["polygon"][0], dtype=float).tobytes()])
        assert pixel(spot) == pytest.approx(0.85 * fill + 0.15, abs=0.06), entry["id"]
        probed += 1
    assert probed >= len(document["pieces"]) // 2
    pieces = unary_union([Polygon(e["polygon"]) for e in document["pieces"]])
    target = pieces.area / (document["target_utilization"] * document["width"])  # the dashed target line
    free = box(0, 0, document["length"], document["width"]).buffer(-8).difference(pieces.buffer(8))
    spot = _probe(free.difference(box(target - 8, 0, target + 8, document["width"])))
    assert spot is not None and not legend.contains(*ax.transData.transform((spot.x, spot.y)))
    assert pixel(spot) == pytest.approx(np.ones(3), abs=0.02), "clear fabric is blank"
    plt.close(fig)


def test_pdf_scaled_to_one_a3_page(marker, tmp_path):
    write(marker, tmp_path, ("pdf",))
    (page,) = _pdf_pages(tmp_path / "marker.pdf")
    assert page[2:] == pytest.approx((420 * POINTS_PER_MM, 297 * POINTS_PER_MM), abs=0.01)


def test_pdf_tiled_at_one_to_one_covers_the_marker(marker, tmp_path):
    write(marker, tmp_path, ("pdf",), ExportOptions(pdf_page="A4", pdf_tiled=True))
    pages = _pdf_pages(tmp_path / "marker.pdf")
    view = view_of(marker)
    assert len(pages) == math.ceil(view.length / 297) * math.ceil(view.width / 210)
    assert all(page[2:] == pytest.approx((297 * POINTS_PER_MM, 210 * POINTS_PER_MM), abs=0.01) for page in pages)


def test_pdf_on_a_plotter_roll_is_one_page_across_the_roll_width(marker, tmp_path):
    write(marker, tmp_path, ("pdf",), ExportOptions(pdf_page="roll914", pdf_tiled=True))
    (page,) = _pdf_pages(tmp_path / "marker.pdf")
    assert page[2:] == pytest.approx((view_of(marker).length * POINTS_PER_MM, 914 * POINTS_PER_MM), abs=0.01)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler) not installed")
def test_pdf_renders_with_pdftoppm(marker, tmp_path):
    write(marker, tmp_path, ("pdf",))
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(tmp_path / "marker.pdf"), str(tmp_path / "page")], check=True)
    assert matplotlib.image.imread(next(tmp_path.glob("page*.png"))).shape[1] == pytest.approx(420 / 25.4 * 20, abs=2)


def test_unknown_pdf_page_is_a_user_error():
    with pytest.raises(SpecError, match="--pdf-page"):
        ExportOptions(pdf_page="B5")
