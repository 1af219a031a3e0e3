"""One benchmark run in its own process: ``python -m benchmarks.single INSTANCE ENGINE ...``.

Prints the run's record as one JSON line on stdout (the runner reads the last line);
everything else goes to stderr. A run in its own process shares no compiled state, caches or
memory with the others.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.engines import ENGINES, run_ours, run_spyrrow


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.single", description=__doc__.splitlines()[0])
    parser.add_argument("instance", type=Path, help="JSON instance file")
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time", type=float, default=30.0, help="budget in seconds")
    parser.add_argument("--workers", type=int, default=1, help="cores: our worker processes, the peer's threads")
    parser.add_argument("--parallel", default="shared", help="how our workers share the run: shared or portfolio")
    parser.add_argument("--iterations", type=int, help="iteration budget (ours only; reproducible)")
    parser.add_argument("--marker", type=Path, help="write the marker (marker/1 JSON) here")
    args = parser.parse_args(argv)
    if args.engine == "ours":
        record = run_ours(args.instance, args.seed, args.time, args.iterations, args.marker, args.workers,
                          args.parallel)
        record.setdefault("time_budget_s", None if args.iterations else args.time)
    else:
        record = run_spyrrow(args.instance, args.seed, args.time, args.marker, args.workers)
    record = {"engine": args.engine, "seed": args.seed, **record}
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
