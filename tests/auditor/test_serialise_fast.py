"""The generated JSON writers of ``auditor.evidence.serialise`` write the reference text byte for byte:
``json.dumps(_generic(value), ensure_ascii=False, sort_keys=True)``. That text is hashed
into run ids, stored runs and signed reports, so any difference is a broken contract."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor import model
from auditor.evidence import canonical_json, serialise
from auditor.model import Account, AccountKind, Severity, Snapshot, SourceSnapshot
from connectors.sandbox.sample_org import generate
from tests.support.model_strategies import model_strategies


def reference(snapshot: Snapshot) -> str:
    """The canonical snapshot JSON as defined: the generic encoding, sorted by json."""
    return json.dumps(
        {"format": "mfa-auditor.snapshot", **serialise._generic(snapshot)}, ensure_ascii=False, sort_keys=True
    )


def streamed(snapshot: Snapshot) -> str:
    pieces = list(canonical_json.iter_snapshot_json(snapshot))
    assert all(type(p) is str for p in pieces)
    return "".join(pieces)


@pytest.fixture(scope="module")
def sample() -> Snapshot:
    org = generate(seed=7, accounts=2000)
    return Snapshot(org.period, org.period_start, org.period_end, "a" * 64, tuple(org.sources.values()))


# --- the sample organisation -------------------------------------------------------------


def test_sample_organisation_is_written_byte_for_byte(sample: Snapshot) -> None:
    text = streamed(sample)
    assert text == reference(sample)
    assert text == serialise.snapshot_to_json(sample)
    assert max(len(s.accounts) for s in sample.sources) > canonical_json._BATCH  # batches really split


@pytest.mark.parametrize("batch", [1, 2, 7])
def test_batch_boundaries_do_not_change_the_text(sample: Snapshot, batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    small = Snapshot(
        sample.period,
        sample.period_start,
        sample.period_end,
        sample.config_digest,
        tuple(dataclasses.replace(s, accounts=s.accounts[:15], access=s.access[:batch]) for s in sample.sources),
    )
    monkeypatch.setattr(canonical_json, "_BATCH", batch)
    assert streamed(small) == reference(small)


def test_the_text_comes_in_pieces_not_as_one_document(sample: Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(canonical_json, "_BATCH", 16)
    pieces = list(canonical_json.iter_snapshot_json(sample))
    assert max(len(p) for p in pieces) < sum(len(p) for p in pieces) // 20


def test_the_utc_text_cache_is_bounded_and_stays_exact(sample: Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(canonical_json, "_ISO_UTC_KEPT", 3)
    canonical_json._iso_utc_text.clear()
    assert streamed(sample) == reference(sample)
    assert len(canonical_json._iso_utc_text) <= 3


def test_equal_instants_at_other_offsets_keep_their_own_text(sample: Snapshot) -> None:
    utc = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    paris = utc.astimezone(timezone(timedelta(hours=2)))
    zero = utc.replace(tzinfo=timezone(timedelta(0), "Z0"))  # equal offset, another tzinfo object
    naive = utc.replace(tzinfo=None)
    assert utc == paris == zero
    account = sample.sources[0].accounts[0]
    accounts = tuple(dataclasses.replace(account, last_sign_in=t, created=utc) for t in (utc, paris, zero, naive, utc))
    source = dataclasses.replace(sample.sources[0], accounts=accounts, access=(), sign_ins=())
    snapshot = dataclasses.replace(sample, sources=(source,))
    text = streamed(snapshot)
    assert text == reference(snapshot)
    assert '"2026-10-01T14:00:00+02:00"' in text and '"2026-10-01T12:00:00"' in text


def test_values_of_another_type_than_declared_fall_back_to_the_generic_encoding(sample: Snapshot) -> None:
    class Local(datetime):
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            return "local"

    source = sample.sources[0]
    account = source.accounts[0]
    odd_accounts: tuple[Any, ...] = (
        dataclasses.replace(account, display_name=AccountKind.GUEST),  # enum in a str field
        dataclasses.replace(account, principal=42),  # type: ignore[arg-type]
        dataclasses.replace(account, enabled=1),  # type: ignore[arg-type]
        dataclasses.replace(account, roles=["r1", "r2"]),  # type: ignore[arg-type]
        dataclasses.replace(account, groups=("g", AccountKind.HUMAN, 3)),  # type: ignore[arg-type]
        dataclasses.replace(account, kind="guest"),  # type: ignore[arg-type]
        dataclasses.replace(account, created=Local(2026, 1, 1, tzinfo=UTC)),
        dataclasses.replace(account, last_sign_in=date(2026, 1, 2)),  # type: ignore[arg-type]
        dataclasses.replace(account, attributes=types.MappingProxyType({"b": "1", "a": "2"})),
        dataclasses.replace(account, attributes={"b": 1, "a": None, "c": 1.5}),  # type: ignore[dict-item]
        dataclasses.replace(account, attributes={"b": "x", AccountKind.HUMAN: "y", "zz": "z"}),
        dataclasses.replace(account, attributes={2: "x", 10: "y"}),  # type: ignore[dict-item]
        dataclasses.replace(account, methods=({"kind": "sms"}, *account.methods)),  # type: ignore[arg-type]
        {"not": "an account", "b": [1, 2]},
        source.access[0],  # another dataclass where an account is declared
    )
    odd_source = dataclasses.replace(
        source,
        accounts=odd_accounts,
        access=list(source.access[:3]),  # type: ignore[arg-type]
        expected_counts={"accounts": True, "portals": float("nan"), "x": 10**20},
        legacy_auth_blocked="yes",  # type: ignore[arg-type]
    )
    snapshot = dataclasses.replace(sample, sources=(odd_source, *sample.sources[1:]), schema_version=True)  # type: ignore[arg-type]
    assert streamed(snapshot) == reference(snapshot)


def test_a_snapshot_of_another_class_is_written_generically(sample: Snapshot) -> None:
    @dataclasses.dataclass(frozen=True)
    class Wider(Snapshot):
        note: str = "extra"

    wider = Wider(sample.period, sample.period_start, sample.period_end, "b" * 64, sample.sources[2:])
    assert streamed(wider) == reference(wider)
    listed = dataclasses.replace(sample, sources=list(sample.sources[2:]))  # type: ignore[arg-type]
    assert streamed(listed) == reference(listed)


# --- hostile content, derived from the model's type hints --------------------------------

_ODD_STRINGS = st.sampled_from(
    ["", '"', "\\", "\x00", "\x1f", "\x7f", "\u2028\u2029", "\ufeff", "é", "😀", 'a"b\\c\nd', "\t\r\b\f", "{}[],: "]
)
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=8) | _ODD_STRINGS
_OFFSETS = st.sampled_from([UTC, timezone(timedelta(0)), None]) | st.integers(-1439, 1439).map(
    lambda m: timezone(timedelta(minutes=m))
)
_DATETIMES = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    _OFFSETS,
)


strategy_for = model_strategies(
    {
        datetime: _DATETIMES,
        date: st.dates(),
        str: _TEXT,
        int: st.integers(-(2**70), 2**70),
        bool: st.booleans(),
        float: st.floats(allow_nan=True, allow_infinity=True),
    },
    max_items=4,
)


_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

SNAPSHOTS = st.builds(
    Snapshot,
    period=_TEXT,
    period_start=st.dates(),
    period_end=st.dates(),
    config_digest=_TEXT,
    sources=st.lists(strategy_for(SourceSnapshot), max_size=3).map(tuple),
)


@_SETTINGS
@given(SNAPSHOTS)
def test_any_snapshot_is_written_byte_for_byte(snapshot: Snapshot) -> None:
    text = streamed(snapshot)
    assert text == reference(snapshot)
    assert hashlib.sha256(text.encode("utf-8")).digest() == hashlib.sha256(reference(snapshot).encode()).digest()


MODEL_CLASSES = sorted(
    (c for c in vars(model).values() if isinstance(c, type) and dataclasses.is_dataclass(c)), key=lambda c: c.__name__
)


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
@_SETTINGS
@given(data=st.data())
def test_every_model_class_writer_matches_the_reference(cls: type, data: st.DataObject) -> None:
    value = data.draw(strategy_for(cls))
    assert canonical_json._writer(cls)(value) == json.dumps(
        serialise._generic(value), ensure_ascii=False, sort_keys=True
    )


@_SETTINGS
@given(st.dictionaries(st.sampled_from(list(Severity)), st.integers(-5, 10**6), max_size=4))
def test_mappings_keyed_by_an_enum_are_sorted_by_the_written_key(counts: dict[Severity, int]) -> None:
    metrics = model.Metrics(1, 1, 0, 0, 0, 0, findings_by_severity=counts, status_counts={})
    assert canonical_json._writer(model.Metrics)(metrics) == json.dumps(
        serialise._generic(metrics), ensure_ascii=False, sort_keys=True
    )


def test_an_account_with_every_optional_empty(sample: Snapshot) -> None:
    bare = Account(model.SourceName(""), model.AccountId(""), "", "", AccountKind.SERVICE, enabled=False)
    source = SourceSnapshot(model.SourceName("x"), "", datetime(2026, 1, 1), complete=False, accounts=(bare,))
    snapshot = Snapshot(
        "",
        date(2026, 1, 1),
        date(2026, 1, 1),
        "",
        (source, SourceSnapshot(model.SourceName("y"), "", datetime(2026, 1, 1), True)),
    )
    assert streamed(snapshot) == reference(snapshot)


class _Mixed(Enum):
    ONE = 1
    ONE_TEXT = "1"  # reads the same as ONE once a key: the generic encoding keeps one of them
    ZED = "Z"
    LOW = "a"


_ODD_CLASS = dataclasses.make_dataclass(
    "Odd", [("counts", Mapping[_Mixed, int]), ("names", Mapping[AccountKind, str])], frozen=True
)


@_SETTINGS
@given(
    st.dictionaries(st.sampled_from(list(_Mixed)), st.integers(), max_size=4),
    st.dictionaries(st.sampled_from(list(AccountKind)), _TEXT, max_size=3),
)
def test_mappings_keyed_by_plain_or_colliding_enums(counts: dict[_Mixed, int], names: dict[AccountKind, str]) -> None:
    value = _ODD_CLASS(counts, names)
    assert canonical_json._writer(_ODD_CLASS)(value) == json.dumps(
        serialise._generic(value), ensure_ascii=False, sort_keys=True
    )
