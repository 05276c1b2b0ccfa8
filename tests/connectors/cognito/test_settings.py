"""Settings: clear errors naming the key; http only on loopback; secrets only as references."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.interfaces import SettingsError
from connectors.cognito.settings import parse_settings

BASE: dict[str, Any] = {
    "user_pool_id": "eu-west-3_AbC123xyz",
    "access_key_id": {"env": "K"},
    "secret_access_key": {"file": "secret.txt"},
}


def test_defaults() -> None:
    s = parse_settings(BASE, Path("/cfg"))
    assert s.region == "eu-west-3"
    assert s.endpoint_url == "https://cognito-idp.eu-west-3.amazonaws.com"
    assert s.secret_access_key.file == Path("/cfg/secret.txt")
    assert s.rate("UserList") == 15.0  # half of the 30 rps quota by default


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"user_pool_id": "not a pool"}, "user_pool_id"),
        ({"access_key_id": "AKIAPLAINTEXT"}, "access_key_id"),
        ({"secret_access_key": None}, "secret_access_key"),
        ({"endpoint_url": "http://cognito.example.org"}, "endpoint_url"),
        ({"endpoint_url": "ftp://127.0.0.1"}, "endpoint_url"),
        ({"endpoint_url": "https://h/path"}, "endpoint_url"),
        ({"region": "Paris"}, "region"),
        ({"quotas": {"UserWrite": 10}}, "quotas.UserWrite"),
        ({"quotas": {"UserRead": 0}}, "quotas.UserRead"),
        ({"quota_share": 2}, "quota_share"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"profile": "default"}, "profile"),
    ],
)
def test_bad_settings_name_the_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings({**BASE, **change}, Path("."))
    assert err.value.key == key


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_plain_http_only_on_loopback(host: str) -> None:
    assert parse_settings({**BASE, "endpoint_url": f"http://{host}:5000"}, Path(".")).endpoint_url.startswith("http://")


@given(st.dictionaries(st.text(max_size=12), st.none() | st.integers() | st.text(max_size=12), max_size=5))
def test_any_settings_mapping_is_accepted_or_a_settings_error(extra: dict[str, Any]) -> None:
    with contextlib.suppress(SettingsError):
        parse_settings({**BASE, **extra}, Path("."))
