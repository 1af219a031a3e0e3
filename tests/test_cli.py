"""End to end through ``cli.main``: files written, verification passes, exit codes honest."""

import json
import signal

import pytest

from cli import main
from nesting.verify_file import verify_file
from tests.conftest import EXAMPLE, INSTANCES
from tests.naive import checked_marker_file


@pytest.mark.parametrize("name", ["shirts", "trousers", "jakobs1"])
def test_marker_on_instances_verifies(tmp_path, name, capsys):
    instance = INSTANCES / f"{name}.json"
    assert main(["marker", str(instance), "--iterations", "3", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "utilization" in out
    assert (tmp_path / "marker.png").stat().st_size > 0
    document = checked_marker_file(tmp_path / "marker.json")
    demand = sum(item["demand"] for item in json.loads(instance.read_text())["items"])
    assert len(document["pieces"]) == demand
    assert verify_file(tmp_path / "marker.json", instance=instance) == []
    assert main(["verify", str(tmp_path / "marker.json"), "--instance", str(instance)]) == 0


def test_marker_on_bundled_dxf(tmp_path):
    assert main(["marker", str(EXAMPLE), "--width", "1500", "--iterations", "3", "--out", str(tmp_path), "--quiet"]) == 0
    document = checked_marker_file(tmp_path / "marker.json")
    assert {p["name"] for p in document["pieces"]} >= {"FRONT", "BACK", "SLEEVE"}
    assert document["units"] == "mm"


def test_verify_rejects_an_overlapping_marker(tmp_path, capsys):
    instance = INSTANCES / "shirts.json"
    assert main(["marker", str(instance), "--iterations", "1", "--strategy", "blf", "--out", str(tmp_path), "--quiet"]) == 0
    document = json.loads((tmp_path / "marker.json").read_text())
    document["pieces"][1]["polygon"] = document["pieces"][0]["polygon"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    assert main(["verify", str(bad)]) == 2
    assert "overlaps" in capsys.readouterr().err


def test_dxf_without_width_is_a_user_error(tmp_path, capsys):
    assert main(["marker", str(EXAMPLE), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--width" in err and "Traceback" not in err
    assert not (tmp_path / "marker.json").exists()


def test_piece_wider_than_fabric_is_a_user_error(tmp_path, capsys):
    assert main(["marker", str(EXAMPLE), "--width", "100", "--out", str(tmp_path), "--quiet"]) == 2
    assert "does not fit" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_command_gives_the_callers_signal_handlers_back(tmp_path):
    """`nest marker` installs its own Ctrl-C handler; a caller in the same process gets its own back."""
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert main(["marker", str(INSTANCES / "shapes0.json"), "--iterations", "1", "--strategy", "blf",
                 "--formats", "json", "--out", str(tmp_path), "--quiet"]) == 0
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
