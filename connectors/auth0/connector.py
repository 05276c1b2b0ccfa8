"""The Auth0 connector: fetch (auth0-python, paced, bounded retries) → parse → enforcement.

Read-only. Users come from the search listing when the tenant has fewer than 1,000 (the
listing cannot page further), otherwise from a users-export job (created, polled,
then its gzip NDJSON file streamed); the snapshot says which. Each user's
authentication methods are one request per user: the cost driver, spread over
``max_concurrency`` workers and paced at the tenant's rate. A listing that cannot be
read after retries makes the source incomplete with an issue naming it; a user whose
methods cannot be read is an unreadable record, never an account without methods.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from auditor.interfaces import CollectContext, PermissionCheck
from auditor.model import (
    Access,
    AccessVia,
    Account,
    Fact,
    Method,
    MethodAllowance,
    MethodKind,
    Policy,
    Portal,
    SignIn,
    SourceIssue,
    SourceName,
    SourceSnapshot,
    UnreadableRecord,
)
from connectors.auth0 import enforcement, parse
from connectors.auth0.client import Auth0Http, FetchFailed
from connectors.auth0.fetch import Reader, Run, digest
from connectors.auth0.pacing import PacerStats
from connectors.auth0.settings import Auth0Settings, parse_settings
from connectors.auth0.signins import read_sign_ins
from connectors.auth0.users import read_users
from connectors.auth0.validate import POST_LOGIN, check_access

CONNECTOR_NAME = "auth0"


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

    # --- collect -----------------------------------------------------------------------

    def collect(self, ctx: CollectContext) -> SourceSnapshot:
        http = self._http()
        http.progress = ctx.progress
        try:
            return self._collect(http, ctx)
        finally:
            self.last_stats = http.pacer.stats
            http.close()

    def _collect(self, http: Auth0Http, ctx: CollectContext) -> SourceSnapshot:
        run = Run()
        reader = Reader(http, run)
        http.token()  # credentials first: a refusal makes the source unavailable, clearly
        ctx.logger.info("auth0 %s: reading users", ctx.source)
        found = read_users(reader, self._settings, self._source, sleep=self._sleep, clock=self._clock)
        self.last_users_path = found.path
        ctx.progress.read("users", len(found.users) + len(found.unreadable))
        if found.total is not None:
            ctx.progress.total("users", found.total)
        ctx.logger.info("auth0 %s: reading the methods of %d users", ctx.source, len(found.users))
        methods, failed = self._methods(reader, found.users)
        portals = self._clients(reader)
        policies, allowances = self._enforcement(reader, portals)
        sign_ins: tuple[SignIn, ...] = ()
        collected = False
        if ctx.collect_sign_ins:
            sign_ins, collected = read_sign_ins(reader, ctx)
        else:
            run.fact(Fact.SIGN_IN_LOG, False, "collect_sign_ins is off for this source")
        accounts = []
        unreadable = list(found.unreadable)
        email_factor = any(a.kind is MethodKind.EMAIL_OTP and a.enabled for a in allowances)
        for user in found.users:
            acct = user.account
            if acct.id in failed:
                unreadable.append(UnreadableRecord(acct.id, failed[acct.id]))
                continue
            own = parse.with_verified_email(methods.get(acct.id, ()), user.email_verified, email_factor)
            accounts.append(replace(acct, methods=own))
        accounts.sort(key=lambda a: a.id)
        access = self._access(reader, accounts, portals)
        run.fact(Fact.ACCOUNTS, True)
        run.fact(Fact.SIGN_IN_TIMES, True)
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

    # --- methods -----------------------------------------------------------------------

    def _methods(
        self, reader: Reader, users: list[parse.Auth0User]
    ) -> tuple[dict[str, tuple[Method, ...]], dict[str, str]]:
        """One request per user (the cost driver), ``max_concurrency`` in flight, paced."""
        sdk, run = reader.sdk, reader.run
        methods: dict[str, tuple[Method, ...]] = {}
        failed: dict[str, str] = {}
        # Each user's methods reduced to a hash as they come: the bodies are not kept.
        hashes: dict[str, str] = {}
        issues: list[SourceIssue] = []
        skipped = 0
        asked = []
        for user in users:
            if self._settings.multifactor_prefilter and user.multifactor == ():
                methods[user.account.id] = ()
                skipped += 1
            else:
                asked.append(user.account.id)

        reader.http.progress.total("methods", len(asked))

        def one(uid: str) -> None:
            reader.http.progress.read("methods")
            try:
                items, _ = reader.listing(
                    f"authentication methods of user {uid}",
                    "authenticators",
                    lambda n: sdk.users.authentication_methods.list(uid, page=n, per_page=100, include_totals=True),
                )
            except FetchFailed as exc:
                failed[uid] = f"authentication methods not read: {exc}"
                return
            hashes[uid] = digest(uid, items).sha256
            found, problems = parse.parse_methods(items, uid)
            methods[uid] = found
            issues.extend(problems)

        with ThreadPoolExecutor(max_workers=self._settings.max_concurrency, thread_name_prefix="auth0-methods") as pool:
            list(pool.map(one, asked))
        run.issues.extend(issues)
        run.digests.append(
            digest("authentication methods (all users, by id)", ([u, hashes[u]] for u in sorted(hashes)))
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

    def _clients(self, reader: Reader) -> list[Portal]:
        sdk, run = reader.sdk, reader.run
        try:
            raws, _ = reader.listing(
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
        run.digests.append(digest("clients", raws))
        portals = []
        for raw in raws:
            portal, note = parse.parse_client(raw, self._source)
            if note:
                run.issues.append(SourceIssue("auth0.client_type", note))
            if portal is not None:
                portals.append(portal)
        return sorted(portals, key=lambda p: p.id)

    # --- access ------------------------------------------------------------------------

    def _access(self, reader: Reader, accounts: list[Account], portals: list[Portal]) -> tuple[Access, ...]:
        """Auth0 has no per-user assignment: a user may sign in to every application its
        connection is enabled for. Unread connections: every application (more findings,
        never fewer), and the fact says access was not read."""
        run = reader.run
        try:
            enabled = self._connections(reader)
        except FetchFailed as exc:
            run.issues.append(
                SourceIssue("auth0.connections_unreadable", f"{exc}: every user is taken to reach every application")
            )
            run.fact(Fact.ACCESS, False, f"connections not read ({exc.code or exc.status}): every application assumed")
            return tuple(Access(a.id, p.id, AccessVia.EVERYONE) for a in accounts for p in portals)
        run.fact(Fact.ACCESS, True)
        out: list[Access] = []
        unknown: set[str] = set()
        for a in accounts:
            # A linked account signs in through any of its identities' connections.
            linked = a.attributes.get("linked_connections", "")
            names = [a.attributes.get("connection", ""), *filter(None, linked.split(","))]
            missing = [n for n in names if n not in enabled]
            unknown.update(missing)
            clients = None if missing else frozenset().union(*(enabled[n] for n in names))
            out.extend(Access(a.id, p.id, AccessVia.EVERYONE) for p in portals if clients is None or p.id in clients)
        if unknown:
            run.issues.append(
                SourceIssue(
                    "auth0.connection_unknown",
                    f"users of {len(unknown)} connection(s) not listed (first: {sorted(unknown)[0]!r}): "
                    "taken to reach every application",
                )
            )
        return tuple(out)

    def _connections(self, reader: Reader) -> dict[str, frozenset[str]]:
        """Connection name → the client ids it is enabled for (checkpoint paging; only ids
        and names are asked for: a connection's options can hold a social provider's secret)."""
        sdk = reader.sdk
        connections: list[Any] = []
        cursor: str | None = None
        while True:
            body = reader.json(
                "connections",
                partial(
                    sdk.connections.list,
                    take=50,
                    from_=cursor,
                    include_totals=False,
                    fields="id,name",
                    include_fields=True,
                ),
            )
            page = body.get("connections") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise FetchFailed("connections", 200, "malformed", "no connections list in the answer", 1)
            connections.extend(c for c in page if isinstance(c, dict))
            nxt = body.get("next")
            if not isinstance(nxt, str) or not nxt or not page or nxt == cursor:
                break
            cursor = nxt
        out: dict[str, frozenset[str]] = {}
        for con in connections:
            cid, name = con.get("id"), con.get("name")
            if not isinstance(cid, str) or not isinstance(name, str):
                continue
            clients: set[str] = set()
            after: str | None = None
            while True:
                body = reader.json(
                    f"clients of connection {cid}", partial(sdk.connections.clients.get, cid, take=100, from_=after)
                )
                page = body.get("clients") if isinstance(body, dict) else None
                if not isinstance(page, list):
                    raise FetchFailed(f"clients of connection {cid}", 200, "malformed", "no clients list", 1)
                clients.update(str(c["client_id"]) for c in page if isinstance(c, dict) and "client_id" in c)
                nxt = body.get("next")
                if not isinstance(nxt, str) or not nxt or not page or nxt == after:
                    break
                after = nxt
            out[name] = frozenset(clients)
        reader.run.digests.append(digest("connections", [[n, sorted(c)] for n, c in sorted(out.items())]))
        return out

    # --- enforcement -------------------------------------------------------------------

    def _enforcement(
        self, reader: Reader, portals: list[Portal]
    ) -> tuple[tuple[Policy, ...], tuple[MethodAllowance, ...]]:
        sdk, run = reader.sdk, reader.run
        allowances: tuple[MethodAllowance, ...] = ()
        try:
            factors = reader.json("guardian factors", lambda: sdk.guardian.factors.list())
            if not isinstance(factors, list) or not all(isinstance(f, dict) for f in factors):
                raise FetchFailed("guardian factors", 200, "malformed", "not a list of factors", 1)
            run.digests.append(digest("guardian factors", factors))
            allowances, issues = enforcement.method_policy(factors)
            run.issues.extend(issues)
            run.fact(Fact.METHODS_POLICY, True)
        except FetchFailed as exc:
            run.issues.append(SourceIssue("auth0.factors_unreadable", f"{exc}: which factors are enabled is not known"))
            run.fact(Fact.METHODS_POLICY, False, f"GET /guardian/factors failed: {exc.code or exc.status}")
        out: list[Policy] = []
        policies_read = True
        try:
            values = reader.json("guardian policies", lambda: sdk.guardian.policies.list())
            if not isinstance(values, list):
                raise FetchFailed("guardian policies", 200, "malformed", "not a list", 1)
            run.digests.append(digest("guardian policies", values))
            tenant, issues = enforcement.tenant_policies(values, enforcement.demanded(allowances))
            out.extend(tenant)
            run.issues.extend(issues)
        except FetchFailed as exc:
            run.incomplete("auth0.mfa_policy_unreadable", f"{exc}: the tenant MFA policy is unknown")
            policies_read = False
        try:
            out.extend(self._actions(reader, portals, allowances))
        except FetchFailed as exc:
            run.incomplete(
                "auth0.actions_unreadable", f"{exc}: post-login Actions may enforce MFA: enforcement unknown"
            )
            policies_read = False
        run.fact(Fact.POLICIES, policies_read, "" if policies_read else "the MFA policy or the Actions were not read")
        return tuple(out), allowances

    def _actions(self, reader: Reader, portals: list[Portal], allowances: tuple[MethodAllowance, ...]) -> list[Policy]:
        """Each bound post-login action's deployed code, read statically
        (``enforcement.read_action``): obvious enforcement becomes a policy; anything
        else that touches MFA makes the source incomplete, naming the action."""
        sdk, run = reader.sdk, reader.run
        bindings, _ = reader.listing(
            "post-login bindings",
            "bindings",
            lambda n: sdk.actions.triggers.bindings.list(POST_LOGIN, page=n, per_page=50),
        )
        run.digests.append(digest("post-login bindings", bindings))
        names = {p.name: str(p.id) for p in portals}
        out: list[Policy] = []
        for binding in bindings:
            action = binding.get("action") if isinstance(binding, dict) else None
            aid = action.get("id") if isinstance(action, dict) else None
            if not isinstance(aid, str):
                run.incomplete("auth0.action_unreadable", "a post-login binding names no action id")
                continue
            detail = reader.json(f"action {aid}", partial(sdk.actions.get, aid))
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
            run.digests.append(digest(f"action {aid}", [code]))
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

    # --- validate ----------------------------------------------------------------------

    def check_access(self) -> tuple[PermissionCheck, ...]:
        http = self._http()
        try:
            return check_access(http, self._settings.client_id)
        finally:
            http.close()


__all__ = ["CONNECTOR_NAME", "Auth0Connector"]
