"""The generated decoders never give way to the reference decoder on a document this
version wrote (each fallback is logged by ``auditor.evidence.model_decode``), and the serialiser
writes and reads back frozensets and fixed-length tuples of several types."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.evidence import canonical_json, model_decode
from auditor.evidence.serialise import (
    SnapshotFormatError,
    from_data,
    result_from_data,
    result_to_data,
    snapshot_from_json,
    snapshot_to_json,
    source_snapshot_from_json,
    source_snapshot_to_json,
    to_data,
)
from auditor.model import AuditResult, Severity, Snapshot, SourceSnapshot
from connectors.sandbox.sample_org import generate
from tests.support.model_strategies import round_trip_strategies

_TEXT = st.text(max_size=8)
strategy_for = round_trip_strategies()
_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _slow_paths(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == model_decode.log.name]


@pytest.fixture(scope="module")
def sample_result() -> tuple[Snapshot, AuditResult]:
    from tests.support.reports import audit_result

    org = generate(seed=3, accounts=300)
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "b" * 64, tuple(org.sources.values()))
    return snapshot, audit_result(snapshot)


def test_the_sample_organisation_decodes_without_the_slow_path(
    sample_result: tuple[Snapshot, AuditResult], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=model_decode.log.name)
    snapshot, result = sample_result
    assert snapshot_from_json(snapshot_to_json(snapshot)) == snapshot
    assert snapshot_from_json("".join(canonical_json.iter_snapshot_json(snapshot))) == snapshot
    text = json.dumps(result_to_data(result), ensure_ascii=False, sort_keys=True)
    assert result_from_data(json.loads(text)) == result
    assert model_decode.stream_result(model_decode.text_pieces(text.encode("utf-8"))) == result
    for source in snapshot.sources:
        assert source_snapshot_from_json(source_snapshot_to_json(source)) == source
    assert _slow_paths(caplog) == []


@_SETTINGS
@given(st.lists(strategy_for(SourceSnapshot), max_size=2).map(tuple))
def test_generated_snapshots_decode_without_the_slow_path(sources: tuple[SourceSnapshot, ...]) -> None:
    snapshot = Snapshot("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "c" * 64, sources)
    handler = _Collect()
    model_decode.log.addHandler(handler)
    level = model_decode.log.level
    model_decode.log.setLevel(logging.DEBUG)
    try:
        assert snapshot_from_json(snapshot_to_json(snapshot)) == snapshot
    finally:
        model_decode.log.removeHandler(handler)
        model_decode.log.setLevel(level)
    assert handler.messages == []


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_value_the_generated_decoder_does_not_take_is_logged_and_decided_by_the_reference(
    sample_result: tuple[Snapshot, AuditResult], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=model_decode.log.name)
    data = result_to_data(sample_result[1])
    data["findings"][0]["severity"] = "catastrophic"
    with pytest.raises(SnapshotFormatError, match=r"\$\.findings\[0\]\.severity"):
        result_from_data(data)
    assert any("slow path" in m for m in _slow_paths(caplog))


# --- frozensets and fixed-length tuples ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tagged:
    tags: frozenset[str]
    pair: tuple[int, str]
    levels: frozenset[Severity] = frozenset()
    params: tuple[tuple[str, str], ...] = ()


TAGGED = st.builds(
    Tagged,
    tags=st.frozensets(_TEXT, max_size=4),
    pair=st.tuples(st.integers(-5, 5), _TEXT),
    levels=st.frozensets(st.sampled_from(list(Severity))),
    params=st.lists(st.tuples(_TEXT, _TEXT), max_size=3).map(tuple),
)


@_SETTINGS
@given(TAGGED)
def test_frozensets_and_fixed_tuples_round_trip_through_both_decoders(value: Tagged) -> None:
    data = json.loads(json.dumps(to_data(value), sort_keys=True))
    assert data["tags"] == sorted(data["tags"], key=lambda v: json.dumps(v, ensure_ascii=False))
    assert from_data(Tagged, data) == value
    assert model_decode.decode(Tagged, data, "$") == value


def test_equal_frozensets_write_the_same_bytes_whatever_their_insertion_order() -> None:
    a = Tagged(frozenset(["b", "a", "é"]), (1, "x"), frozenset([Severity.LOW, Severity.HIGH]))
    b = Tagged(frozenset(["é", "a", "b"]), (1, "x"), frozenset([Severity.HIGH, Severity.LOW]))
    assert json.dumps(to_data(a)) == json.dumps(to_data(b))
    assert to_data(a)["tags"] == ["a", "b", "é"]


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ([1, "x", "extra"], r"\$\.pair: expected 2 items, got 3"),
        (["x", 1], r"\$\.pair\[0\]: expected int, got str"),
        ({"a": 1}, r"\$\.pair: expected a list"),
    ],
)
def test_a_fixed_tuple_of_the_wrong_shape_is_refused_with_its_path(pair: object, message: str) -> None:
    data = {"tags": [], "pair": pair}
    with pytest.raises(SnapshotFormatError, match=message):
        from_data(Tagged, data)
    with pytest.raises(SnapshotFormatError, match=message):
        model_decode.decode(Tagged, data, "$")
