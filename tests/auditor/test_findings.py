"""One place for a finding's order and its fields: the engine's result, the report rows,
``check --json`` and the history diffs all agree."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from auditor.findings import FINDING_FIELDS, FindingRef, finding_fields, finding_order
from auditor.model import Finding, FrameworkRef, PortalId, Severity, SourceName
from auditor.queries.history import ref_to_data
from auditor.render.rows import FINDING_COLUMNS, finding_row

_ID = st.one_of(st.none(), st.text(max_size=4))


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    return Finding(
        rule_id=draw(st.sampled_from(["MFA-001", "MFA-002", "MFA-010"])),
        severity=draw(st.sampled_from(list(Severity))),
        title=draw(st.text(max_size=6)),
        source=SourceName(draw(st.sampled_from(["entra", "okta"]))),
        account_id=draw(_ID),
        principal=draw(_ID),
        portal_id=draw(_ID.map(lambda v: None if v is None else PortalId(v))),
        portal_name=draw(_ID),
        message=draw(st.text(max_size=6)),
        remediation=draw(st.text(max_size=6)),
        references=(FrameworkRef("GDPR", "Art. 32"),),
        evidence={"b": "2", "a": "1"},
    )


@given(findings())
def test_every_output_writes_the_same_fields_in_the_same_order(f: Finding) -> None:
    expected = {name: getattr(f, name) for name in FINDING_FIELDS} | {"severity": f.severity.value}
    assert list(finding_fields(f).items()) == [(k, expected[k]) for k in FINDING_FIELDS]
    row = finding_row(f)
    assert list(row) == list(FINDING_COLUMNS)
    assert row["references"] == ["GDPR Art. 32"] and list(row["evidence"].items()) == [("a", "1"), ("b", "2")]
    assert finding_fields(FindingRef.of(f)) == finding_fields(f)  # check's view
    assert FindingRef.of(f).key == f.key
    diff_ref = FindingRef.of(f, advice=False)  # history's view: no remediation
    assert diff_ref.remediation == ""
    assert ref_to_data(diff_ref) == {k: v for k, v in finding_fields(f).items() if k != "remediation"}


@given(st.lists(findings(), max_size=8))
def test_findings_come_most_severe_first_then_by_rule_source_account_portal(fs: list[Finding]) -> None:
    ordered = sorted(fs, key=finding_order)
    ranks = [-f.severity.rank for f in ordered]
    assert ranks == sorted(ranks)
    for a, b in pairwise(ordered):
        if a.severity is b.severity:
            assert (a.rule_id, a.source, a.account_id or "", a.portal_id or "") <= (
                b.rule_id, b.source, b.account_id or "", b.portal_id or ""
            )
