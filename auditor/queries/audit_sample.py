"""``mfa-audit sample``: a reproducible random sample of evaluated accounts with the raw
evidence behind each verdict, so an auditor can re-perform the test by hand."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from auditor.evidence.serialise import to_data
from auditor.model import AuditResult, Snapshot, SourceSnapshot


def draw_sample(snapshot: Snapshot, result: AuditResult, *, size: int, seed: int) -> dict[str, Any]:
    """The same snapshot, result, size and seed always give the same sample."""
    rows_by_account: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in result.coverage:
        rows_by_account[(row.source, row.account_id)].append(row)
    population = sorted(rows_by_account)
    chosen = sorted(random.Random(seed).sample(population, min(size, len(population))))
    sources: dict[str, SourceSnapshot] = {s.source: s for s in snapshot.sources}
    findings: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for f in result.findings:
        if f.account_id is not None:
            findings[(f.source, f.account_id)].append(f)
    items = []
    for source_name, account_id in chosen:
        src = sources[source_name]
        account = next(a for a in src.accounts if a.id == account_id)
        rows = rows_by_account[(source_name, account_id)]
        policy_ids = {p for r in rows for p in (*r.policies, *r.excluded_by)}
        enforcement_sources = {r.enforcement_source for r in rows}
        policies = [
            to_data(p)
            for name in sorted(enforcement_sources)
            if name in sources
            for p in sources[name].policies
            if p.id in policy_ids
        ]
        items.append(
            {
                "account": to_data(account),
                "access": [to_data(a) for a in src.access if a.account_id == account_id],
                "verdicts": [to_data(r) for r in rows],
                "policies": policies,
                "findings": [to_data(f) for f in findings[(source_name, account_id)]],
            }
        )
    return {
        "run_id": result.run_id,
        "rule_set_version": result.rule_set_version,
        "seed": seed,
        "population": len(population),
        "size": len(items),
        "method": "simple random sample without replacement of evaluated accounts (Python random.Random(seed))",
        "sample": items,
    }
