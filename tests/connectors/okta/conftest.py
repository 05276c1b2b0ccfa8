"""Fixtures for the Okta connector tests: a small sample organisation, the sandbox, and
an isolated working directory (no okta.yaml can leak in from the checkout)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import CollectContext
from auditor.model import SourceSnapshot
from connectors.okta import OktaConnector
from connectors.sandbox.okta import OktaSandbox, start
from connectors.sandbox.sample_org import SampleOrg, generate
from tests.support.sandboxes import started_sandboxes


@pytest.fixture(scope="session")
def small_org() -> SampleOrg:
    return generate(seed=1, accounts=300)  # seed 1: two Okta admins


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def sandbox_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., OktaSandbox]]:
    with started_sandboxes(start, monkeypatch) as make:
        yield make


def context(org: SampleOrg, sign_ins: bool = False) -> CollectContext:
    return CollectContext("okta", org.now, org.period_start, org.period_end, collect_sign_ins=sign_ins)


def _connector(settings: dict[str, Any], **overrides: Any) -> OktaConnector:
    # Retries of 5xx and timeouts wait 10 ms here, not half a second.
    return OktaConnector("okta", {**settings, **overrides}, Path("."), retry_delay=0.01)


def _collect(sandbox: OktaSandbox, org: SampleOrg, sign_ins: bool = False, **overrides: Any) -> SourceSnapshot:
    return _connector(sandbox.settings(), **overrides).collect(context(org, sign_ins))


@pytest.fixture
def make_connector() -> Callable[..., OktaConnector]:
    return _connector


@pytest.fixture
def collect() -> Callable[..., SourceSnapshot]:
    return _collect


@pytest.fixture
def ctx_for() -> Callable[..., CollectContext]:
    return context
