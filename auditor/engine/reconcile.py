"""Population reconciliation: for every source, accounts read = evaluated + out of scope
(by reason) + unreadable (by error). The report prints this table; figures that do not
add up are a bug, so the same scope decision (``ScopeFilter``) serves the coverage
engine and this count."""

from __future__ import annotations

from collections import Counter
from enum import StrEnum

from auditor.config.schema import EvaluationPolicy
from auditor.engine.identity import normalise
from auditor.model import Account, AccountKind, Reconciliation, SourceSnapshot


class OutOfScope(StrEnum):
    """Why an account read from a source is not evaluated. The first that applies wins,
    in this order: the config names it, it is disabled, its kind is not counted."""

    EXCLUDED_BY_CONFIG = "excluded_by_config"
    DISABLED = "disabled"
    SERVICE = "service"
    GUEST = "guest"
    HUMAN = "human"  # humans are out of scope only when the config's account_kinds leaves them out


_KIND_REASON = {
    AccountKind.SERVICE: OutOfScope.SERVICE,
    AccountKind.GUEST: OutOfScope.GUEST,
    AccountKind.HUMAN: OutOfScope.HUMAN,
}


class ScopeFilter:
    """Decides which accounts the engine evaluates (``policy.account_kinds``,
    ``include_disabled``, ``excluded_accounts``)."""

    __slots__ = ("_excluded", "_include_disabled", "_kinds")

    def __init__(self, policy: EvaluationPolicy) -> None:
        self._kinds = frozenset(policy.account_kinds)
        self._include_disabled = policy.include_disabled
        self._excluded = frozenset(normalise(p) for p in policy.excluded_accounts)

    def reason(self, account: Account) -> OutOfScope | None:
        """None when the account is in scope."""
        if self._excluded and normalise(account.principal) in self._excluded:
            return OutOfScope.EXCLUDED_BY_CONFIG
        if not account.enabled and not self._include_disabled:
            return OutOfScope.DISABLED
        if account.kind not in self._kinds:
            return _KIND_REASON[account.kind]
        return None


def reconcile_source(snap: SourceSnapshot, scope: ScopeFilter) -> Reconciliation:
    out: Counter[str] = Counter()
    evaluated = 0
    reason = scope.reason
    for account in snap.accounts:
        why = reason(account)
        if why is None:
            evaluated += 1
        else:
            out[why.value] += 1
    unreadable = Counter(u.reason for u in snap.unreadable)
    return Reconciliation(
        source=snap.source,
        read=len(snap.accounts) + len(snap.unreadable),
        evaluated=evaluated,
        out_of_scope=dict(sorted(out.items())),
        unreadable=dict(sorted(unreadable.items())),
    )
