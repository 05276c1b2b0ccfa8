"""Request pacing from Okta's rate-limit headers, per endpoint family.

Okta answers every request with ``X-Rate-Limit-Limit`` (the window's budget),
``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (UTC epoch seconds when the window
resets). The pacer spends exactly what ``Remaining`` allows, minus the requests still in
flight (the server may not have counted them yet), then waits for the reset instead of
provoking 429s; a 429 pauses the family until the reset.

The reset is the server's clock: it is turned into ours with the offset ``Date −
local time`` estimated as the *largest* sample seen. ``Date`` has one-second resolution
and is always at or behind the server's true time, so the maximum converges on the true
offset from below and the local reset estimate is never early.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

# Before the first answer of a family nothing is known: one request probes the budget.
_PROBE_WAIT = 0.05


@dataclass(slots=True)
class FamilyStats:
    requests: int = 0
    throttled: int = 0  # 429 answers
    first: float | None = None  # local time of the first dispatch
    last: float | None = None  # local time of the last dispatch
    limit: int | None = None


@dataclass(slots=True)
class _Family:
    limit: int | None = None
    window_reset: float | None = None  # server epoch; None: rolled over locally, not yet confirmed
    stale_upto: float | None = None  # answers of windows up to this reset are stale
    tokens: int = 0
    in_flight: int = 0
    paused_until: float = 0.0
    stats: FamilyStats = field(default_factory=FamilyStats)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        for k, v in headers.items():
            if k.lower() == lower:
                return v
    return value


def _number(headers: Mapping[str, str], name: str) -> float | None:
    raw = _header(headers, name)
    if raw is None:
        return None
    try:
        return float(str(raw).split(",")[0].strip())
    except ValueError:
        return None


class Pacer:
    """Shared by every request of one collection (one event loop)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._families: dict[str, _Family] = {}
        self._offset: float | None = None
        self._changed = asyncio.Condition()
        # Told of every wait of a second or more on a family's window (seconds, family).
        self.on_wait: Callable[[float, str], None] | None = None

    @property
    def stats(self) -> dict[str, FamilyStats]:
        return {name: fam.stats for name, fam in self._families.items()}

    def _window_end(self, fam: _Family) -> float | None:
        if fam.window_reset is None:
            return None
        return fam.window_reset - (self._offset or 0.0)

    def _try(self, fam: _Family) -> float | None:
        """Take a slot (None) or say how long to wait at most before trying again."""
        now = self._clock()
        if now < fam.paused_until:
            return fam.paused_until - now
        end = self._window_end(fam)
        if fam.limit is None:
            if fam.in_flight == 0:
                return None
            return _PROBE_WAIT
        if end is not None and now >= end:
            # The window has reset: the full budget again (the next answer confirms it).
            fam.stale_upto, fam.window_reset, fam.tokens = fam.window_reset, None, fam.limit
        if fam.tokens > 0:
            fam.tokens -= 1
            return None
        return max(end - now, 0.001) if end is not None else _PROBE_WAIT

    async def acquire(self, family: str) -> None:
        fam = self._families.setdefault(family, _Family())
        async with self._changed:
            while True:
                wait = self._try(fam)
                if wait is None:
                    break
                if wait >= 1 and self.on_wait is not None:
                    self.on_wait(wait, family)  # a window spent: the operator sees why it stalls
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=wait)
            fam.in_flight += 1
            now = self._clock()
            fam.stats.requests += 1
            fam.stats.first = now if fam.stats.first is None else fam.stats.first
            fam.stats.last = now

    async def release(self, family: str, status: int | None, headers: Mapping[str, str]) -> None:
        """Account for an answer (``status`` None: no answer, e.g. a timeout)."""
        fam = self._families.setdefault(family, _Family())
        now = self._clock()
        async with self._changed:
            fam.in_flight = max(fam.in_flight - 1, 0)
            self._learn_offset(headers, now)
            limit = _number(headers, "X-Rate-Limit-Limit")
            remaining = _number(headers, "X-Rate-Limit-Remaining")
            reset = _number(headers, "X-Rate-Limit-Reset")
            concurrency_429 = status == 429 and limit == 0 and remaining == 0
            if limit is not None and remaining is not None and reset is not None and not concurrency_429:
                self._update(fam, int(limit), int(remaining), reset)
            if status == 429:
                fam.stats.throttled += 1
                fam.tokens = 0
                if reset is not None and not concurrency_429:
                    # The 429 names the reset that ends this window: wait for it, then the
                    # budget is whole again (the roll-over in ``_try``).
                    fam.window_reset, fam.stale_upto = reset, None
                    end: float | None = reset - (self._offset or 0.0)
                else:
                    end = self._window_end(fam)
                fam.paused_until = max(fam.paused_until, end if end is not None else now + 1.0)
            self._changed.notify_all()

    def _update(self, fam: _Family, limit: int, remaining: int, reset: float) -> None:
        fam.limit = fam.stats.limit = limit
        if fam.stale_upto is not None and reset <= fam.stale_upto:
            return  # an answer from the window before the local roll-over
        available = remaining - fam.in_flight
        if fam.window_reset is None:
            fam.tokens = available if fam.stale_upto is None else min(fam.tokens, available)
            fam.window_reset = reset
        elif reset > fam.window_reset:  # the server rolled over before our estimate did
            fam.window_reset, fam.tokens = reset, available
        elif reset == fam.window_reset:
            fam.tokens = min(fam.tokens, available)

    def _learn_offset(self, headers: Mapping[str, str], now: float) -> None:
        raw = _header(headers, "Date")
        if not raw:
            return
        try:
            server = parsedate_to_datetime(raw).timestamp()
        except (TypeError, ValueError):
            return
        sample = server - now
        self._offset = sample if self._offset is None else max(self._offset, sample)
