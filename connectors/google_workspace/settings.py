"""The connector's settings and the OAuth scopes it asks for.

Settings arrive as the raw ``sources[i].settings`` mapping; secrets as
``auditor.interfaces.Secret`` (a plain ``{env: VAR}`` / ``{file: path}`` mapping is
accepted too, so the class can be built by hand). Every problem is a ``SettingsError``
naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.config.secrets import settings_secret
from auditor.interfaces import Secret, SettingsError
from auditor.transport import TRANSPORT_KEYS, Transport, parse_transport, service_url

SCOPE_PREFIX = "https://www.googleapis.com/auth/"


@dataclass(frozen=True, slots=True)
class ScopeNeed:
    scope: str
    purpose: str
    optional: bool = False  # needed only when the source collects sign-ins

    @property
    def url(self) -> str:
        return SCOPE_PREFIX + self.scope


# Read-only scopes only, each with its reason (docs/google-workspace.md repeats them).
USERS = ScopeNeed(
    "admin.directory.user.readonly",
    "users.list: accounts, 2SV enrolled/enforced, suspended/archived, admin flags, org unit, last login",
)
ORG_UNITS = ScopeNeed(
    "admin.directory.orgunit.readonly",
    "orgunits.list: one portal per org unit, so the config can classify org units",
)
ROLES = ScopeNeed(
    "admin.directory.rolemanagement.readonly",
    "roles.list and roleAssignments.list: which admin roles each user holds (who is privileged, and as what); "
    "without it privilege rests on the isAdmin / isDelegatedAdmin flags",
)
GROUP_MEMBERS = ScopeNeed(
    "admin.directory.group.member.readonly",
    "members.list of the groups that hold an admin role (and only those): their members hold the role; "
    "without it those members are privileged only as far as the isAdmin / isDelegatedAdmin flags say",
)
USAGE = ScopeNeed(
    "admin.reports.usage.readonly",
    "user usage report (accounts:*): security keys and passkeys, to tell phishing-resistant users apart",
)
AUDIT = ScopeNeed(
    "admin.reports.audit.readonly",
    "login audit (activities.list, login): observed challenge methods; needed only with collect_sign_ins",
    optional=True,
)
ALL_SCOPES: tuple[ScopeNeed, ...] = (USERS, ORG_UNITS, ROLES, GROUP_MEMBERS, USAGE, AUDIT)

DEFAULT_CUSTOMER = "my_customer"
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_REPORT_LAG_DAYS = 7

_KNOWN_KEYS = frozenset(
    {
        "security_key_only_org_units",
        "credentials",
        "application_default",
        "delegated_admin",
        "customer",
        "api_endpoint",
        "token_uri",
        "max_attempts",
        "max_report_lag_days",
        "timeout_seconds",
        "allow_insecure_http",
        *TRANSPORT_KEYS,
    }
)


@dataclass(frozen=True, slots=True)
class GoogleSettings:
    credentials: Secret | None  # service-account key JSON; None with application_default
    application_default: bool
    delegated_admin: str | None
    customer: str = DEFAULT_CUSTOMER
    api_endpoint: str | None = None  # sandbox only: replaces https://admin.googleapis.com/
    token_uri: str | None = None  # sandbox only: replaces the key's token_uri
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_report_lag_days: int = DEFAULT_MAX_REPORT_LAG_DAYS
    timeout_seconds: float = 60.0
    # http:// for api_endpoint / token_uri only on loopback, for the sandbox.
    allow_insecure_http: bool = False
    transport: Transport = field(default_factory=Transport)  # proxy and trust_env (auditor.transport)
    # Org units whose 2-Step Verification "Allowed methods" is "Only security key" (Admin
    # console > Security > 2-Step Verification). No API the connector reads exposes that
    # setting, so the organisation declares it; elsewhere a key or passkey holder may also
    # use any other 2SV method they registered. Paths, e.g. "/Admins" (sub-units included).
    security_key_only_org_units: tuple[str, ...] = ()


def _secret(value: Any, base_dir: Path) -> Secret:
    return settings_secret(value, "credentials", base_dir)


def _str(settings: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    value = settings.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(key, "a non-empty string", repr(value) if not isinstance(value, str) else "''")
    return value.strip()


def _url(settings: Mapping[str, Any], key: str, insecure: bool) -> str | None:
    """The same rule as Entra's and Okta's URLs: https, or http on loopback with
    ``allow_insecure_http`` (the token and the signed grant must not travel in clear)."""
    value = _str(settings, key)
    if value is None:
        return None
    return service_url(value, key, allow_insecure_http=insecure, example="https://admin.googleapis.com/")


def _positive_int(settings: Mapping[str, Any], key: str, default: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(key, "a positive integer", repr(value))
    return value


def parse_settings(settings: Mapping[str, Any], base_dir: Path) -> GoogleSettings:
    if not isinstance(settings, Mapping):
        raise SettingsError("settings", "a mapping", type(settings).__name__)
    unknown = sorted(set(settings) - _KNOWN_KEYS)
    if unknown:
        raise SettingsError(unknown[0], f"one of {', '.join(sorted(_KNOWN_KEYS))}", "an unknown key")
    adc = settings.get("application_default", False)
    if not isinstance(adc, bool):
        raise SettingsError("application_default", "true or false", repr(adc))
    raw_credentials = settings.get("credentials")
    if adc and raw_credentials is not None:
        raise SettingsError("credentials", "to be absent when application_default is true", "both given")
    if not adc and raw_credentials is None:
        raise SettingsError(
            "credentials",
            "a service-account key {file: key.json} or {env: VAR}, or application_default: true",
            "nothing",
        )
    credentials = None if raw_credentials is None else _secret(raw_credentials, base_dir)
    admin = _str(settings, "delegated_admin")
    if admin is not None and "@" not in admin:
        raise SettingsError("delegated_admin", "the e-mail address of an administrator", admin)
    if admin is None and not adc:
        # A service account without delegation is no Workspace user: the Admin SDK refuses it.
        raise SettingsError("delegated_admin", "the e-mail address of an administrator to impersonate", "nothing")
    insecure = settings.get("allow_insecure_http", False)
    if not isinstance(insecure, bool):
        raise SettingsError("allow_insecure_http", "true or false", repr(insecure))
    timeout = settings.get("timeout_seconds", 60.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise SettingsError("timeout_seconds", "a positive number", repr(timeout))
    return GoogleSettings(
        credentials=credentials,
        application_default=adc,
        delegated_admin=admin,
        customer=_str(settings, "customer", DEFAULT_CUSTOMER) or DEFAULT_CUSTOMER,
        api_endpoint=_url(settings, "api_endpoint", insecure),
        token_uri=_url(settings, "token_uri", insecure),
        max_attempts=_positive_int(settings, "max_attempts", DEFAULT_MAX_ATTEMPTS),
        max_report_lag_days=_positive_int(settings, "max_report_lag_days", DEFAULT_MAX_REPORT_LAG_DAYS),
        timeout_seconds=float(timeout),
        allow_insecure_http=insecure,
        transport=parse_transport(settings),
        security_key_only_org_units=_org_units(settings, "security_key_only_org_units"),
    )


def _org_units(settings: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = settings.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.startswith("/") for v in value):
        raise SettingsError(key, 'a list of org unit paths such as "/Admins"', repr(value)[:80])
    return tuple(v.rstrip("/") or "/" for v in value)
