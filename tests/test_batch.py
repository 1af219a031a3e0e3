"""`nest batch`: a Dask LocalCluster and the local pool give the same verified markers; a broken
job fails alone with its reason; summaries match the marker files; a re-run resumes."""

import csv
import io
import json
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

from cli import main
from jobs.batch import FAILED, OK, SKIPPED, BatchError, JobResult, load_jobs, run_batch
from jobs.batch.local import run_pool
from jobs.batch.progress import BatchProgress
from jobs.batch.result import WORKER_DIED
from jobs.batch.tasks import NestTask, TaskRunner
from jobs.batch.worker import finished, run_job
from nesting.config import NestConfig
from nesting.fabric import Fabric
from nesting.search.base import Stop
from nesting.verify_file import verify_file
from patterns.instances import load_instance
from tests.conftest import EXAMPLE, INSTANCES

INSTANCE_JOBS = {"jakobs1": "jakobs1", "shapes0": "shapes0", "fu": "fu", "dagli": "dagli", "jakobs2": "jakobs2"}
GOOD = (*INSTANCE_JOBS, "tee")

JOBS_TOML = """
[defaults]
iterations = 2
formats = ["json"]

[[job]]
name = "jakobs1"
input = "inputs/jakobs1.json"

[[job]]
name = "shapes0"
input = "inputs/shapes0.json"

[[job]]
name = "fu"
input = "inputs/fu.json"
formats = "png,json"

[[job]]
name = "dagli"
input = "inputs/dagli.json"
seed = 3

[[job]]
name = "tee"
input = "inputs/tee.dxf"
width = 1500

[[job]]
name = "broken"
input = "inputs/broken.dxf"
width = 1500

[[job]]
name = "jakobs2"
input = "inputs/jakobs2.json"
seed = 1
"""


@pytest.fixture(scope="module")
def jobs_file(tmp_path_factory):
    """The jobs file in a folder of its own, its inputs beside it (paths relative to it)."""
    folder = tmp_path_factory.mktemp("batch")
    inputs = folder / "inputs"
    inputs.mkdir()
    for name in set(INSTANCE_JOBS.values()):
        shutil.copy(INSTANCES / f"{name}.json", inputs)
    shutil.copy(EXAMPLE, inputs / "tee.dxf")
    (inputs / "broken.dxf").write_text("0\nSECTION\nthis is not a DXF file\n")
    path = folder / "jobs.toml"
    path.write_text(JOBS_TOML)
    return path


def _run(jobs_file, out, **options):
    return {r.name: r for r in run_batch(load_jobs(jobs_file, out), out, workers=2, **options)}


@pytest.fixture(scope="module")
def dask_run(jobs_file):
    pytest.importorskip("distributed")
    out = jobs_file.parent / "dask"
    return out, _run(jobs_file, out, scheduler="local")


@pytest.fixture(scope="module")
def pool_run(jobs_file):
    out = jobs_file.parent / "pool"
    return out, _run(jobs_file, out)


def _pieces(marker_path):
    document = json.loads(marker_path.read_text())
    return {(p["id"], p["copy"]): (p["polygon"], p["holes"]) for p in document["pieces"]}


def test_dask_cluster_batch_writes_verified_markers(dask_run, jobs_file):
    out, results = dask_run
    assert set(results) == {*GOOD, "broken"}
    for name in GOOD:
        assert results[name].status == OK, results[name].reason
        assert verify_file(out / name / "marker.json") == []
    for name, instance in INSTANCE_JOBS.items():  # every item placed with its demand and allowed rotations
        assert verify_file(out / name / "marker.json", instance=jobs_file.parent / "inputs" / f"{instance}.json") == []
    assert (out / "fu" / "marker.png").stat().st_size > 0
    assert not (out / "jakobs1" / "marker.png").exists()


def test_broken_input_fails_alone_with_its_reason(dask_run):
    out, results = dask_run
    broken = results["broken"]
    assert broken.status == FAILED
    assert "broken.dxf" in broken.reason and "\n" not in broken.reason
    assert not (out / "broken" / "marker.json").exists()


def test_summary_files_match_the_markers(dask_run):
    out, results = dask_run
    summary = json.loads((out / "summary.json").read_text())
    rows = {row["job"]: row for row in summary["jobs"]}
    table = {row["job"]: row for row in csv.DictReader(io.StringIO((out / "summary.csv").read_text()))}
    assert list(rows) == list(table) == [r.name for r in results.values()]
    assert summary["counts"] == {"ok": len(GOOD), "skipped": 0, "failed": 1, "error": 0}
    for name in GOOD:
        marker = json.loads((out / name / "marker.json").read_text())
        for row in (rows[name], table[name]):
            assert row["status"] == "ok"
            assert int(row["pieces"]) == len(marker["pieces"])
            assert float(row["length"]) == marker["length"]
            assert float(row["utilization"]) == marker["utilization"]
            assert str(row["meets_target"]) == str(marker["meets_target"])
    assert rows["broken"]["status"] == table["broken"]["status"] == "failed"
    assert rows["broken"]["reason"] == table["broken"]["reason"] == results["broken"].reason
    assert rows["broken"]["length"] is None and table["broken"]["length"] == ""


def test_local_pool_gives_the_same_markers(dask_run, pool_run):
    (dask_out, _), (pool_out, results) = dask_run, pool_run
    assert {name: r.status for name, r in results.items()} == {**dict.fromkeys(GOOD, OK), "broken": FAILED}
    for name in GOOD:
        assert _pieces(pool_out / name / "marker.json") == _pieces(dask_out / name / "marker.json"), name


def test_resume_skips_verified_markers_and_reruns_the_rest(pool_run, jobs_file, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(pool_run[0], out)
    tampered = out / "fu" / "marker.json"
    document = json.loads(tampered.read_text())
    document["pieces"][0]["polygon"] = document["pieces"][1]["polygon"]  # two pieces on one spot
    tampered.write_text(json.dumps(document))
    assert verify_file(tampered) != []
    before = {name: (out / name / "marker.json").stat().st_mtime_ns for name in GOOD if name != "fu"}

    results = _run(jobs_file, out)

    assert {name: results[name].status for name in before} == dict.fromkeys(before, SKIPPED)
    assert {name: (out / name / "marker.json").stat().st_mtime_ns for name in before} == before
    assert results["fu"].status == OK and verify_file(tampered) == []
    assert results["broken"].status == FAILED
    assert results["jakobs1"].length == pool_run[1]["jakobs1"].length


def test_changed_option_or_input_is_not_finished(pool_run, jobs_file, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(pool_run[0], out)
    assert finished(load_jobs(jobs_file, out)[1]).status == SKIPPED
    changed = jobs_file.parent / "changed.toml"
    changed.write_text(JOBS_TOML.replace("seed = 3", "seed = 4"))
    jobs = {job.name: job for job in load_jobs(changed, out)}
    assert finished(jobs["dagli"]) is None  # another seed
    assert finished(jobs["jakobs1"]).status == SKIPPED  # same options, same input
    shutil.copytree(jobs_file.parent / "inputs", tmp_path / "inputs")
    (tmp_path / "jobs.toml").write_text(JOBS_TOML)
    job = load_jobs(tmp_path / "jobs.toml", out)[0]
    before = job.fingerprint()
    with open(tmp_path / "inputs" / "jakobs1.json", "a") as file:
        file.write("\n")
    after = job.fingerprint()
    assert after["sha256"]["input"] != before["sha256"]["input"]  # an edited input runs again
    assert {**after, "sha256": None} == {**before, "sha256": None}


def _crash_on_crash(job):
    """A task whose job named ``crash`` kills its worker process."""
    if job.name == "crash":
        os._exit(9)
    return run_job(job)


def test_a_killed_worker_fails_only_its_job(jobs_file, tmp_path):
    toml = tmp_path / "jobs.toml"
    toml.write_text("\n".join(
        f'[[job]]\nname = "{name}"\ninput = "{jobs_file.parent}/inputs/{source}.json"\niterations = 2\nformats = ["json"]\n'
        for name, source in (("crash", "shapes0"), ("shapes0", "shapes0"), ("fu", "fu"), ("jakobs1", "jakobs1"))
    ))
    results = {r.name: r for r in run_pool(load_jobs(toml, tmp_path / "out"), 2, task=_crash_on_crash)}
    assert results.pop("crash") == JobResult("crash", FAILED, reason=WORKER_DIED)
    assert {name: r.status for name, r in results.items()} == dict.fromkeys(("shapes0", "fu", "jakobs1"), OK)
    for name in results:
        assert verify_file(tmp_path / "out" / name / "marker.json") == []


def test_cli_batch_resumes_prints_the_table_and_exits_2_on_a_failed_job(pool_run, jobs_file, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(pool_run[0], out)
    assert main(["batch", str(jobs_file), "--out", str(out), "--workers", "1"]) == 2
    captured = capsys.readouterr()
    lines = {line.split()[0]: line for line in captured.out.splitlines() if line.split()}
    assert all(lines[name].split()[1] == "skipped" for name in GOOD)
    assert lines["broken"].split()[1] == "failed" and "broken.dxf" in lines["broken"]
    assert "7/7  done 6  failed 1" in captured.err


def test_cli_batch_force_reruns_and_exits_0(pool_run, jobs_file, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(pool_run[0] / "shapes0", out / "shapes0")
    toml = jobs_file.parent / "one.toml"
    toml.write_text('[[job]]\nname = "shapes0"\ninput = "inputs/shapes0.json"\niterations = 2\nformats = ["json"]\n')
    assert main(["batch", str(toml), "--out", str(out), "--force"]) == 0
    assert json.loads((out / "summary.json").read_text())["jobs"][0]["status"] == "ok"
    assert _pieces(out / "shapes0" / "marker.json") == _pieces(pool_run[0] / "shapes0" / "marker.json")


@pytest.mark.parametrize(("text", "expected"), [
    ('[[job]]\nname = "a"\ninput = "x.json"\nwidht = 3\n', "job 'a': unknown option 'widht'"),
    ('[[job]]\nname = "a"\ninput = "x.json"\nwidth = "wide"\n', "job 'a': width: must be a positive number, got 'wide'"),
    ('[[job]]\nname = "a"\ninput = "x.json"\niterations = 2.5\n', "job 'a': iterations: must be a whole number in 1..1e+15, got 2.5"),
    ('[[job]]\nname = "a"\ninput = "x.json"\nout = "elsewhere"\n', "job 'a': option 'out' cannot be set"),
    ('[[job]]\nname = "a"\ninput = "x.json"\nformats = "json,gif"\n', "job 'a': formats: unknown format gif"),
    ('[[job]]\ninput = "x.json"\n', "job #1: 'name' is missing"),
    ('[[job]]\nname = "../a"\ninput = "x.json"\n', "job #1: name '../a' is not a usable folder name"),
    ('[[job]]\nname = "a"\n', "job 'a': 'input' is missing"),
    ('[[job]]\nname = "a"\ninput = "x"\n[[job]]\nname = "A"\ninput = "y"\n', "job 'A': the name is already used by job #1"),
    ('[defaults]\nseeed = 1\n[[job]]\nname = "a"\ninput = "x"\n', "[defaults]: unknown option 'seeed'"),
    ('[jobs]\nname = "a"\n', "unknown top-level key 'jobs'"),
    ('[[job]]\nname = "a\n', "not a valid TOML jobs file"),
    ("", "no jobs"),
])
def test_jobs_file_errors_name_the_job_and_the_key(tmp_path, capsys, text, expected):
    path = tmp_path / "jobs.toml"
    path.write_text(text)
    with pytest.raises(BatchError) as raised:
        load_jobs(path, tmp_path / "out")
    assert str(raised.value).startswith(f"{path}: ") and expected in str(raised.value)
    assert main(["batch", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err
    assert not (tmp_path / "out").exists()


def test_jobs_file_paths_defaults_and_formats(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "jobs.toml"
    path.write_text(
        '[defaults]\nwidth = 900\nseed = 5\n'
        '[[job]]\nname = "a"\ninput = "../p/a.dxf"\nformats = ["png"]\n'
        f'[[job]]\nname = "b"\ninput = "{tmp_path}/b.json"\nseed = 7\n'
    )
    a, b = load_jobs(path, "out")
    assert a.job.input == str(tmp_path / "p" / "a.dxf") and b.job.input == str(tmp_path / "b.json")
    assert (a.job.width, a.job.seed, b.job.seed) == (900.0, 5, 7) and isinstance(a.job.width, float)
    assert a.job.formats == ("png", "json") and b.job.formats[-1] == "json"
    assert a.out == (Path.cwd() / "out" / "a").resolve()
    assert a.job.workers == b.job.workers == 1


def test_missing_dask_is_a_clear_user_error(jobs_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(BatchError, match=r"pip install 'marker-nesting\[cluster\]'"):
        run_batch(load_jobs(jobs_file, tmp_path / "out")[:1], tmp_path / "out", scheduler="local")


def test_workers_must_be_positive_and_local(jobs_file, tmp_path):
    jobs = load_jobs(jobs_file, tmp_path)
    with pytest.raises(BatchError, match="--workers must be >= 1"):
        run_batch(jobs, tmp_path, workers=0)
    with pytest.raises(BatchError, match="a Dask cluster has its own workers"):
        run_batch(jobs, tmp_path, workers=2, scheduler="tcp://127.0.0.1:1")


def test_progress_line_counts_and_utilization_range():
    stream = io.StringIO()
    progress = BatchProgress(4, stream)
    for result in (JobResult("a", OK, utilization=0.7), JobResult("b", FAILED, reason="x"),
                   JobResult("c", SKIPPED, utilization=0.55)):
        progress.job_done(result)
    last = stream.getvalue().splitlines()[-1]
    assert "3/4" in last and "done 2  failed 1" in last
    assert "best 70.00 %" in last and "worst 55.00 %" in last and last.endswith("c skipped")


def _tasks(count, seconds):
    instance = load_instance(INSTANCES / "shapes0.json")
    return [NestTask(name=f"t{k}", pieces=instance.pieces, fabric=Fabric(instance.width),
                     config=NestConfig(seed=k, time_limit=seconds)) for k in range(count)]


def test_task_runner_drops_the_tasks_not_started_at_a_stop():
    stop = Stop()
    with TaskRunner(workers=2) as runner:
        outcomes = []
        for outcome in runner.run(_tasks(6, 0.5), stop):
            outcomes.append(outcome)
            stop.request()  # after the first outcome: the other one in flight finishes, nothing new starts
    assert len(outcomes) == 2
    assert all(o.marker is not None and not o.marker.stats.get("interrupted") for o in outcomes)


def test_task_runner_a_killed_worker_fails_only_its_task():
    with TaskRunner(workers=2) as runner:
        outcomes = runner.run(_tasks(3, 2.0), None)
        first = next(outcomes)  # two tasks are in flight now: kill one of their workers
        os.kill(next(iter(runner._pool._processes.values())).pid, signal.SIGKILL)
        rest = list(outcomes)
    died = [o for o in rest if o.reason == WORKER_DIED]
    assert len(died) == 1 and died[0].marker is None
    done = [first] + [o for o in rest if o.reason != WORKER_DIED]
    assert sorted(o.name for o in done + died) == ["t0", "t1", "t2"]
    assert all(o.marker is not None for o in done)
