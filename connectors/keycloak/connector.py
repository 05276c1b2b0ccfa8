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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from auditor.interfaces import AuthenticationError, CollectContext, PermissionCheck, SourceUnavailable
from auditor.model import (
    Access,
    AccessVia,
    Account,
    AccountId,
    Fact,
    FactRead,
    GroupId,
    Method,
    PageDigest,
    Policy,
    Portal,
    PortalId,
    Requirement,
    RoleId,
    SignIn,
    SignInFactor,
    SourceIssue,
    SourceName,
    SourceSnapshot,
    UnreadableRecord,
)
from connectors.keycloak import flows, parse, policies
from connectors.keycloak.client import FetchFailed, KeycloakHttp, digest
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
ADMIN = "admin/realms/{realm}"


@dataclass(slots=True)
class _Run:
    issues: list[SourceIssue] = field(default_factory=list)
    digests: list[PageDigest] = field(default_factory=list)

    def page(self, endpoint: str, body: Any) -> None:
        self.digests.append(PageDigest(endpoint, digest(body), len(body) if isinstance(body, list) else 1))

    def incomplete(self, code: str, message: str) -> None:
        self.issues.append(SourceIssue(code, message, incomplete=True))

    @property
    def complete(self) -> bool:
        return not any(i.incomplete for i in self.issues)


@dataclass(frozen=True, slots=True)
class _Idp:
    alias: str
    name: str
    post_broker_flow: str | None
    linked: frozenset[str]


class KeycloakConnector:
    """Entry point ``keycloak``. ``retry_delay``: seconds before the first retry (doubling)."""

    def __init__(self, source: str, settings: Mapping[str, Any], base_dir: Path, *, retry_delay: float = 0.5) -> None:
        self._source = SourceName(source)
        self._settings: KeycloakSettings = parse_settings(settings, base_dir)
        self._retry_delay = retry_delay
        self.last_requests = 0  # requests of the last collection (benchmarks)

    def __repr__(self) -> str:
        return f"KeycloakConnector(source={self._source!r}, realm={self._settings.realm!r})"

    @property
    def _base(self) -> str:
        return ADMIN.format(realm=self._settings.realm)

    # --- paging --------------------------------------------------------------------------

    def _paged(self, http: KeycloakHttp, run: _Run, what: str, path: str, **query: Any) -> list[Any]:
        """Every page of an offset listing (``first``/``max``): a page shorter than
        ``max`` ends it (Keycloak gives no next link and most listings no total)."""
        size = self._settings.page_size
        out: list[Any] = []
        seen: set[str] = set()
        first = 0
        while True:
            body = http.get_json(what, path, first=first, max=size, **query)
            if not isinstance(body, list):
                raise FetchFailed(what, 200, "the answer is not a list")
            run.page(what, body)
            for item in body:
                key = item.get("id") if isinstance(item, Mapping) else None
                if isinstance(key, str):
                    if key in seen:
                        continue
                    seen.add(key)
                out.append(item)
            if len(body) < size:
                return out
            first += size

    # --- collect -------------------------------------------------------------------------

    def collect(self, ctx: CollectContext) -> SourceSnapshot:
        http = KeycloakHttp(self._settings, self._retry_delay)
        try:
            return self._collect(http, ctx)
        finally:
            self.last_requests = http.requests
            http.close()

    def _collect(self, http: KeycloakHttp, ctx: CollectContext) -> SourceSnapshot:
        run = _Run()
        facts: dict[Fact, FactRead] = {}
        realm = self._realm(http)
        ctx.logger.info("keycloak %s: reading users", ctx.source)
        users, unreadable, expected = self._users(http, run)
        facts[Fact.ACCOUNTS] = FactRead(Fact.ACCOUNTS, True)
        methods, creds, failed = self._credentials(http, run, users)
        facts[Fact.METHODS] = FactRead(Fact.METHODS, True)
        roles_of, groups_of, roles_ok = self._roles_and_groups(http, run)
        facts[Fact.ROLES] = FactRead(Fact.ROLES, roles_ok, "" if roles_ok else "role members could not be read")
        clients = self._clients(http, run)
        idps = self._idps(http, run)
        trees, flows_ok = self._flows(http, run, realm, clients, idps)
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
        portals, access, policy_list = self._enforcement(run, realm, clients, idps, trees, accounts, user_facts)
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
            sign_ins, read = self._sign_ins(http, run, ctx, policy_list, accounts, clients)
            facts[Fact.SIGN_IN_LOG] = read
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

    def _realm(self, http: KeycloakHttp) -> Mapping[str, Any]:
        try:
            realm = http.call("realm", http.admin.get_realm, self._settings.realm)
        except FetchFailed as exc:
            if exc.permission_denied:
                raise AuthenticationError(
                    f"Keycloak refused to read the realm: {exc} (run `mfa-audit validate`)"
                ) from None
            raise SourceUnavailable(f"Keycloak realm {self._settings.realm!r} could not be read: {exc}") from None
        if not isinstance(realm, Mapping):
            raise SourceUnavailable(f"Keycloak realm {self._settings.realm!r}: the answer is not an object")
        return realm

    def _users(
        self, http: KeycloakHttp, run: _Run
    ) -> tuple[list[parse.KeycloakUser], list[UnreadableRecord], int | None]:
        size = self._settings.page_size
        try:
            expected: int | None = http.call("users/count", http.admin.users_count)
        except FetchFailed as exc:
            if exc.permission_denied:
                raise AuthenticationError(
                    f"Keycloak refused to count users: {exc} (run `mfa-audit validate`)"
                ) from None
            run.issues.append(SourceIssue("keycloak.count_unreadable", f"{exc}: the users listing is not checked"))
            expected = None
        raw: list[Any] = []
        seen: set[str] = set()
        first = 0
        short_retry = False
        try:
            while True:
                page = http.call(
                    "users", http.admin.get_users, {"first": first, "max": size, "briefRepresentation": False}
                )
                if not isinstance(page, list):
                    raise FetchFailed("users", 200, "the answer is not a list")
                run.page("users", page)
                for item in page:
                    key = item.get("id") if isinstance(item, Mapping) else None
                    if isinstance(key, str) and key in seen:
                        continue
                    if isinstance(key, str):
                        seen.add(key)
                    raw.append(item)
                first += len(page)
                if expected is not None and len(raw) >= expected:
                    break  # the count says this is all: no empty page to ask for
                if len(page) < size:
                    # A short page ends the listing; when the count says more follow,
                    # ask once more from where it stopped before calling it short.
                    if expected is None or short_retry or not page:
                        break
                    short_retry = True
        except FetchFailed as exc:
            if not raw and exc.permission_denied:
                raise AuthenticationError(f"Keycloak refused to list users: {exc} (run `mfa-audit validate`)") from None
            run.incomplete("keycloak.users_incomplete", str(exc))
        if expected is not None and len(raw) < expected:
            run.incomplete(
                "keycloak.users_short_read",
                f"users: {len(raw)} read, /users/count says {expected}: the listing ended early",
            )
        users: list[parse.KeycloakUser] = []
        unreadable: list[UnreadableRecord] = []
        for i, item in enumerate(raw):
            parsed = parse.parse_user(item, self._source, f"users record {i + 1}")
            if isinstance(parsed, UnreadableRecord):
                unreadable.append(parsed)
            else:
                users.append(parsed)
        return users, unreadable, expected

    def _credentials(
        self, http: KeycloakHttp, run: _Run, users: list[parse.KeycloakUser]
    ) -> tuple[dict[AccountId, tuple[Method, ...]], dict[AccountId, frozenset[str]], dict[AccountId, str]]:
        def one(u: parse.KeycloakUser) -> tuple[AccountId, Any, str | None]:
            try:
                return u.account.id, http.call("credentials", http.admin.get_credentials, u.account.id), None
            except FetchFailed as exc:
                return u.account.id, None, str(exc)

        methods: dict[AccountId, tuple[Method, ...]] = {}
        types: dict[AccountId, frozenset[str]] = {}
        failed: dict[AccountId, str] = {}
        pending = {u.account.id: u.pending for u in users}
        bodies: list[tuple[str, Any]] = []
        for uid, body, error in http.map(one, users):
            if error is not None:
                failed[uid] = error
                continue
            bodies.append((uid, body))
            found, present, issues = parse.parse_credentials(body, uid, pending[uid])
            methods[uid], types[uid] = found, present
            run.issues.extend(issues)
        run.digests.append(PageDigest("credentials (all users, by id)", digest(sorted(bodies)), len(bodies)))
        if failed:
            run.incomplete(
                "keycloak.credentials_unreadable",
                f"the credentials of {len(failed)} user(s) could not be read (first: {sorted(failed)[0]}); "
                "they are listed as unreadable",
            )
        return methods, types, failed

    def _roles_and_groups(self, http: KeycloakHttp, run: _Run) -> tuple[dict[str, set[str]], dict[str, set[str]], bool]:
        """Effective roles per user id (direct members of each realm and client role,
        roles of the user's groups and their parents, composites expanded) and group paths."""
        base = self._base
        roles_of: dict[str, set[str]] = {}
        groups_of: dict[str, set[str]] = {}
        try:
            # Role name → its container path, so composites can be named.
            realm_roles = http.get_json("roles", f"{base}/roles", briefRepresentation=False)
            run.page("roles", realm_roles)
            raw_clients = http.call("clients", http.admin.get_clients)
            client_names = {
                c["id"]: c["clientId"]
                for c in raw_clients
                if isinstance(c, Mapping) and isinstance(c.get("id"), str) and isinstance(c.get("clientId"), str)
            }
            containers: list[tuple[str, str, list[Any]]] = [("", f"{base}/roles", realm_roles)]
            for cid, name in sorted(client_names.items(), key=lambda kv: kv[1]):
                croles = http.get_json(f"roles of client {name}", f"{base}/clients/{cid}/roles")
                run.page(f"roles of client {name}", croles)
                containers.append((name, f"{base}/clients/{cid}/roles", croles))
            composites: dict[str, set[str]] = {}
            for prefix, path, roles in containers:
                for role in roles if isinstance(roles, list) else []:
                    if not isinstance(role, Mapping) or not isinstance(role.get("name"), str):
                        continue
                    label = f"{prefix}.{role['name']}" if prefix else role["name"]
                    members = self._paged(
                        http, run, f"members of role {label}", f"{path}/{role['name']}/users", briefRepresentation=True
                    )
                    for m in members:
                        if isinstance(m, Mapping) and isinstance(m.get("id"), str):
                            roles_of.setdefault(m["id"], set()).add(label)
                    if role.get("composite") is True and isinstance(role.get("id"), str):
                        inner = http.get_json(
                            f"composites of role {label}", f"{base}/roles-by-id/{role['id']}/composites"
                        )
                        run.page(f"composites of role {label}", inner)
                        composites[label] = {
                            (
                                f"{client_names.get(str(r.get('containerId')), '?')}.{r['name']}"
                                if r.get("clientRole")
                                else r["name"]
                            )
                            for r in inner
                            if isinstance(r, Mapping) and isinstance(r.get("name"), str)
                        }
            group_roles = self._groups(http, run, groups_of, client_names)
            for uid, paths in groups_of.items():
                for p in paths:
                    roles_of.setdefault(uid, set()).update(group_roles.get(p, ()))
            for held in roles_of.values():
                todo = list(held)
                while todo:
                    for r in composites.get(todo.pop(), ()):
                        if r not in held:
                            held.add(r)
                            todo.append(r)
        except FetchFailed as exc:
            run.incomplete("keycloak.roles_unreadable", f"{exc}: roles and groups (who is privileged) are unknown")
            return {}, {}, False
        return roles_of, groups_of, True

    def _groups(
        self, http: KeycloakHttp, run: _Run, groups_of: dict[str, set[str]], client_names: Mapping[str, str]
    ) -> dict[str, set[str]]:
        """Group paths per member; each group's roles (its own and its parents')."""
        base = self._base
        top = self._paged(http, run, "groups", f"{base}/groups", briefRepresentation=False)
        group_roles: dict[str, set[str]] = {}
        todo: list[tuple[Mapping[str, Any], set[str]]] = [(g, set()) for g in top if isinstance(g, Mapping)]
        while todo:
            group, inherited = todo.pop()
            gid, path = group.get("id"), group.get("path") or f"/{group.get('name')}"
            if not isinstance(gid, str):
                continue
            mappings = http.get_json(f"role mappings of group {path}", f"{base}/groups/{gid}/role-mappings")
            own = set(inherited)
            if isinstance(mappings, Mapping):
                for r in mappings.get("realmMappings") or []:
                    if isinstance(r, Mapping) and isinstance(r.get("name"), str):
                        own.add(r["name"])
                for cname, block in (mappings.get("clientMappings") or {}).items():
                    for r in (block or {}).get("mappings") or [] if isinstance(block, Mapping) else []:
                        if isinstance(r, Mapping) and isinstance(r.get("name"), str):
                            own.add(f"{cname}.{r['name']}")
            group_roles[str(path)] = own
            for m in self._paged(
                http, run, f"members of group {path}", f"{base}/groups/{gid}/members", briefRepresentation=True
            ):
                if isinstance(m, Mapping) and isinstance(m.get("id"), str):
                    groups_of.setdefault(m["id"], set()).add(str(path))
            subs = group.get("subGroups")
            subs = subs if isinstance(subs, list) else []
            count = group.get("subGroupCount")
            if isinstance(count, int) and count > len(subs):
                subs = self._paged(http, run, f"children of group {path}", f"{base}/groups/{gid}/children")
            todo.extend((s, own) for s in subs if isinstance(s, Mapping))
        return group_roles

    def _clients(self, http: KeycloakHttp, run: _Run) -> list[parse.KeycloakClient]:
        try:
            raw = http.call("clients", http.admin.get_clients)
        except FetchFailed as exc:
            run.incomplete("keycloak.clients_unreadable", f"{exc}: portals unknown")
            return []
        run.page("clients", raw)
        found = [parse.parse_client(c, self._source) for c in raw if isinstance(raw, list)]
        return sorted((c for c in found if c is not None), key=lambda c: c.client_id)

    def _idps(self, http: KeycloakHttp, run: _Run) -> list[_Idp]:
        try:
            raw = http.call("identity providers", http.admin.get_idps)
        except FetchFailed as exc:
            run.incomplete("keycloak.idps_unreadable", f"{exc}: brokered sign-ins unknown")
            return []
        run.page("identity providers", raw)
        out = []
        for idp in raw if isinstance(raw, list) else []:
            if not isinstance(idp, Mapping) or not isinstance(idp.get("alias"), str) or idp.get("enabled") is False:
                continue
            alias = idp["alias"]
            try:
                linked = self._paged(
                    http,
                    run,
                    f"users linked to {alias}",
                    f"{self._base}/users",
                    idpAlias=alias,
                    briefRepresentation=True,
                )
            except FetchFailed as exc:
                run.incomplete("keycloak.idp_links_unreadable", f"{exc}: who signs in through {alias} is unknown")
                continue
            post = idp.get("postBrokerLoginFlowAlias")
            out.append(
                _Idp(
                    alias,
                    str(idp.get("displayName") or alias),
                    post if isinstance(post, str) and post else None,
                    frozenset(u["id"] for u in linked if isinstance(u, Mapping) and isinstance(u.get("id"), str)),
                )
            )
        return out

    def _flows(
        self,
        http: KeycloakHttp,
        run: _Run,
        realm: Mapping[str, Any],
        clients: list[parse.KeycloakClient],
        idps: list[_Idp],
    ) -> tuple[dict[str, tuple[flows.Step, ...]], bool]:
        """The executions (with their configs) of every flow a sign-in can go through, by alias."""
        try:
            listing = http.call("authentication flows", http.admin.get_authentication_flows)
        except FetchFailed as exc:
            run.incomplete("keycloak.flows_unreadable", f"{exc}: enforcement unknown")
            return {}, False
        run.page("authentication flows", listing)
        alias_of = {
            f["id"]: f["alias"]
            for f in listing
            if isinstance(f, Mapping) and isinstance(f.get("id"), str) and isinstance(f.get("alias"), str)
        }
        wanted = {realm.get("browserFlow"), realm.get("directGrantFlow")}
        for c in clients:
            for override in (c.browser_flow, c.direct_grant_flow):
                if override is not None:
                    if override not in alias_of:
                        run.incomplete(
                            "keycloak.override_unknown",
                            f"client {c.client_id}: flow override {override} names no flow of the realm",
                        )
                    wanted.add(alias_of.get(override))
        wanted.update(i.post_broker_flow for i in idps)
        self._alias_of = alias_of
        trees: dict[str, tuple[flows.Step, ...]] = {}
        ok = True
        for alias in sorted(a for a in wanted if isinstance(a, str)):
            try:
                executions = http.call(
                    f"executions of flow {alias}", http.admin.get_authentication_flow_executions, alias
                )
                run.page(f"executions of flow {alias}", executions)
                configured = []
                for ex in executions if isinstance(executions, list) else []:
                    cfg_id = ex.get("authenticationConfig") if isinstance(ex, Mapping) else None
                    if isinstance(cfg_id, str):
                        cfg = http.call(f"config {cfg_id}", http.admin.get_authenticator_config, cfg_id)
                        ex = {**ex, "config": (cfg.get("config") if isinstance(cfg, Mapping) else None) or {}}
                    configured.append(ex)
                trees[alias] = flows.build(configured)
            except FetchFailed as exc:
                run.incomplete("keycloak.flow_unreadable", f"{exc}: enforcement through flow {alias} unknown")
                ok = False
            except flows.FlowError as exc:
                run.incomplete("keycloak.flow_malformed", f"flow {alias}: {exc}")
                ok = False
        return trees, ok

    def _enforcement(
        self,
        run: _Run,
        realm: Mapping[str, Any],
        clients: list[parse.KeycloakClient],
        idps: list[_Idp],
        trees: Mapping[str, tuple[flows.Step, ...]],
        accounts: list[Account],
        user_facts: Mapping[AccountId, flows.UserFacts],
    ) -> tuple[list[Portal], list[Access], list[Policy]]:
        alias_of: Mapping[str, str] = getattr(self, "_alias_of", {})
        walk = flows.Walk()
        memo: dict[tuple[str, flows.UserFacts], flows.Outcome] = {}

        def outcome_of(alias: str | None, uid: AccountId) -> flows.Outcome | None:
            if alias is None:
                return None
            tree = trees.get(alias)
            if tree is None:
                return None
            facts = user_facts[uid]
            key = (alias, facts)
            found = memo.get(key)
            if found is None:
                found = memo[key] = flows.outcome(flows.paths(tree, facts, walk))
            return found

        portals: list[Portal] = []
        access: list[Access] = []
        out: list[Policy] = []
        bindings: dict[policies.Binding, list[PortalId]] = {}
        for c in clients:
            browser = (
                (alias_of.get(c.browser_flow, "") if c.browser_flow else realm.get("browserFlow"))
                if c.browser
                else None
            )
            direct = (
                (alias_of.get(c.direct_grant_flow, "") if c.direct_grant_flow else realm.get("directGrantFlow"))
                if c.direct_grant
                else None
            )
            binding = policies.Binding(
                browser if isinstance(browser, str) else None, direct if isinstance(direct, str) else None
            )
            bindings.setdefault(binding, []).append(c.portal.id)
            portals.append(c.portal)
            access.extend(Access(a.id, c.portal.id, AccessVia.EVERYONE) for a in accounts)
        ids = [a.id for a in accounts]
        for binding, portal_ids in bindings.items():
            outcomes: dict[AccountId, flows.Outcome] = {}
            missing = [a for a in (binding.browser, binding.direct) if a is not None and a not in trees]
            if missing:
                continue  # its flow was not read: the source is already incomplete
            for uid in ids:
                found = [
                    o for o in (outcome_of(binding.browser, uid), outcome_of(binding.direct, uid)) if o is not None
                ]
                if not found:
                    continue
                combined = found[0]
                for other in found[1:]:
                    combined = flows.weakest(combined, other)
                outcomes[uid] = combined
            out.append(policies.binding_policy(binding, portal_ids, outcomes, len(ids)))
        known = set(ids)
        for idp in idps:
            linked = sorted(AccountId(u) for u in idp.linked if u in known)
            if not linked:
                continue
            upstream = self._settings.brokers.get(idp.alias)
            if idp.post_broker_flow is None and upstream is None:
                run.issues.append(
                    SourceIssue(
                        "keycloak.broker_not_audited",
                        f"identity provider {idp.alias} ({idp.name}): {len(linked)} linked user(s) sign in there and "
                        "no post-broker flow adds a factor here; name the source that audits it in settings.brokers, "
                        "else their brokered access is unknown",
                        idp.alias,
                    )
                )
            via = None if idp.post_broker_flow is not None else SourceName(upstream or f"{idp.alias} (not audited)")
            broker_portals = []
            for c in clients:
                if not c.browser:
                    continue
                pid = PortalId(f"{c.client_id}@{idp.alias}")
                broker_portals.append(pid)
                portals.append(
                    Portal(
                        self._source,
                        pid,
                        f"{c.portal.name} via {idp.name}",
                        assignment_required=False,
                        tags=(*c.portal.tags, f"idp:{idp.alias}"),
                        sign_in_via=via,
                    )
                )
                access.extend(Access(uid, pid, AccessVia.DIRECT, idp.alias) for uid in linked)
            if idp.post_broker_flow is not None and idp.post_broker_flow in trees:
                brokered: dict[AccountId, flows.Outcome] = {}
                for uid in linked:
                    o = outcome_of(idp.post_broker_flow, uid)
                    if o is not None:
                        brokered[uid] = o
                out.append(policies.post_broker_policy(idp.alias, idp.post_broker_flow, broker_portals, brokered))
        if walk.unknown_steps:
            run.issues.append(
                SourceIssue(
                    "keycloak.step_unknown",
                    "executions the auditor does not know, counted as no second factor: "
                    + ", ".join(sorted(walk.unknown_steps)),
                )
            )
        if walk.unknown_requirements:
            run.issues.append(
                SourceIssue(
                    "keycloak.requirement_unknown",
                    "executions with a requirement other than REQUIRED/ALTERNATIVE/CONDITIONAL/DISABLED, "
                    "taken as REQUIRED: " + ", ".join(sorted(walk.unknown_requirements)),
                )
            )
        if walk.truncated:
            run.incomplete("keycloak.flow_too_complex", f"a flow has more than {flows.MAX_PATHS} ways through")
        access.sort(key=lambda x: (x.account_id, x.portal_id))
        return portals, access, out

    def _sign_ins(
        self,
        http: KeycloakHttp,
        run: _Run,
        ctx: CollectContext,
        policy_list: list[Policy],
        accounts: list[Account],
        clients: list[parse.KeycloakClient],
    ) -> tuple[tuple[SignIn, ...], FactRead]:
        start = ctx.period_start.isoformat()
        end = ctx.period_end.isoformat()
        try:
            raws = self._paged(http, run, "events", f"{self._base}/events", type="LOGIN", dateFrom=start, dateTo=end)
        except FetchFailed as exc:
            if exc.permission_denied:
                run.issues.append(SourceIssue("keycloak.events_refused", f"sign-ins not read: {exc}"))
                return (), FactRead(Fact.SIGN_IN_LOG, False, f"the service account lacks view-events ({exc.status})")
            run.incomplete("keycloak.events_incomplete", str(exc))
            return (), FactRead(Fact.SIGN_IN_LOG, False, str(exc))
        floors = _unconditional_floors(policy_list)
        known = {a.id for a in accounts}
        client_ids = {c.client_id for c in clients}
        lo = datetime.combine(ctx.period_start, datetime.min.time(), UTC)
        hi = datetime.combine(ctx.period_end + timedelta(days=1), datetime.min.time(), UTC)
        out: list[SignIn] = []
        undetermined = 0
        for raw in raws:
            e = parse.parse_event(raw)
            if e is None or e.user_id not in known or e.client_id not in client_ids or not lo <= e.time < hi:
                continue
            portal = PortalId(e.client_id if e.identity_provider is None else f"{e.client_id}@{e.identity_provider}")
            factor: SignInFactor | None = SignInFactor.MULTI if e.second_factor else None
            if factor is None and e.identity_provider is None:
                floor = floors(AccountId(e.user_id), portal)
                if floor is not None:
                    factor = SignInFactor.SINGLE if floor is Requirement.NONE else SignInFactor.MULTI
            if factor is None:
                undetermined += 1
                continue
            out.append(SignIn(AccountId(e.user_id), portal, e.time, factor, "keycloak"))
        if undetermined:
            run.issues.append(
                SourceIssue(
                    "keycloak.sign_in_factor_undetermined",
                    f"{undetermined} login event(s) left out: neither their details nor the flows say "
                    "whether a second factor ran",
                )
            )
        return tuple(sorted(out, key=lambda s: (s.time, s.account_id))), FactRead(Fact.SIGN_IN_LOG, True)

    # --- validate ------------------------------------------------------------------------

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
        base = self._base
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


def _unconditional_floors(policy_list: list[Policy]) -> Callable[[AccountId, PortalId], Requirement | None]:
    """(user, portal) → the requirement every sign-in meets, where the flows say so
    without conditions; None where a conditional rule applies or nothing is known."""
    per_user: dict[tuple[AccountId, PortalId], Requirement] = {}
    everyone: dict[PortalId, Requirement] = {}
    conditional: set[tuple[AccountId | None, PortalId]] = set()
    for p in policy_list:
        if p.vendor_kind != policies.VENDOR_KIND:
            continue
        for r in p.rules:
            for pid in r.portals.ids:
                if r.conditions:
                    conditional.update((u, pid) for u in (r.scope.include_users or (None,)))
                elif r.scope.include_all:
                    everyone[pid] = r.requirement
                else:
                    per_user.update(((u, pid), r.requirement) for u in r.scope.include_users)

    def floor(uid: AccountId, pid: PortalId) -> Requirement | None:
        if (uid, pid) in conditional or (None, pid) in conditional:
            return None
        return per_user.get((uid, pid), everyone.get(pid))

    return floor


__all__ = ["CONNECTOR_NAME", "KeycloakConnector"]
