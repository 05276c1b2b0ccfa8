"""The trend chart and the "since the last report" section (issue 7), in English and
French, and what pseudonymisation does to them."""

from __future__ import annotations

import dataclasses
import io
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.interfaces import ReportContext
from auditor.model import Severity, Snapshot
from auditor.queries.history import CoverageChange, FindingRef, SinceLast, TrendPoint
from auditor.render.html import HtmlRenderer
from auditor.render.i18n import Translator
from auditor.render.pdf import render_pdf

KEY_VAR = "MFA_TEST_PSEUDONYM_KEY"
GONE = FindingRef(
    "MFA-001",
    Severity.HIGH,
    "Not enrolled",
    "entra",
    "gone-account-0001",
    "departed.person@mutuelle-exemple.fr",
    "hr",
    "HR portal",
    "Departed Person has no second factor",
)


def _trend(n: int) -> tuple[TrendPoint, ...]:
    points = []
    for i, (quarter, ratio) in enumerate((("2026-Q2", 0.5), ("2026-Q3", 0.625), ("2026-Q4", 0.75))[-n:]):
        points.append(
            TrendPoint(
                period=quarter,
                run_id=f"{quarter}-run",
                evaluated_at=datetime(2026, 3 * (i + 2), 15, tzinfo=UTC),
                protected_ratio=ratio,
                sensitive_accesses=400,
                sensitive_protected=int(400 * ratio),
                sensitive_unknown=0,
                complete=quarter != "2026-Q3",
                findings_by_severity={Severity.HIGH: 10 - i, Severity.MEDIUM: 3},
            )
        )
    return tuple(points)


def _since_last(ctx: ReportContext) -> SinceLast:
    f = next(f for f in ctx.result.findings if f.principal)
    persisting = FindingRef(
        f.rule_id, f.severity, f.title, f.source, f.account_id, f.principal, f.portal_id, f.portal_name, f.message
    )
    return SinceLast(
        previous_run_id="2026-Q3-run",
        previous_period="2026-Q3",
        current_run_id=ctx.result.run_id,
        current_period="2026-Q4",
        ratio_before=0.625,
        ratio_after=0.75,
        new_count=0,
        resolved_count=1,
        persisting_count=1,
        new_by_severity=dict.fromkeys(Severity, 0),
        resolved_by_severity={**dict.fromkeys(Severity, 0), Severity.HIGH: 1},
        persisting_by_severity={**dict.fromkeys(Severity, 0), persisting.severity: 1},
        top_new=(),
        top_resolved=(GONE,),
        top_persisting=(persisting,),
        portals=(CoverageChange("entra/hr", "HR portal", 80, 40, 80, 60),),
        same_rule_set=False,
    )


def _with_history(ctx: ReportContext, *, trend: int = 3, since: bool = True) -> ReportContext:
    extra: dict[str, object] = {"trend": _trend(trend)}
    if since:
        extra["since_last"] = _since_last(ctx)
    return dataclasses.replace(ctx, extra=extra)


def _pdf_text(ctx: ReportContext, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(ctx))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _html(ctx: ReportContext) -> str:
    out = io.BytesIO()
    HtmlRenderer().render(ctx, out)
    return out.getvalue().decode("utf-8")


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ("Since the last report", "Coverage over the last periods", "Resolved", "Persisting", "+12.5 pts")),
        ("fr", ("Depuis le dernier rapport", "Évolution de la couverture", "Résolus", "Persistants", "+12,5")),
    ],
)
def test_trend_and_since_last_render_in_the_pdf(
    context_factory: Callable[..., ReportContext],
    snapshot: Snapshot,
    tmp_path: Path,
    language: str,
    expected: tuple[str, ...],
) -> None:
    ctx = _with_history(context_factory(snapshot, language=language))
    text = _pdf_text(ctx, tmp_path)
    for phrase in expected:
        assert phrase in text, phrase
    # The chart's columns carry their periods and figures; the incomplete one is marked.
    t = Translator(language)
    for period in ("2026-Q2", "2026-Q3", "2026-Q4"):
        assert t.period(period).replace("\u00a0", " ") in text  # "Q3 2026", « T3 2026 » (pdftotext: plain spaces)
    assert ("62.5%*" if language == "en" else "62,5 %*") in text
    assert "departed.person@" in text  # the resolved finding (the address wraps at "@", "." or "-" only)
    assert "2026-Q3-run" in text


def test_first_run_says_so_and_draws_no_trend(
    context_factory: Callable[..., ReportContext], snapshot: Snapshot
) -> None:
    html = _html(_with_history(context_factory(snapshot), trend=1, since=False))
    assert "first audit in the evidence store" in html
    assert 'id="trend-' not in html and "Coverage over the last periods" not in html
    fr = _html(_with_history(context_factory(snapshot, language="fr"), trend=1, since=False))
    assert "Premier audit du magasin de preuves" in fr


def test_no_history_section_without_history(context_factory: Callable[..., ReportContext], snapshot: Snapshot) -> None:
    assert "Since the last report" not in _html(context_factory(snapshot))


def test_pseudonymised_history_uses_the_findings_tokens(
    context_factory: Callable[..., ReportContext], snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VAR, "a-test-key-that-is-long-enough")
    ctx = _with_history(context_factory(snapshot, pseudonymise=True))
    html = _html(ctx)
    assert "Since the last report" in html and "Q2\u00a02026" in html
    persisting = ctx.extra["since_last"].top_persisting[0]
    for identifier in (GONE.principal, GONE.account_id, "Departed Person", persisting.principal):
        assert identifier is not None
        assert identifier not in html, identifier
    # The persisting item's token is the one its finding carries in the findings table.
    from auditor.render import pseudonym

    prepared = pseudonym.prepare(ctx)
    token = prepared.extra["since_last"].top_persisting[0].principal
    assert token is not None and token.startswith("u-")
    assert token in {f.principal for f in prepared.result.findings}
    assert html.replace("<wbr>", "").count(token) >= 2  # identifiers carry break opportunities


def test_french_report_translates_rule_remediation(
    context_factory: Callable[..., ReportContext], snapshot: Snapshot
) -> None:
    from auditor.render.i18n import rule_texts

    fr = _html(context_factory(snapshot, language="fr"))
    en = _html(context_factory(snapshot))
    shown = {f.rule_id for f in context_factory(snapshot).result.findings}
    assert shown
    for rule_id in shown:
        assert rule_texts("fr")[rule_id]["remediation"][:60] in fr.replace("&#39;", "'")
    assert "Have the user enrol" in en and "Have the user enrol" not in fr
