"""Fuzzing the readers: random mutations of valid files must read or fail cleanly.

A mutated DXF pattern, JSON instance or marker file either reads as something valid (every
piece a valid polygon of positive area with finite coordinates, a non-negative demand) or
raises the reader's user error, a one-line message starting with the file name. Anything
else (an unexpected exception, a hang) is a bug. Mutated patterns and instances that read are
also nested (one bottom-left pass) and must give exit 0 with a marker the independent checker
accepts, or exit 2.

The normal suite runs a bounded number of examples per target; the long run is opt-in:

    python -m pytest -m fuzz tests/test_fuzz.py            # FUZZ_EXAMPLES (default 2000) each
"""

import copy
import json
import math
import os
import tempfile
from pathlib import Path

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from nesting.errors import MarkerFileError
from nesting.verify_file import verify_file
from patterns import PatternError, read_pieces
from tests.conftest import EXAMPLE, ROOT
from tests.data.bad.make_bad import _instance

BOUNDED_EXAMPLES = 60
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))
SMALL_DXF = ROOT / "tests" / "data" / "bad" / "duplicate_vertices.dxf"

# Values that have broken readers before: non-numbers, non-finite and huge numbers, empty text.
ODD_LINES = ["", " ", "0", "-0", "nan", "inf", "-inf", "1e308", "-1e308", "1e-320", "999999999999999999999",
             "EOF", "SECTION", "ENDSEC", "POLYLINE", "VERTEX", "SEQEND", "INSERT", "BLOCK", "ENDBLK", "LWPOLYLINE",
             "10", "20", "70", "90", "1", "8", "é", "\x00", "Piece Name: ", "Quantity: -1", "Units: furlong"]
ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.sampled_from([[], {}, [[0, 0]], [0, 0], {"type": "polygon"}, "simple_polygon"]),
)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


# --- mutations -------------------------------------------------------------------------------


@st.composite
def line_mutations(draw, lines: list[str]) -> str:
    """A DXF text with a few lines deleted, duplicated, swapped, replaced or cut off."""
    lines = list(lines)
    for _ in range(draw(st.integers(1, 4))):
        k = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "number", "truncate"]))
        if action == "delete":
            del lines[k:k + draw(st.integers(1, 12))]
        elif action == "duplicate":
            lines[k:k] = lines[k:k + draw(st.integers(1, 12))]
        elif action == "swap" and k + 1 < len(lines):
            lines[k], lines[k + 1] = lines[k + 1], lines[k]
        elif action == "replace":
            lines[k] = draw(st.sampled_from(ODD_LINES))
        elif action == "number":
            lines[k] = repr(draw(st.floats(allow_nan=True, allow_infinity=True)))
        else:
            lines = lines[:k]
        if not lines:
            break
    return "\n".join(lines) + "\n"


@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    """Bytes with a few flipped, inserted or deleted: encodings and binary junk."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        k = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "flip" and data:
            data[k] ^= draw(st.integers(1, 255))
        elif action == "insert":
            data[k:k] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[k:k + draw(st.integers(1, 64))]
    return bytes(data)


def _paths(node, prefix=()):
    """Every (path, value) in a JSON tree, the root included."""
    yield prefix, node
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, prefix + (key,))


@st.composite
def json_mutations(draw, document) -> str:
    """A JSON document with a few values replaced by odd ones, keys deleted or lists emptied."""
    document = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 3))):
        paths = [path for path, _ in _paths(document) if path]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "scale"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "scale" and _is_number(parent[path[-1]]):
            parent[path[-1]] = parent[path[-1]] * draw(st.sampled_from([-1, 0, 1e-12, 1e6, 1e300]))
        else:
            parent[path[-1]] = copy.deepcopy(draw(ODD_VALUES))  # sampled lists are shared: never mutate them
    return json.dumps(document)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- properties ------------------------------------------------------------------------------


def check_pattern_file(path: Path, **options):
    """Read ``path``: valid pieces, or a one-line `PatternError` naming the file."""
    try:
        pieces, report = read_pieces(path, **options)
    except PatternError as error:
        message = str(error)
        assert message.startswith(str(path)) and "\n" not in message, message
        return None
    assert pieces
    for piece in pieces:
        outline = piece.outline
        assert outline.is_valid and outline.area > 0, piece.id
        assert all(math.isfinite(c) for c in shapely.get_coordinates(outline).ravel()), piece.id
        assert piece.quantity >= 0 and piece.mirrored_quantity >= 0
        assert all(math.isfinite(r) for r in piece.rotations)
    return pieces, report


def check_nests_or_refuses(path: Path, out: Path, *options: str):
    """A readable file nests into a verified marker (exit 0) or is refused (exit 2)."""
    for stale in out.glob("*"):
        stale.unlink()
    code = main(["marker", str(path), *options, "--iterations", "1", "--strategy", "blf", "--formats", "json",
                 "--quiet", "--out", str(out)])
    assert code in (0, 2)
    if code == 0:
        instance = path if path.suffix == ".json" else None
        assert verify_file(out / "marker.json", instance=instance) == []
    else:
        assert not out.exists() or not any(out.iterdir())


def check_marker_file(path: Path):
    """verify_file raises `MarkerFileError` naming the file, or lists problems; a file it accepts
    must pass an independent check: valid polygons on the fabric, no two overlapping, the stated
    utilization (a slow, obvious implementation with shapely, sharing nothing with the verifier)."""
    try:
        problems = verify_file(path)
    except MarkerFileError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error), str(error)
        return
    assert all(isinstance(p, str) and p and "\n" not in p for p in problems), problems
    if problems:
        return
    document = json.loads(path.read_text(encoding="utf-8"))
    width, length = float(document["width"]), float(document["length"])
    polygons = [shapely.Polygon(entry["polygon"], entry.get("holes") or []) for entry in document["pieces"]]
    slack = 1e-6 * width
    for polygon in polygons:
        assert polygon.is_valid and polygon.area > 0
        x0, y0, x1, y1 = polygon.bounds
        assert x0 >= -slack and y0 >= -slack and y1 <= width + slack and x1 <= length + slack, polygon.bounds
    for i, a in enumerate(polygons):
        for b in polygons[i + 1:]:
            assert a.intersection(b).area <= 1e-6 * min(a.area, b.area) + 1e-9
    area = sum(p.area for p in polygons)
    assert math.isclose(area / (width * length), float(document["utilization"]), rel_tol=1e-6)


# --- targets ---------------------------------------------------------------------------------


def _fuzz_dxf_lines(scratch, examples, source):
    lines = source.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    path, out = scratch / "mutated.dxf", scratch / "out"

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=line_mutations(lines))
    def run(text):
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        if check_pattern_file(path, units="mm") is not None:
            check_nests_or_refuses(path, out, "--width", "1500", "--units", "mm")

    run()


def _fuzz_dxf_bytes(scratch, examples):
    data = SMALL_DXF.read_bytes()
    path = scratch / "mutated-bytes.dxf"

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(mutated=byte_mutations(data))
    def run(mutated):
        path.write_bytes(mutated)
        check_pattern_file(path, units="mm")

    run()


def _fuzz_instance(scratch, examples):
    path, out = scratch / "mutated.json", scratch / "out"

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=st.one_of(json_mutations(_instance()), byte_mutations(json.dumps(_instance()).encode()).map(
        lambda data: data.decode("utf-8", errors="replace"))))
    def run(text):
        path.write_text(text, encoding="utf-8")
        if check_pattern_file(path) is not None:
            check_nests_or_refuses(path, out)

    run()


def _fuzz_marker_file(scratch, examples):
    source = scratch / "valid.json"
    source.write_text(json.dumps(_instance()))
    valid_dir = scratch / "valid-marker"
    assert main(["marker", str(source), "--iterations", "1", "--strategy", "blf", "--formats", "json", "--quiet",
                 "--out", str(valid_dir)]) == 0
    document = json.loads((valid_dir / "marker.json").read_text())
    path = scratch / "mutated-marker.json"

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=json_mutations(document))
    def run(text):
        path.write_text(text, encoding="utf-8")
        check_marker_file(path)

    run()


TARGETS = {
    "aama-dxf-lines": lambda scratch, n: _fuzz_dxf_lines(scratch, n, EXAMPLE),
    "generic-dxf-lines": lambda scratch, n: _fuzz_dxf_lines(scratch, n, SMALL_DXF),
    "dxf-bytes": _fuzz_dxf_bytes,
    "json-instance": _fuzz_instance,
    "marker-file": _fuzz_marker_file,
}


@pytest.mark.parametrize("target", TARGETS)
def test_readers_survive_mutated_files(target, scratch):
    TARGETS[target](scratch, BOUNDED_EXAMPLES)


@pytest.mark.fuzz
@pytest.mark.parametrize("target", TARGETS)
def test_readers_survive_mutated_files_long_run(target, scratch):
    TARGETS[target](scratch, FUZZ_EXAMPLES)
