"""Reading the tenant's users: the search listing below 1,000 users, the users-export
job otherwise (the listing cannot page past its first 1,000 results). Export lines are
parsed as they are inflated, so the file is never held whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from auth0.management.types import CreateExportUsersFields

from auditor.interfaces import AuthenticationError, SourceUnavailable
from auditor.model import SourceIssue, SourceName, UnreadableRecord
from connectors.auth0 import parse
from connectors.auth0.client import FetchFailed
from connectors.auth0.fetch import Digest, Reader
from connectors.auth0.settings import SEARCH_CAP, Auth0Settings


@dataclass(frozen=True, slots=True)
class Users:
    users: list[parse.Auth0User]
    unreadable: list[UnreadableRecord]
    path: str  # "search" or "export"
    total: int | None  # what the search listing said the tenant holds


class _Sink:
    """Parses and digests records as they come, deduplicated by user id."""

    def __init__(self, source: SourceName, path: str) -> None:
        self.source, self.path = source, path
        self.digest = Digest(f"users ({path})")
        self.users: dict[str, parse.Auth0User] = {}
        self.unreadable: list[UnreadableRecord] = []

    def add(self, number: int, raw: Any) -> None:
        if raw is None:
            self.unreadable.append(UnreadableRecord(f"{self.path} record {number}", "not valid JSON"))
            return
        self.digest.add(raw)
        parsed = parse.parse_user(raw, self.source, f"{self.path} record {number}")
        if isinstance(parsed, UnreadableRecord):
            self.unreadable.append(parsed)
        else:
            self.users.setdefault(parsed.account.id, parsed)


def read_users(
    reader: Reader,
    settings: Auth0Settings,
    source: SourceName,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> Users:
    run, sdk, via = reader.run, reader.sdk, settings.users_via
    fields = ",".join(parse.USER_FIELDS)

    def fetch(n: int) -> Any:
        return sdk.users.list(
            page=n, per_page=settings.page_size, include_totals=True, fields=fields, include_fields=True
        )

    total: int | None = None
    first: Any = None
    try:
        if via != "export":
            first = reader.json("users page 0", lambda: fetch(0))
            raw_total = first.get("total") if isinstance(first, dict) else None
            total = int(raw_total) if isinstance(raw_total, int | float) else None
    except FetchFailed as exc:
        if exc.permission_denied or exc.status == 401:
            raise AuthenticationError(f"Auth0 refused to list users: {exc} (run `mfa-audit validate`)") from exc
        raise SourceUnavailable(f"Auth0 users could not be listed: {exc}") from exc
    # A total of exactly 1,000 may be the listing's cap: only the export is sure.
    if via == "export" or (via == "auto" and total is not None and total >= SEARCH_CAP):
        sink = _Sink(source, "export")
        try:
            for number, raw in _export(reader, settings, sleep=sleep, clock=clock):
                sink.add(number, raw)
        except FetchFailed as exc:
            run.incomplete("auth0.users_export_failed", f"{exc}: the users could not be read in full")
        told = f"; {total} users: the search listing stops at {SEARCH_CAP}" if total is not None else ""
        run.issues.append(
            SourceIssue(
                "auth0.users_path",
                f"users read through a users-export job (POST /api/v2/jobs/users-exports, gzip NDJSON{told})",
            )
        )
    else:
        sink = _Sink(source, "search")
        if total is not None and total > SEARCH_CAP:
            run.incomplete(
                "auth0.users_over_search_cap",
                f"{total} users but users_via is 'search': the listing stops at {SEARCH_CAP}; "
                "set users_via to auto or export",
            )
        raws: list[Any] = []
        try:
            reader.listing("users", "users", fetch, first, into=raws, cap=SEARCH_CAP)
        except FetchFailed as exc:
            run.incomplete("auth0.users_incomplete", str(exc))
        for i, raw in enumerate(raws):
            sink.add(i + 1, raw)
        run.issues.append(
            SourceIssue(
                "auth0.users_path",
                f"users read through the search listing (GET /api/v2/users: {total} users, fewer than {SEARCH_CAP})",
            )
        )
    run.digests.append(sink.digest.page())
    received = len(sink.users) + len(sink.unreadable)
    if total is not None and received < total and run.complete:
        run.incomplete("auth0.users_short", f"the tenant reports {total} users, {received} were read ({sink.path})")
    return Users(list(sink.users.values()), sink.unreadable, sink.path, total)


def _export(
    reader: Reader, settings: Auth0Settings, *, sleep: Callable[[float], None], clock: Callable[[], float]
) -> Iterator[tuple[int, Any]]:
    """(line number, record or None when broken) of a users-export job's file."""
    sdk, run = reader.sdk, reader.run
    fields = [CreateExportUsersFields(name=f) for f in parse.USER_FIELDS]
    job = reader.json("users export job", lambda: sdk.jobs.users_exports.create(format="json", fields=fields))
    jid = str(job.get("id") or "") if isinstance(job, dict) else ""
    if not jid:
        raise FetchFailed("users export job", 201, "malformed", "the job has no id", 1)
    deadline = clock() + settings.export_timeout_seconds
    while True:
        state = reader.json(f"users export job {jid}", lambda: sdk.jobs.get(jid))
        status = state.get("status") if isinstance(state, dict) else None
        location = state.get("location") if isinstance(state, dict) else None
        if status == "completed" and isinstance(location, str) and location:
            break
        if status == "failed":
            raise FetchFailed("users export job", 200, "failed", str(state.get("status_details") or "")[:200], 1)
        if clock() >= deadline:
            raise FetchFailed(
                "users export job", 200, "timeout", f"not done after {settings.export_timeout_seconds:g} s", 1
            )
        sleep(settings.export_poll_seconds)
    for number, value in reader.http.export_lines(location):
        if value is ...:
            continue
        if value is not None and not isinstance(value, dict):
            run.issues.append(SourceIssue("auth0.export_line_unreadable", f"export line {number}: not an object"))
            value = None
        yield number, value
