"""The report as one JSON document, written as a stream (the coverage matrix can hold
millions of rows): run metadata, metrics, coverage per source and per portal, findings,
reconciliation, exceptions and the full coverage matrix."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from auditor.engine.metrics import CoverageSummary
from auditor.interfaces import ReportContext
from auditor.model import Strength
from auditor.render import pseudonym
from auditor.render.rows import findings_digest, iter_coverage_rows, iter_finding_rows
from auditor.render.view import ReportView

REPORT_FORMAT = "mfa-auditor.report"
REPORT_VERSION = 1


def _summary(s: CoverageSummary) -> dict[str, Any]:
    return {
        "total": s.total,
        "protected": s.protected,
        "ratio": s.ratio,
        "by_status": {k.value: v for k, v in sorted(s.by_status.items())},
    }


def run_metadata(view: ReportView) -> dict[str, Any]:
    ctx, result, snap = view.ctx, view.result, view.snapshot
    return {
        "run_id": result.run_id,
        "rule_set_version": result.rule_set_version,
        "evaluated_at": result.evaluated_at.isoformat(),
        "generated_at": ctx.generated_at.isoformat(),
        "period": result.period,
        "period_start": snap.period_start.isoformat(),
        "period_end": snap.period_end.isoformat(),
        "organisation": ctx.organisation,
        "contact": ctx.contact,
        "config_sha256": ctx.config_digest,
        "snapshot_sha256": view.snapshot_sha256,
        "findings_digest": findings_digest(result.findings),
        "complete": view.complete,
        "language": ctx.options.language,
        "pseudonymised": bool(ctx.extra.get(pseudonym.MARKER)),
    }


def report_sections(view: ReportView) -> dict[str, Any]:
    """Everything but the two long arrays (findings, coverage matrix)."""
    m = view.metrics
    strengths = view.enrolled_strengths
    return {
        "metrics": {
            "accounts_read": m.accounts_read,
            "accounts_in_scope": m.accounts_in_scope,
            "sensitive_portals": m.sensitive_portals,
            "sensitive_accesses": m.sensitive_accesses,
            "sensitive_protected": m.sensitive_protected,
            "sensitive_unknown": m.sensitive_unknown,
            "protected_ratio": m.protected_ratio,
            "findings_by_severity": {k.value: v for k, v in view.findings_by_severity.items()},
            "sensitive_status_counts": {k.value: v for k, v in view.status_counts.items()},
            "enrolled_strengths": {s.value: strengths.get(s, 0) for s in Strength},
        },
        "sources": [
            {
                "source": s.source,
                "connector": s.connector,
                "complete": s.complete,
                "collected_at": s.collected_at.isoformat(),
                "incomplete_reasons": list(s.reasons),
                "issues": [
                    {"code": i.code, "message": i.message, "record": i.record, "incomplete": i.incomplete}
                    for i in s.issues
                ],
                "expected_counts": dict(sorted(s.expected.items())),
                "received_counts": dict(sorted(s.received.items())),
            }
            for s in view.sources
        ],
        "coverage_by_source": [{"source": s.key, **_summary(s)} for s in view.by_source],
        "coverage_by_portal": [
            {
                "portal_source": p.source,
                "portal_id": p.portal_id,
                "portal_name": p.name,
                "sensitivity": p.sensitivity.value,
                **_summary(p.summary),
            }
            for p in view.by_portal
        ],
        "reconciliation": [
            {
                "source": r.source,
                "read": r.read,
                "evaluated": r.evaluated,
                "out_of_scope": dict(sorted(r.out_of_scope.items())),
                "unreadable": dict(sorted(r.unreadable.items())),
                "balanced": r.balanced,
            }
            for r in view.reconciliation
        ],
        "exceptions": [
            {
                "id": e.entry.id,
                "account": e.entry.account,
                "portals": list(e.entry.portals),
                "rules": list(e.entry.rules),
                "reason": e.entry.reason,
                "approved_by": e.entry.approved_by,
                "expires": e.entry.expires.isoformat(),
                "expired": e.expired,
                "used": e.used,
            }
            for e in view.exceptions
        ],
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _array(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    # Rows are built with their keys in column order: no sorting needed (and it is the
    # cost at a million rows).
    encode = json.JSONEncoder(ensure_ascii=False).encode
    yield "["
    first = True
    for row in rows:
        yield ("\n" if first else ",\n") + encode(row)
        first = False
    yield "\n]"


def iter_report_json(view: ReportView) -> Iterator[str]:
    head: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "run": run_metadata(view),
        **report_sections(view),
    }
    yield "{"
    for key in sorted(head):
        yield f"{_dumps(key)}: {_dumps(head[key])},\n"
    yield '"findings": '
    yield from _array(iter_finding_rows(view))
    yield ',\n"coverage_matrix": '
    yield from _array(iter_coverage_rows(view))
    yield "\n}\n"


class JsonRenderer:
    extension = "json"
    media_type = "application/json"

    def render(self, ctx: ReportContext, out: BinaryIO) -> None:
        view = ReportView(pseudonym.prepare(ctx))
        pending: list[str] = []
        size = 0
        for chunk in iter_report_json(view):
            pending.append(chunk)
            size += len(chunk)
            if size > 1 << 20:
                out.write("".join(pending).encode("utf-8"))
                pending.clear()
                size = 0
        out.write("".join(pending).encode("utf-8"))
