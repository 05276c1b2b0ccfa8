"""The Auth0 sandbox's HTTP side: a plain-HTTP ThreadingHTTPServer on 127.0.0.1 speaking
the Management API v2 paths the connector reads, in Auth0's shapes: offset paging with
``include_totals`` objects, the search listing's 1,000-result cap, Auth0 error bodies
(``statusCode``, ``error``, ``message``, ``errorCode``), a token bucket per tenant
answering ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` on every Management API
response and 429 ``too_many_requests`` when empty, the client-credentials token
endpoint, the users-export job and its gzip NDJSON file, and faults switchable per test."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from connectors.sandbox.loopback import LoopbackHTTPServer, serve_in_thread

Json = dict[str, Any]

READ_SCOPES = (
    "read:users",
    "read:authentication_methods",
    "read:guardian_factors",
    "read:mfa_policies",
    "read:clients",
    "read:connections",
    "read:actions",
    "read:logs",
)
# (family, method, path pattern, the scopes any one of which the endpoint accepts)
ROUTES: tuple[tuple[str, str, re.Pattern[str], tuple[str, ...]], ...] = (
    ("users", "GET", re.compile(r"^/api/v2/users$"), ("read:users",)),
    (
        "methods",
        "GET",
        re.compile(r"^/api/v2/users/(?P<id>[^/]+)/authentication-methods$"),
        ("read:authentication_methods",),
    ),
    ("jobs", "POST", re.compile(r"^/api/v2/jobs/users-exports$"), ("read:users",)),
    ("jobs", "GET", re.compile(r"^/api/v2/jobs/(?P<id>[^/]+)$"), ("create:users", "read:users")),
    ("clients", "GET", re.compile(r"^/api/v2/clients$"), ("read:clients",)),
    ("connections", "GET", re.compile(r"^/api/v2/connections$"), ("read:connections",)),
    ("connections", "GET", re.compile(r"^/api/v2/connections/(?P<id>[^/]+)/clients$"), ("read:connections",)),
    ("guardian", "GET", re.compile(r"^/api/v2/guardian/policies$"), ("read:mfa_policies",)),
    ("guardian", "GET", re.compile(r"^/api/v2/guardian/factors$"), ("read:guardian_factors",)),
    ("actions", "GET", re.compile(r"^/api/v2/actions/triggers/(?P<trigger>[^/]+)/bindings$"), ("read:actions",)),
    ("actions", "GET", re.compile(r"^/api/v2/actions/actions/(?P<id>[^/]+)$"), ("read:actions",)),
    ("logs", "GET", re.compile(r"^/api/v2/logs$"), ("read:logs",)),
)
FAULT_ACTIONS = frozenset(
    {"ok", "429", "500", "502", "503", "504", "timeout", "reset", "malformed", "401", "403", "dup_page", "short_total"}
)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    family: str  # users, methods, jobs, clients, guardian, actions, logs, token, export, or ""
    status: int
    authorization: bool = False  # whether an Authorization header came with it


@dataclass(slots=True)
class Faults:
    """Per-family scripts, one action per request ("ok" passes), then ``persistent``.
    Actions: ok, 429 (with ``Retry-After`` when ``retry_after`` is set), 500, 502,
    503, 504, timeout (answers after ``timeout_delay``), reset (half a body, then the
    connection drops), malformed (broken JSON), 401 (token refused), 403 (scope
    removed), dup_page (the page starts with the previous page's last record: the
    listing shifted under the reader), short_total (``total`` one above the records)."""

    script: dict[str, list[str]] = field(default_factory=dict)
    persistent: dict[str, str] = field(default_factory=dict)
    timeout_delay: float = 2.0
    retry_after: float | None = None

    def next_action(self, family: str) -> str:
        queue = self.script.get(family)
        if queue:
            return queue.pop(0)
        return self.persistent.get(family, "ok")


@dataclass(slots=True)
class TokenBucket:
    """Auth0's per-tenant bucket: ``size`` tokens, refilled at ``rate`` per second."""

    size: int
    rate: float
    tokens: float = -1.0
    stamp: float = 0.0
    throttled: int = 0

    def take(self, now: float) -> tuple[bool, int, int, int]:
        """(allowed, limit, remaining, reset: epoch second when the bucket is full again)."""
        if self.tokens < 0:
            self.tokens, self.stamp = float(self.size), now
        self.tokens = min(float(self.size), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        allowed = self.tokens >= 1.0
        if allowed:
            self.tokens -= 1.0
        else:
            self.throttled += 1
        reset = int(now + (self.size - self.tokens) / self.rate) + 1
        return allowed, self.size, int(self.tokens), reset


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.code = status, error, message, code

    def body(self) -> Json:
        out: Json = {"statusCode": self.status, "error": self.error, "message": self.message}
        if self.code:
            out["errorCode"] = self.code
        return out


TOO_MANY = ApiError(429, "Too Many Requests", "Global limit has been reached", "too_many_requests")


@dataclass(frozen=True, slots=True)
class Request:
    family: str
    method: str
    path: str
    params: Mapping[str, str]
    match: Mapping[str, str]
    body: Any
    base: str


@dataclass(slots=True)
class ServerState:
    api: Callable[[Request, str], Any]  # (request, fault action) → JSON body (ApiError for errors)
    exports: Callable[[str], bytes | None]  # export file name → gzip bytes
    client_id: str
    client_secret: str
    audience: str
    granted_scopes: frozenset[str]
    bucket: TokenBucket
    faults: Faults
    requests: list[RecordedRequest] = field(default_factory=list)
    access_tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""


def gzip_ndjson(records: list[Json]) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        for r in records:
            gz.write(json.dumps(r, separators=(",", ":")).encode("utf-8") + b"\n")
    return buf.getvalue()


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is ``state.requests``."""

    def _send(self, status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> None:
        self._send_raw(status, json.dumps(body).encode("utf-8"), headers)

    def _send_raw(
        self, status: int, data: bytes, headers: list[tuple[str, str]] | None = None, ctype: str = "application/json"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers or []:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _record(self, family: str, status: int) -> None:
        split = urlsplit(self.path)
        query = {k: tuple(v) for k, v in parse_qs(split.query).items()}
        st = self.server.state
        with st.lock:
            st.requests.append(
                RecordedRequest(self.command, split.path, query, family, status, "Authorization" in self.headers)
            )

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_PUT(self) -> None:
        self._body()
        self._record("", 405)
        self._send(405, ApiError(405, "Method Not Allowed", "Method not allowed").body())

    do_DELETE = do_PATCH = do_PUT

    def do_POST(self) -> None:
        if urlsplit(self.path).path == "/oauth/token":
            self._token(self._body())
            return
        self._api("POST")

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/exports/"):
            self._export(path.removeprefix("/exports/"))
            return
        self._api("GET")

    # --- token -------------------------------------------------------------------------

    def _token(self, raw: bytes) -> None:
        st = self.server.state
        ctype = self.headers.get("Content-Type", "")
        try:
            form = json.loads(raw) if "json" in ctype else {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        except (ValueError, UnicodeDecodeError):
            form = {}
        if not isinstance(form, dict):
            form = {}
        status = 200
        body: Json = {}
        if form.get("grant_type") != "client_credentials":
            status, body = 403, {"error": "unauthorized_client", "error_description": "Grant type not allowed"}
        elif form.get("client_id") != st.client_id or not secrets.compare_digest(
            str(form.get("client_secret", "")).encode(), st.client_secret.encode()
        ):
            status, body = 401, {"error": "access_denied", "error_description": "Unauthorized"}
        elif form.get("audience") != st.audience:
            status, body = (
                403,
                {
                    "error": "access_denied",
                    "error_description": f"Service not enabled within domain: {str(form.get('audience'))[:80]}",
                },
            )
        else:
            token = secrets.token_urlsafe(24)
            with st.lock:
                st.access_tokens[token] = st.granted_scopes
            body = {
                "access_token": token,
                "scope": " ".join(sorted(st.granted_scopes)),
                "expires_in": 86400,
                "token_type": "Bearer",
            }
        self._record("token", status)
        self._send(status, body)

    # --- export file (storage: no Management API token needed or wanted) -----------------

    def _export(self, name: str) -> None:
        st = self.server.state
        with st.lock:
            action = st.faults.next_action("export")
        data = st.exports(name)
        if data is None:
            self._record("export", 404)
            self._send_raw(404, b"<Error><Code>NoSuchKey</Code></Error>", ctype="application/xml")
            return
        if action == "malformed":
            data = data[: len(data) // 2]  # a truncated gzip stream
        self._record("export", 200)
        self._send_raw(200, data, ctype="application/gzip")

    # --- the Management API ------------------------------------------------------------

    def _api(self, method: str) -> None:
        st = self.server.state
        split = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(split.query).items()}
        raw = self._body()
        route = None
        match: re.Match[str] | None = None
        for fam, verb, pattern, scopes in ROUTES:
            match = pattern.match(split.path)
            if match and verb == method:
                route = (fam, scopes)
                break
        now = time.time()
        headers: list[tuple[str, str]] = []  # send_response adds Date
        if route is None or match is None:
            self._record("", 404)
            self._send(404, ApiError(404, "Not Found", "Not Found").body(), headers)
            return
        family, scopes = route
        with st.lock:
            allowed, limit, remaining, reset = st.bucket.take(now)
            action = st.faults.next_action(family)
        headers += [
            ("X-RateLimit-Limit", str(limit)),
            ("X-RateLimit-Remaining", str(remaining)),
            ("X-RateLimit-Reset", str(reset)),
        ]
        error = self._authorise(scopes)
        if error is None and (not allowed or action == "429"):
            error = TOO_MANY
            if st.faults.retry_after is not None:
                headers.append(("Retry-After", f"{st.faults.retry_after:g}"))
            elif action == "429":  # a forced 429: the bucket is full again at once
                headers[-1] = ("X-RateLimit-Reset", str(int(now)))
        if error is None and action in ("401", "403"):
            error = (
                ApiError(401, "Unauthorized", "Expired token received for JSON Web Token validation", "invalid_token")
                if action == "401"
                else ApiError(
                    403, "Forbidden", f"Insufficient scope, expected any of: {','.join(scopes)}", "insufficient_scope"
                )
            )
        if error is None and action in ("500", "502", "503", "504"):
            error = ApiError(int(action), "Internal Server Error", "Internal Server Error")
        if error is not None:
            self._record(family, error.status)
            self._send(error.status, error.body(), headers)
            return
        if action == "reset":
            self._record(family, 0)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b'{"users": [{"user_id": "')
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if action == "timeout":
            time.sleep(st.faults.timeout_delay)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        try:
            groups = {k: unquote(v) for k, v in match.groupdict().items()}
            answer = st.api(Request(family, method, split.path, params, groups, body, st.base_url), action)
        except ApiError as exc:
            self._record(family, exc.status)
            self._send(exc.status, exc.body(), headers)
            return
        status = 201 if method == "POST" else 200
        self._record(family, status)
        if action == "malformed":
            self._send_raw(status, b'{"users": [{"user_id": "auth0|', headers)
            return
        self._send(status, answer, headers)

    def _authorise(self, scopes: tuple[str, ...]) -> ApiError | None:
        st = self.server.state
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not value:
            return ApiError(401, "Unauthorized", "Missing authentication", "missing_authentication")
        with st.lock:
            granted = st.access_tokens.get(value)
        if granted is None:
            return ApiError(401, "Unauthorized", "Invalid token", "invalid_token")
        if not any(s in granted for s in scopes):
            return ApiError(
                403, "Forbidden", f"Insufficient scope, expected any of: {','.join(scopes)}", "insufficient_scope"
            )
        return None


def serve(state: ServerState) -> tuple[LoopbackHTTPServer, threading.Thread]:
    server, thread, base = serve_in_thread(_Handler, state, "auth0-sandbox")
    state.base_url = base
    return server, thread
