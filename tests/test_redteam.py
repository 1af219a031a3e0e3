"""The red-team corpus (`tests.redteam`): every case as a real ``nest`` process, bounded.

Each run gets a timeout and an address-space cap (RLIMIT_AS); its exit code, first line, wall
time and peak memory (the child's maximum resident set) are checked. Never exit 1: a hostile
input is a user error or a marker, not a bug.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests import redteam
from tests.conftest import ROOT

MEMORY_CAP = 3 * 2**30  # address space; numba and LLVM reserve more than they touch
PEAK_RSS = 2 * 2**30  # what a case may really use
TIMEOUT = 90.0  # a case without a wall bound; one with a bound is killed soon after it


def timeout_of(case) -> float:
    """A case whose fix is not in yet may hang: it is killed early, and costs the suite little."""
    if case.xfail:
        return 20.0 if case.wall is None else min(case.wall, 20.0) + 5.0
    return TIMEOUT if case.wall is None else case.wall + 15.0


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("redteam") / "corpus"
    redteam.write_files(folder)
    return folder


def _capped():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_case(case: redteam.Case, corpus: Path, workdir: Path) -> dict:
    """Run ``case`` in ``workdir`` (holding ``corpus`` as ``workdir/corpus``); its outcome as a dict."""
    (workdir / "corpus").symlink_to(corpus)
    out = workdir / "out"
    if case.setup:
        redteam.SETUPS[case.setup](out)
    argv = [a.replace("{D}", str(workdir / "corpus")).replace("{OUT}", str(out)).replace("{TMP}", str(workdir))
            for a in case.argv]
    read_end, write_end = os.pipe()
    if case.stdout == "closed":
        os.close(read_end)  # a reader that went away: writing to stdout fails with EPIPE
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "cli", *argv], cwd=ROOT, stdout=write_end,
                               stderr=subprocess.PIPE, preexec_fn=_capped)
    os.close(write_end)
    streams = {}
    readers = [threading.Thread(target=lambda: streams.update(stderr=process.stderr.read()), daemon=True)]
    if case.stdout != "closed":
        readers.append(threading.Thread(target=lambda: streams.update(stdout=_read_all(read_end)), daemon=True))
    for reader in readers:
        reader.start()
    killer = threading.Timer(timeout_of(case), process.kill)
    killer.start()
    _, status, usage = os.wait4(process.pid, 0)  # not Popen.wait: wait4 gives this child's own peak memory
    killer.cancel()
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(10)
    stderr = streams.get("stderr", b"").decode(errors="replace")
    stdout = streams.get("stdout", b"").decode(errors="replace")
    return {"exit": process.returncode, "stderr": [line for line in stderr.splitlines() if line.strip()],
            "stdout": stdout.splitlines(), "wall": wall, "peak": usage.ru_maxrss * 1024, "out": out}


def _read_all(fd) -> bytes:
    chunks = []
    with os.fdopen(fd, "rb") as stream:
        while chunk := stream.read(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("case", redteam.CASES, ids=lambda case: case.name)
def test_case(case, corpus, tmp_path, request):
    if case.xfail:
        request.applymarker(pytest.mark.xfail(reason=case.xfail, strict=False))
    outcome = run_case(case, corpus, tmp_path)
    _record(case, outcome)
    assert outcome["wall"] < timeout_of(case), f"{case.name}: still running after {timeout_of(case):g} s (killed)"
    assert outcome["exit"] != 1, "\n".join(outcome["stderr"][-15:])
    assert outcome["exit"] == case.exit, "\n".join(outcome["stderr"][-5:])
    if case.anywhere:
        assert any(case.first in line for line in outcome["stderr"] + outcome["stdout"]), outcome["stdout"]
    elif case.exit == 2:  # one line; `nest verify` gives one per violation, each naming the file
        assert len(outcome["stderr"]) == 1 or case.argv[0] == "verify", outcome["stderr"]
        assert not any(line.startswith("Traceback") for line in outcome["stderr"])
        first = outcome["stderr"][0]
    elif case.stdout == "closed":
        first = next((line for line in outcome["stderr"] if line.startswith("warning")), "")
    else:
        first = outcome["stdout"][0] if outcome["stdout"] else ""
    if not case.anywhere:
        assert case.first in first, first
    if case.wall is not None:
        assert outcome["wall"] <= case.wall, f"{outcome['wall']:.1f} s, more than {case.wall:g} s"
    if case.budget is not None:
        line = next(line for line in outcome["stdout"] if "after reading" in line)
        after_reading = float(line.split("written ")[1].split(" s after")[0])
        assert after_reading <= case.budget, f"{line}: more than {case.budget:g} s after reading"
    if case.check:
        problem = redteam.CHECKS[case.check](outcome["out"])
        assert not problem, problem
    assert outcome["peak"] < PEAK_RSS, f"peak memory {outcome['peak'] / 2**20:.0f} MiB"


def _record(case, outcome) -> None:
    """With REDTEAM_REPORT=FILE, one JSON line per case (for the robustness table)."""
    path = os.environ.get("REDTEAM_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as report:
            report.write(json.dumps({"case": case.name, "class": case.klass, "expected": case.exit,
                                     "exit": outcome["exit"], "xfail": bool(case.xfail), "wall": outcome["wall"],
                                     "peak_mib": outcome["peak"] / 2**20,
                                     "first": (outcome["stderr"] or outcome["stdout"] or [""])[0][:160]}) + "\n")
