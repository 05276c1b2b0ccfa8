"""The rule catalogue: each rule fires on a minimal case and not on its near miss."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from auditor.config.schema import EmergencyAccessEntry, EvaluationConfig, EvaluationPolicy, PortalClass, PortalMatch
from auditor.engine.evaluate import evaluate
from auditor.engine.rules import RULES, RULESET_VERSION, rule
from auditor.model import (
    Access,
    Account,
    AccountId,
    AccountKind,
    Condition,
    ConditionKind,
    CoverageStatus,
    ExceptionEntry,
    Fact,
    FactRead,
    Finding,
    GroupId,
    Method,
    MethodKind,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    Portal,
    PortalId,
    PortalScope,
    Requirement,
    RoleId,
    Scope,
    Sensitivity,
    Severity,
    SignIn,
    SignInFactor,
    Snapshot,
    SourceIssue,
    SourceName,
    SourceSnapshot,
)

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
S = SourceName("s")
HIGH_PORTAL = Portal(S, PortalId("claims"), "Claims", tags=("high",))
SENSITIVE_PORTAL = Portal(S, PortalId("payroll"), "Payroll", tags=("sensitive",))
NORMAL_PORTAL = Portal(S, PortalId("intranet"), "Intranet")
CONFIG = EvaluationConfig(
    portals=(
        PortalClass(PortalMatch(tag="high"), Sensitivity.HIGH),
        PortalClass(PortalMatch(tag="sensitive"), Sensitivity.SENSITIVE),
    )
)


def user(aid: str = "u1", *methods: MethodKind, **kw: object) -> Account:
    return Account(
        source=S,
        id=AccountId(aid),
        principal=f"{aid}@example.org",
        display_name=aid,
        kind=kw.pop("kind", AccountKind.HUMAN),  # type: ignore[arg-type]
        enabled=kw.pop("enabled", True),  # type: ignore[arg-type]
        last_sign_in=kw.pop("last_sign_in", NOW - timedelta(days=1)),  # type: ignore[arg-type]
        methods=tuple(Method(m, m.value) for m in methods),
        **kw,  # type: ignore[arg-type]
    )


EVERYONE = Scope(include_all=True)


def mfa_policy(
    requirement: Requirement = Requirement.MFA,
    *,
    state: PolicyState = PolicyState.ENFORCED,
    scope: Scope = EVERYONE,
    conditions: tuple[Condition, ...] = (),
) -> Policy:
    r = PolicyRule("r1", "r1", scope, PortalScope(all=True), requirement, conditions)
    return Policy(PolicyId("p1"), "Require MFA", state, (r,))


def snap(
    accounts: tuple[Account, ...], policies: tuple[Policy, ...] = (), portal: Portal = SENSITIVE_PORTAL, **extra: object
) -> Snapshot:
    source = SourceSnapshot(
        S,
        "file",
        NOW,
        True,
        accounts,
        (HIGH_PORTAL, SENSITIVE_PORTAL, NORMAL_PORTAL),
        tuple(Access(a.id, portal.id) for a in accounts),
        policies,
    )
    source = replace(source, **extra)  # type: ignore[arg-type]
    return Snapshot("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "d", (source,))


def findings(snapshot: Snapshot, config: EvaluationConfig = CONFIG) -> list[Finding]:
    return list(evaluate(snapshot, config, now=NOW, run_id="t").findings)


def ids(snapshot: Snapshot, config: EvaluationConfig = CONFIG) -> set[str]:
    return {f.rule_id for f in findings(snapshot, config)}


PUSH, SMS, FIDO = MethodKind.AUTHENTICATOR_PUSH, MethodKind.SMS, MethodKind.FIDO2_SECURITY_KEY
ADMIN = {"privileged": True, "roles": (RoleId("admin"),)}
EXEMPT = GroupId("exempt")
EXCLUDING = Scope(include_all=True, exclude_groups=(EXEMPT,))
CONDITIONAL = (Condition(ConditionKind.NETWORK, "outside 'Head office'"),)
EXPIRED = ExceptionEntry("EXC-1", "u1@example.org", ("payroll",), "r", "CISO", date(2026, 11, 1))
BREAK_GLASS = EmergencyAccessEntry("bg1@example.org", "tenant lock-out", "CISO", date(2026, 10, 1))


def with_config(**policy: object) -> EvaluationConfig:
    return replace(CONFIG, policy=EvaluationPolicy(**policy))  # type: ignore[arg-type]


# rule id → (fires, near miss, config)
Scenario = tuple[Snapshot, Snapshot, EvaluationConfig]
SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "MFA-001": lambda: (snap((user(),)), snap((user(),), portal=NORMAL_PORTAL), CONFIG),
    "MFA-002": lambda: (snap((user("u1", PUSH),)), snap((user("u1", PUSH),), (mfa_policy(),)), CONFIG),
    "MFA-003": lambda: (
        snap((user("u1", PUSH),), (mfa_policy(state=PolicyState.REPORT_ONLY),)),
        snap((user("u1", PUSH),), (mfa_policy(),)),
        CONFIG,
    ),
    "MFA-004": lambda: (
        snap((user("u1", PUSH),), (mfa_policy(conditions=CONDITIONAL),)),
        snap((user("u1", PUSH),), (mfa_policy(),)),
        CONFIG,
    ),
    "MFA-005": lambda: (
        snap((user("u1", SMS),), (mfa_policy(),), portal=HIGH_PORTAL),
        snap((user("u1", PUSH),), (mfa_policy(Requirement.STRONG),), portal=HIGH_PORTAL),
        CONFIG,
    ),
    "MFA-006": lambda: (
        snap((user("u1", PUSH, **ADMIN),), (mfa_policy(Requirement.PHISHING_RESISTANT),), portal=NORMAL_PORTAL),
        snap((user("u1", FIDO, **ADMIN),), (mfa_policy(Requirement.PHISHING_RESISTANT),), portal=NORMAL_PORTAL),
        CONFIG,
    ),
    "MFA-007": lambda: (
        snap((user("u1", PUSH, groups=(EXEMPT,)),), (mfa_policy(scope=EXCLUDING),)),
        snap((user("u1", PUSH),), (mfa_policy(scope=EXCLUDING),)),
        CONFIG,
    ),
    "MFA-008": lambda: (
        snap((user("u1", PUSH, last_sign_in=NOW - timedelta(days=91)),)),
        snap((user("u1", PUSH, last_sign_in=NOW - timedelta(days=89)),)),
        CONFIG,
    ),
    "MFA-009": lambda: (
        snap((user("u1", PUSH),)),
        snap((user("u1", PUSH),)),
        replace(CONFIG, exceptions=(EXPIRED,)),
    ),
    "MFA-010": lambda: (
        snap(
            (user("u1", PUSH),), complete=False, issues=(SourceIssue("users", "HTTP 503 on page 2", incomplete=True),)
        ),
        snap((user("u1", PUSH),), issues=(SourceIssue("label", "unknown method label 'x'"),)),
        CONFIG,
    ),
    "MFA-011": lambda: (
        snap((user("u1", PUSH),), sign_ins=(SignIn(AccountId("u1"), PortalId("payroll"), NOW, SignInFactor.SINGLE),)),
        snap((user("u1", PUSH),), sign_ins=(SignIn(AccountId("u1"), PortalId("payroll"), NOW, SignInFactor.MULTI),)),
        CONFIG,
    ),
    "MFA-012": lambda: (
        snap((user("u1", PUSH),), legacy_auth_blocked=False),
        snap((user("u1", PUSH),), legacy_auth_blocked=True),
        CONFIG,
    ),
    # Push holder under plain MFA on a strong-requiring portal: protected, resting on enrolment.
    "MFA-013": lambda: (
        snap((user("u1", PUSH),), (mfa_policy(),), portal=HIGH_PORTAL),
        snap((user("u1", PUSH),), (mfa_policy(Requirement.STRONG),), portal=HIGH_PORTAL),
        CONFIG,
    ),
    "MFA-014": lambda: (
        snap((user("bg1", PUSH, **ADMIN),)),
        snap((user("bg1", FIDO, **ADMIN),)),
        replace(CONFIG, emergency_access=(BREAK_GLASS,)),
    ),
    "MFA-015": lambda: (
        snap((user("bg1", FIDO, last_sign_in=NOW - timedelta(days=3), **ADMIN),)),
        snap((user("bg1", FIDO, last_sign_in=datetime(2026, 9, 1, tzinfo=UTC), **ADMIN),)),
        replace(CONFIG, emergency_access=(BREAK_GLASS,)),
    ),
    "MFA-016": lambda: (
        snap((user("bg1", FIDO, **ADMIN),)),
        snap((user("bg1", FIDO, **ADMIN),)),
        replace(CONFIG, emergency_access=(replace(BREAK_GLASS, last_review=date(2026, 1, 1)),)),
    ),
    "MFA-017": lambda: (
        snap((user("u1", FIDO, groups=(EXEMPT,), **ADMIN),), (mfa_policy(scope=EXCLUDING),)),
        snap((user("u1", FIDO, groups=(EXEMPT,), **ADMIN),), (mfa_policy(scope=EXCLUDING),)),
        replace(CONFIG, emergency_access=(replace(BREAK_GLASS, account="u1@example.org"),)),
    ),
}


@pytest.mark.parametrize("rule_id", sorted(SCENARIOS))
def test_rule_fires_on_its_case_and_not_on_its_near_miss(rule_id: str) -> None:
    fires, near_miss, config = SCENARIOS[rule_id]()
    if rule_id == "MFA-009":
        near_miss_config = replace(config, exceptions=(replace(EXPIRED, expires=NOW.date()),))
    elif rule_id == "MFA-016":
        near_miss_config = replace(config, emergency_access=(BREAK_GLASS,))
    elif rule_id == "MFA-017":
        near_miss_config = replace(config, emergency_access=(replace(BREAK_GLASS, account="u1@example.org"),))
        config = CONFIG
    else:
        near_miss_config = config
    assert rule_id in ids(fires, config)
    assert rule_id not in ids(near_miss, near_miss_config)


def test_every_rule_has_a_scenario() -> None:
    assert sorted(SCENARIOS) == [r.id for r in RULES]


def test_catalogue_is_explicit_and_complete() -> None:
    # Changed (#14): five rules added, ``requires`` now names facts (register-level rules need none).
    assert RULESET_VERSION == "2026.12.1"
    assert [r.id for r in RULES] == [f"MFA-{n:03d}" for n in range(1, 18)]
    for r in RULES:
        assert r.title and r.rationale and r.remediation and r.references
        assert r.requires or r.id in {"MFA-009", "MFA-010", "MFA-016"}
    frameworks = {ref.framework for r in RULES for ref in r.references}
    assert frameworks == {
        "GDPR",
        "NIS2 Directive",
        "ISO/IEC 27001:2022",
        "NIST SP 800-63B-4",
        "CIS Controls v8.1",
        "PCI DSS v4.0.1",
    }
    assert rule("MFA-006").severity is Severity.CRITICAL
    assert ("CIS Controls v8.1", "6.5") in {(x.framework, x.reference) for x in rule("MFA-006").references}


def test_severity_depends_on_portal_sensitivity() -> None:
    high = findings(snap((user(),), portal=HIGH_PORTAL))
    sensitive = findings(snap((user(),)))
    assert [(f.rule_id, f.severity) for f in high] == [("MFA-001", Severity.CRITICAL)]
    assert [(f.rule_id, f.severity) for f in sensitive] == [("MFA-001", Severity.HIGH)]


def test_findings_carry_principal_portal_evidence_and_references() -> None:
    (f,) = findings(snap((user("u1", SMS),), (mfa_policy(),), portal=HIGH_PORTAL))
    assert (f.rule_id, f.principal, f.portal_name, f.account_id) == ("MFA-005", "u1@example.org", "Claims", "u1")
    assert f.evidence["methods"] == "sms (sms, active)"
    assert f.evidence["policies"] == "Require MFA (p1)"
    assert f.evidence["required"] == "strong"
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in f.evidence.items())
    assert f.references == rule("MFA-005").references and f.remediation


def test_privileged_accounts_get_one_critical_finding_not_one_per_status_rule() -> None:
    admin = user("u1", SMS, **ADMIN)
    source = snap((admin,), (mfa_policy(),)).sources[0]
    source = replace(source, access=(Access(admin.id, HIGH_PORTAL.id), Access(admin.id, SENSITIVE_PORTAL.id)))
    got = findings(Snapshot("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "d", (source,)))
    assert [(f.rule_id, f.portal_id) for f in got] == [("MFA-006", None)]
    assert "Claims (claims): weak" in got[0].evidence["portals"]


def test_dormant_includes_never_signed_in_and_respects_the_configured_days() -> None:
    assert "MFA-008" in ids(snap((user("u1", PUSH, last_sign_in=None),)))
    recent = snap((user("u1", PUSH, last_sign_in=NOW - timedelta(days=20)),))
    assert "MFA-008" in ids(recent, with_config(dormant_after_days=10))


def test_single_factor_sign_ins_outside_the_period_or_on_normal_portals_do_not_fire() -> None:
    before = SignIn(AccountId("u1"), PortalId("payroll"), datetime(2026, 9, 30, tzinfo=UTC), SignInFactor.SINGLE)
    normal = SignIn(AccountId("u1"), PortalId("intranet"), NOW, SignInFactor.SINGLE)
    assert "MFA-011" not in ids(snap((user("u1", PUSH),), sign_ins=(before, normal)))


def test_a_rule_limited_exception_suppresses_only_its_rule() -> None:
    entry = ExceptionEntry("EXC-2", "u1@example.org", ("Payroll",), "r", "CISO", date(2027, 1, 1), ("MFA-008",))
    dormant = snap((user("u1", PUSH, last_sign_in=None),))
    result = evaluate(dormant, replace(CONFIG, exceptions=(entry,)), now=NOW, run_id="t")
    assert {f.rule_id for f in result.findings} == {"MFA-002"}
    assert result.exceptions[0].used == 1


def test_findings_are_ordered_most_severe_first() -> None:
    accounts = (user("u1"), user("u2", PUSH))
    got = findings(snap(accounts, portal=HIGH_PORTAL, legacy_auth_blocked=False))
    ranks = [f.severity.rank for f in got]
    assert ranks == sorted(ranks, reverse=True)
    assert [f.rule_id for f in got] == ["MFA-001", "MFA-002", "MFA-012"]


# --- facts read, emergency access, report-only stricter policies (issue #14) -----------------


def test_a_rule_whose_facts_were_not_read_is_not_evaluated_never_a_finding() -> None:
    never = user("u1", PUSH, last_sign_in=None)
    unread = (FactRead(Fact.SIGN_IN_TIMES, False, "permission AuditLog.Read.All missing"),)
    result = evaluate(snap((never,), facts=unread), CONFIG, now=NOW, run_id="t")
    assert "MFA-008" not in {f.rule_id for f in result.findings}
    assert "MFA-002" in {f.rule_id for f in result.findings}  # the other rules still run
    messages = [n.message for n in result.not_evaluated]
    assert "MFA-008 not evaluated on s: last sign-in times were not read (permission AuditLog.Read.All missing)" in (
        messages
    )
    # Read: the same account is a dormant finding, and nothing is "not evaluated" for MFA-008.
    read = evaluate(snap((never,)), CONFIG, now=NOW, run_id="t")
    assert "MFA-008" in {f.rule_id for f in read.findings}
    assert all(n.rule_id != "MFA-008" for n in read.not_evaluated)


def test_legacy_snapshot_without_facts_derives_them_from_the_flags() -> None:
    result = evaluate(snap((user("u1", PUSH),), legacy_auth_blocked=None), CONFIG, now=NOW, run_id="t")
    by_rule = {n.rule_id: n for n in result.not_evaluated}
    assert set(by_rule) == {"MFA-011", "MFA-012"}  # no sign-in log collected, no legacy-auth state
    assert by_rule["MFA-012"].facts == (Fact.LEGACY_AUTH,)
    assert result.profile == "default"


def test_coverage_is_unknown_where_the_methods_were_not_read() -> None:
    unread = (FactRead(Fact.METHODS, False, "permission UserAuthenticationMethod.Read.All missing"),)
    result = evaluate(snap((user("u1"),), (mfa_policy(),), facts=unread), CONFIG, now=NOW, run_id="t")
    (row,) = result.coverage
    assert row.status is CoverageStatus.UNKNOWN
    assert "registered methods were not read (permission UserAuthenticationMethod.Read.All missing)" in row.reason
    assert "MFA-001" not in {f.rule_id for f in result.findings}


def test_declared_emergency_account_is_judged_by_its_own_rules_only() -> None:
    glass = user("bg1", PUSH, groups=(EXEMPT,), last_sign_in=NOW - timedelta(days=200), **ADMIN)
    snapshot = snap((glass,), (mfa_policy(scope=EXCLUDING),), portal=HIGH_PORTAL)
    undeclared = ids(snapshot)
    assert {"MFA-006", "MFA-007", "MFA-008", "MFA-017"} <= undeclared
    config = replace(CONFIG, emergency_access=(BREAK_GLASS,))
    declared = findings(snapshot, config)
    assert {f.rule_id for f in declared} == {"MFA-014"}  # push only: not phishing-resistant
    for f in declared:
        assert "disabl" not in f.remediation.lower()
    # The coverage row keeps its real status: an emergency account is not protected by MFA.
    (row,) = evaluate(snapshot, config, now=NOW, run_id="t").coverage
    assert row.status is CoverageStatus.NOT_ENFORCED


def test_declared_emergency_account_not_found_is_reported() -> None:
    config = replace(CONFIG, emergency_access=(replace(BREAK_GLASS, account="ghost@example.org"),))
    (f,) = [f for f in findings(snap((user("u1", PUSH),), (mfa_policy(),)), config) if f.rule_id == "MFA-014"]
    assert f.message == "declared emergency-access account ghost@example.org was not found in any source"


def test_privileged_account_excluded_from_one_of_two_mfa_policies_is_no_emergency_suspect() -> None:
    second = replace(mfa_policy(Requirement.PHISHING_RESISTANT), id=PolicyId("p2"), name="Admins")
    admin = user("u1", FIDO, groups=(EXEMPT,), **ADMIN)
    assert "MFA-017" not in ids(snap((admin,), (mfa_policy(scope=EXCLUDING), second)))


def test_a_stricter_report_only_policy_is_named_on_weak_rows_and_on_the_privileged_finding() -> None:
    stricter = replace(
        mfa_policy(Requirement.PHISHING_RESISTANT, state=PolicyState.REPORT_ONLY), id=PolicyId("p9"), name="PR admins"
    )
    weak = findings(snap((user("u1", SMS),), (mfa_policy(), stricter), portal=HIGH_PORTAL))
    (row_finding,) = [f for f in weak if f.rule_id == "MFA-005"]
    assert (
        "stricter policy not enforced: 'PR admins' (p9, phishing_resistant, report-only)"
        in (row_finding.evidence["reason"])
    )
    assert row_finding.evidence["stricter_policy_not_enforced"] == "PR admins (p9)"
    admin = findings(snap((user("u1", PUSH, **ADMIN),), (mfa_policy(), stricter), portal=HIGH_PORTAL))
    (privileged,) = [f for f in admin if f.rule_id == "MFA-006"]
    assert privileged.evidence["stricter_policy_not_enforced"] == "'PR admins' (p9, report-only)"


def test_enrolment_dependence_is_one_finding_per_policy_and_portal() -> None:
    accounts = (user("u1", PUSH), user("u2", FIDO), user("u3", SMS))
    found = [f for f in findings(snap(accounts, (mfa_policy(),), portal=HIGH_PORTAL)) if f.rule_id == "MFA-013"]
    (f,) = found
    assert f.severity is Severity.LOW and f.account_id is None and f.portal_id == "claims"
    assert f.evidence["accesses"] == "2"  # u1 and u2; u3 (sms) is weak, reported by MFA-005
    assert f.message.startswith("Require MFA (p1) enforces less than this portal requires")


def test_no_enrolment_dependence_where_another_enforced_policy_demands_enough() -> None:
    strong = replace(mfa_policy(Requirement.STRONG), id=PolicyId("p2"), name="Strong")
    assert "MFA-013" not in ids(snap((user("u1", PUSH),), (mfa_policy(), strong), portal=HIGH_PORTAL))


def test_a_coded_issue_of_an_older_snapshot_says_the_sign_in_times_were_not_read() -> None:
    """Before facts were declared, Entra recorded a refused signInActivity as an issue:
    MFA-008 must not call its accounts "never signed in" (issue #14)."""
    refused = SourceIssue("entra.last_sign_in_unread", "last sign-in (signInActivity) refused (403)")
    result = evaluate(snap((user("u1", PUSH, last_sign_in=None),), issues=(refused,)), CONFIG, now=NOW, run_id="t")
    assert "MFA-008" not in {f.rule_id for f in result.findings}
    (note,) = [n for n in result.not_evaluated if n.rule_id == "MFA-008"]
    assert note.detail == "last sign-in (signInActivity) refused (403)"
