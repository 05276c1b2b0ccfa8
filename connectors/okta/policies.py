"""Pure mapping of Okta policies and rules to the model's first-match policies.

Identity Engine: each authentication (``ACCESS_POLICY``) policy applies to the apps
whose ``_links.accessPolicy`` names it; its rules, in priority order, are first-match.
The global session policies (``OKTA_SIGN_ON``) apply to every sign-in on top; Okta
takes the first matching policy, then its first matching rule, so several of them
become one model policy whose rules are theirs in order, each narrowed to its
policy's groups. Classic Engine: the Okta sign-on policies the same way (requireFactor
→ MFA), plus the MFA enrolment policies as evidence (they enforce nothing at sign-in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.model import (
    AccountId,
    Condition,
    ConditionKind,
    GroupId,
    MethodKind,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    PortalId,
    PortalScope,
    Requirement,
    Scope,
    SourceIssue,
)
from connectors.okta import assurance, codes

JsonObject = Mapping[str, Any]

ACCESS_KIND = "okta_access_policy"
GLOBAL_SESSION_KIND = "okta_global_session"
CLASSIC_SIGN_ON_KIND = "okta_sign_on"
ENROLL_KIND = "okta_mfa_enroll"
MERGED_SIGN_ON_ID = PolicyId("okta-global-session-policies")

_REQ_ORDER = (Requirement.NONE, Requirement.MFA, Requirement.STRONG, Requirement.PHISHING_RESISTANT)
# Condition keys that never leave a sign-in out by themselves.
_NEUTRAL_KEYS = frozenset(
    {
        "people",
        "network",
        "platform",
        "riskScore",
        "risk",
        "device",
        "elCondition",
        "authContext",
        "userType",
        "app",
        "apps",
        "clients",
        "grantTypes",
        "scopes",
    }
)


@dataclass(frozen=True, slots=True)
class OktaPolicy:
    """A policy as read: the policy object and its rules, unparsed."""

    policy: JsonObject
    rules: tuple[JsonObject, ...]


@dataclass(frozen=True, slots=True)
class Lookups:
    zones: Mapping[str, str]  # zone id → name
    everyone: str | None  # the built-in Everyone group's id
    apps_of_policy: Mapping[str, tuple[PortalId, ...]]  # access policy id → its apps


def _list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _ids(mapping: Any, key: str) -> tuple[list[str], list[str]]:
    sub = mapping.get(key) if isinstance(mapping, Mapping) else None
    if not isinstance(sub, Mapping):
        return [], []
    return _list(sub.get("include")), _list(sub.get("exclude"))


def scope(conditions: JsonObject | None, lookups: Lookups, policy_groups: Sequence[str] = ()) -> Scope:
    people = conditions.get("people") if isinstance(conditions, Mapping) else None
    users_in, users_out = _ids(people, "users")
    groups_in, groups_out = _ids(people, "groups")
    if lookups.everyone is not None and lookups.everyone in groups_in:
        groups_in = []
    narrowed = [g for g in policy_groups if g != lookups.everyone]
    if not users_in and not groups_in and narrowed:
        groups_in = list(narrowed)  # the rule takes everyone its policy applies to
    include_all = not users_in and not groups_in
    return Scope(
        include_all=include_all,
        include_users=tuple(AccountId(u) for u in users_in),
        include_groups=tuple(GroupId(g) for g in groups_in),
        exclude_users=tuple(AccountId(u) for u in users_out),
        exclude_groups=tuple(GroupId(g) for g in groups_out),
    )


ALL_ZONES = "ALL_ZONES"  # every network zone the org defines: not every IP (that is ANYWHERE)


def _zone_names(ids: list[str], lookups: Lookups) -> str:
    if ids == [ALL_ZONES]:
        return f"zones defined in the org ({ALL_ZONES})"
    names = [f"'{lookups.zones.get(z, z)}'" for z in ids]
    return ("zone " if len(names) == 1 else "zones ") + ", ".join(names)


def rule_conditions(raw: JsonObject | None, lookups: Lookups) -> tuple[Condition, ...]:
    """Only the conditions that really leave sign-ins out (ANYWHERE, ANY risk, every
    platform… are no condition)."""
    if not isinstance(raw, Mapping):
        return ()
    out: list[Condition] = []
    network = raw.get("network")
    if isinstance(network, Mapping) and network.get("connection") == "ZONE":
        include, exclude = _list(network.get("include")), _list(network.get("exclude"))
        if include:
            out.append(Condition(ConditionKind.NETWORK, _zone_names(include, lookups)))
        if exclude:
            out.append(Condition(ConditionKind.NETWORK, "excludes " + _zone_names(exclude, lookups)))
    platform = raw.get("platform")
    if isinstance(platform, Mapping):
        inc, exc = platform.get("include"), platform.get("exclude")
        described = []
        for p in inc if isinstance(inc, list) else ():
            if isinstance(p, Mapping):
                os_ = p.get("os")
                os_type = os_.get("type", "ANY") if isinstance(os_, Mapping) else "ANY"
                described.append(f"{p.get('type', 'ANY')}/{os_type}")
        if described and not all(d in ("ANY/ANY",) for d in described):
            out.append(Condition(ConditionKind.PLATFORM, "platforms " + ", ".join(described)))
        if isinstance(exc, list) and exc:
            out.append(Condition(ConditionKind.PLATFORM, f"excludes {len(exc)} platform(s)"))
    for key in ("riskScore", "risk"):
        risk = raw.get(key)
        level = risk.get("level") if isinstance(risk, Mapping) else None
        if isinstance(level, str) and level != "ANY":
            out.append(Condition(ConditionKind.RISK, f"risk level {level}"))
    device = raw.get("device")
    if isinstance(device, Mapping):
        wants = [k for k in ("registered", "managed") if device.get(k) is True]
        assurance = device.get("assurance")
        if isinstance(assurance, Mapping) and _list(assurance.get("include")):
            wants.append("assurance " + ", ".join(_list(assurance.get("include"))))
        if wants:
            out.append(Condition(ConditionKind.DEVICE, "device " + ", ".join(wants)))
    el = raw.get("elCondition")
    if isinstance(el, Mapping) and isinstance(el.get("condition"), str) and el["condition"].strip():
        out.append(Condition(ConditionKind.OTHER, f"expression {el['condition']}"))
    user_type = raw.get("userType")
    if isinstance(user_type, Mapping) and (_list(user_type.get("include")) or _list(user_type.get("exclude"))):
        out.append(Condition(ConditionKind.OTHER, "user types"))
    auth = raw.get("authContext")
    if isinstance(auth, Mapping) and auth.get("authType") not in (None, "ANY"):
        out.append(Condition(ConditionKind.CLIENT_APP, f"authentication type {auth.get('authType')}"))
    # Something this connector cannot judge: assume it leaves sign-ins out.
    out.extend(Condition(ConditionKind.OTHER, f"condition {k}") for k in raw if k not in _NEUTRAL_KEYS and raw[k])
    return tuple(out)


def _weakest(reqs: list[Requirement]) -> Requirement:
    return min(reqs, key=_REQ_ORDER.index)


def access_requirement(actions: JsonObject | None, where: str) -> tuple[Requirement, SourceIssue | None]:
    """An ACCESS_POLICY rule's ``actions`` → the requirement (weakest way to satisfy it);
    see ``assurance`` for how constraints and method chains are judged."""
    sign_on = actions.get("appSignOn") if isinstance(actions, Mapping) else None
    if not isinstance(sign_on, Mapping):
        return Requirement.NONE, SourceIssue(codes.RULE_UNINTERPRETED, f"{where}: no appSignOn action", where)
    if sign_on.get("access") == "DENY":
        return Requirement.BLOCK, None
    method = sign_on.get("verificationMethod")
    if not isinstance(method, Mapping):
        return Requirement.NONE, SourceIssue(codes.RULE_UNINTERPRETED, f"{where}: no verificationMethod", where)
    vtype = method.get("type", "ASSURANCE")
    if vtype == "ASSURANCE":
        judged = assurance.judge_assurance(method)
        code = codes.CONSTRAINT_UNKNOWN
    elif vtype == "AUTH_METHOD_CHAIN":
        judged = assurance.judge_chain(method)
        code = codes.CHAIN_METHOD_UNKNOWN
    else:
        return Requirement.NONE, SourceIssue(
            codes.RULE_UNINTERPRETED, f"{where}: verification method {vtype!r} not interpreted; counted as none", where
        )
    if judged.unknown:
        return judged.requirement, SourceIssue(
            code,
            f"{where}: {', '.join(judged.unknown)} not known to this connector; the rule is read as "
            f"{judged.requirement.value}",
            where,
        )
    return judged.requirement, None


def sign_on_requirement(actions: JsonObject | None, where: str) -> tuple[Requirement, SourceIssue | None]:
    signon = actions.get("signon") if isinstance(actions, Mapping) else None
    if not isinstance(signon, Mapping):
        return Requirement.NONE, SourceIssue(codes.RULE_UNINTERPRETED, f"{where}: no signon action", where)
    if signon.get("access") == "DENY":
        return Requirement.BLOCK, None
    return (Requirement.MFA if signon.get("requireFactor") is True else Requirement.NONE), None


def prompt_conditions(actions: JsonObject | None) -> tuple[Condition, ...]:
    """``factorPromptMode`` DEVICE: a factor is asked once per device, and a device
    remembered (for ``factorLifetime`` minutes) is not asked again, a device condition as
    for Cognito's device tracking and Auth0's remembered browser. ALWAYS and SESSION (once
    per Okta session) leave no sign-in out."""
    signon = actions.get("signon") if isinstance(actions, Mapping) else None
    if not isinstance(signon, Mapping) or signon.get("requireFactor") is not True:
        return ()
    if signon.get("factorPromptMode") != "DEVICE":
        return ()
    lifetime = signon.get("factorLifetime")
    span = f" for {lifetime} min" if isinstance(lifetime, int) and not isinstance(lifetime, bool) else ""
    return (Condition(ConditionKind.DEVICE, f"factorPromptMode DEVICE: a device remembered{span} is not asked"),)


def _ordered(rules: Sequence[JsonObject]) -> list[JsonObject]:
    def key(r: JsonObject) -> tuple[int, int]:
        p = r.get("priority")
        return (0 if isinstance(p, int) else 1, p if isinstance(p, int) else 0)

    return [r for r in sorted(rules, key=key) if r.get("status", "ACTIVE") == "ACTIVE"]


def _state(policy: JsonObject) -> PolicyState:
    return PolicyState.ENFORCED if policy.get("status", "ACTIVE") == "ACTIVE" else PolicyState.DISABLED


def _name(raw: JsonObject, fallback: str) -> str:
    name = raw.get("name")
    return name if isinstance(name, str) and name else fallback


def access_policy(raw: OktaPolicy, lookups: Lookups) -> tuple[Policy, list[SourceIssue]]:
    pid = str(raw.policy.get("id"))
    portals = PortalScope(ids=lookups.apps_of_policy.get(pid, ()))
    rules: list[PolicyRule] = []
    issues: list[SourceIssue] = []
    for r in _ordered(raw.rules):
        rid = str(r.get("id"))
        req, issue = access_requirement(r.get("actions"), f"policy {pid} rule {rid}")
        if issue:
            issues.append(issue)
        conds = r.get("conditions")
        rules.append(
            PolicyRule(
                rid,
                _name(r, rid),
                scope(conds, lookups),
                portals,
                req,
                rule_conditions(conds, lookups),
                _accepted(r.get("actions"), req),
            )
        )
    return Policy(PolicyId(pid), _name(raw.policy, pid), _state(raw.policy), tuple(rules), ACCESS_KIND), issues


def _accepted(actions: Any, requirement: Requirement) -> tuple[MethodKind, ...]:
    """The kinds the rule's verification method names (PolicyRule.accepted_methods)."""
    if requirement in (Requirement.NONE, Requirement.BLOCK) or not isinstance(actions, Mapping):
        return ()
    sign_on = actions.get("appSignOn")
    method = sign_on.get("verificationMethod") if isinstance(sign_on, Mapping) else None
    return assurance.accepted_kinds(method) if isinstance(method, Mapping) else ()


def _policy_groups(policy: JsonObject) -> list[str]:
    inc, _ = _ids(
        policy.get("conditions", {}).get("people") if isinstance(policy.get("conditions"), Mapping) else None, "groups"
    )
    return inc


def _sign_on_rules(raw: OktaPolicy, lookups: Lookups, issues: list[SourceIssue]) -> list[PolicyRule]:
    pid = str(raw.policy.get("id"))
    groups = _policy_groups(raw.policy)
    out = []
    for r in _ordered(raw.rules):
        rid = str(r.get("id"))
        req, issue = sign_on_requirement(r.get("actions"), f"policy {pid} rule {rid}")
        if issue:
            issues.append(issue)
        conds = r.get("conditions")
        out.append(
            PolicyRule(
                rid,
                _name(r, rid),
                scope(conds, lookups, groups),
                PortalScope(all=True),
                req,
                rule_conditions(conds, lookups) + prompt_conditions(r.get("actions")),
            )
        )
    return out


def _priority(p: OktaPolicy) -> int:
    value = p.policy.get("priority")
    return value if isinstance(value, int) else 0


def sign_on_policies(
    raws: Sequence[OktaPolicy], lookups: Lookups, kind: str
) -> tuple[tuple[Policy, ...], list[SourceIssue]]:
    """The global session (or classic sign-on) policies: Okta takes the first policy by
    priority whose groups match, so several become one first-match model policy."""
    issues: list[SourceIssue] = []
    ordered = sorted(raws, key=_priority)
    if len(ordered) == 1:
        raw = ordered[0]
        pid = str(raw.policy.get("id"))
        rules = _sign_on_rules(raw, lookups, issues)
        return (Policy(PolicyId(pid), _name(raw.policy, pid), _state(raw.policy), tuple(rules), kind),), issues
    merged: list[PolicyRule] = []
    for raw in ordered:
        if _state(raw.policy) is PolicyState.ENFORCED:
            merged.extend(_sign_on_rules(raw, lookups, issues))
    if not merged:
        return (), issues
    names = ", ".join(_name(r.policy, str(r.policy.get("id"))) for r in ordered)
    policy = Policy(
        MERGED_SIGN_ON_ID,
        f"Global session policies, first match in order: {names}",
        PolicyState.ENFORCED,
        tuple(merged),
        kind,
    )
    return (policy,), issues


def enroll_policy(raw: OktaPolicy, lookups: Lookups) -> Policy:
    """An MFA enrolment policy says which factors users must enrol, not what a sign-in
    demands: kept as evidence, with no requirement."""
    pid = str(raw.policy.get("id"))
    groups = _policy_groups(raw.policy)
    rules = tuple(
        PolicyRule(
            str(r.get("id")),
            _name(r, str(r.get("id"))),
            scope(r.get("conditions"), lookups, groups),
            PortalScope(all=True),
            Requirement.NONE,
        )
        for r in _ordered(raw.rules)
    )
    return Policy(PolicyId(pid), _name(raw.policy, pid), _state(raw.policy), rules, ENROLL_KIND)
