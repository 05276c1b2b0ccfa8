"""The Auth0 connector: fetch (auth0-python, paced, bounded retries) → parse → enforcement.

Read-only. Users come from the search listing when the tenant has at most 1,000 (the
listing cannot page further), otherwise from a users-export job (created, polled,
then its gzip NDJSON file streamed); the snapshot says which. Each user's
authentication methods are one request per user: the cost driver, spread over
``max_concurrency`` workers and paced at the tenant's rate. A listing that cannot be
read after retries makes the source incomplete with an issue naming it; a user whose
methods cannot be read is an unreadable record, never an account without methods.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from auth0.management.types import CreateExportUsersFields

from auditor.interfaces import AuthenticationError, CollectContext, PermissionCheck, SourceUnavailable
from auditor.model import (
    Access,
    AccessVia,
    Fact,
    FactRead,
    Method,
    MethodAllowance,
    PageDigest,
    Policy,
    Portal,
    SignIn,
    SourceIssue,
    SourceName,
    SourceSnapshot,
    UnreadableRecord,
)
from connectors.auth0 import enforcement, parse
from connectors.auth0.client import Auth0Http, FetchFailed, SchemaRejected
from connectors.auth0.pacing import PacerStats
from connectors.auth0.settings import (
    ACTIONS,
    ALL_SCOPES,
    CLIENTS,
    FACTORS,
    LOGS,
    METHODS,
    MFA_POLICIES,
    SEARCH_CAP,
    USERS,
    Auth0Settings,
    ScopeNeed,
    parse_settings,
)

CONNECTOR_NAME = "auth0"
LOG_TAKE = 100  # the checkpoint listing's largest take
POST_LOGIN = "post-login"


def _dump(obj: Any) -> Any:
    """An SDK model as the JSON Auth0 sent (dates as ISO strings)."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    return obj


def _digest(endpoint: str, items: Iterable[Any]) -> PageDigest:
    h = hashlib.sha256()
    n = 0
    for item in items:
        h.update(json.dumps(item, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8") + b"\n")
        n += 1
    return PageDigest(endpoint, h.hexdigest(), n)


@dataclass(slots=True)
class _Run:
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


@dataclass(frozen=True, slots=True)
class _Users:
    users: list[parse.Auth0User]
    unreadable: list[UnreadableRecord]
    path: str  # "search" or "export"
    total: int | None


class Auth0Connector:
    """Entry point ``auth0``. ``retry_delay`` (seconds before the first retry, doubling),
    ``sleep`` and ``clock`` are injectable."""

    def __init__(
        self,
        source: str,
        settings: Mapping[str, Any],
        base_dir: Path,
        *,
        retry_delay: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = SourceName(source)
        self._settings: Auth0Settings = parse_settings(settings, base_dir)
        self._retry_delay, self._sleep, self._clock = retry_delay, sleep, clock
        self.last_stats = PacerStats()
        self.last_users_path = ""

    def __repr__(self) -> str:
        return f"Auth0Connector(source={self._source!r}, domain={self._settings.domain!r})"

    def _http(self) -> Auth0Http:
        return Auth0Http(self._settings, retry_delay=self._retry_delay, sleep=self._sleep, clock=self._clock)

    @staticmethod
    def _json(http: Auth0Http, run: _Run, what: str, fn: Callable[[], Any]) -> Any:
        """One SDK call's answer as the JSON Auth0 sent; when the SDK's model rejects a
        well-formed answer, that JSON read without it (and an issue says so)."""
        try:
            result = http.call(what, fn)
        except SchemaRejected as exc:
            run.issues.append(SourceIssue("auth0.schema_rejected", f"{exc}; read as raw JSON instead"))
            return exc.body
        if hasattr(result, "response") and hasattr(result, "items"):  # a pager: its page as sent
            return _dump(result.response)
        if isinstance(result, list):
            return [_dump(x) for x in result]
        return _dump(result)

    def _listing(
        self,
        http: Auth0Http,
        run: _Run,
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
            body = (
                first if n == 0 and first is not None else self._json(http, run, f"{what} page {n}", partial(fetch, n))
            )
            page = body.get(key) if isinstance(body, dict) else body
            if not isinstance(page, list):
                raise FetchFailed(what, 200, "malformed", f"no {key} list in the answer", 1)
            raw_total = body.get("total") if isinstance(body, dict) else None
            total = int(raw_total) if isinstance(raw_total, int | float) else None
            items.extend(page)
            n += 1
            if total is None or len(items) >= min(total, cap or total) or not page:
                return items, total

    # --- collect -----------------------------------------------------------------------

    def collect(self, ctx: CollectContext) -> SourceSnapshot:
        http = self._http()
        try:
            return self._collect(http, ctx)
        finally:
            self.last_stats = http.pacer.stats
            http.close()

    def _collect(self, http: Auth0Http, ctx: CollectContext) -> SourceSnapshot:
        run = _Run()
        http.token()  # credentials first: a refusal makes the source unavailable, clearly
        ctx.logger.info("auth0 %s: reading users", ctx.source)
        found = self._users(http, run)
        self.last_users_path = found.path
        ctx.logger.info("auth0 %s: reading the methods of %d users", ctx.source, len(found.users))
        methods, failed = self._methods(http, run, found.users)
        portals = self._clients(http, run)
        policies, allowances = self._enforcement(http, run, portals)
        sign_ins: tuple[SignIn, ...] = ()
        collected = False
        if ctx.collect_sign_ins:
            sign_ins, collected = self._sign_ins(http, run, ctx)
        else:
            run.fact(Fact.SIGN_IN_LOG, False, "collect_sign_ins is off for this source")
        accounts = []
        unreadable = list(found.unreadable)
        for user in found.users:
            acct = user.account
            if acct.id in failed:
                unreadable.append(UnreadableRecord(acct.id, failed[acct.id]))
                continue
            accounts.append(replace(acct, methods=methods.get(acct.id, ())))
        accounts.sort(key=lambda a: a.id)
        # Auth0 has no per-user assignment: a user of the tenant may sign in to any application.
        access = tuple(Access(a.id, p.id, AccessVia.EVERYONE) for a in accounts for p in portals)
        run.fact(Fact.ACCOUNTS, True)
        run.fact(Fact.SIGN_IN_TIMES, True)
        run.fact(
            Fact.ACCESS,
            False,
            "Auth0 has no per-user application assignment: every user is taken to reach every application "
            "(which connections each application enables is not read)",
        )
        run.fact(Fact.ROLES, False, "customer identities: tenant administrators are dashboard members, not users")
        run.fact(Fact.LEGACY_AUTH, False, "per-application grant types (e.g. the password grant) are not read")
        expected = {"accounts": found.total} if found.total is not None else {}
        return SourceSnapshot(
            source=self._source,
            connector=CONNECTOR_NAME,
            collected_at=ctx.now,
            complete=run.complete,
            accounts=tuple(accounts),
            portals=tuple(portals),
            access=access,
            policies=policies,
            sign_ins=sign_ins,
            issues=tuple(run.issues),
            unreadable=tuple(unreadable),
            expected_counts=expected,
            raw_digests=tuple(run.digests),
            sign_ins_collected=collected,
            facts=tuple(run.facts[f] for f in Fact if f in run.facts),
            method_policy=allowances,
        )

    # --- users -------------------------------------------------------------------------

    def _users(self, http: Auth0Http, run: _Run) -> _Users:
        sdk, via = http.sdk, self._settings.users_via
        fields = ",".join(parse.USER_FIELDS)
        size = self._settings.page_size

        def fetch(n: int) -> Any:
            return sdk.users.list(page=n, per_page=size, include_totals=True, fields=fields, include_fields=True)

        total: int | None = None
        first: Any = None
        try:
            if via != "export":
                first = self._json(http, run, "users page 0", lambda: fetch(0))
                raw_total = first.get("total") if isinstance(first, dict) else None
                total = int(raw_total) if isinstance(raw_total, int | float) else None
        except FetchFailed as exc:
            if exc.permission_denied or exc.status == 401:
                raise AuthenticationError(f"Auth0 refused to list users: {exc} (run `mfa-audit validate`)") from exc
            raise SourceUnavailable(f"Auth0 users could not be listed: {exc}") from exc
        # A total of exactly 1,000 may be the listing's cap: only the export is sure.
        use_export = via == "export" or (via == "auto" and total is not None and total >= SEARCH_CAP)
        raws: list[Any] = []
        if not use_export:
            if total is not None and total > SEARCH_CAP:
                run.incomplete(
                    "auth0.users_over_search_cap",
                    f"{total} users but users_via is 'search': the listing stops at {SEARCH_CAP}; "
                    "set users_via to auto or export",
                )
            try:
                self._listing(http, run, "users", "users", fetch, first, into=raws, cap=SEARCH_CAP)
            except FetchFailed as exc:
                run.incomplete("auth0.users_incomplete", str(exc))
            run.issues.append(
                SourceIssue(
                    "auth0.users_path",
                    f"users read through the search listing (GET /api/v2/users: {total} users, "
                    f"fewer than {SEARCH_CAP})",
                )
            )
            path = "search"
        else:
            try:
                raws = list(self._export(http, run))
            except FetchFailed as exc:
                run.incomplete("auth0.users_export_failed", f"{exc}: the users could not be read")
                raws = []
            run.issues.append(
                SourceIssue(
                    "auth0.users_path",
                    "users read through a users-export job (POST /api/v2/jobs/users-exports, gzip NDJSON"
                    + (f"; {total} users: the search listing stops at {SEARCH_CAP}" if total is not None else "")
                    + ")",
                )
            )
            path = "export"
        run.digests.append(_digest(f"users ({path})", raws))
        users: dict[str, parse.Auth0User] = {}
        unreadable: list[UnreadableRecord] = []
        for i, raw in enumerate(raws):
            if raw is None:
                unreadable.append(UnreadableRecord(f"export line {i + 1}", "not valid JSON"))
                continue
            parsed = parse.parse_user(raw, self._source, f"{path} record {i + 1}")
            if isinstance(parsed, UnreadableRecord):
                unreadable.append(parsed)
            else:
                users.setdefault(parsed.account.id, parsed)
        received = len(users) + len(unreadable)
        if total is not None and received < total and run.complete:
            run.incomplete("auth0.users_short", f"the tenant reports {total} users, {received} were read ({path})")
        return _Users(list(users.values()), unreadable, path, total)

    def _export(self, http: Auth0Http, run: _Run) -> Iterable[Any]:
        s, sdk = self._settings, http.sdk
        fields = [CreateExportUsersFields(name=f) for f in parse.USER_FIELDS]
        job = self._json(
            http, run, "users export job", lambda: sdk.jobs.users_exports.create(format="json", fields=fields)
        )
        jid = str(job.get("id") or "") if isinstance(job, dict) else ""
        if not jid:
            raise FetchFailed("users export job", 201, "malformed", "the job has no id", 1)
        deadline = self._clock() + s.export_timeout_seconds
        while True:
            state = self._json(http, run, f"users export job {jid}", lambda: sdk.jobs.get(jid))
            status = state.get("status") if isinstance(state, dict) else None
            location = state.get("location") if isinstance(state, dict) else None
            if status == "completed" and isinstance(location, str) and location:
                break
            if status == "failed":
                raise FetchFailed("users export job", 200, "failed", str(state.get("status_details") or "")[:200], 1)
            if self._clock() >= deadline:
                raise FetchFailed(
                    "users export job", 200, "timeout", f"not done after {s.export_timeout_seconds:g} s", 1
                )
            self._sleep(s.export_poll_seconds)
        out = []
        for number, value in http.export_lines(location):
            if value is ...:
                continue
            out.append(value if isinstance(value, dict) else None)
            if value is not None and not isinstance(value, dict):
                run.issues.append(SourceIssue("auth0.export_line_unreadable", f"export line {number}: not an object"))
        return out

    # --- methods -----------------------------------------------------------------------

    def _methods(
        self, http: Auth0Http, run: _Run, users: list[parse.Auth0User]
    ) -> tuple[dict[str, tuple[Method, ...]], dict[str, str]]:
        sdk = http.sdk
        methods: dict[str, tuple[Method, ...]] = {}
        failed: dict[str, str] = {}
        bodies: dict[str, list[Any]] = {}
        issues: list[SourceIssue] = []
        skipped = 0
        asked = []
        for user in users:
            if self._settings.multifactor_prefilter and user.multifactor == ():
                methods[user.account.id] = ()
                skipped += 1
            else:
                asked.append(user.account.id)

        def one(uid: str) -> None:
            try:
                items, _ = self._listing(
                    http,
                    run,
                    f"authentication methods of user {uid}",
                    "authenticators",
                    lambda n: sdk.users.authentication_methods.list(uid, page=n, per_page=100, include_totals=True),
                )
            except FetchFailed as exc:
                failed[uid] = f"authentication methods not read: {exc}"
                return
            bodies[uid] = items
            found, problems = parse.parse_methods(items, uid)
            methods[uid] = found
            issues.extend(problems)

        with ThreadPoolExecutor(max_workers=self._settings.max_concurrency, thread_name_prefix="auth0-methods") as pool:
            list(pool.map(one, asked))
        run.issues.extend(issues)
        run.digests.append(
            _digest("authentication methods (all users, by id)", ([u, bodies[u]] for u in sorted(bodies)))
        )
        if skipped:
            run.issues.append(
                SourceIssue(
                    "auth0.methods_prefiltered",
                    f"{skipped} user(s) whose profile lists no multifactor enrolment were not asked for their "
                    "authentication methods (multifactor_prefilter): a passkey or e-mail method of theirs is not seen",
                )
            )
        if failed:
            first = ", ".join(sorted(failed)[:5])
            run.incomplete(
                "auth0.methods_unreadable",
                f"the authentication methods of {len(failed)} user(s) could not be read (first: {first}); "
                "they are listed as unreadable",
            )
        run.fact(Fact.METHODS, True)
        return methods, failed

    # --- clients -----------------------------------------------------------------------

    def _clients(self, http: Auth0Http, run: _Run) -> list[Portal]:
        sdk = http.sdk
        try:
            raws, _ = self._listing(
                http,
                run,
                "clients",
                "clients",
                lambda n: sdk.clients.list(
                    page=n,
                    per_page=self._settings.page_size,
                    include_totals=True,
                    fields="client_id,name,app_type,global",
                    include_fields=True,
                ),
            )
        except FetchFailed as exc:
            run.incomplete("auth0.clients_unreadable", f"{exc}: portals and access unknown")
            return []
        run.digests.append(_digest("clients", raws))
        portals = []
        for raw in raws:
            portal, note = parse.parse_client(raw, self._source)
            if note:
                run.issues.append(SourceIssue("auth0.client_type", note))
            if portal is not None:
                portals.append(portal)
        return sorted(portals, key=lambda p: p.id)

    # --- enforcement -------------------------------------------------------------------

    def _enforcement(
        self, http: Auth0Http, run: _Run, portals: list[Portal]
    ) -> tuple[tuple[Policy, ...], tuple[MethodAllowance, ...]]:
        sdk = http.sdk
        allowances: tuple[MethodAllowance, ...] = ()
        try:
            factors = self._json(http, run, "guardian factors", lambda: sdk.guardian.factors.list())
            if not isinstance(factors, list) or not all(isinstance(f, dict) for f in factors):
                raise FetchFailed("guardian factors", 200, "malformed", "not a list of factors", 1)
            run.digests.append(_digest("guardian factors", factors))
            allowances, issues = enforcement.method_policy(factors)
            run.issues.extend(issues)
            run.fact(Fact.METHODS_POLICY, True)
        except FetchFailed as exc:
            run.issues.append(SourceIssue("auth0.factors_unreadable", f"{exc}: which factors are enabled is not known"))
            run.fact(Fact.METHODS_POLICY, False, f"GET /guardian/factors failed: {exc.code or exc.status}")
        out: list[Policy] = []
        policies_read = True
        try:
            values = self._json(http, run, "guardian policies", lambda: sdk.guardian.policies.list())
            if not isinstance(values, list):
                raise FetchFailed("guardian policies", 200, "malformed", "not a list", 1)
            run.digests.append(_digest("guardian policies", values))
            tenant, issues = enforcement.tenant_policies(values, enforcement.demanded(allowances))
            out.extend(tenant)
            run.issues.extend(issues)
        except FetchFailed as exc:
            run.incomplete("auth0.mfa_policy_unreadable", f"{exc}: the tenant MFA policy is unknown")
            policies_read = False
        try:
            out.extend(self._actions(http, run, portals, allowances))
        except FetchFailed as exc:
            run.incomplete(
                "auth0.actions_unreadable", f"{exc}: post-login Actions may enforce MFA: enforcement unknown"
            )
            policies_read = False
        run.fact(Fact.POLICIES, policies_read, "" if policies_read else "the MFA policy or the Actions were not read")
        return tuple(out), allowances

    def _actions(
        self, http: Auth0Http, run: _Run, portals: list[Portal], allowances: tuple[MethodAllowance, ...]
    ) -> list[Policy]:
        sdk = http.sdk
        bindings, _ = self._listing(
            http,
            run,
            "post-login bindings",
            "bindings",
            lambda n: sdk.actions.triggers.bindings.list(POST_LOGIN, page=n, per_page=50),
        )
        run.digests.append(_digest("post-login bindings", bindings))
        names = {p.name: str(p.id) for p in portals}
        out: list[Policy] = []
        for binding in bindings:
            action = binding.get("action") if isinstance(binding, dict) else None
            aid = action.get("id") if isinstance(action, dict) else None
            if not isinstance(aid, str):
                run.incomplete("auth0.action_unreadable", "a post-login binding names no action id")
                continue
            detail = self._json(http, run, f"action {aid}", partial(sdk.actions.get, aid))
            if not isinstance(detail, dict):
                raise FetchFailed(f"action {aid}", 200, "malformed", "not an object", 1)
            name = str(detail.get("name") or binding.get("display_name") or aid)
            deployed = detail.get("deployed_version") or {}
            code = deployed.get("code") if isinstance(deployed, Mapping) else None
            if not isinstance(code, str):
                code = detail.get("code")
                run.issues.append(
                    SourceIssue(
                        "auth0.action_draft_code", f"action {name!r} ({aid}): no deployed version; read its draft"
                    )
                )
            run.digests.append(_digest(f"action {aid}", [code]))
            reading = enforcement.read_action(code if isinstance(code, str) else "", names)
            if reading.kind == "enforce":
                demand = enforcement.demanded(allowances, reading.accepted)
                out.append(enforcement.action_policy(aid, name, reading, demand))
            elif reading.kind == "unknown":
                run.incomplete(
                    "auth0.action_not_read_statically",
                    f"post-login action {name!r} ({aid}) calls the multifactor API in a way the connector cannot read "
                    f"statically ({reading.reason}): MFA on the applications it may touch is unknown, never enforced",
                )
        return out

    # --- sign-ins ----------------------------------------------------------------------

    def _sign_ins(self, http: Auth0Http, run: _Run, ctx: CollectContext) -> tuple[tuple[SignIn, ...], bool]:
        """The period's events by checkpoint: one search finds the first event of the
        period (oldest first), then ``from``/``take`` pages follow the log in order (the
        search listing stops at 1,000 results, the checkpoint listing does not)."""
        start = datetime.combine(ctx.period_start, datetime.min.time(), UTC)
        end = min(datetime.combine(ctx.period_end + timedelta(days=1), datetime.min.time(), UTC), ctx.now)
        iso = start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        events: list[parse.LogEvent] = []
        raws: list[Any] = []
        try:
            first = http.raw_get(
                "logs (first of the period)",
                "logs",
                {"q": f"date:[{iso} TO *]", "sort": "date:1", "per_page": 1, "page": 0},
            )
            page = first if isinstance(first, list) else []
            seen: set[str] = set()
            while page:
                last_id = None
                for raw in page:
                    raws.append(raw)
                    try:
                        event = parse.parse_log(raw)
                    except parse.ParseError as exc:
                        run.issues.append(SourceIssue("auth0.log_event_unreadable", str(exc)))
                        continue
                    last_id = event.log_id
                    if event.log_id not in seen:
                        seen.add(event.log_id)
                        events.append(event)
                if last_id is None or any(e.time >= end for e in events[-len(page) :]):
                    break
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
        run.digests.append(_digest("logs", raws))
        if events and min(e.time for e in events) > start + timedelta(days=1):
            run.issues.append(
                SourceIssue(
                    "auth0.logs_retention",
                    f"the tenant's logs start at {min(e.time for e in events):%Y-%m-%d}, after the period's start "
                    "(log retention depends on the plan): earlier sign-ins are not seen",
                )
            )
        found = parse.sign_ins(e for e in events if start <= e.time < end)
        run.fact(Fact.SIGN_IN_LOG, True)
        return tuple(sorted(found, key=lambda s: (s.time, s.account_id))), True

    # --- validate ----------------------------------------------------------------------

    def check_access(self) -> tuple[PermissionCheck, ...]:
        http = self._http()
        try:
            return self._check_access(http)
        finally:
            http.close()

    def _check_access(self, http: Auth0Http) -> tuple[PermissionCheck, ...]:
        name = f"machine-to-machine application {self._settings.client_id}"
        try:
            http.token()
        except AuthenticationError as exc:
            return (PermissionCheck(name, "obtain a Management API token (client credentials)", False, str(exc)),)
        checks = [PermissionCheck(name, "obtain a Management API token (client credentials)", True)]
        granted = http.granted
        writes = sorted(s for s in granted if not s.startswith("read:"))
        checks.append(
            PermissionCheck(
                "read-only grant",
                "the application is granted read scopes only",
                not writes,
                f"also granted: {', '.join(writes[:5])}" if writes else "",
            )
        )
        sdk = http.sdk
        first_user: list[str] = []

        def users() -> None:
            pager = sdk.users.list(page=0, per_page=1, include_totals=True, fields="user_id", include_fields=True)
            first_user.extend(str(u.user_id) for u in pager.items or () if u.user_id)

        def methods() -> None:
            if first_user:
                sdk.users.authentication_methods.list(first_user[0], page=0, per_page=1)

        probes: dict[str, Callable[[], Any]] = {
            USERS.scope: users,
            METHODS.scope: methods,
            FACTORS.scope: lambda: sdk.guardian.factors.list(),
            MFA_POLICIES.scope: lambda: sdk.guardian.policies.list(),
            CLIENTS.scope: lambda: sdk.clients.list(page=0, per_page=1, fields="client_id", include_fields=True),
            ACTIONS.scope: lambda: sdk.actions.triggers.bindings.list(POST_LOGIN, page=0, per_page=1),
            LOGS.scope: lambda: sdk.logs.list(page=0, per_page=1, include_totals=True),
        }
        checks.extend(self._probe(http, n, probes[n.scope], granted, bool(first_user)) for n in ALL_SCOPES)
        return tuple(checks)

    @staticmethod
    def _probe(
        http: Auth0Http, need: ScopeNeed, probe: Callable[[], Any], granted: frozenset[str], have_user: bool
    ) -> PermissionCheck:
        listed = need.scope in granted
        try:
            http.call(f"{need.scope} probe", probe)
        except SchemaRejected:
            pass  # an answer came: the scope was accepted (its shape is collect's business)
        except FetchFailed as exc:
            if exc.permission_denied:
                return PermissionCheck(need.scope, need.purpose, False, f"refused: {exc.detail}", need.optional)
            return PermissionCheck(need.scope, need.purpose, None, f"not checked: {exc}", need.optional)
        if need is METHODS and not have_user:
            detail = "no user to probe with" + ("" if listed else "; not in the token's scopes")
            return PermissionCheck(need.scope, need.purpose, True if listed else None, detail, need.optional)
        if not listed:
            return PermissionCheck(
                need.scope, need.purpose, None, "the probe passed but the token does not list the scope", need.optional
            )
        return PermissionCheck(need.scope, need.purpose, True, "", need.optional)


__all__ = ["CONNECTOR_NAME", "Auth0Connector"]
