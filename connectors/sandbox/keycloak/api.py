"""The Keycloak sandbox's answers: routed GETs against a ``Realm``, with Keycloak's
paging (``first``/``max``; the users listing and member listings default to 100)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.sandbox.keycloak.realm import Json, Realm
from connectors.sandbox.keycloak.server import ApiError, Request

BRIEF_USER_FIELDS = ("id", "username", "email", "firstName", "lastName", "enabled", "createdTimestamp")


def _int(req: Request, key: str, default: int) -> int:
    raw = req.one(key)
    if raw is None or raw == "":
        return default
    try:
        return max(0, int(raw))
    except ValueError:
        raise ApiError(400, f"Invalid value for {key}") from None


def _page(items: Sequence[Any], req: Request, default_max: int = 100) -> list[Any]:
    first = _int(req, "first", 0)
    size = _int(req, "max", default_max)
    return list(items[first : first + size])


def _truthy(req: Request, key: str, default: bool) -> bool:
    raw = req.one(key)
    return default if raw is None else raw.lower() == "true"


class KeycloakApi:
    def __init__(self, realm: Realm) -> None:
        self.realm = realm
        self._users = {u["id"]: u for u in realm.users}
        self._groups: dict[str, Json] = {}
        todo = list(realm.groups)
        while todo:
            g = todo.pop()
            self._groups[g["id"]] = g
            todo.extend(g.get("subGroups", []))
        self._roles_by_name = {r["name"]: r for r in realm.realm_roles}
        self._clients = {c["id"]: c for c in realm.clients}

    def _user(self, uid: str, brief: bool) -> Json:
        u = self._users[uid]
        return {k: u[k] for k in BRIEF_USER_FIELDS if k in u} if brief else u

    def _members(self, ids: Sequence[str], req: Request) -> list[Json]:
        brief = _truthy(req, "briefRepresentation", False)
        return [self._user(uid, brief) for uid in _page(ids, req)]

    def __call__(self, req: Request) -> Any:
        r = self.realm
        name = req.name
        if name == "realm":
            return r.settings
        if name == "users_count":
            return len(r.users)
        if name == "users":
            alias = req.one("idpAlias")
            if alias is not None:
                return self._members(r.idp_links.get(alias, []), req)
            brief = _truthy(req, "briefRepresentation", False)
            return [self._user(u["id"], brief) for u in _page(r.users, req)]
        if name == "credentials":
            if req.match["id"] not in self._users:
                raise ApiError(404, "User not found")
            return r.credentials.get(req.match["id"], [])
        if name == "groups":
            brief = _truthy(req, "briefRepresentation", True)
            top = _page(r.groups, req)
            return top if not brief else [{k: g[k] for k in ("id", "name", "path", "subGroupCount")} for g in top]
        if name in ("group_members", "group_children", "group_roles"):
            group = self._groups.get(req.match["id"])
            if group is None:
                raise ApiError(404, "Could not find group by id")
            if name == "group_members":
                return self._members(r.group_members.get(group["id"], []), req)
            if name == "group_children":
                return _page(group.get("subGroups", []), req)
            return r.group_roles.get(group["id"], {})
        if name == "roles":
            return _page(r.realm_roles, req, 10**9)
        if name == "role_members":
            role = self._roles_by_name.get(req.match["name"])
            if role is None:
                raise ApiError(404, "Could not find role")
            return self._members(r.role_members.get(role["id"], []), req)
        if name == "composites":
            return r.composites.get(req.match["id"], [])
        if name == "clients":
            return _page(r.clients, req, 10**9)
        if name in ("client_roles", "client_role_members"):
            client = self._clients.get(req.match["id"])
            if client is None:
                raise ApiError(404, "Could not find client")
            roles = r.client_roles.get(client["id"], [])
            if name == "client_roles":
                return roles
            role = next((x for x in roles if x["name"] == req.match["name"]), None)
            if role is None:
                raise ApiError(404, "Could not find role")
            return self._members(r.role_members.get(role["id"], []), req)
        if name == "flows":
            return r.flows
        if name == "executions":
            rows = r.executions.get(req.match["alias"])
            if rows is None:
                raise ApiError(404, "Flow not found")
            return rows
        if name == "config":
            cfg = r.configs.get(req.match["id"])
            if cfg is None:
                raise ApiError(404, "Could not find authenticator config")
            return cfg
        if name == "idps":
            return r.idps
        if name == "events":
            return self._events(req)
        raise ApiError(404, "HTTP 404 Not Found")

    def _events(self, req: Request) -> list[Json]:
        types = set(req.params.get("type", []))
        lo, hi = req.one("dateFrom"), req.one("dateTo")

        def day(ms: int) -> str:
            return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()

        found = [
            e
            for e in self.realm.events
            if (not types or e["type"] in types)
            and (lo is None or day(e["time"]) >= lo)
            and (hi is None or day(e["time"]) <= hi)
        ]
        found.sort(key=lambda e: -e["time"])  # Keycloak answers newest first
        return _page(found, req)
