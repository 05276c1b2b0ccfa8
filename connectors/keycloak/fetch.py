"""Reading a realm through python-keycloak: first/max paging, the users listing checked
against ``/users/count``, one credentials request per user (in parallel, through the
throttle), role and group members, clients, identity providers and their linked users,
flows with their executions and authenticator configs, login events. Every listing
that fails after retries becomes an issue naming it; nothing is silently short."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.interfaces import AuthenticationError, CollectContext, SourceUnavailable
from auditor.model import (
    AccountId,
    Fact,
    FactRead,
    Method,
    PageDigest,
    SourceIssue,
    SourceName,
    UnreadableRecord,
)
from connectors.keycloak import codes, flows, parse
from connectors.keycloak.client import FetchFailed, KeycloakHttp, digest
from connectors.keycloak.settings import KeycloakSettings

ADMIN = "admin/realms/{realm}"


@dataclass(slots=True)
class Run:
    """What one collection gathers besides the records: issues and page digests."""

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
class Idp:
    """An enabled identity provider and the users linked to it."""

    alias: str
    name: str
    post_broker_flow: str | None
    linked: frozenset[str]


class Reader:
    """The fetch side of one collection (``http`` is passed per call: one per collection)."""

    def __init__(self, settings: KeycloakSettings, source: SourceName) -> None:
        self._settings = settings
        self._source = source

    @property
    def _base(self) -> str:
        return ADMIN.format(realm=self._settings.realm)

    # --- paging --------------------------------------------------------------------------

    def paged(self, http: KeycloakHttp, run: Run, what: str, path: str, **query: Any) -> list[Any]:
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
    def read_realm(self, http: KeycloakHttp) -> Mapping[str, Any]:
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

    def read_users(
        self, http: KeycloakHttp, run: Run
    ) -> tuple[list[parse.KeycloakUser], list[UnreadableRecord], int | None]:
        size = self._settings.page_size
        try:
            expected: int | None = http.call("users/count", http.admin.users_count)
        except FetchFailed as exc:
            if exc.permission_denied:
                raise AuthenticationError(
                    f"Keycloak refused to count users: {exc} (run `mfa-audit validate`)"
                ) from None
            run.issues.append(SourceIssue(codes.COUNT_UNREADABLE, f"{exc}: the users listing is not checked"))
            expected = None
        if expected is not None:
            http.progress.total("users", expected)
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
                http.progress.read("users", len(page))
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
            run.incomplete(codes.USERS_INCOMPLETE, str(exc))
        if expected is not None and len(raw) < expected:
            run.incomplete(
                codes.USERS_SHORT_READ,
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

    def read_credentials(
        self, http: KeycloakHttp, run: Run, users: list[parse.KeycloakUser]
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
        http.progress.total("credentials", len(users))
        for uid, body, error in http.map(one, users):
            http.progress.read("credentials")
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
                codes.CREDENTIALS_UNREADABLE,
                f"the credentials of {len(failed)} user(s) could not be read (first: {sorted(failed)[0]}); "
                "they are listed as unreadable",
            )
        return methods, types, failed

    def read_roles_and_groups(
        self, http: KeycloakHttp, run: Run, raw_clients: list[Any]
    ) -> tuple[dict[str, set[str]], dict[str, set[str]], bool]:
        """Effective roles per user id (direct members of each realm and client role,
        roles of the user's groups and their parents, composites expanded) and group paths."""
        base = self._base
        roles_of: dict[str, set[str]] = {}
        groups_of: dict[str, set[str]] = {}
        try:
            # Role name → its container path, so composites can be named.
            realm_roles = http.get_json("roles", f"{base}/roles", briefRepresentation=False)
            run.page("roles", realm_roles)
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
                    members = self.paged(
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
            group_roles = self._read_groups(http, run, groups_of, client_names)
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
            run.incomplete(codes.ROLES_UNREADABLE, f"{exc}: roles and groups (who is privileged) are unknown")
            return {}, {}, False
        return roles_of, groups_of, True

    def _read_groups(
        self, http: KeycloakHttp, run: Run, groups_of: dict[str, set[str]], client_names: Mapping[str, str]
    ) -> dict[str, set[str]]:
        """Group paths per member; each group's roles (its own and its parents')."""
        base = self._base
        top = self.paged(http, run, "groups", f"{base}/groups", briefRepresentation=False)
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
            for m in self.paged(
                http, run, f"members of group {path}", f"{base}/groups/{gid}/members", briefRepresentation=True
            ):
                if isinstance(m, Mapping) and isinstance(m.get("id"), str):
                    groups_of.setdefault(m["id"], set()).add(str(path))
            subs = group.get("subGroups")
            subs = subs if isinstance(subs, list) else []
            count = group.get("subGroupCount")
            if isinstance(count, int) and count > len(subs):
                subs = self.paged(http, run, f"children of group {path}", f"{base}/groups/{gid}/children")
            todo.extend((s, own) for s in subs if isinstance(s, Mapping))
        return group_roles

    def read_clients(self, http: KeycloakHttp, run: Run) -> tuple[list[parse.KeycloakClient], list[Any]]:
        """(the clients that are portals, every client as read: their roles are read too)."""
        try:
            raw = http.call("clients", http.admin.get_clients)
        except FetchFailed as exc:
            run.incomplete(codes.CLIENTS_UNREADABLE, f"{exc}: portals, access and client roles unknown")
            return [], []
        run.page("clients", raw)
        listed = raw if isinstance(raw, list) else []
        found = [parse.parse_client(c, self._source) for c in listed]
        return sorted((c for c in found if c is not None), key=lambda c: c.client_id), listed

    def read_idps(self, http: KeycloakHttp, run: Run) -> list[Idp]:
        try:
            raw = http.call("identity providers", http.admin.get_idps)
        except FetchFailed as exc:
            run.incomplete(codes.IDPS_UNREADABLE, f"{exc}: brokered sign-ins unknown")
            return []
        run.page("identity providers", raw)
        out = []
        for idp in raw if isinstance(raw, list) else []:
            if not isinstance(idp, Mapping) or not isinstance(idp.get("alias"), str) or idp.get("enabled") is False:
                continue
            alias = idp["alias"]
            try:
                linked = self.paged(
                    http,
                    run,
                    f"users linked to {alias}",
                    f"{self._base}/users",
                    idpAlias=alias,
                    briefRepresentation=True,
                )
            except FetchFailed as exc:
                run.incomplete(codes.IDP_LINKS_UNREADABLE, f"{exc}: who signs in through {alias} is unknown")
                continue
            post = idp.get("postBrokerLoginFlowAlias")
            out.append(
                Idp(
                    alias,
                    str(idp.get("displayName") or alias),
                    post if isinstance(post, str) and post else None,
                    frozenset(u["id"] for u in linked if isinstance(u, Mapping) and isinstance(u.get("id"), str)),
                )
            )
        return out

    def read_flows(
        self,
        http: KeycloakHttp,
        run: Run,
        realm: Mapping[str, Any],
        clients: list[parse.KeycloakClient],
        idps: list[Idp],
    ) -> tuple[dict[str, tuple[flows.Step, ...]], bool, dict[str, str]]:
        """The executions (with their configs) of every flow a sign-in can go through, by alias."""
        try:
            listing = http.call("authentication flows", http.admin.get_authentication_flows)
        except FetchFailed as exc:
            run.incomplete(codes.FLOWS_UNREADABLE, f"{exc}: enforcement unknown")
            return {}, False, {}
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
                            codes.OVERRIDE_UNKNOWN,
                            f"client {c.client_id}: flow override {override} names no flow of the realm",
                        )
                    wanted.add(alias_of.get(override))
        wanted.update(i.post_broker_flow for i in idps)
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
                run.incomplete(codes.FLOW_UNREADABLE, f"{exc}: enforcement through flow {alias} unknown")
                ok = False
            except flows.FlowError as exc:
                run.incomplete(codes.FLOW_MALFORMED, f"flow {alias}: {exc}")
                ok = False
        return trees, ok, alias_of

    def read_events(self, http: KeycloakHttp, run: Run, ctx: CollectContext) -> tuple[list[Any] | None, FactRead]:
        """LOGIN events of the period (None when they could not be read, with the reason)."""
        start, end = ctx.period_start.isoformat(), ctx.period_end.isoformat()
        try:
            raws = self.paged(http, run, "events", f"{self._base}/events", type="LOGIN", dateFrom=start, dateTo=end)
        except FetchFailed as exc:
            if exc.permission_denied:
                run.issues.append(SourceIssue(codes.EVENTS_REFUSED, f"sign-ins not read: {exc}"))
                return None, FactRead(Fact.SIGN_IN_LOG, False, f"the service account lacks view-events ({exc.status})")
            run.incomplete(codes.EVENTS_INCOMPLETE, str(exc))
            return None, FactRead(Fact.SIGN_IN_LOG, False, str(exc))
        return raws, FactRead(Fact.SIGN_IN_LOG, True)
