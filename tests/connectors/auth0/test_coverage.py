"""Enforcement shapes of an Auth0 tenant, collected from the sandbox through the real SDK
and judged by the engine (auditor.engine.evaluate) down to the coverage status.

Each shape is a tenant (MFA policy, factors, post-login Actions) and one partner with a
TOTP app; the claims portal is "high" (strong required), the extranet "sensitive"
(any second factor)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch
from auditor.engine.evaluate import evaluate
from auditor.model import (
    Access,
    AccessVia,
    Account,
    AccountId,
    AccountKind,
    CoverageStatus,
    Method,
    MethodKind,
    MethodStatus,
    Sensitivity,
    Snapshot,
    SourceName,
    SourceSnapshot,
)
from connectors.sandbox.auth0.tenant import CLAIMS, DOCS, EXTRANET, LABELS, RawAction, TenantSettings
from connectors.sandbox.sample_org import SampleOrg

SRC = SourceName("auth0")
C, P = CoverageStatus, (CLAIMS, EXTRANET)
CONFIG = EvaluationConfig(
    portals=(
        PortalClass(PortalMatch(source="auth0", id=CLAIMS), Sensitivity.HIGH),
        PortalClass(PortalMatch(source="auth0", id=EXTRANET), Sensitivity.SENSITIVE),
    )
)


def _action(code: str, name: str = "MFA rule", aid: str = "act-0001") -> RawAction:
    return RawAction(aid, name, "exports.onExecutePostLogin = async (event, api) => {\n" + code + "\n};\n")


ANY = "  api.multifactor.enable('any');"
ONLY_CLAIMS = f"  if (event.client.client_id === '{CLAIMS}') {{\n    api.multifactor.enable('any');\n  }}"
BY_NAME = (
    "  if (event.client.name === 'Partner extranet' || event.client.name === 'Partner claims portal') {\n"
    + ANY
    + "\n  }"
)
ALL_BUT_CLAIMS = f"  if (event.client.client_id !== '{CLAIMS}') {{ api.multifactor.enable('any'); }}"
REMEMBER = "  api.multifactor.enable('any', { allowRememberBrowser: true });"
BY_USER = "  if (event.user.app_metadata.requires_mfa) {\n" + ANY + "\n  }"
SWITCH_OFF = f"  if (event.client.client_id === '{CLAIMS}') {{ api.multifactor.enable('none'); }}"
TOTP = (MethodKind.TOTP_SOFTWARE,)
# A tenant whose factors are all strong or better: MFA there demands "strong".
STRONG = (("sms", False), ("email", False), ("otp", True), ("push-notification", True), ("webauthn-roaming", True))


def strong(**kw: object) -> TenantSettings:
    return TenantSettings(factors=STRONG, **kw)  # type: ignore[arg-type]


# name → (tenant, the partner's methods, (claims status, extranet status))
SHAPES: dict[str, tuple[TenantSettings, tuple[MethodKind, ...], tuple[CoverageStatus, CoverageStatus]]] = {
    "policy never, no action": (TenantSettings(), TOTP, (C.NOT_ENFORCED, C.NOT_ENFORCED)),
    "policy all-applications, strong factors only": (
        strong(mfa_policies=("all-applications",)),
        TOTP,
        (C.PROTECTED, C.PROTECTED),
    ),
    # SMS and e-mail are enabled: the policy can be met with them, below the high portal's "strong".
    # Changed (#14): the tenant accepts SMS and e-mail, but a TOTP-only user can use only TOTP:
    # effective strength strong on the high portal too (MFA-013 names the dependence).
    "policy all-applications, SMS and e-mail enabled": (
        TenantSettings(mfa_policies=("all-applications",)),
        TOTP,
        (C.PROTECTED, C.PROTECTED),
    ),
    "policy confidence-score (adaptive)": (
        strong(mfa_policies=("confidence-score",)),
        TOTP,
        (C.CONDITIONAL, C.CONDITIONAL),
    ),
    "action: MFA for every application": (strong(actions=(_action(ANY),)), TOTP, (C.PROTECTED, C.PROTECTED)),
    "action: MFA on the claims portal only": (
        strong(actions=(_action(ONLY_CLAIMS),)),
        TOTP,
        (C.PROTECTED, C.NOT_ENFORCED),
    ),
    "action: MFA by application name": (strong(actions=(_action(BY_NAME),)), TOTP, (C.PROTECTED, C.PROTECTED)),
    "action: every application but the claims portal": (
        strong(actions=(_action(ALL_BUT_CLAIMS),)),
        TOTP,
        (C.NOT_ENFORCED, C.PROTECTED),
    ),
    "action: remembered browser skips MFA": (
        strong(actions=(_action(REMEMBER),)),
        TOTP,
        (C.CONDITIONAL, C.CONDITIONAL),
    ),
    "action: MFA on a user attribute (not read statically)": (
        TenantSettings(actions=(_action(BY_USER),)),
        TOTP,
        (C.UNKNOWN, C.UNKNOWN),
    ),
    "action: provider 'none' on top of the policy": (
        TenantSettings(mfa_policies=("all-applications",), actions=(_action(SWITCH_OFF),)),
        TOTP,
        (C.UNKNOWN, C.UNKNOWN),
    ),
    "unknown tenant policy value": (TenantSettings(mfa_policies=("sometimes",)), TOTP, (C.UNKNOWN, C.UNKNOWN)),
    "policy all-applications, SMS only": (
        TenantSettings(mfa_policies=("all-applications",)),
        (MethodKind.SMS,),
        (C.WEAK, C.PROTECTED),
    ),
    "policy all-applications, nothing enrolled": (
        strong(mfa_policies=("all-applications",)),
        (),
        (C.NOT_ENROLLED, C.NOT_ENROLLED),
    ),
    # The provider accepts TOTP only: strong, even with SMS enabled in the tenant.
    "action: Google Authenticator only, TOTP enrolled": (
        TenantSettings(actions=(_action("  api.multifactor.enable('google-authenticator');"),)),
        TOTP,
        (C.PROTECTED, C.PROTECTED),
    ),
}


def _org(base: SampleOrg, kinds: tuple[MethodKind, ...], *, pending: bool = False) -> SampleOrg:
    truth = base.truth("auth0")
    status = MethodStatus.PENDING if pending else MethodStatus.ACTIVE
    when = (base.now - timedelta(days=40)).replace(microsecond=0)
    account = Account(
        source=SRC,
        id=AccountId("auth0|000000000000000000000001"),
        principal="partner.one@pharmacie-exemple.fr",
        display_name="Partner One",
        kind=AccountKind.HUMAN,
        enabled=True,
        last_sign_in=base.now - timedelta(days=1),
        created=base.now - timedelta(days=300),
        methods=tuple(Method(k, LABELS[k], status, when) for k in kinds),
        attributes={"connection": "Username-Password-Authentication"},
    )
    access = tuple(Access(account.id, p, AccessVia.EVERYONE) for p in (CLAIMS, DOCS, EXTRANET))
    auth0 = replace(truth, accounts=(account,), access=access, sign_ins=(), policies=())
    return replace(base, sources={"auth0": auth0})


def _statuses(org: SampleOrg, snap: SourceSnapshot) -> tuple[CoverageStatus, ...]:
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "test", (snap,))
    result = evaluate(snapshot, CONFIG, now=org.now, run_id="test")
    by_portal = {row.portal_id: row.status for row in result.coverage}
    return tuple(by_portal[p] for p in P)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_enforcement_shape_to_coverage_status(shape: str, small_org, sandbox_factory, collect) -> None:
    tenant, kinds, expected = SHAPES[shape]
    org = _org(small_org, kinds)
    sandbox = sandbox_factory(org, tenant=tenant)
    snap = collect(sandbox, org)
    assert snap.accounts == org.truth("auth0").accounts
    assert _statuses(org, snap) == expected
    if C.UNKNOWN in expected:
        assert not snap.complete
        assert any(i.incomplete and i.code.startswith("auth0.") for i in snap.issues)
    else:
        assert snap.complete


def test_unconfirmed_method_does_not_count(small_org, sandbox_factory, collect) -> None:
    org = _org(small_org, TOTP, pending=True)
    sandbox = sandbox_factory(org, tenant=strong(mfa_policies=("all-applications",)))
    snap = collect(sandbox, org)
    assert [m.status for m in snap.accounts[0].methods] == [MethodStatus.PENDING]
    assert _statuses(org, snap) == (C.NOT_ENROLLED, C.NOT_ENROLLED)


def test_action_issue_names_the_action_and_never_enforces(small_org, sandbox_factory, collect) -> None:
    org = _org(small_org, TOTP)
    tenant = TenantSettings(actions=(_action(BY_USER, name="Risky VIP logic", aid="act-vip"),))
    snap = collect(sandbox_factory(org, tenant=tenant), org)
    (issue,) = [i for i in snap.issues if i.code == "auth0.action_not_read_statically"]
    assert "'Risky VIP logic'" in issue.message and "act-vip" in issue.message
    assert "requires_mfa" not in issue.message  # the code is not copied into the report
    assert snap.policies == ()


def test_a_verified_address_is_usable_for_mfa_when_the_email_factor_is_on(small_org, sandbox_factory, collect) -> None:
    """Audit defect: Auth0 documents that, with the e-mail factor enabled, any user with a
    verified address may complete MFA by e-mail without enrolling; the listing of their
    authentication methods does not show it. A TOTP user with a verified address was
    judged strong where e-mail (weak) is usable too."""
    from connectors.sandbox.auth0.tenant import user_json

    org = _org(small_org, TOTP)
    (account,) = org.truth("auth0").accounts
    verified = [dict(user_json(account), email_verified=True)]
    tenant = TenantSettings(mfa_policies=("all-applications",))
    snap = collect(sandbox_factory(org, tenant=tenant, users=verified), org)
    assert [(m.kind, m.vendor_label) for m in snap.accounts[0].methods] == [
        (MethodKind.TOTP_SOFTWARE, "totp"),
        (MethodKind.EMAIL_OTP, "email (verified address)"),
    ]
    assert _statuses(org, snap) == (C.WEAK, C.PROTECTED)
    # The e-mail factor off: the address is no method.
    off = TenantSettings(mfa_policies=("all-applications",), factors=(("otp", True), ("email", False)))
    snap = collect(sandbox_factory(org, tenant=off, users=verified), org)
    assert [m.kind for m in snap.accounts[0].methods] == [MethodKind.TOTP_SOFTWARE]
