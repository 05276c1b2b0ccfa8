"""Writing a source snapshot in the ``file`` connector's formats (the demo and tests use
it to turn the sample organisation's truth into export files).

JSON keeps everything. CSV keeps what its layout has columns for: accounts, methods
(kind and status), roles, groups, department, the portals each account reaches, and
one enforcement level per account, computed conservatively from the policies (see
``account_enforcement``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from auditor.evidence.serialise import source_snapshot_to_json
from auditor.model import (
    Account,
    AccountKind,
    MethodStatus,
    Policy,
    PolicyState,
    PortalId,
    PortalScope,
    Requirement,
    Scope,
    SourceSnapshot,
)
from connectors.file.csv_format import ALL_COLUMNS, LIST_SEPARATOR, STATUS_SEPARATOR


def write_json(snapshot: SourceSnapshot, path: Path) -> None:
    path.write_text(source_snapshot_to_json(snapshot, indent=1) + "\n", encoding="utf-8")


def write_csv(snapshot: SourceSnapshot, path: Path) -> None:
    portals_of: dict[str, list[str]] = {}
    for access in snapshot.access:
        ids = portals_of.setdefault(access.account_id, [])
        if access.portal_id not in ids:
            ids.append(access.portal_id)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(ALL_COLUMNS)
        for account in snapshot.accounts:
            portal_ids = portals_of.get(account.id, [])
            writer.writerow(_row(account, portal_ids, account_enforcement(account, portal_ids, snapshot.policies)))


def _time(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _row(account: Account, portal_ids: Sequence[str], enforcement: Requirement) -> list[str]:
    methods = [
        m.kind.value if m.status is MethodStatus.ACTIVE else f"{m.kind.value}{STATUS_SEPARATOR}{m.status.value}"
        for m in account.methods
    ]
    cells = {
        "id": account.id,
        "principal": account.principal,
        "name": account.display_name,
        "kind": account.kind.value,
        "enabled": "true" if account.enabled else "false",
        "privileged": "true" if account.privileged else "false",
        "last_sign_in": _time(account.last_sign_in),
        "methods": LIST_SEPARATOR.join(methods),
        "portals": LIST_SEPARATOR.join(portal_ids),
        "groups": LIST_SEPARATOR.join(account.groups),
        "enforcement": enforcement.value,
        "roles": LIST_SEPARATOR.join(account.roles),
        "created": _time(account.created),
        "department": account.attributes.get("department", ""),
    }
    return [cells[c] for c in ALL_COLUMNS]


def _in_scope(scope: Scope, account: Account) -> bool:
    guest = account.kind is AccountKind.GUEST
    included = (
        scope.include_all
        or account.id in scope.include_users
        or any(g in scope.include_groups for g in account.groups)
        or any(r in scope.include_roles for r in account.roles)
        or (scope.include_guests and guest)
    )
    excluded = (
        account.id in scope.exclude_users
        or any(g in scope.exclude_groups for g in account.groups)
        or any(r in scope.exclude_roles for r in account.roles)
        or (scope.exclude_guests and guest)
    )
    return included and not excluded


def _on_portal(portals: PortalScope, portal: str | None) -> bool:
    if portal is None:  # an account with no portal: only a policy on every portal counts
        return portals.all and not portals.excluded_ids
    return (portals.all or PortalId(portal) in portals.ids) and PortalId(portal) not in portals.excluded_ids


def _requirement(account: Account, portal: str | None, policies: Iterable[Policy]) -> Requirement:
    best = Requirement.NONE
    for policy in policies:
        if policy.state is not PolicyState.ENFORCED:
            continue
        for rule in policy.rules:
            if not (_in_scope(rule.scope, account) and _on_portal(rule.portals, portal)):
                continue
            if rule.conditions:
                continue  # applies to some sign-ins only: a single CSV level cannot claim it
            if rule.requirement.rank > best.rank:
                best = rule.requirement
            break  # first unconditional match ends the walk
    return best


def account_enforcement(account: Account, portal_ids: Sequence[str], policies: Sequence[Policy]) -> Requirement:
    """The one level a CSV row can state: the weakest, over the account's portals, of the
    strictest unconditional requirement of the enforced policies. Conditional rules and
    per-portal differences are lost, in the direction that never overstates protection."""
    levels = [_requirement(account, p, policies) for p in portal_ids] or [_requirement(account, None, policies)]
    return min(levels, key=lambda r: r.rank)
