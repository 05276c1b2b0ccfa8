"""The flow walk on its own: the executions listing rebuilt as a tree, Keycloak's
REQUIRED / ALTERNATIVE / CONDITIONAL / DISABLED rules, and properties that must hold
for any flow (hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.model import MethodKind, Requirement
from connectors.keycloak import flows
from connectors.keycloak.flows import UserFacts
from connectors.sandbox.keycloak.realm import (
    ALTERNATIVE,
    CONDITIONAL,
    DISABLED,
    REQUIRED,
    Exe,
    RealmBuilder,
    default_flows,
    step,
    sub,
)

NOBODY = UserFacts(frozenset({"password"}), frozenset())
WITH_OTP = UserFacts(frozenset({"password", "otp"}), frozenset())


def executions(steps: tuple[Exe, ...]) -> list[dict[str, Any]]:
    b = RealmBuilder("t")
    b.flow("f", steps)
    rows = b.realm.executions["f"]
    return [
        {**r, "config": b.realm.configs[r["authenticationConfig"]]["config"]} if "authenticationConfig" in r else r
        for r in rows
    ]


def outcome(steps: tuple[Exe, ...], user: UserFacts) -> flows.Outcome:
    return flows.outcome(flows.paths(flows.build(executions(steps)), user, flows.Walk()))


def test_the_default_browser_flow_is_opt_in() -> None:
    browser = default_flows()["browser"]
    assert outcome(browser, NOBODY).floor is Requirement.NONE
    with_otp = outcome(browser, WITH_OTP)
    assert with_otp.floor is Requirement.STRONG and with_otp.kinds == (MethodKind.TOTP_SOFTWARE,)


def test_required_steps_hide_alternatives() -> None:
    # Keycloak ignores ALTERNATIVE executions beside a REQUIRED one.
    steps = (step("auth-username-password-form"), step("auth-otp-form"), step("auth-cookie", ALTERNATIVE))
    assert outcome(steps, NOBODY).floor is Requirement.STRONG


def test_a_conditional_sub_flow_without_conditions_is_skipped() -> None:
    steps = (step("auth-username-password-form"), sub("no condition", CONDITIONAL, step("auth-otp-form")))
    assert outcome(steps, WITH_OTP).floor is Requirement.NONE


def test_sign_in_conditions_give_a_conditional_ceiling() -> None:
    guarded = sub(
        "loa",
        CONDITIONAL,
        step("conditional-level-of-authentication", config={"loa-condition-level": "2"}),
        step("webauthn-authenticator"),
    )
    o = outcome((step("auth-username-password-form"), guarded), NOBODY)
    assert (o.floor, o.ceiling) == (Requirement.NONE, Requirement.PHISHING_RESISTANT)
    assert o.conditions == ("level of authentication 2 requested",)


def test_executions_out_of_order_are_refused() -> None:
    with pytest.raises(flows.FlowError, match="level 2"):
        flows.build([{"providerId": "auth-otp-form", "requirement": REQUIRED, "level": 2}])


def test_the_weaker_way_in_wins() -> None:
    strong = flows.Outcome(Requirement.STRONG, (MethodKind.TOTP_SOFTWARE,), Requirement.STRONG)
    none = flows.Outcome(Requirement.NONE, (), Requirement.NONE)
    assert flows.weakest(strong, none) == none
    assert flows.weakest(strong, strong) == strong


PROVIDERS = [
    "auth-username-password-form",
    "auth-otp-form",
    "webauthn-authenticator",
    "webauthn-authenticator-passwordless",
    "auth-cookie",
    "identity-provider-redirector",
    "some-plugin",
    "deny-access-authenticator",
]
CONDITIONS = ["conditional-user-configured", "conditional-user-role", "conditional-client-scope"]
REQS = [REQUIRED, ALTERNATIVE, DISABLED, CONDITIONAL]


def _leaf() -> st.SearchStrategy[Exe]:
    return st.builds(lambda p, r: step(p, r), st.sampled_from(PROVIDERS), st.sampled_from(REQS[:3]))


trees = st.recursive(
    _leaf(),
    lambda inner: st.builds(
        lambda req, cond, kids: sub(
            "s", req, *((step(cond, config={"condUserRole": "r"}),) if req == CONDITIONAL else ()), *kids
        ),
        st.sampled_from(REQS),
        st.sampled_from(CONDITIONS),
        st.lists(inner, min_size=1, max_size=3),
    ),
    max_leaves=8,
)
users = st.builds(
    UserFacts,
    st.frozensets(st.sampled_from(["password", "otp", "webauthn", "webauthn-passwordless"])),
    st.frozensets(st.just("r")),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(trees, min_size=1, max_size=4).map(tuple), users)
def test_any_flow_walks_to_an_outcome(steps: tuple[Exe, ...], user: UserFacts) -> None:
    walk = flows.Walk()
    tree = flows.build(executions(steps))
    found = flows.paths(tree, user, walk)
    o = flows.outcome(found)
    assert o.ceiling.rank >= o.floor.rank
    # Never stronger than the strongest second factor the flow names.
    names = repr(steps)
    if o.floor is not Requirement.BLOCK and not any(p in names for p in PROVIDERS[1:4]):
        assert o.floor is Requirement.NONE
    # An unknown step is never a factor.
    assert all(
        flows.Path(frozenset({f})).requirement is Requirement.NONE
        for p in found
        for f in p.factors
        if f.startswith("unknown:")
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(trees, min_size=1, max_size=4).map(tuple), users)
def test_a_disabled_step_changes_nothing(steps: tuple[Exe, ...], user: UserFacts) -> None:
    before = outcome(steps, user)
    after = outcome((*steps, step("auth-otp-form", DISABLED)), user)
    assert before == after
