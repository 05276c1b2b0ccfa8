"""Parse functions, table-driven: Admin SDK JSON → model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.model import AccountKind, MethodKind, SignInFactor, SourceName, UnreadableRecord
from connectors.google_workspace import parse
from connectors.google_workspace.enforcement import two_step_policy

SRC = SourceName("google")


def _user(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "100000000001",
        "primaryEmail": "Lea.Martin@Example.FR",
        "name": {"givenName": "Léa", "familyName": "Martin", "fullName": "Léa Martin"},
        "isAdmin": False,
        "isDelegatedAdmin": False,
        "suspended": False,
        "archived": False,
        "isEnrolledIn2Sv": True,
        "isEnforcedIn2Sv": False,
        "orgUnitPath": "/Finance",
        "lastLoginTime": "2026-11-10T08:12:00.000Z",
        "creationTime": "2020-01-02T03:04:05.000Z",
    }
    base.update(fields)
    return base


@pytest.mark.parametrize(
    ("fields", "expect"),
    [
        ({}, {"enabled": True, "privileged": False, "roles": (), "kind": AccountKind.HUMAN}),
        ({"suspended": True}, {"enabled": False}),
        ({"archived": True}, {"enabled": False}),
        ({"isAdmin": True}, {"privileged": True, "roles": ("_SEED_ADMIN_ROLE",)}),
        ({"isDelegatedAdmin": True}, {"privileged": True, "roles": ("delegated-admin",)}),
        ({"isAdmin": True, "isDelegatedAdmin": True}, {"privileged": True, "roles": ("_SEED_ADMIN_ROLE",)}),
        ({"isGuestUser": True}, {"kind": AccountKind.GUEST}),
        ({"lastLoginTime": "1970-01-01T00:00:00.000Z"}, {"last_sign_in": None}),
        ({"lastLoginTime": "2026-11-10T09:12:00+01:00"}, {"last_sign_in": datetime(2026, 11, 10, 8, 12, tzinfo=UTC)}),
        ({"name": {"givenName": "A", "familyName": "B"}}, {"display_name": "A B"}),
        ({"name": {}}, {"display_name": "lea.martin@example.fr"}),
    ],
)
def test_parse_user(fields: dict[str, Any], expect: dict[str, Any]) -> None:
    parsed = parse.parse_user(_user(**fields), SRC, "page 1 item 1")
    assert isinstance(parsed, parse.DirectoryUser)
    for key, value in expect.items():
        assert getattr(parsed.account, key) == value, key
    assert parsed.account.principal == "lea.martin@example.fr"
    assert parsed.account.created == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("enrolled", "enforced", "attr"),
    [(True, True, "true"), (True, False, "false"), (False, True, "true"), (False, False, "false")],
)
def test_parse_user_2sv_flags(enrolled: bool, enforced: bool, attr: str) -> None:
    parsed = parse.parse_user(_user(isEnrolledIn2Sv=enrolled, isEnforcedIn2Sv=enforced), SRC, "x")
    assert isinstance(parsed, parse.DirectoryUser)
    assert (parsed.enrolled_2sv, parsed.enforced_2sv) == (enrolled, enforced)
    assert parsed.account.attributes == {"org_unit": "/Finance", "2sv_enforced": attr}


@pytest.mark.parametrize(
    ("raw", "record", "reason"),
    [
        ("not a user", "page 3 item 4", "expected a user object"),
        (_user(id=None), "Lea.Martin@Example.FR", "id"),
        (_user(primaryEmail="nobody"), "nobody", "primaryEmail"),
        (_user(isEnforcedIn2Sv="yes"), "Lea.Martin@Example.FR", "isEnforcedIn2Sv"),
        (_user(lastLoginTime="yesterday"), "Lea.Martin@Example.FR", "lastLoginTime"),
        (_user(orgUnitPath="Finance"), "Lea.Martin@Example.FR", "orgUnitPath"),
    ],
)
def test_unreadable_users_name_the_record_and_field(raw: Any, record: str, reason: str) -> None:
    parsed = parse.parse_user(raw, SRC, "page 3 item 4")
    assert isinstance(parsed, UnreadableRecord)
    assert parsed.record == record and reason in parsed.reason


@pytest.mark.parametrize(
    ("enrolled", "counts", "kinds"),
    [
        (False, None, []),
        (True, None, [MethodKind.UNSPECIFIED_SECOND_FACTOR]),
        (True, parse.FactorCounts(True, 0, 0), [MethodKind.UNSPECIFIED_SECOND_FACTOR]),
        # A key or passkey holder may also use any other 2SV method they registered (#15 audit).
        (True, parse.FactorCounts(True, 2, 0), [MethodKind.FIDO2_SECURITY_KEY, MethodKind.UNSPECIFIED_SECOND_FACTOR]),
        (True, parse.FactorCounts(True, 0, 1), [MethodKind.PASSKEY, MethodKind.UNSPECIFIED_SECOND_FACTOR]),
        (
            True,
            parse.FactorCounts(True, 1, 1),
            [MethodKind.FIDO2_SECURITY_KEY, MethodKind.PASSKEY, MethodKind.UNSPECIFIED_SECOND_FACTOR],
        ),
        # The Directory (current) wins over the report's "enrolled" (a day or more old).
        (False, parse.FactorCounts(True, 0, 0), []),
        (False, parse.FactorCounts(False, 0, 1), [MethodKind.PASSKEY]),
    ],
)
def test_methods_for(enrolled: bool, counts: parse.FactorCounts | None, kinds: list[MethodKind]) -> None:
    methods = parse.methods_for(enrolled, counts)
    assert [m.kind for m in methods] == kinds
    assert all(m.registered_at is None for m in methods)


def test_unspecified_second_factor_counts_weak() -> None:
    (method,) = parse.methods_for(True, None)
    assert method.strength.value == "weak" and method.vendor_label == "2sv_enrolled"


def test_parse_usage_row() -> None:
    row = {
        "entity": {"userEmail": "A@X.FR", "profileId": "42", "type": "USER"},
        "parameters": [
            {"name": "accounts:is_2sv_enrolled", "boolValue": True},
            {"name": "accounts:num_security_keys", "intValue": "3"},
            {"name": "accounts:num_passkeys_enrolled", "intValue": 1},
            {"name": "accounts:drive_used_quota_in_mb", "intValue": "12"},
        ],
    }
    assert parse.parse_usage_row(row) == ("42", parse.FactorCounts(True, 3, 1))
    row["entity"] = {"userEmail": "A@X.FR"}
    assert parse.parse_usage_row(row)[0] == "a@x.fr"
    with pytest.raises(parse.ParseError, match="num_security_keys"):
        parse.parse_usage_row(
            {"entity": {"profileId": "1"}, "parameters": [{"name": "accounts:num_security_keys", "intValue": "many"}]}
        )


def test_report_warnings() -> None:
    page = {"warnings": [{"code": "PARTIAL_DATA_AVAILABLE", "message": "later", "data": []}, "junk"]}
    assert parse.report_warnings(page) == (parse.ReportWarning("PARTIAL_DATA_AVAILABLE", "later"),)
    assert parse.report_warnings({}) == ()


@pytest.mark.parametrize(
    ("params", "factor"),
    [
        ([{"name": "login_challenge_method", "multiValue": ["password"]}], SignInFactor.SINGLE),
        ([{"name": "login_challenge_method", "value": "password"}], SignInFactor.SINGLE),
        ([{"name": "login_challenge_method", "multiValue": ["password", "security_key"]}], SignInFactor.MULTI),
        ([{"name": "login_challenge_method", "value": "google_authenticator"}], SignInFactor.MULTI),
        ([{"name": "login_challenge_method", "multiValue": ["passkey"]}], SignInFactor.MULTI),
        # Risk challenges are not a second factor; unknown values never make one.
        ([{"name": "login_challenge_method", "multiValue": ["password", "login_location"]}], SignInFactor.SINGLE),
        # An SMS or voice code to the pre-registered phone is possession of a registered factor.
        ([{"name": "login_challenge_method", "value": "idv_preregistered_phone"}], SignInFactor.MULTI),
        ([{"name": "login_challenge_method", "value": "something_new"}], SignInFactor.SINGLE),
        ([{"name": "is_second_factor", "boolValue": True}], SignInFactor.MULTI),
        ([{"name": "is_second_factor", "boolValue": False}], SignInFactor.SINGLE),
        # Nothing stated: evidence of neither kind (was single).
        ([], None),
    ],
)
def test_sign_in_factor(params: list[dict[str, Any]], factor: SignInFactor | None) -> None:
    assert parse.sign_in_factor(params)[0] is factor


def test_parse_login_activity() -> None:
    item = {
        "id": {"time": "2026-10-02T08:12:33.000Z", "applicationName": "login"},
        "actor": {"email": "A@X.FR", "profileId": "42"},
        "events": [
            {
                "name": "login_success",
                "parameters": [
                    {"name": "login_type", "value": "google_password"},
                    {"name": "is_second_factor", "boolValue": True},
                ],
            },
            {"name": "login_verification", "parameters": []},
        ],
    }
    (event,) = parse.parse_login_activity(item)
    assert event == parse.LoginEvent(
        "42", "a@x.fr", datetime(2026, 10, 2, 8, 12, 33, tzinfo=UTC), SignInFactor.MULTI, "google_password"
    )
    with pytest.raises(parse.ParseError, match=r"id\.time"):
        parse.parse_login_activity({"id": {}, "actor": {}})


def test_org_units_to_portals() -> None:
    units = parse.parse_org_units(
        {"organizationUnits": [{"name": "Finance", "orgUnitPath": "/Finance"}, {"orgUnitPath": "/Finance/Paris"}]}
    )
    assert units == (parse.OrgUnitInfo("/Finance", "Finance"), parse.OrgUnitInfo("/Finance/Paris", "Paris"))
    portal = parse.portal_for(SRC, units[0])
    assert (portal.id, portal.name, portal.tags, portal.assignment_required) == (
        "workspace:/Finance",
        "Google Workspace (Finance)",
        ("ou:/Finance",),
        False,
    )
    assert parse.ou_name_from_path("/") == "top-level org unit"
    with pytest.raises(parse.ParseError):
        parse.parse_org_units({"organizationUnits": [{"orgUnitPath": "Finance"}]})


def test_two_step_policy_names_exactly_the_enforced_users() -> None:
    policy = two_step_policy(["1", "3"])
    (rule,) = policy.rules
    assert policy.state.value == "enforced" and rule.requirement.value == "mfa"
    assert rule.scope.include_users == ("1", "3") and not rule.scope.include_all
    assert rule.portals.all and rule.conditions == ()


@pytest.mark.parametrize(
    ("org_unit", "units", "keys_only"),
    [
        ("/Admins", ("/Admins",), True),
        ("/Admins/Tier0", ("/Admins",), True),  # 2SV policies are inherited by sub-units
        ("/AdminsExtra", ("/Admins",), False),
        ("/Sales", ("/Admins",), False),
        ("/Sales", ("/",), True),
        ("/Sales", (), False),
    ],
)
def test_a_declared_security_key_only_org_unit_leaves_the_key_alone(
    org_unit: str, units: tuple[str, ...], keys_only: bool
) -> None:
    assert parse.in_org_units(org_unit, units) is keys_only
    methods = parse.methods_for(True, parse.FactorCounts(True, 1, 0), keys_only=parse.in_org_units(org_unit, units))
    expected = ["security_key"] if keys_only else ["security_key", parse.OTHER_2SV_METHODS]
    assert [m.vendor_label for m in methods] == expected
