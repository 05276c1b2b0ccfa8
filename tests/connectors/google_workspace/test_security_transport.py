"""Google transport security: api_endpoint, token_uri (and the key's own token_uri) are
https, or http on loopback with ``allow_insecure_http`` (as Entra and Okta require); a
redirect is never followed (httplib2 would repeat the request with its Authorization
header wherever Location points), and the source is then incomplete with a coded issue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import Secret, SettingsError
from connectors.google_workspace.client import make_credentials
from connectors.google_workspace.settings import parse_settings
from connectors.sandbox.sample_org import SampleOrg
from tests.connectors.loopback_support import RecordingServer

from .conftest import MakeConnector, StartSandbox, context

GOOD: dict[str, Any] = {"credentials": Secret(env="K"), "delegated_admin": "admin@example.fr"}


@pytest.mark.parametrize("key", ["api_endpoint", "token_uri"])
@pytest.mark.parametrize(
    ("url", "insecure"),
    [
        ("http://admin.googleapis.com/", False),
        ("http://admin.googleapis.com/", True),  # the switch is for loopback only
        ("http://10.0.0.5:8080/", True),
        ("http://127.0.0.1:8080/", False),  # loopback, but not asked for
        ("ftp://127.0.0.1/", True),
        ("https://user:pw@admin.googleapis.com/", False),
    ],
)
def test_clear_text_or_odd_urls_are_refused(key: str, url: str, insecure: bool) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings({**GOOD, key: url, "allow_insecure_http": insecure}, Path("."))
    assert err.value.key == key


@pytest.mark.parametrize("key", ["api_endpoint", "token_uri"])
@pytest.mark.parametrize(
    ("url", "insecure"),
    [("https://admin.googleapis.com/", False), ("http://127.0.0.1:8080/", True), ("http://localhost:1/", True)],
)
def test_https_and_the_loopback_sandbox_are_accepted(key: str, url: str, insecure: bool) -> None:
    settings = parse_settings({**GOOD, key: url, "allow_insecure_http": insecure}, Path("."))
    assert getattr(settings, key) == url


def test_the_keys_own_token_uri_follows_the_same_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    key = {
        "type": "service_account",
        "client_email": "sa@p.iam.gserviceaccount.com",
        "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "token_uri": "http://oauth2.example.test/token",
    }
    monkeypatch.setenv("K", json.dumps(key))
    with pytest.raises(SettingsError) as err:
        make_credentials(parse_settings(GOOD, Path(".")), ["s"])
    assert err.value.key.startswith("credentials")
    assert "BEGIN PRIVATE KEY" not in str(err.value)


def test_a_redirect_is_not_followed(
    start_sandbox: StartSandbox, small_org: SampleOrg, make_connector: MakeConnector
) -> None:
    with RecordingServer() as foreign:
        sandbox = start_sandbox(small_org, script={"orgunits": ["redirect"]}, redirect_to=foreign.url)
        snap = make_connector(sandbox).collect(context(small_org))
    assert foreign.received == [], "the foreign origin was contacted"
    assert not snap.complete
    issue = next(i for i in snap.issues if i.code == "google.foreign_link")
    assert issue.incomplete and foreign.url in issue.message


def test_the_token_request_is_not_redirected(
    start_sandbox: StartSandbox, small_org: SampleOrg, make_connector: MakeConnector
) -> None:
    """A 308 from the token endpoint: httplib2 would post the signed grant again to
    wherever Location points."""
    from auditor.interfaces import AuditorError

    with RecordingServer() as foreign:
        sandbox = start_sandbox(small_org, script={"token": ["redirect"]}, redirect_to=foreign.url)
        with pytest.raises(AuditorError):
            make_connector(sandbox).collect(context(small_org))
    assert foreign.received == [], "the signed grant was posted to the foreign origin"
