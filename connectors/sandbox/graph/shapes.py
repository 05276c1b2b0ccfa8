"""Kept whole on purpose: the whole Entra truth in Graph's shapes, the independent writer
that the connector's reverse mapping is tested against.

The sample organisation's Entra truth in Microsoft Graph's own JSON shapes.

Everything here is derived from ``org.truth("entra")`` and the org's side tables
(group names, role names, PIM-eligible accounts); nothing is random beyond the seed.
The model → Conditional Access conversion lives here, so the connector's reverse
mapping is tested against an independent writer.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditor.model import (
    AccessVia,
    Account,
    AccountKind,
    ConditionKind,
    MethodAllowance,
    MethodKind,
    MethodStatus,
    Policy,
    PolicyState,
    Requirement,
    Scope,
)
from connectors.sandbox.sample_org import SampleOrg

NS = uuid.UUID("3f0e6c1a-6a7e-4d7c-9d55-2b1b5f0e1a11")
OFFICE365_PORTAL_APP_ID = "00000006-0000-0ff1-ce00-000000000000"
MICROSOFT_SERVICES_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
TENANT_ID = "6d1c3b9a-2f4e-4c8b-9a7d-0e5f1a2b3c4d"  # the sample tenant's own id (appOwnerOrganizationId)
DEFAULT_ACCESS_ROLE = "00000000-0000-0000-0000-000000000000"

MFA_STRENGTH_ID = "00000000-0000-0000-0000-000000000002"
PASSWORDLESS_STRENGTH_ID = "00000000-0000-0000-0000-000000000003"
PHISHING_RESISTANT_STRENGTH_ID = "00000000-0000-0000-0000-000000000004"

# The three built-in strengths complete, as Microsoft's "List authenticationStrengthPolicies"
# example returns them (learn.microsoft.com/graph/api/authenticationstrengthroot-list-policies).
BUILT_IN_STRENGTHS: tuple[dict[str, Any], ...] = (
    {
        "id": MFA_STRENGTH_ID,
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
    },
    {
        "id": PASSWORDLESS_STRENGTH_ID,
        "displayName": "Passwordless MFA",
        "policyType": "builtIn",
        "requirementsSatisfied": "mfa",
        "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"],
    },
    {
        "id": PHISHING_RESISTANT_STRENGTH_ID,
        "displayName": "Phishing resistant MFA",
        "policyType": "builtIn",
        "requirementsSatisfied": "mfa",
        "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
    },
)
STRONG_STRENGTH: dict[str, Any] = {
    "id": str(uuid.uuid5(NS, "strength/strong-no-phone")),
    "displayName": "Strong MFA (no phone methods)",
    "policyType": "custom",
    "requirementsSatisfied": "mfa",
    "allowedCombinations": [
        "windowsHelloForBusiness",
        "fido2",
        "x509CertificateMultiFactor",
        "deviceBasedPush",
        "password,microsoftAuthenticatorPush",
        "password,softwareOath",
        "password,hardwareOath",
    ],
}

_STATE = {
    PolicyState.ENFORCED: "enabled",
    PolicyState.REPORT_ONLY: "enabledForReportingButNotEnforced",
    PolicyState.DISABLED: "disabled",
}
_NETWORK = re.compile(r"^(includes|excludes) location '(.+)'$")
ALL_GUEST_TYPES = (
    "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider"
)


def uid(*parts: object) -> str:
    return str(uuid.uuid5(NS, "/".join(str(p) for p in parts)))


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def app_id(portal_id: str, tags: tuple[str, ...]) -> str:
    # The Office 365 portal keeps its real app id so that the ``Office365`` keyword finds it.
    return OFFICE365_PORTAL_APP_ID if "office365" in tags else uid("app", portal_id)


def graph_upn(principal: str) -> str:
    """Graph spells a guest's marker ``#EXT#`` in capitals; the truth is case-folded."""
    return principal.replace("#ext#", "#EXT#")


def user_json(a: Account) -> dict[str, Any]:
    first, _, last = a.display_name.partition(" ")
    return {
        "id": a.id,
        "userPrincipalName": graph_upn(a.principal),
        "displayName": a.display_name,
        "givenName": first,
        "surname": last or None,
        "mail": None if a.kind is AccountKind.GUEST else a.principal,
        "jobTitle": None,
        "businessPhones": [],
        "accountEnabled": a.enabled,
        "userType": "Guest" if a.kind is AccountKind.GUEST else "Member",
        "createdDateTime": iso(a.created),
        "signInActivity": {
            "lastSignInDateTime": iso(a.last_sign_in),
            "lastSignInRequestId": uid("signin", a.id) if a.last_sign_in else None,
            "lastNonInteractiveSignInDateTime": None,
            "lastNonInteractiveSignInRequestId": None,
        },
        "onPremisesSyncEnabled": None,
        "department": a.attributes.get("department"),
        "employeeType": a.attributes.get("employment"),
    }


USER_DEFAULT_FIELDS = (
    "id",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "jobTitle",
    "businessPhones",
    "userPrincipalName",
)

_METHOD_OBJECTS: Mapping[MethodKind, tuple[str, dict[str, Any]]] = {
    MethodKind.SMS: ("phoneAuthenticationMethod", {"phoneType": "mobile", "smsSignInState": "notAllowedByPolicy"}),
    MethodKind.VOICE: ("phoneAuthenticationMethod", {"phoneType": "office", "smsSignInState": "notSupported"}),
    MethodKind.EMAIL_OTP: ("emailAuthenticationMethod", {}),
    MethodKind.RECOVERY_EMAIL: ("emailAuthenticationMethod", {}),
    MethodKind.AUTHENTICATOR_PUSH: (
        "microsoftAuthenticatorAuthenticationMethod",
        {"deviceTag": "SoftwareTokenActivated"},
    ),
    MethodKind.TOTP_SOFTWARE: ("softwareOathAuthenticationMethod", {}),
    MethodKind.FIDO2_SECURITY_KEY: (
        "fido2AuthenticationMethod",
        {"model": "YubiKey 5 NFC", "aaGuid": "cb69481e-8ff7-4039-93ec-0a2729a154a8"},
    ),
    MethodKind.PASSKEY: (
        "fido2AuthenticationMethod",
        {"model": "Microsoft Authenticator", "passkeyType": "deviceBound"},
    ),
    MethodKind.WINDOWS_HELLO: ("windowsHelloForBusinessAuthenticationMethod", {"keyStrength": "normal"}),
}


def method_objects(a: Account, unknown: str | None) -> list[dict[str, Any]]:
    """``/users/{id}/authentication/methods``: the password plus each active method.
    Entra has no "pending" method: a pending enrolment in the truth is not served."""
    out: list[dict[str, Any]] = [
        {
            "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
            "id": "28c10230-6103-485e-b985-444c60001490",
            "password": None,
            "createdDateTime": iso(a.created),
        }
    ]
    for i, m in enumerate(a.methods):
        if m.status is not MethodStatus.ACTIVE:
            continue
        if m.kind is MethodKind.VOICE and m.vendor_label == "mobilePhone":
            continue  # the voice side of a mobile phone: the same phone, served once
        name, extra = _METHOD_OBJECTS[m.kind]
        obj: dict[str, Any] = {"@odata.type": f"#microsoft.graph.{name}", "id": uid("method", a.id, i)}
        obj.update(extra)
        if name == "phoneAuthenticationMethod":
            obj["phoneNumber"] = "+33 6" + a.id[-8:]
        elif name == "emailAuthenticationMethod":
            obj["emailAddress"] = f"{a.id}@example.org"
        else:
            obj["createdDateTime"] = iso(m.registered_at)
            obj["displayName"] = m.vendor_label
        out.append(obj)
    if unknown:
        out.append({"@odata.type": f"#microsoft.graph.{unknown}", "id": uid("method", a.id, "unknown")})
    return out


def registration_row(a: Account, unknown: str | None) -> dict[str, Any]:
    # One label per registered method (a mobile phone is one label for SMS and voice).
    labels = list(dict.fromkeys(m.vendor_label for m in a.methods if m.status is MethodStatus.ACTIVE))
    if unknown:
        labels.append(unknown)
    strong = any(m.strength.rank >= 2 for m in a.methods if m.status is MethodStatus.ACTIVE)
    return {
        "id": a.id,
        "userPrincipalName": graph_upn(a.principal),
        "userDisplayName": a.display_name,
        "userType": "guest" if a.kind is AccountKind.GUEST else "member",
        "isAdmin": a.privileged,
        "isSsprRegistered": bool(labels),
        "isSsprEnabled": True,
        "isSsprCapable": bool(labels),
        "isMfaRegistered": bool(labels),
        "isMfaCapable": bool(labels),
        "isPasswordlessCapable": strong,
        "isSystemPreferredAuthenticationMethodEnabled": True,
        "systemPreferredAuthenticationMethods": [],
        "userPreferredMethodForSecondaryAuthentication": "none",
        "methodsRegistered": labels,
        "lastUpdatedDateTime": iso(a.created),
    }


# --- Conditional Access ------------------------------------------------------------------


@dataclass(slots=True)
class CaWriter:
    """Model policies → ``conditionalAccessPolicy`` JSON (the truth's vocabulary only)."""

    app_ids: Mapping[str, str]  # portal id → appId
    locations: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → namedLocation

    def location(self, name: str) -> str:
        if name not in self.locations:
            self.locations[name] = {
                "@odata.type": "#microsoft.graph.ipNamedLocation",
                "id": uid("location", name),
                "displayName": name,
                "isTrusted": True,
                "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "192.0.2.0/24"}],
            }
        return str(self.locations[name]["id"])

    def _app_ref(self, portal: str) -> str:
        """The Office 365 portal is named through the ``Office365`` app group, as admins do."""
        app = self.app_ids[portal]
        return "Office365" if app == OFFICE365_PORTAL_APP_ID else app

    def users(self, s: Scope) -> dict[str, Any]:
        include = ["All"] if s.include_all else list(s.include_users)
        if not include and not (s.include_groups or s.include_roles or s.include_guests):
            include = ["None"]
        guests = {
            "guestOrExternalUserTypes": ALL_GUEST_TYPES,
            "externalTenants": {
                "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                "membershipKind": "all",
            },
        }
        return {
            "includeUsers": include,
            "excludeUsers": list(s.exclude_users),
            "includeGroups": list(s.include_groups),
            "excludeGroups": list(s.exclude_groups),
            "includeRoles": list(s.include_roles),
            "excludeRoles": list(s.exclude_roles),
            "includeGuestsOrExternalUsers": guests if s.include_guests else None,
            "excludeGuestsOrExternalUsers": guests if s.exclude_guests else None,
        }

    def policy(self, p: Policy) -> dict[str, Any]:
        if len(p.rules) != 1:
            raise ValueError(f"policy {p.id}: a Conditional Access policy has exactly one rule")
        rule = p.rules[0]
        locations: dict[str, Any] | None = None
        controls: list[str] = []
        strength: dict[str, Any] | None = None
        for c in rule.conditions:
            m = _NETWORK.match(c.detail)
            if c.kind is ConditionKind.NETWORK and m:
                loc = self.location(m.group(2))
                inc = m.group(1) == "includes"
                locations = {"includeLocations": [loc] if inc else ["All"], "excludeLocations": [] if inc else [loc]}
            elif c.kind is ConditionKind.ALTERNATIVE_CONTROL:
                controls.append("compliantDevice")
            else:
                raise ValueError(f"policy {p.id}: the Graph sandbox cannot express condition {c}")
        if rule.requirement is Requirement.BLOCK:
            controls = ["block"]
        elif rule.requirement is Requirement.MFA and rule.accepted_methods:
            # MFA through the built-in "Multifactor authentication" strength, returned in full.
            strength = dict(BUILT_IN_STRENGTHS[0])
        elif rule.requirement is Requirement.MFA:
            controls.insert(0, "mfa")
        elif rule.requirement is Requirement.STRONG:
            # Custom strengths come back by reference: the connector looks them up.
            strength = {"id": STRONG_STRENGTH["id"], "displayName": STRONG_STRENGTH["displayName"]}
        elif rule.requirement is Requirement.PHISHING_RESISTANT:
            strength = dict(BUILT_IN_STRENGTHS[2])
        ports = rule.portals
        return {
            "id": p.id,
            "templateId": None,
            "displayName": p.name,
            "createdDateTime": "2025-01-06T10:00:00Z",
            "modifiedDateTime": "2026-09-01T08:30:00Z",
            "state": _STATE[p.state],
            "conditions": {
                "userRiskLevels": [],
                "signInRiskLevels": [],
                "clientAppTypes": ["all"],
                "servicePrincipalRiskLevels": [],
                "platforms": None,
                "locations": locations,
                "devices": None,
                "clientApplications": None,
                "applications": {
                    "includeApplications": ["All"] if ports.all else [self.app_ids[i] for i in ports.ids],
                    "excludeApplications": [self._app_ref(i) for i in ports.excluded_ids],
                    "includeUserActions": [],
                    "includeAuthenticationContextClassReferences": [],
                    "applicationFilter": None,
                },
                "users": self.users(rule.scope),
            },
            "grantControls": None
            if rule.requirement is Requirement.NONE and not controls
            else {
                "operator": "OR",
                "builtInControls": controls,
                "customAuthenticationFactors": [],
                "termsOfUse": [],
                "authenticationStrength": strength,
            },
            "sessionControls": None,
        }


# --- the authentication methods policy ---------------------------------------------------

# Method configuration id → its ``@odata.type`` (Graph's authenticationMethodConfiguration
# subtypes). Windows Hello for Business has no configuration there.
_METHOD_CONFIGURATIONS = {
    "Fido2": "fido2AuthenticationMethodConfiguration",
    "MicrosoftAuthenticator": "microsoftAuthenticatorAuthenticationMethodConfiguration",
    "Sms": "smsAuthenticationMethodConfiguration",
    "Voice": "voiceAuthenticationMethodConfiguration",
    "Email": "emailAuthenticationMethodConfiguration",
    "TemporaryAccessPass": "temporaryAccessPassAuthenticationMethodConfiguration",
    "SoftwareOath": "softwareOathAuthenticationMethodConfiguration",
    "HardwareOath": "hardwareOathAuthenticationMethodConfiguration",
    "X509Certificate": "x509CertificateAuthenticationMethodConfiguration",
}


def _method_targets(s: Scope) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    include: list[dict[str, Any]] = [{"targetType": "group", "id": "all_users"}] if s.include_all else []
    include += [{"targetType": "group", "id": g} for g in s.include_groups]
    include += [{"targetType": "user", "id": u} for u in s.include_users]
    exclude = [{"targetType": "group", "id": g} for g in s.exclude_groups]
    exclude += [{"targetType": "user", "id": u} for u in s.exclude_users]
    for t in include:
        t["isRegistrationRequired"] = False
    return include, exclude


def methods_policy_json(allowances: tuple[MethodAllowance, ...]) -> dict[str, Any]:
    """The truth's allowances as ``GET /policies/authenticationMethodsPolicy`` returns them."""
    configs: list[dict[str, Any]] = []
    by_config: dict[str, list[MethodAllowance]] = defaultdict(list)
    for a in allowances:
        if a.vendor_label in _METHOD_CONFIGURATIONS:
            by_config[a.vendor_label].append(a)
    for cid, group in by_config.items():
        first = group[0]
        obj: dict[str, Any] = {
            "@odata.type": f"#microsoft.graph.{_METHOD_CONFIGURATIONS[cid]}",
            "id": cid,
            "state": "enabled" if any(a.enabled for a in group) else "disabled",
        }
        include, exclude = _method_targets(first.scope)
        if cid == "MicrosoftAuthenticator":
            kinds = {a.kind for a in group if a.enabled}
            mode = (
                "any"
                if kinds == {MethodKind.AUTHENTICATOR_PUSH, MethodKind.AUTHENTICATOR_PASSWORDLESS}
                else ("deviceBasedPush" if MethodKind.AUTHENTICATOR_PASSWORDLESS in kinds else "push")
            )
            for t in include:
                t["authenticationMode"] = mode
        if cid == "Email":
            obj["allowExternalIdToUseEmailOtp"] = "enabled" if first.scope.include_guests else "disabled"
        obj["includeTargets"] = include
        obj["excludeTargets"] = exclude
        configs.append(obj)
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#authenticationMethodsPolicy",
        "id": "authenticationMethodsPolicy",
        "displayName": "Authentication Methods Policy",
        "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant",
        "lastModifiedDateTime": "2026-09-01T08:30:00Z",
        "policyVersion": "1.5",
        "policyMigrationState": "migrationComplete",
        "registrationEnforcement": {
            "authenticationMethodsRegistrationCampaign": {
                "snoozeDurationInDays": 1,
                "state": "default",
                "excludeTargets": [],
                "includeTargets": [
                    {"id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator"}
                ],
            }
        },
        "authenticationMethodConfigurations": configs,
    }


# --- the tenant ------------------------------------------------------------------------


@dataclass(slots=True)
class Tenant:
    """Every collection the sandbox serves, precomputed once."""

    users: list[dict[str, Any]]
    registration: list[dict[str, Any]]
    methods: dict[str, list[dict[str, Any]]]
    role_assignments: list[dict[str, Any]]
    role_eligibility: list[dict[str, Any]]
    service_principals: list[dict[str, Any]]
    assigned_to: dict[str, list[dict[str, Any]]]
    group_members: dict[str, list[dict[str, Any]]]
    groups: dict[str, dict[str, Any]]
    ca_policies: list[dict[str, Any]]
    named_locations: list[dict[str, Any]]
    strengths: list[dict[str, Any]]
    methods_policy: dict[str, Any]
    sign_ins: list[dict[str, Any]]
    user_ids: frozenset[str]


def build_tenant(
    org: SampleOrg,
    *,
    unknown_methods: Mapping[str, str] | None = None,
    extra_policies: tuple[Mapping[str, Any], ...] = (),
) -> Tenant:
    truth = org.truth("entra")
    unknown_methods = unknown_methods or {}
    eligible = set(org.eligible_roles.get("entra", ()))
    by_id = {a.id: a for a in truth.accounts}
    users = [user_json(a) for a in truth.accounts]
    registration = [registration_row(a, unknown_methods.get(a.id)) for a in truth.accounts]
    methods: dict[str, list[dict[str, Any]]] = {
        a.id: method_objects(a, unknown_methods.get(a.id)) for a in truth.accounts
    }
    active, schedules = [], []
    for a in truth.accounts:
        for role in a.roles:
            if a.id in eligible:
                schedules.append(
                    {
                        "id": uid("eligible", a.id, role),
                        "principalId": a.id,
                        "roleDefinitionId": role,
                        "directoryScopeId": "/",
                        "appScopeId": None,
                        "memberType": "Direct",
                        "status": "Provisioned",
                        "createdDateTime": iso(a.created),
                        "createdUsing": uid("eligible", a.id, role),
                        "scheduleInfo": {"startDateTime": iso(a.created), "expiration": {"type": "noExpiration"}},
                    }
                )
            else:
                active.append(
                    {
                        "id": uid("assignment", a.id, role),
                        "principalId": a.id,
                        "roleDefinitionId": role,
                        "directoryScopeId": "/",
                    }
                )
    app_ids: dict[str, str] = {p.id: app_id(p.id, p.tags) for p in truth.portals}
    sps = [
        {
            "id": p.id,
            "appId": app_ids[p.id],
            "displayName": p.name,
            "appRoleAssignmentRequired": p.assignment_required,
            "accountEnabled": True,
            "servicePrincipalType": "Application",
            "tags": list(p.tags),
            # Microsoft's first-party apps belong to Microsoft's tenant; the others to this one.
            "appOwnerOrganizationId": MICROSOFT_SERVICES_TENANT if "office365" in p.tags else TENANT_ID,
        }
        for p in truth.portals
    ]
    # Not a portal: a managed identity nobody signs in to.
    sps.append(
        {
            "id": "sp-backup-identity",
            "appId": uid("app", "backup-mi"),
            "displayName": "backup-automation",
            "appRoleAssignmentRequired": False,
            "accountEnabled": True,
            "servicePrincipalType": "ManagedIdentity",
            "tags": [],
        }
    )
    portal_names = {p.id: p.name for p in truth.portals}
    group_names = org.group_names.get("entra", {})
    assigned: dict[str, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
    for acc in truth.access:
        if acc.via is AccessVia.EVERYONE:
            continue
        if acc.via is AccessVia.GROUP and acc.via_ref:
            key, ptype, name = ("Group", acc.via_ref), "Group", group_names.get(acc.via_ref, acc.via_ref)
        else:
            key, ptype, name = ("User", acc.account_id), "User", by_id[acc.account_id].display_name
        assigned[acc.portal_id].setdefault(
            key,
            {
                "id": uid("approle", acc.portal_id, key[1]),
                "appRoleId": DEFAULT_ACCESS_ROLE,
                "principalId": key[1],
                "principalType": ptype,
                "principalDisplayName": name,
                "resourceId": acc.portal_id,
                "resourceDisplayName": portal_names.get(acc.portal_id, acc.portal_id),
                "createdDateTime": "2025-03-01T09:00:00Z",
            },
        )
    members: dict[str, list[dict[str, Any]]] = {g: [] for g in group_names}
    for a in truth.accounts:
        for g in a.groups:
            members.setdefault(g, []).append(
                {"@odata.type": "#microsoft.graph.user", "id": a.id, "displayName": a.display_name}
            )
    if "g-it-admins" in members and "g-breakglass" in members:
        # Nested: transitiveMembers lists the nested group itself besides its users.
        members["g-it-admins"].insert(
            0,
            {"@odata.type": "#microsoft.graph.group", "id": "g-breakglass", "displayName": group_names["g-breakglass"]},
        )
    groups = {
        g: {"id": g, "displayName": n, "securityEnabled": True, "mailEnabled": False} for g, n in group_names.items()
    }
    writer = CaWriter(app_ids)
    ca = [writer.policy(p) for p in truth.policies]
    ca.extend(dict(p) for p in extra_policies)
    portal_app = {p.id: app_ids[p.id] for p in truth.portals}
    sign_ins: list[dict[str, Any]] = []
    for n, s in enumerate(truth.sign_ins):
        a = by_id[s.account_id]
        base = {
            "createdDateTime": iso(s.time),
            "userId": s.account_id,
            "userPrincipalName": graph_upn(a.principal),
            "userDisplayName": a.display_name,
            "appId": portal_app[s.portal_id],
            "appDisplayName": portal_names[s.portal_id],
            "clientAppUsed": "Browser" if s.client_app == "browser" else s.client_app,
            "isInteractive": True,
            "ipAddress": "192.0.2.10",
        }
        if n % 10 == 0:
            # A failed attempt just before: no access was granted, the connector must skip it.
            sign_ins.append(
                {
                    **base,
                    "id": uid("signin-failed", n),
                    "createdDateTime": iso(s.time),
                    "authenticationRequirement": "singleFactorAuthentication",
                    "status": {"errorCode": 50126, "failureReason": "Invalid username or password."},
                    "conditionalAccessStatus": "notApplied",
                }
            )
        sign_ins.append(
            {
                **base,
                "id": uid("signin", n),
                "authenticationRequirement": "multiFactorAuthentication"
                if s.factor.value == "multi"
                else "singleFactorAuthentication",
                "status": {"errorCode": 0, "failureReason": None},
                "conditionalAccessStatus": "success",
            }
        )
    sign_ins.sort(key=lambda x: str(x["createdDateTime"]), reverse=True)  # newest first, as Graph serves them
    return Tenant(
        users=users,
        registration=registration,
        methods=methods,
        role_assignments=active,
        role_eligibility=schedules,
        service_principals=sps,
        assigned_to={k: list(v.values()) for k, v in assigned.items()},
        group_members=members,
        groups=groups,
        ca_policies=ca,
        named_locations=list(writer.locations.values()),
        strengths=[*(dict(s) for s in BUILT_IN_STRENGTHS), dict(STRONG_STRENGTH)],
        methods_policy=methods_policy_json(truth.method_policy),
        sign_ins=sign_ins,
        user_ids=frozenset(by_id),
    )
