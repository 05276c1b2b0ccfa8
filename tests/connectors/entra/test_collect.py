"""The connector against the Graph sandbox: real msal, real HTTPS over loopback, no
mocks. Each test states the fault it switches on and what the collection must show."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import AuthenticationError
from auditor.model import AccountKind, MethodKind, MethodStatus
from connectors.entra import EntraConnector
from connectors.sandbox.graph import SECRET_ENV

from .conftest import context


def _paths(sb: Any, path_end: str) -> list[Any]:
    return [r for r in sb.requests if r.path.endswith(path_end) and not r.in_batch]


def _methods_by_account(accounts: Any) -> dict[str, Counter[tuple[MethodKind, str]]]:
    return {a.id: Counter((m.kind, m.vendor_label) for m in a.methods) for a in accounts}


def test_full_collection_equals_the_truth(org, sandbox, collect, project, groups_of):
    sb = sandbox()
    snap = collect(sb, sign_ins=True)
    truth = org.truth("entra")
    assert snap.complete, snap.issues
    assert project(snap, groups_of(truth)) == project(truth, groups_of(truth))
    assert snap.sign_ins_collected
    assert snap.expected_counts["accounts"] == len(truth.accounts)
    # The PIM-eligible admin is privileged with the role; guests and svc- accounts are typed.
    eligible = {a.id: a for a in snap.accounts}[org.eligible_roles["entra"][0]]
    assert eligible.privileged and eligible.roles
    assert {a.kind for a in snap.accounts} == {AccountKind.HUMAN, AccountKind.GUEST, AccountKind.SERVICE}
    assert [i.message for i in snap.issues if i.code == "entra.methods_path"] == [
        "authentication methods read from the registration report"
    ]


def test_only_reads_reach_graph(sandbox, collect):
    sb = sandbox(per_user_mfa={}, no_licence=True)  # the $batch path too
    collect(sb, sign_ins=True, per_user_mfa=True)
    verbs = Counter((r.method, r.in_batch) for r in sb.requests)
    assert verbs[("GET", True)] > 0  # sub-requests of $batch were recorded, all GET
    for r in sb.requests:
        if r.method == "POST":
            assert r.path.endswith("/oauth2/v2.0/token") or r.path.endswith("/$batch"), r
        else:
            assert r.method == "GET", r


def test_paging_follows_next_links(org, sandbox, collect, project, groups_of):
    sb = sandbox(max_page_size=10, report_page_size=10)
    snap = collect(sb, page_size=10)
    users = _paths(sb, "/v1.0/users")
    assert len(users) == -(-len(org.truth("entra").accounts) // 10)  # ceil: every page, once
    assert all(r.query["$top"] == "10" for r in users)
    assert len(_paths(sb, "/userRegistrationDetails")) > 1
    truth = org.truth("entra")
    assert project(snap, groups_of(truth)) == project(truth, groups_of(truth)) | {"sign_ins": ()}
    assert snap.raw_digests and sum(d.records for d in snap.raw_digests if d.endpoint == "/users") == len(
        truth.accounts
    )


def test_throttled_then_recovered(org, sandbox, collect, project, groups_of):
    sb = sandbox(throttle={"/users": 2, "/servicePrincipals": 1}, retry_after=0.01)
    snap = collect(sb)
    statuses = [r.status for r in _paths(sb, "/v1.0/users")]
    assert statuses[:3] == [429, 429, 200]
    assert snap.complete
    truth = org.truth("entra")
    assert project(snap, groups_of(truth))["accounts"] == project(truth, groups_of(truth))["accounts"]


def test_reports_throttle_is_honoured(org, sandbox, collect):
    # 5 requests per window on the reports: with pages of 10 the report needs 10 requests.
    # The connector is told a wider budget than the server's, so the server's 429s decide.
    sb = sandbox(enforce_limits=True, report_limit=(5, 0.3), report_page_size=10)
    snap = collect(sb, reports_limit=50, reports_window=0.3)
    report = _paths(sb, "/userRegistrationDetails")
    assert any(r.status == 429 for r in report)
    assert snap.complete
    assert sum(1 for r in report if r.status == 200) == -(-len(org.truth("entra").accounts) // 10)


def test_reports_are_paced_from_the_documented_limit_without_a_429(org, sandbox, collect):
    # The same limit on both sides: the connector spends exactly the budget and is never refused.
    sb = sandbox(enforce_limits=True, report_limit=(5, 0.3), report_page_size=10)
    started = time.monotonic()
    snap = collect(sb, sign_ins=True, reports_limit=5, reports_window=0.3)
    took = time.monotonic() - started
    reports = [r for r in sb.requests if r.path.startswith(("/v1.0/reports/", "/beta/auditLogs/"))]
    assert snap.complete and len(reports) > 10
    assert [r.status for r in reports if r.status != 200] == []
    # Each request past the first five waits for the window: the floor the limit sets.
    assert took >= (len(reports) - 5) / 5 * 0.3


def test_transient_5xx_and_malformed_page_recover(org, sandbox, collect):
    sb = sandbox(errors={"/identity/conditionalAccess/policies": (503, 2)}, malformed={"/servicePrincipals": 1})
    snap = collect(sb)
    assert snap.complete, snap.issues
    assert len(snap.policies) == len(org.truth("entra").policies)
    assert len(snap.portals) == len(org.truth("entra").portals)


def test_licence_missing_falls_back_to_batch(org, sandbox, collect):
    sb = sandbox(no_licence=True, batch_throttle=3)
    snap = collect(sb, batch_size=20)
    truth = org.truth("entra")
    assert snap.complete, snap.issues
    assert _methods_by_account(snap.accounts) == _methods_by_account(_active(truth))
    paths = [i.message for i in snap.issues if i.code == "entra.methods_path"]
    assert (
        len(paths) == 1 and "Authentication_RequestFromNonPremiumTenantOrB2CTenant" in paths[0] and "$batch" in paths[0]
    )
    batches = [r for r in sb.requests if r.path.endswith("/$batch")]
    subs = [r for r in sb.requests if r.in_batch]
    assert all(r.method == "POST" for r in batches)
    assert max(Counter(id(r) for r in subs).values()) == 1
    assert sum(1 for r in subs if r.status == 429) == 3  # retried on their own Retry-After
    assert len(batches) >= -(-len(truth.accounts) // 20)


def _active(truth: Any) -> list[Any]:
    return [replace(a, methods=tuple(m for m in a.methods if m.status is MethodStatus.ACTIVE)) for a in truth.accounts]


def test_persistent_failure_makes_the_source_incomplete(sandbox, collect):
    sb = sandbox(errors={"/identity/conditionalAccess/policies": (503, -1)})
    snap = collect(sb, max_attempts=3)
    assert not snap.complete
    issue = next(i for i in snap.issues if i.incomplete)
    assert issue.code == "entra.policies_unread" and "503" in issue.message and "3 attempts" in issue.message
    assert len([r for r in sb.requests if r.path.endswith("/conditionalAccess/policies")]) == 3
    assert snap.legacy_auth_blocked is None or snap.policies == ()


def test_short_read_is_detected_by_count(sandbox, collect):
    sb = sandbox(short_users=3)
    snap = collect(sb)
    assert not snap.complete
    short = next(i for i in snap.issues if i.code == "entra.short_read")
    assert short.incomplete
    assert snap.expected_counts["accounts"] == snap.received_counts["accounts"] + 3
    count = _paths(sb, "/users/$count")
    assert count and count[0].status == 200


def test_expired_token_mid_run_gets_one_new_token(org, sandbox, collect):
    sb = sandbox(expire_first_token_after=4)
    snap = collect(sb)
    assert snap.complete, snap.issues
    tokens = [r for r in sb.requests if r.path.endswith("/oauth2/v2.0/token")]
    assert len(tokens) == 2
    assert sum(1 for r in sb.requests if r.status == 401) == 1
    assert len(snap.accounts) == len(org.truth("entra").accounts)


def test_wrong_secret_is_refused(sandbox, monkeypatch):
    sb = sandbox()
    monkeypatch.setenv(SECRET_ENV, "not-the-secret")
    connector = EntraConnector("entra", sb.settings(), Path("."))
    with pytest.raises(AuthenticationError) as err:
        connector.collect(context(sb.org))
    assert "invalid_client" in str(err.value)
    assert "not-the-secret" not in str(err.value)
    assert not [r for r in sb.requests if r.path.startswith("/v1.0")]  # nothing read without a token


def test_certificate_credential(org, sandbox, collect):
    sb = sandbox(certificate=True)
    snap = collect(sb, credential="certificate")
    assert snap.complete and len(snap.accounts) == len(org.truth("entra").accounts)


def test_unknown_method_is_kept_as_unknown_with_an_issue(org, sandbox, collect):
    victim = org.truth("entra").accounts[5].id
    sb = sandbox(unknown_methods={victim: "quantumEntanglementKey"})
    snap = collect(sb)
    account = next(a for a in snap.accounts if a.id == victim)
    unknown = [m for m in account.methods if m.kind is MethodKind.UNKNOWN]
    assert [m.vendor_label for m in unknown] == ["quantumEntanglementKey"]
    issue = next(i for i in snap.issues if i.code == "entra.unknown_method")
    assert issue.record == "quantumEntanglementKey" and victim in issue.message
    assert snap.complete  # interpreted, not lost


def test_security_defaults_and_per_user_mfa(org, sandbox, collect):
    user = org.truth("entra").accounts[3].id
    sb = sandbox(security_defaults=True, per_user_mfa={user: "enforced"})
    snap = collect(sb, per_user_mfa=True)
    kinds = {p.vendor_kind: p for p in snap.policies}
    assert kinds["entra_security_defaults"].rules[1].conditions  # "when necessary": conditional
    assert kinds["entra_per_user_mfa"].rules[0].scope.include_users == (user,)
    assert snap.legacy_auth_blocked is True


def test_missing_audit_permission_degrades_with_issues(org, sandbox, collect):
    sb = sandbox(drop_roles=("AuditLog.Read.All",))
    snap = collect(sb, sign_ins=True)
    codes = {i.code for i in snap.issues}
    assert {"entra.last_sign_in_unread", "entra.methods_path", "entra.sign_ins_unread"} <= codes
    assert all(a.last_sign_in is None for a in snap.accounts)
    assert not snap.sign_ins_collected
    # Methods still read, per user, and the same as the truth's active ones.
    assert _methods_by_account(snap.accounts) == _methods_by_account(_active(org.truth("entra")))
    assert snap.complete
