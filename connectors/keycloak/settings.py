"""The Keycloak connector's settings and the realm-management roles it needs.

Every problem is a ``SettingsError`` naming the key. Secrets arrive as
``auditor.interfaces.Secret`` or a plain ``{env: VAR}`` / ``{file: path}`` mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from auditor.config.secrets import settings_secret
from auditor.config.setting_values import flag, required_text
from auditor.interfaces import Secret, SettingsError
from auditor.transport import TRANSPORT_KEYS, Transport, parse_transport


@dataclass(frozen=True, slots=True)
class RoleNeed:
    role: str  # a client role of realm-management
    purpose: str
    optional: bool = False  # needed only when the source collects sign-ins


VIEW_USERS = RoleNeed("view-users", "users, their credentials, groups, role members and identity-provider links")
VIEW_REALM = RoleNeed("view-realm", "the realm's flows, executions, identity providers, roles and events settings")
VIEW_CLIENTS = RoleNeed("view-clients", "clients (portals) and their authentication-flow overrides")
VIEW_EVENTS = RoleNeed("view-events", "stored login events (only with collect_sign_ins)", optional=True)
ALL_ROLES: tuple[RoleNeed, ...] = (VIEW_USERS, VIEW_REALM, VIEW_CLIENTS, VIEW_EVENTS)

# Keycloak documents no rate limit (it is self-hosted): an audit must not load a
# production realm, so the default is gentle and the operator raises it knowingly.
DEFAULT_REQUESTS_PER_SECOND = 20.0
DEFAULT_MAX_CONCURRENCY = 2
DEFAULT_PAGE_SIZE = 100
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_TIMEOUT = 30.0

_KNOWN = frozenset(
    {
        "server_url",
        "realm",
        "client_id",
        "client_secret",
        "allow_insecure_http",
        "ca_bundle",
        "requests_per_second",
        "max_concurrency",
        "page_size",
        "max_attempts",
        "request_timeout_seconds",
        "brokers",
        *TRANSPORT_KEYS,
    }
)


@dataclass(frozen=True, slots=True)
class KeycloakSettings:
    server_url: str
    realm: str
    client_id: str
    client_secret: Secret
    allow_insecure_http: bool = False
    ca_bundle: Path | None = None
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    page_size: int = DEFAULT_PAGE_SIZE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    request_timeout_seconds: float = DEFAULT_TIMEOUT
    # Identity-provider alias → the audited source where its users are judged.
    brokers: Mapping[str, str] = field(default_factory=dict)
    transport: Transport = field(default_factory=Transport)  # proxy and trust_env (auditor.transport)


def _secret(value: Any, key: str, base_dir: Path) -> Secret:
    return settings_secret(value, key, base_dir)  # the one parser of secret references


def _int(settings: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(key, f"an integer from {low} to {high}", repr(value))
    return value


def _number(settings: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
        raise SettingsError(key, f"a number above {low:g} and at most {high:g}", repr(value))
    return float(value)


def _server_url(settings: Mapping[str, Any], insecure: bool) -> str:
    url = required_text(settings, "server_url")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError("server_url", "the server's base URL, e.g. https://sso.example.fr (or …/auth)", url)
    if "/realms/" in parts.path or "/admin" in parts.path:
        raise SettingsError("server_url", "the server's base URL, without /realms/… or /admin", url)
    if parts.scheme == "http" and not (insecure and parts.hostname in ("127.0.0.1", "localhost", "::1")):
        raise SettingsError(
            "server_url", "an https:// URL (http:// only for a loopback sandbox with allow_insecure_http: true)", url
        )
    return url.rstrip("/") + "/"


def _brokers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        raise SettingsError("brokers", "a mapping of identity-provider alias to source name", repr(value))
    return dict(value)


def parse_settings(settings: Mapping[str, Any], base_dir: Path) -> KeycloakSettings:
    if not isinstance(settings, Mapping):
        raise SettingsError("settings", "a mapping", type(settings).__name__)
    unknown = sorted(set(settings) - _KNOWN)
    if unknown:
        raise SettingsError(unknown[0], f"one of {', '.join(sorted(_KNOWN))}", "an unknown key")
    insecure = flag(settings, "allow_insecure_http", False)
    if "client_secret" not in settings:
        raise SettingsError("client_secret", "a secret reference to the service-account client's secret", "nothing")
    ca = settings.get("ca_bundle")
    if ca is not None and not isinstance(ca, str | Path):
        raise SettingsError("ca_bundle", "a path to a PEM bundle", repr(ca))
    ca_path = None if ca is None else (Path(ca) if Path(ca).is_absolute() else base_dir / ca)
    return KeycloakSettings(
        transport=parse_transport(settings),
        server_url=_server_url(settings, insecure),
        realm=required_text(settings, "realm"),
        client_id=required_text(settings, "client_id"),
        client_secret=_secret(settings["client_secret"], "client_secret", base_dir),
        allow_insecure_http=insecure,
        ca_bundle=ca_path,
        requests_per_second=_number(settings, "requests_per_second", DEFAULT_REQUESTS_PER_SECOND, 0, 10_000),
        max_concurrency=_int(settings, "max_concurrency", DEFAULT_MAX_CONCURRENCY, 1, 32),
        page_size=_int(settings, "page_size", DEFAULT_PAGE_SIZE, 1, 1000),
        max_attempts=_int(settings, "max_attempts", DEFAULT_MAX_ATTEMPTS, 1, 20),
        request_timeout_seconds=_number(settings, "request_timeout_seconds", DEFAULT_TIMEOUT, 0, 600),
        brokers=_brokers(settings.get("brokers")),
    )
