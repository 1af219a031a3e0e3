"""``nest marker --formats`` and ``nest export``: the formats chosen are written, a re-export
from marker.json gives the same cut files as the run that nested it, bad input exits 2."""

import json
import xml.etree.ElementTree as ET

import ezdxf
import matplotlib.image
import pytest

from cli import main
from export import DEFAULT_FORMATS, available_formats
from tests.conftest import EXAMPLE, INSTANCES
from tests.export_oracles import read_hpgl

ALL = "json,png,dxf,plt,svg,pdf"


@pytest.fixture(scope="module")
def nested(tmp_path_factory):
    out = tmp_path_factory.mktemp("nested")
    assert main(["marker", str(EXAMPLE), "--width", "1500", "--iterations", "2", "--formats", ALL,
                 "--out", str(out), "--quiet"]) == 0
    return out


def test_without_formats_marker_writes_the_default_set_each_file_readable(tmp_path):
    assert main(["marker", str(EXAMPLE), "--width", "1500", "--iterations", "1", "--out", str(tmp_path), "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"marker.{f}" for f in DEFAULT_FORMATS)
    readers = {
        "json": lambda path: json.loads(path.read_text())["pieces"],
        "png": lambda path: matplotlib.image.imread(path).shape,
        "dxf": lambda path: ezdxf.readfile(path).modelspace().query("INSERT"),
        "plt": lambda path: read_hpgl(path.read_text()).paths,
        "svg": lambda path: ET.parse(path).getroot(),
        "pdf": lambda path: path.read_bytes().startswith(b"%PDF-") or None,
    }
    assert set(readers) == set(available_formats())
    for name in DEFAULT_FORMATS:
        assert len(readers[name](tmp_path / f"marker.{name}")), name


def test_marker_writes_every_format_asked_for(nested, capsys):
    assert sorted(p.name for p in nested.iterdir()) == sorted(f"marker.{f}" for f in ALL.split(","))


def test_marker_reports_cut_length_and_travel(tmp_path, capsys):
    assert main(["marker", str(INSTANCES / "shirts.json"), "--iterations", "1", "--formats", "plt",
                 "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "cut length" in out and "pen-up travel" in out
    assert [p.name for p in tmp_path.iterdir()] == ["marker.plt"]


def test_export_from_marker_json_gives_the_same_cut_files(nested, tmp_path, capsys):
    assert main(["export", str(nested / "marker.json"), "--formats", "plt,svg,dxf,json", "--out", str(tmp_path)]) == 0
    assert "cut order:" in capsys.readouterr().out
    for name in ("marker.plt", "marker.svg"):
        assert (tmp_path / name).read_text() == (nested / name).read_text(), name
    assert json.loads((tmp_path / "marker.json").read_text()) == json.loads((nested / "marker.json").read_text())
    drawn = [p for pen, p in read_hpgl((tmp_path / "marker.plt").read_text()).paths if pen == 2]
    assert len(drawn) > 1 + len(json.loads((nested / "marker.json").read_text())["pieces"]), "grain lines carried from the source pattern"


def test_export_options_reach_the_files(nested, tmp_path):
    assert main(["export", str(nested / "marker.json"), "--formats", "plt", "--plt-rotation", "90",
                 "--plt-tools", "cut=7,draw=0,notch=0,drill=0", "--out", str(tmp_path)]) == 0
    plot = read_hpgl((tmp_path / "marker.plt").read_text())
    assert {pen for pen, _ in plot.paths} == {7}
    document = json.loads((nested / "marker.json").read_text())
    assert max(x for _pen, points in plot.paths for x, _y in points) <= round(document["width"] * 40)


def test_export_refuses_a_marker_that_fails_verification(nested, tmp_path, capsys):
    document = json.loads((nested / "marker.json").read_text())
    document["pieces"][1]["polygon"] = document["pieces"][0]["polygon"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    out = tmp_path / "out"
    assert main(["export", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0] and "fails verification" in err[0]
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("argv", [
    ["--formats", "dxf,gerber"],
    ["--plt-rotation", "45"],
    ["--pdf-page", "letter"],
    ["--plt-tools", "cut=1,draw=1"],
    ["--plt-tools", "saw=5"],
])
def test_bad_export_options_exit_2(nested, tmp_path, capsys, argv):
    assert main(["export", str(nested / "marker.json"), "--out", str(tmp_path / "o"), *argv]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_export_of_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope.json"), "--out", str(tmp_path)]) == 2
    assert "nope.json" in capsys.readouterr().err


def test_export_without_its_source_pattern_keeps_the_cut_lines_and_drops_the_marks(nested, tmp_path):
    document = json.loads((nested / "marker.json").read_text())
    for entry in document["pieces"]:
        entry["source"] = str(tmp_path / "moved-away.dxf")
    moved = tmp_path / "marker.json"
    moved.write_text(json.dumps(document))
    assert main(["export", str(moved), "--formats", "plt", "--out", str(tmp_path / "o")]) == 0
    plot = read_hpgl((tmp_path / "o" / "marker.plt").read_text())
    assert len([p for pen, p in plot.paths if pen == 2]) == 1, "only the marker rectangle is drawn"
    assert len([p for pen, p in plot.paths if pen == 1]) == len(document["pieces"])
