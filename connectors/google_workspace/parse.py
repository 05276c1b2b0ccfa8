"""Parse: Admin SDK JSON → the normalised model. Pure functions, no I/O.

What Google tells about factors is thin: the Directory says "2SV enrolled" and the
Reports API counts security keys and passkeys. A user enrolled in 2SV with neither is
recorded as an *unspecified second factor* (counted weak: it may be SMS), which the
report's methodology explains.
"""

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
    MethodStatus,
    Portal,
    PortalId,
    SignInFactor,
    SourceName,
    UnreadableRecord,
)
from connectors.google_workspace.roles import flag_roles

# lastLoginTime of a user who never signed in.
NEVER_SIGNED_IN = datetime(1970, 1, 1, tzinfo=UTC)
ROOT_OU = "/"

USAGE_PARAMETERS = (
    "accounts:is_2sv_enrolled",
    "accounts:is_2sv_enforced",
    "accounts:num_security_keys",
    "accounts:num_passkeys_enrolled",
)

# login_challenge_method values (Reports API, login audit appendix), each decided. A
# second factor is the possession of something registered before the sign-in: a code or
# prompt of 2-Step Verification, a security key, a passkey, a backup code, or an SMS /
# voice code to the phone the user pre-registered (``idv_preregistered_phone``). A code
# to any phone the user types in (``idv_any_phone``), a location, a knowledge check or
# the password are not. An unknown value never makes a sign-in multi-factor; the
# connector names it (``google.unknown_challenge_method``).
SECOND_FACTOR_CHALLENGES = frozenset(
    {
        "backup_code",
        "google_authenticator",
        "google_prompt",
        "idv_preregistered_phone",
        "internal_two_factor",
        "offline_otp",
        "passkey",
        "security_key",
        "security_key_otp",
    }
)
NOT_SECOND_FACTOR_CHALLENGES = frozenset(
    {
        "idv_any_phone",
        "knowledge_employee_id",
        "knowledge_preregistered_email",
        "knowledge_preregistered_phone",
        "login_location",
        "none",
        "other",
        "password",
    }
)


# login_type values (login audit appendix). ``saml``: the user signed in at a third-party
# identity provider, which did the first factor and any second one out of Google's sight.
LOGIN_TYPES = frozenset({"exchange", "google_password", "reauth", "saml", "unknown"})
FEDERATED_LOGIN_TYPES = frozenset({"saml"})


class ParseError(ValueError):
    """A field of a record is missing or malformed; the message names the field."""


def parse_time(value: Any, field: str) -> datetime | None:
    """RFC 3339 → aware UTC datetime; the 1970 sentinel and absence → None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParseError(f"{field}: expected an RFC 3339 timestamp, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(f"{field}: expected an RFC 3339 timestamp, got {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    return None if parsed == NEVER_SIGNED_IN else parsed


def _bool(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ParseError(f"{key}: expected true or false, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """A users.list record: the account without methods, plus the 2SV flags. The
    account's roles are the admin flags' until the role assignments replace them."""

    account: Account
    enrolled_2sv: bool
    enforced_2sv: bool
    org_unit: str
    is_admin: bool = False
    is_delegated_admin: bool = False


def _display_name(raw: Mapping[str, Any], principal: str) -> str:
    name = raw.get("name")
    if isinstance(name, Mapping):
        full = name.get("fullName")
        if isinstance(full, str) and full.strip():
            return full.strip()
        parts = [name.get("givenName"), name.get("familyName")]
        joined = " ".join(p for p in parts if isinstance(p, str) and p)
        if joined:
            return joined
    return principal


def parse_user(raw: Any, source: SourceName, where: str) -> DirectoryUser | UnreadableRecord:
    """One users.list record. ``where`` locates it (page and position) when it has no id."""
    if not isinstance(raw, Mapping):
        return UnreadableRecord(where, f"expected a user object, got {type(raw).__name__}")
    uid, email = raw.get("id"), raw.get("primaryEmail")
    record = str(email or uid or where)
    if not isinstance(uid, str) or not uid:
        return UnreadableRecord(record, "id: missing")
    if not isinstance(email, str) or "@" not in email:
        return UnreadableRecord(record, "primaryEmail: missing or not an address")
    try:
        org_unit = raw.get("orgUnitPath", ROOT_OU)
        if not isinstance(org_unit, str) or not org_unit.startswith("/"):
            raise ParseError(f"orgUnitPath: expected a path, got {org_unit!r}")
        super_admin, delegated = _bool(raw, "isAdmin"), _bool(raw, "isDelegatedAdmin")
        enrolled, enforced = _bool(raw, "isEnrolledIn2Sv"), _bool(raw, "isEnforcedIn2Sv")
        enabled = not (_bool(raw, "suspended") or _bool(raw, "archived"))
        guest = _bool(raw, "isGuestUser")
        last = parse_time(raw.get("lastLoginTime"), "lastLoginTime")
        created = parse_time(raw.get("creationTime"), "creationTime")
    except ParseError as exc:
        return UnreadableRecord(record, str(exc))
    roles = flag_roles(super_admin, delegated)
    principal = email.strip().lower()
    account = Account(
        source=source,
        id=AccountId(uid),
        principal=principal,
        display_name=_display_name(raw, principal),
        kind=AccountKind.GUEST if guest else AccountKind.HUMAN,
        enabled=enabled,
        privileged=bool(roles),
        roles=roles,
        last_sign_in=last,
        created=created,
        attributes={"org_unit": org_unit, "2sv_enforced": "true" if enforced else "false"},
    )
    return DirectoryUser(account, enrolled, enforced, org_unit, super_admin, delegated)


# --- Reports: user usage (accounts:*) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FactorCounts:
    """What one usage-report row says about a user's factors."""

    enrolled_2sv: bool | None = None
    security_keys: int = 0
    passkeys: int = 0


def _int(param: Mapping[str, Any]) -> int:
    value = param.get("intValue", 0)
    try:
        return int(value)  # int64 travels as a JSON string
    except (TypeError, ValueError):
        raise ParseError(f"{param.get('name')}: expected an integer, got {value!r}") from None


def parse_usage_row(row: Any) -> tuple[str, FactorCounts]:
    """(key, counts) of one usageReports[] entry; key is the profileId (= user id) or,
    failing that, the case-folded e-mail."""
    if not isinstance(row, Mapping) or not isinstance(row.get("entity"), Mapping):
        raise ParseError("usageReports[]: expected an object with an entity")
    entity = row["entity"]
    key = entity.get("profileId") or str(entity.get("userEmail", "")).lower()
    if not isinstance(key, str) or not key:
        raise ParseError("entity: neither profileId nor userEmail")
    enrolled: bool | None = None
    keys = passkeys = 0
    for param in row.get("parameters") or ():
        if not isinstance(param, Mapping):
            continue
        name = param.get("name")
        if name == "accounts:is_2sv_enrolled":
            value = param.get("boolValue")
            enrolled = value if isinstance(value, bool) else None
        elif name == "accounts:num_security_keys":
            keys = _int(param)
        elif name == "accounts:num_passkeys_enrolled":
            passkeys = _int(param)
    return key, FactorCounts(enrolled, keys, passkeys)


@dataclass(frozen=True, slots=True)
class ReportWarning:
    code: str
    message: str


def report_warnings(page: Mapping[str, Any]) -> tuple[ReportWarning, ...]:
    return tuple(
        ReportWarning(str(w.get("code", "")), str(w.get("message", "")))
        for w in page.get("warnings") or ()
        if isinstance(w, Mapping)
    )


# The label of the other 2SV methods a key or passkey holder may have registered.
OTHER_2SV_METHODS = "other_2sv_methods"


def methods_for(enrolled_2sv: bool, counts: FactorCounts | None, *, keys_only: bool = False) -> tuple[Method, ...]:
    """The methods of one user. The Directory's ``isEnrolledIn2Sv`` is current and wins
    over the report's (a day or more old); keys and passkeys come only from the report.

    Google lets a user enrolled in 2SV sign in with any 2SV method they registered (a
    prompt, an authenticator code, a backup code, a text message) unless the 2SV policy
    of their org unit allows only security keys; the report counts keys and passkeys but
    names none of the others. A key or passkey holder is therefore also given the
    *unspecified* second factor (weak: it may be SMS) unless ``keys_only`` (their org unit
    is declared "Only security key"): a key alone never proves phishing resistance."""
    out: list[Method] = []
    if counts is not None and counts.security_keys > 0:
        out.append(Method(MethodKind.FIDO2_SECURITY_KEY, "security_key", MethodStatus.ACTIVE))
    if counts is not None and counts.passkeys > 0:
        out.append(Method(MethodKind.PASSKEY, "passkey", MethodStatus.ACTIVE))
    if not out and enrolled_2sv:
        out.append(Method(MethodKind.UNSPECIFIED_SECOND_FACTOR, "2sv_enrolled", MethodStatus.ACTIVE))
    elif out and enrolled_2sv and not keys_only:
        out.append(Method(MethodKind.UNSPECIFIED_SECOND_FACTOR, OTHER_2SV_METHODS, MethodStatus.ACTIVE))
    return tuple(out)


def in_org_units(org_unit: str, units: tuple[str, ...]) -> bool:
    """Whether ``org_unit`` is one of ``units`` or below one (2SV policies are inherited)."""
    path = org_unit.rstrip("/") or "/"
    return any(u == "/" or path == u or path.startswith(u + "/") for u in units)


# --- org units → portals -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgUnitInfo:
    path: str
    name: str


def parse_org_units(page: Mapping[str, Any]) -> tuple[OrgUnitInfo, ...]:
    out = []
    for raw in page.get("organizationUnits") or ():
        if not isinstance(raw, Mapping):
            raise ParseError("organizationUnits[]: expected an object")
        path, name = raw.get("orgUnitPath"), raw.get("name")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ParseError(f"organizationUnits[].orgUnitPath: expected a path, got {path!r}")
        out.append(OrgUnitInfo(path, name if isinstance(name, str) and name else ou_name_from_path(path)))
    return tuple(out)


def ou_name_from_path(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or "top-level org unit"


def portal_id(ou_path: str) -> PortalId:
    return PortalId(f"workspace:{ou_path}")


def portal_for(source: SourceName, ou: OrgUnitInfo) -> Portal:
    """Workspace itself, once per org unit: the config classifies by the ``ou:`` tag.
    Every user of the unit can sign in, so no assignment is required."""
    return Portal(source, portal_id(ou.path), f"Google Workspace ({ou.name})", False, (f"ou:{ou.path}",))


# --- Reports: login audit ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoginEvent:
    """One login_success. ``factor`` is None when the event does not say how the user
    signed in: no challenge stated, a SAML sign-in with no second step at Google (the
    identity provider's own steps are not in Google's log), or an undocumented login
    type without a second factor. Such an event is evidence of neither kind."""

    actor_id: str | None
    actor_email: str | None
    time: datetime
    factor: SignInFactor | None
    login_type: str
    unknown_challenges: tuple[str, ...] = ()
    unknown_login_type: bool = False


def _values(param: Mapping[str, Any]) -> tuple[str, ...]:
    """A parameter's values, whether Google sent ``value`` (string) or ``multiValue``."""
    multi = param.get("multiValue")
    if isinstance(multi, list):
        return tuple(str(v) for v in multi)
    value = param.get("value")
    return (str(value),) if value is not None else ()


def sign_in_factor(parameters: Iterable[Any]) -> tuple[SignInFactor | None, str]:
    """(factor, login_type) of one login_success event."""
    outcome = challenge_outcome(parameters)
    return outcome.factor, outcome.login_type


@dataclass(frozen=True, slots=True)
class ChallengeOutcome:
    factor: SignInFactor | None
    login_type: str
    unknown_challenges: tuple[str, ...]
    unknown_login_type: bool


def challenge_outcome(parameters: Iterable[Any]) -> ChallengeOutcome:
    """What one login_success event says about its factors."""
    second = False
    stated = False  # a challenge method or is_second_factor was given
    login_types: tuple[str, ...] = ()
    unknown: list[str] = []
    for param in parameters:
        if not isinstance(param, Mapping):
            continue
        name = param.get("name")
        if name == "is_second_factor":
            stated = stated or isinstance(param.get("boolValue"), bool)
            second = second or param.get("boolValue") is True
        elif name == "login_challenge_method":
            values = _values(param)
            stated = stated or bool(values)
            for v in values:
                if v in SECOND_FACTOR_CHALLENGES:
                    second = True
                elif v not in NOT_SECOND_FACTOR_CHALLENGES:
                    unknown.append(v)
        elif name == "login_type":
            login_types = _values(param)
    odd_type = any(t not in LOGIN_TYPES for t in login_types)
    factor: SignInFactor | None
    if second:
        factor = SignInFactor.MULTI  # a second step at Google, whatever came before it
    elif not stated or odd_type or any(t in FEDERATED_LOGIN_TYPES for t in login_types):
        factor = None
    else:
        factor = SignInFactor.SINGLE
    return ChallengeOutcome(factor, ",".join(login_types), tuple(unknown), odd_type)


def parse_login_activity(item: Any) -> tuple[LoginEvent, ...]:
    if not isinstance(item, Mapping):
        raise ParseError("items[]: expected an activity object")
    ident, actor = item.get("id"), item.get("actor")
    if not isinstance(ident, Mapping) or not isinstance(actor, Mapping):
        raise ParseError("items[]: expected id and actor")
    time = parse_time(ident.get("time"), "id.time")
    if time is None:
        raise ParseError("id.time: missing")
    actor_id = actor.get("profileId") if isinstance(actor.get("profileId"), str) else None
    actor_email = str(actor["email"]).lower() if isinstance(actor.get("email"), str) else None
    out = []
    for event in item.get("events") or ():
        if isinstance(event, Mapping) and event.get("name") == "login_success":
            o = challenge_outcome(event.get("parameters") or ())
            out.append(
                LoginEvent(
                    actor_id, actor_email, time, o.factor, o.login_type, o.unknown_challenges, o.unknown_login_type
                )
            )
    return tuple(out)
