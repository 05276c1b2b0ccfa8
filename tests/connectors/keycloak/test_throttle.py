"""The request throttle: evenly spaced starts across threads, never faster than the rate."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.keycloak.client import RateGate


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


@given(st.floats(min_value=0.5, max_value=500), st.integers(min_value=2, max_value=60))
def test_starts_are_spaced_by_the_rate(rate: float, n: int) -> None:
    fake = FakeTime()
    gate = RateGate(rate, fake.clock)
    starts = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(time, "sleep", fake.sleep)
        for _ in range(n):
            gate.wait()
            starts.append(fake.now)
    # n starts take at least (n - 1) / rate of (fake) time: never faster than asked.
    assert starts[-1] - starts[0] >= (n - 1) / rate - 1e-6
