"""The run's summary in the terminal (rich): headline, coverage per source and per
portal, findings by severity. Same figures as the reports (``ReportView``); strings in
the report's language."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.fitted_table import Col, fitted
from auditor.interfaces import ReportContext
from auditor.model import CoverageStatus
from auditor.render import pseudonym
from auditor.render.i18n import Translator
from auditor.render.view import SEVERITY_ORDER, ReportView

SEVERITY_COLOUR = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan"}


def _ratio_style(ratio: float | None) -> str:
    if ratio is None:
        return "dim"
    return "green" if ratio >= 0.95 else "yellow" if ratio >= 0.8 else "red"


def print_summary(ctx: ReportContext, console: Console) -> None:
    view = ReportView(pseudonym.prepare(ctx))
    t = Translator(ctx.options.language)
    m = view.metrics

    if not view.complete:
        lines = Text(t("banner.incomplete.title"), style="bold red")
        for s in view.incomplete_sources:
            lines.append(f"\n  {s.source} ({s.connector}): " + "; ".join(r[:200] for r in s.reasons), style="red")
        console.print(lines)

    # User-supplied strings go in as Text: rich would read "[...]" in a plain str as markup.
    head = Table(title=Text(f"{ctx.organisation}: {view.result.period}"), box=box.SIMPLE_HEAVY, show_header=False)
    head.add_column(style="bold")
    head.add_column(justify="right")
    of = t("summary.protected_of", protected=t.number(m.sensitive_protected), total=t.number(m.sensitive_accesses))
    head.add_row(t("summary.accounts_read"), t.number(m.accounts_read))
    head.add_row(t("summary.accounts_in_scope"), t.number(m.accounts_in_scope))
    head.add_row(t("summary.sensitive_portals"), t.number(m.sensitive_portals))
    head.add_row(t("summary.sensitive_accesses"), t.number(m.sensitive_accesses))
    head.add_row(
        t("summary.protected_ratio"),
        Text(f"{t.percent(m.protected_ratio)} ({of})", style=_ratio_style(m.protected_ratio)),
    )
    head.add_row(t("summary.unknown_accesses"), t.number(m.sensitive_unknown))
    head.add_row(t("cover.run_id"), Text(view.result.run_id))
    console.print(head)

    sources = Table(title=t("section.coverage_source"), box=box.SIMPLE)
    for col, justify in (
        (t("table.source"), "left"),
        (t("table.accesses"), "right"),
        (t("table.protected"), "right"),
        (t("table.unknown"), "right"),
        (t("table.ratio"), "right"),
    ):
        sources.add_column(col, justify=justify)  # type: ignore[arg-type]
    for summary in view.by_source:
        sources.add_row(
            Text(summary.label),
            t.number(summary.total),
            t.number(summary.protected),
            t.number(summary.by_status.get(CoverageStatus.UNKNOWN, 0)),
            Text(t.percent(summary.ratio), style=_ratio_style(summary.ratio)),
        )
    console.print(sources)

    # Fitted to the terminal: a portal name is never cut mid-word (auditor.fitted_table).
    portal_cols = (
        Col(t("table.portal")),
        Col(t("table.source"), priority=2),
        Col(t("table.sensitivity"), priority=3),
        Col(t("table.accesses"), justify="right", priority=1),
        Col(t("table.protected"), justify="right", priority=4),
        Col(t("table.ratio"), justify="right"),
    )
    portal_rows = [
        (
            Text(p.name),
            Text(p.source),
            Text(t(f"sensitivity.{p.sensitivity.value}")),
            Text(t.number(p.summary.total)),
            Text(t.number(p.summary.protected)),
            Text(t.percent(p.summary.ratio), style=_ratio_style(p.summary.ratio)),
        )
        for p in view.by_portal
    ]
    console.print(fitted(console, portal_cols, portal_rows, title=t("section.coverage_portal")))

    findings = Table(title=t("summary.findings"), box=box.SIMPLE)
    findings.add_column(t("table.severity"))
    findings.add_column(t("table.count"), justify="right")
    for sev in SEVERITY_ORDER:
        findings.add_row(
            Text(t(f"severity.{sev.value}"), style=SEVERITY_COLOUR[sev.value]),
            t.number(view.findings_by_severity.get(sev, 0)),
        )
    findings.add_row(Text(t("summary.total"), style="bold"), t.number(len(view.result.findings)))
    console.print(findings)
