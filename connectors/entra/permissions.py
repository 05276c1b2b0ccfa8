"""The Graph application permissions the connector needs, and why (for
``mfa-audit validate`` and docs/entra.md)."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.interfaces import PermissionCheck


@dataclass(frozen=True, slots=True)
class Needed:
    name: str
    purpose: str
    also_accepted: tuple[str, ...] = ()  # broader permissions that include this one


NEEDED: tuple[Needed, ...] = (
    Needed(
        "User.Read.All", "list accounts: enabled, user type, creation date, on-premises sync", ("Directory.Read.All",)
    ),
    Needed(
        "AuditLog.Read.All",
        "authentication-method registration report, last sign-in (signInActivity) and the sign-in log",
    ),
    Needed(
        "UserAuthenticationMethod.Read.All",
        "per-user authentication methods where the registration report is refused (no Entra ID P1/P2) "
        "or misses an account",
    ),
    Needed(
        "RoleManagement.Read.Directory",
        "active and PIM-eligible directory role assignments: who is privileged",
        ("RoleManagement.Read.All",),
    ),
    Needed(
        "Application.Read.All",
        "enterprise applications (portals), whether they require assignment, and who is assigned",
        ("Directory.Read.All",),
    ),
    Needed(
        "GroupMember.Read.All",
        "transitive members of the groups that app assignments, roles and policies name",
        ("Group.Read.All", "Directory.Read.All"),
    ),
    Needed(
        "Policy.Read.All",
        "Conditional Access policies, named locations, authentication strengths, the authentication methods "
        "policy, security defaults, per-user MFA",
    ),
)


def permission_report(roles: tuple[str, ...] | None) -> tuple[PermissionCheck, ...]:
    out = []
    for need in NEEDED:
        accepted = (need.name, *need.also_accepted)
        if roles is None:
            out.append(PermissionCheck(need.name, need.purpose, None, "the token's roles claim could not be read"))
            continue
        held = [r for r in accepted if r in roles]
        if held:
            detail = "granted" if held[0] == need.name else f"granted through {held[0]}"
            out.append(PermissionCheck(need.name, need.purpose, True, detail))
        else:
            alt = f" (or {', '.join(need.also_accepted)})" if need.also_accepted else ""
            out.append(
                PermissionCheck(need.name, need.purpose, False, f"missing: grant the application permission{alt}")
            )
    return tuple(out)
