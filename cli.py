"""The ``nest`` command: parse options, call one library function, map the outcome to an exit code.

Exit codes: 0 success; 2 every problem on the user's side (bad input, bad option, a piece that
cannot fit), reported as one line on stderr; 1 an internal error (a bug), with its traceback.
"""

from __future__ import annotations

import _thread
import argparse
import json
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from benchmarks.catalog import BenchmarkError
from benchmarks.run import run_benchmark
from export import DEFAULT_FORMATS, cut_summary, export_file, parse_formats
from export.options import ExportOptions, PltTools
from jobs.batch import ERROR, FAILED, BatchInterrupted, load_jobs, run_batch, summary_table
from jobs.batch.progress import BatchProgress
from jobs.marker import MarkerJob, run
from jobs.options import add_arguments, parsed_arguments
from nesting.atomic import check_folder, staged_folder
from nesting.config import DEFAULT_CONFIG, PARALLEL_MODES, NestConfig
from nesting.errors import Abandoned, NestingError, VerificationError, was_abandoned
from nesting.report import summary_text
from nesting.search.base import Listener, Stop
from nesting.verify_file import verify_file
from patterns.errors import PatternError
from patterns.info import format_table, pattern_info

USER_ERROR, INTERNAL_ERROR = 2, 1


class UserError(Exception):
    """Raised by option parsing: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UserError(f"{self.prog}: {message}")


def _progress_listener(quiet: bool):
    class Progress(Listener):
        """Prints improvements, at most about one line a second (compression finds many tiny ones)."""

        last = (-1.0, "")

        def improved(self, elapsed, length, utilization, phase):
            if not quiet and (elapsed - self.last[0] >= 1.0 or phase != self.last[1]):
                self.last = (elapsed, phase)
                print(f"  {elapsed:7.2f} s  {phase:<8} length {length:.3f}  utilization {utilization * 100:.2f} %",
                      file=sys.stderr, flush=True)

        def message(self, text):
            if not quiet:
                print(f"  {text}", file=sys.stderr, flush=True)

    return Progress()


def _interruptible_stop(time_limit, iterations):
    """A Stop that the first Ctrl-C/SIGTERM winds down (keeping the best marker); the second aborts.

    Until the search has a marker (reading the input, building the first one) the stop is
    urgent: the signal abandons that work at once (see `Stop`).
    """
    stop = Stop(time_limit=time_limit, iterations=iterations, urgent="while reading the input")

    def handler(signum, frame):
        if stop.requested:
            raise KeyboardInterrupt
        stop.request()  # before writing: a second signal may arrive while the line is written
        # os.write, not print: the signal may interrupt a progress line being printed to stderr,
        # and a print from the handler would then fail as a reentrant call
        os.write(sys.stderr.fileno(), b"\n  stopping: finishing with the best verified marker so far (again to abort)\n")

    def redeliver(unraisable, dropped=sys.unraisablehook):
        """A signal that lands in a finalizer (a weakref callback, ``__del__``) raises its
        `Abandoned` there, and Python drops it: deliver it again, a millisecond later (once this
        hook has returned), until it lands where it propagates."""
        if isinstance(unraisable.exc_value, Abandoned):
            again = threading.Timer(0.001, _thread.interrupt_main, (signal.SIGUSR1,))
            again.daemon = True
            again.start()
        else:
            dropped(unraisable)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGUSR1, lambda signum, frame: stop.check_abandoned())
    sys.unraisablehook = redeliver
    return stop


def cmd_marker(args) -> int:
    values = parsed_arguments(args, "marker")
    job = MarkerJob(**{name: values[name] for name in MarkerJob.option_names()})
    stop = _interruptible_stop(None, job.iterations)  # first: reading the input is abandoned at once
    stop.time_limit = job.time if job.time is not None else (None if job.iterations else NestConfig().default_time)
    started = time.perf_counter()
    marker, written = run(job, stop=stop, listener=_progress_listener(values["quiet"]))
    after_reading = time.perf_counter() - started - marker.stats["read_s"]
    print(summary_text(marker))
    if marker.stats.get("left_out"):
        print(marker.stats["left_out"])
    if marker.stats.get("interrupted"):
        print("search interrupted: this is the best verified marker found before the stop")
    print(f"read {marker.stats['read_s']:.2f} s, compile {marker.stats['compile_s']:.2f} s (not counted), "
          f"nesting {marker.elapsed_s:.2f} s; written {after_reading:.2f} s after reading")
    print(cut_summary(marker))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_info(args) -> int:
    info = pattern_info(args.input, units=args.units, layer=args.layer, keep_folds=args.keep_folds or None)
    if not args.json:
        print(format_table(info))
        return 0
    for warning in info["report"].get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    print(json.dumps(info, indent=1))
    return 0


def cmd_verify(args) -> int:
    from planning.verify import is_plan, verify_plan  # deferred: planning loads scipy, a slow import

    problems = verify_plan(args.marker) if is_plan(args.marker) else verify_file(args.marker, instance=args.instance)
    if problems:
        for line in problems:
            print(f"{args.marker}: {line}", file=sys.stderr)
        return USER_ERROR
    print(f"{args.marker}: verified")
    return 0


def cmd_export(args) -> int:
    options = ExportOptions(
        dxf_exploded=args.dxf_exploded, plt_rotation=args.plt_rotation, plt_tools=PltTools.parse(args.plt_tools),
        pdf_page=args.pdf_page, pdf_tiled=args.pdf_tiled,
    )
    formats = parse_formats(args.formats)
    out = check_folder(args.out)
    source = Path(args.marker).resolve()
    keep = ("marker.json", "job.json") if source.parent == out and "json" not in formats else ()
    with staged_folder(out, keep=keep) as staging:  # every format or none: never part of a set
        view, written = export_file(args.marker, staging, formats, options)
    print(cut_summary(view))
    print("wrote " + ", ".join(str(out / p.name) for p in written))
    return 0


def cmd_batch(args) -> int:
    jobs = load_jobs(args.jobs, args.out)
    progress = BatchProgress(len(jobs), sys.stderr)
    for number in (signal.SIGINT, signal.SIGTERM):  # SIGTERM too: the batch ends its workers and says what it wrote
        signal.signal(number, signal.default_int_handler)
    try:
        results = run_batch(jobs, args.out, workers=args.workers, scheduler=parsed_arguments(args, "batch")["scheduler"],
                            force=args.force,
                            on_result=progress.job_done, about={"jobs_file": str(Path(args.jobs).resolve())},
                            limits=tuple(args.limit))
    except BatchInterrupted as stopped:
        progress.close()
        print(f"aborted: {stopped}", file=sys.stderr)
        return 130
    finally:
        progress.close()
    print(summary_table(results))
    print(f"wrote {Path(args.out) / 'summary.json'}, {Path(args.out) / 'summary.csv'}")
    for result in results:
        if result.status == ERROR:
            print(f"{result.name}: internal error\n{result.detail}", file=sys.stderr)
    statuses = {result.status for result in results}
    return INTERNAL_ERROR if ERROR in statuses else USER_ERROR if FAILED in statuses else 0


def cmd_plan(args) -> int:
    values = parsed_arguments(args, "plan")
    stop = _interruptible_stop(None, None)  # first: reading the order is abandoned at once

    from planning import load_order, plan  # deferred: scipy is a slow import, only planning needs it
    from planning.output import PLAN_FILES, write_plan

    order = load_order(args.order)
    check_folder(args.out, PLAN_FILES)
    stop.urgent = ""  # from here a stop keeps the best verified plan (the baselines are always nested)
    say = (lambda line: None) if values["quiet"] else (lambda line: print(f"  {line}", file=sys.stderr, flush=True))
    result = plan(order, time=args.time, seed=values["seed"], workers=args.workers, scheduler=values["scheduler"],
                  progress=say, stop=stop)
    written = write_plan(result, args.out, order_file=args.order)
    print((written[-1].parent / "plan.md").read_text(encoding="utf-8"))
    if result.stats.get("interrupted"):
        print("planning interrupted: this is the best verified plan found before the stop")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_bench(args) -> int:
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not 0 < args.time < math.inf:
        raise UserError(f"nest bench: --time must be a finite number of seconds > 0, got {args.time:g}")
    if args.seeds < 1 or args.workers < 1:
        raise UserError(f"nest bench: --seeds and --workers must be >= 1, got {args.seeds} and {args.workers}")
    try:
        written = run_benchmark(args.instances, time_s=args.time, seeds=args.seeds, engines=engines, out=args.out,
                                iterations=args.iterations, workers=args.workers, parallel=args.parallel,
                                progress=lambda line: print(line, flush=True))
    except BenchmarkError as exc:
        raise UserError(str(exc)) from None
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_serve(args) -> int:
    try:
        from workbench import serve  # deferred: the web extra (starlette, uvicorn) is optional
    except ImportError as exc:
        raise UserError(f"nest serve needs the web extra: pip install '.[web]' ({exc})") from None
    serve(args.host, args.port, args.workspace)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nest", description="Nest garment pattern pieces into short, verified markers.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    marker = commands.add_parser("marker", help="nest a DXF pattern or a JSON instance into a marker")
    add_arguments(marker, "marker")  # every option of the job, from the one table (jobs.options)
    marker.set_defaults(run=cmd_marker)

    info = commands.add_parser("info", help="list the pieces of a pattern file and how it was read")
    info.add_argument("input", help="pattern file (.dxf) or strip-packing instance (.json)")
    info.add_argument("--units", help="units of a DXF that does not state them: mm, cm, in")
    info.add_argument("--layer", help="generic DXF: read contours from this layer only")
    info.add_argument("--keep-folds", action="store_true", help="keep pieces with a mirror line as halves")
    info.add_argument("--json", action="store_true", help="print JSON only (warnings go to stderr)")
    info.set_defaults(run=cmd_info)

    verify = commands.add_parser("verify", help="check a marker.json (or a plan.json) independently")
    verify.add_argument("marker")
    verify.add_argument("--instance", help="the JSON instance it claims to nest")
    verify.set_defaults(run=cmd_verify)

    export = commands.add_parser("export", help="write a verified marker.json again as cut files and drawings")
    export.add_argument("marker", help="a marker/1 file (marker.json); it is verified again first")
    export.add_argument("--formats", default=",".join(f for f in DEFAULT_FORMATS if f != "json"),
                        help="outputs among json, png, dxf, plt, svg, pdf")
    export.add_argument("--out", required=True, help="output folder")
    export.add_argument("--dxf-exploded", action="store_true", help="DXF: every piece in model space, no blocks")
    export.add_argument("--plt-rotation", type=int, default=0, help="PLT: 0, 90, 180 or 270 degrees CCW on the plotter")
    export.add_argument("--plt-tools", default="cut=1,draw=2,notch=3,drill=4",
                        help="PLT: tool number per kind (cut, draw, notch, drill); 0 leaves a kind out")
    export.add_argument("--pdf-page", default="A3", help="PDF: A0..A4, or rollNNN for a plotter roll NNN mm wide")
    export.add_argument("--pdf-tiled", action="store_true", help="PDF: 1:1 over as many pages as needed")
    export.set_defaults(run=cmd_export)

    batch = commands.add_parser("batch", help="nest every marker of a jobs file, in parallel")
    batch.add_argument("jobs", help="jobs file (.toml): [[job]] tables of name, input and nest marker options")
    batch.add_argument("--out", required=True, help="output folder: one folder per job, plus summary.json/.csv")
    batch.add_argument("--workers", type=int, help="parallel jobs (default: every core)")
    add_arguments(batch, "batch")  # --scheduler
    batch.add_argument("--force", action="store_true", help="run again jobs whose verified marker exists")
    batch.add_argument("--limit", action="append", default=[], metavar="NAME=N",
                       help="raise a resource limit of the batch: workers (repeatable)")
    batch.set_defaults(run=cmd_batch)

    plan = commands.add_parser("plan", help="cut plan for an order: lays (markers x plies) using the least fabric")
    plan.add_argument("order", help="order file (.toml): a marker spec with [order], [limits] and [costs]")
    plan.add_argument("--time", type=float, default=120.0, help="total wall-clock budget in seconds (default 120)")
    plan.add_argument("--workers", type=int, help="parallel nestings (default: every core)")
    plan.add_argument("--out", required=True, help="output folder: plan.json, plan.md, plan.png, markers/")
    add_arguments(plan, "plan")  # --seed, --quiet, --scheduler: as nest marker's and nest batch's
    plan.set_defaults(run=cmd_plan)

    bench = commands.add_parser("bench", help="utilization benchmark: instances x seeds x engines, side by side")
    bench.add_argument("instances", nargs="*", help="bundled instance or set names (garment, gardeyn, comparison...) or .json files "
                       "(default: the ten ESICUP instances)")
    bench.add_argument("--time", type=float, default=30.0, help="seconds per run (default 30)")
    bench.add_argument("--seeds", type=int, default=3, help="runs per instance and engine, seeds 0..N-1 (default 3)")
    bench.add_argument("--engines", default="ours", help="comma-separated: ours, spyrrow (default ours)")
    bench.add_argument("--iterations", type=int, help="iteration budget for ours instead of --time (reproducible)")
    bench.add_argument("--workers", type=int, default=1,
                       help="cores per run: our workers, the peer's threads (default 1)")
    bench.add_argument("--parallel", choices=PARALLEL_MODES, default=DEFAULT_CONFIG.parallel,
                       help="how our workers share a run: shared (one search) or portfolio (independent seeds)")
    bench.add_argument("--out", required=True, help="output folder: results.json, results.md, *.png, markers/")
    bench.set_defaults(run=cmd_bench)

    serve = commands.add_parser("serve", help="the marker workbench in the browser (needs the web extra)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind; beyond localhost a token is required")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workspace", default=".", help="the folder it reads patterns from and writes markers to")
    serve.set_defaults(run=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)}
    unraisable_hook = sys.unraisablehook
    try:
        args = build_parser().parse_args(argv)
        return _report_closed_stdout(args.run, args)
    except VerificationError as exc:  # an invalid marker is a bug in the engine: traceback, exit 1
        traceback.print_exc()
        print(f"internal error: nothing was written, the final check refused the marker (a bug: please report it "
              f"with the input): {exc}", file=sys.stderr)
        return INTERNAL_ERROR
    except (UserError, PatternError, NestingError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("aborted: nothing written", file=sys.stderr)
        return 130
    except BaseException as exc:  # last: Abandoned, perhaps wrapped (SystemError)
        if not was_abandoned(exc):
            raise
        while not isinstance(exc, Abandoned):  # a signal lands in compiled code too: find its reason
            exc = exc.__cause__ or exc.__context__
        print(f"aborted: stopped {exc}: nothing written", file=sys.stderr)
        return 130
    finally:  # a caller in this process (a script, the tests) gets its own Ctrl-C back
        if threading.current_thread() is threading.main_thread():
            for number, handler in handlers.items():
                if handler is not None:  # None: a handler not set from Python, left as it is
                    signal.signal(number, handler)
        sys.unraisablehook = unraisable_hook


def _report_closed_stdout(run, args) -> int:
    """Run a command; a closed or broken stdout (``| head``) loses the summary, not the exit code.

    Every file is written before anything is printed, so the outcome stands: the lost summary is
    said on stderr, and stdout is pointed at /dev/null so the interpreter's last flush is quiet.
    """
    try:
        code = run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("warning: stdout is closed: the summary was not printed (the outputs are written)", file=sys.stderr)
        return 0


if __name__ == "__main__":
    sys.exit(main())
