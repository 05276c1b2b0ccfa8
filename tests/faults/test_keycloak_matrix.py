"""The fault matrix's Keycloak row: every fault on the users listing of the Keycloak
sandbox, collected through the real connector (python-keycloak). Each run comes to
exactly the truth, or says it is incomplete and why; never a silent short read, a
duplicate or a traceback. Keycloak pages by offset (``first``/``max``) with no next
link, so the link faults of the other vendors become a short page here, caught
against ``/users/count``."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from auditor.interfaces import CollectContext, ConnectorError
from auditor.model import SourceSnapshot
from connectors.keycloak import KeycloakConnector
from connectors.sandbox.keycloak import RealmBuilder, start
from connectors.sandbox.keycloak.realm import Realm

from .harness import environ

PAGE = 5
NOW = datetime(2026, 10, 1, tzinfo=UTC)
C, INC, U = "complete", "incomplete", "unavailable"

# fault → (script on the users listing, persistent action afterwards or None, expected outcome).
# "ok" first: the fault strikes on page 2, after page 1 was read.
FAULTS: dict[str, tuple[list[str], str | None, str]] = {
    "429 storm (3 in a row)": (["ok", "429", "429", "429"], None, C),
    "429 without end": (["ok"], "429", INC),
    "500 twice": (["ok", "500", "500"], None, C),
    "502 twice": (["ok", "502", "502"], None, C),
    "503 twice": (["ok", "503", "503"], None, C),
    "504 twice": (["ok", "504", "504"], None, C),
    "503 without end": (["ok"], "503", INC),
    "timeout": (["ok", "timeout"], None, C),
    "connection reset mid-page": (["ok", "reset"], None, C),
    "malformed JSON": (["ok", "malformed"], None, C),
    # Asked again from where it stopped: the count says more follow, and they do.
    "short page once": (["ok", "short"], None, C),
    "short pages without end": (["ok"], "short", INC),
    "token expired mid-run": (["ok", "401"], None, C),
    "permission removed mid-run": (["ok"], "403", INC),
}


def realm() -> Realm:
    b = RealmBuilder("faults")
    b.client("portal", "Portal")
    for n in range(23):
        b.user(f"user{n:02d}@example.fr", credentials=("password", "otp") if n % 3 else ("password",))
    return b.build()


def _judge(truth: Realm, run: Callable[[], SourceSnapshot]) -> tuple[str, str]:
    try:
        snap = run()
    except ConnectorError as exc:
        assert str(exc).strip()
        return U, str(exc)
    assert isinstance(snap, SourceSnapshot)
    ids = [a.id for a in snap.accounts]
    assert not [i for i, n in Counter(ids).items() if n > 1], "duplicate accounts"
    truth_ids = {u["id"] for u in truth.users}
    if snap.complete:
        assert not any(i.incomplete for i in snap.issues), snap.issues
        assert set(ids) == truth_ids and len(ids) == len(truth_ids), "complete, but not the truth"
        return C, ""
    reasons = [i for i in snap.issues if i.incomplete]
    assert reasons and all(i.message.strip() for i in reasons)
    assert set(ids) <= truth_ids, "accounts that are not in the truth"
    return INC, "; ".join(i.message for i in reasons)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_keycloak_fault(fault: str) -> None:
    script, persistent, expected = FAULTS[fault]
    truth = realm()
    with (
        start(
            truth,
            script={"users": list(script)},
            persistent={"users": persistent} if persistent else None,
            timeout_delay=1.4,
        ) as sandbox,
        environ(sandbox.environ()),
    ):
        settings = sandbox.settings(page_size=PAGE, request_timeout_seconds=1, max_attempts=4)
        connector = KeycloakConnector("keycloak", settings, Path("."), retry_delay=0.01)
        ctx = CollectContext("keycloak", NOW, date(2026, 7, 1), date(2026, 9, 30))
        kind, reason = _judge(truth, lambda: connector.collect(ctx))
        requests = sandbox.requests
    users = [r for r in requests if r.path == "/admin/realms/faults/users"]
    assert len(users) >= len(script) + (persistent is not None)
    assert all(r.method == "GET" or r.family == "token" for r in requests)
    assert kind == expected, reason
    assert os.environ.get("MFA_AUDITOR_KEYCLOAK_CLIENT_SECRET") is None  # the secret left with the sandbox
