from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console

from auditor.model import Severity
from auditor.queries import history, history_output
from auditor.store.database import EvidenceStore, StoredRun, short_run_id
from connectors.sandbox.sample_org import SampleOrg
from tests.support import store as sup

Key = tuple[str, str, str, str]


def expected_keys(org: SampleOrg, source: str, ids: set[str]) -> set[Key]:
    """MFA-001 keys the toy evaluator must give these accounts: one per sensitive access,
    computed from the access list, not from any evaluation."""
    snap = org.sources[source]
    return {
        ("MFA-001", source, x.account_id, x.portal_id)
        for x in snap.access
        if x.account_id in ids and sup.sensitivity(x.portal_id).is_sensitive
    }


def all_expected(org: SampleOrg) -> set[Key]:
    out: set[Key] = set()
    for source in org.sources:  # every source of the sample organisation
        out |= expected_keys(org, source, set(sup.sensitive_unenrolled(org, source)))
    return out


def save(store: EvidenceStore, org: SampleOrg, run_id: str) -> StoredRun:
    snapshot = sup.snapshot_of(org)
    result = sup.toy_evaluate(snapshot, run_id, org.now)
    store.save_run(result, snapshot, "d" * 64, "config")
    return store.load_run(run_id)


@dataclass(frozen=True)
class Quarters:
    store: EvidenceStore
    orgs: tuple[SampleOrg, SampleOrg, SampleOrg]
    runs: tuple[StoredRun, StoredRun, StoredRun]
    fixed: set[str]
    broken: set[str]
    repaired: set[str]
    okta_broken: set[str]


@pytest.fixture(scope="module")
def quarters(tmp_path_factory: pytest.TempPathFactory) -> Quarters:
    """Three generated quarters with controlled changes, stored."""
    q1 = sup.base_org(seed=11, accounts=300)
    unenrolled = sup.sensitive_unenrolled(q1, "entra")
    enrolled = sup.sensitive_enrolled(q1, "entra")
    okta_enrolled = sup.sensitive_enrolled(q1, "okta")
    assert len(unenrolled) >= 6 and len(enrolled) >= 6 and len(okta_enrolled) >= 2
    fixed = set(unenrolled[:4])  # enrol a method in Q2
    broken = set(enrolled[:3])  # lose every method in Q2
    q2 = sup.with_methods(
        sup.quarter(q1, 3), "entra", {**dict.fromkeys(fixed, (sup.PUSH,)), **dict.fromkeys(broken, ())}
    )
    # Q3: one broken account repaired, two okta accounts lose their methods.
    repaired = {sorted(broken)[0]}
    okta_broken = set(okta_enrolled[:2])
    q3 = sup.with_methods(
        sup.quarter(q1, 6), "entra", {**dict.fromkeys(fixed, (sup.PUSH,)), **dict.fromkeys(broken - repaired, ())}
    )
    q3 = sup.with_methods(q3, "okta", dict.fromkeys(okta_broken, ()))
    store = EvidenceStore(tmp_path_factory.mktemp("history") / "ev.sqlite3")
    r1, r2, r3 = (save(store, q, f"run-{i}") for i, q in enumerate((q1, q2, q3), start=1))
    return Quarters(store, (q1, q2, q3), (r1, r2, r3), fixed, broken, repaired, okta_broken)


def test_diff_of_controlled_quarters_is_exact(quarters: Quarters) -> None:
    q1, q2, _ = quarters.orgs
    r1, r2, r3 = quarters.runs
    fixed, broken = quarters.fixed, quarters.broken
    repaired, okta_broken = quarters.repaired, quarters.okta_broken

    d12 = history.diff_runs(r1, r2)
    new_12 = expected_keys(q1, "entra", broken)
    resolved_12 = expected_keys(q1, "entra", fixed)
    assert new_12 and resolved_12
    assert {f.key for f in d12.new} == new_12
    assert {f.key for f in d12.resolved} == resolved_12
    assert {p.after.key for p in d12.persisting} == all_expected(q1) - resolved_12

    d23 = history.diff_runs(r2, r3)
    assert {f.key for f in d23.new} == expected_keys(q1, "okta", okta_broken)
    assert {f.key for f in d23.resolved} == expected_keys(q1, "entra", repaired)
    assert {p.after.key for p in d23.persisting} == all_expected(q2) - expected_keys(q1, "entra", repaired)

    # Two quarters apart: the repaired account's findings never show.
    d13 = history.diff_runs(r1, r3)
    assert {f.key for f in d13.new} == expected_keys(q1, "entra", broken - repaired) | expected_keys(
        q1, "okta", okta_broken
    )
    assert {f.key for f in d13.resolved} == resolved_12
    assert {(d.before.run_id, d.after.run_id) for d in (d12, d23)} == {("run-1", "run-2"), ("run-2", "run-3")}


def test_coverage_change_per_portal_and_source(quarters: Quarters) -> None:
    q1 = quarters.orgs[0]
    r1, r2 = quarters.runs[:2]
    fixed, broken = quarters.fixed, quarters.broken
    d = history.diff_runs(r1, r2)
    claims = next(c for c in d.portals if c.key == "entra/app-claims")
    access = {x.account_id for x in q1.sources["entra"].access if x.portal_id == "app-claims"}
    assert claims.label == "Claims processing (tiers payant)"
    assert claims.total_before == claims.total_after
    assert claims.protected_after - claims.protected_before == len(access & fixed) - len(access & broken)
    assert claims.delta == pytest.approx(claims.ratio_after - claims.ratio_before)
    # Okta did not change between Q1 and Q2.
    okta = next(c for c in d.sources if c.key == "okta")
    assert okta.delta == 0
    entra = next(c for c in d.sources if c.key == "entra")
    gained = len(expected_keys(q1, "entra", fixed)) - len(expected_keys(q1, "entra", broken))
    assert entra.protected_after - entra.protected_before == gained


def test_portal_absent_from_one_run() -> None:
    from auditor.engine.metrics import CoverageSummary

    changes = history.coverage_changes(
        [CoverageSummary("s/a", "A", 4, 2)], [CoverageSummary("s/a", "A", 4, 3), CoverageSummary("s/b", "B", 2, 2)]
    )
    assert [(c.key, c.delta) for c in changes] == [("s/a", 0.25), ("s/b", None)]
    assert changes[1].total_before is None and changes[1].ratio_after == 1.0


def test_trend_takes_the_latest_run_of_each_period(quarters: Quarters, tmp_path: Path) -> None:
    q1, q2, q3 = quarters.orgs
    store = EvidenceStore(tmp_path / "ev.sqlite3")
    for i, org in enumerate((q1, q2, q3)):
        save(store, org, f"t-{i}")
    # A re-run in the last period, a day later, with a fixed account: it stands for Q3.
    rerun = sup.with_methods(
        replace(q3, now=q3.now + timedelta(days=1)),
        "okta",
        dict.fromkeys(quarters.okta_broken, (sup.PUSH,)),
    )
    save(store, rerun, "t-3")
    points = history.trend(store.runs(), n=4)
    assert [p.period for p in points] == [q1.period, q2.period, q3.period]
    assert [p.run_id for p in points] == ["t-0", "t-1", "t-3"]
    assert points[-1].protected_ratio == store.summary("t-3").protected_ratio
    assert [p.run_id for p in history.trend(store.runs(), n=2)] == ["t-1", "t-3"]
    data = history.trend_to_data(points)
    json.dumps(data)
    assert data[0]["findings_by_severity"].keys() == {"critical", "high", "medium", "low"}


def test_since_last_counts_and_top_items(quarters: Quarters) -> None:
    r1, r2 = quarters.runs[:2]
    d = history.diff_runs(r1, r2)
    s = history.since_last(d, top=3)
    assert (s.new_count, s.resolved_count, s.persisting_count) == (len(d.new), len(d.resolved), len(d.persisting))
    assert sum(s.new_by_severity.values()) == s.new_count
    assert len(s.top_new) == min(3, s.new_count)
    # Most severe first.
    ranks = [r.severity.rank for r in d.new]
    assert ranks == sorted(ranks, reverse=True)
    assert s.top_new == d.new[:3]
    assert all(c.delta for c in s.portals)
    assert s.same_rule_set
    json.dumps(history.since_last_to_data(s))


def test_diff_to_data_is_json(quarters: Quarters) -> None:
    r1, r2 = quarters.runs[:2]
    d = history.diff_runs(r1, r2)
    data = json.loads(json.dumps(history.diff_to_data(d)))
    assert data["counts"] == {"new": len(d.new), "resolved": len(d.resolved), "persisting": len(d.persisting)}
    assert {(f["rule_id"], f["source"], f["account_id"], f["portal_id"]) for f in data["new"]} == {f.key for f in d.new}
    assert data["before"]["run_id"] == "run-1"


def test_terminal_output(quarters: Quarters) -> None:
    store = quarters.store
    r1, r2 = quarters.runs[:2]
    console = Console(record=True, width=200)
    history_output.history_table(store.runs(), console)
    history_output.print_diff(history.diff_runs(r1, r2), console, limit=2)
    text = console.export_text()
    # Tables show the short id (the digest part) that every command accepts.
    assert all(short_run_id(r.run_id) in text for r in store.runs())
    assert "new," in text and "more (--format json or csv for all)" in text
    assert "Claims processing (tiers payant)" in text
    json.dumps([history.summary_to_data(r) for r in store.runs()])


def test_markup_in_names_is_printed_as_is() -> None:
    from auditor.engine.metrics import CoverageSummary

    console = Console(record=True, width=200)
    history_output.history_table([], console)
    table = history_output._coverage_table(
        "Coverage by portal",
        history.coverage_changes([], [CoverageSummary("s/[b]", "[bold]x[/bold]", 1, 1)]),
        console,
    )
    console.print(table)
    assert "[bold]x[/bold]" in console.export_text()


def test_history_counts_severities(quarters: Quarters) -> None:
    store = quarters.store
    for run, stored in zip(store.runs(), quarters.runs, strict=True):
        counts = dict.fromkeys(Severity, 0)
        for f in stored.result.findings:
            counts[f.severity] += 1
        assert run.findings_by_severity == counts


def test_real_engine_quarters_diff_partition_and_known_changes(tmp_path: Path) -> None:
    """The real engine over two quarters whose only difference is the methods of chosen
    accounts (evaluated at the same instant, so dormancy and exceptions do not move):
    findings of untouched accounts persist, and the changes land where they were made."""
    q1 = sup.base_org(seed=17, accounts=300)
    unenrolled = sup.sensitive_unenrolled(q1, "entra")[:4]
    enrolled = sup.sensitive_enrolled(q1, "entra")[:4]
    q2 = sup.with_methods(q1, "entra", {**dict.fromkeys(unenrolled, (sup.PUSH,)), **dict.fromkeys(enrolled, ())})
    store = EvidenceStore(tmp_path / "ev.sqlite3")
    runs = []
    for run_id, org in (("real-1", q1), ("real-2", q2)):
        snapshot = sup.snapshot_of(org)
        store.save_run(sup.real_evaluate(snapshot, run_id, q1.now), snapshot, "d" * 64, "config")
        runs.append(store.load_run(run_id))
    d = history.diff_runs(*runs)
    k1 = {f.key for f in runs[0].result.findings}
    k2 = {f.key for f in runs[1].result.findings}
    new, resolved, persisting = {f.key for f in d.new}, {f.key for f in d.resolved}, {p.after.key for p in d.persisting}
    assert new | persisting == k2 and resolved | persisting == k1 and not (new & resolved)
    changed = set(unenrolled) | set(enrolled)
    assert new and resolved
    assert {k[2] for k in new | resolved} <= changed  # nothing moved elsewhere
    assert {k for k in k1 if k[2] not in changed} <= persisting
    mfa001 = {k for k in k1 if k[0] == "MFA-001" and k[2] in set(unenrolled)}
    assert mfa001 and mfa001 <= resolved  # enrolled a method: not-enrolled findings resolved
    lost = {k for k in k2 if k[0] == "MFA-001" and k[2] in set(enrolled)}
    assert lost and lost <= new  # lost every method: not-enrolled findings new
    previous = store.previous("real-2")
    assert previous is not None and previous.run_id == "real-1"
