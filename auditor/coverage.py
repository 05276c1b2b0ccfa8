"""Kept whole on purpose: one decision read top to bottom (scope, applicable policies,
strictest requirement, methods); its steps share the identity resolver and the
exceptions register.

Effective protection of every (account, portal) pair.

For each access of an in-scope account (following ``sign_in_via`` to the upstream
source where a portal is federated):

- ``enrolled``: the strongest *active* method;
- ``enforced``: the policies' walk. Inside a policy, rules are first-match in order; a
  matching rule *with* conditions applies only to some sign-ins, so its requirement is
  remembered as conditional and the walk goes on; a matching rule *without* conditions
  ends it. A policy thus guarantees the weakest requirement on its path (a conditional
  "password only on the office network" before a catch-all "MFA" makes that MFA
  conditional) and demands the strictest one of some sign-ins. Across the source's
  enforced policies every applicable one applies and the strictest guaranteed
  requirement wins (block > phishing_resistant > strong > mfa > none). Report-only and
  disabled policies are walked the same way and remembered apart;
- ``required``: the config's demand for the portal's sensitivity, raised to
  ``policy.privileged`` for privileged accounts.

Status, in this order: unknown (the account's or the enforcing source was not read in
full), blocked (an unconditional block), protected (nothing required, or enforced ≥
required and enrolled ≥ enforced), not_enrolled (no active second factor), weak
(enforcement, or the enrolled method under it, below what is required), conditional
(only conditional enforcement, reaching the requirement; below it is weak),
report_only (only report-only or disabled policies would require it), not_enforced.
A valid entry of the exceptions register turns any unprotected status except unknown
into excepted.

Federation. A portal with ``sign_in_via: U`` is judged on the account of the same
identity in source U (``auditor.identity``): its methods and the policies of U that
apply to it. Which of U's rules count: those scoped to the portal of U with the same
id as the federated portal, failing that the same name (case-insensitive), failing
that only the rules that cover every portal of U (``PortalScope.all``), since nothing
ties the federated app to a particular app of U. No linked account in U is
not_enrolled; nothing enforced in U is not_enforced; each reason starts with
"federated to U".

Performance. The walk depends on the account only through the groups, roles, user
lists and guest flag the source's policies mention: accounts are reduced to such a
*signature* once, and the walk and the verdict are memoised per (signature, portal,
enrolled, required). A row then costs a few dict look-ups and one ``Coverage``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter

from auditor.classify import Classifier
from auditor.config_model import EvaluationConfig
from auditor.identity import IdentityIndex, IdentityResolver
from auditor.model import (
    Access,
    Account,
    AccountId,
    AccountKind,
    Coverage,
    CoverageStatus,
    GroupId,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    Portal,
    PortalId,
    Requirement,
    RoleId,
    Sensitivity,
    SourceName,
    SourceSnapshot,
    Strength,
)
from auditor.reconcile import ScopeFilter
from auditor.rules.exceptions import ExceptionRegister, RegisterEntry

_NO_LISTS: frozenset[int] = frozenset()


# --- policies ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Signature:
    """What the policies of a source can see of an account."""

    groups: frozenset[GroupId]
    roles: frozenset[RoleId]
    guest: bool
    user_lists: frozenset[int]  # indices of the user lists (include / exclude) naming the account


@dataclass(frozen=True, slots=True)
class _Rule:
    rule: PolicyRule
    include_all: bool
    include_users: int  # user-list index, -1: none
    include_groups: frozenset[GroupId]
    include_roles: frozenset[RoleId]
    include_guests: bool
    exclude_users: int
    exclude_groups: frozenset[GroupId]
    exclude_roles: frozenset[RoleId]
    exclude_guests: bool
    portal_all: bool
    portal_ids: frozenset[PortalId]
    portal_excluded: frozenset[PortalId]
    conditional: bool

    def covers_portal(self, portal: PortalId | None) -> bool:
        """``None`` stands for "a portal this source does not know" (federation): only
        rules covering every portal reach it."""
        if self.portal_all:
            return portal is None or portal not in self.portal_excluded
        return portal is not None and portal in self.portal_ids and portal not in self.portal_excluded

    def includes(self, sig: _Signature) -> bool:
        return (
            self.include_all
            or (self.include_users >= 0 and self.include_users in sig.user_lists)
            or not self.include_groups.isdisjoint(sig.groups)
            or not self.include_roles.isdisjoint(sig.roles)
            or (self.include_guests and sig.guest)
        )

    def excludes(self, sig: _Signature) -> bool:
        return (
            (self.exclude_users >= 0 and self.exclude_users in sig.user_lists)
            or not self.exclude_groups.isdisjoint(sig.groups)
            or not self.exclude_roles.isdisjoint(sig.roles)
            or (self.exclude_guests and sig.guest)
        )


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    """What a source's policies do for one signature on one portal."""

    enforced: Requirement  # strictest unconditional requirement of the enforced policies
    enforced_by: tuple[Policy, ...]  # the enforced policies that demand ``enforced`` unconditionally
    conditional: Requirement  # strictest conditional requirement of the enforced policies
    conditional_by: tuple[Policy, ...]
    conditions: tuple[str, ...]  # the conditions' details, for the reason
    report_only: Requirement  # strictest requirement of the report-only / disabled policies
    report_only_by: tuple[Policy, ...]
    applied: tuple[PolicyId, ...]  # every policy with a matching rule, in the source's order
    excluded_by: tuple[PolicyId, ...]  # enforced policies whose requiring rule excluded the account


class PolicyIndex:
    """A source's policies compiled once, with the walk memoised per signature and portal."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        user_lists: dict[tuple[AccountId, ...], int] = {}

        def list_index(users: tuple[AccountId, ...]) -> int:
            if not users:
                return -1
            return user_lists.setdefault(users, len(user_lists))

        compiled: list[tuple[Policy, tuple[_Rule, ...]]] = []
        groups: set[GroupId] = set()
        roles: set[RoleId] = set()
        for policy in policies:
            rules = []
            for r in policy.rules:
                s, p = r.scope, r.portals
                rules.append(
                    _Rule(
                        rule=r,
                        include_all=s.include_all,
                        include_users=list_index(s.include_users),
                        include_groups=frozenset(s.include_groups),
                        include_roles=frozenset(s.include_roles),
                        include_guests=s.include_guests,
                        exclude_users=list_index(s.exclude_users),
                        exclude_groups=frozenset(s.exclude_groups),
                        exclude_roles=frozenset(s.exclude_roles),
                        exclude_guests=s.exclude_guests,
                        portal_all=p.all,
                        portal_ids=frozenset(p.ids),
                        portal_excluded=frozenset(p.excluded_ids),
                        conditional=bool(r.conditions),
                    )
                )
                groups.update(s.include_groups, s.exclude_groups)
                roles.update(s.include_roles, s.exclude_roles)
            compiled.append((policy, tuple(rules)))
        self._policies = tuple(compiled)
        self._groups = frozenset(groups)
        self._roles = frozenset(roles)
        membership: dict[AccountId, list[int]] = {}
        for users, index in user_lists.items():
            for u in users:
                membership.setdefault(u, []).append(index)
        self._membership = {u: frozenset(v) for u, v in membership.items()}
        self._sig_ids: dict[tuple[object, ...], int] = {}
        self._sigs: list[_Signature] = []
        self._sig_of: dict[_Signature, int] = {}
        self._outcomes: dict[tuple[int, PortalId | None], PolicyOutcome] = {}

    def signature(self, account: Account) -> int:
        """A small int naming what the policies can see of ``account``."""
        lists = self._membership.get(account.id, _NO_LISTS) if self._membership else _NO_LISTS
        key = (account.groups, account.roles, account.kind is AccountKind.GUEST, lists)
        sig = self._sig_ids.get(key)
        if sig is None:
            reduced = _Signature(
                frozenset(g for g in account.groups if g in self._groups),
                frozenset(r for r in account.roles if r in self._roles),
                account.kind is AccountKind.GUEST,
                lists,
            )
            sig = self._sig_of.get(reduced)
            if sig is None:
                sig = self._sig_of[reduced] = len(self._sigs)
                self._sigs.append(reduced)
            self._sig_ids[key] = sig
        return sig

    def outcome(self, sig: int, portal: PortalId | None) -> PolicyOutcome:
        key = (sig, portal)
        found = self._outcomes.get(key)
        if found is None:
            found = self._outcomes[key] = self._walk(self._sigs[sig], portal)
        return found

    def _walk(self, sig: _Signature, portal: PortalId | None) -> PolicyOutcome:
        """Each policy's rules first-match in order. A matching conditional rule decides
        only the sign-ins that meet its conditions; the others go on down the list. So a
        policy demands, of every sign-in, the weakest requirement along its path (its
        *floor*), and of some sign-ins the strictest (its *ceiling*). Across enforced
        policies the strictest floor is enforced; a stricter ceiling is conditional."""
        enforced, enforced_by = Requirement.NONE, []
        conditional, ceilings = Requirement.NONE, []
        report_only, report_only_by = Requirement.NONE, []
        applied, excluded_by = [], []
        for policy, rules in self._policies:
            path: list[Requirement] = []
            details: list[str] = []
            ended = excluded = False
            for rule in rules:
                if not rule.covers_portal(portal) or not rule.includes(sig):
                    continue
                if rule.excludes(sig):
                    # Remembered only where the rule would have demanded something.
                    excluded = excluded or rule.rule.requirement is not Requirement.NONE
                    continue
                path.append(rule.rule.requirement)
                if rule.conditional:
                    details.extend(f"{c.kind.value}: {c.detail}" for c in rule.rule.conditions)
                    continue
                ended = True
                break
            if not path:
                if excluded and policy.state is PolicyState.ENFORCED:
                    excluded_by.append(policy.id)
                continue
            applied.append(policy.id)
            if not ended:
                path.append(Requirement.NONE)  # sign-ins meeting no condition: this policy asks nothing
            floor, ceiling = min(path, key=_rank), max(path, key=_rank)
            if policy.state is PolicyState.ENFORCED:
                if excluded:
                    excluded_by.append(policy.id)
                if floor is not Requirement.NONE:
                    if floor.rank > enforced.rank:
                        enforced, enforced_by = floor, [policy]
                    elif floor is enforced:
                        enforced_by.append(policy)
                if ceiling.rank > floor.rank:
                    ceilings.append((ceiling, policy, details))
                    conditional = max(conditional, ceiling, key=_rank)
            elif ceiling is not Requirement.NONE:
                if ceiling.rank > report_only.rank:
                    report_only, report_only_by = ceiling, [policy]
                elif ceiling is report_only:
                    report_only_by.append(policy)
        conditional_by: list[Policy] = []
        conditions: list[str] = []
        if conditional.rank > enforced.rank:
            for ceiling, policy, details in ceilings:
                if ceiling is conditional:
                    conditional_by.append(policy)
                    conditions.extend(details)
        else:
            # A conditional requirement no stricter than the enforced one changes nothing.
            conditional = Requirement.NONE
        return PolicyOutcome(
            enforced,
            tuple(enforced_by),
            conditional,
            tuple(conditional_by),
            tuple(dict.fromkeys(conditions)),
            report_only,
            tuple(report_only_by),
            tuple(applied),
            tuple(excluded_by),
        )


def _rank(r: Requirement) -> int:
    return r.rank


# --- verdicts ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    status: CoverageStatus
    enforced: Requirement
    conditional: bool
    reason: str
    policies: tuple[PolicyId, ...]
    excluded_by: tuple[PolicyId, ...]


def _names(policies: Iterable[Policy]) -> str:
    return ", ".join(f"'{p.name}' ({p.id})" for p in policies)


def judge(outcome: PolicyOutcome, enrolled: Strength, required: Strength, prefix: str = "") -> Verdict:
    """The status of one row from what the policies do, what is enrolled and what is required."""
    o = outcome
    enforced_s = o.enforced.strength
    status: CoverageStatus
    if o.enforced is Requirement.BLOCK:
        status, reason = CoverageStatus.BLOCKED, f"access blocked by {_names(o.enforced_by)}"
    elif required is Strength.NONE:
        status, reason = CoverageStatus.PROTECTED, "no second factor required for this portal and account"
    elif o.enforced is not Requirement.NONE and enforced_s.at_least(required):
        by = f"{_names(o.enforced_by)} enforce {o.enforced.value}"
        if enrolled.at_least(enforced_s):
            status, reason = CoverageStatus.PROTECTED, f"{by}; enrolled {enrolled.value} meets it"
        elif enrolled is Strength.NONE:
            status, reason = CoverageStatus.NOT_ENROLLED, f"{by}, but no active second factor is enrolled"
        else:
            status, reason = CoverageStatus.WEAK, f"{by}, but the strongest active method is {enrolled.value}"
    elif enrolled is Strength.NONE:
        status, reason = CoverageStatus.NOT_ENROLLED, "no active second factor enrolled"
    elif o.enforced is not Requirement.NONE:
        status = CoverageStatus.WEAK
        reason = f"{_names(o.enforced_by)} enforce {o.enforced.value}, below the required {required.value}"
    elif o.conditional is not Requirement.NONE:
        reaches = o.conditional is Requirement.BLOCK or o.conditional.strength.at_least(required)
        status = CoverageStatus.CONDITIONAL if reaches else CoverageStatus.WEAK
        when = "; ".join(o.conditions) or "conditions"
        reason = f"{_names(o.conditional_by)} enforce {o.conditional.value} only under conditions ({when})"
        if not reaches:
            reason += f", below the required {required.value}"
    elif o.report_only is not Requirement.NONE:
        status = CoverageStatus.REPORT_ONLY
        reason = (
            f"only report-only or disabled policies would require {o.report_only.value}: {_names(o.report_only_by)}"
        )
    else:
        status, reason = CoverageStatus.NOT_ENFORCED, "no enforced policy requires a second factor"
        if o.applied:
            reason += f" (applying: {', '.join(o.applied)})"
    if o.excluded_by and status not in (CoverageStatus.PROTECTED, CoverageStatus.BLOCKED):
        reason += f"; excluded from {', '.join(o.excluded_by)}"
    return Verdict(
        status,
        o.enforced,
        o.conditional is not Requirement.NONE,
        prefix + reason,
        o.applied,
        o.excluded_by,
    )


# --- the engine ------------------------------------------------------------------------


@dataclass(slots=True)
class CoverageOutput:
    rows: list[Coverage]
    portals: dict[SourceName, dict[PortalId, Portal]]  # classified
    accounts: dict[SourceName, dict[AccountId, Account]]  # every account read, by source
    register: ExceptionRegister
    identities: IdentityIndex


def _required_table(config: EvaluationConfig) -> dict[tuple[Sensitivity, bool], Strength]:
    table = {}
    for sens in Sensitivity:
        base = config.policy.required.get(sens, Strength.NONE)
        table[(sens, False)] = base
        table[(sens, True)] = base if base.at_least(config.policy.privileged) else config.policy.privileged
    return table


def _first_issue(snap: SourceSnapshot) -> str:
    for issue in snap.issues:
        if issue.incomplete:
            return f": {issue.message}"
    return ""


_SORT_KEY = attrgetter("account_id", "portal_id")


class CoverageEngine:
    def __init__(
        self,
        sources: Iterable[SourceSnapshot],
        config: EvaluationConfig,
        register: ExceptionRegister,
        resolver: IdentityResolver,
    ) -> None:
        self.sources = {s.source: s for s in sources}
        self.config = config
        self.register = register
        self.identities = IdentityIndex(self.sources.values(), resolver)
        self.scope = ScopeFilter(config.policy)
        self.classifier = Classifier(config.portals, config.policy.default_sensitivity)
        self.portals = {
            name: {p.id: p for p in self.classifier.classify_all(s.portals)} for name, s in self.sources.items()
        }
        self.indexes = {name: PolicyIndex(s.policies) for name, s in self.sources.items()}
        self._required = _required_table(config)
        self._upstream_portals: dict[tuple[SourceName, PortalId], PortalId | None] = {}
        self._federated_memo: dict[tuple[object, ...], Verdict] = {}

    def _portal(self, source: SourceName, portal_id: PortalId) -> Portal:
        """A classified portal; one an access names without the source listing it is
        classified from its id alone (never dropped)."""
        portals = self.portals[source]
        found = portals.get(portal_id)
        if found is None:
            found = portals[portal_id] = self.classifier.classify(Portal(source, portal_id, portal_id))
        return found

    def run(self) -> CoverageOutput:
        rows: list[Coverage] = []
        for name in sorted(self.sources):
            self._source_rows(self.sources[name], rows)
        return CoverageOutput(
            rows,
            self.portals,
            {name: {a.id: a for a in s.accounts} for name, s in self.sources.items()},
            self.register,
            self.identities,
        )

    def _source_rows(self, snap: SourceSnapshot, rows: list[Coverage]) -> None:
        src = snap.source
        index = self.indexes[src]
        reason_of = self.scope.reason
        for_principal = self.register.for_principal
        # Per in-scope account: (account, signature, enrolled, privileged, register entries).
        states: dict[AccountId, tuple[Account, int, Strength, bool, tuple[RegisterEntry, ...]]] = {}
        for a in snap.accounts:
            if reason_of(a) is None:
                states[a.id] = (a, index.signature(a), a.strongest_method, a.privileged, for_principal(a.principal))
        unknown_reason = None if snap.complete else f"source {src} was not read in full{_first_issue(snap)}"
        memo: dict[tuple[object, ...], Verdict] = {}
        required_of = self._required
        excepting = self.register.excepting
        used = self.register.used
        portal_cache: dict[PortalId, tuple[Portal, Sensitivity, Strength, Strength]] = {}
        accesses: Iterable[Access] = sorted(snap.access, key=_SORT_KEY)
        last_account, last_portal = "", ""
        append = rows.append
        for acc in accesses:
            state = states.get(acc.account_id)
            if state is None:
                continue
            if acc.portal_id == last_portal and acc.account_id == last_account:
                continue  # the same pair reached twice (say by group and directly): one row
            last_account, last_portal = acc.account_id, acc.portal_id
            pinfo = portal_cache.get(acc.portal_id)
            if pinfo is None:
                portal = self._portal(src, acc.portal_id)
                sens = portal.sensitivity or Sensitivity.NORMAL
                pinfo = portal_cache[acc.portal_id] = (
                    portal,
                    sens,
                    required_of[(sens, False)],
                    required_of[(sens, True)],
                )
            portal, sens, req_plain, req_priv = pinfo
            account, sig, enrolled, privileged, entries = state
            required = req_priv if privileged else req_plain
            enforcement_source = src
            if portal.sign_in_via is not None:
                verdict, enrolled, enforcement_source = self._federated(account, portal, required)
            else:
                key = (sig, acc.portal_id, enrolled, required)
                found = memo.get(key)
                if found is None:
                    found = memo[key] = judge(index.outcome(sig, acc.portal_id), enrolled, required)
                verdict = found
            status = verdict.status
            reason = verdict.reason
            exception_id = None
            if unknown_reason is not None:
                status, reason = CoverageStatus.UNKNOWN, unknown_reason
            elif entries and status is not CoverageStatus.UNKNOWN and not status.is_protected:
                entry = excepting(entries, portal)
                if entry is not None:
                    used[entry.id] += 1
                    exception_id = entry.id
                    reason = f"excepted by {entry.id} until {entry.expires.isoformat()} ({entry.reason}); {reason}"
                    status = CoverageStatus.EXCEPTED
            append(
                Coverage(
                    src,
                    acc.account_id,
                    src,
                    acc.portal_id,
                    status,
                    sens,
                    enrolled,
                    verdict.enforced,
                    required,
                    verdict.conditional,
                    reason,
                    enforcement_source,
                    verdict.policies,
                    verdict.excluded_by,
                    exception_id,
                )
            )

    def _federated(self, account: Account, portal: Portal, required: Strength) -> tuple[Verdict, Strength, SourceName]:
        upstream_name = portal.sign_in_via
        assert upstream_name is not None
        prefix = f"federated to {upstream_name}: "
        upstream = self.sources.get(upstream_name)
        if upstream is None:
            reason = f"{prefix}source {upstream_name} is not in the snapshot"
            return _unknown(reason), Strength.NONE, upstream_name
        if not upstream.complete:
            reason = f"{prefix}source {upstream_name} was not read in full{_first_issue(upstream)}"
            return _unknown(reason), Strength.NONE, upstream_name
        linked = self.identities.linked(account.principal, upstream_name)
        if linked is None:
            if required is Strength.NONE:
                v = judge(_NOTHING, Strength.NONE, required, prefix)
            else:
                v = Verdict(
                    CoverageStatus.NOT_ENROLLED,
                    Requirement.NONE,
                    False,
                    f"{prefix}no account of the same identity in {upstream_name}, so no second factor there",
                    (),
                    (),
                )
            return v, Strength.NONE, upstream_name
        index = self.indexes[upstream_name]
        upstream_portal = self._upstream_portal(portal, upstream_name)
        enrolled = linked.strongest_method
        sig = index.signature(linked)
        key = (upstream_name, sig, upstream_portal, enrolled, required)
        verdict = self._federated_memo.get(key)
        if verdict is None:
            verdict = self._federated_memo[key] = self._judge_federated(
                index.outcome(sig, upstream_portal), enrolled, required, upstream_name, upstream_portal
            )
        return verdict, enrolled, upstream_name

    @staticmethod
    def _judge_federated(
        outcome: PolicyOutcome, enrolled: Strength, required: Strength, upstream: SourceName, portal: PortalId | None
    ) -> Verdict:
        prefix = f"federated to {upstream}: "
        verdict = judge(outcome, enrolled, required, prefix)
        if verdict.status is CoverageStatus.NOT_ENFORCED:
            where = f"portal {portal}" if portal is not None else "rules covering every portal"
            verdict = Verdict(
                verdict.status,
                verdict.enforced,
                verdict.conditional,
                f"{prefix}nothing enforced upstream ({where})",
                verdict.policies,
                verdict.excluded_by,
            )
        return verdict

    def _upstream_portal(self, portal: Portal, upstream: SourceName) -> PortalId | None:
        key = (portal.source, portal.id)
        if key in self._upstream_portals:
            return self._upstream_portals[key]
        portals = self.portals[upstream]
        found: PortalId | None = None
        if portal.id in portals:
            found = portal.id
        else:
            name = portal.name.casefold()
            found = next((p.id for p in portals.values() if p.name.casefold() == name), None)
        self._upstream_portals[key] = found
        return found


_NOTHING = PolicyOutcome(Requirement.NONE, (), Requirement.NONE, (), (), Requirement.NONE, (), (), ())


def _unknown(reason: str) -> Verdict:
    return Verdict(CoverageStatus.UNKNOWN, Requirement.NONE, False, reason, (), ())


def coverage_rows(
    sources: Iterable[SourceSnapshot],
    config: EvaluationConfig,
    register: ExceptionRegister,
    resolver: IdentityResolver,
) -> CoverageOutput:
    """Every coverage row of ``sources``, ordered by (source, account id, portal id)."""
    return CoverageEngine(sources, config, register, resolver).run()


__all__ = ["CoverageEngine", "CoverageOutput", "PolicyIndex", "PolicyOutcome", "Verdict", "coverage_rows", "judge"]
