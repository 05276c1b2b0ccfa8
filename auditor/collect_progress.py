"""Progress of a collection as the operator sees it: one line per source with records
read against the vendor's total, requests made, time spent waiting on rate limits and
an estimate of the time left.

On a terminal this is a set of rich progress bars; elsewhere (cron, CI, a log file) a
plain line per source every ``interval`` seconds and when a source ends, so a run of
several hours is never one silent line. Connectors report through
``CollectContext.progress`` (``auditor.interfaces.CollectProgress``), from any thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from auditor.interfaces import CollectProgress
from auditor.text import visible_controls


@dataclass
class _Counts:
    totals: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    waited: float = 0.0
    waiting_for: str = ""

    def done_and_total(self) -> tuple[int, int | None]:
        """Records read of the listings whose total is known, and that total; with no
        total known, everything read and no end."""
        if not self.totals:
            return sum(self.read.values()), None
        return sum(min(self.read.get(k, 0), t) for k, t in self.totals.items()), sum(self.totals.values())

    def line(self) -> str:
        parts = []
        for kind in sorted(set(self.read) | set(self.totals)):
            n = self.read.get(kind, 0)
            total = self.totals.get(kind)
            parts.append(f"{kind} {n:,}" + (f"/{total:,}" if total is not None else ""))
        parts.append(f"{self.requests:,} requests")
        if self.waited:
            parts.append(f"waited {self.waited:,.0f} s" + (f" ({self.waiting_for})" if self.waiting_for else ""))
        return ", ".join(parts)


class SourceProgress(CollectProgress):
    """The counters of one source; every call takes the board's lock."""

    def __init__(self, board: ProgressBoard, source: str) -> None:
        self._board = board
        self.source = source
        self.counts = _Counts()

    def total(self, kind: str, count: int) -> None:
        with self._board.lock:
            self.counts.totals[kind] = max(0, int(count))
        self._board.changed(self)

    def read(self, kind: str, count: int = 1) -> None:
        with self._board.lock:
            self.counts.read[kind] = self.counts.read.get(kind, 0) + count
        self._board.changed(self)

    def request(self, count: int = 1) -> None:
        with self._board.lock:
            self.counts.requests += count
        self._board.changed(self)

    def waiting(self, seconds: float, reason: str) -> None:
        with self._board.lock:
            self.counts.waited += max(0.0, seconds)
            self.counts.waiting_for = visible_controls(reason)[:60]
        self._board.say(f"{self.source}: waiting {seconds:,.0f} s, {self.counts.waiting_for}")
        self._board.changed(self)


class ProgressBoard:
    """``live``: rich bars (a terminal); otherwise plain lines through ``emit`` at most
    every ``interval`` seconds per source. ``quiet``: nothing at all."""

    def __init__(
        self,
        console: Console,
        *,
        live: bool,
        quiet: bool = False,
        interval: float = 10.0,
        emit: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = threading.Lock()
        self._console = console
        self._quiet = quiet
        self._interval = interval
        self._clock = clock
        self._emit = emit or (lambda m: console.print(m, markup=False, highlight=False, soft_wrap=True))
        self._last: dict[str, float] = {}
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        if live and not quiet:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=20),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )

    @contextmanager
    def running(self) -> Iterator[ProgressBoard]:
        if self._progress is None:
            yield self
            return
        with self._progress:
            yield self

    def source(self, name: str) -> SourceProgress:
        sp = SourceProgress(self, name)
        if self._progress is not None:
            with self.lock:
                self._tasks[name] = self._progress.add_task(visible_controls(name), total=None, detail="starting")
        else:
            self.say(f"collecting {name}")
            self._last[name] = self._clock()
        return sp

    def say(self, message: str) -> None:
        if self._quiet:
            return
        if self._progress is not None:
            self._progress.console.print(message, markup=False, highlight=False, soft_wrap=True)
        else:
            self._emit(message)

    def changed(self, sp: SourceProgress) -> None:
        if self._quiet:
            return
        with self.lock:
            done, total = sp.counts.done_and_total()
            line = sp.counts.line()
        if self._progress is not None:
            self._progress.update(self._tasks[sp.source], completed=done, total=total, detail=line)
            return
        now = self._clock()
        if now - self._last.get(sp.source, now) >= self._interval:
            self._last[sp.source] = now
            self._emit(f"{sp.source}: {line}")

    def finished(self, sp: SourceProgress, summary: str) -> None:
        if self._progress is not None:
            with self.lock:
                done, total = sp.counts.done_and_total()
            self._progress.update(
                self._tasks[sp.source],
                completed=total if total is not None else done,
                total=total or done or 1,
                detail=summary,
            )
            return
        self.say(f"  {sp.source}: {summary} ({sp.counts.line()})")
