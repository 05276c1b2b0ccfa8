"""Ad-hoc answers from a stored run: one account (``check --account``) or one portal
(``check --portal``). Which portals or accounts, which methods, which policies, the
coverage status and why (``Coverage.reason``), and the findings.

An account is looked up by principal, case-insensitively, across every source: the
same person's accounts in other sources (same normalised principal, or linked by the
config's ``identity_links``) are part of the answer. An id works too.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from auditor.config.schema import IdentityLink
from auditor.engine.identity import IdentityResolver, normalise
from auditor.findings import FindingRef, finding_order
from auditor.interfaces import AuditorError
from auditor.model import (
    Account,
    AccountKind,
    Coverage,
    CoverageStatus,
    Policy,
    Portal,
    Scope,
    Sensitivity,
    Severity,
    Strength,
)
from auditor.store.database import StoredRun

MAX_SUGGESTIONS = 5


class CheckError(AuditorError):
    """The question cannot be answered from this run."""


class NotFound(CheckError):
    def __init__(self, what: str, query: str, suggestions: Sequence[str] = ()) -> None:
        self.query = query
        self.suggestions = tuple(suggestions)
        hint = f"; close matches: {', '.join(self.suggestions)}" if self.suggestions else ""
        super().__init__(f"no {what} matches {query!r} in the run{hint}")


class AccountNotFound(NotFound):
    def __init__(self, query: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__("account", query, suggestions)


class PortalNotFound(NotFound):
    def __init__(self, query: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__("portal", query, suggestions)


class AmbiguousPortal(CheckError):
    def __init__(self, query: str, candidates: Sequence[str]) -> None:
        self.query = query
        self.candidates = tuple(candidates)
        super().__init__(f"{query!r} names several portals: {', '.join(candidates)}; give source/id")


# --- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunRef:
    run_id: str
    period: str
    evaluated_at: datetime
    complete: bool


@dataclass(frozen=True, slots=True)
class MethodView:
    kind: str
    label: str
    status: str
    strength: Strength


@dataclass(frozen=True, slots=True)
class PolicyRef:
    source: str
    id: str
    name: str  # the id when the snapshot does not hold the policy
    state: str


@dataclass(frozen=True, slots=True)
class CoverageView:
    status: CoverageStatus
    reason: str
    sensitivity: Sensitivity
    enrolled: Strength
    enforced: str
    required: Strength
    conditional: bool
    enforcement_source: str
    policies: tuple[PolicyRef, ...] = ()
    excluded_by: tuple[PolicyRef, ...] = ()
    exception_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccountView:
    source: str
    id: str
    principal: str
    display_name: str
    kind: AccountKind
    enabled: bool
    privileged: bool
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    last_sign_in: datetime | None
    methods: tuple[MethodView, ...]
    strongest: Strength
    evaluated: bool
    note: str  # why it was not evaluated, when it was not


@dataclass(frozen=True, slots=True)
class AccessView:
    """One access of one of the accounts to a portal, with its verdict (None when the
    account was not evaluated)."""

    source: str
    account_id: str
    principal: str
    portal_source: str
    portal_id: str
    portal_name: str
    via: str
    via_ref: str | None
    coverage: CoverageView | None


@dataclass(frozen=True, slots=True)
class AccountAnswer:
    query: str
    run: RunRef
    accounts: tuple[AccountView, ...]
    access: tuple[AccessView, ...]
    findings: tuple[FindingRef, ...]

    @property
    def protected(self) -> bool | None:
        """Every sensitive access protected? None when no sensitive access was judged."""
        judged = [a.coverage for a in self.access if a.coverage is not None and a.coverage.sensitivity.is_sensitive]
        if not judged:
            return None
        return all(c.status.is_protected for c in judged)


@dataclass(frozen=True, slots=True)
class PortalRule:
    """A policy rule that covers the portal, as the engine reads it."""

    source: str
    policy_id: str
    policy_name: str
    state: str
    rule_name: str
    requirement: str
    applies_to: str
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PortalAccountLine:
    source: str
    account_id: str
    principal: str
    coverage: CoverageView


@dataclass(frozen=True, slots=True)
class PortalAnswer:
    query: str
    run: RunRef
    source: str
    id: str
    name: str
    sensitivity: Sensitivity | None
    data_categories: tuple[str, ...]
    enforcement_sources: tuple[str, ...]
    rules: tuple[PortalRule, ...]
    accounts: tuple[PortalAccountLine, ...]  # unprotected first
    findings: tuple[FindingRef, ...]
    status_counts: Mapping[CoverageStatus, int] = field(hash=False)

    @property
    def protected_ratio(self) -> float | None:
        if not self.accounts:
            return None
        return sum(1 for a in self.accounts if a.coverage.status.is_protected) / len(self.accounts)


# --- answering -------------------------------------------------------------------------------


def _run_ref(run: StoredRun) -> RunRef:
    r = run.result
    return RunRef(r.run_id, r.period, r.evaluated_at, r.complete)


class _Policies:
    def __init__(self, run: StoredRun) -> None:
        self._by_key: dict[tuple[str, str], Policy] = {
            (s.source, p.id): p for s in run.snapshot.sources for p in s.policies
        }

    def ref(self, source: str, policy_id: str) -> PolicyRef:
        p = self._by_key.get((source, policy_id))
        if p is None:
            return PolicyRef(source, policy_id, policy_id, "unknown")
        return PolicyRef(source, p.id, p.name, p.state.value)


def _coverage_view(row: Coverage, policies: _Policies) -> CoverageView:
    src = row.enforcement_source
    return CoverageView(
        status=row.status,
        reason=row.reason,
        sensitivity=row.sensitivity,
        enrolled=row.enrolled,
        enforced=row.enforced.value,
        required=row.required,
        conditional=row.conditional,
        enforcement_source=src,
        policies=tuple(policies.ref(src, p) for p in row.policies),
        excluded_by=tuple(policies.ref(src, p) for p in row.excluded_by),
        exception_id=row.exception_id,
    )


def _not_evaluated_note(account: Account, has_access: bool) -> str:
    if not account.enabled:
        return "disabled: out of scope"
    if account.kind is AccountKind.SERVICE:
        return "service account: out of scope unless the config counts service accounts"
    if not has_access:
        return "no access to any portal in this run"
    return "not evaluated in this run (out of scope by the config, or its source was not read)"


def _suggest(query: str, candidates: Iterable[str]) -> list[str]:
    return difflib.get_close_matches(query, sorted(set(candidates)), n=MAX_SUGGESTIONS, cutoff=0.6)


def check_account(run: StoredRun, principal: str, links: Sequence[IdentityLink] = ()) -> AccountAnswer:
    """Everything the run knows about the person behind ``principal`` (or an account id)."""
    resolver = IdentityResolver(links)
    wanted = normalise(principal)
    key = resolver.key(principal)
    matches = [
        a
        for s in run.snapshot.sources
        for a in s.accounts
        if resolver.key(a.principal) == key or normalise(a.id) == wanted
    ]
    # An id names one account; bring in that person's accounts in the other sources too.
    keys = {resolver.key(a.principal) for a in matches}
    if keys - {key}:
        matches = [a for s in run.snapshot.sources for a in s.accounts if resolver.key(a.principal) in keys]
    if not matches:
        raise AccountNotFound(
            principal, _suggest(wanted, (normalise(a.principal) for s in run.snapshot.sources for a in s.accounts))
        )
    matches.sort(key=lambda a: (a.source, a.id))
    ids = {(a.source, a.id) for a in matches}
    policies = _Policies(run)
    rows = {
        (c.source, c.account_id, c.portal_source, c.portal_id): c
        for c in run.result.coverage
        if (c.source, c.account_id) in ids
    }
    evaluated = {(c[0], c[1]) for c in rows}
    portals = {(s.source, p.id): p for s in run.snapshot.sources for p in s.portals}
    by_account = {(a.source, a.id): a for a in matches}
    access: list[AccessView] = []
    with_access: set[tuple[str, str]] = set()
    for s in run.snapshot.sources:
        for x in s.access:
            if (s.source, x.account_id) not in ids:
                continue
            with_access.add((s.source, x.account_id))
            account = by_account[(s.source, x.account_id)]
            portal = portals.get((s.source, x.portal_id))
            row = rows.get((s.source, x.account_id, s.source, x.portal_id))
            access.append(
                AccessView(
                    source=s.source,
                    account_id=x.account_id,
                    principal=account.principal,
                    portal_source=s.source,
                    portal_id=x.portal_id,
                    portal_name=portal.name if portal else x.portal_id,
                    via=x.via.value,
                    via_ref=x.via_ref,
                    coverage=_coverage_view(row, policies) if row is not None else None,
                )
            )
    access.sort(key=lambda v: (v.coverage is None or v.coverage.status.is_protected, v.source, v.portal_name))
    accounts = tuple(
        AccountView(
            source=a.source,
            id=a.id,
            principal=a.principal,
            display_name=a.display_name,
            kind=a.kind,
            enabled=a.enabled,
            privileged=a.privileged,
            roles=tuple(a.roles),
            groups=tuple(a.groups),
            last_sign_in=a.last_sign_in,
            methods=tuple(MethodView(m.kind.value, m.vendor_label, m.status.value, m.strength) for m in a.methods),
            strongest=a.strongest_method,
            evaluated=(a.source, a.id) in evaluated,
            note="" if (a.source, a.id) in evaluated else _not_evaluated_note(a, (a.source, a.id) in with_access),
        )
        for a in matches
    )
    findings = sorted(
        (FindingRef.of(f) for f in run.result.findings if f.account_id is not None and (f.source, f.account_id) in ids),
        key=finding_order,
    )
    return AccountAnswer(principal, _run_ref(run), accounts, tuple(access), tuple(findings))


def _find_portal(run: StoredRun, name_or_id: str) -> Portal:
    portals = [p for s in run.snapshot.sources for p in s.portals]
    q = name_or_id.strip().casefold()
    for test in (
        lambda p: f"{p.source}/{p.id}".casefold() == q,
        lambda p: p.id.casefold() == q,
        lambda p: p.name.casefold() == q,
        lambda p: q in p.name.casefold(),
    ):
        found = [p for p in portals if test(p)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise AmbiguousPortal(name_or_id, sorted(f"{p.source}/{p.id} ({p.name})" for p in found))
    names = [p.name for p in portals] + [p.id for p in portals]
    by_folded = {n.casefold(): n for n in names}
    raise PortalNotFound(name_or_id, [by_folded[m] for m in _suggest(q, by_folded)])


def _upstream_portal(portal: Portal, upstream: Sequence[Portal]) -> str | None:
    """The upstream source's portal a federated portal stands for, as the engine finds it:
    the same id, failing that the same name; None leaves only rules covering every portal."""
    for p in upstream:
        if p.id == portal.id:
            return p.id
    name = portal.name.casefold()
    return next((p.id for p in upstream if p.name.casefold() == name), None)


def _rules_covering(source: str, policies: Iterable[Policy], portal_id: str | None) -> Iterator[PortalRule]:
    for p in policies:
        for rule in p.rules:
            scope = rule.portals
            if portal_id in scope.excluded_ids:
                continue
            if scope.all or (portal_id is not None and portal_id in scope.ids):
                yield PortalRule(
                    source,
                    p.id,
                    p.name,
                    p.state.value,
                    rule.name,
                    rule.requirement.value,
                    _describe_scope(rule.scope),
                    tuple(f"{c.kind.value}: {c.detail}" for c in rule.conditions),
                )


def _describe_scope(scope: Scope) -> str:
    parts = []
    if scope.include_all:
        parts.append("all users")
    for label, values in (
        ("users", scope.include_users),
        ("groups", scope.include_groups),
        ("roles", scope.include_roles),
    ):
        if values:
            parts.append(f"{label} {', '.join(values)}")
    if scope.include_guests:
        parts.append("guests")
    text = "; ".join(parts) or "nobody"
    excluded = []
    for label, values in (
        ("users", scope.exclude_users),
        ("groups", scope.exclude_groups),
        ("roles", scope.exclude_roles),
    ):
        if values:
            excluded.append(f"{label} {', '.join(values)}")
    if scope.exclude_guests:
        excluded.append("guests")
    return text + (f" except {'; '.join(excluded)}" if excluded else "")


def check_portal(run: StoredRun, name_or_id: str) -> PortalAnswer:
    """Who reaches the portal, how each access is protected and why, and which policy
    rules cover it (in the source that enforces its sign-in)."""
    portal = _find_portal(run, name_or_id)
    policies = _Policies(run)
    rows = [c for c in run.result.coverage if c.portal_source == portal.source and c.portal_id == portal.id]
    principals = {(a.source, a.id): a.principal for s in run.snapshot.sources for a in s.accounts}
    enforcement = sorted({c.enforcement_source for c in rows} or {portal.sign_in_via or portal.source})
    rules: list[PortalRule] = []
    for s in run.snapshot.sources:
        if s.source in enforcement:
            target = _upstream_portal(portal, s.portals) if s.source != portal.source else portal.id
            rules.extend(_rules_covering(s.source, s.policies, target))
    lines = sorted(
        (
            PortalAccountLine(
                c.source,
                c.account_id,
                principals.get((c.source, c.account_id), c.account_id),
                _coverage_view(c, policies),
            )
            for c in rows
        ),
        key=lambda line: (line.coverage.status.is_protected, line.coverage.status.value, line.principal),
    )
    sensitivity = rows[0].sensitivity if rows else portal.sensitivity
    findings = sorted(
        (FindingRef.of(f) for f in run.result.findings if f.portal_id == portal.id and f.source == portal.source),
        key=finding_order,
    )
    return PortalAnswer(
        query=name_or_id,
        run=_run_ref(run),
        source=portal.source,
        id=portal.id,
        name=portal.name,
        sensitivity=sensitivity,
        data_categories=tuple(portal.data_categories),
        enforcement_sources=tuple(enforcement),
        rules=tuple(rules),
        accounts=tuple(lines),
        findings=tuple(findings),
        status_counts=dict(sorted(Counter(c.status for c in rows).items())),
    )


def filter_portal(
    answer: PortalAnswer, *, statuses: frozenset[CoverageStatus] = frozenset(), severity: Severity | None = None
) -> PortalAnswer:
    """The answer narrowed to accounts with one of ``statuses`` and, with ``severity``, to
    accounts holding a finding on the portal at or above it (findings narrowed alike).
    ``status_counts`` stay the portal's whole picture."""
    accounts = answer.accounts
    findings = answer.findings
    if statuses:
        accounts = tuple(a for a in accounts if a.coverage.status in statuses)
    if severity is not None:
        findings = tuple(f for f in findings if f.severity.rank >= severity.rank)
        flagged = {(f.source, f.account_id) for f in findings}
        accounts = tuple(a for a in accounts if (a.source, a.account_id) in flagged)
    if statuses:
        kept = {(a.source, a.account_id) for a in accounts}
        findings = tuple(f for f in findings if (f.source, f.account_id) in kept)
    return replace(answer, accounts=accounts, findings=findings)
