"""``check_access`` (mfa-audit validate): the delegation and each scope, against the sandbox."""

from __future__ import annotations

import pytest

from auditor.interfaces import SettingsError
from connectors.google_workspace import GoogleWorkspaceConnector
from connectors.google_workspace.settings import ALL_SCOPES

SCOPE = "https://www.googleapis.com/auth/"


def _by_name(checks):
    return {c.name: c for c in checks}


def test_everything_granted(small_org, start_sandbox, make_connector) -> None:
    sandbox = start_sandbox(small_org)
    checks = make_connector(sandbox).check_access()
    assert [c.name for c in checks] == ["domain-wide delegation", *(s.url for s in ALL_SCOPES)]
    assert all(c.granted is True for c in checks), checks
    # One minimal GET per scope, each with a token holding only that scope; the member
    # scope first looks for a role-holding group (none here, so members.list is not tried).
    gets = [r for r in sandbox.requests if r.method == "GET"]
    assert [r.endpoint for r in gets] == ["users", "orgunits", "roleassignments", "roleassignments", "usage", "login"]
    assert [r.query.get("maxResults", ("1",)) for r in gets] == [("1",)] * 3 + [("200",)] + [("1",)] * 2


def test_a_scope_missing_from_the_delegation_is_named(small_org, start_sandbox, make_connector) -> None:
    sandbox = start_sandbox(small_org, refuse_scopes=["admin.directory.orgunit.readonly"])
    checks = _by_name(make_connector(sandbox).check_access())
    assert checks["domain-wide delegation"].granted is False
    assert "not authorised" in checks["domain-wide delegation"].detail
    missing = checks[SCOPE + "admin.directory.orgunit.readonly"]
    assert missing.granted is False
    assert "Domain-wide delegation" in missing.detail
    others = [c for name, c in checks.items() if name.startswith(SCOPE) and c is not missing]
    assert others and all(c.granted is True for c in others)


def test_only_the_audit_scope_missing_leaves_the_delegation_granted(small_org, start_sandbox, make_connector):
    sandbox = start_sandbox(small_org, refuse_scopes=["admin.reports.audit.readonly"])
    checks = _by_name(make_connector(sandbox).check_access())
    assert checks["domain-wide delegation"].granted is True
    assert checks[SCOPE + "admin.reports.audit.readonly"].granted is False


def test_api_refusing_after_the_token_is_reported(small_org, start_sandbox, make_connector) -> None:
    sandbox = start_sandbox(small_org, persistent={"usage": "forbidden"})
    checks = _by_name(make_connector(sandbox).check_access())
    usage = checks[SCOPE + "admin.reports.usage.readonly"]
    assert usage.granted is False and "API refused" in usage.detail


def test_wrong_admin_is_reported_not_guessed(small_org, start_sandbox, make_connector) -> None:
    sandbox = start_sandbox(small_org)
    checks = make_connector(sandbox, delegated_admin="nobody@example.org").check_access()
    assert checks[0].granted is False and "invalid_grant" in checks[0].detail
    assert all(c.granted is None for c in checks[1:])  # could not be checked: not "missing"


def test_bad_settings_fail_at_construction(tmp_path) -> None:
    with pytest.raises(SettingsError) as err:
        GoogleWorkspaceConnector("google", {"credentials": {"env": "X"}}, tmp_path)
    assert err.value.key == "delegated_admin"
