"""Settings: every mistake is a SettingsError naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import Secret, SettingsError
from connectors.keycloak.settings import DEFAULT_MAX_CONCURRENCY, DEFAULT_REQUESTS_PER_SECOND, parse_settings

BASE: dict[str, Any] = {
    "server_url": "https://sso.example.fr",
    "realm": "patients",
    "client_id": "mfa-auditor",
    "client_secret": {"env": "KC_SECRET"},
}


def test_defaults_are_gentle() -> None:
    s = parse_settings(BASE, Path("/cfg"))
    assert s.server_url == "https://sso.example.fr/"
    assert (
        s.requests_per_second == DEFAULT_REQUESTS_PER_SECOND <= 20 and s.max_concurrency == DEFAULT_MAX_CONCURRENCY <= 2
    )
    assert s.client_secret == Secret(env="KC_SECRET")


def test_a_file_secret_is_relative_to_the_config() -> None:
    s = parse_settings({**BASE, "client_secret": {"file": "kc.secret"}}, Path("/cfg"))
    assert s.client_secret.file == Path("/cfg/kc.secret")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"server_url": "http://sso.example.fr"}, "server_url"),
        ({"server_url": "https://sso.example.fr/realms/patients"}, "server_url"),
        ({"server_url": "ftp://x"}, "server_url"),
        ({"realm": ""}, "realm"),
        ({"client_secret": "in-clear"}, "client_secret"),
        ({"requests_per_second": 0}, "requests_per_second"),
        ({"max_concurrency": 100}, "max_concurrency"),
        ({"page_size": True}, "page_size"),
        ({"brokers": {"psc": 3}}, "brokers"),
        ({"password": "x"}, "password"),
    ],
)
def test_bad_settings_name_the_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings({**BASE, **change}, Path("."))
    assert info.value.key == key
    assert "in-clear" not in str(info.value)


def test_http_only_for_a_loopback_sandbox() -> None:
    s = parse_settings({**BASE, "server_url": "http://127.0.0.1:8080", "allow_insecure_http": True}, Path("."))
    assert s.server_url == "http://127.0.0.1:8080/"
