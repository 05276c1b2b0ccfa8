"""Properties of the AUTH_METHOD_CHAIN judgement over generated chains."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from auditor.model import Requirement
from connectors.okta import assurance

KNOWLEDGE = [m for m, (t, _) in assurance.STEP_METHODS.items() if t == frozenset({assurance.KNOWLEDGE})]
ANY = sorted(assurance.STEP_METHODS)


def chains(methods: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    step = st.lists(st.sampled_from(methods), min_size=1, max_size=2).map(
        lambda ms: {"authenticationMethods": [{"key": m, "method": m} for m in ms]}
    )
    return st.recursive(
        step,
        lambda inner: st.tuples(step, st.lists(inner, min_size=1, max_size=2)).map(lambda t: {**t[0], "next": t[1]}),
        max_leaves=4,
    )


def judge(chain_list: list[dict[str, Any]]) -> Requirement:
    return assurance.judge_chain({"type": "AUTH_METHOD_CHAIN", "chains": chain_list}).requirement


@given(st.lists(chains(KNOWLEDGE), min_size=1, max_size=3))
def test_knowledge_only_chains_are_never_mfa(chain_list: list[dict[str, Any]]) -> None:
    assert judge(chain_list) is Requirement.NONE


@given(st.lists(chains(ANY), min_size=1, max_size=3), chains(ANY))
def test_adding_a_branch_never_strengthens(chain_list: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    assert judge([*chain_list, extra]).rank <= judge(chain_list).rank
