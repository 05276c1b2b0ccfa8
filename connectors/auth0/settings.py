"""The Auth0 connector's settings and the read-only scopes it needs, each with its reason.

Settings arrive as the raw ``sources[i].settings`` mapping; the client secret as an
``auditor.interfaces.Secret`` (or a plain ``{env: VAR}`` / ``{file: path}`` mapping).
Every problem is a ``SettingsError`` naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.config.secrets import settings_secret
from auditor.config.setting_values import flag, optional_text
from auditor.interfaces import Secret, SettingsError
from auditor.transport import TRANSPORT_KEYS, Transport, parse_transport


@dataclass(frozen=True, slots=True)
class ScopeNeed:
    scope: str
    purpose: str
    optional: bool = False  # needed only when the source collects sign-ins


# Read scopes only (docs/auth0.md repeats them with the same reasons).
USERS = ScopeNeed("read:users", "users: the search listing (≤ 1,000) or the users-export job for larger tenants")
METHODS = ScopeNeed("read:authentication_methods", "each user's authentication methods (confirmed or not)")
FACTORS = ScopeNeed("read:guardian_factors", "which MFA factors the tenant enables (the methods policy)")
MFA_POLICIES = ScopeNeed("read:mfa_policies", "the tenant MFA policy: never, all applications, or adaptive")
CLIENTS = ScopeNeed("read:clients", "applications (portals)")
CONNECTIONS = ScopeNeed(
    "read:connections",
    "connections and the applications each enables: who can sign in where (ids and names only, never the options)",
)
ACTIONS = ScopeNeed("read:actions", "post-login Actions and their deployed code (api.multifactor.enable)")
LOGS = ScopeNeed(
    "read:logs", "tenant logs of the period: logins with or without MFA (only with collect_sign_ins)", True
)
ALL_SCOPES: tuple[ScopeNeed, ...] = (USERS, METHODS, FACTORS, MFA_POLICIES, CLIENTS, CONNECTIONS, ACTIONS, LOGS)

# Auth0's documented sustained Management API rate for free production tenants: the
# safe default until the operator states the plan's (16 rps for paid production tenants).
DEFAULT_RATE_LIMIT = 2.0
DEFAULT_MAX_CONCURRENCY = 4
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_TIMEOUT = 30.0
SEARCH_CAP = 1000  # GET /api/v2/users pages through the first 1,000 results only
USERS_VIA = ("auto", "search", "export")

_KNOWN = TRANSPORT_KEYS | frozenset(
    {
        "domain",
        "client_id",
        "client_secret",
        "audience",
        "allow_insecure_http",
        "users_via",
        "rate_limit_rps",
        "max_concurrency",
        "max_attempts",
        "request_timeout_seconds",
        "export_poll_seconds",
        "export_timeout_seconds",
        "multifactor_prefilter",
        "page_size",
    }
)
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True, slots=True)
class Auth0Settings:
    domain: str  # host[:port], no scheme
    client_id: str
    client_secret: Secret
    audience: str
    # http:// only for a loopback sandbox; real tenants are https.
    allow_insecure_http: bool = False
    users_via: str = "auto"
    rate_limit_rps: float = DEFAULT_RATE_LIMIT
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    request_timeout_seconds: float = DEFAULT_TIMEOUT
    export_poll_seconds: float = 5.0
    export_timeout_seconds: float = 3600.0
    multifactor_prefilter: bool = False
    page_size: int = 100  # the users and clients listings' per_page (Auth0: at most 100)
    transport: Transport = field(default_factory=Transport)  # proxy and trust_env (auditor.transport)

    @property
    def scheme(self) -> str:
        return "http" if self.allow_insecure_http else "https"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.domain}"

    def __repr__(self) -> str:
        return (
            f"Auth0Settings(domain={self.domain!r}, client_id={self.client_id!r}, client_secret={self.client_secret!r})"
        )


def _secret(value: Any, key: str, base_dir: Path) -> Secret:
    return settings_secret(value, key, base_dir)  # the one parser of secret references


def _number(settings: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
        raise SettingsError(key, f"a number above {low:g} and at most {high:g}", repr(value))
    return float(value)


def _int(settings: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(key, f"an integer from {low} to {high}", repr(value))
    return value


def _domain(settings: Mapping[str, Any], insecure: bool) -> str:
    raw = optional_text(settings, "domain")
    if raw is None:
        raise SettingsError("domain", "the tenant's domain, e.g. example.eu.auth0.com", "nothing")
    if "://" in raw or "/" in raw or not _HOST.match(raw):
        raise SettingsError("domain", "a bare domain such as example.eu.auth0.com (no scheme, no path)", raw)
    if insecure and raw.split(":")[0] not in ("127.0.0.1", "localhost"):
        raise SettingsError("allow_insecure_http", "true only with a loopback domain (127.0.0.1:PORT)", raw)
    return raw.lower()


def parse_settings(settings: Mapping[str, Any], base_dir: Path) -> Auth0Settings:
    if not isinstance(settings, Mapping):
        raise SettingsError("settings", "a mapping", type(settings).__name__)
    unknown = sorted(set(settings) - _KNOWN)
    if unknown:
        raise SettingsError(unknown[0], f"one of {', '.join(sorted(_KNOWN))}", "an unknown key")
    insecure = flag(settings, "allow_insecure_http", False)
    domain = _domain(settings, insecure)
    client_id = optional_text(settings, "client_id")
    if client_id is None:
        raise SettingsError("client_id", "the machine-to-machine application's client ID", "nothing")
    if "client_secret" not in settings:
        raise SettingsError("client_secret", "a secret reference {env: VAR} or {file: path}", "nothing")
    users_via = settings.get("users_via", "auto")
    if users_via not in USERS_VIA:
        raise SettingsError("users_via", f"one of {', '.join(USERS_VIA)}", repr(users_via))
    audience = optional_text(settings, "audience") or f"https://{domain.split(':')[0]}/api/v2/"
    return Auth0Settings(
        transport=parse_transport(settings),
        domain=domain,
        client_id=client_id,
        client_secret=_secret(settings["client_secret"], "client_secret", base_dir),
        audience=audience,
        allow_insecure_http=insecure,
        users_via=str(users_via),
        rate_limit_rps=_number(settings, "rate_limit_rps", DEFAULT_RATE_LIMIT, 0, 10000),
        max_concurrency=_int(settings, "max_concurrency", DEFAULT_MAX_CONCURRENCY, 1, 64),
        max_attempts=_int(settings, "max_attempts", DEFAULT_MAX_ATTEMPTS, 1, 20),
        request_timeout_seconds=_number(settings, "request_timeout_seconds", DEFAULT_TIMEOUT, 0, 600),
        export_poll_seconds=_number(settings, "export_poll_seconds", 5.0, 0, 600),
        export_timeout_seconds=_number(settings, "export_timeout_seconds", 3600.0, 0, 86400),
        multifactor_prefilter=flag(settings, "multifactor_prefilter", False),
        page_size=_int(settings, "page_size", 100, 1, 100),
    )
