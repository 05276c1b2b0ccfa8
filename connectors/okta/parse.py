"""Pure parsing: Okta Management API JSON → the normalised model. No I/O, no SDK types;
the tables here are what the table-driven tests exercise."""

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
    RoleId,
    SignIn,
    SignInFactor,
    SourceIssue,
    SourceName,
    UnreadableRecord,
)
from connectors.okta import codes

JsonObject = Mapping[str, Any]

# Every factorType Okta documents (FactorType), to one kind. signed_nonce (FastPass) is
# decided per factor by its key (see ``fastpass_kind``); anything else is unknown with an
# issue. ``web`` is Duo's prompt, which may be a push, an SMS or a call: enrolled, kind
# unspecified (counted weak).
FACTOR_KINDS: Mapping[str, MethodKind] = {
    "push": MethodKind.AUTHENTICATOR_PUSH,
    "token:software:totp": MethodKind.TOTP_SOFTWARE,
    "webauthn": MethodKind.FIDO2_SECURITY_KEY,
    "u2f": MethodKind.FIDO2_SECURITY_KEY,
    "token:hardware": MethodKind.HARDWARE_OTP,
    "token:hotp": MethodKind.HARDWARE_OTP,
    "token": MethodKind.HARDWARE_OTP,  # RSA SecurID, Symantec VIP: one-time codes
    "sms": MethodKind.SMS,
    "call": MethodKind.VOICE,
    "email": MethodKind.EMAIL_OTP,
    "question": MethodKind.SECURITY_QUESTION,
    "web": MethodKind.UNSPECIFIED_SECOND_FACTOR,
}
FASTPASS = "signed_nonce"
# The providers Okta documents for each factor type (FactorProvider). Another provider
# keeps the type's kind and is named in an issue.
FACTOR_PROVIDERS: Mapping[str, frozenset[str]] = {
    "push": frozenset({"OKTA"}),
    "token:software:totp": frozenset({"OKTA", "GOOGLE"}),
    "webauthn": frozenset({"FIDO"}),
    "u2f": frozenset({"FIDO"}),
    "token:hardware": frozenset({"YUBICO"}),
    "token:hotp": frozenset({"CUSTOM"}),
    "token": frozenset({"RSA", "SYMANTEC"}),
    "sms": frozenset({"OKTA"}),
    "call": frozenset({"OKTA"}),
    "email": frozenset({"OKTA"}),
    "question": frozenset({"OKTA"}),
    "web": frozenset({"DUO"}),
    FASTPASS: frozenset({"OKTA"}),
}
# Factor statuses (FactorStatus). ACTIVE is an enrolment; PENDING_ACTIVATION and ENROLLED
# are not active yet; NOT_SETUP, INACTIVE, DISABLED and EXPIRED are no enrolment. Any
# other value (or none) is kept as a pending method (never counted) with an issue.
FACTOR_STATUS: Mapping[str, MethodStatus] = {
    "ACTIVE": MethodStatus.ACTIVE,
    "PENDING_ACTIVATION": MethodStatus.PENDING,
    "ENROLLED": MethodStatus.PENDING,
}
NOT_ENROLLED_STATUSES = frozenset({"NOT_SETUP", "INACTIVE", "DISABLED", "EXPIRED"})
# User statuses (UserStatus) in which the account can sign in. STAGED / PROVISIONED have
# never been activated, SUSPENDED and DEPROVISIONED are switched off. Any other value (or
# none) keeps the account in scope (enabled) with an issue: out of scope is never guessed.
ENABLED_STATUSES = frozenset({"ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT"})
KNOWN_STATUSES = ENABLED_STATUSES | {"STAGED", "PROVISIONED", "SUSPENDED", "DEPROVISIONED"}


class ParseError(ValueError):
    """A record that cannot be turned into the model; the message names it."""


def timestamp(value: Any, what: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParseError(f"{what}: expected an ISO 8601 timestamp, got {type(value).__name__}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ParseError(f"{what}: expected an ISO 8601 timestamp, got {value!r}") from None


def _str(raw: JsonObject, key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) and value else None


# --- users -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OktaUser:
    account: Account  # groups, roles and methods are filled in later
    status: str
    issue: SourceIssue | None = None  # the status could not be decided


def parse_user(raw: Any, source: SourceName, where: str) -> OktaUser | UnreadableRecord:
    if not isinstance(raw, Mapping):
        return UnreadableRecord(where, "not a JSON object")
    uid = _str(raw, "id")
    if uid is None:
        return UnreadableRecord(where, "no id")
    profile = raw.get("profile")
    if not isinstance(profile, Mapping):
        return UnreadableRecord(uid, "no profile")
    login = _str(profile, "login") or _str(profile, "email")
    if login is None:
        return UnreadableRecord(uid, "profile has no login")
    status = _str(raw, "status") or "UNKNOWN"
    issue = None
    if status not in KNOWN_STATUSES:
        issue = SourceIssue(
            codes.USER_STATUS_UNKNOWN,
            f"user {uid} has status {status!r}, not one Okta documents: kept in scope as if it could sign in",
            uid,
        )
    display = _str(profile, "displayName") or " ".join(
        p for p in (_str(profile, "firstName"), _str(profile, "lastName")) if p
    )
    try:
        last = timestamp(raw.get("lastLogin"), f"user {uid} lastLogin")
        created = timestamp(raw.get("created"), f"user {uid} created")
    except ParseError as exc:
        return UnreadableRecord(uid, str(exc))
    account = Account(
        source=source,
        id=AccountId(uid),
        principal=login,
        display_name=display or login,
        kind=AccountKind.HUMAN,  # Okta has no guest or service account kind of its own
        enabled=status in ENABLED_STATUSES or status not in KNOWN_STATUSES,
        last_sign_in=last,
        created=created,
        attributes={"okta_status": status},
    )
    return OktaUser(account, status, issue)


# --- factors ---------------------------------------------------------------------------


def fastpass_kind(raw: JsonObject) -> MethodKind:
    """FastPass is phishing-resistant only with a hardware-protected key (``okta:kpr``
    HARDWARE, the Secure Enclave / TPM); a software key makes it a strong passwordless
    authenticator, not a phishing-resistant one."""
    profile = raw.get("profile")
    keys = profile.get("keys") if isinstance(profile, Mapping) else None
    if (
        isinstance(keys, list)
        and keys
        and all(isinstance(k, Mapping) and k.get("okta:kpr") == "HARDWARE" for k in keys)
    ):
        return MethodKind.OKTA_FASTPASS
    return MethodKind.AUTHENTICATOR_PASSWORDLESS


def parse_factor(raw: Any, user: str) -> tuple[Method | None, SourceIssue | None]:
    """One factor → a method (None when it is no enrolment), with an issue when its
    type, provider or status is one this connector does not know."""
    if not isinstance(raw, Mapping):
        return None, SourceIssue(codes.FACTOR_UNREADABLE, f"user {user}: a factor is not a JSON object", user)
    factor_type = _str(raw, "factorType") or ""
    status = _str(raw, "status") or ""
    provider = _str(raw, "provider") or "?"
    if status in NOT_ENROLLED_STATUSES:
        return None, None
    issue: SourceIssue | None = None
    method_status = FACTOR_STATUS.get(status)
    if method_status is None:
        method_status = MethodStatus.PENDING  # kept as evidence, never counted
        issue = SourceIssue(
            codes.FACTOR_STATUS_UNKNOWN,
            f"user {user}: factor {raw.get('id')} ({factor_type or '?'}) has status {status or '(none)'!r}, not one "
            "Okta documents: not counted as an enrolment",
            user,
        )
    try:
        registered = timestamp(raw.get("created"), f"user {user} factor {raw.get('id')} created")
    except ParseError:
        registered = None
    if factor_type == FASTPASS:
        kind = fastpass_kind(raw)
    elif factor_type in FACTOR_KINDS:
        kind = FACTOR_KINDS[factor_type]
    else:
        issue = SourceIssue(
            codes.FACTOR_UNKNOWN,
            f"user {user}: factor type {factor_type or '(none)'!r} (provider {provider}) is not one this connector "
            "knows; counted as unknown (no second factor)",
            user,
        )
        return Method(MethodKind.UNKNOWN, factor_type or "unknown", method_status, registered), issue
    if issue is None and provider not in FACTOR_PROVIDERS.get(factor_type, frozenset()):
        issue = SourceIssue(
            codes.FACTOR_PROVIDER_UNKNOWN,
            f"user {user}: factor type {factor_type!r} from provider {provider!r}, not one Okta documents for it; "
            "judged by its type",
            user,
        )
    return Method(kind, factor_type, method_status, registered), issue


def parse_factors(raws: Iterable[Any], user: str) -> tuple[tuple[Method, ...], tuple[SourceIssue, ...]]:
    methods: list[Method] = []
    issues: list[SourceIssue] = []
    for raw in raws:
        method, issue = parse_factor(raw, user)
        if method is not None:
            methods.append(method)
        if issue is not None:
            issues.append(issue)
    return tuple(methods), tuple(issues)


# --- roles, groups, apps -----------------------------------------------------------------


def parse_role(raw: Any) -> RoleId | None:
    """An admin role assignment → its role id: the standard role's type (SUPER_ADMIN…),
    or for a custom role ``CUSTOM:<role id or label>``."""
    if not isinstance(raw, Mapping) or raw.get("status", "ACTIVE") != "ACTIVE":
        return None
    rtype = _str(raw, "type")
    if rtype is None:
        return None
    if rtype == "CUSTOM":
        return RoleId(f"CUSTOM:{_str(raw, 'role') or _str(raw, 'label') or _str(raw, 'id') or '?'}")
    return RoleId(rtype)


@dataclass(frozen=True, slots=True)
class OktaGroup:
    id: str
    name: str
    everyone: bool  # the built-in "Everyone" group


def parse_group(raw: Any) -> OktaGroup | None:
    if not isinstance(raw, Mapping) or _str(raw, "id") is None:
        return None
    profile = raw.get("profile")
    name = _str(profile, "name") if isinstance(profile, Mapping) else None
    gid = str(raw["id"])
    return OktaGroup(gid, name or gid, raw.get("type") == "BUILT_IN" and name == "Everyone")


@dataclass(frozen=True, slots=True)
class OktaApp:
    portal: Portal
    access_policy: str | None  # the id of its authentication policy (Identity Engine)
    active: bool


def _href_tail(links: Any, name: str) -> str | None:
    if not isinstance(links, Mapping):
        return None
    link = links.get(name)
    href = link.get("href") if isinstance(link, Mapping) else None
    if not isinstance(href, str) or not href:
        return None
    return href.rstrip("/").rsplit("/", 1)[-1]


def parse_app(raw: Any, source: SourceName) -> OktaApp | None:
    if not isinstance(raw, Mapping) or _str(raw, "id") is None:
        return None
    aid = str(raw["id"])
    name = _str(raw, "label") or _str(raw, "name") or aid
    portal = Portal(source, PortalId(aid), name, assignment_required=True)
    return OktaApp(portal, _href_tail(raw.get("_links"), "accessPolicy"), raw.get("status") == "ACTIVE")


def parse_app_user(raw: Any) -> tuple[str, str] | None:
    """An app user → (user id, scope): USER is a direct assignment, GROUP through a group."""
    if not isinstance(raw, Mapping) or _str(raw, "id") is None:
        return None
    return str(raw["id"]), _str(raw, "scope") or "USER"


# --- system log ------------------------------------------------------------------------

SSO_EVENT = "user.authentication.sso"
MFA_EVENT = "user.authentication.auth_via_mfa"


@dataclass(frozen=True, slots=True)
class LogEvent:
    type: str
    time: datetime
    actor: str
    session: str | None
    app: str | None
    success: bool
    browser: bool


def parse_log_event(raw: Any) -> LogEvent:
    if not isinstance(raw, Mapping):
        raise ParseError("system log event: not a JSON object")
    uuid = _str(raw, "uuid") or "?"
    etype = _str(raw, "eventType") or ""
    when = timestamp(raw.get("published"), f"event {uuid} published")
    if when is None:
        raise ParseError(f"event {uuid}: no published time")
    actor = raw.get("actor")
    actor_id = _str(actor, "id") if isinstance(actor, Mapping) else None
    if actor_id is None:
        raise ParseError(f"event {uuid}: no actor id")
    ctx = raw.get("authenticationContext")
    session = _str(ctx, "externalSessionId") if isinstance(ctx, Mapping) else None
    app = None
    targets = raw.get("target")
    for t in targets if isinstance(targets, list) else ():
        if isinstance(t, Mapping) and t.get("type") == "AppInstance" and _str(t, "id"):
            app = str(t["id"])
            break
    outcome = raw.get("outcome")
    success = isinstance(outcome, Mapping) and outcome.get("result") == "SUCCESS"
    client = raw.get("client")
    agent = client.get("userAgent") if isinstance(client, Mapping) else None
    browser = isinstance(agent, Mapping) and _str(agent, "browser") not in (None, "UNKNOWN")
    return LogEvent(etype, when, actor_id, session if session not in (None, "unknown") else None, app, success, browser)


def sign_ins(events: Iterable[LogEvent]) -> list[SignIn]:
    """SSO events → sign-ins: multi-factor when the same session completed an MFA
    verification at or before the SSO; single-factor otherwise."""
    ordered = sorted(events, key=lambda e: e.time)
    mfa_sessions: set[str] = set()
    out: list[SignIn] = []
    for e in ordered:
        if e.type == MFA_EVENT and e.success and e.session:
            mfa_sessions.add(e.session)
        elif e.type == SSO_EVENT and e.success and e.app:
            multi = e.session is not None and e.session in mfa_sessions
            out.append(
                SignIn(
                    AccountId(e.actor),
                    PortalId(e.app),
                    e.time,
                    SignInFactor.MULTI if multi else SignInFactor.SINGLE,
                    "browser" if e.browser else "other",
                )
            )
    return out
