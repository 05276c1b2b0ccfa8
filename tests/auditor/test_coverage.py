"""The coverage engine: every status, the policy walk (first-match inside a policy,
strictest across policies), conditions, exclusions, exceptions, incomplete sources and
federation."""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import replace as _replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.config.schema import (
    EvaluationConfig,
    EvaluationPolicy,
    IdentityLink,
    MethodProfile,
    PortalClass,
    PortalMatch,
)
from auditor.engine.evaluate import evaluate
from auditor.model import (
    Access,
    Account,
    AccountId,
    AccountKind,
    AuditResult,
    Condition,
    ConditionKind,
    Coverage,
    CoverageStatus,
    ExceptionEntry,
    Fact,
    FactRead,
    GroupId,
    Method,
    MethodAllowance,
    MethodKind,
    MethodStatus,
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
    Snapshot,
    SourceIssue,
    SourceName,
    SourceSnapshot,
    Strength,
)

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
ALL = Scope(include_all=True)
EVERY_PORTAL = PortalScope(all=True)
OFFICE = (Condition(ConditionKind.NETWORK, "zone 'Office network'"),)
PUSH = (MethodKind.AUTHENTICATOR_PUSH,)
SMS = (MethodKind.SMS,)
FIDO = (MethodKind.FIDO2_SECURITY_KEY,)


def account(
    aid: str = "u1",
    *,
    methods: tuple[MethodKind, ...] = PUSH,
    pending: bool = False,
    groups: tuple[str, ...] = (),
    roles: tuple[str, ...] = (),
    kind: AccountKind = AccountKind.HUMAN,
    enabled: bool = True,
    privileged: bool = False,
    principal: str | None = None,
    source: str = "s",
    last_sign_in: datetime | None = NOW,
) -> Account:
    status = MethodStatus.PENDING if pending else MethodStatus.ACTIVE
    return Account(
        source=SourceName(source),
        id=AccountId(aid),
        principal=principal or f"{aid}@example.org",
        display_name=aid,
        kind=kind,
        enabled=enabled,
        privileged=privileged,
        roles=tuple(RoleId(r) for r in roles),
        groups=tuple(GroupId(g) for g in groups),
        last_sign_in=last_sign_in,
        methods=tuple(Method(k, k.value, status) for k in methods),
    )


def rule(
    requirement: Requirement,
    *,
    scope: Scope = ALL,
    portals: PortalScope = EVERY_PORTAL,
    conditions: tuple[Condition, ...] = (),
    rid: str = "r",
) -> PolicyRule:
    return PolicyRule(rid, rid, scope, portals, requirement, conditions)


def policy(pid: str, *rules: PolicyRule, state: PolicyState = PolicyState.ENFORCED) -> Policy:
    return Policy(PolicyId(pid), f"Policy {pid}", state, rules)


def source(
    accounts: tuple[Account, ...],
    policies: tuple[Policy, ...] = (),
    *,
    name: str = "s",
    portals: tuple[str, ...] = ("app",),
    complete: bool = True,
    access: tuple[Access, ...] | None = None,
) -> SourceSnapshot:
    if access is None:
        access = tuple(Access(a.id, PortalId(p)) for a in accounts for p in portals)
    return SourceSnapshot(
        source=SourceName(name),
        connector="file",
        collected_at=NOW,
        complete=complete,
        accounts=accounts,
        portals=tuple(Portal(SourceName(name), PortalId(p), f"Portal {p}") for p in portals),
        access=access,
        policies=policies,
        issues=() if complete else (SourceIssue("accounts.page", "page 3 of users failed: HTTP 503", incomplete=True),),
    )


def snapshot(*sources: SourceSnapshot) -> Snapshot:
    return Snapshot("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "digest", sources)


def config(
    *,
    sensitivity: Sensitivity = Sensitivity.SENSITIVE,
    required: Strength = Strength.WEAK,
    classes: tuple[PortalClass, ...] = (),
    exceptions: tuple[ExceptionEntry, ...] = (),
    links: tuple[IdentityLink, ...] = (),
    **policy_options: object,
) -> EvaluationConfig:
    req = {Sensitivity.HIGH: Strength.STRONG, Sensitivity.SENSITIVE: Strength.WEAK, Sensitivity.NORMAL: Strength.NONE}
    req[sensitivity] = required
    return EvaluationConfig(
        portals=(*classes, PortalClass(PortalMatch(), sensitivity)),
        policy=EvaluationPolicy(required=req, **policy_options),  # type: ignore[arg-type]
        identity_links=links,
        exceptions=exceptions,
    )


def run(snap: Snapshot, cfg: EvaluationConfig | None = None) -> AuditResult:
    return evaluate(snap, cfg or config(), now=NOW, run_id="test")


def only_row(result: AuditResult) -> Coverage:
    assert len(result.coverage) == 1, result.coverage
    return result.coverage[0]


# --- the status table -------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    policies: tuple[Policy, ...]
    status: CoverageStatus
    enforced: Requirement = Requirement.NONE
    conditional: bool = False
    account: dict[str, object] = field(default_factory=dict)
    required: Strength = Strength.WEAK
    sensitivity: Sensitivity = Sensitivity.SENSITIVE
    reason: str = ""  # a fragment the reason must contain
    policies_seen: tuple[str, ...] | None = None
    excluded_by: tuple[str, ...] = ()


G = GroupId("g")
CASES = (
    Case(
        "mfa enforced, push enrolled",
        (policy("p1", rule(Requirement.MFA)),),
        CoverageStatus.PROTECTED,
        Requirement.MFA,
        reason="'Policy p1' (p1) enforce mfa",
        policies_seen=("p1",),
    ),
    Case(
        "nothing required on a normal portal",
        (),
        CoverageStatus.PROTECTED,
        required=Strength.NONE,
        sensitivity=Sensitivity.NORMAL,
        account={"methods": ()},
        reason="no second factor required",
    ),
    Case(
        "mfa enforced, nothing enrolled",
        (policy("p1", rule(Requirement.MFA)),),
        CoverageStatus.NOT_ENROLLED,
        Requirement.MFA,
        account={"methods": ()},
        reason="no active second factor",
    ),
    Case(
        "only a pending method",
        (policy("p1", rule(Requirement.MFA)),),
        CoverageStatus.NOT_ENROLLED,
        Requirement.MFA,
        account={"pending": True},
    ),
    Case("no policy at all", (), CoverageStatus.NOT_ENFORCED, reason="no enforced policy"),
    Case("no policy, nothing enrolled: not enrolled first", (), CoverageStatus.NOT_ENROLLED, account={"methods": ()}),
    Case(
        "report-only policy",
        (policy("p1", rule(Requirement.MFA), state=PolicyState.REPORT_ONLY),),
        CoverageStatus.REPORT_ONLY,
        reason="only report-only or disabled policies would require mfa: 'Policy p1'",
    ),
    Case(
        "disabled policy",
        (policy("p1", rule(Requirement.STRONG), state=PolicyState.DISABLED),),
        CoverageStatus.REPORT_ONLY,
    ),
    Case(
        "conditional rule in a report-only policy",
        (policy("p1", rule(Requirement.MFA, conditions=OFFICE), state=PolicyState.REPORT_ONLY),),
        CoverageStatus.REPORT_ONLY,
    ),
    Case(
        "only a conditional rule",
        (policy("p1", rule(Requirement.MFA, conditions=OFFICE)),),
        CoverageStatus.CONDITIONAL,
        conditional=True,
        reason="network: zone 'Office network'",
    ),
    Case(
        "conditional password-only falls through to a catch-all mfa",
        (policy("p1", rule(Requirement.NONE, conditions=OFFICE, rid="office"), rule(Requirement.MFA, rid="all")),),
        CoverageStatus.CONDITIONAL,
        conditional=True,
    ),
    # Changed (#14): MFA is guaranteed and a FIDO2-only account can pass it only with FIDO2: effective strength.
    Case(
        "conditional strong then unconditional mfa: mfa guaranteed, fido2 holder protected",
        (policy("p1", rule(Requirement.STRONG, conditions=OFFICE), rule(Requirement.MFA)),),
        CoverageStatus.PROTECTED,
        Requirement.MFA,
        conditional=True,
        required=Strength.STRONG,
        account={"methods": FIDO},
        reason="protection rests on the account's current methods",
    ),
    Case(
        "conditional strong then unconditional mfa: an sms holder is weak",
        (policy("p1", rule(Requirement.STRONG, conditions=OFFICE), rule(Requirement.MFA)),),
        CoverageStatus.WEAK,
        Requirement.MFA,
        conditional=True,
        required=Strength.STRONG,
        account={"methods": SMS + FIDO},
        reason="effective strength weak (weakest usable method: fido2_security_key, sms), below the required strong",
    ),
    # Changed (#14): under conditional enforcement the methods are judged; push reaches strong: conditional.
    Case(
        "conditional mfa, push holder, strong required: conditional",
        (policy("p1", rule(Requirement.MFA, conditions=OFFICE)),),
        CoverageStatus.CONDITIONAL,
        conditional=True,
        required=Strength.STRONG,
        reason="only under conditions",
    ),
    Case(
        "conditional mfa, sms holder, strong required: weak before conditional",
        (policy("p1", rule(Requirement.MFA, conditions=OFFICE)),),
        CoverageStatus.WEAK,
        conditional=True,
        required=Strength.STRONG,
        account={"methods": SMS},
        reason="only under conditions (network: zone 'Office network'); effective strength weak, below the required",
    ),
    Case(
        "first match inside a policy: an unconditional none ends the walk",
        (policy("p1", rule(Requirement.NONE, scope=Scope(include_groups=(G,))), rule(Requirement.MFA)),),
        CoverageStatus.NOT_ENFORCED,
        account={"groups": ("g",)},
        policies_seen=("p1",),
    ),
    Case(
        "first match inside a policy: not in the group, the catch-all applies",
        (policy("p1", rule(Requirement.NONE, scope=Scope(include_groups=(G,))), rule(Requirement.MFA)),),
        CoverageStatus.PROTECTED,
        Requirement.MFA,
    ),
    Case(
        "strictest across policies: a none policy does not weaken an mfa one",
        (policy("p1", rule(Requirement.NONE)), policy("p2", rule(Requirement.MFA))),
        CoverageStatus.PROTECTED,
        Requirement.MFA,
        policies_seen=("p1", "p2"),
    ),
    Case(
        "strictest across policies: strong beats mfa",
        (policy("p1", rule(Requirement.MFA)), policy("p2", rule(Requirement.STRONG))),
        CoverageStatus.PROTECTED,
        Requirement.STRONG,
        required=Strength.STRONG,
        reason="'Policy p2' (p2) enforce",
    ),
    # Changed (#14): a push holder under plain MFA can only pass with push: protected, resting on enrolment.
    Case(
        "enforcement below the requirement, push holder",
        (policy("p1", rule(Requirement.MFA)),),
        CoverageStatus.PROTECTED,
        Requirement.MFA,
        required=Strength.STRONG,
        reason="effective strength strong (weakest usable method: authenticator_push) meets the required strong; "
        "protection rests on",
    ),
    Case(
        "enforcement below the requirement, sms holder",
        (policy("p1", rule(Requirement.MFA)),),
        CoverageStatus.WEAK,
        Requirement.MFA,
        required=Strength.STRONG,
        account={"methods": SMS},
        reason="below the required strong",
    ),
    # Changed (#14): the sms holder must register an accepted method past sms first: the gate decides.
    Case(
        "enrolled method below the enforcement: registration gate",
        (policy("p1", rule(Requirement.STRONG)),),
        CoverageStatus.WEAK,
        Requirement.STRONG,
        required=Strength.STRONG,
        account={"methods": SMS},
        reason="effective strength weak (registration gate)",
    ),
    Case(
        "push holder under a phishing-resistant policy, strong required: the gate protects",
        (policy("p1", rule(Requirement.PHISHING_RESISTANT)),),
        CoverageStatus.PROTECTED,
        Requirement.PHISHING_RESISTANT,
        required=Strength.STRONG,
        reason="effective strength strong (registration gate) meets the required strong",
    ),
    Case(
        "block",
        (policy("p1", rule(Requirement.BLOCK)), policy("p2", rule(Requirement.MFA))),
        CoverageStatus.BLOCKED,
        Requirement.BLOCK,
        account={"methods": ()},
        reason="blocked by 'Policy p1'",
    ),
    # Changed (#14): a block under a condition is no second factor: not enforced, the block is evidence.
    Case(
        "conditional block is not enforcement",
        (policy("p1", rule(Requirement.BLOCK, conditions=OFFICE)),),
        CoverageStatus.NOT_ENFORCED,
        reason="blocked only under conditions by 'Policy p1' (p1) (network: zone 'Office network')",
    ),
    Case(
        "conditional block beside conditional mfa: conditional",
        (policy("p1", rule(Requirement.BLOCK, conditions=OFFICE), rule(Requirement.MFA, conditions=OFFICE, rid="m")),),
        CoverageStatus.CONDITIONAL,
        conditional=True,
    ),
    Case(
        "excluded by group from the policy that would cover it",
        (policy("p1", rule(Requirement.MFA, scope=Scope(include_all=True, exclude_groups=(G,)))),),
        CoverageStatus.NOT_ENFORCED,
        account={"groups": ("g",)},
        excluded_by=("p1",),
        reason="excluded from p1",
    ),
    Case(
        "excluded, but another policy protects",
        (
            policy("p1", rule(Requirement.MFA, scope=Scope(include_all=True, exclude_groups=(G,)))),
            policy("p2", rule(Requirement.MFA, scope=Scope(include_groups=(G,)))),
        ),
        CoverageStatus.PROTECTED,
        Requirement.MFA,
        account={"groups": ("g",)},
        excluded_by=("p1",),
    ),
    Case(
        "an exclusion from a rule that asks nothing is not an exclusion",
        (policy("p1", rule(Requirement.NONE, scope=Scope(include_all=True, exclude_groups=(G,)))),),
        CoverageStatus.NOT_ENFORCED,
        account={"groups": ("g",)},
    ),
    Case(
        "included by role",
        (policy("p1", rule(Requirement.MFA, scope=Scope(include_roles=(RoleId("admin"),)))),),
        CoverageStatus.WEAK,
        Requirement.MFA,
        account={"roles": ("admin",), "privileged": True},
        reason="below the required phishing_resistant",
    ),
    Case(
        "privileged with phishing-resistant enforced and enrolled",
        (policy("p1", rule(Requirement.PHISHING_RESISTANT, scope=Scope(include_roles=(RoleId("admin"),)))),),
        CoverageStatus.PROTECTED,
        Requirement.PHISHING_RESISTANT,
        account={"roles": ("admin",), "privileged": True, "methods": FIDO},
    ),
    Case(
        "guests included as such",
        (policy("p1", rule(Requirement.MFA, scope=Scope(include_guests=True))),),
        CoverageStatus.PROTECTED,
        Requirement.MFA,
        account={"kind": AccountKind.GUEST},
    ),
    Case(
        "members are not guests",
        (policy("p1", rule(Requirement.MFA, scope=Scope(include_guests=True))),),
        CoverageStatus.NOT_ENFORCED,
    ),
    Case(
        "included by user id",
        (policy("p1", rule(Requirement.MFA, scope=Scope(include_users=(AccountId("u1"),)))),),
        CoverageStatus.PROTECTED,
        Requirement.MFA,
    ),
    Case(
        "excluded by user id",
        (policy("p1", rule(Requirement.MFA, scope=Scope(include_all=True, exclude_users=(AccountId("u1"),)))),),
        CoverageStatus.NOT_ENFORCED,
        excluded_by=("p1",),
    ),
    Case(
        "portal scoped to another app",
        (policy("p1", rule(Requirement.MFA, portals=PortalScope(ids=(PortalId("x"),)))),),
        CoverageStatus.NOT_ENFORCED,
        policies_seen=(),
    ),
    Case(
        "portal scoped to this app",
        (policy("p1", rule(Requirement.MFA, portals=PortalScope(ids=(PortalId("app"),)))),),
        CoverageStatus.PROTECTED,
        Requirement.MFA,
    ),
    Case(
        "every portal but this one",
        (policy("p1", rule(Requirement.MFA, portals=PortalScope(all=True, excluded_ids=(PortalId("app"),)))),),
        CoverageStatus.NOT_ENFORCED,
    ),
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_status_table(case: Case) -> None:
    snap = snapshot(source((account(**case.account),), case.policies))  # type: ignore[arg-type]
    row = only_row(run(snap, config(sensitivity=case.sensitivity, required=case.required)))
    assert row.status is case.status, row.reason
    assert row.enforced is case.enforced
    assert row.conditional is case.conditional
    assert case.reason in row.reason
    assert "\n" not in row.reason
    if case.policies_seen is not None:
        assert row.policies == case.policies_seen
    assert row.excluded_by == case.excluded_by


def test_the_table_reaches_every_status_but_excepted_and_unknown() -> None:
    assert {c.status for c in CASES} == set(CoverageStatus) - {CoverageStatus.EXCEPTED, CoverageStatus.UNKNOWN}


def test_privileged_accounts_need_the_privileged_strength() -> None:
    snap = snapshot(source((account(privileged=True),), (policy("p1", rule(Requirement.STRONG)),)))
    row = only_row(run(snap, config(privileged=Strength.STRONG)))
    assert (row.status, row.required) == (CoverageStatus.PROTECTED, Strength.STRONG)
    row = only_row(run(snap))
    assert (row.status, row.required) == (CoverageStatus.WEAK, Strength.PHISHING_RESISTANT)


# --- exceptions -------------------------------------------------------------------------


def entry(
    expires: date,
    *,
    portals: tuple[str, ...] = ("Portal app",),
    account_: str = "U1@Example.org ",
    rules: tuple[str, ...] = (),
) -> ExceptionEntry:
    return ExceptionEntry("EXC-1", account_, portals, "legacy terminal", "CISO", expires, rules)


def test_a_valid_exception_excepts_the_row_and_is_counted() -> None:
    snap = snapshot(source((account(methods=()), account("u2", methods=()))))
    result = run(snap, config(exceptions=(entry(date(2026, 12, 31)),)))
    rows: dict[str, Coverage] = {r.account_id: r for r in result.coverage}
    assert rows["u1"].status is CoverageStatus.EXCEPTED
    assert rows["u1"].exception_id == "EXC-1"
    assert "excepted by EXC-1" in rows["u1"].reason and "no active second factor" in rows["u1"].reason
    assert rows["u2"].status is CoverageStatus.NOT_ENROLLED
    assert [(s.entry.id, s.expired, s.used) for s in result.exceptions] == [("EXC-1", False, 1)]


def test_an_exception_is_valid_through_its_expiry_day() -> None:
    snap = snapshot(source((account(methods=()),)))
    assert only_row(run(snap, config(exceptions=(entry(NOW.date()),)))).status is CoverageStatus.EXCEPTED


def test_an_expired_exception_is_not_honoured() -> None:
    snap = snapshot(source((account(methods=()),)))
    result = run(snap, config(exceptions=(entry(date(2026, 11, 14)),)))
    assert only_row(result).status is CoverageStatus.NOT_ENROLLED
    assert [(s.expired, s.used) for s in result.exceptions] == [(True, 0)]
    assert [f.rule_id for f in result.findings if f.rule_id == "MFA-009"] == ["MFA-009"]


def test_an_exception_for_another_portal_does_not_apply() -> None:
    snap = snapshot(source((account(methods=()),)))
    row = only_row(run(snap, config(exceptions=(entry(date(2027, 1, 1), portals=("other",)),))))
    assert row.status is CoverageStatus.NOT_ENROLLED


def test_an_exception_on_a_protected_row_is_not_used() -> None:
    snap = snapshot(source((account(),), (policy("p1", rule(Requirement.MFA)),)))
    result = run(snap, config(exceptions=(entry(date(2027, 1, 1), portals=()),)))
    assert only_row(result).status is CoverageStatus.PROTECTED
    assert result.exceptions[0].used == 0


# --- incomplete sources -----------------------------------------------------------------


def test_every_row_of_an_incomplete_source_is_unknown_even_a_protected_one() -> None:
    accounts = (account("u1"), account("u2", methods=()))
    snap = snapshot(source(accounts, (policy("p1", rule(Requirement.MFA)),), complete=False))
    result = run(snap)
    assert {r.status for r in result.coverage} == {CoverageStatus.UNKNOWN}
    assert all("page 3 of users failed" in r.reason for r in result.coverage)
    assert result.metrics.sensitive_protected == 0
    assert result.metrics.sensitive_unknown == 2
    assert not result.complete


def test_unknown_wins_over_an_exception() -> None:
    snap = snapshot(source((account(methods=()),), complete=False))
    assert only_row(run(snap, config(exceptions=(entry(date(2027, 1, 1)),)))).status is CoverageStatus.UNKNOWN


# --- rows --------------------------------------------------------------------------------


def test_out_of_scope_accounts_have_no_rows_and_rows_are_ordered_and_unique() -> None:
    accounts = (
        account("u3"),
        account("u1"),
        account("svc", kind=AccountKind.SERVICE),
        account("off", enabled=False),
        account("boss", principal="Boss@Example.org"),
    )
    access = (
        Access(AccountId("u3"), PortalId("b")),
        Access(AccountId("u3"), PortalId("a")),
        Access(AccountId("u1"), PortalId("b")),
        Access(AccountId("u1"), PortalId("b"), via_ref="g"),  # the same pair twice
        Access(AccountId("svc"), PortalId("a")),
        Access(AccountId("off"), PortalId("a")),
        Access(AccountId("boss"), PortalId("a")),
        Access(AccountId("u1"), PortalId("unlisted")),
    )
    snap = snapshot(source(accounts, portals=("a", "b"), access=access))
    result = run(snap, config(excluded_accounts=("boss@example.org",)))
    assert [(r.account_id, r.portal_id) for r in result.coverage] == [
        ("u1", "b"),
        ("u1", "unlisted"),
        ("u3", "a"),
        ("u3", "b"),
    ]
    assert result.metrics.accounts_in_scope == 2


def test_classification_first_match_glob_tag_and_default() -> None:
    portals = (
        Portal(SourceName("s"), PortalId("p1"), "Claims Processing"),
        Portal(SourceName("s"), PortalId("p2"), "Partner extranet", tags=("ou:/Finance",)),
        Portal(SourceName("s"), PortalId("p3"), "Intranet"),
    )
    accounts = (account(methods=()),)
    snap = snapshot(
        SourceSnapshot(
            SourceName("s"), "file", NOW, True, accounts, portals, tuple(Access(AccountId("u1"), p.id) for p in portals)
        )
    )
    cfg = EvaluationConfig(
        portals=(
            PortalClass(PortalMatch(name_pattern="claims *"), Sensitivity.HIGH),
            PortalClass(PortalMatch(name_pattern="*"), Sensitivity.SENSITIVE, sign_in_via="s"),
            PortalClass(PortalMatch(tag="OU:/finance"), Sensitivity.HIGH),
        ),
        policy=EvaluationPolicy(default_sensitivity=Sensitivity.NORMAL),
    )
    rows: dict[str, Coverage] = {r.portal_id: r for r in run(snap, cfg).coverage}
    assert rows["p1"].sensitivity is Sensitivity.HIGH
    assert rows["p2"].sensitivity is Sensitivity.SENSITIVE  # first match, not the tag rule
    assert rows["p2"].enforcement_source == "s"  # federation to its own source is ignored
    cfg2 = EvaluationConfig(portals=(PortalClass(PortalMatch(tag="OU:/finance"), Sensitivity.HIGH),))
    rows = {str(r.portal_id): r for r in run(snap, cfg2).coverage}
    assert rows["p2"].sensitivity is Sensitivity.HIGH
    assert rows["p3"].sensitivity is Sensitivity.NORMAL


# --- federation --------------------------------------------------------------------------

FEDERATED = PortalClass(PortalMatch(source="entra", id="billing"), Sensitivity.SENSITIVE, sign_in_via="okta")


def federation(
    upstream_accounts: tuple[Account, ...],
    upstream_policies: tuple[Policy, ...],
    *,
    upstream_portals: tuple[str, ...] = ("0oa-other",),
    upstream_complete: bool = True,
    links: tuple[IdentityLink, ...] = (),
) -> Coverage:
    downstream = source(
        (account("e1", methods=(), source="entra", principal="Ann@Example.org"),), name="entra", portals=("billing",)
    )
    upstream = source(
        upstream_accounts,
        upstream_policies,
        name="okta",
        portals=upstream_portals,
        complete=upstream_complete,
        access=(),
    )
    return only_row(run(snapshot(downstream, upstream), config(classes=(FEDERATED,), links=links)))


def okta_ann(methods: tuple[MethodKind, ...] = PUSH, principal: str = " ann@example.ORG") -> Account:
    return account("00u1", methods=methods, source="okta", principal=principal)


def test_mfa_done_upstream_counts() -> None:
    row = federation((okta_ann(),), (policy("okta-mfa", rule(Requirement.MFA)),))
    assert row.status is CoverageStatus.PROTECTED
    assert (row.enforcement_source, row.source, row.enrolled) == ("okta", "entra", Strength.STRONG)
    assert row.policies == ("okta-mfa",)
    assert row.reason.startswith("federated to okta: ")


def test_no_linked_account_upstream_is_not_enrolled() -> None:
    row = federation((okta_ann(principal="bob@example.org"),), (policy("okta-mfa", rule(Requirement.MFA)),))
    assert row.status is CoverageStatus.NOT_ENROLLED
    assert "federated to okta: no account of the same identity in okta" in row.reason


def test_identity_links_join_different_principals() -> None:
    link = IdentityLink("ann@example.org", "a.smith@partner.example")
    row = federation(
        (okta_ann(principal="A.Smith@partner.example"),), (policy("okta-mfa", rule(Requirement.MFA)),), links=(link,)
    )
    assert row.status is CoverageStatus.PROTECTED


def test_nothing_enforced_upstream_is_not_enforced() -> None:
    row = federation((okta_ann(),), (policy("gsp", rule(Requirement.NONE)),))
    assert row.status is CoverageStatus.NOT_ENFORCED
    assert row.reason == "federated to okta: nothing enforced upstream (rules covering every portal)"


def test_upstream_rules_for_other_apps_do_not_count_unless_the_app_matches() -> None:
    scoped = (policy("okta-app", rule(Requirement.MFA, portals=PortalScope(ids=(PortalId("billing"),)))),)
    assert federation((okta_ann(),), scoped).status is CoverageStatus.NOT_ENFORCED
    # An upstream app with the same id: its rules count.
    assert federation((okta_ann(),), scoped, upstream_portals=("billing",)).status is CoverageStatus.PROTECTED


def test_methods_are_the_upstream_accounts() -> None:
    row = federation((okta_ann(methods=()),), (policy("okta-mfa", rule(Requirement.MFA)),))
    assert row.status is CoverageStatus.NOT_ENROLLED
    assert row.enrolled is Strength.NONE


def test_an_incomplete_upstream_makes_the_federated_row_unknown() -> None:
    row = federation((okta_ann(),), (policy("okta-mfa", rule(Requirement.MFA)),), upstream_complete=False)
    assert row.status is CoverageStatus.UNKNOWN
    assert row.reason.startswith("federated to okta: source okta was not read in full")


def test_an_upstream_source_missing_from_the_snapshot_is_unknown() -> None:
    downstream = source((account("e1", source="entra"),), name="entra", portals=("billing",))
    row = only_row(run(snapshot(downstream), config(classes=(FEDERATED,))))
    assert row.status is CoverageStatus.UNKNOWN


# --- usable methods: accepted kinds, tenant allowances, profiles (issue #14) ---------------


EMAIL = (MethodKind.EMAIL_OTP,)


def _row(
    methods: tuple[MethodKind, ...],
    policies: tuple[Policy, ...],
    *,
    required: Strength = Strength.STRONG,
    allowances: tuple[MethodAllowance, ...] | None = None,
    groups: tuple[str, ...] = (),
    **policy_options: object,
) -> Coverage:
    snap_source = source((account(methods=methods, groups=groups),), policies)
    if allowances is not None:
        snap_source = _replace(snap_source, method_policy=allowances, facts=(FactRead(Fact.METHODS_POLICY, True),))
    return only_row(run(snapshot(snap_source), config(required=required, **policy_options)))


def test_a_method_the_requirement_does_not_accept_is_not_usable() -> None:
    push_only = policy("p1", _replace(rule(Requirement.MFA), accepted_methods=(MethodKind.AUTHENTICATOR_PUSH,)))
    row = _row(SMS + PUSH, (push_only,))
    assert (row.status, row.effective) == (CoverageStatus.PROTECTED, Strength.STRONG)
    # Only sms held: push must be registered first, past the sms second factor (the gate).
    gated = _row(SMS, (push_only,))
    assert (gated.status, gated.effective) == (CoverageStatus.WEAK, Strength.WEAK)
    assert "registration gate" in gated.reason


def test_every_enforced_policy_applies_so_only_kinds_all_accept_are_usable() -> None:
    everything = policy("p1", rule(Requirement.MFA))
    fido_only = policy("p2", _replace(rule(Requirement.MFA), accepted_methods=(MethodKind.FIDO2_SECURITY_KEY,)))
    row = _row(SMS + FIDO, (everything, fido_only))
    assert (row.status, row.effective) == (CoverageStatus.PROTECTED, Strength.PHISHING_RESISTANT)


def test_a_method_disabled_tenant_wide_is_not_usable_even_if_registered() -> None:
    push_allowed = (MethodAllowance(MethodKind.AUTHENTICATOR_PUSH, True, ALL),)
    sms_off = (*push_allowed, MethodAllowance(MethodKind.SMS, False, ALL))
    both = _row(SMS + PUSH, (policy("p1", rule(Requirement.MFA)),), allowances=sms_off)
    assert (both.status, both.effective) == (CoverageStatus.PROTECTED, Strength.STRONG)
    only_sms = _row(SMS, (policy("p1", rule(Requirement.MFA)),), allowances=sms_off)
    assert only_sms.status is CoverageStatus.NOT_ENROLLED
    assert "registered methods (sms) are not allowed by the tenant's methods policy" in only_sms.reason
    # The same account where the methods policy was not read: sms is assumed allowed.
    unread = _row(SMS, (policy("p1", rule(Requirement.MFA)),))
    assert (unread.status, unread.effective) == (CoverageStatus.WEAK, Strength.WEAK)


def test_an_allowance_targets_accounts_by_its_scope() -> None:
    sms_but_not_g = (
        MethodAllowance(MethodKind.SMS, True, Scope(include_all=True, exclude_groups=(G,))),
        MethodAllowance(MethodKind.AUTHENTICATOR_PUSH, True, ALL),
    )
    mfa = (policy("p1", rule(Requirement.MFA)),)
    assert _row(SMS + PUSH, mfa, allowances=sms_but_not_g).status is CoverageStatus.WEAK
    assert _row(SMS + PUSH, mfa, allowances=sms_but_not_g, groups=("g",)).status is CoverageStatus.PROTECTED


def test_profiles_decide_what_counts_as_a_second_factor() -> None:
    mfa = (policy("p1", rule(Requirement.MFA)),)
    assert _row(EMAIL, mfa, required=Strength.WEAK).status is CoverageStatus.PROTECTED
    for profile in (MethodProfile.CNIL, MethodProfile.NIST_800_63B_4):
        row = _row(EMAIL, mfa, required=Strength.WEAK, profile=profile)
        assert row.status is CoverageStatus.NOT_ENROLLED, profile  # e-mailed code: two-step verification, not MFA
    overridden = _row(SMS, mfa, required=Strength.WEAK, method_strengths={MethodKind.SMS: Strength.NONE})
    assert overridden.status is CoverageStatus.NOT_ENROLLED


def test_the_profile_in_force_is_stored_with_the_run() -> None:
    result = run(snapshot(source((account(),))), config(profile=MethodProfile.CNIL))
    assert result.profile == "cnil"


# --- property: the order of a source's policies never changes a verdict ---------------------

_REQUIREMENTS = st.sampled_from(list(Requirement))
_KINDS = st.sampled_from(
    [MethodKind.SMS, MethodKind.AUTHENTICATOR_PUSH, MethodKind.FIDO2_SECURITY_KEY, MethodKind.EMAIL_OTP]
)


@st.composite
def _policy_sets(draw: st.DrawFn) -> tuple[Policy, ...]:
    out = []
    for n in range(draw(st.integers(1, 5))):
        rules = []
        for k in range(draw(st.integers(1, 3))):
            scope = draw(
                st.sampled_from(
                    [
                        ALL,
                        Scope(include_groups=(G,)),
                        Scope(include_all=True, exclude_groups=(G,)),
                        Scope(include_guests=True),
                    ]
                )
            )
            conditions = OFFICE if draw(st.booleans()) else ()
            accepted = tuple(draw(st.lists(_KINDS, max_size=2, unique=True)))
            rules.append(PolicyRule(f"r{k}", f"r{k}", scope, EVERY_PORTAL, draw(_REQUIREMENTS), conditions, accepted))
        state = draw(st.sampled_from(list(PolicyState)))
        out.append(Policy(PolicyId(f"p{n}"), f"Policy {n}", state, tuple(rules)))
    return tuple(out)


@settings(max_examples=150, deadline=None)
@given(
    policies=_policy_sets(),
    order=st.randoms(use_true_random=False),
    methods=st.lists(_KINDS, max_size=3, unique=True),
    in_group=st.booleans(),
    required=st.sampled_from([Strength.WEAK, Strength.STRONG, Strength.PHISHING_RESISTANT]),
)
def test_permuting_the_policies_never_changes_a_verdict(
    policies: tuple[Policy, ...], order: object, methods: list[MethodKind], in_group: bool, required: Strength
) -> None:
    shuffled = list(policies)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    acct = account(methods=tuple(methods), groups=("g",) if in_group else ())
    rows = [
        only_row(run(snapshot(source((acct,), ps)), config(required=required))) for ps in (policies, tuple(shuffled))
    ]
    assert rows[0] == rows[1]


@settings(max_examples=150, deadline=None)
@given(
    policies=_policy_sets(),
    methods=st.lists(_KINDS, min_size=1, max_size=3, unique=True),
    in_group=st.booleans(),
    required=st.sampled_from([Strength.STRONG, Strength.PHISHING_RESISTANT]),
)
def test_registering_a_weak_method_never_makes_an_access_protected(
    policies: tuple[Policy, ...], methods: list[MethodKind], in_group: bool, required: Strength
) -> None:
    """An SMS more can only give an attacker one more way in: effective strength is the
    weakest usable method, so a row that was not protected never becomes protected."""
    groups = ("g",) if in_group else ()
    before, after = (
        only_row(
            run(snapshot(source((account(methods=tuple(kinds), groups=groups),), policies)), config(required=required))
        )
        for kinds in (methods, [*methods, MethodKind.SMS] if MethodKind.SMS not in methods else methods)
    )
    if before.status is not CoverageStatus.PROTECTED:
        assert after.status is not CoverageStatus.PROTECTED, (before.reason, after.reason)
