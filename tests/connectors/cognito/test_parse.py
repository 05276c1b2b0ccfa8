"""Cognito JSON → model: table-driven, plus arbitrary input that must never raise or
become a second factor it is not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.model import MethodKind, SignInFactor, SourceName, Strength, UnreadableRecord
from connectors.cognito import parse
from connectors.cognito.pacing import Pacer

SRC = SourceName("cognito")


@pytest.mark.parametrize(
    ("raw", "kinds", "preferred", "issues"),
    [
        ({"UserMFASettingList": ["SMS_MFA"]}, ["sms"], "", 0),
        (
            {"UserMFASettingList": ["SOFTWARE_TOKEN_MFA", "SMS_MFA"], "PreferredMfaSetting": "SOFTWARE_TOKEN_MFA"},
            ["sms", "totp_software"],
            "SOFTWARE_TOKEN_MFA",
            0,
        ),
        ({"UserMFASettingList": ["EMAIL_OTP"]}, ["email_otp"], "", 0),
        ({"UserMFASettingList": []}, [], "", 0),
        ({}, [], "", 0),
        # Legacy MFAOptions: SMS set up through the old API.
        ({"MFAOptions": [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]}, ["sms"], "", 0),
        ({"UserMFASettingList": ["SMS_MFA"], "MFAOptions": [{"DeliveryMedium": "SMS"}]}, ["sms"], "", 0),
        ({"UserMFASettingList": ["WEB_AUTHN"]}, ["unknown"], "", 1),
        ({"UserMFASettingList": [42, None]}, ["unknown", "unknown"], "", 2),
        ({"UserMFASettingList": "SMS_MFA"}, [], "", 0),  # not a list: nothing read from it
    ],
)
def test_mfa_settings(raw: dict[str, Any], kinds: list[str], preferred: str, issues: int) -> None:
    methods, pref, found = parse.parse_mfa(raw, "u1")
    assert [m.kind.value for m in methods] == kinds
    assert pref == preferred
    assert len(found) == issues and all(i.code == "cognito.unknown_mfa_setting" and not i.incomplete for i in found)


scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
labels = st.sampled_from(["SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP", "WEB_AUTHN", "sms_mfa", ""]) | scalars
json_values = (
    scalars
    | st.lists(labels, max_size=4)
    | st.lists(st.dictionaries(st.sampled_from(["DeliveryMedium", "AttributeName"]), labels, max_size=2), max_size=3)
    | st.dictionaries(st.text(max_size=8), scalars, max_size=3)
)


@given(st.dictionaries(st.sampled_from(["UserMFASettingList", "MFAOptions", "PreferredMfaSetting", "x"]), json_values))
def test_any_admin_get_user_answer_parses_and_unknown_is_never_a_factor(raw: dict[str, Any]) -> None:
    methods, _, issues = parse.parse_mfa(raw, "u1")
    for m in methods:
        if m.kind is MethodKind.UNKNOWN:
            assert m.strength is Strength.NONE
        else:
            assert m.vendor_label in ("SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP", "MFAOptions:SMS")
    assert sum(m.kind is MethodKind.UNKNOWN for m in methods) == len(issues)


@given(json_values)
def test_any_list_users_entry_is_a_user_or_unreadable(raw: Any) -> None:
    out = parse.parse_user(raw, SRC, "ListUsers record 1")
    assert isinstance(out, UnreadableRecord | parse.CognitoUser)


def test_user_fields() -> None:
    raw = {
        "Username": "f3b1",
        "Enabled": False,
        "UserStatus": "EXTERNAL_PROVIDER",
        "UserCreateDate": datetime(2025, 1, 2, tzinfo=UTC),
        "Attributes": [
            {"Name": "sub", "Value": "f3b1-sub"},
            {"Name": "email", "Value": "a@example.org"},
            {"Name": "given_name", "Value": "Ana"},
            {"Name": "family_name", "Value": "Lee"},
        ],
    }
    user = parse.parse_user(raw, SRC, "r")
    assert isinstance(user, parse.CognitoUser)
    a = user.account
    assert (a.id, a.principal, a.display_name, a.enabled) == ("f3b1-sub", "a@example.org", "Ana Lee", False)
    assert user.federated and user.username == "f3b1"
    assert isinstance(parse.parse_user({**raw, "Attributes": []}, SRC, "r"), UnreadableRecord)
    assert isinstance(parse.parse_user({**raw, "Enabled": "yes"}, SRC, "r"), UnreadableRecord)


def test_auth_events() -> None:
    t = datetime(2026, 11, 1, tzinfo=UTC)
    events = parse.parse_auth_events(
        [
            {
                "EventType": "SignIn",
                "EventResponse": "Pass",
                "CreationDate": t,
                "ChallengeResponses": [
                    {"ChallengeName": "Password", "ChallengeResponse": "Success"},
                    {"ChallengeName": "Mfa", "ChallengeResponse": "Success"},
                ],
            },
            {
                "EventType": "SignIn",
                "EventResponse": "Pass",
                "CreationDate": t,
                "ChallengeResponses": [{"ChallengeName": "Mfa", "ChallengeResponse": "Failure"}],
            },
            {"EventType": "SignIn", "EventResponse": "Fail", "CreationDate": t},
            {"EventType": "ForgotPassword", "EventResponse": "Pass", "CreationDate": t},
            {"EventType": "SignIn", "EventResponse": "Pass"},  # no date: skipped
        ]
    )
    assert [(e.sign_in, e.factor) for e in events] == [
        (True, SignInFactor.MULTI),
        (True, SignInFactor.SINGLE),
        (False, SignInFactor.SINGLE),
        (False, SignInFactor.SINGLE),
    ]


def test_pacer_spaces_requests_per_category() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    pacer = Pacer({"UserList": 30.0, "UserRead": 120.0}, clock=lambda: now[0], sleep=sleep)
    for _ in range(31):
        pacer.acquire("UserList")
    assert now[0] == pytest.approx(1.0)  # the 31st ListUsers waits a full second
    pacer.acquire("UserRead")  # another category: its own slots, no wait
    assert now[0] == pytest.approx(1.0)
    assert pacer.stats["UserList"].requests == 31 and pacer.stats["UserRead"].requests == 1
