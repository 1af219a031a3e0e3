"""``nest plan`` end to end on the graded example tee: totals against the order, verification, tampering, bad orders."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nesting.verify_file import verify_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "planning" / "examples"

ORDER = """
patterns = ["{pattern}"]
spacing = 2.0

[fabric]
width = 1500

[order.NAVY]
S = 7
M = 9
L = 4

[order.RED]
S = 3
M = 5

[limits]
table_length = 3200
max_plies = 5
max_garments_per_marker = 3
overcut = 0.1
end_allowance = 20
"""


def nest(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", "import sys, cli; sys.exit(cli.main(sys.argv[1:]))", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT, timeout=600,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def write_order(folder: Path, text: str = ORDER) -> Path:
    shutil.copy(EXAMPLES / "tee-graded.dxf", folder / "tee-graded.dxf")
    path = folder / "order.toml"
    path.write_text(text.format(pattern="tee-graded.dxf"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan")
    order = write_order(folder)
    result = nest("plan", order, "--time", "14", "--workers", "2", "--out", folder / "out")
    assert result.returncode == 0, result.stderr
    return folder / "out", result


def test_plan_writes_every_file_and_verifies(planned):
    out, result = planned
    assert {"plan.json", "plan.md", "plan.png", "markers"} <= {p.name for p in out.iterdir()}
    assert "best plan" in result.stderr  # progress on the terminal
    check = nest("verify", out / "plan.json")
    assert check.returncode == 0, check.stderr
    assert "verified" in check.stdout


def test_every_marker_of_the_plan_verifies_on_its_own(planned):
    out, _ = planned
    document = json.loads((out / "plan.json").read_text())
    markers = {lay["marker"] for lay in document["lays"]}
    markers |= {lay["marker"] for b in document["baselines"].values() for lay in b["lays"]}
    for marker in markers:
        assert verify_file(out / marker) == []
        assert (out / marker).with_name("marker.dxf").exists()


def test_plan_totals_meet_the_order_within_the_tolerances(planned):
    """Recomputed from the lays and the marker files themselves, not from the plan's totals."""
    out, _ = planned
    document = json.loads((out / "plan.json").read_text())
    ordered = {"NAVY": {"S": 7, "M": 9, "L": 4}, "RED": {"S": 3, "M": 5}}
    cut = {colour: {} for colour in ordered}
    fabric = 0.0
    for lay in document["lays"]:
        marker = json.loads((out / lay["marker"]).read_text())
        sizes = {}
        for piece in marker["pieces"]:
            if piece["name"] == "FRONT":  # one front per garment
                sizes[piece["size"]] = sizes.get(piece["size"], 0) + 1
        assert sizes == lay["ratio"]
        assert 1 <= sum(lay["plies"].values()) <= 5
        assert marker["length"] <= 3200
        fabric += sum(lay["plies"].values()) * (marker["length"] + 20) / 1000
        for colour, plies in lay["plies"].items():
            for size, n in sizes.items():
                cut[colour][size] = cut[colour].get(size, 0) + n * plies
    for colour, row in ordered.items():
        for size, d in row.items():
            assert d <= cut[colour].get(size, 0) <= math.floor(d * 1.1 + 1e-9), (colour, size, cut)
    assert cut == {c: {s: n for s, n in row.items() if n} for c, row in document["totals"]["cut"].items()}
    assert fabric == pytest.approx(document["totals"]["fabric_m"], rel=1e-9)
    for name, baseline in document["baselines"].items():
        if baseline["fabric_m"] is not None:
            assert document["totals"]["fabric_m"] <= baseline["fabric_m"] + 1e-9, name
    assert document["totals"]["lower_bound_m"] <= document["totals"]["fabric_m"]


def _tampered(planned, tmp_path, change) -> subprocess.CompletedProcess:
    out, _ = planned
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    change(copy)
    return nest("verify", copy / "plan.json")


def test_verify_catches_a_changed_ply_count(planned, tmp_path):
    def change(folder):
        document = json.loads((folder / "plan.json").read_text())
        lay = document["lays"][0]
        colour = next(iter(lay["plies"]))
        lay["plies"][colour] += 1
        (folder / "plan.json").write_text(json.dumps(document))

    result = _tampered(planned, tmp_path, change)
    assert result.returncode == 2
    assert "plies" in result.stderr or "cut" in result.stderr


def test_verify_catches_a_swapped_marker_file(planned, tmp_path):
    def change(folder):
        document = json.loads((folder / "plan.json").read_text())
        names = sorted({lay["marker"] for lay in document["lays"]}
                       | {lay["marker"] for b in document["baselines"].values() for lay in b["lays"]})
        shutil.copy(folder / names[1], folder / names[0])

    result = _tampered(planned, tmp_path, change)
    assert result.returncode == 2
    assert "marker" in result.stderr


BAD = [
    ("XXL", ORDER.replace("L = 4", "L = 4\nXXL = 2"), "order.NAVY.XXL"),
    ("negative", ORDER.replace("S = 7", "S = -7"), "order.NAVY.S"),
    ("fraction", ORDER.replace("S = 7", "S = 7.5"), "order.NAVY.S"),
    ("overcut", ORDER.replace("overcut = 0.1", "overcut = -0.1"), "limits.overcut"),
    ("min plies", ORDER.replace("overcut = 0.1", "overcut = 0.0\nmin_plies = 5"), "limits.min_plies"),
    ("short table", ORDER.replace("table_length = 3200", "table_length = 300"), "limits.table_length"),
]


@pytest.mark.parametrize(("case", "text", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_orders_are_refused_in_one_line_with_nothing_written(tmp_path, case, text, field):
    order = write_order(tmp_path, text)
    result = nest("plan", order, "--time", "5", "--out", tmp_path / "out")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], lines
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_ctrl_c_keeps_the_best_verified_plan(tmp_path):
    """The first Ctrl-C (to the whole process group, as a terminal sends it) ends the run with a written plan."""
    import os
    import signal
    import time

    order = write_order(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys, cli; sys.exit(cli.main(sys.argv[1:]))", "plan", str(order), "--time", "60",
         "--workers", "2", "--out", str(tmp_path / "out")],
        cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    lines = []
    for line in process.stderr:  # wait until the baselines are measured: a plan exists from then on
        lines.append(line)
        if line.strip().startswith("baselines:"):
            break
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, "".join(lines) + err
    assert time.monotonic() - started < 60
    assert "planning interrupted" in out
    document = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert document["stats"]["interrupted"] is True
    assert nest("verify", tmp_path / "out" / "plan.json").returncode == 0
