"""What a rule is, what it sees, and the framework references rules carry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from auditor.config.schema import EvaluationConfig
from auditor.engine.identity import IdentityResolver
from auditor.engine.rules.frameworks import CIS_63 as CIS_63
from auditor.engine.rules.frameworks import CIS_64 as CIS_64
from auditor.engine.rules.frameworks import CIS_65 as CIS_65
from auditor.engine.rules.frameworks import GDPR_32 as GDPR_32
from auditor.engine.rules.frameworks import ISO_A85 as ISO_A85
from auditor.engine.rules.frameworks import NIS2_21 as NIS2_21
from auditor.engine.rules.frameworks import NIST_AAL2 as NIST_AAL2
from auditor.engine.rules.frameworks import NIST_AAL3 as NIST_AAL3
from auditor.engine.rules.frameworks import PCI_84 as PCI_84
from auditor.engine.rules.messages import Params as Params
from auditor.engine.rules.messages import english_message
from auditor.engine.rules.profiles import strength_table
from auditor.model import (
    Account,
    AccountId,
    Coverage,
    CoverageStatus,
    Fact,
    Finding,
    FrameworkRef,
    Method,
    MethodKind,
    Portal,
    PortalId,
    Sensitivity,
    Severity,
    Snapshot,
    SourceName,
    Strength,
)

if TYPE_CHECKING:  # the engine imports the exceptions register from this package
    from auditor.engine.coverage import CoverageOutput
    from auditor.engine.rules.emergency import EmergencyRegister


# The statuses rules flag: excepted, unknown (MFA-010 speaks for it), blocked and
# protected rows are not findings.
UNPROTECTED = frozenset(
    {
        CoverageStatus.NOT_ENROLLED,
        CoverageStatus.NOT_ENFORCED,
        CoverageStatus.REPORT_ONLY,
        CoverageStatus.CONDITIONAL,
        CoverageStatus.WEAK,
    }
)

# --- framework references ----------------------------------------------------------------

# The references (the names the catalogue uses) live with their texts in
# ``auditor.engine.rules.frameworks``.


# --- context -------------------------------------------------------------------------------


@dataclass(slots=True)
class RuleContext:
    """Everything rules read. ``sensitive_by_status`` buckets the unprotected rows of
    sensitive portals by status once, so each rule walks only the rows it can flag."""

    snapshot: Snapshot
    config: EvaluationConfig
    now: datetime
    coverage: CoverageOutput
    emergency: EmergencyRegister
    strengths: Mapping[MethodKind, Strength]
    sensitive_by_status: dict[CoverageStatus, list[Coverage]] = field(default_factory=dict)
    unprotected: list[Coverage] = field(default_factory=list)  # every portal
    # Protected rows of sensitive portals that rest on enrolment, one list per
    # (enforcement source, policy, portal source, portal id).
    enrolment_dependent: dict[tuple[SourceName, str, SourceName, PortalId], list[Coverage]] = field(
        default_factory=dict
    )
    _policy_names: dict[tuple[SourceName, tuple[str, ...]], str] = field(default_factory=dict)
    _evidence: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, snapshot: Snapshot, config: EvaluationConfig, now: datetime, out: CoverageOutput) -> RuleContext:
        from auditor.engine.rules.emergency import EmergencyRegister

        emergency = EmergencyRegister(config.emergency_access, IdentityResolver(config.identity_links))
        buckets: dict[CoverageStatus, list[Coverage]] = {s: [] for s in CoverageStatus}
        unprotected: list[Coverage] = []
        declared = emergency.declared
        accounts = out.accounts
        dependent: dict[tuple[SourceName, str, SourceName, PortalId], list[Coverage]] = {}
        for row in out.rows:
            if row.enrolment_dependent and row.sensitivity is not Sensitivity.NORMAL:
                for pid in row.enrolment_dependent:
                    key = (row.enforcement_source, pid, row.portal_source, row.portal_id)
                    dependent.setdefault(key, []).append(row)
            if row.status in UNPROTECTED:
                # Declared emergency-access accounts are judged by their own rules only.
                if emergency.entries and declared(accounts[row.source][row.account_id].principal) is not None:
                    continue
                unprotected.append(row)
                if row.sensitivity is not Sensitivity.NORMAL:
                    buckets[row.status].append(row)
        return cls(
            snapshot,
            config,
            now,
            out,
            emergency,
            strength_table(config.policy),
            buckets,
            unprotected,
            dependent,
        )

    def account(self, source: SourceName, account_id: AccountId) -> Account:
        return self.coverage.accounts[source][account_id]

    def portal(self, source: SourceName, portal_id: PortalId) -> Portal:
        return self.coverage.portals[source][portal_id]

    def methods_of(self, row: Coverage) -> str:
        """The methods behind ``row.enrolled``: the linked account's under federation."""
        account = self.account(row.source, row.account_id)
        if row.enforcement_source != row.source:
            linked = self.coverage.identities.linked(account.principal, row.enforcement_source)
            if linked is None:
                return f"no account in {row.enforcement_source}"
            account = linked
        return describe_methods(account.methods)

    def shared_evidence(self, evidence: dict[str, str]) -> Mapping[str, str]:
        """One mapping per distinct evidence: findings repeat a few thousand of them (a
        status, its reason, the policies), and at a million accounts a dict per finding
        is 150 MiB of the result. Findings never change their evidence (frozen)."""
        key = tuple(evidence.items())
        return self._evidence.setdefault(key, evidence)

    def policy_names(self, source: SourceName, ids: tuple[str, ...]) -> str:
        """ "Name (id); …" of the policies, one string per distinct list (shared by the
        findings that cite it, which keeps a large result small)."""
        key = (source, ids)
        found = self._policy_names.get(key)
        if found is None:
            names: dict[str, str] = {p.id: p.name for p in self.snapshot.source(source).policies}
            found = self._policy_names[key] = "; ".join(f"{names.get(i, i)} ({i})" for i in ids) or "none"
        return found


def describe_methods(methods: Iterable[Method]) -> str:
    return ", ".join(f"{m.kind.value} ({m.vendor_label}, {m.status.value})" for m in methods) or "none"


# --- rules -------------------------------------------------------------------------------

Check = Callable[["Rule", RuleContext], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the catalogue. ``severity`` applies on sensitive portals (and to
    account- or tenant-level findings); ``severity_on_high``, when set, on high ones."""

    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: str
    references: tuple[FrameworkRef, ...]
    # The facts a source must have read for the rule to run on it: on a source that did
    # not read one, the rule is "not evaluated" (page one says so), never a finding.
    requires: tuple[Fact, ...]
    check: Check
    severity_on_high: Severity | None = None
    # The ids of the messages the rule says ("not_enrolled" → "MFA-001.not_enrolled"):
    # each has its English and French sentence in report_templates/i18n/rules.<lang>.json,
    # the only place a sentence is written (``auditor.engine.rules.messages``).
    messages: tuple[str, ...] = ()
    # When set and false for a source, the rule has nothing to judge there (e.g. no declared
    # emergency-access account): a missing fact is then not worth a "not evaluated" note.
    applies: Callable[[RuleContext, SourceName], bool] | None = None
    _keys: Mapping[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # The full keys are built once: a large result holds one reference per finding.
        object.__setattr__(self, "_keys", {name: f"{self.id}.{name}" for name in self.messages})

    def message_key(self, name: str) -> str:
        try:
            return self._keys[name]
        except KeyError:
            raise ValueError(f"rule {self.id}: message {name!r} is not declared in its messages") from None

    def severity_for(self, sensitivity: Sensitivity | None) -> Severity:
        if sensitivity is Sensitivity.HIGH and self.severity_on_high is not None:
            return self.severity_on_high
        return self.severity

    def finding(
        self,
        *,
        source: SourceName,
        key: str,
        evidence: Mapping[str, str],
        params: Params = (),
        account: Account | None = None,
        portal: Portal | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """``key`` names the finding's sentence among the rule's ``messages`` and ``params``
        are the values it inserts, each as the text the message shows: the message is the
        English sentence with ``params`` (``english_message``), every language's the same way."""
        message_key = self.message_key(key)
        return Finding(
            rule_id=self.id,
            severity=severity or self.severity_for(portal.sensitivity if portal is not None else None),
            title=self.title,
            source=source,
            account_id=account.id if account is not None else None,
            principal=account.principal if account is not None else None,
            portal_id=portal.id if portal is not None else None,
            portal_name=portal.name if portal is not None else None,
            message=english_message(message_key, params),
            evidence=evidence,
            remediation=self.remediation,
            references=self.references,
            message_key=message_key,
            message_params=params,
        )

    def row_finding(self, ctx: RuleContext, row: Coverage, key: str, params: Params = (), **extra: str) -> Finding:
        """A finding on one coverage row, with the row's evidence; ``key`` and ``params``
        give its message (see ``Rule.finding``)."""
        account = ctx.account(row.source, row.account_id)
        portal = ctx.portal(row.portal_source, row.portal_id)
        evidence = {
            "status": row.status.value,
            "reason": row.reason,
            "sensitivity": row.sensitivity.value,
            "required": row.required.value,
            "enforced": row.enforced.value,
            "conditional": "yes" if row.conditional else "no",
            "enrolled": row.enrolled.value,
            "methods": ctx.methods_of(row),
            "policies": ctx.policy_names(row.enforcement_source, row.policies),
            "excluded_by": ctx.policy_names(row.enforcement_source, row.excluded_by),
            "enforcement_source": row.enforcement_source,
            "privileged": "yes" if account.privileged else "no",
            **extra,
        }
        if row.stricter_report_only:
            # The fix is one switch away: the stricter policies that are not enforced.
            stricter = ctx.policy_names(row.enforcement_source, row.stricter_report_only)
            evidence["stricter_policy_not_enforced"] = stricter
        return self.finding(
            source=row.source,
            key=key,
            params=params,
            evidence=ctx.shared_evidence(evidence),
            account=account,
            portal=portal,
        )
