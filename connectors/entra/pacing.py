"""Pacing of Graph's identity-and-access reports family from its documented limit.

Microsoft documents the limit of the identity and access reports (the sign-in log under
``/auditLogs/`` and the registration report under ``/reports/``) as 5 requests per 10 s
per app per tenant, and Graph sends no header that counts down towards it. Waiting for
the 429 and its ``Retry-After`` costs a refused request each window and up to the whole
Retry-After; spending exactly the documented budget costs neither. The pacer keeps the
send times of the last ``limit`` requests and holds a request until the oldest of them
is a whole window (plus a small margin for the network's jitter) old.

Time is the pacer's own reckoning of when each request went out: after a wait it counts
the send at the time it waited for, so an injected ``sleep`` that does not really sleep
(the tests') still paces correctly and never loops.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# A request sent exactly a window after another may arrive a little sooner after it than
# it was sent: that much later, at the least.
MARGIN_S = 0.05
MARGIN_SHARE = 0.02

REPORT_PREFIXES = ("/reports/", "/auditLogs/")


def is_report(endpoint: str) -> bool:
    """Whether a request's endpoint counts against the identity-and-access reports limit."""
    return endpoint.startswith(REPORT_PREFIXES)


class WindowPacer:
    """At most ``limit`` sends in any ``window`` seconds."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._sleep = sleep
        self._clock = clock
        self._sent: deque[float] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for the window, over the whole collection

    def acquire(self, on_wait: Callable[[float], None] | None = None) -> float:
        """Wait for a turn and count the send; returns the seconds waited. ``on_wait`` is
        told of a wait before it starts (the operator's progress display)."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            if len(self._sent) == self.limit:
                due = self._sent[0] + self.window + max(MARGIN_S, MARGIN_SHARE * self.window)
                wait = max(0.0, due - now)
                if wait > 0:
                    if on_wait is not None:
                        on_wait(wait)
                    self._sleep(wait)
                    self.waited += wait
                now = max(now + wait, self._clock())
            self._sent.append(now)
            return wait
