"""``nest info``: one row per stored piece per size, as a table or as JSON only."""

import json

import ezdxf
import pytest

from cli import main
from tests.conftest import shared_file
from tests.dxf_factory import PieceSpec, pattern_file, rectangle


def graded_file(tmp_path):
    """FRONT in M and L (one 1,1 pair), a BACK in M and L with Quantity: 0 in its base size."""
    pieces = []
    for size, grow in (("M", 0), ("L", 20)):
        base = size == "M"
        pieces.append(PieceSpec(f"FRONT_{size}", [rectangle(0, 0, 300 + grow, 200)], grain=((10, 10), (200, 10)),
                                texts={"Piece Name": "FRONT", "Size": size, **({"Quantity": "1,1"} if base else {})},
                                notches=[(300 + grow, 100, -4)] if base else []))
        pieces.append(PieceSpec(f"BACK_{size}", [rectangle(0, 0, 250 + grow, 200)],
                                texts={"Piece Name": "BACK", "Size": size, **({"Quantity": "0"} if base else {})}))
    style = {"Style Name": "G", "Units": "METRIC", "Sample Size": "M"}
    return pattern_file(tmp_path / "graded.dxf", pieces, style=style)


def test_table_lists_every_block(tmp_path, capsys):
    assert main(["info", str(graded_file(tmp_path))]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("FRONT", "BACK"))]
    assert len(rows) == 4
    front_m = next(r for r in rows if r.split()[:2] == ["FRONT", "M"])
    assert "1+1m" in front_m and "600.0" in front_m and "300.0 x 200.0" in front_m  # area in cm², bbox in mm
    assert "Quantity: 0" in out and "2 size(s): M, L" in out


def test_json_only_on_stdout_and_warnings_on_stderr(tmp_path, capsys):
    assert main(["info", str(graded_file(tmp_path)), "--json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["units"] == "mm" and document["file"].endswith("graded.dxf")
    assert len(document["pieces"]) == 4
    front_m = next(p for p in document["pieces"] if (p["name"], p["size"]) == ("FRONT", "M"))
    keys = {"name", "size", "quantity", "fabric", "area_mm2", "bbox", "vertices", "grain", "notches", "holes"}
    assert keys <= set(front_m)
    assert (front_m["quantity"], front_m["mirrored_quantity"]) == (1, 1)
    assert front_m["area_mm2"] == pytest.approx(60000.0) and front_m["notches"] == 1 and front_m["grain"] is True
    back_l = next(p for p in document["pieces"] if (p["name"], p["size"]) == ("BACK", "L"))
    assert back_l["quantity"] == 0  # inherited from the base size, and still listed
    assert "Quantity: 0" in captured.err
    assert document["report"]["sizes"] == ["M", "L"]


def test_real_graded_tee_lists_105_blocks(capsys):
    path = shared_file("data/dxf/aama_accumark_men_classic_tee.dxf")
    assert main(["info", str(path), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["pieces"]) == 7 * 15
    assert document["report"]["file_units"] == "in"


def test_astm_pair_quantity_in_table(capsys):
    path = shared_file("data/dxf/astm_accumark_orilegwb.dxf")
    assert main(["info", str(path)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("ORILEG WB LL")]
    assert len(rows) == 14 and all(" 1+1m " in row for row in rows)


def _write_bad(tmp_path, kind):
    if kind == "not a dxf":
        path = tmp_path / "bad.dxf"
        path.write_text("this is not a drawing\n")
        return path
    if kind == "no pieces":
        doc = ezdxf.new("R2010")
        doc.header["$INSUNITS"] = 4
        doc.modelspace().add_text("just a note")
        path = tmp_path / "bad.dxf"
        doc.saveas(path)
        return path
    boundary = {
        "open contour": ([[(0, 0), (100, 0)], [(100, 0), (100, 100)], [(100, 100), (0, 100)], [(0, 90), (0, 0)]],
                         False),
        "self-intersecting": ([[(0, 0), (100, 100), (100, 0), (0, 100)]], True),
        "zero-area": ([[(0, 0), (100, 0), (50, 0)]], True),
        "not finite": ([[(0, 0), (100, 0), (100, float("nan")), (0, 100)]], True),
        "far away": ([[(0, 0), (1e300, 0), (1e300, 100), (0, 100)]], True),
    }
    if kind == "unknown units":
        spec = PieceSpec("P_M", [rectangle(0, 0, 10, 10)], texts={"Piece Name": "P"})
        return pattern_file(tmp_path / "bad.dxf", [spec], style={"Style Name": "S"})
    runs, closed = boundary[kind]
    spec = PieceSpec("P_M", runs, closed=closed, texts={"Piece Name": "P", "Size": "M"})
    return pattern_file(tmp_path / "bad.dxf", [spec])


@pytest.mark.parametrize("kind, words", [
    ("open contour", ["piece P (block P_M)", "open contour", "10.000 mm"]),
    ("self-intersecting", ["piece P (block P_M)", "self-intersecting outline", "at (50.0, 50.0) mm"]),
    ("zero-area", ["piece P (block P_M)", "zero-area outline"]),
    ("not finite", ["piece P (block P_M)", "not a finite number"]),
    ("far away", ["piece P (block P_M)", "beyond any fabric", "units"]),
    ("no pieces", ["no pieces found"]),
    ("unknown units", ["does not state its units", "--units"]),
    ("not a dxf", ["not a readable DXF file"]),
])
def test_bad_files_exit_2_with_one_line(tmp_path, capsys, kind, words):
    path = _write_bad(tmp_path, kind)
    assert main(["info", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err and captured.out == ""
    assert str(path) in lines[0]
    for word in words:
        assert word in lines[0]
