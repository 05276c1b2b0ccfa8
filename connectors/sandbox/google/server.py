"""Kept whole on purpose: one vendor API's HTTP surface (routes, paging, error envelopes,
switchable faults), as the tests drive it.

The Google sandbox's HTTP side: a plain-HTTP ThreadingHTTPServer on 127.0.0.1 that
speaks the OAuth JWT-bearer grant and the Admin SDK paths the connector reads, in
Google's shapes (nextPageToken paging, ``{"error": {...}}`` envelopes), with faults
switchable per test."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from auditor.model import Account, SignIn, SourceSnapshot
from connectors.sandbox.google import keys, shapes
from connectors.sandbox.sample_org import OrgUnit

SCOPE = "https://www.googleapis.com/auth/"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Endpoint name → scopes that open it (read-only or the read-write one).
ENDPOINT_SCOPES = {
    "users": {SCOPE + "admin.directory.user.readonly", SCOPE + "admin.directory.user"},
    "orgunits": {SCOPE + "admin.directory.orgunit.readonly", SCOPE + "admin.directory.orgunit"},
    "roles": {SCOPE + "admin.directory.rolemanagement.readonly", SCOPE + "admin.directory.rolemanagement"},
    "roleassignments": {SCOPE + "admin.directory.rolemanagement.readonly", SCOPE + "admin.directory.rolemanagement"},
    # members.list: any of the four group scopes the discovery document lists.
    "members": {
        SCOPE + "admin.directory.group.member.readonly",
        SCOPE + "admin.directory.group.member",
        SCOPE + "admin.directory.group.readonly",
        SCOPE + "admin.directory.group",
    },
    "usage": {SCOPE + "admin.reports.usage.readonly"},
    "login": {SCOPE + "admin.reports.audit.readonly"},
}
# The discovery document's maxima (roles.list 1..100, roleAssignments.list 1..200,
# members.list "Max allowed value is 200", default 200).
MAX_RESULTS = {"users": 500, "usage": 1000, "login": 1000, "roles": 100, "roleassignments": 200, "members": 200}
ROUTES = (
    ("users", re.compile(r"^/admin/directory/v1/users$")),
    ("orgunits", re.compile(r"^/admin/directory/v1/customer/(?P<customer>[^/]+)/orgunits$")),
    ("roles", re.compile(r"^/admin/directory/v1/customer/(?P<customer>[^/]+)/roles$")),
    ("roleassignments", re.compile(r"^/admin/directory/v1/customer/(?P<customer>[^/]+)/roleassignments$")),
    ("members", re.compile(r"^/admin/directory/v1/groups/(?P<group>[^/]+)/members$")),
    ("usage", re.compile(r"^/admin/reports/v1/usage/users/(?P<user>[^/]+)/dates/(?P<date>[^/]+)$")),
    ("login", re.compile(r"^/admin/reports/v1/activity/users/(?P<user>[^/]+)/applications/(?P<app>[^/]+)$")),
)
PACIFIC = timedelta(hours=-8)
_PAGING = threading.local()  # the paging fault of the request being answered (per handler thread)
Json = dict[str, Any]
RESET = 0  # an answer status meaning: send half a response, then drop the connection


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    endpoint: str  # token, users, orgunits, roles, roleassignments, members, usage, login, or "" when unrouted
    status: int = 0


@dataclass(slots=True)
class Faults:
    """Per-endpoint fault scripts. ``script[endpoint]`` is consumed one entry per request
    to that endpoint ("ok" passes); ``persistent[endpoint]`` applies after the script.
    Actions: ok, 429, rate_limit, user_rate_limit, 500, 502, 503, 504, forbidden,
    insufficient_scopes (403: the token lacks the endpoint's scope), malformed;
    and the transport / paging faults: reset (half a body, then the connection drops),
    timeout (answers after ``timeout_delay`` s), 401 (the access token is refused),
    no_next (the page loses its nextPageToken), loop_next (the token points at this
    very page again), dup_next (the next page starts with this page's last record),
    redirect (307 to ``redirect_to`` + the request's path)."""

    script: dict[str, list[str]] = field(default_factory=dict)
    persistent: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    page_size: int | None = None  # the server's own cap on a page, below Google's maxima
    page_sizes: dict[str, int] = field(default_factory=dict)  # per endpoint, over page_size
    refuse_scopes: frozenset[str] = frozenset()
    report_lag_days: int = 2
    partial_report_days: int = 0  # the most recent available days hold only half the rows
    timeout_delay: float = 2.0
    redirect_to: str | None = None
    # Documented limits: the Admin SDK's default quota per API (Directory: users, orgunits;
    # Reports: usage, login) of ``quota[0]`` queries per ``quota[1]`` seconds per user,
    # answered 429 rateLimitExceeded beyond it, in fixed windows.
    enforce_limits: bool = False
    quota: tuple[int, float] = (2400, 60.0)
    quota_used: dict[str, tuple[float, int]] = field(default_factory=dict)

    def take_quota(self, endpoint: str, now: float) -> bool:
        """One query against the endpoint's API quota; False when the window is spent."""
        api = "reports" if endpoint in ("usage", "login") else "directory"
        limit, window = self.quota
        start = now - now % window
        opened, used = self.quota_used.get(api, (start, 0))
        if opened != start:
            used = 0
        if used >= limit:
            return False
        self.quota_used[api] = (start, used + 1)
        return True

    def next_action(self, endpoint: str) -> str:
        queue = self.script.get(endpoint)
        if queue:
            return queue.pop(0)
        return self.persistent.get(endpoint, "ok")


def _envelope(code: int, message: str, reason: str, status: str, domain: str = "global") -> Json:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": status,
        }
    }


def _insufficient_scopes(method: str) -> Json:
    """What Google answers when the access token lacks the method's scope."""
    body = _envelope(
        403, "Request had insufficient authentication scopes.", "insufficientPermissions", "PERMISSION_DENIED"
    )
    body["error"]["errors"][0]["message"] = "Insufficient Permission"
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            "domain": "googleapis.com",
            "metadata": {"service": "admin.googleapis.com", "method": method},
        }
    ]
    return body


# The RPC method names Google puts in an ErrorInfo's metadata.
RPC_METHODS = {
    "users": "ccc.hosted.frontend.directory.v1.DirectoryUsers.List",
    "orgunits": "ccc.hosted.frontend.directory.v1.DirectoryOrgunits.List",
    "roles": "ccc.hosted.frontend.directory.v1.DirectoryRoles.List",
    "roleassignments": "ccc.hosted.frontend.directory.v1.DirectoryRoleAssignments.List",
    "members": "ccc.hosted.frontend.directory.v1.DirectoryMembers.List",
    "usage": "google.admin.AdminService.userUsageReport",
    "login": "google.admin.AdminService.activities",
}

FAULTS: Mapping[str, tuple[int, Json]] = {
    "429": (429, _envelope(429, "Rate Limit Exceeded", "rateLimitExceeded", "RESOURCE_EXHAUSTED", "usageLimits")),
    "rate_limit": (403, _envelope(403, "Rate Limit Exceeded", "rateLimitExceeded", "PERMISSION_DENIED", "usageLimits")),
    "user_rate_limit": (
        403,
        _envelope(403, "User Rate Limit Exceeded", "userRateLimitExceeded", "PERMISSION_DENIED", "usageLimits"),
    ),
    "500": (500, _envelope(500, "Internal error encountered.", "backendError", "INTERNAL")),
    "502": (502, _envelope(502, "Bad Gateway", "backendError", "UNAVAILABLE")),
    "503": (503, _envelope(503, "The service is currently unavailable.", "backendError", "UNAVAILABLE")),
    "504": (504, _envelope(504, "Deadline exceeded.", "backendError", "DEADLINE_EXCEEDED")),
    "forbidden": (403, _envelope(403, "Not Authorized to access this resource/api", "forbidden", "PERMISSION_DENIED")),
}


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode("ascii").rstrip("=")


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        return int(raw.removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError):
        raise _ApiError(400, _envelope(400, "Invalid pageToken", "invalid", "INVALID_ARGUMENT")) from None


class _ApiError(Exception):
    def __init__(self, status: int, body: Json) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


@dataclass(slots=True)
class State:
    truth: SourceSnapshot
    org_units: tuple[OrgUnit, ...]
    now: datetime
    sign_ins: tuple[SignIn, ...]
    admin: str
    key: keys.ServiceAccountKey
    faults: Faults
    roles: tuple[Json, ...] = ()  # roles.list items
    role_assignments: tuple[Json, ...] = ()  # roleAssignments.list items
    admin_flags: bool = True  # False: users.list says isAdmin / isDelegatedAdmin false for all
    groups: dict[str, list[Json]] = field(default_factory=dict)  # group id → direct members.list entries
    requests: list[RecordedRequest] = field(default_factory=list)
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    cache: dict[str, Any] = field(default_factory=dict)  # rendered JSON, built once per sandbox

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        with self.lock:
            if key not in self.cache:
                self.cache[key] = build()
            return self.cache[key]

    @property
    def accounts_by_id(self) -> dict[str, Account]:
        by_id: dict[str, Account] = self.cached("by_id", lambda: {a.id: a for a in self.truth.accounts})
        return by_id


def _page(
    items: Sequence[Json], query: Mapping[str, list[str]], endpoint: str, faults: Faults
) -> tuple[list[Json], Json]:
    """(items of the page, {"nextPageToken": …} or {}) honouring maxResults and the fault cap."""
    limit = MAX_RESULTS[endpoint]
    try:
        wanted = int(query.get("maxResults", [str(100 if endpoint == "users" else limit)])[0])
    except ValueError:
        raise _ApiError(400, _envelope(400, "Invalid value for maxResults", "invalid", "INVALID_ARGUMENT")) from None
    if not 1 <= wanted <= limit:
        raise _ApiError(400, _envelope(400, f"maxResults must be 1..{limit}", "invalid", "INVALID_ARGUMENT"))
    size = min(wanted, faults.page_sizes.get(endpoint) or faults.page_size or wanted)
    start = _offset(query.get("pageToken", [None])[0])
    paging = getattr(_PAGING, "action", "ok")
    following = {"loop_next": start, "dup_next": start + size - 1}.get(paging, start + size)
    more = start + size < len(items) and paging != "no_next"
    nxt = {"nextPageToken": _token(following)} if more else {}
    return list(items[start : start + size]), nxt


def _users(state: State, query: Mapping[str, list[str]]) -> Json:
    customer = query.get("customer", [None])[0]
    if customer not in ("my_customer", shapes.CUSTOMER_ID):
        raise _ApiError(400, _envelope(400, "Bad Request", "badRequest", "INVALID_ARGUMENT"))
    users: list[Json] = state.cached(
        "users", lambda: [shapes.user(a, admin_flags=state.admin_flags) for a in state.truth.accounts]
    )
    for term in query.get("query", [""])[0].split():
        name, _, value = term.partition("=")
        key = {
            "isAdmin": "isAdmin",
            "isDelegatedAdmin": "isDelegatedAdmin",
            "isSuspended": "suspended",
            "isArchived": "archived",
            "isEnrolledIn2Sv": "isEnrolledIn2Sv",
            "isEnforcedIn2Sv": "isEnforcedIn2Sv",
        }
        if name in key:
            users = [u for u in users if u[key[name]] == (value.lower() == "true")]
        elif name == "orgUnitPath":
            path = value.strip("'\"")
            users = [
                u for u in users if u["orgUnitPath"] == path or u["orgUnitPath"].startswith(path.rstrip("/") + "/")
            ]
        else:
            raise _ApiError(400, _envelope(400, "Invalid Input", "invalid", "INVALID_ARGUMENT"))
    chunk, nxt = _page(users, query, "users", state.faults)
    return {"kind": "admin#directory#users", "etag": '"sandbox"', "users": chunk, **nxt}


def _roles(state: State, customer: str, query: Mapping[str, list[str]]) -> Json:
    if customer not in ("my_customer", shapes.CUSTOMER_ID):
        raise _ApiError(400, _envelope(400, "Bad Request", "badRequest", "INVALID_ARGUMENT"))
    chunk, nxt = _page(state.roles, query, "roles", state.faults)
    out: Json = {"kind": "admin#directory#roles", "etag": '"sandbox-roles"', **nxt}
    if chunk:
        out["items"] = chunk  # Google leaves out an empty list
    return out


def _role_assignments(state: State, customer: str, query: Mapping[str, list[str]]) -> Json:
    if customer not in ("my_customer", shapes.CUSTOMER_ID):
        raise _ApiError(400, _envelope(400, "Bad Request", "badRequest", "INVALID_ARGUMENT"))
    items = state.role_assignments
    role_id = query.get("roleId", [None])[0]
    if role_id:
        items = tuple(i for i in items if i["roleId"] == role_id)
    user_key = query.get("userKey", [None])[0]
    if user_key:
        by_email = {a.principal: a.id for a in state.truth.accounts}
        wanted = by_email.get(user_key.lower(), user_key)
        items = tuple(i for i in items if i["assignedTo"] == wanted)
    chunk, nxt = _page(items, query, "roleassignments", state.faults)
    out: Json = {"kind": "admin#directory#roleAssignments", "etag": '"sandbox-assignments"', **nxt}
    if chunk:
        out["items"] = chunk
    return out


def _members(state: State, group: str, query: Mapping[str, list[str]]) -> Json:
    """members.list. ``includeDerivedMembership=true`` lists the members of nested groups
    as well (after the direct ones, each once); the nested group's own entry stays. Google
    refuses membership cycles, but the walk keeps a visited set all the same."""
    with state.lock:
        direct = state.groups.get(group)
        if direct is None:
            message = "Resource Not Found: groupKey"
            raise _ApiError(404, _envelope(404, message, "notFound", "NOT_FOUND"))
        derived = query.get("includeDerivedMembership", ["false"])[0].lower() == "true"
        listed: list[Json] = list(direct)
        if derived:
            seen = {group} | {m["id"] for m in direct}
            queue = [m["id"] for m in direct if m["type"] == "GROUP"]
            while queue:
                for m in state.groups.get(queue.pop(0), ()):
                    if m["id"] not in seen:
                        seen.add(m["id"])
                        listed.append(m)
                        if m["type"] == "GROUP":
                            queue.append(m["id"])
    chunk, nxt = _page(listed, query, "members", state.faults)
    out: Json = {"kind": "admin#directory#members", "etag": f'"sandbox-members-{group}"', **nxt}
    if chunk:
        out["members"] = chunk  # an empty group's answer has no members list
    return out


def _orgunits(state: State, customer: str) -> Json:
    if customer not in ("my_customer", shapes.CUSTOMER_ID):
        raise _ApiError(400, _envelope(400, "Bad Request", "badRequest", "INVALID_ARGUMENT"))
    return {
        "kind": "admin#directory#orgUnits",
        "etag": '"sandbox"',
        "organizationUnits": [shapes.org_unit(ou, i + 1) for i, ou in enumerate(state.org_units)],
    }


def _usage(state: State, user_key: str, day_text: str, query: Mapping[str, list[str]]) -> Json:
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise _ApiError(400, _envelope(400, "Invalid value for date", "invalid", "INVALID_ARGUMENT")) from None
    latest = (state.now + PACIFIC).date() - timedelta(days=state.faults.report_lag_days)
    if day > latest:
        message = f"Data for dates later than {latest.isoformat()} is not yet available. Please check back later"
        return {
            "kind": "admin#reports#usageReports",
            "warnings": [
                {
                    "code": "DATA_NOT_AVAILABLE",
                    "message": message,
                    "data": [{"key": "application", "value": "accounts"}],
                }
            ],
        }
    partial = day > latest - timedelta(days=state.faults.partial_report_days)
    params = query.get("parameters", [""])[0]
    wanted = set(params.split(",")) if params else None
    accounts = state.truth.accounts
    if user_key != "all":
        accounts = tuple(a for a in accounts if user_key in (a.id, a.principal))
    rows: list[Json] = state.cached(
        f"usage {day} {params} {user_key}", lambda: [shapes.usage_row(a, day, wanted) for a in accounts]
    )
    warnings: list[Json] = []
    if partial:
        rows = rows[::2]
        message = (
            f"Data for date {day.isoformat()} for application accounts is not available right now, "
            "please try again after a few hours."
        )
        warnings = [{"code": "PARTIAL_DATA_AVAILABLE", "message": message, "data": []}]
    chunk, nxt = _page(rows, query, "usage", state.faults)
    out: Json = {"kind": "admin#reports#usageReports", "usageReports": chunk, **nxt}
    if warnings:
        out["warnings"] = warnings
    return out


def _login(state: State, user_key: str, app: str, query: Mapping[str, list[str]]) -> Json:
    if app != "login":
        raise _ApiError(400, _envelope(400, "Bad Request", "badRequest", "INVALID_ARGUMENT"))
    by_id = state.accounts_by_id

    def bound(name: str) -> datetime | None:
        value = query.get(name, [None])[0]
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None

    start, end = bound("startTime"), bound("endTime")
    events = [
        (s, by_id[s.account_id])
        for s in state.sign_ins
        if (start is None or s.time >= start)
        and (end is None or s.time < end)
        and (user_key == "all" or user_key in (s.account_id, by_id[s.account_id].principal))
    ]
    events.sort(key=lambda e: e[0].time, reverse=True)  # newest first, as Google lists them
    items = [shapes.login_activity(s, a, n) for n, (s, a) in enumerate(events)]
    chunk, nxt = _page(items, query, "login", state.faults)
    return {"kind": "admin#reports#activities", "items": chunk, **nxt}


class Handler(BaseHTTPRequestHandler):
    server_version = "GoogleSandbox/1"
    state: State  # set on the subclass made per sandbox

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the request log is .requests

    def _send(self, status: int, body: Json | bytes, headers: Mapping[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _record(self, endpoint: str, status: int) -> None:
        parts = urlsplit(self.path)
        query = {k: tuple(v) for k, v in parse_qs(parts.query).items()}
        with self.state.lock:
            self.state.requests.append(RecordedRequest(self.command, parts.path, query, endpoint, status))

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8"))
        if path != "/token":
            self._record("", 404)
            self._send(404, _envelope(404, "Not Found", "notFound", "NOT_FOUND"))
            return
        with self.state.lock:
            action = self.state.faults.next_action("token") if "token" in self.state.faults.script else "ok"
        if action == "redirect" and self.state.faults.redirect_to:
            # 308: the one redirect httplib2 would follow for a POST, grant included.
            self._record("token", 308)
            self._send(308, b"", {"Location": self.state.faults.redirect_to + self.path})
            return
        status, body = self._grant(form)
        self._record("token", status)
        self._send(status, body)

    def _grant(self, form: Mapping[str, list[str]]) -> tuple[int, Json]:
        if form.get("grant_type", [""])[0] != JWT_GRANT:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
        try:
            claims = keys.verify_assertion(form.get("assertion", [""])[0], self.state.key)
        except keys.AssertionRejected:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if str(claims.get("sub", "")).lower() != self.state.admin.lower():
            return 400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"}
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes or scopes & self.state.faults.refuse_scopes:
            # Google refuses the whole grant when any scope is not authorised for delegation.
            return 401, {
                "error": "unauthorized_client",
                "error_description": "Client is unauthorized to retrieve access tokens using this method, "
                "or client not authorized for any of the scopes requested.",
            }
        token = "ya29.sandbox-" + secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.tokens[token] = scopes
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _route(self) -> tuple[str, Mapping[str, str]]:
        path = urlsplit(self.path).path
        for name, pattern in ROUTES:
            m = pattern.match(path)
            if m:
                return name, m.groupdict()
        return "", {}

    def do_GET(self) -> None:
        endpoint, args = self._route()
        status, body, headers = self._answer(endpoint, args)
        if status == RESET:
            self._record(endpoint, status)
            # Promise a body, send part of it, then drop the connection: a reset mid-page.
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b'{"users": [{"id": "')
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._record(endpoint, status)
        self._send(status, body, headers)

    def _not_get(self) -> None:
        endpoint, _ = self._route()
        self._record(endpoint, 405)
        self._send(405, _envelope(405, "Method Not Allowed", "httpMethodNotAllowed", "UNIMPLEMENTED"))

    do_PUT = do_PATCH = do_DELETE = _not_get

    def _answer(self, endpoint: str, args: Mapping[str, str]) -> tuple[int, Json | bytes, Mapping[str, str]]:
        if not endpoint:
            return 404, _envelope(404, "Not Found", "notFound", "NOT_FOUND"), {}
        auth = self.headers.get("Authorization", "")
        with self.state.lock:
            scopes = self.state.tokens.get(auth.removeprefix("Bearer ").strip())
        if scopes is None:
            body = _envelope(401, "Request had invalid authentication credentials.", "authError", "UNAUTHENTICATED")
            return 401, body, {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
        if not scopes & ENDPOINT_SCOPES[endpoint]:
            return 403, _insufficient_scopes(RPC_METHODS[endpoint]), {}
        with self.state.lock:
            action = self.state.faults.next_action(endpoint)
            if self.state.faults.enforce_limits and not self.state.faults.take_quota(endpoint, time.time()):
                action = "429"
        if action == "malformed":
            return 200, b'{"kind": "admin#directory#users", "users": [{"id": ', {}
        if action == "reset":
            return RESET, b"", {}
        if action == "401":
            body = _envelope(401, "Request had invalid authentication credentials.", "authError", "UNAUTHENTICATED")
            return 401, body, {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
        if action == "insufficient_scopes":
            return 403, _insufficient_scopes(RPC_METHODS[endpoint]), {}
        if action == "timeout":
            time.sleep(self.state.faults.timeout_delay)
        if action == "redirect" and self.state.faults.redirect_to:
            return 307, b"", {"Location": self.state.faults.redirect_to + self.path}
        if action in FAULTS:
            status, body = FAULTS[action]
            retry = self.state.faults.retry_after
            headers = {"Retry-After": f"{retry:g}"} if retry is not None and status in (429, 403, 503) else {}
            return status, body, headers
        query = parse_qs(urlsplit(self.path).query)
        handlers: dict[str, Callable[[], Json]] = {
            "users": lambda: _users(self.state, query),
            "orgunits": lambda: _orgunits(self.state, args.get("customer", "")),
            "roles": lambda: _roles(self.state, args.get("customer", ""), query),
            "roleassignments": lambda: _role_assignments(self.state, args.get("customer", ""), query),
            "members": lambda: _members(self.state, args.get("group", ""), query),
            "usage": lambda: _usage(self.state, args.get("user", ""), args.get("date", ""), query),
            "login": lambda: _login(self.state, args.get("user", ""), args.get("app", ""), query),
        }
        _PAGING.action = action
        try:
            return 200, handlers[endpoint](), {}
        except _ApiError as exc:
            return exc.status, exc.body, {}
        finally:
            _PAGING.action = "ok"


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a slow ("timeout") answer is not the test's business


def serve(state: State) -> tuple[ThreadingHTTPServer, threading.Thread]:
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = _Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    # A short poll interval keeps shutdown() (and so every test teardown) quick.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="google-sandbox", daemon=True)
    thread.start()
    return server, thread


__all__ = ["Faults", "RecordedRequest", "State", "serve"]
