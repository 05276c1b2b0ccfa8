"""``check_access`` (mfa-audit validate): the token or the service app, and each scope
with one minimal GET."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.interfaces import SettingsError
from connectors.okta import OktaConnector
from connectors.okta.settings import ALL_SCOPES
from connectors.sandbox.okta import OktaSandbox
from connectors.sandbox.sample_org import SampleOrg


def test_token_mode(
    small_org: SampleOrg, sandbox_factory: Callable[..., OktaSandbox], make_connector: Callable[..., OktaConnector]
) -> None:
    sandbox = sandbox_factory(small_org)
    checks = make_connector(sandbox.settings()).check_access()
    assert checks[0].name == "API token" and checks[0].granted is True
    assert {c.name: c.granted for c in checks[1:]} == {s.scope: True for s in ALL_SCOPES}
    assert all(r.method == "GET" for r in sandbox.requests)


def test_wrong_token(
    small_org: SampleOrg,
    sandbox_factory: Callable[..., OktaSandbox],
    make_connector: Callable[..., OktaConnector],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = sandbox_factory(small_org)
    monkeypatch.setenv("MFA_AUDITOR_OKTA_TOKEN", "00wrong")
    checks = make_connector(sandbox.settings()).check_access()
    assert len(checks) == 1 and checks[0].granted is False and "E0000011" in checks[0].detail
    assert "00wrong" not in checks[0].detail


def test_service_app_with_missing_scopes(
    small_org: SampleOrg, sandbox_factory: Callable[..., OktaSandbox], make_connector: Callable[..., OktaConnector]
) -> None:
    granted = [s.scope for s in ALL_SCOPES if s.scope not in ("okta.logs.read", "okta.roles.read")]
    sandbox = sandbox_factory(small_org, granted_scopes=granted)
    checks = make_connector(sandbox.oauth_settings()).check_access()
    by_name = {c.name: c for c in checks}
    assert by_name["okta.logs.read"].granted is False and by_name["okta.roles.read"].granted is False
    assert all(by_name[s].granted is True for s in granted)
    assert checks[0].name.startswith("service app")
    assert {r.method for r in sandbox.requests} == {"GET", "POST"}
    assert {r.path for r in sandbox.requests if r.method == "POST"} == {"/oauth2/v1/token"}


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"token": {"env": "X"}}, "org_url"),
        ({"org_url": "https://x.okta.com"}, "token"),
        ({"org_url": "https://x.okta.com", "token": {"env": "X"}, "oauth": {"client_id": "a"}}, "token"),
        ({"org_url": "https://x-admin.okta.com", "token": {"env": "X"}}, "org_url"),
        ({"org_url": "http://x.okta.com", "token": {"env": "X"}, "allow_insecure_http": True}, "org_url"),
        ({"org_url": "https://x.okta.com", "token": "plain-text"}, "token"),
        ({"org_url": "https://x.okta.com", "token": {"env": "X"}, "max_concurrency": 0}, "max_concurrency"),
        (
            {"org_url": "https://x.okta.com", "token": {"env": "X"}, "include_deprovisioned": "yes"},
            "include_deprovisioned",
        ),
        (
            {
                "org_url": "https://x.okta.com",
                "oauth": {"client_id": "a", "private_key": {"env": "K"}, "scopes": ["okta.users.manage"]},
            },
            "oauth.scopes",
        ),
        ({"org_url": "https://x.okta.com", "oauth": {"client_id": "a"}}, "oauth.private_key"),
        ({"org_url": "https://x.okta.com", "token": {"env": "X"}, "tenant": "x"}, "tenant"),
    ],
)
def test_bad_settings(settings: dict[str, object], key: str) -> None:
    with pytest.raises(SettingsError) as info:
        OktaConnector("okta", settings, Path("."))
    assert info.value.key == key


def test_repr_hides_secrets(small_org: SampleOrg, sandbox_factory: Callable[..., OktaSandbox]) -> None:
    sandbox = sandbox_factory(small_org)
    c = OktaConnector("okta", sandbox.oauth_settings(), Path("."))
    assert "PRIVATE" not in repr(c) and sandbox.environ()["MFA_AUDITOR_OKTA_TOKEN"] not in repr(c)
