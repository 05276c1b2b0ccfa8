"""The rule catalogue: an explicit, versioned tuple of plain Python rules.

Rules are not plugins: the set that ran must not depend on what happens to be
installed, and every report prints ``RULESET_VERSION``. Bump it whenever a rule is
added, removed, or changes what it flags or its severity.
"""

from __future__ import annotations

from auditor.findings import finding_order
from auditor.model import Finding, Severity
from auditor.rules.base import Data, Rule, RuleContext
from auditor.rules.catalogue import CATALOGUE

RULESET_VERSION = "2026.11.1"

# The catalogue lists the rules explicitly, in order (auditor/rules/catalogue.py).
RULES: tuple[Rule, ...] = CATALOGUE


def rule(rule_id: str) -> Rule:
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


def run_rules(ctx: RuleContext) -> tuple[Finding, ...]:
    """Every rule's findings, minus those a rule-limited exception covers, in ``finding_order``."""
    register = ctx.coverage.register
    out: list[Finding] = []
    for r in RULES:
        for f in r.check(r, ctx):
            if f.principal is not None and f.portal_id is not None and register.for_principal(f.principal):
                portal = ctx.portal(f.source, f.portal_id)
                entry = register.suppresses(f.principal, portal, f.rule_id)
                if entry is not None:
                    register.used[entry.id] += 1
                    continue
                if register.excepting(register.for_principal(f.principal), portal) is not None:
                    continue  # a rule-wide exception on a row-less finding (e.g. MFA-011)
            out.append(f)
    out.sort(key=finding_order)
    return tuple(out)


__all__ = ["RULES", "RULESET_VERSION", "Data", "Rule", "RuleContext", "Severity", "rule", "run_rules"]
