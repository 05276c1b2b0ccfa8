"""Report contexts over the sample organisation, for the renderer, verify and message tests.

Until the engine exists (``auditor.engine.evaluate``) the audit result is built by hand from
the sample organisation's truth with a deliberately simple verdict (strongest method
against the sensitivity's requirement); once it exists, the real engine is used.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from auditor.evidence.run_artefacts import RunArtefacts
from auditor.interfaces import ReportContext, ReportOptions, Secret
from auditor.model import (
    AccountKind,
    AuditResult,
    Coverage,
    CoverageStatus,
    ExceptionEntry,
    ExceptionStatus,
    Finding,
    FrameworkRef,
    Metrics,
    Reconciliation,
    Requirement,
    Sensitivity,
    Severity,
    Snapshot,
    SourceIssue,
    SourceName,
    Strength,
)
from connectors.sandbox.sample_org import generate

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
SENSITIVITY = {
    "app-claims": Sensitivity.HIGH,
    "app-admin-console": Sensitivity.HIGH,
    "app-payroll": Sensitivity.SENSITIVE,
    "app-partner-billing": Sensitivity.SENSITIVE,
    "0oa-patient-portal": Sensitivity.HIGH,
    "0oa-partner-billing": Sensitivity.SENSITIVE,
    "0oa-partner-extranet": Sensitivity.SENSITIVE,
    "workspace:/Medical advisers": Sensitivity.HIGH,
    "workspace:/Finance": Sensitivity.SENSITIVE,
}
REQUIRED = {Sensitivity.HIGH: Strength.STRONG, Sensitivity.SENSITIVE: Strength.WEAK, Sensitivity.NORMAL: Strength.NONE}
REFS = (FrameworkRef("GDPR", "Art. 32(1)(b)"), FrameworkRef("ISO/IEC 27001:2022", "Annex A 8.5"))


def hand_result(snapshot: Snapshot, now: datetime = NOW, run_id: str = "2026-Q4-20261115T090000Z-test") -> AuditResult:
    coverage: list[Coverage] = []
    findings: list[Finding] = []
    recon: list[Reconciliation] = []
    for src in snapshot.sources:
        accounts = {a.id: a for a in src.accounts}
        names = {p.id: p.name for p in src.portals}
        out: Counter[str] = Counter()
        evaluated = set()
        for a in src.accounts:
            if not a.enabled:
                out["disabled"] += 1
            elif a.kind is AccountKind.SERVICE:
                out["service"] += 1
            else:
                evaluated.add(a.id)
        for x in src.access:
            found = accounts.get(x.account_id)
            if found is None or found.id not in evaluated:
                continue
            a = found
            sens = SENSITIVITY.get(x.portal_id, Sensitivity.NORMAL)
            enrolled = a.strongest_method
            required = REQUIRED[sens]
            if not src.complete:
                status = CoverageStatus.UNKNOWN
            elif enrolled is Strength.NONE:
                status = CoverageStatus.NOT_ENROLLED
            elif not enrolled.at_least(required):
                status = CoverageStatus.WEAK
            else:
                status = CoverageStatus.PROTECTED
            coverage.append(
                Coverage(
                    src.source,
                    a.id,
                    src.source,
                    x.portal_id,
                    status,
                    sens,
                    enrolled,
                    Requirement.MFA,
                    required,
                    False,
                    status.value,
                    src.source,
                )
            )
            if sens.is_sensitive and status is CoverageStatus.NOT_ENROLLED:
                findings.append(
                    Finding(
                        "MFA-001",
                        Severity.HIGH if sens is Sensitivity.HIGH else Severity.MEDIUM,
                        "Not enrolled",
                        src.source,
                        a.id,
                        a.principal,
                        x.portal_id,
                        names.get(x.portal_id),
                        f"{a.display_name} ({a.principal}) has no second factor and reaches {names.get(x.portal_id)}",
                        {"methods": "none", "account": a.principal},
                        "Enrol a strong method.",
                        REFS,
                    )
                )
            if sens.is_sensitive and status is CoverageStatus.WEAK:
                findings.append(
                    Finding(
                        "MFA-005",
                        Severity.MEDIUM,
                        "Weak method",
                        src.source,
                        a.id,
                        a.principal,
                        x.portal_id,
                        names.get(x.portal_id),
                        f"{a.display_name} uses a weak method",
                        {"enrolled": enrolled.value},
                        "Replace SMS.",
                        REFS,
                    )
                )
        if not src.complete:
            findings.append(
                Finding(
                    "MFA-010",
                    Severity.CRITICAL,
                    "Source incomplete",
                    src.source,
                    None,
                    None,
                    None,
                    None,
                    f"Source {src.source} could not be read in full",
                )
            )
        recon.append(
            Reconciliation(
                src.source,
                len(src.accounts) + len(src.unreadable),
                len(evaluated),
                dict(out),
                dict(Counter(u.reason for u in src.unreadable)),
            )
        )
    sensitive = [c for c in coverage if c.sensitivity.is_sensitive]
    entries = (
        ExceptionStatus(
            ExceptionEntry(
                "EXC-1",
                "claims.terminal@mutuelle-exemple.fr",
                ("app-claims",),
                "Shared terminal",
                "CISO",
                date(2027, 3, 31),
            ),
            False,
            1,
        ),
        ExceptionStatus(
            ExceptionEntry("EXC-2", "old@mutuelle-exemple.fr", (), "Leave", "DPO", date(2026, 9, 30)), True, 0
        ),
    )
    metrics = Metrics(
        accounts_read=sum(r.read for r in recon),
        accounts_in_scope=sum(r.evaluated for r in recon),
        sensitive_portals=len({(c.portal_source, c.portal_id) for c in sensitive}),
        sensitive_accesses=len(sensitive),
        sensitive_protected=sum(1 for c in sensitive if c.status.is_protected),
        sensitive_unknown=sum(1 for c in sensitive if c.status is CoverageStatus.UNKNOWN),
        findings_by_severity=dict(Counter(f.severity for f in findings)),
        status_counts=dict(Counter(c.status for c in coverage)),
    )
    return AuditResult(
        run_id,
        "2026.11.1",
        now,
        snapshot.period,
        snapshot.complete,
        tuple(coverage),
        tuple(findings),
        tuple(recon),
        entries,
        metrics,
    )


def sample_snapshot(accounts: int = 300, *, incomplete: bool = False) -> Snapshot:
    org = generate(seed=7, accounts=accounts)
    sources = []
    for name, snap in org.sources.items():
        if incomplete and name == "okta":
            snap = replace(
                snap,
                complete=False,
                issues=(
                    SourceIssue(
                        "okta.rate_limited",
                        "HTTP 429 on /api/v1/users after 3 retries: 120 accounts not read",
                        incomplete=True,
                    ),
                ),
            )
        sources.append(replace(snap, source=SourceName(name)))
    return Snapshot(org.period, org.period_start, org.period_end, "c0ffee" * 10 + "abcd", tuple(sources))


def _config_text() -> str:
    import yaml

    from connectors.sandbox.demo import PORTALS

    doc = {
        "organisation": {"name": "Mutuelle Exemple", "contact": "rssi@mutuelle-exemple.fr"},
        "period": "2026-Q4",
        "sources": [
            {"name": "entra", "type": "entra", "settings": {}},
            {"name": "google", "type": "google_workspace", "settings": {}},
            {"name": "okta", "type": "okta", "settings": {}},
            {"name": "cognito", "type": "cognito", "settings": {}},
        ],
        "portals": PORTALS,
        "policy": {
            "required": {"high": "strong", "sensitive": "weak", "normal": "none"},
            "privileged": "phishing_resistant",
            "dormant_after_days": 90,
            "account_kinds": ["human", "guest"],
        },
        "exceptions": [
            {
                "id": "EXC-1",
                "account": "claims.terminal@mutuelle-exemple.fr",
                "portals": ["app-claims"],
                "reason": "Shared terminal",
                "approved_by": "CISO",
                "expires": "2027-03-31",
            },
            {
                "id": "EXC-2",
                "account": "old@mutuelle-exemple.fr",
                "portals": [],
                "reason": "Leave",
                "approved_by": "DPO",
                "expires": "2026-09-30",
            },
        ],
        "report": {"language": "en"},
    }
    text: str = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    return text


CONFIG_TEXT = _config_text()


def make_context(
    snapshot: Snapshot,
    *,
    language: str = "en",
    pseudonymise: bool = False,
    result: AuditResult | None = None,
    max_detail_rows: int = 25,
    organisation: str = "Mutuelle Exemple",
) -> ReportContext:
    options = ReportOptions(
        language=language,
        pseudonymise=pseudonymise,
        max_detail_rows=max_detail_rows,
        pseudonym_key=Secret(env="MFA_TEST_PSEUDONYM_KEY") if pseudonymise else None,
    )
    return ReportContext(
        organisation=organisation,
        contact="rssi@mutuelle-exemple.fr",
        result=result if result is not None else audit_result(snapshot),
        snapshot=snapshot,
        options=options,
        generated_at=NOW,
        config_digest="c0ffee" * 10 + "abcd",
        config_text=CONFIG_TEXT,
        artefacts=RunArtefacts(snapshot),
    )


def evaluation_config() -> Any:
    from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch

    high, sensitive = Sensitivity.HIGH, Sensitivity.SENSITIVE
    portals = (
        PortalClass(PortalMatch(source="entra", id="app-claims"), high, ("health", "payment")),
        PortalClass(PortalMatch(source="entra", id="app-admin-console"), high, ("health",)),
        PortalClass(PortalMatch(source="entra", id="app-payroll"), sensitive, ("hr",)),
        PortalClass(PortalMatch(source="entra", id="app-partner-billing"), sensitive, ("payment",), sign_in_via="okta"),
        PortalClass(PortalMatch(source="okta", id="0oa-patient-portal"), high, ("health",)),
        PortalClass(PortalMatch(source="okta", name_pattern="partner*"), sensitive, ("payment",)),
        PortalClass(PortalMatch(source="google", tag="ou:/Medical advisers"), high, ("health",)),
        PortalClass(PortalMatch(source="google", tag="ou:/Finance"), sensitive, ("finance",)),
    )
    exceptions = (
        ExceptionEntry(
            "EXC-1",
            "claims.terminal@mutuelle-exemple.fr",
            ("app-claims",),
            "Shared terminal",
            "CISO",
            date(2027, 3, 31),
        ),
        ExceptionEntry("EXC-2", "old@mutuelle-exemple.fr", (), "Leave", "DPO", date(2026, 9, 30)),
    )
    return EvaluationConfig(portals=portals, exceptions=exceptions)


def audit_result(snapshot: Snapshot) -> AuditResult:
    """The real engine when it is there; the hand-made verdicts otherwise."""
    if importlib.util.find_spec("auditor.engine.evaluate") is None:
        return hand_result(snapshot)
    from auditor.engine.evaluate import evaluate

    config = evaluation_config()
    if importlib.util.find_spec("auditor.config.load") is not None:
        # The config text attached to the PDF must be the one the result came from, or
        # `verify` rightly refuses the report.
        from pathlib import Path

        from auditor.config.load import parse_config  # type: ignore[import-not-found,unused-ignore]

        config = parse_config(CONFIG_TEXT, Path("config.yaml"), now=NOW).evaluation
    result: AuditResult = evaluate(snapshot, config, now=NOW, run_id="2026-Q4-20261115T090000Z-test")
    return result
