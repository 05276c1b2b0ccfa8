"""How an answer of ``auditor.queries.check`` is shown: plain data for ``check --json``, and the
terminal (tables that fit, untrusted text made safe). Kept apart from the answering, which
has no output of its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.findings import FindingRef, finding_fields
from auditor.fitted_table import Col, fitted, severity_text, words
from auditor.model import CoverageStatus
from auditor.queries.check import AccountAnswer, CoverageView, PolicyRef, PortalAnswer, RunRef
from auditor.store.database import short_run_id

# --- plain data for --json ---------------------------------------------------------------------


def _run_data(r: RunRef) -> dict[str, Any]:
    return {"run_id": r.run_id, "period": r.period, "evaluated_at": r.evaluated_at.isoformat(), "complete": r.complete}


def _policy_data(p: PolicyRef) -> dict[str, Any]:
    return {"source": p.source, "id": p.id, "name": p.name, "state": p.state}


def _coverage_data(c: CoverageView | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "status": c.status.value,
        "protected": c.status.is_protected,
        "reason": c.reason,
        "sensitivity": c.sensitivity.value,
        "enrolled": c.enrolled.value,
        "enforced": c.enforced,
        "required": c.required.value,
        "conditional": c.conditional,
        "enforcement_source": c.enforcement_source,
        "policies": [_policy_data(p) for p in c.policies],
        "excluded_by": [_policy_data(p) for p in c.excluded_by],
        "exception_id": c.exception_id,
    }


def account_to_data(answer: AccountAnswer) -> dict[str, Any]:
    return {
        "query": answer.query,
        "run": _run_data(answer.run),
        "protected": answer.protected,
        "accounts": [
            {
                "source": a.source,
                "id": a.id,
                "principal": a.principal,
                "display_name": a.display_name,
                "kind": a.kind.value,
                "enabled": a.enabled,
                "privileged": a.privileged,
                "roles": list(a.roles),
                "groups": list(a.groups),
                "last_sign_in": a.last_sign_in.isoformat() if a.last_sign_in else None,
                "methods": [
                    {"kind": m.kind, "label": m.label, "status": m.status, "strength": m.strength.value}
                    for m in a.methods
                ],
                "strongest": a.strongest.value,
                "evaluated": a.evaluated,
                "note": a.note,
            }
            for a in answer.accounts
        ],
        "access": [
            {
                "source": x.source,
                "account_id": x.account_id,
                "principal": x.principal,
                "portal_source": x.portal_source,
                "portal_id": x.portal_id,
                "portal_name": x.portal_name,
                "via": x.via,
                "via_ref": x.via_ref,
                "coverage": _coverage_data(x.coverage),
            }
            for x in answer.access
        ],
        "findings": [finding_fields(f) for f in answer.findings],
    }


def portal_to_data(answer: PortalAnswer) -> dict[str, Any]:
    return {
        "query": answer.query,
        "run": _run_data(answer.run),
        "portal": {
            "source": answer.source,
            "id": answer.id,
            "name": answer.name,
            "sensitivity": answer.sensitivity.value if answer.sensitivity else None,
            "data_categories": list(answer.data_categories),
            "enforcement_sources": list(answer.enforcement_sources),
        },
        "protected_ratio": answer.protected_ratio,
        "status_counts": {k.value: v for k, v in answer.status_counts.items()},
        "rules": [
            {
                "source": r.source,
                "policy_id": r.policy_id,
                "policy_name": r.policy_name,
                "state": r.state,
                "rule_name": r.rule_name,
                "requirement": r.requirement,
                "applies_to": r.applies_to,
                "conditions": list(r.conditions),
            }
            for r in answer.rules
        ],
        "accounts": [
            {
                "source": a.source,
                "account_id": a.account_id,
                "principal": a.principal,
                "coverage": _coverage_data(a.coverage),
            }
            for a in answer.accounts
        ],
        "findings": [finding_fields(f) for f in answer.findings],
    }


# --- terminal -----------------------------------------------------------------------------------



def _status(c: CoverageView | None) -> Text:
    if c is None:
        return Text("not evaluated", style="dim")
    label = words(c.status.value)
    if c.status.is_protected:
        return Text(label, style="green")
    if c.status is CoverageStatus.UNKNOWN:
        return Text(label, style="magenta")
    return Text(label, style="bold red" if c.sensitivity.is_sensitive else "yellow")


def _policies_text(c: CoverageView | None) -> Text:
    if c is None:
        return Text("")
    text = Text(", ".join(f"{p.name} ({words(p.state)})" for p in c.policies) or "none")
    if c.excluded_by:
        text.append("\nexcluded from: " + ", ".join(p.name for p in c.excluded_by), style="yellow")
    if c.exception_id:
        text.append(f"\nexception {c.exception_id}", style="cyan")
    return text


def _strengths(c: CoverageView) -> Text:
    """enrolled / enforced / required, in words."""
    text = f"{words(c.enrolled.value)} / {words(str(c.enforced))} / {words(c.required.value)}"
    return Text(text + (" (conditional)" if c.conditional else ""))


def _run_line(r: RunRef) -> Text:
    text = Text(
        f"From run {short_run_id(r.run_id)} ({r.period}, evaluated {r.evaluated_at:%Y-%m-%d %H:%M})", style="dim"
    )
    if not r.complete:
        text.append(" — a source was incomplete: some answers are unknown", style="bold magenta")
    return text


def _findings_table(findings: Sequence[FindingRef], console: Console) -> Table:
    cols = (Col("severity"), Col("rule"), Col("finding"), Col("remediation", priority=1))
    rows = [
        (
            severity_text(f.severity),
            Text(f.rule_id),
            Text(f.message or f.title),
            Text(f.remediation),
        )
        for f in findings
    ]
    return fitted(console, cols, rows, title=f"Findings ({len(findings)})")


def print_account(answer: AccountAnswer, console: Console) -> None:
    console.print(_run_line(answer.run))
    verdict = {
        True: Text("every sensitive access is protected", style="bold green"),
        False: Text("NOT every sensitive access is protected", style="bold red"),
        None: Text("no sensitive access was judged", style="dim"),
    }[answer.protected]
    console.print(Text(f"{answer.query}: ").append_text(verdict))
    cols = (
        Col("source", priority=3),
        Col("principal"),
        Col("kind", priority=4),
        Col("enabled", priority=5),
        Col("privileged", priority=2),
        Col("methods"),
        Col("strongest", priority=1),
        Col("evaluated", priority=2),
    )
    rows = []
    for a in answer.accounts:
        methods = ", ".join(
            f"{words(m.kind)}{'' if m.status == 'active' else ' (' + m.status + ')'}" for m in a.methods
        )
        rows.append(
            (
                Text(a.source),
                Text(a.principal),
                Text(a.kind.value),
                Text("yes" if a.enabled else "no"),
                Text("yes" if a.privileged else "no"),
                Text(methods or "none"),
                Text(words(a.strongest.value)),
                Text("yes") if a.evaluated else Text(f"no: {a.note}", style="dim"),
            )
        )
    console.print(fitted(console, cols, rows, title="Accounts"))
    portal_cols = (
        Col("portal"),
        Col("source", priority=3),
        Col("sensitivity", priority=2),
        Col("status"),
        Col("why", priority=1),
        Col("enrolled / enforced / required", priority=4),
        Col("policies", priority=5),
    )
    portal_rows: list[tuple[Text, ...]] = []
    for x in answer.access:
        c = x.coverage
        portal_rows.append(
            (
                Text(x.portal_name),
                Text(
                    x.source
                    if c is None or c.enforcement_source == x.source
                    else f"{x.source} via {c.enforcement_source}"
                ),
                Text(c.sensitivity.value if c else "-"),
                _status(c),
                Text(c.reason if c else ""),
                _strengths(c) if c else Text(""),
                _policies_text(c),
            )
        )
    console.print(fitted(console, portal_cols, portal_rows, title="Portals"))
    if answer.findings:
        console.print(_findings_table(answer.findings, console))


def print_portal(answer: PortalAnswer, console: Console, limit: int = 50) -> None:
    """``limit``: account rows shown (unprotected first); ``--json`` gives them all."""
    console.print(_run_line(answer.run))
    head = Text(f"{answer.name} ", style="bold")
    head.append(f"({answer.source}/{answer.id})", style="dim")
    sens = answer.sensitivity.value if answer.sensitivity else "not classified"
    head.append(f"  sensitivity: {sens}")
    if answer.data_categories:
        head.append(f"  data: {', '.join(answer.data_categories)}")
    if answer.enforcement_sources != (answer.source,):
        head.append(f"  sign-in via: {', '.join(answer.enforcement_sources)}")
    console.print(head)
    total = sum(answer.status_counts.values())
    counts = ", ".join(f"{words(k.value)} {v}" for k, v in answer.status_counts.items())
    judged = f"{total} accesses judged" + (f" ({counts})" if counts else "")
    console.print(Text(judged))
    cols = (
        Col("policy"),
        Col("state", priority=2),
        Col("rule", priority=4),
        Col("applies to", priority=3),
        Col("requires"),
        Col("conditions", priority=1),
    )
    rows = [
        (
            Text(r.policy_name),
            Text(words(r.state)),
            Text(r.rule_name),
            Text(r.applies_to),
            Text(words(r.requirement)),
            Text("; ".join(r.conditions) or "none"),
        )
        for r in answer.rules
    ]
    console.print(fitted(console, cols, rows, title="Policy rules covering this portal"))
    cols = (
        Col("principal"),
        Col("source", priority=3),
        Col("status"),
        Col("why", priority=1),
        Col("enrolled / enforced / required", priority=2),
        Col("exception", priority=4),
    )
    rows = [
        (
            Text(line.principal),
            Text(line.source),
            _status(line.coverage),
            Text(line.coverage.reason),
            _strengths(line.coverage),
            Text(line.coverage.exception_id or ""),
        )
        for line in answer.accounts[:limit]
    ]
    shown = f"{min(limit, len(answer.accounts))} of {len(answer.accounts)} shown"
    more = (
        f"; … and {len(answer.accounts) - limit} more (--limit, or --json for all)"
        if len(answer.accounts) > limit
        else ""
    )
    console.print(fitted(console, cols, rows, title="Accounts", caption=shown + more))
    if answer.findings:
        console.print(_findings_table(answer.findings[:limit], console))
