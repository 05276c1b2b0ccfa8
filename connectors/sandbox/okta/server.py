"""The Okta sandbox's HTTP side: a plain-HTTP ThreadingHTTPServer on 127.0.0.1 speaking
the Management API paths the connector reads, in Okta's shapes: Link paging (``self``
header first, then ``next``, as Okta sends them and as the SDK's header dict needs),
error objects, ``Date`` and ``X-Rate-Limit-*`` on every response with a budget per
window per endpoint family (429 E0000047 beyond it), the OAuth 2.0 client-credentials
token endpoint (private_key_jwt), and faults switchable per test."""

from __future__ import annotations

import contextlib
import json
import math
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt

from connectors.sandbox.loopback import LoopbackHTTPServer, serve_in_thread

Json = dict[str, Any]
Handler = Callable[["Request"], Any]

READ_SCOPES = (
    "okta.users.read",
    "okta.groups.read",
    "okta.apps.read",
    "okta.policies.read",
    "okta.roles.read",
    "okta.logs.read",
    "okta.networkZones.read",
    "okta.authenticators.read",
)
# Endpoint family → the scope a Bearer token needs for it.
FAMILY_SCOPES = {
    "users": "okta.users.read",
    "factors": "okta.users.read",
    "roles": "okta.roles.read",
    "groups": "okta.groups.read",
    "apps": "okta.apps.read",
    "policies": "okta.policies.read",
    "authenticators": "okta.authenticators.read",
    "logs": "okta.logs.read",
    "zones": "okta.networkZones.read",
}
ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("users", re.compile(r"^/api/v1/users$")),
    ("factors", re.compile(r"^/api/v1/users/(?P<id>[^/]+)/factors$")),
    ("roles", re.compile(r"^/api/v1/users/(?P<id>[^/]+)/roles$")),
    ("roles", re.compile(r"^/api/v1/iam/assignees/users$")),
    ("groups", re.compile(r"^/api/v1/groups$")),
    ("groups", re.compile(r"^/api/v1/groups/(?P<id>[^/]+)/users$")),
    ("roles", re.compile(r"^/api/v1/groups/(?P<id>[^/]+)/roles$")),
    ("apps", re.compile(r"^/api/v1/apps$")),
    ("apps", re.compile(r"^/api/v1/apps/(?P<id>[^/]+)/users$")),
    ("apps", re.compile(r"^/api/v1/apps/(?P<id>[^/]+)/groups$")),
    ("policies", re.compile(r"^/api/v1/policies$")),
    ("policies", re.compile(r"^/api/v1/policies/(?P<id>[^/]+)/rules$")),
    ("authenticators", re.compile(r"^/api/v1/authenticators$")),
    ("logs", re.compile(r"^/api/v1/logs$")),
    ("zones", re.compile(r"^/api/v1/zones$")),
)
MAX_LIMIT = {"users": 200, "groups": 10000, "apps": 200, "logs": 1000, "policies": 200, "roles": 100}
DEFAULT_LIMIT = {"users": 200, "groups": 10000, "apps": 20, "logs": 100, "policies": 20, "roles": 100}
FAULT_ACTIONS = frozenset(
    {"ok", "500", "502", "503", "504", "timeout", "429", "reset", "malformed", "401", "403"}
    | {"no_next", "loop_next", "dup_next"}
)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    family: str  # users, factors, … "token", or "" when unrouted
    status: int


@dataclass(slots=True)
class Faults:
    """Per-family fault scripts: ``script[family]`` is consumed one action per request to
    that family ("ok" passes); ``persistent[family]`` applies after the script. Actions:
    ok, 429, 500, 502, 503, 504, timeout (answers after ``timeout_delay`` seconds),
    reset (half a body, then the connection drops), malformed (broken JSON), 401 (the
    token is refused), 403 (permission removed), no_next (the page loses its next link),
    loop_next (the next link points at this very page again), dup_next (the next page
    starts with this page's last record), redirect (307 to ``redirect_to`` + the path).
    ``invalid_users`` are served schema-invalid (the SDK's models reject them);
    ``link_base`` replaces the origin of every next link (a hostile or confused server)."""

    script: dict[str, list[str]] = field(default_factory=dict)
    persistent: dict[str, str] = field(default_factory=dict)
    timeout_delay: float = 2.0
    page_size: int | None = None
    invalid_users: frozenset[str] = frozenset()
    link_base: str | None = None
    redirect_to: str | None = None

    def next_action(self, family: str) -> str:
        queue = self.script.get(family)
        if queue:
            return queue.pop(0)
        return self.persistent.get(family, "ok")


@dataclass(slots=True)
class _Window:
    reset: int = 0
    used: int = 0


@dataclass(slots=True)
class RateLimits:
    """A budget of requests per fixed window per family, windows aligned on the epoch so
    that ``X-Rate-Limit-Reset`` is the whole second Okta would send."""

    budgets: dict[str, int]
    window_seconds: int
    default_budget: int
    windows: dict[str, _Window] = field(default_factory=dict)
    throttled: int = 0

    def take(self, family: str, now: float) -> tuple[bool, int, int, int]:
        """(allowed, limit, remaining, reset)."""
        limit = self.budgets.get(family, self.default_budget)
        w = self.window_seconds
        reset = (math.floor(now / w) + 1) * w
        win = self.windows.setdefault(family, _Window())
        if win.reset != reset:
            win.reset, win.used = reset, 0
        if win.used >= limit:
            self.throttled += 1
            return False, limit, 0, reset
        win.used += 1
        return True, limit, limit - win.used, reset


class ApiError(Exception):
    def __init__(self, status: int, code: str, summary: str) -> None:
        super().__init__(summary)
        self.status = status
        self.code = code
        self.summary = summary

    def body(self) -> Json:
        return {
            "errorCode": self.code,
            "errorSummary": self.summary,
            "errorLink": self.code,
            "errorId": "oae" + secrets.token_hex(8),
            "errorCauses": [],
        }


@dataclass(frozen=True, slots=True)
class Request:
    family: str
    path: str
    params: Mapping[str, str]
    match: Mapping[str, str]
    base: str


@dataclass(frozen=True, slots=True)
class Response:
    body: Any
    next_query: Mapping[str, str] | None = None


@dataclass(slots=True)
class ServerState:
    """Everything the handler needs; ``api`` answers routed GETs with JSON bodies."""

    api: Callable[[Request], Response]
    token: str
    client_id: str
    public_key_pem: bytes
    key_id: str
    granted_scopes: frozenset[str]
    limits: RateLimits
    faults: Faults
    requests: list[RecordedRequest] = field(default_factory=list)
    access_tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""


def _limit(params: Mapping[str, str], family: str, page_size: int | None) -> int:
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT.get(family, 200)))
    except ValueError:
        raise ApiError(400, "E0000001", "Api validation failed: limit") from None
    return max(1, min(limit, MAX_LIMIT.get(family, 200), page_size or 10**9))


def paginate(items: list[Json], params: Mapping[str, str], family: str, page_size: int | None) -> Response:
    """Cursor paging on record ids: ``after`` is the id of the previous page's last record."""
    ids = [str(i.get("id") or i.get("uuid")) for i in items]
    by_id = {item_id: n for n, item_id in enumerate(ids)}
    return paginate_ids(ids, by_id, params, family, page_size, lambda n: items[n])


def paginate_ids(
    ids: Sequence[str],
    index: Mapping[str, int],
    params: Mapping[str, str],
    family: str,
    page_size: int | None,
    render: Callable[[int], Json],
) -> Response:
    """Cursor paging over a listing known by its ids; only the page's records are rendered
    (``render`` takes a position), so a million-user listing costs one page per request."""
    limit = _limit(params, family, page_size)
    start = 0
    after = params.get("after")
    if after:
        pos = index.get(after)
        if pos is None:
            raise ApiError(400, "E0000001", "Api validation failed: after")
        start = pos + 1
    end = min(start + limit, len(ids))
    page = [render(n) for n in range(start, end)]
    nxt = None
    if end < len(ids) and page:
        nxt = {**{k: v for k, v in params.items() if k != "after"}, "after": ids[end - 1]}
    return Response(page, nxt)


def _paging_fault(action: str, resp: Response, params: Mapping[str, str]) -> Response:
    """The next link as a faulty server would send it."""
    if resp.next_query is None or action not in ("no_next", "loop_next", "dup_next"):
        return resp
    if action == "no_next":
        return Response(resp.body, None)
    if action == "loop_next":
        return Response(resp.body, dict(params))
    items = resp.body if isinstance(resp.body, list) else []
    if len(items) < 2:
        return resp
    previous = items[-2]
    return Response(resp.body, {**resp.next_query, "after": str(previous.get("id") or previous.get("uuid"))})


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms) on every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is ``state.requests``."""

    # --- plumbing --------------------------------------------------------------------

    def _send(self, status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> None:
        self._send_raw(status, json.dumps(body).encode("utf-8"), headers)

    def _send_raw(self, status: int, data: bytes, headers: list[tuple[str, str]] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Okta-Request-Id", secrets.token_hex(8))
        for k, v in headers or []:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _record(self, family: str, status: int) -> None:
        split = urlsplit(self.path)
        query = {k: tuple(v) for k, v in parse_qs(split.query).items()}
        st = self.server.state
        with st.lock:
            st.requests.append(RecordedRequest(self.command, split.path, query, family, status))

    def _unsupported(self) -> None:
        self._record("", 405)
        err = ApiError(405, "E0000022", "The endpoint does not support the provided HTTP method")
        self._send(405, err.body(), [("Date", formatdate(usegmt=True))])

    do_PUT = do_DELETE = do_PATCH = _unsupported

    # --- OAuth token -----------------------------------------------------------------

    def do_POST(self) -> None:
        split = urlsplit(self.path)
        if split.path != "/oauth2/v1/token":
            self._unsupported()
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8")).items()}
        st = self.server.state
        with st.lock:
            action = st.faults.next_action("token") if "token" in st.faults.script else "ok"
        if action == "redirect" and st.faults.redirect_to:
            self._record("token", 307)
            self._send_raw(307, b"", [("Location", st.faults.redirect_to + self.path)])
            return
        status, body = self._token(form)
        self._record("token", status)
        self._send(status, body, [("Date", formatdate(usegmt=True))])

    def _token(self, form: Mapping[str, str]) -> tuple[int, Json]:
        st = self.server.state
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "client_credentials only"}
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return 401, {"error": "invalid_client", "error_description": "private_key_jwt required"}
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            if header.get("kid") not in (None, st.key_id):
                raise jwt.InvalidTokenError("unknown kid")
            claims = jwt.decode(
                assertion,
                st.public_key_pem,
                algorithms=["RS256"],
                audience=st.base_url + "/oauth2/v1/token",
                options={"require": ["exp", "iat", "iss", "sub", "aud"]},
            )
        except jwt.PyJWTError:
            return 401, {"error": "invalid_client", "error_description": "The client_assertion signature is invalid."}
        if claims.get("iss") != st.client_id or claims.get("sub") != st.client_id:
            return 401, {"error": "invalid_client", "error_description": "Invalid value for 'client_id' parameter."}
        requested = frozenset(form.get("scope", "").split())
        refused = sorted(s for s in requested if s not in st.granted_scopes or not s.endswith(".read"))
        if not requested or refused:
            return 400, {
                "error": "invalid_scope",
                "error_description": "The authorization server resource does not have any configured default scopes, "
                f"'scope' must be provided. Not granted: {', '.join(refused)}",
            }
        token = secrets.token_urlsafe(24)
        with st.lock:
            st.access_tokens[token] = requested
        return 200, {"token_type": "Bearer", "expires_in": 3600, "access_token": token, "scope": " ".join(requested)}

    # --- the Management API ------------------------------------------------------------

    def do_GET(self) -> None:
        st = self.server.state
        split = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(split.query).items()}
        family, match = "", None
        for fam, pattern in ROUTES:
            match = pattern.match(split.path)
            if match:
                family = fam
                break
        now = time.time()
        headers = [("Date", formatdate(now, usegmt=True))]
        if match is None:
            self._record("", 404)
            self._send(404, ApiError(404, "E0000022", "The endpoint does not exist.").body(), headers)
            return
        with st.lock:
            allowed, limit, remaining, reset = st.limits.take(family, now)
            action = st.faults.next_action(family)
        headers += [
            ("X-Rate-Limit-Limit", str(limit)),
            ("X-Rate-Limit-Remaining", str(remaining)),
            ("X-Rate-Limit-Reset", str(reset)),
        ]
        auth_error = self._authorise(family)
        if auth_error is not None:
            self._record(family, auth_error.status)
            self._send(auth_error.status, auth_error.body(), headers)
            return
        if not allowed or action == "429":
            self._record(family, 429)
            if action == "429":  # a forced 429: the window resets now (keeps retry tests fast)
                headers[-1] = ("X-Rate-Limit-Reset", str(int(now)))
            err = ApiError(429, "E0000047", "API call exceeded rate limit due to too many requests.")
            self._send(429, err.body(), headers)
            return
        if action == "reset":
            self._record(family, 0)
            # Promise a body, send part of it, then drop the connection: a reset mid-page.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b'[{"id": "')
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if action in ("401", "403"):
            err = (
                ApiError(401, "E0000011", "Invalid token provided")
                if action == "401"
                else ApiError(403, "E0000006", "You do not have permission to perform the requested action")
            )
            self._record(family, err.status)
            self._send(err.status, err.body(), headers)
            return
        if action == "redirect" and st.faults.redirect_to:
            self._record(family, 307)
            self._send_raw(307, b"", [*headers, ("Location", st.faults.redirect_to + self.path)])
            return
        if action == "timeout":
            time.sleep(st.faults.timeout_delay)
        elif action in ("500", "502", "503", "504"):
            self._record(family, int(action))
            err = ApiError(int(action), "E0000009", "Internal Server Error")
            self._send(int(action), err.body(), headers)
            return
        base = st.base_url
        try:
            resp = st.api(Request(family, split.path, params, match.groupdict(), base))
        except ApiError as exc:
            self._record(family, exc.status)
            self._send(exc.status, exc.body(), headers)
            return
        if action == "malformed":
            self._record(family, 200)
            self._send_raw(200, b'[{"id": "00u', headers)
            return
        self_link = f'<{base}{split.path}{"?" + split.query if split.query else ""}>; rel="self"'
        headers.append(("Link", self_link))
        resp = _paging_fault(action, resp, params)
        if resp.next_query is not None:
            link_base = st.faults.link_base or base
            headers.append(("Link", f'<{link_base}{split.path}?{urlencode(resp.next_query)}>; rel="next"'))
        self._record(family, 200)
        self._send(200, resp.body, headers)

    def _authorise(self, family: str) -> ApiError | None:
        st = self.server.state
        auth = self.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme == "SSWS" and secrets.compare_digest(value, st.token):
            return None
        if scheme == "Bearer":
            with st.lock:
                scopes = st.access_tokens.get(value)
            if scopes is not None:
                needed = FAMILY_SCOPES.get(family)
                if needed is None or needed in scopes:
                    return None
                return ApiError(403, "E0000006", "You do not have permission to perform the requested action")
        return ApiError(401, "E0000011", "Invalid token provided")


def serve(state: ServerState) -> tuple[LoopbackHTTPServer, threading.Thread]:
    server, thread, base = serve_in_thread(_Handler, state, "okta-sandbox")
    state.base_url = base
    return server, thread
