"""A Keycloak realm as the Admin REST API represents it, and a builder for one.

The builder writes Keycloak's own representations (UserRepresentation,
CredentialRepresentation, GroupRepresentation, RoleRepresentation,
ClientRepresentation, AuthenticationFlowRepresentation,
AuthenticationExecutionInfoRepresentation, AuthenticatorConfigRepresentation,
IdentityProviderRepresentation, EventRepresentation) with the field names of the
documentation. ``default_flows`` are the flows a new realm starts with; ``flow`` builds
others from a nested description.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Json = dict[str, Any]
REQUIRED, ALTERNATIVE, CONDITIONAL, DISABLED = "REQUIRED", "ALTERNATIVE", "CONDITIONAL", "DISABLED"
ADMIN_ROLES = (
    "view-users", "view-realm", "view-clients", "view-events", "query-users", "query-groups", "manage-users",
    "manage-realm", "manage-clients", "realm-admin",
)  # fmt: skip
BUILT_IN_CLIENTS = ("account", "account-console", "admin-cli", "broker", "realm-management", "security-admin-console")


def stable_id(*parts: str) -> str:
    """A UUID-shaped id derived from ``parts``: the same realm always has the same ids."""
    return str(uuid.UUID(hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]))


@dataclass(frozen=True, slots=True)
class Exe:
    """One execution of a flow description: an authenticator (``provider``) or a
    sub-flow (``children``)."""

    requirement: str
    provider: str = ""
    alias: str = ""  # a sub-flow's alias (its display name)
    children: tuple[Exe, ...] = ()
    config: Mapping[str, str] | None = None


def step(provider: str, requirement: str = REQUIRED, config: Mapping[str, str] | None = None) -> Exe:
    return Exe(requirement, provider, config=config)


def sub(alias: str, requirement: str, *children: Exe) -> Exe:
    return Exe(requirement, alias=alias, children=children)


def conditional_otp(alias: str = "Browser - Conditional OTP", otp: str = "auth-otp-form") -> Exe:
    """Keycloak's default: OTP only for users who configured one."""
    return sub(alias, CONDITIONAL, step("conditional-user-configured"), step(otp))


def browser_flow(*second: Exe) -> tuple[Exe, ...]:
    """The default browser flow's shape, with ``second`` after the password form."""
    return (
        step("auth-cookie", ALTERNATIVE),
        step("auth-spnego", DISABLED),
        step("identity-provider-redirector", ALTERNATIVE),
        sub("forms", ALTERNATIVE, step("auth-username-password-form"), *second),
    )


def default_flows() -> dict[str, tuple[Exe, ...]]:
    return {
        "browser": browser_flow(conditional_otp()),
        "direct grant": (
            step("direct-grant-validate-username"),
            step("direct-grant-validate-password"),
            conditional_otp("Direct Grant - Conditional OTP", "direct-grant-validate-otp"),
        ),
        "first broker login": (
            step("idp-review-profile"),
            sub(
                "User creation or linking",
                REQUIRED,
                step("idp-create-user-if-unique", ALTERNATIVE),
                sub(
                    "Handle Existing Account", ALTERNATIVE, step("idp-confirm-link"), step("idp-username-password-form")
                ),
            ),
        ),
    }


@dataclass(slots=True)
class Realm:
    """Everything the sandbox serves, as JSON-ready representations."""

    name: str
    settings: Json
    users: list[Json] = field(default_factory=list)
    credentials: dict[str, list[Json]] = field(default_factory=dict)
    groups: list[Json] = field(default_factory=list)  # top level, with subGroups
    group_members: dict[str, list[str]] = field(default_factory=dict)
    group_roles: dict[str, Json] = field(default_factory=dict)
    realm_roles: list[Json] = field(default_factory=list)
    client_roles: dict[str, list[Json]] = field(default_factory=dict)  # client uuid → roles
    role_members: dict[str, list[str]] = field(default_factory=dict)  # role id → user ids
    composites: dict[str, list[Json]] = field(default_factory=dict)  # role id → roles
    clients: list[Json] = field(default_factory=list)
    flows: list[Json] = field(default_factory=list)
    executions: dict[str, list[Json]] = field(default_factory=dict)  # alias → flattened
    configs: dict[str, Json] = field(default_factory=dict)
    idps: list[Json] = field(default_factory=list)
    idp_links: dict[str, list[str]] = field(default_factory=dict)  # alias → user ids
    events: list[Json] = field(default_factory=list)


class RealmBuilder:
    def __init__(self, name: str = "sandbox", created: datetime | None = None) -> None:
        self._created_ms = int((created or datetime(2025, 1, 6)).timestamp() * 1000)
        self.realm = Realm(
            name,
            {
                "id": stable_id(name),
                "realm": name,
                "enabled": True,
                "browserFlow": "browser",
                "directGrantFlow": "direct grant",
                "firstBrokerLoginFlow": "first broker login",
                "eventsEnabled": False,
                "eventsExpiration": 2592000,
                "enabledEventTypes": [],
                "otpPolicyType": "totp",
                # Keycloak's passwordless defaults (WebAuthnPolicyPasswordlessDefaults).
                "webAuthnPolicyPasswordlessUserVerificationRequirement": "required",
                "webAuthnPolicyUserVerificationRequirement": "not specified",
            },
        )
        self._roles: dict[str, Json] = {}  # "name" or "client.name" → representation
        self._groups: dict[str, Json] = {}  # path → representation
        self._clients: dict[str, Json] = {}  # clientId → representation
        for cid in BUILT_IN_CLIENTS:
            self.client(cid, cid, built_in=True)
        for role in ADMIN_ROLES:
            self.role(f"realm-management.{role}")
        self.role(f"default-roles-{name}", composite_of=("offline_access", "uma_authorization"))
        for alias, steps in default_flows().items():
            self.flow(alias, steps, built_in=True)

    # --- roles, groups, clients ------------------------------------------------------------

    def role(self, label: str, composite_of: Sequence[str] = ()) -> Json:
        """A realm role ("name") or a client role ("clientId.name")."""
        if label in self._roles:
            return self._roles[label]
        client, _, name = (
            label.rpartition(".") if label.startswith(tuple(f"{c}." for c in self._clients)) else ("", "", label)
        )
        rep: Json = {"id": stable_id(self.realm.name, "role", label), "name": name, "composite": bool(composite_of)}
        if client:
            c = self._clients[client]
            rep.update({"clientRole": True, "containerId": c["id"]})
            self.realm.client_roles.setdefault(c["id"], []).append(rep)
        else:
            rep.update({"clientRole": False, "containerId": self.realm.settings["id"]})
            self.realm.realm_roles.append(rep)
        self._roles[label] = rep
        if composite_of:
            self.realm.composites[rep["id"]] = [self.role(r) for r in composite_of]
        return rep

    def group(self, path: str, roles: Sequence[str] = ()) -> Json:
        if path in self._groups:
            return self._groups[path]
        parent_path, _, name = path.rpartition("/")
        rep: Json = {"id": stable_id(self.realm.name, "group", path), "name": name, "path": path, "subGroups": []}
        if parent_path:
            parent = self.group(parent_path)
            parent["subGroups"].append(rep)
            parent["subGroupCount"] = len(parent["subGroups"])
        else:
            self.realm.groups.append(rep)
        rep["subGroupCount"] = 0
        realm_m = [self.role(r) for r in roles if "." not in r]
        client_m: dict[str, Json] = {}
        for r in roles:
            if "." in r:
                cid = r.split(".", 1)[0]
                client_m.setdefault(cid, {"id": self._clients[cid]["id"], "client": cid, "mappings": []})
                client_m[cid]["mappings"].append(self.role(r))
        self.realm.group_roles[rep["id"]] = {"realmMappings": realm_m, "clientMappings": client_m}
        self._groups[path] = rep
        return rep

    def client(
        self,
        client_id: str,
        name: str = "",
        *,
        browser_override: str | None = None,
        direct_grant_override: str | None = None,
        direct_grant: bool = False,
        built_in: bool = False,
        enabled: bool = True,
        bearer_only: bool = False,
    ) -> Json:
        rep: Json = {
            "id": stable_id(self.realm.name, "client", client_id),
            "clientId": client_id,
            "name": name or client_id,
            "enabled": enabled,
            "bearerOnly": bearer_only,
            "publicClient": not built_in,
            "standardFlowEnabled": True,
            "implicitFlowEnabled": False,
            "directAccessGrantsEnabled": direct_grant,
            "serviceAccountsEnabled": False,
            "protocol": "openid-connect",
            "authenticationFlowBindingOverrides": {},
        }
        self._clients[client_id] = rep
        self.realm.clients.append(rep)
        if browser_override:
            rep["authenticationFlowBindingOverrides"]["browser"] = self.flow_id(browser_override)
        if direct_grant_override:
            rep["authenticationFlowBindingOverrides"]["direct_grant"] = self.flow_id(direct_grant_override)
        return rep

    # --- flows ------------------------------------------------------------------------------

    def flow_id(self, alias: str) -> str:
        return stable_id(self.realm.name, "flow", alias)

    def flow(self, alias: str, steps: Sequence[Exe], *, built_in: bool = False, provider: str = "basic-flow") -> None:
        rows: list[Json] = []

        def add(items: Sequence[Exe], level: int, parent: str) -> None:
            for index, e in enumerate(items):
                eid = stable_id(self.realm.name, "execution", parent, str(index), e.provider or e.alias)
                row: Json = {
                    "id": eid,
                    "requirement": e.requirement,
                    "level": level,
                    "index": index,
                    "priority": index * 10,
                }
                if e.children:
                    row.update(
                        {
                            "displayName": e.alias,
                            "authenticationFlow": True,
                            "flowId": stable_id(self.realm.name, "subflow", alias, e.alias),
                            "requirementChoices": [REQUIRED, ALTERNATIVE, DISABLED, CONDITIONAL],
                            "configurable": False,
                        }
                    )
                    rows.append(row)
                    add(e.children, level + 1, eid)
                    continue
                row.update(
                    {
                        "displayName": e.provider,
                        "providerId": e.provider,
                        "authenticationFlow": False,
                        "requirementChoices": [REQUIRED, ALTERNATIVE, DISABLED],
                        "configurable": e.config is not None,
                    }
                )
                if e.config is not None:
                    cid = stable_id(self.realm.name, "config", eid)
                    row["authenticationConfig"] = cid
                    self.realm.configs[cid] = {"id": cid, "alias": f"{e.provider}-{index}", "config": dict(e.config)}
                rows.append(row)

        add(steps, 0, alias)
        self.realm.executions[alias] = rows
        self.realm.flows = [f for f in self.realm.flows if f["alias"] != alias]
        self.realm.flows.append(
            {
                "id": self.flow_id(alias),
                "alias": alias,
                "description": "",
                "providerId": provider,
                "topLevel": True,
                "builtIn": built_in,
            }
        )

    def bind(self, browser: str | None = None, direct_grant: str | None = None) -> None:
        if browser:
            self.realm.settings["browserFlow"] = browser
        if direct_grant:
            self.realm.settings["directGrantFlow"] = direct_grant

    def idp(self, alias: str, display: str, *, post_broker_flow: str | None = None, enabled: bool = True) -> None:
        self.realm.idps.append(
            {
                "alias": alias,
                "displayName": display,
                "internalId": stable_id(self.realm.name, "idp", alias),
                "providerId": "oidc",
                "enabled": enabled,
                "trustEmail": True,
                "firstBrokerLoginFlowAlias": "first broker login",
                "postBrokerLoginFlowAlias": post_broker_flow or "",
                "config": {},
            }
        )
        self.realm.idp_links.setdefault(alias, [])

    # --- users ------------------------------------------------------------------------------

    def user(
        self,
        username: str,
        *,
        credentials: Sequence[str] = ("password",),
        required_actions: Sequence[str] = (),
        roles: Sequence[str] = (),
        groups: Sequence[str] = (),
        idps: Sequence[str] = (),
        attributes: Mapping[str, Sequence[str]] | None = None,
        enabled: bool = True,
        email: str | None = None,
        first: str = "",
        last: str = "",
        service_client: str | None = None,
    ) -> str:
        uid = stable_id(self.realm.name, "user", username)
        rep: Json = {
            "id": uid,
            "username": username,
            "enabled": enabled,
            "emailVerified": True,
            "createdTimestamp": self._created_ms,
            "totp": "otp" in credentials,
            "requiredActions": list(required_actions),
            "notBefore": 0,
            "access": {"manage": False},
        }
        if email is not None or "@" in username:
            rep["email"] = email or username
        if first:
            rep["firstName"] = first
        if last:
            rep["lastName"] = last
        if attributes:
            rep["attributes"] = {k: list(v) for k, v in attributes.items()}
        if service_client:
            rep["serviceAccountClientId"] = service_client
        self.realm.users.append(rep)
        self.realm.credentials[uid] = [
            {
                "id": stable_id(uid, "credential", ctype, str(n)),
                "type": ctype,
                "userLabel": "" if ctype == "password" else f"{ctype} {n + 1}",
                "createdDate": self._created_ms + 86_400_000 * (n + 1),
                "credentialData": "{}",
            }
            for n, ctype in enumerate(credentials)
        ]
        self.realm.role_members.setdefault(self.role(f"default-roles-{self.realm.name}")["id"], []).append(uid)
        for r in roles:
            self.realm.role_members.setdefault(self.role(r)["id"], []).append(uid)
        for g in groups:
            self.realm.group_members.setdefault(self.group(g)["id"], []).append(uid)
        for alias in idps:
            self.realm.idp_links.setdefault(alias, []).append(uid)
        return uid

    def login_event(self, user_id: str, client_id: str, at: datetime, details: Mapping[str, str] | None = None) -> None:
        self.realm.events.append(
            {
                "time": int(at.timestamp() * 1000),
                "type": "LOGIN",
                "realmId": self.realm.settings["id"],
                "clientId": client_id,
                "userId": user_id,
                "sessionId": stable_id(user_id, str(at)),
                "ipAddress": "192.0.2.10",
                "details": {"auth_method": "openid-connect", "auth_type": "code", **(details or {})},
            }
        )

    def build(self) -> Realm:
        return self.realm
