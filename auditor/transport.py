"""Transport settings every connector shares, parsed in one place: where a source may
be reached (https, or plain http on loopback for a sandbox) and through which proxy.

One documented behaviour for proxies (SECURITY.md): a source uses the proxy named by
its ``proxy`` setting and no other; the environment (``HTTPS_PROXY``, ``HTTP_PROXY``,
``NO_PROXY``, CA-bundle variables, ``.netrc``) is ignored unless ``trust_env: true``.
An explicit ``proxy`` wins over the environment either way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from auditor.interfaces import SettingsError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TRANSPORT_KEYS = frozenset({"proxy", "trust_env"})


@dataclass(frozen=True, slots=True)
class Proxy:
    """An HTTP proxy: requests to https services go through a CONNECT tunnel, so the
    proxy sees host names, never the tokens."""

    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Transport:
    proxy: Proxy | None = None
    trust_env: bool = False


def is_loopback(host: str | None) -> bool:
    return (host or "").lower() in LOOPBACK_HOSTS


def service_url(value: object, key: str, *, allow_insecure_http: bool, example: str) -> str:
    """An ``https://`` URL, or ``http://`` on loopback when the source says
    ``allow_insecure_http: true`` (sandboxes only): tokens never travel in clear."""
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(key, f"an https:// URL such as {example}", "nothing" if value is None else "no URL")
    text = value.strip()
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise SettingsError(key, f"an https:// URL such as {example}", repr(text)) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SettingsError(key, f"an https:// URL such as {example}", repr(text))
    if parts.username or parts.password:
        raise SettingsError(key, "a URL without user or password in it", "a URL with credentials")
    if parts.scheme == "http" and not (allow_insecure_http and is_loopback(parts.hostname)):
        raise SettingsError(
            key, "an https:// URL (http:// only on loopback, with allow_insecure_http: true)", repr(text)
        )
    return text


def parse_proxy(value: object, key: str = "proxy") -> Proxy | None:
    """``http://host:port`` (no credentials: they would sit in the config in clear)."""
    if value is None:
        return None
    expected = "an http:// proxy URL such as http://proxy.example:3128 (no user or password)"
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(key, expected, "nothing" if value is None else f"a {type(value).__name__}")
    parts = urlsplit(value.strip())
    if parts.username or parts.password:
        raise SettingsError(key, expected, "a URL with credentials")
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or not parts.hostname or port is None or parts.path not in ("", "/") or parts.query:
        raise SettingsError(key, expected, repr(value.strip()))
    return Proxy(parts.hostname, port)


def parse_transport(settings: Mapping[str, Any]) -> Transport:
    trust_env = settings.get("trust_env", False)
    if not isinstance(trust_env, bool):
        raise SettingsError("trust_env", "true or false", f"a {type(trust_env).__name__}")
    return Transport(parse_proxy(settings.get("proxy")), trust_env)
