"""A progress sink that records what a connector reported (tests of the operator's view)."""

from __future__ import annotations

import threading
from collections import Counter

from auditor.interfaces import CollectProgress


class Recorder(CollectProgress):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.totals: dict[str, int] = {}
        self.read_counts: Counter[str] = Counter()
        self.requests = 0
        self.waits: list[tuple[float, str]] = []

    def total(self, kind: str, count: int) -> None:
        self.totals[kind] = count

    def read(self, kind: str, count: int = 1) -> None:
        with self.lock:
            self.read_counts[kind] += count

    def request(self, count: int = 1) -> None:
        with self.lock:
            self.requests += count

    def waiting(self, seconds: float, reason: str) -> None:
        with self.lock:
            self.waits.append((seconds, reason))
