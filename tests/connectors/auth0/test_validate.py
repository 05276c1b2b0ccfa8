"""``mfa-audit validate`` for Auth0: the token, the read-only grant, one probe per scope."""

from __future__ import annotations

import pytest

from connectors.sandbox.auth0 import READ_SCOPES


def _checks(sandbox, make_connector) -> dict[str, object]:
    return {c.name: c for c in make_connector(sandbox.settings()).check_access()}


def test_every_scope_granted(small_org, sandbox_factory, make_connector) -> None:
    checks = _checks(sandbox_factory(small_org), make_connector)
    assert all(c.granted is True for c in checks.values()), [c for c in checks.values() if c.granted is not True]
    assert set(READ_SCOPES) <= set(checks)
    assert checks["read:logs"].only_for_sign_ins and not checks["read:users"].only_for_sign_ins


@pytest.mark.parametrize("missing", ["read:users", "read:authentication_methods", "read:actions", "read:logs"])
def test_a_missing_scope_is_refused(missing: str, small_org, sandbox_factory, make_connector) -> None:
    granted = [s for s in READ_SCOPES if s != missing]
    checks = _checks(sandbox_factory(small_org, granted_scopes=granted), make_connector)
    assert checks[missing].granted is False
    assert "Insufficient scope" in checks[missing].detail
    # Without read:users no user id is known to probe the methods scope with: the token's
    # scope list is all there is, and the check says so.
    others = {n: c.granted for n, c in checks.items() if n != missing}
    if missing == "read:users":
        assert "no user to probe with" in checks["read:authentication_methods"].detail
    assert set(others.values()) == {True}


def test_a_write_scope_fails_the_read_only_check(small_org, sandbox_factory, make_connector) -> None:
    checks = _checks(sandbox_factory(small_org, granted_scopes=[*READ_SCOPES, "update:users"]), make_connector)
    assert checks["read-only grant"].granted is False
    assert "update:users" in checks["read-only grant"].detail


def test_wrong_secret_is_one_failed_check(small_org, sandbox_factory, make_connector, monkeypatch) -> None:
    sandbox = sandbox_factory(small_org)
    monkeypatch.setenv("MFA_AUDITOR_AUTH0_CLIENT_SECRET", "wrong")
    (check,) = make_connector(sandbox.settings()).check_access()
    assert check.granted is False and "refused the client credentials" in check.detail
