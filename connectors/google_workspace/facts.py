"""Which facts a Google Workspace collection read, and why not (``SourceSnapshot.facts``).

Google's Admin SDK states 2-Step Verification enrolment and enforcement per user
(Directory), counts security keys and passkeys (Reports usage), and logs each sign-in's
challenges (Reports login audit). The admin console's "allowed 2-Step Verification
methods" are not in the Directory or Reports API (Cloud Identity's Policy API, which
this connector does not call, holds them); the usage report's per-user
``accounts:is_less_secure_apps_access_allowed`` is not requested. Those two facts are
never read by this connector, and the snapshot says so.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.model import Fact, FactRead, SourceIssue
from connectors.google_workspace import codes

METHODS_POLICY_REASON = (
    "Google's allowed 2-Step Verification methods (an admin console setting per org unit) are not exposed "
    "by the Admin SDK Directory or Reports API this connector reads (Cloud Identity's Policy API, not called, "
    "holds them)"
)
LEGACY_AUTH_REASON = (
    "whether less secure apps (password-only IMAP/POP/SMTP) are allowed is not read: the usage report's "
    "per-user accounts:is_less_secure_apps_access_allowed is not requested by this connector"
)


def _first(issues: Iterable[SourceIssue], *codes: str) -> str | None:
    for i in issues:
        if i.code in codes and i.incomplete:
            return i.message
    return None


def google_facts(
    issues: Iterable[SourceIssue], *, roles_read: bool, sign_ins: bool, sign_ins_collected: bool
) -> tuple[FactRead, ...]:
    issues = tuple(issues)

    def by(fact: Fact, *codes: str) -> FactRead:
        why = _first(issues, *codes)
        return FactRead(fact, why is None, why or "")

    users = (codes.USERS_INCOMPLETE,)
    out = [
        by(Fact.ACCOUNTS, *users),
        # Enrolment comes from the Directory; the usage report only refines the kind.
        by(Fact.METHODS, *users),
        # 2SV enforcement per user (isEnforcedIn2Sv) is the policy.
        by(Fact.POLICIES, *users),
        FactRead(Fact.METHODS_POLICY, False, METHODS_POLICY_REASON),
        FactRead(Fact.ROLES, True)
        if roles_read
        else FactRead(
            Fact.ROLES, False, "admin role assignments not read: privileged accounts known only from isAdmin flags"
        ),
        by(Fact.ACCESS, *users, codes.ORG_UNITS_UNREADABLE),
        by(Fact.SIGN_IN_TIMES, *users),
    ]
    if sign_ins_collected:
        out.append(FactRead(Fact.SIGN_IN_LOG, True))
    elif not sign_ins:
        out.append(FactRead(Fact.SIGN_IN_LOG, False, "the login audit was not requested for this run"))
    else:
        refused = next((i.message for i in issues if i.code.startswith(codes.LOGIN_AUDIT)), "")
        out.append(FactRead(Fact.SIGN_IN_LOG, False, refused or "the login audit was not read"))
    out.append(FactRead(Fact.LEGACY_AUTH, False, LEGACY_AUTH_REASON))
    return tuple(out)
