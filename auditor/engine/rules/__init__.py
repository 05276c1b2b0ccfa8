"""The rule catalogue: an explicit, versioned tuple of plain Python rules.

Rules are not plugins: the set that ran must not depend on what happens to be
installed, and every report prints ``RULESET_VERSION``. Bump it whenever a rule is
added, removed, or changes what it flags or its severity.
"""

from __future__ import annotations

from auditor.engine.rules.base import Rule, RuleContext
from auditor.engine.rules.catalogue import CATALOGUE
from auditor.engine.rules.facts import not_read_reason
from auditor.findings import finding_order
from auditor.model import Fact, Finding, NotEvaluated, Severity, SourceName

# 2026.12.1: effective strength, facts read per source, MFA-013 … MFA-017 (issue #14).
RULESET_VERSION = "2026.12.1"

# The catalogue lists the rules explicitly, in order (auditor/engine/rules/catalogue.py).
RULES: tuple[Rule, ...] = CATALOGUE


def rule(rule_id: str) -> Rule:
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


def _missing(r: Rule, ctx: RuleContext) -> dict[SourceName, tuple[Fact, ...]]:
    """The sources on which ``r`` cannot run, with the facts they did not read."""
    out: dict[SourceName, tuple[Fact, ...]] = {}
    for source, facts in ctx.coverage.facts.items():
        missing = tuple(f for f in r.requires if not facts[f].read)
        if missing:
            out[source] = missing
    return out


def not_evaluated(ctx: RuleContext) -> tuple[NotEvaluated, ...]:
    """Every (rule, source) not evaluated for lack of a fact, in catalogue then source order."""
    out = []
    for r in RULES:
        for source, missing in sorted(_missing(r, ctx).items()):
            if r.applies is not None and not r.applies(ctx, source):
                continue
            facts = ctx.coverage.facts[source]
            reason = "; ".join(not_read_reason(facts[f]) for f in missing)
            detail = "; ".join(facts[f].reason for f in missing if facts[f].reason)
            out.append(NotEvaluated(r.id, source, missing, reason, detail))
    return tuple(out)


def run_rules(ctx: RuleContext) -> tuple[Finding, ...]:
    """Every rule's findings, minus those a rule-limited exception covers, in ``finding_order``.
    A rule's findings on a source that did not read the facts it requires are dropped:
    that rule was not evaluated there (``not_evaluated``), which is never a finding."""
    register = ctx.coverage.register
    out: list[Finding] = []
    for r in RULES:
        skip = _missing(r, ctx)
        for f in r.check(r, ctx):
            if skip and f.source in skip:
                continue
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


__all__ = ["RULES", "RULESET_VERSION", "Rule", "RuleContext", "Severity", "not_evaluated", "rule", "run_rules"]
