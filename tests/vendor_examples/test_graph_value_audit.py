"""Microsoft Graph / Entra: the value-by-value audit of every vendor value the connector
maps, after issue #15 ("when one vendor value was mis-mapped, re-read every value of
that family against the vendor's documentation").

Each test names the documentation page it follows in a ``SOURCE`` line; payloads are
written here in our own words after those pages. Each one failed before its fix.
"""

from __future__ import annotations

from typing import Any

import pytest

from auditor.model import AccountId, MethodKind, Requirement
from connectors.entra import methods_policy, parse
from connectors.entra.policies import MappingContext, map_ca_policy

# --- methodsRegistered ----------------------------------------------------------------------

# SOURCE: https://learn.microsoft.com/graph/api/resources/userregistrationdetails?view=graph-rest-1.0
# ("methodsRegistered: Collection of authentication methods registered, such as
# mobilePhone, email, fido2"): the v1.0 page's own example value.
REGISTRATION_FIDO2 = {
    "id": "86462606-fde0-4fc4-9e0c-a20eb73e54c6",
    "userPrincipalName": "AlexW@Contoso.com",
    "userDisplayName": "Alex Wilber",
    "userType": "member",
    "isAdmin": False,
    "isMfaRegistered": True,
    "isMfaCapable": True,
    "isPasswordlessCapable": True,
    "methodsRegistered": ["mobilePhone", "email", "fido2"],
}


def test_fido2_as_the_v1_page_names_it_is_a_security_key() -> None:
    """``fido2`` (the v1.0 page's example) was an unknown method: counted as nothing."""
    methods = parse.registered_methods(REGISTRATION_FIDO2)
    assert [(m.kind, m.vendor_label) for m in methods] == [
        (MethodKind.SMS, "mobilePhone"),
        (MethodKind.VOICE, "mobilePhone"),
        (MethodKind.RECOVERY_EMAIL, "email"),
        (MethodKind.FIDO2_SECURITY_KEY, "fido2"),
    ]


# SOURCE: https://learn.microsoft.com/graph/api/resources/usageauthmethod?view=graph-rest-beta
# (the report's vocabulary names QR code + PIN ``qrCode``) and
# https://learn.microsoft.com/graph/api/resources/qrcodepinauthenticationmethod (the
# per-user method object).
QR_CODE_PIN_METHOD = {
    "@odata.type": "#microsoft.graph.qrCodePinAuthenticationMethod",
    "id": "b7e5f6c3-0000-4000-8000-0000000000aa",
    "createdDateTime": "2025-01-10T08:00:00Z",
}


def test_qr_code_pin_gives_the_reports_label_on_both_paths() -> None:
    """The per-user path said ``qrCodePin`` where the report says ``qrCode``: the same
    method under two labels in the evidence."""
    obj = parse.method_object(QR_CODE_PIN_METHOD)
    reported = parse.registered_method("qrCode")
    assert (obj.kind, obj.vendor_label) == (reported.kind, reported.vendor_label) == (MethodKind.PASSWORD, "qrCode")


# SOURCE: https://learn.microsoft.com/graph/api/resources/phoneauthenticationmethod
# (phoneType: mobile, alternateMobile, office, unknownFutureValue).
def test_a_phone_of_an_unknown_type_is_unknown_not_sms() -> None:
    """An unknown ``phoneType`` was silently taken as a mobile phone (SMS)."""
    phone = {"@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "id": "p", "phoneNumber": "+1 2065555555",
             "phoneType": "unknownFutureValue", "smsSignInState": "notSupported"}  # fmt: skip
    method = parse.method_object(phone)
    assert method.kind is MethodKind.UNKNOWN
    assert method.vendor_label == "phone (phoneType unknownFutureValue)"
    documented = dict(phone, phoneType="office")
    assert (parse.method_object(documented).kind, parse.method_object(documented).vendor_label) == (
        MethodKind.VOICE,
        "officePhone",
    )


# --- Conditional Access: guests and external users ------------------------------------------


# SOURCE: https://learn.microsoft.com/graph/api/resources/conditionalaccessguestsorexternalusers
# (guestOrExternalUserTypes, a flags value: none, internalGuest, b2bCollaborationGuest,
# b2bCollaborationMember, b2bDirectConnectUser, otherExternalUser, serviceProvider,
# unknownFutureValue) and https://learn.microsoft.com/graph/api/resources/conditionalaccessusers.
def _policy(users: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "ca-guests",
        "displayName": "Require MFA for external users",
        "state": "enabled",
        "conditions": {
            "clientAppTypes": ["all"],
            "applications": {"includeApplications": ["All"]},
            "users": {"includeUsers": [], "excludeUsers": [], "includeGroups": [], "excludeGroups": [], **users},
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
    }


def _guests(types: str, tenants: str = "all") -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.conditionalAccessGuestsOrExternalUsers",
        "guestOrExternalUserTypes": types,
        "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                            "membershipKind": tenants},
    }  # fmt: skip


@pytest.mark.parametrize("types", ["internalGuest", "b2bCollaborationGuest"])
def test_one_guest_subtype_does_not_cover_every_guest(types: str) -> None:
    """Including only internal guests (or only B2B collaboration guests) was read as
    covering every guest account (userType Guest), the other subtype included."""
    mapped = map_ca_policy(_policy({"includeGuestsOrExternalUsers": _guests(types)}), MappingContext())
    assert mapped.policy.rules[0].scope.include_guests is False
    assert [i.code for i in mapped.issues] == ["entra.ca_guest_types"]


def test_both_guest_subtypes_cover_guests() -> None:
    mapped = map_ca_policy(
        _policy({"includeGuestsOrExternalUsers": _guests("internalGuest,b2bCollaborationGuest,b2bDirectConnectUser")}),
        MappingContext(),
    )
    assert mapped.policy.rules[0].scope.include_guests is True
    assert mapped.issues == ()


EXTERNAL_MEMBER = AccountId("ext-member-1")


def test_excluding_b2b_collaboration_members_excludes_them() -> None:
    """External members (userType Member, invited: ``#EXT#`` in the UPN) excluded by
    type stayed covered by an all-users policy."""
    users = {"includeUsers": ["All"], "excludeGuestsOrExternalUsers": _guests("b2bCollaborationMember")}
    mapped = map_ca_policy(_policy(users), MappingContext(external_members=(EXTERNAL_MEMBER,)))
    scope = mapped.policy.rules[0].scope
    assert scope.include_all and EXTERNAL_MEMBER in scope.exclude_users
    # Guests (userType Guest) are not B2B collaboration members: not excluded by this.
    assert scope.exclude_guests is False


def test_including_b2b_collaboration_members_includes_them() -> None:
    users = {"includeGuestsOrExternalUsers": _guests("b2bCollaborationMember")}
    mapped = map_ca_policy(_policy(users), MappingContext(external_members=(EXTERNAL_MEMBER,)))
    scope = mapped.policy.rules[0].scope
    assert scope.include_users == (EXTERNAL_MEMBER,) and scope.include_guests is False


def test_an_unknown_guest_type_is_a_coded_issue() -> None:
    users = {"includeUsers": ["All"], "excludeGuestsOrExternalUsers": _guests("martianVisitor")}
    mapped = map_ca_policy(_policy(users), MappingContext())
    assert [i.code for i in mapped.issues] == ["entra.ca_unknown_value"]
    # Never over-claim: an excluded type we cannot place excludes every guest.
    assert mapped.policy.rules[0].scope.exclude_guests is True


# --- Conditional Access: grant controls and client app types -------------------------------


# SOURCE: https://learn.microsoft.com/graph/api/resources/conditionalaccessgrantcontrols
# (builtInControls: block, mfa, compliantDevice, domainJoinedDevice, approvedApplication,
# compliantApplication, passwordChange, unknownFutureValue) and
# https://learn.microsoft.com/graph/api/resources/conditionalaccessconditionset
# (clientAppTypes: all, browser, mobileAppsAndDesktopClients, exchangeActiveSync,
# easSupported, other, unknownFutureValue).
def test_an_unknown_grant_control_is_named_and_never_mfa() -> None:
    policy = _policy({"includeUsers": ["All"]})
    policy["grantControls"] = {"operator": "OR", "builtInControls": ["mfa", "riskRemediation"]}
    mapped = map_ca_policy(policy, MappingContext())
    rule = mapped.policy.rules[0]
    assert [i.code for i in mapped.issues] == ["entra.ca_unknown_value"]
    assert "riskRemediation" in mapped.issues[0].message
    # OR with something we cannot judge: MFA can be skipped through it.
    assert rule.requirement is Requirement.MFA and [c.kind.value for c in rule.conditions] == ["alternative_control"]
    alone = dict(policy, grantControls={"operator": "AND", "builtInControls": ["riskRemediation"]})
    assert map_ca_policy(alone, MappingContext()).policy.rules[0].requirement is Requirement.NONE


@pytest.mark.parametrize(
    "control", ["mfa", "block", "compliantDevice", "domainJoinedDevice", "approvedApplication",
                "compliantApplication", "passwordChange"],
)  # fmt: skip
def test_every_documented_grant_control_is_known(control: str) -> None:
    policy = _policy({"includeUsers": ["All"]})
    policy["grantControls"] = {"operator": "AND", "builtInControls": [control]}
    assert map_ca_policy(policy, MappingContext()).issues == ()


def test_an_unknown_client_app_type_is_a_coded_issue() -> None:
    policy = _policy({"includeUsers": ["All"]})
    policy["conditions"]["clientAppTypes"] = ["browser", "mobileAppsAndDesktopClients", "holographicClients"]
    mapped = map_ca_policy(policy, MappingContext())
    assert [i.code for i in mapped.issues] == ["entra.ca_unknown_value"]
    documented = _policy({"includeUsers": ["All"]})
    documented["conditions"]["clientAppTypes"] = ["browser", "mobileAppsAndDesktopClients", "exchangeActiveSync",
                                                  "easSupported", "other"]  # fmt: skip
    assert map_ca_policy(documented, MappingContext()).issues == ()


# --- the authentication methods policy: targets ----------------------------------------------


# SOURCE: https://learn.microsoft.com/graph/api/resources/authenticationmethodtarget
# (targetType: user, group; the evolvable enum's unknownFutureValue).
def _sms_policy(exclude: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "policyMigrationState": "migrationComplete",
        "authenticationMethodConfigurations": [
            {
                "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
                "id": "Sms",
                "state": "enabled",
                "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False}],
                "excludeTargets": exclude,
            }
        ],
    }


def test_an_exclusion_of_an_unknown_target_type_disallows_the_method() -> None:
    """An exclude target of a type we cannot resolve was read as a group id nobody is
    in: the method stayed allowed to everyone it may exclude."""
    read = methods_policy.parse_methods_policy(_sms_policy([{"targetType": "unknownFutureValue", "id": "x"}]))
    sms = next(a for a in read.allowances if a.kind is MethodKind.SMS)
    assert sms.enabled is False
    assert [i.code for i in read.issues] == ["entra.methods_policy_target"]
    known = methods_policy.parse_methods_policy(_sms_policy([{"targetType": "user", "id": "u1"}]))
    sms = next(a for a in known.allowances if a.kind is MethodKind.SMS)
    assert sms.enabled is True and sms.scope.exclude_users == ("u1",) and known.issues == ()


# SOURCE: https://learn.microsoft.com/graph/api/resources/voiceauthenticationmethodconfiguration
# (isOfficePhoneAllowed: "true if users can register office phones, otherwise, false").
def test_office_phones_disallowed_are_named() -> None:
    """Office and alternate mobile phones are one model kind (voice): a voice configuration
    that disallows office phones cannot be expressed per kind, so it is named."""
    policy = {
        "policyMigrationState": "migrationComplete",
        "authenticationMethodConfigurations": [
            {
                "@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration",
                "id": "Voice",
                "state": "enabled",
                "isOfficePhoneAllowed": False,
                "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False}],
            }
        ],
    }
    read = methods_policy.parse_methods_policy(policy)
    assert [i.code for i in read.issues] == ["entra.methods_policy_office_phone"]
    allowed = dict(policy)
    allowed["authenticationMethodConfigurations"] = [
        dict(policy["authenticationMethodConfigurations"][0], isOfficePhoneAllowed=True)
    ]
    assert methods_policy.parse_methods_policy(allowed).issues == ()


# SOURCE: https://learn.microsoft.com/graph/api/resources/user (userType: "Member" or
# "Guest") and https://learn.microsoft.com/graph/api/resources/strongauthenticationrequirements?view=graph-rest-beta
# (perUserMfaState: disabled, enforced, enabled, unknownFutureValue).
def test_user_types_outside_the_documented_pair_are_flagged() -> None:
    assert [parse.known_user_type(t) for t in ("Member", "Guest", None, "Robot")] == [True, True, True, False]


def test_per_user_mfa_states_outside_the_documented_ones_are_flagged() -> None:
    from connectors.entra.policies import per_user_mfa_policy, unknown_per_user_states

    states = {"u1": "enforced", "u2": "enabled", "u3": "disabled", "u4": "unknownFutureValue", "u5": ""}
    assert unknown_per_user_states(states) == {"unknownFutureValue": 1, "": 1}
    policy = per_user_mfa_policy(states)
    assert policy is not None and policy.rules[0].scope.include_users == ("u1", "u2")


# SOURCE: https://learn.microsoft.com/graph/api/resources/usageauthmethod?view=graph-rest-beta
# (the report's values) and https://learn.microsoft.com/graph/api/resources/authenticationmethod
# (the derived method types): neither names a per-user certificate method. Certificate-
# based authentication is single- or multi-factor by the tenant's rules, so a value
# Microsoft does not document cannot be rated phishing-resistant.
@pytest.mark.parametrize(
    "method",
    [
        parse.registered_method("x509Certificate"),
        parse.method_object({"@odata.type": "#microsoft.graph.x509CertificateAuthenticationMethod", "id": "c"}),
    ],
)
def test_an_undocumented_certificate_value_is_unknown(method: Any) -> None:
    assert method.kind is MethodKind.UNKNOWN


# SOURCE: https://learn.microsoft.com/graph/api/resources/fido2authenticationmethodconfiguration
# (keyRestrictions: fido2KeyRestrictions — isEnforced, enforcementType allow / block,
# aaGuids).
def test_enforced_fido2_key_restrictions_are_named() -> None:
    """A registered key of a model the tenant blocks cannot be used; the key's model
    (AAGUID) is not read, so the restriction is named rather than silently ignored."""
    config = {
        "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
        "id": "Fido2",
        "state": "enabled",
        "isAttestationEnforced": True,
        "keyRestrictions": {"isEnforced": True, "enforcementType": "allow",
                            "aaGuids": ["90a3ccdf-635c-4729-a248-9b709135078f"]},
        "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False}],
    }  # fmt: skip
    read = methods_policy.parse_methods_policy(
        {"policyMigrationState": "migrationComplete", "authenticationMethodConfigurations": [config]}
    )
    assert [i.code for i in read.issues] == ["entra.methods_policy_key_restrictions"]
    free = dict(config, keyRestrictions={"isEnforced": False, "enforcementType": "block", "aaGuids": []})
    assert (
        methods_policy.parse_methods_policy(
            {"policyMigrationState": "migrationComplete", "authenticationMethodConfigurations": [free]}
        ).issues
        == ()
    )


# --- Conditional Access: application groups beyond Office365 -------------------------------

# SOURCE: https://learn.microsoft.com/entra/identity/conditional-access/concept-conditional-access-cloud-apps
# ("Microsoft Admin Portals": Azure portal, Exchange admin center, Microsoft 365 admin
# center, Microsoft 365 Defender portal, Microsoft Entra admin center, Microsoft Intune
# admin center, Microsoft Purview portal, Microsoft Teams admin center — "we're
# continually adding more"; "Windows Azure Service Management API": Azure Resource
# Manager, Azure portal, Azure Data Lake, Application Insights API, Log Analytics API).
MICROSOFT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
AZURE_PORTAL = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
SERVICE_MANAGEMENT = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
APPS = [
    ("sp-azure-portal", AZURE_PORTAL, "Azure Portal", MICROSOFT),
    ("sp-intune-admin", "0000000a-1111-2222-3333-444444444444", "Microsoft Intune admin center", MICROSOFT),
    ("sp-log-analytics", "0000000b-1111-2222-3333-444444444444", "Log Analytics API", MICROSOFT),
    ("sp-ms-other", "0000000c-1111-2222-3333-444444444444", "Microsoft Something", MICROSOFT),
    ("sp-arm", SERVICE_MANAGEMENT, "Windows Azure Service Management API", MICROSOFT),
    ("sp-hr", "0000000d-1111-2222-3333-444444444444", "Microsoft Intune admin center", "contoso-tenant"),
]


def _apps_ctx() -> MappingContext:
    from auditor.model import PortalId

    apps = {app: parse.AppInfo(PortalId(sp), name, owner) for sp, app, name, owner in APPS}
    return MappingContext(portal_by_app={a: i.portal for a, i in apps.items()}, apps=apps)


def _apps_policy(**applications: Any) -> dict[str, Any]:
    policy = _policy({"includeUsers": ["All"]})
    policy["conditions"]["applications"] = applications
    return policy


def test_excluding_admin_portals_excludes_every_documented_portal() -> None:
    """``MicrosoftAdminPortals`` was the Azure portal alone: excluding it left the other
    admin portals covered by an all-apps policy."""
    mapped = map_ca_policy(_apps_policy(includeApplications=["All"], excludeApplications=["MicrosoftAdminPortals"]),
                           _apps_ctx())  # fmt: skip
    excluded = set(mapped.policy.rules[0].portals.excluded_ids)
    assert {"sp-azure-portal", "sp-intune-admin"} <= excluded
    # Microsoft adds portals to the group: a Microsoft app we cannot place is never covered.
    assert "sp-ms-other" in excluded
    assert "sp-hr" not in excluded  # the tenant's own app of the same name
    undecided = sorted(i.record or "" for i in mapped.issues if i.code == "entra.app_group_undecided")
    assert undecided == ["ca-guests/sp-arm", "ca-guests/sp-log-analytics", "ca-guests/sp-ms-other"]


def test_including_admin_portals_covers_only_documented_portals() -> None:
    mapped = map_ca_policy(_apps_policy(includeApplications=["MicrosoftAdminPortals"]), _apps_ctx())
    assert set(mapped.policy.rules[0].portals.ids) == {"sp-azure-portal", "sp-intune-admin"}


def test_the_service_management_api_app_takes_in_the_azure_portal() -> None:
    """Excluding the Windows Azure Service Management API app excludes the portals of the
    group it stands for (the Azure portal, Log Analytics API…): they stayed covered."""
    mapped = map_ca_policy(_apps_policy(includeApplications=["All"], excludeApplications=[SERVICE_MANAGEMENT]),
                           _apps_ctx())  # fmt: skip
    excluded = set(mapped.policy.rules[0].portals.excluded_ids)
    assert excluded == {"sp-arm", "sp-azure-portal", "sp-log-analytics"}
    included = map_ca_policy(_apps_policy(includeApplications=[SERVICE_MANAGEMENT]), _apps_ctx())
    assert set(included.policy.rules[0].portals.ids) == {"sp-arm", "sp-azure-portal", "sp-log-analytics"}


# SOURCE: https://learn.microsoft.com/graph/api/resources/conditionalaccessusers
# (includeUsers / excludeUsers: "GuestsOrExternalUsers" — every guest and external user).
def test_the_guests_or_external_users_keyword_takes_in_external_members() -> None:
    """Excluding ``GuestsOrExternalUsers`` left invited members (userType Member) covered."""
    ctx = MappingContext(external_members=(EXTERNAL_MEMBER,))
    out = map_ca_policy(_policy({"includeUsers": ["All"], "excludeUsers": ["GuestsOrExternalUsers"]}), ctx)
    scope = out.policy.rules[0].scope
    assert scope.exclude_guests and EXTERNAL_MEMBER in scope.exclude_users
    into = map_ca_policy(_policy({"includeUsers": ["GuestsOrExternalUsers"]}), ctx).policy.rules[0].scope
    assert into.include_guests and into.include_users == (EXTERNAL_MEMBER,)


# --- a mobile phone: SMS and voice ------------------------------------------------------------

# SOURCE: https://learn.microsoft.com/graph/api/resources/authenticationmethod ("phone
# (usable via SMS or voice call)") and
# https://learn.microsoft.com/graph/api/resources/phoneauthenticationmethod (phoneType
# mobile; SMS and voice each enabled by their own configuration of the methods policy).
MOBILE_PHONE = {
    "@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
    "id": "3179e48a-750b-4051-897c-87b9720928f7",
    "phoneNumber": "+1 2065555555",
    "phoneType": "mobile",
    "smsSignInState": "notSupported",
}


def test_a_mobile_phone_is_both_sms_and_voice() -> None:
    """A mobile phone was SMS only: where the methods policy turns SMS off and voice on,
    its holder was read as having no usable method (a false "not enrolled")."""
    expected = [(MethodKind.SMS, "mobilePhone"), (MethodKind.VOICE, "mobilePhone")]
    assert [(m.kind, m.vendor_label) for m in parse.method_objects(MOBILE_PHONE)] == expected
    row = dict(REGISTRATION_FIDO2, methodsRegistered=["mobilePhone"])
    assert [(m.kind, m.vendor_label) for m in parse.registered_methods(row)] == expected
    # An office or alternate mobile phone takes voice calls only; "sms" is SMS only.
    office = dict(MOBILE_PHONE, phoneType="office")
    assert [(m.kind, m.vendor_label) for m in parse.method_objects(office)] == [(MethodKind.VOICE, "officePhone")]
    only_sms = dict(REGISTRATION_FIDO2, methodsRegistered=["sms", "alternateMobilePhone"])
    assert [m.kind for m in parse.registered_methods(only_sms)] == [MethodKind.SMS, MethodKind.VOICE]


def test_a_mobile_phone_holder_with_sms_off_can_still_take_a_call() -> None:
    """End to end: SMS off for everyone, voice on, an all-users require-MFA policy on a
    sensitive portal: the holder of a mobile phone has a usable (weak) method, not none."""
    from datetime import UTC, date, datetime

    from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch
    from auditor.engine.evaluate import evaluate
    from auditor.model import (
        Access,
        Account,
        AccountKind,
        CoverageStatus,
        Portal,
        PortalId,
        Sensitivity,
        Snapshot,
        SourceName,
        SourceSnapshot,
    )

    src, app = SourceName("entra"), PortalId("app-hr")
    configs = [
        {"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "id": "Sms", "state": "disabled",
         "includeTargets": [{"targetType": "group", "id": "all_users"}]},
        {"@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration", "id": "Voice", "state": "enabled",
         "isOfficePhoneAllowed": True, "includeTargets": [{"targetType": "group", "id": "all_users"}]},
    ]  # fmt: skip
    allowed = methods_policy.parse_methods_policy(
        {"policyMigrationState": "migrationComplete", "authenticationMethodConfigurations": configs}
    )
    methods = parse.registered_methods(dict(REGISTRATION_FIDO2, methodsRegistered=["mobilePhone"]))
    account = Account(src, AccountId("u1"), "u1@contoso.com", "U1", AccountKind.HUMAN, True, methods=methods)
    policy = map_ca_policy(_policy({"includeUsers": ["All"]}), MappingContext()).policy
    snap = SourceSnapshot(
        source=src, connector="entra", collected_at=datetime(2026, 11, 15, tzinfo=UTC), complete=True,
        accounts=(account,), portals=(Portal(src, app, "HR", True),), access=(Access(account.id, app),),
        policies=(policy,), method_policy=allowed.allowances,
    )  # fmt: skip
    config = EvaluationConfig(portals=(PortalClass(PortalMatch(source="entra", id=app), Sensitivity.SENSITIVE),))
    snapshot = Snapshot("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "test", (snap,))
    result = evaluate(snapshot, config, now=datetime(2026, 11, 15, tzinfo=UTC), run_id="t")
    (row,) = [c for c in result.coverage if c.account_id == account.id]
    # "sensitive" asks for any second factor: a voice call meets it (it was not_enrolled).
    assert row.status is CoverageStatus.PROTECTED
