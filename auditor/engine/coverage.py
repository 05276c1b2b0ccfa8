"""Kept whole on purpose: one decision read top to bottom (scope, applicable policies,
strictest requirement, methods); its steps share the identity resolver and the
exceptions register.

Effective protection of every (account, portal) pair.

For each access of an in-scope account (following ``sign_in_via`` to the upstream
source where a portal is federated):

- ``enrolled``: the strongest *active* method (for information);
- ``enforced``: the policies' walk. Inside a policy, rules are first-match in order; a
  matching rule *with* conditions applies only to some sign-ins, so its requirement is
  remembered as conditional and the walk goes on; a matching rule *without* conditions
  ends it. A policy thus guarantees the weakest requirement on its path and demands the
  strictest one of some sign-ins. Across the source's enforced policies every
  applicable one applies: the strictest guaranteed requirement is ``enforced``, and the
  kinds a sign-in can pass with are those every enforcing policy accepts. A block on a
  conditional rule is no second factor (kept as evidence). Report-only and disabled
  policies are walked the same way and remembered apart;
- usable methods: the account's active second factors (under the method-strength
  profile in force) that the tenant allows it (its methods policy, where read) and the
  enforcing requirement accepts; ``effective`` strength: the weakest of them, or, when
  none is accepted, the weakest the account holds (the registration gate: a new method
  is registered only past an existing second factor);
- ``required``: the config's demand for the portal's sensitivity, raised to
  ``policy.privileged`` for privileged accounts.

Status, in this order: unknown (the account's or the enforcing source was not read in
full, or its accounts, methods or policies were not read), blocked (an unconditional
block), protected (nothing required), not_enrolled (no usable second factor), protected
or weak (a second factor enforced on every sign-in: effective ≥ required or not; a
protected row whose enforced requirement alone would accept less names the enforcing
policies in ``enrolment_dependent``), weak or conditional (a second factor required only
under conditions: methods judged first), report_only (only report-only or disabled
policies would require it), not_enforced. A valid entry of the exceptions register
turns any unprotected status except unknown into excepted.

Federation. A portal with ``sign_in_via: U`` is judged on the account of the same
identity in source U (``auditor.engine.identity``): its methods and the policies of U that
apply to it. Which of U's rules count: those scoped to the portal of U with the same
id as the federated portal, failing that the same name (case-insensitive), failing
that only the rules that cover every portal of U (``PortalScope.all``), since nothing
ties the federated app to a particular app of U. No linked account in U is
not_enrolled; nothing enforced in U is not_enforced; each reason starts with
"federated to U".

Performance. The walk depends on the account only through the groups, roles, user
lists and guest flag the source's policies mention: accounts are reduced to such a
*signature* once (which also decides the tenant's method allowances), an account's
methods to one interned ``Methods`` value, and the walk and the verdict are memoised
per (signature, portal, methods, required). A row then costs a few dict look-ups and
one ``Coverage``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from operator import attrgetter

from auditor.config.schema import EvaluationConfig
from auditor.engine.classify import Classifier
from auditor.engine.identity import IdentityIndex, IdentityResolver
from auditor.engine.reconcile import ScopeFilter
from auditor.engine.rules.exceptions import ExceptionRegister, RegisterEntry
from auditor.engine.rules.facts import not_read_reason, source_facts
from auditor.engine.rules.profiles import strength_table
from auditor.model import (
    METHOD_STRENGTH,
    Access,
    Account,
    AccountId,
    AccountKind,
    Coverage,
    CoverageStatus,
    Fact,
    FactRead,
    GroupId,
    Judgement,
    MethodAllowance,
    MethodKind,
    MethodStatus,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    Portal,
    PortalId,
    Requirement,
    RoleId,
    Scope,
    Sensitivity,
    SourceName,
    SourceSnapshot,
    Strength,
)

_NO_LISTS: frozenset[int] = frozenset()


# --- policies ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Signature:
    """What the policies (and the tenant's method allowances) of a source can see of an account."""

    groups: frozenset[GroupId]
    roles: frozenset[RoleId]
    guest: bool
    user_lists: frozenset[int]  # indices of the user lists (include / exclude) naming the account


@dataclass(frozen=True, slots=True)
class _Scope:
    """A ``Scope`` compiled against a signature."""

    include_all: bool
    include_users: int  # user-list index, -1: none
    include_groups: frozenset[GroupId]
    include_roles: frozenset[RoleId]
    include_guests: bool
    exclude_users: int
    exclude_groups: frozenset[GroupId]
    exclude_roles: frozenset[RoleId]
    exclude_guests: bool

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
class _Rule:
    rule: PolicyRule
    scope: _Scope
    portal_all: bool
    portal_ids: frozenset[PortalId]
    portal_excluded: frozenset[PortalId]
    conditional: bool
    # The second-factor kinds the requirement accepts (empty for none and block).
    accepts: frozenset[MethodKind]

    def covers_portal(self, portal: PortalId | None) -> bool:
        """``None`` stands for "a portal this source does not know" (federation): only
        rules covering every portal reach it."""
        if self.portal_all:
            return portal is None or portal not in self.portal_excluded
        return portal is not None and portal in self.portal_ids and portal not in self.portal_excluded


_FACTOR_REQUIREMENTS = frozenset({Requirement.MFA, Requirement.STRONG, Requirement.PHISHING_RESISTANT})


def accepted_kinds(rule: PolicyRule, strengths: Mapping[MethodKind, Strength]) -> frozenset[MethodKind]:
    """The second-factor kinds ``rule`` accepts: those it names, else every kind whose
    strength (under the profile in force) reaches its requirement. Kinds that are no
    second factor under the profile never count (a temporary access pass, a password)."""
    if rule.requirement not in _FACTOR_REQUIREMENTS:
        return frozenset()
    if rule.accepted_methods:
        return frozenset(k for k in rule.accepted_methods if strengths[k] is not Strength.NONE)
    floor = rule.requirement.strength
    return frozenset(k for k, s in strengths.items() if s is not Strength.NONE and s.at_least(floor))


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    """What a source's policies do for one signature on one portal. Policy tuples are
    ordered by id, so the outcome does not depend on the order the source listed them."""

    enforced: Requirement  # strictest unconditional requirement of the enforced policies
    enforced_by: tuple[Policy, ...]  # the enforced policies that demand ``enforced`` unconditionally
    conditional: Requirement  # strictest second factor the enforced policies demand only under conditions
    conditional_by: tuple[Policy, ...]
    conditions: tuple[str, ...]  # the conditions' details, for the reason
    report_only: Requirement  # strictest requirement of the report-only / disabled policies
    report_only_by: tuple[Policy, ...]
    applied: tuple[PolicyId, ...]  # every policy with a matching rule
    excluded_by: tuple[PolicyId, ...]  # enforced policies whose requiring rule excluded the account
    # Every sign-in must pass each enforcing policy: the kinds all of them accept
    # (None when no second factor is enforced unconditionally).
    accepts: frozenset[MethodKind] | None = None
    # Each enforcing policy (unconditional second factor) with the kinds it accepts.
    enforcing: tuple[tuple[Policy, frozenset[MethodKind]], ...] = ()
    conditional_accepts: frozenset[MethodKind] = frozenset()
    # Enforced blocks that hold only under conditions: evidence, never a second factor.
    conditional_blocks: tuple[Policy, ...] = ()
    block_conditions: tuple[str, ...] = ()
    # Every report-only / disabled policy with the requirement it would add.
    report_only_all: tuple[tuple[Requirement, Policy], ...] = ()


def _by_id(policies: Iterable[Policy]) -> tuple[Policy, ...]:
    return tuple(sorted(policies, key=attrgetter("id")))


def _compile_scope(s: Scope, list_index: Callable[[tuple[AccountId, ...]], int]) -> _Scope:
    return _Scope(
        include_all=s.include_all,
        include_users=list_index(s.include_users),
        include_groups=frozenset(s.include_groups),
        include_roles=frozenset(s.include_roles),
        include_guests=s.include_guests,
        exclude_users=list_index(s.exclude_users),
        exclude_groups=frozenset(s.exclude_groups),
        exclude_roles=frozenset(s.exclude_roles),
        exclude_guests=s.exclude_guests,
    )


class PolicyIndex:
    """A source's policies (and the tenant's method allowances) compiled once, with the
    walk memoised per signature and portal, the allowed kinds per signature."""

    def __init__(
        self,
        policies: Iterable[Policy],
        *,
        strengths: Mapping[MethodKind, Strength] = METHOD_STRENGTH,
        allowances: Iterable[MethodAllowance] | None = None,
    ) -> None:
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
                        scope=_compile_scope(s, list_index),
                        portal_all=p.all,
                        portal_ids=frozenset(p.ids),
                        portal_excluded=frozenset(p.excluded_ids),
                        conditional=bool(r.conditions),
                        accepts=accepted_kinds(r, strengths),
                    )
                )
                groups.update(s.include_groups, s.exclude_groups)
                roles.update(s.include_roles, s.exclude_roles)
            compiled.append((policy, tuple(rules)))
        # None: the methods policy was not read, every registered method is assumed allowed.
        self._allowances: tuple[tuple[MethodKind, _Scope], ...] | None = None
        if allowances is not None:
            self._allowances = tuple((a.kind, _compile_scope(a.scope, list_index)) for a in allowances if a.enabled)
            for a in allowances:
                groups.update(a.scope.include_groups, a.scope.exclude_groups)
                roles.update(a.scope.include_roles, a.scope.exclude_roles)
        self._policies = tuple(compiled)
        self._scopes = tuple(_policy_scope(rules) for _, rules in compiled)
        self._paths: dict[tuple[object, ...], _Path] = {}
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
        self._allowed: dict[int, frozenset[MethodKind] | None] = {}
        self._exclusion: dict[int, tuple[tuple[PolicyId, ...], tuple[PolicyId, ...]]] = {}

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

    @property
    def reads_allowances(self) -> bool:
        """False when the tenant's methods policy was not read: every method is allowed."""
        return self._allowances is not None

    def allowed(self, sig: int) -> frozenset[MethodKind] | None:
        """The method kinds the tenant allows this signature; None when not read (all)."""
        if self._allowances is None:
            return None
        found = self._allowed.get(sig, _UNSET)
        if found is _UNSET:
            s = self._sigs[sig]
            found = self._allowed[sig] = frozenset(
                kind for kind, scope in self._allowances if scope.includes(s) and not scope.excludes(s)
            )
        return found  # type: ignore[return-value]

    def mfa_exclusion(self, sig: int) -> tuple[tuple[PolicyId, ...], tuple[PolicyId, ...]]:
        """(enforced policies demanding a second factor that include this signature on some
        rule, those of them that exclude it from every such rule): an account in the first
        and in the second alike is excluded from every MFA policy that names it."""
        found = self._exclusion.get(sig)
        if found is None:
            s = self._sigs[sig]
            named: list[PolicyId] = []
            excluded: list[PolicyId] = []
            for policy, rules in self._policies:
                if policy.state is not PolicyState.ENFORCED:
                    continue
                factor_rules = [r for r in rules if r.accepts and r.scope.includes(s)]
                if not factor_rules:
                    continue
                named.append(policy.id)
                if all(r.scope.excludes(s) for r in factor_rules):
                    excluded.append(policy.id)
            found = self._exclusion[sig] = (tuple(sorted(named)), tuple(sorted(excluded)))
        return found

    def outcome(self, sig: int, portal: PortalId | None) -> PolicyOutcome:
        key = (sig, portal)
        found = self._outcomes.get(key)
        if found is None:
            found = self._outcomes[key] = self._walk(self._sigs[sig], portal)
        return found

    def _policy_path(self, index: int, rules: tuple[_Rule, ...], sig: _Signature, portal: PortalId | None) -> _Path:
        """One policy's first-match path for ``sig`` at ``portal``, memoised on what of the
        signature and portal the policy's own rules name: a crafted snapshot with many
        distinct signatures then costs one walk per policy and reduced signature, not one
        per signature × portal × policy (verify re-evaluates untrusted evidence)."""
        scope = self._scopes[index]
        key = (
            index,
            sig.groups & scope.groups,
            sig.roles & scope.roles,
            sig.user_lists & scope.lists,
            sig.guest and scope.guest,
            # A portal no rule names is covered exactly as an unknown one (None) is.
            portal if portal in scope.portals else None,
        )
        found = self._paths.get(key)
        if found is None:
            found = self._paths[key] = _first_match(rules, sig, portal)
        return found

    def _walk(self, sig: _Signature, portal: PortalId | None) -> PolicyOutcome:
        """Each policy's rules first-match in order. A matching conditional rule decides
        only the sign-ins that meet its conditions; the others go on down the list. So a
        policy demands, of every sign-in, the weakest requirement along its path (its
        *floor*), and of some sign-ins the strictest (its *ceiling*). Across enforced
        policies every one applies: the strictest floor is enforced, and a sign-in must
        pass each, so the kinds accepted are those every enforcing policy accepts. A
        stricter second factor on a conditional rule is conditional; a block on a
        conditional rule is no second factor at all (kept as evidence)."""
        enforced, enforced_by = Requirement.NONE, []
        enforcing: list[tuple[Policy, frozenset[MethodKind]]] = []
        blocks: list[Policy] = []
        ceilings: list[tuple[Requirement, Policy, tuple[str, ...], frozenset[MethodKind]]] = []
        cond_blocks: list[tuple[Policy, tuple[str, ...]]] = []
        report_only_all: list[tuple[Requirement, Policy]] = []
        applied, excluded_by = [], []
        for index, (policy, rules) in enumerate(self._policies):
            path, ended, excluded, details = self._policy_path(index, rules, sig, portal)
            if not path:
                if excluded and policy.state is PolicyState.ENFORCED:
                    excluded_by.append(policy.id)
                continue
            applied.append(policy.id)
            reqs = [r.rule.requirement for r in path]
            if not ended:
                reqs.append(Requirement.NONE)  # sign-ins meeting no condition: this policy asks nothing
            floor = min(reqs, key=_rank)
            accepts = frozenset().union(*(r.accepts for r in path))
            factor_ceiling = max((q for q in reqs if q in _FACTOR_REQUIREMENTS), key=_rank, default=Requirement.NONE)
            if policy.state is PolicyState.ENFORCED:
                if excluded:
                    excluded_by.append(policy.id)
                if floor is Requirement.BLOCK:
                    blocks.append(policy)
                elif floor is not Requirement.NONE:
                    enforcing.append((policy, accepts))
                    if floor.rank > enforced.rank:
                        enforced, enforced_by = floor, [policy]
                    elif floor is enforced:
                        enforced_by.append(policy)
                if factor_ceiling.rank > floor.rank:
                    ceilings.append((factor_ceiling, policy, details, accepts))
                if floor is not Requirement.BLOCK and any(
                    r.rule.requirement is Requirement.BLOCK and r.conditional for r in path
                ):
                    cond_blocks.append((policy, details))
            else:
                ceiling = max(reqs, key=_rank)
                if ceiling is not Requirement.NONE:
                    report_only_all.append((ceiling, policy))
        if blocks:
            enforced, enforced_by = Requirement.BLOCK, blocks
        accepts_all: frozenset[MethodKind] | None = None
        if enforcing and enforced is not Requirement.BLOCK:
            accepts_all = enforcing[0][1].intersection(*(a for _, a in enforcing[1:]))
        conditional = max((c[0] for c in ceilings), key=_rank, default=Requirement.NONE)
        conditional_by: list[Policy] = []
        conditions: list[str] = []
        conditional_accepts: frozenset[MethodKind] = frozenset()
        if conditional.rank > enforced.rank:
            for ceiling, policy, reasons, accepts in sorted(ceilings, key=lambda c: c[1].id):
                if ceiling is conditional:
                    conditional_by.append(policy)
                    conditions.extend(reasons)
                    conditional_accepts |= accepts
        else:
            # A conditional requirement no stricter than the enforced one changes nothing.
            conditional = Requirement.NONE
        block_conditions: list[str] = []
        for _, reasons in sorted(cond_blocks, key=lambda c: c[0].id):
            block_conditions.extend(reasons)
        report_only = max((r for r, _ in report_only_all), key=_rank, default=Requirement.NONE)
        return PolicyOutcome(
            enforced,
            _by_id(enforced_by),
            conditional,
            tuple(conditional_by),
            tuple(dict.fromkeys(conditions)),
            report_only,
            _by_id(p for r, p in report_only_all if r is report_only),
            tuple(sorted(applied)),
            tuple(sorted(excluded_by)),
            accepts_all,
            tuple(sorted(enforcing, key=lambda e: e[0].id)),
            conditional_accepts,
            _by_id(p for p, _ in cond_blocks),
            tuple(dict.fromkeys(block_conditions)),
            tuple(sorted(report_only_all, key=lambda e: e[1].id)),
        )


def _rank(r: Requirement) -> int:
    return r.rank


_UNSET: object = object()

# A policy's path: the rules it takes (first match, conditional ones passed through),
# whether a rule ended it, whether an exclusion was met, the conditions on the way.
_Path = tuple[tuple[_Rule, ...], bool, bool, tuple[str, ...]]


def _first_match(rules: Iterable[_Rule], sig: _Signature, portal: PortalId | None) -> _Path:
    path: list[_Rule] = []
    details: list[str] = []
    ended = excluded = False
    for rule in rules:
        if not rule.covers_portal(portal) or not rule.scope.includes(sig):
            continue
        if rule.scope.excludes(sig):
            # Remembered only where the rule would have demanded something.
            excluded = excluded or rule.rule.requirement is not Requirement.NONE
            continue
        path.append(rule)
        if rule.conditional:
            details.extend(f"{c.kind.value}: {c.detail}" for c in rule.rule.conditions)
            continue
        ended = True
        break
    return tuple(path), ended, excluded, tuple(details)


@dataclass(frozen=True, slots=True)
class _PolicyScope:
    """What of a signature and a portal one policy's rules can see."""

    groups: frozenset[GroupId]
    roles: frozenset[RoleId]
    lists: frozenset[int]
    guest: bool
    portals: frozenset[PortalId]


def _policy_scope(rules: Iterable[_Rule]) -> _PolicyScope:
    groups: set[GroupId] = set()
    roles: set[RoleId] = set()
    lists: set[int] = set()
    portals: set[PortalId] = set()
    guest = False
    for r in rules:
        sc = r.scope
        groups.update(sc.include_groups, sc.exclude_groups)
        roles.update(sc.include_roles, sc.exclude_roles)
        lists.update(i for i in (sc.include_users, sc.exclude_users) if i >= 0)
        portals.update(r.portal_ids, r.portal_excluded)
        guest = guest or sc.include_guests or sc.exclude_guests
    return _PolicyScope(frozenset(groups), frozenset(roles), frozenset(lists), guest, frozenset(portals))


# --- verdicts ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    status: CoverageStatus
    enforced: Requirement
    conditional: bool
    reason: str
    policies: tuple[PolicyId, ...]
    excluded_by: tuple[PolicyId, ...]
    effective: Strength | None = None
    enrolment_dependent: tuple[PolicyId, ...] = ()
    stricter_report_only: tuple[PolicyId, ...] = ()
    judgement: Judgement | None = None  # the three above, shared by the rows of this verdict

    def __post_init__(self) -> None:
        if self.judgement is None and (self.effective or self.enrolment_dependent or self.stricter_report_only):
            object.__setattr__(
                self, "judgement", Judgement(self.effective, self.enrolment_dependent, self.stricter_report_only)
            )


def _names(policies: Iterable[Policy]) -> str:
    return ", ".join(f"'{p.name}' ({p.id})" for p in policies)


def _kinds(kinds: Iterable[MethodKind]) -> str:
    return ", ".join(sorted(k.value for k in kinds)) or "none"


@dataclass(frozen=True, slots=True, eq=False)
class Methods:
    """An account's methods as the engine judges them (under the profile in force).

    ``registered``: active methods that are a second factor; ``usable``: those the
    tenant allows the account (its methods policy), the only ones a sign-in can use.
    The engine interns one instance per distinct value, so identity is equality: the
    verdict memo hashes it at C speed (a field-wise hash was 5 % of the engine's time)."""

    registered: frozenset[MethodKind]
    usable: frozenset[MethodKind]


def effective_strength(
    usable: frozenset[MethodKind], accepts: frozenset[MethodKind], strengths: Mapping[MethodKind, Strength]
) -> tuple[Strength, bool]:
    """(effective strength, registration gate). The weakest usable method the
    requirement accepts; when the account holds none it accepts, a new one must be
    registered first, which the vendor gates behind an existing second factor: the
    weakest usable method then decides (the gate). ``usable`` is never empty here."""
    passing = usable & accepts
    pool = passing or usable
    return min((strengths[k] for k in pool), key=attrgetter("rank")), not passing


def _demand(accepts: frozenset[MethodKind], strengths: Mapping[MethodKind, Strength]) -> Strength:
    """The strength a requirement demands: that of the weakest kind it accepts."""
    return min((strengths[k] for k in accepts), key=attrgetter("rank"), default=Strength.PHISHING_RESISTANT)


def judge(
    outcome: PolicyOutcome,
    methods: Methods,
    required: Strength,
    strengths: Mapping[MethodKind, Strength] = METHOD_STRENGTH,
    prefix: str = "",
) -> Verdict:
    """The status of one row from what the policies do, the account's methods and what is required."""
    o = outcome
    status: CoverageStatus
    effective: Strength | None = None
    dependent: tuple[PolicyId, ...] = ()
    if o.enforced is Requirement.BLOCK:
        status, reason = CoverageStatus.BLOCKED, f"access blocked by {_names(o.enforced_by)}"
    elif required is Strength.NONE:
        status, reason = CoverageStatus.PROTECTED, "no second factor required for this portal and account"
    elif not methods.usable:
        status = CoverageStatus.NOT_ENROLLED
        if methods.registered:
            reason = (
                f"registered methods ({_kinds(methods.registered)}) are not allowed by the tenant's methods "
                "policy: no usable second factor, so whoever holds the password can enrol one"
            )
        else:
            reason = "no active second factor enrolled"
        if o.enforced is not Requirement.NONE:
            reason = f"{_names(o.enforced_by)} enforce {o.enforced.value}, but {reason}"
        elif o.conditional is Requirement.NONE:
            # Opt-in MFA (Keycloak's conditional OTP, Cognito OPTIONAL): the row is not_enrolled,
            # the stronger finding, and says that enrolling alone would not make it enforced.
            reason += "; no enforced policy requires a second factor either"
    elif o.enforced is not Requirement.NONE and o.accepts is not None:
        by = f"{_names(o.enforced_by)} enforce {o.enforced.value}"
        effective, gate = effective_strength(methods.usable, o.accepts, strengths)
        how = (
            f"no usable method is accepted ({_kinds(methods.usable)} held), so an accepted one must first be "
            f"registered past the existing second factor: effective strength {effective.value} (registration gate)"
            if gate
            else f"effective strength {effective.value} (weakest usable method: {_kinds(methods.usable & o.accepts)})"
        )
        if effective.at_least(required):
            status, reason = CoverageStatus.PROTECTED, f"{by}; {how} meets the required {required.value}"
            # Every sign-in must pass each enforcing policy: what they accept together decides.
            if not _demand(o.accepts, strengths).at_least(required):
                dependent = tuple(p.id for p, _ in o.enforcing)
            if dependent:
                reason += "; protection rests on the account's current methods (the policy accepts weaker ones)"
        else:
            status, reason = CoverageStatus.WEAK, f"{by}; {how}, below the required {required.value}"
    elif o.conditional is not Requirement.NONE:
        when = "; ".join(o.conditions) or "conditions"
        by = f"{_names(o.conditional_by)} enforce {o.conditional.value} only under conditions ({when})"
        effective, gate = effective_strength(methods.usable, o.conditional_accepts, strengths)
        how = f"effective strength {effective.value}" + (" (registration gate)" if gate else "")
        if effective.at_least(required):
            status, reason = CoverageStatus.CONDITIONAL, f"{by}; {how}"
        else:
            status, reason = CoverageStatus.WEAK, f"{by}; {how}, below the required {required.value}"
    elif o.report_only is not Requirement.NONE:
        status = CoverageStatus.REPORT_ONLY
        reason = (
            f"only report-only or disabled policies would require {o.report_only.value}: {_names(o.report_only_by)}"
        )
    else:
        status, reason = CoverageStatus.NOT_ENFORCED, "no enforced policy requires a second factor"
        if o.applied:
            reason += f" (applying: {', '.join(o.applied)})"
    if o.conditional_blocks and status in _UNPROTECTED_STATUSES:
        when = "; ".join(o.block_conditions) or "conditions"
        reason += f"; blocked only under conditions by {_names(o.conditional_blocks)} ({when}), not a second factor"
    stricter: tuple[PolicyId, ...] = ()
    if status in (CoverageStatus.WEAK, CoverageStatus.CONDITIONAL, CoverageStatus.NOT_ENFORCED):
        floor = max(o.enforced, o.conditional, key=_rank)
        over = [(r, p) for r, p in o.report_only_all if r.rank > floor.rank]
        if over:
            stricter = tuple(p.id for _, p in over)
            named = ", ".join(f"'{p.name}' ({p.id}, {r.value}, {_state(p)})" for r, p in over)
            reason += f"; stricter policy not enforced: {named}"
    if o.excluded_by and status not in (CoverageStatus.PROTECTED, CoverageStatus.BLOCKED):
        reason += f"; excluded from {', '.join(o.excluded_by)}"
    return Verdict(
        status,
        o.enforced,
        o.conditional is not Requirement.NONE,
        prefix + reason,
        o.applied,
        o.excluded_by,
        effective,
        dependent,
        stricter,
    )


_UNPROTECTED_STATUSES = frozenset(
    {
        CoverageStatus.NOT_ENROLLED,
        CoverageStatus.NOT_ENFORCED,
        CoverageStatus.REPORT_ONLY,
        CoverageStatus.CONDITIONAL,
        CoverageStatus.WEAK,
    }
)


def _state(policy: Policy) -> str:
    return "report-only" if policy.state is PolicyState.REPORT_ONLY else "disabled"


# --- the engine ------------------------------------------------------------------------


@dataclass(slots=True)
class CoverageOutput:
    rows: list[Coverage]
    portals: dict[SourceName, dict[PortalId, Portal]]  # classified
    accounts: dict[SourceName, dict[AccountId, Account]]  # every account read, by source
    register: ExceptionRegister
    identities: IdentityIndex
    indexes: dict[SourceName, PolicyIndex] = field(default_factory=dict)  # each source's compiled policies
    facts: dict[SourceName, Mapping[Fact, FactRead]] = field(default_factory=dict)  # what each source read


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
        self.strengths = strength_table(config.policy)
        self.facts = {name: source_facts(s) for name, s in self.sources.items()}
        self.indexes = {
            name: PolicyIndex(
                s.policies,
                strengths=self.strengths,
                allowances=s.method_policy if self.facts[name][Fact.METHODS_POLICY].read else None,
            )
            for name, s in self.sources.items()
        }
        # Sources on which coverage cannot be judged for lack of methods or policies: the reason.
        self.unjudgeable = {name: _unjudgeable(name, facts) for name, facts in self.facts.items()}
        self._methods: dict[tuple[tuple[str, ...], frozenset[MethodKind] | None], tuple[Methods, Strength]] = {}
        self._interned: dict[tuple[frozenset[MethodKind], frozenset[MethodKind]], Methods] = {}
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
            self.indexes,
            self.facts,
        )

    def _source_rows(self, snap: SourceSnapshot, rows: list[Coverage]) -> None:
        src = snap.source
        index = self.indexes[src]
        reason_of = self.scope.reason
        for_principal = self.register.for_principal
        # Per in-scope account: (account, signature, methods, enrolled, privileged, register entries).
        states: dict[AccountId, tuple[Account, int, Methods, Strength, bool, tuple[RegisterEntry, ...]]] = {}
        # Inlined ``_methods_of`` (the per-account cost of the judgement of methods): keyed by
        # the kinds' plain string values, whose hashes are C-level and cached, where hashing
        # the enum members would call ``Enum.__hash__`` in Python for each method.
        cache = self._methods
        judged = self._judged_methods
        allowed_of = index.allowed if index.reads_allowances else None
        active = MethodStatus.ACTIVE
        for a in snap.accounts:
            if reason_of(a) is None:
                sig = index.signature(a)
                allowed = allowed_of(sig) if allowed_of is not None else None
                mkey = (tuple([m.kind._value_ for m in a.methods if m.status is active]), allowed)
                judged_methods = cache.get(mkey)
                if judged_methods is None:
                    judged_methods = cache[mkey] = judged(mkey[0], allowed)
                methods, enrolled = judged_methods
                states[a.id] = (a, sig, methods, enrolled, a.privileged, for_principal(a.principal))
        unknown_reason = None if snap.complete else f"source {src} was not read in full{_first_issue(snap)}"
        if unknown_reason is None:
            unknown_reason = self.unjudgeable[src]
        strengths = self.strengths
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
            account, sig, methods, enrolled, privileged, entries = state
            required = req_priv if privileged else req_plain
            enforcement_source = src
            if portal.sign_in_via is not None:
                verdict, enrolled, enforcement_source = self._federated(account, portal, required)
            else:
                key = (sig, acc.portal_id, methods, required)
                found = memo.get(key)
                if found is None:
                    found = memo[key] = judge(index.outcome(sig, acc.portal_id), methods, required, strengths)
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
                    verdict.judgement,
                )
            )

    def _methods_of(self, account: Account, index: PolicyIndex, sig: int) -> tuple[Methods, Strength]:
        """The account's methods as judged (shared between accounts holding the same kinds
        under the same allowances: a handful of distinct values in any organisation)."""
        allowed = index.allowed(sig)
        key = (tuple([m.kind._value_ for m in account.methods if m.status is MethodStatus.ACTIVE]), allowed)
        found = self._methods.get(key)
        if found is None:
            found = self._methods[key] = self._judged_methods(key[0], allowed)
        return found

    def _judged_methods(
        self, values: tuple[str, ...], allowed: frozenset[MethodKind] | None
    ) -> tuple[Methods, Strength]:
        """``Methods`` interned by value: the verdict memo compares them by identity."""
        strengths = self.strengths
        kinds = frozenset(MethodKind(v) for v in values)
        registered = frozenset(k for k in kinds if strengths[k] is not Strength.NONE)
        usable = registered if allowed is None else registered & allowed
        enrolled = max((strengths[k] for k in kinds), key=attrgetter("rank"), default=Strength.NONE)
        methods = self._interned.setdefault((registered, usable), Methods(registered, usable))
        return methods, enrolled

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
        if self.unjudgeable[upstream_name] is not None:
            return _unknown(f"{prefix}{self.unjudgeable[upstream_name]}"), Strength.NONE, upstream_name
        linked = self.identities.linked(account.principal, upstream_name)
        if linked is None:
            if required is Strength.NONE:
                v = judge(_NOTHING, _NO_METHODS, required, self.strengths, prefix)
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
        sig = index.signature(linked)
        methods, enrolled = self._methods_of(linked, index, sig)
        key = (upstream_name, sig, upstream_portal, methods, required)
        verdict = self._federated_memo.get(key)
        if verdict is None:
            verdict = self._federated_memo[key] = self._judge_federated(
                index.outcome(sig, upstream_portal), methods, required, upstream_name, upstream_portal, self.strengths
            )
        return verdict, enrolled, upstream_name

    @staticmethod
    def _judge_federated(
        outcome: PolicyOutcome,
        methods: Methods,
        required: Strength,
        upstream: SourceName,
        portal: PortalId | None,
        strengths: Mapping[MethodKind, Strength],
    ) -> Verdict:
        prefix = f"federated to {upstream}: "
        verdict = judge(outcome, methods, required, strengths, prefix)
        if verdict.status is CoverageStatus.NOT_ENFORCED:
            where = f"portal {portal}" if portal is not None else "rules covering every portal"
            verdict = replace(verdict, reason=f"{prefix}nothing enforced upstream ({where})")
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
_NO_METHODS = Methods(frozenset(), frozenset())

# Without these facts a row cannot be judged at all: unknown, never protected.
_NEEDED_FOR_COVERAGE = (Fact.ACCOUNTS, Fact.METHODS, Fact.POLICIES)


def _unjudgeable(source: SourceName, facts: Mapping[Fact, FactRead]) -> str | None:
    for fact in _NEEDED_FOR_COVERAGE:
        if not facts[fact].read:
            return f"coverage on {source} cannot be judged: {not_read_reason(facts[fact])}"
    return None


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


__all__ = [
    "CoverageEngine",
    "CoverageOutput",
    "Methods",
    "PolicyIndex",
    "PolicyOutcome",
    "Verdict",
    "accepted_kinds",
    "coverage_rows",
    "effective_strength",
    "judge",
]
