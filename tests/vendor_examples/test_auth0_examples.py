"""Auth0 Management API v2: documented example payloads through the connector's parsers
and enforcement mapping, asserted field by field.

Payloads are written here in our own file after the pages named in each ``SOURCE`` line
(auth0.com/docs/api/management/v2: users, users' authentication methods, Guardian factors
and policies, Actions; and the MFA guides they link to). Where a test fixes a defect found
in the value-by-value audit its docstring says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.model import ConditionKind, MethodKind, MethodStatus, PortalId, Requirement, SourceName
from connectors.auth0 import enforcement, parse

SRC = SourceName("auth0")
MGMT = "https://auth0.com/docs/api/management/v2"

# --- users ----------------------------------------------------------------------------------

# SOURCE: {MGMT}/users/get-users-by-id (response: user_id, email, email_verified, name,
# created_at, last_login, blocked, identities[].connection, multifactor).
USER: dict[str, Any] = {
    "user_id": "auth0|507f1f77bcf86cd799439020",
    "email": "John.Doe@gmail.com",
    "email_verified": True,
    "username": "johndoe",
    "name": "John Doe",
    "created_at": "2024-03-01T10:00:00.000Z",
    "last_login": "2024-06-01T08:30:00.000Z",
    "identities": [
        {"connection": "Username-Password-Authentication", "user_id": "507f1f77bcf86cd799439020",
         "provider": "auth0", "isSocial": False},
        {"connection": "google-oauth2", "user_id": "1234567890", "provider": "google-oauth2", "isSocial": True},
    ],
    "multifactor": ["guardian"],
    "blocked": False,
}  # fmt: skip


def test_user_field_by_field() -> None:
    user = parse.parse_user(USER, SRC, "users record 1")
    assert isinstance(user, parse.Auth0User)
    a = user.account
    assert (a.id, a.principal, a.display_name, a.enabled) == (
        "auth0|507f1f77bcf86cd799439020", "john.doe@gmail.com", "John Doe", True
    )  # fmt: skip
    assert (a.created, a.last_sign_in) == (
        datetime(2024, 3, 1, 10, 0, tzinfo=UTC), datetime(2024, 6, 1, 8, 30, tzinfo=UTC)
    )  # fmt: skip
    assert a.attributes == {"connection": "Username-Password-Authentication", "linked_connections": "google-oauth2"}
    assert (user.multifactor, user.email_verified) == (("guardian",), True)
    assert "email_verified" in parse.USER_FIELDS  # asked of the listing and of the export


@pytest.mark.parametrize(("blocked", "enabled"), [(True, False), (False, True), (None, True)])
def test_blocked(blocked: bool | None, enabled: bool) -> None:
    raw = {k: v for k, v in USER.items() if k != "blocked"} | ({"blocked": blocked} if blocked is not None else {})
    user = parse.parse_user(raw, SRC, "u")
    assert isinstance(user, parse.Auth0User) and user.account.enabled is enabled


# --- authentication methods -----------------------------------------------------------------

# SOURCE: {MGMT}/users/get-authentication-methods (type: recovery-code, totp, push, phone,
# email, email-verification, webauthn-roaming, webauthn-platform, guardian, passkey,
# password; confirmed; phone's preferred_authentication_method sms / voice).
METHODS: list[dict[str, Any]] = [
    {"id": "totp|dev_1", "type": "totp", "confirmed": True, "created_at": "2024-04-01T00:00:00.000Z"},
    {"id": "phone|dev_2", "type": "phone", "confirmed": True, "name": "XXXXXXXX4321", "phone_number": "+1 555-0100",
     "preferred_authentication_method": "voice", "created_at": "2024-04-02T00:00:00.000Z"},
    {"id": "push|dev_3", "type": "push", "confirmed": False, "created_at": "2024-04-03T00:00:00.000Z"},
    {"id": "webauthn-roaming|dev_4", "type": "webauthn-roaming", "confirmed": True, "key_id": "k1",
     "created_at": "2024-04-04T00:00:00.000Z"},
    {"id": "webauthn-platform|dev_5", "type": "webauthn-platform", "confirmed": True,
     "created_at": "2024-04-05T00:00:00.000Z"},
    {"id": "passkey|dev_6", "type": "passkey", "confirmed": True, "created_at": "2024-04-06T00:00:00.000Z"},
    {"id": "email|dev_7", "type": "email", "confirmed": True, "email": "j***@gmail.com",
     "created_at": "2024-04-07T00:00:00.000Z"},
    {"id": "recovery-code|dev_8", "type": "recovery-code", "confirmed": True, "created_at": "2024-04-08T00:00:00.000Z"},
    {"id": "password|dev_9", "type": "password", "created_at": "2024-03-01T10:00:00.000Z"},
    {"id": "email-verification|dev_10", "type": "email-verification", "confirmed": True},
]  # fmt: skip


def test_authentication_methods_field_by_field() -> None:
    methods, issues = parse.parse_methods(METHODS, "u1")
    assert issues == []
    assert [(m.kind, m.vendor_label, m.status) for m in methods] == [
        (MethodKind.TOTP_SOFTWARE, "totp", MethodStatus.ACTIVE),
        (MethodKind.VOICE, "phone:voice", MethodStatus.ACTIVE),
        (MethodKind.AUTHENTICATOR_PUSH, "push", MethodStatus.PENDING),  # not confirmed: never counted
        (MethodKind.FIDO2_SECURITY_KEY, "webauthn-roaming", MethodStatus.ACTIVE),
        (MethodKind.PLATFORM_AUTHENTICATOR, "webauthn-platform", MethodStatus.ACTIVE),
        (MethodKind.PASSKEY, "passkey", MethodStatus.ACTIVE),
        (MethodKind.EMAIL_OTP, "email", MethodStatus.ACTIVE),
    ]
    assert methods[0].registered_at == datetime(2024, 4, 1, tzinfo=UTC)


def test_unknown_method_type_and_phone_channel_are_coded_issues() -> None:
    methods, issues = parse.parse_methods(
        [{"type": "telepathy", "confirmed": True}, {"type": "phone", "preferred_authentication_method": "fax",
                                                     "confirmed": True}], "u1"
    )  # fmt: skip
    assert [m.kind for m in methods] == [MethodKind.UNKNOWN, MethodKind.UNKNOWN]
    assert sorted(i.code for i in issues) == ["auth0.unknown_method_type", "auth0.unknown_phone_channel"]


# SOURCE: https://auth0.com/docs/secure/multi-factor-authentication/multi-factor-authentication-factors/configure-email-notifications-for-mfa
# ("users don't need to enrol explicitly in e-mail MFA: they can use it when they have a
# verified e-mail address"; e-mail can be enabled only when another factor is).
@pytest.mark.parametrize(
    ("verified", "factor_on", "own", "added"),
    [
        (True, True, (MethodKind.TOTP_SOFTWARE,), True),
        (False, True, (MethodKind.TOTP_SOFTWARE,), False),
        (True, False, (MethodKind.TOTP_SOFTWARE,), False),
        (True, True, (), False),  # no other factor: not documented, never added (it could only raise a verdict)
        (True, True, (MethodKind.EMAIL_OTP,), False),  # already listed
    ],
)
def test_a_verified_address_is_an_email_factor(
    verified: bool, factor_on: bool, own: tuple[MethodKind, ...], added: bool
) -> None:
    """Audit defect: the implicit e-mail factor of a verified address was not counted,
    so a TOTP user was judged strong where e-mail (weak) also completes MFA."""
    from auditor.model import Method

    methods = tuple(Method(k, k.value, MethodStatus.ACTIVE) for k in own)
    found = parse.with_verified_email(methods, verified, factor_on)
    extra = found[len(methods) :]
    assert [(m.kind, m.vendor_label, m.status) for m in extra] == (
        [(MethodKind.EMAIL_OTP, "email (verified address)", MethodStatus.ACTIVE)] if added else []
    )


# --- Guardian factors and the tenant MFA policy ---------------------------------------------------

# SOURCE: {MGMT}/guardian/get-factors (name: push-notification, sms, email, duo, otp,
# webauthn-roaming, webauthn-platform, recovery-code; enabled; trial_expired).
FACTORS = [
    {"name": "sms", "enabled": True, "trial_expired": False},
    {"name": "push-notification", "enabled": True, "trial_expired": False},
    {"name": "otp", "enabled": False, "trial_expired": False},
    {"name": "email", "enabled": True, "trial_expired": False},
    {"name": "duo", "enabled": False, "trial_expired": False},
    {"name": "webauthn-roaming", "enabled": True, "trial_expired": True},
    {"name": "webauthn-platform", "enabled": False, "trial_expired": False},
    {"name": "recovery-code", "enabled": True, "trial_expired": False},
]


def test_guardian_factors_field_by_field() -> None:
    allowances, issues = enforcement.method_policy(FACTORS)
    assert issues == []
    assert {(a.kind, a.enabled, a.vendor_label) for a in allowances} == {
        (MethodKind.SMS, True, "sms"),
        (MethodKind.VOICE, True, "sms"),
        (MethodKind.AUTHENTICATOR_PUSH, True, "push-notification"),
        (MethodKind.TOTP_SOFTWARE, False, "otp"),
        (MethodKind.EMAIL_OTP, True, "email"),
        (MethodKind.FIDO2_SECURITY_KEY, False, "webauthn-roaming"),  # trial expired: off
        (MethodKind.PLATFORM_AUTHENTICATOR, False, "webauthn-platform"),
        (MethodKind.UNSPECIFIED_SECOND_FACTOR, True, "guardian"),
    }
    assert enforcement.demanded(allowances) is Requirement.MFA


def test_an_enabled_duo_factor_is_named() -> None:
    _, issues = enforcement.method_policy([{"name": "duo", "enabled": True}])
    assert [i.code for i in issues] == ["auth0.unknown_factor"]


# SOURCE: {MGMT}/guardian/get-policies (an array: [] never, ["all-applications"] always,
# ["confidence-score"] adaptive MFA).
@pytest.mark.parametrize(
    ("value", "kinds"),
    [((), None), (("all-applications",), ()), (("confidence-score",), (ConditionKind.RISK,))],
)
def test_every_documented_mfa_policy(value: tuple[str, ...], kinds: tuple[ConditionKind, ...] | None) -> None:
    found, issues = enforcement.tenant_policies(value)
    assert issues == []
    if kinds is None:
        assert found == ()
        return
    ((rule,),) = [p.rules for p in found]
    assert (rule.requirement, rule.scope.include_all, rule.portals.all) == (Requirement.MFA, True, True)
    assert tuple(c.kind for c in rule.conditions) == kinds


def test_an_undocumented_mfa_policy_makes_the_source_incomplete() -> None:
    found, issues = enforcement.tenant_policies(["sometimes"])
    assert found == () and [(i.code, i.incomplete) for i in issues] == [("auth0.unknown_mfa_policy", True)]


# --- post-login Actions -----------------------------------------------------------------------

# SOURCE: https://auth0.com/docs/customize/actions/explore-triggers/signup-and-login-triggers/login-trigger/post-login-api-object
# (api.multifactor.enable(provider, {allowRememberBrowser}); provider any / duo /
# google-authenticator / guardian / none) and the "Customize MFA selection / enrollments"
# guides (api.authentication.challengeWith / challengeWithAny / enrollWith / enrollWithAny
# with factor types otp, email, push-notification, phone, webauthn-platform,
# webauthn-roaming, recovery-code).
HANDLER = "exports.onExecutePostLogin = async (event, api) => {{\n{}\n}};\n"


@pytest.mark.parametrize(
    ("provider", "kind", "accepted"),
    [("any", "enforce", ()), ("guardian", "enforce", ()),
     ("google-authenticator", "enforce", (MethodKind.TOTP_SOFTWARE,)), ("duo", "unknown", ()),
     ("none", "unknown", ())],
)  # fmt: skip
def test_every_documented_multifactor_provider(provider: str, kind: str, accepted: tuple[MethodKind, ...]) -> None:
    reading = enforcement.read_action(HANDLER.format(f"  api.multifactor.enable('{provider}');"), {})
    assert (reading.kind, reading.accepted) == (kind, accepted)
    assert reading.portals.all is (kind == "enforce")  # unknown: no portal is claimed enforced


def test_remember_browser_is_a_condition() -> None:
    code = HANDLER.format("  api.multifactor.enable('any', { allowRememberBrowser: true });")
    reading = enforcement.read_action(code, {})
    assert reading.kind == "enforce" and [c.kind for c in reading.conditions] == [ConditionKind.DEVICE]


@pytest.mark.parametrize(
    "call",
    ["api.authentication.challengeWith({ type: 'otp' })",
     "api.authentication.challengeWithAny([{ type: 'email' }, { type: 'phone', options: { preferredMethod: 'sms' } }])",
     "api.authentication.enrollWith({ type: 'webauthn-roaming' })",
     "api.authentication.enrollWithAny([{ type: 'push-notification' }, { type: 'recovery-code' }])"],
)  # fmt: skip
def test_factor_challenge_and_enrolment_calls_are_never_read_as_enforced(call: str) -> None:
    reading = enforcement.read_action(HANDLER.format(f"  {call};"), {})
    assert reading.kind == "unknown"


def test_a_client_condition_scopes_the_action() -> None:
    code = HANDLER.format("  if (event.client.client_id === 'abc') {\n    api.multifactor.enable('any');\n  }")
    reading = enforcement.read_action(code, {})
    assert (reading.kind, reading.portals.ids) == ("enforce", (PortalId("abc"),))


# --- tenant logs --------------------------------------------------------------------------------

# SOURCE: https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes (s: successful
# login; gd_auth_succeed: MFA authentication success; gd_enrollment_complete: a first-time
# MFA user enrolled; gd_recovery_succeed: recovery code used; f: failed login).
LOGS = [
    {"log_id": "90020240601080000001", "date": "2024-06-01T08:00:00.000Z", "type": "gd_auth_succeed",
     "user_id": "auth0|u1", "client_id": "app1"},
    {"log_id": "90020240601080010002", "date": "2024-06-01T08:00:10.000Z", "type": "s", "user_id": "auth0|u1",
     "client_id": "app1"},
    {"log_id": "90020240602080000003", "date": "2024-06-02T08:00:00.000Z", "type": "gd_enrollment_complete",
     "user_id": "auth0|u2", "client_id": "app1"},
    {"log_id": "90020240602080010004", "date": "2024-06-02T08:00:10.000Z", "type": "s", "user_id": "auth0|u2",
     "client_id": "app1"},
    {"log_id": "90020240603080000005", "date": "2024-06-03T08:00:00.000Z", "type": "gd_recovery_succeed",
     "user_id": "auth0|u3", "client_id": "app1"},
    {"log_id": "90020240603080010006", "date": "2024-06-03T08:00:10.000Z", "type": "s", "user_id": "auth0|u3",
     "client_id": "app1"},
    {"log_id": "90020240604080000007", "date": "2024-06-04T08:00:00.000Z", "type": "f", "user_id": "auth0|u4",
     "client_id": "app1"},
]  # fmt: skip


def test_tenant_log_sign_ins_field_by_field() -> None:
    from auditor.model import SignInFactor

    found = parse.sign_ins(parse.parse_log(r) for r in LOGS)
    assert [(s.account_id, s.portal_id, s.time.day, s.factor) for s in found] == [
        ("auth0|u1", "app1", 1, SignInFactor.MULTI),
        ("auth0|u2", "app1", 2, SignInFactor.SINGLE),  # a first enrolment: reached on the password alone
        ("auth0|u3", "app1", 3, SignInFactor.SINGLE),  # a recovery code: not counted
    ]
