"""How the history is shown: the terminal (``mfa-audit history``, ``mfa-audit diff``) and
the diff as CSV. The diffs, trends and their plain data are in ``auditor.queries.history``."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.fitted_table import SEVERITY_STYLE, Col, fitted, severity_text
from auditor.model import Severity
from auditor.queries.history import CoverageChange, FindingRef, RunDiff
from auditor.store.database import RunSummary, short_run_id

# --- terminal ------------------------------------------------------------------------------

def percent(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.1%}"


def points(delta: float | None) -> Text:
    if delta is None:
        return Text("n/a", style="dim")
    value = delta * 100
    style = "green" if value > 0 else "red" if value < 0 else "dim"
    return Text(f"{value:+.1f} pts", style=style)


def history_table(runs: Sequence[RunSummary], console: Console) -> None:
    if not runs:
        console.print("The evidence store holds no run yet.", markup=False, highlight=False)
        return
    cols = (
        Col("run"),
        Col("period"),
        Col("evaluated", priority=3),
        Col("complete", priority=1),
        Col("sensitive accesses", priority=4, justify="right"),
        Col("protected", justify="right"),
        *(
            Col(
                sev.value,
                priority=0 if sev in (Severity.CRITICAL, Severity.HIGH) else 2,
                justify="right",
                style=SEVERITY_STYLE[sev],
            )
            for sev in Severity
        ),
        Col("rules", priority=6),
        Col("data", priority=5),
    )
    rows = [
        (
            Text(short_run_id(run.run_id)),
            Text(run.period),
            Text(f"{run.evaluated_at:%Y-%m-%d %H:%M}"),
            Text("yes", style="green") if run.complete else Text("NO", style="bold red"),
            Text(str(run.sensitive_accesses)),
            Text(percent(run.protected_ratio)),
            *(Text(str(run.findings_by_severity.get(s, 0))) for s in Severity),
            Text(run.rule_set_version),
            Text(f"purged {run.purged_at:%Y-%m-%d}", style="dim") if run.purged_at else Text("full"),
        )
        for run in runs
    ]
    console.print(
        fitted(
            console, cols, rows, title="Stored runs", caption="run: short id; commands accept it or any unique prefix"
        )
    )


def _coverage_table(title: str, changes: Sequence[CoverageChange], console: Console) -> Table:
    cols = (
        Col(title.split()[-1]),
        Col("before", justify="right", priority=1),
        Col("after", justify="right"),
        Col("change", justify="right"),
    )
    rows = []
    for c in changes:
        before = (
            "absent" if c.total_before is None else f"{percent(c.ratio_before)} ({c.protected_before}/{c.total_before})"
        )
        after = "absent" if c.total_after is None else f"{percent(c.ratio_after)} ({c.protected_after}/{c.total_after})"
        rows.append((Text(c.label), Text(before), Text(after), points(c.delta)))
    return fitted(console, cols, rows, title=title)


def _findings_table(title: str, refs: Sequence[FindingRef], limit: int, console: Console) -> Table:
    cols = (Col("severity", priority=1), Col("rule"), Col("account"), Col("portal"))
    rows = [
        (
            severity_text(ref.severity),
            Text(ref.rule_id),
            Text(ref.principal or ref.account_id or "-"),
            Text(ref.portal_name or ref.portal_id or "-"),
        )
        for ref in refs[:limit]
    ]
    caption = f"… and {len(refs) - limit} more (--format json or csv for all)" if len(refs) > limit else None
    return fitted(console, cols, rows, title=f"{title} ({len(refs)})", caption=caption)


def print_diff(diff: RunDiff, console: Console, limit: int = 25) -> None:
    head = Text()
    head.append(f"{short_run_id(diff.before.run_id)} ({diff.before.period})", style="bold")
    head.append(" → ")
    head.append(f"{short_run_id(diff.after.run_id)} ({diff.after.period})", style="bold")
    console.print(head)
    line = Text("Sensitive accesses protected: ")
    line.append(f"{percent(diff.ratio_before)} → {percent(diff.ratio_after)} ")
    before, after = diff.ratio_before, diff.ratio_after
    line.append_text(points(None if before is None or after is None else after - before))
    console.print(line)
    console.print(
        Text(f"Findings: {len(diff.new)} new, {len(diff.resolved)} resolved, {len(diff.persisting)} persisting")
    )
    if not diff.same_rule_set:
        console.print(
            Text(
                f"Rule set changed ({diff.before.rule_set_version} → {diff.after.rule_set_version}): "
                "some changes may come from the rules, not from the organisation.",
                style="yellow",
            )
        )
    console.print(_findings_table("New findings", diff.new, limit, console))
    console.print(_findings_table("Resolved findings", diff.resolved, limit, console))
    console.print(_findings_table("Persisting findings", [p.after for p in diff.persisting], limit, console))
    console.print(_coverage_table("Coverage by portal", diff.portals, console))
    console.print(_coverage_table("Coverage by source", diff.sources, console))


DIFF_CSV_HEADER = ("change", "severity", "rule_id", "source", "account_id", "principal", "portal_id", "portal_name")


def diff_to_csv(diff: RunDiff) -> str:
    """One row per finding with its change, for a spreadsheet. Cells are guarded against
    formula injection and control characters like every CSV the tool writes."""
    from auditor.render.rows import csv_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(DIFF_CSV_HEADER)
    groups: tuple[tuple[str, Sequence[FindingRef]], ...] = (
        ("new", diff.new),
        ("resolved", diff.resolved),
        ("persisting", [p.after for p in diff.persisting]),
    )
    for change, refs in groups:
        for r in refs:
            writer.writerow(
                [
                    csv_cell(x or "")
                    for x in (
                        change,
                        r.severity.value,
                        r.rule_id,
                        r.source,
                        r.account_id,
                        r.principal,
                        r.portal_id,
                        r.portal_name,
                    )
                ]
            )
    return out.getvalue()
