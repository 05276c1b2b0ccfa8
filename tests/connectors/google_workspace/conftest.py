"""Fixtures: a sample organisation, its Google sandbox on loopback, and the connector
pointed at it (real google-api-python-client and google-auth, injected sleep)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import CollectContext
from connectors.google_workspace import GoogleWorkspaceConnector
from connectors.sandbox import google as google_sandbox
from connectors.sandbox.sample_org import SampleOrg, generate


class SleepLog:
    """Stands in for time.sleep: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture(scope="session")
def small_org() -> SampleOrg:
    return generate(seed=7, accounts=300)  # about 50 Google users


@pytest.fixture(scope="session")
def demo_org() -> SampleOrg:
    return generate(seed=7, accounts=2000)  # the demo's size: 340 Google users


@pytest.fixture
def sleep_log() -> SleepLog:
    return SleepLog()


StartSandbox = Callable[..., google_sandbox.GoogleSandbox]


@pytest.fixture
def start_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[StartSandbox]:
    """Starts a sandbox for an org with the given faults and puts its key in the env."""
    started: list[google_sandbox.GoogleSandbox] = []

    def start(org: SampleOrg, **faults: Any) -> google_sandbox.GoogleSandbox:
        sandbox = google_sandbox.start(org, **faults)
        started.append(sandbox)
        for name, value in sandbox.environ().items():
            monkeypatch.setenv(name, value)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.close()


MakeConnector = Callable[..., GoogleWorkspaceConnector]


@pytest.fixture
def make_connector(sleep_log: SleepLog) -> MakeConnector:
    def make(sandbox: google_sandbox.GoogleSandbox, **overrides: Any) -> GoogleWorkspaceConnector:
        settings = {**sandbox.settings(), **overrides}
        return GoogleWorkspaceConnector("google", settings, Path("."), sleep=sleep_log)

    return make


def context(org: SampleOrg, *, sign_ins: bool = False) -> CollectContext:
    return CollectContext(
        source="google",
        now=org.now,
        period_start=org.period_start,
        period_end=org.period_end,
        collect_sign_ins=sign_ins,
    )


MakeContext = Callable[..., CollectContext]


@pytest.fixture
def make_ctx() -> MakeContext:
    return context
