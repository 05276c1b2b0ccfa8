"""What the operator sees while a Keycloak realm is read: the connector reports the
vendor's count, records read, every request and every wait, through the pipeline's
progress sink."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from connectors.sandbox.keycloak import KeycloakSandbox
from tests.support.progress import Recorder

from .conftest import connector, context
from .test_collect import small_realm

Factory = Callable[..., KeycloakSandbox]


def test_progress_counts_match_what_reached_the_sandbox(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm(users=10), script={"credentials": ["503"]})
    seen = Recorder()
    snap = connector(sandbox, page_size=3).collect(replace(context(), progress=seen))
    assert snap.complete
    assert seen.totals["users"] == 10 and seen.read_counts["users"] == 10
    assert seen.totals["credentials"] == seen.read_counts["credentials"] == 10
    api_requests = sum(1 for r in sandbox.requests if r.family != "token")
    assert seen.requests == api_requests
    assert len(seen.waits) == 1 and "503" in seen.waits[0][1]
