"""Sizes and fabric chosen for a marker: ``select_pieces`` and ``nest marker --sizes/--fabric``."""


import ezdxf
import pytest

from cli import main
from nesting.verify_file import verify_file
from patterns.dxf import read_dxf
from patterns.errors import PatternError
from patterns.selection import select_pieces
from patterns.sizes import Sizes
from tests.conftest import shared_file
from tests.dxf_factory import PieceSpec, pattern_file, rectangle
from tests.naive import checked_marker_file


def two_fabric_file(tmp_path):
    """Shell pieces (fabric 1: FRONT 1,1 and BACK 1) and a RIB (fabric 2), in sizes S and M."""
    pieces = []
    for size, grow in (("S", 0), ("M", 30)):
        base = size == "S"
        kinds = (("FRONT", 300, "1,1", "1"), ("BACK", 280, "1", "1"), ("RIB", 400, "1", "2"))
        for name, width, quantity, fabric in kinds:
            texts = {"Piece Name": name, "Size": size}
            if base:
                texts.update({"Quantity": quantity, "Fabric": fabric})
            pieces.append(PieceSpec(f"{name}_{size}", [rectangle(0, 0, width + grow, 150 if name != "RIB" else 40)],
                                    grain=((5, 5), (100, 5)), texts=texts))
    style = {"Style Name": "ST", "Units": "METRIC", "Sample Size": "S"}
    return pattern_file(tmp_path / "style.dxf", pieces, style=style)


def test_sizes_forms():
    assert Sizes.parse("S,M,L").as_dict() == {"S": 1, "M": 1, "L": 1}
    assert Sizes.parse("S=1, M=2").as_dict() == {"S": 1, "M": 2}
    assert Sizes.parse("S,S=2").as_dict() == {"S": 3}
    assert Sizes.parse(" All ") == Sizes(every=True)
    for bad in ("S=0", "S=x", ",", "S=1.5", "M=" + "1" * 5000, "M=1000001"):
        with pytest.raises(ValueError, match="ratio|expected"):
            Sizes.parse(bad)


def test_all_sizes_cut_one_garment_of_each(tmp_path):
    pieces, _ = read_dxf(two_fabric_file(tmp_path))
    every = select_pieces(pieces, "all", "1", "style.dxf")
    assert every.ratio == select_pieces(pieces, "S,M", "1", "style.dxf").ratio == {"S": 1, "M": 1}
    with pytest.raises(PatternError, match=r"--sizes: unknown size\(s\) XL; sizes: S, M"):
        select_pieces(pieces, Sizes.parse("S,XL"), None, "style.dxf")


def test_selection_ratio_and_first_fabric(tmp_path):
    pieces, _ = read_dxf(two_fabric_file(tmp_path))
    chosen = select_pieces(pieces, "S=1,M=2", None, "style.dxf")
    demand = {(p.name, p.size): (p.quantity, p.mirrored_quantity) for p in chosen.pieces}
    assert demand == {("FRONT", "S"): (1, 1), ("BACK", "S"): (1, 0), ("FRONT", "M"): (2, 2), ("BACK", "M"): (2, 0)}
    assert chosen.fabric == "1" and chosen.other_fabrics == {"2": ("RIB",)}
    assert "fabric 2: RIB" in chosen.summary()
    rib = select_pieces(pieces, [("m", 1)], "2", "style.dxf")  # pairs, and sizes ignore case
    assert [(p.name, p.size) for p in rib.pieces] == [("RIB", "M")]


@pytest.mark.parametrize("sizes, fabric, message", [
    (None, None, r"graded pattern with 2 sizes \(S, M\): choose with --sizes"),
    ("XL", None, r"unknown size\(s\) XL; sizes: S, M"),
    ("S", "9", r"--fabric 9: no piece has this fabric; fabrics: 1, 2"),
])
def test_selection_errors_list_what_is_available(tmp_path, sizes, fabric, message):
    pieces, _ = read_dxf(two_fabric_file(tmp_path))
    with pytest.raises(PatternError, match=message):
        select_pieces(pieces, sizes, fabric, "style.dxf")


def marker_document(out):
    return checked_marker_file(out / "marker.json")


def test_marker_with_sizes_ratio_and_fabric(tmp_path, capsys):
    path = two_fabric_file(tmp_path)
    out = tmp_path / "out"
    assert main(["marker", str(path), "--sizes", "S,M=2", "--width", "1000", "--iterations", "2",
                 "--formats", "json", "--out", str(out), "--quiet"]) == 0
    assert "left out (this marker is fabric 1): fabric 2: RIB" in capsys.readouterr().out
    document = marker_document(out)
    names = sorted((p["name"], p["size"], p["mirrored"]) for p in document["pieces"])
    assert names == sorted([("FRONT", "S", False), ("FRONT", "S", True), ("BACK", "S", False)]
                           + [("FRONT", "M", False), ("FRONT", "M", True)] * 2 + [("BACK", "M", False)] * 2)
    assert document["stats"]["left_out"].endswith("fabric 2: RIB")
    assert verify_file(out / "marker.json") == []

    rib_out = tmp_path / "rib"
    assert main(["marker", str(path), "--sizes", "M", "--fabric", "2", "--width", "1000", "--iterations", "2",
                 "--formats", "json", "--out", str(rib_out), "--quiet"]) == 0
    assert [p["name"] for p in marker_document(rib_out)["pieces"]] == ["RIB"]


def test_graded_file_without_sizes_is_a_user_error(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["marker", str(two_fabric_file(tmp_path)), "--width", "1000", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "choose with --sizes" in err and "S, M" in err and len(err.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_marker_on_real_graded_tee(tmp_path, capsys):
    path = shared_file("data/dxf/aama_accumark_men_classic_tee.dxf")
    out = tmp_path / "tee"
    assert main(["marker", str(path), "--sizes", "50", "--width", "1500", "--iterations", "2",
                 "--out", str(out), "--quiet"]) == 0
    stdout = capsys.readouterr().out
    assert "fabric 2: REGULAR TEECO" in stdout and "quantity 0: REGULAR TEESL1, REGULAR TEESFCO" in stdout
    document = marker_document(out)
    assert sorted(p["name"] for p in document["pieces"]) == sorted(
        ["REGULAR TEEFR", "REGULAR TEEBK"] + ["REGULAR TEESL BK", "REGULAR TEESL FR"] * 2)
    assert {p["size"] for p in document["pieces"]} == {"50"} and document["units"] == "mm"
    assert verify_file(out / "marker.json") == []
    assert (out / "marker.png").stat().st_size > 0


def test_marker_reads_the_chosen_layer_of_a_generic_drawing(tmp_path, capsys):
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    msp = doc.modelspace()
    for k in range(3):
        msp.add_lwpolyline(rectangle(400 * k, 0, 400 * k + 300, 200), close=True, dxfattribs={"layer": "CUT"})
    msp.add_lwpolyline(rectangle(-50, 100, 1200, 400), close=True, dxfattribs={"layer": "SHEET"})  # crosses them
    path = tmp_path / "drawing.dxf"
    doc.saveas(path)
    out = tmp_path / "out"
    assert main(["marker", str(path), "--width", "500", "--iterations", "1", "--formats", "json",
                 "--out", str(out), "--quiet"]) == 2
    assert "--layer" in capsys.readouterr().err
    assert main(["marker", str(path), "--layer", "cut", "--width", "500", "--iterations", "1", "--formats", "json",
                 "--out", str(out), "--quiet"]) == 0
    assert len(marker_document(out)["pieces"]) == 3
