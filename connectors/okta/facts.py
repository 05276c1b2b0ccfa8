"""Which facts an Okta collection read, and why not (``SourceSnapshot.facts``).

Read from the issues the collection recorded: a phase that failed (an incomplete issue
of its code) did not read its fact. The org's authenticator availability
(``/api/v1/authenticators``) is read on Identity Engine only; a legacy-protocol switch is
never read (Okta has no tenant-wide one).
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.model import Fact, FactRead, SourceIssue
from connectors.okta import codes

METHODS_POLICY_REASON = (
    "Okta's authenticator availability (/api/v1/authenticators) was not read: registered factors are judged "
    "against the policies' constraints only"
)
CLASSIC_REASON = (
    "Okta Classic Engine has no authenticators API (/api/v1/authenticators): registered factors are judged "
    "against the sign-on policies only"
)
LEGACY_AUTH_REASON = "Okta has no tenant-wide legacy-protocol switch that this connector reads"

_PHASES: dict[Fact, tuple[str, ...]] = {
    Fact.ACCOUNTS: (codes.USERS_INCOMPLETE,),
    Fact.METHODS: (codes.USERS_INCOMPLETE, codes.FACTORS_UNREADABLE),
    Fact.POLICIES: (codes.POLICIES_UNREADABLE,),
    Fact.ROLES: (codes.USERS_INCOMPLETE, codes.ROLES_UNREADABLE, codes.GROUPS_UNREADABLE),
    Fact.ACCESS: (
        codes.APPS_UNREADABLE,
        codes.APP_ASSIGNMENTS_UNREADABLE,
        codes.GROUPS_UNREADABLE,
        codes.GROUP_MEMBERS_UNREADABLE,
    ),
    Fact.SIGN_IN_TIMES: (codes.USERS_INCOMPLETE,),
}


def okta_facts(
    issues: Iterable[SourceIssue],
    *,
    sign_ins: bool,
    sign_ins_collected: bool,
    methods_policy_unread: str = METHODS_POLICY_REASON,
) -> tuple[FactRead, ...]:
    """``methods_policy_unread``: why the authenticator availability was not read; empty
    when it was."""
    issues = tuple(issues)
    out = []
    for fact, phase_codes in _PHASES.items():
        why = next((i.message for i in issues if i.code in phase_codes and i.incomplete), None)
        out.append(FactRead(fact, why is None, why or ""))
    out.append(FactRead(Fact.METHODS_POLICY, not methods_policy_unread, methods_policy_unread))
    if sign_ins_collected:
        out.append(FactRead(Fact.SIGN_IN_LOG, True))
    elif not sign_ins:
        out.append(FactRead(Fact.SIGN_IN_LOG, False, "the system log was not requested for this run"))
    else:
        why = next((i.message for i in issues if i.code in (codes.LOGS_REFUSED, codes.LOGS_INCOMPLETE)), "")
        out.append(FactRead(Fact.SIGN_IN_LOG, False, why or "the system log was not read"))
    out.append(FactRead(Fact.LEGACY_AUTH, False, LEGACY_AUTH_REASON))
    return tuple(out)
