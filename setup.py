"""Build hook: the wheel carries the numba kernels compiled, so a fresh install's first run loads them.

Compiling the kernels takes 15-45 s (one core, LLVM at full optimisation); loading them from
numba's cache takes under a second. numba keys its cache on the source file's content hash,
the Python and numba versions and the CPU, so a cache made while building the wheel on the
machine that installs it is the one the first `nest` run would have written itself.
Editable installs skip this: their first run compiles into the source tree, as before.
"""

import os
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

# The kernels need only numba and numpy; ``nesting/__init__`` imports the whole engine (shapely,
# ezdxf, ...), which the build environment lacks, so the package is entered without it.
_COMPILE = """
import sys, types
package = types.ModuleType("nesting")
package.__path__ = [sys.argv[1] + "/nesting"]
sys.modules["nesting"] = package
from nesting.kernels import warmup
print(f"compiled the numba kernels in {warmup():.1f} s")
"""


class BuildPyWithKernels(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}  # into the package's __pycache__
        done = subprocess.run([sys.executable, "-c", _COMPILE, os.path.abspath(self.build_lib)], env=env,
                              capture_output=True, text=True)
        # Not fatal: without the cache the first run compiles, as an editable install does.
        print(done.stdout.strip() if done.returncode == 0 else
              f"warning: the numba kernels were not compiled into the wheel:\n{done.stderr.strip()}")


setup(cmdclass={"build_py": BuildPyWithKernels})
