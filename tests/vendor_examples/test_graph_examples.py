"""Microsoft Graph / Entra: the vendor's documented example payloads, through the
connector's parsers, asserted field by field against the normalised result.

Each payload is written here in our own file, after the response example of the page
named in its ``SOURCE`` line (the values are Microsoft's, the layout ours). Where a
test fixes a defect of issue #15 its docstring names the item.
"""

from __future__ import annotations

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
    Strength,
)
from connectors.entra import methods_policy, parse
from connectors.entra.policies import (
    SECURITY_DEFAULTS_ROLES,
    MappingContext,
    accepted_kinds,
    blocks_legacy_auth,
    combination_strength,
    map_ca_policy,
    security_defaults_policy,
    strength_demand,
)

SRC = SourceName("entra")

# --- authentication strengths -------------------------------------------------------------

# SOURCE: https://learn.microsoft.com/graph/api/authenticationstrengthroot-list-policies
# (v1.0, "Example 1: Get all authentication strength policies", response): the three
# built-in strengths with every allowed combination Microsoft lists.
BUILT_IN_MFA = {
    "id": "00000000-0000-0000-0000-000000000002",
    "displayName": "Multifactor authentication",
    "policyType": "builtIn",
    "requirementsSatisfied": "mfa",
    "allowedCombinations": [
        "windowsHelloForBusiness",
        "fido2",
        "x509CertificateMultiFactor",
        "deviceBasedPush",
        "temporaryAccessPassOneTime",
        "temporaryAccessPassMultiUse",
        "password,microsoftAuthenticatorPush",
        "password,softwareOath",
        "password,hardwareOath",
        "password,x509CertificateSingleFactor",
        "password,x509CertificateMultiFactor",
        "password,sms",
        "password,voice",
        "federatedMultiFactor",
        "microsoftAuthenticatorPush,federatedSingleFactor",
        "softwareOath,federatedSingleFactor",
        "hardwareOath,federatedSingleFactor",
        "sms,federatedSingleFactor",
        "voice,federatedSingleFactor",
    ],
}
BUILT_IN_PASSWORDLESS = {
    "id": "00000000-0000-0000-0000-000000000003",
    "displayName": "Passwordless MFA",
    "policyType": "builtIn",
    "requirementsSatisfied": "mfa",
    "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"],
}
BUILT_IN_PHISHING_RESISTANT = {
    "id": "00000000-0000-0000-0000-000000000004",
    "displayName": "Phishing resistant MFA",
    "policyType": "builtIn",
    "requirementsSatisfied": "mfa",
    "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
}


def test_certificate_plus_password_is_two_factors() -> None:
    """#15 item 1: ``password,x509CertificateSingleFactor`` was rated no factor."""
    assert combination_strength("password,x509CertificateSingleFactor") is Strength.STRONG
    assert combination_strength("password,x509CertificateMultiFactor") is Strength.PHISHING_RESISTANT
    # A single-factor certificate alone is one factor.
    assert combination_strength("x509CertificateSingleFactor") is Strength.NONE


@pytest.mark.parametrize(
    ("strength", "requirement"),
    [
        (BUILT_IN_MFA, Requirement.MFA),
        (BUILT_IN_PASSWORDLESS, Requirement.STRONG),
        (BUILT_IN_PHISHING_RESISTANT, Requirement.PHISHING_RESISTANT),
    ],
    ids=["mfa", "passwordless", "phishing-resistant"],
)
def test_built_in_strengths_demand(strength: dict[str, Any], requirement: Requirement) -> None:
    """#15 item 1: the complete built-in strengths, each rated by its weakest combination."""
    demand, unknown = strength_demand(strength["allowedCombinations"], strength["requirementsSatisfied"])
    assert (demand, unknown) == (requirement, ())


def test_built_in_mfa_accepts_exactly_its_methods() -> None:
    """The kinds a rule using the built-in MFA strength accepts at the second step."""
    assert set(accepted_kinds(BUILT_IN_MFA["allowedCombinations"])) == {
        MethodKind.WINDOWS_HELLO,
        MethodKind.FIDO2_SECURITY_KEY,
        MethodKind.PASSKEY,
        MethodKind.CERTIFICATE,
        MethodKind.AUTHENTICATOR_PASSWORDLESS,
        MethodKind.TEMPORARY_ACCESS_PASS,
        MethodKind.AUTHENTICATOR_PUSH,
        MethodKind.TOTP_SOFTWARE,
        MethodKind.HARDWARE_OTP,
        MethodKind.SMS,
        MethodKind.VOICE,
    }
    assert set(accepted_kinds(BUILT_IN_PHISHING_RESISTANT["allowedCombinations"])) == {
        MethodKind.WINDOWS_HELLO,
        MethodKind.FIDO2_SECURITY_KEY,
        MethodKind.PASSKEY,
        MethodKind.CERTIFICATE,
    }


@pytest.mark.parametrize("alone", ["sms", "email", "voice", "password", "federatedSingleFactor", "qrCodePin"])
def test_a_single_factor_combination_demands_nothing(alone: str) -> None:
    """#15 item 2: SMS sign-in or an e-mail code alone is one factor: a strength that
    allows it can be met without a second factor."""
    assert combination_strength(alone) is Strength.NONE
    demand, _ = strength_demand(["fido2", alone], "mfa")
    assert demand is Requirement.NONE


def test_requirements_satisfied_none_demands_nothing() -> None:
    """A strength whose ``requirementsSatisfied`` is ``none`` grants no MFA claim."""
    assert strength_demand(["fido2"], "none") == (Requirement.NONE, ())
    demand, unknown = strength_demand(["fido2"], "somethingNew")
    assert demand is Requirement.NONE and unknown == ("requirementsSatisfied=somethingNew",)


# --- a Conditional Access policy with the built-in MFA strength --------------------------

# SOURCE: https://learn.microsoft.com/graph/api/conditionalaccessroot-post-policies
# ("Example 5: Require MFA to Exchange Online from non-compliant devices" uses the shape;
# the strength reference is the one of the list example above). The policy as Graph
# returns it with ``$expand`` of the strength.
CA_ALL_USERS_MFA_STRENGTH: dict[str, Any] = {
    "id": "6b5e999b-0ba8-4186-a106-e0296c1c4358",
    "displayName": "Require MFA strength for all users",
    "state": "enabled",
    "conditions": {
        "userRiskLevels": [],
        "signInRiskLevels": [],
        "clientAppTypes": ["all"],
        "platforms": None,
        "locations": None,
        "applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": []},
        "users": {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": [], "excludeGroups": []},
    },
    "grantControls": {
        "operator": "OR",
        "builtInControls": [],
        "customAuthenticationFactors": [],
        "termsOfUse": [],
        "authenticationStrength": BUILT_IN_MFA,
    },
}

APP = PortalId("app-hr")


def _evaluate(policy: dict[str, Any], account: Account, ctx: MappingContext | None = None) -> CoverageStatus:
    mapped = map_ca_policy(policy, ctx or MappingContext())
    snap = SourceSnapshot(
        source=SRC,
        connector="entra",
        collected_at=datetime(2026, 11, 15, tzinfo=UTC),
        complete=True,
        accounts=(account,),
        portals=(Portal(SRC, APP, "HR", True),),
        access=(Access(account.id, APP),),
        policies=(mapped.policy,),
    )
    config = EvaluationConfig(portals=(PortalClass(PortalMatch(source="entra", id=APP), Sensitivity.SENSITIVE),))
    snapshot = Snapshot("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "test", (snap,))
    result = evaluate(snapshot, config, now=datetime(2026, 11, 15, tzinfo=UTC), run_id="t")
    return next(c for c in result.coverage if c.account_id == account.id).status


def _user(*kinds: MethodKind, kind: AccountKind = AccountKind.HUMAN) -> Account:
    return Account(
        SRC, AccountId("u1"), "u1@contoso.com", "U1", kind, True, methods=tuple(Method(k, k.value) for k in kinds)
    )


def test_push_user_under_the_built_in_mfa_strength_is_protected() -> None:
    """#15 item 1, end to end: was ``not_enforced`` (the strength read as demanding nothing)."""
    mapped = map_ca_policy(CA_ALL_USERS_MFA_STRENGTH, MappingContext())
    rule = mapped.policy.rules[0]
    assert rule.requirement is Requirement.MFA
    assert MethodKind.AUTHENTICATOR_PUSH in rule.accepted_methods
    assert MethodKind.EMAIL_OTP not in rule.accepted_methods
    assert rule.conditions == ()
    assert mapped.issues == ()
    assert _evaluate(CA_ALL_USERS_MFA_STRENGTH, _user(MethodKind.AUTHENTICATOR_PUSH)) is CoverageStatus.PROTECTED


def test_strength_by_reference_takes_requirements_satisfied_from_the_tenant() -> None:
    ref = dict(CA_ALL_USERS_MFA_STRENGTH, grantControls={"builtInControls": [], "authenticationStrength": {"id": "c"}})
    ctx = MappingContext(strengths={"c": ("fido2",)}, strength_requirements={"c": "none"})
    assert map_ca_policy(ref, ctx).policy.rules[0].requirement is Requirement.NONE


# --- registered methods -------------------------------------------------------------------

# SOURCE: https://learn.microsoft.com/graph/api/authenticationmethodsroot-list-userregistrationdetails
# (response example): a member whose only registered method is e-mail, and a guest.
REGISTRATION_MEMBER_EMAIL_ONLY = {
    "id": "86462606-fde0-4fc4-9e0c-a20eb73e54c6",
    "userPrincipalName": "AlexW@Contoso.com",
    "userDisplayName": "Alex Wilber",
    "userType": "member",
    "isAdmin": False,
    "isSsprRegistered": True,
    "isSsprEnabled": True,
    "isSsprCapable": True,
    "isMfaRegistered": False,
    "isMfaCapable": False,
    "isPasswordlessCapable": False,
    "methodsRegistered": ["email"],
    "lastUpdatedDateTime": "2023-03-13T19:15:41.6195833Z",
}
REGISTRATION_GUEST_EMAIL = dict(
    REGISTRATION_MEMBER_EMAIL_ONLY, id="a2d0e3b1-guest", userPrincipalName="pat_fabrikam.com#EXT#@contoso.com",
    userType="guest",
)  # fmt: skip


def test_member_email_is_a_password_reset_method_not_mfa() -> None:
    """#15 item 3: e-mail registered by a member is SSPR-only (``isMfaRegistered`` false)."""
    methods = parse.registered_methods(REGISTRATION_MEMBER_EMAIL_ONLY)
    assert [(m.kind, m.vendor_label) for m in methods] == [(MethodKind.RECOVERY_EMAIL, "email")]
    assert methods[0].strength is Strength.NONE
    account = _user(*(m.kind for m in methods))
    assert _evaluate(CA_ALL_USERS_MFA_STRENGTH, account) is CoverageStatus.NOT_ENROLLED


def test_guest_email_stays_a_one_time_passcode() -> None:
    """Microsoft documents e-mail one-time passcode as a sign-in method for guests."""
    methods = parse.registered_methods(REGISTRATION_GUEST_EMAIL)
    assert [(m.kind, m.vendor_label) for m in methods] == [(MethodKind.EMAIL_OTP, "email")]


# SOURCE: https://learn.microsoft.com/graph/api/emailauthenticationmethod-get (response)
EMAIL_METHOD_OBJECT = {
    "@odata.type": "#microsoft.graph.emailAuthenticationMethod",
    "id": "3ddfcfc8-9383-446f-83cc-3ab9be4be18f",
    "emailAddress": "kim@contoso.com",
}


def test_email_method_object_follows_the_account_kind() -> None:
    assert parse.method_object(EMAIL_METHOD_OBJECT, guest=False).kind is MethodKind.RECOVERY_EMAIL
    assert parse.method_object(EMAIL_METHOD_OBJECT, guest=True).kind is MethodKind.EMAIL_OTP


# --- security defaults ------------------------------------------------------------------------

# SOURCE: https://learn.microsoft.com/entra/fundamentals/security-defaults ("Require
# administrators to do multifactor authentication"; role template ids from
# https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).
SECURITY_DEFAULTS_ROLE_NAMES = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "b0f54661-2d74-4c50-afa3-1ec803f12efe": "Billing Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "966707d0-3269-4727-9be2-8c3a10f19b9d": "Password Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "0526716b-113d-4c15-b2c8-68e3c22b9f80": "Authentication Policy Administrator",
    "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e": "Identity Governance Administrator",
}
AZURE_MANAGEMENT_APP = "797f4846-ba00-4fd7-ba43-dac1f8f63013"  # Windows Azure Service Management API


def test_security_defaults_roles_are_microsofts_list() -> None:
    """#15 item 5: Teams, Authentication Policy and Identity Governance administrators were missing."""
    assert set(SECURITY_DEFAULTS_ROLES) == set(SECURITY_DEFAULTS_ROLE_NAMES)


def test_security_defaults_require_mfa_of_everyone_on_azure_management() -> None:
    """#15 item 5: "any user accessing Azure Resource Manager must complete MFA"."""
    arm = PortalId("sp-arm")
    policy = security_defaults_policy({AZURE_MANAGEMENT_APP: arm, "some-other-app": PortalId("sp-other")})
    arm_rules = [r for r in policy.rules if arm in r.portals.ids]
    assert len(arm_rules) == 1
    rule = arm_rules[0]
    assert rule.scope.include_all and rule.requirement is Requirement.MFA and rule.conditions == ()
    assert rule.portals.ids == (arm,)
    admins = next(r for r in policy.rules if r.scope.include_roles)
    assert set(admins.scope.include_roles) == {RoleId(r) for r in SECURITY_DEFAULTS_ROLE_NAMES}
    # "Microsoft Authenticator app using notifications ... or any OATH TOTP app".
    for rule in policy.rules:
        assert set(rule.accepted_methods) == {MethodKind.AUTHENTICATOR_PUSH, MethodKind.TOTP_SOFTWARE}


# --- legacy authentication --------------------------------------------------------------------

# SOURCE: https://learn.microsoft.com/entra/identity/conditional-access/policy-block-legacy-authentication
# (the template "Block legacy authentication": all users, all resources, client apps
# Exchange ActiveSync and other clients, grant block).
LEGACY_BLOCK: dict[str, Any] = {
    "id": "legacy-block",
    "displayName": "Block legacy authentication",
    "state": "enabled",
    "conditions": {
        "userRiskLevels": [],
        "signInRiskLevels": [],
        "clientAppTypes": ["exchangeActiveSync", "other"],
        "applications": {"includeApplications": ["All"], "excludeApplications": []},
        "users": {"includeUsers": ["All"], "excludeUsers": ["breakglass-1"]},
        "locations": None,
        "platforms": None,
        "devices": None,
    },
    "grantControls": {"operator": "OR", "builtInControls": ["block"]},
}


def _with(**conditions: Any) -> dict[str, Any]:
    return dict(LEGACY_BLOCK, conditions={**LEGACY_BLOCK["conditions"], **conditions})


def test_the_documented_legacy_block_clears() -> None:
    assert blocks_legacy_auth(LEGACY_BLOCK)


@pytest.mark.parametrize(
    "narrower",
    [
        _with(authenticationFlows={"transferMethods": "deviceCodeFlow"}),
        _with(signInRiskLevels=["high"]),
        _with(userRiskLevels=["high", "medium"]),
        _with(insiderRiskLevels="elevated"),
        _with(devices={"deviceFilter": {"mode": "include", "rule": "device.isCompliant -ne True"}}),
        _with(
            applications={
                "includeApplications": ["All"],
                "excludeApplications": ["00000002-0000-0ff1-ce00-000000000000"],
            }
        ),
        _with(clientApplications={"includeServicePrincipals": ["x"]}),
    ],
    ids=["device-code-flow", "sign-in-risk", "user-risk", "insider-risk", "device-filter", "excluded-app", "workload"],
)
def test_a_narrower_block_is_evidence_not_clearance(narrower: dict[str, Any]) -> None:
    """#15 item 6: a block that leaves some legacy sign-ins open does not clear MFA-012."""
    assert not blocks_legacy_auth(narrower)


# --- the Office365 app group ---------------------------------------------------------------

# SOURCE: https://learn.microsoft.com/entra/identity/conditional-access/reference-office-365-application-contents
# (the services in the "Office 365" app); Microsoft's first-party apps are owned by the
# tenant f8cdef31-a31e-4b4a-93e4-5f571e91255a (appOwnerOrganizationId).
MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
SERVICE_PRINCIPALS = [
    {"id": "sp-planner", "appId": "09abbdfd-ed23-44ee-a2d9-a627aa1c90f3", "displayName": "Microsoft Planner",
     "appOwnerOrganizationId": MICROSOFT_TENANT},
    {"id": "sp-exo", "appId": "00000002-0000-0ff1-ce00-000000000000", "displayName": "Office 365 Exchange Online",
     "appOwnerOrganizationId": MICROSOFT_TENANT},
    {"id": "sp-new", "appId": "11111111-2222-3333-4444-555555555555", "displayName": "Microsoft Something New",
     "appOwnerOrganizationId": MICROSOFT_TENANT},
    {"id": "sp-hr", "appId": "6f1c0b1e-0000-4000-8000-00000000c1a1", "displayName": "Microsoft Planner",
     "appOwnerOrganizationId": "contoso-tenant"},
]  # fmt: skip


def _office365_ctx() -> MappingContext:
    apps = {o["appId"]: parse.AppInfo(PortalId(o["id"]), o["displayName"], o["appOwnerOrganizationId"])
            for o in SERVICE_PRINCIPALS}  # fmt: skip
    return MappingContext(portal_by_app={a: i.portal for a, i in apps.items()}, apps=apps)


def test_office365_exclusion_uses_microsofts_membership_list() -> None:
    """#15 item 7: Planner is in the Office 365 group: an exclusion of Office365 excludes it."""
    policy = dict(CA_ALL_USERS_MFA_STRENGTH)
    policy["conditions"] = dict(
        policy["conditions"], applications={"includeApplications": ["All"], "excludeApplications": ["Office365"]}
    )
    mapped = map_ca_policy(policy, _office365_ctx())
    excluded = set(mapped.policy.rules[0].portals.excluded_ids)
    assert {PortalId("sp-planner"), PortalId("sp-exo")} <= excluded
    # A tenant's own app named like a Microsoft one is not in the group.
    assert PortalId("sp-hr") not in excluded
    # A Microsoft app that the documented list does not name: undecidable, never covered
    # (excluded here), with an issue naming it.
    assert PortalId("sp-new") in excluded
    undecided = [i for i in mapped.issues if i.code == "entra.app_group_undecided"]
    assert [i.record for i in undecided] == [f"{policy['id']}/sp-new"]


def test_office365_inclusion_never_covers_an_undecidable_app() -> None:
    policy = dict(CA_ALL_USERS_MFA_STRENGTH)
    policy["conditions"] = dict(policy["conditions"], applications={"includeApplications": ["Office365"]})
    mapped = map_ca_policy(policy, _office365_ctx())
    included = set(mapped.policy.rules[0].portals.ids)
    assert included == {PortalId("sp-planner"), PortalId("sp-exo")}
    assert [i.record for i in mapped.issues if i.code == "entra.app_group_undecided"] == [f"{policy['id']}/sp-new"]


def test_condition_kinds_unchanged_for_a_plain_policy() -> None:
    assert map_ca_policy(LEGACY_BLOCK, MappingContext()).policy.rules[0].conditions[0].kind is ConditionKind.CLIENT_APP


# --- the authentication methods policy ------------------------------------------------------

# SOURCE: https://learn.microsoft.com/graph/api/authenticationmethodspolicy-get (v1.0,
# response example; ``policyMigrationState`` from the authenticationMethodsPolicy
# resource page), with one group excluded from SMS as the resource's targets allow.
METHODS_POLICY: dict[str, Any] = {
    "id": "authenticationMethodsPolicy",
    "displayName": "Authentication Methods Policy",
    "policyVersion": "1.4",
    "policyMigrationState": "migrationComplete",
    "authenticationMethodConfigurations": [
        {
            "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
            "id": "Fido2",
            "state": "disabled",
            "isSelfServiceRegistrationAllowed": True,
            "isAttestationEnforced": True,
            "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False}],
        },
        {
            "@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
            "id": "MicrosoftAuthenticator",
            "state": "enabled",
            "includeTargets": [
                {
                    "targetType": "group",
                    "id": "all_users",
                    "isRegistrationRequired": False,
                    "authenticationMode": "push",
                }
            ],
        },
        {
            "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
            "id": "Sms",
            "state": "enabled",
            "includeTargets": [
                {"targetType": "group", "id": "all_users", "isRegistrationRequired": False, "isUsableForSignIn": True}
            ],
            "excludeTargets": [{"targetType": "group", "id": "g-no-sms"}],
        },
        {
            "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
            "id": "TemporaryAccessPass",
            "state": "disabled",
            "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False}],
        },
        {
            "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration",
            "id": "Email",
            "state": "enabled",
            "allowExternalIdToUseEmailOtp": "default",
            "includeTargets": [],
        },
    ],
}


def test_methods_policy_allowances_field_by_field() -> None:
    """#15 item 4: each method configuration's state and targets become allowances."""
    from auditor.model import GroupId, MethodAllowance, Scope

    read = methods_policy.parse_methods_policy(METHODS_POLICY)
    assert read.complete and read.reason == "" and read.issues == ()
    by_kind = {a.kind: a for a in read.allowances}
    everyone = Scope(include_all=True)
    assert by_kind[MethodKind.FIDO2_SECURITY_KEY] == MethodAllowance(
        MethodKind.FIDO2_SECURITY_KEY, False, everyone, "Fido2"
    )
    assert by_kind[MethodKind.PASSKEY].enabled is False
    # Authenticator in push mode only: passwordless phone sign-in is not allowed.
    assert by_kind[MethodKind.AUTHENTICATOR_PUSH] == MethodAllowance(
        MethodKind.AUTHENTICATOR_PUSH, True, everyone, "MicrosoftAuthenticator"
    )
    assert by_kind[MethodKind.AUTHENTICATOR_PASSWORDLESS].enabled is False
    assert by_kind[MethodKind.SMS] == MethodAllowance(
        MethodKind.SMS, True, Scope(include_all=True, exclude_groups=(GroupId("g-no-sms"),)), "Sms"
    )
    assert by_kind[MethodKind.TEMPORARY_ACCESS_PASS].enabled is False
    # Enabled, targeting no member; ``allowExternalIdToUseEmailOtp`` "default" lets guests
    # (external identities) use e-mail one-time passcode.
    assert by_kind[MethodKind.EMAIL_OTP] == MethodAllowance(
        MethodKind.EMAIL_OTP, True, Scope(include_guests=True), "Email"
    )
    # Windows Hello for Business is not governed by this policy: allowed to everyone.
    assert by_kind[MethodKind.WINDOWS_HELLO].enabled and by_kind[MethodKind.WINDOWS_HELLO].scope == everyone
    assert read.groups == ("g-no-sms",)


def test_methods_policy_before_migration_is_not_the_whole_story() -> None:
    pre = dict(METHODS_POLICY, policyMigrationState="migrationInProgress")
    read = methods_policy.parse_methods_policy(pre)
    assert not read.complete and "legacy" in read.reason


def test_unknown_method_configuration_is_a_coded_issue() -> None:
    odd = dict(
        METHODS_POLICY,
        authenticationMethodConfigurations=[{"@odata.type": "#microsoft.graph.telepathyConfiguration", "id": "T"}],
    )
    read = methods_policy.parse_methods_policy(odd)
    assert [i.code for i in read.issues] == ["entra.methods_policy_unknown"]


# --- users and sign-ins ---------------------------------------------------------------------

# SOURCE: https://learn.microsoft.com/graph/api/user-list (response with $select of the
# fields the connector asks for; signInActivity per
# https://learn.microsoft.com/graph/api/resources/signinactivity).
GRAPH_USER: dict[str, Any] = {
    "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
    "userPrincipalName": "AdeleV@contoso.com",
    "displayName": "Adele Vance",
    "accountEnabled": True,
    "userType": "Member",
    "createdDateTime": "2021-01-14T08:20:41Z",
    "signInActivity": {
        "lastSignInDateTime": "2023-03-13T19:15:41.6195833Z",
        "lastSignInRequestId": "d3a0ac4e-6b1b-4a4c-a2d4-7a4a3c1c0d00",
        "lastNonInteractiveSignInDateTime": "2023-03-14T11:02:00Z",
    },
    "onPremisesSyncEnabled": None,
    "department": "Retail",
    "employeeType": None,
}


def test_graph_user_field_by_field() -> None:
    parsed = parse.parse_user(GRAPH_USER, SRC, ("svc-",))
    assert parsed.unreadable is None and parsed.account is not None
    a = parsed.account
    assert (a.id, a.principal, a.display_name, a.kind, a.enabled) == (
        "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
        "adelev@contoso.com",
        "Adele Vance",
        AccountKind.HUMAN,
        True,
    )
    assert a.last_sign_in == datetime(2023, 3, 13, 19, 15, 41, 619583, tzinfo=UTC)
    assert a.created == datetime(2021, 1, 14, 8, 20, 41, tzinfo=UTC)
    assert dict(a.attributes) == {"department": "Retail"}
    guest = parse.parse_user(dict(GRAPH_USER, userType="Guest"), SRC, ("svc-",)).account
    assert guest is not None and guest.kind is AccountKind.GUEST


# SOURCE: https://learn.microsoft.com/graph/api/signin-list?view=graph-rest-beta (response
# example; ``authenticationRequirement`` and ``status.errorCode``).
SIGN_IN: dict[str, Any] = {
    "id": "66ea54eb-6301-4ee5-be62-ff5a759b0100",
    "createdDateTime": "2026-11-02T08:15:30Z",
    "userDisplayName": "Adele Vance",
    "userPrincipalName": "AdeleV@contoso.com",
    "userId": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
    "appId": "de8bc8b5-d9f9-48b1-a8ad-b748da725064",
    "appDisplayName": "Graph Explorer",
    "ipAddress": "131.107.159.37",
    "clientAppUsed": "Browser",
    "authenticationRequirement": "multiFactorAuthentication",
    "conditionalAccessStatus": "success",
    "isInteractive": True,
    "status": {"errorCode": 0, "failureReason": "Other.", "additionalDetails": None},
}


def test_sign_in_field_by_field() -> None:
    from auditor.model import SignInFactor

    portal = PortalId("sp-graph-explorer")
    accounts = {GRAPH_USER["id"]: object()}
    s = parse.parse_sign_in(SIGN_IN, {SIGN_IN["appId"]: portal}, accounts)
    assert s is not None
    assert (s.account_id, s.portal_id, s.factor, s.client_app) == (GRAPH_USER["id"], portal, SignInFactor.MULTI,
                                                                    "browser")  # fmt: skip
    assert s.time == datetime(2026, 11, 2, 8, 15, 30, tzinfo=UTC)
    single = dict(SIGN_IN, authenticationRequirement="singleFactorAuthentication")
    assert parse.parse_sign_in(single, {SIGN_IN["appId"]: portal}, accounts).factor is SignInFactor.SINGLE  # type: ignore[union-attr]
    failed = dict(SIGN_IN, status={"errorCode": 50126, "failureReason": "Invalid username or password."})
    assert parse.parse_sign_in(failed, {SIGN_IN["appId"]: portal}, accounts) is None


def test_the_demo_tenant_speaks_microsofts_vocabulary() -> None:
    """The demo organisation holds a policy with the built-in MFA strength, e-mail-only
    members, and a policy that excludes the Office365 app group (issue #15, done-when)."""
    from connectors.sandbox.graph.shapes import build_tenant
    from connectors.sandbox.sample_org import generate

    org = generate(seed=7, accounts=300)
    tenant = build_tenant(org)
    by_id = {p["id"]: p for p in tenant.ca_policies}
    strength = by_id["ca-001"]["grantControls"]["authenticationStrength"]
    assert (
        strength["id"] == BUILT_IN_MFA["id"] and strength["allowedCombinations"] == BUILT_IN_MFA["allowedCombinations"]
    )
    assert by_id["ca-007"]["conditions"]["applications"]["excludeApplications"] == ["Office365"]
    members_email_only = [
        a for a in org.truth("entra").accounts
        if a.kind is AccountKind.HUMAN and [m.kind for m in a.methods] == [MethodKind.RECOVERY_EMAIL]
    ]  # fmt: skip
    assert members_email_only
    assert tenant.methods_policy["policyMigrationState"] == "migrationComplete"
