"""What the report states on page one and in its scope: the verdict per sensitive portal
against the config's targets, the sources and what was read from them, the accounts left
out and why, the portal classification, and management's responses to findings.

Every figure here is computed from the snapshot, the result, the config text and the
report options (and, for "first seen", the previous run's findings that the CLI passes
in ``ctx.extra``), so a report can be rendered again from its evidence.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from auditor.config.schema import EvaluationPolicy, PortalClass, PortalMatch
from auditor.engine.classify import Classifier
from auditor.engine.identity import normalise
from auditor.engine.reconcile import OutOfScope, ScopeFilter
from auditor.interfaces import ManagementResponse, ReportOptions
from auditor.model import (
    Account,
    AccountKind,
    AuditResult,
    CoverageStatus,
    Finding,
    Portal,
    Sensitivity,
    Severity,
    Snapshot,
    Strength,
)

# Settings keys that name a tenant, a domain or an organisation URL: shown in the scope.
# Anything else in a source's settings (credentials, paths, tuning) is not.
_TENANT_KEYS = (
    "tenant_id",
    "tenant",
    "domain",
    "customer_id",
    "org_url",
    "base_url",
    "issuer",
    "realm",
    "user_pool_id",
    "region",
)
_SENSITIVITY_ORDER = {Sensitivity.HIGH: 0, Sensitivity.SENSITIVE: 1, Sensitivity.NORMAL: 2}


def config_data(text: str) -> Mapping[str, Any]:
    """The config as plain data; an empty mapping when the text is not a YAML mapping
    (a stored result rendered without its config)."""
    try:
        data = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


# --- page one ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortalVerdict:
    key: str  # source/portal id
    name: str
    source: str
    sensitivity: Sensitivity
    data_categories: tuple[str, ...]
    required: Strength  # the baseline requirement (non-privileged accounts)
    total: int
    protected: int  # protected + blocked: the headline's "protected"
    blocked: int
    unknown: int
    target: float

    @property
    def ratio(self) -> float | None:
        return None if self.total == 0 else self.protected / self.total

    @property
    def verdict(self) -> str:
        """pass / fail / incomplete: a portal whose unknown accesses could still decide its
        verdict is incomplete, never pass."""
        if self.total == 0:
            return "pass"
        if self.protected / self.total + 1e-12 < self.target:
            # Even counting every unknown access as protected, is the target missed?
            if (self.protected + self.unknown) / self.total + 1e-12 < self.target:
                return "fail"
            return "incomplete"
        return "pass" if self.unknown == 0 else "incomplete"


def target_for(options: ReportOptions, sensitivity: Sensitivity) -> float:
    value = options.targets.get(sensitivity.value)
    return 1.0 if value is None else float(value)


def portal_verdicts(
    result: AuditResult, snapshot: Snapshot, names: Mapping[str, str], options: ReportOptions
) -> tuple[PortalVerdict, ...]:
    """One verdict per sensitive portal, most sensitive first, then failing first, then by name."""
    counts: dict[str, Counter[CoverageStatus]] = defaultdict(Counter)
    sensitivity: dict[str, Sensitivity] = {}
    required: dict[str, Strength] = {}
    for row in result.coverage:
        if not row.sensitivity.is_sensitive:
            continue
        key = f"{row.portal_source}/{row.portal_id}"
        counts[key][row.status] += 1
        sensitivity.setdefault(key, row.sensitivity)
        if key not in required or row.required.rank < required[key].rank:
            required[key] = row.required
    categories = {f"{s.source}/{p.id}": p.data_categories for s in snapshot.sources for p in s.portals}
    out = []
    for key, by_status in counts.items():
        source, _, _ = key.partition("/")
        protected = sum(n for st, n in by_status.items() if st.is_protected)
        out.append(
            PortalVerdict(
                key=key,
                name=names.get(key, key),
                source=source,
                sensitivity=sensitivity[key],
                data_categories=categories.get(key, ()),
                required=required[key],
                total=sum(by_status.values()),
                protected=protected,
                blocked=by_status.get(CoverageStatus.BLOCKED, 0),
                unknown=by_status.get(CoverageStatus.UNKNOWN, 0),
                target=target_for(options, sensitivity[key]),
            )
        )
    order = {"fail": 0, "incomplete": 1, "pass": 2}
    return tuple(sorted(out, key=lambda v: (_SENSITIVITY_ORDER.get(v.sensitivity, 3), order[v.verdict], v.name, v.key)))


# --- scope ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceScope:
    name: str
    connector: str
    tenant: tuple[tuple[str, str], ...]  # (settings key, value): tenant id, domain, org URL
    collected_at: Any
    accounts: int
    portals: int
    policies: int
    sign_ins: int
    sign_ins_collected: bool
    facts_read: tuple[str, ...]
    facts_not_read: tuple[tuple[str, str], ...]  # (fact, reason)


def source_scopes(snapshot: Snapshot, config: Mapping[str, Any]) -> tuple[SourceScope, ...]:
    settings_by_name: dict[str, Mapping[str, Any]] = {}
    sources = config.get("sources")
    if isinstance(sources, list):
        for s in sources:
            if isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("settings"), dict):
                settings_by_name[s["name"]] = s["settings"]
    out = []
    for snap in snapshot.sources:
        settings = settings_by_name.get(snap.source, {})
        tenant = tuple(
            (k, str(settings[k]))
            for k in _TENANT_KEYS
            if isinstance(settings.get(k), str | int) and not isinstance(settings.get(k), bool)
        )
        out.append(
            SourceScope(
                name=snap.source,
                connector=snap.connector,
                tenant=tenant,
                collected_at=snap.collected_at,
                accounts=len(snap.accounts),
                portals=len(snap.portals),
                policies=len(snap.policies),
                sign_ins=len(snap.sign_ins),
                sign_ins_collected=snap.sign_ins_collected,
                facts_read=tuple(sorted(f.fact.value for f in snap.facts if f.read)),
                facts_not_read=tuple(sorted((f.fact.value, f.reason) for f in snap.facts if not f.read)),
            )
        )
    return tuple(out)


def scope_policy(config: Mapping[str, Any]) -> EvaluationPolicy:
    """The part of the config's ``policy`` that decides who is in scope (the config was
    validated when the run was made; a value that does not read is left at its default)."""
    defaults = EvaluationPolicy()
    policy = config.get("policy")
    if not isinstance(policy, dict):
        return defaults
    kinds = policy.get("account_kinds")
    account_kinds = defaults.account_kinds
    if isinstance(kinds, list) and kinds:
        try:
            account_kinds = frozenset(AccountKind(k) for k in kinds)
        except ValueError:
            account_kinds = defaults.account_kinds
    excluded = policy.get("excluded_accounts")
    include_disabled = policy.get("include_disabled")
    return EvaluationPolicy(
        account_kinds=account_kinds,
        include_disabled=include_disabled if isinstance(include_disabled, bool) else defaults.include_disabled,
        excluded_accounts=tuple(str(p) for p in excluded) if isinstance(excluded, list) else (),
    )


@dataclass(frozen=True, slots=True)
class Excluded:
    source: str
    reason: str  # an OutOfScope value
    account: Account


def excluded_accounts(snapshot: Snapshot, config: Mapping[str, Any]) -> tuple[Excluded, ...]:
    """Every account read and left out of the evaluation, with the reason (the engine's own
    ``ScopeFilter``, so the counts are the reconciliation's)."""
    scope = ScopeFilter(scope_policy(config))
    out = []
    for snap in snapshot.sources:
        for account in snap.accounts:
            why = scope.reason(account)
            if why is not None:
                out.append(Excluded(snap.source, why.value, account))
    order = {r.value: i for i, r in enumerate(OutOfScope)}
    return tuple(sorted(out, key=lambda e: (order.get(e.reason, 99), e.source, e.account.principal, e.account.id)))


def excluded_counts(excluded: Iterable[Excluded]) -> dict[str, int]:
    counts = Counter(e.reason for e in excluded)
    return {r.value: counts[r.value] for r in OutOfScope if counts[r.value]}


@dataclass(frozen=True, slots=True)
class Classification:
    source: str
    portal_id: str
    name: str
    sensitivity: Sensitivity
    data_categories: tuple[str, ...]
    rule_index: int | None  # position in the config's ``portals``; None: the default applied
    match: str  # the rule's match, as the config writes it
    sign_in_via: str | None


def _portal_classes(config: Mapping[str, Any]) -> list[PortalClass | None]:
    out: list[PortalClass | None] = []
    portals = config.get("portals")
    if not isinstance(portals, list):
        return out
    for item in portals:
        try:
            match = item["match"]
            out.append(
                PortalClass(
                    match=PortalMatch(
                        match.get("source"),
                        match.get("id"),
                        match.get("name"),
                        match.get("name_pattern"),
                        match.get("tag"),
                    ),
                    sensitivity=Sensitivity(item["sensitivity"]),
                    data_categories=tuple(item.get("data_categories") or ()),
                    sign_in_via=item.get("sign_in_via"),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            out.append(None)  # keeps the positions of the others
    return out


def _match_text(match: PortalMatch) -> str:
    parts = [
        f"{name}={value}"
        for name, value in (
            ("source", match.source),
            ("id", match.id),
            ("name", match.name),
            ("name_pattern", match.name_pattern),
            ("tag", match.tag),
        )
        if value is not None
    ]
    return ", ".join(parts)


def classifications(snapshot: Snapshot, result: AuditResult, config: Mapping[str, Any]) -> tuple[Classification, ...]:
    """Each portal that any evaluated access reaches: its class and the config rule that gave it."""
    classes = _portal_classes(config)
    usable = [(i, c) for i, c in enumerate(classes) if c is not None]
    classifier = Classifier([c for _, c in usable], Sensitivity.NORMAL)
    index_of = {id(c): i for i, c in usable}
    seen: dict[str, Sensitivity] = {}
    for row in result.coverage:
        seen.setdefault(f"{row.portal_source}/{row.portal_id}", row.sensitivity)
    out = []
    for snap in snapshot.sources:
        for portal in snap.portals:
            key = f"{snap.source}/{portal.id}"
            rule = classifier.rule_for(portal)
            sensitivity = seen.get(key) or (rule.sensitivity if rule else portal.sensitivity or Sensitivity.NORMAL)
            out.append(
                Classification(
                    source=snap.source,
                    portal_id=portal.id,
                    name=portal.name,
                    sensitivity=sensitivity,
                    data_categories=(rule.data_categories if rule else ()) or portal.data_categories,
                    rule_index=index_of.get(id(rule)) if rule is not None else None,
                    match=_match_text(rule.match) if rule is not None else "",
                    sign_in_via=rule.sign_in_via if rule is not None else None,
                )
            )
    return tuple(sorted(out, key=lambda c: (_SENSITIVITY_ORDER.get(c.sensitivity, 3), c.source, c.name, c.portal_id)))


# --- findings: order, evidence, responses ----------------------------------------------------


def display_key(sensitivity: Mapping[str, Sensitivity]) -> Callable[[Finding], tuple[int, int, str, str, str]]:
    """Most severe first, then the most sensitive portal, then by portal and account: the
    order of a finding table, and what a capped one keeps."""
    by_id = {k.partition("/")[2]: v for k, v in sensitivity.items()}  # a portal reached from another source

    def key(f: Finding) -> tuple[int, int, str, str, str]:
        s = None
        if f.portal_id:
            s = sensitivity.get(f"{f.source}/{f.portal_id}") or by_id.get(f.portal_id)
        return (
            -f.severity.rank,
            _SENSITIVITY_ORDER.get(s, 3) if s is not None else 3,
            f.portal_name or f.portal_id or "",
            f.principal or f.account_id or "",
            f.source,
        )

    return key


def display_order(findings: Sequence[Finding], sensitivity: Mapping[str, Sensitivity]) -> list[Finding]:
    return sorted(findings, key=display_key(sensitivity))


def _matches(response: ManagementResponse, f: Finding) -> bool:
    if response.rule is not None and response.rule != f.rule_id:
        return False
    if response.account is not None and normalise(response.account) != normalise(f.principal or f.account_id or ""):
        return False
    return response.portal is None or response.portal in (f.portal_id, f.portal_name)


class Responses:
    """Which response answers which finding (the first in the register that matches)."""

    def __init__(self, register: Sequence[ManagementResponse]) -> None:
        self.register = tuple(register)
        self._by_rule: dict[str | None, list[ManagementResponse]] = defaultdict(list)
        for r in self.register:
            self._by_rule[r.rule].append(r)

    def for_finding(self, f: Finding) -> ManagementResponse | None:
        candidates: list[ManagementResponse] = [*self._by_rule.get(f.rule_id, ()), *self._by_rule.get(None, ())]
        for r in candidates:
            if _matches(r, f):
                return r
        return None


def finding_key(f: Finding) -> tuple[str, str, str, str]:
    return (f.rule_id, f.source, f.account_id or "", f.portal_id or "")


@dataclass(frozen=True, slots=True)
class FirstSeen:
    """When a finding was first reported: a response's ``first_seen``, else the previous
    period for a finding the previous run had too, else this period."""

    current: str
    previous: str | None = None
    persisting: frozenset[tuple[str, str, str, str]] = field(default_factory=frozenset)

    def of(self, f: Finding, response: ManagementResponse | None) -> str:
        candidates = [self.current]
        if self.previous is not None and finding_key(f) in self.persisting:
            candidates.append(self.previous)
        if response is not None and response.first_seen:
            candidates.append(response.first_seen)
        return min(candidates)


# --- data minimisation -----------------------------------------------------------------------

_MASK = "•••"


def mask_identifier(value: str) -> str:
    """An account identifier with its middle hidden: ``j•••s@example.org``, ``ab•••yz``.
    The domain of an e-mail address stays (it says which tenant); the local part keeps its
    first and last character when it has more than three."""
    if not value:
        return value
    local, at, domain = value.partition("@")
    if at:
        shown = local[0] + _MASK + (local[-1] if len(local) > 3 else "")
        return f"{shown}@{domain}"
    if len(value) <= 4:
        return value[0] + _MASK
    return value[:2] + _MASK + value[-2:]


_BREAKS = re.compile(r"([@.\-_/])")


def break_points(value: str) -> list[tuple[str, bool]]:
    """``value`` cut after each "@", ".", "-", "_" or "/": (piece, break allowed after)."""
    pieces = _BREAKS.split(value)
    out: list[tuple[str, bool]] = []
    for i in range(0, len(pieces), 2):
        text = pieces[i] + (pieces[i + 1] if i + 1 < len(pieces) else "")
        if text:
            out.append((text, i + 1 < len(pieces)))
    return out


SEVERITY_RANK = {s: s.rank for s in Severity}


def sensitivity_by_portal(result: AuditResult) -> dict[str, Sensitivity]:
    out: dict[str, Sensitivity] = {}
    for row in result.coverage:
        out.setdefault(f"{row.portal_source}/{row.portal_id}", row.sensitivity)
    return out


def portal_of(snapshot: Snapshot, key: str) -> Portal | None:
    source, _, portal_id = key.partition("/")
    for s in snapshot.sources:
        if s.source == source:
            return next((p for p in s.portals if p.id == portal_id), None)
    return None
