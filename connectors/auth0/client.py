"""The Auth0 connector's HTTP side: the client-credentials token (auth0-python's
``GetToken``), the generated Management API client (auth0-python's ``Auth0``) on an
httpx client whose event hooks pace every request, bounded retries, and the
users-export download.

Only GET requests reach the Management API, with two exceptions: the token request and
``POST /jobs/users-exports`` (creating an export job reads users; it changes nothing).
The bearer token goes to the tenant's origin only: the export file is downloaded from
the job's ``location`` with a separate client that carries no Authorization header.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pydantic
from auth0.management.client import Auth0
from auth0.management.core.api_error import ApiError
from auth0.management.core.parse_error import ParsingError

from auditor.config.secrets import reveal_line
from auditor.interfaces import NO_PROGRESS, AuthenticationError, CollectProgress, SecretError
from connectors.auth0.pacing import Pacer
from connectors.auth0.settings import Auth0Settings

T = TypeVar("T")


def _transport(settings: Auth0Settings) -> dict[str, Any]:
    """httpx options for the source's transport: its own proxy, the environment only
    with ``trust_env: true``."""
    t = settings.transport
    options: dict[str, Any] = {"trust_env": t.trust_env}
    if t.proxy is not None:
        options["proxy"] = t.proxy.url
    return options


class FetchFailed(Exception):
    """A read that failed for good (after retries), with what Auth0 said."""

    def __init__(self, what: str, status: int | None, code: str, detail: str, attempts: int) -> None:
        self.what, self.status, self.code, self.detail, self.attempts = what, status, code, detail, attempts
        tail = f" after {attempts} attempt(s)" if attempts > 1 else ""
        super().__init__(f"{what}: {'HTTP ' + str(status) if status else 'no answer'} {code}: {detail}{tail}")

    @property
    def permission_denied(self) -> bool:
        return self.status == 403

    @property
    def bad_request(self) -> bool:
        return self.status == 400


def _error_of(body: Any) -> tuple[str, str]:
    """(errorCode, message) of an Auth0 error body: {statusCode, error, message, errorCode}."""
    if isinstance(body, Mapping):
        code = body.get("errorCode") or body.get("error") or ""
        message = body.get("message") or body.get("error_description") or ""
        return str(code)[:80], str(message)[:300]
    return "", str(body)[:120]


class SchemaRejected(Exception):
    """The SDK's model refused a well-formed JSON answer (e.g. a field it requires is
    missing); ``body`` is the JSON, to be read without the model."""

    def __init__(self, what: str, body: Any, reason: str) -> None:
        self.what, self.body, self.reason = what, body, reason
        super().__init__(f"{what}: the SDK's model rejected the answer ({reason})")


class Auth0Http:
    """One per collection. ``retry_delay``: seconds before the first retry of a 5xx,
    timeout or broken answer (doubling). ``sleep`` and ``clock`` are injectable."""

    def __init__(
        self,
        settings: Auth0Settings,
        *,
        retry_delay: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        # The operator's view of the collection (set per collection by the connector).
        self.progress: CollectProgress = NO_PROGRESS
        self.pacer = Pacer(settings.rate_limit_rps, clock=clock, sleep=self._paced_sleep)
        self.retries = 0
        self._retry_delay = retry_delay
        self._sleep = sleep
        self._token_lock = threading.Lock()
        self._token_value: str | None = None
        self._token_expires = 0.0
        self.granted: frozenset[str] = frozenset()  # the scopes the last token carried
        self.http = httpx.Client(
            timeout=settings.request_timeout_seconds,
            follow_redirects=False,
            **_transport(settings),
            limits=httpx.Limits(max_connections=settings.max_concurrency + 2),
            event_hooks={"request": [self._on_request], "response": [self._on_response]},
        )
        # Retries are ours (max_retries=0): each is paced and counted like any request.
        self.sdk = Auth0(
            base_url=f"{settings.origin}/api/v2",
            token=self.token,
            httpx_client=self.http,
            max_retries=0,
            timeout=settings.request_timeout_seconds,
        )

    def close(self) -> None:
        self.http.close()

    def _paced_sleep(self, seconds: float) -> None:
        # Waits of a second or more are the tenant's rate limit showing: say so.
        if seconds >= 1:
            self.progress.waiting(seconds, "rate limit")
        self._sleep(seconds)

    def _retry_sleep(self, seconds: float, what: str) -> None:
        self.progress.waiting(seconds, f"retrying {what}")
        self._sleep(seconds)

    # --- token -------------------------------------------------------------------------

    def token(self) -> str:
        with self._token_lock:
            if self._token_value is not None and time.time() < self._token_expires - 30:
                return self._token_value
            s = self.settings
            try:
                secret = reveal_line(s.client_secret, "client_secret")
            except SecretError as exc:  # it names the reference, never the value
                raise AuthenticationError(str(exc)) from None
            answer = self._client_credentials(secret)
            if not isinstance(answer, Mapping) or not isinstance(answer.get("access_token"), str):
                raise AuthenticationError(f"the token endpoint of {s.domain} answered without an access_token")
            self._token_value = str(answer["access_token"])
            expires = answer.get("expires_in")
            self._token_expires = time.time() + (float(expires) if isinstance(expires, int | float) else 3600.0)
            self.granted = frozenset(str(answer.get("scope") or "").split())
            return self._token_value

    def _client_credentials(self, secret: str) -> Any:
        """The client-credentials grant, sent by our own client rather than the SDK's
        ``GetToken`` (a module-level ``requests`` call: it follows a redirect with the
        secret in the body and reads proxies from the environment). No redirect is
        followed; the proxy is the source's own (``auditor.transport``)."""
        s = self.settings
        body = {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": secret,
            "audience": s.audience,
        }
        try:
            with httpx.Client(timeout=s.request_timeout_seconds, follow_redirects=False, **_transport(s)) as c:
                response = c.post(f"{s.origin}/oauth/token", json=body)
        except httpx.HTTPError as exc:
            # ``from None``: the request carried the secret in its body.
            raise AuthenticationError(
                f"the token endpoint of {s.domain} did not answer ({type(exc).__name__})"
            ) from None
        if 300 <= response.status_code < 400:
            raise AuthenticationError(
                f"the token endpoint of {s.domain} answered with a redirect (HTTP {response.status_code}): "
                "not followed, the request carries the client secret"
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200:
            code, message = _error_of(answer)
            raise AuthenticationError(
                f"Auth0 refused the client credentials of {s.client_id}: {code or response.status_code}: {message}"
            ) from None
        return answer

    def _forget_token(self) -> None:
        with self._token_lock:
            self._token_value = None

    # --- hooks -------------------------------------------------------------------------

    def _on_request(self, request: httpx.Request) -> None:
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        if origin != self.settings.origin:
            # Defence in depth: this client carries the bearer token.
            raise httpx.UnsupportedProtocol(f"refusing to send the Management API token to {origin}")
        self.pacer.acquire()
        self.progress.request()

    def _on_response(self, response: httpx.Response) -> None:
        self.pacer.observe(response.status_code, response.headers)

    # --- calls -------------------------------------------------------------------------

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """``fn`` (one SDK call) with bounded retries: 429 (after the pacer's pause), 5xx,
        timeouts, broken answers; a 401 once with a fresh token. Anything else fails."""
        attempts = self.settings.max_attempts
        delay = self._retry_delay
        last: tuple[int | None, str, str] = (None, "", "")
        refreshed = False
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except ApiError as exc:
                status = exc.status_code
                code, message = _error_of(exc.body)
                last = (status, code or "error", message)
                if status == 401 and not refreshed:
                    refreshed = True
                    self._forget_token()
                elif status == 429:
                    pass  # the pacer already holds every request until the bucket allows
                elif status is not None and (status >= 500 or status == 200):  # 200: an unparsable body
                    if status == 200:
                        last = (200, "malformed", "the answer is not the JSON the SDK expects")
                    self._retry_sleep(delay, what)
                    delay *= 2
                else:
                    raise FetchFailed(what, status, code or "error", message, attempt) from None
            except ParsingError as exc:
                if isinstance(exc.body, dict | list) and exc.status_code == 200:
                    cause = exc.__cause__
                    reason = str(cause).splitlines()[1].strip() if cause is not None and "\n" in str(cause) else "model"
                    raise SchemaRejected(what, exc.body, reason[:120]) from None
                last = (exc.status_code, "malformed", "the answer is not the JSON the SDK expects")
                self._retry_sleep(delay, what)
                delay *= 2
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if isinstance(exc, httpx.UnsupportedProtocol):
                    raise FetchFailed(what, None, "refused", str(exc), attempt) from None
                last = (None, type(exc).__name__, "the connection failed or timed out")
                self._retry_sleep(delay, what)
                delay *= 2
            except (pydantic.ValidationError, json.JSONDecodeError, ValueError) as exc:
                last = (200, "malformed", f"the answer does not fit the SDK's model ({type(exc).__name__})")
                self._retry_sleep(delay, what)
                delay *= 2
            if attempt < attempts:
                self.retries += 1
        status, code, message = last
        raise FetchFailed(what, status, code, message, attempts)

    def raw_get(self, what: str, path: str, params: Mapping[str, Any]) -> Any:
        """A GET whose answer the SDK's typed method cannot parse (the logs checkpoint
        listing answers a bare array), through the SDK's own HTTP client: same token,
        base URL and hooks."""
        wrapper = self.sdk._client_wrapper  # the SDK's core client: the typed methods use it too

        def once() -> Any:
            response = wrapper.httpx_client.request(path, method="GET", params=dict(params))
            try:
                body = response.json()
            except json.JSONDecodeError:
                raise ApiError(status_code=response.status_code, headers=dict(response.headers), body=None) from None
            if not 200 <= response.status_code < 300:
                raise ApiError(status_code=response.status_code, headers=dict(response.headers), body=body)
            return body

        return self.call(what, once)

    # --- users export ------------------------------------------------------------------

    def export_lines(self, location: str) -> Iterator[tuple[int, Any]]:
        """(line number, parsed JSON or None when the line is broken) of the export file,
        streamed and gunzipped as it arrives. The URL is the job's ``location``: a
        storage URL, fetched without the Management API token."""
        parts = urlsplit(location)
        loopback = parts.hostname in ("127.0.0.1", "localhost")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback and self.settings.allow_insecure_http):
            raise FetchFailed("users export download", None, "refused", f"not an https URL: {parts.scheme}://", 1)
        with (
            httpx.Client(
                timeout=self.settings.request_timeout_seconds, follow_redirects=False, **_transport(self.settings)
            ) as plain,
            plain.stream("GET", location) as response,
        ):
            if response.status_code != 200:
                raise FetchFailed("users export download", response.status_code, "download", "not served", 1)
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pending = b""
            number = 0
            try:
                for chunk in response.iter_bytes():
                    pending += inflate.decompress(chunk)
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        number += 1
                        yield number, _json_line(line)
                pending += inflate.flush()
            except zlib.error as exc:
                raise FetchFailed("users export download", 200, "corrupt", f"gzip: {exc}", 1) from None
            except httpx.TransportError as exc:
                raise FetchFailed("users export download", None, type(exc).__name__, "download cut", 1) from None
            if not inflate.eof:
                raise FetchFailed("users export download", 200, "truncated", "the gzip stream ends early", 1)
            for line in pending.split(b"\n"):
                number += 1
                yield number, _json_line(line)


def _json_line(line: bytes) -> Any:
    if not line.strip():
        return ...
    try:
        return json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
