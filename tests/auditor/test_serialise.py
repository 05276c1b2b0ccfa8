"""The snapshot JSON survives a round trip unchanged, for any model content (strategies
are derived from the model's type hints, so a new field is covered without edits)."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from typing import Any, Union, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor import model
from auditor.model import Snapshot, SourceSnapshot
from auditor.serialise import (
    SnapshotFormatError,
    snapshot_from_json,
    snapshot_to_json,
    source_snapshot_from_json,
    source_snapshot_to_json,
)

_TEXT = st.text(max_size=12)
# Aware date-times at minute offsets (what ISO 8601 writes and reads back).
_OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
_AWARE = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
    _OFFSETS,
)


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        return st.none() | strategy_for(inner[0])
    if origin is tuple:
        return st.lists(strategy_for(get_args(tp)[0]), max_size=3).map(tuple)
    if origin in (dict, Mapping):
        key_t, val_t = get_args(tp)
        return st.dictionaries(strategy_for(key_t), strategy_for(val_t), max_size=3)
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:
        return strategy_for(supertype)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp, vars(model))
        fields = {f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(tp)}
        return st.builds(tp, **fields)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return st.sampled_from(list(tp))
    simple: dict[Any, st.SearchStrategy[Any]] = {
        datetime: _AWARE,
        date: st.dates(),
        str: _TEXT,
        int: st.integers(-(2**53), 2**53),
        bool: st.booleans(),
    }
    return simple[tp]


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
