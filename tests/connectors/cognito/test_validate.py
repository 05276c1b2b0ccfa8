"""``mfa-audit validate``: one probe per IAM action, refused ones named."""

from __future__ import annotations

from connectors.sandbox.cognito.sandbox import READ_ACTIONS
from connectors.sandbox.sample_org import SampleOrg

from .conftest import connector


def test_all_actions_granted(small_org: SampleOrg, start_sandbox) -> None:
    sandbox = start_sandbox(small_org)
    checks = {c.name: c for c in connector(sandbox).check_access()}
    assert checks["access key"].granted
    assert {n for n, c in checks.items() if c.granted} == {"access key"} | {f"cognito-idp:{a}" for a in READ_ACTIONS}
    assert checks["cognito-idp:AdminListUserAuthEvents"].only_for_sign_ins


def test_missing_action_is_reported_refused(small_org: SampleOrg, start_sandbox) -> None:
    sandbox = start_sandbox(small_org, granted=READ_ACTIONS - {"AdminGetUser", "AdminListUserAuthEvents"})
    checks = {c.name: c for c in connector(sandbox).check_access()}
    assert checks["cognito-idp:AdminGetUser"].granted is False
    assert "AccessDeniedException" in checks["cognito-idp:AdminGetUser"].detail
    assert checks["cognito-idp:AdminListUserAuthEvents"].granted is False
    assert checks["cognito-idp:ListUsers"].granted is True


def test_wrong_secret_fails_the_access_key_line_only(small_org: SampleOrg, start_sandbox, monkeypatch) -> None:
    sandbox = start_sandbox(small_org)
    monkeypatch.setenv("MFA_AUDITOR_COGNITO_SECRET_ACCESS_KEY", "wrong-secret")
    (check,) = connector(sandbox).check_access()
    assert check.name == "access key" and check.granted is False
    assert "InvalidSignatureException" in check.detail


def test_unresolvable_secret_reference_is_a_failed_line_not_a_traceback(
    small_org: SampleOrg, start_sandbox, monkeypatch
) -> None:
    sandbox = start_sandbox(small_org)
    monkeypatch.delenv("MFA_AUDITOR_COGNITO_SECRET_ACCESS_KEY")
    (check,) = connector(sandbox).check_access()
    assert check.granted is False and "MFA_AUDITOR_COGNITO_SECRET_ACCESS_KEY" in check.detail
