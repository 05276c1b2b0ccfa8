"""Which facts an Entra collection read, and why not: the sandbox refuses one permission
at a time and the snapshot must say so (never a silent "read")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.model import Fact, MethodKind, SourceSnapshot
from connectors.sandbox.graph import GraphSandbox


def _facts(snap: SourceSnapshot) -> dict[Fact, tuple[bool, str]]:
    return {f.fact: (f.read, f.reason) for f in snap.facts}


def test_a_full_collection_reads_every_fact(
    sandbox: Callable[..., GraphSandbox], collect: Callable[..., SourceSnapshot]
) -> None:
    snap = collect(sandbox(), sign_ins=True)
    facts = _facts(snap)
    assert set(facts) == set(Fact)
    assert all(read for read, _ in facts.values()), facts
    assert snap.method_policy, "the methods policy is in the snapshot"
    sms = next(a for a in snap.method_policy if a.kind is MethodKind.SMS)
    assert sms.enabled and sms.scope.include_all and sms.scope.exclude_groups == ("g-it-admins",)


def test_sign_in_log_not_requested_is_said(
    sandbox: Callable[..., GraphSandbox], collect: Callable[..., SourceSnapshot]
) -> None:
    read, reason = _facts(collect(sandbox(), sign_ins=False))[Fact.SIGN_IN_LOG]
    assert not read and "not requested" in reason


def test_sign_in_times_without_audit_log_permission(
    sandbox: Callable[..., GraphSandbox], collect: Callable[..., SourceSnapshot]
) -> None:
    snap = collect(sandbox(drop_roles=("AuditLog.Read.All",)))
    read, reason = _facts(snap)[Fact.SIGN_IN_TIMES]
    assert not read and "AuditLog.Read.All" in reason
    assert _facts(snap)[Fact.ACCOUNTS] == (True, "")


def test_methods_policy_refused(sandbox: Callable[..., GraphSandbox], collect: Callable[..., SourceSnapshot]) -> None:
    faults: dict[str, Any] = {"forbidden": {"/policies/authenticationMethodsPolicy": "Authorization_RequestDenied"}}
    snap = collect(sandbox(**faults))
    read, reason = _facts(snap)[Fact.METHODS_POLICY]
    assert not read
    assert "Authorization_RequestDenied" in reason
    assert snap.method_policy == ()
    # Not incomplete: coverage is still judged, without the tenant's switches.
    assert snap.complete
    assert [i.code for i in snap.issues if i.code.startswith("entra.methods_policy")] == ["entra.methods_policy_unread"]
