"""The final verification is the gate for every output: a placement bug is refused, never written.

A bug is injected where the engine turns its search result into a marker (`nesting.engine.to_marker`).
The command must exit 1 (an internal error, not the user's fault) with its traceback and a last
line saying that nothing was written and why; the output folder must stay empty. The oracle of
what is wrong is plain geometry on the placed pieces, independent of the verifier's wording.
"""

from dataclasses import replace

import pytest
import shapely

import nesting.engine
from cli import main
from nesting.model import placed_polygon
from tests.conftest import INSTANCES

SHIRTS = INSTANCES / "shirts.json"


def _twin_indices(marker):
    """Two placements of one piece type (copies 0 and 1)."""
    by_piece = {}
    for k, placement in enumerate(marker.placements):
        by_piece.setdefault(placement.piece, []).append(k)
    return next(ks[:2] for ks in by_piece.values() if len(ks) >= 2)


def stack_a_copy_on_its_twin(marker):
    a, b = _twin_indices(marker)
    first = marker.placements[a]
    placements = list(marker.placements)
    placements[b] = replace(placements[b], x=first.x, y=first.y, rotation=first.rotation, mirrored=first.mirrored)
    return replace(marker, placements=tuple(placements)), "overlaps"


def drop_the_last_piece(marker):
    return replace(marker, placements=marker.placements[:-1]), "not placed"


def push_a_piece_off_the_fabric(marker):
    placements = list(marker.placements)
    placements[0] = replace(placements[0], y=placements[0].y + marker.fabric.width)
    return replace(marker, placements=tuple(placements)), "outside the usable fabric"


def turn_a_piece_a_quarter(marker):
    placements = list(marker.placements)
    placements[0] = replace(placements[0], rotation=(placements[0].rotation + 90.0) % 360.0)
    return replace(marker, placements=tuple(placements)), "breaks its rotation rule"


BUGS = [stack_a_copy_on_its_twin, drop_the_last_piece, push_a_piece_off_the_fabric, turn_a_piece_a_quarter]


def _broken_marker_is_really_broken(marker, bug_name) -> bool:
    """The oracle: shapely on the placed polygons, or the placement count."""
    polygons = [placed_polygon(marker.pieces[p.piece], p) for p in marker.placements]
    if bug_name == "stack_a_copy_on_its_twin":
        a, b = _twin_indices(marker)
        return shapely.intersection(polygons[a], polygons[b]).area > 0.5 * polygons[a].area
    if bug_name == "drop_the_last_piece":
        return len(marker.placements) < sum(piece.demand for piece in marker.pieces)
    if bug_name == "turn_a_piece_a_quarter":  # shirts allows 0 and 180 degrees only
        first = marker.placements[0]
        allowed = marker.pieces[first.piece].rotations_for(first.mirrored)
        return min(abs((first.rotation - a + 180.0) % 360.0 - 180.0) for a in allowed) > 1.0
    return any(p.bounds[3] > marker.fabric.width for p in polygons)


@pytest.mark.parametrize("bug", BUGS, ids=lambda bug: bug.__name__)
def test_a_placement_bug_is_refused_and_nothing_is_written(bug, monkeypatch, tmp_path, capsys):
    original = nesting.engine.to_marker
    seen = []

    def buggy_to_marker(*args, **kwargs):
        marker, symptom = bug(original(*args, **kwargs))
        seen.append((marker, symptom))
        return marker

    monkeypatch.setattr(nesting.engine, "to_marker", buggy_to_marker)
    out = tmp_path / "out"
    code = main(["marker", str(SHIRTS), "--iterations", "1", "--strategy", "blf", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    (marker, symptom), = seen
    assert _broken_marker_is_really_broken(marker, bug.__name__)
    last = err.strip().splitlines()[-1]
    assert last.startswith("internal error: nothing was written, the final check refused the marker")
    assert "marker failed verification" in last and symptom in last
    assert "Traceback" in err  # an internal error keeps its traceback for the bug report
    assert not out.exists() or not any(out.iterdir())


def test_without_the_bug_the_same_run_writes_a_verified_marker(tmp_path, capsys):
    """The control: the gate refuses the bugs above, not every marker."""
    out = tmp_path / "out"
    assert main(["marker", str(SHIRTS), "--iterations", "1", "--strategy", "blf", "--quiet", "--out", str(out)]) == 0
    assert (out / "marker.json").is_file()
    assert sorted(p.name for p in out.iterdir()) == ["marker.dxf", "marker.json", "marker.plt", "marker.png"]
