"""marker.png and marker.pdf without golden images: they open, and their pages have the sizes
asked for (one scaled page, or 1:1 tiles that cover the marker)."""

import math
import re
import shutil
import subprocess

import matplotlib.image
import pytest

from nesting.errors import SpecError
from nesting.export import view_of, write
from nesting.export.options import ExportOptions
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


def test_png_opens_with_the_expected_pixel_size(marker, tmp_path):
    write(marker, tmp_path, ("png",))
    image = matplotlib.image.imread(tmp_path / "marker.png")
    assert image.shape[1] == 16 * 120 and image.shape[0] > 2.5 * 120 and image.shape[2] in (3, 4)
    assert image[..., :3].std() > 0.05, "something is drawn"


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
