"""Per-user flow outcomes → the model's policies.

Keycloak has no policy objects: a client's sign-in goes through the realm's browser
flow (or the client's override) and, when the client allows the password grant, the
direct-grant flow. Each binding (browser flow, direct-grant flow) becomes one Policy
for the clients that use it; its rules group the users by what the flows demand of
them (walked per user in ``flows``), so "OTP only for users who configured OTP"
becomes a rule naming exactly those users, and everybody else falls under the rule
that asks for nothing. A requirement met only under sign-in conditions (client scope,
level of authentication, request headers) comes first as a conditional rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auditor.model import (
    AccountId,
    Condition,
    ConditionKind,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    PortalId,
    PortalScope,
    Requirement,
    Scope,
)
from connectors.keycloak.flows import Outcome

VENDOR_KIND = "keycloak_flow_binding"
POST_BROKER_KIND = "keycloak_post_broker_flow"


@dataclass(frozen=True, slots=True)
class Binding:
    """Which flows a set of portals goes through (aliases; direct None when the
    clients do not allow the password grant)."""

    browser: str | None
    direct: str | None

    @property
    def id(self) -> PolicyId:
        return PolicyId(f"flows:{self.browser or '-'}+{self.direct or '-'}")

    @property
    def name(self) -> str:
        parts = []
        if self.browser:
            parts.append(f"browser flow '{self.browser}'")
        if self.direct:
            parts.append(f"direct grant flow '{self.direct}'")
        return "Keycloak sign-in: " + (", ".join(parts) or "no flow")


def describe(o: Outcome) -> str:
    if o.floor is Requirement.BLOCK:
        return "no way in for these users"
    what = o.floor.value if o.floor is not Requirement.NONE else "password only"
    if o.kinds:
        what += f" ({', '.join(k.value for k in o.kinds)})"
    if o.ceiling is not o.floor:
        what += f"; {o.ceiling.value} when {' and '.join(o.conditions)}"
    return what


def rules_for(
    policy_id: str, outcomes: Mapping[AccountId, Outcome], everyone: int, portals: PortalScope
) -> tuple[PolicyRule, ...]:
    """One rule per distinct outcome (two when it has a conditional part); a group that
    holds all ``everyone`` users is scoped to all, not listed."""
    groups: dict[Outcome, list[AccountId]] = {}
    for uid, o in outcomes.items():
        groups.setdefault(o, []).append(uid)
    rules: list[PolicyRule] = []
    ordered = sorted(groups.items(), key=lambda kv: (kv[0].floor.rank, kv[0].ceiling.rank, describe(kv[0])))
    for n, (o, users) in enumerate(ordered, 1):
        scope = Scope(include_all=True) if len(users) == everyone else Scope(include_users=tuple(sorted(users)))
        label = f"{describe(o)} [{len(users)} user(s)]"
        if o.ceiling is not o.floor:
            rules.append(
                PolicyRule(
                    f"{policy_id}#{n}c",
                    label,
                    scope,
                    portals,
                    o.ceiling,
                    tuple(Condition(ConditionKind.OTHER, c) for c in o.conditions),
                )
            )
        rules.append(PolicyRule(f"{policy_id}#{n}", label, scope, portals, o.floor, (), o.kinds))
    return tuple(rules)


def binding_policy(
    binding: Binding, clients: Sequence[PortalId], outcomes: Mapping[AccountId, Outcome], everyone: int
) -> Policy:
    portals = PortalScope(ids=tuple(sorted(clients)))
    rules = rules_for(binding.id, outcomes, everyone, portals)
    return Policy(binding.id, binding.name, PolicyState.ENFORCED, rules, VENDOR_KIND)


def post_broker_policy(
    alias: str, flow: str, portals: Sequence[PortalId], outcomes: Mapping[AccountId, Outcome]
) -> Policy:
    pid = PolicyId(f"post-broker:{alias}:{flow}")
    scope = PortalScope(ids=tuple(sorted(portals)))
    rules = rules_for(pid, outcomes, -1, scope)
    return Policy(
        pid,
        f"Keycloak post-broker flow '{flow}' of identity provider '{alias}'",
        PolicyState.ENFORCED,
        rules,
        POST_BROKER_KIND,
    )
