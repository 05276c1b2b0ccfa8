"""Keycloak: documented flows, credentials and realm settings through the connector's
flow walk and parsers, asserted field by field.

Payloads are written here in our own file after the pages named in each ``SOURCE``
line: the Admin REST API reference (AuthenticationExecutionInfoRepresentation,
CredentialRepresentation, RealmRepresentation) and the Server Administration Guide's
"Authentication flows", "OTP policies" and "Passkeys / W3C Web Authentication" chapters.
Where a test fixes a defect found in the value-by-value audit its docstring says so.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.model import MethodKind, MethodStatus, Requirement, SourceName
from connectors.keycloak import flows, parse

SRC = SourceName("keycloak")
REQUIRED, ALTERNATIVE, CONDITIONAL, DISABLED = "REQUIRED", "ALTERNATIVE", "CONDITIONAL", "DISABLED"


def row(level: int, provider: str, requirement: str, name: str, **extra: Any) -> dict[str, Any]:
    """One entry of ``GET /admin/realms/{realm}/authentication/flows/{alias}/executions``."""
    return {"level": level, "providerId": provider, "requirement": requirement, "displayName": name, **extra}


def flow_row(level: int, requirement: str, name: str) -> dict[str, Any]:
    return {"level": level, "requirement": requirement, "displayName": name, "authenticationFlow": True}


def judge(rows: list[dict[str, Any]], credentials: set[str], walk: flows.Walk | None = None) -> flows.Outcome:
    user = flows.UserFacts(frozenset(credentials), frozenset())
    return flows.outcome(flows.paths(flows.build(rows), user, walk or flows.Walk()))


# --- the default browser flow ------------------------------------------------------------

# SOURCE: https://www.keycloak.org/docs/latest/server_admin/#_authentication-flows
# (the built-in "browser" flow: Cookie ALTERNATIVE, Kerberos DISABLED, Identity Provider
# Redirector ALTERNATIVE, then "forms" ALTERNATIVE with Username Password Form REQUIRED and
# "Browser - Conditional OTP" CONDITIONAL holding Condition - user configured and OTP Form).
BROWSER = [
    row(0, "auth-cookie", ALTERNATIVE, "Cookie"),
    row(0, "auth-spnego", DISABLED, "Kerberos"),
    row(0, "identity-provider-redirector", ALTERNATIVE, "Identity Provider Redirector"),
    flow_row(0, ALTERNATIVE, "forms"),
    row(1, "auth-username-password-form", REQUIRED, "Username Password Form"),
    flow_row(1, CONDITIONAL, "Browser - Conditional OTP"),
    row(2, "conditional-user-configured", REQUIRED, "Condition - user configured"),
    row(2, "auth-otp-form", REQUIRED, "OTP Form"),
]


def test_default_browser_flow_field_by_field() -> None:
    with_otp = judge(BROWSER, {"password", "otp"})
    assert (with_otp.floor, with_otp.kinds, with_otp.ceiling, with_otp.conditions) == (
        Requirement.STRONG, (MethodKind.TOTP_SOFTWARE,), Requirement.STRONG, ()
    )  # fmt: skip
    password_only = judge(BROWSER, {"password"})
    assert (password_only.floor, password_only.kinds) == (Requirement.NONE, ())


# --- one factor type is one factor ----------------------------------------------------------


def test_username_form_then_otp_is_one_factor() -> None:
    """Audit defect: a way in was rated by its strongest step, so a username form
    followed by an OTP form alone (no password) read as strong MFA. One factor type is
    one factor, however many steps."""
    rows = [row(0, "auth-username-form", REQUIRED, "Username Form"), row(0, "auth-otp-form", REQUIRED, "OTP Form")]
    assert judge(rows, {"otp"}).floor is Requirement.NONE


def test_two_factor_webauthn_without_password_is_one_factor() -> None:
    """Audit defect: the two-factor WebAuthn policy does not require user verification
    by default ("not specified"); a security key after a username form alone is
    possession only."""
    rows = [
        row(0, "auth-username-form", REQUIRED, "Username Form"),
        row(0, "webauthn-authenticator", REQUIRED, "WebAuthn Authenticator"),
    ]
    assert judge(rows, {"webauthn"}).floor is Requirement.NONE


# SOURCE: https://www.keycloak.org/docs/latest/server_admin/#_webauthn (passwordless
# WebAuthn together with two-factor: Username Form REQUIRED, then a REQUIRED sub-flow of
# WebAuthn Passwordless Authenticator ALTERNATIVE or a "Password And Two-factor WebAuthn"
# sub-flow ALTERNATIVE of Password Form and WebAuthn Authenticator, both REQUIRED) and
# RealmRepresentation.webAuthnPolicyPasswordlessUserVerificationRequirement, whose default
# is "required" (org.keycloak.models.WebAuthnPolicyPasswordlessDefaults).
PASSWORDLESS_OR_TWO_FACTOR = [
    row(0, "auth-username-form", REQUIRED, "Username Form"),
    flow_row(0, REQUIRED, "Passwordless Or Two-factor"),
    row(1, "webauthn-authenticator-passwordless", ALTERNATIVE, "WebAuthn Passwordless Authenticator"),
    flow_row(1, ALTERNATIVE, "Password And Two-factor WebAuthn"),
    row(2, "auth-password-form", REQUIRED, "Password Form"),
    row(2, "webauthn-authenticator", REQUIRED, "WebAuthn Authenticator"),
]


@pytest.mark.parametrize(
    ("uv", "floor"),
    [("required", Requirement.PHISHING_RESISTANT), ("preferred", Requirement.NONE),
     ("discouraged", Requirement.NONE), ("not specified", Requirement.NONE), (None, Requirement.NONE)],
)  # fmt: skip
def test_passkey_is_two_factors_only_with_user_verification(uv: str | None, floor: Requirement) -> None:
    """Audit defect: a passkey alone was always phishing-resistant MFA. It is two
    factors only when the realm's passwordless policy requires user verification;
    a realm that does not say is read as not requiring it."""
    realm = {} if uv is None else {"webAuthnPolicyPasswordlessUserVerificationRequirement": uv}
    walk = flows.walk_for(realm)
    found = judge(PASSWORDLESS_OR_TWO_FACTOR, {"password", "webauthn", "webauthn-passwordless"}, walk)
    assert found.floor is floor
    # The password-and-key branch is two factors whatever the passwordless policy says.
    rows = [row(0, "auth-username-form", REQUIRED, "Username Form"), *(dict(r, level=0) for r in
            PASSWORDLESS_OR_TWO_FACTOR[4:])]  # fmt: skip
    assert judge(rows, {"password", "webauthn"}, walk).floor is Requirement.PHISHING_RESISTANT


# SOURCE: https://blog.sparktour.me/en/posts/2024/01/24/add-passkey-webauth-otp-support-to-keycloak
# (a published realm: Username Form REQUIRED, then a sub-flow whose Password Form,
# WebAuthn Passwordless Authenticator and OTP Form are each ALTERNATIVE).
def test_otp_as_an_alternative_first_factor_is_not_mfa() -> None:
    rows = [
        row(0, "auth-username-form", REQUIRED, "Username Form"),
        flow_row(0, REQUIRED, "passwordless or password or otp"),
        row(1, "auth-password-form", ALTERNATIVE, "Password Form"),
        row(1, "webauthn-authenticator-passwordless", ALTERNATIVE, "WebAuthn Passwordless Authenticator"),
        row(1, "auth-otp-form", ALTERNATIVE, "OTP Form"),
    ]
    walk = flows.walk_for({"webAuthnPolicyPasswordlessUserVerificationRequirement": "required"})
    assert judge(rows, {"password", "otp", "webauthn-passwordless"}, walk).floor is Requirement.NONE
    # Without the password branch the OTP branch alone still decides: one factor.
    assert judge([rows[0], rows[1], rows[3], rows[4]], {"otp", "webauthn-passwordless"}, walk).floor is (
        Requirement.NONE
    )


def test_a_post_broker_otp_counts_the_identity_providers_sign_in() -> None:
    """A post-broker flow runs after the identity provider's own sign-in: its OTP is the
    second factor of a two-factor way in."""
    found = flows.paths(flows.build([row(0, "auth-otp-form", REQUIRED, "OTP Form")]), flows.UserFacts(
        frozenset({"otp"}), frozenset()), flows.Walk())  # fmt: skip
    assert flows.outcome(found).floor is Requirement.NONE
    assert flows.outcome(flows.after_upstream(found)).floor is Requirement.STRONG


# --- every requirement value ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("requirement", "floor"),
    [(REQUIRED, Requirement.STRONG), (ALTERNATIVE, Requirement.NONE), (DISABLED, Requirement.NONE),
     (CONDITIONAL, Requirement.STRONG)],
)  # fmt: skip
def test_every_documented_requirement(requirement: str, floor: Requirement) -> None:
    # SOURCE: https://www.keycloak.org/docs/latest/server_admin/#_execution-requirements
    # ALTERNATIVE beside a REQUIRED execution is ignored, so the OTP is not asked;
    # CONDITIONAL on an authenticator is evaluated like REQUIRED.
    rows = [row(0, "auth-username-password-form", REQUIRED, "Username Password Form"),
            row(0, "auth-otp-form", requirement, "OTP Form")]  # fmt: skip
    assert judge(rows, {"password", "otp"}).floor is floor


def test_an_undocumented_requirement_is_named_and_taken_as_required() -> None:
    walk = flows.Walk()
    rows = [row(0, "auth-username-password-form", REQUIRED, "Username Password Form"),
            row(0, "auth-otp-form", "SOMETIMES", "OTP Form")]  # fmt: skip
    flows.paths(flows.build(rows), flows.UserFacts(frozenset({"password", "otp"}), frozenset()), walk)
    assert walk.unknown_requirements == {"OTP Form: SOMETIMES"}


@pytest.mark.parametrize(
    "provider",
    ["auth-spnego", "auth-x509-client-username-form", "direct-grant-auth-x509-username",
     "auth-recovery-authn-code-form", "sms-authenticator"],
)  # fmt: skip
def test_authenticators_not_judged_are_named_and_never_a_factor(provider: str) -> None:
    walk = flows.Walk()
    rows = [row(0, "auth-username-password-form", REQUIRED, "Username Password Form"),
            row(0, provider, REQUIRED, provider)]  # fmt: skip
    found = flows.paths(flows.build(rows), flows.UserFacts(frozenset({"password", "otp"}), frozenset()), walk)
    assert flows.outcome(found).floor is Requirement.NONE
    assert walk.unknown_steps == {provider}


# --- credentials and required actions ---------------------------------------------------------

# SOURCE: https://www.keycloak.org/docs-api/latest/rest-api/index.html#CredentialRepresentation
# (GET /admin/realms/{realm}/users/{id}/credentials: id, type, userLabel, createdDate,
# credentialData; types password, otp, webauthn, webauthn-passwordless and, with recovery
# codes, recovery-authn-codes).
CREDENTIALS = [
    {"id": "c1", "type": "password", "createdDate": 1_717_000_000_000,
     "credentialData": '{"hashIterations":5,"algorithm":"argon2"}'},
    {"id": "c2", "type": "otp", "userLabel": "Phone", "createdDate": 1_717_000_100_000,
     "credentialData": '{"subType":"totp","digits":6,"counter":0,"period":30,"algorithm":"HmacSHA1"}'},
    {"id": "c3", "type": "webauthn", "userLabel": "YubiKey", "createdDate": 1_717_000_200_000},
    {"id": "c4", "type": "webauthn-passwordless", "userLabel": "Laptop", "createdDate": 1_717_000_300_000},
    {"id": "c5", "type": "recovery-authn-codes", "createdDate": 1_717_000_400_000,
     "credentialData": '{"hashIterations":1,"algorithm":"RS512","totalCodes":12,"remainingCodes":12}'},
]  # fmt: skip


def test_credentials_field_by_field() -> None:
    """Audit defect: recovery codes, a credential Keycloak ships, raised
    ``keycloak.credential_unknown`` for every user holding them."""
    methods, types, issues = parse.parse_credentials(CREDENTIALS, "u1", [])
    assert [(m.kind, m.vendor_label, m.status) for m in methods] == [
        (MethodKind.PASSWORD, "password", MethodStatus.ACTIVE),
        (MethodKind.TOTP_SOFTWARE, "otp", MethodStatus.ACTIVE),
        (MethodKind.FIDO2_SECURITY_KEY, "webauthn", MethodStatus.ACTIVE),
        (MethodKind.PASSKEY, "webauthn-passwordless", MethodStatus.ACTIVE),
    ]
    assert types == {"password", "otp", "webauthn", "webauthn-passwordless", "recovery-authn-codes"}
    assert issues == []


# SOURCE: https://www.keycloak.org/docs/latest/server_admin/#con-required-actions_server_administration_guide
@pytest.mark.parametrize(
    ("action", "pending"),
    [("CONFIGURE_TOTP", MethodKind.TOTP_SOFTWARE), ("webauthn-register", MethodKind.FIDO2_SECURITY_KEY),
     ("webauthn-register-passwordless", MethodKind.PASSKEY), ("CONFIGURE_RECOVERY_AUTHN_CODES", None),
     ("UPDATE_PASSWORD", None), ("VERIFY_EMAIL", None), ("UPDATE_PROFILE", None), ("TERMS_AND_CONDITIONS", None),
     ("delete_account", None), ("update_user_locale", None), ("VERIFY_PROFILE", None), ("delete_credential", None),
     ("idp_link", None)],
)  # fmt: skip
def test_every_documented_required_action(action: str, pending: MethodKind | None) -> None:
    methods, _, issues = parse.parse_credentials([], "u1", [action])
    assert [(m.kind, m.status) for m in methods] == ([(pending, MethodStatus.PENDING)] if pending else [])
    assert issues == []


# SOURCE: https://www.keycloak.org/docs-api/latest/rest-api/index.html#UserRepresentation
def test_user_enabled_and_federation_link() -> None:
    raw = {"id": "u1", "username": "jdoe", "enabled": False, "email": "JDoe@example.org", "firstName": "J",
           "lastName": "Doe", "createdTimestamp": 1_717_000_000_000, "federationLink": "ldap-1",
           "requiredActions": ["CONFIGURE_TOTP"], "attributes": {"dept": ["cardio"]}}  # fmt: skip
    user = parse.parse_user(raw, SRC, "users record 1")
    assert isinstance(user, parse.KeycloakUser)
    a = user.account
    assert (a.id, a.principal, a.display_name, a.enabled) == ("u1", "jdoe@example.org", "J Doe", False)
    assert a.attributes == {"username": "jdoe", "federation_link": "ldap-1", "required_actions": "CONFIGURE_TOTP"}
    assert user.pending == ("CONFIGURE_TOTP",) and user.attributes == {"dept": ("cardio",)}


@given(st.frozensets(st.sampled_from([*flows.FACTOR_TYPES, "unknown:sms-plugin"]), max_size=5))
def test_a_path_of_one_factor_type_never_demands_anything(factors: frozenset[str]) -> None:
    types = set().union(*(flows.FACTOR_TYPES.get(f, frozenset()) for f in factors))
    requirement = flows.Path(factors).requirement
    if len(types) < 2:
        assert requirement is Requirement.NONE
    else:
        assert requirement is max(
            (flows.FACTOR_REQUIREMENT.get(f, Requirement.NONE) for f in factors), key=lambda r: r.rank
        )


# --- login events ----------------------------------------------------------------------------

# SOURCE: https://www.keycloak.org/docs-api/latest/rest-api/index.html#EventRepresentation
# (GET /admin/realms/{realm}/events: time, type LOGIN, clientId, userId, details with
# auth_method, auth_type, username, identity_provider, credential_type).
LOGIN = {
    "time": 1_717_230_000_000,
    "type": "LOGIN",
    "realmId": "r1",
    "clientId": "portal",
    "userId": "u1",
    "sessionId": "s1",
    "ipAddress": "192.0.2.10",
    "details": {"auth_method": "openid-connect", "auth_type": "code", "username": "jdoe",
                "credential_type": "webauthn-passwordless"},
}  # fmt: skip


def test_a_passkey_login_event_is_multi_factor_only_with_user_verification() -> None:
    """Audit defect (same family as the passkey path): a login whose credential was a
    passkey read as multi-factor even where the realm does not require user
    verification."""
    from datetime import date, datetime

    from auditor.interfaces import CollectContext
    from auditor.model import Account, AccountId, AccountKind, PortalId, SignInFactor
    from connectors.keycloak import enforcement
    from connectors.keycloak.fetch import Run

    event = parse.parse_event(LOGIN)
    assert event is not None and (event.user_id, event.client_id, event.second_factor) == ("u1", "portal", True)
    client = parse.parse_client({"id": "c-uuid", "clientId": "portal", "enabled": True}, SRC)
    assert client is not None
    account = Account(SRC, AccountId("u1"), "jdoe@example.org", "J Doe", AccountKind.HUMAN, True)
    ctx = CollectContext("keycloak", datetime(2024, 7, 1, tzinfo=UTC), date(2024, 4, 1), date(2024, 6, 30))
    for uv, factors in (("required", [SignInFactor.MULTI]), ("preferred", [])):
        run = Run()
        realm = {"webAuthnPolicyPasswordlessUserVerificationRequirement": uv}
        found = enforcement.sign_ins(run, ctx, [LOGIN], [], [account], [client], realm)
        assert [(s.portal_id, s.factor) for s in found] == [(PortalId("portal"), f) for f in factors]
        # Not multi-factor on the event's word: left out, counted in the issue, never guessed.
        assert bool(run.issues) is (not factors)
