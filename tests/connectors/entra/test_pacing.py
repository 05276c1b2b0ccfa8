"""The reports pacer spends exactly the documented budget: never more than ``limit`` sends
in any window, and no wait while the budget lasts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from connectors.entra.pacing import MARGIN_S, WindowPacer, is_report
from tests.support.clock import FakeClock


@given(
    limit=st.integers(1, 8),
    window=st.floats(0.5, 20),
    gaps=st.lists(st.floats(0, 5), min_size=1, max_size=60),
)
def test_never_more_than_the_limit_in_any_window(limit: int, window: float, gaps: list[float]) -> None:
    t = FakeClock()
    pacer = WindowPacer(limit, window, sleep=t.sleep, clock=t)
    sent = []
    for gap in gaps:
        t.now += gap
        pacer.acquire()
        sent.append(t.now)
    for i in range(len(sent) - limit):
        assert sent[i + limit] - sent[i] >= window
    assert abs(pacer.waited - sum(t.slept)) < 1e-3


def test_the_first_window_is_free_and_the_next_waits_a_window() -> None:
    t = FakeClock()
    pacer = WindowPacer(5, 10.0, sleep=t.sleep, clock=t)
    told: list[float] = []
    for _ in range(5):
        assert pacer.acquire(told.append) == 0.0
    waited = pacer.acquire(told.append)
    assert waited == told[0] == 10.0 + max(MARGIN_S, 0.2)
    assert t.slept == [round(waited, 6)]


def test_a_sleep_that_does_not_sleep_still_paces() -> None:
    """The tests' injected sleep returns at once: the pacer counts the time it waited for."""
    pacer = WindowPacer(2, 1.0, sleep=lambda _: None, clock=lambda: 0.0)
    waits = [pacer.acquire() for _ in range(6)]
    assert waits[:2] == [0.0, 0.0] and all(w > 0 for w in waits[2:])


def test_which_endpoints_are_reports() -> None:
    assert is_report("/reports/authenticationMethods/userRegistrationDetails")
    assert is_report("/auditLogs/signIns")
    assert not is_report("/users") and not is_report("/identity/conditionalAccess/policies")
