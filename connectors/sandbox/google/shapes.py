"""The sample organisation's Google truth in Admin SDK shapes (users, org units, user
usage report rows, login audit activities). Pure functions of the truth."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from auditor.model import Account, MethodKind, SignIn, SignInFactor, SourceSnapshot
from connectors.sandbox.sample_org import DOMAIN, OrgUnit

CUSTOMER_ID = "C0sandbox1"
SUPER_ADMIN_ROLE = "_SEED_ADMIN_ROLE"
NEVER = "1970-01-01T00:00:00.000Z"
Json = dict[str, Any]


def rfc3339(when: datetime | None) -> str:
    if when is None:
        return NEVER
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _archived(account: Account) -> bool:
    # A third of the disabled accounts are archived (former staff), the rest suspended.
    return not account.enabled and int(account.id) % 3 == 0


def user(account: Account, *, admin_flags: bool = True) -> Json:
    """A users.list record; ``admin_flags=False`` serves isAdmin / isDelegatedAdmin as false
    (flags that disagree with the role assignments, which then must win)."""
    first, _, last = account.display_name.partition(" ")
    enrolled = bool(account.methods)
    return {
        "kind": "admin#directory#user",
        "id": account.id,
        "etag": f'"{account.id}"',
        "primaryEmail": account.principal,
        "name": {"givenName": first, "familyName": last, "fullName": account.display_name},
        "isAdmin": admin_flags and SUPER_ADMIN_ROLE in account.roles,
        "isDelegatedAdmin": admin_flags and any(r != SUPER_ADMIN_ROLE for r in account.roles),
        "lastLoginTime": rfc3339(account.last_sign_in),
        "creationTime": rfc3339(account.created),
        "agreedToTerms": True,
        "suspended": not account.enabled and not _archived(account),
        "archived": _archived(account),
        "changePasswordAtNextLogin": False,
        "ipWhitelisted": False,
        "emails": [{"address": account.principal, "primary": True}],
        "customerId": CUSTOMER_ID,
        "orgUnitPath": account.attributes.get("org_unit", "/"),
        "isMailboxSetup": True,
        "isEnrolledIn2Sv": enrolled,
        "isEnforcedIn2Sv": account.attributes.get("2sv_enforced") == "true",
        "includeInGlobalAddressList": True,
    }


def org_unit(ou: OrgUnit, index: int) -> Json:
    return {
        "kind": "admin#directory#orgUnit",
        "name": ou.name,
        "description": f"{ou.name} (2SV {'enforced' if ou.enforce_2sv else 'not enforced'})",
        "orgUnitPath": ou.path,
        "orgUnitId": f"id:03ph8a2z{index:04d}",
        "parentOrgUnitPath": "/",
        "parentOrgUnitId": "id:03ph8a2z0000",
    }


def usage_row(account: Account, day: date, wanted: set[str] | None) -> Json:
    keys = sum(1 for m in account.methods if m.kind is MethodKind.FIDO2_SECURITY_KEY)
    passkeys = sum(1 for m in account.methods if m.kind is MethodKind.PASSKEY)
    params: list[Json] = [
        {"name": "accounts:is_2sv_enrolled", "boolValue": bool(account.methods)},
        {"name": "accounts:is_2sv_enforced", "boolValue": account.attributes.get("2sv_enforced") == "true"},
        {"name": "accounts:num_security_keys", "intValue": str(keys)},
        {"name": "accounts:num_passkeys_enrolled", "intValue": str(passkeys)},
        {"name": "accounts:is_suspended", "boolValue": not account.enabled and not _archived(account)},
        {"name": "accounts:is_archived", "boolValue": _archived(account)},
        {"name": "accounts:timestamp_last_login", "datetimeValue": rfc3339(account.last_sign_in)},
    ]
    return {
        "kind": "admin#reports#usageReport",
        "date": day.isoformat(),
        "etag": f'"{account.id}-{day.isoformat()}"',
        "entity": {"customerId": CUSTOMER_ID, "userEmail": account.principal, "profileId": account.id, "type": "USER"},
        "parameters": [p for p in params if wanted is None or p["name"] in wanted],
    }


_SECOND = {
    MethodKind.FIDO2_SECURITY_KEY: "security_key",
    MethodKind.PASSKEY: "passkey",
    MethodKind.UNSPECIFIED_SECOND_FACTOR: "google_prompt",
}


def login_activity(sign_in: SignIn, account: Account, n: int) -> Json:
    challenge = ["password"]
    if sign_in.factor is SignInFactor.MULTI:
        second = next((_SECOND.get(m.kind, "google_authenticator") for m in account.methods), "google_prompt")
        challenge = ["password", second] if second != "passkey" else ["passkey"]
    # Google documents the parameter as a string but usually sends multiValue: serve both.
    method_param: Json = (
        {"name": "login_challenge_method", "multiValue": challenge}
        if n % 2 == 0 or len(challenge) > 1
        else {"name": "login_challenge_method", "value": challenge[0]}
    )
    # A sign-in at a SAML identity provider (client_app "saml"): Google records the login
    # type and no password challenge of its own; a second step only if Google asked one.
    saml = sign_in.client_app == "saml"
    params: list[Json] = [{"name": "login_type", "value": "saml" if saml else "google_password"}]
    if not saml or sign_in.factor is SignInFactor.MULTI:
        params.append(method_param if not saml else {"name": "login_challenge_method", "multiValue": challenge[1:]})
    params += [
        {"name": "is_second_factor", "boolValue": sign_in.factor is SignInFactor.MULTI},
        {"name": "is_suspicious", "boolValue": False},
    ]
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": rfc3339(sign_in.time),
            "uniqueQualifier": str(10**17 + n),
            "applicationName": "login",
            "customerId": CUSTOMER_ID,
        },
        "actor": {"email": account.principal, "profileId": account.id},
        "ipAddress": f"203.0.113.{n % 250 + 1}",
        "events": [{"type": "login", "name": "login_success", "parameters": params}],
    }


def derived_sign_ins(truth: SourceSnapshot, start: date, now: datetime) -> tuple[SignIn, ...]:
    """Login events to serve when the truth carries none: one per third enabled account,
    multi-factor when it has a method, spread over the period. Deterministic."""
    portal_of = {a.account_id: a.portal_id for a in truth.access}
    begin = datetime.combine(start, datetime.min.time(), UTC)
    span = max(int((now - begin).total_seconds()), 1)
    out = []
    for i, account in enumerate(truth.accounts):
        if i % 3 or not account.enabled or account.id not in portal_of:
            continue
        when = begin + timedelta(seconds=(i * 7919 * 13) % span)
        factor = SignInFactor.MULTI if account.methods else SignInFactor.SINGLE
        out.append(SignIn(account.id, portal_of[account.id], when, factor, "google_password"))
    return tuple(sorted(out, key=lambda s: (s.time, s.account_id)))


# --- admin roles (roles.list, roleAssignments.list) -----------------------------------------

# Google's pre-defined (system) roles: (roleName, roleDescription). Only the first is the
# super admin role; the truth's other role names are served as custom roles.
SYSTEM_ROLES = (
    (SUPER_ADMIN_ROLE, "Google Apps Administrator Seed Role"),
    ("_GROUPS_ADMIN_ROLE", "Groups Administrator"),
    ("_USER_MANAGEMENT_ADMIN_ROLE", "User Management Administrator"),
    ("_HELP_DESK_ADMIN_ROLE", "Help Desk Administrator"),
    ("_SERVICE_ADMIN_ROLE", "Services Administrator"),
    ("_MOBILE_ADMIN_ROLE", "Mobile Administrator"),
    ("_GROUPS_READER_ROLE", "Groups Reader"),
    ("_GROUPS_EDITOR_ROLE", "Groups Editor"),
)
ROLE_ID_BASE = 9170516996784128  # role ids are int64 in strings
ASSIGNMENT_ID_BASE = 9170516996790000
SERVICE_ID = "00haapch16h1ysv"  # an obfuscated service id, as privileges.list gives them


def _role(role_id: int, name: str, description: str, *, system: bool, super_admin: bool) -> Json:
    privileges = [{"privilegeName": "USERS_RETRIEVE", "serviceId": SERVICE_ID}]
    if super_admin:
        privileges += [
            {"privilegeName": "SUPER_ADMIN", "serviceId": SERVICE_ID},
            {"privilegeName": "ORGANIZATION_UNITS_ALL", "serviceId": SERVICE_ID},
        ]
    return {
        "kind": "admin#directory#role",
        "etag": f'"role-{role_id}"',
        "roleId": str(role_id),
        "roleName": name,
        "roleDescription": description,
        "rolePrivileges": privileges,
        "isSystemRole": system,
        "isSuperAdminRole": super_admin,
    }


def role_catalogue(truth: SourceSnapshot, descriptions: dict[str, str]) -> list[Json]:
    """The system roles, then one custom role per other role name the truth's accounts hold."""
    out = [
        _role(ROLE_ID_BASE + i, name, desc, system=True, super_admin=name == SUPER_ADMIN_ROLE)
        for i, (name, desc) in enumerate(SYSTEM_ROLES)
    ]
    system = {name for name, _ in SYSTEM_ROLES}
    custom = sorted({r for a in truth.accounts for r in a.roles} - system)
    out += [
        _role(ROLE_ID_BASE + 1000 + i, name, descriptions.get(name, name), system=False, super_admin=False)
        for i, name in enumerate(custom)
    ]
    return out


def group_id(index: int) -> str:
    return f"02et92p0{index:07d}"  # Google group ids are 15 characters


def role_assignments(
    truth: SourceSnapshot,
    roles: list[Json],
    org_units: tuple[OrgUnit, ...],
    *,
    group_roles: frozenset[str] = frozenset(),
    hidden: frozenset[str] = frozenset(),
) -> list[Json]:
    """One assignment per (account, role) of the truth, in account order. Every second
    non-super-admin assignment is scoped to the holder's org unit (still an admin role).
    A role in ``group_roles`` is given instead to one group holding its holders
    (assigneeType group); accounts in ``hidden`` (ids or e-mails) get no assignment at all."""
    role_ids = {r["roleName"]: r["roleId"] for r in roles}
    super_name = next(r["roleName"] for r in roles if r["isSuperAdminRole"])
    ou_ids = {ou.path: f"03ph8a2z{i + 1:04d}" for i, ou in enumerate(org_units)}
    out: list[Json] = []
    grouped: list[str] = []

    def add(role: str, assigned_to: str, kind: str, org_unit: str | None) -> None:
        item: Json = {
            "kind": "admin#directory#roleAssignment",
            "etag": f'"assignment-{len(out)}"',
            "roleAssignmentId": str(ASSIGNMENT_ID_BASE + len(out)),
            "roleId": role_ids[role],
            "assignedTo": assigned_to,
            "assigneeType": kind,
            "scopeType": "ORG_UNIT" if org_unit else "CUSTOMER",
        }
        if org_unit:
            item["orgUnitId"] = org_unit
        out.append(item)

    scoped = 0
    for account in truth.accounts:
        if account.id in hidden or account.principal in hidden:
            continue
        for role in account.roles:
            if role in group_roles:
                if role not in grouped:
                    grouped.append(role)
                    add(role, group_id(len(grouped)), "group", None)
                continue
            org_unit = None
            if role != super_name:
                scoped += 1
                org_unit = ou_ids.get(account.attributes.get("org_unit", "/")) if scoped % 2 == 0 else None
            add(role, account.id, "user", org_unit)
    return out


# --- group members (members.list) ------------------------------------------------------------

NESTED_GROUP_BASE = 500  # nested groups' ids: group_id(NESTED_GROUP_BASE + n)


def member(account: Account) -> Json:
    """A members.list entry for a user."""
    return {
        "kind": "admin#directory#member",
        "etag": f'"member-{account.id}"',
        "id": account.id,
        "email": account.principal,
        "role": "MEMBER",
        "type": "USER",
        "status": "ACTIVE" if account.enabled else "SUSPENDED",
    }


def group_member(gid: str) -> Json:
    """A members.list entry for a nested group."""
    return {
        "kind": "admin#directory#member",
        "etag": f'"member-{gid}"',
        "id": gid,
        "email": f"group-{gid}@{DOMAIN}",
        "role": "MEMBER",
        "type": "GROUP",
        "status": "ACTIVE",
    }


def role_groups(
    truth: SourceSnapshot,
    roles: list[Json],
    assignments: list[Json],
    *,
    hidden: frozenset[str] = frozenset(),
    nest: bool = False,
) -> dict[str, list[Json]]:
    """group id → its direct members, for every group an assignment names: the holders of
    the group's role in the truth. ``nest``: the second half of the holders sits instead in
    a nested group (not itself holding a role) that is a member of the role's group."""
    names = {r["roleId"]: r["roleName"] for r in roles}
    out: dict[str, list[Json]] = {}
    for a in assignments:
        if a["assigneeType"] != "group" or a["assignedTo"] in out:
            continue
        role = names[a["roleId"]]
        holders = [
            member(acct)
            for acct in truth.accounts
            if role in acct.roles and acct.id not in hidden and acct.principal not in hidden
        ]
        if nest and len(holders) > 1:
            inner = group_id(NESTED_GROUP_BASE + len(out))
            half = len(holders) // 2
            out[inner] = holders[half:]
            holders = [*holders[:half], group_member(inner)]
        out[a["assignedTo"]] = holders
    return out
