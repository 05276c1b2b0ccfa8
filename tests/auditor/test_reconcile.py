"""Population reconciliation always balances: accounts read = evaluated + out of scope
(by reason) + unreadable (by reason), and agrees with the coverage rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.config.schema import EvaluationConfig, EvaluationPolicy
from auditor.engine.evaluate import evaluate
from auditor.engine.reconcile import OutOfScope, ScopeFilter, reconcile_source
from auditor.model import (
    Access,
    Account,
    AccountId,
    AccountKind,
    PortalId,
    Snapshot,
    SourceName,
    SourceSnapshot,
    UnreadableRecord,
)

NOW = datetime(2026, 11, 15, tzinfo=UTC)
PRINCIPALS = ("ann@x.org", "bob@x.org", "carl@x.org", "dee@x.org")

accounts_st = st.lists(
    st.tuples(st.sampled_from(AccountKind), st.booleans(), st.sampled_from(PRINCIPALS)), max_size=40
).map(
    lambda rows: tuple(
        Account(SourceName("s"), AccountId(f"a{i}"), p, p, kind, enabled) for i, (kind, enabled, p) in enumerate(rows)
    )
)
unreadable_st = st.lists(st.sampled_from(("HTTP 500", "bad json", "missing id")), max_size=5).map(
    lambda reasons: tuple(UnreadableRecord(f"rec{i}", r) for i, r in enumerate(reasons))
)
policy_st = st.builds(
    EvaluationPolicy,
    account_kinds=st.frozensets(st.sampled_from(AccountKind)),
    include_disabled=st.booleans(),
    excluded_accounts=st.lists(st.sampled_from([p.upper() for p in PRINCIPALS]), max_size=2).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(accounts=accounts_st, unreadable=unreadable_st, policy=policy_st)
def test_reconciliation_always_balances(
    accounts: tuple[Account, ...], unreadable: tuple[UnreadableRecord, ...], policy: EvaluationPolicy
) -> None:
    source = SourceSnapshot(
        SourceName("s"),
        "file",
        NOW,
        True,
        accounts,
        access=tuple(Access(a.id, PortalId("app")) for a in accounts),
        unreadable=unreadable,
    )
    rec = reconcile_source(source, ScopeFilter(policy))
    assert rec.balanced
    assert rec.read == len(accounts) + len(unreadable)
    assert sum(rec.unreadable.values()) == len(unreadable)
    assert set(rec.out_of_scope) <= {r.value for r in OutOfScope}
    assert all(n > 0 for n in rec.out_of_scope.values())
    # The engine evaluates exactly the accounts reconciliation counts as evaluated.
    snapshot = Snapshot("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "d", (source,))
    result = evaluate(snapshot, EvaluationConfig(policy=policy), now=NOW, run_id="t")
    assert result.reconciliation == (rec,)
    assert len({r.account_id for r in result.coverage}) == rec.evaluated
    if not policy.include_disabled:
        assert rec.out_of_scope.get("disabled", 0) == sum(
            1 for a in accounts if not a.enabled and a.principal.upper() not in policy.excluded_accounts
        )


def test_reasons_in_order_config_then_disabled_then_kind() -> None:
    policy = EvaluationPolicy(excluded_accounts=("Ann@X.org",))
    accounts = (
        Account(SourceName("s"), AccountId("1"), "ann@x.org", "", AccountKind.SERVICE, False),
        Account(SourceName("s"), AccountId("2"), "bob@x.org", "", AccountKind.SERVICE, False),
        Account(SourceName("s"), AccountId("3"), "carl@x.org", "", AccountKind.SERVICE, True),
        Account(SourceName("s"), AccountId("4"), "dee@x.org", "", AccountKind.HUMAN, True),
    )
    rec = reconcile_source(SourceSnapshot(SourceName("s"), "file", NOW, True, accounts), ScopeFilter(policy))
    assert rec.out_of_scope == {"disabled": 1, "excluded_by_config": 1, "service": 1}
    assert rec.evaluated == 1
