"""Table-driven tests of the pure parse layer, plus the factor table through the real
SDK (FastPass, WebAuthn, hardware tokens, an unknown type, statuses that are no enrolment)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from auditor.model import MethodKind, MethodStatus, Requirement, SourceSnapshot
from connectors.okta import parse, policies
from connectors.sandbox.okta import OktaSandbox
from connectors.sandbox.sample_org import SampleOrg


def factor(ftype: str, status: str = "ACTIVE", **profile: Any) -> dict[str, Any]:
    provider = min(parse.FACTOR_PROVIDERS.get(ftype, {"OKTA"}))  # a provider Okta documents for the type
    return {
        "id": f"f-{ftype}-{status}",
        "factorType": ftype,
        "provider": provider,
        "vendorName": provider,
        "status": status,
        "created": "2025-03-01T10:00:00.000Z",
        "lastUpdated": "2025-03-01T10:00:00.000Z",
        "profile": profile,
    }


HW_KEY = [{"kty": "EC", "kid": "default", "okta:kpr": "HARDWARE"}]
SW_KEY = [{"kty": "EC", "kid": "default", "okta:kpr": "SOFTWARE"}]
FACTORS = [
    (factor("push"), MethodKind.AUTHENTICATOR_PUSH, MethodStatus.ACTIVE),
    (factor("token:software:totp"), MethodKind.TOTP_SOFTWARE, MethodStatus.ACTIVE),
    (factor("signed_nonce", keys=HW_KEY), MethodKind.OKTA_FASTPASS, MethodStatus.ACTIVE),
    (factor("signed_nonce", keys=SW_KEY), MethodKind.AUTHENTICATOR_PASSWORDLESS, MethodStatus.ACTIVE),
    (factor("signed_nonce"), MethodKind.AUTHENTICATOR_PASSWORDLESS, MethodStatus.ACTIVE),
    (factor("webauthn"), MethodKind.FIDO2_SECURITY_KEY, MethodStatus.ACTIVE),
    (factor("u2f"), MethodKind.FIDO2_SECURITY_KEY, MethodStatus.ACTIVE),
    (factor("token:hardware"), MethodKind.HARDWARE_OTP, MethodStatus.ACTIVE),
    (factor("token:hotp"), MethodKind.HARDWARE_OTP, MethodStatus.ACTIVE),
    (factor("token"), MethodKind.HARDWARE_OTP, MethodStatus.ACTIVE),
    (factor("sms", "PENDING_ACTIVATION"), MethodKind.SMS, MethodStatus.PENDING),
    (factor("call"), MethodKind.VOICE, MethodStatus.ACTIVE),
    (factor("email"), MethodKind.EMAIL_OTP, MethodStatus.ACTIVE),
    (factor("question"), MethodKind.SECURITY_QUESTION, MethodStatus.ACTIVE),
    # Duo's prompt (push, SMS or call): enrolled, kind unspecified.
    (factor("web"), MethodKind.UNSPECIFIED_SECOND_FACTOR, MethodStatus.ACTIVE),
]


@pytest.mark.parametrize(("raw", "kind", "status"), FACTORS, ids=[f"{r['factorType']}-{k}" for r, k, _ in FACTORS])
def test_factor_table(raw: dict[str, Any], kind: MethodKind, status: MethodStatus) -> None:
    method, issue = parse.parse_factor(raw, "00u1")
    assert issue is None
    assert method is not None
    assert (method.kind, method.status, method.vendor_label) == (kind, status, raw["factorType"])
    assert method.registered_at is not None


@pytest.mark.parametrize("status", ["NOT_SETUP", "INACTIVE", "DISABLED", "EXPIRED"])
def test_statuses_that_are_no_enrolment(status: str) -> None:
    assert parse.parse_factor(factor("push", status), "00u1") == (None, None)


@pytest.mark.parametrize("ftype", ["claims_provider", ""])
def test_unknown_factor_is_unknown_with_an_issue(ftype: str) -> None:
    method, issue = parse.parse_factor(factor(ftype), "00u1")
    assert method is not None and method.kind is MethodKind.UNKNOWN
    assert issue is not None and issue.code == "okta.factor_unknown" and issue.record == "00u1"


@pytest.mark.parametrize(
    ("status", "enabled"),
    [
        ("ACTIVE", True),
        ("LOCKED_OUT", True),
        ("PASSWORD_EXPIRED", True),
        ("RECOVERY", True),
        ("SUSPENDED", False),
        ("STAGED", False),
        ("PROVISIONED", False),
        ("DEPROVISIONED", False),
    ],
)
def test_user_status(status: str, enabled: bool) -> None:
    raw = {"id": "00u1", "status": status, "profile": {"login": "a@b.c", "firstName": "A", "lastName": "B"}}
    user = parse.parse_user(raw, "okta", "r1")  # type: ignore[arg-type]
    assert isinstance(user, parse.OktaUser)
    assert user.account.enabled is enabled and user.account.attributes == {"okta_status": status}
    assert user.account.display_name == "A B"


def test_unreadable_user_names_the_record() -> None:
    bad = parse.parse_user({"id": "00u9", "profile": {}}, "okta", "users record 3")  # type: ignore[arg-type]
    assert not isinstance(bad, parse.OktaUser) and bad.record == "00u9"


def _method(**kw: Any) -> dict[str, Any]:
    return {"appSignOn": {"access": "ALLOW", "verificationMethod": {"type": "ASSURANCE", **kw}}}


REQUIREMENTS = [
    ({"appSignOn": {"access": "DENY"}}, Requirement.BLOCK),
    (_method(factorMode="1FA"), Requirement.NONE),
    (_method(factorMode="1FA", constraints=[{"possession": {"phishingResistant": "REQUIRED"}}]), Requirement.NONE),
    (_method(factorMode="2FA"), Requirement.MFA),
    (
        _method(factorMode="2FA", constraints=[{"possession": {"phishingResistant": "REQUIRED"}}]),
        Requirement.PHISHING_RESISTANT,
    ),
    (_method(factorMode="2FA", constraints=[{"possession": {"hardwareProtection": "REQUIRED"}}]), Requirement.STRONG),
    (_method(factorMode="2FA", constraints=[{"possession": {"deviceBound": "REQUIRED"}}]), Requirement.STRONG),
    (
        _method(
            factorMode="2FA",
            constraints=[{"possession": {"phishingResistant": "REQUIRED"}}, {"knowledge": {"types": ["password"]}}],
        ),
        Requirement.MFA,
    ),
]


@pytest.mark.parametrize(("actions", "expected"), REQUIREMENTS)
def test_access_requirement(actions: dict[str, Any], expected: Requirement) -> None:
    assert policies.access_requirement(actions, "p r") == (expected, None)


def test_sign_on_requirement() -> None:
    assert (
        policies.sign_on_requirement({"signon": {"access": "ALLOW", "requireFactor": True}}, "x")[0] is Requirement.MFA
    )
    assert (
        policies.sign_on_requirement({"signon": {"access": "ALLOW", "requireFactor": False}}, "x")[0]
        is Requirement.NONE
    )
    assert policies.sign_on_requirement({"signon": {"access": "DENY"}}, "x")[0] is Requirement.BLOCK


def test_conditions_that_are_no_condition() -> None:
    lookups = policies.Lookups({}, None, {})
    none = {
        "network": {"connection": "ANYWHERE"},
        "riskScore": {"level": "ANY"},
        "platform": {"include": [{"type": "ANY", "os": {"type": "ANY"}}]},
        "people": {},
    }
    assert policies.rule_conditions(none, lookups) == ()
    some = {"network": {"connection": "ZONE", "exclude": ["nzo1"]}, "riskScore": {"level": "HIGH"}}
    kinds = [c.kind.value for c in policies.rule_conditions(some, policies.Lookups({"nzo1": "HQ"}, None, {}))]
    assert kinds == ["network", "risk"]


def test_every_factor_type_through_the_sdk(
    small_org: SampleOrg, sandbox_factory: Callable[..., OktaSandbox], collect: Callable[..., SourceSnapshot]
) -> None:
    """The real SDK's models on each factor shape: pages it rejects (``web``) are read as
    raw JSON; the result is the same table."""
    truth = small_org.truth("okta")
    uid = truth.accounts[0].id
    raws = [r for r, _, _ in FACTORS] + [factor("claims_provider"), factor("push", "NOT_SETUP")]
    for i, r in enumerate(raws):
        r["id"] = f"fct{i:04d}"
    sandbox = sandbox_factory(small_org, factors={uid: raws})
    snap = collect(sandbox, small_org)
    got = next(a for a in snap.accounts if a.id == uid).methods
    assert [m.kind for m in got] == [k for _, k, _ in FACTORS] + [MethodKind.UNKNOWN]
    assert any(i.code == "okta.factor_unknown" and i.record == uid for i in snap.issues)
    others = [a for a in snap.accounts if a.id != uid]
    assert others == [a for a in sorted(truth.accounts, key=lambda a: a.id) if a.id != uid]
    assert replace(snap, issues=()).complete
