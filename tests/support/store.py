"""Runs for the evidence-store tests: generated sample organisations, evaluated either
by the real engine (when ``auditor.engine.evaluate`` is present) or by ``toy_evaluate``, a
deliberately tiny evaluator whose findings are easy to predict, so the diff tests can
state exact expectations.

Loaded by path from the test modules (pytest runs with ``--import-mode=importlib``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch
from auditor.model import (
    AccountId,
    AccountKind,
    AuditResult,
    Coverage,
    CoverageStatus,
    Finding,
    FrameworkRef,
    Method,
    MethodKind,
    MethodStatus,
    Metrics,
    Reconciliation,
    Requirement,
    Sensitivity,
    Severity,
    Snapshot,
    Strength,
)
from connectors.sandbox.sample_org import SampleOrg, generate

NORMAL_PORTALS = {"app-intranet", "app-m365"}
HIGH_PORTALS = {"app-claims", "app-admin-console", "0oa-patient-portal"}


def sensitivity(portal_id: str) -> Sensitivity:
    if portal_id in NORMAL_PORTALS:
        return Sensitivity.NORMAL
    return Sensitivity.HIGH if portal_id in HIGH_PORTALS else Sensitivity.SENSITIVE


def snapshot_of(org: SampleOrg, digest: str = "c" * 64) -> Snapshot:
    return Snapshot(org.period, org.period_start, org.period_end, digest, tuple(org.sources.values()))


def toy_evaluate(snapshot: Snapshot, run_id: str, now: datetime) -> AuditResult:
    """Every access of an enabled human or guest: protected when an active second factor
    is enrolled, else not_enrolled; one MFA-001 finding per unprotected sensitive access."""
    coverage: list[Coverage] = []
    findings: list[Finding] = []
    recon: list[Reconciliation] = []
    read = in_scope = 0
    for src in snapshot.sources:
        names = {p.id: p.name for p in src.portals}
        accounts = {a.id: a for a in src.accounts}
        scoped = {a.id for a in src.accounts if a.enabled and a.kind is not AccountKind.SERVICE}
        read += len(src.accounts)
        in_scope += len(scoped)
        out = Counter("disabled" if not a.enabled else "service" for a in src.accounts if a.id not in scoped)
        recon.append(Reconciliation(src.source, len(src.accounts), len(scoped), dict(out)))
        for acc in src.access:
            if acc.account_id not in scoped:
                continue
            account = accounts[acc.account_id]
            enrolled = account.strongest_method
            sens = sensitivity(acc.portal_id)
            ok = enrolled.at_least(Strength.WEAK) or not sens.is_sensitive
            status = CoverageStatus.PROTECTED if ok else CoverageStatus.NOT_ENROLLED
            reason = "second factor enrolled" if ok else "no active second factor"
            coverage.append(
                Coverage(
                    src.source,
                    acc.account_id,
                    src.source,
                    acc.portal_id,
                    status,
                    sens,
                    enrolled,
                    Requirement.MFA,
                    Strength.WEAK if sens.is_sensitive else Strength.NONE,
                    False,
                    reason,
                    src.source,
                    policies=tuple(p.id for p in src.policies[:1]),
                )
            )
            if not ok:
                findings.append(
                    Finding(
                        "MFA-001",
                        Severity.HIGH if sens is Sensitivity.HIGH else Severity.MEDIUM,
                        "Not enrolled",
                        src.source,
                        acc.account_id,
                        account.principal,
                        acc.portal_id,
                        names.get(acc.portal_id),
                        f"{account.principal} has no second factor and reaches {names.get(acc.portal_id)}",
                        {"methods": ""},
                        "Enrol a second factor.",
                        (FrameworkRef("GDPR", "Art. 32(1)(b)"),),
                    )
                )
    sensitive = [c for c in coverage if c.sensitivity.is_sensitive]
    by_sev = Counter(f.severity for f in findings)
    metrics = Metrics(
        accounts_read=read,
        accounts_in_scope=in_scope,
        sensitive_portals=len({(c.portal_source, c.portal_id) for c in sensitive}),
        sensitive_accesses=len(sensitive),
        sensitive_protected=sum(c.status.is_protected for c in sensitive),
        sensitive_unknown=0,
        findings_by_severity={s: by_sev.get(s, 0) for s in Severity},
        status_counts=dict(Counter(c.status for c in coverage)),
    )
    return AuditResult(
        run_id,
        "toy-1",
        now,
        snapshot.period,
        snapshot.complete,
        tuple(coverage),
        tuple(findings),
        tuple(recon),
        (),
        metrics,
    )


def quarter(org: SampleOrg, months_later: int) -> SampleOrg:
    """The same organisation ``months_later`` months on (period and dates moved)."""
    now = org.now + timedelta(days=92 * months_later // 3)
    q = (now.month - 1) // 3
    start = date(now.year, 3 * q + 1, 1)
    end = date(now.year + 1, 1, 1) if q == 3 else date(now.year, 3 * q + 4, 1)
    return replace(org, now=now, period=f"{now.year}-Q{q + 1}", period_start=start, period_end=end - timedelta(days=1))


def with_methods(org: SampleOrg, source: str, changes: dict[str, tuple[Method, ...]]) -> SampleOrg:
    """``org`` with the methods of some accounts (by id) replaced."""
    snap = org.sources[source]
    accounts = tuple(replace(a, methods=changes[a.id]) if a.id in changes else a for a in snap.accounts)
    return replace(org, sources={**org.sources, source: replace(snap, accounts=accounts)})


PUSH = Method(MethodKind.AUTHENTICATOR_PUSH, "push", MethodStatus.ACTIVE, datetime(2026, 1, 1, tzinfo=UTC))


def sensitive_unenrolled(org: SampleOrg, source: str) -> list[AccountId]:
    """In-scope accounts of ``source`` without an active method that reach a sensitive portal."""
    snap = org.sources[source]
    sensitive_ids = {x.account_id for x in snap.access if sensitivity(x.portal_id).is_sensitive}
    return sorted(
        a.id
        for a in snap.accounts
        if a.id in sensitive_ids
        and a.enabled
        and a.kind is not AccountKind.SERVICE
        and a.strongest_method is Strength.NONE
    )


def sensitive_enrolled(org: SampleOrg, source: str) -> list[AccountId]:
    snap = org.sources[source]
    sensitive_ids = {x.account_id for x in snap.access if sensitivity(x.portal_id).is_sensitive}
    return sorted(
        a.id
        for a in snap.accounts
        if a.id in sensitive_ids
        and a.enabled
        and a.kind is not AccountKind.SERVICE
        and a.strongest_method is not Strength.NONE
    )


def base_org(seed: int = 11, accounts: int = 300) -> SampleOrg:
    return generate(seed=seed, accounts=accounts)


def demo_evaluation_config() -> EvaluationConfig:
    """The demo's portal classification (with the Okta federation of partner billing)."""
    from connectors.sandbox.demo import PORTALS

    classes = tuple(
        PortalClass(
            PortalMatch(**p["match"]), Sensitivity(p["sensitivity"]), tuple(p["data_categories"]), p.get("sign_in_via")
        )
        for p in PORTALS
    )
    return EvaluationConfig(portals=classes)


def real_evaluate(snapshot: Snapshot, run_id: str, now: datetime) -> AuditResult:
    from auditor.engine.evaluate import evaluate

    return evaluate(snapshot, demo_evaluation_config(), now=now, run_id=run_id)
