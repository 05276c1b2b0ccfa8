"""JSON, CSV, OCSF and terminal outputs: what they carry, and that they agree."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.console import Console

from auditor.evidence.attachments import snapshot_file, snapshot_sha256
from auditor.evidence.serialise import snapshot_to_json
from auditor.interfaces import ReportContext
from auditor.render.csv_out import CsvRenderer, write_coverage_csv
from auditor.render.json_out import JsonRenderer
from auditor.render.ocsf import OcsfRenderer
from auditor.render.rows import COVERAGE_COLUMNS, FINDING_COLUMNS, findings_digest
from auditor.render.terminal import print_summary


def _json(ctx: ReportContext) -> dict[str, Any]:
    out = io.BytesIO()
    JsonRenderer().render(ctx, out)
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def test_json_carries_metrics_findings_and_the_whole_matrix(context: ReportContext) -> None:
    doc = _json(context)
    m = context.result.metrics
    assert doc["format"] == "mfa-auditor.report"
    assert doc["run"]["run_id"] == context.result.run_id
    assert doc["metrics"]["accounts_in_scope"] == m.accounts_in_scope
    assert doc["metrics"]["sensitive_protected"] == m.sensitive_protected
    assert doc["metrics"]["protected_ratio"] == m.protected_ratio
    assert len(doc["findings"]) == len(context.result.findings)
    assert len(doc["coverage_matrix"]) == len(context.result.coverage)
    assert sum(s["total"] for s in doc["coverage_by_source"]) == m.sensitive_accesses
    assert doc["run"]["findings_digest"] == findings_digest(context.result.findings)
    for r in doc["reconciliation"]:
        assert r["read"] == r["evaluated"] + sum(r["out_of_scope"].values()) + sum(r["unreadable"].values())


def test_snapshot_stream_is_byte_identical_to_the_serialiser(context: ReportContext) -> None:
    expected = snapshot_to_json(context.snapshot).encode("utf-8")
    assert snapshot_file(context.snapshot).data() == expected == context.artefacts.snapshot_file.data()
    assert _json(context)["run"]["snapshot_sha256"] == snapshot_sha256(context.snapshot)


def test_csv_files_have_one_row_per_finding_and_per_access(context: ReportContext) -> None:
    out = io.BytesIO()
    CsvRenderer().render(context, out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert tuple(rows[0]) == FINDING_COLUMNS
    assert len(rows) - 1 == len(context.result.findings)
    matrix = io.BytesIO()
    write_coverage_csv(context, matrix)
    mrows = list(csv.DictReader(io.StringIO(matrix.getvalue().decode("utf-8"))))
    assert tuple(mrows[0]) == COVERAGE_COLUMNS
    assert len(mrows) == len(context.result.coverage)
    assert {r["status"] for r in mrows} == {c.status.value for c in context.result.coverage}


def test_csv_cells_cannot_become_spreadsheet_formulas(context_factory: Any, snapshot: Any) -> None:
    from dataclasses import replace

    ctx = context_factory(snapshot)
    finding = replace(ctx.result.findings[0], principal='=HYPERLINK("http://evil.example","x")')
    ctx = replace(ctx, result=replace(ctx.result, findings=(finding,)))
    out = io.BytesIO()
    CsvRenderer().render(ctx, out)
    row = next(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert row["principal"].startswith("'=")


def test_ocsf_lines_are_detection_findings(context: ReportContext) -> None:
    out = io.BytesIO()
    OcsfRenderer().render(context, out)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(events) == len(context.result.findings)
    severity_ids = {"low": 2, "medium": 3, "high": 4, "critical": 5}
    for e in events:
        assert e["class_uid"] == 2004
        assert e["type_uid"] == 200401
        assert e["severity_id"] == severity_ids[e["severity"].lower()]
        assert e["finding_info"]["analytic"]["uid"].startswith("MFA-")
    assert len({e["finding_info"]["uid"] for e in events}) == len(events)


def test_terminal_summary_shows_the_headline_and_prints_markup_literally(context_factory: Any, snapshot: Any) -> None:
    ctx = context_factory(snapshot, organisation="[bold red]Acme[/] Corp")
    console = Console(record=True, width=140, color_system=None)
    print_summary(ctx, console)
    text = console.export_text()
    m = ctx.result.metrics
    assert f"{m.accounts_in_scope:,}" in text
    assert "[bold red]Acme[/] Corp" in text
    assert "Sensitive accesses protected" in text


def test_list_cells_from_the_idp_cannot_become_formulas(context_factory: Any, snapshot: Any) -> None:
    from dataclasses import replace

    ctx = context_factory(snapshot)
    row = replace(ctx.result.coverage[0], policies=("=cmd|' /C calc'!A0", "ca-1"), excluded_by=("\u202egpj.exe",))
    ctx = replace(ctx, result=replace(ctx.result, coverage=(row,)))
    out = io.BytesIO()
    write_coverage_csv(ctx, out)
    cells = next(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert cells["policies"].startswith("'=cmd")
    assert cells["excluded_by"] == "[U+202E]gpj.exe"
