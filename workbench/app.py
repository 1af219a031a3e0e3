"""The workbench's HTTP API and its one page (Starlette).

State lives in one `Workbench` per app: the jobs and the verified markers, each marker written
into the workspace when it is made. The page holds edits (and their undo
history) itself and asks the engine, through this API, about every one of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
from dataclasses import dataclass, replace
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from export import available_formats
from jobs.marker import MarkerJob, check_size, marker_spec, spec_pieces, write_all
from jobs.options import describe
from nesting.errors import MarkerFileError, NestingError, SpecError, VerificationError
from nesting.model import Marker
from nesting.rules import marker_rules
from nesting.verify import verify
from nesting.verify_file import verify_file
from patterns import read_pieces
from patterns.errors import PatternError
from patterns.info import piece_row
from workbench import edit, plans, runner
from workbench.jobs import RUNNING, Job
from workbench.workspace import ORDER_SUFFIXES, Workspace, WorkspaceError

STATIC = Path(__file__).with_name("static")
MAX_UPLOAD = 32 * 2**20  # bytes: a graded CAD export is a few MB
MAX_TIME = 3600.0  # seconds of one search from the page
KEPT_JOBS = 20  # finished jobs whose events stay readable
LOCAL_HOSTS = ("127.0.0.1", "localhost")
TOKEN_COOKIE = "workbench_token"

# The options of `nest marker` the page offers: (MarkerJob field, label, kind). Defaults come from MarkerJob.
PAGE_OPTIONS = ("width", "sizes", "fabric", "spacing", "margin", "rotations", "tilt", "flip", "spread", "time",
                "workers", "seed")  # the rows of `nest marker`'s option table the nest form offers
DEFAULT_TIME = 10.0


class RequestError(ValueError):
    """A request the page should not have sent (bad field, unknown id): HTTP 400 with one line."""


@dataclass
class StoredMarker:
    marker: Marker
    folder: Path


class Workbench:
    """The app's state: workspace, the current job, and every verified marker by id (its folder's name)."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.jobs: dict[str, Job] = {}
        self.markers: dict[str, StoredMarker] = {}
        self.plans: dict[str, Path] = {}  # plan id (its folder's name) -> the folder

    def running(self) -> Job | None:
        return next((job for job in self.jobs.values() if job.status == RUNNING), None)

    def start(self, search, target=runner.run, on_done=None) -> Job:
        """Start a marker job (a `runner.Search`; its marker goes to `store`), or another
        ``target``'s (a plan's: ``plans.run``, `store_plan`)."""
        if self.running():
            raise RequestError("a job is already running: stop it first")
        for old in list(self.jobs)[:-KEPT_JOBS]:  # finished long ago: their event lists go
            del self.jobs[old]
        job = Job(search, on_done or self.store, tidy=lambda text: _user_message(text, self.workspace.root),
                  target=target)
        self.jobs[job.id] = job
        return job

    def store(self, marker: Marker, folder) -> dict:
        """Register a verified marker already written to ``folder``; returns its id for the page."""
        folder = Path(folder)
        self.markers[folder.name] = StoredMarker(marker, folder)
        return {"marker_id": folder.name, "folder": folder.relative_to(self.workspace.root).as_posix()}

    def store_plan(self, _, folder) -> dict:
        """Register a plan written to ``folder``, once it verifies from its files (else the job fails)."""
        folder = Path(folder)
        plans.shown(folder)
        self.plans[folder.name] = folder
        return {"plan_id": folder.name, "folder": folder.relative_to(self.workspace.root).as_posix()}

    def plan(self, plan_id: str) -> Path:
        try:
            return self.plans[plan_id]
        except KeyError:
            raise RequestError(f"no plan {plan_id!r}") from None

    def marker(self, marker_id: str) -> StoredMarker:
        try:
            return self.markers[marker_id]
        except KeyError:
            raise RequestError(f"no marker {marker_id!r}") from None

    def job(self, job_id: str) -> Job:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise RequestError(f"no job {job_id!r}") from None


def pattern_table(path: Path, root: Path, units=None, layer=None) -> dict:
    """``nest info``'s document of a pattern, each row with a thumbnail outline (simplified for the page)."""
    options = {key: value for key, value in (("units", units), ("layer", layer)) if value}
    pieces, report = read_pieces(path, **options)
    rows = []
    for piece in pieces:
        row = piece_row(piece)
        minx, miny, maxx, maxy = piece.outline.bounds
        outline = piece.outline.simplify(max(maxx - minx, maxy - miny) / 200.0)
        row.update(id=piece.id, thumbnail=[list(p) for p in outline.exterior.coords[:-1]])
        rows.append(row)
    fabrics = sorted({piece.fabric for piece in pieces if piece.fabric is not None})
    return {"file": path.relative_to(root).as_posix(), "units": report.get("units", "mm"), "pieces": rows,
            "report": _plain(report), "fabrics": fabrics, "sizes": report.get("sizes") or []}


def _plain(value):
    """The import report as JSON data (it may hold tuples and paths)."""
    return json.loads(json.dumps(value, default=str))


def _job_options(body: dict, workspace: Workspace) -> tuple[MarkerJob, float, int]:
    """The page's nest options as a `MarkerJob`: each value is read by its row of the option table,
    as `nest marker` reads it (text from the form; a bad value is one line naming the option)."""
    unknown = sorted(set(body) - set(PAGE_OPTIONS) - {"pattern", "units", "layer"})
    if unknown:
        raise RequestError(f"unknown option {', '.join(unknown)}")
    values = {name: body[name] for name in PAGE_OPTIONS if body.get(name) not in (None, "")}
    if isinstance(values.get("flip"), str):  # the form's yes/no select
        values["flip"] = {"yes": True, "no": False}.get(values["flip"], values["flip"])
    try:
        job = MarkerJob(input=str(workspace.pattern(str(body.get("pattern") or ""))), out="",
                        units=body.get("units") or None, layer=body.get("layer") or None, **values)
    except SpecError as exc:
        raise RequestError(str(exc)) from None
    time_s = DEFAULT_TIME if job.time is None else job.time
    if time_s > MAX_TIME:
        raise RequestError(f"time: must be between 0 and {MAX_TIME:g} seconds, got {time_s:g}")
    if not job.workers <= (os.cpu_count() or 1):
        raise RequestError(f"workers: must be between 1 and {os.cpu_count() or 1} (this machine's cores), "
                           f"got {job.workers}")
    return replace(job, time=None, workers=1), time_s, job.workers


def _bounded(value, name: str, kind, low, high):
    """``value`` as ``kind`` (float or int) within [low, high], else a one-line `RequestError`."""
    try:
        number = kind(value)
        if isinstance(value, bool) or (kind is int and number != value) or not low <= number <= high:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise RequestError(f"{name}: must be a number from {low:g} to {high:g}, got {value!r}") from None
    return number


async def _json(request: Request) -> dict:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RequestError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    return body


def _user_message(exc: Exception | str, root: Path) -> str:
    """One line, with workspace paths shown relative to the workspace."""
    return " ".join(str(exc).replace(f"{root}{os.sep}", "").split())


def create_app(workspace, token: str | None = None, max_upload: int = MAX_UPLOAD,
               allowed_hosts=LOCAL_HOSTS) -> Starlette:
    """The workbench app on ``workspace``.

    ``token``: when given, every request must carry it (the page's ``?token=`` sets a cookie);
    ``serve`` sets one whenever it binds beyond localhost. ``allowed_hosts`` guards a local
    server against DNS rebinding. Requests that change anything need the ``X-Workbench``
    header, which a foreign page cannot send without the server's consent (no CORS here).
    """
    bench = Workbench(Workspace(workspace))
    root = bench.workspace.root

    def fail(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    def api(handler):
        """Map the user-side errors of a handler to one readable line (400, or 409 for a refused marker)."""
        async def wrapped(request: Request):
            try:
                return await handler(request)
            except edit.MarkerRefused as exc:
                return JSONResponse({"error": str(exc), **exc.findings}, status_code=409)
            except plans.PlanRefused as exc:
                return fail(409, str(exc))
            except VerificationError as exc:
                return fail(500, f"internal error: the check refused the marker (a bug): {exc}")
            except (RequestError, WorkspaceError, edit.EditError, PatternError, NestingError, OSError) as exc:
                return fail(400, _user_message(exc, root))
        return wrapped

    async def page(request: Request):
        response = HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))
        if token and secrets.compare_digest(request.query_params.get("token", ""), token):
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    @api
    async def options(request: Request):
        rows = {row["name"]: row for row in describe("marker")}
        table = [{**rows[name], "label": rows[name]["help"],
                  "default": DEFAULT_TIME if name == "time" else rows[name]["default"]} for name in PAGE_OPTIONS]
        return JSONResponse({"options": table, "formats": list(available_formats()), "max_upload": max_upload,
                             "max_time": MAX_TIME})

    @api
    async def files(request: Request):
        return JSONResponse({"workspace": str(root), "patterns": bench.workspace.patterns()})

    @api
    async def upload(request: Request):
        name = request.query_params.get("name", "")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_upload:
            return fail(413, f"{name}: the file is larger than the upload limit of {max_upload / 2**20:g} MiB")
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > max_upload:
                return fail(413, f"{name}: the file is larger than the upload limit of {max_upload / 2**20:g} MiB")
        path = bench.workspace.save_upload(name, bytes(data))
        query = request.query_params
        return JSONResponse(await asyncio.to_thread(pattern_table, path, root, query.get("units"), query.get("layer")))

    @api
    async def open_pattern(request: Request):
        body = await _json(request)
        path = bench.workspace.pattern(str(body.get("path") or ""))
        return JSONResponse(await asyncio.to_thread(pattern_table, path, root, body.get("units"), body.get("layer")))

    @api
    async def start_job(request: Request):
        job, time_s, workers = _job_options(await _json(request), bench.workspace)

        def prepare():
            spec = marker_spec(job)
            left_out = []
            pieces, spec, units = spec_pieces(job, spec, left_out)
            check_size(pieces, spec)
            return runner.Search(
                pieces=tuple(pieces), rules=marker_rules(pieces, spec), units=units, input_name=", ".join(Path(p).name for p in spec.patterns),
                out=str(bench.workspace.new_marker_folder(Path(job.input).stem)), formats=available_formats(),
                time=time_s, workers=workers, seed=job.seed, target=job.target, left_out="; ".join(left_out))

        started = bench.start(await asyncio.to_thread(prepare))
        return JSONResponse({"job_id": started.id, "folder": Path(started.folder).name})

    @api
    async def job_status(request: Request):
        job = bench.job(request.path_params["job_id"])
        return JSONResponse({"job_id": job.id, "status": job.status, "events": len(job.events),
                             "last": job.events[-1] if job.events else None})

    @api
    async def stop_job(request: Request):
        job = bench.job(request.path_params["job_id"])
        job.stop()
        return JSONResponse({"job_id": job.id, "status": job.status})

    @api
    async def job_events(request: Request):
        job = bench.job(request.path_params["job_id"])

        async def stream():
            sent = 0
            while True:
                while sent < len(job.events):
                    kind, payload = job.events[sent]
                    sent += 1
                    if payload is not None:  # (None: a drawing superseded by a newer one)
                        yield f"event: {kind}\ndata: {json.dumps(payload)}\n\n"
                if job.finished.is_set() and sent == len(job.events):
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.1)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    @api
    async def marker_view(request: Request):
        stored = bench.marker(request.path_params["marker_id"])
        return JSONResponse({"marker_id": stored.folder.name, "marker": edit.view(stored.marker),
                             **edit.check(stored.marker)})

    async def _edited(request: Request):
        stored = bench.marker(request.path_params["marker_id"])
        body = await _json(request)
        return stored, body, edit.edited(stored.marker, edit.placements_from(stored.marker, body.get("placements")))

    @api
    async def check_edit(request: Request):
        _, _, marker = await _edited(request)
        findings = await asyncio.to_thread(edit.check, marker)
        return JSONResponse({"marker": edit.view(marker), **findings})

    @api
    async def turn_piece(request: Request):
        stored, body, marker = await _edited(request)
        index = body.get("index")
        if not isinstance(index, int):
            raise RequestError("index: must be the number of a placed piece")
        marker = edit.edited(stored.marker, edit.turned(marker, index, str(body.get("action"))))
        findings = await asyncio.to_thread(edit.check, marker)
        return JSONResponse({"marker": edit.view(marker), **findings})

    @api
    async def keep_edit(request: Request):
        stored, _, marker = await _edited(request)
        findings = await asyncio.to_thread(edit.check, marker)
        if not findings["valid"]:
            raise edit.MarkerRefused("the edited marker breaks the rules: resolve them or compact first", findings)
        folder = bench.workspace.new_marker_folder(stored.folder.name.rsplit("-", 1)[0])
        kept = verify(replace(marker, stats={**marker.stats, "edited_from": stored.folder.name}))
        await asyncio.to_thread(write_all, kept, folder, available_formats())
        return JSONResponse({**bench.store(kept, folder), "marker": edit.view(kept), **findings})

    @api
    async def compact_edit(request: Request):
        stored, body, marker = await _edited(request)
        try:
            time_s = float(body.get("time", 5.0))
        except (TypeError, ValueError):
            raise RequestError("time: must be a number of seconds") from None
        if not 0 < time_s <= MAX_TIME:
            raise RequestError(f"time: must be in (0, {MAX_TIME:g}] seconds, got {time_s:g}")
        findings = await asyncio.to_thread(edit.check, marker)
        search = runner.Search(
            pieces=marker.pieces, rules=marker.effective_rules(), units=marker.units, input_name=marker.input,
            out=str(bench.workspace.new_marker_folder(stored.folder.name.rsplit("-", 1)[0])),
            formats=available_formats(), time=time_s, seed=stored.marker.seed,
            target=marker.target_utilization, start=marker, start_valid=findings["valid"])
        job = bench.start(search)
        return JSONResponse({"job_id": job.id, "folder": Path(job.folder).name, "start_valid": findings["valid"]})

    @api
    async def start_plan(request: Request):
        body = await _json(request)
        unknown = sorted(set(body) - {"name", "order", "time", "workers", "seed"})
        if unknown:
            raise RequestError(f"unknown field {', '.join(unknown)}")
        if not isinstance(body.get("order"), str) or not body["order"].strip():
            raise RequestError("order: give the order file's text (TOML: patterns, [fabric], [order], [limits])")
        time_s = _bounded(body.get("time", plans.DEFAULT_TIME), "time", float, 1.0, MAX_TIME)
        workers = _bounded(body.get("workers", 1), "workers", int, 1, os.cpu_count() or 1)
        seed = _bounded(body.get("seed", 0), "seed", int, 0, 2**63 - 1)
        name = str(body.get("name") or "order.toml")
        path = bench.workspace.save_upload(name, body["order"].encode("utf-8"), suffixes=ORDER_SUFFIXES)
        await asyncio.to_thread(plans.read_order, path, bench.workspace)  # a bad order: one line, no job
        search = plans.PlanSearch(order=str(path), out=str(bench.workspace.new_plan_folder(path.stem)),
                                  time=time_s, workers=workers, seed=seed)
        job = bench.start(search, plans.run, bench.store_plan)
        return JSONResponse({"job_id": job.id, "folder": Path(job.folder).name,
                             "order": path.relative_to(root).as_posix()})

    @api
    async def plan_view(request: Request):
        folder = bench.plan(request.path_params["plan_id"])
        return JSONResponse({"plan_id": folder.name, **await asyncio.to_thread(plans.shown, folder)})

    @api
    async def plan_file(request: Request):
        folder = bench.plan(request.path_params["plan_id"])
        name = request.path_params["name"]
        if name not in plans.DOWNLOADS:
            raise RequestError(f"file: {name!r} is not one of {', '.join(plans.DOWNLOADS)}")
        await asyncio.to_thread(plans.shown, folder)  # the gate: offered only while the plan verifies
        return FileResponse(folder / name, filename=f"{folder.name}-{name}")

    @api
    async def download(request: Request):
        stored = bench.marker(request.path_params["marker_id"])
        name = request.path_params["format"]
        if name not in available_formats():
            raise RequestError(f"format: {name!r} is not one of {', '.join(available_formats())}")
        try:
            problems = await asyncio.to_thread(verify_file, stored.folder / "marker.json")
        except MarkerFileError as exc:
            problems = [_user_message(exc, root)]
        if problems:  # the gate: a file is offered only while its marker.json verifies
            return fail(409, f"{stored.folder.name}/marker.json fails verification: {problems[0]}")
        return FileResponse(stored.folder / f"marker.{name}", filename=f"{stored.folder.name}.{name}")

    routes = [
        Route("/", page),
        Route("/api/options", options),
        Route("/api/files", files),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/open", open_pattern, methods=["POST"]),
        Route("/api/jobs", start_job, methods=["POST"]),
        Route("/api/jobs/{job_id}", job_status),
        Route("/api/jobs/{job_id}/events", job_events),
        Route("/api/jobs/{job_id}/stop", stop_job, methods=["POST"]),
        Route("/api/markers/{marker_id}", marker_view),
        Route("/api/markers/{marker_id}/check", check_edit, methods=["POST"]),
        Route("/api/markers/{marker_id}/turn", turn_piece, methods=["POST"]),
        Route("/api/markers/{marker_id}/keep", keep_edit, methods=["POST"]),
        Route("/api/markers/{marker_id}/compact", compact_edit, methods=["POST"]),
        Route("/api/markers/{marker_id}/files/{format}", download),
        Route("/api/plans", start_plan, methods=["POST"]),
        Route("/api/plans/{plan_id}", plan_view),
        Route("/api/plans/{plan_id}/files/{name}", plan_file),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(_Guard, token=token)]
    if allowed_hosts:
        middleware.insert(0, Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
    app = Starlette(routes=routes, middleware=middleware)
    app.state.workbench = bench
    return app


class _Guard:
    """The token (when set) on every request, and the ``X-Workbench`` header on every change (plain ASGI,
    so event streams pass through unbuffered)."""

    def __init__(self, app, token: str | None):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            request = Request(scope)
            refusal = self.refusal(request)
            if refusal is not None:
                return await refusal(scope, receive, send)
        await self.app(scope, receive, send)

    def refusal(self, request: Request) -> Response | None:
        if self.token:
            offered = (request.cookies.get(TOKEN_COOKIE) or request.query_params.get("token")
                       or request.headers.get("x-workbench-token") or "")
            if not secrets.compare_digest(offered, self.token):
                return Response("a token is required: open the address printed when the server started\n",
                                status_code=403, media_type="text/plain")
        if request.method not in ("GET", "HEAD") and request.headers.get("x-workbench") != "1":
            return JSONResponse({"error": "requests that change anything need the X-Workbench: 1 header"},
                                status_code=403)
        return None


def serve(host: str = "127.0.0.1", port: int = 8000, workspace=".", max_upload: int = MAX_UPLOAD) -> None:
    """Run the workbench with uvicorn until Ctrl-C; a token guards it whenever it is bound beyond localhost."""
    import uvicorn

    try:  # a clear one-line error (exit 2) rather than the server's own exit when the port is taken
        socket.create_server((host, port)).close()
    except OSError as exc:
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    local = host in LOCAL_HOSTS
    token = None if local else secrets.token_urlsafe(18)
    app = create_app(workspace, token=token, max_upload=max_upload, allowed_hosts=LOCAL_HOSTS if local else None)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    print(f"marker workbench on {address}  (workspace {app.state.workbench.workspace.root}; Ctrl-C to stop)",
          flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
