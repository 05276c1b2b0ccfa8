"""Long, known debt (STYLE.md): fetching with its paging, pacing and retries still shares
this module with the collection's orchestration; the next split is a ``fetch`` module,
as Keycloak's.

The Okta connector: fetch (SDK, Link paging, paced concurrency) → parse → policies.

Read-only: only GET requests reach Okta, plus the OAuth token request in service-app
mode. A listing that cannot be read after bounded retries makes the source incomplete
with an issue naming it; a user whose factors cannot be read is an unreadable record,
never an account without factors.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from auditor.interfaces import AuthenticationError, CollectContext, PermissionCheck
from auditor.model import (
    Access,
    AccessVia,
    AccountId,
    GroupId,
    Method,
    MethodAllowance,
    PageDigest,
    Policy,
    PortalId,
    RoleId,
    SignIn,
    SourceIssue,
    SourceName,
    SourceSnapshot,
    UnreadableRecord,
)
from connectors.okta import authenticators, codes, facts, incremental, parse, policies
from connectors.okta.client import FetchFailed, OktaHttp, Page, TokenRefused, isolated_client
from connectors.okta.pacing import FamilyStats, Pacer
from connectors.okta.settings import (
    ALL_SCOPES,
    APPS,
    AUTHENTICATORS,
    GROUPS,
    LOGS,
    POLICIES,
    ROLES,
    USERS,
    ZONES,
    OktaSettings,
    ScopeNeed,
    parse_settings,
)

CONNECTOR_NAME = "okta"
LOG_PAGE_SIZE = 1000
LOG_FILTER = f'eventType eq "{parse.SSO_EVENT}" or eventType eq "{parse.MFA_EVENT}"'
Call = Callable[..., Awaitable[Any]]


@dataclass(slots=True)
class _Run:
    source: SourceName
    issues: list[SourceIssue] = field(default_factory=list)
    digests: list[PageDigest] = field(default_factory=list)
    # The authenticator availability, when read (Identity Engine); else why not.
    method_policy: tuple[MethodAllowance, ...] = ()
    methods_policy_unread: str = facts.METHODS_POLICY_REASON

    def page(self, endpoint: str, page: Page) -> None:
        self.digests.append(PageDigest(endpoint, hashlib.sha256(page.body).hexdigest(), len(page.items)))
        for r in page.rejected:
            self.issues.append(
                SourceIssue(
                    codes.SCHEMA_REJECTED,
                    f"{endpoint}: the okta SDK's models rejected record {r.record} ({r.reason}); "
                    "that page was read as raw JSON instead",
                    r.record,
                )
            )

    def incomplete(self, code: str, message: str) -> None:
        self.issues.append(SourceIssue(code, message, incomplete=True))

    @property
    def complete(self) -> bool:
        return not any(i.incomplete for i in self.issues)


A = TypeVar("A")
B = TypeVar("B")


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both at once; if one fails, the other is cancelled and the failure raised as it is
    (not wrapped in an exception group: the pipeline maps connector errors by type)."""
    tasks = (asyncio.ensure_future(first), asyncio.ensure_future(second))
    try:
        a, b = await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return a, b


@dataclass(frozen=True, slots=True)
class _Directory:
    groups: dict[str, parse.OktaGroup]
    members: dict[str, list[str]]  # group id → user ids


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class OktaConnector:
    """Entry point ``okta``. ``retry_delay`` (seconds before the first retry of a 5xx or
    timeout, doubling) and ``clock`` (wall time for the pacer) are injectable."""

    def __init__(
        self,
        source: str,
        settings: Mapping[str, Any],
        base_dir: Path,
        *,
        retry_delay: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._source = SourceName(source)
        self._settings: OktaSettings = parse_settings(settings, base_dir)
        self._retry_delay = retry_delay
        self._clock = clock
        self.last_stats: dict[str, FamilyStats] = {}

    def __repr__(self) -> str:
        return f"OktaConnector(source={self._source!r}, org_url={self._settings.org_url!r})"

    # --- plumbing ----------------------------------------------------------------------

    def _http(self, scopes: tuple[str, ...] | None = None) -> tuple[OktaHttp, Pacer]:
        client, auth = isolated_client(self._settings, scopes)
        pacer = Pacer(self._clock)
        http = OktaHttp(client, auth, pacer, max_attempts=self._settings.max_attempts, retry_delay=self._retry_delay)
        return http, pacer

    async def _pages(
        self,
        http: OktaHttp,
        run: _Run,
        family: str,
        endpoint: str,
        call: Callable[[str | None], Call],
        raw_path: Callable[[str | None], str],
        model: str | None,
        limit: int | None = None,
    ) -> list[Any]:
        """Every page of a listing, following Link rel="next"; records deduplicated by id
        (a page re-read as raw JSON neither loses nor repeats anything).

        Okta gives no total to check a listing against, so a *full* page (``limit``
        records, or as many as the listing's earlier pages: the server may cap the
        limit) without a next link is probed once more after its last record: a real
        end answers an empty page; anything else means the next link was lost, and the
        listing fails rather than be silently short."""
        items: list[Any] = []
        seen: set[str] = set()
        cursors: set[str] = set()
        after: str | None = None
        largest = 0
        while True:
            page = await http.page(family, endpoint, call(after), raw_path(after), model)
            run.page(endpoint, page)
            if family == "users" and endpoint.startswith("users"):
                http.progress.read("users", len(page.items))
            for item in page.items:
                key = item.get("id") if isinstance(item, Mapping) else None
                if isinstance(key, str) and key:
                    if key in seen:
                        continue
                    seen.add(key)
                items.append(item)
            if page.next_after is None:
                last = page.items[-1].get("id") if page.items and isinstance(page.items[-1], Mapping) else None
                full = (limit is not None and len(page.items) >= limit) or (0 < largest <= len(page.items))
                if not full or not isinstance(last, str) or last in cursors:
                    return items
                probe = await http.page(family, endpoint, call(last), raw_path(last), model)
                if not probe.items:
                    return items
                raise FetchFailed(
                    endpoint, 200, "short_read", "a full page came without a next link, and more records follow", 1
                )
            largest = max(largest, len(page.items))
            if page.next_after in cursors:  # a next link that loops back: what follows it is unknown
                raise FetchFailed(endpoint, 200, "paging_loop", f"next link repeats cursor {page.next_after}", 1)
            cursors.add(page.next_after)
            after = page.next_after

    async def _gather(self, limit: int, jobs: Sequence[Awaitable[Any]]) -> list[Any]:
        gate = asyncio.Semaphore(limit)

        async def one(job: Awaitable[Any]) -> Any:
            async with gate:
                return await job

        return await asyncio.gather(*(one(j) for j in jobs))

    # --- collect -----------------------------------------------------------------------

    def collect(self, ctx: CollectContext) -> SourceSnapshot:
        return asyncio.run(self._collect(ctx))

    async def _collect(self, ctx: CollectContext) -> SourceSnapshot:
        run = _Run(self._source)
        run.digests.append(incremental.org_digest(self._settings.org_url))  # lets a later run build on this one
        http, pacer = self._http()
        http.progress = ctx.progress
        s = self._settings
        async with http.session(s.max_concurrency):
            ctx.logger.info("okta %s: reading users", ctx.source)
            users, unreadable = await self._users(http, run)
            directory = await self._directory(http, run)
            roles = await self._roles(http, run, directory)
            ctx.logger.info("okta %s: reading factors of %d users", ctx.source, len(users))
            # The factors (one request per user, the rate-limited family that sets the run's
            # length) are read while the apps and policies are. The factor part keeps its own
            # record, spliced in where a one-after-the-other run puts it: the snapshot's
            # issues and page digests come out in the same order either way.
            factor_run = _Run(self._source)
            at_digests, at_issues = len(run.digests), len(run.issues)

            async def factor_part() -> tuple[dict[str, tuple[Method, ...]], dict[str, str]]:
                # With a usable previous snapshot, only users whose factors may have changed.
                reuse = await incremental.reusable(
                    http, self._pages, factor_run, ctx, s.org_url, s.page_size, [u.account.id for u in users]
                )
                factor_run.issues.extend(reuse.issues)
                todo = [u for u in users if u.account.id not in reuse.methods]
                found, unread = await self._factors(http, factor_run, todo)
                found.update(reuse.methods)
                return found, unread

            async def portal_part() -> tuple[list[parse.OktaApp], list[Access], tuple[Policy, ...]]:
                apps, access = await self._apps(http, run, directory)
                return apps, access, await self._policies(http, run, apps, directory)

            (methods, failed), (apps, access, policy_list) = await _both(factor_part(), portal_part())
            run.digests[at_digests:at_digests] = factor_run.digests
            run.issues[at_issues:at_issues] = factor_run.issues
            sign_ins: tuple[SignIn, ...] = ()
            collected = False
            if ctx.collect_sign_ins:
                sign_ins, collected = await self._sign_ins(http, run, ctx)
        self.last_stats = pacer.stats
        if http.refused_origins:
            # Named on its own: the org (or something in between) pointed a request elsewhere.
            where = ", ".join(sorted(set(http.refused_origins)))
            run.incomplete(
                codes.FOREIGN_LINK, f"requests redirected to {where} were not sent (only the org is trusted)"
            )
        member_of: dict[str, list[str]] = {}
        for gid, uids in directory.members.items():
            if not directory.groups[gid].everyone:
                for uid in uids:
                    member_of.setdefault(uid, []).append(gid)
        accounts = []
        for user in users:
            acct = user.account
            if acct.id in failed:
                unreadable.append(UnreadableRecord(acct.id, failed[acct.id]))
                continue
            user_roles = tuple(sorted(set(roles.get(acct.id, ()))))
            accounts.append(
                replace(
                    acct,
                    groups=tuple(GroupId(g) for g in sorted(set(member_of.get(acct.id, ())))),
                    roles=user_roles,
                    privileged=bool(user_roles),
                    methods=methods.get(acct.id, ()),
                )
            )
        ctx.logger.info("okta %s: %d accounts, %d retries", ctx.source, len(accounts), http.retries)
        return SourceSnapshot(
            source=self._source,
            connector=CONNECTOR_NAME,
            collected_at=ctx.now,
            complete=run.complete,
            accounts=tuple(sorted(accounts, key=lambda a: a.id)),
            portals=tuple(a.portal for a in apps),
            access=tuple(sorted(set(access), key=lambda x: (x.account_id, x.portal_id, x.via, x.via_ref or ""))),
            policies=policy_list,
            sign_ins=sign_ins,
            issues=tuple(run.issues),
            unreadable=tuple(unreadable),
            raw_digests=tuple(run.digests),
            sign_ins_collected=collected,
            facts=facts.okta_facts(
                run.issues,
                sign_ins=ctx.collect_sign_ins,
                sign_ins_collected=collected,
                methods_policy_unread=run.methods_policy_unread,
            ),
            method_policy=run.method_policy,
        )

    async def _users(self, http: OktaHttp, run: _Run) -> tuple[list[parse.OktaUser], list[UnreadableRecord]]:
        c, size = http.client, self._settings.page_size
        listings: list[tuple[str, str | None]] = [("users", None)]
        if self._settings.include_deprovisioned:
            # The default listing omits DEPROVISIONED users; a status filter returns them.
            listings.append(("users (deprovisioned)", 'status eq "DEPROVISIONED"'))
        users: dict[str, parse.OktaUser] = {}
        unreadable: list[UnreadableRecord] = []
        for endpoint, flt in listings:

            def call(after: str | None, flt: str | None = flt) -> Call:
                return partial(c.list_users, limit=size, after=after, filter=flt)

            def raw(after: str | None, flt: str | None = flt) -> str:
                q = f"limit={size}" + (f"&after={after}" if after else "") + (f"&filter={flt}" if flt else "")
                return f"/api/v1/users?{q}"

            try:
                items = await self._pages(http, run, "users", endpoint, call, raw, "User", limit=size)
            except FetchFailed as exc:
                if not users and exc.permission_denied:
                    raise AuthenticationError(f"Okta refused to list users: {exc} (run `mfa-audit validate`)") from exc
                run.incomplete(codes.USERS_INCOMPLETE, str(exc))
                continue
            for i, item in enumerate(items):
                parsed = parse.parse_user(item, self._source, f"{endpoint} record {i + 1}")
                if isinstance(parsed, UnreadableRecord):
                    unreadable.append(parsed)
                else:
                    if parsed.issue is not None and parsed.account.id not in users:
                        run.issues.append(parsed.issue)
                    users.setdefault(parsed.account.id, parsed)
        return list(users.values()), unreadable

    async def _directory(self, http: OktaHttp, run: _Run) -> _Directory:
        c = http.client
        try:
            raw_groups = await self._pages(
                http,
                run,
                "groups",
                "groups",
                lambda after: partial(c.list_groups, after=after),
                lambda after: "/api/v1/groups" + (f"?after={after}" if after else ""),
                "Group",
            )
        except FetchFailed as exc:
            run.incomplete(
                codes.GROUPS_UNREADABLE, f"{exc}: group memberships, group roles and group assignments unknown"
            )
            return _Directory({}, {})
        groups = {g.id: g for g in (parse.parse_group(r) for r in raw_groups) if g is not None}

        async def members(gid: str) -> tuple[str, list[str] | None]:
            try:
                items = await self._pages(
                    http,
                    run,
                    "groups",
                    f"members of group {gid}",
                    lambda after: partial(c.list_group_users, gid, after=after, limit=self._settings.page_size),
                    lambda after: (
                        f"/api/v1/groups/{gid}/users?limit={self._settings.page_size}"
                        + (f"&after={after}" if after else "")
                    ),
                    "User",
                    limit=self._settings.page_size,
                )
            except FetchFailed as exc:
                run.incomplete(codes.GROUP_MEMBERS_UNREADABLE, str(exc))
                return gid, None
            return gid, [str(i["id"]) for i in items if isinstance(i, Mapping) and isinstance(i.get("id"), str)]

        results = await self._gather(self._settings.max_concurrency, [members(g) for g in groups])
        return _Directory(groups, {gid: uids for gid, uids in results if uids is not None})

    async def _roles(self, http: OktaHttp, run: _Run, directory: _Directory) -> dict[str, list[RoleId]]:
        """Admin roles: users with role assignments (then each one's roles) and each
        group's roles, given to its members."""
        c = http.client
        out: dict[str, list[RoleId]] = {}
        try:
            assignees = await self._pages(
                http,
                run,
                "roles",
                "users with role assignments",
                lambda after: partial(c.list_users_with_role_assignments, after=after),
                lambda after: "/api/v1/iam/assignees/users" + (f"?after={after}" if after else ""),
                "RoleAssignedUsers",
            )
        except FetchFailed as exc:
            run.incomplete(codes.ROLES_UNREADABLE, f"{exc}: who is privileged is unknown")
            return out
        user_ids: list[str] = []
        for a in assignees:
            values = a.get("value") if isinstance(a, Mapping) else None
            user_ids.extend(
                v["id"]
                for v in (values if isinstance(values, list) else ())
                if isinstance(v, Mapping) and isinstance(v.get("id"), str)
            )

        async def roles_of(kind: str, oid: str) -> tuple[str, str, list[RoleId] | None]:
            if kind == "user":
                call: Call = partial(c.list_assigned_roles_for_user, oid)
                path = f"/api/v1/users/{oid}/roles"
            else:
                call = partial(c.list_group_assigned_roles, oid)
                path = f"/api/v1/groups/{oid}/roles"
            try:
                page = await http.page(
                    "roles", f"roles of {kind} {oid}", call, path, "ListGroupAssignedRoles200ResponseInner"
                )
            except FetchFailed as exc:
                run.incomplete(codes.ROLES_UNREADABLE, f"{exc}: privilege of {kind} {oid} unknown")
                return kind, oid, None
            run.page(f"roles of {kind}", page)
            return kind, oid, [r for r in (parse.parse_role(i) for i in page.items) if r is not None]

        jobs = [roles_of("user", u) for u in dict.fromkeys(user_ids)]
        jobs += [roles_of("group", g) for g in directory.groups]
        for kind, oid, found in await self._gather(self._settings.max_concurrency, jobs):
            if not found:
                continue
            targets = [oid] if kind == "user" else directory.members.get(oid, [])
            for uid in targets:
                out.setdefault(uid, []).extend(found)
        return out

    async def _factors(
        self, http: OktaHttp, run: _Run, users: list[parse.OktaUser]
    ) -> tuple[dict[str, tuple[Method, ...]], dict[str, str]]:
        """Each user's factor list: one request per user, the bottleneck. Run with up to
        ``max_concurrency`` in flight, paced by the factor family's rate-limit headers."""
        c = http.client
        methods: dict[str, tuple[Method, ...]] = {}
        failed: dict[str, str] = {}
        bodies: dict[str, bytes] = {}

        http.progress.total("factors", len(users))

        async def one(user: parse.OktaUser) -> None:
            uid = user.account.id
            http.progress.read("factors")
            if user.status == "DEPROVISIONED":
                methods[uid] = ()
                return
            try:
                page = await http.page(
                    "factors",
                    f"factors of user {uid}",
                    partial(c.list_factors, uid),
                    f"/api/v1/users/{uid}/factors",
                    "UserFactor",
                )
            except FetchFailed as exc:
                failed[uid] = f"factors not read: {exc}"
                return
            bodies[uid] = page.body
            for r in page.rejected:
                run.issues.append(
                    SourceIssue(
                        codes.SCHEMA_REJECTED,
                        f"factors of user {uid}: the okta SDK's "
                        f"models rejected factor {r.record} ({r.reason}); read as raw JSON",
                        uid,
                    )
                )
            found, issues = parse.parse_factors(page.items, uid)
            methods[uid] = found
            run.issues.extend(issues)

        await self._gather(self._settings.max_concurrency, [one(u) for u in users])
        digest = hashlib.sha256()
        for uid in sorted(bodies):
            digest.update(uid.encode() + b"\0" + bodies[uid] + b"\0")
        run.digests.append(PageDigest("factors (all users, by id)", digest.hexdigest(), len(bodies)))
        if failed:
            first = ", ".join(sorted(failed)[:5])
            run.incomplete(
                codes.FACTORS_UNREADABLE,
                f"the factors of {len(failed)} user(s) could not be read "
                f"(first: {first}); they are listed as unreadable",
            )
        return methods, failed

    async def _apps(self, http: OktaHttp, run: _Run, directory: _Directory) -> tuple[list[parse.OktaApp], list[Access]]:
        c, size = http.client, self._settings.page_size
        try:
            raw_apps = await self._pages(
                http,
                run,
                "apps",
                "apps",
                lambda after: partial(c.list_applications, after=after, limit=size),
                lambda after: f"/api/v1/apps?limit={size}" + (f"&after={after}" if after else ""),
                "Application",
            )
        except FetchFailed as exc:
            run.incomplete(codes.APPS_UNREADABLE, f"{exc}: portals and access unknown")
            return [], []
        apps = [a for a in (parse.parse_app(r, self._source) for r in raw_apps) if a is not None and a.active]

        async def assignments(app: parse.OktaApp) -> list[Access]:
            aid = app.portal.id
            try:
                users = await self._pages(
                    http,
                    run,
                    "apps",
                    f"users of app {aid}",
                    lambda after: partial(c.list_application_users, aid, after=after, limit=size),
                    lambda after: f"/api/v1/apps/{aid}/users?limit={size}" + (f"&after={after}" if after else ""),
                    "AppUser",
                )
                groups = await self._pages(
                    http,
                    run,
                    "apps",
                    f"groups of app {aid}",
                    lambda after: partial(c.list_application_group_assignments, aid, after=after, limit=size),
                    lambda after: f"/api/v1/apps/{aid}/groups?limit={size}" + (f"&after={after}" if after else ""),
                    "ApplicationGroupAssignment",
                )
            except FetchFailed as exc:
                run.incomplete(codes.APP_ASSIGNMENTS_UNREADABLE, f"{exc}: who can reach {app.portal.name} unknown")
                return []
            return self._access_of(run, aid, users, groups, directory)

        results = await self._gather(self._settings.max_concurrency, [assignments(a) for a in apps])
        return apps, [x for r in results for x in r]

    def _access_of(
        self, run: _Run, aid: PortalId, users: list[Any], groups: list[Any], directory: _Directory
    ) -> list[Access]:
        out: list[Access] = []
        through_groups: set[str] = set()
        for g in groups:
            gid = g.get("id") if isinstance(g, Mapping) else None
            if not isinstance(gid, str):
                continue
            info = directory.groups.get(gid)
            for uid in directory.members.get(gid, []):
                through_groups.add(uid)
                if info is not None and info.everyone:
                    out.append(Access(AccountId(uid), aid, AccessVia.EVERYONE))
                else:
                    out.append(Access(AccountId(uid), aid, AccessVia.GROUP, gid))
        unexplained = []
        for raw in users:
            parsed = parse.parse_app_user(raw)
            if parsed is None:
                continue
            uid, scope = parsed
            if scope != "GROUP":
                out.append(Access(AccountId(uid), aid, AccessVia.DIRECT))
            elif uid not in through_groups:
                # Assigned through a group whose members we could not see: still access.
                out.append(Access(AccountId(uid), aid, AccessVia.GROUP))
                unexplained.append(uid)
        if unexplained:
            run.issues.append(
                SourceIssue(
                    codes.APP_GROUP_UNRESOLVED,
                    f"app {aid}: {len(unexplained)} user(s) "
                    f"assigned through a group not found among its groups (first: "
                    f"{unexplained[0]})",
                    aid,
                )
            )
        return out

    async def _policy_set(self, http: OktaHttp, run: _Run, ptype: str) -> list[policies.OktaPolicy]:
        c = http.client
        raws = await self._pages(
            http,
            run,
            "policies",
            f"policies {ptype}",
            lambda after: partial(c.list_policies, type=ptype, after=after),
            lambda after: f"/api/v1/policies?type={ptype}" + (f"&after={after}" if after else ""),
            "Policy",
        )

        async def rules(raw: Any) -> policies.OktaPolicy | None:
            if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
                return None
            pid = raw["id"]
            page = await http.page(
                "policies",
                f"rules of policy {pid}",
                partial(c.list_policy_rules, pid),
                f"/api/v1/policies/{pid}/rules",
                "PolicyRule",
            )
            run.page(f"rules of policy {pid}", page)
            return policies.OktaPolicy(raw, tuple(r for r in page.items if isinstance(r, Mapping)))

        found = await self._gather(self._settings.max_concurrency, [rules(r) for r in raws])
        return [p for p in found if p is not None]

    async def _authenticators(self, http: OktaHttp, run: _Run) -> None:
        """The org's authenticators and their status → ``run.method_policy``. Refused or
        failed: not read (the fact says why), never "everything allowed" on a guess."""
        c = http.client
        try:
            page = await http.page(
                "authenticators",
                "authenticators",
                partial(c.list_authenticators),
                "/api/v1/authenticators",
                "AuthenticatorBase",
            )
        except FetchFailed as exc:
            why = f"authenticators not read ({exc}): registered factors are judged against the policies only"
            run.issues.append(SourceIssue(codes.AUTHENTICATORS_UNREADABLE, why))
            run.methods_policy_unread = why
            return
        run.page("authenticators", page)
        allowances, issues = authenticators.method_policy(page.items)
        run.issues.extend(issues)
        run.method_policy = allowances
        run.methods_policy_unread = ""

    async def _zones(self, http: OktaHttp, run: _Run) -> dict[str, str]:
        c = http.client
        try:
            raws = await self._pages(
                http,
                run,
                "zones",
                "network zones",
                lambda after: partial(c.list_network_zones, after=after),
                lambda after: "/api/v1/zones" + (f"?after={after}" if after else ""),
                "NetworkZone",
            )
        except FetchFailed as exc:
            run.issues.append(SourceIssue(codes.ZONES_UNREADABLE, f"{exc}: zone conditions name zone ids"))
            return {}
        return {str(z["id"]): str(z.get("name") or z["id"]) for z in raws if isinstance(z, Mapping) and "id" in z}

    async def _policies(
        self, http: OktaHttp, run: _Run, apps: list[parse.OktaApp], directory: _Directory
    ) -> tuple[Policy, ...]:
        apps_of: dict[str, list[PortalId]] = {}
        for app in apps:
            if app.access_policy:
                apps_of.setdefault(app.access_policy, []).append(app.portal.id)
        everyone = next((g.id for g in directory.groups.values() if g.everyone), None)
        lookups = policies.Lookups(await self._zones(http, run), everyone, {k: tuple(v) for k, v in apps_of.items()})
        out: list[Policy] = []
        try:
            try:
                access = await self._policy_set(http, run, "ACCESS_POLICY")
                identity = True
            except FetchFailed as exc:
                if not exc.bad_request:
                    raise
                access, identity = [], False  # Classic Engine: no authentication policies
            run.issues.append(
                SourceIssue(
                    codes.ENGINE,
                    "Okta Identity Engine: app authentication policies (first match) with the global session policy "
                    "on top"
                    if identity
                    else "Okta Classic Engine (ACCESS_POLICY refused): Okta sign-on policies (requireFactor) and "
                    "MFA enrolment policies; per-app sign-on rules are not read",
                )
            )
            if identity:
                await self._authenticators(http, run)
            else:
                run.methods_policy_unread = facts.CLASSIC_REASON
            for raw in access:
                policy, issues = policies.access_policy(raw, lookups)
                out.append(policy)
                run.issues.extend(issues)
            sign_on = await self._policy_set(http, run, "OKTA_SIGN_ON")
            kind = policies.GLOBAL_SESSION_KIND if identity else policies.CLASSIC_SIGN_ON_KIND
            merged, issues = policies.sign_on_policies(sign_on, lookups, kind)
            out.extend(merged)
            run.issues.extend(issues)
            if not identity:
                out.extend(policies.enroll_policy(p, lookups) for p in await self._policy_set(http, run, "MFA_ENROLL"))
        except FetchFailed as exc:
            run.incomplete(codes.POLICIES_UNREADABLE, f"{exc}: enforcement unknown")
        unlinked = [a.portal.id for a in apps if not a.access_policy]
        if unlinked and any(p.vendor_kind == policies.ACCESS_KIND for p in out):
            run.issues.append(
                SourceIssue(
                    codes.APP_WITHOUT_POLICY,
                    f"{len(unlinked)} app(s) name no authentication policy (first: {unlinked[0]})",
                )
            )
        return tuple(out)

    async def _sign_ins(self, http: OktaHttp, run: _Run, ctx: CollectContext) -> tuple[tuple[SignIn, ...], bool]:
        c = http.client
        start = datetime.combine(ctx.period_start, datetime.min.time(), UTC)
        end = min(datetime.combine(ctx.period_end + timedelta(days=1), datetime.min.time(), UTC), ctx.now)
        since, until = _iso(start), _iso(end)
        try:
            raws = await self._pages(
                http,
                run,
                "logs",
                "system log",
                lambda after: partial(
                    c.list_log_events, since=since, until=until, filter=LOG_FILTER, limit=LOG_PAGE_SIZE, after=after
                ),
                lambda after: (
                    f"/api/v1/logs?since={since}&until={until}&limit={LOG_PAGE_SIZE}"
                    + (f"&after={after}" if after else "")
                ),
                "LogEvent",
            )
        except FetchFailed as exc:
            if exc.permission_denied:
                run.issues.append(SourceIssue(codes.LOGS_REFUSED, f"sign-ins not read: {exc}"))
                return (), False
            run.incomplete(codes.LOGS_INCOMPLETE, str(exc))
            return (), False
        events = []
        for raw in raws:
            try:
                events.append(parse.parse_log_event(raw))
            except parse.ParseError as exc:
                run.issues.append(SourceIssue(codes.LOG_EVENT_UNREADABLE, str(exc)))
        found = parse.sign_ins(e for e in events if start <= e.time < end)
        return tuple(sorted(found, key=lambda s: (s.time, s.account_id))), True

    # --- validate ----------------------------------------------------------------------

    def check_access(self) -> tuple[PermissionCheck, ...]:
        return asyncio.run(self._check_access())

    def _probe(self, http: OktaHttp, need: ScopeNeed) -> tuple[Call, str, str | None]:
        c = http.client
        probes: dict[str, tuple[Call, str, str | None]] = {
            USERS.scope: (partial(c.list_users, limit=1), "/api/v1/users?limit=1", "User"),
            GROUPS.scope: (partial(c.list_groups, limit=1), "/api/v1/groups?limit=1", "Group"),
            APPS.scope: (partial(c.list_applications, limit=1), "/api/v1/apps?limit=1", "Application"),
            POLICIES.scope: (
                partial(c.list_policies, type="OKTA_SIGN_ON"),
                "/api/v1/policies?type=OKTA_SIGN_ON",
                "Policy",
            ),
            ROLES.scope: (
                partial(c.list_users_with_role_assignments, limit=1),
                "/api/v1/iam/assignees/users?limit=1",
                "RoleAssignedUsers",
            ),
            ZONES.scope: (partial(c.list_network_zones, limit=1), "/api/v1/zones?limit=1", "NetworkZone"),
            LOGS.scope: (partial(c.list_log_events, limit=1), "/api/v1/logs?limit=1", "LogEvent"),
            AUTHENTICATORS.scope: (partial(c.list_authenticators), "/api/v1/authenticators", "AuthenticatorBase"),
        }
        return probes[need.scope]

    async def _check_scope(self, need: ScopeNeed, scoped: bool) -> tuple[PermissionCheck, bool]:
        """One minimal GET needing ``need``; with ``scoped`` (service app) a token asked
        for that scope alone. The flag says whether the credentials themselves failed."""
        purpose = need.purpose
        try:
            http, _ = self._http((need.scope,) if scoped else None)
        except AuthenticationError as exc:
            return PermissionCheck(need.scope, purpose, None, f"not checked: {exc}"), True
        async with http.session(1):
            call, path, model = self._probe(http, need)
            try:
                await http.page(need.scope, f"{need.scope} probe", call, path, model)
            except TokenRefused as exc:
                if exc.error == "invalid_scope":
                    return PermissionCheck(
                        need.scope, purpose, False, "not granted to the service app (Okta API Scopes tab of the app)"
                    ), False
                return PermissionCheck(need.scope, purpose, None, f"not checked: {exc}"), True
            except AuthenticationError as exc:
                return PermissionCheck(need.scope, purpose, None, f"not checked: {exc}"), True
            except FetchFailed as exc:
                if exc.permission_denied:
                    return PermissionCheck(need.scope, purpose, False, f"refused: {exc}"), False
                return PermissionCheck(need.scope, purpose, None, f"not checked: {exc}"), False
        return PermissionCheck(need.scope, purpose, True), False

    async def _check_access(self) -> tuple[PermissionCheck, ...]:
        oauth = self._settings.oauth is not None
        name = "service app (private_key_jwt)" if oauth else "API token"
        purpose = "authenticate to the org" + (" with every configured scope" if oauth else "")
        probe, auth_failed = await self._check_scope(USERS, scoped=False)
        if auth_failed:
            return (PermissionCheck(name, purpose, False, probe.detail.removeprefix("not checked: ")),)
        first = PermissionCheck(
            name, purpose, probe.granted is not False or not oauth, "" if probe.granted else probe.detail
        )
        checks = [first]
        for need in ALL_SCOPES:
            check, _ = await self._check_scope(need, scoped=oauth)
            checks.append(check)
        return tuple(checks)


__all__ = ["CONNECTOR_NAME", "OktaConnector"]
