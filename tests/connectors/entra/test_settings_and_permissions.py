"""Settings validation, and the permission report of ``mfa-audit validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import AuthenticationError, Secret, SettingsError
from connectors.entra import EntraConnector
from connectors.entra.permissions import NEEDED
from connectors.entra.settings import SecretCredential, parse_settings

BASE = {"tenant_id": "contoso.onmicrosoft.com", "client_id": "cid", "client_secret": {"env": "X"}}


def test_defaults() -> None:
    s = parse_settings(BASE, Path("."))
    assert s.authority == "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    assert s.scope == "https://graph.microsoft.com/.default"
    assert s.page_size == 999 and s.batch_size == 20
    assert isinstance(s.credential, SecretCredential) and s.credential.secret == Secret(env="X")


def test_national_cloud() -> None:
    s = parse_settings(
        {**BASE, "authority_host": "https://login.microsoftonline.us/", "graph_root": "https://graph.microsoft.us"},
        Path("."),
    )
    assert (
        s.authority.startswith("https://login.microsoftonline.us/") and s.scope == "https://graph.microsoft.us/.default"
    )


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"tenant_id": ""}, "tenant_id"),
        ({"client_id": None}, "client_id"),
        ({"client_secret": "plain-text-secret"}, "client_secret"),
        ({"certificate": {"private_key": "k.pem", "certificate": "c.pem"}}, "client_secret"),  # both given
        ({"authority_host": "http://login.example"}, "authority_host"),
        ({"graph_root": "graph.microsoft.com"}, "graph_root"),
        ({"page_size": 1000}, "page_size"),
        ({"batch_size": 21}, "batch_size"),
        ({"max_attempts": True}, "max_attempts"),
        ({"ca_bundle": "/no/such/ca.pem"}, "ca_bundle"),
        ({"tenant": "typo"}, "tenant"),
        ({"per_user_mfa": "yes"}, "per_user_mfa"),
    ],
)
def test_bad_settings(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings({**BASE, **changes}, Path("."))
    assert err.value.key == key
    assert "plain-text-secret" not in str(err.value)


def test_missing_certificate_file(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("k")
    settings = {
        "tenant_id": "contoso.onmicrosoft.com",
        "client_id": "c",
        "certificate": {"private_key": {"file": "key.pem"}, "certificate": "c.pem"},
    }
    with pytest.raises(SettingsError) as err:
        parse_settings(settings, tmp_path)
    assert err.value.key == "certificate.certificate"


def test_permission_report_all_granted(sandbox) -> None:
    sb = sandbox()
    report = EntraConnector("entra", sb.settings(), Path(".")).check_access()
    assert report[0].name == "token" and report[0].granted
    assert [p.name for p in report[1:]] == [n.name for n in NEEDED]
    assert all(p.granted for p in report) and all(p.purpose for p in report)


def test_permission_report_names_the_missing_one(sandbox) -> None:
    sb = sandbox(drop_roles=("Policy.Read.All",))
    report = {p.name: p for p in EntraConnector("entra", sb.settings(), Path(".")).check_access()}
    assert report["Policy.Read.All"].granted is False
    assert "Conditional Access" in report["Policy.Read.All"].purpose
    assert all(p.granted for name, p in report.items() if name != "Policy.Read.All")
    # Only the token endpoint was called: validate reads nothing from Graph.
    assert not [r for r in sb.requests if r.path.startswith(("/v1.0", "/beta"))]


def test_permission_report_refuses_a_wrong_secret(sandbox, monkeypatch) -> None:
    sb = sandbox()
    monkeypatch.setenv("MFA_AUDITOR_ENTRA_SECRET", "wrong")
    with pytest.raises(AuthenticationError):
        EntraConnector("entra", sb.settings(), Path(".")).check_access()


def test_repr_hides_the_secret(sandbox) -> None:
    sb = sandbox()
    connector = EntraConnector("entra", sb.settings(), Path("."))
    secret = sb.environ()["MFA_AUDITOR_ENTRA_SECRET"]
    assert secret not in repr(connector) and secret not in repr(connector.settings)


@pytest.mark.parametrize("tenant", ["t", "common", "organizations", "not a tenant", "-x.example.org", "a" * 300])
def test_tenant_id_must_name_one_directory(tenant: str) -> None:
    # validate --offline passed these before; an app-only token needs one directory.
    with pytest.raises(SettingsError) as err:
        parse_settings({**BASE, "tenant_id": tenant}, Path("."))
    assert err.value.key == "tenant_id"


@pytest.mark.parametrize("tenant", ["contoso.onmicrosoft.com", "8eaef023-2b34-4da1-9baa-8bc8c9d6a490", "mutuelle.fr"])
def test_tenant_id_accepts_a_guid_or_a_domain(tenant: str) -> None:
    assert parse_settings({**BASE, "tenant_id": tenant}, Path(".")).tenant_id == tenant
