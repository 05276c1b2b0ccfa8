"""Pure parsing: authentication methods to kinds, users, clients, the tenant log, the
tenant MFA policy, factors, and the static reading of post-login Actions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.model import (
    ConditionKind,
    MethodKind,
    MethodStatus,
    PortalId,
    Requirement,
    SignInFactor,
    SourceName,
    Strength,
    UnreadableRecord,
)
from connectors.auth0 import enforcement, parse

SRC = SourceName("auth0")
KNOWN = set(parse.METHOD_KINDS) | parse.NOT_FACTORS | {"phone"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "totp"}, (MethodKind.TOTP_SOFTWARE, "totp", Strength.STRONG)),
        ({"type": "push"}, (MethodKind.AUTHENTICATOR_PUSH, "push", Strength.STRONG)),
        ({"type": "phone"}, (MethodKind.SMS, "phone:sms", Strength.WEAK)),
        (
            {"type": "phone", "preferred_authentication_method": "voice"},
            (MethodKind.VOICE, "phone:voice", Strength.WEAK),
        ),
        ({"type": "email"}, (MethodKind.EMAIL_OTP, "email", Strength.WEAK)),
        (
            {"type": "webauthn-roaming"},
            (MethodKind.FIDO2_SECURITY_KEY, "webauthn-roaming", Strength.PHISHING_RESISTANT),
        ),
        (
            {"type": "webauthn-platform"},
            (MethodKind.PLATFORM_AUTHENTICATOR, "webauthn-platform", Strength.PHISHING_RESISTANT),
        ),
        ({"type": "passkey"}, (MethodKind.PASSKEY, "passkey", Strength.PHISHING_RESISTANT)),
        ({"type": "guardian"}, (MethodKind.UNSPECIFIED_SECOND_FACTOR, "guardian", Strength.WEAK)),
    ],
)
def test_method_types(raw: dict[str, str], expected: tuple[MethodKind, str, Strength]) -> None:
    (method,), issues = parse.parse_methods(
        [{**raw, "confirmed": True, "created_at": "2026-02-03T04:05:06.789Z"}], "u1"
    )
    assert (method.kind, method.vendor_label, method.strength) == expected
    assert method.status is MethodStatus.ACTIVE
    assert method.registered_at == datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert issues == []


@pytest.mark.parametrize("mtype", ["recovery-code", "password", "email-verification"])
def test_not_factors_are_left_out(mtype: str) -> None:
    assert parse.parse_methods([{"type": mtype, "confirmed": True}], "u1") == ((), [])


def test_unconfirmed_is_pending() -> None:
    (method,), _ = parse.parse_methods([{"type": "totp", "confirmed": False}], "u1")
    assert method.status is MethodStatus.PENDING


@given(st.text(max_size=30).filter(lambda t: t not in KNOWN))
def test_unknown_types_are_never_a_factor(mtype: str) -> None:
    (method,), issues = parse.parse_methods([{"type": mtype, "confirmed": True}], "u1")
    assert method.kind is MethodKind.UNKNOWN and method.strength is Strength.NONE
    assert [i.code for i in issues] == ["auth0.unknown_method_type"]


@given(
    st.lists(
        st.one_of(st.none(), st.integers(), st.text(), st.dictionaries(st.text(max_size=5), st.text(max_size=5))),
        max_size=5,
    )
)
def test_methods_never_raise(items: list[object]) -> None:
    methods, _ = parse.parse_methods(items, "u1")
    assert all(m.kind in set(MethodKind) for m in methods)


def test_user() -> None:
    user = parse.parse_user(
        {
            "user_id": "auth0|abc",
            "email": "Partner@Example.org",
            "name": "A Partner",
            "blocked": True,
            "last_login": "2026-11-01T10:00:00.000Z",
            "multifactor": ["guardian"],
            "identities": [{"connection": "Username-Password-Authentication"}],
        },
        SRC,
        "record 1",
    )
    assert not isinstance(user, UnreadableRecord)
    assert user.account.principal == "partner@example.org" and not user.account.enabled
    assert user.multifactor == ("guardian",)
    assert user.account.attributes == {"connection": "Username-Password-Authentication"}
    linked = parse.parse_user(
        {"user_id": "u2", "identities": [{"connection": "db"}, {"connection": "google-oauth2"}, {"provider": "x"}]},
        SRC,
        "record 3",
    )
    assert not isinstance(linked, UnreadableRecord)
    assert linked.account.attributes == {"connection": "db", "linked_connections": "google-oauth2"}
    assert parse.parse_user({"email": "x@y"}, SRC, "record 2") == UnreadableRecord("record 2", "no user_id")
    assert isinstance(parse.parse_user({"user_id": "u", "blocked": "yes"}, SRC, "r"), UnreadableRecord)


def test_clients() -> None:
    assert parse.parse_client({"client_id": "m2m", "app_type": "non_interactive"}, SRC) == (None, None)
    assert parse.parse_client({"client_id": "g", "global": True}, SRC) == (None, None)
    portal, note = parse.parse_client({"client_id": "c1", "name": "Portal", "app_type": "spa"}, SRC)
    assert portal is not None and portal.id == "c1" and note is None
    portal, note = parse.parse_client({"client_id": "c2", "app_type": "robot"}, SRC)
    assert portal is not None and note is not None and "robot" in note


def _log(n: int, minute: int, kind: str, user: str = "u1", client: str = "c1") -> parse.LogEvent:
    return parse.LogEvent(f"{n:04d}", datetime(2026, 11, 1, 10, minute, tzinfo=UTC), kind, user, client)


def test_sign_ins_pair_mfa_with_the_login() -> None:
    events = [
        _log(1, 0, "gd_auth_succeed"),
        _log(2, 1, "s"),  # MFA a minute before: multi
        _log(3, 5, "s"),  # the MFA was used up: single
        _log(4, 6, "gd_auth_succeed", client="c2"),
        _log(5, 7, "s"),  # MFA on another application: single
        _log(6, 8, "fp"),  # a failed login: no sign-in
        _log(7, 9, "gd_auth_succeed"),
        _log(8, 30, "s"),  # MFA 21 minutes before: not this login's
    ]
    found = parse.sign_ins(events)
    assert [(s.time.minute, s.factor) for s in found] == [
        (1, SignInFactor.MULTI),
        (5, SignInFactor.SINGLE),
        (7, SignInFactor.SINGLE),
        (30, SignInFactor.SINGLE),
    ]


# --- enforcement -----------------------------------------------------------------------


def test_tenant_policy_values() -> None:
    assert enforcement.tenant_policies([]) == ((), [])
    (always,), _ = enforcement.tenant_policies(["all-applications"])
    assert always.rules[0].portals.all and always.rules[0].conditions == ()
    (adaptive,), _ = enforcement.tenant_policies(["confidence-score"])
    assert [c.kind for c in adaptive.rules[0].conditions] == [ConditionKind.RISK]
    none, issues = enforcement.tenant_policies(["weekends-only"])
    assert none == () and issues[0].incomplete and issues[0].code == "auth0.unknown_mfa_policy"


def test_factors_to_the_methods_policy() -> None:
    allowances, issues = enforcement.method_policy(
        [
            {"name": "sms", "enabled": False},
            {"name": "otp", "enabled": True},
            {"name": "duo", "enabled": True},
            {"name": "recovery-code", "enabled": True},
            {"name": "email", "enabled": True, "trial_expired": True},
        ]
    )
    allowed = {a.kind: a.enabled for a in allowances}
    assert allowed[MethodKind.TOTP_SOFTWARE] and not allowed[MethodKind.SMS] and not allowed[MethodKind.VOICE]
    assert not allowed[MethodKind.EMAIL_OTP]  # a trial that expired is off
    assert allowed[MethodKind.UNSPECIFIED_SECOND_FACTOR]  # a Guardian factor is on
    assert [i.code for i in issues] == ["auth0.unknown_factor"]
    assert enforcement.demanded(allowances) is Requirement.STRONG


def _code(body: str) -> str:
    return "exports.onExecutePostLogin = async (event, api) => {\n" + body + "\n};"


NAMES = {"Claims": "cid-claims"}


@pytest.mark.parametrize(
    ("body", "kind", "ids", "excluded", "all_"),
    [
        ("api.multifactor.enable('any');", "enforce", (), (), True),
        ('api.multifactor.enable("any", { allowRememberBrowser: false })', "enforce", (), (), True),
        ("// api.multifactor.enable('any')\napi.idToken.setCustomClaim('a', 1);", "none", (), (), False),
        ("if (event.client.client_id === 'x1') { api.multifactor.enable('any'); }", "enforce", ("x1",), (), False),
        ("if (event.client.name == 'Claims') api.multifactor.enable('any');", "enforce", ("cid-claims",), (), False),
        (
            "if (['a','b'].includes(event.client.client_id)) { api.multifactor.enable('any'); }",
            "enforce",
            ("a", "b"),
            (),
            False,
        ),
        (
            "if (event.client.client_id !== 'a' && event.client.client_id !== 'b') { api.multifactor.enable('any') }",
            "enforce",
            (),
            ("a", "b"),
            True,
        ),
        ("if (event.client.name === 'Unknown app') { api.multifactor.enable('any'); }", "unknown", (), (), False),
        ("if (event.user.email.endsWith('@x.fr')) { api.multifactor.enable('any'); }", "unknown", (), (), False),
        (
            "if (event.client.client_id === 'a') { api.multifactor.enable('any'); } else { api.access.deny('no'); }",
            "unknown",
            (),
            (),
            False,
        ),
        ("const f = api.multifactor; f.enable('any');", "unknown", (), (), False),
        ("api.multifactor.enable('duo');", "unknown", (), (), False),
        ("api.multifactor.enable('none');", "unknown", (), (), False),
        ("api.authentication.challengeWith({ type: 'otp' });", "unknown", (), (), False),
        (
            "if (event.client.client_id === 'a') { api.authentication.enrollWithAny([{ type: 'otp' }]); }",
            "unknown",
            (),
            (),
            False,
        ),
        (
            "if (event.client.client_id === 'a') { if (event.user.x) { api.multifactor.enable('any'); } }",
            "unknown",
            (),
            (),
            False,
        ),
    ],
)
def test_reading_actions(body: str, kind: str, ids: tuple[str, ...], excluded: tuple[str, ...], all_: bool) -> None:
    reading = enforcement.read_action(_code(body), NAMES)
    assert reading.kind == kind, reading.reason
    if kind == "enforce":
        assert reading.portals.ids == tuple(PortalId(i) for i in ids)
        assert reading.portals.excluded_ids == tuple(PortalId(i) for i in excluded)
        assert reading.portals.all is all_
    if kind == "unknown":
        assert reading.reason


def test_action_outside_the_handler_is_unknown() -> None:
    code = "const go = (api) => api.multifactor.enable('any');\n" + _code("go(api);")
    assert enforcement.read_action(code, {}).kind == "unknown"


@given(st.text(max_size=200))
def test_reading_arbitrary_code_never_raises_nor_enforces_without_the_call(text: str) -> None:
    reading = enforcement.read_action(text, {})
    assert reading.kind in ("none", "enforce", "unknown")
    if "multifactor.enable" not in text:
        assert reading.kind != "enforce"
