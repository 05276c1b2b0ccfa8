"""Enforcement shapes of a user pool, collected through the sandbox and judged by the
engine (auditor.engine.evaluate) down to the coverage status.

Each case is one pool configuration and one member. The pool has two app clients:
"Claims" (high: a strong factor required) and "Members area" (sensitive: any second
factor)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch
from auditor.engine.evaluate import evaluate
from auditor.model import (
    Account,
    AccountId,
    AccountKind,
    CoverageStatus,
    Method,
    Sensitivity,
    Snapshot,
    SourceSnapshot,
)
from connectors.sandbox.cognito.truth import KIND_OF_SETTING, SOURCE, PoolSpec
from connectors.sandbox.sample_org import SampleOrg

from .conftest import collect

CLAIMS, AREA = "1claims0client", "2area0client"
CLIENTS = ((CLAIMS, "Claims"), (AREA, "Members area"))
HIGH, SENS = CLAIMS, AREA
CONFIG = EvaluationConfig(
    portals=(
        PortalClass(PortalMatch(source="cognito", id=CLAIMS), Sensitivity.HIGH),
        PortalClass(PortalMatch(source="cognito", id=AREA), Sensitivity.SENSITIVE),
    )
)
NO_RISK = {None: {"Low": "NO_ACTION", "Medium": "NO_ACTION", "High": "NO_ACTION"}}
P = CoverageStatus


@dataclass(frozen=True)
class Case:
    name: str
    spec: PoolSpec
    settings: tuple[str, ...]
    portal: str
    expected: CoverageStatus
    status: str = "CONFIRMED"
    extra: tuple[str, ...] = field(default=())


def pool(**kw: object) -> PoolSpec:
    base = {"clients": CLIENTS, "security_mode": "OFF", "risk_actions": NO_RISK}
    return PoolSpec(**{**base, **kw})  # type: ignore[arg-type]


ON_TOTP = pool(mfa="ON", sms=False, email=False)
LAMBDA = "arn:aws:lambda:eu-west-3:123456789012:function:define-auth"
CASES = [
    Case(
        "MFA OFF, TOTP activated",
        pool(mfa="OFF", sms=False, totp=False, email=False),
        ("SOFTWARE_TOKEN_MFA",),
        SENS,
        # Changed (#14): MFA off disables every type, so the TOTP is not usable: no usable factor.
        P.NOT_ENROLLED,
    ),
    Case("MFA OFF, nothing activated", pool(mfa="OFF"), (), SENS, P.NOT_ENROLLED),
    Case("MFA ON (TOTP only), TOTP, high portal", ON_TOTP, ("SOFTWARE_TOKEN_MFA",), HIGH, P.PROTECTED),
    # Changed (#14): the pool accepts SMS, but this user holds only TOTP, the one usable method:
    # effective strength strong (MFA-013 says protection rests on the current methods).
    Case("MFA ON (SMS or TOTP), TOTP, high portal", pool(mfa="ON"), ("SOFTWARE_TOKEN_MFA",), HIGH, P.PROTECTED),
    Case("MFA ON (SMS or TOTP), SMS, sensitive portal", pool(mfa="ON"), ("SMS_MFA",), SENS, P.PROTECTED),
    Case("MFA ON (e-mail too), e-mail OTP, high portal", pool(mfa="ON"), ("EMAIL_OTP",), HIGH, P.WEAK),
    Case("MFA ON, nothing activated: set up at next sign-in", ON_TOTP, (), SENS, P.NOT_ENROLLED),
    Case("MFA OPTIONAL, TOTP activated (opted in)", pool(mfa="OPTIONAL"), ("SOFTWARE_TOKEN_MFA",), SENS, P.PROTECTED),
    Case("MFA OPTIONAL, nothing activated", pool(mfa="OPTIONAL"), (), SENS, P.NOT_ENROLLED),
    Case(
        "MFA ON with device tracking: remembered devices skip MFA",
        replace(ON_TOTP, device_tracking=True),
        ("SOFTWARE_TOKEN_MFA",),
        HIGH,
        P.CONDITIONAL,
    ),
    Case(
        "MFA ON, passwordless e-mail code allowed as first factor",
        replace(ON_TOTP, first_factors=("PASSWORD", "EMAIL_OTP")),
        ("SOFTWARE_TOKEN_MFA",),
        HIGH,
        P.CONDITIONAL,
    ),
    Case(
        "MFA ON, custom-authentication Lambda, the client allows ALLOW_CUSTOM_AUTH: the Lambda decides",
        replace(ON_TOTP, define_auth_challenge=LAMBDA, custom_auth_clients=(CLAIMS,)),
        ("SOFTWARE_TOKEN_MFA",),
        HIGH,
        P.CONDITIONAL,
    ),
    Case(
        "MFA ON, custom-authentication Lambda, this client does not allow the custom flow",
        replace(ON_TOTP, define_auth_challenge=LAMBDA, custom_auth_clients=(CLAIMS,)),
        ("SOFTWARE_TOKEN_MFA",),
        AREA,
        P.PROTECTED,
    ),
    Case(
        "MFA OFF, adaptive authentication blocks high-risk sign-ins",
        pool(
            mfa="OFF",
            security_mode="ENFORCED",
            risk_actions={None: {"Low": "NO_ACTION", "Medium": "NO_ACTION", "High": "BLOCK"}},
        ),
        ("SOFTWARE_TOKEN_MFA",),
        SENS,
        # Changed (#14): a block under a risk condition is not a second factor: not enforced.
        P.NOT_ENFORCED,
    ),
    Case(
        "federated user (IdP sign-in): the pool's MFA does not apply",
        ON_TOTP,
        (),
        SENS,
        P.NOT_ENROLLED,
        status="EXTERNAL_PROVIDER",
    ),
    Case(
        "passkey MFA pool: passkeys not visible, never assumed",
        replace(
            ON_TOTP, webauthn_factor="MULTI_FACTOR_WITH_USER_VERIFICATION", first_factors=("PASSWORD", "WEB_AUTHN")
        ),
        (),
        SENS,
        P.NOT_ENROLLED,
    ),
    Case("unknown MFA setting: never a factor", ON_TOTP, (), SENS, P.NOT_ENROLLED, extra=("WEB_AUTHN",)),
]


def _truth(org: SampleOrg, case: Case) -> SourceSnapshot:
    uid = AccountId("0000aaaa-0000-4000-8000-000000000001")
    username = "fc_member" if case.status == "EXTERNAL_PROVIDER" else uid
    account = Account(
        source=SOURCE,
        id=uid,
        principal="member@adherents.example.org",
        display_name="A Member",
        kind=AccountKind.HUMAN,
        enabled=True,
        created=org.now - timedelta(days=300),
        methods=tuple(Method(KIND_OF_SETTING[s], s) for s in case.settings),
        attributes={"username": username, "user_status": case.status},
    )
    return replace(org.truth("cognito"), accounts=(account,), sign_ins=())


def _status(org: SampleOrg, snap: SourceSnapshot, portal: str) -> CoverageStatus:
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "test", (snap,))
    result = evaluate(snapshot, CONFIG, now=org.now, run_id="test")
    (row,) = [r for r in result.coverage if r.portal_id == portal]
    return row.status


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_enforcement_shape_to_coverage_status(small_org: SampleOrg, start_sandbox, case: Case) -> None:
    truth = _truth(small_org, case)
    extra = {truth.accounts[0].attributes["username"]: case.extra} if case.extra else None
    sandbox = start_sandbox(small_org, spec=case.spec, truth=truth, extra_settings=extra)
    snap = collect(sandbox, small_org, sign_ins=False)
    assert snap.complete, snap.issues
    assert _status(small_org, snap, case.portal) is case.expected


def test_at_least_eight_distinct_shapes_and_five_statuses() -> None:
    assert len(CASES) >= 8
    assert len({c.expected for c in CASES}) >= 5


def test_passkeys_are_said_not_visible(small_org: SampleOrg, start_sandbox) -> None:
    case = next(c for c in CASES if c.spec.webauthn_factor)
    sandbox = start_sandbox(small_org, spec=case.spec, truth=_truth(small_org, case))
    snap = collect(sandbox, small_org, sign_ins=False)
    assert any(i.code == "cognito.passkeys_not_visible" for i in snap.issues)
    methods = next(f for f in snap.facts if f.fact.value == "methods")
    assert methods.read and "passkeys are not visible" in methods.reason
    assert {m.kind.value: m.enabled for m in snap.method_policy}["passkey"] is True
    assert snap.accounts[0].methods == ()  # a passkey is never assumed


def test_unreadable_mfa_configuration_is_unknown_never_protected(small_org: SampleOrg, start_sandbox) -> None:
    case = CASES[2]  # MFA ON, TOTP: protected when read
    granted = {"DescribeUserPool", "ListUsers", "AdminGetUser", "ListUserPoolClients", "DescribeRiskConfiguration"}
    sandbox = start_sandbox(small_org, spec=case.spec, truth=_truth(small_org, case), granted=granted)
    snap = collect(sandbox, small_org, sign_ins=False)
    assert not snap.complete
    assert _status(small_org, snap, case.portal) is CoverageStatus.UNKNOWN
