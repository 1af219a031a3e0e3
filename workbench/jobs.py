"""Jobs on the server side: one worker process per search, its events collected for the page.

The worker is spawned (not forked: the server runs threads), reports on a queue, and is
stopped with SIGINT, which makes it finish with its best verified marker (or plan). A collector thread
turns the queue into the job's event list, which any number of event streams read.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import queue
import signal
import threading

from workbench import runner

RUNNING, DONE, FAILED = "running", "done", "failed"
_ids = itertools.count(1)


class Job:
    """A search in a worker process: ``target(search, queue)`` (a marker's by default, or a plan's).
    ``events`` only grows: ``(kind, payload)`` pairs of plain JSON data.

    Of the drawings of the improving marker only the newest keeps its payload (an older one's
    becomes None, skipped by the streams): a reader that keeps up sees them all, a late one
    needs only the newest, and an hour's search does not pile up its drawings in memory.

    ``on_done(result, folder)`` receives the job's result (a marker's: the verified marker) and
    the folder it was written to, and returns what the page needs to know of it (its id), merged
    into the done event;
    ``tidy(text)`` rewrites an error for the page (workspace paths shown relative).
    """

    def __init__(self, search, on_done, tidy=str, target=runner.run):
        self.id = str(next(_ids))
        self.folder = search.out
        self.status = RUNNING
        self.events: list[tuple[str, dict | None]] = []
        self._drawing = None  # the index of the newest marker event
        self.finished = threading.Event()
        self._stop_requested = False
        self._ready = False  # the worker has sent its first event, so its signal handler is installed
        self._lock = threading.Lock()
        context = multiprocessing.get_context("spawn")
        self._queue = context.Queue()
        self._on_done, self._tidy = on_done, tidy
        self._process = context.Process(target=target, args=(search, self._queue), daemon=True)
        self._process.start()
        threading.Thread(target=self._collect, daemon=True, name=f"job-{self.id}").start()

    def stop(self) -> None:
        """Ask the worker to finish now with its best marker (a no-op once it has ended).

        Before its first event the worker may not have installed its handler yet, and the
        signal would kill it: the request then waits for that event."""
        with self._lock:
            self._stop_requested = True
            if self._ready:
                self._signal()

    def _signal(self) -> None:
        if self.status == RUNNING and self._process.is_alive():
            os.kill(self._process.pid, signal.SIGINT)

    def _collect(self) -> None:
        while True:
            try:
                kind, payload, marker = self._queue.get(timeout=0.5)
                with self._lock:
                    if not self._ready and self._stop_requested:
                        self._signal()
                    self._ready = True
            except queue.Empty:
                if self._process.is_alive():
                    continue
                kind, payload, marker = FAILED, {"error": f"the worker process ended unexpectedly "
                                                          f"(exit code {self._process.exitcode})"}, None
            if kind == FAILED:
                payload["error"] = self._tidy(payload["error"])
            if kind == DONE:
                try:
                    payload.update(self._on_done(marker, self.folder))
                except Exception as exc:  # a bug on the server side: the page must still hear of it
                    kind, payload = FAILED, {"error": f"internal error: {exc!r}"}
            if kind == "marker":
                if self._drawing is not None:
                    self.events[self._drawing] = (kind, None)
                self._drawing = len(self.events)
            self.events.append((kind, payload))
            if kind == FAILED:
                with contextlib.suppress(OSError):
                    os.rmdir(self.folder)  # the folder reserved for the marker, if nothing was written
            if kind in (DONE, FAILED):
                self.status = kind
                break
        self._process.join()
        self.finished.set()
