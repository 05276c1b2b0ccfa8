"""The fast decoders of ``auditor.evidence.serialise`` (generated per class, and streamed piece by
piece) give exactly what the reference decoder gives (``json.loads`` + ``from_data``):
the same objects, and for a bad document nothing (the streamed one) or the same error."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.evidence import model_decode, serialise
from auditor.evidence.model_decode import stream_result, stream_snapshot
from auditor.evidence.serialise import (
    SnapshotFormatError,
    from_data,
    result_from_data,
    result_to_data,
    snapshot_from_json,
    snapshot_to_json,
)
from auditor.model import Account, AuditResult, Coverage, Finding, Snapshot, SourceSnapshot
from connectors.sandbox.sample_org import generate
from tests.support.model_strategies import round_trip_strategies


@pytest.fixture(scope="module")
def sample() -> Snapshot:
    org = generate(seed=7, accounts=600)
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "a" * 64, tuple(org.sources.values()))
    # Text beyond ASCII, so that byte pieces cut characters in two.
    first = snapshot.sources[0]
    odd = dataclasses.replace(first.accounts[0], display_name="Zoë SStraße 🙂", attributes={"café": "naïve ✓"})
    return dataclasses.replace(snapshot, sources=(dataclasses.replace(first, accounts=(odd, *first.accounts[1:])),))


@pytest.fixture(scope="module")
def result(sample: Snapshot) -> AuditResult:
    from tests.support.reports import audit_result

    found: AuditResult = audit_result(sample)
    assert found.coverage and found.findings  # not vacuous
    return found


def reference_snapshot(text: str | bytes) -> Snapshot:
    return serialise._snapshot_from_json_reference(text)


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    """("ok", value) or (error type, message): what a decoder does, comparable."""
    try:
        return ("ok", fn(*args))
    except ValueError as exc:  # SnapshotFormatError, or bytes that are not UTF-8
        return (type(exc).__name__, str(exc))


# --- equal objects ---------------------------------------------------------------------------


def test_sample_snapshot_decodes_equal_to_the_reference(sample: Snapshot) -> None:
    data = snapshot_to_json(sample).encode("utf-8")
    reference = reference_snapshot(data)
    assert reference == sample
    assert stream_snapshot(pieces(data, 1 << 16)) == reference
    assert snapshot_from_json(data) == reference
    assert snapshot_from_json(data.decode("utf-8")) == reference


def test_sample_result_decodes_equal_to_the_reference(result: AuditResult) -> None:
    text = json.dumps(result_to_data(result), ensure_ascii=False, sort_keys=True)
    reference = from_data(AuditResult, json.loads(text))
    assert reference == result
    assert result_from_data(json.loads(text)) == reference
    assert stream_result(pieces(text.encode("utf-8"), 4096)) == reference


@pytest.mark.parametrize("size", [1, 3, 7, 100])
def test_any_cut_of_the_text_gives_the_same_snapshot(
    sample: Snapshot, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = dataclasses.replace(
        sample,
        sources=tuple(dataclasses.replace(s, accounts=s.accounts[:6], access=s.access[:5]) for s in sample.sources),
    )
    # A window of a few characters: every value straddles a refill somewhere.
    monkeypatch.setattr(model_decode, "_PIECE_CHARS", size)
    monkeypatch.setattr(model_decode, "_LOW_CHARS", size)
    data = snapshot_to_json(small).encode("utf-8")
    assert stream_snapshot(pieces(data, size)) == small
    assert stream_snapshot(iter([data.decode("utf-8")[i : i + size] for i in range(0, len(data), size)])) == small


def test_numbers_cut_by_a_piece_are_read_whole(sample: Snapshot) -> None:
    doc = json.loads(snapshot_to_json(sample))
    doc["sources"][0]["expected_counts"] = {"accounts": 123456789}
    data = json.dumps(doc, sort_keys=True).encode()
    at = data.index(b"123456789") + 4
    assert stream_snapshot(iter([data[:at], data[at:]])) == reference_snapshot(data)


def test_whitespace_key_order_unknown_and_repeated_members_read_as_json_loads_reads_them(sample: Snapshot) -> None:
    doc = json.loads(snapshot_to_json(sample))
    doc["sources"][0]["future_field"] = [{"x": 1}]
    doc["sources"][0]["accounts"][0]["future_field"] = "kept out"
    text = json.dumps(doc, indent=2, sort_keys=False)
    # A member given twice: json.loads keeps the last one.
    twice = text.replace('"complete": ', '"complete": 7, "complete": ', 1)
    expected = reference_snapshot(twice)
    assert expected == reference_snapshot(text)
    assert snapshot_from_json(twice) == expected  # the first value is not a bool: left to the reference
    assert stream_snapshot(iter([text])) == expected
    twice = text.replace('"enabled": ', '"enabled": null, "enabled": ', 1)
    assert stream_snapshot(iter([twice])) == expected


def test_a_value_the_fast_decoder_does_not_handle_is_left_to_from_data() -> None:
    # A float declared where JSON has an int: from_data converts it; so must the fast path.
    assert model_decode.decode(float, 3, "$") == 3.0 and type(model_decode.decode(float, 3, "$")) is float
    account = {"source": "s", "id": "1", "principal": "p", "display_name": "d", "kind": "human", "enabled": True}
    assert model_decode.decode(Account, account, "$") == from_data(Account, account)


def test_equal_strings_are_shared_and_the_table_is_emptied(sample: Snapshot) -> None:
    back = snapshot_from_json(snapshot_to_json(sample))
    sources = [a.source for s in back.sources for a in s.accounts]
    assert len({id(s) for s in sources}) == len(set(sources))
    assert model_decode._shared == {}


# --- bad documents: nothing streamed, the reference error ----------------------------------


def _bad(sample: Snapshot, edit: Any) -> bytes:
    doc = json.loads(snapshot_to_json(sample))
    edit(doc)
    return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["sources"][0]["accounts"][1].update(kind="robot"), r"\$\.sources\[0\]\.accounts\[1\]\.kind"),
        (lambda d: d["sources"][0]["accounts"][2].pop("principal"), r"\$\.sources\[0\]\.accounts\[2\]: missing"),
        (lambda d: d["sources"][0]["accounts"][3]["methods"].append(7), r"accounts\[3\]\.methods\[\d+\]"),
        (lambda d: d["sources"][0]["access"][0].update(via=None), r"\$\.sources\[0\]\.access\[0\]\.via"),
        (lambda d: d["sources"][0].update(collected_at="yesterday"), r"\$\.sources\[0\]\.collected_at"),
        (lambda d: d["sources"][0].pop("connector"), r"\$\.sources\[0\]: missing field 'connector'"),
        (lambda d: d["sources"][0].update(accounts=None), r"\$\.sources\[0\]\.accounts: expected a list"),
        (lambda d: d.update(sources=[1]), r"\$\.sources\[0\]: expected an object"),
        (lambda d: d.update(schema_version=True), r"\$\.schema_version"),
        (lambda d: d.update(schema_version=2), r"\$\.schema_version: this version reads 1"),
        (lambda d: d.update(format="other"), r"\$\.format"),
    ],
)
def test_bad_documents_give_the_reference_error(sample: Snapshot, edit: Any, message: str) -> None:
    data = _bad(sample, edit)
    assert stream_snapshot(pieces(data, 4096)) is None
    with pytest.raises(SnapshotFormatError, match=message) as info:
        reference_snapshot(data)
    with pytest.raises(SnapshotFormatError) as ours:
        snapshot_from_json(data)
    assert str(ours.value) == str(info.value)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[: len(t) // 2],  # cut short
        lambda t: t + b" x",  # extra data
        lambda t: t.replace(b'"}, {"', b'"},, {"', 1),  # not JSON
        lambda t: t.replace(b"]", b", ]", 1),  # trailing comma
        lambda t: b"\xef\xbb\xbf" + t,  # a byte-order mark (json.loads reads it: so does the reference)
        lambda t: t.replace(b"e", b"\xff", 1),  # not UTF-8
        lambda t: t.replace(b'"accounts": [', b'"accounts": [null, ', 1),
        lambda t: b"[" + t + b"]",
        lambda t: b"",
    ],
)
def test_malformed_text_is_left_to_the_reference(sample: Snapshot, mangle: Any) -> None:
    data = mangle(snapshot_to_json(sample).encode("utf-8"))
    assert stream_snapshot(pieces(data, 1000)) is None
    assert outcome(snapshot_from_json, data) == outcome(reference_snapshot, data)


def test_an_error_of_the_source_itself_goes_through(sample: Snapshot) -> None:
    class Broken(Exception):
        pass

    def failing() -> Iterator[bytes]:
        yield snapshot_to_json(sample).encode()[:5000]
        raise Broken

    with pytest.raises(Broken):
        stream_snapshot(failing())


# --- generated models and perturbed values ---------------------------------------------------

_TEXT = st.text(max_size=8)
strategy_for = round_trip_strategies(text_size=8)
SNAPSHOTS = st.builds(
    Snapshot,
    period=_TEXT,
    period_start=st.dates(),
    period_end=st.dates(),
    config_digest=_TEXT,
    sources=st.lists(strategy_for(SourceSnapshot), max_size=2).map(tuple),
)
_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@_SETTINGS
@given(SNAPSHOTS, st.integers(1, 64))
def test_generated_snapshots_stream_back_equal(snapshot: Snapshot, size: int) -> None:
    data = snapshot_to_json(snapshot).encode("utf-8")
    assert stream_snapshot(pieces(data, size)) == snapshot == reference_snapshot(data)


@_SETTINGS
@given(st.lists(strategy_for(Coverage), max_size=3), st.lists(strategy_for(Finding), max_size=3))
def test_generated_result_parts_decode_equal(coverage: list[Coverage], findings: list[Finding]) -> None:
    for value in (*coverage, *findings):
        data = json.loads(json.dumps(serialise.to_data(value)))
        assert model_decode.decode(type(value), data, "$") == from_data(type(value), data) == value


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4,
)
_ENUM_VALUES = st.sampled_from(["human", "guest", "sms", "active", "robot", "2026-01-01T00:00:00+00:00", "x"])


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([f.name for f in dataclasses.fields(Account)] + ["methods.0.kind", "attributes.k"]),
    _JSON | _ENUM_VALUES,
)
def test_any_value_in_any_field_decodes_as_from_data_does(field: str, value: Any) -> None:
    account: dict[str, Any] = {
        "source": "s",
        "id": "1",
        "principal": "p",
        "display_name": "d",
        "kind": "human",
        "enabled": True,
        "created": "2026-01-01T00:00:00+00:00",
        "methods": [{"kind": "sms", "vendor_label": "SMS"}],
        "attributes": {"a": "b"},
    }
    if field == "methods.0.kind":
        account["methods"][0]["kind"] = value
    elif field == "attributes.k":
        account["attributes"]["k"] = value
    else:
        account[field] = value
    assert outcome(model_decode.decode, Account, account, "$.a[0]") == outcome(from_data, Account, account, "$.a[0]")


def test_a_dataclass_with_a_field_outside_init_is_left_to_from_data() -> None:
    @dataclasses.dataclass(frozen=True)
    class Odd:
        a: str
        b: str = dataclasses.field(default="x", init=False)

    assert outcome(model_decode.decode, Odd, {"a": "1"}, "$") == outcome(from_data, Odd, {"a": "1"}, "$")
    assert model_decode.decode(Odd, {"a": "1"}, "$") == Odd("1")


def test_times_keep_their_offsets() -> None:
    paris = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=1)))
    assert model_decode.decode(datetime, paris.isoformat(), "$").utcoffset() == timedelta(hours=1)
    assert model_decode.decode(datetime, "2026-01-01T12:00:00+00:00", "$") == datetime(2026, 1, 1, 12, tzinfo=UTC)
