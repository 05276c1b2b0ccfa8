"""Quarter on quarter: diffs between stored runs, the trend of the headline coverage,
and "since the last report" for the PDF.

Findings are matched across runs by ``Finding.key`` (rule, source, account, portal):
a key only in the later run is *new*, only in the earlier one *resolved*, in both
*persisting*. Coverage changes come from the runs' aggregates, so they stay available
after retention has purged the account-level data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditor.engine.metrics import CoverageSummary
from auditor.findings import FINDING_FIELDS, finding_fields, finding_order
from auditor.findings import FindingRef as FindingRef  # re-exported: the report reads it from here
from auditor.model import Finding, Severity
from auditor.store.database import RunSummary, StoredRun

TOP_ITEMS = 10
_REF_FIELDS = tuple(name for name in FINDING_FIELDS if name != "remediation")  # a diff lists, never advises


@dataclass(frozen=True, slots=True)
class PersistingFinding:
    before: FindingRef
    after: FindingRef

    @property
    def severity_changed(self) -> bool:
        return self.before.severity is not self.after.severity


@dataclass(frozen=True, slots=True)
class CoverageChange:
    """Sensitive-access coverage of one portal or source in two runs. ``None`` totals:
    absent from that run."""

    key: str
    label: str
    total_before: int | None
    protected_before: int | None
    total_after: int | None
    protected_after: int | None

    @property
    def ratio_before(self) -> float | None:
        return _ratio(self.protected_before, self.total_before)

    @property
    def ratio_after(self) -> float | None:
        return _ratio(self.protected_after, self.total_after)

    @property
    def delta(self) -> float | None:
        """Change of the protected share, in ratio points (0.05 = +5 %); None when either side has none."""
        before, after = self.ratio_before, self.ratio_after
        return None if before is None or after is None else after - before


@dataclass(frozen=True, slots=True)
class RunDiff:
    before: RunSummary
    after: RunSummary
    new: tuple[FindingRef, ...]
    resolved: tuple[FindingRef, ...]
    persisting: tuple[PersistingFinding, ...]
    portals: tuple[CoverageChange, ...]
    sources: tuple[CoverageChange, ...]

    @property
    def ratio_before(self) -> float | None:
        return self.before.protected_ratio

    @property
    def ratio_after(self) -> float | None:
        return self.after.protected_ratio

    @property
    def same_rule_set(self) -> bool:
        """A rule-set change can create or resolve findings by itself: reports say so."""
        return self.before.rule_set_version == self.after.rule_set_version


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """The headline of one period (its latest run)."""

    period: str
    run_id: str
    evaluated_at: datetime
    protected_ratio: float | None
    sensitive_accesses: int
    sensitive_protected: int
    sensitive_unknown: int
    complete: bool
    findings_by_severity: Mapping[Severity, int] = field(hash=False)


@dataclass(frozen=True, slots=True)
class SinceLast:
    """The "since the last report" section: counts and the most severe items."""

    previous_run_id: str
    previous_period: str
    current_run_id: str
    current_period: str
    ratio_before: float | None
    ratio_after: float | None
    new_count: int
    resolved_count: int
    persisting_count: int
    new_by_severity: Mapping[Severity, int] = field(hash=False)
    resolved_by_severity: Mapping[Severity, int] = field(hash=False)
    persisting_by_severity: Mapping[Severity, int] = field(hash=False)
    top_new: tuple[FindingRef, ...]
    top_resolved: tuple[FindingRef, ...]
    top_persisting: tuple[FindingRef, ...]
    portals: tuple[CoverageChange, ...]  # largest moves first
    same_rule_set: bool


# --- computing ---------------------------------------------------------------------------


def _ratio(protected: int | None, total: int | None) -> float | None:
    return None if not total or protected is None else protected / total


def _by_key(findings: Iterable[Finding]) -> dict[tuple[str, str, str, str], FindingRef]:
    # A key normally occurs once per run; if a rule emitted it twice, the most severe stands.
    out: dict[tuple[str, str, str, str], FindingRef] = {}
    for f in findings:
        current = out.get(f.key)
        if current is None or f.severity.rank > current.severity.rank:
            out[f.key] = FindingRef.of(f, advice=False)
    return out


def coverage_changes(before: Sequence[CoverageSummary], after: Sequence[CoverageSummary]) -> tuple[CoverageChange, ...]:
    a = {c.key: c for c in before}
    b = {c.key: c for c in after}
    out = []
    for key in sorted(a.keys() | b.keys()):
        x, y = a.get(key), b.get(key)
        label = y.label if y is not None else x.label if x is not None else key
        out.append(
            CoverageChange(
                key,
                label,
                x.total if x else None,
                x.protected if x else None,
                y.total if y else None,
                y.protected if y else None,
            )
        )
    return tuple(out)


def diff_runs(a: StoredRun, b: StoredRun) -> RunDiff:
    """What changed from run ``a`` (earlier) to run ``b`` (later)."""
    before, after = _by_key(a.result.findings), _by_key(b.result.findings)
    new = sorted((after[k] for k in after.keys() - before.keys()), key=finding_order)
    resolved = sorted((before[k] for k in before.keys() - after.keys()), key=finding_order)
    persisting = sorted(
        (PersistingFinding(before[k], after[k]) for k in after.keys() & before.keys()),
        key=lambda p: finding_order(p.after),
    )
    return RunDiff(
        before=a.summary,
        after=b.summary,
        new=tuple(new),
        resolved=tuple(resolved),
        persisting=tuple(persisting),
        portals=coverage_changes(a.summary.by_portal, b.summary.by_portal),
        sources=coverage_changes(a.summary.by_source, b.summary.by_source),
    )


def trend(runs: Sequence[RunSummary], n: int = 4) -> tuple[TrendPoint, ...]:
    """The headline coverage of the last ``n`` periods, oldest first; a period with
    several runs counts its latest. Purged runs take part (their aggregates remain)."""
    latest: dict[str, RunSummary] = {}
    for run in sorted(runs, key=lambda r: (r.evaluated_at, r.created_at)):
        latest[run.period] = run
    chosen = sorted(latest.values(), key=lambda r: r.evaluated_at)[-n:] if n > 0 else []
    return tuple(
        TrendPoint(
            period=r.period,
            run_id=r.run_id,
            evaluated_at=r.evaluated_at,
            protected_ratio=r.protected_ratio,
            sensitive_accesses=r.sensitive_accesses,
            sensitive_protected=r.sensitive_protected,
            sensitive_unknown=r.sensitive_unknown,
            complete=r.complete,
            findings_by_severity=dict(r.findings_by_severity),
        )
        for r in chosen
    )


def _severity_counts(refs: Iterable[FindingRef]) -> dict[Severity, int]:
    counts = Counter(r.severity for r in refs)
    return {s: counts.get(s, 0) for s in Severity}


def since_last(diff: RunDiff, top: int = TOP_ITEMS) -> SinceLast:
    persisting = [p.after for p in diff.persisting]
    moved = sorted(
        (c for c in diff.portals if c.delta is not None and c.delta != 0),
        key=lambda c: (-abs(c.delta or 0.0), c.key),
    )
    return SinceLast(
        previous_run_id=diff.before.run_id,
        previous_period=diff.before.period,
        current_run_id=diff.after.run_id,
        current_period=diff.after.period,
        ratio_before=diff.ratio_before,
        ratio_after=diff.ratio_after,
        new_count=len(diff.new),
        resolved_count=len(diff.resolved),
        persisting_count=len(diff.persisting),
        new_by_severity=_severity_counts(diff.new),
        resolved_by_severity=_severity_counts(diff.resolved),
        persisting_by_severity=_severity_counts(persisting),
        top_new=diff.new[:top],
        top_resolved=diff.resolved[:top],
        top_persisting=tuple(persisting[:top]),
        portals=tuple(moved[:top]),
        same_rule_set=diff.same_rule_set,
    )


# --- plain data for --json -----------------------------------------------------------------


def _severities(counts: Mapping[Severity, int]) -> dict[str, int]:
    return {s.value: counts.get(s, 0) for s in Severity}


def summary_to_data(run: RunSummary) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "period": run.period,
        "config_digest": run.config_digest,
        "created_at": run.created_at.isoformat(),
        "evaluated_at": run.evaluated_at.isoformat(),
        "rule_set_version": run.rule_set_version,
        "complete": run.complete,
        "accounts_read": run.accounts_read,
        "accounts_in_scope": run.accounts_in_scope,
        "sensitive_portals": run.sensitive_portals,
        "sensitive_accesses": run.sensitive_accesses,
        "sensitive_protected": run.sensitive_protected,
        "sensitive_unknown": run.sensitive_unknown,
        "protected_ratio": run.protected_ratio,
        "findings_total": run.findings_total,
        "findings_by_severity": _severities(run.findings_by_severity),
        "findings_by_rule": {rule: _severities(c) for rule, c in run.findings_by_rule.items()},
        "snapshot_sha256": run.snapshot_sha256,
        "sources": [
            {
                "source": s.source,
                "connector": s.connector,
                "collected_at": s.collected_at.isoformat(),
                "complete": s.complete,
                "accounts": s.accounts,
                "issues": [
                    {"code": i.code, "incomplete": i.incomplete, "message": i.message, "record": i.record}
                    for i in s.issues
                ],
            }
            for s in run.sources
        ],
        "coverage_by_source": [_coverage_data(c) for c in run.by_source],
        "coverage_by_portal": [_coverage_data(c) for c in run.by_portal],
        "purged_at": run.purged_at.isoformat() if run.purged_at else None,
    }


def _coverage_data(c: CoverageSummary) -> dict[str, Any]:
    return {
        "key": c.key,
        "label": c.label,
        "total": c.total,
        "protected": c.protected,
        "ratio": c.ratio,
        "by_status": {str(k): v for k, v in sorted(c.by_status.items())},
    }


def ref_to_data(ref: FindingRef) -> dict[str, Any]:
    return finding_fields(ref, _REF_FIELDS)


def change_to_data(c: CoverageChange) -> dict[str, Any]:
    return {
        "key": c.key,
        "label": c.label,
        "before": {"total": c.total_before, "protected": c.protected_before, "ratio": c.ratio_before},
        "after": {"total": c.total_after, "protected": c.protected_after, "ratio": c.ratio_after},
        "delta": c.delta,
    }


def diff_to_data(diff: RunDiff) -> dict[str, Any]:
    return {
        "before": {
            "run_id": diff.before.run_id,
            "period": diff.before.period,
            "ratio": diff.ratio_before,
            "rule_set_version": diff.before.rule_set_version,
        },
        "after": {
            "run_id": diff.after.run_id,
            "period": diff.after.period,
            "ratio": diff.ratio_after,
            "rule_set_version": diff.after.rule_set_version,
        },
        "counts": {"new": len(diff.new), "resolved": len(diff.resolved), "persisting": len(diff.persisting)},
        "new": [ref_to_data(r) for r in diff.new],
        "resolved": [ref_to_data(r) for r in diff.resolved],
        "persisting": [{**ref_to_data(p.after), "severity_before": p.before.severity.value} for p in diff.persisting],
        "coverage_by_portal": [change_to_data(c) for c in diff.portals],
        "coverage_by_source": [change_to_data(c) for c in diff.sources],
    }


def trend_to_data(points: Sequence[TrendPoint]) -> list[dict[str, Any]]:
    return [
        {
            "period": p.period,
            "run_id": p.run_id,
            "evaluated_at": p.evaluated_at.isoformat(),
            "protected_ratio": p.protected_ratio,
            "sensitive_accesses": p.sensitive_accesses,
            "sensitive_protected": p.sensitive_protected,
            "sensitive_unknown": p.sensitive_unknown,
            "complete": p.complete,
            "findings_by_severity": _severities(p.findings_by_severity),
        }
        for p in points
    ]


def since_last_to_data(s: SinceLast) -> dict[str, Any]:
    return {
        "previous_run_id": s.previous_run_id,
        "previous_period": s.previous_period,
        "current_run_id": s.current_run_id,
        "current_period": s.current_period,
        "ratio_before": s.ratio_before,
        "ratio_after": s.ratio_after,
        "counts": {"new": s.new_count, "resolved": s.resolved_count, "persisting": s.persisting_count},
        "new_by_severity": _severities(s.new_by_severity),
        "resolved_by_severity": _severities(s.resolved_by_severity),
        "persisting_by_severity": _severities(s.persisting_by_severity),
        "top_new": [ref_to_data(r) for r in s.top_new],
        "top_resolved": [ref_to_data(r) for r in s.top_resolved],
        "top_persisting": [ref_to_data(r) for r in s.top_persisting],
        "portals": [change_to_data(c) for c in s.portals],
        "same_rule_set": s.same_rule_set,
    }
