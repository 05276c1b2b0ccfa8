from __future__ import annotations

import json

import pytest
from rich.console import Console

from auditor.config.schema import IdentityLink
from auditor.interfaces import AuditorError
from auditor.model import CoverageStatus
from auditor.queries import check, check_output
from auditor.store.database import EvidenceStore, StoredRun
from connectors.sandbox.sample_org import SampleOrg
from tests.support import store as sup


@pytest.fixture(scope="module")
def org() -> SampleOrg:
    return sup.base_org(seed=11, accounts=300)


@pytest.fixture(scope="module")
def run(org: SampleOrg, tmp_path_factory: pytest.TempPathFactory) -> StoredRun:
    """A run of the real engine, through the store (answers come from stored runs)."""
    snapshot = sup.snapshot_of(org)
    store = EvidenceStore(tmp_path_factory.mktemp("check") / "ev.sqlite3")
    store.save_run(sup.real_evaluate(snapshot, "run-1", org.now), snapshot, "d" * 64, "config")
    return store.load_run("run-1")


def test_account_answer_lists_access_methods_policies_and_why(org: SampleOrg, run: StoredRun) -> None:
    unenrolled = sup.sensitive_unenrolled(org, "entra")
    target = next(a for a in org.sources["entra"].accounts if a.id in unenrolled and not a.privileged)
    answer = check.check_account(run, "  " + target.principal.upper() + " ")
    assert [(a.source, a.id) for a in answer.accounts] == [("entra", target.id)]
    assert answer.accounts[0].methods == tuple(
        check.MethodView(m.kind.value, m.vendor_label, m.status.value, m.strength) for m in target.methods
    )
    expected_access = {x.portal_id for x in org.sources["entra"].access if x.account_id == target.id}
    assert {x.portal_id for x in answer.access} == expected_access
    rows = {c.portal_id: c for c in run.result.coverage if c.source == "entra" and c.account_id == target.id}
    for x in answer.access:
        assert x.coverage is not None
        assert (x.coverage.status, x.coverage.reason) == (rows[x.portal_id].status, rows[x.portal_id].reason)
        assert [p.id for p in x.coverage.policies] == list(rows[x.portal_id].policies)
    # Policy names come from the snapshot.
    names = {p.id: p.name for p in org.sources["entra"].policies}
    assert all(p.name == names[p.id] for x in answer.access for p in x.coverage.policies)  # type: ignore[union-attr]
    assert answer.protected is False
    # Unprotected accesses come first.
    flags = [x.coverage.status.is_protected for x in answer.access]  # type: ignore[union-attr]
    assert flags == sorted(flags)
    assert {f.account_id for f in answer.findings} == {target.id}
    assert {f.rule_id for f in answer.findings} >= {"MFA-001"}
    assert [f.rule_id for f in answer.findings] == [
        f.rule_id for f in sorted(answer.findings, key=lambda f: (-f.severity.rank, f.rule_id, f.source, f.portal_id))
    ]


def test_same_person_across_sources(org: SampleOrg, run: StoredRun) -> None:
    okta = {a.principal: a for a in org.sources["okta"].accounts}
    person = next(a for a in org.sources["entra"].accounts if a.principal in okta)
    answer = check.check_account(run, person.principal)
    assert {(a.source, a.id) for a in answer.accounts} == {("entra", person.id), ("okta", okta[person.principal].id)}
    # Asking by one account's id brings the other source's account too.
    by_id = check.check_account(run, person.id)
    assert by_id.accounts == answer.accounts
    # Federated: partner billing is judged in okta.
    billing = [x for x in answer.access if x.portal_id == "app-partner-billing"]
    assert billing and billing[0].coverage is not None and billing[0].coverage.enforcement_source == "okta"


def test_identity_links_from_the_config(org: SampleOrg, run: StoredRun) -> None:
    a = org.sources["entra"].accounts[10]
    b = org.sources["google"].accounts[3]
    assert check.check_account(run, a.principal).accounts[0].id == a.id
    answer = check.check_account(run, a.principal, links=(IdentityLink(a.principal, b.principal),))
    assert {(x.source, x.id) for x in answer.accounts} == {("entra", a.id), ("google", b.id)}


def test_not_evaluated_account_says_why(org: SampleOrg, run: StoredRun) -> None:
    disabled = next(a for a in org.sources["entra"].accounts if not a.enabled)
    answer = check.check_account(run, disabled.principal)
    view = answer.accounts[0]
    assert not view.evaluated and view.note.startswith("disabled")
    assert all(x.coverage is None for x in answer.access)
    assert answer.protected is None


def test_unknown_account_suggests_close_matches(org: SampleOrg, run: StoredRun) -> None:
    principal = org.sources["entra"].accounts[20].principal
    typo = principal.replace("@", "x@", 1)
    with pytest.raises(check.AccountNotFound) as err:
        check.check_account(run, typo)
    assert isinstance(err.value, AuditorError)
    assert principal in err.value.suggestions
    assert typo in str(err.value) and principal in str(err.value)
    with pytest.raises(check.AccountNotFound) as err:
        check.check_account(run, "zzzzzzzz")
    assert err.value.suggestions == ()


@pytest.mark.parametrize("query", ["Claims processing (tiers payant)", "app-claims", "ENTRA/APP-CLAIMS", "claims proc"])
def test_portal_found_by_name_id_or_part(run: StoredRun, query: str) -> None:
    answer = check.check_portal(run, query)
    assert (answer.source, answer.id) == ("entra", "app-claims")


def test_portal_answer(org: SampleOrg, run: StoredRun) -> None:
    answer = check.check_portal(run, "app-claims")
    rows = [c for c in run.result.coverage if c.portal_source == "entra" and c.portal_id == "app-claims"]
    assert len(answer.accounts) == len(rows)
    assert sum(answer.status_counts.values()) == len(rows)
    assert answer.sensitivity is not None and answer.sensitivity.value == "high"
    assert answer.protected_ratio == sum(c.status.is_protected for c in rows) / len(rows)
    principals = {a.id: a.principal for a in org.sources["entra"].accounts}
    assert {(a.account_id, a.principal) for a in answer.accounts} == {
        (c.account_id, principals[c.account_id]) for c in rows
    }
    flags = [a.coverage.status.is_protected for a in answer.accounts]
    assert flags == sorted(flags)
    # The rules: every entra rule whose portal scope covers app-claims, and no other.
    expected = {
        (p.id, r.name)
        for p in org.sources["entra"].policies
        for r in p.rules
        if (r.portals.all or "app-claims" in r.portals.ids) and "app-claims" not in r.portals.excluded_ids
    }
    assert {(r.policy_id, r.rule_name) for r in answer.rules} == expected
    assert any(r.state == "report_only" for r in answer.rules)  # the claims pilot
    assert {f.portal_id for f in answer.findings} <= {"app-claims"}
    assert len(answer.findings) == sum(
        1 for f in run.result.findings if f.source == "entra" and f.portal_id == "app-claims"
    )


def test_federated_portal_lists_upstream_rules(org: SampleOrg, run: StoredRun) -> None:
    answer = check.check_portal(run, "entra/app-partner-billing")
    assert answer.enforcement_sources == ("okta",)
    # The okta app of the same name is the upstream portal: its rules and those covering every portal apply.
    upstream = next(p.id for p in org.sources["okta"].portals if p.name == "Partner billing")
    expected = {
        (p.id, r.name)
        for p in org.sources["okta"].policies
        for r in p.rules
        if r.portals.all or upstream in r.portals.ids
    }
    assert ("rst-partners", "Partners: 2FA") in expected
    assert {(r.policy_id, r.rule_name) for r in answer.rules} == expected
    assert {r.source for r in answer.rules} == {"okta"}


def test_ambiguous_and_unknown_portals(run: StoredRun) -> None:
    # "Partner billing" is the exact name of the entra app and of the okta app it signs in through.
    with pytest.raises(check.AmbiguousPortal):
        check.check_portal(run, "partner billing")
    assert check.check_portal(run, "okta/0oa-partner-billing").source == "okta"
    with pytest.raises(check.AmbiguousPortal) as amb:
        check.check_portal(run, "billing")
    assert "entra/app-partner-billing" in str(amb.value) and "okta/0oa-partner-billing" in str(amb.value)
    with pytest.raises(check.PortalNotFound) as err:
        check.check_portal(run, "Clams processing")
    assert isinstance(err.value, AuditorError)
    assert "Claims processing (tiers payant)" in err.value.suggestions


def test_json_and_terminal_output(org: SampleOrg, run: StoredRun) -> None:
    principal = org.sources["entra"].accounts[5].principal
    a = check.check_account(run, principal)
    p = check.check_portal(run, "app-claims")
    a_data = json.loads(json.dumps(check_output.account_to_data(a)))
    p_data = json.loads(json.dumps(check_output.portal_to_data(p)))
    assert a_data["accounts"][0]["principal"] == principal
    assert a_data["run"]["run_id"] == "run-1"
    assert p_data["portal"]["id"] == "app-claims"
    assert sum(p_data["status_counts"].values()) == len(p.accounts)
    statuses = {x["coverage"]["status"] for x in p_data["accounts"]}
    assert statuses <= {s.value for s in CoverageStatus}

    console = Console(record=True, width=250)
    check_output.print_account(a, console)
    check_output.print_portal(p, console, limit=3)
    text = console.export_text()
    assert f"and {len(p.accounts) - 3} more (--limit, or --json for all)" in text
    assert principal in text
    assert a.access[0].coverage is not None and a.access[0].coverage.reason[:40] in text
    assert "Policy rules covering this portal" in text


def test_terminal_output_is_not_markup(run: StoredRun) -> None:
    answer = check.check_account(run, run.snapshot.sources[0].accounts[5].principal)
    answer = check.AccountAnswer("[bold]x[/bold]", answer.run, answer.accounts, answer.access, answer.findings)
    console = Console(record=True, width=250)
    check_output.print_account(answer, console)
    assert "[bold]x[/bold]" in console.export_text()
