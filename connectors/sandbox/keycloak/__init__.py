"""Keycloak sandbox: a ``Realm`` (see ``realm``) served on loopback as the Admin REST
API plus the OpenID Connect token endpoint for a service-account client.

    with start(realm) as sandbox:
        os.environ.update(sandbox.environ())
        connector = KeycloakConnector("keycloak", sandbox.settings(), Path("."))

The connector reaches it over plain HTTP only because its settings say
``allow_insecure_http: true``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from connectors.sandbox.keycloak.api import KeycloakApi
from connectors.sandbox.keycloak.realm import Realm, RealmBuilder
from connectors.sandbox.keycloak.server import VIEW_ROLES, Faults, RecordedRequest, ServerState, serve
from connectors.sandbox.loopback import LoopbackSandbox

SECRET_ENV = "MFA_AUDITOR_KEYCLOAK_CLIENT_SECRET"
CLIENT_ID = "mfa-auditor"


class KeycloakSandbox(LoopbackSandbox):
    """A running sandbox (context manager). ``requests`` is the request log."""

    def __init__(self, state: ServerState) -> None:
        self._state = state
        self._server, self._thread = serve(state)
        self.base_url = state.base_url

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def faults(self) -> Faults:
        return self._state.faults

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {
            "server_url": self.base_url,
            "realm": self._state.realm,
            "client_id": CLIENT_ID,
            "client_secret": {"env": SECRET_ENV},
            "allow_insecure_http": True,
            # A loopback sandbox: no production realm to spare.
            "requests_per_second": 500,
            "max_concurrency": 4,
            **extra,
        }

    def environ(self) -> dict[str, str]:
        return {SECRET_ENV: self._state.client_secret}

    def __repr__(self) -> str:
        return f"KeycloakSandbox({self.base_url})"


def start(
    realm: Realm | Any,
    *,
    granted_roles: Iterable[str] = VIEW_ROLES,
    script: Mapping[str, Sequence[str]] | None = None,
    persistent: Mapping[str, str] | None = None,
    timeout_delay: float = 2.0,
    client_secret: str | None = None,
    path_prefix: str = "",
    redirect_to: str | None = None,
) -> KeycloakSandbox:
    """Serve ``realm`` (or, for the demo, the sample organisation's realm). Faults per
    endpoint family (realm, users, count, credentials, groups, roles, clients, flows,
    idps, events): ``script`` / ``persistent`` (see ``Faults``). ``path_prefix``: "/auth"
    serves the API under it, as Keycloak did before version 17."""
    if not isinstance(realm, Realm):
        from connectors.sandbox.keycloak.demo_realm import demo_realm

        realm = demo_realm(realm)
    state = ServerState(
        api=KeycloakApi(realm),
        realm=realm.name,
        client_id=CLIENT_ID,
        client_secret=client_secret or secrets.token_urlsafe(24),
        granted_roles=frozenset(granted_roles),
        faults=Faults(
            script={k: list(v) for k, v in (script or {}).items()},
            persistent=dict(persistent or {}),
            timeout_delay=timeout_delay,
            redirect_to=redirect_to,
        ),
        prefix=path_prefix.rstrip("/"),
    )
    return KeycloakSandbox(state)


__all__ = ["CLIENT_ID", "SECRET_ENV", "KeycloakSandbox", "Realm", "RealmBuilder", "RecordedRequest", "start"]
