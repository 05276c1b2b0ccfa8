"""moto's Cognito (cognito-idp) in server mode on 127.0.0.1, behind a thin WSGI layer
that adds what a faithful sandbox needs and moto lacks (docs/cognito.md lists each):

- SigV4 check: the request must be signed with the sandbox's access key (moto's server
  accepts anything); otherwise ``UnrecognizedClientException`` /
  ``InvalidSignatureException``, as AWS answers.
- IAM: actions outside the granted set answer ``AccessDeniedException``.
- Quotas: per-category request budgets per second, answered with
  ``TooManyRequestsException`` when spent (moto never throttles).
- ``ListUsers`` refuses ``Limit`` above 60, as the API does.
- ``GetUserPoolMfaConfig`` gains ``EmailMfaConfiguration`` and
  ``WebAuthnConfiguration``; ``AdminGetUser`` gains ``EMAIL_OTP`` (and any other setting
  a test plants) in ``UserMFASettingList``: moto knows SMS and TOTP only.
- ``DescribeRiskConfiguration`` and ``AdminListUserAuthEvents``: answered here from the
  pool's spec and sign-in truth (moto implements neither).
- Faults scripted per operation (throttling, 5xx, timeouts, malformed bodies, lost or
  looping pagination tokens, permission removed).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

CATEGORY = {
    "DescribeUserPool": "UserPoolRead",
    "GetUserPoolMfaConfig": "UserPoolRead",
    "DescribeRiskConfiguration": "UserPoolRead",
    "ListUsers": "UserList",
    "AdminGetUser": "UserRead",
    "ListUserPoolClients": "UserPoolClientRead",
    "DescribeUserPoolClient": "UserPoolClientRead",
    "AdminListUserAuthEvents": "UserResourceRead",
}
Environ = dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    operation: str
    time: float
    status: int


@dataclass(slots=True)
class Faults:
    """``script``: per operation, one action per request, in order; then ``persistent``
    (per operation) for every later request. Actions: ok, throttle, any 5xx status,
    timeout, reset (the body cut short), malformed, denied, expired, gone (the user
    was deleted); on ListUsers also
    drop_token (no PaginationToken), loop_token (the previous token again), dup (the
    previous page's first user again)."""

    script: dict[str, list[str]] = field(default_factory=dict)
    persistent: dict[str, str] = field(default_factory=dict)
    timeout_delay: float = 1.0

    def next(self, operation: str) -> str:
        queue = self.script.get(operation)
        if queue:
            return queue.pop(0)
        return self.persistent.get(operation, "ok")


@dataclass(slots=True)
class Extensions:
    """What the layer adds to moto's answers, per pool."""

    mfa_extra: dict[str, dict[str, Any]] = field(default_factory=dict)  # pool → GetUserPoolMfaConfig fields
    settings_extra: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (pool, username) → settings
    risk: dict[tuple[str, str | None], dict[str, Any]] = field(default_factory=dict)  # (pool, client) → config
    security_mode: dict[str, str] = field(default_factory=dict)
    events: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)  # newest first


@dataclass(slots=True)
class ServerState:
    access_key_id: str
    secret_access_key: str
    account_id: str
    region: str
    granted: frozenset[str]
    budgets: dict[str, int]  # category → requests per second (absent: unlimited)
    faults: Faults
    ext: Extensions
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[RecordedRequest] = field(default_factory=list)
    throttled: int = 0
    windows: dict[str, deque[float]] = field(default_factory=dict)
    last_token: dict[str, str] = field(default_factory=dict)
    last_first_user: dict[str, Any] = field(default_factory=dict)

    def spend(self, category: str) -> bool:
        """Take one request from the category's budget for the current second."""
        budget = self.budgets.get(category)
        if budget is None:
            return True
        now = time.monotonic()
        window = self.windows.setdefault(category, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= budget:
            self.throttled += 1
            return False
        window.append(now)
        return True


def _error(start: StartResponse, status: int, code: str, message: str) -> Iterable[bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    start(
        f"{status} {'Bad Request' if status == 400 else 'Error'}",
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", code),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def _json(start: StartResponse, payload: Mapping[str, Any]) -> Iterable[bytes]:
    body = json.dumps(payload, default=_epoch).encode()
    start("200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))])
    return [body]


def _epoch(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(type(value).__name__)


class SandboxLayer:
    """The WSGI application in front of moto's."""

    def __init__(self, state: ServerState, moto_app: Callable[[Environ, StartResponse], Iterable[bytes]]) -> None:
        self.state = state
        self.moto = moto_app

    def _signed_by_us(self, environ: Environ, body: bytes) -> str | None:
        """None when the SigV4 signature is ours; else the AWS error code to answer."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        parts = dict(p.strip().split("=", 1) for p in auth.removeprefix("AWS4-HMAC-SHA256 ").split(",") if "=" in p)
        credential = parts.get("Credential", "").split("/")
        if len(credential) != 5 or credential[0] != self.state.access_key_id:
            return "UnrecognizedClientException"
        signed = parts.get("SignedHeaders", "").split(";")
        headers = {}
        for name in signed:
            key = "CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_")
            if key not in environ:
                return "InvalidSignatureException"
            headers[name] = environ[key]
        host = environ.get("HTTP_HOST", "")
        request = AWSRequest("POST", f"http://{host}{environ.get('PATH_INFO') or '/'}", data=body, headers=headers)
        request.context["timestamp"] = headers.get("x-amz-date", "")
        signer = SigV4Auth(
            Credentials(self.state.access_key_id, self.state.secret_access_key), "cognito-idp", credential[2]
        )
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        return None if expected == parts.get("Signature") else "InvalidSignatureException"

    def __call__(self, environ: Environ, start: StartResponse) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.rpartition(".")[2]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        st = self.state
        status = 200
        try:
            bad = self._signed_by_us(environ, body)
            if bad is not None:
                status = 400
                return _error(start, 400, bad, "The security token included in the request is invalid.")
            if operation not in st.granted:
                status = 400
                return _error(
                    start,
                    400,
                    "AccessDeniedException",
                    f"User: arn:aws:iam::{st.account_id}:user/auditor is not authorized to perform: "
                    f"cognito-idp:{operation}",
                )
            with st.lock:
                action = st.faults.next(operation)
                allowed = st.spend(CATEGORY.get(operation, "Other"))
            if action == "throttle" or not allowed:
                if action == "throttle":
                    with st.lock:
                        st.throttled += 1
                status = 400
                return _error(start, 400, "TooManyRequestsException", "Rate exceeded")
            if action.isdigit() and action.startswith("5"):
                status = int(action)
                return _error(start, status, "InternalErrorException", "Internal error")
            if action == "reset":  # the connection drops mid-body: fewer bytes than announced
                start("200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", "4096")])
                return [b'{"Users": [']
            if action == "denied":
                status = 400
                return _error(
                    start, 400, "AccessDeniedException", f"not authorized to perform: cognito-idp:{operation}"
                )
            if action == "expired":
                status = 400
                return _error(
                    start, 400, "ExpiredTokenException", "The security token included in the request is expired"
                )
            if action == "gone":  # the user was deleted after it was listed
                status = 400
                return _error(start, 400, "UserNotFoundException", "User does not exist.")
            if action == "timeout":
                time.sleep(st.faults.timeout_delay)
            params = json.loads(body or b"{}")
            if action == "malformed":
                start("200 OK", [("Content-Type", "application/x-amz-json-1.1")])
                return [b'{"Users": [{"Username": "tru']
            answered = self._extension(operation, params, start)
            if answered is not None:
                return answered
            return self._moto(environ, body, operation, params, action, start)
        finally:
            with st.lock:
                st.requests.append(RecordedRequest(operation, time.monotonic(), status))

    def _moto(
        self,
        environ: Environ,
        body: bytes,
        operation: str,
        params: Mapping[str, Any],
        action: str,
        start: StartResponse,
    ) -> Iterable[bytes]:
        """Pass to moto; post-process the answers the layer extends."""
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = self.state.account_id
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        raw = b"".join(self.moto(environ, capture))
        code = int(str(captured.get("status", "500")).split()[0])
        if code != 200:
            headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
            start(captured.get("status", "500 Error"), [*headers, ("Content-Length", str(len(raw)))])
            return [raw]
        answer = json.loads(raw or b"{}")
        pool = str(params.get("UserPoolId", ""))
        ext = self.state.ext
        if operation == "GetUserPoolMfaConfig":
            answer.update(ext.mfa_extra.get(pool, {}))
        elif operation == "AdminGetUser":
            extra = ext.settings_extra.get((pool, str(answer.get("Username", ""))), [])
            answer["UserMFASettingList"] = [*answer.get("UserMFASettingList", []), *extra]
        elif operation == "ListUsers":
            token = answer.get("PaginationToken")
            with self.state.lock:
                previous = self.state.last_token.get(pool)
                if isinstance(token, str):
                    self.state.last_token[pool] = token
            users = answer.get("Users") or []
            with self.state.lock:
                earlier = self.state.last_first_user.get(pool)
                if users:
                    self.state.last_first_user[pool] = users[0]
            if action == "dup" and earlier is not None:
                answer["Users"] = [earlier, *users]
            if action == "drop_token":
                answer.pop("PaginationToken", None)
            elif action == "loop_token" and previous:
                answer["PaginationToken"] = previous
        return _json(start, answer)

    def _extension(self, operation: str, params: Mapping[str, Any], start: StartResponse) -> Iterable[bytes] | None:
        ext = self.state.ext
        pool = str(params.get("UserPoolId", ""))
        if operation == "ListUsers":
            limit = params.get("Limit")
            if isinstance(limit, int) and not 0 <= limit <= 60:
                return _error(
                    start,
                    400,
                    "InvalidParameterException",
                    "1 validation error detected: Value at 'limit' "
                    "failed to satisfy constraint: Member must have value less than or equal to 60",
                )
            return None
        if operation == "DescribeRiskConfiguration":
            client = params.get("ClientId")
            risk = ext.risk.get((pool, client)) or ext.risk.get((pool, None))
            config: dict[str, Any] = {"UserPoolId": pool}
            if client:
                config["ClientId"] = client
            if risk:
                config.update(risk)
            return _json(start, {"RiskConfiguration": config})
        if operation == "AdminListUserAuthEvents":
            if ext.security_mode.get(pool, "OFF") == "OFF":
                return _error(
                    start, 400, "UserPoolAddOnNotEnabledException", "Threat protection is not enabled for the pool"
                )
            events = ext.events.get((pool, str(params.get("Username", ""))), [])
            size = int(params.get("MaxResults") or 60)
            offset = int(params.get("NextToken") or 0)
            page: dict[str, Any] = {"AuthEvents": events[offset : offset + size]}
            if offset + size < len(events):
                page["NextToken"] = str(offset + size)
            return _json(start, page)
        return None


class _QuietHandler(MotoRequestHandler):
    """No access log on stderr: tests and the demo print their own progress."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class CognitoServer(ThreadedMotoServer):
    """moto's threaded server with the sandbox layer in front, on 127.0.0.1."""

    def __init__(self, state: ServerState) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.state = state

    def _server_entry(self) -> None:
        app = SandboxLayer(self.state, DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._ip_address, self._port, app, threaded=True, request_handler=_QuietHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
