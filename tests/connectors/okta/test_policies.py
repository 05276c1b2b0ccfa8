"""Policy and rule shapes, served by the sandbox in Okta's JSON, collected through the
SDK, and judged by the coverage engine down to the status of each (account, portal)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch
from auditor.engine.evaluate import evaluate
from auditor.model import (
    Access,
    AccessVia,
    Account,
    AccountId,
    AccountKind,
    Condition,
    ConditionKind,
    CoverageStatus,
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
    Scope,
    Sensitivity,
    Snapshot,
    SourceName,
    SourceSnapshot,
)
from connectors.sandbox.okta import OktaSandbox, RawPolicy
from connectors.sandbox.sample_org import SampleOrg

SRC = SourceName("okta")
HIGH, EXT = PortalId("0oa-high"), PortalId("0oa-ext")  # required: strong / weak
OPS, CONTRACTORS = GroupId("00g-ops"), GroupId("00g-contractors")
ALL = Scope(include_all=True)
P = CoverageStatus
NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)


def _account(uid: str, kinds: tuple[MethodKind, ...], groups: tuple[GroupId, ...] = (OPS,)) -> Account:
    labels = {MethodKind.FIDO2_SECURITY_KEY: "webauthn", MethodKind.AUTHENTICATOR_PUSH: "push", MethodKind.SMS: "sms"}
    return Account(
        SRC,
        AccountId(uid),
        f"{uid}@example.org",
        uid.title(),
        AccountKind.HUMAN,
        True,
        groups=groups,
        methods=tuple(Method(k, labels[k]) for k in kinds),
        attributes={"okta_status": "ACTIVE"},
    )


ACCOUNTS = (
    _account("fido", (MethodKind.FIDO2_SECURITY_KEY,)),
    _account("push", (MethodKind.AUTHENTICATOR_PUSH,)),
    _account("sms", (MethodKind.SMS,)),
    _account("contractor", (MethodKind.AUTHENTICATOR_PUSH,), (CONTRACTORS, OPS)),
    _account("none", ()),
)
PORTALS = (Portal(SRC, HIGH, "High app"), Portal(SRC, EXT, "Extranet"))
CONFIG = EvaluationConfig(
    portals=(
        PortalClass(PortalMatch(source="okta", id=HIGH), Sensitivity.HIGH),
        PortalClass(PortalMatch(source="okta", id=EXT), Sensitivity.SENSITIVE),
    )
)


def access_policy(pid: str, *rules: PolicyRule, state: PolicyState = PolicyState.ENFORCED) -> Policy:
    return Policy(PolicyId(pid), pid, state, rules, "okta_access_policy")


def rule(
    rid: str,
    req: Requirement,
    scope: Scope = ALL,
    portals: tuple[PortalId, ...] = (EXT,),
    conds: tuple[Condition, ...] = (),
) -> PolicyRule:
    return PolicyRule(rid, rid, scope, PortalScope(ids=portals), req, conds)


def gsp(req: Requirement) -> Policy:
    return Policy(
        PolicyId("gsp"),
        "Global session policy",
        PolicyState.ENFORCED,
        (PolicyRule("gsp-1", "default", ALL, PortalScope(all=True), req),),
        "okta_global_session",
    )


def org_with(base: SampleOrg, policies: tuple[Policy, ...]) -> SampleOrg:
    access = tuple(Access(a.id, p.id, AccessVia.GROUP, OPS) for a in ACCOUNTS for p in PORTALS)
    truth = SourceSnapshot(SRC, "okta", NOW, True, ACCOUNTS, PORTALS, access, policies)
    return replace(
        base,
        sources={**base.sources, "okta": truth},
        group_names={**base.group_names, "okta": {OPS: "Operators", CONTRACTORS: "Contractors"}},
    )


def statuses(snap: SourceSnapshot, org: SampleOrg, portal: PortalId) -> dict[str, CoverageStatus]:
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "d", (snap,))
    result = evaluate(snapshot, CONFIG, now=NOW, run_id="t")
    return {r.account_id: r.status for r in result.coverage if r.portal_id == portal}


ZONE = Condition(ConditionKind.NETWORK, "zone 'Office network'")
# (name, policies, raw policies, portal, expected statuses by account)
SHAPES: list[tuple[str, tuple[Policy, ...], tuple[RawPolicy, ...], PortalId, dict[str, CoverageStatus]]] = [
    (
        "2FA catch-all",
        (access_policy("p", rule("r1", Requirement.MFA)),),
        (),
        EXT,
        {"push": P.PROTECTED, "sms": P.PROTECTED, "none": P.NOT_ENROLLED},
    ),
    (
        "1FA only",
        (access_policy("p", rule("r1", Requirement.NONE)),),
        (),
        EXT,
        {"push": P.NOT_ENFORCED, "none": P.NOT_ENROLLED},
    ),
    (
        "first match: contractors 1FA before 2FA",
        (
            access_policy(
                "p", rule("r1", Requirement.NONE, Scope(include_groups=(CONTRACTORS,))), rule("r2", Requirement.MFA)
            ),
        ),
        (),
        EXT,
        {"contractor": P.NOT_ENFORCED, "push": P.PROTECTED},
    ),
    (
        "group exclusion",
        (access_policy("p", rule("r1", Requirement.MFA, Scope(include_all=True, exclude_groups=(CONTRACTORS,)))),),
        (),
        EXT,
        {"contractor": P.NOT_ENFORCED, "push": P.PROTECTED},
    ),
    (
        "zone-conditioned 1FA before catch-all 2FA",
        (
            access_policy(
                "p",
                rule("r1", Requirement.NONE, Scope(include_groups=(CONTRACTORS,)), conds=(ZONE,)),
                rule("r2", Requirement.MFA),
            ),
        ),
        (),
        EXT,
        {"contractor": P.CONDITIONAL, "push": P.PROTECTED},
    ),
    (
        "2FA only inside a zone",
        (access_policy("p", rule("r1", Requirement.MFA, conds=(ZONE,))),),
        (),
        EXT,
        {"push": P.CONDITIONAL},
    ),
    ("deny", (access_policy("p", rule("r1", Requirement.BLOCK)),), (), EXT, {"push": P.BLOCKED, "none": P.BLOCKED}),
    (
        "phishing-resistant constraint",
        (access_policy("p", rule("r1", Requirement.PHISHING_RESISTANT, portals=(HIGH,))),),
        (),
        HIGH,
        # Changed (#14): push must be replaced by an accepted key past push itself (registration gate): strong.
        {"fido": P.PROTECTED, "push": P.PROTECTED, "none": P.NOT_ENROLLED},
    ),
    (
        "hardware-protection constraint",
        (access_policy("p", rule("r1", Requirement.STRONG, portals=(HIGH,))),),
        (),
        HIGH,
        {"push": P.PROTECTED, "fido": P.PROTECTED, "sms": P.WEAK},
    ),
    (
        "plain 2FA below a high portal's demand",
        (access_policy("p", rule("r1", Requirement.MFA, portals=(HIGH,))),),
        (),
        HIGH,
        # Changed (#14): plain 2FA accepts sms, but these accounts hold none: effective strength decides.
        {"push": P.PROTECTED, "fido": P.PROTECTED, "sms": P.WEAK},
    ),
    (
        "global session policy on top of 1FA",
        (access_policy("p", rule("r1", Requirement.NONE)), gsp(Requirement.MFA)),
        (),
        EXT,
        {"push": P.PROTECTED, "sms": P.PROTECTED},
    ),
    (
        "1FA global session policy does not weaken 2FA",
        (access_policy("p", rule("r1", Requirement.MFA)), gsp(Requirement.NONE)),
        (),
        EXT,
        {"push": P.PROTECTED},
    ),
    (
        "inactive policy",
        (access_policy("p", rule("r1", Requirement.MFA), state=PolicyState.DISABLED),),
        (),
        EXT,
        {"push": P.REPORT_ONLY},
    ),
    (
        "risk condition",
        (access_policy("p", rule("r1", Requirement.MFA, conds=(Condition(ConditionKind.RISK, "risk level LOW"),))),),
        (),
        EXT,
        {"push": P.CONDITIONAL},
    ),
    (
        "device condition",
        (
            access_policy(
                "p", rule("r1", Requirement.MFA, conds=(Condition(ConditionKind.DEVICE, "device registered, managed"),))
            ),
        ),
        (),
        EXT,
        {"push": P.CONDITIONAL},
    ),
    (
        "policy linked to another app only",
        (access_policy("p", rule("r1", Requirement.MFA, portals=(HIGH,))),),
        (),
        EXT,
        {"push": P.NOT_ENFORCED},
    ),
    (
        "2FA with OR'd constraints: the weakest branch counts",
        (),
        (
            RawPolicy(
                "ACCESS_POLICY",
                {
                    "id": "raw1",
                    "type": "ACCESS_POLICY",
                    "name": "raw",
                    "status": "ACTIVE",
                    "priority": 1,
                    "system": False,
                },
                (
                    {
                        "id": "rr1",
                        "type": "ACCESS_POLICY",
                        "name": "or",
                        "status": "ACTIVE",
                        "priority": 1,
                        "system": False,
                        "conditions": {
                            "people": {
                                "users": {"include": [], "exclude": []},
                                "groups": {"include": [], "exclude": []},
                            },
                            "network": {"connection": "ANYWHERE"},
                        },
                        "actions": {
                            "appSignOn": {
                                "access": "ALLOW",
                                "verificationMethod": {
                                    "type": "ASSURANCE",
                                    "factorMode": "2FA",
                                    "constraints": [
                                        {"possession": {"required": True, "phishingResistant": "REQUIRED"}},
                                        {"possession": {"required": True}},
                                    ],
                                },
                            }
                        },
                    },
                ),
                (HIGH,),
            ),
        ),
        HIGH,
        # Changed (#14): the weakest branch accepts any possession factor; a key-only account passes with its key.
        {"fido": P.PROTECTED, "sms": P.WEAK},
    ),
    (
        "rule for listed users",
        (),
        (
            RawPolicy(
                "ACCESS_POLICY",
                {
                    "id": "raw2",
                    "type": "ACCESS_POLICY",
                    "name": "raw",
                    "status": "ACTIVE",
                    "priority": 1,
                    "system": False,
                },
                (
                    {
                        "id": "rr2",
                        "type": "ACCESS_POLICY",
                        "name": "users",
                        "status": "ACTIVE",
                        "priority": 1,
                        "system": False,
                        "conditions": {
                            "people": {
                                "users": {"include": ["push"], "exclude": []},
                                "groups": {"include": [], "exclude": []},
                            }
                        },
                        "actions": {
                            "appSignOn": {
                                "access": "ALLOW",
                                "verificationMethod": {"type": "ASSURANCE", "factorMode": "2FA"},
                            }
                        },
                    },
                ),
                (EXT,),
            ),
        ),
        EXT,
        {"push": P.PROTECTED, "sms": P.NOT_ENFORCED},
    ),
]


@pytest.mark.parametrize(("name", "policies", "raw", "portal", "expected"), SHAPES, ids=[s[0] for s in SHAPES])
def test_policy_shape(
    name: str,
    policies: tuple[Policy, ...],
    raw: tuple[RawPolicy, ...],
    portal: PortalId,
    expected: dict[str, CoverageStatus],
    small_org: SampleOrg,
    sandbox_factory: Callable[..., OktaSandbox],
    collect: Callable[..., SourceSnapshot],
) -> None:
    org = org_with(small_org, policies)
    sandbox = sandbox_factory(org, raw_policies=raw)
    snap = collect(sandbox, org)
    assert snap.complete
    # The model policies round-trip (condition details may be reworded, kinds may not).
    for got, want in zip(snap.policies, policies, strict=False):
        assert [(r.id, r.scope, r.portals, r.requirement, [c.kind for c in r.conditions]) for r in got.rules] == [
            (r.id, r.scope, r.portals, r.requirement, [c.kind for c in r.conditions]) for r in want.rules
        ]
        assert got.state is want.state
    got_statuses = statuses(snap, org, portal)
    assert {k: got_statuses[AccountId(k)] for k in expected} == expected


def test_classic_engine(
    small_org: SampleOrg, sandbox_factory: Callable[..., OktaSandbox], collect: Callable[..., SourceSnapshot]
) -> None:
    sign_on = Policy(
        PolicyId("00p-signon"),
        "Okta sign-on policy",
        PolicyState.ENFORCED,
        (
            PolicyRule(
                "r-contractors",
                "Contractors: password only",
                Scope(include_groups=(CONTRACTORS,)),
                PortalScope(all=True),
                Requirement.NONE,
            ),
            PolicyRule("r-all", "Everyone: MFA", ALL, PortalScope(all=True), Requirement.MFA),
        ),
        "okta_sign_on",
    )
    enroll = Policy(
        PolicyId("00p-enroll"),
        "MFA enrolment",
        PolicyState.ENFORCED,
        (PolicyRule("r-enroll", "Enrol on first sign-in", ALL, PortalScope(all=True), Requirement.NONE),),
        "okta_mfa_enroll",
    )
    org = org_with(small_org, (sign_on, enroll))
    sandbox = sandbox_factory(org, engine="classic")
    snap = collect(sandbox, org)
    assert snap.complete
    engine = next(i for i in snap.issues if i.code == "okta.engine")
    assert "Classic Engine" in engine.message
    assert snap.policies == (sign_on, enroll)
    got = statuses(snap, org, EXT)
    assert got[AccountId("push")] is P.PROTECTED
    assert got[AccountId("contractor")] is P.NOT_ENFORCED
    assert got[AccountId("none")] is P.NOT_ENROLLED


def test_sample_org_statuses_end_to_end(
    small_org: SampleOrg, sandbox_factory: Callable[..., OktaSandbox], collect: Callable[..., SourceSnapshot]
) -> None:
    """The generator's own policies, collected: the same verdicts as on its truth."""
    sandbox = sandbox_factory(small_org)
    snap = collect(sandbox, small_org)
    config = EvaluationConfig(
        portals=(
            PortalClass(PortalMatch(source="okta", id="0oa-patient-portal"), Sensitivity.HIGH),
            PortalClass(PortalMatch(source="okta", name_pattern="Partner*"), Sensitivity.SENSITIVE),
        )
    )

    def rows(s: SourceSnapshot) -> list[Any]:
        snapshot = Snapshot(small_org.period, small_org.period_start, small_org.period_end, "d", (s,))
        return sorted(
            (r.account_id, r.portal_id, r.status) for r in evaluate(snapshot, config, now=NOW, run_id="t").coverage
        )

    assert rows(snap) == rows(small_org.truth("okta"))
