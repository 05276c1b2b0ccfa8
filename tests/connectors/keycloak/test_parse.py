"""Keycloak JSON → the model: credential types, pending actions, users; arbitrary input
never raises and an unknown type is never a factor."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from auditor.model import MethodKind, MethodStatus, SourceName, Strength, UnreadableRecord
from connectors.keycloak import parse

SRC = SourceName("keycloak")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def test_credential_kinds_and_pending_actions() -> None:
    raw = [{"type": "password"}, {"type": "otp", "createdDate": 1_700_000_000_000}, {"type": "webauthn-passwordless"}]
    methods, types, issues = parse.parse_credentials(raw, "u1", ["CONFIGURE_TOTP", "UPDATE_PASSWORD"])
    assert [(m.kind, m.status) for m in methods] == [
        (MethodKind.PASSWORD, MethodStatus.ACTIVE),
        (MethodKind.TOTP_SOFTWARE, MethodStatus.ACTIVE),
        (MethodKind.PASSKEY, MethodStatus.ACTIVE),
        (MethodKind.TOTP_SOFTWARE, MethodStatus.PENDING),
    ]
    assert types == {"password", "otp", "webauthn-passwordless"} and not issues
    assert methods[1].registered_at is not None and methods[1].registered_at.year == 2023


KNOWN_TYPES = {*parse.CREDENTIAL_KINDS, *parse.NOT_FACTOR_CREDENTIALS}


@given(st.text(min_size=1, max_size=30).filter(lambda t: t not in KNOWN_TYPES))
def test_an_unknown_credential_type_is_a_coded_issue_never_a_factor(ctype: str) -> None:
    methods, _, issues = parse.parse_credentials([{"type": ctype}], "u1", [])
    assert [m.kind for m in methods] == [MethodKind.UNKNOWN]
    assert methods[0].strength is Strength.NONE
    assert [i.code for i in issues] == ["keycloak.credential_unknown"] and not issues[0].incomplete


@given(json_values)
def test_any_credentials_body_parses_without_raising(raw: Any) -> None:
    methods, _, _ = parse.parse_credentials(raw, "u1", [])
    assert all(m.kind is MethodKind.UNKNOWN or m.vendor_label in parse.CREDENTIAL_KINDS for m in methods)


@given(json_values)
def test_any_user_record_is_an_account_or_unreadable(raw: Any) -> None:
    parsed = parse.parse_user(raw, SRC, "users record 1")
    assert isinstance(parsed, parse.KeycloakUser | UnreadableRecord)


def test_a_user_without_enabled_is_unreadable() -> None:
    parsed = parse.parse_user({"id": "u", "username": "a"}, SRC, "r")
    assert isinstance(parsed, UnreadableRecord) and "enabled" in parsed.reason


@given(json_values)
def test_any_client_is_a_portal_or_nothing(raw: Any) -> None:
    found = parse.parse_client(raw, SRC)
    assert found is None or found.client_id not in parse.BUILT_IN_CLIENTS
