"""End to end on the sample organisation (all three truths in one snapshot) with a
demo-like config: statuses, metrics recomputed from the rows, determinism,
reconciliation."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

import pytest

from auditor.config.schema import EmergencyAccessEntry, EvaluationConfig, PortalClass, PortalMatch
from auditor.engine.evaluate import evaluate
from auditor.model import (
    AccessVia,
    AccountKind,
    AuditResult,
    CoverageStatus,
    ExceptionEntry,
    GroupId,
    MethodStatus,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    PortalId,
    PortalScope,
    Requirement,
    Scope,
    Sensitivity,
    Severity,
    Snapshot,
    SourceIssue,
    Strength,
)
from connectors.sandbox import sample_org

H, S = Sensitivity.HIGH, Sensitivity.SENSITIVE
DEMO_PORTALS = (
    PortalClass(PortalMatch(source="entra", id="app-claims"), H, ("health", "payment")),
    PortalClass(PortalMatch(source="entra", id="app-admin-console"), H, ("health",)),
    PortalClass(PortalMatch(source="okta", id="0oa-patient-portal"), H, ("health",)),
    PortalClass(PortalMatch(source="google", tag="ou:/Medical advisers"), H, ("health",)),
    PortalClass(PortalMatch(source="entra", id="app-payroll"), S, ("hr",)),
    PortalClass(PortalMatch(source="okta", name_pattern="partner*"), S, ("payment",)),
    PortalClass(PortalMatch(source="entra", id="app-partner-billing"), S, ("payment",), sign_in_via="okta"),
    PortalClass(PortalMatch(source="google", tag="ou:/Finance"), S, ("finance",)),
)


@pytest.fixture(scope="module")
def org() -> sample_org.SampleOrg:
    return sample_org.generate(seed=7, accounts=2000)


def whole(org: sample_org.SampleOrg) -> Snapshot:
    return Snapshot(
        org.period, org.period_start, org.period_end, "digest", tuple(org.truth(s) for s in ("entra", "google", "okta"))
    )


def demo_config(org: sample_org.SampleOrg) -> EvaluationConfig:
    """The demo's register: a valid and an expired entry on unenrolled claims users."""
    entra = org.truth("entra")
    claims = {a.account_id for a in entra.access if a.portal_id == "app-claims"}
    unenrolled = [
        a.principal
        for a in entra.accounts
        if a.id in claims
        and a.enabled
        and a.kind is AccountKind.HUMAN
        and not a.privileged
        and not any(m.status is MethodStatus.ACTIVE for m in a.methods)
    ]
    exceptions = (
        ExceptionEntry("EXC-2026-014", unenrolled[0], ("app-claims",), "shared terminal", "CISO", date(2027, 3, 31)),
        ExceptionEntry("EXC-2026-003", unenrolled[1], ("app-claims",), "leave", "DPO", date(2026, 9, 30)),
    )
    # The demo's emergency-access register names the first break-glass account only (#14).
    emergency = (EmergencyAccessEntry("breakglass1@mutuelle-exemple.fr", "tenant lock-out", "CISO", date(2026, 6, 30)),)
    return EvaluationConfig(portals=DEMO_PORTALS, exceptions=exceptions, emergency_access=emergency)


def check_metrics(result: AuditResult) -> None:
    rows = result.coverage
    sensitive = [r for r in rows if r.sensitivity.is_sensitive]
    m = result.metrics
    assert m.sensitive_accesses == len(sensitive)
    assert m.sensitive_protected == sum(1 for r in sensitive if r.status.is_protected)
    assert m.sensitive_unknown == sum(1 for r in sensitive if r.status is CoverageStatus.UNKNOWN)
    assert dict(m.status_counts) == {s: Counter(r.status for r in rows).get(s, 0) for s in CoverageStatus}
    assert dict(m.findings_by_severity) == {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    assert m.accounts_read == sum(r.read for r in result.reconciliation)
    assert m.accounts_in_scope == sum(r.evaluated for r in result.reconciliation)
    # Every evaluated account with access has rows, no out-of-scope one does.
    assert len({(r.source, r.account_id) for r in rows}) <= m.accounts_in_scope
    assert all(r.balanced for r in result.reconciliation)


def test_sample_org_end_to_end(org: sample_org.SampleOrg) -> None:
    snapshot = whole(org)
    result = evaluate(snapshot, demo_config(org), now=org.now, run_id="r1")
    statuses = {r.status for r in result.coverage}
    assert statuses >= {
        CoverageStatus.PROTECTED,
        CoverageStatus.NOT_ENROLLED,
        CoverageStatus.NOT_ENFORCED,
        CoverageStatus.WEAK,
        CoverageStatus.EXCEPTED,
    }
    check_metrics(result)
    assert result.metrics.accounts_read == sum(len(s.accounts) for s in snapshot.sources)
    assert result.metrics.sensitive_portals == 9
    assert result.complete and result.rule_set_version == "2026.12.1"  # changed (#14): rule set 2026.12.1
    keys = [(r.source, r.account_id, r.portal_id) for r in result.coverage]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    by_id = {s.entry.id: s for s in result.exceptions}
    assert (by_id["EXC-2026-014"].expired, by_id["EXC-2026-014"].used) == (False, 1)
    assert (by_id["EXC-2026-003"].expired, by_id["EXC-2026-003"].used) == (True, 0)
    rules = {f.rule_id for f in result.findings}
    assert rules >= {"MFA-001", "MFA-002", "MFA-005", "MFA-006", "MFA-007", "MFA-008", "MFA-009", "MFA-011", "MFA-012"}
    assert "MFA-010" not in rules
    # Issue #14: the declared break-glass account is judged by its own rules (used, review
    # overdue), the undeclared one is a suspect, and some protection rests on enrolment.
    assert rules >= {"MFA-013", "MFA-015", "MFA-016", "MFA-017"}
    by_rule: dict[str, set[str]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule_id, set()).add(f.principal or "")
    declared, undeclared = "breakglass1@mutuelle-exemple.fr", "breakglass2@mutuelle-exemple.fr"
    assert by_rule["MFA-017"] == {undeclared}
    assert declared in by_rule["MFA-015"] and declared in by_rule["MFA-016"]
    assert all(declared not in by_rule.get(r, set()) for r in ("MFA-006", "MFA-007", "MFA-008"))
    # The MFA-exempt group is blocked outside the head office only: not enforced, the block as evidence.
    blocked_only = [r for r in result.coverage if "blocked only under conditions by 'CA008" in r.reason]
    assert blocked_only and {r.status for r in blocked_only if r.sensitivity.is_sensitive} >= {
        CoverageStatus.NOT_ENFORCED
    }
    # The federated app: judged on okta, where only the global session policy covers every app.
    billing = [r for r in result.coverage if r.portal_id == "app-partner-billing"]
    assert billing and all(r.enforcement_source == "okta" for r in billing)
    assert all(r.reason.startswith("federated to okta: ") for r in billing)
    # Same input, same output.
    again = evaluate(snapshot, demo_config(org), now=org.now, run_id="r1")
    assert again == result and again.findings == result.findings


def test_sample_org_with_every_status(org: sample_org.SampleOrg) -> None:
    """The truth has no block, no report-only-only and no conditional-only sensitive
    access: add what produces them (documented overlay), and make google incomplete."""
    entra = org.truth("entra")
    extra = (
        # Guests blocked from Office 365.
        Policy(
            PolicyId("ca-900"),
            "Block guests from Office 365",
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "ca-900",
                    "ca-900",
                    Scope(include_guests=True),
                    PortalScope(ids=(PortalId("app-m365"),)),
                    Requirement.BLOCK,
                ),
            ),
        ),
    )
    # Claims access for the MFA-exempt group without ca-005: only the report-only pilot covers them.
    policies = (
        tuple(
            replace(
                p,
                rules=(
                    replace(p.rules[0], scope=replace(p.rules[0].scope, exclude_groups=(GroupId("g-mfa-exempt"),))),
                ),
            )
            if p.id == "ca-005"
            else p
            for p in entra.policies
        )
        + extra
    )
    entra = replace(entra, policies=policies)
    google = replace(
        org.truth("google"),
        complete=False,
        issues=(SourceIssue("users.list", "HTTP 503 after 5 retries", incomplete=True),),
    )
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "d", (entra, google, org.truth("okta")))
    # High portals demand any second factor: okta contractors' office-network exemption is then conditional.
    config = replace(
        demo_config(org),
        policy=replace(
            demo_config(org).policy, required={H: Strength.WEAK, S: Strength.WEAK, Sensitivity.NORMAL: Strength.NONE}
        ),
    )
    result = evaluate(snapshot, config, now=org.now, run_id="r2")
    assert {r.status for r in result.coverage} == set(CoverageStatus)
    check_metrics(result)
    assert {r.status for r in result.coverage if r.source == "google"} == {CoverageStatus.UNKNOWN}
    assert [f.source for f in result.findings if f.rule_id == "MFA-010"] == ["google"]
    assert not result.complete
    assert {"MFA-003", "MFA-004"} <= {f.rule_id for f in result.findings}


def test_via_is_irrelevant_to_the_verdict(org: sample_org.SampleOrg) -> None:
    entra = org.truth("entra")
    flipped = replace(entra, access=tuple(replace(a, via=AccessVia.DIRECT, via_ref=None) for a in entra.access))
    a = evaluate(
        Snapshot("q", org.period_start, org.period_end, "d", (entra,)), demo_config(org), now=org.now, run_id="x"
    )
    b = evaluate(
        Snapshot("q", org.period_start, org.period_end, "d", (flipped,)), demo_config(org), now=org.now, run_id="x"
    )
    assert a.coverage == b.coverage


def test_portal_labels_tell_apart_portals_that_share_a_name() -> None:
    from auditor.engine.metrics import portal_labels
    from connectors.sandbox.sample_org import generate

    org = generate(seed=3, accounts=200)
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "x", tuple(org.sources.values()))
    labels = portal_labels(snapshot)
    assert labels["entra/app-partner-billing"] == "Partner billing (entra)"
    assert labels["okta/0oa-partner-billing"] == "Partner billing (okta)"
    assert labels["entra/app-claims"] == "Claims processing (tiers payant)"
    assert len(set(labels.values())) == len(labels)


def test_profile_and_rules_not_evaluated_are_stored_with_the_run(org: sample_org.SampleOrg) -> None:
    """Issue #14: the profile in force and the "not evaluated" notes survive the store's
    serialisation (the reference decoder and the streaming one alike)."""
    import json

    from auditor.config.schema import EvaluationPolicy, MethodProfile
    from auditor.evidence.model_decode import stream_result
    from auditor.evidence.serialise import result_from_data, result_to_data
    from auditor.model import Fact, FactRead

    entra = replace(org.truth("entra"), facts=(FactRead(Fact.SIGN_IN_TIMES, False, "AuditLog.Read.All missing"),))
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "d", (entra,))
    config = replace(demo_config(org), policy=EvaluationPolicy(profile=MethodProfile.CNIL))
    result = evaluate(snapshot, config, now=org.now, run_id="r1")
    assert result.profile == "cnil"
    assert any(n.rule_id == "MFA-008" and n.detail == "AuditLog.Read.All missing" for n in result.not_evaluated)
    data = result_to_data(result)
    assert result_from_data(data) == result
    streamed = stream_result([json.dumps(data).encode()])
    assert streamed is not None and streamed.not_evaluated == result.not_evaluated and streamed.profile == "cnil"
