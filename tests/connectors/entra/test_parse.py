"""Pure parsing of Graph JSON, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.model import AccountKind, MethodKind, SignInFactor, SourceName
from connectors.entra.parse import (
    REGISTERED_METHODS,
    method_object,
    parse_datetime,
    parse_service_principal,
    parse_sign_in,
    parse_user,
    registered_method,
)

SRC = SourceName("entra")


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("email", MethodKind.RECOVERY_EMAIL),  # a member's e-mail resets a password
        ("mobilePhone", MethodKind.SMS),
        ("alternateMobilePhone", MethodKind.VOICE),
        ("officePhone", MethodKind.VOICE),
        ("securityQuestion", MethodKind.SECURITY_QUESTION),
        ("microsoftAuthenticatorPush", MethodKind.AUTHENTICATOR_PUSH),
        ("microsoftAuthenticatorPasswordless", MethodKind.AUTHENTICATOR_PASSWORDLESS),
        ("softwareOneTimePasscode", MethodKind.TOTP_SOFTWARE),
        ("hardwareOneTimePasscode", MethodKind.HARDWARE_OTP),
        ("fido2SecurityKey", MethodKind.FIDO2_SECURITY_KEY),
        ("windowsHelloForBusiness", MethodKind.WINDOWS_HELLO),
        ("passKeyDeviceBound", MethodKind.PASSKEY),
        ("passKeyDeviceBoundAuthenticator", MethodKind.PASSKEY),
        ("passKeyDeviceBoundWindowsHello", MethodKind.PASSKEY),
        ("macOsSecureEnclaveKey", MethodKind.PLATFORM_AUTHENTICATOR),
        ("temporaryAccessPass", MethodKind.TEMPORARY_ACCESS_PASS),
        ("somethingNew", MethodKind.UNKNOWN),
    ],
)
def test_registered_method_labels(label: str, kind: MethodKind) -> None:
    method = registered_method(label)
    assert (method.kind, method.vendor_label) == (kind, label)


def test_every_documented_label_is_mapped() -> None:
    documented = "email, mobilePhone, alternateMobilePhone, officePhone, securityQuestion, microsoftAuthenticatorPush, \
microsoftAuthenticatorPasswordless, softwareOneTimePasscode, hardwareOneTimePasscode, fido2SecurityKey, \
windowsHelloForBusiness, passKeyDeviceBound, passKeyDeviceBoundAuthenticator, passKeyDeviceBoundWindowsHello, \
macOsSecureEnclaveKey, temporaryAccessPass"
    assert {x.strip() for x in documented.split(",")} <= set(REGISTERED_METHODS)


T = "#microsoft.graph."


@pytest.mark.parametrize(
    ("obj", "kind", "label"),
    [
        ({"@odata.type": T + "passwordAuthenticationMethod"}, MethodKind.PASSWORD, "password"),
        ({"@odata.type": T + "phoneAuthenticationMethod", "phoneType": "mobile"}, MethodKind.SMS, "mobilePhone"),
        ({"@odata.type": T + "phoneAuthenticationMethod", "phoneType": "office"}, MethodKind.VOICE, "officePhone"),
        ({"@odata.type": T + "phoneAuthenticationMethod", "phoneType": "alternateMobile"}, MethodKind.VOICE,
         "alternateMobilePhone"),
        ({"@odata.type": T + "emailAuthenticationMethod"}, MethodKind.RECOVERY_EMAIL, "email"),
        ({"@odata.type": T + "microsoftAuthenticatorAuthenticationMethod"}, MethodKind.AUTHENTICATOR_PUSH,
         "microsoftAuthenticatorPush"),
        ({"@odata.type": T + "softwareOathAuthenticationMethod"}, MethodKind.TOTP_SOFTWARE, "softwareOneTimePasscode"),
        ({"@odata.type": T + "hardwareOathAuthenticationMethod"}, MethodKind.HARDWARE_OTP, "hardwareOneTimePasscode"),
        ({"@odata.type": T + "fido2AuthenticationMethod"}, MethodKind.FIDO2_SECURITY_KEY, "fido2SecurityKey"),
        ({"@odata.type": T + "fido2AuthenticationMethod", "passkeyType": "deviceBound"}, MethodKind.PASSKEY,
         "passKeyDeviceBound"),
        ({"@odata.type": T + "windowsHelloForBusinessAuthenticationMethod"}, MethodKind.WINDOWS_HELLO,
         "windowsHelloForBusiness"),
        ({"@odata.type": T + "temporaryAccessPassAuthenticationMethod"}, MethodKind.TEMPORARY_ACCESS_PASS,
         "temporaryAccessPass"),
        ({"@odata.type": T + "platformCredentialAuthenticationMethod"}, MethodKind.PLATFORM_AUTHENTICATOR,
         "platformCredential"),
        ({"@odata.type": T + "externalAuthenticationMethod"}, MethodKind.UNSPECIFIED_SECOND_FACTOR,
         "externalAuthMethod"),
        ({"@odata.type": T + "brainwaveAuthenticationMethod"}, MethodKind.UNKNOWN, "brainwaveAuthenticationMethod"),
        ({}, MethodKind.UNKNOWN, "(no @odata.type)"),
    ],
)  # fmt: skip
def test_method_objects(obj: dict[str, Any], kind: MethodKind, label: str) -> None:
    method = method_object(obj)
    assert (method.kind, method.vendor_label) == (kind, label)


def test_method_object_keeps_its_date() -> None:
    m = method_object({"@odata.type": T + "fido2AuthenticationMethod", "createdDateTime": "2025-02-03T04:05:06Z"})
    assert m.registered_at == datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-03-13T19:15:41.6195833Z", datetime(2023, 3, 13, 19, 15, 41, 619583, tzinfo=UTC)),
        ("2023-03-13T19:15:41Z", datetime(2023, 3, 13, 19, 15, 41, tzinfo=UTC)),
        ("2023-03-13T19:15:41", datetime(2023, 3, 13, 19, 15, 41, tzinfo=UTC)),
        ("not a date", None),
        (None, None),
    ],
)
def test_datetimes(text: str | None, expected: datetime | None) -> None:
    assert parse_datetime(text) == expected


USER = {
    "id": "u1",
    "userPrincipalName": "Jane.Doe@Example.FR",
    "displayName": "Jane Doe",
    "accountEnabled": True,
    "userType": "Member",
    "createdDateTime": "2024-01-01T00:00:00Z",
    "signInActivity": {"lastSignInDateTime": "2026-11-01T08:00:00Z"},
    "department": "Claims",
    "employeeType": "employee",
    "onPremisesSyncEnabled": True,
}


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({}, AccountKind.HUMAN),
        ({"userType": "Guest", "userPrincipalName": "x_ext#EXT#@example.fr"}, AccountKind.GUEST),
        ({"userPrincipalName": "svc-backup@example.fr"}, AccountKind.SERVICE),
        ({"employeeType": "Service"}, AccountKind.SERVICE),
    ],
)
def test_account_kinds(changes: dict[str, Any], kind: AccountKind) -> None:
    parsed = parse_user({**USER, **changes}, SRC, ("svc-",))
    assert parsed.account is not None and parsed.account.kind is kind


def test_user_fields() -> None:
    account = parse_user(USER, SRC, ("svc-",)).account
    assert account is not None
    assert account.principal == "jane.doe@example.fr"
    assert account.last_sign_in == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert dict(account.attributes) == {"department": "Claims", "employment": "employee", "on_premises_sync": "true"}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [({"id": None}, "no id"), ({"userPrincipalName": ""}, "no userPrincipalName"),
     ({"accountEnabled": None}, "accountEnabled missing")],
)  # fmt: skip
def test_unreadable_users(changes: dict[str, Any], reason: str) -> None:
    parsed = parse_user({**USER, **changes}, SRC, ("svc-",))
    assert parsed.account is None and parsed.unreadable is not None and parsed.unreadable.reason == reason


@pytest.mark.parametrize(
    ("obj", "portal"),
    [
        ({"id": "sp1", "displayName": "App", "appRoleAssignmentRequired": True}, ("sp1", True)),
        ({"id": "sp2", "displayName": "App"}, ("sp2", False)),  # absent means anyone may sign in
        ({"id": "sp3", "servicePrincipalType": "ManagedIdentity"}, None),
        ({"id": "sp4", "accountEnabled": False}, None),
    ],
)
def test_service_principals(obj: dict[str, Any], portal: tuple[str, bool] | None) -> None:
    parsed = parse_service_principal(obj, SRC)
    assert (None if parsed is None else (parsed.id, parsed.assignment_required)) == portal


SIGN_IN = {
    "userId": "u1",
    "appId": "app-1",
    "createdDateTime": "2026-10-02T10:00:00Z",
    "authenticationRequirement": "singleFactorAuthentication",
    "clientAppUsed": "Browser",
    "status": {"errorCode": 0},
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, (SignInFactor.SINGLE, "browser")),
        ({"authenticationRequirement": "multiFactorAuthentication", "clientAppUsed": "Mobile Apps and Desktop clients"},
         (SignInFactor.MULTI, "mobile_desktop")),
        ({"status": {"errorCode": 50126}}, None),  # failed: no access
        ({"appId": "other"}, None),  # not a portal
        ({"userId": "stranger"}, None),
        ({"authenticationRequirement": None}, None),  # factor not stated: not evidence
    ],
)  # fmt: skip
def test_sign_ins(changes: dict[str, Any], expected: tuple[SignInFactor, str] | None) -> None:
    parsed = parse_sign_in({**SIGN_IN, **changes}, {"app-1": "portal-1"}, {"u1": object()})  # type: ignore[dict-item]
    assert (None if parsed is None else (parsed.factor, parsed.client_app)) == expected
