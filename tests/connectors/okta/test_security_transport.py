"""Okta transport security: the API token (or the service app's bearer token and its
signed assertion) goes to the org's origin and nowhere else. A redirect elsewhere is
refused before anything is sent (coded ``okta.foreign_link``, source incomplete); a
next link naming another host is paged on the org itself (only its cursor is used)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from auditor.model import SourceSnapshot
from connectors.sandbox.okta import OktaSandbox
from connectors.sandbox.sample_org import SampleOrg
from tests.connectors.loopback_support import RecordingServer


@pytest.mark.parametrize("mode", ["token", "oauth"])
def test_a_redirect_to_another_origin_is_not_followed(
    sandbox_factory: Callable[..., OktaSandbox],
    small_org: SampleOrg,
    make_connector: Callable[..., Any],
    ctx_for: Callable[..., Any],
    mode: str,
) -> None:
    with RecordingServer() as foreign:
        sb = sandbox_factory(small_org, script={"users": ["redirect"]}, redirect_to=foreign.url)
        settings = sb.settings() if mode == "token" else sb.oauth_settings()
        snap: SourceSnapshot = make_connector(settings).collect(ctx_for(small_org))
    assert foreign.received == [], "the foreign origin was contacted"
    assert not snap.complete
    codes = {i.code for i in snap.issues}
    assert "okta.foreign_link" in codes, codes
    issue = next(i for i in snap.issues if i.code == "okta.foreign_link")
    assert foreign.url.removeprefix("http://") in issue.message and issue.incomplete


def test_a_next_link_naming_another_host_pages_on_the_org(
    sandbox_factory: Callable[..., OktaSandbox],
    small_org: SampleOrg,
    collect: Callable[..., SourceSnapshot],
) -> None:
    with RecordingServer() as foreign:
        sb = sandbox_factory(small_org, page_size=20, link_base=foreign.url)
        snap = collect(sb, small_org)
    assert foreign.received == []
    assert snap.complete, [i.message for i in snap.issues if i.incomplete]
    assert len(snap.accounts) > 20  # paged beyond the first page, on the org


def test_the_token_request_is_not_redirected(
    sandbox_factory: Callable[..., OktaSandbox],
    small_org: SampleOrg,
    make_connector: Callable[..., Any],
    ctx_for: Callable[..., Any],
) -> None:
    """A 307 from the token endpoint would re-post the signed client assertion (usable
    until it expires) to wherever Location points."""
    with RecordingServer() as foreign:
        sb = sandbox_factory(small_org, script={"token": ["redirect"]}, redirect_to=foreign.url)
        try:
            make_connector(sb.oauth_settings()).collect(ctx_for(small_org))
        except Exception as exc:  # refused credentials are an error, as they should be
            assert type(exc).__module__.startswith("auditor"), repr(exc)
    assert foreign.received == [], "the client assertion was posted to the foreign origin"
