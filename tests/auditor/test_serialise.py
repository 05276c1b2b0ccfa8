"""The snapshot JSON survives a round trip unchanged, for any model content (strategies
are derived from the model's type hints, so a new field is covered without edits)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.evidence.serialise import (
    SnapshotFormatError,
    snapshot_from_json,
    snapshot_to_json,
    source_snapshot_from_json,
    source_snapshot_to_json,
)
from auditor.model import Snapshot, SourceSnapshot
from tests.support.model_strategies import round_trip_strategies

_TEXT = st.text(max_size=12)
strategy_for = round_trip_strategies(text_size=12)


SOURCE_SNAPSHOTS = strategy_for(SourceSnapshot)
SNAPSHOTS = st.builds(
    Snapshot,
    period=_TEXT,
    period_start=st.dates(),
    period_end=st.dates(),
    config_digest=_TEXT,
    sources=st.lists(SOURCE_SNAPSHOTS, max_size=2).map(tuple),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(SNAPSHOTS)
def test_snapshot_round_trip_is_lossless(snapshot: Snapshot) -> None:
    assert snapshot_from_json(snapshot_to_json(snapshot)) == snapshot


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(SOURCE_SNAPSHOTS)
def test_source_snapshot_round_trip_is_lossless(snap: SourceSnapshot) -> None:
    text = source_snapshot_to_json(snap, indent=1)
    back = source_snapshot_from_json(text)
    assert back == snap
    # Offsets survive too, not just the instants.
    assert [a.last_sign_in and a.last_sign_in.utcoffset() for a in back.accounts] == [
        a.last_sign_in and a.last_sign_in.utcoffset() for a in snap.accounts
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[]", "$.format: expected 'mfa-auditor.source'"),
        ('{"format": "mfa-auditor.snapshot"}', "$.format: expected 'mfa-auditor.source'"),
        ('{"format": "mfa-auditor.source", "schema_version": 2}', "$.schema_version: this version reads 1"),
        ('{"format": "mfa-auditor.source", "schema_version": 1}', "$: missing field 'source'"),
        (b"\xff\xfe{", "not"),
        ("{", "not JSON"),
    ],
)
def test_source_snapshot_documents_that_cannot_be_read(text: str | bytes, expected: str) -> None:
    with pytest.raises(SnapshotFormatError) as info:
        source_snapshot_from_json(text)
    assert expected in str(info.value)
