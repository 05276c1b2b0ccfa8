"""Which facts each source read, and why not.

A source snapshot declares them (``SourceSnapshot.facts``). Snapshots written before
that existed, or a connector that leaves a fact out, are read from the older flags:
the sign-in log from ``sign_ins_collected`` (or sign-ins present), the legacy-authentication state from
``legacy_auth_blocked``, the authentication-methods policy from ``method_policy``
(absent: not read, and every registered method is then assumed allowed), and the coded
issues that said a fact was not read (``<connector>.last_sign_in_unread``,
``<connector>.sign_ins_unread``). The other facts were read whenever the source is
complete: that is what "complete" meant before facts were declared one by one.
"""

from __future__ import annotations

from collections.abc import Mapping

from auditor.model import Fact, FactRead, SourceSnapshot

# How page one names a fact that was not read: "<rule> not evaluated on <source>: <this> (<reason>)".
NOT_READ: Mapping[Fact, str] = {
    Fact.ACCOUNTS: "accounts were not read",
    Fact.METHODS: "registered methods were not read",
    Fact.POLICIES: "MFA policies were not read",
    Fact.METHODS_POLICY: "the authentication-methods policy was not read",
    Fact.ROLES: "privileged role assignments were not read",
    Fact.ACCESS: "application assignments were not read",
    Fact.SIGN_IN_TIMES: "last sign-in times were not read",
    Fact.SIGN_IN_LOG: "the sign-in log was not read",
    Fact.LEGACY_AUTH: "the legacy-authentication state was not read",
}


# Coded issues that older connectors recorded instead of a fact ("<connector>.<code>"):
# the fact was not read, and the issue's message says why.
_UNREAD_BY_ISSUE: Mapping[str, Fact] = {
    "last_sign_in_unread": Fact.SIGN_IN_TIMES,
    "sign_ins_unread": Fact.SIGN_IN_LOG,
}


def _legacy(snap: SourceSnapshot, fact: Fact) -> FactRead:
    for issue in snap.issues:
        if _UNREAD_BY_ISSUE.get(issue.code.rpartition(".")[2]) is fact:
            return FactRead(fact, False, issue.message)
    if fact is Fact.SIGN_IN_LOG:
        read = snap.sign_ins_collected or bool(snap.sign_ins)
        return FactRead(fact, read, "" if read else "not collected")
    if fact is Fact.LEGACY_AUTH:
        known = snap.legacy_auth_blocked is not None
        return FactRead(fact, known, "" if known else "not reported by the connector")
    if fact is Fact.METHODS_POLICY:
        known = bool(snap.method_policy)
        return FactRead(
            fact, known, "" if known else "not reported by the connector; registered methods assumed allowed"
        )
    return FactRead(fact, True)


def source_facts(snap: SourceSnapshot) -> Mapping[Fact, FactRead]:
    """Every fact's status on ``snap``: declared where the source declared it, else derived."""
    declared = {f.fact: f for f in snap.facts}
    return {fact: declared.get(fact) or _legacy(snap, fact) for fact in Fact}


def not_read_reason(read: FactRead) -> str:
    text = NOT_READ[read.fact]
    return f"{text} ({read.reason})" if read.reason else text
