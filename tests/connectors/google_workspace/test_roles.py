"""Admin roles: roles.list + roleAssignments.list → Account.roles / privileged, the
flags as cross-check and fallback. Pure resolution first, then against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.model import AccountId, RoleId
from connectors.google_workspace import codes, roles
from connectors.google_workspace.roles import (
    AssigneeType,
    GroupRead,
    Holder,
    Member,
    MemberType,
    Role,
    RoleAssignment,
    RoleParseError,
)

SCOPE = "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly"
MEMBER_SCOPE = "https://www.googleapis.com/auth/admin.directory.group.member.readonly"
SUPER = Role("1", RoleId("_SEED_ADMIN_ROLE"), super_admin=True, system=True)
HELPDESK = Role("2", RoleId("_HELP_DESK_ADMIN_ROLE"), super_admin=False, system=True)
CUSTOM = Role("3", RoleId("Finance auditors"), super_admin=False, system=False)


def _snap_codes(snap: object) -> list[str]:
    """The snapshot's issue codes but the note every key holder brings (tested on its own)."""
    return [i.code for i in snap.issues if i.code != codes.OTHER_2SV_METHODS]  # type: ignore[attr-defined]


def _holder(n: int, *, admin: bool = False, delegated: bool = False) -> Holder:
    return Holder(AccountId(f"u{n}"), f"u{n}@example.org", admin, delegated)


def _user(role: Role, n: int, **kw: Any) -> RoleAssignment:
    return RoleAssignment(f"a{n}{role.role_id}", role.role_id, f"u{n}", AssigneeType.USER, "CUSTOMER", **kw)


def _codes(resolution: roles.Resolution) -> list[str]:
    return [i.code for i in resolution.issues]


# --- parse ---------------------------------------------------------------------------------


def test_parse_role_reads_the_documented_fields() -> None:
    raw = {
        "roleId": "9170516996784128",
        "roleName": "_SEED_ADMIN_ROLE",
        "isSuperAdminRole": True,
        "isSystemRole": True,
        "rolePrivileges": [{"privilegeName": "SUPER_ADMIN", "serviceId": "00haapch16h1ysv"}],
    }
    assert roles.parse_role(raw) == Role("9170516996784128", RoleId("_SEED_ADMIN_ROLE"), True, True)
    assert roles.parse_role({"roleId": "7"}) == Role("7", RoleId("role:7"), False, False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {
                "roleAssignmentId": "10",
                "roleId": "2",
                "assignedTo": "u1",
                "assigneeType": "user",
                "scopeType": "CUSTOMER",
            },
            RoleAssignment("10", "2", "u1", AssigneeType.USER, "CUSTOMER"),
        ),
        (
            {
                "roleAssignmentId": "11",
                "roleId": "3",
                "assignedTo": "02et92p0",
                "assigneeType": "group",
                "scopeType": "ORG_UNIT",
                "orgUnitId": "03ph8a2z0001",
                "condition": "api.getAttribute('x', []).hasAny(['groups.security'])",
            },
            RoleAssignment(
                "11",
                "3",
                "02et92p0",
                AssigneeType.GROUP,
                "ORG_UNIT",
                "03ph8a2z0001",
                "api.getAttribute('x', []).hasAny(['groups.security'])",
            ),
        ),
        (  # an assignee type Google may add later: kept, typed as unknown
            {"roleAssignmentId": 12, "roleId": 2, "assignedTo": "sa-1", "assigneeType": "service_account"},
            RoleAssignment("12", "2", "sa-1", None, "CUSTOMER"),
        ),
    ],
)
def test_parse_assignment(raw: dict[str, Any], expected: RoleAssignment) -> None:
    assert roles.parse_assignment(raw) == expected


@pytest.mark.parametrize("raw", [[], {"roleId": "1", "assignedTo": "u1"}, {"roleAssignmentId": "1", "roleId": "1"}])
def test_parse_assignment_names_what_is_missing(raw: Any) -> None:
    with pytest.raises(RoleParseError):
        roles.parse_assignment(raw)


# --- resolve -------------------------------------------------------------------------------


def test_user_assignments_give_role_names_sorted() -> None:
    holders = [_holder(1, delegated=True), _holder(2)]
    result = roles.resolve(holders, [HELPDESK, CUSTOM], [_user(HELPDESK, 1), _user(CUSTOM, 1)], {})
    assert result.roles == {"u1": ("Finance auditors", "_HELP_DESK_ADMIN_ROLE"), "u2": ()}
    assert result.issues == ()


def test_org_unit_scoped_and_conditional_assignments_still_make_an_admin() -> None:
    scoped = _user(CUSTOM, 1, org_unit_id="03ph8a2z0002", condition="resource.type == 'x'")
    result = roles.resolve([_holder(1, delegated=True)], [CUSTOM], [scoped], {})
    assert result.roles[AccountId("u1")] == ("Finance auditors",)


def test_group_assignment_is_expanded_to_known_members() -> None:
    group = RoleAssignment("g", CUSTOM.role_id, "grp1", AssigneeType.GROUP, "CUSTOMER")
    holders = [_holder(1, delegated=True), _holder(2, delegated=True), _holder(3)]
    result = roles.resolve(holders, [CUSTOM], [group], {"grp1": [AccountId("u1"), AccountId("u2"), AccountId("x")]})
    assert result.roles == {"u1": ("Finance auditors",), "u2": ("Finance auditors",), "u3": ()}
    assert result.issues == ()


def test_group_assignment_with_unknown_members_is_an_issue_and_the_flags_stand() -> None:
    group = RoleAssignment("g", CUSTOM.role_id, "grp1", AssigneeType.GROUP, "CUSTOMER")
    result = roles.resolve([_holder(1, delegated=True), _holder(2)], [CUSTOM], [group], {})
    assert _codes(result) == ["google.role_group_unexpanded", "google.delegated_flag_without_role"]
    assert "Finance auditors → group grp1" in result.issues[0].message
    assert not any(i.incomplete for i in result.issues)  # the flags still give privilege
    assert result.roles == {"u1": ("delegated-admin",), "u2": ()}


def test_is_admin_without_a_super_admin_assignment_keeps_the_privilege() -> None:
    # u1 is flagged super admin but only a help-desk assignment was read.
    result = roles.resolve([_holder(1, admin=True)], [SUPER, HELPDESK], [_user(HELPDESK, 1)], {})
    assert result.roles[AccountId("u1")] == ("_HELP_DESK_ADMIN_ROLE", "_SEED_ADMIN_ROLE")
    assert _codes(result) == ["google.admin_flag_without_role"]
    assert "u1@example.org" in result.issues[0].message


def test_assignments_win_over_flags_that_say_no() -> None:
    result = roles.resolve([_holder(1)], [SUPER], [_user(SUPER, 1)], {})
    assert result.roles[AccountId("u1")] == ("_SEED_ADMIN_ROLE",)
    assert result.issues == ()


def test_unknown_role_and_unknown_assignee_are_recorded() -> None:
    stray = RoleAssignment("s", "99", "u1", AssigneeType.USER, "CUSTOMER")
    ghost = RoleAssignment("t", HELPDESK.role_id, "gone", AssigneeType.USER, "CUSTOMER")
    result = roles.resolve([_holder(1, delegated=True)], [HELPDESK], [stray, ghost], {})
    assert result.roles[AccountId("u1")] == ("role:99",)
    assert _codes(result) == ["google.role_unknown", "google.role_assignee_unknown"]


def _m(member_id: str, kind: MemberType | None = MemberType.USER, email: str | None = None) -> Member:
    return Member(member_id, email, kind, "ACTIVE")


def test_parse_member_reads_the_documented_fields() -> None:
    raw = {
        "kind": "admin#directory#member",
        "id": "1001",
        "email": "a@example.org",
        "role": "MEMBER",
        "type": "USER",
        "status": "SUSPENDED",
    }
    assert roles.parse_member(raw, "g") == Member("1001", "a@example.org", MemberType.USER, "SUSPENDED")
    assert roles.parse_member({"id": "C0x", "type": "CUSTOMER"}, "g") == Member("C0x", None, MemberType.CUSTOMER, None)
    assert roles.parse_member({"id": "x", "type": "ROBOT"}, "g").member_type is None
    with pytest.raises(RoleParseError, match=r"members\.list g1 page 2 member\.id: missing"):
        roles.parse_member({"type": "USER"}, "members.list g1 page 2")


def test_split_members_keeps_listed_users_and_counts_the_rest() -> None:
    reads = [
        GroupRead(
            "g1",
            (
                _m("u1"),
                _m("u1"),  # listed twice (directly and through a nested group): one member
                _m("g9", MemberType.GROUP),  # a nested group: its members are listed too
                _m("ghost", email="ghost@example.org"),
                _m("C0abc", MemberType.CUSTOMER),
                _m("x", None, "robot@example.org"),
            ),
        ),
        GroupRead("g2", (_m("u2"),), error="members.list g2 page 2: HTTP 503"),  # read in part
        GroupRead("g3", (), error="refused"),
    ]
    memberships, unread, issue = roles.split_members(reads, [AccountId("u1"), AccountId("u2"), AccountId("u3")])
    # The CUSTOMER entry is every user of the domain: all of them hold g1's role.
    assert memberships == {"g1": ["u1", "u2", "u3"], "g2": ["u2"]}
    assert unread == {"g2": "members.list g2 page 2: HTTP 503", "g3": "refused"}
    assert issue is not None and issue.code == "google.role_group_member_unknown" and not issue.incomplete
    assert "2 members" in issue.message
    assert "1 USER not in users.list, 1 unknown type" in issue.message and "CUSTOMER" not in issue.message
    assert "ghost@example.org" in issue.message


def test_split_members_of_known_users_only_raises_no_issue() -> None:
    memberships, unread, issue = roles.split_members([GroupRead("g1", (_m("u1"),))], [AccountId("u1")])
    assert (memberships, unread, issue) == ({"g1": ["u1"]}, {}, None)


def test_group_read_in_part_gives_the_role_to_those_read_and_says_why() -> None:
    group = RoleAssignment("g", CUSTOM.role_id, "grp1", AssigneeType.GROUP, "CUSTOMER")
    holders = [_holder(1), _holder(2, delegated=True)]
    result = roles.resolve(holders, [CUSTOM], [group], {"grp1": [AccountId("u1")]}, {"grp1": "HTTP 503 backendError"})
    assert result.roles == {"u1": ("Finance auditors",), "u2": ("delegated-admin",)}
    assert _codes(result) == ["google.role_group_unexpanded", "google.delegated_flag_without_role"]
    assert "Finance auditors → group grp1 (HTTP 503 backendError; only the members read" in result.issues[0].message


# --- against the sandbox -------------------------------------------------------------------


def _role_requests(sandbox: Any) -> tuple[list[Any], list[Any]]:
    reqs = sandbox.requests
    return [r for r in reqs if r.endpoint == "roles"], [r for r in reqs if r.endpoint == "roleassignments"]


def test_roles_come_from_the_assignments_not_the_flags(demo_org, start_sandbox, make_connector, make_ctx) -> None:
    # users.list flags nobody: only the role APIs can tell who is an admin, and as what.
    sandbox = start_sandbox(demo_org, admin_flags=False)
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    truth = demo_org.truth("google")
    assert {a["scopeType"] for a in sandbox.role_assignments} == {"CUSTOMER", "ORG_UNIT"}
    assert snap.complete and _snap_codes(snap) == []
    assert snap.accounts == truth.accounts
    admins = [a for a in snap.accounts if a.roles]
    assert admins and all(a.privileged for a in admins)
    assert all(a.privileged is bool(a.roles) for a in snap.accounts)


def test_roles_paged_across_several_pages(demo_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(demo_org, page_sizes={"roles": 3, "roleassignments": 2}, admin_flags=False)
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert snap.complete and snap.accounts == demo_org.truth("google").accounts
    role_reqs, assignment_reqs = _role_requests(sandbox)
    assert len(role_reqs) == -(-len(sandbox.roles) // 3) > 2
    assert len(assignment_reqs) == -(-len(sandbox.role_assignments) // 2) > 2
    assert {r.query["maxResults"] for r in role_reqs} == {("100",)}  # roles.list maximum
    assert {r.query["maxResults"] for r in assignment_reqs} == {("200",)}  # roleAssignments.list maximum
    for reqs in (role_reqs, assignment_reqs):
        assert "pageToken" not in reqs[0].query and all("pageToken" in r.query for r in reqs[1:])
    assert sum(d.records for d in snap.raw_digests if d.endpoint == "roleAssignments.list") == len(
        sandbox.role_assignments
    )


def test_request_economy_no_per_user_role_calls(demo_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(demo_org)
    make_connector(sandbox).collect(make_ctx(demo_org))
    role_reqs, assignment_reqs = _role_requests(sandbox)
    # 340 users, a dozen admins: one page of each list, whatever the number of users.
    assert len(role_reqs) == 1 and len(assignment_reqs) == 1
    assert all("userKey" not in r.query and "roleId" not in r.query for r in assignment_reqs)
    assert all(r.path.startswith("/admin/directory/v1/customer/my_customer/") for r in role_reqs + assignment_reqs)


@pytest.mark.parametrize("fault", ["insufficient_scopes", "forbidden"])
def test_refused_role_assignments_fall_back_to_the_flags(
    fault, demo_org, start_sandbox, make_connector, make_ctx
) -> None:
    sandbox = start_sandbox(demo_org, persistent={"roleassignments": fault})
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert snap.complete  # the flags still give privilege
    assert _snap_codes(snap) == ["google.roles_refused"]
    issue = snap.issues[0]
    assert not issue.incomplete
    assert "403" in issue.message and SCOPE in issue.message and "isAdmin" in issue.message
    assert snap.accounts == demo_org.truth("google").accounts
    _, assignment_reqs = _role_requests(sandbox)
    assert len(assignment_reqs) == 1  # a refusal is not retried


def test_role_scope_not_delegated_costs_only_the_role_names(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org, refuse_scopes=["admin.directory.rolemanagement.readonly"])
    snap = make_connector(sandbox).collect(make_ctx(small_org))
    assert snap.complete
    assert _snap_codes(snap) == ["google.roles_refused"]
    assert "unauthorized_client" in snap.issues[0].message
    assert snap.accounts == small_org.truth("google").accounts
    assert _role_requests(sandbox) == ([], [])


def test_unreadable_roles_fall_back_with_an_issue(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org, persistent={"roles": "503"})
    snap = make_connector(sandbox, max_attempts=2).collect(make_ctx(small_org))
    assert _snap_codes(snap) == ["google.roles_unreadable"]
    assert "roles.list page 1" in snap.issues[0].message and "503" in snap.issues[0].message
    assert snap.accounts == small_org.truth("google").accounts


def test_is_admin_without_assignment_read_is_cross_checked(demo_org, start_sandbox, make_connector, make_ctx):
    truth = demo_org.truth("google")
    hidden = next(a for a in truth.accounts if a.roles == ("_SEED_ADMIN_ROLE",))
    sandbox = start_sandbox(demo_org, hide_assignments=[hidden.id])
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert snap.complete
    assert _snap_codes(snap) == ["google.admin_flag_without_role"]
    assert hidden.principal in snap.issues[0].message
    got = next(a for a in snap.accounts if a.id == hidden.id)
    assert got.privileged and got.roles == ("_SEED_ADMIN_ROLE",)


def test_permission_check_lists_the_role_scope(small_org, start_sandbox, make_connector) -> None:
    sandbox = start_sandbox(small_org)
    checks = {c.name: c for c in make_connector(sandbox).check_access()}
    assert checks[SCOPE].granted is True and "roleAssignments.list" in checks[SCOPE].purpose


def test_permission_check_names_a_missing_role_scope(small_org, start_sandbox, make_connector) -> None:
    sandbox = start_sandbox(small_org, refuse_scopes=[SCOPE])
    checks = {c.name: c for c in make_connector(sandbox).check_access()}
    assert checks[SCOPE].granted is False and "Domain-wide delegation" in checks[SCOPE].detail
    assert checks["domain-wide delegation"].granted is True  # collection still runs, on the flags


def test_permission_check_reports_the_api_refusing_roles(small_org, start_sandbox, make_connector) -> None:
    sandbox = start_sandbox(small_org, persistent={"roleassignments": "insufficient_scopes"})
    checks = {c.name: c for c in make_connector(sandbox).check_access()}
    assert checks[SCOPE].granted is False and "API refused" in checks[SCOPE].detail


# --- groups holding a role: members.list ----------------------------------------------------


def _member_requests(sandbox: Any) -> list[Any]:
    return [r for r in sandbox.requests if r.endpoint == "members"]


def test_a_role_given_to_a_group_makes_its_members_privileged(
    demo_org, start_sandbox, make_connector, make_ctx
) -> None:
    # The flags say nothing: only the group's members.list can tell who holds the role.
    sandbox = start_sandbox(demo_org, group_roles=["delegated-admin"], admin_flags=False)
    group = next(a["assignedTo"] for a in sandbox.role_assignments if a["assigneeType"] == "group")
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    truth = demo_org.truth("google")
    assert snap.complete and _snap_codes(snap) == []
    assert snap.accounts == truth.accounts
    holders = [a for a in snap.accounts if "delegated-admin" in a.roles]
    assert len(holders) == 11 and all(a.privileged for a in holders)
    (req,) = _member_requests(sandbox)
    assert req.path == f"/admin/directory/v1/groups/{group}/members"
    assert req.query["includeDerivedMembership"] == ("true",) and req.query["maxResults"] == ("200",)
    assert sum(d.records for d in snap.raw_digests if d.endpoint == "members.list") == 11


def test_members_paged_across_several_pages(demo_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(demo_org, group_roles=["delegated-admin"], admin_flags=False, page_sizes={"members": 3})
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert snap.complete and _snap_codes(snap) == []
    assert snap.accounts == demo_org.truth("google").accounts
    reqs = _member_requests(sandbox)
    assert len(reqs) == 4  # 11 members, 3 a page
    assert "pageToken" not in reqs[0].query and all("pageToken" in r.query for r in reqs[1:])
    assert len({r.query["pageToken"] for r in reqs[1:]}) == 3


def test_nested_group_members_come_through_derived_membership(
    demo_org, start_sandbox, make_connector, make_ctx
) -> None:
    sandbox = start_sandbox(demo_org, group_roles=["delegated-admin"], admin_flags=False, nest_groups=True)
    group = next(a["assignedTo"] for a in sandbox.role_assignments if a["assigneeType"] == "group")
    nested = next(m["id"] for m in sandbox.groups[group] if m["type"] == "GROUP")
    # Google refuses cycles; a cycle all the same must not loop nor list anyone twice.
    sandbox.groups[nested].append({**sandbox.groups[group][-1], "id": group, "email": "admins@example.org"})
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert snap.complete and _snap_codes(snap) == []
    assert snap.accounts == demo_org.truth("google").accounts
    # One listing, of the role-holding group: none of the nested group, which holds no role.
    assert [r.path for r in _member_requests(sandbox)] == [f"/admin/directory/v1/groups/{group}/members"]


def test_request_economy_one_listing_per_role_holding_group(demo_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(
        demo_org, group_roles=["delegated-admin", "_SEED_ADMIN_ROLE"], admin_flags=False, nest_groups=True
    )
    role_groups = {a["assignedTo"] for a in sandbox.role_assignments if a["assigneeType"] == "group"}
    assert len(role_groups) == 2 and len(sandbox.groups) == 4  # two nested groups hold no role
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert snap.complete and snap.accounts == demo_org.truth("google").accounts
    paths = [r.path for r in _member_requests(sandbox)]
    assert sorted(paths) == sorted(f"/admin/directory/v1/groups/{g}/members" for g in role_groups)


def test_default_sandbox_lists_no_group(demo_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(demo_org)
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert snap.accounts == demo_org.truth("google").accounts and _snap_codes(snap) == []
    assert _member_requests(sandbox) == []


def test_members_that_are_no_listed_user_are_recorded(demo_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(demo_org, group_roles=["delegated-admin"], admin_flags=False)
    group = next(a["assignedTo"] for a in sandbox.role_assignments if a["assigneeType"] == "group")
    user = sandbox.groups[group][0]
    sandbox.groups[group] += [{**user, "id": "111222333", "email": "svc-backup@example.org"}]  # not in users.list
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert snap.complete and snap.accounts == demo_org.truth("google").accounts
    assert _snap_codes(snap) == ["google.role_group_member_unknown"]
    message = snap.issues[0].message
    assert "1 members" in message and "1 USER not in users.list" in message
    assert "svc-backup@example.org" in message and group in message


def test_a_customer_member_gives_the_role_to_every_user(demo_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(demo_org, group_roles=["delegated-admin"], admin_flags=False)
    group = next(a["assignedTo"] for a in sandbox.role_assignments if a["assigneeType"] == "group")
    user = sandbox.groups[group][0]
    sandbox.groups[group] += [{**user, "id": "C0sandbox1", "type": "CUSTOMER", "email": None}]
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert snap.complete and not _snap_codes(snap)
    assert snap.accounts and all(a.privileged and "delegated-admin" in a.roles for a in snap.accounts)


def _unexpanded(snap: Any) -> Any:
    return next(i for i in snap.issues if i.code == "google.role_group_unexpanded")


def test_member_scope_not_delegated_keeps_the_old_issue_and_the_flags(
    demo_org, start_sandbox, make_connector, make_ctx
) -> None:
    sandbox = start_sandbox(demo_org, group_roles=["delegated-admin", "_SEED_ADMIN_ROLE"], refuse_scopes=[MEMBER_SCOPE])
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert snap.complete  # the flags still give privilege
    assert _snap_codes(snap) == [
        "google.role_group_unexpanded",
        "google.admin_flag_without_role",
        "google.delegated_flag_without_role",
    ]
    issue = _unexpanded(snap)
    assert issue.message.startswith("2 admin role assignments") and "unauthorized_client" in issue.message
    assert MEMBER_SCOPE in issue.message and not issue.incomplete
    # The members keep the privilege their flags give, as before.
    truth = {a.id: a for a in demo_org.truth("google").accounts}
    assert all(a.privileged is truth[a.id].privileged for a in snap.accounts)
    assert _member_requests(sandbox) == []


@pytest.mark.parametrize("fault", ["insufficient_scopes", "forbidden"])
def test_members_list_refused_keeps_the_old_issue_and_the_flags(
    fault, demo_org, start_sandbox, make_connector, make_ctx
) -> None:
    sandbox = start_sandbox(
        demo_org, group_roles=["delegated-admin", "_SEED_ADMIN_ROLE"], persistent={"members": fault}
    )
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert snap.complete
    issue = _unexpanded(snap)
    assert "403" in issue.message and "delegated-admin → group" in issue.message
    assert "isAdmin / isDelegatedAdmin" in issue.message
    truth = {a.id: a for a in demo_org.truth("google").accounts}
    assert all(a.privileged is truth[a.id].privileged for a in snap.accounts)
    assert {r.status for r in _member_requests(sandbox)} == {403}
    if fault == "insufficient_scopes":  # the scope is missing for every group: asked once
        assert len(_member_requests(sandbox)) == 1 and MEMBER_SCOPE in issue.message
    else:  # the admin may lack the privilege on this group only: each group is tried
        assert len(_member_requests(sandbox)) == 2 and "privilege" in issue.message


def test_members_unreadable_after_retries_says_why(demo_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(demo_org, group_roles=["delegated-admin"], persistent={"members": "503"})
    snap = make_connector(sandbox, max_attempts=2).collect(make_ctx(demo_org))
    issue = _unexpanded(snap)
    assert "503" in issue.message and "after 2 attempts" in issue.message
    assert snap.accounts == demo_org.truth("google").accounts  # from the flags
    assert len(_member_requests(sandbox)) == 2


def test_members_failing_on_a_later_page_keeps_those_read(demo_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(
        demo_org,
        group_roles=["delegated-admin"],
        admin_flags=False,
        page_sizes={"members": 4},
        script={"members": ["ok", "forbidden"]},
    )
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    assert "only the members read before that get the role" in _unexpanded(snap).message
    assert sum(1 for a in snap.accounts if "delegated-admin" in a.roles) == 4


def test_permission_check_lists_the_member_scope(demo_org, start_sandbox, make_connector) -> None:
    sandbox = start_sandbox(demo_org, group_roles=["delegated-admin"])
    checks = {c.name: c for c in make_connector(sandbox).check_access()}
    assert checks[MEMBER_SCOPE].granted is True and "members.list" in checks[MEMBER_SCOPE].purpose
    (probe,) = _member_requests(sandbox)
    assert probe.query["maxResults"] == ("1",) and probe.status == 200


def test_permission_check_without_role_holding_group_proves_the_token_only(
    small_org, start_sandbox, make_connector
) -> None:
    sandbox = start_sandbox(small_org)
    check = {c.name: c for c in make_connector(sandbox).check_access()}[MEMBER_SCOPE]
    assert check.granted is True and "not tried" in check.detail
    assert _member_requests(sandbox) == []


def test_permission_check_names_a_missing_member_scope(demo_org, start_sandbox, make_connector) -> None:
    sandbox = start_sandbox(demo_org, group_roles=["delegated-admin"], refuse_scopes=[MEMBER_SCOPE])
    checks = {c.name: c for c in make_connector(sandbox).check_access()}
    assert checks[MEMBER_SCOPE].granted is False and "Domain-wide delegation" in checks[MEMBER_SCOPE].detail
    assert checks["domain-wide delegation"].granted is True


def test_permission_check_reports_the_api_refusing_members(demo_org, start_sandbox, make_connector) -> None:
    sandbox = start_sandbox(demo_org, group_roles=["delegated-admin"], persistent={"members": "insufficient_scopes"})
    check = {c.name: c for c in make_connector(sandbox).check_access()}[MEMBER_SCOPE]
    assert check.granted is False and "API refused" in check.detail
