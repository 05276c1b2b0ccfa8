"""Flow shapes end to end: a realm with one client per shape, collected by the real
python-keycloak connector from the sandbox over loopback, then judged by the engine
(auditor.engine.evaluate) down to the coverage status of each (user, client)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch
from auditor.engine.evaluate import evaluate
from auditor.model import CoverageStatus, MethodKind, Requirement, Sensitivity, Snapshot, SourceSnapshot
from connectors.sandbox.keycloak import KeycloakSandbox, RealmBuilder
from connectors.sandbox.keycloak.realm import (
    ALTERNATIVE,
    CONDITIONAL,
    DISABLED,
    REQUIRED,
    browser_flow,
    step,
    sub,
)

from .conftest import PERIOD, connector, context

S = CoverageStatus
PWD, OTP, WEBAUTHN, PASSKEY = "password", "otp", "webauthn", "webauthn-passwordless"

# client id → (browser flow override or None for the realm's default conditional OTP,
#              direct grant enabled)
FLOWS = {
    "default": None,
    "required-otp": browser_flow(step("auth-otp-form")),
    "otp-or-webauthn": browser_flow(
        sub("second factor", REQUIRED, step("auth-otp-form", ALTERNATIVE), step("webauthn-authenticator", ALTERNATIVE))
    ),
    "otp-disabled": browser_flow(step("auth-otp-form", DISABLED)),
    "role-doctor": browser_flow(
        sub(
            "OTP for doctors",
            CONDITIONAL,
            step("conditional-user-role", config={"condUserRole": "doctor"}),
            step("auth-otp-form"),
        )
    ),
    "not-role-doctor": browser_flow(
        sub(
            "OTP except doctors",
            CONDITIONAL,
            step("conditional-user-role", config={"condUserRole": "doctor", "negate": "true"}),
            step("auth-otp-form"),
        )
    ),
    "cotp-force-doctor": browser_flow(
        step("auth-conditional-otp-form", config={"forceOtpRole": "doctor", "defaultOtpOutcome": "skip"})
    ),
    "cotp-skip-nurse": browser_flow(step("auth-conditional-otp-form", config={"skipOtpRole": "nurse"})),
    "client-scope": browser_flow(
        sub(
            "OTP for the payment scope",
            CONDITIONAL,
            step("conditional-client-scope", config={"clientScopes": "payment"}),
            step("auth-otp-form"),
        )
    ),
    "passwordless": (
        step("auth-cookie", ALTERNATIVE),
        sub("passkey", ALTERNATIVE, step("auth-username-form"), step("webauthn-authenticator-passwordless")),
    ),
    "broker-only": (step("identity-provider-redirector", config={"defaultProvider": "psc"}),),
    "sms-plugin": browser_flow(step("sms-authenticator")),
    "doctors-only": browser_flow(
        sub(
            "deny non-doctors",
            CONDITIONAL,
            step("conditional-user-role", config={"condUserRole": "doctor", "negate": "true"}),
            step("deny-access-authenticator"),
        ),
        step("auth-otp-form"),
    ),
}
ROLES = {"dr-otp": ["doctor"], "dr-pwd": ["doctor"], "nurse-otp": ["nurse"]}
USERS = {
    "otp": [PWD, OTP],
    "pwd": [PWD],
    "webauthn": [PWD, WEBAUTHN],
    "passkey": [PASSKEY],
    "dr-otp": [PWD, OTP],
    "dr-pwd": [PWD],
    "nurse-otp": [PWD, OTP],
    "pending": [PWD],
    "brokered": [],
    "brokered-open": [],
}
PENDING = {"pending": ["CONFIGURE_TOTP"]}
LINKS = {"brokered": ["psc"], "brokered-open": ["franceconnect"]}

# (case, user, client) → expected status on a "high" portal (strong required).
CASES: list[tuple[str, str, str, CoverageStatus]] = [
    ("default conditional OTP, OTP configured", "otp", "default", S.PROTECTED),
    ("default conditional OTP, password only", "pwd", "default", S.NOT_ENROLLED),
    ("default conditional OTP (opt-in), WebAuthn but no OTP", "webauthn", "default", S.NOT_ENFORCED),
    ("required OTP, OTP configured", "otp", "required-otp", S.PROTECTED),
    ("required OTP, CONFIGURE_TOTP pending", "pending", "required-otp", S.NOT_ENROLLED),
    ("alternative OTP / WebAuthn, WebAuthn only", "webauthn", "otp-or-webauthn", S.PROTECTED),
    ("OTP step disabled, OTP configured", "otp", "otp-disabled", S.NOT_ENFORCED),
    ("conditional on role, role held", "dr-otp", "role-doctor", S.PROTECTED),
    ("conditional on role, role not held", "otp", "role-doctor", S.NOT_ENFORCED),
    ("negated role condition, role held", "dr-otp", "not-role-doctor", S.NOT_ENFORCED),
    ("Conditional OTP form, force role held", "dr-otp", "cotp-force-doctor", S.PROTECTED),
    ("Conditional OTP form, default skip", "otp", "cotp-force-doctor", S.NOT_ENFORCED),
    ("Conditional OTP form, skip role held", "nurse-otp", "cotp-skip-nurse", S.NOT_ENFORCED),
    ("Conditional OTP form, no decision shows OTP", "otp", "cotp-skip-nurse", S.PROTECTED),
    ("OTP only when a client scope is requested", "otp", "client-scope", S.CONDITIONAL),
    ("overrides: required OTP in the browser, password-only direct grant", "otp", "required-otp-api", S.NOT_ENFORCED),
    ("passwordless WebAuthn", "passkey", "passwordless", S.PROTECTED),
    ("broker-only client: no local way in", "pwd", "broker-only", S.BLOCKED),
    ("unknown authenticator is never a factor", "otp", "sms-plugin", S.NOT_ENFORCED),
    ("deny access to users without the role", "otp", "doctors-only", S.BLOCKED),
    ("role holders get through to the OTP step", "dr-pwd", "doctors-only", S.NOT_ENROLLED),
    ("brokered, post-broker flow requires OTP: not enrolled here", "brokered", "default@psc", S.NOT_ENROLLED),
    ("brokered through an IdP no source audits", "brokered-open", "default@franceconnect", S.UNKNOWN),
]


def build_realm() -> RealmBuilder:
    b = RealmBuilder("shapes")
    b.role("doctor")
    b.role("nurse")
    b.flow("post broker otp", (step("auth-otp-form"),))
    b.idp("psc", "Pro Santé Connect", post_broker_flow="post broker otp")
    b.idp("franceconnect", "FranceConnect")
    for cid, steps in FLOWS.items():
        if steps is not None:
            b.flow(f"flow {cid}", steps)
        b.client(cid, cid, browser_override=f"flow {cid}" if steps is not None else None)
    b.flow("password grant", (step("direct-grant-validate-username"), step("direct-grant-validate-password")))
    b.client(
        "required-otp-api",
        "required-otp-api",
        browser_override="flow required-otp",
        direct_grant=True,
        direct_grant_override="password grant",
    )
    for name, creds in USERS.items():
        b.user(
            f"{name}@example.fr",
            credentials=creds,
            roles=ROLES.get(name, ()),
            required_actions=PENDING.get(name, ()),
            idps=LINKS.get(name, ()),
        )
    return b


CONFIG = EvaluationConfig(portals=(PortalClass(PortalMatch(source="keycloak", name_pattern="*"), Sensitivity.HIGH),))


def statuses(snap: SourceSnapshot) -> dict[tuple[str, str], CoverageStatus]:
    snapshot = Snapshot("2026-Q3", PERIOD[0], PERIOD[1], "test", (snap,))
    result = evaluate(snapshot, CONFIG, now=context().now, run_id="test")
    principal = {a.id: a.principal.split("@")[0] for a in snap.accounts}
    return {(principal[r.account_id], r.portal_id): r.status for r in result.coverage}


@pytest.fixture
def shapes_snapshot(sandbox_factory: Callable[..., KeycloakSandbox]) -> SourceSnapshot:
    sandbox = sandbox_factory(build_realm().build())
    snap = connector(sandbox).collect(context())
    assert all(r.method == "GET" or r.family == "token" for r in sandbox.requests)
    return snap


def test_at_least_twelve_shapes() -> None:
    assert len({client for _, _, client, _ in CASES}) >= 12


def test_each_flow_shape_down_to_the_coverage_status(shapes_snapshot: SourceSnapshot) -> None:
    got = statuses(shapes_snapshot)
    assert {case: got[(user, client)] for case, user, client, _ in CASES} == {case: want for case, _, _, want in CASES}


def test_unknown_steps_and_unaudited_brokers_are_coded_issues(shapes_snapshot: SourceSnapshot) -> None:
    codes = {i.code: i for i in shapes_snapshot.issues}
    assert "sms-authenticator" in codes["keycloak.step_unknown"].message
    assert codes["keycloak.broker_not_audited"].record == "franceconnect"
    assert shapes_snapshot.complete  # neither makes the realm unread


def test_rules_name_the_method_kinds_they_accept(shapes_snapshot: SourceSnapshot) -> None:
    by_portal = {pid: p for p in shapes_snapshot.policies for r in p.rules for pid in r.portals.ids}
    strong = [r for r in by_portal["otp-or-webauthn"].rules if r.requirement is Requirement.STRONG]
    assert strong and set(strong[0].accepted_methods) == {MethodKind.TOTP_SOFTWARE, MethodKind.FIDO2_SECURITY_KEY}
    otp_only = [r for r in by_portal["required-otp"].rules if r.requirement is Requirement.STRONG]
    assert otp_only and otp_only[0].accepted_methods == (MethodKind.TOTP_SOFTWARE,)


def test_opt_in_otp_scopes_the_rule_to_the_users_who_configured_it(shapes_snapshot: SourceSnapshot) -> None:
    policy = next(p for p in shapes_snapshot.policies if "default" in p.rules[0].portals.ids)
    with_otp = {
        a.id
        for a in shapes_snapshot.accounts
        if any(m.kind is MethodKind.TOTP_SOFTWARE and m.status.value == "active" for m in a.methods)
    }
    strong = [r for r in policy.rules if r.requirement is Requirement.STRONG]
    assert len(strong) == 1 and set(strong[0].scope.include_users) == with_otp
