"""Keycloak JSON → the model: users (UserRepresentation), their credentials
(CredentialRepresentation) and pending required actions, clients, login events.
Pure functions; anything the model cannot say is a coded issue, never a protection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    SourceIssue,
    SourceName,
    UnreadableRecord,
)
from connectors.keycloak import codes

# Credential types Keycloak ships and what they are. Anything else: a coded issue and
# an UNKNOWN method (never counted as a second factor).
CREDENTIAL_KINDS: Mapping[str, MethodKind] = {
    "password": MethodKind.PASSWORD,
    "otp": MethodKind.TOTP_SOFTWARE,
    "webauthn": MethodKind.FIDO2_SECURITY_KEY,
    "webauthn-passwordless": MethodKind.PASSKEY,
}
# Credential types Keycloak ships that are no second factor the model can name: recovery
# codes (look-up secrets, used through the "Recovery Authentication Code Form" step, which
# the flow walk does not count as a factor). Known: kept out of the methods, no issue.
NOT_FACTOR_CREDENTIALS = frozenset({"recovery-authn-codes"})
# Required actions that mean "this factor is not yet enrolled".
PENDING_ACTIONS: Mapping[str, MethodKind] = {
    "CONFIGURE_TOTP": MethodKind.TOTP_SOFTWARE,
    "webauthn-register": MethodKind.FIDO2_SECURITY_KEY,
    "webauthn-register-passwordless": MethodKind.PASSKEY,
}
# Clients every realm has: consoles and internal plumbing, not portals of the organisation.
BUILT_IN_CLIENTS = frozenset(
    {"account", "account-console", "admin-cli", "broker", "realm-management", "security-admin-console"}
)
ADMIN_CLIENT = "realm-management"


@dataclass(frozen=True, slots=True)
class KeycloakUser:
    account: Account
    attributes: Mapping[str, tuple[str, ...]]
    pending: tuple[str, ...]  # required actions


@dataclass(frozen=True, slots=True)
class KeycloakClient:
    portal: Portal
    uuid: str
    client_id: str
    browser_flow: str | None  # flow id of the browser override, None: the realm's
    direct_grant_flow: str | None
    direct_grant: bool  # directAccessGrantsEnabled
    browser: bool  # standardFlowEnabled or implicitFlowEnabled


def _ms(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_user(raw: Any, source: SourceName, where: str) -> KeycloakUser | UnreadableRecord:
    if not isinstance(raw, Mapping):
        return UnreadableRecord(where, "not a JSON object")
    uid = raw.get("id")
    username = raw.get("username")
    if not isinstance(uid, str) or not uid or not isinstance(username, str) or not username:
        return UnreadableRecord(str(uid) if isinstance(uid, str) and uid else where, "no id or no username")
    enabled = raw.get("enabled")
    if not isinstance(enabled, bool):
        return UnreadableRecord(uid, f"enabled is {enabled!r}, not true or false")
    attrs_raw = raw.get("attributes")
    attributes: dict[str, tuple[str, ...]] = {}
    if isinstance(attrs_raw, Mapping):
        for k, v in attrs_raw.items():
            if isinstance(k, str) and isinstance(v, list):
                attributes[k] = tuple(x for x in v if isinstance(x, str))
    pending_raw = raw.get("requiredActions")
    pending = tuple(a for a in pending_raw if isinstance(a, str)) if isinstance(pending_raw, list) else ()
    email = _text(raw.get("email"))
    name = " ".join(x for x in (_text(raw.get("firstName")), _text(raw.get("lastName"))) if x) or username
    service = isinstance(raw.get("serviceAccountClientId"), str)
    extra = {"username": username}
    if isinstance(raw.get("federationLink"), str):
        extra["federation_link"] = raw["federationLink"]
    if pending:
        extra["required_actions"] = ",".join(pending)
    account = Account(
        source=source,
        id=AccountId(uid),
        principal=(email or username).lower(),
        display_name=name,
        kind=AccountKind.SERVICE if service else AccountKind.HUMAN,
        enabled=enabled,
        created=_ms(raw.get("createdTimestamp")),
        attributes=extra,
    )
    return KeycloakUser(account, attributes, pending)


def parse_credentials(
    raw: Any, user_id: str, pending: Sequence[str]
) -> tuple[tuple[Method, ...], frozenset[str], list[SourceIssue]]:
    """(methods, credential types present, issues). Pending required actions add a
    PENDING method: asked for, not yet enrolled."""
    issues: list[SourceIssue] = []
    methods: list[Method] = []
    types: set[str] = set()
    items = raw if isinstance(raw, list) else []
    if not isinstance(raw, list):
        issues.append(
            SourceIssue(codes.CREDENTIALS_MALFORMED, f"credentials of user {user_id}: not a list", user_id)
        )
    for item in items:
        ctype = item.get("type") if isinstance(item, Mapping) else None
        if not isinstance(ctype, str) or not ctype:
            issues.append(
                SourceIssue(codes.CREDENTIAL_MALFORMED, f"user {user_id}: a credential without a type", user_id)
            )
            continue
        types.add(ctype)
        if ctype in NOT_FACTOR_CREDENTIALS:
            continue
        kind = CREDENTIAL_KINDS.get(ctype)
        if kind is None:
            issues.append(
                SourceIssue(
                    codes.CREDENTIAL_UNKNOWN,
                    f"user {user_id}: credential type {ctype!r} is not one the auditor knows; counted as no factor",
                    user_id,
                )
            )
            kind = MethodKind.UNKNOWN
        assert isinstance(item, Mapping)
        methods.append(Method(kind, ctype, MethodStatus.ACTIVE, _ms(item.get("createdDate"))))
    for action in pending:
        pending_kind = PENDING_ACTIONS.get(action)
        if pending_kind is not None:
            methods.append(Method(pending_kind, action, MethodStatus.PENDING))
    return tuple(methods), frozenset(types), issues


def parse_client(raw: Any, source: SourceName) -> KeycloakClient | None:
    """A user-facing client as a portal; None for built-in, bearer-only or
    service-only clients (nobody signs in to them)."""
    if not isinstance(raw, Mapping):
        return None
    uuid, client_id = raw.get("id"), raw.get("clientId")
    if not isinstance(uuid, str) or not isinstance(client_id, str) or client_id in BUILT_IN_CLIENTS:
        return None
    if raw.get("enabled") is False or raw.get("bearerOnly") is True:
        return None
    browser = raw.get("standardFlowEnabled", True) is not False or raw.get("implicitFlowEnabled") is True
    direct = raw.get("directAccessGrantsEnabled") is True
    if not browser and not direct:
        return None
    overrides = raw.get("authenticationFlowBindingOverrides")
    overrides = overrides if isinstance(overrides, Mapping) else {}
    browser_override = overrides.get("browser")
    direct_override = overrides.get("direct_grant")
    name = _text(raw.get("name")) or client_id
    return KeycloakClient(
        portal=Portal(source, PortalId(client_id), name, assignment_required=False, tags=(f"client:{client_id}",)),
        uuid=uuid,
        client_id=client_id,
        browser_flow=browser_override if isinstance(browser_override, str) and browser_override else None,
        direct_grant_flow=direct_override if isinstance(direct_override, str) and direct_override else None,
        direct_grant=direct,
        browser=browser,
    )


@dataclass(frozen=True, slots=True)
class LoginEvent:
    time: datetime
    user_id: str
    client_id: str
    identity_provider: str | None
    second_factor: bool | None  # True when the details name a second-factor step; None: they do not say


PASSKEY_CREDENTIAL = "webauthn-passwordless"
SECOND_FACTOR_TYPES = frozenset({"otp", "webauthn", PASSKEY_CREDENTIAL})


def parse_event(raw: Any, second_factor_types: frozenset[str] = SECOND_FACTOR_TYPES) -> LoginEvent | None:
    """A LOGIN event; ``second_factor``: True when its ``credential_type`` is one of
    ``second_factor_types``, None when the details do not say."""
    if not isinstance(raw, Mapping) or raw.get("type") != "LOGIN":
        return None
    when = _ms(raw.get("time"))
    uid, client = raw.get("userId"), raw.get("clientId")
    if when is None or not isinstance(uid, str) or not isinstance(client, str):
        return None
    details = raw.get("details")
    details = details if isinstance(details, Mapping) else {}
    idp = details.get("identity_provider")
    ctype = details.get("credential_type")
    second: bool | None = True if isinstance(ctype, str) and ctype in second_factor_types else None
    return LoginEvent(when, uid, client, idp if isinstance(idp, str) and idp else None, second)
