"""Entra transport security: the bearer token goes to ``graph_root``'s origin and nowhere
else. A next link or a redirect pointing elsewhere is not followed; the source is then
incomplete with a coded issue. The foreign server records whether it was reached."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.model import SourceSnapshot
from connectors.entra.graph import same_origin
from connectors.sandbox.graph import GraphSandbox
from tests.connectors.loopback_support import RecordingServer

ROOT = "https://graph.example.test"


def _codes(snap: SourceSnapshot) -> set[str]:
    return {i.code for i in snap.issues}


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_next_link_to_another_origin_is_not_followed(
    sandbox: Callable[..., GraphSandbox], collect: Callable[..., SourceSnapshot], scheme: str
) -> None:
    with RecordingServer() as foreign:
        base = foreign.url.replace("http://", f"{scheme}://")
        sb = sandbox(next_link_base=base, max_page_size=10)
        snap = collect(sb, page_size=10)
    assert foreign.received == [], "the foreign origin was contacted"
    assert not snap.complete
    assert "entra.foreign_link" in _codes(snap)
    issue = next(i for i in snap.issues if i.code == "entra.foreign_link")
    assert issue.incomplete and "127.0.0.1" in issue.message
    assert "$skiptoken" not in issue.message  # the origin is named, not the link's query


def test_a_redirect_is_not_followed(
    sandbox: Callable[..., GraphSandbox], collect: Callable[..., SourceSnapshot]
) -> None:
    with RecordingServer() as foreign:
        sb = sandbox(redirect={"/users": f"{foreign.url}/v1.0/users"})
        snap = collect(sb)
    assert foreign.received == []
    assert not snap.complete
    assert "entra.foreign_link" in _codes(snap) and "entra.users_unread" in _codes(snap)


def test_next_links_on_the_origin_are_still_followed(
    sandbox: Callable[..., GraphSandbox], collect: Callable[..., SourceSnapshot]
) -> None:
    sb = sandbox(max_page_size=10)
    snap = collect(sb, page_size=10)
    assert "entra.foreign_link" not in _codes(snap)
    assert len(snap.accounts) > 10  # more than one page was read


@pytest.mark.parametrize(
    ("url", "same"),
    [
        (f"{ROOT}/v1.0/users?$skiptoken=x", True),
        ("https://graph.example.test:443/v1.0/users", True),
        ("https://GRAPH.example.test/v1.0/users", True),
        ("http://graph.example.test/v1.0/users", False),
        ("https://graph.example.test:8443/v1.0/users", False),
        ("https://graph.example.test.evil.test/v1.0/users", False),
        ("https://evil.test/graph.example.test/v1.0/users", False),
        ("https://graph.example.test@evil.test/v1.0/users", False),
        ("//evil.test/v1.0/users", False),
        ("/v1.0/users", False),
        ("https://graph.example.test:notaport/v1.0", False),
    ],
)
def test_same_origin(url: str, same: bool) -> None:
    assert same_origin(url, ROOT) is same


@given(st.text(max_size=60))
def test_same_origin_never_raises_and_needs_the_exact_host(suffix: Any) -> None:
    url = "https://evil.test/" + suffix
    assert same_origin(url, ROOT) is False


def test_the_token_request_is_not_redirected(sandbox: Callable[..., GraphSandbox]) -> None:
    """A 307 from the token endpoint would make requests post the form again, client
    secret included, to wherever Location points: msal's session follows no redirect."""
    from pathlib import Path

    from auditor.interfaces import ConnectorError
    from connectors.entra import EntraConnector

    with RecordingServer() as foreign:
        sb = sandbox(redirect={"/*/oauth2/v2.0/token": f"{foreign.url}/steal"})
        with pytest.raises(ConnectorError) as err:
            EntraConnector("entra", sb.settings(), Path(".")).check_access()
    assert foreign.received == [], "the credential was posted to the foreign origin"
    assert sb.environ()["MFA_AUDITOR_ENTRA_SECRET"] not in str(err.value)
