"""The guard in front of every route: GET and HEAD only, the Host header checked, the
token when the server listens beyond loopback, and security headers on every answer.

A pure ASGI middleware (not ``BaseHTTPMiddleware``): it sees every response, the
streamed CSV included, and adds its headers before the first byte.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_COOKIE = "mfa_audit_token"
TOKEN_HEADER = "x-mfa-audit-token"
# No inline script or style anywhere: the chart is SVG with presentation attributes,
# htmx is a bundled file told not to inject its indicator style.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    # Pages name accounts: nothing of them is kept by the browser or a proxy.
    (b"cache-control", b"no-store"),
)
ALLOWED_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Guard:
    # Host header values accepted on loopback (DNS rebinding: a page of another site whose
    # name resolves to 127.0.0.1 cannot read us); None beyond loopback, where the token guards.
    hosts: frozenset[str] | None
    token: str | None  # required when listening beyond loopback


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        if scope["method"] not in ALLOWED_METHODS:
            # Read-only by construction: nothing to post, so no CSRF to defend.
            await _plain(send, 405, "405 method not allowed: this view is read-only\n", [(b"allow", b"GET, HEAD")])
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        if self.guard.hosts is not None and host not in self.guard.hosts:
            await _plain(send, 421, "421 misdirected request: unexpected Host header\n")
            return
        token = self.guard.token
        if token is not None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            given = query.get("token")
            if given is not None and hmac.compare_digest(given.encode(), token.encode()):
                # The printed link carries the token once: it becomes a cookie, and the
                # address bar (and history) lose it.
                rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
                location = scope["path"] + (f"?{rest}" if rest else "")
                cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
                await _plain(send, 303, "", [(b"location", location.encode()), (b"set-cookie", cookie.encode())])
                return
            if not _token_ok(headers, token):
                await _plain(send, 401, "401 unauthorised: open the link printed by `mfa-audit serve`\n")
                return
        await self.app(scope, receive, send)


def _token_ok(headers: dict[str, str], token: str) -> bool:
    candidates = [headers.get(TOKEN_HEADER, "")]
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        candidates.append(auth[7:].strip())
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except CookieError:  # a malformed cookie header is no token, not a crash
        cookie = SimpleCookie()
    if TOKEN_COOKIE in cookie:
        candidates.append(cookie[TOKEN_COOKIE].value)
    return any(c and hmac.compare_digest(c.encode(), token.encode()) for c in candidates)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _with_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            names = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def _plain(send: Send, status: int, text: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def loopback_hosts(host: str, port: int) -> frozenset[str]:
    """The Host values a browser sends for this bind address."""
    names = {"localhost", "127.0.0.1", "[::1]"}
    return frozenset({f"{n}:{port}" for n in names} | (names if port == 80 else set()))
