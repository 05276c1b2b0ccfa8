"""Google Workspace (Admin SDK Directory and Reports API): documented example payloads
through the connector's parsers, asserted field by field.

Payloads are written here in our own file after the shapes of the pages named in each
``SOURCE`` line; where a test fixes a defect of issue #15 its docstring names the item.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.model import AccountKind, MethodKind, SignInFactor, SourceName
from connectors.google_workspace import parse

SRC = SourceName("google")

# SOURCE: https://developers.google.com/workspace/admin/reports/v1/appendix/activity/login
# (event "login_success", parameters login_type, login_challenge_method — a multi-value
# string —, is_second_factor, is_suspicious) and the activities.list response shape of
# https://developers.google.com/workspace/admin/reports/reference/rest/v1/activities/list.


def login_activity(*parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": "2026-11-02T08:15:30.000Z",
            "uniqueQualifier": "-4242424242424242424",
            "applicationName": "login",
            "customerId": "C03az79cb",
        },
        "etag": '"abc"',
        "actor": {"callerType": "USER", "email": "liz@example.com", "profileId": "100230688039070881323"},
        "ipAddress": "203.0.113.7",
        "events": [
            {
                "type": "login",
                "name": "login_success",
                "parameters": [{"name": "login_type", "value": "google_password"}, *parameters],
            }
        ],
    }


def _factor(*parameters: dict[str, Any]) -> SignInFactor:
    (event,) = parse.parse_login_activity(login_activity(*parameters))
    assert event.actor_id == "100230688039070881323"
    assert event.actor_email == "liz@example.com"
    assert event.time == datetime(2026, 11, 2, 8, 15, 30, tzinfo=UTC)
    assert event.login_type == "google_password"
    return event.factor


def test_preregistered_phone_code_is_a_second_factor() -> None:
    """#15 item 8: ``idv_preregistered_phone`` (an SMS or voice code to the phone the user
    registered beforehand) is possession of a registered factor: multi-factor, whether
    or not Google also set ``is_second_factor``."""
    challenge = {"name": "login_challenge_method", "multiValue": ["password", "idv_preregistered_phone"]}
    assert _factor(challenge) is SignInFactor.MULTI
    assert _factor(challenge, {"name": "is_second_factor", "boolValue": False}) is SignInFactor.MULTI
    assert _factor(challenge, {"name": "is_second_factor", "boolValue": True}) is SignInFactor.MULTI


@pytest.mark.parametrize(
    "value",
    ["password", "none", "idv_any_phone", "login_location", "knowledge_employee_id",
     "knowledge_preregistered_email", "other"],
)  # fmt: skip
def test_challenges_that_are_no_second_factor(value: str) -> None:
    """A code sent to any phone the user types in, a location or a knowledge check is no
    possession of a registered factor."""
    assert _factor({"name": "login_challenge_method", "multiValue": ["password", value]}) is SignInFactor.SINGLE


@pytest.mark.parametrize(
    "value",
    ["backup_code", "google_authenticator", "google_prompt", "internal_two_factor", "offline_otp", "passkey",
     "security_key", "security_key_otp", "idv_preregistered_phone"],
)  # fmt: skip
def test_every_documented_second_factor_challenge(value: str) -> None:
    assert _factor({"name": "login_challenge_method", "multiValue": ["password", value]}) is SignInFactor.MULTI


def test_is_second_factor_alone_decides_multi() -> None:
    assert _factor({"name": "is_second_factor", "boolValue": True}) is SignInFactor.MULTI
    assert _factor({"name": "is_second_factor", "boolValue": False}) is SignInFactor.SINGLE


def test_an_unknown_challenge_is_single_factor_and_named() -> None:
    """Unknown values never make a sign-in multi-factor; the connector names them (coded issue)."""
    (event,) = parse.parse_login_activity(
        login_activity({"name": "login_challenge_method", "multiValue": ["password", "telepathy"]})
    )
    assert event.factor is SignInFactor.SINGLE
    assert event.unknown_challenges == ("telepathy",)


# SOURCE: https://developers.google.com/workspace/admin/directory/reference/rest/v1/users
# (the User resource: id, primaryEmail, name, isAdmin, isDelegatedAdmin, lastLoginTime,
# creationTime, suspended, archived, isEnrolledIn2Sv, isEnforcedIn2Sv, orgUnitPath).
DIRECTORY_USER: dict[str, Any] = {
    "kind": "admin#directory#user",
    "id": "100230688039070881323",
    "etag": '"etag"',
    "primaryEmail": "liz@example.com",
    "name": {"givenName": "Liz", "familyName": "Smith", "fullName": "Liz Smith"},
    "isAdmin": False,
    "isDelegatedAdmin": False,
    "lastLoginTime": "2026-10-30T17:02:11.000Z",
    "creationTime": "2019-04-01T09:00:00.000Z",
    "agreedToTerms": True,
    "suspended": False,
    "archived": False,
    "changePasswordAtNextLogin": False,
    "ipWhitelisted": False,
    "emails": [{"address": "liz@example.com", "primary": True}],
    "customerId": "C03az79cb",
    "orgUnitPath": "/Finance",
    "isMailboxSetup": True,
    "isEnrolledIn2Sv": True,
    "isEnforcedIn2Sv": False,
    "includeInGlobalAddressList": True,
}


def test_directory_user_field_by_field() -> None:
    user = parse.parse_user(DIRECTORY_USER, SRC, "users[0]")
    assert isinstance(user, parse.DirectoryUser)
    a = user.account
    assert (a.id, a.principal, a.display_name, a.kind, a.enabled) == (
        "100230688039070881323",
        "liz@example.com",
        "Liz Smith",
        AccountKind.HUMAN,
        True,
    )
    assert a.last_sign_in == datetime(2026, 10, 30, 17, 2, 11, tzinfo=UTC)
    assert a.created == datetime(2019, 4, 1, 9, 0, tzinfo=UTC)
    assert (user.org_unit, user.enrolled_2sv, user.enforced_2sv) == ("/Finance", True, False)


# SOURCE: https://developers.google.com/workspace/admin/reports/reference/rest/v1/userUsageReport/get
# (UsageReports: entity.profileId / userEmail, parameters with boolValue / intValue —
# int64 as a JSON string —) and the "accounts" parameters of
# https://developers.google.com/workspace/admin/reports/v1/reference/usage-ref-appendix-a/users-accounts
USAGE_ROW: dict[str, Any] = {
    "kind": "admin#reports#usageReport",
    "date": "2026-11-01",
    "etag": '"etag"',
    "entity": {"customerId": "C03az79cb", "userEmail": "liz@example.com", "profileId": "100230688039070881323",
               "type": "USER"},
    "parameters": [
        {"name": "accounts:is_2sv_enrolled", "boolValue": True},
        {"name": "accounts:is_2sv_enforced", "boolValue": False},
        {"name": "accounts:num_security_keys", "intValue": "1"},
        {"name": "accounts:num_passkeys_enrolled", "intValue": "0"},
    ],
}  # fmt: skip


def test_usage_row_field_by_field() -> None:
    key, counts = parse.parse_usage_row(USAGE_ROW)
    assert key == "100230688039070881323"
    assert (counts.enrolled_2sv, counts.security_keys, counts.passkeys) == (True, 1, 0)
    methods = parse.methods_for(True, counts)
    # The key, and the other 2SV methods Google lets its holder use, which the report does not name.
    assert [(m.kind, m.vendor_label) for m in methods] == [
        (MethodKind.FIDO2_SECURITY_KEY, "security_key"),
        (MethodKind.UNSPECIFIED_SECOND_FACTOR, "other_2sv_methods"),
    ]
    only_keys = parse.methods_for(True, counts, keys_only=True)
    assert [(m.kind, m.vendor_label) for m in only_keys] == [(MethodKind.FIDO2_SECURITY_KEY, "security_key")]
