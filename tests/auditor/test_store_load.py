"""Loading a stored run streams its blobs into the model: the same objects as the
reference decoder, the snapshot's evidence file without encoding it again, and for a
damaged store ``StoreCorrupt`` (nothing decoded is returned)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from auditor.evidence import serialise
from auditor.evidence.serialise import result_to_data, snapshot_to_json
from auditor.model import AuditResult, Snapshot
from auditor.store.database import EvidenceStore, StoreCorrupt
from tests.support import store as store_support

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)


def _support() -> ModuleType:
    return store_support


@pytest.fixture(scope="module")
def run() -> tuple[AuditResult, Snapshot]:
    sup = _support()
    snapshot = sup.snapshot_of(sup.base_org(seed=5, accounts=300))
    return sup.toy_evaluate(snapshot, "run-1", NOW), snapshot


@pytest.fixture
def store(tmp_path: Path, run: tuple[AuditResult, Snapshot]) -> EvidenceStore:
    # Small chunks: every blob spans several rows, so the decoder reads across them.
    found = EvidenceStore(tmp_path / "ev.sqlite3", chunk_bytes=2048)
    found.save_run(*run, "d" * 64, "config: x\n")
    return found


def _rewrite(store: EvidenceStore, kind: str, text: bytes, *, digest: bool = True) -> None:
    """Replace a blob with ``text`` (one chunk), with matching size and SHA-256 when ``digest``."""
    sha = hashlib.sha256(text).hexdigest()
    with sqlite3.connect(store.path) as conn:
        conn.execute("DELETE FROM blob_chunks WHERE kind = ?", (kind,))
        conn.execute("INSERT INTO blob_chunks VALUES (1, ?, 0, ?)", (kind, zlib.compress(text)))
        if digest:
            conn.execute("UPDATE blobs SET chunks = 1, size = ?, sha256 = ? WHERE kind = ?", (len(text), sha, kind))
            if kind == "snapshot":
                conn.execute("UPDATE runs SET snapshot_sha256 = ?", (sha,))


def _chunks(store: EvidenceStore, kind: str) -> list[bytes]:
    with sqlite3.connect(store.path) as conn:
        rows = conn.execute("SELECT data FROM blob_chunks WHERE kind = ? ORDER BY n", (kind,)).fetchall()
    return [r[0] for r in rows]


def test_loaded_run_equals_the_reference_decoding(store: EvidenceStore, run: tuple[AuditResult, Snapshot]) -> None:
    result, snapshot = run
    assert len(_chunks(store, "snapshot")) > 3 and len(_chunks(store, "result")) > 3
    loaded = store.load_run("run-1")
    raw_snapshot = zlib.decompress(b"".join(_chunks(store, "snapshot")))
    raw_result = zlib.decompress(b"".join(_chunks(store, "result")))
    assert loaded.snapshot == serialise._snapshot_from_json_reference(raw_snapshot) == snapshot
    assert loaded.result == serialise.from_data(AuditResult, json.loads(raw_result)) == result
    assert loaded.config_text == "config: x\n"


def test_the_snapshot_file_is_taken_from_the_stored_bytes(store: EvidenceStore) -> None:
    loaded = store.load_run("run-1")
    kept = loaded.artefacts.snapshot_file
    data = snapshot_to_json(loaded.snapshot).encode("utf-8")
    assert kept.data() == data
    assert kept.deflated == b"".join(_chunks(store, "snapshot"))  # the stored stream, not encoded again
    assert (kept.size, kept.sha256, kept.md5) == (
        len(data),
        hashlib.sha256(data).hexdigest(),
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
    )


def test_a_stored_file_in_another_layout_still_loads(store: EvidenceStore, run: tuple[AuditResult, Snapshot]) -> None:
    # Not the canonical text (indented): the streamed decoder reads any JSON the reference reads.
    result, snapshot = run
    _rewrite(store, "snapshot", snapshot_to_json(snapshot, indent=2).encode("utf-8"))
    _rewrite(store, "result", json.dumps(result_to_data(result), indent=1).encode("utf-8"))
    loaded = store.load_run("run-1")
    assert loaded.snapshot == snapshot and loaded.result == result


@pytest.mark.parametrize("kind", ["snapshot", "result"])
def test_a_flipped_byte_in_a_stored_chunk_is_corruption(store: EvidenceStore, kind: str) -> None:
    chunks = _chunks(store, kind)
    n = len(chunks) // 2
    data = bytearray(chunks[n])
    data[len(data) // 2] ^= 0x01
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE blob_chunks SET data = ? WHERE kind = ? AND n = ?", (bytes(data), kind, n))
    with pytest.raises(StoreCorrupt, match=f"the stored {kind} (does not match its SHA-256|cannot be decompressed)"):
        store.load_run("run-1")


@pytest.mark.parametrize("kind", ["snapshot", "result"])
def test_a_missing_last_chunk_is_corruption(store: EvidenceStore, kind: str) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "DELETE FROM blob_chunks WHERE kind = ? AND n = (SELECT MAX(n) FROM blob_chunks WHERE kind = ?)",
            (kind, kind),
        )
    with pytest.raises(StoreCorrupt, match=f"the stored {kind} does not match its SHA-256"):
        store.load_run("run-1")


def test_a_truncated_text_with_its_digest_recomputed_cannot_be_decoded(
    store: EvidenceStore, run: tuple[AuditResult, Snapshot]
) -> None:
    _rewrite(store, "snapshot", snapshot_to_json(run[1]).encode("utf-8")[:-40])
    with pytest.raises(StoreCorrupt, match="stored evidence cannot be decoded: not JSON"):
        store.load_run("run-1")


def test_a_bad_value_deep_in_an_account_names_its_path(store: EvidenceStore, run: tuple[AuditResult, Snapshot]) -> None:
    doc = json.loads(snapshot_to_json(run[1]))
    doc["sources"][0]["accounts"][1]["kind"] = "robot"
    _rewrite(store, "snapshot", json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    with pytest.raises(StoreCorrupt, match=r"cannot be decoded: \$\.sources\[0\]\.accounts\[1\]\.kind"):
        store.load_run("run-1")


def test_a_missing_field_in_the_result_names_its_path(store: EvidenceStore, run: tuple[AuditResult, Snapshot]) -> None:
    doc = result_to_data(run[0])
    del doc["findings"][2]["severity"]
    _rewrite(store, "result", json.dumps(doc, sort_keys=True).encode("utf-8"))
    with pytest.raises(StoreCorrupt, match=r"cannot be decoded: \$\.findings\[2\]: missing field 'severity'"):
        store.load_run("run-1")


def test_checks_fail_in_the_order_they_always_did(store: EvidenceStore, run: tuple[AuditResult, Snapshot]) -> None:
    # An undecodable snapshot and a missing result: the missing blob is reported first.
    doc = json.loads(snapshot_to_json(run[1]))
    doc["sources"][0]["accounts"][1]["kind"] = "robot"
    _rewrite(store, "snapshot", json.dumps(doc, sort_keys=True).encode("utf-8"))
    with sqlite3.connect(store.path) as conn:
        conn.execute("DELETE FROM blobs WHERE kind = 'result'")
    with pytest.raises(StoreCorrupt, match="the stored result is missing"):
        store.load_run("run-1")


def test_a_snapshot_not_matching_the_runs_digest_is_corruption(store: EvidenceStore) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE runs SET snapshot_sha256 = ?", ("0" * 64,))
    with pytest.raises(StoreCorrupt, match="does not match the digest recorded with the run"):
        store.load_run("run-1")


def test_a_forged_chunk_with_the_old_digest_is_corruption(
    store: EvidenceStore, run: tuple[AuditResult, Snapshot]
) -> None:
    # Decodable, but not what was stored: the decoded model must not come back.
    forged = snapshot_to_json(run[1]).replace('"human"', '"guest"', 1).encode("utf-8")
    _rewrite(store, "snapshot", forged, digest=False)
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE blobs SET chunks = 1, size = ? WHERE kind = 'snapshot'", (len(forged),))
    with pytest.raises(StoreCorrupt, match="the stored snapshot does not match its SHA-256"):
        store.load_run("run-1")
