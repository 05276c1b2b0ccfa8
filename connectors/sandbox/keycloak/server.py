"""The Keycloak sandbox's HTTP side: a plain-HTTP ThreadingHTTPServer on 127.0.0.1
speaking the Admin REST API paths the connector reads and the OpenID Connect token
endpoint (client credentials), in Keycloak's shapes: ``first``/``max`` offset paging
(``max`` defaulting to 100 on the users listing as Keycloak does), a plain integer for
``/users/count``, ``{"error": …}`` bodies, realm-management roles checked per path
(403 without them), and faults switchable per endpoint family."""

from __future__ import annotations

import contextlib
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

Json = Any

# Endpoint family → the realm-management role a token needs for it.
FAMILY_ROLES = {
    "realm": "view-realm",
    "users": "view-users",
    "count": "view-users",
    "credentials": "view-users",
    "groups": "view-users",
    "roles": "view-realm",
    "clients": "view-clients",
    "flows": "view-realm",
    "idps": "view-realm",
    "events": "view-events",
}
VIEW_ROLES = frozenset({"view-users", "view-realm", "view-clients", "view-events"})
_R = r"^/admin/realms/(?P<realm>[^/]+)"
ROUTES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (family, name, re.compile(_R + pattern + "$"))
    for family, name, pattern in (
        ("realm", "realm", ""),
        ("count", "users_count", "/users/count"),
        ("users", "users", "/users"),
        ("credentials", "credentials", "/users/(?P<id>[^/]+)/credentials"),
        ("groups", "groups", "/groups"),
        ("groups", "group_members", "/groups/(?P<id>[^/]+)/members"),
        ("groups", "group_children", "/groups/(?P<id>[^/]+)/children"),
        ("groups", "group_roles", "/groups/(?P<id>[^/]+)/role-mappings"),
        ("roles", "roles", "/roles"),
        ("roles", "role_members", "/roles/(?P<name>[^/]+)/users"),
        ("roles", "composites", "/roles-by-id/(?P<id>[^/]+)/composites"),
        ("clients", "clients", "/clients"),
        ("clients", "client_roles", "/clients/(?P<id>[^/]+)/roles"),
        ("clients", "client_role_members", "/clients/(?P<id>[^/]+)/roles/(?P<name>[^/]+)/users"),
        ("flows", "flows", "/authentication/flows"),
        ("flows", "executions", "/authentication/flows/(?P<alias>[^/]+)/executions"),
        ("flows", "config", "/authentication/config/(?P<id>[^/]+)"),
        ("idps", "idps", "/identity-provider/instances"),
        ("events", "events", "/events"),
    )
)
TOKEN_PATH = re.compile(r"^/realms/(?P<realm>[^/]+)/protocol/openid-connect/token$")
FAULT_ACTIONS = frozenset(
    {"ok", "500", "502", "503", "504", "429", "timeout", "reset", "malformed", "401", "403", "short"}
)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    family: str
    status: int


@dataclass(slots=True)
class Faults:
    """``script[family]`` is consumed one action per request ("ok" passes), then
    ``persistent[family]`` applies. Actions: ok, 429, 500, 502, 503, 504, timeout
    (answers after ``timeout_delay``), reset (half a body, then the connection drops),
    malformed (broken JSON), 401, 403, short (a page one record short of ``max``),
    redirect (307 to ``redirect_to`` + the path; the family "token" for the token POST)."""

    script: dict[str, list[str]] = field(default_factory=dict)
    persistent: dict[str, str] = field(default_factory=dict)
    timeout_delay: float = 2.0
    redirect_to: str | None = None

    def next_action(self, family: str) -> str:
        queue = self.script.get(family)
        if queue:
            return queue.pop(0)
        return self.persistent.get(family, "ok")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Request:
    name: str
    params: Mapping[str, list[str]]
    match: Mapping[str, str]

    def one(self, key: str) -> str | None:
        values = self.params.get(key)
        return values[-1] if values else None


@dataclass(slots=True)
class ServerState:
    api: Callable[[Request], Json]
    realm: str
    client_id: str
    client_secret: str
    granted_roles: frozenset[str]
    faults: Faults
    requests: list[RecordedRequest] = field(default_factory=list)
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""
    prefix: str = ""  # "/auth": Keycloak before 17 (and many health-sector deployments) serve under it


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # two writes per answer: no delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is ``state.requests``."""

    def _send(self, status: int, body: Json) -> None:
        self._send_raw(status, json.dumps(body).encode("utf-8"))

    def _send_raw(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
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
        self._send(405, {"error": "HTTP 405 Method Not Allowed"})

    do_PUT = do_DELETE = do_PATCH = _unsupported

    def _split(self) -> Any:
        split = urlsplit(self.path)
        prefix = self.server.state.prefix
        if prefix and split.path.startswith(prefix + "/"):
            return split._replace(path=split.path[len(prefix) :])
        if prefix:
            return split._replace(path="/-unrouted" + split.path)
        return split

    def do_POST(self) -> None:
        st = self.server.state
        split = self._split()
        m = TOKEN_PATH.match(split.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8")).items()}
        if m is None or m["realm"] != st.realm:
            self._unsupported()
            return
        with st.lock:
            action = st.faults.next_action("token") if "token" in st.faults.script else "ok"
        if action == "redirect" and st.faults.redirect_to:
            self._record("token", 307)
            self._send_redirect()
            return
        if form.get("grant_type") != "client_credentials":
            self._record("token", 400)
            self._send(400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant_type"})
            return
        if form.get("client_id") != st.client_id or not secrets.compare_digest(
            form.get("client_secret", ""), st.client_secret
        ):
            self._record("token", 401)
            self._send(
                401,
                {"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"},
            )
            return
        token = secrets.token_urlsafe(24)
        with st.lock:
            st.tokens[token] = st.granted_roles
        self._record("token", 200)
        self._send(
            200,
            {
                "access_token": token,
                "expires_in": 300,
                "refresh_expires_in": 0,
                "token_type": "Bearer",
                "not-before-policy": 0,
                "scope": "profile email",
            },
        )

    def _send_redirect(self) -> None:
        self.send_response(307)
        self.send_header("Location", f"{self.server.state.faults.redirect_to}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        st = self.server.state
        split = self._split()
        params = parse_qs(split.query, keep_blank_values=True)
        family, name, match = "", "", None
        for fam, nm, pattern in ROUTES:
            match = pattern.match(split.path)
            if match:
                family, name = fam, nm
                break
        if match is None or match["realm"] != st.realm:
            self._record("", 404)
            self._send(404, {"error": "Realm not found." if match is not None else "HTTP 404 Not Found"})
            return
        with st.lock:
            action = st.faults.next_action(family)
        denied = self._authorise(family)
        if denied is not None:
            self._record(family, denied.status)
            self._send(denied.status, {"error": denied.message})
            return
        if action == "redirect" and st.faults.redirect_to:
            self._record(family, 307)
            self._send_redirect()
            return
        if action in ("401", "403"):
            self._record(family, int(action))
            self._send(int(action), {"error": "HTTP 401 Unauthorized" if action == "401" else "HTTP 403 Forbidden"})
            return
        if action in ("429", "500", "502", "503", "504"):
            self._record(family, int(action))
            self._send(int(action), {"error": "unknown_error"})
            return
        if action == "reset":
            self._record(family, 0)
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
        if action == "timeout":
            time.sleep(st.faults.timeout_delay)
        groups = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
        try:
            body = st.api(Request(name, params, groups))
        except ApiError as exc:
            self._record(family, exc.status)
            self._send(exc.status, {"error": exc.message})
            return
        if action == "malformed":
            self._record(family, 200)
            self._send_raw(200, b'[{"id": "')
            return
        if action == "short" and isinstance(body, list) and body:
            body = body[:-1]
        self._record(family, 200)
        self._send(200, body)

    def _authorise(self, family: str) -> ApiError | None:
        st = self.server.state
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return ApiError(401, "HTTP 401 Unauthorized")
        with st.lock:
            roles = st.tokens.get(value)
        if roles is None:
            return ApiError(401, "HTTP 401 Unauthorized")
        if FAMILY_ROLES.get(family) in roles:
            return None
        return ApiError(403, "HTTP 403 Forbidden")


def serve(state: ServerState) -> tuple[LoopbackHTTPServer, threading.Thread]:
    server, thread, base = serve_in_thread(_Handler, state, "keycloak-sandbox")
    state.base_url = base + state.prefix
    return server, thread
