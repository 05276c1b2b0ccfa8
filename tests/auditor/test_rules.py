"""The rule catalogue: each rule fires on a minimal case and not on its near miss."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from auditor.config_model import EvaluationConfig, EvaluationPolicy, PortalClass, PortalMatch
from auditor.evaluate import evaluate
from auditor.model import (
    Access,
    Account,
    AccountId,
    AccountKind,
    Condition,
    ConditionKind,
    ExceptionEntry,
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
from auditor.rules import RULES, RULESET_VERSION, rule

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
        snap((user("u1", PUSH),), legacy_auth_blocked=None),
        CONFIG,
    ),
}


@pytest.mark.parametrize("rule_id", sorted(SCENARIOS))
def test_rule_fires_on_its_case_and_not_on_its_near_miss(rule_id: str) -> None:
    fires, near_miss, config = SCENARIOS[rule_id]()
    if rule_id == "MFA-009":
        near_miss_config = replace(config, exceptions=(replace(EXPIRED, expires=NOW.date()),))
    else:
        near_miss_config = config
    assert rule_id in ids(fires, config)
    assert rule_id not in ids(near_miss, near_miss_config)


def test_every_rule_has_a_scenario() -> None:
    assert sorted(SCENARIOS) == [r.id for r in RULES]


def test_catalogue_is_explicit_and_complete() -> None:
    assert RULESET_VERSION == "2026.11.1"
    assert [r.id for r in RULES] == [f"MFA-{n:03d}" for n in range(1, 13)]
    for r in RULES:
        assert r.title and r.rationale and r.remediation and r.references and r.requires
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
