"""python-keycloak behind a throttle: one rate gate and a bounded pool for every request,
retries of 429 / 5xx / connection failures with a doubling delay, and errors turned into
``FetchFailed`` naming what was read. Keycloak documents no rate limit (it is
self-hosted), so the gate is ours: ``requests_per_second`` and ``max_concurrency``."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import (
    KeycloakAuthenticationError,
    KeycloakConnectionError,
    KeycloakError,
    KeycloakGetError,
)
from keycloak.exceptions import raise_error_from_response as _decode

from auditor.config.secrets import reveal_line
from auditor.interfaces import NO_PROGRESS, AuthenticationError, CollectProgress
from connectors.keycloak.settings import KeycloakSettings

T = TypeVar("T")
R = TypeVar("R")
_RETRIED = frozenset({429, 500, 502, 503, 504})


class FetchFailed(Exception):
    def __init__(self, what: str, status: int | None, detail: str) -> None:
        self.what, self.status, self.detail = what, status, detail
        super().__init__(f"{what}: " + (f"HTTP {status} " if status else "") + detail)

    @property
    def permission_denied(self) -> bool:
        return self.status in (401, 403)


class RateGate:
    """At most ``rate`` request starts per second across threads (evenly spaced)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1.0 / rate
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            time.sleep(start - now)


def _short(message: Any) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return " ".join(text.split())[:200]


class KeycloakHttp:
    """The SDK's admin client with the gate; ``requests`` counts what reached the server."""

    def __init__(
        self, settings: KeycloakSettings, retry_delay: float = 0.5, progress: CollectProgress = NO_PROGRESS
    ) -> None:
        s = settings
        self.progress = progress
        verify: bool | str = str(s.ca_bundle) if s.ca_bundle is not None else True
        self._connection = KeycloakOpenIDConnection(
            server_url=s.server_url,
            realm_name=s.realm,
            client_id=s.client_id,
            client_secret_key=reveal_line(s.client_secret, "client_secret"),
            grant_type="client_credentials",
            verify=verify,
            timeout=int(max(1, s.request_timeout_seconds)),
            max_retries=0,
            pool_maxsize=max(2, s.max_concurrency),
        )
        self.admin = KeycloakAdmin(connection=self._connection)
        # python-keycloak keeps two requests sessions: the admin calls' and the token
        # endpoint's. Neither may follow a redirect: requests would send the bearer token
        # (same host) or post the client secret again (307/308) wherever Location points.
        # The same sessions take the source's proxy and ignore the environment's unless
        # trust_env (auditor.transport); ca_bundle is passed per request, so it wins.
        proxy = s.transport.proxy
        for session in (self._connection._s, self._connection.keycloak_openid.connection._s):
            session.max_redirects = 0
            session.trust_env = s.transport.trust_env
            if proxy is not None:
                session.proxies = {"https": proxy.url, "http": proxy.url}
        self._settings = s
        self._gate = RateGate(s.requests_per_second)
        self._retry_delay = retry_delay
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0

    def close(self) -> None:
        session = getattr(self._connection, "_s", None)
        if session is not None:
            session.close()

    def _count(self, retry: bool) -> None:
        with self._lock:
            self.requests += 1
            if retry:
                self.retries += 1
        self.progress.request()

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn`` (one SDK call = one request) through the gate, with bounded retries."""
        delay = self._retry_delay
        last: FetchFailed | None = None
        for attempt in range(self._settings.max_attempts):
            self._gate.wait()
            self._count(attempt > 0)
            try:
                return fn(*args, **kwargs)
            except KeycloakAuthenticationError as exc:
                raise AuthenticationError(
                    f"Keycloak refused the service-account client's credentials: {_short(exc.error_message)}"
                ) from None
            except KeycloakConnectionError as exc:
                last = FetchFailed(what, None, f"connection failed: {_short(exc.error_message)}")
            except KeycloakError as exc:
                code = exc.response_code
                if code == 401 and "token" in what:
                    raise AuthenticationError(
                        f"Keycloak refused the token request: {_short(exc.error_message)}"
                    ) from None
                last = FetchFailed(what, code, _short(exc.error_message))
                if code not in _RETRIED:
                    raise last from None
            except (ValueError, TypeError) as exc:  # the SDK's "unexpected response type"
                last = FetchFailed(what, 200, f"malformed answer: {_short(exc)}")
            if attempt + 1 < self._settings.max_attempts:
                self.progress.waiting(delay, f"retry after {last}")
                time.sleep(delay)
                delay *= 2
        assert last is not None
        raise last

    def get_json(self, what: str, path: str, **query: Any) -> Any:
        """A GET on an admin path (relative to the server URL) through the SDK's connection."""

        def go() -> Any:
            body = _decode(self._connection.raw_get(path, **query), KeycloakGetError)
            if isinstance(body, bytes):
                raise ValueError("the answer is not JSON")
            return body

        return self.call(what, go)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        with ThreadPoolExecutor(max_workers=self._settings.max_concurrency) as pool:
            return list(pool.map(fn, items))


def digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
