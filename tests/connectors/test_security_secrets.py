"""Malformed secrets end in clear errors naming the setting, never the value, never a
traceback: a non-UTF-8 ``{file:}`` secret, a token with CR/LF, a garbage private key,
for each connector and through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import main
from auditor.interfaces import AuditorError, CollectContext, SettingsError
from connectors.entra import EntraConnector
from connectors.google_workspace import GoogleWorkspaceConnector
from connectors.okta import OktaConnector
from connectors.sandbox.sample_org import generate

PLANT = "Plant3dS3cretValue"
NOW = "2026-11-15T09:00:00+00:00"
ORG = generate(seed=3, accounts=40)
CTX = CollectContext("s", ORG.now, ORG.period_start, ORG.period_end)
# Nothing listens there: should a check regress, no test reaches the internet.
NOWHERE = "https://127.0.0.1:9"
ENTRA_BASE = {
    "tenant_id": "00000000-0000-0000-0000-000000000000",
    "client_id": "11111111-1111-1111-1111-111111111111",
    "authority_host": NOWHERE,
    "graph_root": NOWHERE,
}


def _okta(settings: dict[str, Any]) -> OktaConnector:
    return OktaConnector("okta", {"org_url": NOWHERE, **settings}, Path("."))


def _error_of(connector: Any) -> AuditorError:
    with pytest.raises(AuditorError) as err:
        connector.collect(CTX)
    assert PLANT not in str(err.value)
    return err.value


@pytest.mark.parametrize("bad", [f"{PLANT}\r\n", f"{PLANT}\nX-Injected: 1", f"{PLANT}\x1b[2J"])
def test_an_okta_token_with_a_line_break_names_the_setting(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("OKTA_T", bad)
    err = _error_of(_okta({"token": {"env": "OKTA_T"}}))
    assert isinstance(err, SettingsError) and err.key == "token"
    assert "OKTA_T" in str(err)  # the reference, so the user knows where to look


@pytest.mark.parametrize(
    "garbage",
    [
        f"-----BEGIN PRIVATE KEY-----\n{PLANT}\n-----END PRIVATE KEY-----\n",
        f'{{"kty": "RSA", "d": "{PLANT}"}}',
        f"{{'not': json, {PLANT}",
        PLANT,
    ],
)
def test_a_garbage_okta_private_key_names_the_setting(monkeypatch: pytest.MonkeyPatch, garbage: str) -> None:
    monkeypatch.setenv("OKTA_K", garbage)
    err = _error_of(_okta({"oauth": {"client_id": "0oa1", "private_key": {"env": "OKTA_K"}}}))
    assert isinstance(err, SettingsError) and err.key == "oauth.private_key"


def test_a_non_utf8_secret_file_names_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "token.txt"
    secret.write_bytes(b"\xff\xfe" + PLANT.encode() + b"\xc3")
    err = _error_of(_okta({"token": {"file": str(secret)}}))
    assert str(secret) in str(err) and "UTF-8" in str(err)


def test_a_non_utf8_google_key_names_the_setting(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    key.write_bytes(b'{"private_key": "\xff' + PLANT.encode() + b'"}')
    connector = GoogleWorkspaceConnector(
        "google",
        {
            "credentials": {"file": str(key)},
            "delegated_admin": "a@example.fr",
            "token_uri": NOWHERE + "/token",
            "api_endpoint": NOWHERE + "/",
        },
        Path("."),
    )
    err = _error_of(connector)
    assert isinstance(err, SettingsError) and err.key == "credentials"


def test_an_entra_secret_with_a_line_break_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRA_S", f"{PLANT}\r\n")
    settings = {**ENTRA_BASE, "client_secret": {"env": "ENTRA_S"}}
    err = _error_of(EntraConnector("entra", settings, Path(".")))
    assert isinstance(err, SettingsError) and err.key == "client_secret"


def test_the_cli_says_which_setting_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKTA_T", f"{PLANT}\r\n")
    doc = {
        "organisation": {"name": "Org", "contact": "dpo@example.org"},
        "period": ORG.period,
        "sources": [
            {
                "name": "okta",
                "type": "okta",
                "settings": {"org_url": NOWHERE, "token": {"env": "OKTA_T"}},
            }
        ],
        "report": {"formats": ["json"], "output_dir": "out"},
        "store": {"path": "store.sqlite3"},
    }
    (tmp_path / "audit.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "-c", str(tmp_path / "audit.yaml"), "--now", NOW, "--no-store"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "sources[0].settings.token" in result.output
    assert PLANT not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "garbage",
    [f"-----BEGIN PRIVATE KEY-----\n{PLANT}\n-----END PRIVATE KEY-----\n", PLANT, ""],
)
def test_a_garbage_entra_private_key_names_the_setting(tmp_path: Path, garbage: str) -> None:
    import trustme

    cert = tmp_path / "app.crt"
    trustme.CA().issue_cert("app").cert_chain_pems[0].write_to_path(str(cert))
    key = tmp_path / "app.key"
    key.write_text(garbage + "\n", encoding="utf-8")
    settings = {**ENTRA_BASE, "certificate": {"private_key": {"file": str(key)}, "certificate": str(cert)}}
    err = _error_of(EntraConnector("entra", settings, Path(".")))
    assert isinstance(err, AuditorError)
    assert "certificate.private_key" in str(err) or "private key" in str(err)


def test_keycloak_and_cognito_secrets_with_a_line_break_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connectors merged later parse and reveal secrets with the same code."""
    from connectors.cognito import CognitoConnector
    from connectors.keycloak import KeycloakConnector

    monkeypatch.setenv("KC_S", f"{PLANT}\r\n")
    monkeypatch.setenv("AWS_K", "AKIAPLANT")
    monkeypatch.setenv("AWS_S", f"{PLANT}\nX-Amz: 1")
    keycloak = KeycloakConnector(
        "kc", {"server_url": NOWHERE, "realm": "r", "client_id": "c", "client_secret": {"env": "KC_S"}}, Path(".")
    )
    cognito = CognitoConnector(
        "cg",
        {
            "user_pool_id": "eu-west-3_AbC123xyz",
            "region": "eu-west-3",
            "endpoint_url": NOWHERE,
            "access_key_id": {"env": "AWS_K"},
            "secret_access_key": {"env": "AWS_S"},
        },
        Path("."),
    )
    for connector, key in ((keycloak, "client_secret"), (cognito, "secret_access_key")):
        err = _error_of(connector)
        assert isinstance(err, SettingsError) and err.key == key
    with pytest.raises(SettingsError) as bad:
        KeycloakConnector(
            "kc", {"server_url": NOWHERE, "realm": "r", "client_id": "c", "client_secret": {"env": "1x"}}, Path(".")
        )
    assert bad.value.key == "client_secret.env"


def test_an_auth0_secret_with_a_line_break_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.auth0 import Auth0Connector

    monkeypatch.setenv("A0_S", f"{PLANT}\r\n")
    settings = {"domain": "127.0.0.1:9", "client_id": "c", "client_secret": {"env": "A0_S"}}
    err = _error_of(Auth0Connector("auth0", settings, Path(".")))
    assert isinstance(err, SettingsError) and err.key == "client_secret"
