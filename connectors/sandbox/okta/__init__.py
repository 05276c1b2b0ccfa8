"""Okta sandbox: the sample organisation's ``okta`` truth served on loopback as the Okta
Management API (users, factors, roles, groups, apps and their assignments, policies and
rules, authenticators, network zones, the system log) plus the OAuth 2.0 token
endpoint for a service app (private_key_jwt client credentials).

    with start(org, budgets={"factors": 20}, window_seconds=1) as sandbox:
        os.environ.update(sandbox.environ())
        connector = OktaConnector("okta", sandbox.settings(), Path("."))

The connector reaches it over plain HTTP only because its settings say
``allow_insecure_http: true`` (the SDK refuses http:// otherwise).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from auditor.model import Method, SignIn
from connectors.sandbox.loopback import LoopbackSandbox
from connectors.sandbox.okta.api import OktaApi, RawPolicy
from connectors.sandbox.okta.server import (
    READ_SCOPES,
    Faults,
    RateLimits,
    RecordedRequest,
    ServerState,
    serve,
)
from connectors.sandbox.sample_org import SampleOrg

TOKEN_ENV = "MFA_AUDITOR_OKTA_TOKEN"
PRIVATE_KEY_ENV = "MFA_AUDITOR_OKTA_PRIVATE_KEY"
SOURCE = "okta"
CLIENT_ID = "0oasandboxservice"
KEY_ID = "sandbox-key-1"
# Okta's documented per-minute limits, scaled to the sandbox's default one-minute window.
DEFAULT_BUDGETS = {
    "users": 600,
    "factors": 1200,
    "roles": 1200,
    "groups": 500,
    "apps": 100,
    "policies": 1200,
    "logs": 120,
    "zones": 1200,
    "authenticators": 1200,
}


class OktaSandbox(LoopbackSandbox):
    """A running sandbox (context manager). ``requests`` is the request log."""

    def __init__(self, state: ServerState, api: OktaApi, private_key_pem: str) -> None:
        self._state = state
        self._api = api
        self._private_key_pem = private_key_pem
        self._server, self._thread = serve(state)
        self.base_url = state.base_url

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def faults(self) -> Faults:
        """Mutable: a test may change faults between calls."""
        return self._state.faults

    @property
    def throttled(self) -> int:
        """How many requests were answered 429 because the budget was spent."""
        with self._state.lock:
            return self._state.limits.throttled

    def change_factors(
        self, user_id: str, methods: Sequence[Method], at: datetime, *, log: bool = True, touch: bool = False
    ) -> None:
        """Change a user's factors after start, leaving the change signals Okta would:
        factor lifecycle events in the System Log (``log``) and/or the user's
        ``lastUpdated`` moved to ``at`` (``touch``: a status or profile change)."""
        with self._state.lock:
            self._api.change_factors(user_id, methods, at, log=log, touch=touch)

    def settings(self) -> dict[str, Any]:
        return {"org_url": self.base_url, "token": {"env": TOKEN_ENV}, "allow_insecure_http": True}

    def oauth_settings(self, scopes: Sequence[str] | None = None) -> dict[str, Any]:
        """Settings for the service-app mode (private_key_jwt)."""
        oauth: dict[str, Any] = {"client_id": CLIENT_ID, "private_key": {"env": PRIVATE_KEY_ENV}, "key_id": KEY_ID}
        if scopes is not None:
            oauth["scopes"] = list(scopes)
        return {"org_url": self.base_url, "oauth": oauth, "allow_insecure_http": True}

    def environ(self) -> dict[str, str]:
        return {TOKEN_ENV: self._state.token, PRIVATE_KEY_ENV: self._private_key_pem}

    def __repr__(self) -> str:
        return f"OktaSandbox({self.base_url})"


def _key_pair() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def start(
    org: SampleOrg,
    *,
    engine: str = "identity",
    budgets: Mapping[str, int] | None = None,
    window_seconds: int = 60,
    default_budget: int = 1200,
    script: Mapping[str, Sequence[str]] | None = None,
    persistent: Mapping[str, str] | None = None,
    timeout_delay: float = 2.0,
    page_size: int | None = None,
    invalid_users: Iterable[str] = (),
    granted_scopes: Iterable[str] = READ_SCOPES,
    sign_ins: Sequence[SignIn] | None = None,
    factors: Mapping[str, Sequence[dict[str, Any]]] | None = None,
    raw_policies: Sequence[RawPolicy] = (),
    token: str | None = None,
    link_base: str | None = None,
    redirect_to: str | None = None,
    authenticator_status: Mapping[str, str] | None = None,
) -> OktaSandbox:
    """Serve ``org.truth("okta")``. ``engine``: "identity" or "classic" (no access
    policies, no authenticators API). ``budgets`` per endpoint family (users, factors,
    roles, groups, apps, policies, logs, zones, authenticators) per ``window_seconds``;
    faults: ``script`` / ``persistent`` per family (see ``Faults``), ``page_size`` to
    force paging, ``invalid_users`` served schema-invalid; ``granted_scopes`` for the
    service app; ``factors`` replaces a user's factor list with raw JSON;
    ``raw_policies`` adds policies given as Okta JSON; ``token``: the SSWS API token
    to accept (default: a random throwaway one); ``link_base`` / ``redirect_to``: hostile
    next links and redirects (see ``Faults``); ``authenticator_status``: key → status
    (e.g. ``{"phone_number": "INACTIVE"}``) of the authenticators served."""
    if engine not in ("identity", "classic"):
        raise ValueError(f"engine must be 'identity' or 'classic', not {engine!r}")
    if window_seconds < 1:
        raise ValueError("window_seconds must be a whole number of seconds ≥ 1 (Okta's reset is epoch seconds)")
    truth = org.truth(SOURCE)
    faults = Faults(
        script={k: list(v) for k, v in (script or {}).items()},
        persistent=dict(persistent or {}),
        timeout_delay=timeout_delay,
        page_size=page_size,
        invalid_users=frozenset(invalid_users),
        link_base=link_base,
        redirect_to=redirect_to,
    )
    api = OktaApi(
        truth,
        org.group_names.get(SOURCE, {}),
        org.role_names.get(SOURCE, {}),
        engine=engine,
        faults=faults,
        sign_ins=truth.sign_ins if sign_ins is None else sign_ins,
        factors=factors,
        raw_policies=raw_policies,
        authenticator_status=authenticator_status,
    )
    private_pem, public_pem = _key_pair()
    state = ServerState(
        api=api,
        token=token or "00" + secrets.token_urlsafe(30),
        client_id=CLIENT_ID,
        public_key_pem=public_pem,
        key_id=KEY_ID,
        granted_scopes=frozenset(granted_scopes),
        limits=RateLimits({**DEFAULT_BUDGETS, **(budgets or {})}, window_seconds, default_budget),
        faults=faults,
    )
    return OktaSandbox(state, api, private_pem)


__all__ = [
    "CLIENT_ID",
    "KEY_ID",
    "PRIVATE_KEY_ENV",
    "READ_SCOPES",
    "TOKEN_ENV",
    "OktaSandbox",
    "RawPolicy",
    "RecordedRequest",
    "start",
]
