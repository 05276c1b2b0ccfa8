"""A fake clock whose ``sleep`` advances it: pacers are tested without waiting."""

from __future__ import annotations


class FakeClock:
    """Callable as the clock; ``sleep`` records each wait and moves time on by it."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds
