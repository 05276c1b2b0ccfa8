"""Incremental factor collection: with a previous snapshot of the same org, re-read the
factors of only those users whose factors may have changed since, and reuse the rest.

The factor list is one request per user (the budget that bounds a large org), while the
change signals cost a few pages: users whose ``lastUpdated`` is after the previous
collection (status and profile changes, which may reset factors) and the system log's
factor lifecycle events (``user.mfa.factor.*``: activate, deactivate, reset_all, update…;
``system.mfa.factor.*``) since then. A user is re-read when either names them, when the
previous snapshot did not hold them (new, or unreadable then), or when an event cannot
be tied to a user (then every user is re-read).

Everything else falls back to a full collection, with the reason recorded as an issue:
no previous snapshot, one that was incomplete, from another connector or another org,
older than the system log keeps events, or change signals that cannot be read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from auditor.interfaces import CollectContext
from auditor.model import Method, PageDigest, SourceIssue, SourceSnapshot
from connectors.okta import codes
from connectors.okta.client import FetchFailed, OktaHttp

# The snapshot records which org it came from as a digest of the org URL (no new model
# field needed, and nothing about the org is revealed beyond what the config holds).
ORG_ENDPOINT = "okta org (sha256 of the org URL)"
CONNECTOR = "okta"
# Okta keeps System Log events for 90 days: older baselines cannot be brought up to date.
LOG_RETENTION = timedelta(days=90)
FACTOR_EVENT_PREFIXES = ("user.mfa.factor.", "system.mfa.factor.")
LOG_FILTER = " or ".join(f'eventType sw "{p}"' for p in FACTOR_EVENT_PREFIXES)
LOG_PAGE_SIZE = 1000
# Issues that belong to one user's factor list: reused along with that list.
FACTOR_ISSUE_CODES = frozenset({codes.FACTOR_UNREADABLE, codes.FACTOR_UNKNOWN})

Pages = Callable[..., Awaitable[list[Any]]]


def org_digest(org_url: str) -> PageDigest:
    return PageDigest(ORG_ENDPOINT, hashlib.sha256(org_url.rstrip("/").encode("utf-8")).hexdigest(), 0)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True, slots=True)
class Baseline:
    """A previous snapshot fit to build on."""

    since: datetime
    methods: Mapping[str, tuple[Method, ...]]
    issues: Mapping[str, tuple[SourceIssue, ...]]


def baseline(previous: SourceSnapshot | None, org_url: str, now: datetime) -> Baseline | str:
    """The previous snapshot as a baseline, or the reason it cannot be one."""
    if previous is None:
        return "no previous snapshot"
    if previous.connector != CONNECTOR:
        return f"the previous snapshot came from connector {previous.connector!r}"
    if not previous.complete:
        return "the previous snapshot is incomplete"
    marker = next((d for d in previous.raw_digests if d.endpoint == ORG_ENDPOINT), None)
    if marker is None:
        return "the previous snapshot does not record which org it came from"
    if marker.sha256 != org_digest(org_url).sha256:
        return "the previous snapshot came from another org"
    if previous.collected_at > now:
        return "the previous snapshot is dated after this collection"
    if now - previous.collected_at > LOG_RETENTION:
        return "the previous snapshot is older than the System Log keeps events (90 days)"
    issues: dict[str, list[SourceIssue]] = {}
    for issue in previous.issues:
        if issue.record is not None and _is_factor_issue(issue):
            issues.setdefault(issue.record, []).append(issue)
    return Baseline(
        previous.collected_at,
        {a.id: a.methods for a in previous.accounts},
        {k: tuple(v) for k, v in issues.items()},
    )


def _is_factor_issue(issue: SourceIssue) -> bool:
    if issue.code in FACTOR_ISSUE_CODES:
        return True
    return issue.code == codes.SCHEMA_REJECTED and issue.message.startswith("factors of user ")


def event_users(events: Iterable[Any]) -> set[str] | None:
    """The users the factor events are about (their ``target`` of type User); None when
    an event names no user, so nobody's factors can be trusted unchanged."""
    out: set[str] = set()
    for event in events:
        targets = event.get("target") if isinstance(event, Mapping) else None
        users = [
            t["id"]
            for t in (targets if isinstance(targets, list) else ())
            if isinstance(t, Mapping) and t.get("type") == "User" and isinstance(t.get("id"), str)
        ]
        if not users:
            return None
        out.update(users)
    return out


@dataclass(frozen=True, slots=True)
class Reuse:
    """Factor lists carried over from the baseline, keyed by user id, and what to say."""

    methods: dict[str, tuple[Method, ...]]
    issues: tuple[SourceIssue, ...]


async def reusable(
    http: OktaHttp,
    pages: Pages,
    run: Any,
    ctx: CollectContext,
    org_url: str,
    page_size: int,
    user_ids: list[str],
) -> Reuse:
    """Which users' factors need no request this time. ``pages`` is the connector's
    paging helper (``OktaConnector._pages`` bound); ``run`` its per-collection record."""
    if ctx.previous is None:
        return Reuse({}, ())  # a first collection: nothing to fall back from, nothing to say
    base = baseline(ctx.previous, org_url, ctx.now)
    if isinstance(base, str):
        return _full(base)
    c = http.client
    since, until = _iso(base.since), _iso(ctx.now)
    flt = f'lastUpdated gt "{since}"'
    try:
        updated = await pages(
            http,
            run,
            "users",
            "users updated since the previous snapshot",
            lambda after: partial(c.list_users, limit=page_size, after=after, filter=flt),
            lambda after: f"/api/v1/users?limit={page_size}&filter={flt}" + (f"&after={after}" if after else ""),
            "User",
        )
        events = await pages(
            http,
            run,
            "logs",
            "factor events since the previous snapshot",
            lambda after: partial(
                c.list_log_events, since=since, until=until, filter=LOG_FILTER, limit=LOG_PAGE_SIZE, after=after
            ),
            lambda after: (
                f"/api/v1/logs?since={since}&until={until}&filter={LOG_FILTER}&limit={LOG_PAGE_SIZE}"
                + (f"&after={after}" if after else "")
            ),
            "LogEvent",
        )
    except FetchFailed as exc:
        return _full(f"the change signals could not be read ({exc})")
    touched = event_users(events)
    if touched is None:
        return _full("a factor event in the System Log names no user")
    touched.update(str(u["id"]) for u in updated if isinstance(u, Mapping) and isinstance(u.get("id"), str))
    keep = [u for u in user_ids if u not in touched and u in base.methods]
    methods = {u: base.methods[u] for u in keep}
    issues = [i for u in keep for i in base.issues.get(u, ())]
    note = SourceIssue(
        codes.INCREMENTAL,
        f"factors re-read for {len(user_ids) - len(keep)} of {len(user_ids)} users (changed since the previous "
        f"snapshot of {since}: {len(updated)} updated, {len(events)} factor events, or not in it); "
        f"the other {len(keep)} reused from that snapshot",
    )
    return Reuse(methods, (note, *issues))


def _full(reason: str) -> Reuse:
    return Reuse({}, (SourceIssue(codes.INCREMENTAL, f"full factor collection: {reason}"),))


__all__ = ["ORG_ENDPOINT", "Baseline", "Reuse", "baseline", "event_users", "org_digest", "reusable"]
