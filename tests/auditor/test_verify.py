"""``mfa-audit verify``: the tamper matrix of issue 16, each cell asserted through the
CLI (exit code and the one-line reason), plus the malformed files that used to end in a
traceback. Reports are made by the real pipeline over the sample organisation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.evidence.signing import SigningError, sign_pdf
from auditor.evidence.verify import VerifyError, verify_report
from tests.support import verify as vs


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("verify")


@pytest.fixture(scope="module")
def report(folder: Path) -> bytes:
    return vs.make_report(folder).read_bytes()


@pytest.fixture(scope="module")
def other_report(folder: Path) -> bytes:
    return vs.make_report(folder / "..", organisation="Autre Mutuelle Régionale").read_bytes()


@pytest.fixture(scope="module")
def pki() -> dict[str, vs.Identity]:
    ca = vs.make_ca()
    return {
        "ca": ca,
        "signer": vs.issue(ca, "Mutuelle Exemple audit"),
        "tsa": vs.issue(ca, "Loopback TSA", tsa=True),
        # Valid for January 2026 only: a timestamp from it in June is not valid.
        "expired_tsa": vs.issue(ca, "Expired TSA", tsa=True, days=30),
        "impostor": vs.self_signed("Mutuelle Exemple audit"),
    }


def run_verify(tmp_path: Path, data: bytes, *args: str) -> tuple[int, list[str]]:
    path = tmp_path / "candidate.pdf"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["verify", str(path), *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output.splitlines()


def fail_line(lines: list[str], *words: str) -> str:
    """The FAIL line containing every word (the one-line reason)."""
    found = [line for line in lines if line.startswith("FAIL") and all(w in line for w in words)]
    assert found, "\n".join(lines)
    return found[0]


# --- the fresh report --------------------------------------------------------------------------


@pytest.mark.slow  # re-renders the report to check its pages
def test_a_fresh_unsigned_report_verifies_and_says_what_that_proves(report: bytes, tmp_path: Path) -> None:
    code, lines = run_verify(tmp_path, report)
    assert code == 0, "\n".join(lines)
    assert lines[0].startswith("UNSIGNED: only internal consistency is proven")
    assert lines[-1] == "VERIFIED"
    assert any(line.startswith("ok   pages: all") for line in lines)
    assert any(line.startswith("ok   re-evaluation:") for line in lines)


@pytest.mark.slow  # re-renders the report to check its pages
def test_require_signature_fails_an_unsigned_report(report: bytes, tmp_path: Path) -> None:
    code, lines = run_verify(tmp_path, report, "--require-signature")
    assert code == 1
    fail_line(lines, "signature required", "unsigned")


# --- the pages -----------------------------------------------------------------------------------


def _first_percentage(data: bytes) -> tuple[int, str]:
    for number, text in enumerate(vs.page_texts(data), start=1):
        match = re.search(r"\d+\.\d%", text)
        if match:
            return number, match.group()
    raise AssertionError("no percentage printed")


@pytest.mark.slow  # re-renders the report to check its pages
def test_cell_edit_a_page_figure(report: bytes, tmp_path: Path) -> None:
    page, figure = _first_percentage(report)
    edited_figure = ("1" if figure[0] != "1" else "2") + figure[1:]
    tampered = vs.edit_page_text(report, page, figure, edited_figure)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    line = fail_line(lines, f"page {page}:", edited_figure, figure)
    assert "where the evidence gives" in line


def _row_principal(data: bytes) -> tuple[int, str]:
    rows = list(csv.DictReader(io.StringIO(vs.attachment(data, "findings.csv").decode())))
    texts = vs.page_texts(data)
    for row in rows:
        pages = [i for i, text in enumerate(texts, start=1) if row["principal"] in text]
        if len(pages) == 1:
            return pages[0], row["principal"]
    raise AssertionError("no findings row printed once")


@pytest.mark.slow  # re-renders the report to check its pages
def test_cell_delete_a_findings_row_from_a_page(report: bytes, tmp_path: Path) -> None:
    page, principal = _row_principal(report)
    # An address may be drawn in pieces (line breaks are allowed after "@" and "."): the
    # text objects of the row's account cell are those holding its local part.
    local = principal.split("@")[0]
    tampered = vs.delete_page_text(report, page, local)
    assert tampered != report
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    fail_line(lines, f"page {page}:")


@pytest.mark.slow  # re-renders the report to check its pages
def test_cell_edit_a_row_by_one_glyph(report: bytes, tmp_path: Path) -> None:
    page, principal = _row_principal(report)
    original = principal[:4]  # a row's account, its first glyph changed (to one the subset font has)
    other = next(ch for ch in "aeiostrnl" if ch != original[0])
    changed = other + original[1:]
    tampered = vs.edit_page_text(report, page, original, changed)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    fail_line(lines, f"page {page}:")


@pytest.mark.slow  # re-renders the report to check its pages
def test_cell_swap_a_page_from_another_report(report: bytes, other_report: bytes, tmp_path: Path) -> None:
    tampered = vs.swap_page(report, other_report, 2)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    fail_line(lines, "page 2:", "Autre Mutuelle")


@pytest.mark.slow  # re-renders the report to check its pages
def test_a_report_from_another_version_says_so_when_its_pages_differ(report: bytes, tmp_path: Path) -> None:
    def older(m: dict[str, object]) -> None:
        m["generator"] = {"tool": "mfa-auditor", "version": "0.0.9", "renderer": "weasyprint 69.0"}

    page, figure = _first_percentage(report)
    edited = vs.edit_page_text(
        _with_manifest(report, older), page, figure, ("1" if figure[0] != "1" else "2") + figure[1:]
    )
    code, lines = run_verify(tmp_path, edited)
    assert code == 1
    fail_line(lines, f"page {page}:", "made by mfa-auditor 0.0.9 with weasyprint 69.0", "verify it with the version")


# --- the attachments ---------------------------------------------------------------------------


def test_cell_edit_an_attachment(report: bytes, tmp_path: Path) -> None:
    findings = bytearray(vs.attachment(report, "findings.csv"))
    findings[-3] = ord("X") if findings[-3] != ord("X") else ord("Y")
    tampered = vs.replace_attachment(report, "findings.csv", bytes(findings), update_manifest=False)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    fail_line(lines, "attachment findings.csv", "differs from the manifest")
    fail_line(lines, "re-evaluation", "not attempted")


@pytest.mark.slow  # re-renders the report to check its pages
def test_cell_edit_attachment_and_manifest_consistently(report: bytes, tmp_path: Path) -> None:
    config = vs.attachment(report, "config.yaml").decode()
    assert "dormant_after_days: 90" in config
    edited = config.replace("dormant_after_days: 90", "dormant_after_days: 9").encode()
    tampered = vs.replace_attachment(report, "config.yaml", edited, update_manifest=True)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    assert any(line.startswith("ok   attachment config.yaml") for line in lines)  # the forger got that right
    failed = [line for line in lines if line.startswith("FAIL")]
    assert failed and any(("re-evaluation" in f) or ("config digest" in f) or ("page" in f) for f in failed)


def test_a_report_with_only_a_manifest_fails(report: bytes, tmp_path: Path) -> None:
    bare = b'{"format":"mfa-auditor.report-manifest","attachments":{}}'
    with pikepdf.open(io.BytesIO(report)) as pdf:
        for name in list(pdf.attachments):
            del pdf.attachments[name]
        pdf.attachments["manifest.json"] = pikepdf.AttachedFileSpec(pdf, bare, filename="manifest.json")
        buffer = io.BytesIO()
        pdf.save(buffer)
    code, lines = run_verify(tmp_path, buffer.getvalue())
    assert code == 1
    fail_line(lines, "manifest")


def _with_manifest(report: bytes, edit: Callable[[dict[str, object]], object]) -> bytes:
    manifest = json.loads(vs.attachment(report, "manifest.json"))
    replaced = edit(manifest)
    data = json.dumps(replaced if isinstance(replaced, list) else manifest).encode()
    return vs.replace_attachment(report, "manifest.json", data, update_manifest=True)


def test_terminal_escapes_in_the_manifest_cannot_hide_failures(report: bytes, tmp_path: Path) -> None:
    def edit(m: dict[str, object]) -> None:
        m["run_id"] = "x\x1b[2K\x1b[1A\rVERIFIED\u202e"

    code, lines = run_verify(tmp_path, _with_manifest(report, edit))
    assert code == 1
    assert not any("\x1b" in line or "\u202e" in line for line in lines)
    fail_line(lines, "manifest", "run_id")
    assert lines[-1].startswith("NOT VERIFIED")


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda m: [m], "expected a JSON object"),
        (lambda m: m.update(attachments=[]), "attachments"),
        (lambda m: m.pop("evaluated_at"), "evaluated_at"),
        (lambda m: m.update(evaluated_at="2026-11-15T09:00:00"), "time zone"),
        (lambda m: m.pop("run_id"), "run_id"),
        (lambda m: m.update(findings_count="many"), "findings_count"),
        (lambda m: m.update(history={"trend": "up"}), "history"),
        (lambda m: m.update(history={"since_last": {"counts": []}}), "history"),
    ],
    ids=["list", "attachments-list", "no-evaluated_at", "naive-time", "no-run_id", "count", "trend", "since-last"],
)
def test_malformed_manifest_fields_fail_with_a_reason(
    report: bytes, tmp_path: Path, edit: Callable[[dict[str, object]], object], reason: str
) -> None:
    code, lines = run_verify(tmp_path, _with_manifest(report, edit))
    assert code == 1
    fail_line(lines, reason)


def test_deeply_nested_manifest_fails_without_recursion(report: bytes, tmp_path: Path) -> None:
    deep = b'{"format":"mfa-auditor.report-manifest","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    tampered = vs.replace_attachment(report, "manifest.json", deep, update_manifest=False)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    fail_line(lines, "manifest", "nested")


def test_a_deeply_nested_snapshot_fails_without_a_traceback(report: bytes, tmp_path: Path) -> None:
    import hashlib

    deep = b"[" * 200_000 + b"]" * 200_000
    tampered = vs.replace_attachment(report, "snapshot.json", deep, update_manifest=True)

    def point_at(m: dict[str, object]) -> None:
        m["snapshot_sha256"] = hashlib.sha256(deep).hexdigest()

    code, lines = run_verify(tmp_path, _with_manifest(tampered, point_at))
    assert code == 1
    assert any(line.startswith("ok   snapshot digest") for line in lines)
    fail_line(lines, "re-evaluation")


def test_a_config_that_is_not_utf8_fails(report: bytes, tmp_path: Path) -> None:
    tampered = vs.replace_attachment(report, "config.yaml", b"organisation: \xff\xfe\n", update_manifest=True)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    fail_line(lines, "re-evaluation", "UTF-8")


def test_a_yaml_alias_bomb_in_the_config_fails_fast(report: bytes, tmp_path: Path) -> None:
    lines_ = ["bomb0: &b0 [x, x, x, x, x, x, x, x, x, x]"]
    lines_ += [f"bomb{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 10) + "]" for i in range(1, 9)]
    config = vs.attachment(report, "config.yaml").decode()
    bomb = "x-anchors:\n" + "\n".join("  " + line for line in lines_) + "\n" + config
    tampered = vs.replace_attachment(report, "config.yaml", bomb.encode(), update_manifest=True)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    fail_line(lines, "re-evaluation", "alias")


# --- PDF structure ---------------------------------------------------------------------------


def _edit_pdf(report: bytes, edit: Callable[[pikepdf.Pdf], None]) -> bytes:
    with pikepdf.open(io.BytesIO(report)) as pdf:
        edit(pdf)
        buffer = io.BytesIO()
        pdf.save(buffer)
        return buffer.getvalue()


def _cyclic_kids(pdf: pikepdf.Pdf) -> None:
    tree = pdf.Root.Names.EmbeddedFiles
    node = pdf.make_indirect(pikepdf.Dictionary(Names=tree.Names))
    node.Kids = pikepdf.Array([node])
    pdf.Root.Names.EmbeddedFiles = pdf.make_indirect(pikepdf.Dictionary(Kids=pikepdf.Array([node])))


def _ef_not_a_stream(pdf: pikepdf.Pdf) -> None:
    names = pdf.Root.Names.EmbeddedFiles.Names
    names[1].EF.F = pikepdf.Dictionary(Type=pikepdf.Name.EmbeddedFile)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (_cyclic_kids, "cycle"),
        (lambda pdf: setattr(pdf.Root.Names, "EmbeddedFiles", pikepdf.Array([1, 2])), "not a dictionary"),
        (_ef_not_a_stream, "not a stream"),
        (lambda pdf: pdf.trailer.__setitem__("/Info", pdf.make_indirect(pikepdf.Array([1]))), "/Info"),
    ],
    ids=["cyclic-kids", "tree-an-array", "ef-not-a-stream", "info-an-array"],
)
def test_malformed_structures_fail_with_a_reason(
    report: bytes, tmp_path: Path, edit: Callable[[pikepdf.Pdf], None], reason: str
) -> None:
    code, lines = run_verify(tmp_path, _edit_pdf(report, edit))
    assert code == 1
    fail_line(lines, reason)


def test_a_decompression_bomb_stops_at_the_cap(report: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.evidence.verify_pdf as verify_pdf

    monkeypatch.setattr(verify_pdf, "MAX_ATTACHMENT", 4 << 20)
    bomb = zlib.compress(b"\0" * (64 << 20), 9)  # 64 MiB from ~64 KB

    def plant(pdf: pikepdf.Pdf) -> None:
        pdf.attachments["snapshot.json"].get_file().obj.write(bomb, filter=pikepdf.Name.FlateDecode)

    path = tmp_path / "bomb.pdf"
    path.write_bytes(_edit_pdf(report, plant))
    result = verify_report(path)
    assert not result.ok
    assert any("decompression bomb" in c.detail for c in result.failures), result.lines()


def test_not_a_report_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.pdf"
    bogus.write_bytes(b"hello")
    with pytest.raises(VerifyError, match=r"x\.pdf"):
        verify_report(bogus)
    result = CliRunner().invoke(main, ["verify", str(bogus)])
    assert result.exit_code == 2 and "Traceback" not in result.output


# --- signatures ---------------------------------------------------------------------------------


def _trust(tmp_path: Path, pki: dict[str, vs.Identity]) -> str:
    path = tmp_path / "ca.pem"
    path.write_bytes(pki["ca"].cert_pem)
    return str(path)


@pytest.mark.slow  # re-renders the report to check its pages
def test_cell_signed_by_a_trusted_signer(report: bytes, tmp_path: Path, pki: dict[str, vs.Identity]) -> None:
    signed = sign_pdf(report, pki["signer"].key_pem, pki["signer"].cert_pem + pki["ca"].cert_pem)
    assert signed.startswith(report)  # incremental update
    code, lines = run_verify(tmp_path, signed, "--trust", _trust(tmp_path, pki), "--require-signature")
    assert code == 0, "\n".join(lines)
    assert lines[0].startswith("SIGNED AND TRUSTED: signed by")
    assert pki["signer"].fingerprint in lines[0]
    code, lines = run_verify(tmp_path, signed, "--signer-fingerprint", pki["signer"].fingerprint)
    assert code == 0 and lines[0].startswith("SIGNED AND TRUSTED"), "\n".join(lines)


@pytest.mark.slow  # re-renders the report to check its pages
def test_cell_signed_with_an_untrusted_certificate(report: bytes, tmp_path: Path, pki: dict[str, vs.Identity]) -> None:
    impostor = pki["impostor"]  # same common name as the real signer, made by anyone
    signed = sign_pdf(report, impostor.key_pem, impostor.cert_pem)
    code, lines = run_verify(tmp_path, signed)
    assert code == 0
    assert lines[0].startswith("SIGNED, SIGNER NOT TRUSTED"), lines[0]
    assert "anyone could have made this certificate" in lines[0]
    code, lines = run_verify(tmp_path, signed, "--require-signature")
    assert code == 1
    fail_line(lines, "signature required", "signer not trusted")
    code, lines = run_verify(tmp_path, signed, "--trust", _trust(tmp_path, pki))
    assert code == 1
    fail_line(lines, "signer trust", "does not chain")
    code, lines = run_verify(tmp_path, signed, "--signer-fingerprint", pki["signer"].fingerprint)
    assert code == 1
    fail_line(lines, "signer fingerprint", impostor.fingerprint)


@pytest.mark.slow  # re-renders the report to check its pages
def test_cell_incremental_update_after_signing(report: bytes, tmp_path: Path, pki: dict[str, vs.Identity]) -> None:
    signed = sign_pdf(report, pki["signer"].key_pem, pki["signer"].cert_pem + pki["ca"].cert_pem)
    updated = vs.append_info_update(signed, "100 % coverage, 0 findings")
    assert updated.startswith(signed)
    code, lines = run_verify(tmp_path, updated, "--trust", _trust(tmp_path, pki))
    assert code == 1
    fail_line(lines, "signature coverage", "added to the file after it was signed")


@pytest.mark.slow  # re-renders the report to check its pages
def test_cell_one_byte_changed_in_a_signed_report(report: bytes, tmp_path: Path, pki: dict[str, vs.Identity]) -> None:
    signed = sign_pdf(report, pki["signer"].key_pem, pki["signer"].cert_pem + pki["ca"].cert_pem)
    position = signed.index(b"WeasyPrint")
    broken = bytearray(signed)
    broken[position] = ord("w")
    code, lines = run_verify(tmp_path, bytes(broken), "--trust", _trust(tmp_path, pki))
    assert code == 1
    fail_line(lines, "signature integrity")


@pytest.mark.slow  # re-renders the report to check its pages
def test_cell_valid_timestamp(report: bytes, tmp_path: Path, pki: dict[str, vs.Identity]) -> None:
    with vs.loopback_tsa(pki["tsa"], pki["ca"]) as url:
        signed = sign_pdf(report, pki["signer"].key_pem, pki["signer"].cert_pem + pki["ca"].cert_pem, timestamp_url=url)
    code, lines = run_verify(tmp_path, signed, "--trust", _trust(tmp_path, pki))
    assert code == 0, "\n".join(lines)
    assert any(line.startswith("ok   timestamp: RFC 3161 timestamp") for line in lines)
    assert "timestamped" in lines[0]


@pytest.mark.slow  # re-renders the report to check its pages
def test_cell_expired_timestamp(report: bytes, tmp_path: Path, pki: dict[str, vs.Identity]) -> None:
    june = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)  # the TSA's certificate ended in January
    with vs.loopback_tsa(pki["expired_tsa"], pki["ca"], fixed=june) as url:
        signed = sign_pdf(report, pki["signer"].key_pem, pki["signer"].cert_pem + pki["ca"].cert_pem, timestamp_url=url)
    code, lines = run_verify(tmp_path, signed, "--trust", _trust(tmp_path, pki))
    assert code == 1
    fail_line(lines, "timestamp", "not valid")


def test_an_unreachable_timestamp_authority_is_a_signing_error(report: bytes, pki: dict[str, vs.Identity]) -> None:
    with pytest.raises(SigningError, match="time-stamping authority"):
        sign_pdf(report, pki["signer"].key_pem, pki["signer"].cert_pem, timestamp_url="http://127.0.0.1:9/")


def test_bad_trust_inputs_are_usage_errors(report: bytes, tmp_path: Path) -> None:
    path = tmp_path / "r.pdf"
    path.write_bytes(report)
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"not a certificate")
    result = CliRunner().invoke(main, ["verify", str(path), "--trust", str(junk)])
    assert result.exit_code == 2 and "--trust" in result.output
    result = CliRunner().invoke(main, ["verify", str(path), "--signer-fingerprint", "abc"])
    assert result.exit_code == 2 and "--signer-fingerprint" in result.output


def test_signing_refuses_unreadable_keys_without_echoing_them(report: bytes) -> None:
    with pytest.raises(SigningError) as info:
        sign_pdf(report, b"-----BEGIN PRIVATE KEY-----\nsecretstuff\n", b"")
    assert "secretstuff" not in str(info.value)


@pytest.mark.slow
def test_a_pseudonymised_report_verifies(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor import pipeline
    from auditor.config.load import parse_config
    from auditor.render.pdf import render_pdf

    monkeypatch.setenv("VERIFY_TEST_PSEUDONYM_KEY", "k" * 32)
    text = vs.config_text(pseudonymise=True, pseudonym_key={"env": "VERIFY_TEST_PSEUDONYM_KEY"})
    config = parse_config(text, tmp_path / "audit.yaml", now=vs.NOW)
    snapshot = vs.render_support().sample_snapshot()
    result = pipeline.evaluate_snapshot(config, snapshot, now=vs.NOW)
    data = render_pdf(pipeline.report_context(config, result, snapshot, generated_at=vs.NOW))
    monkeypatch.delenv("VERIFY_TEST_PSEUDONYM_KEY")  # the auditor does not hold the key
    code, lines = run_verify(tmp_path, data)
    assert code == 0, "\n".join(lines)


def _object_stream_bomb(decoded_mib: int) -> bytes:
    """A tiny PDF whose one object stream, Flate inside Flate, inflates to ``decoded_mib``
    MiB: the stacked filters give a ratio no single Deflate reaches."""
    inner = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    layer = b"".join(inner.compress(chunk) for _ in range(decoded_mib)) + inner.flush()
    bomb = zlib.compress(layer, 9)
    parts = [b"%PDF-1.7\n"]
    offsets = {}

    def add(number: int, body: bytes) -> None:
        offsets[number] = sum(len(p) for p in parts)
        parts.append(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    add(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    add(2, b"<< /Type /Pages /Kids [] /Count 0 >>")
    add(
        3,
        b"<< /Type /ObjStm /N 1 /First 4 /Filter [/FlateDecode /FlateDecode] /Length %d >>\nstream\n" % len(bomb)
        + bomb
        + b"\nendstream",
    )
    xref_at = sum(len(p) for p in parts)
    rows = [b"\x00" + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")]
    rows += [b"\x01" + offsets[n].to_bytes(4, "big") + (0).to_bytes(2, "big") for n in (1, 2, 3)]
    rows.append(b"\x01" + xref_at.to_bytes(4, "big") + (0).to_bytes(2, "big"))
    rows.append(b"\x02" + (3).to_bytes(4, "big") + (0).to_bytes(2, "big"))  # object 5, in stream 3
    table = b"".join(rows)
    parts.append(
        b"4 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(table)
        + table
        + b"\nendstream\nendobj\n"
    )
    parts.append(b"startxref\n%d\n%%%%EOF\n" % xref_at)
    return b"".join(parts)


def test_an_object_stream_bomb_is_refused_by_the_pinned_pyhanko_limits(tmp_path: Path) -> None:
    path = tmp_path / "objstm-bomb.pdf"
    path.write_bytes(_object_stream_bomb(decoded_mib=300))
    assert path.stat().st_size < 10_000
    with pytest.raises(VerifyError, match="exceeds the limit"):
        verify_report(path)
