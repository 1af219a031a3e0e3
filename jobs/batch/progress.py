"""One progress line over a batch's jobs: done and failed counts, best and worst utilization."""

from __future__ import annotations

from jobs.batch.result import JobResult

BAR_WIDTH = 24


class BatchProgress:
    """Rewrites its line in place on a terminal; writes one line per finished job otherwise (logs)."""

    def __init__(self, total: int, stream):
        self.total, self.stream = total, stream
        self.live = stream.isatty()
        self.done = self.failed = 0
        self.utilizations: list[float] = []
        if self.live:
            self._show("")

    def job_done(self, result: JobResult) -> None:
        if result.succeeded:
            self.done += 1
            self.utilizations.append(result.utilization)
        else:
            self.failed += 1
        self._show(f"  {result.name} {result.status}")

    def close(self) -> None:
        if self.live:
            print(file=self.stream, flush=True)

    def line(self) -> str:
        finished = self.done + self.failed
        filled = BAR_WIDTH * finished // max(self.total, 1)
        text = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {finished}/{self.total}  done {self.done}  failed {self.failed}"
        if self.utilizations:
            text += f"  utilization best {max(self.utilizations) * 100:.2f} %  worst {min(self.utilizations) * 100:.2f} %"
        return text

    def _show(self, last: str) -> None:
        if self.live:
            print(f"\r{self.line()}\x1b[K", end="", file=self.stream, flush=True)
        else:
            print(self.line() + last, file=self.stream, flush=True)
