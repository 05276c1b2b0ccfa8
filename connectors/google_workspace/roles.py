"""Admin roles: ``roles.list`` + ``roleAssignments.list`` → each user's role names. Pure.

users.list says only *that* a user is an admin (``isAdmin``: super admin;
``isDelegatedAdmin``: some other admin role), not which roles they hold. The role APIs
say which, and through what: a user, or a group whose members all hold the role. Every
Google admin role is an administrative privilege, so holding any role makes an account
privileged, as the Entra and Okta connectors do (``privileged = bool(roles)``).

A role held by a group is expanded with ``members.list`` of that group alone (the
connector lists no other group), with ``includeDerivedMembership=true`` so that Google
itself lists the members of nested groups. Members that are no listed user (a CUSTOMER
entry, an external address, a service account, a user deleted since) are recorded.

The flags stay as a cross-check: a flagged user for whom no matching assignment was read
keeps the privilege the flag gives, with an issue, never silently dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from auditor.model import AccountId, RoleId, SourceIssue
from connectors.google_workspace import codes

# Google's own name (roleName) of the built-in Super Admin role.
SUPER_ADMIN_ROLE = RoleId("_SEED_ADMIN_ROLE")
# What ``isDelegatedAdmin`` alone tells: "some admin role other than super admin".
DELEGATED_ADMIN_ROLE = RoleId("delegated-admin")
_LIST_FIRST = 5  # how many principals an issue names before "…"


class RoleParseError(ValueError):
    """A role or role assignment record is malformed; the message names the field."""


class AssigneeType(StrEnum):
    """``assigneeType`` as the discovery document enumerates it."""

    USER = "user"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Role:
    role_id: str
    name: RoleId  # roleName: what the model's Account.roles carries
    super_admin: bool  # isSuperAdminRole
    system: bool  # isSystemRole (pre-defined) as opposed to a custom role


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    assignment_id: str
    role_id: str
    assigned_to: str  # a user id, a group id, or a service account's uniqueId
    assignee_type: AssigneeType | None  # None: absent or a value this connector does not know
    scope_type: str  # CUSTOMER, or ORG_UNIT (then org_unit_id): still an admin role either way
    org_unit_id: str | None = None
    condition: str | None = None


def _text(raw: Mapping[str, Any], key: str, what: str) -> str:
    value = raw.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # int64 ids travel as strings, but a number means the same
    if not isinstance(value, str) or not value:
        raise RoleParseError(f"{what}.{key}: missing")
    return value


def _optional(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) and value else None


def parse_role(raw: Any) -> Role:
    """One roles.list item."""
    if not isinstance(raw, Mapping):
        raise RoleParseError(f"roles.items[]: expected an object, got {type(raw).__name__}")
    role_id = _text(raw, "roleId", "role")
    name = _optional(raw, "roleName") or f"role:{role_id}"
    return Role(role_id, RoleId(name), raw.get("isSuperAdminRole") is True, raw.get("isSystemRole") is True)


def parse_assignment(raw: Any) -> RoleAssignment:
    """One roleAssignments.list item."""
    if not isinstance(raw, Mapping):
        raise RoleParseError(f"roleassignments.items[]: expected an object, got {type(raw).__name__}")
    what = f"roleAssignment {raw.get('roleAssignmentId', '?')}"
    try:
        assignee: AssigneeType | None = AssigneeType(str(raw.get("assigneeType")))
    except ValueError:
        assignee = None
    return RoleAssignment(
        assignment_id=_text(raw, "roleAssignmentId", "roleAssignment"),
        role_id=_text(raw, "roleId", what),
        assigned_to=_text(raw, "assignedTo", what),
        assignee_type=assignee,
        scope_type=_optional(raw, "scopeType") or "CUSTOMER",
        org_unit_id=_optional(raw, "orgUnitId"),
        condition=_optional(raw, "condition"),
    )


class MemberType(StrEnum):
    """``Member.type`` as the Directory reference documents it."""

    USER = "USER"
    GROUP = "GROUP"  # a nested group: with includeDerivedMembership its members are listed too
    CUSTOMER = "CUSTOMER"  # "all users in the domain"; id is the customer id, no email
    EXTERNAL = "EXTERNAL"  # documented as "currently unused"


@dataclass(frozen=True, slots=True)
class Member:
    member_id: str
    email: str | None
    member_type: MemberType | None  # None: absent or a value this connector does not know
    status: str | None  # ACTIVE, SUSPENDED, …: a suspended member still holds the role


def parse_member(raw: Any, what: str) -> Member:
    """One members.list item; ``what`` names the group and page for the message."""
    if not isinstance(raw, Mapping):
        raise RoleParseError(f"{what} members[]: expected an object, got {type(raw).__name__}")
    try:
        kind: MemberType | None = MemberType(str(raw.get("type")))
    except ValueError:
        kind = None
    return Member(_text(raw, "id", f"{what} member"), _optional(raw, "email"), kind, _optional(raw, "status"))


@dataclass(frozen=True, slots=True)
class GroupRead:
    """What members.list gave for one role-holding group. ``error`` set: the listing
    failed (members holds what was read before it failed, perhaps nothing)."""

    group_id: str
    members: tuple[Member, ...]
    error: str | None = None


def split_members(
    reads: Iterable[GroupRead], known: Iterable[AccountId]
) -> tuple[dict[str, list[AccountId]], dict[str, str], SourceIssue | None]:
    """(group id → member account ids among ``known``, group id → why it was not read in
    full, an issue for the members that are no listed user)."""
    people = set(known)
    memberships: dict[str, list[AccountId]] = {}
    unread: dict[str, str] = {}
    strays: dict[str, int] = defaultdict(int)
    named: list[str] = []
    for read in reads:
        if read.error is not None:
            unread[read.group_id] = read.error
        accounts: list[AccountId] = []
        for m in read.members:
            if m.member_type is MemberType.GROUP:
                continue  # includeDerivedMembership: its own members are listed as well
            if m.member_type is MemberType.CUSTOMER:
                # "All users in the domain": every one of them holds the group's role.
                accounts.extend(a for a in sorted(people) if a not in accounts)
                continue
            if m.member_type is MemberType.USER and AccountId(m.member_id) in people:
                if AccountId(m.member_id) not in accounts:
                    accounts.append(AccountId(m.member_id))
                continue
            label = str(m.member_type) if m.member_type is not None else "unknown type"
            if m.member_type is MemberType.USER:
                label = "USER not in users.list"
            strays[label] += 1
            named.append(f"group {read.group_id}: {label} {m.email or m.member_id}")
        if read.members or read.error is None:
            memberships[read.group_id] = accounts
    issue = None
    if strays:
        counts = ", ".join(f"{n} {label}" for label, n in sorted(strays.items()))
        issue = SourceIssue(
            codes.ROLE_GROUP_MEMBER_UNKNOWN,
            f"{sum(strays.values())} members of groups holding an admin role are no user of users.list, so no "
            f"account carries their role ({counts}): a service account, an external address, or a user deleted "
            f"or unreadable since. {_first(named)}",
        )
    return memberships, unread, issue


@dataclass(frozen=True, slots=True)
class Holder:
    """What users.list says about one user's privilege."""

    account_id: AccountId
    principal: str
    is_admin: bool  # isAdmin: super admin
    is_delegated_admin: bool  # isDelegatedAdmin


def flag_roles(is_admin: bool, is_delegated_admin: bool) -> tuple[RoleId, ...]:
    """The roles the flags alone support: used when the role APIs could not be read."""
    if is_admin:
        return (SUPER_ADMIN_ROLE,)
    if is_delegated_admin:
        return (DELEGATED_ADMIN_ROLE,)
    return ()


@dataclass(frozen=True, slots=True)
class Resolution:
    roles: Mapping[AccountId, tuple[RoleId, ...]]  # every holder, () when none
    issues: tuple[SourceIssue, ...]


def _first(items: list[str]) -> str:
    head = ", ".join(items[:_LIST_FIRST])
    return head + (", …" if len(items) > _LIST_FIRST else "")


def resolve(
    holders: Iterable[Holder],
    roles: Iterable[Role],
    assignments: Iterable[RoleAssignment],
    memberships: Mapping[str, Iterable[AccountId]],
    unread: Mapping[str, str] | None = None,
) -> Resolution:
    """Each holder's role names (sorted). ``memberships`` maps a group id to the member
    account ids the connector knows; ``unread`` maps a group id to why its members were
    not read (in full). A role given to a group not read in full is an issue naming role,
    group and reason; the members read get the role, the others keep what their flags give."""
    why = unread or {}
    people = {h.account_id: h for h in holders}
    by_id = {r.role_id: r for r in roles}
    super_name = next((r.name for r in by_id.values() if r.super_admin), SUPER_ADMIN_ROLE)
    held: dict[AccountId, set[RoleId]] = defaultdict(set)
    super_held: set[AccountId] = set()
    unexpanded: list[str] = []
    unknown_roles: set[str] = set()
    unknown_assignees: list[str] = []
    for a in assignments:
        role = by_id.get(a.role_id)
        if role is None:
            unknown_roles.add(a.role_id)
        name = role.name if role is not None else RoleId(f"role:{a.role_id}")
        targets: list[AccountId] = []
        if a.assignee_type is AssigneeType.GROUP:
            members = memberships.get(a.assigned_to)
            if members is None or a.assigned_to in why:
                reason = why.get(a.assigned_to, "members not read")
                read = "" if members is None else "; only the members read before that get the role"
                unexpanded.append(f"{name} → group {a.assigned_to} ({reason}{read})")
            targets = [m for m in members or () if m in people]
        elif AccountId(a.assigned_to) in people:
            targets = [AccountId(a.assigned_to)]
        else:
            unknown_assignees.append(f"{name} → {a.assignee_type or 'unknown type'} {a.assigned_to}")
        for target in targets:
            held[target].add(name)
            if role is not None and role.super_admin:
                super_held.add(target)

    flagged_super: list[str] = []
    flagged_delegated: list[str] = []
    for h in people.values():
        if h.is_admin and h.account_id not in super_held:
            held[h.account_id].add(super_name)
            super_held.add(h.account_id)
            flagged_super.append(h.principal)
        elif h.is_delegated_admin and not held.get(h.account_id):
            held[h.account_id].add(DELEGATED_ADMIN_ROLE)
            flagged_delegated.append(h.principal)

    issues: list[SourceIssue] = []
    if unexpanded:
        issues.append(
            SourceIssue(
                codes.ROLE_GROUP_UNEXPANDED,
                f"{len(unexpanded)} admin role assignments name a group whose members could not be read; "
                f"those members are privileged only if users.list flags them (isAdmin / isDelegatedAdmin): "
                f"{_first(unexpanded)}",
            )
        )
    if flagged_super:
        issues.append(
            SourceIssue(
                codes.ADMIN_FLAG_WITHOUT_ROLE,
                f"{len(flagged_super)} users have isAdmin true but no super-admin role assignment was read; "
                f"privileged from the flag as {super_name}: {_first(sorted(flagged_super))}",
            )
        )
    if flagged_delegated:
        issues.append(
            SourceIssue(
                codes.DELEGATED_FLAG_WITHOUT_ROLE,
                f"{len(flagged_delegated)} users have isDelegatedAdmin true but no role assignment was read; "
                f"privileged from the flag as {DELEGATED_ADMIN_ROLE} (which role is unknown): "
                f"{_first(sorted(flagged_delegated))}",
            )
        )
    if unknown_roles:
        issues.append(
            SourceIssue(
                codes.ROLE_UNKNOWN,
                f"{len(unknown_roles)} roles are assigned but not in roles.list; recorded as role:<roleId>, "
                f"privileged all the same: {_first(sorted(unknown_roles))}",
            )
        )
    if unknown_assignees:
        issues.append(
            SourceIssue(
                codes.ROLE_ASSIGNEE_UNKNOWN,
                f"{len(unknown_assignees)} admin role assignments name no user of users.list (a service account, "
                f"or a user deleted or unreadable since): {_first(unknown_assignees)}",
            )
        )
    return Resolution({aid: tuple(sorted(held.get(aid, ()))) for aid in people}, tuple(issues))


def group_members(pairs: Iterable[tuple[AccountId, Iterable[str]]]) -> dict[str, list[AccountId]]:
    """group id → member account ids, from what the accounts already say of their groups."""
    out: dict[str, list[AccountId]] = defaultdict(list)
    for account_id, groups in pairs:
        for group in groups:
            out[group].append(account_id)
    return dict(out)
