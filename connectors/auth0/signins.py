"""The period's sign-ins from the tenant log. One search finds the first event of the
period (oldest first); then checkpoint pages (``from=<log_id>&take=100``) follow the log
in order: the search listing stops at 1,000 results, the checkpoint listing does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auditor.interfaces import CollectContext
from auditor.model import Fact, SignIn, SourceIssue
from connectors.auth0 import parse
from connectors.auth0.client import FetchFailed
from connectors.auth0.fetch import Digest, Reader

LOG_TAKE = 100  # the checkpoint listing's largest take
KEPT = frozenset({parse.LOGIN_OK}) | parse.MFA_OK  # the only event types a sign-in is made of


def read_sign_ins(reader: Reader, ctx: CollectContext) -> tuple[tuple[SignIn, ...], bool]:
    run, http = reader.run, reader.http
    start = datetime.combine(ctx.period_start, datetime.min.time(), UTC)
    end = min(datetime.combine(ctx.period_end + timedelta(days=1), datetime.min.time(), UTC), ctx.now)
    iso = start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    events: list[parse.LogEvent] = []
    digest = Digest("logs")
    first_seen: datetime | None = None
    try:
        page = http.raw_get(
            "logs (first of the period)",
            "logs",
            {"q": f"date:[{iso} TO *]", "sort": "date:1", "per_page": 1, "page": 0},
        )
        page = page if isinstance(page, list) else []
        checkpoint: str | None = None
        while page:
            last_id, past_end = None, False
            for raw in page:
                digest.add(raw)
                try:
                    event = parse.parse_log(raw)
                except parse.ParseError as exc:
                    run.issues.append(SourceIssue("auth0.log_event_unreadable", str(exc)))
                    continue
                last_id = event.log_id
                first_seen = event.time if first_seen is None else min(first_seen, event.time)
                past_end = past_end or event.time >= end
                if event.type in KEPT and start <= event.time < end:
                    events.append(event)
            if last_id is None or past_end:
                break
            if last_id == checkpoint:  # the log answered the same page again: what follows is unknown
                raise FetchFailed("logs", 200, "paging_loop", f"checkpoint {last_id} repeats", 1)
            checkpoint = last_id
            page = http.raw_get(f"logs from {last_id}", "logs", {"from": last_id, "take": LOG_TAKE})
            if not isinstance(page, list):
                raise FetchFailed("logs", 200, "malformed", "the checkpoint listing did not answer an array", 1)
    except FetchFailed as exc:
        if exc.permission_denied:
            run.issues.append(SourceIssue("auth0.logs_refused", f"sign-ins not read: {exc}"))
            run.fact(Fact.SIGN_IN_LOG, False, f"read:logs refused: {exc.detail}")
            return (), False
        run.incomplete("auth0.logs_incomplete", str(exc))
        run.fact(Fact.SIGN_IN_LOG, False, str(exc))
        return (), False
    run.digests.append(digest.page())
    if first_seen is not None and first_seen > start + timedelta(days=1):
        run.issues.append(
            SourceIssue(
                "auth0.logs_retention",
                f"the period's first log event is at {first_seen:%Y-%m-%d}: if the plan keeps logs for less "
                "than the period, earlier sign-ins are gone",
            )
        )
    run.fact(Fact.SIGN_IN_LOG, True)
    found = parse.sign_ins(events)
    return tuple(sorted(found, key=lambda s: (s.time, s.account_id))), True
