"""Evidence files: what a sink is given is what the file holds, digests included, and a
run encodes its snapshot once (the run id, the store, the report and a re-render of a
stored run all share that file)."""

from __future__ import annotations

import hashlib
import random
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.evidence import attachments as evidence
from auditor.evidence.attachments import (
    DeflatingSink,
    evidence_file,
    snapshot_file,
    snapshot_json_chunks,
    snapshot_sha256,
)
from auditor.evidence.run_artefacts import RunArtefacts
from auditor.evidence.serialise import snapshot_to_json
from auditor.model import Snapshot
from auditor.store.database import EvidenceStore
from connectors.sandbox.sample_org import generate


@given(st.lists(st.binary(max_size=3000), max_size=12))
def test_a_sink_keeps_what_it_is_given(pieces: list[bytes]) -> None:
    sink = DeflatingSink()
    for piece in pieces:
        assert sink.write(piece) == len(piece)
    file = sink.close_as("x.csv", "text/csv", "Data", "attachment.findings")
    whole = b"".join(pieces)
    assert file.data() == whole == b"".join(file.chunks())
    assert file.size == len(whole)
    assert file.sha256 == hashlib.sha256(whole).hexdigest()
    assert file.md5 == hashlib.md5(whole, usedforsecurity=False).hexdigest()
    # What a PDF /FlateDecode stream holds: one zlib stream.
    assert zlib.decompress(file.deflated) == whole


def test_chunks_inflate_a_big_file_piece_by_piece() -> None:
    whole = random.Random(3).randbytes(3 << 20)  # incompressible: several inflate slices
    file = evidence_file([whole[:5], whole[5:]], "big.bin", "application/octet-stream", "Data", "attachment.x")
    pieces = list(file.chunks())
    assert len(pieces) > 1 and b"".join(pieces) == whole


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    org = generate(seed=5, accounts=150)
    return Snapshot(org.period, org.period_start, org.period_end, "e" * 64, tuple(org.sources.values()))


def test_the_snapshot_file_is_its_canonical_json(snapshot: Snapshot) -> None:
    canonical = snapshot_to_json(snapshot).encode("utf-8")
    file = snapshot_file(snapshot)
    assert file.data() == canonical
    assert snapshot_sha256(snapshot) == hashlib.sha256(canonical).hexdigest() == file.sha256
    assert b"".join(snapshot_json_chunks(snapshot)) == canonical


def test_a_runs_artefacts_encode_its_snapshot_once(snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    encode = evidence.iter_snapshot_json

    def counted(s: Snapshot) -> object:
        calls.append(1)
        return encode(s)

    monkeypatch.setattr(evidence, "iter_snapshot_json", counted)
    run = RunArtefacts(snapshot)
    file = run.snapshot_file
    assert run.snapshot_file is file and run.snapshot_sha256 == file.sha256
    assert b"".join(run.snapshot_json_chunks()) == snapshot_to_json(snapshot).encode("utf-8")
    assert calls == [1]
    # Nothing is kept outside the artefacts: other artefacts of the same snapshot encode again.
    assert RunArtefacts(snapshot).snapshot_file is not file and calls == [1, 1]


def test_nothing_is_kept_between_runs(snapshot: Snapshot) -> None:
    """The module functions encode each time: no state outlives a run's artefacts."""
    other = Snapshot(snapshot.period, snapshot.period_start, snapshot.period_end, "f" * 64, snapshot.sources[:1])
    first = snapshot_file(snapshot)
    assert snapshot_file(snapshot) is not first
    assert b"".join(snapshot_json_chunks(other)) == snapshot_to_json(other).encode("utf-8")
    assert not [
        name
        for name, value in vars(evidence).items()
        if isinstance(value, (tuple, dict)) and value and name.startswith("_last")
    ]


def test_a_stored_run_brings_its_snapshot_file_back_without_encoding(
    snapshot: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.reports import audit_result

    result = audit_result(snapshot)
    store = EvidenceStore(tmp_path / "ev.sqlite3", chunk_bytes=2048)
    run = RunArtefacts(snapshot)
    store.save_run(result, run, "d" * 64, "organisation: {name: x}\n")
    saved = run.snapshot_file

    def no_encoding(_: Snapshot) -> None:
        raise AssertionError("the stored run's snapshot was encoded again")

    monkeypatch.setattr(evidence, "iter_snapshot_json", no_encoding)
    stored = store.load_run(result.run_id)
    loaded = stored.snapshot
    assert loaded == snapshot and loaded is not snapshot
    again = stored.artefacts.snapshot_file
    assert (again.sha256, again.md5, again.size) == (saved.sha256, saved.md5, saved.size)
    assert again.data() == saved.data()
