"""A planted client secret never leaves the token request: not in the snapshot, its
issues, the logs, errors, reprs, nor any request but the token's."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

from auditor.interfaces import CollectContext
from connectors.auth0 import Auth0Connector

PLANTED = "pl4nted-S3CRET-auth0-7f3a9c"


def test_planted_secret_never_appears(small_org, sandbox_factory, caplog: pytest.LogCaptureFixture) -> None:
    sandbox = sandbox_factory(small_org, client_secret=PLANTED, script={"methods": ["401", "503"], "users": ["429"]})
    assert sandbox.environ()["MFA_AUDITOR_AUTH0_CLIENT_SECRET"] == PLANTED
    connector = Auth0Connector("auth0", sandbox.settings(), Path("."), retry_delay=0.01)
    ctx = CollectContext("auth0", small_org.now, small_org.period_start, small_org.period_end, collect_sign_ins=True)
    with caplog.at_level(logging.DEBUG):
        snap = connector.collect(ctx)
        checks = connector.check_access()
    assert snap.complete
    texts = [
        repr(connector),
        repr(connector._settings),
        json.dumps(dataclasses.asdict(snap), default=str),
        json.dumps([dataclasses.asdict(c) for c in checks], default=str),
        caplog.text,
    ]
    for text in texts:
        assert PLANTED not in text
    # Only the token request carried it (in its body); no Management API request has it in its URL.
    for r in sandbox.requests:
        assert PLANTED not in r.path and all(PLANTED not in v for vs in r.query.values() for v in vs)


def test_secret_not_in_errors(small_org, sandbox_factory, monkeypatch) -> None:
    sandbox = sandbox_factory(small_org)
    monkeypatch.setenv("MFA_AUDITOR_AUTH0_CLIENT_SECRET", PLANTED)  # not the sandbox's: refused
    connector = Auth0Connector("auth0", sandbox.settings(), Path("."), retry_delay=0.01)
    ctx = CollectContext("auth0", small_org.now, small_org.period_start, small_org.period_end)
    with pytest.raises(Exception) as err:
        connector.collect(ctx)
    chain = []
    e: BaseException | None = err.value
    while e is not None:
        chain.append(repr(e) + str(e))
        e = e.__cause__ or e.__context__
    assert all(PLANTED not in c for c in chain)


def test_missing_secret_names_the_reference(small_org, sandbox_factory, monkeypatch) -> None:
    from auditor.interfaces import AuthenticationError

    sandbox = sandbox_factory(small_org)
    monkeypatch.delenv("MFA_AUDITOR_AUTH0_CLIENT_SECRET")
    connector = Auth0Connector("auth0", sandbox.settings(), Path("."), retry_delay=0.01)
    ctx = CollectContext("auth0", small_org.now, small_org.period_start, small_org.period_end)
    with pytest.raises(AuthenticationError, match="MFA_AUDITOR_AUTH0_CLIENT_SECRET is not set"):
        connector.collect(ctx)
    assert not [r for r in sandbox.requests if r.family == "token"]
