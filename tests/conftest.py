import os
import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
INSTANCES = ROOT / "benchmarks" / "instances"
EXAMPLE = ROOT / "patterns" / "examples" / "tee.dxf"

# The suite's profile is derandomized so a run is reproducible (the standards' determinism applies to the tests
# too); `HYPOTHESIS_PROFILE=dev` or `pytest -m fuzz` explore fresh examples.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _default_signal_handlers():
    """``nest marker`` installs its Ctrl-C handler; give pytest its own back."""
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGINT, handlers[0])
    signal.signal(signal.SIGTERM, handlers[1])


def shared_file(relative: str) -> Path:
    """A file from ../shared, or skip the test when ../shared is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path
