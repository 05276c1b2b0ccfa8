"""Per-run state is explicit: what a report context's renderers share lives in the context,
so no output depends on what was rendered before, and nothing outlives the context."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

import pytest

from auditor.evidence.run_artefacts import RunArtefacts
from auditor.interfaces import ReportContext
from auditor.model import Snapshot
from auditor.render import pseudonym
from auditor.render.csv_out import CsvRenderer
from auditor.render.document import findings_file
from auditor.render.view import ReportView


def _csv(ctx: ReportContext) -> bytes:
    out = io.BytesIO()
    CsvRenderer().render(ctx, out)
    return out.getvalue()


def test_the_findings_file_follows_its_own_context_whatever_was_made_before(context: ReportContext) -> None:
    assert len(context.result.findings) > 1

    def fewer() -> ReportContext:  # the same snapshot evaluated again, with other findings
        return replace(context, result=replace(context.result, findings=context.result.findings[:1]))

    def whole() -> ReportContext:
        return replace(context)

    # Made in one order, then in the other: each context gets the file of its own result.
    whole_first, fewer_after = findings_file(ReportView(whole())).data(), findings_file(ReportView(fewer())).data()
    fewer_first, whole_after = findings_file(ReportView(fewer())).data(), findings_file(ReportView(whole())).data()
    assert whole_first == whole_after and fewer_first == fewer_after
    assert whole_first != fewer_first and fewer_first.count(b"\n") == 2
    # The CSV renderer writes the very bytes the PDF attaches: shared within a context.
    ctx = fewer()
    made = findings_file(ReportView(ctx))
    assert findings_file(ReportView(ctx)) is made and _csv(ctx) == made.data()


def test_a_context_made_by_replace_starts_with_nothing_made(context: ReportContext) -> None:
    findings_file(ReportView(context))
    copy = replace(context, organisation="Other")
    assert copy.made is not context.made
    assert copy.artefacts is context.artefacts  # same snapshot: its file is shared


def test_artefacts_of_another_snapshot_are_refused(context: ReportContext, snapshot: Snapshot) -> None:
    other = replace(snapshot, period="2025-Q1")
    with pytest.raises(ValueError, match="another snapshot"):
        replace(context, snapshot=other)
    assert replace(context, snapshot=other, artefacts=RunArtefacts(other)).snapshot is other


def test_the_pseudonymised_edition_is_made_once_per_context(
    context_factory: Callable[..., ReportContext], snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MFA_TEST_PSEUDONYM_KEY", "k" * 32)
    made: list[int] = []
    real = pseudonym.pseudonymise

    def counted(ctx: ReportContext, key: bytes) -> ReportContext:
        made.append(1)
        return real(ctx, key)

    monkeypatch.setattr(pseudonym, "pseudonymise", counted)
    ctx = context_factory(snapshot, pseudonymise=True)
    first = pseudonym.prepare(ctx)
    assert pseudonym.prepare(ctx) is first and made == [1]
    assert pseudonym.prepare(first) is first  # already pseudonymised: returned as it is
    # Its snapshot is another document, with its own artefacts.
    assert first.artefacts.snapshot is first.snapshot and first.artefacts is not ctx.artefacts
    other = replace(ctx)
    assert pseudonym.prepare(other) is not first and made == [1, 1]
