"""Emergency-access (break-glass) accounts: the register and the rules that judge them.

Every mature tenant keeps one or two accounts outside its MFA policies so that a broken
policy or a lost IdP cannot lock the administrators out. Such an account is expected to
be excluded; what makes it acceptable is that it holds a phishing-resistant method
(FIDO2 key or certificate), that any use of it is reviewed, and that its declaration is
reviewed on time. Declared accounts are judged by these rules only: the coverage rules
(MFA-001 … MFA-008) leave them out, and no remediation ever advises disabling one.

An account that looks like one (privileged, excluded from every enforced MFA policy that
names it) but is not declared is reported as a possible undeclared emergency account:
either it is one, and belongs in the register, or it is a gap.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from auditor.config.schema import EmergencyAccessEntry
from auditor.engine.identity import IdentityResolver
from auditor.engine.rules.base import CIS_65, ISO_A85, NIS2_21, Rule, RuleContext, describe_methods
from auditor.model import Account, AccountKind, Fact, Finding, MethodStatus, Severity, SourceName, Strength


class EmergencyRegister:
    """The declared emergency-access accounts, matched by identity (links apply)."""

    def __init__(self, entries: Sequence[EmergencyAccessEntry], resolver: IdentityResolver) -> None:
        self.entries = tuple(entries)
        self._resolver = resolver
        self._by_identity = {resolver.key(e.account): e for e in entries}

    def declared(self, principal: str) -> EmergencyAccessEntry | None:
        if not self._by_identity:
            return None
        return self._by_identity.get(self._resolver.key(principal))

    @staticmethod
    def review_due(entry: EmergencyAccessEntry) -> date:
        return entry.last_review + timedelta(days=entry.review_every_days)


def _declared_accounts(ctx: RuleContext, entry: EmergencyAccessEntry) -> list[Account]:
    found = []
    for source in sorted(ctx.coverage.accounts):
        account = ctx.coverage.identities.linked(entry.account, SourceName(source))
        if account is not None:
            found.append(account)
    return found


def _evidence(entry: EmergencyAccessEntry) -> dict[str, str]:
    return {
        "account": entry.account,
        "justification": entry.justification,
        "owner": entry.owner,
        "last_review": entry.last_review.isoformat(),
        "review_every_days": str(entry.review_every_days),
    }


def _methods(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    strengths = ctx.strengths
    for entry in ctx.emergency.entries:
        accounts = _declared_accounts(ctx, entry)
        if not accounts:
            yield rule.finding(
                source=SourceName("emergency_access"),
                key="not_found",
                params=(("account", entry.account),),
                evidence=_evidence(entry),
                severity=Severity.MEDIUM,
            )
            continue
        for account in accounts:
            strong = [
                m
                for m in account.methods
                if m.status is MethodStatus.ACTIVE and strengths[m.kind] is Strength.PHISHING_RESISTANT
            ]
            if strong:
                continue
            yield rule.finding(
                source=account.source,
                key="no_phishing_resistant",
                evidence={**_evidence(entry), "methods": describe_methods(account.methods)},
                account=account,
            )


def _used(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    start, end = ctx.snapshot.period_start, ctx.snapshot.period_end
    for entry in ctx.emergency.entries:
        for account in _declared_accounts(ctx, entry):
            snap = ctx.snapshot.source(account.source)
            times = sorted(
                s.time.isoformat()
                for s in snap.sign_ins
                if s.account_id == account.id and start <= s.time.date() <= end
            )
            last = account.last_sign_in
            if not times and (last is None or not start <= last.date() <= end):
                continue
            day = (last.date() if last is not None else date.fromisoformat(times[-1][:10])).isoformat()
            yield rule.finding(
                source=account.source,
                key="used",
                params=(("period", ctx.snapshot.period), ("last_sign_in", day)),
                evidence={**_evidence(entry), "last_sign_in": day, "sign_ins_in_log": str(len(times))},
                account=account,
            )


def _review(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    today = ctx.now.date()
    for entry in ctx.emergency.entries:
        due = EmergencyRegister.review_due(entry)
        if due >= today:
            continue
        accounts = _declared_accounts(ctx, entry)
        yield rule.finding(
            source=accounts[0].source if accounts else SourceName("emergency_access"),
            key="overdue",
            params=(("account", entry.account), ("due", due.isoformat())),
            evidence={**_evidence(entry), "review_due": due.isoformat()},
            account=accounts[0] if accounts else None,
        )


def _undeclared(rule: Rule, ctx: RuleContext) -> Iterator[Finding]:
    for source in sorted(ctx.coverage.accounts):
        index = ctx.coverage.indexes[source]
        for account in ctx.coverage.accounts[source].values():
            if not account.privileged or not account.enabled or account.kind is AccountKind.SERVICE:
                continue
            if ctx.emergency.declared(account.principal) is not None:
                continue
            named, excluded = index.mfa_exclusion(index.signature(account))
            if not named or excluded != named:
                continue
            names = ctx.policy_names(SourceName(source), excluded)
            yield rule.finding(
                source=SourceName(source),
                key="undeclared",
                params=(("policies", names),),
                evidence={
                    "roles": ", ".join(account.roles) or "none",
                    "excluded_from": names,
                    "methods": describe_methods(account.methods),
                },
                account=account,
            )


def _has_register(ctx: RuleContext, source: SourceName) -> bool:
    """A declared emergency-access account lives in ``source``."""
    identities = ctx.coverage.identities
    return any(identities.linked(e.account, source) is not None for e in ctx.emergency.entries)


_REFS = (NIS2_21, ISO_A85, CIS_65)

MFA_014 = Rule(
    id="MFA-014",
    title="Emergency-access account without phishing-resistant method",
    severity=Severity.HIGH,
    rationale="An emergency-access account stays outside the MFA policies on purpose; it is acceptable only if "
    "signing in with it needs a phishing-resistant credential kept apart (FIDO2 key or certificate).",
    remediation="Register a FIDO2 security key or a certificate on the emergency-access account and keep it in a "
    "safe; keep the account declared, enabled and excluded from the policies that could lock it out.",
    references=_REFS,
    requires=(Fact.METHODS,),
    check=_methods,
    messages=("no_phishing_resistant", "not_found"),
    applies=_has_register,
)
MFA_015 = Rule(
    id="MFA-015",
    title="Emergency-access account used",
    severity=Severity.MEDIUM,
    rationale="An emergency-access account is for emergencies: every sign-in with it must be explained and reviewed.",
    remediation="Review the sign-in (who, why, what was done) and record the review; rotate its credentials if the "
    "use was not an emergency. Keep the account enabled.",
    references=_REFS,
    requires=(Fact.SIGN_IN_TIMES,),
    check=_used,
    messages=("used",),
    applies=_has_register,
)
MFA_016 = Rule(
    id="MFA-016",
    title="Emergency-access review overdue",
    severity=Severity.MEDIUM,
    rationale="A declared emergency-access account is an accepted risk; its declaration, owner and credentials "
    "must be reviewed on a schedule.",
    remediation="Review the account (owner, credentials, exclusions, alerting) and update last_review in the "
    "emergency_access register.",
    references=_REFS,
    requires=(),
    check=_review,
    messages=("overdue",),
    applies=_has_register,
)
MFA_017 = Rule(
    id="MFA-017",
    title="Possible undeclared emergency-access account",
    severity=Severity.HIGH,
    rationale="A privileged account excluded from every MFA policy is either an emergency-access account, which "
    "belongs in the register and is judged as one, or a gap in the protection of an administrator.",
    remediation="If it is an emergency-access account, declare it in the emergency_access register; otherwise "
    "remove its exclusions so that MFA is enforced.",
    references=_REFS,
    requires=(Fact.ROLES, Fact.POLICIES),
    check=_undeclared,
    messages=("undeclared",),
)

EMERGENCY_RULES = (MFA_014, MFA_015, MFA_016, MFA_017)
