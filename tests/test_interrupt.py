"""Ctrl-C, SIGTERM and ``--time`` on a real ``nest marker`` process.

The first SIGINT or SIGTERM stops the search within 2 s and the best verified marker is still
written (and said to be interrupted); a second SIGINT aborts with nothing written; ``--time``
is honoured within 5 % or 1 s. The search's start on the wall clock is read off its progress
lines (each prints the seconds since the start), so a late start-up does not count against it.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from nesting.verify_file import verify_file
from tests.conftest import INSTANCES, ROOT

SHIRTS = INSTANCES / "shirts.json"
STOP_WITHIN_S = 2.0
EXIT_SLACK_S = 1.5  # after the search: rebuild, verify, write marker.json, leave the interpreter


class Nest:
    """A ``nest marker`` process whose stderr lines are collected with their arrival times."""

    def __init__(self, out, *options):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", "marker", str(SHIRTS), "--out", str(out), *options],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            start_new_session=True,  # its own process group, as a terminal's foreground job has
        )
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))
        self.lines.put((time.perf_counter(), None))

    def wait_for(self, predicate, timeout=60.0):
        """The arrival time of the first stderr line that satisfies ``predicate``."""
        deadline = time.perf_counter() + timeout
        while True:
            arrived, line = self.lines.get(timeout=max(deadline - time.perf_counter(), 0.01))
            assert line is not None, f"process ended first: {self.seen}"
            self.seen.append((arrived, line))
            if predicate(line):
                return arrived

    def search_started(self) -> float:
        """Wall time of the search's start: each progress line says how long after it it was printed."""
        starts = [arrived - float(line.split()[0]) for arrived, line in self.seen if _is_progress(line)]
        return min(starts)

    def signal(self, number, group=False) -> float:
        """Send ``number`` to the process, or to its whole group as a terminal's Ctrl-C does."""
        if group:
            os.killpg(self.process.pid, number)
        else:
            self.process.send_signal(number)
        return time.perf_counter()

    def signal_at(self, number, seconds, group=False) -> float:
        """Send ``number`` once the search has run ``seconds``; returns when it was sent."""
        self.wait_for(_is_progress)
        time.sleep(max(self.search_started() + seconds - time.perf_counter(), 0.0))
        return self.signal(number, group)

    def kill(self):
        """End the process group if it is still there (a test that failed must not leave it running)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def finish(self, timeout=60.0):
        self.process.wait(timeout=timeout)
        ended = time.perf_counter()
        stdout = self.process.stdout.read()
        while True:
            arrived, line = self.lines.get(timeout=5)
            if line is None:
                break
            self.seen.append((arrived, line))
        return self.process.returncode, stdout, "\n".join(line for _, line in self.seen), ended


def _is_progress(line) -> bool:
    return line.strip().endswith("%")


@pytest.fixture
def nest_process():
    """Starts `Nest` processes and kills whatever is left of them after the test."""
    started = []

    def start(out, *options):
        started.append(Nest(out, *options))
        return started[-1]

    yield start
    for run in started:
        run.kill()


@pytest.mark.parametrize("number, after_s, workers, group", [
    (signal.SIGINT, 1.0, 1, False), (signal.SIGTERM, 4.0, 1, False), (signal.SIGINT, 4.0, 2, True),
    (signal.SIGTERM, 3.0, 2, False),
], ids=["sigint-in-ga", "sigterm-in-compaction", "ctrl-c-to-the-group-with-2-workers",
        "sigterm-to-the-parent-alone-with-2-workers"])
def test_a_stop_signal_writes_the_best_verified_marker(number, after_s, workers, group, tmp_path, nest_process):
    out = tmp_path / "out"
    run = nest_process(out, "--time", "60", "--formats", "json", "--workers", str(workers))
    sent = run.signal_at(number, after_s, group)
    code, stdout, stderr, ended = run.finish()
    assert code == 0, stderr
    assert "stopping: finishing with the best verified marker so far" in stderr
    assert "search interrupted: this is the best verified marker found before the stop" in stdout
    document = json.loads((out / "marker.json").read_text())
    assert document["stats"]["interrupted"] is True
    assert verify_file(out / "marker.json", instance=SHIRTS) == []
    stopped = run.search_started() + document["elapsed_s"]
    assert stopped - sent <= STOP_WITHIN_S, f"search ran {stopped - sent:.2f} s past the signal"
    assert ended - sent <= STOP_WITHIN_S + EXIT_SLACK_S, f"exit {ended - sent:.2f} s after the signal"
    assert document["elapsed_s"] < 30  # the 60 s budget was cut short


def test_a_second_sigint_aborts_with_nothing_written(tmp_path, nest_process):
    out = tmp_path / "out"
    run = nest_process(out, "--time", "60")  # every default format: writing takes a while
    run.signal_at(signal.SIGINT, 2.0)
    run.wait_for(lambda line: "stopping:" in line)
    run.signal(signal.SIGINT)
    code, stdout, stderr, _ = run.finish()
    assert code == 130, stderr
    assert stderr.strip().endswith("aborted: nothing written")
    assert "Traceback" not in stderr and "wrote" not in stdout
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())


def test_a_two_worker_run_writing_every_default_format_ends_within_its_budget(tmp_path, nest_process):
    """The search ends early by the estimated writing time, so the files are written within the budget too."""
    budget = 6.0
    out = tmp_path / "out"
    run = nest_process(out, "--time", str(budget), "--workers", "2")
    code, _, stderr, ended = run.finish()
    assert code == 0, stderr
    document = json.loads((out / "marker.json").read_text())
    assert document["elapsed_s"] < budget - 0.5  # time was kept back for verifying and writing
    assert ended - run.search_started() <= budget + EXIT_SLACK_S
    assert sorted(path.name for path in out.iterdir()) == ["marker.dxf", "marker.json", "marker.plt", "marker.png"]
    assert verify_file(out / "marker.json", instance=SHIRTS) == []


def test_time_budget_is_honoured_within_5_percent_or_1_s(tmp_path, nest_process):
    budget = 6.0
    out = tmp_path / "out"
    run = nest_process(out, "--time", str(budget), "--formats", "json")
    code, _, stderr, ended = run.finish()
    assert code == 0, stderr
    document = json.loads((out / "marker.json").read_text())
    allowed = max(0.05 * budget, 1.0)
    assert abs(document["elapsed_s"] - budget) <= allowed
    search_to_exit = ended - run.search_started()
    assert budget - allowed <= search_to_exit <= budget + allowed + EXIT_SLACK_S
    assert document["stats"]["interrupted"] is False
    assert verify_file(out / "marker.json", instance=SHIRTS) == []
