"""Flat rows shared by the CSV files, the JSON report and the PDF's attachments.

One definition of the columns, so the findings CSV attached to the PDF, the CSV written
beside it and the JSON's arrays carry the same fields in the same order.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from auditor.model import Account, Coverage, Finding
from auditor.render.view import ReportView

# C0/C1 controls (terminal escapes, NUL, BEL…) and bidi embeddings, overrides, isolates and
# marks: shown as their code point in a cell, never obeyed by whatever displays the CSV.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

FINDING_COLUMNS = (
    "rule_id",
    "severity",
    "title",
    "source",
    "account_id",
    "principal",
    "portal_id",
    "portal_name",
    "message",
    "remediation",
    "references",
    "evidence",
)
COVERAGE_COLUMNS = (
    "source",
    "account_id",
    "principal",
    "display_name",
    "account_kind",
    "privileged",
    "portal_source",
    "portal_id",
    "portal_name",
    "sensitivity",
    "status",
    "enrolled",
    "enforced",
    "required",
    "conditional",
    "enforcement_source",
    "policies",
    "excluded_by",
    "exception_id",
    "reason",
)


def finding_row(f: Finding) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "severity": f.severity.value,
        "title": f.title,
        "source": f.source,
        "account_id": f.account_id,
        "principal": f.principal,
        "portal_id": f.portal_id,
        "portal_name": f.portal_name,
        "message": f.message,
        "remediation": f.remediation,
        "references": [f"{r.framework} {r.reference}" for r in f.references],
        "evidence": dict(sorted(f.evidence.items())),
    }


def coverage_row(c: Coverage, account: Account | None, portal_names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "source": c.source,
        "account_id": c.account_id,
        "principal": account.principal if account else None,
        "display_name": account.display_name if account else None,
        "account_kind": account.kind.value if account else None,
        "privileged": account.privileged if account else None,
        "portal_source": c.portal_source,
        "portal_id": c.portal_id,
        "portal_name": portal_names.get(f"{c.portal_source}/{c.portal_id}"),
        "sensitivity": c.sensitivity.value,
        "status": c.status.value,
        "enrolled": c.enrolled.value,
        "enforced": c.enforced.value,
        "required": c.required.value,
        "conditional": c.conditional,
        "enforcement_source": c.enforcement_source,
        "policies": list(c.policies),
        "excluded_by": list(c.excluded_by),
        "exception_id": c.exception_id,
        "reason": c.reason,
    }


def iter_finding_rows(view: ReportView) -> Iterator[dict[str, Any]]:
    for f in view.findings_sorted:
        yield finding_row(f)


def iter_coverage_rows(view: ReportView) -> Iterator[dict[str, Any]]:
    accounts = view.accounts
    names = view.portal_names
    for c in view.result.coverage:
        yield coverage_row(c, accounts.get((c.source, c.account_id)), names)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = _UNSAFE.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(value))
    # A cell opening with = + - @ is a formula to a spreadsheet: a display name crafted as
    # "=HYPERLINK(...)" must stay text (OWASP CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def write_csv(rows: Iterator[dict[str, Any]], columns: tuple[str, ...], out: BinaryIO) -> str:
    """Write UTF-8 CSV (RFC 4180, CRLF) and return its SHA-256."""
    digest = hashlib.sha256()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for count, row in enumerate(rows, 1):
        writer.writerow([_cell(row[c]) for c in columns])
        if count % 2000 == 0:
            data = buffer.getvalue().encode("utf-8")
            digest.update(data)
            out.write(data)
            buffer.seek(0)
            buffer.truncate()
    data = buffer.getvalue().encode("utf-8")
    digest.update(data)
    out.write(data)
    return digest.hexdigest()


def findings_csv_bytes(view: ReportView) -> bytes:
    out = io.BytesIO()
    write_csv(iter_finding_rows(view), FINDING_COLUMNS, out)
    return out.getvalue()


def coverage_csv_bytes(view: ReportView) -> bytes:
    out = io.BytesIO()
    write_csv(iter_coverage_rows(view), COVERAGE_COLUMNS, out)
    return out.getvalue()


def findings_digest(findings: tuple[Finding, ...] | list[Finding]) -> str:
    """Digest of what a finding asserts (rule, severity, source, account, portal), order-free.

    ``mfa-audit verify`` recomputes it from a fresh evaluation of the attached snapshot."""
    keys = sorted(
        f"{f.rule_id}\t{f.severity.value}\t{f.source}\t{f.account_id or ''}\t{f.portal_id or ''}" for f in findings
    )
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()
