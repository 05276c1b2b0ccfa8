"""Properties of the authentication-strength rating over every combination of modes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from auditor.model import Strength
from connectors.entra.policies import (
    FIRST_FACTOR_MODES,
    MULTIFACTOR_MODES,
    SECOND_FACTOR_MODES,
    combination_strength,
    strength_demand,
)

MODES = sorted(set(FIRST_FACTOR_MODES) | set(SECOND_FACTOR_MODES) | set(MULTIFACTOR_MODES))
combos = st.lists(st.sampled_from(MODES), min_size=1, max_size=4, unique=True).map(",".join)


@given(st.lists(st.sampled_from(sorted(set(FIRST_FACTOR_MODES) | set(SECOND_FACTOR_MODES))), min_size=1, max_size=4))
def test_without_a_first_factor_possession_modes_alone_are_one_factor(modes: list[str]) -> None:
    only_second = [m for m in modes if m in SECOND_FACTOR_MODES]
    if only_second:
        assert combination_strength(",".join(only_second)) is Strength.NONE
    only_first = [m for m in modes if m in FIRST_FACTOR_MODES]
    if only_first:
        assert combination_strength(",".join(only_first)) is Strength.NONE


@given(combos, st.sampled_from(sorted(MULTIFACTOR_MODES)))
def test_adding_a_multifactor_mode_never_weakens_a_combination(combo: str, mode: str) -> None:
    before = combination_strength(combo)
    after = combination_strength(f"{combo},{mode}")
    assert before is not None and after is not None
    assert after.rank >= before.rank and after.rank >= MULTIFACTOR_MODES[mode].rank


@given(st.lists(combos, min_size=1, max_size=6))
def test_a_strength_demands_its_weakest_combination(combinations: list[str]) -> None:
    demand, unknown = strength_demand(combinations, "mfa")
    assert unknown == ()
    weakest = min((combination_strength(c) or Strength.NONE for c in combinations), key=lambda s: s.rank)
    assert demand.strength is weakest or (weakest is Strength.NONE and demand.value == "none")
    assert strength_demand(combinations, "none")[0].value == "none"
