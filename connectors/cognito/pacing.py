"""Client-side pacing per Cognito quota category.

Cognito's request-rate quotas are per account and region and per *category* of
operations (UserList, UserRead, …), shared with every application of the account: the
production app's own sign-ins count against some of the same buckets. The connector
therefore spaces its requests itself, category by category, at a configured share of
each quota, instead of running into ``TooManyRequestsException`` and backing off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class CategoryStats:
    requests: int = 0
    throttled: int = 0  # answers TooManyRequestsException
    waited: float = 0.0  # seconds spent waiting for a slot


class Pacer:
    """Evenly spaced request slots per category (``rates``: requests per second).

    ``acquire`` reserves the next free slot and sleeps until it; with several threads
    each one gets its own slot, so the category's rate holds whatever the concurrency.
    ``clock`` and ``sleep`` are injectable for tests."""

    def __init__(
        self,
        rates: dict[str, float],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = {k: 1.0 / v for k, v in rates.items()}
        self._next: dict[str, float] = {}
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.stats: dict[str, CategoryStats] = {k: CategoryStats() for k in rates}

    def acquire(self, category: str) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(category, now))
            self._next[category] = slot + self._interval[category]
            stats = self.stats[category]
            stats.requests += 1
            wait = slot - now
            stats.waited += wait
        if wait > 0:
            self._sleep(wait)

    def throttled(self, category: str) -> None:
        with self._lock:
            self.stats[category].throttled += 1
