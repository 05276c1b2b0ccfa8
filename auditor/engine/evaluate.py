"""Evaluation: classification, coverage, rules, exceptions, reconciliation and metrics
of one snapshot, as one plain call. No clock is read: ``now`` is a parameter (it
decides dormancy and which exceptions have expired)."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from auditor.config.schema import EvaluationConfig
from auditor.engine.coverage import CoverageOutput, coverage_rows
from auditor.engine.identity import IdentityResolver
from auditor.engine.reconcile import ScopeFilter, reconcile_source
from auditor.engine.rules import RULESET_VERSION, not_evaluated, run_rules
from auditor.engine.rules.base import RuleContext
from auditor.engine.rules.exceptions import ExceptionRegister
from auditor.model import (
    AuditResult,
    CoverageStatus,
    Finding,
    Metrics,
    Reconciliation,
    Sensitivity,
    Severity,
    Snapshot,
)


def evaluate(snapshot: Snapshot, config: EvaluationConfig, *, now: datetime, run_id: str) -> AuditResult:
    with _without_cyclic_gc():
        return _evaluate(snapshot, config, now=now, run_id=run_id)


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Evaluation allocates millions of long-lived, acyclic objects (a row per access):
    the cyclic collector would rescan them again and again to free nothing, which
    doubles the time on a large organisation. Reference counting still frees garbage;
    the collector's previous state is restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _evaluate(snapshot: Snapshot, config: EvaluationConfig, *, now: datetime, run_id: str) -> AuditResult:
    resolver = IdentityResolver(config.identity_links)
    register = ExceptionRegister(config.exceptions, now.date(), resolver)
    out = coverage_rows(snapshot.sources, config, register, resolver)
    ctx = RuleContext.build(snapshot, config, now, out)
    findings = run_rules(ctx)
    scope = ScopeFilter(config.policy)
    reconciliation = tuple(reconcile_source(s, scope) for s in sorted(snapshot.sources, key=lambda s: s.source))
    return AuditResult(
        run_id=run_id,
        rule_set_version=RULESET_VERSION,
        evaluated_at=now,
        period=snapshot.period,
        complete=snapshot.complete,
        coverage=tuple(out.rows),
        findings=findings,
        reconciliation=reconciliation,
        exceptions=register.statuses(),
        metrics=compute_metrics(out, findings, reconciliation),
        not_evaluated=not_evaluated(ctx),
        profile=config.policy.profile.value,
    )


def compute_metrics(
    out: CoverageOutput, findings: tuple[Finding, ...], reconciliation: tuple[Reconciliation, ...]
) -> Metrics:
    statuses: Counter[CoverageStatus] = Counter()
    sensitive: Counter[CoverageStatus] = Counter()
    for row in out.rows:
        statuses[row.status] += 1
        if row.sensitivity is not Sensitivity.NORMAL:
            sensitive[row.status] += 1
    severities = Counter(f.severity for f in findings)
    return Metrics(
        accounts_read=sum(r.read for r in reconciliation),
        accounts_in_scope=sum(r.evaluated for r in reconciliation),
        sensitive_portals=sum(
            1
            for portals in out.portals.values()
            for p in portals.values()
            if p.sensitivity is not None and p.sensitivity.is_sensitive
        ),
        sensitive_accesses=sum(sensitive.values()),
        sensitive_protected=sum(n for s, n in sensitive.items() if s.is_protected),
        sensitive_unknown=sensitive[CoverageStatus.UNKNOWN],
        findings_by_severity={s: severities.get(s, 0) for s in Severity},
        status_counts={s: statuses.get(s, 0) for s in CoverageStatus},
    )
