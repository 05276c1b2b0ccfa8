"""The rules, one place each: id, title, severity, rationale, remediation, framework
references, the data it needs, and its check.

Severities (``severity`` on sensitive portals and for account- or tenant-level
findings, ``severity_on_high`` on high portals):

| rule | sensitive | high |
| --- | --- | --- |
| MFA-001 not enrolled | high | critical |
| MFA-002 not enforced | medium | high |
| MFA-003 report-only | medium | high |
| MFA-004 conditional | medium | high |
| MFA-005 weak method | medium | high |
| MFA-006 privileged, not phishing-resistant | critical (account level) | |
| MFA-007 policy exclusion | high | high |
| MFA-008 dormant with sensitive access | high | high |
| MFA-009 exception expired | medium (register level) | |
| MFA-010 source incomplete | high (source level) | |
| MFA-011 single-factor sign-in observed | high | critical |
| MFA-012 legacy authentication not blocked | high (tenant level) | |
| MFA-013 protection rests on enrolment | low (policy × portal) | |
| MFA-014 emergency account without phishing-resistant method | high (account level) | |
| MFA-015 emergency account used | medium (account level) | |
| MFA-016 emergency-access review overdue | medium (register level) | |
| MFA-017 possible undeclared emergency account | high (account level) | |

Findings on rows concern sensitive portals only (high or sensitive). Privileged
accounts' unprotected rows are reported once per account by MFA-006, not again by
MFA-001 … MFA-005, so an admin is one critical finding rather than one per app.
Declared emergency-access accounts are judged by MFA-014 … MFA-016 only
(``auditor.engine.rules.emergency``); ``RuleContext`` leaves their rows out of the others.

``requires`` names the facts a source must have read: a rule is not run on a source
that did not read one (``auditor.engine.rules.run_rules`` records it as not evaluated).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from auditor.engine.rules.base import (
    CIS_63,
    CIS_64,
    CIS_65,
    GDPR_32,
    ISO_A85,
    NIS2_21,
    NIST_AAL2,
    NIST_AAL3,
    PCI_84,
    Params,
    Rule,
    RuleContext,
    describe_methods,
)
from auditor.engine.rules.emergency import EMERGENCY_RULES
from auditor.model import (
    AccountId,
    AccountKind,
    Coverage,
    CoverageStatus,
    Fact,
    Finding,
    PortalId,
    Severity,
    SignInFactor,
    SourceName,
    Strength,
)

# Checked in this order, so findings of one rule come out grouped by status.
_UNPROTECTED = (
    CoverageStatus.NOT_ENROLLED,
    CoverageStatus.NOT_ENFORCED,
    CoverageStatus.REPORT_ONLY,
    CoverageStatus.CONDITIONAL,
    CoverageStatus.WEAK,
)


def _status_rows(rule: Rule, ctx: RuleContext, status: CoverageStatus) -> Iterator[Finding]:
    """The rows of one status; the status names the message ("MFA-001.not_enrolled")."""
    accounts = ctx.coverage.accounts
    for row in ctx.sensitive_by_status[status]:
        if accounts[row.source][row.account_id].privileged:
            continue  # MFA-006
        yield rule.row_finding(ctx, row, status.value)


def _not_enrolled(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    yield from _status_rows(rule, ctx, CoverageStatus.NOT_ENROLLED)


def _not_enforced(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    yield from _status_rows(rule, ctx, CoverageStatus.NOT_ENFORCED)


def _report_only(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    yield from _status_rows(rule, ctx, CoverageStatus.REPORT_ONLY)


def _conditional(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    yield from _status_rows(rule, ctx, CoverageStatus.CONDITIONAL)


def _weak(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    yield from _status_rows(rule, ctx, CoverageStatus.WEAK)


def _privileged(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    """One finding per privileged account with any unprotected row (every portal: admin
    rights are sensitive whatever the app they are used on)."""
    failing: dict[tuple[SourceName, AccountId], list[str]] = {}
    stricter: dict[tuple[SourceName, AccountId], dict[str, None]] = {}
    for row in ctx.unprotected:
        if ctx.account(row.source, row.account_id).privileged:
            portal = ctx.portal(row.portal_source, row.portal_id)
            key = (row.source, row.account_id)
            effective = f", effective {row.effective.value}" if row.effective is not None else ""
            failing.setdefault(key, []).append(
                f"{portal.name} ({portal.id}): {row.status.value}, enforced {row.enforced.value}{effective}"
            )
            if row.stricter_report_only:
                names = stricter.setdefault(key, {})
                names[_not_enforced_names(ctx, row)] = None
    for (source, account_id), portals in sorted(failing.items()):
        account = ctx.account(source, account_id)
        evidence = {
            "roles": ", ".join(account.roles) or "none",
            "methods": describe_methods(account.methods),
            "required": ctx.config.policy.privileged.value,
            "portals": "; ".join(portals),
        }
        if (source, account_id) in stricter:
            # The fix is one switch away: say which policy would do it.
            evidence["stricter_policy_not_enforced"] = "; ".join(stricter[(source, account_id)])
        yield rule.finding(
            source=source,
            key="privileged",
            evidence=evidence,
            account=account,
        )


def _not_enforced_names(ctx: RuleContext, row: Coverage) -> str:
    """ "'Name' (id, report-only)" of the stricter policies that are not enforced."""
    policies = {p.id: p for p in ctx.snapshot.source(row.enforcement_source).policies}
    out = []
    for pid in row.stricter_report_only:
        p = policies.get(pid)
        if p is not None:
            state = "report-only" if p.state.value == "report_only" else p.state.value
            out.append(f"'{p.name}' ({p.id}, {state})")
    return ", ".join(out)


def _enrolment_dependent(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    """Once per policy × portal: the rows stay protected, the policy is the finding."""
    for (enforcement, pid, portal_source, portal_id), rows in sorted(ctx.enrolment_dependent.items()):
        portal = ctx.portal(portal_source, portal_id)
        names = ctx.policy_names(enforcement, (pid,))
        required = max((r.required for r in rows), key=lambda s: s.rank)
        weakest = min((r.effective or Strength.NONE for r in rows), key=lambda s: s.rank)
        yield rule.finding(
            source=portal_source,
            key="depends",
            params=(("policy", names), ("count", str(len(rows)))),
            evidence={
                "policy": names,
                "enforcement_source": enforcement,
                "required": required.value,
                "accesses": str(len(rows)),
                "weakest_effective": weakest.value,
            },
            portal=portal,
            severity=rule.severity,
        )


def _excluded(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    for status in _UNPROTECTED:
        for row in ctx.sensitive_by_status[status]:
            if row.excluded_by:
                names = ctx.policy_names(row.enforcement_source, row.excluded_by)
                # Two ids with one English text: French agrees in number ("qui couvrirait(ent)").
                key = "excluded_one" if len(row.excluded_by) == 1 else "excluded_many"
                yield rule.row_finding(ctx, row, key, (("policies", names),))


def _dormant(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    cutoff = ctx.now - timedelta(days=ctx.config.policy.dormant_after_days)
    for status in _UNPROTECTED:
        for row in ctx.sensitive_by_status[status]:
            account = ctx.account(row.source, row.account_id)
            last = account.last_sign_in
            if not account.enabled or (last is not None and last >= cutoff):
                continue
            params: Params
            if last is None:
                key, params = "dormant_never", ()
            else:
                key, params = "dormant", (("last_sign_in", last.date().isoformat()),)
            yield rule.row_finding(
                ctx,
                row,
                key,
                params,
                last_sign_in=last.isoformat() if last is not None else "never",
                dormant_after_days=str(ctx.config.policy.dormant_after_days),
            )


def _expired_exception(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    register = ctx.coverage.register
    for entry in register.entries:
        if not register.expired(entry):
            continue
        account = None
        for source in sorted(ctx.coverage.accounts):
            account = ctx.coverage.identities.linked(entry.account, source)
            if account is not None:
                break
        yield rule.finding(
            source=account.source if account is not None else SourceName("exceptions"),
            key="expired",
            params=(("exception", entry.id), ("expires", entry.expires.isoformat())),
            evidence={
                "exception": entry.id,
                "account": entry.account,
                "portals": ", ".join(entry.portals) or "every portal",
                "reason": entry.reason,
                "approved_by": entry.approved_by,
                "expires": entry.expires.isoformat(),
            },
            account=account,
        )


def _incomplete_source(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    for snap in ctx.snapshot.sources:
        if snap.complete:
            continue
        issues = [i for i in snap.issues if i.incomplete] or list(snap.issues)
        evidence = {
            "connector": snap.connector,
            "collected_at": snap.collected_at.isoformat(),
            "issues": "; ".join(f"{i.code}: {i.message}" + (f" [{i.record}]" if i.record else "") for i in issues)
            or "none recorded",
            "expected_counts": ", ".join(f"{k}={v}" for k, v in sorted(snap.expected_counts.items())) or "n/a",
            "received_counts": ", ".join(f"{k}={v}" for k, v in sorted(snap.received_counts.items())),
        }
        yield rule.finding(
            source=snap.source,
            key="incomplete",
            params=(("source", snap.source),),
            evidence=evidence,
        )


def _single_factor_sign_in(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    start, end = ctx.snapshot.period_start, ctx.snapshot.period_end
    for snap in ctx.snapshot.sources:
        seen: dict[tuple[AccountId, PortalId], list[str]] = {}
        portals = ctx.coverage.portals[snap.source]
        for s in snap.sign_ins:
            if s.factor is not SignInFactor.SINGLE or not start <= s.time.date() <= end:
                continue
            portal = portals.get(s.portal_id)
            if portal is None or portal.sensitivity is None or not portal.sensitivity.is_sensitive:
                continue
            seen.setdefault((s.account_id, s.portal_id), []).append(s.time.isoformat())
        accounts = ctx.coverage.accounts[snap.source]
        for (account_id, portal_id), times in sorted(seen.items()):
            account = accounts.get(account_id)
            if account is None:
                continue
            portal = portals[portal_id]
            yield rule.finding(
                source=snap.source,
                # Two ids with one English text: French agrees in number.
                key="sign_ins_one" if len(times) == 1 else "sign_ins_many",
                params=(("count", str(len(times))), ("period", ctx.snapshot.period)),
                evidence={"sign_ins": str(len(times)), "first": min(times), "last": max(times)},
                account=account,
                portal=portal,
            )


def _legacy_auth(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    for snap in ctx.snapshot.sources:
        if snap.legacy_auth_blocked is False:
            humans = sum(1 for a in snap.accounts if a.kind is not AccountKind.SERVICE and a.enabled)
            yield rule.finding(
                source=snap.source,
                key="not_blocked",
                params=(("source", snap.source),),
                evidence={"legacy_auth_blocked": "false", "enabled_accounts": str(humans)},
            )


_COVERAGE_REFS = (GDPR_32, NIS2_21, ISO_A85, NIST_AAL2, CIS_63, PCI_84)

MFA_001 = Rule(
    id="MFA-001",
    title="Not enrolled",
    severity=Severity.HIGH,
    severity_on_high=Severity.CRITICAL,
    rationale="An account with no second factor reaches a sensitive portal with a password alone; where MFA is "
    "enforced but nothing is enrolled, whoever holds the password can enrol their own factor first.",
    remediation="Have the user enrol a strong second factor (authenticator app with number matching, FIDO2 key), "
    "and require MFA registration from trusted locations only.",
    references=_COVERAGE_REFS,
    requires=(Fact.METHODS, Fact.POLICIES),
    check=_not_enrolled,
    messages=("not_enrolled",),
)
MFA_002 = Rule(
    id="MFA-002",
    title="Not enforced",
    severity=Severity.MEDIUM,
    severity_on_high=Severity.HIGH,
    rationale="A second factor that no policy requires is never asked for: the password alone signs in.",
    remediation="Cover the portal with an enforced policy requiring MFA for every in-scope account.",
    references=_COVERAGE_REFS,
    requires=(Fact.METHODS, Fact.POLICIES),
    check=_not_enforced,
    messages=("not_enforced",),
)
MFA_003 = Rule(
    id="MFA-003",
    title="Report-only policy",
    severity=Severity.MEDIUM,
    severity_on_high=Severity.HIGH,
    rationale="Report-only and disabled policies log what they would do and enforce nothing.",
    remediation="Review the report-only results and switch the policy to enforced.",
    references=_COVERAGE_REFS,
    requires=(Fact.POLICIES,),
    check=_report_only,
    messages=("report_only",),
)
MFA_004 = Rule(
    id="MFA-004",
    title="Conditional enforcement",
    severity=Severity.MEDIUM,
    severity_on_high=Severity.HIGH,
    rationale="MFA required only under conditions (outside a trusted network, on some platforms, at some risk "
    "levels, or with a non-MFA alternative) leaves the other sign-ins protected by a password only.",
    remediation="Require MFA on every sign-in to the portal; use conditions only to require more, not less.",
    references=(*_COVERAGE_REFS, CIS_64),
    requires=(Fact.POLICIES,),
    check=_conditional,
    messages=("conditional",),
)
MFA_005 = Rule(
    id="MFA-005",
    title="Weak method",
    severity=Severity.MEDIUM,
    severity_on_high=Severity.HIGH,
    rationale="SMS, voice and e-mail codes can be phished, intercepted or SIM-swapped; the portal's sensitivity "
    "requires a stronger method, enforced.",
    remediation="Enforce an authentication strength matching the portal's sensitivity and have users enrol it.",
    references=(GDPR_32, NIS2_21, ISO_A85, NIST_AAL2, NIST_AAL3, PCI_84),
    requires=(Fact.METHODS, Fact.POLICIES),
    check=_weak,
    messages=("weak",),
)
MFA_006 = Rule(
    id="MFA-006",
    title="Privileged account without phishing-resistant MFA",
    severity=Severity.CRITICAL,
    rationale="Administrators can change policies, reset factors and read every record: they are the first target "
    "of phishing and need phishing-resistant MFA, enforced.",
    remediation="Enforce a phishing-resistant authentication strength (FIDO2, Windows Hello, certificate) for "
    "every admin role, including eligible ones, and enrol the admins.",
    references=(GDPR_32, NIS2_21, ISO_A85, NIST_AAL3, CIS_65, PCI_84),
    requires=(Fact.ROLES, Fact.METHODS, Fact.POLICIES),
    check=_privileged,
    messages=("privileged",),
)
MFA_007 = Rule(
    id="MFA-007",
    title="Policy exclusion",
    severity=Severity.HIGH,
    rationale="Exclusions from MFA policies (a user, a group) are how temporary workarounds become permanent "
    "gaps; an exclusion should be an approved, dated entry of the exceptions register.",
    remediation="Remove the account from the exclusion, or record an approved exception with an expiry.",
    references=(GDPR_32, NIS2_21, ISO_A85, CIS_63, PCI_84),
    requires=(Fact.POLICIES,),
    check=_excluded,
    messages=("excluded_one", "excluded_many"),
)
MFA_008 = Rule(
    id="MFA-008",
    title="Dormant account with sensitive access",
    severity=Severity.HIGH,
    rationale="An enabled account nobody uses keeps its access and is a quiet target: unprotected, it can be taken "
    "over without anyone noticing.",
    remediation="Remove the dormant account's access or disable it (declared emergency-access accounts are "
    "judged by MFA-014 to MFA-016 and are never to be disabled); enforce MFA on what remains.",
    references=(GDPR_32, NIS2_21, ISO_A85),
    requires=(Fact.SIGN_IN_TIMES,),
    check=_dormant,
    messages=("dormant", "dormant_never"),
)
MFA_009 = Rule(
    id="MFA-009",
    title="Exception expired",
    severity=Severity.MEDIUM,
    rationale="An accepted risk is accepted until a date; past it the exception is not honoured and must be "
    "renewed (re-approved) or closed.",
    remediation="Close the gap, or renew the exception with a new approval and expiry.",
    references=(GDPR_32, ISO_A85),
    requires=(),
    check=_expired_exception,
    messages=("expired",),
)
MFA_010 = Rule(
    id="MFA-010",
    title="Source incomplete",
    severity=Severity.HIGH,
    rationale="What could not be read cannot be shown protected: coverage on an incomplete source is unknown.",
    remediation="Fix the collection issue (permissions, throttling, connectivity) and collect again.",
    references=(GDPR_32, ISO_A85),
    requires=(),
    check=_incomplete_source,
    messages=("incomplete",),
)
MFA_011 = Rule(
    id="MFA-011",
    title="Single-factor sign-in observed",
    severity=Severity.HIGH,
    severity_on_high=Severity.CRITICAL,
    rationale="The sign-in log shows a sensitive portal reached with one factor during the period: the gap is "
    "not theoretical.",
    remediation="Find the policy gap that let the sign-in through (exclusion, condition, legacy client) and "
    "close it; review the account's activity.",
    references=(GDPR_32, NIS2_21, ISO_A85, NIST_AAL2, CIS_63, PCI_84),
    requires=(Fact.SIGN_IN_LOG,),
    check=_single_factor_sign_in,
    messages=("sign_ins_one", "sign_ins_many"),
)
MFA_012 = Rule(
    id="MFA-012",
    title="Legacy authentication not blocked",
    severity=Severity.HIGH,
    rationale="Legacy protocols (IMAP, POP, SMTP AUTH, basic authentication) cannot do MFA: while they are "
    "allowed, every MFA policy can be bypassed with a password.",
    remediation="Block legacy authentication for every account (e.g. a Conditional Access policy on legacy "
    "client apps), after moving the remaining clients to modern authentication.",
    references=(NIS2_21, ISO_A85, CIS_63, CIS_64),
    requires=(Fact.LEGACY_AUTH,),
    check=_legacy_auth,
    messages=("not_blocked",),
)

MFA_013 = Rule(
    id="MFA-013",
    title="Protection rests on enrolment",
    severity=Severity.LOW,
    rationale="The enforced requirement accepts methods weaker than the portal requires; today's accounts are "
    "protected only because they hold no such method. One weaker registration and the protection is gone.",
    remediation="Enforce an authentication strength that accepts only methods meeting the portal's requirement, "
    "or disable the weaker methods in the tenant's authentication-methods policy.",
    references=(GDPR_32, ISO_A85, NIST_AAL2),
    requires=(Fact.METHODS, Fact.POLICIES),
    check=_enrolment_dependent,
    messages=("depends",),
)

# The rule set, in order: ``auditor.engine.rules.RULES`` (bump RULESET_VERSION when it changes).
CATALOGUE: tuple[Rule, ...] = (
    MFA_001,
    MFA_002,
    MFA_003,
    MFA_004,
    MFA_005,
    MFA_006,
    MFA_007,
    MFA_008,
    MFA_009,
    MFA_010,
    MFA_011,
    MFA_012,
    MFA_013,
    *EMERGENCY_RULES,
)
