"""Keycloak transport security: a redirect is never followed, neither for the token
request (requests would post the client secret again to wherever Location points)
nor for an admin call (the bearer token). The foreign server records what it got."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connectors.sandbox.keycloak import KeycloakSandbox
from tests.connectors.keycloak.conftest import connector, context
from tests.connectors.keycloak.test_collect import small_realm
from tests.connectors.loopback_support import RecordingServer


@pytest.mark.parametrize("family", ["token", "users"])
def test_a_redirect_is_not_followed(sandbox_factory: Callable[..., KeycloakSandbox], family: str) -> None:
    with RecordingServer() as foreign:
        sb = sandbox_factory(small_realm(), script={family: ["redirect"] * 10}, redirect_to=foreign.url)
        try:
            snap = connector(sb, max_attempts=2).collect(context())
        except Exception as exc:  # refused or unreachable: an error of ours, as it should be
            assert type(exc).__module__.startswith("auditor"), repr(exc)
        else:
            assert not snap.complete
    assert foreign.received == [], "the foreign origin was contacted"
