"""Shared fixtures for the Entra connector tests: a small sample organisation, the
Graph sandbox (real HTTPS on 127.0.0.1, real msal), and the documented projection
under which a collection equals the generator's truth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import CollectContext
from auditor.model import Account, MethodStatus, Policy, SourceSnapshot
from connectors.entra import EntraConnector
from connectors.sandbox.graph import GraphSandbox, start
from connectors.sandbox.sample_org import SampleOrg, generate

# Seed 13 at 150 accounts gives 97 Entra accounts with guests, service accounts and one
# PIM-eligible admin (asserted below), so every path of the connector is exercised.
SEED, ACCOUNTS = 13, 150

# Settings that keep retries fast: no jitter, tiny backoff.
FAST = {"retry_jitter": 0.0, "backoff_base": 0.01}


@pytest.fixture(scope="session")
def org() -> SampleOrg:
    o = generate(seed=SEED, accounts=ACCOUNTS)
    assert o.eligible_roles["entra"], "the test org must contain a PIM-eligible admin"
    return o


@pytest.fixture
def sandbox(org: SampleOrg, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., GraphSandbox]]:
    """``sandbox(**faults)`` starts a Graph sandbox for ``org`` with its secret in the env."""
    started: list[GraphSandbox] = []

    def make(org_: SampleOrg | None = None, **faults: Any) -> GraphSandbox:
        sb = start(org_ or org, **faults)
        started.append(sb)
        for k, v in sb.environ().items():
            monkeypatch.setenv(k, v)
        return sb

    yield make
    for sb in started:
        sb.close()


def context(org: SampleOrg, *, sign_ins: bool = False) -> CollectContext:
    return CollectContext(
        source="entra", now=org.now, period_start=org.period_start, period_end=org.period_end, collect_sign_ins=sign_ins
    )


@pytest.fixture
def collect(org: SampleOrg) -> Callable[..., SourceSnapshot]:
    """``collect(sandbox, sign_ins=False, **setting_overrides)``: one real collection."""

    def run(
        sb: GraphSandbox, *, sign_ins: bool = False, credential: str = "secret", **overrides: Any
    ) -> SourceSnapshot:
        settings = {**sb.settings(credential=credential), **FAST, **overrides}
        return EntraConnector("entra", settings, Path(".")).collect(context(sb.org, sign_ins=sign_ins))

    return run


# --- the projection ------------------------------------------------------------------------
#
# Where Entra cannot express the truth, collection and truth are compared on this projection:
# - methods: active ones, as (kind, vendor label). Entra has no "pending" enrolment (the
#   sandbox does not serve pending ones) and the registration report gives no dates.
# - groups: only the groups that app assignments, role assignments or policies name (the
#   connector resolves those, not every group of the tenant).
# - policy rules: the rule's name is the policy's display name (a CA policy has one rule).
# - collected_at, issues, digests, expected counts: facts of the run, not of the tenant.


def named_groups(snap: SourceSnapshot) -> frozenset[str]:
    out: set[str] = {a.via_ref for a in snap.access if a.via_ref}
    for p in snap.policies:
        for r in p.rules:
            out.update(r.scope.include_groups, r.scope.exclude_groups)
    return frozenset(out)


def project_account(a: Account, groups: frozenset[str]) -> Account:
    methods = tuple(replace(m, registered_at=None) for m in a.methods if m.status is MethodStatus.ACTIVE)
    return replace(a, methods=methods, groups=tuple(g for g in a.groups if g in groups))


def project_policy(p: Policy) -> Policy:
    # The accepted methods as a set: their order is the strength's, not a fact.
    return replace(
        p,
        rules=tuple(replace(r, name=p.name, accepted_methods=tuple(sorted(r.accepted_methods))) for r in p.rules),
    )


def projection(snap: SourceSnapshot, groups: frozenset[str]) -> dict[str, Any]:
    return {
        "source": snap.source,
        "connector": snap.connector,
        "accounts": {a.id: project_account(a, groups) for a in snap.accounts},
        "portals": {p.id: p for p in snap.portals},
        "access": frozenset(snap.access),
        "policies": tuple(project_policy(p) for p in snap.policies),
        "sign_ins": snap.sign_ins,
        "legacy_auth_blocked": snap.legacy_auth_blocked,
        "method_policy": frozenset(snap.method_policy),
    }


@pytest.fixture
def project() -> Callable[[SourceSnapshot, frozenset[str]], dict[str, Any]]:
    return projection


@pytest.fixture
def groups_of() -> Callable[[SourceSnapshot], frozenset[str]]:
    return named_groups


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path
