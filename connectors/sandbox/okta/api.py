"""The Okta sandbox's data: the truth indexed once, answering routed GET requests with
Okta JSON (see ``shapes`` for the conversion)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from auditor.model import AccessVia, Account, AccountId, Method, MethodKind, SignIn, SourceSnapshot
from connectors.sandbox.okta import shapes
from connectors.sandbox.okta.server import ApiError, Faults, Request, Response, paginate, paginate_ids

Json = dict[str, Any]
_FILTER_STATUS = re.compile(r'^\s*status\s+eq\s+"([A-Z_]+)"\s*$')
_LOG_TYPES = re.compile(r'eventType eq "([^"]+)"')
_LOG_PREFIXES = re.compile(r'eventType sw "([^"]+)"')
_FILTER_UPDATED = re.compile(r'^\s*lastUpdated\s+gt\s+"([^"]+)"\s*$')


@dataclass(frozen=True, slots=True)
class RawPolicy:
    """A policy given as Okta JSON (shapes the model cannot round-trip), with the apps
    that use it."""

    type: str
    policy: Json
    rules: tuple[Json, ...]
    apps: tuple[str, ...] = ()


# (key, type, name) of the authenticators an Identity Engine org always lists.
AUTHENTICATORS: tuple[tuple[str, str, str], ...] = (
    ("okta_email", "email", "Email"),
    ("okta_password", "password", "Password"),
    ("okta_verify", "app", "Okta Verify"),
    ("phone_number", "phone", "Phone"),
    ("security_question", "security_question", "Security Question"),
    ("webauthn", "security_key", "Security Key or Biometric"),
)
# Added when the truth holds factors of that kind.
EXTRA_AUTHENTICATORS: tuple[tuple[MethodKind, tuple[str, str, str]], ...] = (
    (MethodKind.HARDWARE_OTP, ("yubikey_token", "security_key", "YubiKey Authenticator")),
    (MethodKind.UNSPECIFIED_SECOND_FACTOR, ("duo", "app", "Duo Security")),
)


class OktaApi:
    def __init__(
        self,
        truth: SourceSnapshot,
        group_names: Mapping[str, str],
        role_names: Mapping[str, str],
        *,
        engine: str,
        faults: Faults,
        sign_ins: Sequence[SignIn],
        factors: Mapping[str, Sequence[Json]] | None,
        raw_policies: Sequence[RawPolicy],
        base_url: str = "",
        authenticator_status: Mapping[str, str] | None = None,
    ) -> None:
        self.truth = truth
        self.engine = engine
        self.faults = faults
        self._group_names = dict(group_names)
        self._role_names = dict(role_names)
        self._sign_ins = tuple(sign_ins)
        self._factor_overrides = {k: list(v) for k, v in (factors or {}).items()}
        self._raw_policies = tuple(raw_policies)
        self._authenticator_status = dict(authenticator_status or {})
        self._accounts = {a.id: a for a in truth.accounts}
        self._listings: dict[tuple[str, str], tuple[list[str], dict[str, int]]] = {}
        self._members: dict[str, list[Account]] = {g: [] for g in group_names}
        for a in truth.accounts:
            for g in a.groups:
                self._members.setdefault(g, []).append(a)
        # Roles: a role every member of one group holds (and nobody else) is assigned to
        # that group; the rest directly. The first holder of a group-held role also gets
        # it directly, so both paths are exercised (Okta reports each assignment).
        holders: dict[str, set[str]] = {}
        for a in truth.accounts:
            for r in a.roles:
                holders.setdefault(r, set()).add(a.id)
        self._group_roles: dict[str, list[str]] = {}
        self._user_roles: dict[str, list[tuple[str, str]]] = {}
        for role, ids in holders.items():
            group = next((g for g, m in self._members.items() if m and {a.id for a in m} == ids), None)
            if group is not None:
                self._group_roles.setdefault(group, []).append(role)
                first = sorted(ids)[0]
                self._user_roles.setdefault(first, []).append((role, "USER"))
                for uid in sorted(ids - {first}):
                    self._user_roles.setdefault(uid, []).append((role, "GROUP"))
            else:
                for uid in sorted(ids):
                    self._user_roles.setdefault(uid, []).append((role, "USER"))
        self._direct_role_users = sorted(u for u, rs in self._user_roles.items() if any(t == "USER" for _, t in rs))
        # Access: group assignments for GROUP access, direct assignments for the rest.
        self._app_groups: dict[str, list[str]] = {p.id: [] for p in truth.portals}
        self._app_direct: dict[str, list[str]] = {p.id: [] for p in truth.portals}
        for acc in truth.access:
            if acc.via is AccessVia.GROUP and acc.via_ref:
                groups = self._app_groups.setdefault(acc.portal_id, [])
                if acc.via_ref not in groups:
                    groups.append(acc.via_ref)
            else:
                self._app_direct.setdefault(acc.portal_id, []).append(acc.account_id)
        self._policy_links = shapes.app_policy_links(truth.policies)
        for raw in raw_policies:
            for app in raw.apps:
                self._policy_links[app] = str(raw.policy["id"])
        self.base_url = base_url
        # Changes made after start (``change_factors``): the user's lastUpdated when it
        # moved, and the System Log's factor lifecycle events.
        self._last_updated: dict[str, datetime] = {}
        self._factor_events: list[Json] = []

    # --- changes after start -----------------------------------------------------------

    def change_factors(self, uid: str, methods: Sequence[Method], at: datetime, *, log: bool, touch: bool) -> None:
        """Replace a user's factors as Okta would record it: ``log`` a factor lifecycle
        event per factor added or removed (``user.mfa.factor.activate`` / ``deactivate``;
        ``reset_all`` when none remain), ``touch`` the user's lastUpdated."""
        account = self._accounts.get(AccountId(uid))
        if account is None:
            raise KeyError(uid)
        before, after = set(account.methods), set(methods)
        self._accounts[account.id] = replace(account, methods=tuple(methods))
        self._factor_overrides.pop(uid, None)
        if touch:
            self._last_updated[uid] = at
        if not log:
            return
        changes: list[tuple[str, Method | None]] = [("user.mfa.factor.activate", m) for m in methods if m not in before]
        if not after and before:
            changes = [("user.mfa.factor.reset_all", None)]
        else:
            changes += [("user.mfa.factor.deactivate", m) for m in account.methods if m not in after]
        for n, (event_type, method) in enumerate(changes):
            target: list[Json] = [{"id": uid, "type": "User", "alternateId": account.principal}]
            if method is not None:
                target.append({"id": f"fct{uid[-8:]}{n:02d}", "type": "Factor", "displayName": method.vendor_label})
            self._factor_events.append(
                {
                    "uuid": f"fct-{len(self._factor_events):08d}",
                    "published": shapes.iso(at),
                    "eventType": event_type,
                    "displayMessage": "MFA factor lifecycle",
                    "outcome": {"result": "SUCCESS"},
                    "actor": {"id": uid, "type": "User", "alternateId": account.principal},
                    "target": target,
                    "severity": "INFO",
                    "version": "0",
                }
            )

    # --- routing ---------------------------------------------------------------------

    def __call__(self, req: Request) -> Response:
        self.base_url = req.base
        p = req.path
        if p == "/api/v1/users":
            return self._users(req)
        if p.endswith("/factors"):
            return Response(self._factors(req.match["id"]))
        if p.startswith("/api/v1/users/") and p.endswith("/roles"):
            return Response(self._roles_of_user(req.match["id"]))
        if p == "/api/v1/iam/assignees/users":
            page = paginate([{"id": u} for u in self._direct_role_users], req.params, "roles", self.faults.page_size)
            links: Json = {}
            body = {"value": [self._assignee(x["id"]) for x in page.body], "_links": links}
            if page.next_query is not None:
                links["next"] = {"href": f"{self.base_url}/api/v1/iam/assignees/users?after={page.next_query['after']}"}
            return Response(body, page.next_query)
        if p == "/api/v1/groups":
            items = [shapes.group_json(self.base_url, g, n) for g, n in self._group_names.items()]
            return paginate(items, req.params, "groups", self.faults.page_size)
        if p.startswith("/api/v1/groups/") and p.endswith("/users"):
            return self._group_users(req)
        if p.startswith("/api/v1/groups/") and p.endswith("/roles"):
            return Response(self._roles_of_group(req.match["id"]))
        if p == "/api/v1/apps":
            items = [shapes.app_json(self.base_url, pt, self._policy_links.get(pt.id)) for pt in self.truth.portals]
            return paginate(items, req.params, "apps", self.faults.page_size)
        if p.endswith("/users") and p.startswith("/api/v1/apps/"):
            return self._app_users(req)
        if p.endswith("/groups") and p.startswith("/api/v1/apps/"):
            app = req.match["id"]
            if app not in self._app_groups:
                raise ApiError(404, "E0000007", f"Not found: Resource not found: {app} (AppInstance)")
            items = [shapes.app_group_json(self.base_url, app, g, i) for i, g in enumerate(self._app_groups[app])]
            return paginate(items, req.params, "apps", self.faults.page_size)
        if p == "/api/v1/policies":
            return Response(self._policies(req.params.get("type", "")))
        if p.endswith("/rules"):
            return Response(self._rules(req.match["id"]))
        if p == "/api/v1/authenticators":
            return Response(self._authenticators())
        if p == "/api/v1/logs":
            return self._logs(req)
        if p == "/api/v1/zones":
            return Response([shapes.zone_json(self.base_url, n) for n in shapes.zone_names(self.truth.policies)])
        raise ApiError(404, "E0000022", "The endpoint does not exist.")

    # --- users, factors, roles ---------------------------------------------------------

    def _user(self, a: Account) -> Json:
        out = shapes.user_json(self.base_url, a)
        if a.id in self._last_updated:
            out["lastUpdated"] = shapes.iso(self._last_updated[a.id])
        if a.id in self.faults.invalid_users:
            # Outside the SDK's enum: its pydantic model rejects the record (and the page).
            out["credentials"] = {"provider": {"type": "CARRIER_PIGEON", "name": "CARRIER_PIGEON"}}
        return out

    def _users(self, req: Request) -> Response:
        flt = req.params.get("filter") or req.params.get("search")
        accounts = [self._accounts[a.id] for a in self.truth.accounts]
        if flt and _FILTER_UPDATED.match(flt):
            # Okta's filter returns every status, deprovisioned included.
            since = _norm(_FILTER_UPDATED.match(flt).group(1))  # type: ignore[union-attr]
            items = [self._user(a) for a in accounts]
            return paginate([u for u in items if u["lastUpdated"] > since], req.params, "users", self.faults.page_size)
        if flt:
            m = _FILTER_STATUS.match(flt)
            if m is None:
                raise ApiError(400, "E0000031", f"Invalid search criteria: {flt}")
            status = m.group(1)
            ids, index = self._listing(
                ("users", status),
                lambda: [a.id for a in accounts if a.attributes.get("okta_status", "ACTIVE") == status],
            )
        else:  # the default listing omits deprovisioned users
            ids, index = self._listing(
                ("users", ""), lambda: [a.id for a in accounts if a.attributes.get("okta_status") != "DEPROVISIONED"]
            )
        return paginate_ids(
            ids,
            index,
            req.params,
            "users",
            self.faults.page_size,
            lambda n: self._user(self._accounts[AccountId(ids[n])]),
        )

    def _listing(self, key: tuple[str, str], build: Callable[[], list[AccountId]]) -> tuple[list[str], dict[str, int]]:
        """A listing's ids and their positions, built once: paging a million users must not
        rebuild the listing on every page (statuses and memberships never change here)."""
        hit = self._listings.get(key)
        if hit is None:
            ids: list[str] = list(build())
            hit = (ids, {i: n for n, i in enumerate(ids)})
            self._listings[key] = hit
        return hit

    def _factors(self, uid: str) -> list[Json]:
        if uid in self._factor_overrides:
            return self._factor_overrides[uid]
        account = self._accounts.get(AccountId(uid))
        if account is None:
            raise ApiError(404, "E0000007", f"Not found: Resource not found: {uid} (User)")
        return [shapes.factor_json(self.base_url, uid, i, m) for i, m in enumerate(account.methods)]

    def _roles_of_user(self, uid: str) -> list[Json]:
        if uid not in self._accounts:
            raise ApiError(404, "E0000007", f"Not found: Resource not found: {uid} (User)")
        return [
            shapes.role_json(r, self._role_names.get(r, r), kind, i)
            for i, (r, kind) in enumerate(self._user_roles.get(uid, []))
        ]

    def _roles_of_group(self, gid: str) -> list[Json]:
        if gid not in self._members:
            raise ApiError(404, "E0000007", f"Not found: Resource not found: {gid} (UserGroup)")
        return [
            shapes.role_json(r, self._role_names.get(r, r), "GROUP", i)
            for i, r in enumerate(self._group_roles.get(gid, []))
        ]

    def _assignee(self, uid: str) -> Json:
        return {
            "id": uid,
            "orn": f"orn:okta:directory:sandbox:users:{uid}",
            "_links": {"roles": {"href": f"{self.base_url}/api/v1/users/{uid}/roles"}},
        }

    def _group_users(self, req: Request) -> Response:
        gid = req.match["id"]
        if gid not in self._members:
            raise ApiError(404, "E0000007", f"Not found: Resource not found: {gid} (UserGroup)")
        ids, index = self._listing(("group", gid), lambda: [a.id for a in self._members[gid]])
        return paginate_ids(
            ids,
            index,
            req.params,
            "groups",
            self.faults.page_size,
            lambda n: self._user(self._accounts[AccountId(ids[n])]),
        )

    def _app_users(self, req: Request) -> Response:
        app = req.match["id"]
        if app not in self._app_direct:
            raise ApiError(404, "E0000007", f"Not found: Resource not found: {app} (AppInstance)")
        direct = set(self._app_direct[app])

        def assigned() -> list[AccountId]:
            via_group = {a.id for g in self._app_groups.get(app, []) for a in self._members.get(g, [])}
            return [a.id for a in self.truth.accounts if a.id in direct or a.id in via_group]

        ids, index = self._listing(("app", app), assigned)
        return paginate_ids(
            ids,
            index,
            req.params,
            "apps",
            self.faults.page_size,
            lambda n: shapes.app_user_json(
                self.base_url, app, self._accounts[AccountId(ids[n])], "USER" if ids[n] in direct else "GROUP"
            ),
        )

    # --- policies ----------------------------------------------------------------------

    def _converted(self) -> list[shapes.OktaPolicy]:
        out = [shapes.policy_json(self.base_url, p, i) for i, p in enumerate(self.truth.policies, 1)]
        out += [shapes.OktaPolicy(r.type, r.policy, r.rules) for r in self._raw_policies]
        return out

    def _policies(self, ptype: str) -> list[Json]:
        if not ptype:
            raise ApiError(400, "E0000001", "Api validation failed: type")
        if ptype == "ACCESS_POLICY" and self.engine == "classic":
            raise ApiError(400, "E0000001", "Api validation failed: type. Invalid policy type: ACCESS_POLICY")
        return [p.policy for p in self._converted() if p.type == ptype]

    def _rules(self, pid: str) -> list[Json]:
        for p in self._converted():
            if p.policy["id"] == pid:
                return list(p.rules)
        raise ApiError(404, "E0000007", f"Not found: Resource not found: {pid} (Policy)")

    def _authenticators(self) -> list[Json]:
        """The authenticators every Identity Engine org has, plus those the truth's factors
        need (a YubiKey OTP, Duo), ACTIVE unless ``authenticator_status`` says otherwise."""
        if self.engine == "classic":
            raise ApiError(401, "E0000015", "You do not have permission to access the feature you are requesting")
        kinds = {m.kind for a in self.truth.accounts for m in a.methods}
        listed = list(AUTHENTICATORS)
        listed += [extra for kind, extra in EXTRA_AUTHENTICATORS if kind in kinds]
        return [
            {
                "id": f"aut{key}",
                "key": key,
                "type": kind,
                "status": self._authenticator_status.get(key, "ACTIVE"),
                "name": name,
                "created": "2024-01-01T00:00:00.000Z",
                "lastUpdated": "2024-01-01T00:00:00.000Z",
                "_links": {"self": {"href": f"{self.base_url}/api/v1/authenticators/aut{key}"}},
                **({"settings": {"allowedFor": "any"}} if key in ("okta_email", "phone_number") else {}),
            }
            for key, kind, name in listed
        ]

    # --- system log --------------------------------------------------------------------

    def _logs(self, req: Request) -> Response:
        events = shapes.log_events(self.truth, self._sign_ins)
        if self._factor_events:
            events = sorted(events + self._factor_events, key=lambda e: (e["published"], e["uuid"]))
        since, until = req.params.get("since"), req.params.get("until")
        if since:
            events = [e for e in events if e["published"] >= _norm(since)]
        if until:
            events = [e for e in events if e["published"] < _norm(until)]
        flt = req.params.get("filter")
        if flt:
            wanted = set(_LOG_TYPES.findall(flt))
            prefixes = tuple(_LOG_PREFIXES.findall(flt))
            if not wanted and not prefixes:
                raise ApiError(400, "E0000031", f"Invalid filter: {flt}")
            events = [e for e in events if e["eventType"] in wanted or e["eventType"].startswith(prefixes)]
        return paginate(events, req.params, "logs", self.faults.page_size)


def _norm(value: str) -> str:
    """Compare ISO timestamps as the events print them."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "E0000001", f"Api validation failed: {value}") from None
    return shapes.iso(when) or value
