"""Findings as OCSF Detection Finding events (class_uid 2004), one JSON object per line,
for a SIEM. OCSF 1.1: category 2 (Findings), activity 1 (Create), type_uid = 200401."""

from __future__ import annotations

import hashlib
import json
from typing import Any, BinaryIO

from auditor import __version__
from auditor.interfaces import ReportContext
from auditor.model import Finding, Severity
from auditor.render import pseudonym
from auditor.render.view import ReportView

OCSF_VERSION = "1.1.0"
# OCSF severity_id: 1 informational, 2 low, 3 medium, 4 high, 5 critical.
SEVERITY_ID = {Severity.LOW: 2, Severity.MEDIUM: 3, Severity.HIGH: 4, Severity.CRITICAL: 5}


def finding_uid(run_id: str, f: Finding) -> str:
    key = "\x1f".join((run_id, *f.key))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def ocsf_event(view: ReportView, f: Finding) -> dict[str, Any]:
    result = view.result
    time_ms = int(result.evaluated_at.timestamp() * 1000)
    event: dict[str, Any] = {
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "severity_id": SEVERITY_ID[f.severity],
        "severity": f.severity.value.capitalize(),
        "status_id": 1,
        "status": "New",
        "time": time_ms,
        "message": f.message,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "mfa-auditor", "vendor_name": "mfa-auditor", "version": __version__},
            "uid": finding_uid(result.run_id, f),
            "correlation_uid": result.run_id,
        },
        "finding_info": {
            "uid": finding_uid(result.run_id, f),
            "title": f.title,
            "desc": f.message,
            "types": [f.rule_id],
            "analytic": {
                "uid": f.rule_id,
                "name": f.title,
                "type_id": 1,
                "type": "Rule",
                "version": result.rule_set_version,
            },
        },
        "remediation": {"desc": f.remediation},
        "unmapped": {
            "source": f.source,
            "evidence": dict(sorted(f.evidence.items())),
            "references": [f"{r.framework} {r.reference}" for r in f.references],
            "period": result.period,
        },
    }
    if f.account_id is not None:
        event["resources"] = [
            {"type": "User", "uid": f.account_id, "name": f.principal or f.account_id, "group": {"name": f.source}}
        ]
        event["actor"] = {"user": {"uid": f.account_id, "name": f.principal or f.account_id}}
    if f.portal_id is not None:
        event.setdefault("resources", []).append(
            {"type": "Application", "uid": f.portal_id, "name": f.portal_name or f.portal_id}
        )
    return event


class OcsfRenderer:
    extension = "ocsf.jsonl"
    media_type = "application/x-ndjson"

    def render(self, ctx: ReportContext, out: BinaryIO) -> None:
        view = ReportView(pseudonym.prepare(ctx))
        for f in view.findings_sorted:
            out.write(json.dumps(ocsf_event(view, f), ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
