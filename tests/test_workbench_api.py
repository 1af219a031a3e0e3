"""The workbench's HTTP API through Starlette's test client, against independent oracles.

Outcomes are checked with what does not share the workbench's code: `nest info`'s own reader
output, shapely on the returned outlines, `nest verify`'s file check on what lands in the
workspace, ezdxf / xml.etree on the downloaded files.
"""

from __future__ import annotations

import json
import time
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from shapely.geometry import Polygon

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():  # starlette announces a successor of httpx; the client works the same
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from jobs.marker import MarkerJob  # noqa: E402
from jobs.options import BY_NAME, describe  # noqa: E402
from nesting.errors import SpecError  # noqa: E402
from nesting.verify_file import verify_file  # noqa: E402
from patterns.errors import PatternError  # noqa: E402
from patterns.info import pattern_info  # noqa: E402
from workbench import create_app, runner  # noqa: E402

TEE = Path(__file__).resolve().parents[1] / "patterns" / "examples" / "tee.dxf"
SEARCH_SECONDS = 3  # of wall budget: the search gets what writing the six formats leaves (about half)


def client_for(workspace, **options) -> TestClient:
    return TestClient(create_app(workspace, **options), base_url="http://127.0.0.1", headers={"X-Workbench": "1"})


def events_of(client, job_id) -> list[tuple[str, dict]]:
    """Every server-sent event of a job, read until the stream ends (when the job has ended)."""
    events, kind = [], None
    with client.stream("GET", f"/api/jobs/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[len("event: "):]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[len("data: "):])))
    return events


def placements(view) -> list[dict]:
    return [{k: piece[k] for k in ("x", "y", "rotation", "mirrored")} for piece in view["pieces"]]


def polygons(view) -> list[Polygon]:
    return [Polygon(piece["polygon"], piece["holes"]) for piece in view["pieces"]]


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """A workspace with the tee uploaded and nested once (M=2: ten pieces)."""
    workspace = tmp_path_factory.mktemp("workspace")
    client = client_for(workspace)
    upload = client.post("/api/upload?name=tee.dxf", content=TEE.read_bytes())
    assert upload.status_code == 200, upload.text
    job = client.post("/api/jobs", json={"pattern": "uploads/tee.dxf", "width": 1500, "sizes": "M=2",
                                         "time": SEARCH_SECONDS}).json()
    events = events_of(client, job["job_id"])
    return {"client": client, "workspace": workspace, "upload": upload.json(), "events": events,
            "marker_id": events[-1][1]["marker_id"]}


def test_upload_lists_the_pieces_as_nest_info_does(bench):
    info = pattern_info(bench["workspace"] / "uploads" / "tee.dxf")
    table = bench["upload"]
    assert table["file"] == "uploads/tee.dxf"
    assert [(r["name"], r["size"], r["quantity"], r["mirrored_quantity"], r["fabric"]) for r in table["pieces"]] == \
        [(r["name"], r["size"], r["quantity"], r["mirrored_quantity"], r["fabric"]) for r in info["pieces"]]
    assert [r["area_mm2"] for r in table["pieces"]] == pytest.approx([r["area_mm2"] for r in info["pieces"]])
    for row in table["pieces"]:  # a thumbnail is the outline, simplified within 1/200 of its size
        minx, miny, maxx, maxy = row["bbox"]
        assert Polygon(row["thumbnail"]).area == pytest.approx(row["area_mm2"], rel=0.02)
    assert (bench["workspace"] / "uploads" / "tee.dxf").read_bytes() == TEE.read_bytes()


def test_a_bad_upload_gets_the_importers_one_line_error(tmp_path):
    client = client_for(tmp_path / "ws")
    truncated = TEE.read_bytes()[: len(TEE.read_bytes()) // 2]
    response = client.post("/api/upload?name=cut.dxf", content=truncated)
    assert response.status_code == 400
    with pytest.raises(PatternError) as raised:
        pattern_info(tmp_path / "ws" / "uploads" / "cut.dxf")
    expected = str(raised.value).replace(f"{(tmp_path / 'ws').resolve()}/", "")
    assert response.json()["error"] == expected
    assert expected.startswith("uploads/cut.dxf: ") and "\n" not in expected
    bad_instance = client.post("/api/upload?name=items.json", content=b'{"items": [{"demand": -1}]}')
    assert bad_instance.status_code == 400 and bad_instance.json()["error"].startswith("uploads/items.json: ")


def test_oversize_uploads_are_refused_and_not_written(tmp_path):
    client = client_for(tmp_path, max_upload=1000)
    response = client.post("/api/upload?name=tee.dxf", content=TEE.read_bytes())
    assert response.status_code == 413 and "upload limit" in response.json()["error"]
    streamed = client.post("/api/upload?name=tee.dxf", content=iter([TEE.read_bytes()[:800]] * 3))  # no length
    assert streamed.status_code == 413
    assert not (tmp_path / "uploads" / "tee.dxf").exists()


def test_paths_outside_the_workspace_are_refused(tmp_path):
    workspace, outside = tmp_path / "ws", tmp_path / "outside.dxf"
    outside.write_bytes(TEE.read_bytes())
    client = client_for(workspace)
    for name in ("../evil.dxf", "..%2Fevil.dxf", "/tmp/evil.dxf", ".hidden.dxf"):
        assert client.post(f"/api/upload?name={name}", content=b"0\nEOF\n").status_code == 400
    assert not (tmp_path / "evil.dxf").exists()
    (workspace / "link.dxf").symlink_to(outside)
    for path in ("../outside.dxf", str(outside), "link.dxf"):
        response = client.post("/api/open", json={"path": path})
        assert response.status_code == 400 and "outside the workspace" in response.json()["error"]
    job = client.post("/api/jobs", json={"pattern": "../outside.dxf", "width": 1500})
    assert job.status_code == 400
    assert client.get("/api/files").json()["patterns"] == []  # the link leads out: not listed as openable


def test_changes_need_the_header_and_a_token_when_set(tmp_path):
    plain = TestClient(create_app(tmp_path), base_url="http://127.0.0.1")
    assert plain.post("/api/open", json={"path": "x.dxf"}).status_code == 403
    assert TestClient(create_app(tmp_path), base_url="http://evil.example").get("/").status_code == 400
    guarded = TestClient(create_app(tmp_path, token="s3cret", allowed_hosts=None), base_url="http://10.0.0.5")
    assert guarded.get("/api/files").status_code == 403
    assert guarded.get("/?token=wrong").status_code == 403
    assert guarded.get("/?token=s3cret").status_code == 200  # sets the cookie the page's requests carry
    assert guarded.get("/api/files").status_code == 200


def drawings(events) -> list[dict]:
    return [payload for kind, payload in events if kind == "marker"]


def assert_drawn_as_it_improves(events, pieces):
    """More than one improving marker drawn while searching, each shorter than the last, each a
    complete overlap-free layout by shapely; the last one drawn is the verified result."""
    drawn = drawings(events)
    *searching, final = drawn
    assert len(searching) > 1 and not any(frame["verified"] for frame in searching) and final["verified"]
    lengths = [frame["marker"]["length"] for frame in drawn]
    assert all(later < earlier for earlier, later in zip(lengths, lengths[1:-1])) and lengths[-1] <= lengths[-2]
    times = [frame["t"] for frame in searching]  # of the improvements drawn: each came after the last frame was sent
    assert times == sorted(times) and len(times) <= (times[-1] - times[0]) / runner.FRAME_INTERVAL + 2  # (throttled)
    for frame in searching:
        shapes = polygons(frame["marker"])
        assert len(shapes) == pieces
        assert not any(shapes[i].intersection(shapes[j]).area > 1e-6 * min(shapes[i].area, shapes[j].area)
                       for i in range(pieces) for j in range(i + 1, pieces))
    return final["marker"]


def test_the_nest_job_draws_the_marker_as_it_improves_and_writes_a_verified_one(bench):
    kinds = [kind for kind, _ in bench["events"]]
    assert kinds[-1] == "done" and "progress" in kinds
    final = assert_drawn_as_it_improves(bench["events"], 10)
    times = [payload["t"] for kind, payload in bench["events"] if kind == "progress"]
    assert times == sorted(times)
    folder = bench["workspace"] / bench["events"][-1][1]["folder"]
    assert {p.name for p in folder.iterdir()} == {f"marker.{f}" for f in ("json", "png", "dxf", "plt", "svg", "pdf")}
    assert verify_file(folder / "marker.json") == []
    document = json.loads((folder / "marker.json").read_text())
    assert len(document["pieces"]) == 10 and document["length"] == pytest.approx(final["length"])
    assert [p["polygon"] for p in document["pieces"]] == [p["polygon"] for p in final["pieces"]]
    assert document["rules"]["sizes"] == {"M": 2}


def test_a_portfolio_job_draws_the_global_best(bench):
    client = bench["client"]
    job = client.post("/api/jobs", json={"pattern": "uploads/tee.dxf", "width": 1500, "sizes": "M=2",
                                         "time": SEARCH_SECONDS + 1, "workers": 2}).json()
    events = events_of(client, job["job_id"])
    assert events[-1][0] == "done", events[-1]
    assert_drawn_as_it_improves(events, 10)
    assert verify_file(bench["workspace"] / events[-1][1]["folder"] / "marker.json") == []


def test_a_late_reader_gets_only_the_newest_drawing(bench):
    client = bench["client"]
    job = client.post("/api/jobs", json={"pattern": "uploads/tee.dxf", "width": 1500, "sizes": "M=2",
                                         "time": SEARCH_SECONDS}).json()
    app_job = client.app.state.workbench.job(job["job_id"])
    assert app_job.finished.wait(120)
    events = events_of(client, job["job_id"])  # after the end: the superseded drawings are gone
    assert [frame["verified"] for frame in drawings(events)] == [True]
    assert [kind for kind, _ in app_job.events].count("marker") > 1  # (they were there, and were let go)


def test_bad_nest_options_are_one_line_errors(bench):
    client = bench["client"]
    no_width = client.post("/api/jobs", json={"pattern": "uploads/tee.dxf"})
    assert no_width.status_code == 400 and "--width is required" in no_width.json()["error"]
    narrow = client.post("/api/jobs", json={"pattern": "uploads/tee.dxf", "width": 100})
    assert narrow.status_code == 400 and "does not fit" in narrow.json()["error"], narrow.text
    unknown = client.post("/api/jobs", json={"pattern": "uploads/tee.dxf", "width": 1500, "colour": "red"})
    assert unknown.status_code == 400 and "colour" in unknown.json()["error"]


def test_an_edit_onto_another_piece_is_reported_as_a_collision(bench):
    client, marker_id = bench["client"], bench["marker_id"]
    view = client.get(f"/api/markers/{marker_id}").json()
    assert view["valid"] and view["violations"] == []
    moved = placements(view["marker"])
    shapes = polygons(view["marker"])
    a, b = 0, 1
    (ax, ay), (bx, by) = shapes[a].centroid.coords[0], shapes[b].centroid.coords[0]
    moved[a]["x"] += bx - ax
    moved[a]["y"] += by - ay
    checked = client.post(f"/api/markers/{marker_id}/check", json={"placements": moved}).json()
    assert not checked["valid"] and any("overlaps" in line for line in checked["violations"])
    after = polygons(checked["marker"])
    # the README's rule: pieces overlap when they share more than 1e-6 of the smaller one's area
    overlapping = {i for i in range(len(after)) for j in range(len(after))
                   if i != j and after[i].intersection(after[j]).area > 1e-6 * min(after[i].area, after[j].area)}
    assert {a, b} <= overlapping
    assert set(checked["involved"]) == overlapping  # shapely, independently, agrees on who collides


def test_turn_and_flip_follow_the_pieces_rules(bench):
    client, marker_id = bench["client"], bench["marker_id"]
    view = client.get(f"/api/markers/{marker_id}").json()["marker"]
    turned = client.post(f"/api/markers/{marker_id}/turn",
                         json={"placements": placements(view), "index": 0, "action": "turn"}).json()
    before, after = view["pieces"][0], turned["marker"]["pieces"][0]
    assert (after["rotation"] - before["rotation"]) % 360 == pytest.approx(180)  # the tee's pieces allow 0/180
    assert Polygon(after["polygon"]).area == pytest.approx(Polygon(before["polygon"]).area)
    assert Polygon(after["polygon"]).envelope.centroid.distance(Polygon(before["polygon"]).envelope.centroid) < 1e-6
    flipped = client.post(f"/api/markers/{marker_id}/turn",
                          json={"placements": placements(view), "index": 0, "action": "flip"})
    assert flipped.status_code == 400 and "may not be mirrored" in flipped.json()["error"]


def test_only_a_valid_edit_can_be_kept(bench):
    client, marker_id = bench["client"], bench["marker_id"]
    view = client.get(f"/api/markers/{marker_id}").json()["marker"]
    colliding = placements(view)
    colliding[1].update(x=colliding[0]["x"], y=colliding[0]["y"], rotation=colliding[0]["rotation"])
    refused = client.post(f"/api/markers/{marker_id}/keep", json={"placements": colliding})
    assert refused.status_code == 409 and refused.json()["violations"]
    beyond = placements(view)
    beyond[0]["x"] += view["length"]  # past the end: free fabric, a longer marker
    kept = client.post(f"/api/markers/{marker_id}/keep", json={"placements": beyond})
    assert kept.status_code == 200, kept.text
    folder = bench["workspace"] / kept.json()["folder"]
    assert verify_file(folder / "marker.json") == []
    assert json.loads((folder / "marker.json").read_text())["length"] > view["length"]


def test_compact_from_a_colliding_edit_resolves_it(bench):
    client, marker_id = bench["client"], bench["marker_id"]
    view = client.get(f"/api/markers/{marker_id}").json()["marker"]
    colliding = placements(view)
    colliding[1].update(x=colliding[0]["x"] + 5, y=colliding[0]["y"], rotation=colliding[0]["rotation"])
    job = client.post(f"/api/markers/{marker_id}/compact", json={"placements": colliding, "time": SEARCH_SECONDS})
    assert job.status_code == 200 and job.json()["start_valid"] is False
    events = events_of(client, job.json()["job_id"])
    assert events[-1][0] == "done", events[-1]
    folder = bench["workspace"] / events[-1][1]["folder"]
    assert verify_file(folder / "marker.json") == []


def test_compact_from_a_valid_edit_is_never_longer(bench):
    client, marker_id = bench["client"], bench["marker_id"]
    view = client.get(f"/api/markers/{marker_id}").json()["marker"]
    spread = placements(view)
    spread[0]["x"] += view["length"]
    edited = client.post(f"/api/markers/{marker_id}/check", json={"placements": spread}).json()
    assert edited["valid"]
    job = client.post(f"/api/markers/{marker_id}/compact", json={"placements": spread, "time": SEARCH_SECONDS}).json()
    events = events_of(client, job["job_id"])
    assert events[-1][0] == "done"
    document = json.loads((bench["workspace"] / events[-1][1]["folder"] / "marker.json").read_text())
    assert document["length"] <= edited["marker"]["length"] + 1e-9
    assert verify_file(bench["workspace"] / events[-1][1]["folder"] / "marker.json") == []


def test_a_job_can_be_stopped_and_keeps_its_best(bench):
    client = bench["client"]
    job = client.post("/api/jobs", json={"pattern": "uploads/tee.dxf", "width": 1500, "sizes": "M=2",
                                         "time": 120}).json()
    busy = client.post("/api/jobs", json={"pattern": "uploads/tee.dxf", "width": 1500, "time": 1})
    assert busy.status_code == 400 and "already running" in busy.json()["error"]
    started = time.monotonic()
    client.post(f"/api/jobs/{job['job_id']}/stop")  # at once: the worker may still be starting
    events = events_of(client, job["job_id"])
    assert events[-1][0] == "done" and events[-1][1]["interrupted"] is True
    assert time.monotonic() - started < 60
    assert verify_file(bench["workspace"] / events[-1][1]["folder"] / "marker.json") == []


def test_every_format_downloads_after_the_gate(bench, tmp_path):
    client, marker_id = bench["client"], bench["marker_id"]
    files = {}
    for name in ("json", "png", "dxf", "plt", "svg", "pdf"):
        response = client.get(f"/api/markers/{marker_id}/files/{name}")
        assert response.status_code == 200, (name, response.text)
        assert marker_id in response.headers["content-disposition"]
        files[name] = tmp_path / f"marker.{name}"
        files[name].write_bytes(response.content)
    assert verify_file(files["json"]) == []
    pieces = len(json.loads(files["json"].read_text())["pieces"])
    import ezdxf

    doc = ezdxf.readfile(files["dxf"])
    assert len([b for b in doc.blocks if not b.name.startswith("*")]) == pieces
    svg = ET.parse(files["svg"]).getroot()
    assert len([g for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "piece"]) == pieces
    assert files["plt"].read_bytes().startswith(b"IN;")
    assert files["pdf"].read_bytes().startswith(b"%PDF")
    assert files["png"].read_bytes().startswith(b"\x89PNG")
    assert client.get(f"/api/markers/{marker_id}/files/exe").status_code == 400
    assert client.get("/api/markers/nothing-001/files/json").status_code == 400
    (bench["workspace"] / "markers" / marker_id / "marker.json").write_text("{}")  # tampered: the gate refuses
    try:
        assert client.get(f"/api/markers/{marker_id}/files/dxf").status_code == 409
    finally:
        files["json"].replace(bench["workspace"] / "markers" / marker_id / "marker.json")


def test_a_json_instance_is_nested_on_its_own_width(tmp_path):
    instance = Path(__file__).resolve().parents[1] / "benchmarks" / "instances" / "fu.json"
    client = client_for(tmp_path)
    table = client.post("/api/upload?name=fu.json", content=instance.read_bytes())
    assert table.status_code == 200 and table.json()["units"] == "instance"
    assert sum(r["quantity"] for r in table.json()["pieces"]) == sum(
        item["demand"] for item in json.loads(instance.read_text())["items"])
    job = client.post("/api/jobs", json={"pattern": "uploads/fu.json", "time": 1}).json()
    events = events_of(client, job["job_id"])
    assert events[-1][0] == "done", events[-1]
    assert verify_file(tmp_path / events[-1][1]["folder"] / "marker.json", instance=instance) == []


def test_the_page_offers_nest_markers_own_options(tmp_path):
    offered = client_for(tmp_path).get("/api/options").json()["options"]
    assert {option["name"] for option in offered} <= set(MarkerJob.option_names())
    assert {"width", "sizes", "fabric", "spacing", "rotations", "flip", "spread", "time", "workers"} <= \
        {option["name"] for option in offered}
    rows = {row["name"]: row for row in describe("marker")}
    for option in offered:  # the table's own rows: kind, help and choices as nest marker has them
        assert {k: option[k] for k in ("kind", "help", "choices")} == \
            {k: rows[option["name"]][k] for k in ("kind", "help", "choices")}


@pytest.mark.parametrize(("name", "value"), [("seed", "-1"), ("width", "nan"), ("spread", "sideways"),
                                             ("sizes", "M=x")])
def test_a_bad_option_from_the_page_is_refused_as_nest_marker_refuses_it(tmp_path, name, value):
    client = client_for(tmp_path)
    client.post("/api/upload?name=tee.dxf", content=TEE.read_bytes())
    response = client.post("/api/jobs", json={"pattern": "uploads/tee.dxf", "width": "1500", name: value})
    with pytest.raises(SpecError) as expected:
        BY_NAME[name].parse(value, BY_NAME[name].option)
    assert response.status_code == 400 and response.json()["error"] == str(expected.value)


def test_a_dxf_without_units_reads_with_the_units_option(tmp_path):
    import ezdxf

    drawing = ezdxf.new("R2000")
    drawing.header["$INSUNITS"] = 0  # unitless: the importer refuses to guess
    drawing.modelspace().add_lwpolyline([(0, 0), (30, 0), (30, 20), (0, 20)], close=True)
    source = tmp_path / "square.dxf"
    drawing.saveas(source)
    client = client_for(tmp_path / "ws")
    refused = client.post("/api/upload?name=square.dxf", content=source.read_bytes())
    assert refused.status_code == 400 and "units" in refused.json()["error"]
    read = client.post("/api/upload?name=square.dxf&units=cm", content=source.read_bytes())
    assert read.status_code == 200
    assert read.json()["pieces"][0]["area_mm2"] == pytest.approx(300 * 200)


def test_nest_serve_on_a_taken_port_is_a_one_line_error(tmp_path, capsys):
    import socket

    from cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code = main(["serve", "--port", str(taken.getsockname()[1]), "--workspace", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot listen on 127.0.0.1:") and err.count("\n") == 1


def test_flip_where_the_rule_allows_it(tmp_path):
    client = client_for(tmp_path)
    client.post("/api/upload?name=tee.dxf", content=TEE.read_bytes())
    job = client.post("/api/jobs", json={"pattern": "uploads/tee.dxf", "width": 1500, "flip": "yes", "time": 1}).json()
    events = events_of(client, job["job_id"])
    assert events[-1][0] == "done", events[-1]
    marker_id = events[-1][1]["marker_id"]
    view = client.get(f"/api/markers/{marker_id}").json()["marker"]
    assert all(piece["may_flip"] for piece in view["pieces"])
    flipped = client.post(f"/api/markers/{marker_id}/turn",
                          json={"placements": placements(view), "index": 0, "action": "flip"})
    assert flipped.status_code == 200, flipped.text
    before, after = view["pieces"][0], flipped.json()["marker"]["pieces"][0]
    assert after["mirrored"] is not before["mirrored"]
    shape, mirrored = Polygon(before["polygon"]), Polygon(after["polygon"])
    assert mirrored.area == pytest.approx(shape.area)
    assert mirrored.envelope.centroid.distance(shape.envelope.centroid) < 1e-6
    assert after["rotation"] % 360 in (0.0, 180.0)  # the tee's rule: 0/180 (a half turn more when mirrored)


GRADED = Path(__file__).resolve().parents[1] / "planning" / "examples" / "tee-graded.dxf"
ORDER = """
patterns = ["tee-graded.dxf"]
spacing = 2.0

[fabric]
width = 1500

[order]
S = 6
M = 9
L = 4

[limits]
table_length = 3200
max_plies = 5
max_garments_per_marker = 3
end_allowance = 20
"""


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The graded tee uploaded and an order for it planned from the page's order text."""
    workspace = tmp_path_factory.mktemp("planning")
    client = client_for(workspace)
    assert client.post("/api/upload?name=tee-graded.dxf", content=GRADED.read_bytes()).status_code == 200
    job = client.post("/api/plans", json={"name": "tee-order.toml", "order": ORDER, "time": 6, "workers": 1})
    assert job.status_code == 200, job.text
    events = events_of(client, job.json()["job_id"])
    assert events[-1][0] == "done", events[-1]
    return {"client": client, "workspace": workspace, "events": events, "plan_id": events[-1][1]["plan_id"]}


def test_an_order_is_planned_verified_and_shown(planned):
    """The plan shown is plan.json as written, which planning's own check passes; its totals are
    recomputed here from the lays and the marker files, not read from the plan."""
    from planning.verify import verify_plan

    client, workspace = planned["client"], planned["workspace"]
    assert (workspace / "uploads" / "tee-order.toml").read_text() == ORDER  # the order lands in the workspace
    assert any("best plan" in payload["text"] for kind, payload in planned["events"] if kind == "message")
    folder = workspace / planned["events"][-1][1]["folder"]
    assert verify_plan(folder / "plan.json") == []
    shown = client.get(f"/api/plans/{planned['plan_id']}").json()
    plan = shown["plan"]
    assert plan == json.loads((folder / "plan.json").read_text())
    cut, fabric = {}, 0.0
    for lay in plan["lays"]:
        marker = json.loads((folder / lay["marker"]).read_text())
        assert verify_file(folder / lay["marker"]) == []
        fronts = {}
        for piece in marker["pieces"]:
            if piece["name"] == "FRONT":  # one front per garment
                fronts[piece["size"]] = fronts.get(piece["size"], 0) + 1
        assert fronts == lay["ratio"] and 1 <= lay["plies"] <= 5 and marker["length"] <= 3200
        fabric += lay["plies"] * (marker["length"] + 20) / 1000
        for size, n in fronts.items():
            cut[size] = cut.get(size, 0) + n * lay["plies"]
        drawn = shown["markers"][lay["marker"]]  # each marker of the plan, drawn from its own file
        assert [p["polygon"] for p in drawn["pieces"]] == [p["polygon"] for p in marker["pieces"]]
        assert drawn["length"] == marker["length"] and drawn["width"] == 1500
    assert cut == {"S": 6, "M": 9, "L": 4} == plan["totals"]["cut"]
    assert fabric == pytest.approx(plan["totals"]["fabric_m"], rel=1e-9)
    assert plan["totals"]["lays"] == len(plan["lays"])
    assert set(shown["markers"]) == {lay["marker"] for lay in plan["lays"]}
    download = client.get(f"/api/plans/{planned['plan_id']}/files/plan.json")
    assert download.status_code == 200 and download.content == (folder / "plan.json").read_bytes()
    assert client.get(f"/api/plans/{planned['plan_id']}/files/plan.md").text.startswith("# Cut plan: ")
    assert client.get(f"/api/plans/{planned['plan_id']}/files/../plan.json").status_code in (400, 404)


def test_a_tampered_plan_is_neither_shown_nor_offered(planned):
    client, workspace = planned["client"], planned["workspace"]
    path = workspace / planned["events"][-1][1]["folder"] / "plan.json"
    original = path.read_text()
    document = json.loads(original)
    document["lays"][0]["plies"] += 1
    path.write_text(json.dumps(document))
    try:
        shown = client.get(f"/api/plans/{planned['plan_id']}")
        assert shown.status_code == 409 and "fails verification" in shown.json()["error"]
        assert client.get(f"/api/plans/{planned['plan_id']}/files/plan.json").status_code == 409
    finally:
        path.write_text(original)


def test_a_stopped_plan_keeps_the_best_verified_plan(planned):
    from planning.verify import verify_plan

    client, workspace = planned["client"], planned["workspace"]
    job = client.post("/api/plans", json={"name": "tee-order.toml", "order": ORDER, "time": 30}).json()
    events = client.app.state.workbench.job(job["job_id"]).events
    started = time.monotonic()
    while not any(kind == "message" and "best plan" in payload["text"] for kind, payload in events):
        assert time.monotonic() - started < 120, events  # (the first plan: the baselines are nested)
        time.sleep(0.2)
    client.post(f"/api/jobs/{job['job_id']}/stop")
    events = events_of(client, job["job_id"])
    assert events[-1][0] == "done" and events[-1][1]["interrupted"] is True, events[-1]
    assert time.monotonic() - started < 180
    assert verify_plan(workspace / events[-1][1]["folder"] / "plan.json") == []


@pytest.mark.parametrize("change, expected", [
    (lambda text: text.replace("L = 4", "XXL = 4"), "tee-order.toml: order.XXL: "),
    (lambda text: text.replace("[order]", "[sizes]\nS = 1\n\n[order]"), "tee-order.toml: sizes: "),
    (lambda text: text.replace("end_allowance = 20", "end_alowance = 20"), "tee-order.toml: limits.end_alowance: "),
    (lambda text: text.replace("table_length = 3200", "table_length = 300"), "tee-order.toml: limits.table_length: "),
    (lambda text: text.replace('"tee-graded.dxf"', '"../../outside.dxf"'), "tee-order.toml: patterns: "),
    (lambda text: text.replace("[fabric]", "[fabric"), "tee-order.toml: not valid TOML"),
])
def test_a_bad_order_is_one_clear_line_and_starts_nothing(planned, change, expected):
    client, workspace = planned["client"], planned["workspace"]
    before = sorted(p.name for p in (workspace / "plans").iterdir())
    response = client.post("/api/plans", json={"name": "tee-order.toml", "order": change(ORDER), "time": 5})
    assert response.status_code == 400
    error = response.json()["error"]
    assert expected in error and "\n" not in error and str(workspace) not in error, error
    assert error.startswith("uploads/tee-order.toml: ")
    assert client.app.state.workbench.running() is None
    assert sorted(p.name for p in (workspace / "plans").iterdir()) == before


def test_plan_requests_are_checked(planned):
    client = planned["client"]
    for body, field in (({"time": 5}, "order"), ({"order": ORDER, "time": -1}, "time"),
                        ({"order": ORDER, "workers": 0}, "workers"), ({"order": ORDER, "colour": 1}, "colour"),
                        ({"order": ORDER, "name": "../order.toml"}, "not a plain file name"),
                        ({"order": ORDER, "name": "order.dxf"}, "upload an order")):
        response = client.post("/api/plans", json=body)
        assert response.status_code == 400 and field in response.json()["error"], (body, response.text)
    assert client.get("/api/plans/nothing-001").status_code == 400
