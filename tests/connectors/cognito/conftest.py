"""Fixtures for the Cognito connector tests: a small sample organisation, the moto-based
sandbox on loopback, and connectors paced fast (the sandbox, not AWS, is at the other end)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import CollectContext
from auditor.model import SourceSnapshot
from connectors.cognito import CognitoConnector
from connectors.sandbox.cognito.sandbox import CognitoSandbox, start
from connectors.sandbox.sample_org import SampleOrg, generate
from tests.support.sandboxes import started_sandboxes

# Quotas far above the sandbox's speed: tests measure behaviour, not pacing.
FAST = {
    "quota_share": 1.0,
    "quotas": {
        "UserPoolRead": 5000,
        "UserList": 5000,
        "UserRead": 5000,
        "UserPoolClientRead": 5000,
        "UserResourceRead": 5000,
    },
}


@pytest.fixture(scope="session")
def small_org() -> SampleOrg:
    return generate(seed=1, accounts=700)  # 70 members: two ListUsers pages


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def start_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., CognitoSandbox]]:
    with started_sandboxes(start, monkeypatch) as make:
        yield make


def connector(sandbox: CognitoSandbox, **overrides: Any) -> CognitoConnector:
    return CognitoConnector("cognito", {**sandbox.settings(), **FAST, **overrides}, Path("."), retry_delay=0.001)


def context(org: SampleOrg, sign_ins: bool = True) -> CollectContext:
    return CollectContext("cognito", org.now, org.period_start, org.period_end, collect_sign_ins=sign_ins)


def collect(sandbox: CognitoSandbox, org: SampleOrg, sign_ins: bool = True, **overrides: Any) -> SourceSnapshot:
    return connector(sandbox, **overrides).collect(context(org, sign_ins))
