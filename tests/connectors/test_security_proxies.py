"""Proxies, one documented behaviour for every connector: a source uses the proxy of
its ``proxy`` setting and no other; ``HTTP(S)_PROXY`` in the environment is ignored
unless the source says ``trust_env: true``. Each SDK is driven for real (msal +
requests, google-api-python-client over httplib2, the okta SDK over aiohttp,
python-keycloak over requests, botocore over urllib3) against
its loopback sandbox, through a small CONNECT-capable proxy that records what it
carried. A dead proxy in the environment proves the environment was not used."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import CollectContext, SettingsError
from auditor.model import SourceSnapshot
from connectors.cognito import CognitoConnector
from connectors.entra import EntraConnector
from connectors.google_workspace import GoogleWorkspaceConnector
from connectors.keycloak import KeycloakConnector
from connectors.okta import OktaConnector
from connectors.sandbox import cognito as cognito_sandbox
from connectors.sandbox import google as google_sandbox
from connectors.sandbox import graph as graph_sandbox
from connectors.sandbox import keycloak as keycloak_sandbox
from connectors.sandbox import okta as okta_sandbox
from connectors.sandbox.sample_org import SampleOrg, generate
from tests.connectors.loopback_support import ConnectProxy

ORG = generate(seed=13, accounts=60)
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


def _dead_proxy() -> str:
    """A loopback port nobody listens on: any request sent through it fails."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _ctx(org: SampleOrg) -> CollectContext:
    return CollectContext("s", org.now, org.period_start, org.period_end)


def _entra(sb: Any, extra: dict[str, Any]) -> SourceSnapshot:
    settings = {**sb.settings(), "retry_jitter": 0.0, "backoff_base": 0.01, "max_attempts": 2, **extra}
    return EntraConnector("entra", settings, Path(".")).collect(_ctx(ORG))


def _google(sb: Any, extra: dict[str, Any]) -> SourceSnapshot:
    settings = {**sb.settings(), "max_attempts": 2, **extra}
    return GoogleWorkspaceConnector("google", settings, Path("."), sleep=lambda _s: None).collect(_ctx(ORG))


def _okta(sb: Any, extra: dict[str, Any]) -> SourceSnapshot:
    settings = {**sb.settings(), "max_attempts": 2, **extra}
    return OktaConnector("okta", settings, Path("."), retry_delay=0.01).collect(_ctx(ORG))


def _keycloak(sb: Any, extra: dict[str, Any]) -> SourceSnapshot:
    settings = {**sb.settings(), "max_attempts": 2, **extra}
    return KeycloakConnector("keycloak", settings, Path("."), retry_delay=0.01).collect(_ctx(ORG))


def _cognito(sb: Any, extra: dict[str, Any]) -> SourceSnapshot:
    settings = {**sb.settings(), "max_attempts": 2, **extra}
    return CognitoConnector("cognito", settings, Path(".")).collect(_ctx(ORG))


VENDORS: dict[str, tuple[Any, Callable[[Any, dict[str, Any]], SourceSnapshot]]] = {
    "entra": (graph_sandbox, _entra),
    "google": (google_sandbox, _google),
    "okta": (okta_sandbox, _okta),
    "keycloak": (keycloak_sandbox, _keycloak),
    "cognito": (cognito_sandbox, _cognito),
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*PROXY_VARS, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(params=sorted(VENDORS))
def vendor(request: pytest.FixtureRequest, env: pytest.MonkeyPatch) -> Iterator[tuple[Any, Callable[..., Any]]]:
    module, collect = VENDORS[request.param]
    with ExitStack() as stack:
        sb = module.start(ORG)
        stack.callback(sb.close)
        for k, v in sb.environ().items():
            env.setenv(k, v)
        yield sb, collect


def _through(proxy: ConnectProxy) -> list[str]:
    return [*proxy.tunnels, *proxy.forwarded]


def _port(sb: Any) -> str:
    return sb.base_url.rpartition(":")[2]


def test_the_proxy_setting_is_used(vendor: tuple[Any, Callable[..., Any]], env: pytest.MonkeyPatch) -> None:
    sb, collect = vendor
    for name in PROXY_VARS:
        env.setenv(name, _dead_proxy())  # the explicit setting wins over the environment
    with ConnectProxy() as proxy:
        snap = collect(sb, {"proxy": proxy.url})
    assert snap.complete, [i.message for i in snap.issues if i.incomplete]
    assert snap.accounts
    assert any(_port(sb) in t for t in _through(proxy)), _through(proxy)


def test_the_environment_is_ignored_by_default(vendor: tuple[Any, Callable[..., Any]], env: pytest.MonkeyPatch) -> None:
    sb, collect = vendor
    for name in PROXY_VARS:
        env.setenv(name, _dead_proxy())
    snap = collect(sb, {})
    assert snap.complete, [i.message for i in snap.issues if i.incomplete]
    assert snap.accounts


def test_the_environment_is_used_with_trust_env(
    vendor: tuple[Any, Callable[..., Any]], env: pytest.MonkeyPatch
) -> None:
    sb, collect = vendor
    with ConnectProxy() as proxy:
        for name in PROXY_VARS:
            env.setenv(name, proxy.url)
        snap = collect(sb, {"trust_env": True})
    assert snap.complete, [i.message for i in snap.issues if i.incomplete]
    assert any(_port(sb) in t for t in _through(proxy)), _through(proxy)


@pytest.mark.parametrize(
    "bad",
    ["https://proxy.example:3128", "http://user:pw@proxy.example:3128", "proxy.example:3128", "http://proxy", 3128],
)
@pytest.mark.parametrize("vendor_name", sorted(VENDORS))
def test_a_bad_proxy_setting_names_the_key(vendor_name: str, bad: object) -> None:
    base: dict[str, dict[str, Any]] = {
        "entra": {
            "tenant_id": "00000000-0000-0000-0000-000000000000",
            "client_id": "11111111-1111-1111-1111-111111111111",
            "client_secret": {"env": "X"},
        },
        "google": {"credentials": {"env": "X"}, "delegated_admin": "a@example.fr"},
        "okta": {"org_url": "https://example.okta.com", "token": {"env": "X"}},
        "keycloak": {
            "server_url": "https://sso.example.fr",
            "realm": "r",
            "client_id": "c",
            "client_secret": {"env": "X"},
        },
        "cognito": {
            "user_pool_id": "eu-west-3_AbC123xyz",
            "region": "eu-west-3",
            "access_key_id": {"env": "X"},
            "secret_access_key": {"env": "X"},
        },
    }
    factory: Any = {
        "entra": EntraConnector,
        "google": GoogleWorkspaceConnector,
        "okta": OktaConnector,
        "keycloak": KeycloakConnector,
        "cognito": CognitoConnector,
    }[vendor_name]
    with pytest.raises(SettingsError) as err:
        factory("s", {**base[vendor_name], "proxy": bad}, Path("."))
    assert err.value.key == "proxy"
    assert "pw" not in str(err.value)
