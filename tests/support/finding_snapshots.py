"""Hypothesis snapshots and configs that reach every rule of the catalogue.

Built on ``model_strategies`` (each model type from its type hints) over a small
vocabulary, so that ids collide, principals match the registers and values are hostile
("{x}", markup); then made consistent the way a connector's output is: every record
carries its own source's name, ids are unique per source, access and sign-ins name
accounts and portals of the source, sign-ins fall around the period. What the engine
does with them is free: the tests that use them check what every finding says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from auditor import model
from auditor.config.schema import EmergencyAccessEntry, EvaluationConfig, PortalClass, PortalMatch
from tests.support.model_strategies import model_strategies

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
PERIOD = ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
SENSITIVE_TAG = "sensitive"

# Ids, names and principals alike: few enough to collide, hostile enough to show that a
# value is inserted as it is ("{x}" is not a placeholder once inside a message).
_WORDS = ("a", "b", "c", "g", "p1", "{x}", "<b>y</b>", "a@example.org", "b@example.org", "ghost@example.org")

_SIMPLE: dict[Any, st.SearchStrategy[Any]] = {
    str: st.sampled_from(_WORDS),
    datetime: st.integers(0, 400).map(lambda d: NOW - timedelta(days=d, hours=d % 7)),
    date: st.integers(-200, 200).map(lambda d: NOW.date() + timedelta(days=d)),
    int: st.integers(0, 5),
    bool: st.booleans(),
}
_of = model_strategies(_SIMPLE, max_items=3)


def _unique(items: tuple[Any, ...], key: str) -> tuple[Any, ...]:
    seen: dict[object, Any] = {}
    for item in items:
        seen.setdefault(getattr(item, key), item)
    return tuple(seen.values())


@st.composite
def source_snapshots(draw: st.DrawFn, name: str) -> model.SourceSnapshot:
    """One source: its records consistent with each other, anything else as drawn."""
    snap = draw(_of(model.SourceSnapshot))
    source = model.SourceName(name)
    accounts = _unique(tuple(_person(draw, a, source) for a in snap.accounts), "id")
    portals = _unique(
        tuple(
            replace(
                p,
                source=source,
                tags=(*p.tags, SENSITIVE_TAG) if draw(st.booleans()) else p.tags,
                # Federated to a drawn name is federated to a source not in the snapshot: unknown.
                sign_in_via=p.sign_in_via if draw(st.integers(0, 5)) == 0 else None,
            )
            for p in snap.portals
        ),
        "id",
    )
    access = tuple(model.Access(a.id, p.id) for a in accounts for p in portals if draw(st.integers(0, 3)))
    sign_ins: tuple[model.SignIn, ...] = ()
    if accounts and portals:
        sign_ins = tuple(
            replace(
                s,
                account_id=draw(st.sampled_from([a.id for a in accounts])),
                portal_id=draw(st.sampled_from([p.id for p in portals])),
            )
            for s in snap.sign_ins + tuple(draw(st.lists(_of(model.SignIn), max_size=4)))
        )
    # Mostly complete, with the facts derived from the flags: a drawn source is otherwise
    # nearly always incomplete or missing a fact, and the coverage rules never run.
    complete = draw(st.integers(0, 4)) > 0
    facts = snap.facts if draw(st.integers(0, 3)) == 0 else ()
    issues = snap.issues if not complete or draw(st.integers(0, 3)) == 0 else ()
    method_policy = snap.method_policy if draw(st.integers(0, 3)) == 0 else ()
    policies = snap.policies + tuple(draw(st.lists(_policies(), max_size=2)))
    return replace(
        snap,
        source=source,
        complete=complete,
        facts=facts,
        method_policy=method_policy,
        issues=issues,
        accounts=accounts,
        portals=portals,
        access=access,
        sign_ins=sign_ins,
        policies=_unique(policies, "id"),
    )


def _person(draw: st.DrawFn, account: model.Account, source: model.SourceName) -> model.Account:
    """Mostly an enabled human with active methods, as most accounts are: drawn freely, an
    account is as often a disabled service account with revoked methods, out of scope."""
    usual = draw(st.integers(0, 3)) > 0
    return replace(
        account,
        source=source,
        kind=model.AccountKind.HUMAN if usual else account.kind,
        enabled=usual or account.enabled,
        # Privileged accounts are judged once (MFA-006): as many as drawn, they hide the row rules.
        privileged=account.privileged and draw(st.integers(0, 3)) == 0,
        methods=tuple(replace(m, status=model.MethodStatus.ACTIVE) for m in account.methods)
        if usual
        else account.methods,
    )


@st.composite
def _policies(draw: st.DrawFn) -> model.Policy:
    """A policy like a tenant's: every account but a group's (or some ids), every portal,
    a requirement and the methods it accepts (drawn policies rarely cover anyone)."""
    scope = model.Scope(
        include_all=True,
        exclude_groups=tuple(draw(st.lists(st.sampled_from(_WORDS[:5]), max_size=1))),
        exclude_users=tuple(draw(st.lists(st.sampled_from(_WORDS), max_size=2))),
    )
    rule = model.PolicyRule(
        "r",
        draw(st.sampled_from(_WORDS)),
        scope,
        model.PortalScope(all=True),
        draw(st.sampled_from(list(model.Requirement))),
        tuple(draw(st.lists(_of(model.Condition), max_size=1))),
        tuple(draw(st.lists(st.sampled_from(list(model.MethodKind)), max_size=2, unique=True))),
    )
    state = draw(st.sampled_from(list(model.PolicyState)))
    return model.Policy(model.PolicyId(draw(st.sampled_from(_WORDS))), draw(st.sampled_from(_WORDS)), state, (rule,))


@st.composite
def snapshots(draw: st.DrawFn) -> model.Snapshot:
    names = draw(st.lists(st.sampled_from(["okta", "entra", "{src}"]), min_size=1, max_size=2, unique=True))
    return model.Snapshot(*PERIOD, "d" * 64, tuple(draw(source_snapshots(n)) for n in names))


@st.composite
def configs(draw: st.DrawFn) -> EvaluationConfig:
    sensitivity = draw(st.sampled_from([model.Sensitivity.HIGH, model.Sensitivity.SENSITIVE]))
    emergency = tuple(draw(st.lists(_of(EmergencyAccessEntry), max_size=2)))
    exceptions = tuple(draw(st.lists(_of(model.ExceptionEntry), max_size=2, unique_by=lambda e: e.id)))
    return EvaluationConfig(
        portals=(PortalClass(PortalMatch(tag=SENSITIVE_TAG), sensitivity),),
        emergency_access=emergency,
        exceptions=exceptions,
    )
