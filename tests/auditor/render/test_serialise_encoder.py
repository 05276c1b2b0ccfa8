"""The compiled per-class encoder of ``auditor.evidence.serialise`` writes exactly what the generic
one does, and the streamed snapshot is the canonical JSON byte for byte."""

from __future__ import annotations

import dataclasses
import json

import pytest

from auditor.evidence import serialise
from auditor.evidence.attachments import snapshot_file, snapshot_sha256
from auditor.model import Snapshot
from connectors.sandbox.sample_org import generate


@pytest.fixture(scope="module")
def generated() -> Snapshot:
    org = generate(seed=11, accounts=400)
    return Snapshot(org.period, org.period_start, org.period_end, "1" * 64, tuple(org.sources.values()))


def _dump(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def test_compiled_encoder_matches_the_generic_one(generated: Snapshot) -> None:
    from tests.support.reports import audit_result

    result = audit_result(generated)
    for obj in (generated, result):
        assert _dump(serialise.to_data(obj)) == _dump(serialise._generic(obj))
    assert result.findings and generated.sources[0].accounts  # not vacuous


def test_a_field_holding_another_type_falls_back_to_the_generic_encoding(generated: Snapshot) -> None:
    source = generated.sources[0]
    odd = dataclasses.replace(source, accounts=list(source.accounts[:2]))  # a list where a tuple is declared
    assert serialise.to_data(odd) == serialise._generic(odd)


def test_streamed_snapshot_is_the_canonical_json(generated: Snapshot) -> None:
    data = snapshot_file(generated).data()
    assert data == serialise.snapshot_to_json(generated).encode("utf-8")
    assert serialise.snapshot_from_json(data) == generated
    import hashlib

    assert snapshot_sha256(generated) == hashlib.sha256(data).hexdigest()


def test_decoding_errors_still_name_the_path(generated: Snapshot) -> None:
    doc = json.loads(serialise.snapshot_to_json(generated))
    doc["sources"][0]["accounts"][1]["kind"] = "robot"
    with pytest.raises(serialise.SnapshotFormatError, match=r"\$\.sources\[0\]\.accounts\[1\]\.kind"):
        serialise.snapshot_from_json(json.dumps(doc))
