"""Kept whole on purpose: one vendor API's HTTP surface (routes, paging, batching, error
envelopes, switchable faults), as the tests drive it.

A loopback HTTPS server speaking the parts of Microsoft Graph (and the Entra token
endpoint) that the connector uses, with switchable faults.

Faithful where the connector depends on it: absolute ``@odata.nextLink`` on the
server's own URL, ``$select`` / ``$top`` (≤ 999) / ``$count`` (with
``ConsistencyLevel: eventual``), ``$filter`` on service principals (see ``odata``),
``$batch`` (≤ 20 sub-requests), Graph error bodies,
application permissions from the token's ``roles``, and the reports throttle.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hmac
import json
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from connectors.sandbox.graph import odata
from connectors.sandbox.graph.shapes import USER_DEFAULT_FIELDS, Tenant

ALL_ROLES = (
    "User.Read.All",
    "AuditLog.Read.All",
    "UserAuthenticationMethod.Read.All",
    "RoleManagement.Read.Directory",
    "Application.Read.All",
    "GroupMember.Read.All",
    "Policy.Read.All",
)
NO_LICENCE_CODE = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
RESET = 0  # a Reply status meaning: send half a response, then drop the connection


@dataclass(frozen=True, slots=True)
class Faults:
    """Per-test switches. Path patterns are fnmatch globs on the version-less Graph path
    (e.g. ``/users``, ``/users/*/authentication/methods``, ``/reports/*``)."""

    client_secret: str | None = None  # None: a random throwaway secret
    drop_roles: tuple[str, ...] = ()  # application permissions not granted
    token_lifetime: int = 3599  # seconds (expires_in, and enforced)
    expire_first_token_after: int | None = None  # the first token dies after N Graph requests
    throttle: Mapping[str, int] = field(default_factory=dict)  # pattern → first N requests get 429
    errors: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # pattern → (status, N; N < 0: always)
    malformed: Mapping[str, int] = field(default_factory=dict)  # pattern → first N responses are broken JSON
    forbidden: Mapping[str, str] = field(default_factory=dict)  # pattern → 403 with this error code, always
    no_licence: bool = False  # no Entra ID P1/P2: the registration report and sign-in log refuse (403)
    retry_after: float | None = 0.0  # Retry-After on 429 / 503; None: no header
    enforce_limits: bool = False  # reports and audit logs: report_limit requests per window
    report_limit: tuple[int, float] = (5, 10.0)
    max_page_size: int = 999
    report_page_size: int = 1000  # the registration report ignores $top
    short_users: int = 0  # /users silently omits the last N users ($count does not)
    unknown_methods: Mapping[str, str] = field(default_factory=dict)  # user id → extra method label / type
    security_defaults: bool = False
    per_user_mfa: Mapping[str, str] = field(default_factory=dict)  # user id → disabled / enabled / enforced
    extra_policies: Sequence[Mapping[str, Any]] = ()  # raw Conditional Access policies appended
    batch_throttle: int = 0  # the first N $batch sub-requests get 429 inside the batch
    certificate: bool = False  # accept a certificate (client assertion) instead of the secret
    # Transport and paging faults, per path pattern: ``script[pattern]`` is consumed one
    # action per matching request ("ok" passes), ``persistent[pattern]`` applies after it.
    # Actions: ok, 429, 500, 502, 503, 504, malformed (broken JSON), reset (headers and
    # half the body, then the connection drops), timeout
    # (answers after ``timeout_delay`` s), 401 (token refused), 403 (permission removed),
    # no_next (the page loses its nextLink), loop_next (the nextLink points at this very
    # page again), dup_next (the next page starts with this page's last record).
    script: Mapping[str, Sequence[str]] = field(default_factory=dict)
    persistent: Mapping[str, str] = field(default_factory=dict)
    timeout_delay: float = 2.0
    # Hostile paging: every @odata.nextLink is built on this base instead of the sandbox's
    # own URL (e.g. another loopback server that records what it receives).
    next_link_base: str | None = None
    # pattern → 307 with this Location (Graph paths, or identity paths such as "/*/oauth2/v2.0/token")
    redirect: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: Mapping[str, str]
    status: int
    in_batch: bool = False  # a sub-request of a $batch POST


@dataclass(slots=True)
class _Token:
    roles: tuple[str, ...]
    issued: float
    uses_left: int | None


@dataclass(slots=True)
class Reply:
    status: int
    body: Any = None  # JSON-able, or bytes / str sent as is
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    inner = {"date": now, "request-id": secrets.token_hex(8), "client-request-id": secrets.token_hex(8)}
    return Reply(status, {"error": {"code": code, "message": message, "innerError": inner}}, headers or {})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_PERMISSIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/users", ("User.Read.All", "Directory.Read.All")),
    ("/users/$count", ("User.Read.All", "Directory.Read.All")),
    ("/users/*/authentication/methods", ("UserAuthenticationMethod.Read.All",)),
    ("/users/*/authentication/requirements", ("Policy.Read.All",)),
    ("/reports/*", ("AuditLog.Read.All",)),
    ("/auditLogs/*", ("AuditLog.Read.All",)),
    ("/roleManagement/*", ("RoleManagement.Read.Directory", "RoleManagement.Read.All")),
    ("/servicePrincipals*", ("Application.Read.All", "Directory.Read.All")),
    ("/groups/*", ("GroupMember.Read.All", "Group.Read.All", "Directory.Read.All")),
    ("/identity/conditionalAccess/*", ("Policy.Read.All",)),
    ("/policies/*", ("Policy.Read.All",)),
)
_FILTER_TERM = re.compile(r"createdDateTime (ge|gt|le|lt) (\S+)")


class GraphServer:
    """The request logic; ``serve`` wires it to a TLS ``ThreadingHTTPServer``."""

    def __init__(
        self,
        tenant: Tenant,
        faults: Faults,
        *,
        tenant_id: str,
        client_id: str,
        secret: str,
        certificate_pem: bytes | None,
    ) -> None:
        self.t = tenant
        self.f = faults
        self.tenant_id = tenant_id
        self.client_id = client_id
        self._secret = secret
        self._certificate_pem = certificate_pem
        self.base_url = ""  # set once the port is known
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self._issued = 0
        self._counts: dict[tuple[str, str], int] = {}
        self._window: deque[float] = deque()
        self._batch_seen = 0
        self._paging = threading.local()  # the paging action of the request being answered

    # --- entry ---------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if path.startswith(f"/{self.tenant_id}/"):
            location = next((u for p, u in self.f.redirect.items() if fnmatch.fnmatchcase(path, p)), None)
            reply = Reply(307, b"", {"Location": location}) if location else self._identity(method, path, body)
            self._record(method, path, query, reply.status)
            return reply
        version, _, rest = path.lstrip("/").partition("/")
        rest = "/" + rest
        if version not in ("v1.0", "beta"):
            reply = error(404, "UnknownVersion", "Unknown API version")
            self._record(method, path, query, reply.status)
            return reply
        token = self._authenticate(headers)
        if isinstance(token, Reply):
            self._record(method, path, query, token.status)
            return token
        if method == "POST" and rest == "/$batch":
            reply = self._batch(version, body, token, headers)
        elif method == "GET":
            reply = self._graph_get(version, rest, query, headers, token)
        else:
            reply = error(405, "Request_BadRequest", f"{method} is not supported by this sandbox (read-only)")
        self._record(method, path, query, reply.status)
        return reply

    def _record(self, method: str, path: str, query: Mapping[str, str], status: int, in_batch: bool = False) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(method, path, dict(query), status, in_batch))

    # --- identity platform ---------------------------------------------------------------

    def _identity(self, method: str, path: str, body: bytes) -> Reply:
        root = f"{self.base_url}/{self.tenant_id}"
        if method == "GET" and path == f"/{self.tenant_id}/v2.0/.well-known/openid-configuration":
            return Reply(
                200,
                {
                    "token_endpoint": f"{root}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                    "issuer": f"{root}/v2.0",
                    "jwks_uri": f"{root}/discovery/v2.0/keys",
                    "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                    "response_types_supported": ["code", "id_token", "token"],
                    "tenant_region_scope": "EU",
                },
            )
        if method == "POST" and path == f"/{self.tenant_id}/oauth2/v2.0/token":
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            return self._token(form, f"{root}/oauth2/v2.0/token")
        return Reply(404, {"error": "not_found", "error_description": "AADSTS90002: endpoint not found"})

    def _token(self, form: Mapping[str, str], endpoint: str) -> Reply:
        def refuse(status: int, code: str, desc: str) -> Reply:
            codes = [int(n) for n in re.findall(r"AADSTS(\d+)", desc)]
            return Reply(status, {"error": code, "error_description": desc, "error_codes": codes})

        if form.get("grant_type") != "client_credentials":
            return refuse(400, "unsupported_grant_type", "AADSTS7000001: only client_credentials here")
        if form.get("client_id") != self.client_id:
            return refuse(400, "unauthorized_client", "AADSTS7000016: application not found in the directory")
        if not form.get("scope", "").endswith("/.default"):
            return refuse(400, "invalid_scope", "AADSTS1002012: the scope must end with /.default")
        if "client_secret" in form:
            if not hmac.compare_digest(form["client_secret"].encode(), self._secret.encode()):
                return refuse(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        elif "client_assertion" in form and self._certificate_pem is not None:
            if not self._assertion_ok(form["client_assertion"], endpoint):
                return refuse(401, "invalid_client", "AADSTS7000274: client assertion failed signature validation.")
        else:
            return refuse(401, "invalid_client", "AADSTS7000218: a client_secret or client_assertion is required.")
        roles = tuple(r for r in ALL_ROLES if r not in self.f.drop_roles)
        now = int(time.time())
        claims = {
            "aud": self.base_url,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.f.token_lifetime,
            "appid": self.client_id,
            "tid": self.tenant_id,
            "roles": list(roles),
            "jti": secrets.token_hex(8),
        }
        header = {"typ": "JWT", "alg": "RS256", "kid": "graph-sandbox"}
        token = ".".join(
            (_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(secrets.token_bytes(32)))
        )
        with self._lock:
            uses = self.f.expire_first_token_after if self._issued == 0 else None
            self._issued += 1
            self._tokens[token] = _Token(roles, time.monotonic(), uses)
        life = self.f.token_lifetime
        return Reply(200, {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": token})

    def _assertion_ok(self, assertion: str, endpoint: str) -> bool:
        import jwt
        from cryptography import x509

        assert self._certificate_pem is not None
        key = x509.load_pem_x509_certificate(self._certificate_pem).public_key()
        try:
            claims = jwt.decode(assertion, key, algorithms=["RS256", "PS256"], audience=endpoint)  # type: ignore[arg-type]
        except jwt.PyJWTError:
            return False
        return claims.get("iss") == self.client_id and claims.get("sub") == self.client_id

    def _authenticate(self, headers: Mapping[str, str]) -> _Token | Reply:
        auth = headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        with self._lock:
            found = self._tokens.get(token)
            if found is None:
                return error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
            expired = time.monotonic() - found.issued > self.f.token_lifetime
            if found.uses_left is not None:
                if found.uses_left <= 0:
                    expired = True
                found.uses_left -= 1
        if expired:
            return error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        return found

    # --- faults --------------------------------------------------------------------------

    def _count(self, kind: str, pattern: str) -> int:
        with self._lock:
            n = self._counts.get((kind, pattern), 0) + 1
            self._counts[(kind, pattern)] = n
            return n

    def _retry_headers(self, seconds: float | None = None) -> dict[str, str]:
        value = self.f.retry_after if seconds is None else seconds
        return {} if value is None else {"Retry-After": f"{value:g}"}

    def _script_action(self, path: str) -> str:
        for pattern in (*self.f.script, *self.f.persistent):
            if fnmatch.fnmatchcase(path, pattern):
                n = self._count("script", pattern)
                steps = self.f.script.get(pattern, ())
                return steps[n - 1] if n <= len(steps) else self.f.persistent.get(pattern, "ok")
        return "ok"

    def _faults(self, path: str) -> Reply | None:
        for pattern, code in self.f.forbidden.items():
            if fnmatch.fnmatchcase(path, pattern):
                return error(403, code, "Forbidden by the sandbox's fault options.")
        if self.f.no_licence and (path.startswith("/reports/") or path.startswith("/auditLogs/")):
            return error(403, NO_LICENCE_CODE, "Tenant does not have a SKU required for this operation.")
        for pattern, n in self.f.throttle.items():
            if fnmatch.fnmatchcase(path, pattern) and self._count("throttle", pattern) <= n:
                return error(429, "TooManyRequests", "Too many requests.", self._retry_headers())
        for pattern, (status, n) in self.f.errors.items():
            if fnmatch.fnmatchcase(path, pattern) and (n < 0 or self._count("errors", pattern) <= n):
                return error(
                    status,
                    "ServiceUnavailable" if status == 503 else "UnknownError",
                    "Injected failure.",
                    self._retry_headers() if status in (429, 503) else {},
                )
        if self.f.enforce_limits and (path.startswith("/reports/") or path.startswith("/auditLogs/")):
            limit, window = self.f.report_limit
            with self._lock:
                now = time.monotonic()
                while self._window and now - self._window[0] >= window:
                    self._window.popleft()
                if len(self._window) >= limit:
                    wait = window - (now - self._window[0])
                    return error(429, "TooManyRequests", "Identity reports throttled.", self._retry_headers(wait))
                self._window.append(now)
        for pattern, n in self.f.malformed.items():
            if fnmatch.fnmatchcase(path, pattern) and self._count("malformed", pattern) <= n:
                return Reply(200, b'{"value": [{"id": "trunc')
        return None

    # --- Graph ---------------------------------------------------------------------------

    def _graph_get(
        self, version: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], token: _Token
    ) -> Reply:
        for pattern, accepted in _PERMISSIONS:
            if fnmatch.fnmatchcase(path, pattern):
                if not set(accepted) & set(token.roles):
                    return error(
                        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
                    )
                break
        faulty = self._faults(path)
        if faulty is not None:
            return faulty
        for pattern, location in self.f.redirect.items():
            if fnmatch.fnmatchcase(path, pattern):
                return Reply(307, b"", {"Location": location})
        action = self._script_action(path)
        if action == "reset":
            return Reply(RESET)
        if action in ("429", "500", "502", "503", "504"):
            status = int(action)
            code = {429: "TooManyRequests", 503: "ServiceUnavailable", 504: "GatewayTimeout"}.get(
                status, "UnknownError"
            )
            return error(status, code, "Injected failure.", self._retry_headers() if status in (429, 503) else {})
        if action == "malformed":
            return Reply(200, b'{"value": [{"id": "trunc')
        if action == "timeout":
            time.sleep(self.f.timeout_delay)
        elif action == "401":
            return error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        elif action == "403":
            return error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        self._paging.action = action
        try:
            return self._route(version, path, query, headers, token)
        finally:
            self._paging.action = "ok"

    def _route(
        self, version: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], token: _Token
    ) -> Reply:
        t = self.t
        seg = path.strip("/").split("/")
        listing: Callable[[list[dict[str, Any]]], Reply] = lambda items: self._collection(version, path, query, items)  # noqa: E731
        if path == "/users":
            select = query.get("$select", "")
            if "signInActivity" in select.split(",") and "AuditLog.Read.All" not in token.roles:
                return error(
                    403, "Authentication_RequestFromUnsupportedUserRole", "signInActivity requires AuditLog.Read.All."
                )
            users = t.users[: len(t.users) - self.f.short_users] if self.f.short_users else t.users
            return self._collection(version, path, query, users, default_select=USER_DEFAULT_FIELDS)
        if path == "/users/$count":
            if headers.get("ConsistencyLevel", "").lower() != "eventual":
                return error(400, "Request_BadRequest", "$count requires the ConsistencyLevel: eventual header.")
            return Reply(200, str(len(t.users)), {"Content-Type": "text/plain; charset=utf-8"})
        if len(seg) == 4 and seg[0] == "users" and seg[2] == "authentication":
            if seg[1] not in t.user_ids:
                return error(404, "Request_ResourceNotFound", f"Resource '{seg[1]}' does not exist.")
            if seg[3] == "methods":
                return listing(t.methods[seg[1]])
            if seg[3] == "requirements" and version == "beta":
                return Reply(200, {"perUserMfaState": self.f.per_user_mfa.get(seg[1], "disabled")})
        if path == "/reports/authenticationMethods/userRegistrationDetails":
            return self._collection(
                version, path, {**query, "$top": str(self.f.report_page_size)}, t.registration, strict_top=False
            )
        if path == "/roleManagement/directory/roleAssignments":
            return listing(t.role_assignments)
        if path in (
            "/roleManagement/directory/roleEligibilitySchedules",
            "/roleManagement/directory/roleEligibilityScheduleInstances",
        ):
            return listing(t.role_eligibility)
        if path in ("/servicePrincipals", "/servicePrincipals/$count"):
            return self._service_principals(version, path, query, headers)
        if len(seg) == 3 and seg[0] == "servicePrincipals" and seg[2] == "appRoleAssignedTo":
            if not any(sp["id"] == seg[1] for sp in t.service_principals):
                return error(404, "Request_ResourceNotFound", f"Resource '{seg[1]}' does not exist.")
            return listing(t.assigned_to.get(seg[1], []))
        if len(seg) == 3 and seg[0] == "groups" and seg[2] == "transitiveMembers":
            if seg[1] not in t.groups:
                return error(404, "Request_ResourceNotFound", f"Resource '{seg[1]}' does not exist.")
            return listing(t.group_members.get(seg[1], []))
        if path == "/identity/conditionalAccess/policies":
            return listing(t.ca_policies)
        if path == "/identity/conditionalAccess/namedLocations":
            return listing(t.named_locations)
        if path == "/policies/authenticationStrengthPolicies":
            return listing(t.strengths)
        if path == "/policies/authenticationMethodsPolicy":
            return Reply(200, t.methods_policy)
        if path == "/policies/identitySecurityDefaultsEnforcementPolicy":
            return Reply(
                200,
                {
                    "id": "00000000-0000-0000-0000-000000000005",
                    "displayName": "Security Defaults",
                    "description": "Security defaults is a set of basic identity security mechanisms.",
                    "isEnabled": self.f.security_defaults,
                },
            )
        if path == "/auditLogs/signIns":
            return self._sign_ins(version, path, query)
        return error(400, "BadRequest", f"Resource not found for the segment '{seg[0]}'.")

    def _service_principals(
        self, version: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> Reply:
        items = self.t.service_principals
        if "$filter" in query:
            try:
                keep = odata.compile_filter(query["$filter"], odata.SERVICE_PRINCIPAL)
            except odata.FilterError as exc:
                return error(400, exc.code, exc.message)
            items = [sp for sp in items if keep(sp)]
        if path.endswith("/$count"):
            if headers.get("ConsistencyLevel", "").lower() != "eventual":
                return error(400, "Request_BadRequest", "$count is not currently supported.")
            return Reply(200, str(len(items)), {"Content-Type": "text/plain; charset=utf-8"})
        return self._collection(version, path, query, items)

    def _sign_ins(self, version: str, path: str, query: Mapping[str, str]) -> Reply:
        items = self.t.sign_ins
        flt = query.get("$filter", "")
        if flt:
            terms = _FILTER_TERM.findall(flt)
            if not terms or len(terms) != flt.count("createdDateTime"):
                return error(400, "BadRequest", "Invalid filter clause")
            for op, value in terms:
                test = {"ge": str.__ge__, "gt": str.__gt__, "le": str.__le__, "lt": str.__lt__}[op]
                items = [s for s in items if test(str(s["createdDateTime"]), value)]
        if version == "v1.0":  # the factor is documented on beta only
            items = [{k: v for k, v in s.items() if k != "authenticationRequirement"} for s in items]
        return self._collection(version, path, query, items, max_top=1000)

    def _collection(
        self,
        version: str,
        path: str,
        query: Mapping[str, str],
        items: list[dict[str, Any]],
        *,
        default_select: tuple[str, ...] | None = None,
        max_top: int | None = None,
        strict_top: bool = True,
    ) -> Reply:
        limit = min(max_top or 999, self.f.max_page_size)
        try:
            top = int(query.get("$top", "100"))
        except ValueError:
            return error(400, "Request_BadRequest", "Invalid value for $top.")
        if strict_top and not 1 <= top <= (max_top or 999):
            return error(
                400,
                "Request_UnsupportedQuery",
                f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.",
            )
        top = min(top, limit)
        offset = 0
        if "$skiptoken" in query:
            try:
                offset = int(json.loads(base64.urlsafe_b64decode(query["$skiptoken"] + "==")).get("o", 0))
            except (ValueError, AttributeError):
                return error(400, "Request_BadRequest", "Invalid $skiptoken.")
        page = items[offset : offset + top]
        select = [s for s in query.get("$select", "").split(",") if s]
        fields = select or list(default_select or ())
        if fields:
            keep = {"id", "@odata.type", *fields}
            page = [{k: v for k, v in o.items() if k in keep} for o in page]
        body: dict[str, Any] = {
            "@odata.context": f"{self.base_url}/{version}/$metadata#{path.strip('/')}",
            "value": page,
        }
        if query.get("$count") == "true":
            body["@odata.count"] = len(items)
        paging = getattr(self._paging, "action", "ok")
        if offset + top < len(items) and paging != "no_next":
            rest = {k: v for k, v in query.items() if k != "$skiptoken"}
            following = {"loop_next": offset, "dup_next": offset + top - 1}.get(paging, offset + top)
            if following:  # offset 0 is the first page, whose link carries no $skiptoken
                rest["$skiptoken"] = _b64(json.dumps({"o": following}).encode())
            base = self.f.next_link_base or self.base_url
            body["@odata.nextLink"] = f"{base}/{version}{quote(path)}?{urlencode(rest, safe='$,', quote_via=quote)}"
        return Reply(200, body)

    def _batch(self, version: str, body: bytes, token: _Token, headers: Mapping[str, str]) -> Reply:
        try:
            doc = json.loads(body)
            subs = doc["requests"]
            assert isinstance(subs, list)
        except (ValueError, KeyError, AssertionError):
            return error(400, "BadRequest", "Invalid batch payload.")
        if len(subs) > 20:
            return error(400, "BadRequest", "Number of batch requests exceeds the limit of 20.")
        responses = []
        for sub in subs:
            sid, method, url = str(sub.get("id")), str(sub.get("method", "")).upper(), str(sub.get("url", ""))
            parts = urlsplit(url if url.startswith("/") else "/" + url)
            spath = unquote(parts.path)
            squery = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if method != "GET":
                reply = error(405, "Request_BadRequest", "The sandbox is read-only: GET sub-requests only.")
            else:
                with self._lock:
                    self._batch_seen += 1
                    throttled = self._batch_seen <= self.f.batch_throttle
                if throttled:
                    reply = error(429, "TooManyRequests", "Too many requests.", self._retry_headers())
                else:
                    reply = self._graph_get(version, spath, squery, headers, token)
            self._record(method, f"/{version}{spath}", squery, reply.status, in_batch=True)
            if reply.status == RESET:  # the whole $batch connection drops
                return Reply(RESET)
            sub_body = reply.body
            if isinstance(sub_body, bytes):  # a malformed page cannot be embedded: Graph would 500 it
                reply = error(500, "UnknownError", "Malformed response.")
                sub_body = reply.body
            responses.append(
                {
                    "id": sid,
                    "status": reply.status,
                    "headers": {"Content-Type": "application/json", **reply.headers},
                    "body": sub_body,
                }
            )
        return Reply(200, {"responses": responses})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms) on every keep-alive request.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        self.request.do_handshake()  # TLS handshake in the handler thread, not the accept loop
        super().setup()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        try:
            reply = self.server.graph.handle(self.command, self.path, headers, body)
        except Exception as exc:  # a sandbox bug must show as a 500 with its reason, not a dropped connection
            reply = error(500, "SandboxError", f"{type(exc).__name__}: {exc}")
        if reply.status == RESET:
            # Promise a body, send part of it, then drop the connection: a reset mid-page.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b'{"value": [{"id": "')
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.request.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(reply.body, bytes):
            data = reply.body
        elif isinstance(reply.body, str):
            data = reply.body.encode()
        else:
            data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.headers.pop("Content-Type", "application/json"))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve
    do_PATCH = _serve
    do_DELETE = _serve
    do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the sandbox records requests itself; stderr stays quiet in tests


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    graph: GraphServer
    ssl_context: Any

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        # Headers and body go out in two writes: without NODELAY, delayed ACKs add 40 ms each.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that drops a TLS connection mid-way is not the test's business
