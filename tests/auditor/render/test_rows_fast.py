"""The direct CSV writers (``write_coverage_rows``, ``write_finding_rows``) and ``write_csv``
write byte for byte what the original row-dict path wrote: one dict per row, ``_cell`` on
each value, ``csv.writer`` (kept below verbatim as the reference)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import cycle
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.evidence.run_artefacts import RunArtefacts
from auditor.interfaces import ReportContext
from auditor.model import (
    AccountId,
    AuditResult,
    Coverage,
    Finding,
    FrameworkRef,
    PolicyId,
    PortalId,
    Snapshot,
    SourceName,
)
from auditor.render import pseudonym
from auditor.render.document import coverage_file, findings_file
from auditor.render.rows import (
    COVERAGE_COLUMNS,
    FINDING_COLUMNS,
    iter_coverage_rows,
    iter_finding_rows,
    write_coverage_rows,
    write_csv,
    write_finding_rows,
)
from auditor.render.view import ReportView

_T = TypeVar("_T")

# --- the reference: rows.py's CSV path before the fast writers (list and evidence cells now
# escaped and formula-guarded like every other cell) ------------------------------------------

_REF_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _ref_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        text = "; ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    text = _REF_UNSAFE.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _reference_csv(rows: Iterator[dict[str, Any]], columns: tuple[str, ...]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_ref_cell(row[c]) for c in columns])
    return buffer.getvalue().encode("utf-8")


class _Recording:
    """A sink that is not a file: only ``write(bytes)``, as the lead's hashing sink."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        assert type(data) is bytes
        self.chunks.append(data)

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


def _fast(writer: Callable[[ReportView, Any], str], view: ReportView) -> tuple[bytes, str, _Recording]:
    sink = _Recording()
    digest = writer(view, sink)
    return sink.data, digest, sink


def _assert_all_paths_agree(view: ReportView) -> None:
    for columns, iter_rows, writer in (
        (COVERAGE_COLUMNS, iter_coverage_rows, write_coverage_rows),
        (FINDING_COLUMNS, iter_finding_rows, write_finding_rows),
    ):
        expected = _reference_csv(iter_rows(view), columns)
        data, digest, _ = _fast(writer, view)
        assert data == expected
        assert digest == hashlib.sha256(expected).hexdigest()
        sink = _Recording()
        assert write_csv(iter_rows(view), columns, sink) == digest
        assert sink.data == expected


def _with_result(ctx: ReportContext, **changes: Any) -> ReportContext:
    return replace(ctx, result=replace(ctx.result, **changes))


# --- the sample organisation --------------------------------------------------------------------


def test_sample_org_bytes_identical(context: ReportContext) -> None:
    view = ReportView(context)
    assert len(view.result.coverage) > 300 and len(view.result.findings) > 20  # not a vacuous comparison
    _assert_all_paths_agree(view)
    # What the reports attach and write (the evidence files), not only the writers.
    assert coverage_file(view).data() == _reference_csv(iter_coverage_rows(view), COVERAGE_COLUMNS)
    assert findings_file(view).data() == _reference_csv(iter_finding_rows(view), FINDING_COLUMNS)


def test_incomplete_source_bytes_identical(
    incomplete_snapshot: Snapshot, context_factory: Callable[..., ReportContext]
) -> None:
    _assert_all_paths_agree(ReportView(context_factory(incomplete_snapshot)))


def test_pseudonymised_bytes_identical(
    snapshot: Snapshot, context_factory: Callable[..., ReportContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MFA_TEST_PSEUDONYM_KEY", "a-test-key-that-is-long-enough")
    _assert_all_paths_agree(ReportView(pseudonym.prepare(context_factory(snapshot, pseudonymise=True))))


def test_rows_of_an_account_need_not_be_adjacent(context: ReportContext) -> None:
    coverage = list(context.result.coverage)
    random.Random(3).shuffle(coverage)
    findings = list(context.result.findings)
    random.Random(4).shuffle(findings)
    _assert_all_paths_agree(ReportView(_with_result(context, coverage=tuple(coverage), findings=tuple(findings))))


def test_coverage_of_an_unknown_account_has_empty_account_fields(context: ReportContext) -> None:
    first = context.result.coverage[0]
    ghost = replace(first, account_id=AccountId("no-such-account"))
    view = ReportView(_with_result(context, coverage=(ghost, first, ghost)))
    _assert_all_paths_agree(view)
    data, _, _ = _fast(write_coverage_rows, view)
    assert data.split(b"\r\n")[1].startswith(f"{first.source},no-such-account,,,,,".encode())


def test_chunks_are_bounded_and_many(context: ReportContext) -> None:
    view = ReportView(_with_result(context, coverage=context.result.coverage * 12))
    data, _, sink = _fast(write_coverage_rows, view)
    assert data == _reference_csv(iter_coverage_rows(view), COVERAGE_COLUMNS)
    assert len(data) > 1_000_000
    assert len(sink.chunks) > 3
    assert max(len(c) for c in sink.chunks) < 1_000_000


def test_empty_result_writes_the_header_only(context: ReportContext) -> None:
    view = ReportView(_with_result(context, coverage=(), findings=()))
    _assert_all_paths_agree(view)
    data, _, _ = _fast(write_finding_rows, view)
    assert data == (",".join(FINDING_COLUMNS) + "\r\n").encode()


# --- hostile strings ----------------------------------------------------------------------------

_NASTY = st.sampled_from(
    [
        '=HYPERLINK("http://x","y")',
        "+1",
        "-2",
        "@SUM(A1)",
        "\tlead tab",
        "\rlead cr",
        'say "hi", bye',
        "line\nbreak",
        "crlf\r\n",
        "\u202eevil\u202c",
        "\u200f\u2066iso\u2069",
        "\x00nul\x1b[31m\x7f\x85\x9f",
        "é, ü — 漢字 🙂",
        "",
        " ",
        "'",
        ",",
        '"',
        "plain",
    ]
)
_TEXT = st.one_of(_NASTY, st.text(max_size=12), st.builds(lambda a, b: a + b, _NASTY, st.text(max_size=6)))
_OPTIONAL = st.one_of(st.none(), _TEXT)


def _maybe(kind: Callable[[str], _T], value: str | None) -> _T | None:
    return None if value is None else kind(value)


def _hostile_context(context: ReportContext, texts: list[str], optional: list[str | None]) -> ReportContext:
    """The sample organisation with hostile strings in every text the CSVs show."""
    text, maybe = cycle(texts), cycle(optional)
    snap = context.snapshot
    sources = tuple(
        replace(
            s,
            accounts=tuple(replace(a, principal=next(text), display_name=next(text)) for a in s.accounts[:40]),
            portals=tuple(replace(p, name=next(text)) for p in s.portals),
        )
        for s in snap.sources
    )
    coverage: list[Coverage] = [
        replace(
            c,
            reason=next(text),
            enforcement_source=SourceName(next(text)),
            policies=(PolicyId(next(text)), PolicyId(next(text))),
            excluded_by=(PolicyId(next(text)),),
            exception_id=next(maybe),
        )
        for c in context.result.coverage[:120]
    ]
    findings: list[Finding] = [
        replace(
            f,
            title=next(text),
            principal=next(maybe),
            account_id=_maybe(AccountId, next(maybe)),
            portal_id=_maybe(PortalId, next(maybe)),
            portal_name=next(maybe),
            message=next(text),
            remediation=next(text),
            evidence={next(text): next(text), next(text): next(text)},
            references=(FrameworkRef(next(text), next(text)),),
        )
        for f in context.result.findings[:60]
    ]
    result: AuditResult = replace(context.result, coverage=tuple(coverage), findings=tuple(findings))
    snapshot = replace(snap, sources=sources)
    return replace(context, snapshot=snapshot, artefacts=RunArtefacts(snapshot), result=result)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_TEXT, min_size=1, max_size=30), optional=st.lists(_OPTIONAL, min_size=1, max_size=10))
def test_hostile_strings_bytes_identical(context: ReportContext, texts: list[str], optional: list[str | None]) -> None:
    _assert_all_paths_agree(ReportView(_hostile_context(context, texts, optional)))


_VALUE = st.one_of(
    _OPTIONAL,
    st.booleans(),
    st.integers(),
    st.lists(_TEXT, max_size=3),
    st.dictionaries(_TEXT, _TEXT, max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.lists(_VALUE, min_size=3, max_size=3), max_size=5))
def test_write_csv_matches_the_reference_on_any_values(rows: list[list[Any]]) -> None:
    columns = ("a", "b", "c")
    dict_rows = [dict(zip(columns, r, strict=True)) for r in rows]
    sink = _Recording()
    digest = write_csv(iter(dict_rows), columns, sink)
    expected = _reference_csv(iter(dict_rows), columns)
    assert sink.data == expected
    assert digest == hashlib.sha256(expected).hexdigest()


def test_formula_and_controls_stay_defused() -> None:
    sink = _Recording()
    write_csv(iter([{"a": "=1+1", "b": "\u202eabc", "c": 'x,"y"'}]), ("a", "b", "c"), sink)
    assert sink.data == b'a,b,c\r\n\'=1+1,[U+202E]abc,"x,""y"""\r\n'
