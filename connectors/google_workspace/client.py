"""Fetch: credentials, the two Admin SDK services, a bounded retry loop and paging.

googleapiclient's own ``execute(num_retries=N)`` ignores ``Retry-After`` and sleeps with
the real clock, so every request goes through ``Fetcher.execute`` with ``num_retries=0``:
quota errors (403 rateLimitExceeded / userRateLimitExceeded, 429), 5xx and transport
errors are retried a bounded number of times, honouring ``Retry-After``, with an
injectable ``sleep``. Nothing of googleapiclient / google-auth leaves this package:
failures become ``FetchFailed`` / ``AuthenticationError``.
"""

from __future__ import annotations

import email.utils
import http.client
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import google.auth
import google_auth_httplib2
import httplib2
from google.auth import exceptions as google_auth_errors
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from auditor.interfaces import (
    NO_PROGRESS,
    AuthenticationError,
    CollectProgress,
    ConnectorError,
    SecretError,
    SettingsError,
)
from auditor.transport import service_url
from connectors.google_workspace.settings import GoogleSettings

Sleep = Callable[[float], None]
JsonObject = dict[str, Any]

RETRYABLE_403_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
MAX_BACKOFF_SECONDS = 32.0
QUOTA_BACKOFF_SECONDS = 10.0  # first wait after a quota error without Retry-After: 10, 20, 40, 60 s
MAX_RETRY_AFTER_SECONDS = 120.0  # a longer Retry-After is capped, not obeyed blindly
_KEY_FIELDS = ("client_email", "private_key", "token_uri")


class FetchFailed(ConnectorError):
    """A request failed for good (not retryable, or retries exhausted)."""

    def __init__(self, what: str, status: int | None, reason: str, message: str, attempts: int) -> None:
        self.what = what
        self.status = status
        self.reason = reason
        self.attempts = attempts
        code = f"HTTP {status}" if status is not None else "no response"
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{what}: {code} {reason}: {message}{tries}".replace(":  :", ":").strip())

    @property
    def permission_denied(self) -> bool:
        return self.status in (401, 403) and self.reason not in RETRYABLE_403_REASONS


class TokenRefused(AuthenticationError):
    """The token endpoint refused the JWT grant; ``error`` is its OAuth error code
    (``unauthorized_client`` when a scope is not authorised for domain-wide delegation)."""

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message)
        self.error = error


def _token_refused(exc: google_auth_errors.RefreshError) -> TokenRefused:
    summary = str(exc.args[0]) if exc.args else "token request refused"
    data = exc.args[1] if len(exc.args) > 1 else None
    error = str(data.get("error", "")) if isinstance(data, dict) else summary.split(":", 1)[0]
    return TokenRefused(f"the token endpoint refused the service account's grant: {summary}", error)


# --- credentials and services ------------------------------------------------------------


def _key_info(settings: GoogleSettings) -> JsonObject:
    assert settings.credentials is not None
    try:
        raw = settings.credentials.reveal()
    except SecretError as exc:
        raise SettingsError("credentials", "a readable service-account key", str(exc)) from None
    try:
        info = json.loads(raw)
    except ValueError:
        # Never echo the text: it may be a secret pasted in the wrong place.
        raise SettingsError("credentials", "a service-account key in JSON", "text that is not JSON") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        expected = 'a service-account key (JSON with "type": "service_account")'
        raise SettingsError("credentials", expected, "another kind of JSON")
    missing = [k for k in _KEY_FIELDS if not isinstance(info.get(k), str) or not info[k]]
    if missing and missing != ["token_uri"]:
        raise SettingsError("credentials", f"a service-account key with {', '.join(_KEY_FIELDS)}", f"no {missing[0]}")
    if settings.token_uri is not None:
        info = {**info, "token_uri": settings.token_uri}
    elif "token_uri" in missing:
        info = {**info, "token_uri": "https://oauth2.googleapis.com/token"}
    else:
        # The signed grant goes there: the same rule as every URL a token travels to.
        service_url(
            info["token_uri"],
            "credentials (the key's token_uri)",
            allow_insecure_http=settings.allow_insecure_http,
            example="https://oauth2.googleapis.com/token",
        )
    return info


def make_credentials(settings: GoogleSettings, scopes: Sequence[str]) -> Any:
    """Service-account credentials for ``scopes``, impersonating the delegated admin."""
    if settings.application_default:
        try:
            creds, _ = google.auth.default(scopes=list(scopes))
        except google_auth_errors.DefaultCredentialsError as exc:
            raise AuthenticationError(f"application default credentials not found: {exc}") from exc
        if settings.delegated_admin is not None:
            if not hasattr(creds, "with_subject"):
                raise AuthenticationError(
                    "the application default credentials cannot impersonate delegated_admin "
                    "(domain-wide delegation needs a service-account key)"
                )
            creds = creds.with_subject(settings.delegated_admin)
        return creds
    info = _key_info(settings)
    try:
        return service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=list(scopes), subject=settings.delegated_admin
        )
    except (ValueError, TypeError):
        # The library's message may quote the key material: say which setting, not what.
        raise SettingsError("credentials", "a valid service-account key", "a key the library rejects") from None


@dataclass(frozen=True, slots=True)
class Services:
    directory: Any
    reports: Any


def make_http(settings: GoogleSettings) -> httplib2.Http:
    """The one transport of both services and the token exchange.

    - No redirect is followed: httplib2 would repeat the request, Authorization header
      (or, for a 308, the signed grant) included, to wherever ``Location`` points.
    - The proxy is the ``proxy`` setting's; httplib2 would otherwise read
      ``HTTP(S)_PROXY`` itself, which it does only with ``trust_env: true``."""
    proxy = settings.transport.proxy
    proxy_info: Any = None
    if proxy is not None:
        import socks  # type: ignore[import-untyped]  # PySocks: httplib2 tunnels through proxies with it

        proxy_info = httplib2.ProxyInfo(socks.PROXY_TYPE_HTTP, proxy.host, proxy.port)
    elif settings.transport.trust_env:
        proxy_info = httplib2.proxy_info_from_environment
    http = httplib2.Http(timeout=settings.timeout_seconds, proxy_info=proxy_info)
    http.follow_redirects = False
    return http


def make_services(settings: GoogleSettings, credentials: Any) -> Services:
    """Both Admin SDK services from the library's bundled discovery documents: no
    network at start-up. ``api_endpoint`` (sandbox) replaces rootUrl + servicePath."""
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=make_http(settings))
    options = None
    if settings.api_endpoint is not None:
        options = {"api_endpoint": settings.api_endpoint.rstrip("/") + "/"}

    def one(api: str) -> Any:
        return build("admin", api, http=http, static_discovery=True, cache_discovery=False, client_options=options)

    return Services(directory=one("directory_v1"), reports=one("reports_v1"))


def refresh_token(credentials: Any, settings: GoogleSettings) -> None:
    """The token exchange alone (``validate``): proves the delegation for these scopes."""
    request = google_auth_httplib2.Request(make_http(settings))
    try:
        credentials.refresh(request)
    except google_auth_errors.RefreshError as exc:
        raise _token_refused(exc) from exc
    except (OSError, httplib2.HttpLib2Error, google_auth_errors.TransportError) as exc:
        raise AuthenticationError(f"the token endpoint could not be reached: {exc}") from exc


# --- retries -------------------------------------------------------------------------------


def _error_reason(exc: HttpError) -> tuple[str, str]:
    """(reason, message) from Google's error envelope; tolerant of anything else."""
    try:
        data = json.loads(exc.content.decode("utf-8"))
        error = data["error"]
        message = str(error.get("message", ""))
        errors = error.get("errors") or []
        reason = str(errors[0].get("reason", "")) if errors and isinstance(errors[0], dict) else ""
        return reason or str(error.get("status", "")), message
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return "", str(getattr(exc.resp, "reason", "") or "")


def _retry_after(resp: Any, now: Callable[[], datetime]) -> float | None:
    value = resp.get("retry-after") if hasattr(resp, "get") else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now()).total_seconds())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.scheme else "(no Location)"


def retryable(status: int, reason: str) -> bool:
    return status == 429 or status >= 500 or (status == 403 and reason in RETRYABLE_403_REASONS)


@dataclass(slots=True)
class Fetcher:
    """Executes googleapiclient requests with bounded, Retry-After-aware retries."""

    sleep: Sleep
    max_attempts: int
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    retries: int = 0  # total retries made, for the log and the tests
    progress: CollectProgress = NO_PROGRESS  # the operator's view (set per collection)
    redirects: list[str] = field(default_factory=list)  # Location origins refused

    def _wait(self, attempt: int, retry_after: float | None, *, quota: bool = False) -> None:
        if retry_after is not None:
            delay = retry_after
        elif quota:
            # Admin SDK quotas are counted per minute and Google rarely says when to come
            # back: wait long enough that the retries span a whole window.
            delay = min(QUOTA_BACKOFF_SECONDS * 2.0 ** (attempt - 1), MAX_RETRY_AFTER_SECONDS / 2)
        else:
            delay = min(2.0 ** (attempt - 1), MAX_BACKOFF_SECONDS)
        self.retries += 1
        wait = min(delay, MAX_RETRY_AFTER_SECONDS)
        self.progress.waiting(wait, "quota" if quota else "retry")
        self.sleep(wait)

    def execute(self, request: Any, what: str) -> JsonObject:
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                self.progress.request()
                result = request.execute(num_retries=0)
            except HttpError as exc:
                status = int(exc.resp.status)
                if 300 <= status < 400:
                    self.redirects.append(_origin(exc.resp.get("location", "")))
                    raise FetchFailed(what, status, "redirect_refused", "a redirect is never followed", 1) from exc
                reason, message = _error_reason(exc)
                if retryable(status, reason) and not last:
                    quota = status == 429 or (status == 403 and reason in RETRYABLE_403_REASONS)
                    self._wait(attempt, _retry_after(exc.resp, self.now), quota=quota)
                    continue
                raise FetchFailed(what, status, reason, message, attempt) from exc
            except google_auth_errors.RefreshError as exc:
                raise _token_refused(exc) from exc
            # http.client.HTTPException: a connection dropped mid-body (IncompleteRead) is
            # neither an OSError nor an httplib2 error, and is as retryable as a reset.
            except (
                OSError,
                http.client.HTTPException,
                httplib2.HttpLib2Error,
                google_auth_errors.TransportError,
            ) as exc:
                if not last:
                    self._wait(attempt, None)
                    continue
                raise FetchFailed(what, None, type(exc).__name__, str(exc), attempt) from exc
            if not isinstance(result, dict):
                # googleapiclient hands back the raw text when the body is not JSON.
                raise FetchFailed(what, 200, "malformed", "the response is not a JSON object", attempt)
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")


def pages(fetcher: Fetcher, make_request: Callable[[str | None], Any], what: str) -> Iterator[JsonObject]:
    """Every page of a nextPageToken-paged list, in order."""
    token: str | None = None
    seen: set[str] = set()
    number = 0
    while True:
        number += 1
        page = fetcher.execute(make_request(token), f"{what} page {number}")
        yield page
        nxt = page.get("nextPageToken")
        if nxt is None or nxt == "":
            return
        if not isinstance(nxt, str) or nxt in seen:
            raise FetchFailed(f"{what} page {number}", 200, "malformed", "invalid or repeated nextPageToken", 1)
        seen.add(nxt)
        token = nxt
