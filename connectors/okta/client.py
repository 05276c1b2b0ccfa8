"""The okta SDK (3.x, async) behind a small fetch layer: client construction isolated
from stray SDK configuration, typed SDK calls with a raw-JSON fallback through the
SDK's request executor, Link paging, pacing and bounded retries.

SDK traps handled here (docs/okta.md says more):
- The SDK merges ``~/.okta/okta.yaml``, ``./okta.yaml`` and ``OKTA_CLIENT_*`` variables
  into every client. ``isolated_client`` builds the client with those sources switched
  off (environment scrubbed of ``OKTA_*``, the YAML paths pointed at nothing) and
  restores them at once, under a lock.
- The SDK refuses an ``http://`` org URL unless the *top-level* ``testing`` setting
  (read only from YAML or ``OKTA_TESTING_TESTINGDISABLEHTTPSCHECK``) says otherwise; with
  ``allow_insecure_http`` that variable is set for the construction only.
- The generated methods put ``SSWS<token>`` (no space) in the Authorization header; we
  pass the header ourselves (``_request_auth``) in API-token mode.
- One record the SDK's pydantic models reject raises for the whole page: the page is
  then read again as raw JSON through the request executor, and the rejected records
  are named.
- ``ApiResponse.headers`` is a plain dict, so of the two ``Link`` headers only the last
  (``next``, as Okta orders them) survives: enough to page.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import okta.models
from okta.client import Client
from okta.config import config_setter
from okta.jwt import JWT
from yarl import URL

from auditor.config.secrets import reveal_line
from auditor.interfaces import NO_PROGRESS, AuthenticationError, CollectProgress, SettingsError
from connectors.okta.pacing import Pacer
from connectors.okta.settings import OktaSettings

JsonObject = Mapping[str, Any]
HTTPS_OVERRIDE_ENV = "OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"
_NO_YAML = str(Path(__file__).with_name("no-such-okta.yaml"))
_CONSTRUCTION = threading.Lock()
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
RETRYABLE = frozenset({500, 502, 503, 504})


FOREIGN_ORIGIN = "foreign_origin"


class ForeignOrigin(aiohttp.ClientError):
    """A request (a redirect, most likely) for another origin than the org's: refused
    before it is sent, because the SDK's headers and bodies carry the credentials."""


def origin_guard(org_url: str, refused: list[str]) -> Any:
    """An aiohttp client middleware that lets requests reach the org's origin only. aiohttp
    runs it for every hop of a redirect chain, so a ``Location`` elsewhere stops here."""
    allowed = URL(org_url).origin()

    async def guard(request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
        target = request.url.origin()
        if target != allowed:
            refused.append(str(target))
            raise ForeignOrigin(f"{FOREIGN_ORIGIN} {target} is not the org's origin; not contacted")
        response: aiohttp.ClientResponse = await handler(request)
        return response

    return guard


class TokenRefused(AuthenticationError):
    """The org's token endpoint refused the service app (``error`` is OAuth's code)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


class FetchFailed(Exception):
    """A request that failed for good (after bounded retries). Never carries secrets."""

    def __init__(self, endpoint: str, status: int | None, code: str, summary: str, attempts: int) -> None:
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.summary = summary
        self.attempts = attempts
        where = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{endpoint}: {where} {code} {summary} (after {attempts} attempt(s))".replace("  ", " "))

    @property
    def permission_denied(self) -> bool:
        return self.status == 403

    @property
    def bad_request(self) -> bool:
        return self.status in (400, 404)


# The SDK reads these when no proxy is configured (its HTTPClient._setup_proxy).
_PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


@contextmanager
def _isolated_sdk_config(allow_insecure_http: bool, trust_env: bool = False) -> Iterator[None]:
    with _CONSTRUCTION:
        saved = {k: v for k, v in os.environ.items() if k.startswith("OKTA_") or (not trust_env and k in _PROXY_ENV)}
        # The SDK reads these module constants when a client is built; pointing them at a
        # file that does not exist switches the YAML sources off.
        paths = (getattr(config_setter, "_GLOBAL_YAML_PATH"), getattr(config_setter, "_LOCAL_YAML_PATH"))  # noqa: B009
        for k in saved:
            del os.environ[k]
        if allow_insecure_http:
            os.environ[HTTPS_OVERRIDE_ENV] = "true"
        setattr(config_setter, "_GLOBAL_YAML_PATH", _NO_YAML)  # noqa: B010
        setattr(config_setter, "_LOCAL_YAML_PATH", _NO_YAML)  # noqa: B010
        try:
            yield
        finally:
            setattr(config_setter, "_GLOBAL_YAML_PATH", paths[0])  # noqa: B010
            setattr(config_setter, "_LOCAL_YAML_PATH", paths[1])  # noqa: B010
            os.environ.pop(HTTPS_OVERRIDE_ENV, None)
            os.environ.update(saved)


def isolated_client(settings: OktaSettings, scopes: tuple[str, ...] | None = None) -> tuple[Client, dict[str, Any]]:
    """The SDK client and the per-call auth override (empty in OAuth mode)."""
    config: dict[str, Any] = {
        "orgUrl": settings.org_url,
        "rateLimit": {"maxRetries": 0},  # the pacer waits for resets; the SDK must not
        "requestTimeout": max(1, round(settings.request_timeout_seconds)),
        "cache": {"enabled": False},
        "logging": {"enabled": False},
        "userAgent": "mfa-auditor",
    }
    auth: dict[str, Any] = {}
    proxy = settings.transport.proxy
    if proxy is not None:
        config["proxy"] = {"host": proxy.host, "port": proxy.port}
    if settings.oauth is not None:
        config.update(
            authorizationMode="PrivateKey",
            clientId=settings.oauth.client_id,
            scopes=list(scopes or settings.oauth.scopes),
            privateKey=_checked_private_key(settings.oauth.private_key.reveal()),
        )
        if settings.oauth.key_id:
            config["kid"] = settings.oauth.key_id
    elif settings.token is not None:
        token = reveal_line(settings.token, "token")
        config.update(authorizationMode="SSWS", token=token)
        auth = {"in": "header", "type": "api_key", "key": "Authorization", "value": f"SSWS {token}"}
    with _isolated_sdk_config(settings.allow_insecure_http, settings.transport.trust_env):
        try:
            client = Client(config)
        except ValueError as exc:
            # The validator's message names the setting, never the secret's value.
            raise AuthenticationError(f"the okta SDK refused the settings: {str(exc).splitlines()[0]}") from exc
    return client, auth


def _checked_private_key(key: str) -> str:
    """The key as the SDK will read it, tried now: a garbage key would otherwise fail
    deep inside the first request, with a library message that may quote it."""
    if os.path.exists(key):  # the SDK would read a path given as the value
        raise SettingsError("oauth.private_key", "the private key itself (PEM or JWK), not a path", "a file path")
    try:
        JWT.get_PEM_JWK(key)  # type: ignore[no-untyped-call]
    except Exception:  # jwcrypto / pycryptodome / ast raise many kinds; none may leak the key
        raise SettingsError(
            "oauth.private_key", "an RSA private key in PEM or JWK", "a value the okta SDK cannot read as a key"
        ) from None
    return key


@dataclass(frozen=True, slots=True)
class Rejected:
    record: str
    reason: str


@dataclass(frozen=True, slots=True)
class Page:
    items: tuple[Any, ...]
    next_after: str | None
    body: bytes
    rejected: tuple[Rejected, ...] = ()


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int | None
    headers: Mapping[str, str]
    body: bytes | None
    error: str


class _SchemaRejected(Exception):
    pass


def _next_after(headers: Any) -> str | None:
    values: list[str] = []
    if hasattr(headers, "getall"):
        values = list(headers.getall("Link", []))
    else:
        values = [v for k, v in headers.items() if k.lower() == "link"]
    for value in values:
        for url in _NEXT.findall(value):
            after = parse_qs(urlsplit(url).query).get("after")
            if after:
                return str(after[-1])
    return None


def _error_text(err: Any) -> tuple[str, str]:
    code = getattr(err, "error_code", None)
    summary = getattr(err, "error_summary", None)
    if code is not None:
        return str(code), str(summary or "")
    return "", str(err).splitlines()[0][:200] if err is not None else ""


def _validation_reason(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            return f"{'.'.join(str(p) for p in first.get('loc', ()))}: {first.get('msg', '')}"
        except (IndexError, TypeError, AttributeError):
            pass
    return str(exc).splitlines()[0][:200]


class OktaHttp:
    """Fetching for one collection: the SDK client, the pacer, the retry policy."""

    def __init__(
        self, client: Client, auth: Mapping[str, Any], pacer: Pacer, *, max_attempts: int, retry_delay: float
    ) -> None:
        self._client = client
        self._auth = dict(auth)
        self._pacer = pacer
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self.retries = 0
        self.progress: CollectProgress = NO_PROGRESS  # the operator's view (set per collection)
        pacer.on_wait = lambda seconds, family: self.progress.waiting(seconds, f"rate limit ({family})")
        self.refused_origins: list[str] = []  # origins a request was kept from (origin_guard)

    @property
    def client(self) -> Client:
        return self._client

    def _org_url(self) -> str:
        config = self._client.get_config()  # type: ignore[no-untyped-call]
        return str(config["client"]["orgUrl"])

    def session(self, max_concurrency: int) -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_concurrency),
            middlewares=(origin_guard(self._org_url(), self.refused_origins),),
        )
        self._client.get_request_executor().set_session(session)  # type: ignore[no-untyped-call]
        return session

    async def _typed(self, call: Callable[..., Awaitable[Any]]) -> _Reply:
        try:
            _data, resp, err = await call(**({"_request_auth": self._auth} if self._auth else {}))
        except AttributeError:
            # The generated code reads ``response.status`` of a request that got no answer.
            return _Reply(None, {}, None, "no answer (connection failed or timed out)")
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            raise _SchemaRejected(_validation_reason(exc)) from exc
        if err is not None:
            status = getattr(resp, "status", None) or getattr(err, "status", None)
            headers = getattr(resp, "headers", None) or {}
            return _Reply(status, headers, None, " ".join(_error_text(err)).strip())
        raw = getattr(resp, "raw_data", None)
        return _Reply(getattr(resp, "status_code", 200), resp.headers or {}, raw if raw is not None else b"[]", "")

    async def _raw(self, path: str) -> _Reply:
        ex = self._client.get_request_executor()  # type: ignore[no-untyped-call]
        req, err = await ex.create_request("GET", path, None, {})
        if err is not None:
            status = getattr(err, "status", None)
            return _Reply(status, {}, None, " ".join(_error_text(err)).strip())
        resp, body, err = await ex.execute(req)
        if resp is None:
            return _Reply(None, {}, None, " ".join(_error_text(err)).strip() or "no answer")
        if err is not None:
            return _Reply(resp.status, resp.headers, None, " ".join(_error_text(err)).strip())
        return _Reply(resp.status, resp.headers, (body or "").encode("utf-8"), "")

    async def _send(self, family: str, endpoint: str, fetch: Callable[[], Awaitable[_Reply]]) -> _Reply:
        attempts = throttled = 0
        while True:
            attempts += 1
            await self._pacer.acquire(family)
            self.progress.request()
            try:
                reply = await fetch()
            except _SchemaRejected:
                await self._pacer.release(family, 200, {})
                raise
            except asyncio.CancelledError:
                await self._pacer.release(family, None, {})
                raise
            await self._pacer.release(family, reply.status, reply.headers)
            if reply.status is not None and 200 <= reply.status < 300 and reply.body is not None:
                return reply
            code, _, summary = reply.error.partition(" ")
            if FOREIGN_ORIGIN in reply.error:
                raise FetchFailed(endpoint, reply.status, FOREIGN_ORIGIN, "a redirect to another origin was refused", 1)
            if reply.status == 401:
                raise AuthenticationError(f"Okta refused the credentials on {endpoint}: {reply.error}")
            if code in ("invalid_client", "invalid_scope", "unauthorized_client", "invalid_grant"):
                raise TokenRefused(code, f"Okta refused the service app's token request: {reply.error}")
            if reply.status == 429:
                throttled += 1
                attempts -= 1  # a 429 is paced, not a failure; bounded on its own
                if throttled <= 3 * self._max_attempts:
                    self.retries += 1
                    continue
            elif (reply.status is None or reply.status in RETRYABLE) and attempts < self._max_attempts:
                self.retries += 1
                delay = self._retry_delay * 2 ** (attempts - 1)
                self.progress.waiting(delay, f"{endpoint}: {reply.error or 'no answer'}, retrying")
                await asyncio.sleep(delay)
                continue
            raise FetchFailed(endpoint, reply.status, code, summary, attempts + throttled)

    async def page(
        self,
        family: str,
        endpoint: str,
        call: Callable[..., Awaitable[Any]],
        raw_path: str,
        model: str | None,
    ) -> Page:
        """One page: the typed SDK call, or on a schema rejection the same page as raw
        JSON, with the rejected records named (validated one by one with ``model``)."""
        try:
            reply = await self._send(family, endpoint, lambda: self._typed(call))
            fallback = False
        except _SchemaRejected:
            reply = await self._send(family, endpoint, lambda: self._raw(raw_path))
            fallback = True
        body = reply.body or b"[]"
        try:
            data = json.loads(body)
        except ValueError:
            raise FetchFailed(endpoint, reply.status, "malformed", "the body is not JSON", 1) from None
        items = data if isinstance(data, list) else [data]
        rejected: tuple[Rejected, ...] = ()
        if fallback:
            rejected = tuple(_rejected(items, model, endpoint))
        return Page(tuple(items), _next_after(reply.headers), body, rejected)


def _rejected(items: list[Any], model: str | None, endpoint: str) -> Iterator[Rejected]:
    cls = getattr(okta.models, model, None) if model else None
    if cls is None:
        yield Rejected(endpoint, "the SDK's models rejected this page")
        return
    for i, item in enumerate(items):
        try:
            cls.from_dict(item)
        except (ValueError, TypeError) as exc:
            rid = item.get("id") if isinstance(item, Mapping) else None
            yield Rejected(str(rid) if rid else f"{endpoint} item {i + 1}", _validation_reason(exc))
