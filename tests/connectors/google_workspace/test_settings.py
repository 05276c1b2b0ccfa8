"""Settings: every bad value is a SettingsError naming its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import Secret, SettingsError
from connectors.google_workspace.settings import ALL_SCOPES, parse_settings

GOOD: dict[str, Any] = {"credentials": Secret(env="K"), "delegated_admin": "admin@example.fr"}


def test_defaults() -> None:
    s = parse_settings(GOOD, Path("/cfg"))
    assert (s.customer, s.api_endpoint, s.token_uri, s.application_default) == ("my_customer", None, None, False)


def test_file_reference_is_relative_to_the_config() -> None:
    s = parse_settings({**GOOD, "credentials": {"file": "keys/sa.json"}}, Path("/cfg"))
    assert s.credentials == Secret(file=Path("/cfg/keys/sa.json"))


def test_application_default_needs_no_key() -> None:
    s = parse_settings({"application_default": True}, Path("."))
    assert s.credentials is None and s.delegated_admin is None


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({}, "credentials"),
        ({**GOOD, "credentials": "inline-key"}, "credentials"),
        ({**GOOD, "credentials": {"env": ""}}, "credentials.env"),
        ({**GOOD, "application_default": True}, "credentials"),
        ({**GOOD, "application_default": "yes"}, "application_default"),
        ({"credentials": Secret(env="K")}, "delegated_admin"),
        ({**GOOD, "delegated_admin": "admin"}, "delegated_admin"),
        ({**GOOD, "customer": ""}, "customer"),
        ({**GOOD, "api_endpoint": "localhost:8080"}, "api_endpoint"),
        ({**GOOD, "token_uri": 3}, "token_uri"),
        ({**GOOD, "max_attempts": 0}, "max_attempts"),
        ({**GOOD, "max_report_lag_days": True}, "max_report_lag_days"),
        ({**GOOD, "timeout_seconds": -1}, "timeout_seconds"),
        ({**GOOD, "scopes": ["admin.directory.user"]}, "scopes"),
    ],
)
def test_bad_settings(settings: dict[str, Any], key: str) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings(settings, Path("."))
    assert err.value.key == key


def test_only_read_only_scopes() -> None:
    assert all(s.scope.endswith(".readonly") for s in ALL_SCOPES)
    assert [s.scope for s in ALL_SCOPES] == [
        "admin.directory.user.readonly",
        "admin.directory.orgunit.readonly",
        "admin.directory.rolemanagement.readonly",
        "admin.directory.group.member.readonly",
        "admin.reports.usage.readonly",
        "admin.reports.audit.readonly",
    ]
