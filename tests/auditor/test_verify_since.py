"""``verify --previous``: the "since the last report" figures are re-derived from the two
runs' evidence, so figures that agree with the manifest but not with the runs fail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor import pipeline
from auditor.cli import _history_extra, main
from auditor.config.load import parse_config
from auditor.evidence.run_artefacts import RunArtefacts
from auditor.evidence.verify import verify_report
from auditor.render.pdf import render_pdf
from auditor.store.database import EvidenceStore
from tests.support import verify as vs
from tests.support.reports import sample_snapshot

Q3_AT = dt.datetime(2026, 8, 15, 9, 0, tzinfo=dt.UTC)
Q4_AT = vs.NOW


@dataclass(frozen=True)
class Reports:
    q3: Path
    q4: Path
    forged: Path  # Q4 printing since-last figures its manifest agrees with, but the runs do not give


def _render(folder: Path, name: str, config: Any, result: Any, run: RunArtefacts, extra: dict[str, object]) -> Path:
    ctx = pipeline.report_context(config, result, run, generated_at=result.evaluated_at, extra=extra)
    path = folder / f"{name}.pdf"
    path.write_bytes(render_pdf(ctx))
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Reports:
    folder = tmp_path_factory.mktemp("since")
    store = EvidenceStore(folder / "evidence.sqlite3")
    q4_snapshot = sample_snapshot(accounts=300)
    q3_snapshot = replace(
        sample_snapshot(accounts=260),
        period="2026-Q3",
        period_start=dt.date(2026, 7, 1),
        period_end=dt.date(2026, 9, 30),
    )
    paths = {}
    for name, snapshot, at in (("q3", q3_snapshot, Q3_AT), ("q4", q4_snapshot, Q4_AT)):
        config = parse_config(vs.config_text(), folder / "audit.yaml", now=at)
        run = RunArtefacts(snapshot)
        result = pipeline.evaluate_snapshot(config, run, now=at)
        store.save_run(result, run, config.digest, config.text)
        extra = _history_extra(config, store, result.run_id)
        paths[name] = _render(folder, name, config, result, run, extra)
    since = extra["since_last"]
    forged_extra = {**extra, "since_last": replace(since, resolved_count=since.resolved_count + 7)}  # type: ignore[type-var]
    forged = _render(folder, "forged", config, result, run, forged_extra)
    return Reports(paths["q3"], paths["q4"], forged)


def _check(outcome: Any, name: str) -> Any:
    (found,) = [c for c in outcome.checks if c.name == name]
    return found


def test_the_figures_are_re_derived_from_the_previous_report(reports: Reports) -> None:
    outcome = verify_report(reports.q4, previous=reports.q3, check_pages=False)
    assert outcome.ok, [c for c in outcome.checks if not c.ok]
    assert "re-derived from q3.pdf" in _check(outcome, "since the last report").detail


def test_without_the_previous_report_verify_says_the_figures_are_not_re_derived(reports: Reports) -> None:
    outcome = verify_report(reports.forged, check_pages=False)
    assert outcome.ok  # the manifest and the evidence of this run agree: only --previous can tell
    assert "not re-derived here (give that run's report with --previous)" in _check(outcome, "history").detail


def test_forged_figures_fail_against_the_two_runs_evidence(reports: Reports) -> None:
    outcome = verify_report(reports.forged, previous=reports.q3, check_pages=False)
    check = _check(outcome, "since the last report")
    assert not outcome.ok and not check.ok
    assert "differs from what the two runs' evidence gives: counts" in check.detail


def test_the_wrong_previous_report_is_named(reports: Reports) -> None:
    outcome = verify_report(reports.q4, previous=reports.q4, check_pages=False)
    detail = _check(outcome, "since the last report").detail
    assert not outcome.ok and "q4.pdf is run 2026-Q4-" in detail and "the figures are against run 2026-Q3-" in detail
    # A report without since-last figures cannot be checked against a previous one.
    first = verify_report(reports.q3, previous=reports.q4, check_pages=False)
    assert "prints no 'since the last report' figures" in _check(first, "since the last report").detail


def test_a_previous_report_that_does_not_verify_fails(reports: Reports, tmp_path: Path) -> None:
    data = vs.replace_attachment(
        reports.q3.read_bytes(), "config.yaml", b"organisation: {name: x}\n", update_manifest=False
    )
    bad = tmp_path / "q3-edited.pdf"
    bad.write_bytes(data)
    outcome = verify_report(reports.q4, previous=bad, check_pages=False)
    detail = _check(outcome, "previous report").detail
    assert not outcome.ok and detail.startswith("q3-edited.pdf does not verify (attachment config.yaml")


def test_the_cli_takes_the_previous_report(reports: Reports) -> None:
    result = CliRunner().invoke(main, ["verify", str(reports.forged), "--previous", str(reports.q3)])
    assert result.exit_code == 1 and "FAIL since the last report" in result.output
    missing = CliRunner().invoke(main, ["verify", str(reports.q4), "--previous", "/nonexistent/q3.pdf"])
    assert missing.exit_code == 2 and "does not exist" in missing.output and "Traceback" not in missing.output
