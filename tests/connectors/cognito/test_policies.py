"""Pool configuration → policies: pure, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.model import AccountId, ConditionKind, MethodKind, PolicyState, PortalId, Requirement
from connectors.cognito import policies

POOL: dict[str, Any] = {"MfaConfiguration": "ON", "UserPoolAddOns": {"AdvancedSecurityMode": "OFF"}}
SMS = {"SmsAuthenticationMessage": "{####}", "SmsConfiguration": {"SnsCallerArn": "arn"}}


@pytest.mark.parametrize(
    ("mfa", "accepted", "requirement"),
    [
        ({"MfaConfiguration": "ON", "SoftwareTokenMfaConfiguration": {"Enabled": True}}, ["totp_software"], "strong"),
        (
            {"MfaConfiguration": "ON", "SmsMfaConfiguration": SMS, "SoftwareTokenMfaConfiguration": {"Enabled": True}},
            ["sms", "totp_software"],
            "mfa",
        ),
        (
            {
                "MfaConfiguration": "ON",
                "SoftwareTokenMfaConfiguration": {"Enabled": False},
                "EmailMfaConfiguration": {"Subject": "code"},
            },
            ["email_otp"],
            "mfa",
        ),
        (
            {
                "MfaConfiguration": "ON",
                "SoftwareTokenMfaConfiguration": {"Enabled": True},
                "WebAuthnConfiguration": {"FactorConfiguration": "MULTI_FACTOR_WITH_USER_VERIFICATION"},
            },
            ["totp_software", "passkey"],
            "strong",
        ),
        ({"MfaConfiguration": "ON", "WebAuthnConfiguration": {"FactorConfiguration": "SINGLE_FACTOR"}}, [], "none"),
    ],
)
def test_enabled_types_and_what_a_challenge_demands(mfa: dict[str, Any], accepted: list[str], requirement: str) -> None:
    cfg = policies.read_pool_mfa(POOL, mfa)
    assert [k.value for k in cfg.accepted] == accepted
    assert cfg.requirement.value == requirement


def test_optional_names_the_opted_in_users_and_leaves_out_federated() -> None:
    cfg = policies.read_pool_mfa(
        POOL, {"MfaConfiguration": "OPTIONAL", "SoftwareTokenMfaConfiguration": {"Enabled": True}}
    )
    a, b, fed = AccountId("a"), AccountId("b"), AccountId("f")
    policy, issues = policies.pool_policy(cfg, [b, a, fed], [fed])
    assert policy is not None
    (rule,) = policy.rules
    assert rule.scope.include_users == (a, b) and not rule.scope.include_all
    assert rule.requirement is Requirement.STRONG and rule.accepted_methods == (MethodKind.TOTP_SOFTWARE,)
    assert [i.code for i in issues] == ["cognito.federated_users"]


def test_unknown_mfa_mode_is_incomplete_not_a_policy() -> None:
    cfg = policies.read_pool_mfa(POOL, {"MfaConfiguration": "MAYBE"})
    policy, issues = policies.pool_policy(cfg, [], [])
    assert policy is None and issues[0].code == "cognito.unknown_mfa_mode" and issues[0].incomplete


def test_device_tracking_and_passwordless_make_conditions() -> None:
    pool = {
        **POOL,
        "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": True},
        "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "SMS_OTP"]}},
    }
    cfg = policies.read_pool_mfa(pool, {"MfaConfiguration": "ON", "SoftwareTokenMfaConfiguration": {"Enabled": True}})
    policy, _ = policies.pool_policy(cfg, [], [])
    assert policy is not None
    assert [c.kind for c in policy.rules[0].conditions] == [ConditionKind.DEVICE, ConditionKind.ALTERNATIVE_CONTROL]


def _risk(low: str, medium: str, high: str) -> dict[str, Any]:
    actions = {
        f"{k}Action": {"EventAction": v, "Notify": False} for k, v in (("Low", low), ("Medium", medium), ("High", high))
    }
    return {"AccountTakeoverRiskConfiguration": {"Actions": actions}}


def test_adaptive_rules_per_distinct_client_configuration() -> None:
    pool = {**POOL, "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}
    cfg = policies.read_pool_mfa(pool, {"MfaConfiguration": "OPTIONAL", "SmsMfaConfiguration": SMS})
    risks = {
        PortalId("c1"): _risk("NO_ACTION", "MFA_IF_CONFIGURED", "MFA_REQUIRED"),
        PortalId("c2"): _risk("NO_ACTION", "MFA_IF_CONFIGURED", "MFA_REQUIRED"),
        PortalId("c3"): _risk("NO_ACTION", "NO_ACTION", "BLOCK"),
        PortalId("c4"): None,  # no configuration at all: no action
    }
    policy, issues = policies.adaptive_policy(cfg, risks, [])
    assert policy is not None and policy.state is PolicyState.ENFORCED and not issues
    by_portals = {r.portals.ids: r for r in policy.rules}
    assert by_portals[("c1", "c2")].requirement is Requirement.MFA
    assert by_portals[("c1", "c2")].conditions[0].kind is ConditionKind.RISK
    assert by_portals[("c3",)].requirement is Requirement.BLOCK
    assert by_portals[("c4",)].requirement is Requirement.NONE and not by_portals[("c4",)].conditions


def test_audit_mode_is_report_only_and_off_is_nothing() -> None:
    mfa = {"MfaConfiguration": "OPTIONAL", "SmsMfaConfiguration": SMS}
    audit = policies.read_pool_mfa({**POOL, "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}}, mfa)
    policy, _ = policies.adaptive_policy(audit, {PortalId("c"): _risk("MFA_REQUIRED", "MFA_REQUIRED", "BLOCK")}, [])
    assert policy is not None and policy.state is PolicyState.REPORT_ONLY
    off = policies.read_pool_mfa(POOL, mfa)
    assert policies.adaptive_policy(off, {}, []) == (None, [])


def test_adaptive_mfa_with_pool_mfa_off_is_said_and_not_enforcement() -> None:
    cfg = policies.read_pool_mfa(
        {**POOL, "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}, {"MfaConfiguration": "OFF"}
    )
    policy, issues = policies.adaptive_policy(
        cfg, {PortalId("c"): _risk("NO_ACTION", "MFA_REQUIRED", "MFA_REQUIRED")}, []
    )
    assert policy is not None and policy.rules[0].requirement is Requirement.NONE
    assert [i.code for i in issues] == ["cognito.adaptive_mfa_without_mfa"]


maybe_text = st.none() | st.text(max_size=12) | st.sampled_from(["ON", "OFF", "OPTIONAL", "ENFORCED", "AUDIT"])
mfa_answers = st.fixed_dictionaries(
    {},
    optional={
        "MfaConfiguration": maybe_text,
        "SmsMfaConfiguration": st.none() | st.just(SMS) | st.just({}),
        "SoftwareTokenMfaConfiguration": st.none() | st.fixed_dictionaries({"Enabled": st.booleans() | maybe_text}),
        "EmailMfaConfiguration": st.none() | st.just({"Subject": "s"}),
        "WebAuthnConfiguration": st.none()
        | st.fixed_dictionaries({"FactorConfiguration": maybe_text | st.just("MULTI_FACTOR_WITH_USER_VERIFICATION")}),
    },
)
pools = st.fixed_dictionaries(
    {"UserPoolAddOns": st.fixed_dictionaries({"AdvancedSecurityMode": maybe_text})},
    optional={"DeviceConfiguration": st.none() | st.just({"ChallengeRequiredOnNewDevice": True})},
)


@given(
    pools,
    mfa_answers,
    st.lists(st.sampled_from(["NO_ACTION", "MFA_IF_CONFIGURED", "MFA_REQUIRED", "BLOCK", "?"]), min_size=3, max_size=3),
)
def test_any_pool_configuration_maps_without_overclaiming(
    pool: dict[str, Any], mfa: dict[str, Any], actions: list[str]
) -> None:
    """Whatever the answers: no rule demands more than its weakest accepted type allows,
    OFF or an unknown mode never enforces a second factor, and nothing raises."""
    cfg = policies.read_pool_mfa(pool, mfa)
    policy, issues = policies.pool_policy(cfg, [AccountId("a")], [])
    if cfg.mode not in ("ON", "OPTIONAL"):
        assert policy is None or policy.rules[0].requirement is Requirement.NONE
        if cfg.mode != "OFF":
            assert any(i.incomplete for i in issues)
    adaptive, _ = policies.adaptive_policy(cfg, {PortalId("c"): _risk(*actions)}, [])
    for p in (policy, adaptive):
        for rule in p.rules if p is not None else ():
            if rule.requirement in (Requirement.MFA, Requirement.STRONG, Requirement.PHISHING_RESISTANT):
                assert rule.accepted_methods
                weakest = min((k.strength for k in rule.accepted_methods), key=lambda s: s.rank)
                assert weakest.at_least(rule.requirement.strength)
                assert rule.requirement.strength.at_least(weakest)  # no weaker than the weakest way either
