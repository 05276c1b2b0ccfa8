"""The pacer, on a fake clock: spacing at the tenant's rate, and the waits the rate-limit
headers ask for (measured against the answer's own Date, not the local clock)."""

from __future__ import annotations

from email.utils import formatdate
from pathlib import Path

import pytest

from connectors.auth0.client import Auth0Http
from connectors.auth0.pacing import Pacer
from connectors.auth0.settings import parse_settings
from tests.support.clock import FakeClock

SERVER_NOW = 1_800_000_000.0  # the server's clock: far from the fake local one


def pacer(rate: float = 10.0) -> tuple[Pacer, FakeClock]:
    clock = FakeClock(100.0)
    return Pacer(rate, clock=clock, sleep=clock.sleep, wall=lambda: 5.0), clock


def headers(**values: object) -> dict[str, str]:
    out = {"Date": formatdate(SERVER_NOW, usegmt=True)}
    out.update({k.replace("_", "-"): str(v) for k, v in values.items()})
    return out


def test_requests_are_spaced_at_the_rate() -> None:
    p, clock = pacer(10.0)
    for _ in range(4):
        p.acquire()
    assert clock.slept == [0.1, 0.1, 0.1]
    assert p.stats.requests == 4
    assert p.budget_share(10.0) == pytest.approx(1.0)


def test_429_waits_for_retry_after() -> None:
    p, clock = pacer(1000.0)
    p.acquire()
    p.observe(429, headers(**{"Retry_After": 2, "X_RateLimit_Reset": int(SERVER_NOW) + 30}))
    p.acquire()
    assert clock.slept == [pytest.approx(2.0)]
    assert p.stats.throttled == 1


def test_429_without_retry_after_waits_for_the_reset_by_the_server_clock() -> None:
    p, clock = pacer(1000.0)
    p.acquire()
    p.observe(429, headers(X_RateLimit_Limit=50, X_RateLimit_Remaining=0, X_RateLimit_Reset=int(SERVER_NOW) + 5))
    p.acquire()
    assert clock.slept == [pytest.approx(5.0)]


def test_an_empty_bucket_waits_one_token() -> None:
    p, clock = pacer(1000.0)
    p.acquire()
    p.observe(200, headers(X_RateLimit_Limit=10, X_RateLimit_Remaining=0, X_RateLimit_Reset=int(SERVER_NOW) + 5))
    p.acquire()
    assert clock.slept == [pytest.approx(0.5)]  # a full refill (5 s) over the bucket's 10 tokens
    assert p.stats.limit == 10


def test_tokens_left_mean_no_wait() -> None:
    p, clock = pacer(1000.0)
    p.acquire()
    p.observe(200, headers(X_RateLimit_Limit=10, X_RateLimit_Remaining=3, X_RateLimit_Reset=int(SERVER_NOW) + 5))
    clock.now += 1
    p.acquire()
    assert clock.slept == []


def test_the_token_never_leaves_the_tenant_origin() -> None:
    settings = parse_settings(
        {"domain": "tenant.eu.auth0.com", "client_id": "c", "client_secret": {"env": "UNSET_SECRET_VAR"}},
        Path("."),
    )
    http = Auth0Http(settings)
    try:
        with pytest.raises(Exception, match="refusing to send the Management API token"):
            http.http.get("https://elsewhere.example.org/api/v2/users")
    finally:
        http.close()
