"""Conditional Access shapes, table-driven: the connector maps each raw Graph policy to
the model, and the coverage engine (``auditor.engine.evaluate``) judges one account on one
portal with it. Each row states the status that must result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch
from auditor.engine.evaluate import evaluate
from auditor.model import (
    Access,
    Account,
    AccountId,
    AccountKind,
    ConditionKind,
    CoverageStatus,
    GroupId,
    Method,
    MethodKind,
    Portal,
    PortalId,
    Requirement,
    RoleId,
    Sensitivity,
    Snapshot,
    SourceName,
    SourceSnapshot,
)
from connectors.entra.policies import (
    MappingContext,
    blocks_legacy_auth,
    combination_strength,
    map_ca_policy,
    strength_demand,
)

SRC = SourceName("entra")
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
CLAIMS_APP = "6f1c0b1e-0000-4000-8000-00000000c1a1"
M365_APP = "00000006-0000-0ff1-ce00-000000000000"  # Microsoft Office 365 Portal: part of "Office365"
TRUSTED = "loc-head-office"
CTX = MappingContext(
    portal_by_app={CLAIMS_APP: PortalId("app-claims"), M365_APP: PortalId("app-m365")},
    location_names={TRUSTED: "Head office"},
    strengths={
        "strength-mfa": ("password,sms", "password,microsoftAuthenticatorPush", "fido2"),
        "strength-passwordless": ("windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"),
    },
)
PHISHING_RESISTANT = {
    "id": "00000000-0000-0000-0000-000000000004",
    "displayName": "Phishing-resistant MFA",
    "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
}


def _account(aid: str, kind: AccountKind, methods: tuple[MethodKind, ...], **kw: Any) -> Account:
    return Account(
        SRC, AccountId(aid), f"{aid}@example.fr", aid, kind, True,
        methods=tuple(Method(k, k.value) for k in methods), **kw,
    )  # fmt: skip


ACCOUNTS = {
    "alice": _account("alice", AccountKind.HUMAN, (MethodKind.AUTHENTICATOR_PUSH,), groups=(GroupId("g-staff"),)),
    "bob": _account("bob", AccountKind.HUMAN, (MethodKind.SMS,), groups=(GroupId("g-staff"),)),
    "carol": _account("carol", AccountKind.HUMAN, (), groups=(GroupId("g-staff"),)),
    "exempt": _account("exempt", AccountKind.HUMAN, (MethodKind.AUTHENTICATOR_PUSH,), groups=(GroupId("g-exempt"),)),
    "guest": _account("guest", AccountKind.GUEST, (MethodKind.SMS,)),
    "admin": _account(
        "admin", AccountKind.HUMAN, (MethodKind.FIDO2_SECURITY_KEY,), privileged=True, roles=(RoleId(GLOBAL_ADMIN),)
    ),
}
PORTALS = (
    Portal(SRC, PortalId("app-claims"), "Claims", True),  # high: strong required
    Portal(SRC, PortalId("app-m365"), "Office 365", False),  # sensitive: any second factor
)
CONFIG = EvaluationConfig(
    portals=(
        PortalClass(PortalMatch(source="entra", id="app-claims"), Sensitivity.HIGH),
        PortalClass(PortalMatch(source="entra", id="app-m365"), Sensitivity.SENSITIVE),
    )
)


def ca(
    *,
    users: dict[str, Any] | None = None,
    apps: dict[str, Any] | None = None,
    grant: dict[str, Any] | None = None,
    state: str = "enabled",
    **conditions: Any,
) -> dict[str, Any]:
    """A raw ``conditionalAccessPolicy`` as Graph returns it; defaults: all users, all
    apps, grant mfa, every client, no location."""
    return {
        "id": "ca-test",
        "displayName": "CA test",
        "state": state,
        "conditions": {
            "users": {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": [], "excludeGroups": [],
                      "includeRoles": [], "excludeRoles": [], **(users or {})},
            "applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [],
                             **(apps or {})},
            "clientAppTypes": ["all"],
            "locations": None,
            "platforms": None,
            "signInRiskLevels": [],
            "userRiskLevels": [],
            **conditions,
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [],
                          "termsOfUse": [], "authenticationStrength": None, **(grant or {})},
        "sessionControls": None,
    }  # fmt: skip


@dataclass(frozen=True)
class Case:
    name: str
    policy: dict[str, Any]
    account: str
    portal: str
    status: CoverageStatus
    conditions: tuple[ConditionKind, ...] = ()
    requirement: Requirement | None = None
    also: dict[str, CoverageStatus] = field(default_factory=dict)  # "account/portal" → status


def strength(combos_or_ref: dict[str, Any]) -> dict[str, Any]:
    return {"builtInControls": [], "authenticationStrength": combos_or_ref}


CASES = (
    Case("mfa for everyone", ca(), "alice", "app-m365", CoverageStatus.PROTECTED, requirement=Requirement.MFA),
    Case(
        "locations All with nothing excluded is no condition",
        ca(locations={"includeLocations": ["All"], "excludeLocations": []}),
        "alice", "app-m365", CoverageStatus.PROTECTED,
    ),
    Case(
        "trusted location excluded: conditional",
        ca(locations={"includeLocations": ["All"], "excludeLocations": [TRUSTED]}),
        "alice", "app-m365", CoverageStatus.CONDITIONAL, (ConditionKind.NETWORK,),
    ),
    # Changed (#14): the strength demands only mfa, but push-only alice can pass it only with push (effective strong).
    Case(
        "a strength that accepts SMS demands only mfa: protected on a high portal by alice's push alone",
        ca(grant=strength({"id": "strength-mfa", "displayName": "Multifactor authentication"})),
        "alice", "app-claims", CoverageStatus.PROTECTED, requirement=Requirement.MFA,
    ),
    Case(
        "report-only phishing-resistant",
        ca(state="enabledForReportingButNotEnforced", grant=strength(PHISHING_RESISTANT)),
        "alice", "app-claims", CoverageStatus.REPORT_ONLY, requirement=Requirement.PHISHING_RESISTANT,
    ),
    Case(
        "user-action-only policy protects no portal",
        ca(apps={"includeApplications": [], "includeUserActions": ["urn:user:registersecurityinfo"]}),
        "alice", "app-m365", CoverageStatus.NOT_ENFORCED,
    ),
    Case("includeUsers None", ca(users={"includeUsers": ["None"]}), "alice", "app-m365", CoverageStatus.NOT_ENFORCED),
    Case(
        "mfa OR compliant device: conditional",
        ca(grant={"builtInControls": ["mfa", "compliantDevice"]}),
        "alice", "app-m365", CoverageStatus.CONDITIONAL, (ConditionKind.ALTERNATIVE_CONTROL,),
    ),
    Case(
        "mfa AND compliant device: unconditional",
        ca(grant={"operator": "AND", "builtInControls": ["mfa", "compliantDevice"]}),
        "alice", "app-m365", CoverageStatus.PROTECTED,
    ),
    Case(
        "block legacy authentication leaves modern sign-ins alone",
        ca(clientAppTypes=["exchangeActiveSync", "other"], grant={"builtInControls": ["block"]}),
        "alice", "app-m365", CoverageStatus.NOT_ENFORCED, (ConditionKind.CLIENT_APP,), Requirement.NONE,
    ),
    Case(
        "guests included",
        ca(users={"includeUsers": ["GuestsOrExternalUsers"]}),
        "guest", "app-m365", CoverageStatus.PROTECTED,
        also={"alice/app-m365": CoverageStatus.NOT_ENFORCED},
    ),
    Case(
        "guests through includeGuestsOrExternalUsers",
        ca(users={"includeUsers": [], "includeGuestsOrExternalUsers": {
            "guestOrExternalUserTypes": "b2bCollaborationGuest,internalGuest",
            "externalTenants": {"membershipKind": "all"}}}),
        "guest", "app-m365", CoverageStatus.PROTECTED,
    ),
    Case(
        "role included, phishing-resistant",
        ca(users={"includeUsers": [], "includeRoles": [GLOBAL_ADMIN]}, grant=strength(PHISHING_RESISTANT)),
        "admin", "app-claims", CoverageStatus.PROTECTED,
        also={"alice/app-claims": CoverageStatus.NOT_ENFORCED},
    ),
    Case(
        "app excluded",
        ca(apps={"excludeApplications": [CLAIMS_APP]}),
        "alice", "app-claims", CoverageStatus.NOT_ENFORCED,
        also={"alice/app-m365": CoverageStatus.PROTECTED},
    ),
    Case(
        "Office365 keyword",
        ca(apps={"includeApplications": ["Office365"]}),
        "alice", "app-m365", CoverageStatus.PROTECTED,
        also={"alice/app-claims": CoverageStatus.NOT_ENFORCED},
    ),
    Case(
        "specific app by appId",
        ca(apps={"includeApplications": [CLAIMS_APP]}, grant=strength({"id": "strength-passwordless"})),
        "alice", "app-claims", CoverageStatus.PROTECTED, requirement=Requirement.STRONG,
        also={"bob/app-claims": CoverageStatus.WEAK},
    ),
    Case(
        "group excluded",
        ca(users={"excludeGroups": ["g-exempt"]}),
        "exempt", "app-m365", CoverageStatus.NOT_ENFORCED,
        also={"alice/app-m365": CoverageStatus.PROTECTED},
    ),
    Case(
        "block guests",
        ca(users={"includeUsers": ["GuestsOrExternalUsers"]}, grant={"builtInControls": ["block"]}),
        "guest", "app-claims", CoverageStatus.BLOCKED,
    ),
    Case(
        "high sign-in risk only",
        ca(signInRiskLevels=["high"]),
        "alice", "app-m365", CoverageStatus.CONDITIONAL, (ConditionKind.RISK,),
    ),
    Case(
        "mobile platforms only",
        ca(platforms={"includePlatforms": ["android", "iOS"], "excludePlatforms": []}),
        "alice", "app-m365", CoverageStatus.CONDITIONAL, (ConditionKind.PLATFORM,),
    ),
    Case(
        "all platforms is no condition",
        ca(platforms={"includePlatforms": ["all"], "excludePlatforms": []}),
        "alice", "app-m365", CoverageStatus.PROTECTED,
    ),
    Case(
        "browser only",
        ca(clientAppTypes=["browser"]),
        "alice", "app-m365", CoverageStatus.CONDITIONAL, (ConditionKind.CLIENT_APP,),
    ),
    Case(
        "both modern client kinds is no condition",
        ca(clientAppTypes=["browser", "mobileAppsAndDesktopClients"]),
        "alice", "app-m365", CoverageStatus.PROTECTED,
    ),
    Case("disabled policy", ca(state="disabled"), "alice", "app-m365", CoverageStatus.REPORT_ONLY),
    Case("enforced, nothing enrolled", ca(), "carol", "app-m365", CoverageStatus.NOT_ENROLLED),
    Case(
        "unknown combination counts as no second factor",
        ca(grant=strength({"id": "x", "allowedCombinations": ["password,telepathy"]})),
        "alice", "app-m365", CoverageStatus.NOT_ENFORCED, requirement=Requirement.NONE,
    ),
)  # fmt: skip


def _status(policy: dict[str, Any], account: str, portal: str) -> tuple[CoverageStatus, Any]:
    mapped = map_ca_policy(policy, CTX)
    snap = SourceSnapshot(
        source=SRC,
        connector="entra",
        collected_at=datetime(2026, 11, 15, tzinfo=UTC),
        complete=True,
        accounts=tuple(ACCOUNTS.values()),
        portals=PORTALS,
        access=tuple(Access(AccountId(a), p.id) for a in ACCOUNTS for p in PORTALS),
        policies=(mapped.policy,),
    )
    snapshot = Snapshot("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "test", (snap,))
    result = evaluate(snapshot, CONFIG, now=datetime(2026, 11, 15, tzinfo=UTC), run_id="t")
    row = next(c for c in result.coverage if c.account_id == account and c.portal_id == portal)
    return row.status, mapped


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_conditional_access_shape(case: Case) -> None:
    status, mapped = _status(case.policy, case.account, case.portal)
    assert status is case.status
    rule = mapped.policy.rules[0]
    assert tuple(c.kind for c in rule.conditions) == case.conditions
    if case.requirement is not None:
        assert rule.requirement is case.requirement
    for pair, expected in case.also.items():
        account, portal = pair.split("/")
        assert _status(case.policy, account, portal)[0] is expected, pair


def test_enough_shapes() -> None:
    assert len(CASES) >= 15


def test_legacy_block_is_recognised_only_when_it_covers_everyone() -> None:
    legacy = ca(clientAppTypes=["exchangeActiveSync", "other"], grant={"builtInControls": ["block"]})
    assert blocks_legacy_auth(legacy)
    assert not blocks_legacy_auth({**legacy, "state": "enabledForReportingButNotEnforced"})
    assert not blocks_legacy_auth(ca(clientAppTypes=["exchangeActiveSync", "other"]))  # mfa, not block
    partial = ca(
        users={"includeUsers": [], "includeGroups": ["g-staff"]},
        clientAppTypes=["other", "exchangeActiveSync"],
        grant={"builtInControls": ["block"]},
    )
    assert not blocks_legacy_auth(partial)


def test_unknown_strength_reference_is_an_issue() -> None:
    mapped = map_ca_policy(ca(grant=strength({"id": "not-listed"})), CTX)
    assert mapped.policy.rules[0].requirement is Requirement.NONE
    assert [i.code for i in mapped.issues] == ["entra.ca_strength_unknown"]


def test_guests_of_enumerated_tenants_are_not_claimed() -> None:
    policy = ca(users={"includeUsers": [], "includeGuestsOrExternalUsers": {
        "guestOrExternalUserTypes": "b2bCollaborationGuest",
        "externalTenants": {"membershipKind": "enumerated", "members": ["t1"]}}})  # fmt: skip
    mapped = map_ca_policy(policy, CTX)
    assert not mapped.policy.rules[0].scope.include_guests
    assert [i.code for i in mapped.issues] == ["entra.ca_guest_tenants"]


@pytest.mark.parametrize(
    ("combos", "demand"),
    [
        (["fido2", "windowsHelloForBusiness", "x509CertificateMultiFactor"], Requirement.PHISHING_RESISTANT),
        (["fido2", "password,softwareOath"], Requirement.STRONG),
        (["fido2", "password,sms"], Requirement.MFA),
        (["password,voice"], Requirement.MFA),
        (["federatedMultiFactor"], Requirement.MFA),
        (["deviceBasedPush", "password,hardwareOath"], Requirement.STRONG),
        ([], Requirement.NONE),
    ],
)
def test_strength_demand_is_the_weakest_combination(combos: list[str], demand: Requirement) -> None:
    assert strength_demand(combos)[0] is demand


def test_unknown_factor_makes_a_combination_unknown() -> None:
    assert combination_strength("password,telepathy") is None
    assert strength_demand(["fido2", "password,telepathy"]) == (Requirement.NONE, ("password,telepathy",))
