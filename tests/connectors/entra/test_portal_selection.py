"""``settings.portals``: which service principals become portals. Against the Graph
sandbox (real msal, HTTPS over loopback): each criterion selects the right portals,
sends Graph the ``$filter`` it documents, saves assignment calls, keeps the coverage
of the portals that remain, and leaves a record an auditor can read."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from auditor.engine.coverage import PolicyIndex
from auditor.interfaces import SettingsError
from auditor.model import PortalId, SourceSnapshot
from connectors.entra import EntraConnector
from connectors.entra.graph import GraphError
from connectors.entra.selection import PortalSelection
from connectors.entra.settings import parse_settings
from connectors.sandbox.graph.shapes import OFFICE365_PORTAL_APP_ID, app_id

BASE = {"tenant_id": "contoso.onmicrosoft.com", "client_id": "cid", "client_secret": {"env": "X"}}


def _listings(sb: Any) -> list[Any]:
    return [r for r in sb.requests if r.path.endswith("/servicePrincipals") and not r.in_batch]


def _assignment_calls(sb: Any) -> int:
    return sum(r.path.endswith("/appRoleAssignedTo") for r in sb.requests)


def _limited(snap: SourceSnapshot) -> list[Any]:
    return [i for i in snap.issues if i.code == "entra.scope_limited"]


def test_without_the_setting_every_app_is_a_portal_and_nothing_is_recorded(org, sandbox, collect):
    sb = sandbox()
    snap = collect(sb)
    assert {p.id for p in snap.portals} == {p.id for p in org.truth("entra").portals}
    assert _limited(snap) == []
    assert "$filter" not in _listings(sb)[0].query
    assert not any(r.path.endswith("/servicePrincipals/$count") for r in sb.requests)


def test_require_assignment_is_a_server_side_filter_and_saves_assignment_calls(org, sandbox, collect):
    truth = org.truth("entra")
    full_sb = sandbox()
    collect(full_sb)
    sb = sandbox()
    snap = collect(sb, portals={"require_assignment": True})
    expected = {p.id for p in truth.portals if p.assignment_required}
    assert {p.id for p in snap.portals} == expected and len(expected) < len(truth.portals)
    assert [r.query.get("$filter") for r in _listings(sb)] == ["appRoleAssignmentRequired eq true"]
    assert all(r.status == 200 for r in _listings(sb))
    # Only apps that require assignment ever had their assignments read: same calls here.
    assert _assignment_calls(sb) == _assignment_calls(full_sb) == len(expected)


def test_tags_select_apps_carrying_any_of_them_case_insensitively(org, sandbox, collect):
    sb = sandbox()
    snap = collect(sb, portals={"tags": ["HEALTH-DATA", "hr"]})
    expected = {p.id for p in org.truth("entra").portals if {"health-data", "hr"} & set(p.tags)}
    assert {p.id for p in snap.portals} == expected == {"app-claims", "app-admin-console", "app-payroll"}
    assert [r.query.get("$filter") for r in _listings(sb)] == [
        "tags/any(t:t eq 'HEALTH-DATA') or tags/any(t:t eq 'hr')"
    ]


def test_tags_and_require_assignment_combine_with_parentheses(sandbox, collect):
    sb = sandbox()
    snap = collect(sb, portals={"require_assignment": True, "tags": ["intranet", "billing"]})
    assert {p.id for p in snap.portals} == {"app-partner-billing"}  # the intranet needs no assignment
    assert [r.query.get("$filter") for r in _listings(sb)] == [
        "appRoleAssignmentRequired eq true and (tags/any(t:t eq 'intranet') or tags/any(t:t eq 'billing'))"
    ]


def test_include_matches_id_app_id_or_display_name_client_side(sandbox, collect):
    sb = sandbox()
    snap = collect(sb, portals={"include": ["APP-PAYROLL", OFFICE365_PORTAL_APP_ID, "claims processing*"]})
    assert {p.id for p in snap.portals} == {"app-payroll", "app-m365", "app-claims"}
    assert "$filter" not in _listings(sb)[0].query  # globs over three properties: not a $filter
    assert _assignment_calls(sb) == 2  # payroll and claims; Office 365 needs no assignment


def test_exclude_wins_over_include_and_saves_assignment_calls(org, sandbox, collect):
    sb = sandbox()
    snap = collect(sb, portals={"include": ["*"], "exclude": ["*admin*", "Partner *"]})
    assert {p.id for p in snap.portals} == {"app-claims", "app-payroll", "app-intranet", "app-m365"}
    required = sum(p.assignment_required for p in org.truth("entra").portals)
    assert _assignment_calls(sb) == required - 2


def _outcomes(snap: SourceSnapshot, portals: set[str]) -> dict[tuple[str, str], tuple[Any, ...]]:
    index = PolicyIndex(snap.policies)
    out = {}
    for account in snap.accounts:
        sig = index.signature(account)
        for portal in sorted(portals):
            o = index.outcome(sig, PortalId(portal))
            out[(account.id, portal)] = (o.enforced, o.conditional, o.report_only, o.applied, o.excluded_by)
    return out


def test_coverage_of_the_remaining_portals_is_unchanged(org, sandbox, collect):
    full = collect(sandbox())
    # Claims processing is named by id in Conditional Access policies; filter it out.
    snap = collect(sandbox(), portals={"exclude": ["app-claims"]})
    kept = {p.id for p in snap.portals}
    assert kept == {p.id for p in full.portals} - {"app-claims"}
    assert snap.complete, snap.issues
    assert _outcomes(snap, kept) == _outcomes(full, kept)
    assert {a for a in snap.access if a.portal_id in kept} == {a for a in full.access if a.portal_id in kept}
    # A policy that names the filtered-out app keeps the reference and has no portal for it.
    claims_app = PortalId(app_id("app-claims", ("claims", "health-data")))
    naming = [p for p in snap.policies for r in p.rules if claims_app in r.portals.ids]
    assert naming, "the sample's Conditional Access targets the claims app by id"
    assert claims_app not in kept and "app-claims" not in {a.portal_id for a in snap.access}
    assert {p.id for p in naming} <= {p.id for p in full.policies}


def test_the_narrowing_is_recorded_and_the_source_stays_complete(org, sandbox, collect):
    snap = collect(sandbox(), portals={"require_assignment": True, "exclude": ["*admin*"]})
    total = len(org.truth("entra").portals) + 1  # and the managed identity, which is no portal
    [issue] = _limited(snap)
    assert not issue.incomplete and snap.complete
    assert issue.message.startswith(f"portals limited by settings.portals: 3 of {total} service principals")
    assert (
        "require_assignment (Graph $filter)" in issue.message and "exclude *admin* (by the connector)" in issue.message
    )
    assert snap.expected_counts["service_principals"] == total


def test_an_unknown_total_is_said_not_guessed(sandbox, collect):
    sb = sandbox(errors={"/servicePrincipals/$count": (403, -1)})
    snap = collect(sb, portals={"require_assignment": True})
    [issue] = _limited(snap)
    assert "4 of an unknown number of service principals ($count failed" in issue.message
    assert "service_principals" not in snap.expected_counts


def test_the_sandbox_refuses_filters_graph_refuses(sandbox):
    sb = sandbox()
    connector = EntraConnector("entra", sb.settings(), Path("."))
    client, _tokens, session = connector._client(logging.getLogger("test"))
    with session:
        for flt, code in [
            ("appRoleAssignmentRequired ne true", "Request_UnsupportedQuery"),  # ne: advanced queries only
            ("startsWith(displayName,'Claims')", "Request_UnsupportedQuery"),
            ("notes eq 'x'", "Request_UnsupportedQuery"),
            ("tags/any(t:t eq 'hr'", "BadRequest"),
        ]:
            with pytest.raises(GraphError) as err:
                client.get("/servicePrincipals", {"$filter": flt})
            assert (err.value.status, err.value.code) == (400, code), flt
        body = client.get("/servicePrincipals", {"$filter": "displayName eq 'hr AND PAYROLL'"})
        assert [sp["id"] for sp in body["value"]] == ["app-payroll"]


@pytest.mark.parametrize(
    ("portals", "key"),
    [
        ("Microsoft*", "portals"),
        ({}, "portals"),
        ({"inclde": ["x"]}, "portals.inclde"),
        ({"include": "Claims*"}, "portals.include"),
        ({"include": []}, "portals.include"),
        ({"exclude": ["ok", ""]}, "portals.exclude"),
        ({"tags": [3]}, "portals.tags"),
        ({"require_assignment": "yes"}, "portals.require_assignment"),
    ],
)
def test_bad_settings_name_the_key(portals: Any, key: str) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings({**BASE, "portals": portals}, Path("."))
    assert err.value.key == key
    assert str(err.value).startswith(f"{key}: expected ")


def test_settings_shape() -> None:
    s = parse_settings({**BASE, "portals": {"include": ["Claims*"], "tags": ["O'Brien"]}}, Path("."))
    assert s.portals == PortalSelection(include=("claims*",), tags=("O'Brien",))
    assert s.portals.server_filter() == "tags/any(t:t eq 'O''Brien')"
    assert parse_settings(BASE, Path(".")).portals is None
