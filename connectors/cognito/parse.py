"""Cognito JSON (as boto3 returns it) → the model. Pure functions, table-driven tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from auditor.model import (
    Account,
    AccountId,
    AccountKind,
    Method,
    MethodKind,
    Portal,
    PortalId,
    SignInFactor,
    SourceIssue,
    SourceName,
    UnreadableRecord,
)
from auditor.text import visible_controls

# AdminGetUser's UserMFASettingList values → kinds. E-mail OTP is a second factor Cognito
# documents as MFA: weak, and under the CNIL profile not a second factor (the engine's
# profile rules decide that, not the connector).
MFA_SETTING_KINDS: Mapping[str, MethodKind] = {
    "SMS_MFA": MethodKind.SMS,
    "SOFTWARE_TOKEN_MFA": MethodKind.TOTP_SOFTWARE,
    "EMAIL_OTP": MethodKind.EMAIL_OTP,
}
# Users who sign in through an external IdP (SAML / OIDC / social): Cognito delegates the
# whole authentication to that IdP and never applies the pool's MFA to them.
FEDERATED_STATUS = "EXTERNAL_PROVIDER"
# Every UserStatus Cognito documents (ARCHIVED and COMPROMISED are older values, still in
# the SDKs' enum). None of them takes an account out of scope: ``Enabled`` does. Any other
# value, or none, is a coded issue and the account stays in scope.
KNOWN_STATUSES = frozenset(
    {
        "UNCONFIRMED",
        "CONFIRMED",
        "ARCHIVED",
        "COMPROMISED",
        "UNKNOWN",
        "RESET_REQUIRED",
        "FORCE_CHANGE_PASSWORD",
        FEDERATED_STATUS,
    }
)


@dataclass(frozen=True, slots=True)
class CognitoUser:
    account: Account
    username: str  # what the Admin* calls take
    status: str
    issue: SourceIssue | None = None  # a status Cognito does not document

    @property
    def federated(self) -> bool:
        return self.status == FEDERATED_STATUS


def _attrs(raw: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(raw, list):
        for a in raw:
            if isinstance(a, Mapping) and isinstance(a.get("Name"), str) and isinstance(a.get("Value"), str):
                out[a["Name"]] = a["Value"]
    return out


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def parse_user(raw: Any, source: SourceName, where: str) -> CognitoUser | UnreadableRecord:
    """One ``ListUsers`` entry. The account id is the ``sub`` (never reused, unlike a
    username after deletion); the principal the e-mail address, else the username."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("Username"), str) or not raw["Username"]:
        return UnreadableRecord(where, "a user without a Username")
    username = raw["Username"]
    attrs = _attrs(raw.get("Attributes"))
    sub = attrs.get("sub")
    if not sub:
        return UnreadableRecord(visible_controls(username), "a user without a sub attribute")
    enabled = raw.get("Enabled")
    if not isinstance(enabled, bool):
        return UnreadableRecord(sub, "Enabled is missing or not true/false")
    status = str(raw.get("UserStatus") or "")
    email = attrs.get("email", "")
    display = attrs.get("name") or " ".join(p for p in (attrs.get("given_name"), attrs.get("family_name")) if p)
    attributes = {"username": username, "user_status": status}
    if attrs.get("email_verified"):
        attributes["email_verified"] = attrs["email_verified"]
    if attrs.get("phone_number_verified"):
        attributes["phone_number_verified"] = attrs["phone_number_verified"]
    account = Account(
        source=source,
        id=AccountId(sub),
        principal=email or username,
        display_name=display or email or username,
        kind=AccountKind.HUMAN,
        enabled=enabled,
        created=_time(raw.get("UserCreateDate")),
        attributes=attributes,
    )
    issue = None
    if status not in KNOWN_STATUSES:
        shown = visible_controls(status)[:40] or "(none)"
        issue = SourceIssue(
            "cognito.user_status_unknown",
            f"user {sub} has UserStatus {shown!r}, not one Cognito documents: kept in scope, judged by Enabled",
            sub,
        )
    return CognitoUser(account, username, status, issue)


def parse_mfa(raw: Mapping[str, Any], user_id: str) -> tuple[tuple[Method, ...], str, list[SourceIssue]]:
    """``AdminGetUser`` → the user's active MFA methods, the preferred one, issues.

    ``UserMFASettingList`` lists the MFA types the user has activated; the legacy
    ``MFAOptions`` (SMS only) is read too, for users set up through the old API.
    Cognito gives no enrolment date. An unknown value becomes an ``unknown`` method
    (never a second factor) with an issue."""
    issues: list[SourceIssue] = []
    seen: dict[MethodKind, Method] = {}
    unknown: list[Method] = []
    settings = raw.get("UserMFASettingList")
    for label in settings if isinstance(settings, list) else ():
        kind = MFA_SETTING_KINDS.get(label) if isinstance(label, str) else None
        if kind is None:
            shown = visible_controls(str(label))[:60]
            unknown.append(Method(MethodKind.UNKNOWN, shown))
            issues.append(
                SourceIssue(
                    "cognito.unknown_mfa_setting",
                    f"user {user_id}: MFA setting {shown!r} is not one the connector knows; not counted",
                    user_id,
                )
            )
        else:
            seen.setdefault(kind, Method(kind, label))
    options = raw.get("MFAOptions")
    for opt in options if isinstance(options, list) else ():
        if isinstance(opt, Mapping) and opt.get("DeliveryMedium") == "SMS" and MethodKind.SMS not in seen:
            seen[MethodKind.SMS] = Method(MethodKind.SMS, "MFAOptions:SMS")
    preferred = raw.get("PreferredMfaSetting")
    methods = tuple(sorted(seen.values(), key=lambda m: m.kind.value)) + tuple(unknown)
    return methods, preferred if isinstance(preferred, str) else "", issues


def parse_client(raw: Any, source: SourceName) -> Portal | None:
    """A ``ListUserPoolClients`` entry → a portal. Every user of the pool can sign in
    through every app client: no assignment."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("ClientId"), str):
        return None
    name = raw.get("ClientName")
    return Portal(
        source=source,
        id=PortalId(raw["ClientId"]),
        name=visible_controls(name) if isinstance(name, str) and name else raw["ClientId"],
        assignment_required=False,
        tags=("cognito:app_client",),
    )


@dataclass(frozen=True, slots=True)
class AuthEvent:
    time: datetime
    sign_in: bool  # a successful sign-in
    factor: SignInFactor


def parse_auth_events(raws: Iterable[Any]) -> list[AuthEvent]:
    """``AdminListUserAuthEvents`` entries: a passed ``SignIn`` is a sign-in, multi-factor
    when its challenges include a successful ``Mfa``."""
    out = []
    for raw in raws:
        if not isinstance(raw, Mapping):
            continue
        when = _time(raw.get("CreationDate"))
        if when is None:
            continue
        challenges = raw.get("ChallengeResponses")
        mfa = any(
            isinstance(c, Mapping) and c.get("ChallengeName") == "Mfa" and c.get("ChallengeResponse") == "Success"
            for c in (challenges if isinstance(challenges, list) else ())
        )
        sign_in = raw.get("EventType") == "SignIn" and raw.get("EventResponse") == "Pass"
        out.append(AuthEvent(when, sign_in, SignInFactor.MULTI if mfa else SignInFactor.SINGLE))
    return out
