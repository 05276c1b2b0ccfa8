"""Long, known debt: the collection phases (users, MFA settings, clients, risk, sign-ins)
want their own module, as Keycloak's fetch.py.

The Amazon Cognito connector: one user pool, read with boto3 ``cognito-idp``.

Fetch (paced per quota category, retried) → parse → policies. Read-only: only the
``Describe*`` / ``Get*`` / ``List*`` / ``AdminGetUser`` / ``AdminListUserAuthEvents``
actions are called. A listing that cannot be read makes the source incomplete with an
issue naming it; a user whose MFA settings cannot be read is an unreadable record,
never an account without MFA.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from auditor.interfaces import (
    NO_PROGRESS,
    AuthenticationError,
    CollectContext,
    CollectProgress,
    PermissionCheck,
    SourceUnavailable,
)
from auditor.model import (
    Access,
    AccessVia,
    AccountId,
    Fact,
    FactRead,
    Method,
    PageDigest,
    Policy,
    Portal,
    PortalId,
    SignIn,
    SourceIssue,
    SourceName,
    SourceSnapshot,
    UnreadableRecord,
)
from connectors.cognito import parse, policies
from connectors.cognito.client import CallFailed, CognitoApi, isolated_client
from connectors.cognito.pacing import Pacer
from connectors.cognito.settings import (
    ALL_ACTIONS,
    DEFAULT_QUOTAS,
    ActionNeed,
    CognitoSettings,
    parse_settings,
)
from connectors.cognito.workers import run_bounded

CONNECTOR_NAME = "cognito"
LIST_USERS_LIMIT = 60  # ListUsers' maximum page
CLIENTS_LIMIT = 60
EVENTS_LIMIT = 60
NO_EVENTS = "UserPoolAddOnNotEnabledException"  # threat protection off: Cognito keeps no events
PASSKEY_NOTE = (
    "passkeys are not visible: Cognito lists a user's passkeys (ListWebAuthnCredentials) only to that user's own "
    "access token, never to an administrator; none is counted"
)


@dataclass(slots=True)
class _Run:
    issues: list[SourceIssue] = field(default_factory=list)
    digests: list[PageDigest] = field(default_factory=list)
    facts: dict[Fact, FactRead] = field(default_factory=dict)

    def page(self, endpoint: str, body: Mapping[str, Any], records: int) -> None:
        # botocore adds ResponseMetadata (request id, date, retry count) to every answer: it
        # is about the call, not the data, and would make the same pool digest differently.
        data = {k: v for k, v in body.items() if k != "ResponseMetadata"}
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        self.digests.append(PageDigest(endpoint, hashlib.sha256(blob).hexdigest(), records))

    def incomplete(self, code: str, message: str) -> None:
        self.issues.append(SourceIssue(code, message, incomplete=True))

    def fact(self, fact: Fact, read: bool, reason: str = "") -> None:
        self.facts[fact] = FactRead(fact, read, reason)

    @property
    def complete(self) -> bool:
        return not any(i.incomplete for i in self.issues)


class CognitoConnector:
    """Entry point ``cognito``. ``retry_delay`` (seconds before the first retry,
    doubling), ``clock`` and ``sleep`` (for the pacer) are injectable."""

    def __init__(
        self,
        source: str,
        settings: Mapping[str, Any],
        base_dir: Path,
        *,
        retry_delay: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._source = SourceName(source)
        self._settings: CognitoSettings = parse_settings(settings, base_dir)
        self._retry_delay = retry_delay
        self._clock = clock
        self._sleep = sleep
        self.last_api: CognitoApi | None = None

    def __repr__(self) -> str:
        s = self._settings
        return (
            f"CognitoConnector(source={self._source!r}, user_pool_id={s.user_pool_id!r}, endpoint={s.endpoint_url!r})"
        )

    def _api(self, progress: CollectProgress = NO_PROGRESS) -> CognitoApi:
        s = self._settings
        pacer = Pacer({c: s.rate(c) for c in DEFAULT_QUOTAS}, self._clock, self._sleep)
        api = CognitoApi(isolated_client(s), pacer, s.max_attempts, self._retry_delay, self._sleep, progress)
        self.last_api = api
        return api

    # --- collect -----------------------------------------------------------------------

    def collect(self, ctx: CollectContext) -> SourceSnapshot:
        s = self._settings
        run = _Run()
        api = self._api(ctx.progress)
        pool_id = s.user_pool_id
        try:
            pool = api.call("DescribeUserPool", UserPoolId=pool_id).get("UserPool") or {}
        except CallFailed as exc:
            if exc.permission_denied:
                raise AuthenticationError(f"{exc} (run `mfa-audit validate`)") from exc
            raise SourceUnavailable(f"user pool {pool_id}: {exc}") from exc
        run.page("DescribeUserPool", pool, 1)
        estimate = self._expected(pool).get("accounts")
        if estimate is not None:
            ctx.progress.total("users", estimate)
            ctx.progress.total("MFA settings", estimate)
        cfg = self._mfa_config(api, run, pool)
        portals = self._clients(api, run)
        ctx.logger.info("cognito %s: reading the users of pool %s and their MFA settings", ctx.source, pool_id)
        users: dict[str, parse.CognitoUser] = {}
        unreadable: list[UnreadableRecord] = []
        # The per-user AdminGetUser calls start as soon as each ListUsers page arrives.
        methods, preferred, failed = self._methods(api, run, self._users(api, run, pool, users, unreadable))
        ctx.logger.info("cognito %s: %d users listed", ctx.source, len(users))
        for username, reason in failed.items():
            unreadable.append(UnreadableRecord(users[username].account.id, reason))
        readable = [u for name, u in users.items() if name in methods]
        policy_list: list[Policy] = []
        if cfg is not None:
            federated = [u.account.id for u in readable if u.federated]
            opted_in = [u.account.id for u in readable if any(m.kind in cfg.accepted for m in methods[u.username])]
            custom = self._custom_auth_clients(api, run, cfg, [p.id for p in portals])
            pool_pol, issues = policies.pool_policy(cfg, opted_in, federated, custom)
            run.issues.extend(issues)
            if pool_pol is not None:
                policy_list.append(pool_pol)
            risks = self._risks(api, run, cfg, [p.id for p in portals])
            if risks is not None:
                adaptive, issues = policies.adaptive_policy(cfg, risks, federated)
                run.issues.extend(issues)
                if adaptive is not None:
                    policy_list.append(adaptive)
            if cfg.webauthn:
                run.issues.append(SourceIssue("cognito.passkeys_not_visible", PASSKEY_NOTE))
        sign_ins: tuple[SignIn, ...] = ()
        last: dict[str, datetime] = {}
        collected = False
        if ctx.collect_sign_ins:
            sign_ins, last, collected = self._sign_ins(api, run, ctx, cfg, readable, portals)
        else:
            reason = "sign-ins not collected (collect_sign_ins is off)"
            run.fact(Fact.SIGN_IN_LOG, False, reason)
            run.fact(Fact.SIGN_IN_TIMES, False, reason + "; Cognito keeps no last-sign-in time on the user")
        accounts = []
        for u in readable:
            attrs = dict(u.account.attributes)
            if preferred.get(u.username):
                attrs["preferred_mfa"] = preferred[u.username]
            accounts.append(
                replace(u.account, methods=methods[u.username], last_sign_in=last.get(u.username), attributes=attrs)
            )
        access = [Access(a.id, p.id, AccessVia.EVERYONE) for a in accounts if a.enabled for p in portals]
        self._facts(run, cfg)
        if self.last_api is not None:
            throttled = sum(st.throttled for st in self.last_api.pacer.stats.values())
            ctx.logger.info("cognito %s: %d accounts, %d throttled answers", ctx.source, len(accounts), throttled)
        return SourceSnapshot(
            source=self._source,
            connector=CONNECTOR_NAME,
            collected_at=ctx.now,
            complete=run.complete,
            accounts=tuple(sorted(accounts, key=lambda a: a.id)),
            portals=tuple(portals),
            access=tuple(sorted(access, key=lambda x: (x.account_id, x.portal_id))),
            policies=tuple(policy_list),
            sign_ins=sign_ins,
            issues=tuple(run.issues),
            unreadable=tuple(sorted(unreadable, key=lambda r: r.record)),
            expected_counts=self._expected(pool),
            raw_digests=tuple(run.digests),
            sign_ins_collected=collected,
            facts=tuple(run.facts[f] for f in Fact if f in run.facts),
            method_policy=policies.method_policy(cfg) if cfg is not None else (),
        )

    @staticmethod
    def _expected(pool: Mapping[str, Any]) -> dict[str, int]:
        estimate = pool.get("EstimatedNumberOfUsers")
        return {"accounts": estimate} if isinstance(estimate, int) and not isinstance(estimate, bool) else {}

    def _users(
        self,
        api: CognitoApi,
        run: _Run,
        pool: Mapping[str, Any],
        users: dict[str, parse.CognitoUser],
        unreadable: list[UnreadableRecord],
    ) -> Iterator[parse.CognitoUser]:
        """Every user, 60 a page, following ``PaginationToken``, yielded as read (and
        kept in ``users`` / ``unreadable``). A token seen twice, or fewer users than
        ``EstimatedNumberOfUsers`` at the end, is a short read."""
        token: str | None = None
        tokens: set[str] = set()
        n = 0
        while True:
            params: dict[str, Any] = {"UserPoolId": self._settings.user_pool_id, "Limit": LIST_USERS_LIMIT}
            if token:
                params["PaginationToken"] = token
            try:
                page = api.call("ListUsers", **params)
            except CallFailed as exc:
                if not users and exc.permission_denied:
                    raise AuthenticationError(f"{exc} (run `mfa-audit validate`)") from exc
                run.incomplete("cognito.users_incomplete", f"users listing stopped after {n} users: {exc}")
                return
            raw = page.get("Users")
            items = raw if isinstance(raw, list) else []
            run.page("ListUsers", page, len(items))
            api.progress.read("users", len(items))
            for item in items:
                n += 1
                parsed = parse.parse_user(item, self._source, f"ListUsers record {n}")
                if isinstance(parsed, UnreadableRecord):
                    unreadable.append(parsed)
                elif parsed.username not in users:  # a record repeated on a later page: once
                    users[parsed.username] = parsed
                    if parsed.issue is not None:
                        run.issues.append(parsed.issue)
                    yield parsed
            nxt = page.get("PaginationToken")
            if not isinstance(nxt, str) or not nxt:
                break
            if nxt in tokens:
                run.incomplete("cognito.users_incomplete", f"ListUsers: PaginationToken repeats after {n} users")
                return
            tokens.add(nxt)
            token = nxt
        estimate = self._expected(pool).get("accounts")
        read = len(users) + len(unreadable)
        if estimate is not None and read < estimate:
            run.incomplete(
                "cognito.users_short_read",
                f"ListUsers returned {read} users but DescribeUserPool estimates {estimate}: the listing ended early",
            )

    def _mfa_config(self, api: CognitoApi, run: _Run, pool: Mapping[str, Any]) -> policies.PoolMfa | None:
        try:
            mfa = api.call("GetUserPoolMfaConfig", UserPoolId=self._settings.user_pool_id)
        except CallFailed as exc:
            run.incomplete("cognito.mfa_config_unreadable", f"{exc}: enforcement unknown")
            return None
        run.page("GetUserPoolMfaConfig", mfa, 1)
        return policies.read_pool_mfa(pool, mfa)

    def _clients(self, api: CognitoApi, run: _Run) -> list[Portal]:
        out: list[Portal] = []
        token: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"UserPoolId": self._settings.user_pool_id, "MaxResults": CLIENTS_LIMIT}
            if token:
                params["NextToken"] = token
            try:
                page = api.call("ListUserPoolClients", **params)
            except CallFailed as exc:
                run.incomplete("cognito.clients_unreadable", f"{exc}: portals and access unknown")
                return out
            raw = page.get("UserPoolClients")
            items = raw if isinstance(raw, list) else []
            run.page("ListUserPoolClients", page, len(items))
            out.extend(p for p in (parse.parse_client(i, self._source) for i in items) if p is not None)
            nxt = page.get("NextToken")
            if not isinstance(nxt, str) or not nxt or nxt in seen:
                return out
            seen.add(nxt)
            token = nxt

    def _methods(
        self, api: CognitoApi, run: _Run, users: Iterable[parse.CognitoUser]
    ) -> tuple[dict[str, tuple[Method, ...]], dict[str, str], dict[str, str]]:
        """``AdminGetUser`` for every user: the cost driver, one request each (UserRead),
        ``max_concurrency`` at a time, fed while the listing goes on."""
        methods: dict[str, tuple[Method, ...]] = {}
        preferred: dict[str, str] = {}
        failed: dict[str, str] = {}
        bodies: dict[str, bytes] = {}
        vanished: list[str] = []

        ids: dict[str, str] = {}

        def one(user: parse.CognitoUser) -> None:
            username = user.username
            ids[username] = user.account.id
            try:
                raw = api.call("AdminGetUser", UserPoolId=self._settings.user_pool_id, Username=username)
            except CallFailed as exc:
                if exc.code == "UserNotFoundException":  # deleted since it was listed: gone, not unread
                    vanished.append(user.account.id)
                    return
                failed[username] = f"MFA settings not read: {exc}"
                return
            api.progress.read("MFA settings")
            found, pref, issues = parse.parse_mfa(raw, user.account.id)
            keep = {k: raw.get(k) for k in ("Username", "UserMFASettingList", "PreferredMfaSetting", "MFAOptions")}
            bodies[username] = json.dumps(keep, sort_keys=True).encode()
            methods[username] = found
            preferred[username] = pref
            run.issues.extend(issues)

        run_bounded((partial(one, u) for u in users), self._settings.max_concurrency)
        digest = hashlib.sha256()
        for name in sorted(bodies):
            digest.update(name.encode() + b"\0" + bodies[name] + b"\0")
        run.digests.append(PageDigest("AdminGetUser (all users, by username)", digest.hexdigest(), len(bodies)))
        if vanished:
            run.issues.append(
                SourceIssue(
                    "cognito.users_deleted_during_run",
                    f"{len(vanished)} user(s) listed by ListUsers were deleted before their MFA settings were read "
                    f"(first: {sorted(vanished)[0]}); left out",
                )
            )
        if failed:
            first = ", ".join(sorted(ids[u] for u in failed)[:5])
            run.incomplete(
                "cognito.mfa_settings_unreadable",
                f"the MFA settings of {len(failed)} user(s) could not be read (first: {first}); listed as unreadable",
            )
        return methods, preferred, failed

    def _custom_auth_clients(
        self, api: CognitoApi, run: _Run, cfg: policies.PoolMfa, clients: list[PortalId]
    ) -> list[PortalId] | None:
        """With a custom-authentication Lambda, the app clients whose ExplicitAuthFlows
        allow the custom flow (``DescribeUserPoolClient``, one per client); None when not
        read (every client is then taken to allow it). Without the Lambda, nothing is asked."""
        if not cfg.custom_auth:
            return []
        out: list[PortalId] = []
        for client in clients:
            try:
                answer = api.call("DescribeUserPoolClient", UserPoolId=self._settings.user_pool_id, ClientId=client)
            except CallFailed as exc:
                run.issues.append(
                    SourceIssue(
                        "cognito.client_flows_unreadable",
                        f"{exc}: every app client is taken to allow the custom authentication flow",
                    )
                )
                return None
            run.page("DescribeUserPoolClient", answer, 1)
            described = answer.get("UserPoolClient")
            if not isinstance(described, Mapping) or policies.allows_custom_auth(described):
                out.append(client)
        return out

    def _risks(
        self, api: CognitoApi, run: _Run, cfg: policies.PoolMfa, clients: list[PortalId]
    ) -> dict[PortalId, Mapping[str, Any] | None] | None:
        """The risk configuration per app client (a client's own, else the pool's)."""
        if cfg.security_mode == "OFF":
            return {}
        out: dict[PortalId, Mapping[str, Any] | None] = {}
        for client in clients:
            try:
                answer = api.call("DescribeRiskConfiguration", UserPoolId=self._settings.user_pool_id, ClientId=client)
            except CallFailed as exc:
                run.incomplete(
                    "cognito.risk_config_unreadable",
                    f"{exc}: what adaptive authentication does for app client {client} is unknown",
                )
                return None
            run.page("DescribeRiskConfiguration", answer, 1)
            risk = answer.get("RiskConfiguration")
            out[client] = risk if isinstance(risk, Mapping) else None
        return out

    def _sign_ins(
        self,
        api: CognitoApi,
        run: _Run,
        ctx: CollectContext,
        cfg: policies.PoolMfa | None,
        users: list[parse.CognitoUser],
        portals: list[Portal],
    ) -> tuple[tuple[SignIn, ...], dict[str, datetime], bool]:
        """``AdminListUserAuthEvents`` per user, newest first, until the period's start.
        Only with threat protection on (otherwise Cognito keeps no events). Events do
        not name the app client: they become sign-ins only when the pool has one."""
        if cfg is None or cfg.security_mode == "OFF":
            reason = "Cognito records auth events only with threat protection (advanced security) on; it is off"
            run.fact(Fact.SIGN_IN_LOG, False, reason)
            run.fact(Fact.SIGN_IN_TIMES, False, reason)
            return (), {}, False
        start = datetime.combine(ctx.period_start, datetime.min.time(), UTC)
        end = min(datetime.combine(ctx.period_end + timedelta(days=1), datetime.min.time(), UTC), ctx.now)
        events: dict[str, list[parse.AuthEvent]] = {}
        failed: list[tuple[str, CallFailed]] = []

        def one(user: parse.CognitoUser) -> None:
            found: list[parse.AuthEvent] = []
            token: str | None = None
            while True:
                params: dict[str, Any] = {
                    "UserPoolId": self._settings.user_pool_id,
                    "Username": user.username,
                    "MaxResults": EVENTS_LIMIT,
                }
                if token:
                    params["NextToken"] = token
                try:
                    page = api.call("AdminListUserAuthEvents", **params)
                except CallFailed as exc:
                    failed.append((user.account.id, exc))
                    return
                raw = page.get("AuthEvents")
                batch = parse.parse_auth_events(raw if isinstance(raw, list) else [])
                found.extend(batch)
                nxt = page.get("NextToken")
                older = any(e.time < start for e in batch)
                if (older and any(e.sign_in for e in found)) or not isinstance(nxt, str) or not nxt or nxt == token:
                    break
                token = nxt
            events[user.username] = found

        enabled = [u for u in users if u.account.enabled]
        if enabled:
            # The first user alone: a refused permission shows here, before a request per user.
            one(enabled[0])
            if failed and (failed[0][1].permission_denied or failed[0][1].code == NO_EVENTS):
                reason = f"auth events not read: {failed[0][1]}"
                run.issues.append(SourceIssue("cognito.auth_events_refused", reason))
                run.fact(Fact.SIGN_IN_LOG, False, reason)
                run.fact(Fact.SIGN_IN_TIMES, False, reason)
                return (), {}, False
        run_bounded((partial(one, u) for u in enabled[1:]), self._settings.max_concurrency)
        if failed:
            first = sorted(uid for uid, _ in failed)[0]
            run.incomplete(
                "cognito.auth_events_incomplete",
                f"the auth events of {len(failed)} user(s) could not be read (first: {first}: {failed[0][1]})",
            )
        last = {
            name: max(e.time for e in evs if e.sign_in) for name, evs in events.items() if any(e.sign_in for e in evs)
        }
        run.fact(Fact.SIGN_IN_TIMES, True)
        if len(portals) != 1:
            run.fact(
                Fact.SIGN_IN_LOG,
                False,
                f"Cognito auth events do not name the app client, and the pool has {len(portals)}: a sign-in "
                "cannot be tied to a portal",
            )
            return (), last, False
        portal = portals[0].id
        by_name = {u.username: u.account.id for u in users}
        out = [
            SignIn(AccountId(by_name[name]), portal, e.time, e.factor, "cognito")
            for name, evs in events.items()
            for e in evs
            if e.sign_in and start <= e.time < end
        ]
        run.fact(Fact.SIGN_IN_LOG, True)
        return tuple(sorted(out, key=lambda x: (x.time, x.account_id))), last, True

    @staticmethod
    def _facts(run: _Run, cfg: policies.PoolMfa | None) -> None:
        run.fact(Fact.ACCOUNTS, True)
        methods_note = PASSKEY_NOTE if cfg is not None and cfg.webauthn else ""
        run.fact(Fact.METHODS, True, methods_note)
        run.fact(Fact.POLICIES, cfg is not None, "" if cfg is not None else "GetUserPoolMfaConfig could not be read")
        run.fact(Fact.METHODS_POLICY, cfg is not None, "" if cfg is not None else "the pool's MFA types are unknown")
        run.fact(
            Fact.ROLES,
            False,
            "a user pool has no administrator roles; application groups are not read",
        )
        run.fact(Fact.ACCESS, True, "every user of the pool can sign in through every app client")
        run.fact(
            Fact.LEGACY_AUTH,
            False,
            "not applicable: a user pool has no legacy protocols; custom authentication flows are not examined",
        )

    # --- validate ----------------------------------------------------------------------

    def check_access(self) -> tuple[PermissionCheck, ...]:
        """One minimal call per IAM action the connector needs."""
        try:
            api = self._api()
        except AuthenticationError as exc:  # a secret reference that does not resolve
            return (PermissionCheck("access key", "sign requests to Cognito", False, str(exc)),)
        pool_id = self._settings.user_pool_id
        probes: dict[str, Callable[[], Any]] = {
            "DescribeUserPool": lambda: api.call("DescribeUserPool", UserPoolId=pool_id),
            "GetUserPoolMfaConfig": lambda: api.call("GetUserPoolMfaConfig", UserPoolId=pool_id),
            "ListUsers": lambda: api.call("ListUsers", UserPoolId=pool_id, Limit=1),
            "ListUserPoolClients": lambda: api.call("ListUserPoolClients", UserPoolId=pool_id, MaxResults=1),
        }
        checks: list[PermissionCheck] = []
        try:
            first = api.call("ListUsers", UserPoolId=pool_id, Limit=1)
        except AuthenticationError as exc:
            return (PermissionCheck("access key", "sign requests to Cognito", False, str(exc)),)
        except CallFailed as exc:
            first = None
            checks.append(PermissionCheck("access key", "sign requests to Cognito", True))
            checks.append(PermissionCheck("cognito-idp:ListUsers", "every user of the pool", False, str(exc)))
        else:
            checks.append(PermissionCheck("access key", "sign requests to Cognito", True))
        users = first.get("Users") if isinstance(first, Mapping) else None
        username = (
            users[0].get("Username") if isinstance(users, list) and users and isinstance(users[0], Mapping) else None
        )
        client = None
        try:
            listed = api.call("ListUserPoolClients", UserPoolId=pool_id, MaxResults=1).get("UserPoolClients")
            client = listed[0].get("ClientId") if isinstance(listed, list) and listed else None
        except CallFailed:
            pass
        if username:
            probes["AdminGetUser"] = lambda: api.call("AdminGetUser", UserPoolId=pool_id, Username=username)
            probes["AdminListUserAuthEvents"] = lambda: api.call(
                "AdminListUserAuthEvents", UserPoolId=pool_id, Username=username, MaxResults=1
            )
        if client:
            probes["DescribeRiskConfiguration"] = lambda: api.call(
                "DescribeRiskConfiguration", UserPoolId=pool_id, ClientId=client
            )
            probes["DescribeUserPoolClient"] = lambda: api.call(
                "DescribeUserPoolClient", UserPoolId=pool_id, ClientId=client
            )
        for need in ALL_ACTIONS:
            if need.action == "ListUsers" and first is None:
                continue
            checks.append(self._check(need, probes.get(need.action)))
        return tuple(checks)

    @staticmethod
    def _check(need: ActionNeed, probe: Callable[[], Any] | None) -> PermissionCheck:
        name = f"cognito-idp:{need.action}"
        if probe is None:
            return PermissionCheck(
                name,
                need.purpose,
                None,
                "not checked: the pool has no user or app client to try it on",
                only_for_sign_ins=need.optional,
            )
        try:
            probe()
        except CallFailed as exc:
            if exc.permission_denied:
                return PermissionCheck(name, need.purpose, False, f"refused: {exc}", only_for_sign_ins=need.optional)
            if exc.code == "UserPoolAddOnNotEnabledException":
                return PermissionCheck(
                    name,
                    need.purpose,
                    None,
                    "not checked: threat protection is off in this pool (no auth events)",
                    only_for_sign_ins=need.optional,
                )
            return PermissionCheck(name, need.purpose, None, f"not checked: {exc}", only_for_sign_ins=need.optional)
        return PermissionCheck(name, need.purpose, True, only_for_sign_ins=need.optional)


__all__ = ["CONNECTOR_NAME", "CognitoConnector"]
