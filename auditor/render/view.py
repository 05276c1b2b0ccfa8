"""What every report shows, computed once from a ``ReportContext``.

The figures come from ``auditor.engine.metrics`` (one place counts); this module only groups,
orders, caps and names them for display, so the PDF, HTML, JSON and terminal agree.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from auditor.engine import metrics
from auditor.engine.metrics import CoverageSummary
from auditor.interfaces import ReportContext
from auditor.model import (
    Account,
    CoverageStatus,
    ExceptionStatus,
    Finding,
    FrameworkRef,
    NotEvaluated,
    Reconciliation,
    Sensitivity,
    Severity,
    SourceIssue,
    Strength,
)
from auditor.render import statement

if TYPE_CHECKING:
    from auditor.queries.history import SinceLast, TrendPoint

RULE_IDS = tuple(f"MFA-{n:03d}" for n in range(1, 13))
STATUS_ORDER = tuple(CoverageStatus)
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
STRENGTH_ORDER = (Strength.PHISHING_RESISTANT, Strength.STRONG, Strength.WEAK, Strength.NONE)


@dataclass(frozen=True, slots=True)
class SourceState:
    source: str
    connector: str
    complete: bool
    collected_at: datetime
    reasons: tuple[str, ...]  # messages of the issues that made it incomplete
    issues: tuple[SourceIssue, ...]
    expected: Mapping[str, int] = field(default_factory=dict, hash=False)
    received: Mapping[str, int] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class PortalRow:
    summary: CoverageSummary
    source: str
    portal_id: str
    name: str
    sensitivity: Sensitivity


@dataclass(frozen=True, slots=True)
class RuleGroup:
    rule_id: str
    title: str
    severity: Severity  # the worst among its findings
    total: int
    by_severity: Mapping[Severity, int]
    shown: tuple[Finding, ...]
    references: tuple[FrameworkRef, ...]

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


def finding_display_order(f: Finding) -> tuple[int, str, str, str, str]:
    """The report's order: as ``auditor.findings.finding_order`` (the engine's), but by the
    labels a reader sees (principal, portal name) rather than by ids, so a table reads
    alphabetically."""
    return (
        -f.severity.rank,
        f.rule_id,
        f.source,
        f.principal or f.account_id or "",
        f.portal_name or f.portal_id or "",
    )


class ReportView:
    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.result = ctx.result
        self.snapshot = ctx.snapshot
        self.metrics = ctx.result.metrics

    # --- names ---------------------------------------------------------------------------

    @cached_property
    def portal_names(self) -> dict[str, str]:
        return metrics.portal_labels(self.snapshot)

    @cached_property
    def accounts(self) -> dict[tuple[str, str], Account]:
        return {(s.source, a.id): a for s in self.snapshot.sources for a in s.accounts}

    @cached_property
    def snapshot_sha256(self) -> str:
        # The pipeline computed it once for the run id and the store; a pseudonymised
        # context has dropped it (its snapshot is another document, with its own artefacts).
        given = self.ctx.extra.get("snapshot_sha256")
        if isinstance(given, str) and len(given) == 64:
            return given
        return self.ctx.artefacts.snapshot_sha256

    # --- history (from the evidence store, through ``ctx.extra``) -------------------------

    @cached_property
    def trend(self) -> tuple[TrendPoint, ...]:
        """The headline of the last periods, oldest first; empty without a store."""
        from auditor.queries.history import TrendPoint

        points = self.ctx.extra.get("trend", ())
        if not isinstance(points, tuple | list):
            return ()
        return tuple(p for p in points if isinstance(p, TrendPoint))

    @cached_property
    def since_last(self) -> SinceLast | None:
        from auditor.queries.history import SinceLast

        value = self.ctx.extra.get("since_last")
        return value if isinstance(value, SinceLast) else None

    @property
    def has_history(self) -> bool:
        return bool(self.trend) or self.since_last is not None

    # --- headline ------------------------------------------------------------------------

    @cached_property
    def findings_by_severity(self) -> dict[Severity, int]:
        return metrics.findings_by_severity(self.result)

    @cached_property
    def findings_by_rule(self) -> dict[str, int]:
        return metrics.findings_by_rule(self.result)

    @cached_property
    def by_source(self) -> tuple[CoverageSummary, ...]:
        return metrics.by_source(self.result)

    @cached_property
    def by_portal(self) -> tuple[PortalRow, ...]:
        sensitivity: dict[str, Sensitivity] = {}
        for row in self.result.coverage:
            sensitivity.setdefault(f"{row.portal_source}/{row.portal_id}", row.sensitivity)
        rows = []
        for summary in metrics.by_portal(self.result, self.portal_names):
            source, _, portal_id = summary.key.partition("/")
            rows.append(PortalRow(summary, source, portal_id, summary.label, sensitivity[summary.key]))
        return tuple(rows)

    @cached_property
    def enrolled_strengths(self) -> dict[Strength, int]:
        return metrics.enrolled_strengths(self.result)

    @cached_property
    def status_counts(self) -> dict[CoverageStatus, int]:
        """Sensitive accesses per status: the sum over sources of ``metrics.by_source``."""
        totals: dict[CoverageStatus, int] = dict.fromkeys(STATUS_ORDER, 0)
        for summary in self.by_source:
            for status, n in summary.by_status.items():
                totals[status] += n
        return totals

    # --- findings ------------------------------------------------------------------------

    @cached_property
    def findings_sorted(self) -> list[Finding]:
        return sorted(self.result.findings, key=finding_display_order)

    def rule_groups(self, titles: Mapping[str, str] | None = None) -> tuple[RuleGroup, ...]:
        """Findings by rule; a capped table keeps the most severe, then the most sensitive
        portals' rows (``statement.display_order``)."""
        cap = max(0, self.ctx.options.max_detail_rows)
        grouped: dict[str, list[Finding]] = defaultdict(list)
        for f in self.result.findings:
            grouped[f.rule_id].append(f)
        key = statement.display_key(statement.sensitivity_by_portal(self.result))
        groups = []
        for rule_id, items in grouped.items():
            counts = dict.fromkeys(SEVERITY_ORDER, 0)
            refs: dict[FrameworkRef, None] = {}
            for f in items:
                counts[f.severity] += 1
                refs.update(dict.fromkeys(f.references))
            worst = max((f.severity for f in items), key=lambda s: s.rank)
            title = (titles or {}).get(rule_id, items[0].title)
            # The first ``cap`` in display order, without sorting a million findings.
            shown = tuple(heapq.nsmallest(cap, items, key=key))
            groups.append(RuleGroup(rule_id, title, worst, len(items), counts, shown, tuple(refs)))
        return tuple(sorted(groups, key=lambda g: (-g.severity.rank, g.rule_id)))

    @cached_property
    def rule_references(self) -> dict[str, tuple[FrameworkRef, ...]]:
        refs: dict[str, dict[FrameworkRef, None]] = defaultdict(dict)
        for f in self.result.findings:
            refs[f.rule_id].update(dict.fromkeys(f.references))
        return {k: tuple(v) for k, v in refs.items()}

    # --- completeness --------------------------------------------------------------------

    @cached_property
    def sources(self) -> tuple[SourceState, ...]:
        out = []
        for s in self.snapshot.sources:
            reasons = tuple(i.message for i in s.issues if i.incomplete)
            if not s.complete and not reasons:
                reasons = ("the connector reported the source incomplete without a reason",)
            out.append(
                SourceState(
                    source=s.source,
                    connector=s.connector,
                    complete=s.complete,
                    collected_at=s.collected_at,
                    reasons=reasons,
                    issues=s.issues,
                    expected=dict(s.expected_counts),
                    received=s.received_counts,
                )
            )
        return tuple(out)

    @property
    def scope_limits(self) -> tuple[tuple[str, str], ...]:
        """(source, message) of every narrowing the configuration made: shown on page one."""
        return tuple((s.source, i.message) for s in self.sources for i in s.issues if i.limits_scope)

    @property
    def incomplete_sources(self) -> tuple[SourceState, ...]:
        return tuple(s for s in self.sources if not s.complete)

    @property
    def complete(self) -> bool:
        return self.result.complete and not self.incomplete_sources

    @property
    def reconciliation(self) -> tuple[Reconciliation, ...]:
        return self.result.reconciliation

    @property
    def exceptions(self) -> tuple[ExceptionStatus, ...]:
        return self.result.exceptions

    # --- what the report states (page one, scope, responses) -----------------------------

    @cached_property
    def config(self) -> Mapping[str, Any]:
        return statement.config_data(self.ctx.config_text)

    @cached_property
    def verdicts(self) -> tuple[statement.PortalVerdict, ...]:
        return statement.portal_verdicts(self.result, self.snapshot, self.portal_names, self.ctx.options)

    @cached_property
    def not_evaluated(self) -> tuple[NotEvaluated, ...]:
        """Rules the engine did not run on a source for lack of a fact read there."""
        return self.result.not_evaluated

    @cached_property
    def source_scopes(self) -> tuple[statement.SourceScope, ...]:
        return statement.source_scopes(self.snapshot, self.config)

    @cached_property
    def excluded(self) -> tuple[statement.Excluded, ...]:
        return statement.excluded_accounts(self.snapshot, self.config)

    @cached_property
    def excluded_counts(self) -> dict[str, int]:
        return statement.excluded_counts(self.excluded)

    @cached_property
    def classifications(self) -> tuple[statement.Classification, ...]:
        return statement.classifications(self.snapshot, self.result, self.config)

    @cached_property
    def responses(self) -> statement.Responses:
        return statement.Responses(self.ctx.options.responses)

    @cached_property
    def responses_by_rule(self) -> dict[str, dict[str, int]]:
        """Findings answered, per rule and response id (one pass over the findings)."""
        out: dict[str, dict[str, int]] = defaultdict(dict)
        if self.responses.register:
            for f in self.result.findings:
                r = self.responses.for_finding(f)
                if r is not None:
                    out[f.rule_id][r.id] = out[f.rule_id].get(r.id, 0) + 1
        return dict(out)

    @cached_property
    def response_counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for counts in self.responses_by_rule.values():
            for rid, n in counts.items():
                totals[rid] = totals.get(rid, 0) + n
        return totals

    @cached_property
    def first_seen(self) -> statement.FirstSeen:
        sl = self.since_last
        keys = self.ctx.extra.get("persisting_keys")
        return statement.FirstSeen(
            current=self.result.period,
            previous=sl.previous_period if sl is not None else None,
            persisting=frozenset(keys) if isinstance(keys, frozenset | set | tuple | list) else frozenset(),
        )

    @property
    def external(self) -> bool:
        return self.ctx.options.edition == "external"

    def account_text(self, value: str | None) -> str:
        """An account identifier as this edition shows it (masked in the external edition
        when the config asks)."""
        if not value:
            return ""
        return statement.mask_identifier(value) if self.external and self.ctx.options.mask_accounts else value

    def exception_reason_shown(self, e: ExceptionStatus) -> bool:
        return not (self.external and e.entry.id in self.ctx.options.internal_exceptions)

    @cached_property
    def sign_in_window(self) -> tuple[datetime, datetime] | None:
        """The first and last sign-in the sources' logs hold: what "sign-ins from … to …" says."""
        times = [si.time for s in self.snapshot.sources for si in s.sign_ins]
        return (min(times), max(times)) if times else None

    @cached_property
    def state_at(self) -> datetime:
        """The collection time: the state the report describes (the latest source read)."""
        times = [s.collected_at for s in self.snapshot.sources]
        return max(times) if times else self.result.evaluated_at

    @cached_property
    def status_total(self) -> int:
        return sum(self.status_counts.values())


def exception_state(e: ExceptionStatus) -> str:
    """Catalogue key of an exception's state: expired, valid and used, or valid and unused."""
    if e.expired:
        return "exception.expired"
    return "exception.valid" if e.used else "exception.unused"
