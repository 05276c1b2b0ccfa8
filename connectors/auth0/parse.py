"""Pure functions: Auth0 JSON (the SDK's models dumped to dicts, or export lines) → the
normalised model. Unknown vendor values become coded issues, never protection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auditor.model import (
    Account,
    AccountId,
    AccountKind,
    Method,
    MethodKind,
    MethodStatus,
    Portal,
    PortalId,
    SignIn,
    SignInFactor,
    SourceIssue,
    SourceName,
    UnreadableRecord,
)

# Authentication-method ``type`` → kind. Phone is split by ``preferred_authentication_method``.
METHOD_KINDS: Mapping[str, MethodKind] = {
    "totp": MethodKind.TOTP_SOFTWARE,
    "push": MethodKind.AUTHENTICATOR_PUSH,
    "email": MethodKind.EMAIL_OTP,  # Auth0 documents e-mail as an MFA factor; the profile rules judge it
    "webauthn-roaming": MethodKind.FIDO2_SECURITY_KEY,
    "webauthn-platform": MethodKind.PLATFORM_AUTHENTICATOR,
    "passkey": MethodKind.PASSKEY,
    # A Guardian enrolment that does not say which factor: enrolled, kind unknown (weak).
    "guardian": MethodKind.UNSPECIFIED_SECOND_FACTOR,
}
# Listed as authentication methods but not second factors: kept out of the methods.
NOT_FACTORS = frozenset({"recovery-code", "password", "email-verification"})
PHONE_KINDS = {"sms": MethodKind.SMS, "voice": MethodKind.VOICE}
# What the connector asks the export for (the search listing returns these too).
USER_FIELDS = (
    "user_id",
    "email",
    "email_verified",
    "username",
    "name",
    "created_at",
    "last_login",
    "blocked",
    "multifactor",
    "identities",
)


class ParseError(ValueError):
    pass


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when.replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class Auth0User:
    account: Account
    # The profile's ``multifactor`` list: None when the record does not carry it.
    multifactor: tuple[str, ...] | None
    # ``email_verified`` is true: with the e-mail factor on, Auth0 lets the user complete
    # MFA by e-mail without any enrolment (see ``with_verified_email``).
    email_verified: bool = False


def parse_user(raw: Any, source: SourceName, where: str) -> Auth0User | UnreadableRecord:
    if not isinstance(raw, Mapping):
        return UnreadableRecord(where, "not a JSON object")
    uid = raw.get("user_id")
    if not isinstance(uid, str) or not uid:
        return UnreadableRecord(where, "no user_id")
    email, username = raw.get("email"), raw.get("username")
    principal = (
        email if isinstance(email, str) and email else username if isinstance(username, str) and username else uid
    )
    name = raw.get("name")
    blocked = raw.get("blocked")
    if blocked is not None and not isinstance(blocked, bool):
        return UnreadableRecord(uid, f"blocked is {type(blocked).__name__}, not a boolean")
    identities = raw.get("identities")
    connections = [
        str(i.get("connection"))
        for i in (identities if isinstance(identities, list) else ())
        if isinstance(i, Mapping) and i.get("connection")
    ]
    attributes = {"connection": connections[0]} if connections else {}
    if len(connections) > 1:  # linked accounts: the user signs in through any of them
        attributes["linked_connections"] = ",".join(connections[1:])
    mfa = raw.get("multifactor")
    multifactor = tuple(str(m) for m in mfa) if isinstance(mfa, list) else None
    account = Account(
        source=source,
        id=AccountId(uid),
        principal=principal.lower(),
        display_name=name if isinstance(name, str) and name else principal,
        kind=AccountKind.HUMAN,
        enabled=not blocked,
        last_sign_in=parse_time(raw.get("last_login")),
        created=parse_time(raw.get("created_at")),
        attributes=attributes,
    )
    return Auth0User(account, multifactor, raw.get("email_verified") is True)


def parse_methods(items: Iterable[Any], user_id: str) -> tuple[tuple[Method, ...], list[SourceIssue]]:
    methods: list[Method] = []
    issues: list[SourceIssue] = []
    for raw in items:
        if not isinstance(raw, Mapping):
            issues.append(
                SourceIssue("auth0.method_unreadable", f"user {user_id}: a method that is not an object", user_id)
            )
            continue
        mtype = str(raw.get("type") or "")
        if mtype in NOT_FACTORS:
            continue
        label = mtype
        if mtype == "phone":
            channel = str(raw.get("preferred_authentication_method") or "sms")
            kind = PHONE_KINDS.get(channel)
            label = f"phone:{channel}"
            if kind is None:
                kind = MethodKind.UNKNOWN
                issues.append(
                    SourceIssue(
                        "auth0.unknown_phone_channel",
                        f"user {user_id}: phone method with channel {channel[:40]!r}: counted as no factor",
                        user_id,
                    )
                )
        else:
            found = METHOD_KINDS.get(mtype)
            if found is None:
                kind = MethodKind.UNKNOWN
                issues.append(
                    SourceIssue(
                        "auth0.unknown_method_type",
                        f"user {user_id}: authentication method type {mtype[:40]!r} is not one the connector "
                        "knows: counted as no factor",
                        user_id,
                    )
                )
            else:
                kind = found
        confirmed = raw.get("confirmed") is True
        when = parse_time(raw.get("created_at")) or parse_time(raw.get("enrolled_at"))
        methods.append(Method(kind, label, MethodStatus.ACTIVE if confirmed else MethodStatus.PENDING, when))
    methods.sort(key=lambda m: (m.registered_at is None, m.registered_at or datetime.min, m.vendor_label))
    return tuple(methods), issues


VERIFIED_EMAIL_LABEL = "email (verified address)"


def with_verified_email(methods: tuple[Method, ...], email_verified: bool, email_factor: bool) -> tuple[Method, ...]:
    """Auth0 documents that, once the e-mail factor is enabled, every user with a verified
    address may complete MFA by e-mail ("Try another method"), enrolled or not; the
    authentication-methods listing does not show it. Added only beside another active
    method: whether a user with none may use e-mail alone is not documented, and adding
    it there could only raise a verdict."""
    if not (email_verified and email_factor):
        return methods
    active = [m for m in methods if m.status is MethodStatus.ACTIVE]
    if not active or any(m.kind is MethodKind.EMAIL_OTP for m in active):
        return methods
    return (*methods, Method(MethodKind.EMAIL_OTP, VERIFIED_EMAIL_LABEL, MethodStatus.ACTIVE))


# Client app types that people sign in to; ``non_interactive`` is a machine-to-machine app.
INTERACTIVE = frozenset({"spa", "native", "regular_web", "sso_integration"})


def parse_client(raw: Any, source: SourceName) -> tuple[Portal | None, str | None]:
    """(portal, why skipped). Machine-to-machine apps and the tenant's global client
    are no portal."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("client_id"), str):
        return None, "a client without client_id"
    if raw.get("global") is True:
        return None, None
    app_type = raw.get("app_type")
    if app_type == "non_interactive":
        return None, None
    name = raw.get("name")
    portal = Portal(
        source,
        PortalId(str(raw["client_id"])),
        name if isinstance(name, str) and name else str(raw["client_id"]),
        assignment_required=False,  # Auth0 has no per-user assignment: every user of a connection may sign in
    )
    if app_type is not None and app_type not in INTERACTIVE:
        return portal, f"client {raw['client_id']}: app_type {str(app_type)[:30]!r} taken as interactive"
    return portal, None


# Tenant log event types (Auth0's log event type codes).
LOGIN_OK = "s"  # successful login
MFA_OK = frozenset({"gd_auth_succeed"})  # Guardian/MFA authentication succeeded
# An MFA success this close before a login belongs to it (same user, same application).
MFA_WINDOW_SECONDS = 600


@dataclass(frozen=True, slots=True)
class LogEvent:
    log_id: str
    time: datetime
    type: str
    user_id: str
    client_id: str


def parse_log(raw: Any) -> LogEvent:
    if not isinstance(raw, Mapping):
        raise ParseError("a log event that is not an object")
    log_id, when = raw.get("log_id") or raw.get("_id"), parse_time(raw.get("date"))
    if not isinstance(log_id, str) or when is None:
        raise ParseError(f"log event {str(log_id)[:40]!r} without log_id or date")
    return LogEvent(
        log_id, when, str(raw.get("type") or ""), str(raw.get("user_id") or ""), str(raw.get("client_id") or "")
    )


def sign_ins(events: Iterable[LogEvent]) -> list[SignIn]:
    """Each successful login, multi-factor when an MFA success of the same user and
    application precedes it within ``MFA_WINDOW_SECONDS``."""
    ordered = sorted(events, key=lambda e: (e.time, e.log_id))
    last_mfa: dict[tuple[str, str], datetime] = {}
    out = []
    for e in ordered:
        key = (e.user_id, e.client_id)
        if e.type in MFA_OK:
            last_mfa[key] = e.time
        elif e.type == LOGIN_OK and e.user_id and e.client_id:
            mfa = last_mfa.pop(key, None)
            multi = mfa is not None and (e.time - mfa).total_seconds() <= MFA_WINDOW_SECONDS
            out.append(
                SignIn(
                    AccountId(e.user_id),
                    PortalId(e.client_id),
                    e.time,
                    SignInFactor.MULTI if multi else SignInFactor.SINGLE,
                )
            )
    return out
