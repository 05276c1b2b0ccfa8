"""What the flows do, as the model says it: portals (clients, and each client reached
through an identity provider), access, and the policies built from the per-user walk
of every flow binding; login events turned into sign-ins where the event or the flows
say whether a second factor ran."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.interfaces import CollectContext
from auditor.model import (
    Access,
    AccessVia,
    Account,
    AccountId,
    Policy,
    Portal,
    PortalId,
    Requirement,
    SignIn,
    SignInFactor,
    SourceIssue,
    SourceName,
)
from connectors.keycloak import codes, flows, parse, policies
from connectors.keycloak.fetch import Idp, Run


def enforce(
    run: Run,
    source: SourceName,
    brokers: Mapping[str, str],
    alias_of: Mapping[str, str],
    realm: Mapping[str, Any],
    clients: list[parse.KeycloakClient],
    idps: list[Idp],
    trees: Mapping[str, tuple[flows.Step, ...]],
    accounts: list[Account],
    user_facts: Mapping[AccountId, flows.UserFacts],
) -> tuple[list[Portal], list[Access], list[Policy]]:
    walk = flows.walk_for(realm)
    memo: dict[tuple[str, flows.UserFacts, bool], flows.Outcome] = {}

    def outcome_of(alias: str | None, uid: AccountId, brokered: bool = False) -> flows.Outcome | None:
        """``brokered``: a post-broker flow, run after the identity provider's sign-in."""
        if alias is None:
            return None
        tree = trees.get(alias)
        if tree is None:
            return None
        facts = user_facts[uid]
        key = (alias, facts, brokered)
        found = memo.get(key)
        if found is None:
            ways = flows.paths(tree, facts, walk)
            found = memo[key] = flows.outcome(flows.after_upstream(ways) if brokered else ways)
        return found

    portals: list[Portal] = []
    access: list[Access] = []
    out: list[Policy] = []
    bindings: dict[policies.Binding, list[PortalId]] = {}
    for c in clients:
        browser = (
            (alias_of.get(c.browser_flow, "") if c.browser_flow else realm.get("browserFlow")) if c.browser else None
        )
        direct = (
            (alias_of.get(c.direct_grant_flow, "") if c.direct_grant_flow else realm.get("directGrantFlow"))
            if c.direct_grant
            else None
        )
        binding = policies.Binding(
            browser if isinstance(browser, str) else None, direct if isinstance(direct, str) else None
        )
        bindings.setdefault(binding, []).append(c.portal.id)
        portals.append(c.portal)
        access.extend(Access(a.id, c.portal.id, AccessVia.EVERYONE) for a in accounts)
    ids = [a.id for a in accounts]
    for binding, portal_ids in bindings.items():
        outcomes: dict[AccountId, flows.Outcome] = {}
        missing = [a for a in (binding.browser, binding.direct) if a is not None and a not in trees]
        if missing:
            continue  # its flow was not read: the source is already incomplete
        for uid in ids:
            found = [o for o in (outcome_of(binding.browser, uid), outcome_of(binding.direct, uid)) if o is not None]
            if not found:
                continue
            combined = found[0]
            for other in found[1:]:
                combined = flows.weakest(combined, other)
            outcomes[uid] = combined
        out.append(policies.binding_policy(binding, portal_ids, outcomes, len(ids)))
    known = set(ids)
    for idp in idps:
        linked = sorted(AccountId(u) for u in idp.linked if u in known)
        if not linked:
            continue
        upstream = brokers.get(idp.alias)
        if idp.post_broker_flow is None and upstream is None:
            run.issues.append(
                SourceIssue(
                    codes.BROKER_NOT_AUDITED,
                    f"identity provider {idp.alias} ({idp.name}): {len(linked)} linked user(s) sign in there and "
                    "no post-broker flow adds a factor here; name the source that audits it in settings.brokers, "
                    "else their brokered access is unknown",
                    idp.alias,
                )
            )
        via = None if idp.post_broker_flow is not None else SourceName(upstream or f"{idp.alias} (not audited)")
        broker_portals = []
        for c in clients:
            if not c.browser:
                continue
            pid = PortalId(f"{c.client_id}@{idp.alias}")
            broker_portals.append(pid)
            portals.append(
                Portal(
                    source,
                    pid,
                    f"{c.portal.name} via {idp.name}",
                    assignment_required=False,
                    tags=(*c.portal.tags, f"idp:{idp.alias}"),
                    sign_in_via=via,
                )
            )
            access.extend(Access(uid, pid, AccessVia.DIRECT, idp.alias) for uid in linked)
        if idp.post_broker_flow is not None and idp.post_broker_flow in trees:
            brokered: dict[AccountId, flows.Outcome] = {}
            for uid in linked:
                o = outcome_of(idp.post_broker_flow, uid, brokered=True)
                if o is not None:
                    brokered[uid] = o
            out.append(policies.post_broker_policy(idp.alias, idp.post_broker_flow, broker_portals, brokered))
    if walk.unknown_steps:
        run.issues.append(
            SourceIssue(
                codes.STEP_UNKNOWN,
                "executions the auditor does not know, counted as no second factor: "
                + ", ".join(sorted(walk.unknown_steps)),
            )
        )
    if walk.unknown_requirements:
        run.issues.append(
            SourceIssue(
                codes.REQUIREMENT_UNKNOWN,
                "executions with a requirement other than REQUIRED/ALTERNATIVE/CONDITIONAL/DISABLED, "
                "taken as REQUIRED: " + ", ".join(sorted(walk.unknown_requirements)),
            )
        )
    if walk.truncated:
        run.incomplete(codes.FLOW_TOO_COMPLEX, f"a flow has more than {flows.MAX_PATHS} ways through")
    access.sort(key=lambda x: (x.account_id, x.portal_id))
    return portals, access, out


def sign_ins(
    run: Run,
    ctx: CollectContext,
    raws: list[Any],
    policy_list: list[Policy],
    accounts: list[Account],
    clients: list[parse.KeycloakClient],
    realm: Mapping[str, Any] | None = None,
) -> tuple[SignIn, ...]:
    floors = _unconditional_floors(policy_list)
    # A passkey alone is two factors only under a passwordless policy requiring user
    # verification; otherwise its login event does not say that a second factor ran.
    second = parse.SECOND_FACTOR_TYPES
    if not flows.walk_for(realm or {}).passkey_verified:
        second = second - {parse.PASSKEY_CREDENTIAL}
    known = {a.id for a in accounts}
    client_ids = {c.client_id for c in clients}
    lo = datetime.combine(ctx.period_start, datetime.min.time(), UTC)
    hi = datetime.combine(ctx.period_end + timedelta(days=1), datetime.min.time(), UTC)
    out: list[SignIn] = []
    undetermined = 0
    for raw in raws:
        e = parse.parse_event(raw, second)
        if e is None or e.user_id not in known or e.client_id not in client_ids or not lo <= e.time < hi:
            continue
        portal = PortalId(e.client_id if e.identity_provider is None else f"{e.client_id}@{e.identity_provider}")
        factor: SignInFactor | None = SignInFactor.MULTI if e.second_factor else None
        if factor is None and e.identity_provider is None:
            floor = floors(AccountId(e.user_id), portal)
            if floor is not None:
                factor = SignInFactor.SINGLE if floor is Requirement.NONE else SignInFactor.MULTI
        if factor is None:
            undetermined += 1
            continue
        out.append(SignIn(AccountId(e.user_id), portal, e.time, factor, "keycloak"))
    if undetermined:
        run.issues.append(
            SourceIssue(
                codes.SIGN_IN_FACTOR_UNDETERMINED,
                f"{undetermined} login event(s) left out: neither their details nor the flows say "
                "whether a second factor ran",
            )
        )
    return tuple(sorted(out, key=lambda s: (s.time, s.account_id)))


# --- validate ------------------------------------------------------------------------


def _unconditional_floors(policy_list: list[Policy]) -> Callable[[AccountId, PortalId], Requirement | None]:
    """(user, portal) → the requirement every sign-in meets, where the flows say so
    without conditions; None where a conditional rule applies or nothing is known."""
    per_user: dict[tuple[AccountId, PortalId], Requirement] = {}
    everyone: dict[PortalId, Requirement] = {}
    conditional: set[tuple[AccountId | None, PortalId]] = set()
    for p in policy_list:
        if p.vendor_kind != policies.VENDOR_KIND:
            continue
        for r in p.rules:
            for pid in r.portals.ids:
                if r.conditions:
                    conditional.update((u, pid) for u in (r.scope.include_users or (None,)))
                elif r.scope.include_all:
                    everyone[pid] = r.requirement
                else:
                    per_user.update(((u, pid), r.requirement) for u in r.scope.include_users)

    def floor(uid: AccountId, pid: PortalId) -> Requirement | None:
        if (uid, pid) in conditional or (None, pid) in conditional:
            return None
        return per_user.get((uid, pid), everyone.get(pid))

    return floor
