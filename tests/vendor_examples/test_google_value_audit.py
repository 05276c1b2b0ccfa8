"""Google Workspace: the value-by-value audit of every vendor value the connector maps,
after issue #15. Each test names the page it follows (``SOURCE``); payloads are written
here in our own words. Each one failed before its fix."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.model import SignInFactor
from connectors.google_workspace import parse

# SOURCE: https://developers.google.com/workspace/admin/reports/v1/appendix/activity/login
# (login_success: login_type — exchange, google_password, reauth, saml, unknown —;
# login_challenge_method — backup_code, google_authenticator, google_prompt,
# idv_any_phone, idv_preregistered_phone, internal_two_factor, knowledge_employee_id,
# knowledge_preregistered_email, knowledge_preregistered_phone, login_location, none,
# offline_otp, other, password, security_key, security_key_otp —; is_second_factor).


def _activity(*parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "admin#reports#activity",
        "id": {"time": "2026-11-03T10:00:00.000Z", "uniqueQualifier": "77", "applicationName": "login",
               "customerId": "C03az79cb"},
        "actor": {"email": "liz@example.com", "profileId": "100230688039070881323"},
        "events": [{"type": "login", "name": "login_success", "parameters": list(parameters)}],
    }  # fmt: skip


def _event(*parameters: dict[str, Any]) -> parse.LoginEvent:
    (event,) = parse.parse_login_activity(_activity(*parameters))
    return event


def _type(value: str) -> dict[str, Any]:
    return {"name": "login_type", "value": value}


def _challenges(*values: str) -> dict[str, Any]:
    return {"name": "login_challenge_method", "multiValue": list(values)}


def test_a_knowledge_check_of_the_preregistered_phone_is_no_second_factor() -> None:
    """``knowledge_preregistered_phone`` (typing the recovery phone number) is documented
    but was unknown: named as an unknown challenge in every report."""
    event = _event(_type("google_password"), _challenges("password", "knowledge_preregistered_phone"))
    assert (event.factor, event.unknown_challenges) == (SignInFactor.SINGLE, ())


def test_a_saml_sign_in_without_a_google_challenge_states_no_factor() -> None:
    """``login_type`` saml: the first factor, and any second one, were at the identity
    provider. Google recording no second step is not a single-factor sign-in; it was
    counted as one (evidence for MFA-011 that the log does not hold)."""
    event = _event(_type("saml"), _challenges("none"), {"name": "is_second_factor", "boolValue": False})
    assert event.factor is None and event.login_type == "saml"


def test_a_saml_sign_in_with_google_2sv_after_it_is_multi_factor() -> None:
    event = _event(_type("saml"), _challenges("google_prompt"))
    assert event.factor is SignInFactor.MULTI


@pytest.mark.parametrize("login_type", ["google_password", "exchange", "reauth", "unknown"])
def test_documented_login_types_with_a_password_only(login_type: str) -> None:
    event = _event(_type(login_type), _challenges("password"))
    assert (event.factor, event.unknown_login_type) == (SignInFactor.SINGLE, False)


def test_an_undocumented_login_type_states_no_factor_and_is_named() -> None:
    event = _event(_type("carrier_pigeon"), _challenges("password"))
    assert event.factor is None and event.unknown_login_type
    assert _event(_type("carrier_pigeon"), _challenges("password", "security_key")).factor is SignInFactor.MULTI


def test_no_challenge_stated_is_no_factor() -> None:
    """Neither ``login_challenge_method`` nor ``is_second_factor``: nothing says how the
    user signed in."""
    assert _event(_type("google_password")).factor is None
