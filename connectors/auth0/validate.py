"""``mfa-audit validate`` for Auth0: a token from the client credentials, the grant is
read-only, and one minimal request per scope (a 403 names the scope that is missing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.interfaces import AuthenticationError, PermissionCheck
from connectors.auth0.client import Auth0Http, FetchFailed, SchemaRejected
from connectors.auth0.settings import (
    ACTIONS,
    ALL_SCOPES,
    CLIENTS,
    CONNECTIONS,
    FACTORS,
    LOGS,
    METHODS,
    MFA_POLICIES,
    USERS,
    ScopeNeed,
)

POST_LOGIN = "post-login"


def check_access(http: Auth0Http, client_id: str) -> tuple[PermissionCheck, ...]:
    name = f"machine-to-machine application {client_id}"
    purpose = "obtain a Management API token (client credentials)"
    try:
        http.token()
    except AuthenticationError as exc:
        return (PermissionCheck(name, purpose, False, str(exc)),)
    checks = [PermissionCheck(name, purpose, True)]
    granted = http.granted
    writes = sorted(s for s in granted if not s.startswith("read:"))
    checks.append(
        PermissionCheck(
            "read-only grant",
            "the application is granted read scopes only",
            not writes,
            f"also granted: {', '.join(writes[:5])}" if writes else "",
        )
    )
    sdk = http.sdk
    first_user: list[str] = []

    def users() -> None:
        pager = sdk.users.list(page=0, per_page=1, include_totals=True, fields="user_id", include_fields=True)
        first_user.extend(str(u.user_id) for u in pager.items or () if u.user_id)

    def methods() -> None:
        if first_user:
            sdk.users.authentication_methods.list(first_user[0], page=0, per_page=1)

    probes: dict[str, Callable[[], Any]] = {
        USERS.scope: users,
        METHODS.scope: methods,
        FACTORS.scope: lambda: sdk.guardian.factors.list(),
        MFA_POLICIES.scope: lambda: sdk.guardian.policies.list(),
        CLIENTS.scope: lambda: sdk.clients.list(page=0, per_page=1, fields="client_id", include_fields=True),
        CONNECTIONS.scope: lambda: sdk.connections.list(take=1, include_totals=False, fields="id", include_fields=True),
        ACTIONS.scope: lambda: sdk.actions.triggers.bindings.list(POST_LOGIN, page=0, per_page=1),
        LOGS.scope: lambda: sdk.logs.list(page=0, per_page=1, include_totals=True),
    }
    checks.extend(_probe(http, n, probes[n.scope], granted, first_user) for n in ALL_SCOPES)
    return tuple(checks)


def _probe(
    http: Auth0Http, need: ScopeNeed, probe: Callable[[], Any], granted: frozenset[str], first_user: list[str]
) -> PermissionCheck:
    listed = need.scope in granted
    try:
        http.call(f"{need.scope} probe", probe)
    except SchemaRejected:
        pass  # an answer came: the scope was accepted (its shape is collect's business)
    except FetchFailed as exc:
        if exc.permission_denied:
            return PermissionCheck(need.scope, need.purpose, False, f"refused: {exc.detail}", need.optional)
        return PermissionCheck(need.scope, need.purpose, None, f"not checked: {exc}", need.optional)
    if need is METHODS and not first_user:
        detail = "no user to probe with" + ("" if listed else "; not in the token's scopes")
        return PermissionCheck(need.scope, need.purpose, True if listed else None, detail, need.optional)
    if not listed:
        return PermissionCheck(
            need.scope, need.purpose, None, "the probe passed but the token does not list the scope", need.optional
        )
    return PermissionCheck(need.scope, need.purpose, True, "", need.optional)
