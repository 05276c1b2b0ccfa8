"""The sample organisation's ``okta`` truth in Okta's Management API shapes.

Pure conversion, model → Okta JSON. The connector's parse layer does the reverse, so a
round trip through the sandbox must give the truth back (minus what Okta cannot say:
portal tags). Every enum value here is one the okta SDK's pydantic models accept, unless
a test asks for a schema-invalid record on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.model import (
    Account,
    Condition,
    ConditionKind,
    Method,
    MethodKind,
    MethodStatus,
    Policy,
    PolicyRule,
    PolicyState,
    Portal,
    Requirement,
    SignIn,
    SignInFactor,
    SourceSnapshot,
)

Json = dict[str, Any]

ACCESS_KINDS = frozenset({"okta_access_policy"})
SIGN_ON_KINDS = frozenset({"okta_global_session", "okta_sign_on"})
ENROLL_KINDS = frozenset({"okta_mfa_enroll"})

# Factor JSON per model kind: (factorType, provider, vendorName).
FACTOR_SHAPES: Mapping[MethodKind, tuple[str, str, str]] = {
    MethodKind.SMS: ("sms", "OKTA", "OKTA"),
    MethodKind.VOICE: ("call", "OKTA", "OKTA"),
    MethodKind.EMAIL_OTP: ("email", "OKTA", "OKTA"),
    MethodKind.AUTHENTICATOR_PUSH: ("push", "OKTA", "OKTA"),
    MethodKind.TOTP_SOFTWARE: ("token:software:totp", "OKTA", "OKTA"),
    MethodKind.FIDO2_SECURITY_KEY: ("webauthn", "FIDO", "FIDO"),
    MethodKind.HARDWARE_OTP: ("token:hardware", "YUBICO", "YUBICO"),
    MethodKind.SECURITY_QUESTION: ("question", "OKTA", "OKTA"),
    MethodKind.OKTA_FASTPASS: ("signed_nonce", "OKTA", "OKTA"),
    MethodKind.AUTHENTICATOR_PASSWORDLESS: ("signed_nonce", "OKTA", "OKTA"),
}


def iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _links(base: str, path: str, **extra: str) -> Json:
    out: Json = {"self": {"href": f"{base}{path}"}}
    for name, href in extra.items():
        out[name] = {"href": href}
    return out


def user_json(base: str, account: Account) -> Json:
    first, _, last = account.display_name.partition(" ")
    status = account.attributes.get("okta_status", "ACTIVE" if account.enabled else "SUSPENDED")
    created = iso(account.created)
    return {
        "id": account.id,
        "status": status,
        "created": created,
        "activated": created,
        "statusChanged": created,
        "lastLogin": iso(account.last_sign_in),
        "lastUpdated": created,
        "passwordChanged": created,
        "type": {"id": "oty-default"},
        "profile": {
            "firstName": first,
            "lastName": last,
            "displayName": account.display_name,
            "email": account.principal,
            "login": account.principal,
        },
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": _links(base, f"/api/v1/users/{account.id}"),
    }


def factor_json(base: str, user_id: str, index: int, method: Method) -> Json:
    factor_type, provider, vendor = FACTOR_SHAPES.get(method.kind, (method.vendor_label, "OKTA", "OKTA"))
    if method.vendor_label and method.kind not in (MethodKind.OKTA_FASTPASS, MethodKind.AUTHENTICATOR_PASSWORDLESS):
        factor_type = method.vendor_label  # e.g. "webauthn" for a Windows Hello key: Okta says WebAuthn
    fid = f"fct{user_id[-8:]}{index:02d}"
    profile: Json = {}
    if factor_type in ("sms", "call"):
        profile = {"phoneNumber": "+33600000000"}
    elif factor_type == "email":
        profile = {"email": "factor@example.invalid"}
    elif factor_type == "push":
        profile = {"credentialId": f"{user_id}@okta", "deviceType": "SmartPhone_IPhone", "platform": "IOS"}
    elif factor_type == "webauthn":
        profile = {"credentialId": f"cred-{fid}", "authenticatorName": "Security key"}
    elif factor_type == "signed_nonce":
        kpr = "HARDWARE" if method.kind is MethodKind.OKTA_FASTPASS else "SOFTWARE"
        profile = {
            "deviceType": "SmartPhone_IPhone",
            "name": "iPhone",
            "platform": "IOS",
            "version": "17.0",
            "keys": [{"kty": "EC", "use": "sig", "kid": "default", "okta:kpr": kpr}],
        }
    created = iso(method.registered_at) or "2025-01-01T00:00:00.000Z"
    return {
        "id": fid,
        "factorType": factor_type,
        "provider": provider,
        "vendorName": vendor,
        "status": "ACTIVE" if method.status is MethodStatus.ACTIVE else "PENDING_ACTIVATION",
        "created": created,
        "lastUpdated": created,
        "profile": profile,
        "_links": _links(base, f"/api/v1/users/{user_id}/factors/{fid}"),
    }


def group_json(base: str, gid: str, name: str) -> Json:
    return {
        "id": gid,
        "created": "2024-01-01T00:00:00.000Z",
        "lastUpdated": "2024-01-01T00:00:00.000Z",
        "lastMembershipUpdated": "2024-01-01T00:00:00.000Z",
        "objectClass": ["okta:user_group"],
        "type": "OKTA_GROUP",
        "profile": {"name": name, "description": name},
        "_links": _links(base, f"/api/v1/groups/{gid}", users=f"{base}/api/v1/groups/{gid}/users"),
    }


def role_json(role: str, label: str, assignment: str, index: int) -> Json:
    return {
        "id": f"ra{index:06d}{role[:6].lower()}",
        "label": label,
        "type": role,
        "status": "ACTIVE",
        "created": "2024-01-01T00:00:00.000Z",
        "lastUpdated": "2024-01-01T00:00:00.000Z",
        "assignmentType": assignment,
    }


def app_json(base: str, portal: Portal, policy_id: str | None) -> Json:
    links = _links(
        base,
        f"/api/v1/apps/{portal.id}",
        users=f"{base}/api/v1/apps/{portal.id}/users",
        groups=f"{base}/api/v1/apps/{portal.id}/groups",
    )
    if policy_id is not None:
        links["accessPolicy"] = {"href": f"{base}/api/v1/policies/{policy_id}"}
    return {
        "id": portal.id,
        "name": "bookmark",
        "label": portal.name,
        "status": "ACTIVE",
        "created": "2024-01-01T00:00:00.000Z",
        "lastUpdated": "2024-01-01T00:00:00.000Z",
        "signOnMode": "BOOKMARK",
        "accessibility": {"selfService": False, "errorRedirectUrl": None, "loginRedirectUrl": None},
        "visibility": {"autoSubmitToolbar": False, "hide": {"iOS": False, "web": False}},
        "features": [],
        "settings": {"app": {"url": f"https://apps.example.invalid/{portal.id}", "requestIntegration": False}},
        "_links": links,
    }


def app_user_json(base: str, app_id: str, account: Account, scope: str) -> Json:
    return {
        "id": account.id,
        "scope": scope,
        "status": "ACTIVE",
        "created": "2024-01-01T00:00:00.000Z",
        "lastUpdated": "2024-01-01T00:00:00.000Z",
        "statusChanged": "2024-01-01T00:00:00.000Z",
        "syncState": "DISABLED",
        "credentials": {"userName": account.principal},
        "profile": {},
        "_links": _links(base, f"/api/v1/apps/{app_id}/users/{account.id}"),
    }


def app_group_json(base: str, app_id: str, gid: str, priority: int) -> Json:
    return {
        "id": gid,
        "priority": priority,
        "lastUpdated": "2024-01-01T00:00:00.000Z",
        "profile": {},
        "_links": _links(base, f"/api/v1/apps/{app_id}/groups/{gid}"),
    }


# --- policies --------------------------------------------------------------------------

_ZONE = re.compile(r"(excludes )?zones? '([^']+)'")


def zone_id(name: str) -> str:
    return "nzo" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def zone_json(base: str, name: str) -> Json:
    zid = zone_id(name)
    return {
        "id": zid,
        "name": name,
        "type": "IP",
        "status": "ACTIVE",
        "usage": "POLICY",
        "system": False,
        "gateways": [{"type": "CIDR", "value": "192.0.2.0/24"}],
        "proxies": None,
        "created": "2024-01-01T00:00:00.000Z",
        "lastUpdated": "2024-01-01T00:00:00.000Z",
        "_links": _links(base, f"/api/v1/zones/{zid}"),
    }


def zone_names(policies: Iterable[Policy]) -> list[str]:
    names: list[str] = []
    for policy in policies:
        for rule in policy.rules:
            for cond in rule.conditions:
                m = _ZONE.search(cond.detail) if cond.kind is ConditionKind.NETWORK else None
                if m and m.group(2) not in names:
                    names.append(m.group(2))
    return names


def _people(rule: PolicyRule) -> Json:
    s = rule.scope
    return {
        "users": {"include": list(s.include_users), "exclude": list(s.exclude_users)},
        "groups": {"include": list(s.include_groups), "exclude": list(s.exclude_groups)},
    }


def _conditions(rule: PolicyRule) -> Json:
    out: Json = {"people": _people(rule), "network": {"connection": "ANYWHERE"}, "riskScore": {"level": "ANY"}}
    for cond in rule.conditions:
        if cond.kind is ConditionKind.NETWORK:
            m = _ZONE.search(cond.detail)
            zid = zone_id(m.group(2)) if m else zone_id(cond.detail)
            key = "exclude" if m and m.group(1) else "include"
            out["network"] = {"connection": "ZONE", key: [zid]}
        elif cond.kind is ConditionKind.PLATFORM:
            out["platform"] = {"include": [{"type": "MOBILE", "os": {"type": "ANY"}}], "exclude": []}
        elif cond.kind is ConditionKind.RISK:
            out["riskScore"] = {"level": "LOW"}
        elif cond.kind is ConditionKind.DEVICE:
            out["device"] = {"registered": True, "managed": True}
        else:
            out["elCondition"] = {"condition": cond.detail}
    return out


def _app_sign_on(requirement: Requirement) -> Json:
    if requirement is Requirement.BLOCK:
        return {"access": "DENY"}
    method: Json = {
        "type": "ASSURANCE",
        "factorMode": "1FA" if requirement is Requirement.NONE else "2FA",
        "reauthenticateIn": "PT2H",
    }
    if requirement is Requirement.PHISHING_RESISTANT:
        method["constraints"] = [{"possession": {"required": True, "phishingResistant": "REQUIRED"}}]
    elif requirement is Requirement.STRONG:
        method["constraints"] = [{"possession": {"required": True, "hardwareProtection": "REQUIRED"}}]
    return {"access": "ALLOW", "verificationMethod": method}


def _policy_base(base: str, policy: Policy, ptype: str, priority: int) -> Json:
    return {
        "id": policy.id,
        "type": ptype,
        "name": policy.name,
        "description": policy.name,
        "status": "INACTIVE" if policy.state is PolicyState.DISABLED else "ACTIVE",
        "priority": priority,
        "system": False,
        "created": "2024-01-01T00:00:00.000Z",
        "lastUpdated": "2024-01-01T00:00:00.000Z",
        "_links": _links(
            base,
            f"/api/v1/policies/{policy.id}",
            rules=f"{base}/api/v1/policies/{policy.id}/rules",
            mappings=f"{base}/api/v1/policies/{policy.id}/mappings",
        ),
    }


def _rule_base(base: str, policy_id: str, rule: PolicyRule, rtype: str, priority: int) -> Json:
    return {
        "id": rule.id,
        "type": rtype,
        "name": rule.name,
        "status": "ACTIVE",
        "priority": priority,
        "system": False,
        "created": "2024-01-01T00:00:00.000Z",
        "lastUpdated": "2024-01-01T00:00:00.000Z",
        "_links": _links(base, f"/api/v1/policies/{policy_id}/rules/{rule.id}"),
    }


@dataclass(frozen=True, slots=True)
class OktaPolicy:
    """One policy as the API serves it: the policy object and its rules."""

    type: str
    policy: Json
    rules: tuple[Json, ...]


def policy_json(base: str, policy: Policy, priority: int) -> OktaPolicy:
    if policy.vendor_kind in SIGN_ON_KINDS:
        rules = []
        for i, rule in enumerate(policy.rules, 1):
            r = _rule_base(base, policy.id, rule, "SIGN_ON", i)
            r["conditions"] = _conditions(rule)
            req = rule.requirement
            r["actions"] = {
                "signon": {
                    "access": "DENY" if req is Requirement.BLOCK else "ALLOW",
                    "requireFactor": req not in (Requirement.NONE, Requirement.BLOCK),
                    "factorPromptMode": "ALWAYS",
                    "primaryFactor": "PASSWORD_IDP_ANY_FACTOR",
                    "rememberDeviceByDefault": False,
                    "session": {
                        "usePersistentCookie": False,
                        "maxSessionIdleMinutes": 120,
                        "maxSessionLifetimeMinutes": 0,
                    },
                }
            }
            if req not in (Requirement.NONE, Requirement.BLOCK):
                r["actions"]["signon"]["factorLifetime"] = 15
            rules.append(r)
        p = _policy_base(base, policy, "OKTA_SIGN_ON", priority)
        p["conditions"] = {"people": {"groups": {"include": []}}}
        return OktaPolicy("OKTA_SIGN_ON", p, tuple(rules))
    if policy.vendor_kind in ENROLL_KINDS:
        rules = []
        for i, rule in enumerate(policy.rules, 1):
            r = _rule_base(base, policy.id, rule, "MFA_ENROLL", i)
            r["conditions"] = {"people": _people(rule), "network": {"connection": "ANYWHERE"}}
            r["actions"] = {"enroll": {"self": "CHALLENGE"}}
            rules.append(r)
        p = _policy_base(base, policy, "MFA_ENROLL", priority)
        p["conditions"] = {"people": {"groups": {"include": []}}}
        p["settings"] = {"type": "FACTORS", "factors": {"okta_otp": {"enroll": {"self": "OPTIONAL"}}}}
        return OktaPolicy("MFA_ENROLL", p, tuple(rules))
    rules = []
    for i, rule in enumerate(policy.rules, 1):
        r = _rule_base(base, policy.id, rule, "ACCESS_POLICY", i)
        r["conditions"] = _conditions(rule)
        r["actions"] = {"appSignOn": _app_sign_on(rule.requirement)}
        rules.append(r)
    p = _policy_base(base, policy, "ACCESS_POLICY", priority)
    p["conditions"] = None
    return OktaPolicy("ACCESS_POLICY", p, tuple(rules))


def app_policy_links(policies: Iterable[Policy]) -> dict[str, str]:
    """App id → the access policy its sign-ins use (Okta: exactly one per app)."""
    out: dict[str, str] = {}
    for policy in policies:
        if policy.vendor_kind not in ACCESS_KINDS:
            continue
        for rule in policy.rules:
            for pid in rule.portals.ids:
                out.setdefault(pid, policy.id)
    return out


# --- system log ------------------------------------------------------------------------


def log_events(truth: SourceSnapshot, sign_ins: Iterable[SignIn]) -> list[Json]:
    """Each sign-in as a ``user.authentication.sso`` event; a multi-factor one is preceded
    in the same session by a successful ``user.authentication.auth_via_mfa``."""
    accounts = {a.id: a for a in truth.accounts}
    names = {p.id: p.name for p in truth.portals}
    out: list[Json] = []
    for n, s in enumerate(sign_ins):
        account = accounts.get(s.account_id)
        session = f"idx{n:010d}"
        actor = {
            "id": s.account_id,
            "type": "User",
            "alternateId": account.principal if account else "unknown",
            "displayName": account.display_name if account else "unknown",
        }
        client = {
            "userAgent": {
                "rawUserAgent": "Mozilla/5.0",
                "os": "Windows 10",
                "browser": "CHROME" if s.client_app == "browser" else "UNKNOWN",
            },
            "zone": "null",
            "device": "Computer",
            "ipAddress": "192.0.2.10",
        }
        common = {
            "actor": actor,
            "client": client,
            "authenticationContext": {"externalSessionId": session},
            "severity": "INFO",
            "version": "0",
        }
        if s.factor is SignInFactor.MULTI:
            out.append(
                {
                    "uuid": f"mfa-{n:08d}",
                    "published": iso(s.time - timedelta(seconds=5)),
                    "eventType": "user.authentication.auth_via_mfa",
                    "displayMessage": "Authentication of user via MFA",
                    "outcome": {"result": "SUCCESS"},
                    "target": [],
                    **common,
                }
            )
        out.append(
            {
                "uuid": f"sso-{n:08d}",
                "published": iso(s.time),
                "eventType": "user.authentication.sso",
                "displayMessage": "User single sign on to app",
                "outcome": {"result": "SUCCESS"},
                "target": [{"id": s.portal_id, "type": "AppInstance", "displayName": names.get(s.portal_id, "")}],
                **common,
            }
        )
    out.sort(key=lambda e: (e["published"], e["uuid"]))
    return out


def condition_details(conditions: Iterable[Condition]) -> list[str]:
    return [c.detail for c in conditions]
