"""Fetching from Microsoft Graph: paging, retries, ``$count`` and ``$batch``.

Read-only by construction: the only verbs this module sends are GET, plus POST to
``/$batch`` with GET sub-requests (built here, never by callers). Every wait honours
``Retry-After`` (plus jitter), every loop is bounded, and giving up raises
``GraphGaveUp`` with the reason, which the collector turns into an incomplete issue.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from auditor.interfaces import NO_PROGRESS, CollectProgress
from connectors.entra.auth import TokenSource
from connectors.entra.pacing import WindowPacer, is_report
from connectors.entra.settings import EntraSettings

RETRYABLE = frozenset({429, 500, 502, 503, 504})


class GraphError(Exception):
    """A Graph request failed for good (4xx other than 401/429, or after retries)."""

    def __init__(self, endpoint: str, status: int | None, code: str, message: str) -> None:
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.message = message
        where = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{endpoint}: {where} {code}: {message}".rstrip(": "))


class GraphGaveUp(GraphError):
    """Retries were exhausted (throttling, server errors, network, malformed bodies)."""


REDIRECT_REFUSED = "Graph answered with a redirect; not followed"


class ForeignLink(GraphError):
    """A next link or a redirect pointed away from ``graph_root``'s origin: not followed,
    because the bearer token goes with every request this client sends."""

    CODE = "ForeignNextLink"


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port made explicit."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1  # a malformed port never equals a real origin
    if port is None:
        port = {"https": 443, "http": 80}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def same_origin(url: str, root: str) -> bool:
    """Whether ``url`` is on ``root``'s origin, over https (``graph_root`` is https only)."""
    return origin(url)[0] == "https" and origin(url) == origin(root)


@dataclass(frozen=True, slots=True)
class Page:
    items: tuple[dict[str, Any], ...]
    sha256: str


@dataclass(frozen=True, slots=True)
class BatchResult:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


def _endpoint(url: str, root: str) -> str:
    """A short, stable name for a URL: the path without version prefix or query."""
    path = url[len(root) :] if url.startswith(root) else url
    path = path.split("?", 1)[0]
    for prefix in ("/v1.0", "/beta"):
        if path.startswith(prefix + "/"):
            return path[len(prefix) :]
    return path


def _error_of(body: Any) -> tuple[str, str]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return str(err.get("code", "")), str(err.get("message", ""))
    return "", ""


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None  # an HTTP-date: Graph does not send one; fall back to backoff
    return max(value, 0.0)


class GraphClient:
    def __init__(
        self,
        settings: EntraSettings,
        tokens: TokenSource,
        session: requests.Session,
        *,
        logger: logging.Logger,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._s = settings
        self._tokens = tokens
        self._session = session
        self._log = logger
        self._sleep = sleep
        self._rng = rng or random.Random()
        # The operator's view of the collection (the connector sets it per collection).
        self.progress: CollectProgress = NO_PROGRESS
        self.requests_sent = 0
        self.retries = 0
        self.reports = WindowPacer(settings.reports_limit, settings.reports_window, sleep=sleep)

    # --- plumbing ------------------------------------------------------------------------

    def url(self, path: str, params: Mapping[str, str] | None = None, version: str = "v1.0") -> str:
        query = ("?" + urlencode(params, safe="$,/()':", quote_via=quote)) if params else ""
        return f"{self._s.graph_root}/{version}{path}{query}"

    def _wait(self, endpoint: str, attempt: int, retry_after: float | None, why: str) -> None:
        if retry_after is not None and retry_after > self._s.max_retry_wait:
            raise GraphGaveUp(endpoint, None, "RetryAfterTooLong", f"{why}; asked to wait {retry_after:g} s")
        base = retry_after if retry_after is not None else self._s.backoff_base * 2 ** (attempt - 1)
        delay = min(base, self._s.max_retry_wait) + self._rng.uniform(0, self._s.retry_jitter)
        self.retries += 1
        self._log.info("graph %s: %s; retrying in %.2f s (attempt %d)", endpoint, why, delay, attempt + 1)
        self.progress.waiting(delay, f"{endpoint}: {why}")
        self._sleep(delay)

    def _send(self, method: str, url: str, *, body: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        """One logical request with retries; returns the response (JSON parsed unless text)."""
        endpoint = _endpoint(url, self._s.graph_root)
        refreshed = False
        attempt = 0
        why = ""
        while True:
            attempt += 1
            if attempt > self._s.max_attempts:
                raise GraphGaveUp(endpoint, None, "RetriesExhausted", f"{why} ({self._s.max_attempts} attempts)")
            if is_report(endpoint):
                self.reports.acquire(lambda s: self.progress.waiting(s, f"{endpoint}: reports limit, paced"))
            hdrs = {"Authorization": f"Bearer {self._tokens.token()}", "Accept": "application/json"}
            hdrs.update(headers or {})
            try:
                self.requests_sent += 1
                self.progress.request()
                # No redirect is followed: requests would resend the request (and, on the
                # same host, the token) wherever a Location header points.
                resp = self._session.request(
                    method, url, headers=hdrs, json=body, timeout=self._s.timeout, allow_redirects=False
                )
            except requests.TooManyRedirects:  # the session allows none (connector._session)
                raise ForeignLink(endpoint, None, "Redirected", REDIRECT_REFUSED) from None
            except requests.RequestException as exc:
                why = f"network error {type(exc).__name__}"
                if attempt < self._s.max_attempts:
                    self._wait(endpoint, attempt, None, why)
                continue
            if resp.status_code == 401 and not refreshed:
                # An expired or revoked token: one new token, then the same request again.
                refreshed = True
                attempt -= 1
                self._log.info("graph %s: 401, acquiring a new token", endpoint)
                self._tokens.refresh()
                continue
            if resp.status_code in RETRYABLE:
                code, msg = _error_of(_json_or_none(resp))
                why = f"HTTP {resp.status_code} {code}".rstrip()
                if attempt < self._s.max_attempts:
                    self._wait(endpoint, attempt, _retry_after(resp.headers), why)
                continue
            if 300 <= resp.status_code < 400:
                raise ForeignLink(endpoint, resp.status_code, "Redirected", REDIRECT_REFUSED)
            if resp.status_code >= 400:
                code, msg = _error_of(_json_or_none(resp))
                raise GraphError(endpoint, resp.status_code, code or resp.reason or "", msg)
            if resp.headers.get("Content-Type", "").startswith("text/plain"):
                return resp.text, resp.content
            try:
                return resp.json(), resp.content
            except ValueError:
                why = "malformed JSON body"
                if attempt < self._s.max_attempts:
                    self._wait(endpoint, attempt, None, why)
                continue

    # --- operations ----------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, str] | None = None, version: str = "v1.0") -> Any:
        body, _ = self._send("GET", self.url(path, params, version))
        return body

    def pages(self, path: str, params: Mapping[str, str] | None = None, version: str = "v1.0") -> Iterator[Page]:
        """Every page of a collection, following the absolute ``@odata.nextLink`` verbatim
        when it stays on ``graph_root``'s origin (``ForeignLink`` otherwise)."""
        yield from self._walk(self.url(path, params, version))

    def _next(self, url: str, body: Any) -> str | None:
        nxt = body.get("@odata.nextLink")
        if not isinstance(nxt, str) or not nxt:
            return None
        if not same_origin(nxt, self._s.graph_root):
            # Only the origin is named: the link's query may carry anything.
            scheme, host, port = origin(nxt)
            raise ForeignLink(
                _endpoint(url, self._s.graph_root),
                None,
                ForeignLink.CODE,
                f"@odata.nextLink points to {scheme}://{host}:{port}, not to graph_root; not followed",
            )
        return nxt

    def _walk(self, first: str) -> Iterator[Page]:
        url: str | None = first
        seen: set[str] = set()
        while url is not None:
            if url in seen:  # a server that loops would otherwise never end
                raise GraphGaveUp(_endpoint(url, self._s.graph_root), None, "PagingLoop", "nextLink repeats")
            seen.add(url)
            body, raw = self._send("GET", url)
            yield self._page(url, body, raw)
            url = self._next(url, body)

    def _page(self, url: str, body: Any, raw: bytes) -> Page:
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise GraphGaveUp(_endpoint(url, self._s.graph_root), None, "MalformedPage", "no 'value' list of objects")
        return Page(tuple(value), hashlib.sha256(raw).hexdigest())

    def follow(self, next_link: str) -> Iterator[Page]:
        """The remaining pages of a collection from a ``nextLink`` (e.g. inside a batch
        response), on ``graph_root``'s origin only."""
        first = self._next("/$batch", {"@odata.nextLink": next_link})
        if first is not None:
            yield from self._walk(first)

    def count(self, path: str) -> int:
        """``/{collection}/$count``: advanced query, hence ``ConsistencyLevel: eventual``."""
        body, _ = self._send("GET", self.url(f"{path}/$count"), headers={"ConsistencyLevel": "eventual"})
        try:
            return int(str(body).strip().lstrip("\ufeff"))
        except ValueError:
            raise GraphGaveUp(path + "/$count", None, "MalformedCount", "not an integer") from None

    def batch(self, paths: Sequence[str], version: str = "v1.0") -> dict[str, BatchResult]:
        """GET every relative ``path`` through ``/$batch`` (at most ``batch_size`` per post),
        retrying throttled or failed sub-requests on their own ``Retry-After``.
        Returns the final result per path."""
        results: dict[str, BatchResult] = {}
        for start in range(0, len(paths), self._s.batch_size):
            pending = list(dict.fromkeys(paths[start : start + self._s.batch_size]))
            attempt = 0
            while pending:
                attempt += 1
                requests_ = [{"id": str(i), "method": "GET", "url": p} for i, p in enumerate(pending)]
                body, _ = self._send("POST", f"{self._s.graph_root}/{version}/$batch", body={"requests": requests_})
                responses = body.get("responses") if isinstance(body, dict) else None
                if not isinstance(responses, list):
                    raise GraphGaveUp("/$batch", None, "MalformedBatch", "no 'responses' list")
                retry: list[str] = []
                waits: list[float] = []
                by_id = {str(r.get("id")): r for r in responses if isinstance(r, dict)}
                for i, path in enumerate(pending):
                    r = by_id.get(str(i))
                    last = attempt >= self._s.max_attempts
                    if r is None:
                        if last:
                            results[path] = BatchResult(0, None)
                        else:
                            retry.append(path)
                        continue
                    status = int(r.get("status", 0))
                    headers = {str(k): str(v) for k, v in (r.get("headers") or {}).items()}
                    result = BatchResult(status, r.get("body"), headers)
                    if status in RETRYABLE and not last:
                        retry.append(path)
                        ra = _retry_after(headers)
                        if ra is not None:
                            waits.append(ra)
                    results[path] = result
                pending = retry
                if pending:
                    self._wait(
                        "/$batch", attempt, max(waits) if waits else None, f"{len(pending)} sub-requests to retry"
                    )
        return results


def _json_or_none(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def body_digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
