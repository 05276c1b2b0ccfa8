"""Per-user calls on a thread pool with a bounded number of jobs queued.

``ThreadPoolExecutor.map`` submits every job at once: a million users would sit in
memory as a million futures. Here at most ``window`` jobs are queued or running; the
feeder (the user listing itself) waits when it runs ahead, so the listing and the
per-user calls overlap without either growing without bound. The first exception a
job raises (e.g. credentials refused mid-run) stops the feeding and is raised again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

DEFAULT_WINDOW = 1000


def run_bounded(jobs: Iterable[Callable[[], None]], workers: int, window: int = DEFAULT_WINDOW) -> None:
    gate = threading.BoundedSemaphore(window)
    failures: list[BaseException] = []

    def done(future: Future[None]) -> None:
        exc = future.exception()
        if exc is not None:
            failures.append(exc)
        gate.release()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for job in jobs:
            gate.acquire()
            if failures:
                gate.release()
                break
            pool.submit(job).add_done_callback(done)
    if failures:
        raise failures[0]
