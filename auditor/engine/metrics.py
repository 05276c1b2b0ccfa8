"""Aggregates of an ``AuditResult`` for reports, history and diffs: one place, so that
every output counts the same way. Only sensitive accesses enter coverage ratios; unknown
and excepted are never counted as protected."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from auditor.model import AuditResult, Coverage, CoverageStatus, Severity, Snapshot, Strength


@dataclass(frozen=True, slots=True)
class CoverageSummary:
    key: str  # source name, or "source/portal id"
    label: str
    total: int
    protected: int
    by_status: Mapping[CoverageStatus, int] = field(default_factory=dict, hash=False)

    @property
    def ratio(self) -> float | None:
        return None if self.total == 0 else self.protected / self.total


def _summarise(
    rows: Iterable[Coverage], key: Callable[[Coverage], str], label: Callable[[str], str]
) -> tuple[CoverageSummary, ...]:
    totals: dict[str, Counter[CoverageStatus]] = {}
    for row in rows:
        if not row.sensitivity.is_sensitive:
            continue
        totals.setdefault(key(row), Counter())[row.status] += 1
    out = []
    for k in sorted(totals):
        counts = totals[k]
        protected = sum(n for status, n in counts.items() if status.is_protected)
        out.append(CoverageSummary(k, label(k), sum(counts.values()), protected, dict(counts)))
    return tuple(out)


def portal_labels(snapshot: Snapshot) -> dict[str, str]:
    """Display name of every portal, keyed "source/portal id". A name that several portals
    share (an app and the upstream app it signs in through) gets its source appended, so
    that no table or chart shows two rows that read the same."""
    counts = Counter(p.name for s in snapshot.sources for p in s.portals)
    return {
        f"{s.source}/{p.id}": p.name if counts[p.name] == 1 else f"{p.name} ({s.source})"
        for s in snapshot.sources
        for p in s.portals
    }


def by_source(result: AuditResult) -> tuple[CoverageSummary, ...]:
    """Sensitive-access coverage per source of the account."""
    return _summarise(result.coverage, lambda c: c.source, lambda k: k)


def by_portal(result: AuditResult, names: Mapping[str, str] | None = None) -> tuple[CoverageSummary, ...]:
    """Sensitive-access coverage per portal; ``names`` maps "source/portal id" to a display name."""
    names = names or {}
    return _summarise(result.coverage, lambda c: f"{c.portal_source}/{c.portal_id}", lambda k: names.get(k, k))


def enrolled_strengths(result: AuditResult) -> dict[Strength, int]:
    """Distribution of the strongest enrolled method over evaluated accounts (each once)."""
    seen: dict[tuple[str, str], Strength] = {}
    for row in result.coverage:
        seen[(row.source, row.account_id)] = row.enrolled
    counts = Counter(seen.values())
    return {s: counts.get(s, 0) for s in Strength}


def findings_by_severity(result: AuditResult) -> dict[Severity, int]:
    counts = Counter(f.severity for f in result.findings)
    return {s: counts.get(s, 0) for s in Severity}


def findings_by_rule(result: AuditResult) -> dict[str, int]:
    return dict(sorted(Counter(f.rule_id for f in result.findings).items()))
