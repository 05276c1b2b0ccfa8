"""The Keycloak connector: fetch (python-keycloak, first/max paging, a gentle throttle)
→ parse → walk the flows per user → policies.

Read-only: only GET requests reach the Admin REST API, plus the client-credentials
token request. A listing that cannot be read after bounded retries makes the source
incomplete with an issue naming it; a user whose credentials cannot be read is an
unreadable record, never an account without factors. The users listing is checked
against ``/users/count``: a short read is an incomplete source, not a smaller realm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from auditor.interfaces import AuthenticationError, CollectContext, PermissionCheck
from auditor.model import (
    Account,
    AccountId,
    Fact,
    FactRead,
    GroupId,
    RoleId,
    SignIn,
    SourceName,
    SourceSnapshot,
    UnreadableRecord,
)
from connectors.keycloak import enforcement, flows, parse
from connectors.keycloak.client import FetchFailed, KeycloakHttp
from connectors.keycloak.fetch import ADMIN, Reader, Run
from connectors.keycloak.settings import (
    ALL_ROLES,
    VIEW_CLIENTS,
    VIEW_EVENTS,
    VIEW_REALM,
    VIEW_USERS,
    KeycloakSettings,
    RoleNeed,
    parse_settings,
)

CONNECTOR_NAME = "keycloak"


class KeycloakConnector:
    """Entry point ``keycloak``. ``retry_delay``: seconds before the first retry (doubling)."""

    def __init__(self, source: str, settings: Mapping[str, Any], base_dir: Path, *, retry_delay: float = 0.5) -> None:
        self._source = SourceName(source)
        self._settings: KeycloakSettings = parse_settings(settings, base_dir)
        self._retry_delay = retry_delay
        self.last_requests = 0  # requests of the last collection (benchmarks)

    def __repr__(self) -> str:
        return f"KeycloakConnector(source={self._source!r}, realm={self._settings.realm!r})"

    def collect(self, ctx: CollectContext) -> SourceSnapshot:
        http = KeycloakHttp(self._settings, self._retry_delay, ctx.progress)
        try:
            return self._collect(http, ctx)
        finally:
            self.last_requests = http.requests
            http.close()

    def _collect(self, http: KeycloakHttp, ctx: CollectContext) -> SourceSnapshot:
        run = Run()
        reader = Reader(self._settings, self._source)
        facts: dict[Fact, FactRead] = {}
        realm = reader.read_realm(http)
        ctx.logger.info("keycloak %s: reading users", ctx.source)
        users, unreadable, expected = reader.read_users(http, run)
        facts[Fact.ACCOUNTS] = FactRead(Fact.ACCOUNTS, True)
        methods, creds, failed = reader.read_credentials(http, run, users)
        facts[Fact.METHODS] = FactRead(Fact.METHODS, True)
        clients, raw_clients = reader.read_clients(http, run)
        roles_of, groups_of, roles_ok = reader.read_roles_and_groups(http, run, raw_clients)
        facts[Fact.ROLES] = FactRead(Fact.ROLES, roles_ok, "" if roles_ok else "role members could not be read")
        idps = reader.read_idps(http, run)
        trees, flows_ok, alias_of = reader.read_flows(http, run, realm, clients, idps)
        facts[Fact.POLICIES] = FactRead(Fact.POLICIES, flows_ok, "" if flows_ok else "flows could not be read")
        accounts: list[Account] = []
        user_facts: dict[AccountId, flows.UserFacts] = {}
        for u in users:
            a = u.account
            if a.id in failed:
                unreadable.append(UnreadableRecord(a.id, failed[a.id]))
                continue
            user_roles = tuple(sorted(roles_of.get(a.id, ())))
            accounts.append(
                replace(
                    a,
                    roles=tuple(RoleId(r) for r in user_roles),
                    groups=tuple(GroupId(g) for g in sorted(groups_of.get(a.id, ()))),
                    privileged=any(r.startswith(parse.ADMIN_CLIENT + ".") for r in user_roles),
                    methods=methods.get(a.id, ()),
                )
            )
            user_facts[a.id] = flows.UserFacts(creds.get(a.id, frozenset()), frozenset(user_roles), u.attributes)
        portals, access, policy_list = enforcement.enforce(
            run, self._source, self._settings.brokers, alias_of, realm, clients, idps, trees, accounts, user_facts
        )
        facts[Fact.ACCESS] = FactRead(Fact.ACCESS, True, "")
        facts[Fact.METHODS_POLICY] = FactRead(
            Fact.METHODS_POLICY,
            False,
            "Keycloak has no per-method switch: the flows decide which steps count (rules' accepted methods)",
        )
        facts[Fact.SIGN_IN_TIMES] = FactRead(Fact.SIGN_IN_TIMES, False, "Keycloak keeps no last sign-in per user")
        facts[Fact.LEGACY_AUTH] = FactRead(
            Fact.LEGACY_AUTH, False, "no legacy protocols; the password grant is judged per client as a way in"
        )
        sign_ins: tuple[SignIn, ...] = ()
        if not ctx.collect_sign_ins:
            facts[Fact.SIGN_IN_LOG] = FactRead(Fact.SIGN_IN_LOG, False, "collect_sign_ins is off for this source")
        elif realm.get("eventsEnabled") is not True:
            facts[Fact.SIGN_IN_LOG] = FactRead(
                Fact.SIGN_IN_LOG, False, "the realm does not store login events (eventsEnabled is off)"
            )
        else:
            raws, read = reader.read_events(http, run, ctx)
            facts[Fact.SIGN_IN_LOG] = read
            if raws is not None:
                sign_ins = enforcement.sign_ins(run, ctx, raws, policy_list, accounts, clients, realm)
        ctx.logger.info("keycloak %s: %d accounts, %d requests", ctx.source, len(accounts), http.requests)
        return SourceSnapshot(
            source=self._source,
            connector=CONNECTOR_NAME,
            collected_at=ctx.now,
            complete=run.complete,
            accounts=tuple(sorted(accounts, key=lambda a: a.id)),
            portals=tuple(portals),
            access=tuple(access),
            policies=tuple(policy_list),
            sign_ins=sign_ins,
            issues=tuple(run.issues),
            unreadable=tuple(unreadable),
            expected_counts={"accounts": expected} if expected is not None else {},
            raw_digests=tuple(run.digests),
            sign_ins_collected=facts[Fact.SIGN_IN_LOG].read,
            facts=tuple(facts[f] for f in Fact if f in facts),
        )

    def check_access(self) -> tuple[PermissionCheck, ...]:
        try:
            http = KeycloakHttp(self._settings, self._retry_delay)
        except AuthenticationError as exc:
            return (PermissionCheck("service-account client", "authenticate to the realm", False, str(exc)),)
        try:
            return self._check(http)
        finally:
            http.close()

    def _check(self, http: KeycloakHttp) -> tuple[PermissionCheck, ...]:
        base = ADMIN.format(realm=self._settings.realm)
        probes: dict[str, Callable[[], Any]] = {
            VIEW_USERS.role: lambda: http.get_json("users", f"{base}/users", first=0, max=1, briefRepresentation=True),
            VIEW_REALM.role: lambda: http.get_json("flows", f"{base}/authentication/flows"),
            VIEW_CLIENTS.role: lambda: http.get_json("clients", f"{base}/clients", first=0, max=1),
            VIEW_EVENTS.role: lambda: http.get_json("events", f"{base}/events", first=0, max=1),
        }
        checks: list[PermissionCheck] = []
        try:
            http.call("token", http.admin.connection.get_token)
        except AuthenticationError as exc:
            return (PermissionCheck("service-account client", "authenticate to the realm", False, str(exc)),)
        except FetchFailed as exc:
            return (
                PermissionCheck("service-account client", "authenticate to the realm", None, f"not checked: {exc}"),
            )
        checks.append(PermissionCheck("service-account client", "authenticate to the realm (client credentials)", True))
        checks.extend(_probe(need, probes[need.role]) for need in ALL_ROLES)
        return tuple(checks)


def _probe(need: RoleNeed, probe: Callable[[], Any]) -> PermissionCheck:
    name = f"realm-management {need.role}"
    try:
        probe()
    except FetchFailed as exc:
        if exc.permission_denied:
            return PermissionCheck(name, need.purpose, False, f"refused: {exc}", only_for_sign_ins=need.optional)
        return PermissionCheck(name, need.purpose, None, f"not checked: {exc}", only_for_sign_ins=need.optional)
    except AuthenticationError as exc:
        return PermissionCheck(name, need.purpose, None, f"not checked: {exc}", only_for_sign_ins=need.optional)
    return PermissionCheck(name, need.purpose, True, only_for_sign_ins=need.optional)


__all__ = ["CONNECTOR_NAME", "KeycloakConnector"]
