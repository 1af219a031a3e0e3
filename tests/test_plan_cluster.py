"""A plan nested on a Dask cluster of separate processes, started from the command line, sharing no folder.

The scheduler and the two workers run in folders of their own; the order file, the pattern and the
output folder are in a third, which no worker sees. The workers receive pieces and options with
each task and send the marker back; the client writes and verifies everything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_plan import nest, write_order

pytest.importorskip("distributed")
DASK = Path(sys.executable).with_name("dask")


def _start(args, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([str(DASK), *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


@pytest.fixture
def cluster(tmp_path):
    """``dask scheduler`` and ``dask worker`` x 2 on 127.0.0.1, each in its own working folder."""
    folders = {name: tmp_path / name for name in ("scheduler", "worker-1", "worker-2")}
    for folder in folders.values():
        folder.mkdir()
    contact = folders["scheduler"] / "scheduler.json"
    processes = [_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                         "--scheduler-file", str(contact)], folders["scheduler"])]
    try:
        deadline = time.monotonic() + 60
        while not contact.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(contact.read_text())["address"]
        for name in ("worker-1", "worker-2"):
            processes.append(_start(["worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                     "--local-directory", str(folders[name])], folders[name]))
        yield address, folders
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


@pytest.mark.slow
def test_a_plan_runs_on_a_cluster_whose_workers_share_no_folder_with_the_client(cluster, tmp_path):
    address, folders = cluster
    client = tmp_path / "client"
    client.mkdir()
    order = write_order(client)
    result = nest("plan", order.name, "--time", "14", "--scheduler", address, "--out", "out", cwd=client)
    assert result.returncode == 0, result.stderr
    document = json.loads((client / "out" / "plan.json").read_text())
    assert document["stats"]["scheduler"] == address
    assert document["stats"]["nestings"] >= len({lay["marker"] for lay in document["lays"]})
    check = nest("verify", client / "out" / "plan.json")
    assert check.returncode == 0, check.stderr
    for folder in folders.values():  # nothing of the plan was written where the workers run
        assert not list(folder.rglob("marker.json")) and not list(folder.rglob("*.dxf"))
