"""Request pacing for the Auth0 Management API (thread-safe; one per collection).

Auth0 limits a tenant with token buckets: a burst size (``X-RateLimit-Limit``), the
tokens left (``X-RateLimit-Remaining``) and the epoch second at which the bucket is
full again (``X-RateLimit-Reset``); the sustained refill rate is the plan's (2 rps on
free production tenants, 16 on paid ones) and is not in any header. So the pacer
spaces requests at the configured tenant rate (``rate_limit_rps``), and on top of it
obeys the server: with no token left it waits for one token's refill (the time to a
full bucket divided by its size), and after a 429 it waits for ``Retry-After`` when
sent, else for the reset. Server times are turned into waits against the response's
own ``Date``, so a skewed local clock does not shorten them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass(slots=True)
class PacerStats:
    requests: int = 0
    throttled: int = 0  # 429 answers
    first: float | None = None
    last: float | None = None
    limit: int | None = None  # the bucket size the server announced

    @property
    def span(self) -> float:
        return (self.last - self.first) if self.first is not None and self.last is not None else 0.0


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lower = name.lower()
    for k, v in headers.items():
        if k.lower() == lower:
            return v
    return None


def _float(headers: Mapping[str, str], name: str) -> float | None:
    raw = _header(headers, name)
    if raw is None:
        return None
    try:
        return float(raw.strip())
    except ValueError:
        return None


def _server_now(headers: Mapping[str, str], local: float) -> float:
    raw = _header(headers, "Date")
    if raw:
        try:
            return parsedate_to_datetime(raw).timestamp()
        except (TypeError, ValueError):
            pass
    return local


class Pacer:
    """``clock`` / ``sleep`` are injectable (tests); ``wall`` is epoch time for the
    headers' reset."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._interval = 1.0 / rate
        self._clock, self._sleep, self._wall = clock, sleep, wall
        self._lock = threading.Lock()
        self._next = 0.0
        self._paused_until = 0.0
        self.stats = PacerStats()

    def acquire(self) -> None:
        """Block until this request may go."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next, self._paused_until)
            self._next = start + self._interval
        if start > now:
            self._sleep(start - now)
        with self._lock:
            sent = self._clock()
            self.stats.requests += 1
            self.stats.first = sent if self.stats.first is None else self.stats.first
            self.stats.last = sent

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        limit = _float(headers, "X-RateLimit-Limit")
        remaining = _float(headers, "X-RateLimit-Remaining")
        reset = _float(headers, "X-RateLimit-Reset")
        retry_after = _float(headers, "Retry-After")
        server_now = _server_now(headers, self._wall())
        to_reset = max(reset - server_now, 0.0) if reset is not None else None
        wait = 0.0
        if status == 429:
            if retry_after is not None:
                wait = max(retry_after, 0.0)
            elif to_reset is not None:
                wait = to_reset
            else:
                wait = 1.0
        elif remaining is not None and remaining < 1 and to_reset is not None:
            wait = to_reset / max(limit or 1.0, 1.0)
        with self._lock:
            if limit is not None:
                self.stats.limit = int(limit)
            if status == 429:
                self.stats.throttled += 1
            if wait > 0:
                self._paused_until = max(self._paused_until, self._clock() + wait)

    def budget_share(self, sustained: float) -> float | None:
        """Requests sent per second of the run, as a share of the tenant's sustained rate."""
        s = self.stats
        if s.requests < 2 or s.span <= 0:
            return None
        return (s.requests - 1) / s.span / sustained
