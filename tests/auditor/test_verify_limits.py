"""Bounded work on hostile evidence: the policy walk is memoised per policy and reduced
signature, YAML aliases cannot expand without bound, settings reached through aliases
are converted once, the evaluation-relevant config digest ignores presentation."""

from __future__ import annotations

import functools
import importlib.util
import random
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import auditor.engine.coverage as coverage
from auditor.config.digest import differing_keys, evaluation_digest
from auditor.config.load import ConfigError, parse_config
from auditor.model import Condition, ConditionKind, GroupId, Requirement, Scope

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)


@functools.cache
def _coverage_helpers() -> ModuleType:
    # The engine tests' builders (account, rule, policy…), loaded once by path.
    spec = importlib.util.spec_from_file_location("coverage_helpers", Path(__file__).parent / "test_coverage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["coverage_helpers"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _crafted(n_accounts: int, n_policies: int, seed: int = 1) -> tuple[object, object]:
    """Many distinct group signatures × policies of conditional rules: the shape that
    made the walk quadratic (issue 16)."""
    h = _coverage_helpers()
    rng = random.Random(seed)
    groups = [f"g{i}" for i in range(2 * n_policies)]
    condition = (Condition(ConditionKind.NETWORK, "outside the office"),)
    policies = tuple(
        h.policy(
            f"p{i}",
            h.rule(
                Requirement.STRONG,
                scope=Scope(include_groups=(GroupId(groups[2 * i]),)),
                conditions=condition,
                rid=f"r{i}a",
            ),
            h.rule(Requirement.MFA, scope=Scope(include_groups=(GroupId(groups[2 * i + 1]),)), rid=f"r{i}b"),
        )
        for i in range(n_policies)
    )
    accounts = tuple(
        h.account(f"u{n}", groups=tuple(rng.sample(groups, k=min(12, len(groups))))) for n in range(n_accounts)
    )
    snap = h.snapshot(h.source(accounts, policies, portals=("a", "b", "c", "d")))
    return snap, h.config()


def test_the_policy_walk_is_memoised_per_policy_and_reduced_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    original = coverage._first_match

    def counting(*args: object) -> object:
        nonlocal calls
        calls += 1
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(coverage, "_first_match", counting)
    snap, cfg = _crafted(n_accounts=600, n_policies=40)
    h = _coverage_helpers()
    result = h.run(snap, cfg)
    assert len(result.coverage) == 600 * 4
    # Each policy names two groups and no portal: at most 4 reduced signatures per policy,
    # where the unmemoised walk did one per (signature, portal, policy): 600 × 4 × 40.
    assert calls <= 40 * 4


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_policies=st.integers(1, 6))
def test_the_memoised_walk_gives_the_outcomes_of_unshared_walks(seed: int, n_policies: int) -> None:
    snap, _ = _crafted(n_accounts=30, n_policies=n_policies, seed=seed)
    source = snap.sources[0]  # type: ignore[attr-defined]
    shared = coverage.PolicyIndex(source.policies)
    for account in source.accounts:
        alone = coverage.PolicyIndex(source.policies)  # nothing memoised from other accounts
        for portal in (*(p.id for p in source.portals), None):
            assert shared.outcome(shared.signature(account), portal) == alone.outcome(alone.signature(account), portal)


# --- YAML -----------------------------------------------------------------------------------


def _bomb(levels: int) -> str:
    lines = ["b0: &b0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines)


def test_a_yaml_alias_bomb_is_refused_at_once() -> None:
    text = (
        "organisation: {name: X}\n"
        "x: {\n" + "\n".join("  " + line + "," for line in _bomb(9).splitlines()) + "\n}\n"
        "sources: [{name: s, type: file, settings: {path: a.csv, big: *b8}}]\n"
    )
    with pytest.raises(ConfigError, match="alias"):
        parse_config(text, Path("bomb.yaml"), now=NOW)


def test_settings_shared_through_aliases_are_converted_once_and_stay_equal() -> None:
    text = (
        "organisation: {name: X}\n"
        "sources:\n"
        "- {name: a, type: file, settings: &common {path: a.csv, extra: {token: {env: A_TOKEN}}}}\n"
        "- {name: b, type: file, settings: *common}\n"
    )
    config = parse_config(text, Path("alias.yaml"), now=NOW)
    first, second = (s.settings for s in config.sources)
    assert first == second
    assert first["extra"]["token"].env == "A_TOKEN"


# --- the evaluation-relevant digest ---------------------------------------------------------------

BASE = """\
organisation: {name: Mutuelle Exemple}
period: 2026-Q4
sources: [{name: a, type: file, settings: {path: a.csv}}]
policy: {dormant_after_days: 90}
report: {language: en, title: Audit}
"""


def test_presentation_and_connection_keys_do_not_change_the_digest() -> None:
    other = (
        BASE.replace("language: en", "language: fr")
        .replace("title: Audit", "title: Contrôle")
        .replace("path: a.csv", "path: elsewhere.csv")
        + "store: {path: other.sqlite3}\n"
    )
    assert evaluation_digest(BASE, Path("a.yaml")) == evaluation_digest(other, Path("b.yaml"))


def test_evaluation_keys_change_the_digest_and_are_named() -> None:
    import yaml

    changed = BASE.replace("dormant_after_days: 90", "dormant_after_days: 30")
    assert evaluation_digest(BASE, Path("a.yaml")) != evaluation_digest(changed, Path("b.yaml"))
    assert differing_keys(yaml.safe_load(BASE), yaml.safe_load(changed)) == ["policy.dormant_after_days"]
    added = BASE + "exceptions: []\n"
    assert differing_keys(yaml.safe_load(BASE), yaml.safe_load(added)) == ["exceptions"]
