"""Amazon Cognito user pools: documented example payloads through the connector's parsers
and policy mapping, asserted field by field.

Payloads are written here in our own file after the pages of the Amazon Cognito API
reference named in each ``SOURCE`` line (request / response syntax and examples of
ListUsers, AdminGetUser, DescribeUserPool, GetUserPoolMfaConfig, DescribeRiskConfiguration,
AdminListUserAuthEvents). Where a test fixes a defect found in the value-by-value audit its
docstring says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.model import (
    AccountId,
    ConditionKind,
    MethodKind,
    PolicyState,
    PortalId,
    Requirement,
    SignInFactor,
    SourceName,
)
from connectors.cognito import parse, policies

SRC = SourceName("cognito")
API = "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference"

# --- users ----------------------------------------------------------------------------------

# SOURCE: {API}/API_ListUsers.html and API_UserType.html (UserStatus: UNCONFIRMED,
# CONFIRMED, EXTERNAL_PROVIDER, UNKNOWN, RESET_REQUIRED, FORCE_CHANGE_PASSWORD; the SDKs'
# enum also keeps ARCHIVED and COMPROMISED).
USER: dict[str, Any] = {
    "Username": "testuser",
    "Attributes": [
        {"Name": "sub", "Value": "d8f4a3c2-1b2e-4f5a-9c8d-7e6f5a4b3c2d"},
        {"Name": "email_verified", "Value": "true"},
        {"Name": "email", "Value": "testuser@example.com"},
    ],
    "UserCreateDate": datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
    "UserLastModifiedDate": datetime(2024, 5, 2, 9, 30, tzinfo=UTC),
    "Enabled": True,
    "UserStatus": "CONFIRMED",
}


def test_user_field_by_field() -> None:
    user = parse.parse_user(USER, SRC, "ListUsers record 1")
    assert isinstance(user, parse.CognitoUser)
    a = user.account
    assert (a.id, a.principal, a.display_name, a.enabled, a.created) == (
        "d8f4a3c2-1b2e-4f5a-9c8d-7e6f5a4b3c2d", "testuser@example.com", "testuser@example.com", True,
        datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
    )  # fmt: skip
    assert a.attributes == {"username": "testuser", "user_status": "CONFIRMED", "email_verified": "true"}
    assert (user.username, user.status, user.federated, user.issue) == ("testuser", "CONFIRMED", False, None)


@pytest.mark.parametrize(
    "status",
    ["UNCONFIRMED", "CONFIRMED", "EXTERNAL_PROVIDER", "UNKNOWN", "RESET_REQUIRED", "FORCE_CHANGE_PASSWORD",
     "ARCHIVED", "COMPROMISED"],
)  # fmt: skip
def test_every_documented_user_status(status: str) -> None:
    user = parse.parse_user(dict(USER, UserStatus=status), SRC, "u")
    assert isinstance(user, parse.CognitoUser)
    assert (user.account.enabled, user.issue, user.federated) == (True, None, status == "EXTERNAL_PROVIDER")


@pytest.mark.parametrize("status", ["SUSPENDED_BY_AWS", None])
def test_unknown_or_missing_user_status_is_a_coded_issue(status: str | None) -> None:
    """Audit defect: ``KNOWN_STATUSES`` was never used, so an undocumented status
    passed with no issue. The account stays in scope (``Enabled`` decides)."""
    raw = dict(USER, UserStatus=status) if status else {k: v for k, v in USER.items() if k != "UserStatus"}
    user = parse.parse_user(raw, SRC, "u")
    assert isinstance(user, parse.CognitoUser)
    assert user.account.enabled is True
    assert user.issue is not None
    assert (user.issue.code, user.issue.record, user.issue.incomplete) == (
        "cognito.user_status_unknown", "d8f4a3c2-1b2e-4f5a-9c8d-7e6f5a4b3c2d", False
    )  # fmt: skip


def test_a_disabled_user_is_out_of_scope_whatever_its_status() -> None:
    user = parse.parse_user(dict(USER, Enabled=False), SRC, "u")
    assert isinstance(user, parse.CognitoUser) and user.account.enabled is False


# --- a user's MFA settings ------------------------------------------------------------------

# SOURCE: {API}/API_AdminGetUser.html (response syntax: UserMFASettingList with SMS_MFA,
# SOFTWARE_TOKEN_MFA, EMAIL_OTP; PreferredMfaSetting; the legacy MFAOptions, SMS only).
ADMIN_GET_USER: dict[str, Any] = {
    "Username": "testuser",
    "Enabled": True,
    "UserStatus": "CONFIRMED",
    "MFAOptions": [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}],
    "PreferredMfaSetting": "SOFTWARE_TOKEN_MFA",
    "UserMFASettingList": ["SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP"],
}


def test_admin_get_user_field_by_field() -> None:
    methods, preferred, issues = parse.parse_mfa(ADMIN_GET_USER, "u1")
    assert [(m.kind, m.vendor_label) for m in methods] == [
        (MethodKind.EMAIL_OTP, "EMAIL_OTP"),
        (MethodKind.SMS, "SMS_MFA"),
        (MethodKind.TOTP_SOFTWARE, "SOFTWARE_TOKEN_MFA"),
    ]
    assert (preferred, issues) == ("SOFTWARE_TOKEN_MFA", [])


# --- the pool's MFA configuration -----------------------------------------------------------

# SOURCE: {API}/API_GetUserPoolMfaConfig.html (response: MfaConfiguration OFF / ON /
# OPTIONAL, SmsMfaConfiguration, SoftwareTokenMfaConfiguration.Enabled,
# EmailMfaConfiguration, WebAuthnConfiguration with FactorConfiguration SINGLE_FACTOR or
# MULTI_FACTOR_WITH_USER_VERIFICATION) and API_WebAuthnConfigurationType.html.
MFA_CONFIG: dict[str, Any] = {
    "MfaConfiguration": "OPTIONAL",
    "SmsMfaConfiguration": {
        "SmsAuthenticationMessage": "Your code is {####}",
        "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns", "ExternalId": "x",
                             "SnsRegion": "us-east-1"},
    },
    "SoftwareTokenMfaConfiguration": {"Enabled": True},
    "EmailMfaConfiguration": {"Message": "Your code is {####}", "Subject": "Sign-in code"},
    "WebAuthnConfiguration": {"RelyingPartyId": "auth.example.com", "UserVerification": "required",
                              "FactorConfiguration": "MULTI_FACTOR_WITH_USER_VERIFICATION"},
}  # fmt: skip
# SOURCE: {API}/API_DescribeUserPool.html (UserPoolType: UserPoolAddOns.AdvancedSecurityMode
# OFF / AUDIT / ENFORCED, Policies.SignInPolicy.AllowedFirstAuthFactors PASSWORD /
# EMAIL_OTP / SMS_OTP / WEB_AUTHN, DeviceConfiguration, LambdaConfig).
POOL: dict[str, Any] = {
    "Id": "us-east-1_EXAMPLE",
    "MfaConfiguration": "OPTIONAL",
    "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"},
    "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}},
    "LambdaConfig": {},
}


def test_pool_configuration_field_by_field() -> None:
    cfg = policies.read_pool_mfa(POOL, MFA_CONFIG)
    assert (cfg.mode, cfg.sms, cfg.totp, cfg.email, cfg.passkey_mfa, cfg.webauthn) == (
        "OPTIONAL", True, True, True, True, True
    )  # fmt: skip
    assert (cfg.security_mode, cfg.device_tracking, cfg.passwordless, cfg.custom_auth) == ("ENFORCED", False, (), False)
    assert cfg.accepted == (MethodKind.SMS, MethodKind.TOTP_SOFTWARE, MethodKind.EMAIL_OTP, MethodKind.PASSKEY)
    assert cfg.requirement is Requirement.MFA  # SMS and e-mail answer the challenge too


@pytest.mark.parametrize(
    ("mode", "scope_all", "requirement"),
    [("OFF", True, Requirement.NONE), ("ON", True, Requirement.STRONG), ("OPTIONAL", False, Requirement.STRONG)],
)
def test_every_documented_mfa_configuration(mode: str, scope_all: bool, requirement: Requirement) -> None:
    cfg = policies.read_pool_mfa({}, {"MfaConfiguration": mode, "SoftwareTokenMfaConfiguration": {"Enabled": True}})
    policy, issues = policies.pool_policy(cfg, [AccountId("opted-in")], [])
    assert policy is not None and issues == []
    (rule,) = policy.rules
    assert (rule.scope.include_all, rule.requirement, policy.state) == (scope_all, requirement, PolicyState.ENFORCED)
    if mode == "OPTIONAL":
        assert rule.scope.include_users == ("opted-in",)


@pytest.mark.parametrize(
    ("factor", "passkey"), [("SINGLE_FACTOR", False), ("MULTI_FACTOR_WITH_USER_VERIFICATION", True), (None, False)]
)
def test_passkeys_are_mfa_only_with_multi_factor_configuration(factor: str | None, passkey: bool) -> None:
    webauthn = {"RelyingPartyId": "auth.example.com"} | ({"FactorConfiguration": factor} if factor else {})
    cfg = policies.read_pool_mfa({}, {"MfaConfiguration": "ON", "WebAuthnConfiguration": webauthn})
    assert (MethodKind.PASSKEY in cfg.accepted) is passkey and cfg.webauthn


def test_a_custom_authentication_lambda_is_an_alternative_way_in() -> None:
    """Audit defect: a DefineAuthChallenge Lambda (custom authentication flow: the
    Lambda decides the challenges and when tokens are issued) was not read, so the
    pool's MFA was taken to apply to every sign-in."""
    pool = dict(POOL, LambdaConfig={"DefineAuthChallenge": "arn:aws:lambda:us-east-1:123456789012:function:define"})
    cfg = policies.read_pool_mfa(pool, {"MfaConfiguration": "ON", "SoftwareTokenMfaConfiguration": {"Enabled": True}})
    assert cfg.custom_auth is True
    policy, _ = policies.pool_policy(cfg, [], [])
    assert policy is not None
    (rule,) = policy.rules
    assert [c.kind for c in rule.conditions] == [ConditionKind.ALTERNATIVE_CONTROL]
    assert "DefineAuthChallenge" in rule.conditions[0].detail


# --- adaptive authentication ------------------------------------------------------------------

# SOURCE: {API}/API_DescribeRiskConfiguration.html and API_AccountTakeoverActionType.html
# (EventAction: BLOCK, MFA_IF_CONFIGURED, MFA_REQUIRED, NO_ACTION per Low / Medium / High).
RISK = {
    "UserPoolId": "us-east-1_EXAMPLE",
    "AccountTakeoverRiskConfiguration": {
        "Actions": {
            "LowAction": {"Notify": False, "EventAction": "NO_ACTION"},
            "MediumAction": {"Notify": True, "EventAction": "MFA_IF_CONFIGURED"},
            "HighAction": {"Notify": True, "EventAction": "BLOCK"},
        }
    },
}


@pytest.mark.parametrize(("mode", "state"), [("ENFORCED", PolicyState.ENFORCED), ("AUDIT", PolicyState.REPORT_ONLY)])
def test_risk_configuration_field_by_field(mode: str, state: PolicyState) -> None:
    cfg = policies.read_pool_mfa(
        {"UserPoolAddOns": {"AdvancedSecurityMode": mode}},
        {"MfaConfiguration": "OPTIONAL", "SoftwareTokenMfaConfiguration": {"Enabled": True}},
    )
    policy, issues = policies.adaptive_policy(cfg, {PortalId("app1"): RISK}, [])
    assert policy is not None and issues == [] and policy.state is state
    (rule,) = policy.rules
    assert (rule.requirement, rule.portals.ids) == (Requirement.BLOCK, ("app1",))
    assert [(c.kind, c.detail) for c in rule.conditions] == [
        (ConditionKind.RISK, "sign-in risk Medium: MFA_IF_CONFIGURED, High: BLOCK")
    ]


@pytest.mark.parametrize("action", ["BLOCK", "MFA_IF_CONFIGURED", "MFA_REQUIRED", "NO_ACTION"])
def test_every_documented_risk_action_is_known(action: str) -> None:
    assert action in policies.RISK_ACTIONS


# --- auth events --------------------------------------------------------------------------------

# SOURCE: {API}/API_AdminListUserAuthEvents.html and API_AuthEventType.html (EventType
# SignIn / SignUp / ForgotPassword / PasswordChange / ResendCode / DeleteUser / …,
# EventResponse Pass / Fail / InProgress, ChallengeResponses Password / Mfa with
# Success / Failure).
EVENTS = [
    {"EventId": "e1", "EventType": "SignIn", "CreationDate": datetime(2024, 6, 1, 8, 0, tzinfo=UTC),
     "EventResponse": "Pass", "EventRisk": {"RiskDecision": "NoRisk", "RiskLevel": "Low"},
     "ChallengeResponses": [{"ChallengeName": "Password", "ChallengeResponse": "Success"},
                            {"ChallengeName": "Mfa", "ChallengeResponse": "Success"}]},
    {"EventId": "e2", "EventType": "SignIn", "CreationDate": datetime(2024, 6, 2, 8, 0, tzinfo=UTC),
     "EventResponse": "Pass", "ChallengeResponses": [{"ChallengeName": "Password", "ChallengeResponse": "Success"}]},
    {"EventId": "e3", "EventType": "SignIn", "CreationDate": datetime(2024, 6, 3, 8, 0, tzinfo=UTC),
     "EventResponse": "Fail", "ChallengeResponses": [{"ChallengeName": "Password", "ChallengeResponse": "Failure"}]},
    {"EventId": "e4", "EventType": "ForgotPassword", "CreationDate": datetime(2024, 6, 4, 8, 0, tzinfo=UTC),
     "EventResponse": "Pass", "ChallengeResponses": []},
]  # fmt: skip


def test_auth_events_field_by_field() -> None:
    found = parse.parse_auth_events(EVENTS)
    assert [(e.time.day, e.sign_in, e.factor) for e in found] == [
        (1, True, SignInFactor.MULTI),
        (2, True, SignInFactor.SINGLE),
        (3, False, SignInFactor.SINGLE),
        (4, False, SignInFactor.SINGLE),
    ]


# SOURCE: {API}/API_DescribeUserPoolClient.html and API_UserPoolClientType.html
# (ExplicitAuthFlows: ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_CUSTOM_AUTH,
# ALLOW_USER_PASSWORD_AUTH, ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_AUTH
# and the legacy ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, USER_PASSWORD_AUTH).
@pytest.mark.parametrize(
    ("flows", "custom"),
    [
        (["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], False),
        (["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], True),
        (["CUSTOM_AUTH_FLOW_ONLY"], True),
        (["ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"], False),
        (["ADMIN_NO_SRP_AUTH", "USER_PASSWORD_AUTH"], False),
    ],
)
def test_explicit_auth_flows(flows: list[str], custom: bool) -> None:
    client = {"UserPoolId": "us-east-1_EXAMPLE", "ClientName": "app", "ClientId": "c1", "ExplicitAuthFlows": flows}
    assert policies.allows_custom_auth(client) is custom


def test_only_the_clients_allowing_the_custom_flow_are_conditional() -> None:
    pool = dict(POOL, LambdaConfig={"DefineAuthChallenge": "arn:aws:lambda:us-east-1:123456789012:function:define"})
    cfg = policies.read_pool_mfa(pool, {"MfaConfiguration": "ON", "SoftwareTokenMfaConfiguration": {"Enabled": True}})
    policy, _ = policies.pool_policy(cfg, [], [], [PortalId("custom-client")])
    assert policy is not None
    plain, custom = policy.rules
    assert (plain.portals.all, plain.portals.excluded_ids, plain.conditions) == (True, ("custom-client",), ())
    assert custom.portals.ids == ("custom-client",)
    assert [c.kind for c in custom.conditions] == [ConditionKind.ALTERNATIVE_CONTROL]
    # No client allows it: one rule, no condition.
    policy, _ = policies.pool_policy(cfg, [], [], [])
    assert policy is not None and [(r.portals.all, r.conditions) for r in policy.rules] == [(True, ())]
