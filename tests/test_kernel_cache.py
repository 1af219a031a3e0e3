"""`nesting.kernels.warmup` compiles every specialisation a run uses.

The wheel carries numba's cache of what `warmup` compiled (setup.py). A run that needed one more
specialisation (another array layout or argument type) would compile it on a fresh install's
first run, in the seconds the cache is there to save.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, INSTANCES

_RUN = """
import json, sys
import shapely
from numba.core import event
from nesting import Fabric, Margins, NestConfig, nest
from nesting.kernels import warmup
from patterns import read_pieces
from patterns.instances import load_instance

warmup()
compiled = event.RecordingListener()
event.register("numba:compile", compiled)
pieces, _ = read_pieces(sys.argv[1])
for strategy in ("blf", "ga", "compact", "auto"):
    nest(pieces, Fabric(1500.0), NestConfig(seed=1, iterations=8, strategy=strategy))
zone = shapely.box(300, 200, 420, 320)
nest(pieces, Fabric(1500.0, margins=Margins(10, 10, 5, 5), zones=(zone,)), NestConfig(seed=2, iterations=8, spacing=2.0))
shirts = load_instance(sys.argv[2])
nest(list(shirts.pieces), Fabric(shirts.width), NestConfig(seed=0, iterations=10))
print(json.dumps(sorted({f"{e.data['dispatcher'].py_func.__qualname__}{e.data['args']}" for _, e in compiled.buffer})))
"""


def test_a_run_compiles_nothing_beyond_the_warmup(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "NESTING_CHECK_LOSSES": "1"}  # cold: warmup compiles
    done = subprocess.run([sys.executable, "-c", _RUN, str(EXAMPLE), str(INSTANCES / "shirts.json")],
                          capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


_LOAD = """
import sys, types
from numba.core import event
package = types.ModuleType("nesting")
package.__path__ = [sys.argv[1] + "/nesting"]
sys.modules["nesting"] = package
compiled = event.RecordingListener()
event.register("numba:compile", compiled)
from nesting.kernels import warmup
warmup()
print(len(compiled.buffer))
"""


@pytest.mark.slow
def test_the_build_compiles_the_kernels_into_the_package(tmp_path):
    """setup.py's build step (what the wheel is made of) leaves kernels that load without compiling."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    built = tmp_path / "lib"
    subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(built)], cwd=root, env=env,
                   check=True, capture_output=True, timeout=900)
    done = subprocess.run([sys.executable, "-c", _LOAD, str(built)], capture_output=True, text=True,
                          env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"  # no compile event: every kernel came from the build's cache
