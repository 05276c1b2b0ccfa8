"""Which facts a file source read (``SourceSnapshot.facts``).

An export states what it holds. The CSV layout has a column for accounts, their
methods, privilege, last sign-in, portals and enforcement, and none for the tenant's
methods policy, a sign-in log or legacy protocols: those are not read. A JSON document
that states its own facts keeps them; otherwise they follow from what it holds.
"""

from __future__ import annotations

from auditor.model import Fact, FactRead, SourceSnapshot

NO_METHODS_POLICY = "an export file holds no methods policy of its source"
NO_SIGN_IN_LOG = "the export file holds no sign-in log"
NO_LEGACY_AUTH = "the export file does not say whether legacy protocols are blocked"

# Facts every export of either layout carries (the CSV's required columns).
_ALWAYS = (Fact.ACCOUNTS, Fact.METHODS, Fact.POLICIES, Fact.ROLES, Fact.ACCESS, Fact.SIGN_IN_TIMES)


def csv_facts() -> tuple[FactRead, ...]:
    return (
        *(FactRead(f, True) for f in _ALWAYS),
        FactRead(Fact.METHODS_POLICY, False, NO_METHODS_POLICY),
        FactRead(Fact.SIGN_IN_LOG, False, NO_SIGN_IN_LOG),
        FactRead(Fact.LEGACY_AUTH, False, NO_LEGACY_AUTH),
    )


def json_facts(snap: SourceSnapshot) -> tuple[FactRead, ...]:
    if snap.facts:
        return snap.facts
    return (
        *(FactRead(f, True) for f in _ALWAYS),
        FactRead(Fact.METHODS_POLICY, True)
        if snap.method_policy
        else FactRead(Fact.METHODS_POLICY, False, NO_METHODS_POLICY),
        FactRead(Fact.SIGN_IN_LOG, True)
        if snap.sign_ins_collected
        else FactRead(Fact.SIGN_IN_LOG, False, NO_SIGN_IN_LOG),
        FactRead(Fact.LEGACY_AUTH, True)
        if snap.legacy_auth_blocked is not None
        else FactRead(Fact.LEGACY_AUTH, False, NO_LEGACY_AUTH),
    )
