"""Fixtures for the Auth0 connector tests: a small sample organisation, the sandbox, and
an isolated working directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import CollectContext
from auditor.model import SourceSnapshot
from connectors.auth0 import Auth0Connector
from connectors.sandbox.auth0 import Auth0Sandbox, start, with_tenant
from connectors.sandbox.sample_org import SampleOrg, generate
from tests.support.sandboxes import started_sandboxes


@pytest.fixture(scope="session")
def small_org() -> SampleOrg:
    return with_tenant(generate(seed=3, accounts=600))  # 48 Auth0 users


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def sandbox_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Auth0Sandbox]]:
    with started_sandboxes(start, monkeypatch) as make:
        yield make


def context(org: SampleOrg, sign_ins: bool = False) -> CollectContext:
    return CollectContext("auth0", org.now, org.period_start, org.period_end, collect_sign_ins=sign_ins)


def _connector(settings: dict[str, Any], **overrides: Any) -> Auth0Connector:
    # Retries wait 10 ms here, not half a second.
    return Auth0Connector("auth0", {**settings, **overrides}, Path("."), retry_delay=0.01)


def _collect(sandbox: Auth0Sandbox, org: SampleOrg, sign_ins: bool = False, **overrides: Any) -> SourceSnapshot:
    return _connector(sandbox.settings(), **overrides).collect(context(org, sign_ins))


@pytest.fixture
def make_connector() -> Callable[..., Auth0Connector]:
    return _connector


@pytest.fixture
def collect() -> Callable[..., SourceSnapshot]:
    return _collect


@pytest.fixture
def ctx_for() -> Callable[..., CollectContext]:
    return context
