"""Auth0 sandbox: the sample organisation's ``auth0`` truth served on loopback as the
Auth0 Management API v2 (users, the users-export job and its file, authentication
methods, clients, Guardian policies and factors, post-login Actions, tenant logs) plus
the client-credentials token endpoint.

    with start(org, rate=16, burst=50) as sandbox:
        os.environ.update(sandbox.environ())
        connector = Auth0Connector("auth0", sandbox.settings(), Path("."))

The connector reaches it over plain HTTP only because its settings say
``allow_insecure_http: true`` with a loopback domain.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from connectors.sandbox.auth0.api import Auth0Api
from connectors.sandbox.auth0.server import (
    READ_SCOPES,
    Faults,
    RecordedRequest,
    ServerState,
    TokenBucket,
    serve,
)
from connectors.sandbox.auth0.tenant import DEMO_SETTINGS, RawAction, TenantSettings, demo_tenant, with_tenant
from connectors.sandbox.loopback import LoopbackSandbox
from connectors.sandbox.sample_org import SampleOrg

SECRET_ENV = "MFA_AUDITOR_AUTH0_CLIENT_SECRET"
CLIENT_ID = "a0MfaAuditorReadOnly000000000004"


class Auth0Sandbox(LoopbackSandbox):
    """A running sandbox (context manager). ``requests`` is the request log."""

    def __init__(self, state: ServerState, api: Auth0Api) -> None:
        self._state = state
        self.api = api
        self._server, self._thread = serve(state)
        self.base_url = state.base_url
        self.domain = state.base_url.removeprefix("http://")

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def faults(self) -> Faults:
        return self._state.faults

    @property
    def throttled(self) -> int:
        with self._state.lock:
            return self._state.bucket.throttled

    def settings(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "client_id": CLIENT_ID,
            "client_secret": {"env": SECRET_ENV},
            "audience": self._state.audience,
            "allow_insecure_http": True,
            "rate_limit_rps": self._state.bucket.rate,
        }

    def environ(self) -> dict[str, str]:
        return {SECRET_ENV: self._state.client_secret}

    def __repr__(self) -> str:
        return f"Auth0Sandbox({self.base_url})"


def start(
    org: SampleOrg,
    *,
    tenant: TenantSettings = DEMO_SETTINGS,
    rate: float = 100.0,
    burst: int = 100,
    script: Mapping[str, Sequence[str]] | None = None,
    persistent: Mapping[str, str] | None = None,
    timeout_delay: float = 2.0,
    retry_after: float | None = None,
    export_polls: int = 1,
    granted_scopes: Iterable[str] = READ_SCOPES,
    methods: Mapping[str, Sequence[dict[str, Any]]] | None = None,
    users: Sequence[dict[str, Any]] | None = None,
    client_secret: str | None = None,
) -> Auth0Sandbox:
    """Serve the organisation's Auth0 tenant (``tenant.demo_tenant``) with ``tenant``'s MFA policy, factors and Actions.
    ``rate`` / ``burst``: the tenant's token bucket (Management API requests per second,
    bucket size). Faults: ``script`` / ``persistent`` per family (users, methods, jobs,
    export, clients, guardian, actions, logs; see ``Faults``); ``retry_after`` adds
    ``Retry-After`` to 429s; ``export_polls``: polls before the export job completes;
    ``methods`` / ``users`` replace records with raw JSON; ``client_secret``: the M2M
    application's secret to accept (default: a random throwaway one)."""
    truth = demo_tenant(org)
    faults = Faults(
        script={k: list(v) for k, v in (script or {}).items()},
        persistent=dict(persistent or {}),
        timeout_delay=timeout_delay,
        retry_after=retry_after,
    )
    api = Auth0Api(truth, tenant, export_polls=export_polls, methods=methods, users=users)
    state = ServerState(
        api=api,
        exports=api.export_file,
        client_id=CLIENT_ID,
        client_secret=client_secret or secrets.token_urlsafe(32),
        audience="",
        granted_scopes=frozenset(granted_scopes),
        bucket=TokenBucket(burst, rate),
        faults=faults,
    )
    sandbox = Auth0Sandbox(state, api)
    state.audience = f"{sandbox.base_url}/api/v2/"
    return sandbox


__all__ = [
    "CLIENT_ID",
    "READ_SCOPES",
    "SECRET_ENV",
    "Auth0Sandbox",
    "RawAction",
    "RecordedRequest",
    "TenantSettings",
    "start",
    "with_tenant",
]
