"""The ``settings:`` mapping of an Entra source, validated into a frozen dataclass.

Every problem raises ``SettingsError`` naming the key (relative to ``settings``), what
was expected and what was given, never a secret's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from auditor.config.secrets import settings_secret
from auditor.interfaces import Secret, SettingsError
from auditor.transport import TRANSPORT_KEYS, Transport, parse_transport
from connectors.entra.selection import PortalSelection, parse_portal_selection

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_GRAPH_ROOT = "https://graph.microsoft.com"


@dataclass(frozen=True, slots=True)
class SecretCredential:
    secret: Secret


@dataclass(frozen=True, slots=True)
class CertificateCredential:
    private_key: Secret  # the PEM, as {file: key.pem} or {env: VAR}: a private key is a secret
    certificate: Path
    passphrase: Secret | None = None


Credential = SecretCredential | CertificateCredential


@dataclass(frozen=True, slots=True)
class EntraSettings:
    tenant_id: str
    client_id: str
    credential: Credential
    authority_host: str = DEFAULT_AUTHORITY_HOST
    graph_root: str = DEFAULT_GRAPH_ROOT
    ca_bundle: Path | None = None
    page_size: int = 999  # Graph's largest $top for directory objects
    max_attempts: int = 5  # per request, for 429 / 5xx / network errors / malformed bodies
    retry_jitter: float = 1.0  # seconds of random jitter added to every wait
    backoff_base: float = 1.0  # first wait when the server gives no Retry-After
    max_retry_wait: float = 120.0  # a Retry-After above this gives up rather than stall the run
    batch_size: int = 20  # sub-requests per $batch (Graph's maximum)
    timeout: float = 60.0  # seconds per HTTP request
    per_user_mfa: bool = False  # legacy per-user MFA state: one beta call per user, off by default
    service_prefixes: tuple[str, ...] = ("svc-",)  # principals starting so are service accounts
    service_types: tuple[str, ...] = ("service",)  # employeeType values that mark service accounts
    portals: PortalSelection | None = None  # None: every enabled application service principal
    transport: Transport = field(default_factory=Transport)  # proxy and trust_env (auditor.transport)
    # Graph's identity-and-access reports limit (sign-in log, registration report), spent
    # as documented rather than found by 429s (connectors/entra/pacing.py).
    reports_limit: int = 5
    reports_window: float = 10.0

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant_id}"

    @property
    def scope(self) -> str:
        return f"{self.graph_root}/.default"


_KNOWN = frozenset(
    {
        "tenant_id",
        "client_id",
        "client_secret",
        "certificate",
        "authority_host",
        "graph_root",
        "ca_bundle",
        "page_size",
        "max_attempts",
        "retry_jitter",
        "reports_limit",
        "reports_window",
        "backoff_base",
        "max_retry_wait",
        "batch_size",
        "timeout",
        "per_user_mfa",
        "service_prefixes",
        "service_types",
        "portals",
        *TRANSPORT_KEYS,
    }
)


def _describe(value: object) -> str:
    """What was given, without ever echoing a value that might be a secret."""
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"


def _text(settings: Mapping[str, Any], key: str) -> str:
    value = settings.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(key, "a non-empty string", _describe(value))
    return value.strip()


def _https_root(settings: Mapping[str, Any], key: str, default: str) -> str:
    value = settings.get(key, default)
    if not isinstance(value, str):
        raise SettingsError(key, "an https:// URL", _describe(value))
    parts = urlsplit(value.strip())
    # msal refuses non-HTTPS authorities; Graph tokens must never travel in clear either.
    if parts.scheme != "https" or not parts.hostname:
        raise SettingsError(key, "an https:// URL", repr(value))
    if parts.query or parts.fragment:
        raise SettingsError(key, "a URL without query or fragment", repr(value))
    return value.strip().rstrip("/")


def _secret(value: object, key: str, base_dir: Path) -> Secret:
    return settings_secret(value, key, base_dir)


def _path(value: object, key: str, base_dir: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise SettingsError(key, "a file path", _describe(value))
    path = Path(value)
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise SettingsError(key, "an existing file", str(path))
    return path


def _credential(settings: Mapping[str, Any], base_dir: Path) -> Credential:
    has_secret, has_cert = "client_secret" in settings, "certificate" in settings
    if has_secret == has_cert:
        raise SettingsError(
            "client_secret", "exactly one of client_secret or certificate", "both" if has_secret else "neither"
        )
    if has_secret:
        return SecretCredential(_secret(settings["client_secret"], "client_secret", base_dir))
    cert = settings["certificate"]
    if not isinstance(cert, Mapping):
        raise SettingsError("certificate", "a mapping with private_key and certificate paths", _describe(cert))
    unknown = sorted(set(cert) - {"private_key", "certificate", "passphrase"})
    if unknown:
        raise SettingsError(f"certificate.{unknown[0]}", "one of private_key, certificate, passphrase", "unknown key")
    passphrase = cert.get("passphrase")
    return CertificateCredential(
        private_key=_secret(cert.get("private_key"), "certificate.private_key", base_dir),
        certificate=_path(cert.get("certificate"), "certificate.certificate", base_dir),
        passphrase=None if passphrase is None else _secret(passphrase, "certificate.passphrase", base_dir),
    )


def _int(settings: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(key, f"an integer from {low} to {high}", repr(value) if isinstance(value, int) else None)
    return value


def _float(settings: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise SettingsError(key, f"a number from {low:g} to {high:g}", _describe(value))
    return float(value)


def _names(settings: Mapping[str, Any], key: str, default: list[str]) -> tuple[str, ...]:
    value = settings.get(key, default)
    if not isinstance(value, list | tuple) or not all(isinstance(p, str) and p for p in value):
        raise SettingsError(key, "a list of non-empty strings", _describe(value))
    return tuple(p.casefold() for p in value)


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"(?=.{4,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


def _tenant_id(settings: Mapping[str, Any]) -> str:
    """A directory (tenant) GUID or one of its verified domains: an app-only token needs a
    specific tenant, so "common" or "organizations" are refused here, not at sign-in."""
    value = _text(settings, "tenant_id")
    if not (_GUID.fullmatch(value) or _DOMAIN.fullmatch(value)):
        raise SettingsError(
            "tenant_id", "the directory's GUID or a verified domain (contoso.onmicrosoft.com)", _describe(value)
        )
    return value


def parse_settings(settings: Mapping[str, Any], base_dir: Path) -> EntraSettings:
    if not isinstance(settings, Mapping):
        raise SettingsError("settings", "a mapping", _describe(settings))
    unknown = sorted(set(settings) - _KNOWN)
    if unknown:
        raise SettingsError(unknown[0], "one of " + ", ".join(sorted(_KNOWN)), "an unknown key")
    ca_bundle = settings.get("ca_bundle")
    per_user = settings.get("per_user_mfa", False)
    if not isinstance(per_user, bool):
        raise SettingsError("per_user_mfa", "true or false", _describe(per_user))
    transport = parse_transport(settings)
    prefixes = _names(settings, "service_prefixes", ["svc-"])
    types = _names(settings, "service_types", ["service"])
    return EntraSettings(
        tenant_id=_tenant_id(settings),
        client_id=_text(settings, "client_id"),
        credential=_credential(settings, base_dir),
        authority_host=_https_root(settings, "authority_host", DEFAULT_AUTHORITY_HOST),
        graph_root=_https_root(settings, "graph_root", DEFAULT_GRAPH_ROOT),
        ca_bundle=None if ca_bundle is None else _path(ca_bundle, "ca_bundle", base_dir),
        page_size=_int(settings, "page_size", 999, 1, 999),
        max_attempts=_int(settings, "max_attempts", 5, 1, 20),
        retry_jitter=_float(settings, "retry_jitter", 1.0, 0.0, 60.0),
        backoff_base=_float(settings, "backoff_base", 1.0, 0.0, 60.0),
        max_retry_wait=_float(settings, "max_retry_wait", 120.0, 0.0, 3600.0),
        batch_size=_int(settings, "batch_size", 20, 1, 20),
        timeout=_float(settings, "timeout", 60.0, 1.0, 600.0),
        per_user_mfa=per_user,
        service_prefixes=prefixes,
        service_types=types,
        portals=parse_portal_selection(settings.get("portals")),
        transport=transport,
        reports_limit=_int(settings, "reports_limit", 5, 1, 1000),
        reports_window=_float(settings, "reports_window", 10.0, 0.01, 3600.0),
    )
