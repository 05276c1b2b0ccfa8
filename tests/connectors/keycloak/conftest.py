"""Fixtures for the Keycloak connector tests: the sandbox on loopback and the real
python-keycloak connector pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import CollectContext
from connectors.keycloak import KeycloakConnector
from connectors.sandbox.keycloak import KeycloakSandbox, start
from tests.support.sandboxes import started_sandboxes

NOW = datetime(2026, 10, 1, 8, tzinfo=UTC)
PERIOD = (date(2026, 7, 1), date(2026, 9, 30))


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def sandbox_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., KeycloakSandbox]]:
    with started_sandboxes(start, monkeypatch) as make:
        yield make


def context(sign_ins: bool = False) -> CollectContext:
    return CollectContext("keycloak", NOW, PERIOD[0], PERIOD[1], collect_sign_ins=sign_ins)


def connector(sandbox: KeycloakSandbox, **overrides: Any) -> KeycloakConnector:
    # Fast for tests: no throttle to speak of, retries after 10 ms.
    settings = sandbox.settings(**{"requests_per_second": 5000, "max_concurrency": 4, **overrides})
    return KeycloakConnector("keycloak", settings, Path("."), retry_delay=0.01)
