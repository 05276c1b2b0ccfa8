"""Long, known debt (STYLE.md): fetching with its paging and retries still shares this
module with the collection's orchestration; the next split is a ``fetch`` module, as
Keycloak's.

The Google Workspace connector: fetch → parse → enforcement mapping.

Read-only: only GET requests reach the Admin SDK (users.list, roles.list,
roleAssignments.list, members.list of the groups holding an admin role, orgunits.list,
the user usage report and, when sign-ins are collected, the login audit), plus the
OAuth token exchange. A page that cannot be read after bounded retries makes the
source incomplete with an issue; it is never silently skipped. Admin roles that cannot
be read fall back to the users.list admin flags, with an issue saying so: privilege is
never silently dropped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from auditor.interfaces import AuthenticationError, CollectContext, PermissionCheck, SourceUnavailable
from auditor.model import (
    Access,
    AccessVia,
    Account,
    AccountId,
    PageDigest,
    Portal,
    RoleId,
    SignIn,
    SourceIssue,
    SourceName,
    SourceSnapshot,
    UnreadableRecord,
)
from connectors.google_workspace import codes, enforcement, facts, parse, roles
from connectors.google_workspace.client import (
    Fetcher,
    FetchFailed,
    JsonObject,
    Services,
    Sleep,
    TokenRefused,
    make_credentials,
    make_services,
    pages,
    refresh_token,
)
from connectors.google_workspace.settings import (
    AUDIT,
    GROUP_MEMBERS,
    ORG_UNITS,
    ROLES,
    USAGE,
    USERS,
    ScopeNeed,
    parse_settings,
)

CONNECTOR_NAME = "google_workspace"
USERS_PAGE_SIZE = 500  # users.list maximum
REPORTS_PAGE_SIZE = 1000  # Reports API maximum
ROLES_PAGE_SIZE = 100  # roles.list maximum (discovery document: maxResults 1..100)
ROLE_ASSIGNMENTS_PAGE_SIZE = 200  # roleAssignments.list maximum (maxResults 1..200)
MEMBERS_PAGE_SIZE = 200  # members.list maximum ("Max allowed value is 200")
# Usage-report dates are Pacific time and lag: start two days back, step back from there.
REPORT_FIRST_LAG_DAYS = 2
PACIFIC_OFFSET = timedelta(hours=-8)
LAG_WARNINGS = frozenset({"DATA_NOT_AVAILABLE", "PARTIAL_DATA_AVAILABLE"})
COLLECT_SCOPES: tuple[ScopeNeed, ...] = (USERS, ORG_UNITS, USAGE)


@dataclass(slots=True)
class _Run:
    """What one collection accumulates."""

    source: SourceName
    issues: list[SourceIssue] = field(default_factory=list)
    digests: list[PageDigest] = field(default_factory=list)

    def digest(self, endpoint: str, page: JsonObject, records: int) -> None:
        body = json.dumps(page, sort_keys=True, separators=(",", ":")).encode("utf-8")
        self.digests.append(PageDigest(endpoint, hashlib.sha256(body).hexdigest(), records))

    def incomplete(self, code: str, exc: FetchFailed) -> None:
        self.issues.append(SourceIssue(code, str(exc), incomplete=True))

    @property
    def complete(self) -> bool:
        return not any(i.incomplete for i in self.issues)


def _report_date(now: datetime, lag: int) -> date:
    return ((now.astimezone(UTC) + PACIFIC_OFFSET) - timedelta(days=lag)).date()


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class GoogleWorkspaceConnector:
    """Entry point ``google_workspace``. ``sleep`` and ``clock`` are injectable so tests
    need not wait or read the real clock."""

    def __init__(
        self,
        source: str,
        settings: Mapping[str, Any],
        base_dir: Path,
        *,
        sleep: Sleep = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._source = SourceName(source)
        self._settings = parse_settings(settings, base_dir)
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"GoogleWorkspaceConnector(source={self._source!r})"

    # --- building blocks -------------------------------------------------------------------

    def _fetcher(self) -> Fetcher:
        return Fetcher(self._sleep, self._settings.max_attempts, self._clock)

    def _services(self, scopes: tuple[ScopeNeed, ...]) -> Services:
        creds = make_credentials(self._settings, [s.url for s in scopes])
        return make_services(self._settings, creds)

    # --- collect ---------------------------------------------------------------------------

    def collect(self, ctx: CollectContext) -> SourceSnapshot:
        run = _Run(self._source)
        fetcher = self._fetcher()
        fetcher.progress = ctx.progress
        services = self._services(COLLECT_SCOPES)
        ctx.logger.info("google %s: reading users", ctx.source)
        users, unreadable = self._users(services, fetcher, run)
        ctx.logger.info("google %s: reading admin roles", ctx.source)
        held = self._roles(fetcher, run, users)
        org_units = self._org_units(services, fetcher, run)
        counts = self._usage(services, fetcher, run, ctx.now)
        accounts = self._accounts(users, counts, held, run)
        self._cross_check(users, len(unreadable), counts, run)
        portals = self._portals(users, org_units)
        access = tuple(Access(u.account.id, parse.portal_id(u.org_unit), AccessVia.EVERYONE) for u in users)
        policy = enforcement.two_step_policy(u.account.id for u in users if u.enforced_2sv)
        sign_ins: tuple[SignIn, ...] = ()
        collected = False
        if ctx.collect_sign_ins:
            sign_ins, collected = self._sign_ins(fetcher, run, ctx, users)
        ctx.logger.info("google %s: %d accounts, %d retries", ctx.source, len(accounts), fetcher.retries)
        if fetcher.redirects:
            # Named on its own: something pointed a request (and its token) elsewhere.
            where = ", ".join(sorted(set(fetcher.redirects)))
            run.issues.append(
                SourceIssue(codes.FOREIGN_LINK, f"redirects to {where} were not followed", incomplete=True)
            )
        return SourceSnapshot(
            source=self._source,
            connector=CONNECTOR_NAME,
            collected_at=ctx.now,
            complete=run.complete,
            accounts=accounts,
            portals=portals,
            access=access,
            policies=(policy,),
            sign_ins=sign_ins,
            issues=tuple(run.issues),
            unreadable=tuple(unreadable),
            raw_digests=tuple(run.digests),
            sign_ins_collected=collected,
            facts=facts.google_facts(
                run.issues, roles_read=held is not None, sign_ins=ctx.collect_sign_ins, sign_ins_collected=collected
            ),
        )

    def _users(
        self, services: Services, fetcher: Fetcher, run: _Run
    ) -> tuple[list[parse.DirectoryUser], list[UnreadableRecord]]:
        users: list[parse.DirectoryUser] = []
        unreadable: list[UnreadableRecord] = []
        seen: set[str] = set()

        def request(token: str | None) -> Any:
            return services.directory.users().list(
                customer=self._settings.customer, maxResults=USERS_PAGE_SIZE, pageToken=token, projection="basic"
            )

        number = 0
        try:
            for page in pages(fetcher, request, "users.list"):
                number += 1
                raw_users = page.get("users", [])
                if not isinstance(raw_users, list):
                    raise FetchFailed(f"users.list page {number}", 200, "malformed", "users is not a list", 1)
                run.digest("users.list", page, len(raw_users))
                fetcher.progress.read("users", len(raw_users))
                for i, raw in enumerate(raw_users):
                    parsed = parse.parse_user(raw, run.source, f"users.list page {number} item {i + 1}")
                    if isinstance(parsed, UnreadableRecord):
                        unreadable.append(parsed)
                    elif parsed.account.id not in seen:
                        seen.add(parsed.account.id)
                        users.append(parsed)
        except FetchFailed as exc:
            if number == 0 and exc.permission_denied:
                # Nothing at all is readable: the delegation or the admin's rights are wrong.
                raise AuthenticationError(
                    f"the Directory refused the delegated admin: {exc} (run `mfa-audit validate`)"
                ) from exc
            if number == 0:
                raise SourceUnavailable(f"Google Workspace could not be read: {exc}") from exc
            run.incomplete(codes.USERS_INCOMPLETE, exc)
        return users, unreadable

    def _role_items(
        self, fetcher: Fetcher, run: _Run, make_request: Callable[[str | None], Any], what: str
    ) -> list[Any]:
        items: list[Any] = []
        for number, page in enumerate(pages(fetcher, make_request, what), start=1):
            raw = page.get("items", [])  # Google leaves out an empty list
            if not isinstance(raw, list):
                raise FetchFailed(f"{what} page {number}", 200, "malformed", "items is not a list", 1)
            run.digest(what, page, len(raw))
            items.extend(raw)
        return items

    def _roles(
        self, fetcher: Fetcher, run: _Run, users: list[parse.DirectoryUser]
    ) -> dict[AccountId, tuple[RoleId, ...]] | None:
        """Each user's admin role names, from the whole customer's roles and role
        assignments: two paged lists, never one call per user. None when they could not
        be read: the accounts then keep the roles their users.list flags give, and an
        issue says so. The role scope has its own token so that a client ID not yet
        granted it loses only the role names, not the source."""
        services = self._services((ROLES,))
        customer = self._settings.customer
        directory = services.directory
        try:
            raw_roles = self._role_items(
                fetcher,
                run,
                lambda token: directory.roles().list(customer=customer, maxResults=ROLES_PAGE_SIZE, pageToken=token),
                "roles.list",
            )
            raw_assignments = self._role_items(
                fetcher,
                run,
                lambda token: directory.roleAssignments().list(
                    customer=customer, maxResults=ROLE_ASSIGNMENTS_PAGE_SIZE, pageToken=token
                ),
                "roleAssignments.list",
            )
            role_list = [roles.parse_role(r) for r in raw_roles]
            assignments = [roles.parse_assignment(a) for a in raw_assignments]
        except TokenRefused as exc:
            hint = f"grant {ROLES.url} to the client ID (see docs/google-workspace.md)"
            self._flag_fallback(run, users, f"the token for {ROLES.url} was refused ({exc.error or exc})", hint)
            return None
        except FetchFailed as exc:
            hint = None
            if exc.reason == "insufficientPermissions":
                hint = f"the token lacks {ROLES.url}: grant it (see docs/google-workspace.md)"
            elif exc.permission_denied:
                hint = f"the delegated admin may lack the privilege to read admin roles, or {ROLES.url} is missing"
            self._flag_fallback(run, users, str(exc), hint)
            return None
        except roles.RoleParseError as exc:
            self._flag_fallback(run, users, f"unreadable record: {exc}", None)
            return None
        holders = [roles.Holder(u.account.id, u.account.principal, u.is_admin, u.is_delegated_admin) for u in users]
        memberships = roles.group_members((u.account.id, u.account.groups) for u in users)
        unread: dict[str, str] = {}
        # Only the groups that hold a role are listed, each once, however many roles it holds.
        group_ids = list(
            dict.fromkeys(a.assigned_to for a in assignments if a.assignee_type is roles.AssigneeType.GROUP)
        )
        if group_ids:
            listed, unread, strays = roles.split_members(
                self._group_reads(fetcher, run, group_ids), (u.account.id for u in users)
            )
            memberships.update(listed)
            if strays is not None:
                run.issues.append(strays)
        resolution = roles.resolve(holders, role_list, assignments, memberships, unread)
        run.issues.extend(resolution.issues)
        return dict(resolution.roles)

    @staticmethod
    def _members_request(directory: Any, group_id: str) -> Callable[[str | None], Any]:
        def request(token: str | None) -> Any:
            # includeDerivedMembership: Google lists the members of nested groups too, so a
            # group nested in a role-holding group costs no listing of its own.
            return directory.members().list(
                groupKey=group_id, includeDerivedMembership=True, maxResults=MEMBERS_PAGE_SIZE, pageToken=token
            )

        return request

    def _group_reads(self, fetcher: Fetcher, run: _Run, group_ids: list[str]) -> list[roles.GroupRead]:
        """members.list of each role-holding group. The member scope has its own token, as
        the role scope has: a client ID not granted it loses only the group expansion. A
        refusal of the scope itself holds for every group, so it ends the listing; any
        other failure costs that group only."""
        directory = self._services((GROUP_MEMBERS,)).directory  # the token is fetched on the first page
        out: list[roles.GroupRead] = []
        refused: str | None = None
        for group_id in group_ids:
            if refused is not None:
                out.append(roles.GroupRead(group_id, (), refused))
                continue
            what = f"members.list {group_id}"
            members: list[roles.Member] = []
            error: str | None = None
            try:
                for number, page in enumerate(pages(fetcher, self._members_request(directory, group_id), what), 1):
                    raw = page.get("members", [])  # Google leaves out an empty list
                    if not isinstance(raw, list):
                        raise FetchFailed(f"{what} page {number}", 200, "malformed", "members is not a list", 1)
                    run.digest("members.list", page, len(raw))
                    members.extend(roles.parse_member(m, f"{what} page {number}") for m in raw)
            except TokenRefused as exc:
                refused = error = (
                    f"the token for {GROUP_MEMBERS.url} was refused ({exc.error or exc}): grant it to the client ID "
                    "(see docs/google-workspace.md)"
                )
            except FetchFailed as exc:
                error = str(exc).rstrip(".")
                if exc.reason == "insufficientPermissions":
                    refused = error = f"{error}: the token lacks {GROUP_MEMBERS.url}, grant it"
                elif exc.permission_denied:
                    error += ": the delegated admin may lack the privilege to read this group's members"
            except roles.RoleParseError as exc:
                error = f"unreadable record: {exc}"
            out.append(roles.GroupRead(group_id, tuple(members), error))
        return out

    @staticmethod
    def _flag_fallback(run: _Run, users: list[parse.DirectoryUser], reason: str, refused_hint: str | None) -> None:
        """``refused_hint``: what to grant, when the APIs refused (None: they failed)."""
        supers = sum(1 for u in users if u.is_admin)
        delegated = sum(1 for u in users if u.is_delegated_admin and not u.is_admin)
        grant = f"; {refused_hint}" if refused_hint else ""
        run.issues.append(
            SourceIssue(
                codes.ROLES_REFUSED if refused_hint else codes.ROLES_UNREADABLE,
                f"admin roles not read: {reason.rstrip('.')}. Privilege comes from the users.list flags instead: "
                f"{supers} super admins (isAdmin, recorded as {roles.SUPER_ADMIN_ROLE}) and {delegated} delegated "
                f"admins (isDelegatedAdmin, recorded as {roles.DELEGATED_ADMIN_ROLE}: which roles is unknown){grant}",
            )
        )

    def _org_units(self, services: Services, fetcher: Fetcher, run: _Run) -> tuple[parse.OrgUnitInfo, ...]:
        # orgunits.list is not paged: type=all returns every sub-unit of the root.
        request = services.directory.orgunits().list(customerId=self._settings.customer, type="all")
        try:
            page = fetcher.execute(request, "orgunits.list")
            units = parse.parse_org_units(page)
        except FetchFailed as exc:
            run.incomplete(codes.ORG_UNITS_UNREADABLE, exc)
            return ()
        except parse.ParseError as exc:
            run.issues.append(SourceIssue(codes.ORG_UNITS_UNREADABLE, f"orgunits.list: {exc}", incomplete=True))
            return ()
        run.digest("orgunits.list", page, len(units))
        return units

    def _usage_pages(self, services: Services, fetcher: Fetcher, day: date) -> Iterator[JsonObject]:
        def request(token: str | None) -> Any:
            return services.reports.userUsageReport().get(
                userKey="all",
                date=day.isoformat(),
                parameters=",".join(parse.USAGE_PARAMETERS),
                maxResults=REPORTS_PAGE_SIZE,
                pageToken=token,
            )

        return pages(fetcher, request, f"usage report {day.isoformat()}")

    def _usage(
        self, services: Services, fetcher: Fetcher, run: _Run, now: datetime
    ) -> dict[str, parse.FactorCounts] | None:
        """Factor counts per user from the most recent complete usage report, stepping back
        a bounded number of days while Google says the data is not (fully) there yet.
        None when no report could be read (methods then fall back to "enrolled")."""
        first = REPORT_FIRST_LAG_DAYS
        partial: tuple[date, dict[str, parse.FactorCounts]] | None = None
        for lag in range(first, first + self._settings.max_report_lag_days):
            day = _report_date(now, lag)
            counts: dict[str, parse.FactorCounts] = {}
            lagging: list[parse.ReportWarning] = []
            try:
                for page in self._usage_pages(services, fetcher, day):
                    rows = page.get("usageReports") or []
                    lagging.extend(w for w in parse.report_warnings(page) if w.code in LAG_WARNINGS)
                    run.digest(f"usage {day.isoformat()}", page, len(rows) if isinstance(rows, list) else 0)
                    for row in rows if isinstance(rows, list) else ():
                        try:
                            key, value = parse.parse_usage_row(row)
                        except parse.ParseError as exc:
                            run.issues.append(SourceIssue(codes.USAGE_ROW_UNREADABLE, str(exc)))
                            continue
                        counts[key] = value
            except FetchFailed as exc:
                run.incomplete(codes.USAGE_REPORT_UNREADABLE, exc)
                return None
            if not lagging:
                if lag > first:
                    run.issues.append(
                        SourceIssue(
                            codes.USAGE_REPORT_LAG,
                            f"the usage report was not available for recent days; used {day.isoformat()}",
                        )
                    )
                return counts
            if counts and partial is None and any(w.code == "PARTIAL_DATA_AVAILABLE" for w in lagging):
                partial = (day, counts)
        if partial is not None:
            run.issues.append(
                SourceIssue(
                    codes.USAGE_REPORT_PARTIAL,
                    f"only partial usage data was available; used {partial[0].isoformat()}, "
                    "users missing from it count as 'enrolled, kind unspecified'",
                )
            )
            return partial[1]
        run.issues.append(
            SourceIssue(
                codes.USAGE_REPORT_UNAVAILABLE,
                f"no usage report in the last {self._settings.max_report_lag_days} days: security keys and "
                "passkeys unknown, every enrolled user counts as 'enrolled, kind unspecified' (weak)",
            )
        )
        return None

    def _accounts(
        self,
        users: list[parse.DirectoryUser],
        counts: dict[str, parse.FactorCounts] | None,
        held: dict[AccountId, tuple[RoleId, ...]] | None,
        run: _Run,
    ) -> tuple[Account, ...]:
        out = []
        missing = []
        for user in users:
            acct = user.account
            row = None
            if counts is not None:
                row = counts.get(acct.id) or counts.get(acct.principal)
                if row is None and user.enrolled_2sv:
                    missing.append(acct.principal)
            keys_only = parse.in_org_units(user.org_unit, self._settings.security_key_only_org_units)
            methods = parse.methods_for(user.enrolled_2sv, row, keys_only=keys_only)
            if held is None:  # the role APIs were not read: the flags' roles stay
                out.append(replace(acct, methods=methods))
            else:
                user_roles = held.get(acct.id, ())
                out.append(replace(acct, methods=methods, roles=user_roles, privileged=bool(user_roles)))
        others = sum(1 for a in out for m in a.methods if m.vendor_label == parse.OTHER_2SV_METHODS)
        if others:
            run.issues.append(
                SourceIssue(
                    codes.OTHER_2SV_METHODS,
                    f"{others} security-key or passkey holders may also use any other 2-Step Verification method "
                    "they registered (the API names none of them): counted as a second factor of unspecified kind "
                    "(weak) beside the key; declare the org units whose 2SV policy allows only security keys in "
                    "security_key_only_org_units",
                )
            )
        if missing:
            run.issues.append(
                SourceIssue(
                    codes.USAGE_REPORT_MISSING_USERS,
                    f"{len(missing)} enrolled users are not in the usage report (new since?): their second "
                    f"factor counts as 'kind unspecified' (weak); first: {', '.join(missing[:5])}",
                )
            )
        return tuple(out)

    @staticmethod
    def _cross_check(
        users: list[parse.DirectoryUser], unreadable: int, counts: dict[str, parse.FactorCounts] | None, run: _Run
    ) -> None:
        """users.list gives no total, so a page that silently drops its nextPageToken would
        pass for the end of the list. The usage report lists every user on its own paging:
        users it holds that the listing lacks mean the listing was cut short."""
        if counts is None:
            return
        listed = {u.account.id for u in users} | {u.account.principal.lower() for u in users}
        extra = sorted(k for k in counts if k not in listed)
        if len(extra) > unreadable:
            run.issues.append(
                SourceIssue(
                    codes.USERS_SHORT_READ,
                    f"the usage report names {len(extra)} users that users.list did not return: the listing "
                    f"ended early (or they were deleted since the report's day); first: {', '.join(extra[:3])}",
                    incomplete=True,
                )
            )

    def _portals(
        self, users: list[parse.DirectoryUser], org_units: tuple[parse.OrgUnitInfo, ...]
    ) -> tuple[Portal, ...]:
        known = {ou.path: ou for ou in org_units}
        for user in users:
            # The root unit (not listed by type=all) or a unit created since: still a portal.
            known.setdefault(user.org_unit, parse.OrgUnitInfo(user.org_unit, parse.ou_name_from_path(user.org_unit)))
        return tuple(parse.portal_for(self._source, ou) for ou in known.values())

    def _sign_ins(
        self, fetcher: Fetcher, run: _Run, ctx: CollectContext, users: list[parse.DirectoryUser]
    ) -> tuple[tuple[SignIn, ...], bool]:
        """login_success events of the period. The audit scope has its own token so that a
        missing grant costs the sign-ins only, not the whole source."""
        services = self._services((AUDIT,))  # the token itself is fetched lazily, on the first page
        by_id = {u.account.id: u for u in users}
        by_email = {u.account.principal: u for u in users}
        start = datetime.combine(ctx.period_start, datetime.min.time(), UTC)
        end = min(datetime.combine(ctx.period_end + timedelta(days=1), datetime.min.time(), UTC), ctx.now)

        def request(token: str | None) -> Any:
            return services.reports.activities().list(
                userKey="all",
                applicationName="login",
                eventName="login_success",
                startTime=_rfc3339(start),
                endTime=_rfc3339(end),
                maxResults=REPORTS_PAGE_SIZE,
                pageToken=token,
            )

        out: list[SignIn] = []
        unknown_actors = 0
        unknown_challenges: dict[str, int] = {}
        unknown_types: dict[str, int] = {}
        unstated: dict[str, int] = {}  # login type → sign-ins whose factor the log does not state
        try:
            for page in pages(fetcher, request, "login audit"):
                items = page.get("items") or []
                run.digest("activities.login", page, len(items) if isinstance(items, list) else 0)
                for item in items if isinstance(items, list) else ():
                    try:
                        events = parse.parse_login_activity(item)
                    except parse.ParseError as exc:
                        run.issues.append(SourceIssue(codes.LOGIN_EVENT_UNREADABLE, str(exc)))
                        continue
                    for event in events:
                        for value in event.unknown_challenges:
                            unknown_challenges[value] = unknown_challenges.get(value, 0) + 1
                        if event.unknown_login_type:
                            unknown_types[event.login_type] = unknown_types.get(event.login_type, 0) + 1
                        user = by_id.get(AccountId(event.actor_id or "")) or by_email.get(event.actor_email or "")
                        if user is None:
                            unknown_actors += 1
                            continue
                        if event.factor is None:
                            # Evidence of neither kind: never a single-factor sign-in (MFA-011).
                            kind = event.login_type or "(no login_type)"
                            unstated[kind] = unstated.get(kind, 0) + 1
                            continue
                        out.append(
                            SignIn(
                                user.account.id,
                                parse.portal_id(user.org_unit),
                                event.time,
                                event.factor,
                                event.login_type,
                            )
                        )
        except TokenRefused as exc:
            run.issues.append(SourceIssue(codes.LOGIN_AUDIT_REFUSED, f"login audit not read: {exc}"))
            return (), False
        except FetchFailed as exc:
            run.incomplete(codes.LOGIN_AUDIT_INCOMPLETE, exc)
            return tuple(sorted(out, key=lambda s: (s.time, s.account_id))), False
        for value, n in sorted(unknown_challenges.items()):
            run.issues.append(
                SourceIssue(
                    codes.UNKNOWN_CHALLENGE_METHOD,
                    f"login_challenge_method {value!r} is not one this connector knows: counted as no second "
                    f"factor ({n} sign-ins)",
                    value,
                )
            )
        for value, n in sorted(unknown_types.items()):
            run.issues.append(
                SourceIssue(
                    codes.UNKNOWN_LOGIN_TYPE,
                    f"login_type {value!r} is not one this connector knows: without a second step at Google such "
                    f"a sign-in is counted as neither single- nor multi-factor ({n} sign-ins)",
                    value,
                )
            )
        for login_type, n in sorted(unstated.items()):
            why = (
                "the identity provider did the sign-in; its factors are not in Google's log"
                if login_type in parse.FEDERATED_LOGIN_TYPES
                else "the event states no challenge method"
            )
            run.issues.append(
                SourceIssue(
                    codes.SIGN_IN_FACTOR_UNSTATED,
                    f"{n} sign-ins (login_type {login_type!r}) left out of the sign-in evidence: {why}",
                    login_type,
                )
            )
        if unknown_actors:
            run.issues.append(
                SourceIssue(codes.LOGIN_UNKNOWN_ACTOR, f"{unknown_actors} sign-ins by accounts not in users.list")
            )
        return tuple(sorted(out, key=lambda s: (s.time, s.account_id))), True

    # --- validate --------------------------------------------------------------------------

    def _probe(self, need: ScopeNeed, services: Services, group_id: str | None = None) -> Any:
        """One minimal GET that needs exactly this scope (members.list: of ``group_id``)."""
        customer = self._settings.customer
        if need is GROUP_MEMBERS:
            return services.directory.members().list(groupKey=group_id, maxResults=1)
        if need is USERS:
            return services.directory.users().list(customer=customer, maxResults=1)
        if need is ORG_UNITS:
            return services.directory.orgunits().list(customerId=customer, type="children")
        if need is ROLES:
            return services.directory.roleAssignments().list(customer=customer, maxResults=1)
        if need is USAGE:
            day = _report_date(self._clock(), REPORT_FIRST_LAG_DAYS).isoformat()
            return services.reports.userUsageReport().get(
                userKey="all", date=day, parameters="accounts:is_2sv_enrolled", maxResults=1
            )
        return services.reports.activities().list(userKey="all", applicationName="login", maxResults=1)

    def check_access(self) -> tuple[PermissionCheck, ...]:
        checks = []
        collect_scopes = [s.url for s in COLLECT_SCOPES]
        try:
            refresh_token(make_credentials(self._settings, collect_scopes), self._settings)
            checks.append(PermissionCheck("domain-wide delegation", "token for the collection scopes", True))
        except TokenRefused as exc:
            hint = (
                "a scope below is not authorised for this client ID" if exc.error == "unauthorized_client" else str(exc)
            )
            checks.append(PermissionCheck("domain-wide delegation", "token for the collection scopes", False, hint))
        fetcher = Fetcher(self._sleep, min(self._settings.max_attempts, 2), self._clock)
        checks.extend(self._check_scope(need, fetcher) for need in (USERS, ORG_UNITS, ROLES, GROUP_MEMBERS, USAGE))
        checks.append(replace(self._check_scope(AUDIT, fetcher), only_for_sign_ins=True))
        return tuple(checks)

    def _check_scope(self, need: ScopeNeed, fetcher: Fetcher) -> PermissionCheck:
        name = need.url
        try:
            creds = make_credentials(self._settings, [need.url])
            refresh_token(creds, self._settings)
        except TokenRefused as exc:
            if exc.error == "unauthorized_client":
                return PermissionCheck(
                    name,
                    need.purpose,
                    False,
                    "not authorised: add it to the client ID under Security > API controls > Domain-wide delegation",
                )
            return PermissionCheck(name, need.purpose, None, f"not checked: {exc}")
        group_id = None
        if need is GROUP_MEMBERS:
            # members.list needs a group, and the connector lists only role-holding ones:
            # probe the first such group, found with the role scope's own token.
            group_id, why_not = self._role_group(fetcher)
            if group_id is None:
                return PermissionCheck(name, need.purpose, True, f"token granted; members.list not tried: {why_not}")
        try:
            fetcher.execute(self._probe(need, make_services(self._settings, creds), group_id), f"{need.scope} probe")
        except FetchFailed as exc:
            if exc.permission_denied:
                return PermissionCheck(name, need.purpose, False, f"token granted but the API refused: {exc}")
            return PermissionCheck(name, need.purpose, None, f"not checked: {exc}")
        return PermissionCheck(name, need.purpose, True)

    def _role_group(self, fetcher: Fetcher) -> tuple[str | None, str]:
        """(the first group holding an admin role on roleAssignments.list's first page, or
        None and why not)."""
        services = self._services((ROLES,))
        request = services.directory.roleAssignments().list(
            customer=self._settings.customer, maxResults=ROLE_ASSIGNMENTS_PAGE_SIZE
        )
        try:
            page = fetcher.execute(request, "roleAssignments.list")
        except (TokenRefused, FetchFailed) as exc:
            return None, f"the role assignments could not be read to find a group ({exc})"
        for raw in page.get("items") or ():
            try:
                assignment = roles.parse_assignment(raw)
            except roles.RoleParseError:
                continue
            if assignment.assignee_type is roles.AssigneeType.GROUP:
                return assignment.assigned_to, ""
        return None, "no admin role is assigned to a group (first page of roleAssignments.list), none to read"
