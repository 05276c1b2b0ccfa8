from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auditor.engine import metrics
from auditor.evidence.run_artefacts import RunArtefacts
from auditor.evidence.serialise import snapshot_to_json
from auditor.interfaces import AuditorError
from auditor.model import AuditResult, Snapshot
from auditor.store.database import (
    MIGRATIONS,
    SLICE_CHARS,
    EvidenceStore,
    RunNotFound,
    StoreCorrupt,
    StoreError,
    default_path,
)
from tests.support import store as sup

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
CONFIG = "organisation:\n  name: Test\nperiod: 2026-Q4\n"
ROOT = Path(__file__).resolve().parents[2]


def make_run(seed: int = 11, run_id: str = "run-1", now: datetime = NOW) -> tuple[AuditResult, Snapshot]:
    snapshot = sup.snapshot_of(sup.base_org(seed=seed, accounts=120))
    return sup.toy_evaluate(snapshot, run_id, now), snapshot


def table_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables if t != "sqlite_sequence"}


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        result: str = conn.execute("PRAGMA integrity_check").fetchone()[0]
        return result


def test_round_trip_gives_back_the_run(tmp_path: Path) -> None:
    result, snapshot = make_run()
    store = EvidenceStore(tmp_path / "ev.sqlite3", chunk_bytes=4096)
    store.save_run(result, snapshot, "d" * 64, CONFIG)

    stored = store.load_run("run-1")
    assert stored.snapshot == snapshot
    assert stored.result == result
    assert stored.result.findings == result.findings  # what `report --run` re-renders
    assert stored.config_text == CONFIG
    s = stored.summary
    assert (s.run_id, s.period, s.config_digest, s.rule_set_version) == ("run-1", snapshot.period, "d" * 64, "toy-1")
    assert s.sensitive_accesses == result.metrics.sensitive_accesses
    assert s.protected_ratio == result.metrics.protected_ratio
    assert s.findings_by_severity == metrics.findings_by_severity(result)
    assert s.by_source == metrics.by_source(result)
    assert [p.key for p in s.by_portal] == [p.key for p in metrics.by_portal(result)]
    assert {p.label for p in s.by_portal} >= {"Claims processing (tiers payant)"}
    assert {x.source: x.accounts for x in s.sources} == {x.source: len(x.accounts) for x in snapshot.sources}
    assert sum(n for by_sev in s.findings_by_rule.values() for n in by_sev.values()) == len(result.findings)
    # The snapshot's digest is the SHA-256 of its JSON, as the pipeline computes it.
    assert s.snapshot_sha256 == hashlib.sha256(snapshot_to_json(snapshot).encode()).hexdigest()
    # Small chunks: the blobs really were cut in several rows.
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT MAX(chunks) FROM blobs").fetchone()[0] > 1
    assert len(store.stored_findings("run-1")) == len(result.findings)


def test_files_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "store"
    result, snapshot = make_run()
    old = os.umask(0o022)
    try:
        store = EvidenceStore(folder / "ev.sqlite3")
        store.save_run(result, snapshot, "d" * 64, CONFIG)
        conn = sqlite3.connect(store.path)  # keep the WAL and SHM files alive to inspect them
        conn.execute("SELECT COUNT(*) FROM runs").fetchone()
        for p in store.files():
            if p.exists():
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        conn.close()
    finally:
        os.umask(old)


def test_existing_file_with_loose_mode_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "ev.sqlite3"
    path.touch(mode=0o644)
    path.chmod(0o644)
    EvidenceStore(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_default_path_is_in_the_users_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.platform != "linux":
        pytest.skip("XDG_DATA_HOME is how platformdirs is pointed elsewhere on Linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "mfa-auditor" / "evidence.sqlite3"
    store = EvidenceStore()
    assert store.path == default_path() and store.path.exists()


def test_runs_latest_previous_and_config_filter(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.sqlite3")
    # Saved out of order: history orders by evaluation time.
    for run_id, days, digest in (("r2", 92, "a"), ("r1", 0, "a"), ("r3", 184, "b")):
        result, snapshot = make_run(run_id=run_id, now=NOW + timedelta(days=days))
        store.save_run(result, snapshot, digest * 64, CONFIG)
    assert [r.run_id for r in store.runs()] == ["r1", "r2", "r3"]
    assert [r.run_id for r in store.runs("a" * 64)] == ["r1", "r2"]
    latest = store.latest()
    assert latest is not None and latest.run_id == "r3"
    latest_a = store.latest("a" * 64)
    assert latest_a is not None and latest_a.run_id == "r2"
    prev = store.previous("r3")
    assert prev is not None and prev.run_id == "r2"
    assert store.previous("r1") is None
    assert store.latest("f" * 64) is None


def test_unknown_run_is_a_clear_error_with_suggestions(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.sqlite3")
    result, snapshot = make_run(run_id="2026-Q4-20261115T090000Z-abcd1234")
    store.save_run(result, snapshot, "d" * 64, CONFIG)
    with pytest.raises(RunNotFound) as err:
        store.load_run("2026-Q4-20261115T090000Z-abcd1235")
    assert isinstance(err.value, AuditorError)
    assert err.value.suggestions == ("2026-Q4-20261115T090000Z-abcd1234",)
    assert "did you mean" in str(err.value)
    with pytest.raises(RunNotFound):
        store.previous("nope")


def test_duplicate_run_id_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.sqlite3")
    result, snapshot = make_run()
    store.save_run(result, snapshot, "d" * 64, CONFIG)
    before = table_counts(store.path)
    with pytest.raises(StoreError, match="already stored"):
        store.save_run(result, snapshot, "d" * 64, CONFIG)
    assert table_counts(store.path) == before


def test_tampered_evidence_is_detected(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev.sqlite3")
    result, snapshot = make_run()
    store.save_run(result, snapshot, "d" * 64, CONFIG)
    with sqlite3.connect(store.path) as conn:
        # A valid stream with different content: only the SHA-256 can tell.
        forged = snapshot_to_json(snapshot).replace(snapshot.period, "1999-Q1")
        conn.execute("DELETE FROM blob_chunks WHERE kind = 'snapshot'")
        conn.execute("INSERT INTO blob_chunks VALUES (1, 'snapshot', 0, ?)", (zlib.compress(forged.encode()),))
        conn.execute("UPDATE blobs SET chunks = 1, size = ? WHERE kind = 'snapshot'", (len(forged.encode()),))
    with pytest.raises(StoreCorrupt, match="SHA-256"):
        store.load_run("run-1")


def test_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ev.sqlite3"
    EvidenceStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="upgrade mfa-auditor"):
        EvidenceStore(path)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ev.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=str(path)):
        EvidenceStore(path)


@pytest.mark.parametrize("fail", [KeyboardInterrupt, RuntimeError])
def test_error_during_save_rolls_back(tmp_path: Path, fail: type[BaseException]) -> None:
    def stage(name: str) -> None:
        if name == "result":
            raise fail("interrupted")

    path = tmp_path / "ev.sqlite3"
    result, snapshot = make_run()
    with pytest.raises(fail):
        EvidenceStore(path, on_stage=stage).save_run(result, snapshot, "d" * 64, CONFIG)
    store = EvidenceStore(path)
    assert store.runs() == []
    assert set(table_counts(path).values()) == {0}
    store.save_run(result, snapshot, "d" * 64, CONFIG)  # still usable
    assert [r.run_id for r in store.runs()] == ["run-1"]


SAVER = textwrap.dedent(
    """
    import importlib.util, os, sys, time
    from pathlib import Path
    from datetime import UTC, datetime, timedelta
    sys.path.insert(0, sys.argv[1])
    from tests.support import store as sup
    from auditor.store.database import EvidenceStore
    path, prefix, count, die_at, go = Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], Path(sys.argv[6])

    def stage(name):
        if name == die_at:
            os._exit(17)  # no cleanup at all: as if the process were killed
        if die_at == "sigkill" and name == "snapshot":
            Path(str(go) + ".inside").touch()  # mid-transaction: the parent kills us now
            time.sleep(60)
        if name == "findings":
            time.sleep(0.02)  # widen the window in which the other writer waits

    store = EvidenceStore(path, on_stage=stage)
    snapshot = sup.snapshot_of(sup.base_org(seed=5, accounts=120))
    Path(str(go) + "." + prefix).touch()
    while not go.exists():
        time.sleep(0.01)
    for i in range(count):
        now = datetime(2026, 11, 15, tzinfo=UTC) + timedelta(minutes=i)
        store.save_run(sup.toy_evaluate(snapshot, f"{prefix}-{i}", now), snapshot, "d" * 64, "config")
    """
)


def saver(path: Path, prefix: str, count: int, die_at: str, go: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", SAVER, str(ROOT), str(path), prefix, str(count), die_at, str(go)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
@pytest.mark.parametrize("die_at", ["sources", "findings", "snapshot", "result", "config", "commit"])
def test_process_killed_mid_save_leaves_no_trace(tmp_path: Path, die_at: str) -> None:
    path = tmp_path / "ev.sqlite3"
    go = tmp_path / "go"
    go.touch()
    proc = saver(path, "dead", 1, die_at, go)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 17, err.decode()
    assert integrity(path) == "ok"
    store = EvidenceStore(path)
    assert store.runs() == []
    assert set(table_counts(path).values()) == {0}


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
def test_sigkill_mid_transaction_leaves_no_trace(tmp_path: Path) -> None:
    path = tmp_path / "ev.sqlite3"
    go = tmp_path / "go"
    go.touch()
    proc = saver(path, "dead", 1, "sigkill", go)
    inside = Path(f"{go}.inside")
    deadline = time.monotonic() + 60
    while not inside.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert inside.exists(), proc.communicate()[1].decode()
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -9
    assert integrity(path) == "ok"
    assert EvidenceStore(path).runs() == []
    assert set(table_counts(path).values()) == {0}


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
def test_two_processes_saving_at_once(tmp_path: Path) -> None:
    path = tmp_path / "ev.sqlite3"
    go = tmp_path / "go"
    procs = [saver(path, name, 3, "never", go) for name in ("a", "b")]
    deadline = time.monotonic() + 60
    # Both create the store at the same moment too (a fresh file: the WAL switch races).
    while not all(Path(f"{go}.{n}").exists() for n in ("a", "b")) and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break  # one died early: its stderr says why below
        time.sleep(0.01)
    go.touch()  # both start writing together
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    assert integrity(path) == "ok"
    store = EvidenceStore(path)
    assert sorted(r.run_id for r in store.runs()) == ["a-0", "a-1", "a-2", "b-0", "b-1", "b-2"]
    for run in store.runs():
        stored = store.load_run(run.run_id)
        assert stored.result.run_id == run.run_id
        assert len(store.stored_findings(run.run_id)) == len(stored.result.findings)


def test_rerendered_report_equals_the_original(tmp_path: Path) -> None:
    """What `report --run` does: render the stored run; the findings (and the whole JSON
    report) equal those rendered from the original run."""
    import io

    from auditor.interfaces import ReportContext, ReportOptions
    from auditor.render.json_out import JsonRenderer

    org = sup.base_org(seed=11, accounts=300)
    snapshot = sup.snapshot_of(org)
    result = sup.real_evaluate(snapshot, "real-1", org.now)
    store = EvidenceStore(tmp_path / "ev.sqlite3")
    store.save_run(result, snapshot, "d" * 64, CONFIG)
    stored = store.load_run("real-1")
    assert stored.result.findings == result.findings

    def render(r: AuditResult, s: Snapshot) -> bytes:
        ctx = ReportContext(
            "Org", "dpo@example.org", r, s, ReportOptions(), NOW, "d" * 64, CONFIG, artefacts=RunArtefacts(s)
        )
        out = io.BytesIO()
        JsonRenderer().render(ctx, out)
        return out.getvalue()

    assert render(stored.result, stored.snapshot) == render(result, snapshot)


@pytest.mark.parametrize("config", ["", "é" * (SLICE_CHARS + 3) + "\n# fin €"])
def test_config_text_round_trips_whatever_its_length(tmp_path: Path, config: str) -> None:
    result, snapshot = make_run()
    store = EvidenceStore(tmp_path / "ev.sqlite3", chunk_bytes=1000)
    store.save_run(result, snapshot, "d" * 64, config)
    assert store.load_run("run-1").config_text == config
