"""Pseudonymisation: no account identifier survives in any output, tokens agree across
outputs, and the key matters."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest

from auditor.interfaces import ReportContext
from auditor.model import Snapshot
from auditor.render import pseudonym
from auditor.render.csv_out import CsvRenderer, write_coverage_csv
from auditor.render.html import HtmlRenderer
from auditor.render.json_out import JsonRenderer
from auditor.render.ocsf import OcsfRenderer
from auditor.render.pdf import PdfRenderer

KEY_VAR = "MFA_TEST_PSEUDONYM_KEY"


def _outputs(ctx: ReportContext, tmp_path: Path) -> dict[str, bytes]:
    outputs: dict[str, bytes] = {}
    for renderer in (JsonRenderer(), CsvRenderer(), OcsfRenderer(), HtmlRenderer(), PdfRenderer()):
        out = io.BytesIO()
        renderer.render(ctx, out)
        outputs[renderer.extension] = out.getvalue()
    matrix = io.BytesIO()
    write_coverage_csv(ctx, matrix)
    outputs["coverage.csv"] = matrix.getvalue()
    pdf_path = tmp_path / "report.pdf"
    pdf_path.write_bytes(outputs["pdf"])
    with pikepdf.open(pdf_path) as pdf:
        for name, spec in pdf.attachments.items():
            blob = spec.get_file().read_bytes()
            # Decoded: the attachments are Flate streams, which would hide a leak.
            outputs[f"pdf:{name}"] = blob
        for i, obj in enumerate(pdf.objects):
            if isinstance(obj, pikepdf.Stream):
                with contextlib.suppress(pikepdf.PdfError):
                    outputs[f"pdf-stream:{i}"] = obj.read_bytes()
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], check=True, capture_output=True).stdout
    outputs["pdf:text"] = text
    return outputs


@pytest.mark.slow  # a subprocess (pdftotext, another Python) or a whole PDF
def test_no_identifier_survives_in_any_output(
    context_factory: Callable[..., ReportContext],
    snapshot: Snapshot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_VAR, "a-test-key-that-is-long-enough")
    ctx = context_factory(snapshot, pseudonymise=True)
    outputs = _outputs(ctx, tmp_path)
    blob = b"\n".join(outputs.values()).decode("utf-8", errors="replace")
    words = set(re.findall(r"[\w.@+-]+", blob))
    folded = {w.casefold() for w in words}
    accounts = [a for s in snapshot.sources for a in s.accounts]
    principals = {a.principal.casefold() for a in accounts}
    assert principals & folded == set()
    assert {a.id for a in accounts} & words == set()
    exception_accounts = {e.entry.account for e in ctx.result.exceptions}
    assert exception_accounts & folded == set()
    for a in accounts:
        assert a.display_name not in blob, a.display_name
    # What must stay: the organisation, portals, the rule ids.
    assert "Mutuelle Exemple" in blob and "MFA-001" in blob


def test_tokens_agree_across_outputs_and_depend_on_the_key(
    context_factory: Callable[..., ReportContext], snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VAR, "key-one")
    ctx = context_factory(snapshot, pseudonymise=True)
    out = io.BytesIO()
    JsonRenderer().render(ctx, out)
    doc = json.loads(out.getvalue())
    findings_csv = io.BytesIO()
    CsvRenderer().render(ctx, findings_csv)
    rows = list(csv.DictReader(io.StringIO(findings_csv.getvalue().decode())))
    from_json = {(f["rule_id"], f["account_id"], f["principal"]) for f in doc["findings"]}
    from_csv = {(r["rule_id"], r["account_id"] or None, r["principal"] or None) for r in rows}
    assert from_json == from_csv
    matrix_ids = {r["account_id"] for r in doc["coverage_matrix"]}
    finding_ids = {f["account_id"] for f in doc["findings"] if f["account_id"]}
    assert finding_ids <= matrix_ids
    assert all(i.startswith("id-") for i in matrix_ids)
    same = pseudonym.pseudonymise(ctx, b"key-one")
    other = pseudonym.pseudonymise(ctx, b"key-two")
    assert same.result.coverage[0].account_id in matrix_ids
    assert other.result.coverage[0].account_id not in matrix_ids
    principal = snapshot.sources[0].accounts[0].principal
    token = same.snapshot.sources[0].accounts[0].principal
    assert token.endswith("@" + principal.rpartition("@")[2])  # the domain stays: it is the organisation's


def test_a_missing_key_is_a_clear_error(
    context_factory: Callable[..., ReportContext], snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.interfaces import SecretError

    monkeypatch.delenv(KEY_VAR, raising=False)
    with pytest.raises(SecretError, match=KEY_VAR):
        JsonRenderer().render(context_factory(snapshot, pseudonymise=True), io.BytesIO())


def test_free_text_keeps_everything_but_identifiers() -> None:
    p = pseudonym.Pseudonymiser(b"k")
    from auditor.model import Account, AccountId, AccountKind, SourceName

    p.learn(Account(SourceName("s"), AccountId("u1"), "Jean.Dupont@ex.fr", "Jean Dupont", AccountKind.HUMAN, True))
    text = p.text("Jean Dupont (jean.dupont@ex.fr, id u1) signed in; Jean alone stays")
    assert "Jean Dupont" not in text and "dupont@" not in text.casefold() and " u1)" not in text
    assert text.endswith("Jean alone stays")
