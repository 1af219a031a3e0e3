"""marker.svg parsed back with the standard library: exact coordinates, one group per piece
carrying its id, name, size, copy and orientation, y turned up by one transform."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from export import write
from tests.export_oracles import marked_marker

NS = {"svg": "http://www.w3.org/2000/svg"}


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    out = tmp_path_factory.mktemp("svg")
    marker = marked_marker()
    write(marker, out, ("svg", "json"))
    document = json.loads((out / "marker.json").read_text())
    return ET.parse(out / "marker.svg").getroot(), document


def _rings(path_data):
    rings = []
    for ring in re.findall(r"M([^Z]*)Z", path_data):
        numbers = [float(n) for n in re.findall(r"[-+0-9.eE]+", ring)]
        rings.append(list(zip(numbers[::2], numbers[1::2])))
    return rings


def test_svg_size_and_frame(parsed):
    root, document = parsed
    assert root.get("viewBox") == f"0 0 {document['length']!r} {document['width']!r}"
    assert root.get("width") == f"{document['length']!r}mm"
    frame = root.find("svg:g[@id='marker']", NS)
    assert frame.get("transform") == f"matrix(1 0 0 -1 0 {document['width']!r})"


def test_one_group_per_piece_with_exact_coordinates(parsed):
    root, document = parsed
    groups = root.findall(".//svg:g[@class='piece']", NS)
    assert len(groups) == len(document["pieces"])
    orders = []
    for group, entry in zip(groups, document["pieces"]):
        assert group.get("data-id") == entry["id"]
        assert group.get("data-name") == entry["name"]
        assert group.get("data-size") == (entry["size"] or "")
        assert int(group.get("data-copy")) == entry["copy"]
        assert float(group.get("data-rotation")) == entry["rotation"]
        assert group.get("data-mirrored") == ("true" if entry["mirrored"] else "false")
        orders.append(int(group.get("data-cut-order")))
        (cut,) = group.findall("svg:path[@class='cut']", NS)
        outer, *holes = _rings(cut.get("d"))
        assert outer == [tuple(p) for p in entry["polygon"]]  # bit-exact: numbers written with repr
        assert holes == [[tuple(p) for p in hole] for hole in entry["holes"]]
        assert group.findall("svg:polyline[@class='grain']", NS), "grain line with its arrow head"
        assert group.find("svg:text", NS).text == f"{entry['name']} {entry['size']}"
    assert sorted(orders) == list(range(len(groups)))


def test_instance_svg_says_units_are_taken_as_mm(tmp_path):
    write(marked_marker(units="instance"), tmp_path, ("svg",))
    text = (tmp_path / "marker.svg").read_text()
    assert "<!-- " in text and "1 instance unit is exported as 1 mm" in text
    assert ET.parse(tmp_path / "marker.svg").getroot().get("data-units") == "instance"
