"""What every read of one collection shares: the run's issues, page digests and facts,
and a reader that turns one SDK call into the JSON Auth0 sent (falling back to the raw
JSON when the SDK's model rejects a well-formed answer) and walks offset listings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from auditor.model import Fact, FactRead, PageDigest, SourceIssue
from connectors.auth0.client import Auth0Http, FetchFailed, SchemaRejected


def dump(obj: Any) -> Any:
    """An SDK model as the JSON Auth0 sent (dates as ISO strings)."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    return obj


class Digest:
    """SHA-256 over records fed one at a time (canonical JSON, one per line)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._h = hashlib.sha256()
        self.records = 0

    def add(self, item: Any) -> None:
        self._h.update(json.dumps(item, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8") + b"\n")
        self.records += 1

    def page(self) -> PageDigest:
        return PageDigest(self.endpoint, self._h.hexdigest(), self.records)


def digest(endpoint: str, items: Iterable[Any]) -> PageDigest:
    d = Digest(endpoint)
    for item in items:
        d.add(item)
    return d.page()


@dataclass(slots=True)
class Run:
    issues: list[SourceIssue] = field(default_factory=list)
    digests: list[PageDigest] = field(default_factory=list)
    facts: dict[Fact, FactRead] = field(default_factory=dict)

    def incomplete(self, code: str, message: str) -> None:
        self.issues.append(SourceIssue(code, message, incomplete=True))

    def fact(self, fact: Fact, read: bool, reason: str = "") -> None:
        self.facts[fact] = FactRead(fact, read, reason)

    @property
    def complete(self) -> bool:
        return not any(i.incomplete for i in self.issues)


class Reader:
    def __init__(self, http: Auth0Http, run: Run) -> None:
        self.http, self.run = http, run
        self.sdk = http.sdk

    def json(self, what: str, fn: Callable[[], Any]) -> Any:
        """One SDK call's answer as the JSON Auth0 sent; when the SDK's model rejects a
        well-formed answer, that JSON read without it (and an issue says so)."""
        try:
            result = self.http.call(what, fn)
        except SchemaRejected as exc:
            self.run.issues.append(SourceIssue("auth0.schema_rejected", f"{exc}; read as raw JSON instead"))
            return exc.body
        if hasattr(result, "response") and hasattr(result, "items"):  # a pager: its page as sent
            return dump(result.response)
        if isinstance(result, list):
            return [dump(x) for x in result]
        return dump(result)

    def listing(
        self,
        what: str,
        key: str,
        fetch: Callable[[int], Any],
        first: Any = None,
        *,
        into: list[Any] | None = None,
        cap: int | None = None,
    ) -> tuple[list[Any], int | None]:
        """Every page of an offset listing (``include_totals``): pages until ``total``
        records (or ``cap``) or an empty page. Records go to ``into`` as they come, so a
        caller keeps what was read before a failure."""
        items: list[Any] = [] if into is None else into
        n, total = 0, None
        while True:
            body = first if n == 0 and first is not None else self.json(f"{what} page {n}", partial(fetch, n))
            page = body.get(key) if isinstance(body, dict) else body
            if not isinstance(page, list):
                raise FetchFailed(what, 200, "malformed", f"no {key} list in the answer", 1)
            raw_total = body.get("total") if isinstance(body, dict) else None
            total = int(raw_total) if isinstance(raw_total, int | float) else None
            items.extend(page)
            n += 1
            if total is None or len(items) >= min(total, cap or total) or not page:
                return items, total
