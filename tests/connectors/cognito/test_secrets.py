"""A planted secret access key never shows: not in the snapshot, issues, logs, errors or
reprs, and it never crosses the wire (SigV4 sends a signature, not the key)."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

import pytest

from auditor.interfaces import AuthenticationError
from connectors.sandbox.sample_org import SampleOrg

from .conftest import connector, context

PLANTED = "PLANTED-secret-7f3a9c-do-not-leak"


def test_planted_secret_never_leaks(small_org: SampleOrg, start_sandbox, monkeypatch, caplog) -> None:
    sandbox = start_sandbox(small_org)
    # The sandbox checks signatures against its own secret: make ours the planted one.
    monkeypatch.setattr(sandbox._state, "secret_access_key", PLANTED)
    monkeypatch.setenv("MFA_AUDITOR_COGNITO_SECRET_ACCESS_KEY", PLANTED)
    caplog.set_level(logging.DEBUG)
    c = connector(sandbox)
    snap = c.collect(context(small_org))
    assert snap.complete
    dumped = json.dumps(asdict(snap), default=str)
    assert PLANTED not in dumped
    assert PLANTED not in caplog.text
    assert PLANTED not in repr(c)
    # A refused key: the error names the setting, never the value.
    monkeypatch.setattr(sandbox._state, "secret_access_key", "something-else")
    with pytest.raises(AuthenticationError) as err:
        connector(sandbox).collect(context(small_org))
    assert PLANTED not in str(err.value) and "secret_access_key" in str(err.value)
    checks = connector(sandbox).check_access()
    assert all(PLANTED not in f"{ch.detail} {ch.name}" for ch in checks)
