"""The marker spec: TOML in, a frozen MarkerSpec out; every bad field is one line naming it."""

import pytest
from shapely.geometry import box

from cli import main
from jobs.spec import MarkerSpec, load, with_options
from nesting.errors import SpecError
from nesting.model import Margins
from nesting.orientation import OrientationRule, RuleSet, parse_rotations
from tests.conftest import EXAMPLE

FULL = """
patterns = ["tee.dxf", "other.dxf"]
spacing = 2.5
shrinkage = [2.0, 1.0]

[sizes]
S = 1
M = 2
L = 2
XL = 1

[fabric]
width = 1500
max_length = 8000
code = "1"
price = 6.5
margins = { bottom = 10, top = 12, start = 20, end = 25 }

[[fabric.zones]]
rect = [2000, 0, 2100, 1500]

[[fabric.zones]]
polygon = [[500, 700], [560, 700], [530, 760]]

[rules]
rotations = "180"
tilt = 1.5
flip = false

[rules.categories.RIB]
rotations = "90"

[rules.pieces.SLEEVE]
rotations = "none"
flip = true
"""


def _write(tmp_path, text, name="marker.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_full_spec_reads_every_field(tmp_path):
    spec = load(_write(tmp_path, FULL))
    assert spec.patterns == (str(tmp_path / "tee.dxf"), str(tmp_path / "other.dxf"))
    assert spec.sizes == (("S", 1), ("M", 2), ("L", 2), ("XL", 1))
    assert spec.spacing == 2.5 and spec.shrinkage == (2.0, 1.0)
    assert (spec.width, spec.max_length, spec.fabric_code, spec.fabric_price) == (1500, 8000, "1", 6.5)
    assert spec.margins == Margins(bottom=10, top=12, start=20, end=25)
    assert spec.zones[0].equals(box(2000, 0, 2100, 1500))
    assert spec.zones[1].area == pytest.approx(60 * 60 / 2)
    assert spec.fabric.zones == spec.zones and spec.fabric.width == 1500
    rules = spec.orientation
    assert rules.default == OrientationRule("180", 1.5, False)
    # piece beats category beats fabric; unset fields fall through
    assert rules.resolve("SLEEVE", "TEE/SLEEVE/M", "RIB") == OrientationRule("none", 1.5, True)
    assert rules.resolve("COLLAR", "TEE/COLLAR/M", "RIB") == OrientationRule("90", 1.5, False)
    assert rules.resolve("FRONT", "TEE/FRONT/M", "SHELL") == OrientationRule("180", 1.5, False)


def test_piece_rule_matches_name_id_or_id_prefix():
    rules = RuleSet(pieces=(("TEE/SLEEVE", OrientationRule("none")),))
    assert rules.resolve("SLEEVE", "TEE/SLEEVE/M", None).rotations == "none"
    assert rules.resolve("SLEEVE", "POLO/SLEEVE/M", None).rotations is None
    assert rules.resolve("SLEEVEX", "TEE/SLEEVEX/M", None).rotations is None


def test_margin_number_means_all_four_edges(tmp_path):
    spec = load(_write(tmp_path, "[fabric]\nwidth = 100\nmargins = 5\n"))
    assert spec.margins == Margins(5, 5, 5, 5)


@pytest.mark.parametrize("text, field, reason", [
    ("spacing = -1", "spacing", ">= 0"),
    ("[sizes]\nS = 0", "sizes.S", ">= 1"),
    ("[sizes]\nS = 1.5", "sizes.S", "whole number"),
    ("sizes = 'S'", "sizes", "must be a table"),
    ("[fabric]\nwidth = -3", "fabric.width", "positive"),
    ("[fabric]\nwidht = 3", "fabric.widht", "unknown field"),
    ("colour = 'red'", "colour", "unknown field"),
    ("[fabric]\nwidth = 100\nmax_length = 0", "fabric.max_length", "positive"),
    ("[fabric]\nwidth = 100\nmargins = {bottom = 60, top = 40}", "fabric.margins", "no usable width"),
    ("[fabric]\nwidth = 100\nmargins = {left = 1}", "fabric.margins", "unknown edge"),
    ("[fabric]\nwidth = 100\n[[fabric.zones]]\nrect = [0, 90, 10, 120]", "fabric.zones[0]", "outside the fabric"),
    ("[fabric]\nwidth = 100\nmax_length = 50\n[[fabric.zones]]\nrect = [40, 0, 60, 10]", "fabric.zones[0]", "outside"),
    ("[fabric]\nwidth = 100\n[[fabric.zones]]\nrect = [10, 10, 5, 20]", "fabric.zones[0].rect", "x0 < x1"),
    ("[fabric]\nwidth = 100\n[[fabric.zones]]\npolygon = [[0, 0], [10, 10], [10, 0], [0, 10]]",
     "fabric.zones[0].polygon", "simple polygon"),
    ("[rules]\nrotations = '45'", "rules.rotations", "unknown rotation rule"),
    ("[rules]\nrotations = 'free:0'", "rules.rotations", "(0, 360]"),
    ("[rules]\ntilt = -1", "rules.tilt", "tilt must be"),
    ("[rules]\nflip = 'yes'", "rules.flip", "true or false"),
    ("[rules.pieces.SLEEVE]\nrotation = 'none'", "rules.pieces.SLEEVE.rotation", "unknown field"),
    ("shrinkage = [2]", "shrinkage", "two percentages"),
    ("shrinkage = [150, 0]", "shrinkage.along", "(-100, 100)"),
    ("[fabric]\nwidth = 100\nprice = -2", "fabric.price", ">= 0"),
    ("patterns = 3", "patterns", "list of pattern file names"),
    ("spacing = = 1", "", "not valid TOML"),
])
def test_bad_spec_names_field_and_reason(tmp_path, text, field, reason):
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {field}")
    assert reason in message


@pytest.mark.parametrize("options, field", [
    ({"spacing": -5}, "--spacing"),
    ({"margin": -1}, "--margin"),
    ({"rotations": "sideways"}, "--rotations"),
    ({"tilt": 50}, "--tilt"),
    ({"shrinkage": "2"}, "--shrinkage"),
    ({"shrinkage": "a,b"}, "--shrinkage.along"),
    ({"width": 0}, "--width"),
    ({"fabric_price": -1}, "--fabric-price"),
])
def test_bad_option_names_the_option(options, field):
    with pytest.raises(SpecError, match=f"^{field}: "):
        with_options(MarkerSpec(), **options)


def test_options_override_spec_fields(tmp_path):
    spec = with_options(load(_write(tmp_path, FULL)), spacing=4, margin=3, rotations="90", tilt=0, flip=True,
                        shrinkage="1,0.5", sizes="S=3,M", fabric_price=2)
    assert spec.spacing == 4 and spec.margins == Margins(3, 3, 3, 3)
    assert spec.shrinkage == (1.0, 0.5) and spec.fabric_price == 2
    assert spec.sizes == "S=3,M"  # parsed against the pattern's own sizes when the file is read
    assert spec.orientation.default == OrientationRule("90", 0.0, True)
    # the spec's piece and category rules still refine the command line's fabric rule
    assert spec.orientation.resolve("SLEEVE", "X/SLEEVE/M", None).rotations == "none"


@pytest.mark.parametrize("text, expected", [("none", "none"), ("180", "180"), (" 90 ", "90"), ("FREE:15", "free:15"),
                                            ("free:7.5", "free:7.5"), (180, "180")])
def test_rotation_rule_forms(text, expected):
    assert parse_rotations(text, "x") == expected


@pytest.mark.parametrize("text, needle", [
    ("spacing = -1\n[fabric]\nwidth = 1500\n", "spacing: must be >= 0"),
    ("[sizes]\nS = 0\n[fabric]\nwidth = 1500\n", "sizes.S"),
    ("[fabric]\nwidth = 1500\n[[fabric.zones]]\nrect = [0, 1400, 100, 1600]\n", "fabric.zones[0]: lies outside"),
    ("[fabric]\nwidth = 100\n", "fabric.width: piece"),
    ("[fabric]\nwidth = 1500\nmax_length = 500\n", "fabric.max_length"),
    ("[fabric]\nwidth = 1500\n[rules.pieces.SLEVE]\nflip = true\n", "rules.pieces.SLEVE: no piece"),
])
def test_cli_bad_spec_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, text, needle):
    spec = _write(tmp_path, f"patterns = ['{EXAMPLE}']\n" + text)
    out = tmp_path / "out"
    assert main(["marker", "--spec", str(spec), "--iterations", "2", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_cli_without_pattern_is_a_user_error(tmp_path, capsys):
    spec = _write(tmp_path, "[fabric]\nwidth = 1500\n")
    assert main(["marker", "--spec", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert "patterns: no pattern file" in capsys.readouterr().err


def test_missing_spec_file_is_a_user_error(tmp_path, capsys):
    assert main(["marker", str(EXAMPLE), "--spec", str(tmp_path / "nope.toml"), "--out", str(tmp_path)]) == 2
    assert "cannot read file" in capsys.readouterr().err


def test_readme_example_is_a_valid_spec(tmp_path):
    readme = (EXAMPLE.parents[2] / "README.md").read_text()
    section = readme[readme.index("## Marker specification"):]
    example = section[section.index("```toml") + len("```toml"):section.index("```\n", section.index("```toml"))]
    spec = load(_write(tmp_path, example))
    assert spec.sizes == (("S", 1), ("M", 2), ("L", 2), ("XL", 1)) and len(spec.zones) == 2
    assert spec.orientation.resolve("SLEEVE", "POLO/SLEEVE/M", "RIB") == OrientationRule("none", 1.0, True)
