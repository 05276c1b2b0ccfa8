"""The PDF: figures, attachments, PDF/A, determinism, languages, hostile input.

Each render costs about two seconds: the documents are rendered once per module and
shared by the tests."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pikepdf
import pytest

from auditor.engine.metrics import portal_labels
from auditor.interfaces import ReportContext
from auditor.model import Snapshot, SourceIssue
from auditor.render.document import render_html
from auditor.render.i18n import Translator
from auditor.render.json_out import JsonRenderer
from auditor.render.pdf import package_fetcher, pdf_identifier, render_pdf
from auditor.render.view import ReportView

ATTACHMENTS = {
    "findings.csv": "/Data",
    "coverage-matrix.csv": "/Data",
    "snapshot.json": "/Source",
    "config.yaml": "/Source",
    "manifest.json": "/Supplement",
}


def pdftotext(path: Path, *args: str) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", *args, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def incomplete_ctx(context_factory: Callable[..., ReportContext], incomplete_snapshot: Snapshot) -> ReportContext:
    return context_factory(incomplete_snapshot, max_detail_rows=10)


@pytest.fixture(scope="module")
def pdf_path(incomplete_ctx: ReportContext, tmp_path_factory: Any) -> Path:
    path: Path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(render_pdf(incomplete_ctx))
    return path


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
def test_headline_figures_in_the_pdf_equal_the_json(incomplete_ctx: ReportContext, pdf_path: Path) -> None:
    out = io.BytesIO()
    JsonRenderer().render(incomplete_ctx, out)
    m = json.loads(out.getvalue())["metrics"]
    t = Translator("en")
    # The executive summary: the page headed so (the verdict may take more than page one).
    text = next(p for p in pdftotext(pdf_path).split("\f") if "Executive summary" in p and "Contents" not in p)
    assert t.percent(m["protected_ratio"]) in text
    assert (
        t("summary.protected_of", protected=t.number(m["sensitive_protected"]), total=t.number(m["sensitive_accesses"]))
        in text
    )
    first_row = re.search(r"^\s*(\S+)\s+(\S+)\s+(\S+\%)\s+(\S+)\s*$", text, re.M)
    assert first_row is not None
    assert first_row.group(1) == t.number(m["accounts_in_scope"])
    assert first_row.group(2) == t.number(m["sensitive_portals"])
    assert first_row.group(4) == t.number(m["sensitive_unknown"])
    severities = m["findings_by_severity"]
    total = sum(severities.values())
    row = " +".join(t.number(severities[s]) for s in ("critical", "high", "medium", "low"))
    assert re.search(rf"Findings +{row} +{t.number(total)}", text)


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
def test_page_one_names_the_incomplete_source_and_why(pdf_path: Path) -> None:
    page_one = pdftotext(pdf_path, "-f", "1", "-l", "1")
    assert "Incomplete run" in page_one
    assert "okta" in page_one and "HTTP 429" in page_one
    assert "Page 1 of" in page_one


def test_attachments_carry_relationships_and_fixed_dates(pdf_path: Path, incomplete_ctx: ReportContext) -> None:
    with pikepdf.open(pdf_path) as pdf:
        specs = dict(pdf.attachments.items())
        assert set(specs) == set(ATTACHMENTS)
        for name, spec in specs.items():
            assert str(spec.obj.AFRelationship) == ATTACHMENTS[name]
            stream = spec.get_file().obj
            params = stream.Params
            assert str(params.CreationDate) == "D:20261115090000Z"
            data = spec.get_file().read_bytes()
            assert stream.Filter == pikepdf.Name.FlateDecode
            assert int(params.Size) == len(data)
            assert bytes(params.CheckSum) == hashlib.md5(data, usedforsecurity=False).digest()
        assert str(specs["findings.csv"].get_file().obj.Subtype) == "/text/csv"
        assert str(specs["findings.csv"].obj.Desc) == Translator("en")("attachment.findings")
        assert sorted(str(spec.UF) for spec in pdf.Root.AF) == sorted(ATTACHMENTS)
        manifest = json.loads(specs["manifest.json"].get_file().read_bytes())
        assert manifest["run_id"] == incomplete_ctx.result.run_id
        snapshot = specs["snapshot.json"].get_file().read_bytes()
        assert json.loads(snapshot)["format"] == "mfa-auditor.snapshot"
        assert hashlib.sha256(snapshot).hexdigest() == manifest["snapshot_sha256"]


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
def test_pdfa_metadata_fonts_and_structure(pdf_path: Path, incomplete_ctx: ReportContext) -> None:
    assert subprocess.run(["qpdf", "--check", str(pdf_path)], capture_output=True).returncode == 0
    fonts = subprocess.run(["pdffonts", str(pdf_path)], check=True, capture_output=True, text=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(r.split()[-5] == "yes" for r in rows), fonts  # emb column
    assert all("DejaVu" in r for r in rows)
    with pikepdf.open(pdf_path) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3"
        assert meta["pdfaid:conformance"] == "A"
        assert "/OutputIntents" in pdf.Root
        assert "Mutuelle Exemple" in str(pdf.docinfo["/Title"])
        assert str(pdf.docinfo["/auditrunid"]) == incomplete_ctx.result.run_id
        assert bytes(pdf.trailer.ID[0]) == pdf_identifier(incomplete_ctx.result.run_id)


def test_same_inputs_give_the_same_bytes(incomplete_ctx: ReportContext, pdf_path: Path) -> None:
    assert render_pdf(incomplete_ctx) == pdf_path.read_bytes()


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
def test_french_report(context_factory: Callable[..., ReportContext], snapshot: Snapshot, tmp_path: Path) -> None:
    path = tmp_path / "fr.pdf"
    path.write_bytes(render_pdf(context_factory(snapshot, language="fr")))
    text = pdftotext(path)
    assert "15 novembre 2026" in text
    assert "Page 1 sur" in text
    assert "Synthèse" in text and "Méthodologie" in text
    assert "Toutes les sources ont été lues entièrement" in text


# --- hostile input ------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"body{background:red}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
def test_hostile_names_are_escaped_and_fetch_nothing(
    context_factory: Callable[..., ReportContext], snapshot: Snapshot, http_server: str, tmp_path: Path
) -> None:
    hostile = [
        "<img src=file:///etc/passwd>",
        f'<link rel="stylesheet" href="{http_server}/evil.css">',
        f"<style>@import url({http_server}/import.css);</style>",
        f'<div style="background:url({http_server}/bg.png)">x</div>',
        "abc\u202egnp.exe",
        "A" * 10_000,
    ]
    okta = snapshot.source("okta")
    portals = tuple(replace(p, name=hostile[i % len(hostile)]) for i, p in enumerate(okta.portals))
    okta = replace(
        okta, portals=portals, complete=False, issues=(SourceIssue("x", hostile[1] + hostile[0], incomplete=True),)
    )
    hostile_snapshot = replace(snapshot, sources=tuple(okta if s.source == "okta" else s for s in snapshot.sources))
    ctx = context_factory(hostile_snapshot, organisation=hostile[0] + hostile[4] + hostile[2])
    view = ReportView(ctx)
    html = render_html(view, [], for_pdf=True)
    assert "<img src=file" not in html and "&lt;img src=file:///etc/passwd&gt;" in html
    assert '<link rel="stylesheet" href="http' not in html
    assert "\u202e" not in html and "[U+202E]" in html
    fetcher = package_fetcher()
    data = render_pdf(ctx, fetcher)
    assert fetcher.refused == []
    assert all(url.startswith("mfa-report:fonts/") for url in fetcher.served)
    assert _Recorder.hits == []
    path = tmp_path / "hostile.pdf"
    path.write_bytes(data)
    text = pdftotext(path)
    assert "root:x:0:0" not in text
    assert "<img src=file:///etc/passwd>" in text.replace("\n", "")
    assert "A" * 10_000 not in text  # clipped in the tables; whole in the CSV


def test_the_fetcher_refuses_files_and_urls(http_server: str) -> None:
    fetcher = package_fetcher()
    for url in ("file:///etc/passwd", f"{http_server}/x.css", "data:text/css,body{}", "mfa-report:../../etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert _Recorder.hits == []
    assert fetcher.fetch("mfa-report:fonts/DejaVuSans.ttf").read()[:4] == b"\x00\x01\x00\x00"


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
def test_portal_names_reach_the_coverage_table(pdf_path: Path, incomplete_ctx: ReportContext) -> None:
    names = set(portal_labels(incomplete_ctx.snapshot).values())
    text = pdftotext(pdf_path)
    sensitive = {p.name for p in ReportView(incomplete_ctx).by_portal}
    assert sensitive and sensitive <= names
    missing = [n for n in sensitive if n[:30] not in text]
    assert missing == []


def test_the_csv_files_are_the_attached_bytes(incomplete_ctx: ReportContext, pdf_path: Path) -> None:
    from auditor.render.csv_out import CsvRenderer, write_coverage_csv

    findings, matrix = io.BytesIO(), io.BytesIO()
    CsvRenderer().render(incomplete_ctx, findings)
    write_coverage_csv(incomplete_ctx, matrix)
    with pikepdf.open(pdf_path) as pdf:
        attached = {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}
    assert attached["findings.csv"] == findings.getvalue()
    assert attached["coverage-matrix.csv"] == matrix.getvalue()
    assert findings.getvalue().count(b"\r\n") == len(incomplete_ctx.result.findings) + 1


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
def test_page_one_shows_a_scope_narrowed_by_the_configuration(
    context_factory: Callable[..., ReportContext], snapshot: Snapshot, tmp_path: Path
) -> None:
    note = "portals limited by settings.portals: 3 of 7 service principals became portals"
    first = replace(snapshot.sources[0], issues=(*snapshot.sources[0].issues, SourceIssue("entra.scope_limited", note)))
    path = tmp_path / "scoped.pdf"
    path.write_bytes(render_pdf(context_factory(replace(snapshot, sources=(first, *snapshot.sources[1:])))))
    page_one = pdftotext(path, "-f", "1", "-l", "1")
    assert "Scope narrowed by the configuration" in page_one
    assert "3 of 7 service principals" in page_one
    assert "All sources were read in full" in page_one  # narrowed is not incomplete
