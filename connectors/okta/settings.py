"""The Okta connector's settings and the read-only scopes it needs, each with its reason.

Settings arrive as the raw ``sources[i].settings`` mapping; secrets as
``auditor.interfaces.Secret`` (a plain ``{env: VAR}`` / ``{file: path}`` mapping is
accepted too). Every problem is a ``SettingsError`` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from auditor.config.secrets import settings_secret
from auditor.config.setting_values import flag, optional_text
from auditor.interfaces import Secret, SettingsError
from auditor.transport import TRANSPORT_KEYS, Transport, parse_transport, service_url


@dataclass(frozen=True, slots=True)
class ScopeNeed:
    scope: str
    purpose: str
    optional: bool = False  # the collection is complete without it (what it reads is then "not read")


# Read-only scopes only (docs/okta.md repeats them with the same reasons).
USERS = ScopeNeed("okta.users.read", "users (every status) and each user's enrolled factors")
GROUPS = ScopeNeed("okta.groups.read", "groups and their members: policy scopes and group-based app assignments")
APPS = ScopeNeed("okta.apps.read", "apps (portals), their user and group assignments, the app-to-policy link")
POLICIES = ScopeNeed(
    "okta.policies.read", "authentication (access) policies, the global session policy, classic sign-on and enrolment"
)
ROLES = ScopeNeed("okta.roles.read", "admin role assignments to users and groups: who is privileged")
ZONES = ScopeNeed("okta.networkZones.read", "network zone names, so that zone conditions read as names, not ids")
LOGS = ScopeNeed(
    "okta.logs.read", "system log sign-on events of the period (only with collect_sign_ins)", optional=True
)
AUTHENTICATORS = ScopeNeed(
    "okta.authenticators.read",
    "the org's authenticators and their status (Identity Engine): a factor of an inactive one is not usable",
    optional=True,
)
ALL_SCOPES: tuple[ScopeNeed, ...] = (USERS, GROUPS, APPS, POLICIES, ROLES, ZONES, LOGS, AUTHENTICATORS)

DEFAULT_MAX_CONCURRENCY = 8
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_TIMEOUT = 30.0
DEFAULT_PAGE_SIZE = 200

_KNOWN = frozenset(
    {
        "org_url",
        "token",
        "oauth",
        "include_deprovisioned",
        "max_concurrency",
        "allow_insecure_http",
        "max_attempts",
        "request_timeout_seconds",
        "page_size",
        *TRANSPORT_KEYS,
    }
)
_OAUTH_KNOWN = frozenset({"client_id", "private_key", "key_id", "scopes"})


@dataclass(frozen=True, slots=True)
class OAuthApp:
    client_id: str
    private_key: Secret
    key_id: str | None
    scopes: tuple[str, ...]

    def __repr__(self) -> str:
        return f"OAuthApp(client_id={self.client_id!r}, private_key={self.private_key!r})"


@dataclass(frozen=True, slots=True)
class OktaSettings:
    org_url: str
    token: Secret | None
    oauth: OAuthApp | None
    include_deprovisioned: bool = False
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    # The SDK refuses http:// org URLs; this lifts the refusal for the loopback sandbox only.
    allow_insecure_http: bool = False
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    request_timeout_seconds: float = DEFAULT_TIMEOUT
    page_size: int = DEFAULT_PAGE_SIZE
    transport: Transport = field(default_factory=Transport)  # proxy and trust_env (auditor.transport)


def _secret(value: Any, key: str, base_dir: Path) -> Secret:
    return settings_secret(value, key, base_dir)


def _int(mapping: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = mapping.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(key, f"an integer from {low} to {high}", repr(value))
    return value


def _org_url(settings: Mapping[str, Any], insecure: bool) -> str:
    url = optional_text(settings, "org_url", where="org_url")
    if url is None:
        raise SettingsError("org_url", "the org's URL, e.g. https://example.okta.com", "nothing")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise SettingsError("org_url", "a bare org URL such as https://example.okta.com", url)
    if "-admin." in parts.hostname:
        raise SettingsError("org_url", "the org URL, not the admin console's (drop '-admin')", url)
    service_url(url, "org_url", allow_insecure_http=insecure, example="https://example.okta.com")
    return url.rstrip("/")


def _oauth(value: Any, base_dir: Path) -> OAuthApp:
    if not isinstance(value, Mapping):
        raise SettingsError("oauth", "a mapping {client_id, private_key, key_id, scopes}", type(value).__name__)
    unknown = sorted(set(value) - _OAUTH_KNOWN)
    if unknown:
        raise SettingsError(f"oauth.{unknown[0]}", f"one of {', '.join(sorted(_OAUTH_KNOWN))}", "an unknown key")
    client_id = optional_text(value, "client_id", where="oauth.client_id")
    if client_id is None:
        raise SettingsError("oauth.client_id", "the service app's client ID (0oa…)", "nothing")
    if "private_key" not in value:
        raise SettingsError("oauth.private_key", "a secret reference to the app's private key (PEM or JWK)", "nothing")
    key = _secret(value["private_key"], "oauth.private_key", base_dir)
    scopes_raw = value.get("scopes")
    scopes: tuple[str, ...]
    if scopes_raw is None:
        scopes = tuple(s.scope for s in ALL_SCOPES)
    else:
        if (
            not isinstance(scopes_raw, list | tuple)
            or not scopes_raw
            or not all(isinstance(s, str) for s in scopes_raw)
        ):
            raise SettingsError("oauth.scopes", "a non-empty list of okta.*.read scopes", repr(scopes_raw))
        bad = [s for s in scopes_raw if not (s.startswith("okta.") and s.endswith(".read"))]
        if bad:
            raise SettingsError("oauth.scopes", "read-only okta.*.read scopes only", bad[0])
        scopes = tuple(scopes_raw)
    return OAuthApp(client_id, key, optional_text(value, "key_id", where="oauth.key_id"), scopes)


def parse_settings(settings: Mapping[str, Any], base_dir: Path) -> OktaSettings:
    if not isinstance(settings, Mapping):
        raise SettingsError("settings", "a mapping", type(settings).__name__)
    unknown = sorted(set(settings) - _KNOWN)
    if unknown:
        raise SettingsError(unknown[0], f"one of {', '.join(sorted(_KNOWN))}", "an unknown key")
    insecure = flag(settings, "allow_insecure_http", False)
    org_url = _org_url(settings, insecure)
    has_token, has_oauth = settings.get("token") is not None, settings.get("oauth") is not None
    if has_token == has_oauth:
        raise SettingsError(
            "token",
            "exactly one of token (an API token reference) or oauth (a service app)",
            "both" if has_token else "neither",
        )
    timeout = settings.get("request_timeout_seconds", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600:
        raise SettingsError("request_timeout_seconds", "a number of seconds from 0 to 600", repr(timeout))
    return OktaSettings(
        org_url=org_url,
        token=_secret(settings["token"], "token", base_dir) if has_token else None,
        oauth=_oauth(settings["oauth"], base_dir) if has_oauth else None,
        include_deprovisioned=flag(settings, "include_deprovisioned", False),
        max_concurrency=_int(settings, "max_concurrency", DEFAULT_MAX_CONCURRENCY, 1, 64),
        allow_insecure_http=insecure,
        max_attempts=_int(settings, "max_attempts", DEFAULT_MAX_ATTEMPTS, 1, 20),
        request_timeout_seconds=float(timeout),
        page_size=_int(settings, "page_size", DEFAULT_PAGE_SIZE, 1, 200),
        transport=parse_transport(settings),
    )
