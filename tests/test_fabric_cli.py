"""``nest marker`` on folded, tubular, striped, checked and sectioned fabric, end to end: every
marker passes ``nest verify``; the files are re-checked here from marker.json with plain
geometry; bad rules are one line and exit 2; a marker file edited to break a rule is refused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from cli import main
from tests.conftest import shared_file
from tests.dxf_factory import PieceSpec, pattern_file
from tests.test_bad_inputs import assert_nothing_written, user_error

TEE = Path(__file__).resolve().parents[1] / "patterns" / "examples" / "tee.dxf"
FAST = ["--iterations", "3", "--quiet"]


def nested(tmp_path, name, *argv) -> dict:
    out = tmp_path / name
    assert main(["marker", *map(str, argv), *FAST, "--out", str(out)]) == 0
    assert main(["verify", str(out / "marker.json")]) == 0
    return json.loads((out / "marker.json").read_text())


def spec_file(tmp_path, name, text) -> Path:
    (tmp_path / "tee.dxf").write_bytes(TEE.read_bytes())
    path = tmp_path / f"{name}.toml"
    path.write_text('patterns = ["tee.dxf"]\n' + text)
    return path


def placed_point(entry, point):
    x, y = point
    x = -x if entry["mirrored"] else x
    c, s = math.cos(math.radians(entry["rotation"])), math.sin(math.radians(entry["rotation"]))
    return (c * x - s * y + entry["x"], s * x + c * y + entry["y"])


@pytest.mark.parametrize("spread", ["folded", "tubular", "face-to-face"])
def test_the_tee_on_a_two_ply_spread_counts_every_garment(tmp_path, spread):
    width = 1500 if spread == "face-to-face" else 750
    document = nested(tmp_path, spread, TEE, "--width", width, "--sizes", "M=2", "--spread", spread)
    assert document["spread"] == spread and document["open_width"] == 1500
    # 2 garments: front, back, neckband x 2 and a sleeve pair x 2 are 10 pieces, 5 placements of 2 each
    assert len(document["pieces"]) == 5 and all(entry["yields"] == 2 for entry in document["pieces"])
    assert document["report"]["pieces_cut"] == 10 and document["report"]["garments"] == 2


def test_the_accumark_tank_halves_lie_on_the_folds(tmp_path):
    tank = shared_file("data/dxf/aama_accumark_wm_slim_tank.dxf")
    for spread, edges in (("folded", {"top"}), ("tubular", {"top", "bottom"})):
        document = nested(tmp_path, spread, tank, "--width", 460, "--sizes", "32,36", "--spread", spread)
        assert len(document["pieces"]) == 4  # front and back halves of two sizes, each one whole piece
        seen = set()
        for entry in document["pieces"]:
            fold = document["rules"]["pieces"][entry["id"]]["fold"]
            ys = [placed_point(entry, p)[1] for p in fold]
            ys_outline = [y for _, y in entry["polygon"]]
            edge = "top" if min(ys) > 230 else "bottom"
            target = 460.0 if edge == "top" else 0.0
            assert all(abs(y - target) < 0.05 for y in ys)  # the mirror line on the fold ...
            assert (max(ys_outline) if edge == "top" else min(ys_outline)) == pytest.approx(target, abs=1e-6)
            seen.add(edge)
        assert seen <= edges
    document = nested(tmp_path, "open", tank, "--width", 920, "--sizes", "32,36")  # the halves unfolded
    assert document["spread"] == "open" and not any(p["fold"] for p in document["rules"]["pieces"].values())
    assert all(entry["yields"] == 1 for entry in document["pieces"]) and len(document["pieces"]) == 4


@pytest.mark.parametrize("kind", ["stripe", "check"])
def test_matched_pieces_sit_on_the_repeat_in_the_file(tmp_path, kind):
    repeat = "along = 40\n" + ("across = 40\n" if kind == "check" else "")
    how = "both" if kind == "check" else "along"
    rules = "".join(f'[rules.pieces.{p}]\nmatch = "{how}"\nmatch_point = "grain"\nmatch_group = "body"\n'
                    for p in ("FRONT", "BACK", "SLEEVE"))
    spec = spec_file(tmp_path, kind, f"[sizes]\nM = 2\n[fabric]\nwidth = 1500\n[fabric.repeat]\n{repeat}{rules}")
    document = nested(tmp_path, kind, "--spec", spec, "--round-to-repeat")
    assert document["length"] / 40 == pytest.approx(round(document["length"] / 40))
    matched = 0
    for entry in document["pieces"]:
        match = document["rules"]["pieces"][entry["id"]]["match"]
        if match is None:
            assert entry["name"] == "NECKBAND"
            continue
        matched += 1
        x, y = placed_point(entry, match["point"])
        assert min(x % 40, 40 - x % 40) < 1e-6
        if kind == "check":
            assert min(y % 40, 40 - y % 40) < 1e-6
    assert matched == 8


def test_three_shade_sections(tmp_path):
    spec = spec_file(tmp_path, "sections", "[sizes]\nM = 3\n[fabric]\nwidth = 1500\nsections = 3\n")
    document = nested(tmp_path, "sections", "--spec", spec)
    sections = document["rules"]["sections"]
    assert len(sections) == 3 and sections[-1][1] == pytest.approx(document["length"])
    per_section = [set() for _ in sections]
    for entry in document["pieces"]:
        xs = [x for x, _ in entry["polygon"]]
        k = next(k for k, (a, b) in enumerate(sections) if a - 1e-6 <= min(xs) and max(xs) <= b + 1e-6)
        per_section[k].add(entry["name"])
    assert all(names == {"FRONT", "BACK", "SLEEVE", "NECKBAND"} for names in per_section)  # one garment each
    plt = (tmp_path / "sections" / "marker.plt").read_text()
    pen = plt[plt.index("SP2;"):plt.index("SP1;")]  # the pen draws each boundary across the fabric (40 units a mm)
    for _, end in sections[:-1]:
        x = round(end * 40)
        assert f"PU{x},0;\nPD{x},60000;" in pen


def _unfoldable(tmp_path) -> Path:
    half = [(0, 0), (250, 0), (260, 450), (180, 600), (0, 600)]
    spec = PieceSpec("BODY_M", [half], texts={"Piece Name": "BODY", "Size": "M", "Quantity": "1"},
                     mirror=((0, 900), (0, 0)), grain=((0, 100), (0, 500)))  # the line runs past the outline
    return pattern_file(tmp_path / "body.dxf", [spec])


BAD_SPECS = {
    "notch": ('[sizes]\nM = 2\n[fabric]\nwidth = 1500\n[fabric.repeat]\nalong = 40\n[rules.pieces.FRONT]\n'
              'match = "along"\nmatch_point = "notch:3"\n', "no notch 3"),
    "no-point": ('[sizes]\nM = 2\n[fabric]\nwidth = 1500\n[fabric.repeat]\nalong = 40\n[rules.pieces.FRONT]\n'
                 'match = "along"\n', "match_point: is required"),
    "repeat-too-wide": ('[sizes]\nM = 2\n[fabric]\nwidth = 1500\n[fabric.repeat]\nacross = 2000\n',
                        "larger than the usable width"),
    "no-repeat": ('[sizes]\nM = 2\n[fabric]\nwidth = 1500\n[rules.pieces.FRONT]\nmatch = "across"\n'
                  'match_point = "grain"\n', "no repeat across"),
    "sections": ("[sizes]\nM = 2\n[fabric]\nwidth = 1500\nsections = 5\n", "5 sections for 2 garments"),
    "odd-on-fold": ('[sizes]\nM = 1\n[fabric]\nwidth = 750\nspread = "folded"\n', "cuts 2"),
    "fold-margin": ('[sizes]\nM = 2\n[fabric]\nwidth = 750\nspread = "folded"\nmargins = 5\n', "that edge is a fold"),
    "spread": ('[fabric]\nwidth = 750\nspread = "zigzag"\n', "unknown spread"),
    "round": ("[fabric]\nwidth = 1500\nround_to_repeat = true\n", "no repeat along"),
    "match": ('[fabric]\nwidth = 1500\n[fabric.repeat]\nalong = 40\n[rules.pieces.FRONT]\nmatch = "diagonal"\n',
              "must be one of across, along, both"),
}


@pytest.mark.parametrize("name", sorted(BAD_SPECS))
def test_bad_fabric_rules_are_one_line_and_exit_2(tmp_path, capsys, name):
    text, reason = BAD_SPECS[name]
    spec = spec_file(tmp_path, name, text)
    line = user_error(["marker", "--spec", str(spec), *FAST, "--out", str(tmp_path / "out")], capsys)
    assert reason in line and (f"{name}.toml" in line), line
    assert_nothing_written(tmp_path / "out")


def test_a_half_that_cannot_be_unfolded_is_refused_on_an_open_spread(tmp_path, capsys):
    body = _unfoldable(tmp_path)
    out = tmp_path / "out"
    line = user_error(["marker", str(body), "--width", "1500", *FAST, "--out", str(out)], capsys)
    assert "piece BODY" in line and "cannot unfold" in line and "body.dxf" in line
    assert_nothing_written(out)
    # on a folded spread it is what it is, a half on the fold (one placement: one whole piece)
    document = nested(tmp_path, "folded", body, "--width", "700", "--spread", "folded")
    assert document["pieces"][0]["yields"] == 1


def _tampered(tmp_path, document, edit) -> tuple[int, str]:
    edit(document)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(document))
    return main(["verify", str(path)])


def _move(entry, dx, dy):
    entry["x"] += dx
    entry["y"] += dy
    entry["polygon"] = [[x + dx, y + dy] for x, y in entry["polygon"]]


def test_a_marker_file_edited_off_its_rules_is_refused(tmp_path, capsys):
    tank = shared_file("data/dxf/aama_accumark_wm_slim_tank.dxf")
    folded = nested(tmp_path, "folded", tank, "--width", 460, "--sizes", "36", "--spread", "folded")
    assert _tampered(tmp_path, folded, lambda d: _move(d["pieces"][0], 0.0, -5.0)) == 2
    assert "not on the fold" in capsys.readouterr().err

    spec = spec_file(tmp_path, "stripe", '[sizes]\nM = 2\n[fabric]\nwidth = 1500\n[fabric.repeat]\nalong = 40\n'
                                         '[rules.pieces.BACK]\nmatch = "along"\nmatch_point = "grain"\n')
    striped = nested(tmp_path, "stripe", "--spec", spec)
    back = next(e for e in striped["pieces"] if e["name"] == "BACK")
    far = max(x for e in striped["pieces"] for x, _ in e["polygon"])
    shift = 40.0 * math.ceil((far - min(x for x, _ in back["polygon"])) / 40.0 + 1) + 7.0  # 7 mm off its stripe
    assert _tampered(tmp_path, striped, lambda d: (_move(back, shift, 0.0), d.update(length=far + shift))) == 2
    assert "off the repeat" in capsys.readouterr().err

    spec = spec_file(tmp_path, "sections", "[sizes]\nM = 2\n[fabric]\nwidth = 1500\nsections = 2\n")
    sectioned = nested(tmp_path, "sections", "--spec", spec)
    first_front = next(e for e in sectioned["pieces"] if e["name"] == "FRONT" and e["copy"] == 0)
    other = next(e for e in sectioned["pieces"] if e["name"] == "FRONT" and e["copy"] == 1)

    def swap(document):  # the two garments' fronts change places: each now lies in the other's section
        for key in ("x", "y", "polygon", "holes", "rotation", "mirrored", "grain_deviation"):
            first_front[key], other[key] = other[key], first_front[key]
    assert _tampered(tmp_path, sectioned, swap) == 2
    assert "of the same garment" in capsys.readouterr().err


def test_the_svg_draws_the_fabric_lines(tmp_path):
    import xml.etree.ElementTree as ET

    spec = spec_file(tmp_path, "check", '[sizes]\nM = 4\n[fabric]\nwidth = 750\nspread = "tubular"\nsections = 2\n'
                                        '[fabric.repeat]\nalong = 100\nacross = 50\n')
    out = tmp_path / "svg"
    assert main(["marker", "--spec", str(spec), *FAST, "--formats", "json,svg", "--out", str(out)]) == 0
    document = json.loads((out / "marker.json").read_text())
    lines = ET.parse(out / "marker.svg").getroot().iter("{http://www.w3.org/2000/svg}line")
    kinds = [line.get("class") for line in lines]
    assert kinds.count("fold") == 2 and kinds.count("section") == 1
    across = int(750 / 50) + 1
    along = math.floor(document["length"] / 100) + 1
    assert kinds.count("repeat") == across + along
