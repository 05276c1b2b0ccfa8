"""Writing the sample organisation's truth to export files and reading it back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.interfaces import CollectContext
from auditor.model import Account, Fact, MethodStatus, SourceSnapshot
from connectors.file import FileConnector
from connectors.file.export import write_csv, write_json
from connectors.sandbox.sample_org import SampleOrg

Ctx = Callable[..., CollectContext]


@pytest.mark.parametrize("source", ["entra", "google", "okta"])
def test_json_round_trip_keeps_everything(org: SampleOrg, make_ctx: Ctx, tmp_path: Path, source: str) -> None:
    truth = org.truth(source)
    write_json(truth, tmp_path / "export.json")
    snap = FileConnector("from-file", {"path": "export.json"}, tmp_path).collect(
        make_ctx("from-file", collect_sign_ins=truth.sign_ins_collected)
    )
    # The names are the config's; everything else, policies and sign-ins included, is the truth.
    assert snap.source == "from-file" and snap.connector == "file"
    assert {a.source for a in snap.accounts} == {"from-file"} and {p.source for p in snap.portals} == {"from-file"}
    renamed = replace(snap, source=truth.source, connector=truth.connector)
    renamed = replace(
        renamed,
        accounts=tuple(replace(a, source=truth.source) for a in snap.accounts),
        portals=tuple(replace(p, source=truth.source) for p in snap.portals),
    )
    # The truth states no facts; the file connector states what the document holds.
    assert replace(renamed, facts=()) == truth
    assert {f.fact for f in snap.facts} == set(Fact)
    methods_policy = next(f for f in snap.facts if f.fact is Fact.METHODS_POLICY)
    assert methods_policy.read is bool(truth.method_policy)


def test_json_sign_ins_only_when_asked(org: SampleOrg, make_ctx: Ctx, tmp_path: Path) -> None:
    truth = org.truth("okta")
    assert truth.sign_ins and truth.sign_ins_collected
    write_json(truth, tmp_path / "okta.json")
    connector = FileConnector("okta", {"path": "okta.json"}, tmp_path)
    with_log = connector.collect(make_ctx("okta", collect_sign_ins=True))
    assert with_log.sign_ins == truth.sign_ins and with_log.issues == ()
    without = connector.collect(make_ctx("okta"))
    assert without.sign_ins == () and not without.sign_ins_collected


def _projection(account: Account) -> tuple[object, ...]:
    """What the CSV layout carries of an account (no vendor labels, registration dates
    or attributes other than the department)."""
    return (
        account.id,
        account.principal,
        account.display_name,
        account.kind,
        account.enabled,
        account.privileged,
        account.roles,
        account.groups,
        account.last_sign_in,
        account.created,
        tuple((m.kind, m.status) for m in account.methods),
        account.attributes.get("department"),
    )


@pytest.mark.parametrize("source", ["entra", "google", "okta"])
def test_csv_round_trip_keeps_accounts_methods_and_access(
    org: SampleOrg, make_ctx: Ctx, tmp_path: Path, source: str
) -> None:
    truth = org.truth(source)
    write_csv(truth, tmp_path / "export.csv")
    names = {p.id: p.name for p in truth.portals}
    snap = FileConnector(source, {"path": "export.csv", "portals": names}, tmp_path).collect(make_ctx(source))
    assert snap.complete and snap.connector == "file"
    assert [_projection(a) for a in snap.accounts] == [_projection(a) for a in truth.accounts]
    assert {(x.account_id, x.portal_id) for x in snap.access} == {(x.account_id, x.portal_id) for x in truth.access}
    assert {(p.id, p.name) for p in snap.portals} == {(p.id, p.name) for p in truth.portals}
    pending = [(a.id, m.kind) for a in truth.accounts for m in a.methods if m.status is MethodStatus.PENDING]
    assert pending == [(a.id, m.kind) for a in snap.accounts for m in a.methods if m.status is MethodStatus.PENDING]
    # Each account sits in exactly one enforcement policy.
    members = [u for p in snap.policies for r in p.rules for u in r.scope.include_users]
    assert sorted(members) == sorted(a.id for a in truth.accounts)
    assert snap.raw_digests[0].records == len(truth.accounts)


def test_csv_enforcement_reflects_the_policies(org: SampleOrg, make_ctx: Ctx, tmp_path: Path) -> None:
    truth: SourceSnapshot = org.truth("entra")
    write_csv(truth, tmp_path / "entra.csv")
    snap = FileConnector("entra", {"path": "entra.csv"}, tmp_path).collect(make_ctx("entra"))
    level = {u: r.requirement for p in snap.policies for r in p.rules for u in r.scope.include_users}
    by_id = {a.id: a for a in truth.accounts}
    # Break-glass accounts are excluded from every policy: nothing enforced.
    breakglass = [a.id for a in truth.accounts if "g-breakglass" in a.groups]
    assert breakglass and {level[a] for a in breakglass} == {"none"}
    # Plain staff without exemptions get CA001's MFA; admins CA002's phishing-resistant.
    staff = next(
        a.id for a in truth.accounts
        if a.kind == "human" and not a.roles and not set(a.groups) & {"g-mfa-exempt", "g-field", "g-breakglass"}
    )  # fmt: skip
    assert level[staff] == "mfa"
    admin = next(a.id for a in truth.accounts if a.roles and "g-breakglass" not in by_id[a.id].groups)
    assert level[admin] == "phishing_resistant"
    # Field advisers get MFA only outside the trusted network: conditional, so never stated.
    field = next(a.id for a in truth.accounts if "g-field" in a.groups)
    assert level[field] == "none"


def test_csv_without_portal_names_uses_the_ids(org: SampleOrg, make_ctx: Ctx, tmp_path: Path) -> None:
    write_csv(org.truth("okta"), tmp_path / "okta.csv")
    snap = FileConnector("okta", {"path": "okta.csv"}, tmp_path).collect(make_ctx("okta", collect_sign_ins=True))
    assert {p.id for p in snap.portals} == {p.id for p in org.truth("okta").portals}
    assert all(p.name == p.id for p in snap.portals)
    # A CSV holds no sign-in log: said, not hidden, and the source stays complete.
    assert snap.complete and [i.code for i in snap.issues] == ["file.no_sign_ins"]
