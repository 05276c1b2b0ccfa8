from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from auditor.model import SourceIssue
from auditor.queries import history
from auditor.store import retention
from auditor.store.database import EvidenceStore, RunPurged
from tests.support import store as sup


def file_bytes(store: EvidenceStore) -> bytes:
    return b"".join(p.read_bytes() for p in store.files() if p.exists())


@pytest.fixture
def store_with_quarters(tmp_path: Path) -> tuple[EvidenceStore, list[str], list[str]]:
    """Three quarters (Q-2, Q-1, now); the oldest carries a source issue naming a record
    and a config naming a person, so that every place a principal can hide is filled."""
    org = sup.base_org(seed=13, accounts=200)
    q0, q1, q2 = (sup.quarter(org, -6), sup.quarter(org, -3), org)
    # Some accounts had no method two quarters ago: their principals are in run-0 only.
    stripped = sup.sensitive_enrolled(org, "entra")[:5]
    q0 = sup.with_methods(q0, "entra", dict.fromkeys(stripped, ()))
    victim = next(a.principal for a in org.sources["entra"].accounts if a.id == stripped[0])
    store = EvidenceStore(tmp_path / "ev.sqlite3")
    old_principals: list[str] = []
    for i, q in enumerate((q0, q1, q2)):
        snapshot = sup.snapshot_of(q)
        result = sup.toy_evaluate(snapshot, f"run-{i}", q.now)
        if i == 0:
            entra = snapshot.sources[0]
            issue = SourceIssue("method.unknown", f"unknown method label for {victim}", record=victim)
            snapshot = replace(snapshot, sources=(replace(entra, issues=(issue,)), *snapshot.sources[1:]))
            old_principals = sorted({f.principal for f in result.findings if f.principal})
            config = f"exceptions:\n  - account: {victim}\n"
        else:
            config = "exceptions: []\n"
        store.save_run(result, snapshot, "d" * 64, config)
    new_principals = sorted({f.principal for f in store.load_run("run-2").result.findings if f.principal})
    assert victim in old_principals and victim not in new_principals
    return store, old_principals, new_principals


def test_purge_removes_identifiers_and_keeps_aggregates(
    store_with_quarters: tuple[EvidenceStore, list[str], list[str]],
) -> None:
    store, old_principals, new_principals = store_with_quarters
    now = store.summary("run-2").evaluated_at
    before = {r.run_id: r for r in store.runs()}
    raw = file_bytes(store)
    # The search can fail: the principals are in the file before the purge.
    assert all(p.encode() in raw for p in old_principals)

    report = retention.purge(store, 120, now, dry_run=False)
    assert report.purged == ("run-0",)
    assert report.kept == 2

    raw = file_bytes(store)
    # Gone from the bytes, including principals that also appear in no later run's findings.
    only_old = [p for p in old_principals if p not in new_principals]
    assert only_old
    assert [p for p in only_old if p.encode() in raw] == []
    # The later runs are intact.
    assert all(p.encode() in raw for p in new_principals)

    after = {r.run_id: r for r in store.runs()}
    purged = after["run-0"]
    assert purged.purged and purged.purged_at == now
    kept_fields = (
        "sensitive_accesses",
        "sensitive_protected",
        "findings_total",
        "findings_by_severity",
        "findings_by_rule",
        "by_source",
        "by_portal",
        "status_counts",
        "accounts_in_scope",
        "snapshot_sha256",
    )
    for name in kept_fields:
        assert getattr(purged, name) == getattr(before["run-0"], name), name
    assert purged.protected_ratio == before["run-0"].protected_ratio
    (entra_status,) = [s for s in purged.sources if s.source == "entra"]  # stored in name order
    issue = entra_status.issues[0]
    assert (issue.code, issue.incomplete, issue.message, issue.record) == ("method.unknown", False, None, None)
    assert after["run-1"] == before["run-1"]

    # History still answers from the aggregates.
    assert [p.run_id for p in history.trend(store.runs())] == ["run-0", "run-1", "run-2"]
    assert history.trend(store.runs())[0].protected_ratio == before["run-0"].protected_ratio
    rows = store.stored_findings("run-0")
    assert len(rows) == before["run-0"].findings_total
    assert all(r[2] is None and r[3] is None and r[4] for r in rows)  # no account, portal kept
    with pytest.raises(RunPurged, match="purged"):
        store.load_run("run-0")

    # Purging again changes nothing.
    again = retention.purge(store, 120, now, dry_run=False)
    assert again.purged == () and again.already_purged == 1


def test_dry_run_changes_nothing(store_with_quarters: tuple[EvidenceStore, list[str], list[str]]) -> None:
    store, _, _ = store_with_quarters
    now = store.summary("run-2").evaluated_at
    raw = file_bytes(store)
    report = retention.purge(store, 1, now, dry_run=True)
    assert report.purged == ("run-0", "run-1") and report.dry_run
    assert file_bytes(store) == raw
    assert not any(r.purged for r in store.runs())
    text = retention.describe(report)
    assert "would purge" in text and "run-1" in text and "Dry run" in text


def test_retention_counts_from_evaluation_time(store_with_quarters: tuple[EvidenceStore, list[str], list[str]]) -> None:
    store, _, _ = store_with_quarters
    evaluated = store.summary("run-1").evaluated_at
    assert retention.purge(store, 10, evaluated + timedelta(days=10), dry_run=True).purged == ("run-0",)
    assert retention.purge(store, 10, evaluated + timedelta(days=10, seconds=1), dry_run=True).purged == (
        "run-0",
        "run-1",
    )


def test_bad_retention_is_a_clear_error(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.sqlite3")
    now = sup.base_org(accounts=50).now
    with pytest.raises(retention.RetentionError, match="retention_days"):
        retention.purge(store, -1, now, dry_run=True)
    with pytest.raises(retention.RetentionError, match="time zone"):
        retention.purge(store, 30, now.replace(tzinfo=None), dry_run=True)
