"""Faults on real processes: kill -9 at any moment, a full disk, a stop signal in every phase.

An output folder must hold either the old complete set of files or the new complete set,
never a mix and never a part; a killed batch leaves no worker behind; SIGTERM ends every
phase within 2 s (reading, no-fit polygons, the first marker, the genetic search, compaction,
writing).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import resource
import signal
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import pytest

import cli
from nesting.errors import Abandoned
from nesting.verify_file import verify_file
from tests import redteam
from tests.conftest import INSTANCES, ROOT

STOP_WITHIN_S = 2.0  # from the signal to the line that says the work stopped
WRITE_SLACK_S = 5.0  # then verification, writing the marker and leaving the interpreter (a loaded machine)
SHAPES = INSTANCES / "shapes0.json"
ALL_FORMATS = "json,png,dxf,plt,svg,pdf"


class Run:
    """A ``nest`` process in its own session; its stderr lines arrive in a queue with their times."""

    def __init__(self, *argv, preexec_fn=None):
        self.process = subprocess.Popen([sys.executable, "-m", "cli", *map(str, argv)], cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                                        start_new_session=True, preexec_fn=preexec_fn)
        self.started = time.perf_counter()
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, text, timeout=120.0) -> float:
        """Wait for a stderr line containing ``text``; returns when it came."""
        deadline = time.perf_counter() + timeout
        while True:
            line = self.lines.get(timeout=max(deadline - time.perf_counter(), 0.01))
            assert line is not None, f"ended first: {self.stderr}"
            self.stderr.append(line)
            if text in line:
                return time.perf_counter()

    def finish(self, timeout=120.0) -> int:
        code = self.process.wait(timeout)
        while (line := self.lines.get(timeout=10)) is not None:
            self.stderr.append(line)
        return code

    def kill_group(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def snapshot(folder: Path) -> dict[str, str]:
    """File name -> SHA-256 of every visible file of ``folder``."""
    if not folder.exists():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if not p.name.startswith(".")}


def assert_old_or_new_set(out: Path, old: dict, formats: str, instance=None, also=()):
    """``out`` holds exactly the old files, or a complete verified new set in ``formats`` (and ``also``'s files)."""
    now = snapshot(out)
    if now == old:
        return "old"
    names = {"json": "marker.json", "png": "marker.png", "dxf": "marker.dxf", "plt": "marker.plt",
             "svg": "marker.svg", "pdf": "marker.pdf"}
    assert set(now) == {names[f] for f in formats.split(",")} | set(also), f"a mixed or partial set: {sorted(now)}"
    assert verify_file(out / "marker.json", instance=instance) == []
    return "new"


def staging_folders(out: Path) -> list[Path]:
    return [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.incomplete-")]


# --- kill -9 at several moments ------------------------------------------------------------


@pytest.mark.parametrize("delay", [0.5, 1.5, 2.5, 3.5, 5.0, 8.0])
def test_marker_killed_at_any_moment_leaves_the_old_or_the_new_set(tmp_path, delay):
    out = tmp_path / "out"
    first = Run("marker", SHAPES, "--iterations", "1", "--strategy", "blf", "--formats", "json,plt", "--out", out,
                "--quiet")
    assert first.finish() == 0
    old = snapshot(out)
    run = Run("marker", SHAPES, "--iterations", "3", "--seed", "1", "--formats", ALL_FORMATS, "--out", out, "--quiet")
    time.sleep(delay)
    run.kill_group()
    assert_old_or_new_set(out, old, ALL_FORMATS, instance=SHAPES)
    for folder in staging_folders(out):  # what the kill left: never a finished-looking marker
        assert not (folder / "marker.json").exists()
    again = Run("marker", SHAPES, "--iterations", "1", "--strategy", "blf", "--formats", "json", "--out", out, "--quiet")
    assert again.finish() == 0
    assert staging_folders(out) == [], "the next run removes what a killed one left"
    assert sorted(snapshot(out)) == ["marker.json"]


@pytest.mark.parametrize("delay", [0.5, 1.5, 2.5, 4.0])
def test_export_killed_at_any_moment_leaves_the_old_or_the_new_set(tmp_path, delay):
    source, out = tmp_path / "source", tmp_path / "out"
    assert Run("marker", SHAPES, "--iterations", "1", "--strategy", "blf", "--formats", "json", "--out", source,
               "--quiet").finish() == 0
    assert Run("export", source / "marker.json", "--formats", "plt", "--out", out).finish() == 0
    old = snapshot(out)
    run = Run("export", source / "marker.json", "--formats", "json,png,pdf,svg,dxf", "--out", out)
    time.sleep(delay)
    run.kill_group()
    assert assert_old_or_new_set(out, old, "json,png,pdf,svg,dxf") in ("old", "new")


def _descendants(pid: int) -> set[int]:
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, set()).add(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _jobs_file(tmp_path: Path, count: int = 4) -> Path:
    jobs = "".join(f'[[job]]\nname = "j{k}"\ninput = "{SHAPES}"\niterations = 3\nseed = {k}\n'
                   f'formats = ["json", "png", "plt"]\n' for k in range(count))
    path = tmp_path / "jobs.toml"
    path.write_text(jobs)
    return path


@pytest.mark.parametrize("delay", [2.0, 6.0])
def test_batch_killed_leaves_no_worker_and_whole_job_folders(tmp_path, delay):
    jobs, out = _jobs_file(tmp_path), tmp_path / "out"
    run = Run("batch", jobs, "--out", out, "--workers", "2")
    time.sleep(delay)
    workers = _descendants(run.process.pid)
    os.kill(run.process.pid, signal.SIGKILL)  # the batch alone, as an out-of-memory killer does
    run.process.wait()
    deadline = time.perf_counter() + 5
    while time.perf_counter() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
             and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()]
    assert not alive, f"workers outlived the batch: {alive}"
    for folder in out.glob("j*"):
        assert_old_or_new_set(folder, {}, "json,png,plt", also=("job.json",))  # a job's set holds its fingerprint


def test_batch_interrupted_says_what_it_wrote(tmp_path):
    jobs, out = _jobs_file(tmp_path, 6), tmp_path / "out"
    run = Run("batch", jobs, "--out", out, "--workers", "1")
    run.wait_for("j0 ok")
    os.kill(run.process.pid, signal.SIGINT)
    assert run.finish() == 130
    last = run.stderr[-1]
    assert last.startswith("aborted: wrote the job folders j0") and "summary.json" in last, last
    summary = json.loads((out / "summary.json").read_text())
    statuses = {row["job"]: row["status"] for row in summary["jobs"]}
    assert statuses["j0"] == "ok" and "not run" in statuses.values()
    for name, status in statuses.items():
        assert (out / name / "marker.json").exists() == (status == "ok")


# --- a full disk ------------------------------------------------------------------------------


def _small_filesystem(folder: Path, kib: int) -> bool:
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


def test_a_full_disk_leaves_the_old_set_and_names_the_folder(tmp_path):
    disk = tmp_path / "disk"
    if not _small_filesystem(disk, 150):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        out = disk / "out"
        assert Run("marker", SHAPES, "--iterations", "1", "--strategy", "blf", "--formats", "json", "--out", out,
                   "--quiet").finish() == 0
        old = snapshot(out)
        run = Run("marker", SHAPES, "--iterations", "1", "--strategy", "blf", "--formats", ALL_FORMATS, "--out", out,
                  "--quiet")
        assert run.finish() == 2
        assert len(run.stderr) == 1 and str(out) in run.stderr[0] and "No space left" in run.stderr[0], run.stderr
        assert snapshot(out) == old
        assert staging_folders(out) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_file_size_limit_leaves_the_old_set(tmp_path):
    """The same without root: RLIMIT_FSIZE makes a large write fail (EFBIG) as a full disk would."""
    out = tmp_path / "out"
    assert Run("marker", SHAPES, "--iterations", "1", "--strategy", "blf", "--formats", "json", "--out", out,
               "--quiet").finish() == 0
    old = snapshot(out)

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    run = Run("marker", SHAPES, "--iterations", "1", "--strategy", "blf", "--formats", ALL_FORMATS, "--out", out,
              "--quiet", preexec_fn=limit)
    assert run.finish() == 2
    assert len(run.stderr) == 1 and str(out) in run.stderr[0], run.stderr
    assert snapshot(out) == old


# --- SIGTERM in every phase --------------------------------------------------------------------


def _stop_and_time(run: Run, said: str) -> tuple[float, float]:
    """SIGTERM ``run``; seconds until it says ``said`` on stderr, and until it exits."""
    sent = time.perf_counter()
    os.kill(run.process.pid, signal.SIGTERM)
    stopped = run.wait_for(said, timeout=60) - sent
    run.process.wait(60)
    return stopped, time.perf_counter() - sent


def test_sigterm_while_reading_the_input(tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "data" / "bad"))
    from make_bad import huge_contour

    pattern = huge_contour(tmp_path / "dense.dxf", vertices=400_000)
    out = tmp_path / "out"
    run = Run("marker", pattern, "--width", "1500", "--out", out)
    time.sleep(4.0)  # the interpreter has started; the reader is at work for many seconds more
    assert run.process.poll() is None
    stopped, ended = _stop_and_time(run, "aborted: stopped while reading the input")
    assert stopped <= STOP_WITHIN_S and ended <= STOP_WITHIN_S + 1.0, (stopped, ended)
    assert run.finish() == 130
    assert not out.exists()


def test_sigterm_while_building_no_fit_polygons(tmp_path, corpus_folder):
    out = tmp_path / "out"
    run = Run("marker", corpus_folder / "items_300.json", "--time", "120", "--limit", "nfp_pairs=200000",
              "--formats", "json", "--out", out)
    run.wait_for("building the no-fit polygons")
    time.sleep(1.0)
    stopped, ended = _stop_and_time(run, "stopped before the first bottom-left marker")
    assert not any("NFPs in" in line for line in run.stderr), "the NFPs were built before the signal"
    assert stopped <= STOP_WITHIN_S and ended <= STOP_WITHIN_S + WRITE_SLACK_S, (stopped, ended)
    assert run.finish() == 0
    assert verify_file(out / "marker.json") == []
    stats = json.loads((out / "marker.json").read_text())["stats"]
    assert stats["first_marker"] == "fallback" and stats["interrupted"] is True


def test_sigterm_while_building_the_first_marker(tmp_path, corpus_folder):
    out = tmp_path / "out"
    run = Run("marker", corpus_folder / "pieces_2000.json", "--time", "120", "--formats", "json", "--out", out)
    run.wait_for("NFPs in")
    time.sleep(0.2)  # the bottom-left fill of 2,000 pieces takes about 2 s
    stopped, ended = _stop_and_time(run, "stopped before the first bottom-left marker")
    assert not any(" blf " in line or " ga " in line for line in run.stderr), "the first marker came first"
    assert stopped <= STOP_WITHIN_S and ended <= STOP_WITHIN_S + WRITE_SLACK_S, (stopped, ended)
    assert run.finish() == 0
    assert verify_file(out / "marker.json") == []


@pytest.mark.parametrize("strategy,phase", [("ga", " ga "), ("compact", "explore")])
def test_sigterm_during_the_search(tmp_path, strategy, phase):
    out = tmp_path / "out"
    run = Run("marker", INSTANCES / "shirts.json", "--strategy", strategy, "--time", "60", "--formats", "json",
              "--out", out)
    run.wait_for(phase)
    time.sleep(1.0)
    stopped, ended = _stop_and_time(run, "stopping: finishing with the best verified marker")
    assert stopped <= STOP_WITHIN_S and ended <= STOP_WITHIN_S + WRITE_SLACK_S, (stopped, ended)
    assert run.finish() == 0
    assert json.loads((out / "marker.json").read_text())["stats"]["interrupted"] is True


def test_a_stop_that_lands_in_a_finalizer_is_raised_again_at_once():
    """Python drops an exception raised in a weakref callback (matplotlib's transforms run many
    while drawing); the abandonment must still reach the main flow, not wait for the next check."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)}
    hook = sys.unraisablehook
    try:
        stop = cli._interruptible_stop(None, None)  # urgent: "while reading the input"
        owner = type("Owner", (), {})()
        callback = weakref.ref(owner, lambda ref: stop.request())  # the signal's handler, in a finalizer
        reached = []
        with pytest.raises(Abandoned, match="while reading the input"):
            del owner  # the callback raises here, and Python drops it
            for step in range(100):
                reached.append(step)
                time.sleep(0.001)
        assert callback() is None and len(reached) < 5, reached
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
        sys.unraisablehook = hook


def test_sigterm_while_writing_leaves_the_folder_as_it_was(tmp_path, corpus_folder):
    out = tmp_path / "out"
    assert Run("marker", SHAPES, "--iterations", "1", "--strategy", "blf", "--formats", "json", "--out", out,
               "--quiet").finish() == 0
    old = snapshot(out)
    run = Run("marker", corpus_folder / "pieces_2000.json", "--time", "0.5", "--formats", "png,dxf,plt,json",
              "--out", out)
    run.wait_for("writing the outputs:")  # the budget ended before the first marker: the fallback is written
    time.sleep(1.0)  # into the drawing: about 5 s of writing in all
    stopped, ended = _stop_and_time(run, "aborted: stopped while writing the outputs")
    assert stopped <= STOP_WITHIN_S and ended <= STOP_WITHIN_S + 1.0, (stopped, ended)
    assert run.finish() == 130
    assert snapshot(out) == old


@pytest.fixture(scope="module")
def corpus_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    redteam.write_files(folder)
    return folder
