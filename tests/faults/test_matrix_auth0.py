"""The fault matrix's Auth0 row: the faults of ``test_matrix.FAULTS`` on the users
listing of the Auth0 sandbox, collected through the real connector and judged by the
same harness (docs/faults.md has the row)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.model import SourceSnapshot
from connectors.auth0 import Auth0Connector
from connectors.sandbox import auth0 as auth0_sandbox

from .harness import ORG, context, environ, judge
from .test_matrix import FAULTS

PAGE = 5  # the sample's Auth0 tenant spans three pages of users
TENANT = auth0_sandbox.with_tenant(ORG)  # the harness's organisation with its Auth0 truth
# Auth0 pages by offset and total, not by next links: the link faults have no Auth0 form,
# except a page that starts with the previous page's last record (the listing shifted).
ACTION = {"page missing its next link": None, "next link loops back": None, "same record on two pages": "dup_page"}

C, INC, U = "complete", "incomplete", "unavailable"
EXPECTED: dict[str, str] = {
    "429 storm (4 in a row)": C,
    "429 without end": INC,
    "500 twice": C,
    "502 twice": C,
    "503 twice": C,
    "504 twice": C,
    "503 without end": INC,
    "timeout": C,
    "connection reset mid-page": C,
    "malformed JSON": C,
    # The page count follows the total: the repeated record pushes the last one out, and
    # the tenant's total says one is missing (auth0.users_short).
    "same record on two pages": INC,
    "token expired mid-run": C,
    "permission removed mid-run": INC,
}


def _script(fault: str) -> tuple[list[str], str | None]:
    script, persistent = FAULTS[fault]
    mapped = ACTION.get(fault, "same")
    if mapped != "same":
        script = [mapped if a not in ("ok",) else a for a in script]
    return list(script), persistent


def _collect(sandbox: auth0_sandbox.Auth0Sandbox) -> SourceSnapshot:
    settings = {**sandbox.settings(), "page_size": PAGE, "request_timeout_seconds": 1}
    with environ(sandbox.environ()):
        return Auth0Connector("auth0", settings, Path("."), retry_delay=0.01).collect(context("auth0"))


CASES = [pytest.param(f, id=f"auth0-{f}") for f in FAULTS if ACTION.get(f, "same") is not None]


@pytest.mark.parametrize("fault", CASES)
def test_fault(fault: str) -> None:
    script, persistent = _script(fault)
    options: dict[str, Any] = {"script": {"users": script}, "timeout_delay": 1.4}
    if persistent is not None:
        options["persistent"] = {"users": persistent}
    with auth0_sandbox.start(TENANT, **options) as sandbox:
        outcome = judge("auth0", lambda: _collect(sandbox), TENANT)
        requests = list(sandbox.requests)
    users = [r for r in requests if r.path == "/api/v2/users"]
    assert len(users) >= len(script) + (persistent is not None), [r.status for r in users]
    for r in requests:
        assert r.method == "GET" or (r.method == "POST" and r.path == "/oauth/token"), r
    assert outcome.kind == EXPECTED[fault], outcome.reason
    if outcome.kind != C:
        assert outcome.reason.strip()


def test_every_fault_has_an_auth0_verdict_or_a_reason() -> None:
    for fault in FAULTS:
        assert fault in EXPECTED or ACTION.get(fault, "same") is None, fault
