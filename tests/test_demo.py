"""`mfa-audit demo` end to end: two quarters of the sample organisation served by the
three vendor sandboxes, collected by the real connectors, evaluated, stored and
reported. The headline figures of the PDF equal those of the JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # end to end: the CLI in a subprocess


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "demo", "-o", str(out), "--accounts", "400"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )
    return out, proc


def test_demo_writes_every_format_for_two_quarters(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = demo
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    reports = out / "reports"
    for period in ("2026-Q3", "2026-Q4"):
        for suffix in (".pdf", ".html", ".json", ".csv", "-coverage.csv", ".ocsf.jsonl"):
            assert list(reports.glob(f"mfa-audit-{period}-*{suffix}")), f"{period} {suffix} missing"
    assert str(reports) in proc.stdout
    assert "mfa-audit serve -c " in proc.stdout  # the closing message names the web view of the store


def test_demo_collects_all_three_vendors_completely(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = demo
    (report,) = (out / "reports").glob("mfa-audit-2026-Q4-*.json")
    doc = json.loads(report.read_text(encoding="utf-8"))
    sources = {s["source"]: s for s in doc["sources"]}
    # Changed (#14): plus the members' extranet, read from a file export whose sign-in times were not read.
    assert {"entra", "google", "okta", "keycloak", "cognito", "auth0", "extranet"} <= set(sources)
    assert all(s["complete"] for s in sources.values())
    connectors = {s["connector"] for s in sources.values()}
    assert {"entra", "google_workspace", "okta", "keycloak", "cognito", "auth0", "file"} <= connectors


def test_pdf_headline_equals_json(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = demo
    (pdf,) = (out / "reports").glob("mfa-audit-2026-Q4-*.pdf")
    (report,) = (out / "reports").glob("mfa-audit-2026-Q4-*.json")
    metrics = json.loads(report.read_text(encoding="utf-8"))["metrics"]
    pages = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    # The verdict may take more than page one: the summary is the page headed so (not the contents).
    text = next(p for p in pages if "Executive summary" in p and "Contents" not in p)
    assert f"{metrics['accounts_in_scope']:,}" in text
    assert f"{100 * metrics['protected_ratio']:.1f}%" in text
    assert f"{metrics['sensitive_protected']:,} of {metrics['sensitive_accesses']:,}" in text


def test_demo_history_holds_both_quarters(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = demo
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "history", "-c", str(out / "config.yaml"), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    periods = [r["period"] for r in json.loads(proc.stdout)]
    assert periods == ["2026-Q3", "2026-Q4"]


def test_demo_report_shows_what_a_regulator_reads(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """Issue 18's demo: pass and fail portals on page one, a management response, the
    sign-off block and the excluded-accounts annex."""
    out, _ = demo
    (pdf,) = (out / "reports").glob("mfa-audit-2026-Q4-*.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    # The verdict table runs until the page about the document itself.
    verdict = "".join(pages[: next(i for i, p in enumerate(pages) if "About this report" in p)])
    assert pages[0].count("Verdict per sensitive portal") == 1
    assert "pass" in verdict and "fail" in verdict
    assert "RESP-2026-07" in text and "Management responses" in text
    assert "Sign-off" in text and "Claire Martin" in text and "Directrice générale" in text
    assert "Annex: accounts left out of the evaluation" in text and "service account" in text
