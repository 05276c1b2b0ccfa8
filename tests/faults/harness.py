"""One harness over the three vendor sandboxes, so a fault is written once and run
against each real connector: start a sandbox with a fault, collect through the
connector, and judge the outcome against the generator's truth.

The projections are the ones each connector's own tests document (see
tests/connectors/*/conftest.py and test_collect.py): the fields a vendor cannot
express are left out, nothing else."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from auditor.interfaces import CollectContext, ConnectorError
from auditor.model import Account, MethodStatus, Policy, SourceSnapshot
from connectors.entra import EntraConnector
from connectors.google_workspace import GoogleWorkspaceConnector
from connectors.okta import OktaConnector
from connectors.sandbox import google as google_sandbox
from connectors.sandbox import graph as graph_sandbox
from connectors.sandbox import okta as okta_sandbox
from connectors.sandbox.sample_org import SampleOrg, generate

# 97 Entra, 25 Google and 28 Okta accounts: several pages each at the page sizes below.
ORG: SampleOrg = generate(seed=7, accounts=150)
VENDORS = ("entra", "google", "okta")
PAGE = {"entra": 10, "google": 5, "okta": 5}
USERS_PATH = {"entra": "/v1.0/users", "google": "/admin/directory/v1/users", "okta": "/api/v1/users"}


def context(source: str, *, sign_ins: bool = False) -> CollectContext:
    return CollectContext(source, ORG.now, ORG.period_start, ORG.period_end, collect_sign_ins=sign_ins)


@contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """The sandbox's throwaway credentials in the environment for the duration only."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _NoSleep:
    """Google's connector takes an injected sleep: retries cost nothing here."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def start(vendor: str, org: SampleOrg = ORG, **faults: Any) -> Any:
    if vendor == "entra":
        return graph_sandbox.start(org, max_page_size=PAGE["entra"], report_page_size=PAGE["entra"], **faults)
    if vendor == "google":
        return google_sandbox.start(org, page_size=PAGE["google"], retry_after=0, **faults)
    return okta_sandbox.start(org, page_size=PAGE["okta"], **faults)


def connector(vendor: str, sandbox: Any, **overrides: Any) -> Any:
    settings = {**sandbox.settings(), **overrides}
    if vendor == "entra":
        fast = {"retry_jitter": 0.0, "backoff_base": 0.01, "page_size": PAGE["entra"], "timeout": 1.0}
        return EntraConnector("entra", {**fast, **settings}, Path("."))
    if vendor == "google":
        return GoogleWorkspaceConnector("google", {"timeout_seconds": 0.3, **settings}, Path("."), sleep=_NoSleep())
    fast = {"page_size": PAGE["okta"], "request_timeout_seconds": 1}
    return OktaConnector("okta", {**fast, **settings}, Path("."), retry_delay=0.01)


def collect(vendor: str, sandbox: Any, *, sign_ins: bool = False, **overrides: Any) -> SourceSnapshot:
    with environ(sandbox.environ()):
        snap: SourceSnapshot = connector(vendor, sandbox, **overrides).collect(context(vendor, sign_ins=sign_ins))
    return snap


# --- projections (as each connector's own tests document them) ------------------------------


def _entra_groups(snap: SourceSnapshot) -> frozenset[str]:
    out: set[str] = {a.via_ref for a in snap.access if a.via_ref}
    for p in snap.policies:
        for r in p.rules:
            out.update(r.scope.include_groups, r.scope.exclude_groups)
    return frozenset(out)


def _entra_account(a: Account, groups: frozenset[str]) -> Account:
    methods = tuple(replace(m, registered_at=None) for m in a.methods if m.status is MethodStatus.ACTIVE)
    return replace(a, methods=methods, groups=tuple(g for g in a.groups if g in groups))


def _entra_policy(p: Policy) -> Policy:
    return replace(p, rules=tuple(replace(r, name=p.name) for r in p.rules))


def _okta_policy(p: Policy) -> Policy:
    rules = tuple(replace(r, portals=replace(r.portals, ids=tuple(sorted(r.portals.ids)))) for r in p.rules)
    return replace(p, rules=rules)


def projection(vendor: str, snap: SourceSnapshot) -> dict[str, Any]:
    if vendor == "entra":
        groups = _entra_groups(ORG.truth("entra"))
        return {
            "accounts": {a.id: _entra_account(a, groups) for a in snap.accounts},
            "portals": {p.id: p for p in snap.portals},
            "access": frozenset(snap.access),
            "policies": tuple(_entra_policy(p) for p in snap.policies),
        }
    if vendor == "google":
        return {"accounts": snap.accounts, "portals": snap.portals, "access": snap.access, "policies": snap.policies}
    return {
        "accounts": sorted(snap.accounts, key=lambda a: a.id),
        "portals": [replace(p, tags=()) for p in snap.portals],
        "access": sorted(set(snap.access), key=lambda x: (x.account_id, x.portal_id, x.via, x.via_ref or "")),
        "policies": [_okta_policy(p) for p in snap.policies],
    }


# --- the verdict --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a faulty run came to: ``complete`` (exactly the truth), ``incomplete`` (a
    partial snapshot marked so, with the reason) or ``unavailable`` (the connector said
    the source cannot be read at all: the pipeline records it as an empty, incomplete
    source with that reason)."""

    kind: str
    reason: str = ""


def judge(vendor: str, run: Callable[[], SourceSnapshot], org: SampleOrg = ORG) -> Outcome:
    """Run a collection and classify it against ``org``'s truth; anything but the three
    honest outcomes fails."""
    try:
        snap = run()
    except ConnectorError as exc:
        reason = str(exc)
        assert reason.strip(), f"{type(exc).__name__} without a reason"
        return Outcome("unavailable", reason)
    ids = [a.id for a in snap.accounts]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"duplicate accounts {duplicates[:5]}"
    assert len(set(snap.access)) == len(snap.access), "duplicate access rows"
    truth = org.truth(vendor)
    if snap.complete:
        assert not any(i.incomplete for i in snap.issues), snap.issues
        assert projection(vendor, snap) == projection(vendor, truth), "complete, but not the truth"
        return Outcome("complete")
    reasons = [i for i in snap.issues if i.incomplete]
    assert reasons, "complete=False without an incomplete issue saying why"
    assert all(i.message.strip() for i in reasons)
    # A partial read may only leave things out: nothing it holds is invented or altered.
    truth_ids = {a.id for a in truth.accounts}
    assert set(ids) <= truth_ids, "accounts that are not in the truth"
    return Outcome("incomplete", "; ".join(f"{i.code}: {i.message}" for i in reasons))
