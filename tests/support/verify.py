"""Helpers for the verify tests: a throwaway CA, signer and TSA certificates, a
time-stamping authority on loopback (pyHanko's dummy timestamper behind a tiny HTTP
server: nothing leaves the machine), reports made by the real pipeline, and the
tampering an auditor would try (a glyph, a row, a page, an attachment)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pikepdf
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from auditor.evidence.verify_pdf import parse_cmap
from tests.support import reports

NOW = dt.datetime(2026, 11, 15, 9, 0, tzinfo=dt.UTC)


def render_support() -> ModuleType:
    """The report fixtures' helpers (sample snapshot, config text, contexts)."""
    return reports


# --- certificates ------------------------------------------------------------------------


@dataclass
class Identity:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def fingerprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_ca(name: str = "Throwaway audit CA") -> Identity:
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Identity(key, cert)


def _usage(*, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def issue(
    ca: Identity,
    name: str,
    *,
    tsa: bool = False,
    start: dt.datetime = dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    days: int = 3650,
) -> Identity:
    key = _key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    )
    if tsa:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return Identity(key, builder.sign(ca.key, hashes.SHA256()))


def self_signed(name: str) -> Identity:
    """A certificate anyone can make, with any common name."""
    return make_ca(name)


# --- a time-stamping authority on loopback --------------------------------------------------


def dummy_timestamper(tsa: Identity, ca: Identity, fixed: dt.datetime | None = None) -> Any:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps import DummyTimeStamper

    cert = asn1_x509.Certificate.load(tsa.cert.public_bytes(serialization.Encoding.DER))
    ca_cert = asn1_x509.Certificate.load(ca.cert.public_bytes(serialization.Encoding.DER))
    key = asn1_keys.PrivateKeyInfo.load(
        tsa.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return DummyTimeStamper(tsa_cert=cert, tsa_key=key, certs_to_embed=[ca_cert], fixed_dt=fixed)


@contextmanager
def loopback_tsa(tsa: Identity, ca: Identity, fixed: dt.datetime | None = None) -> Iterator[str]:
    """An RFC 3161 authority at http://127.0.0.1:PORT/ for the duration of the block."""
    from asn1crypto import tsp

    stamper = dummy_timestamper(tsa, ca, fixed)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            request = tsp.TimeStampReq.load(self.rfile.read(length))
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- reports made by the real pipeline -------------------------------------------------------


def config_text(*, language: str = "en", max_detail_rows: int = 5, **report: Any) -> str:
    doc = yaml.safe_load(render_support().CONFIG_TEXT)
    doc["report"] = {"language": language, "max_detail_rows": max_detail_rows, **report}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def report_context(folder: Path, *, language: str = "en", snapshot: Any = None, organisation: str | None = None) -> Any:
    """The report context of the sample organisation, made as a run makes it."""
    from auditor import pipeline
    from auditor.config.load import parse_config

    text = config_text(language=language)
    if organisation is not None:
        text = text.replace("Mutuelle Exemple", organisation, 1)
    config = parse_config(text, folder / "audit.yaml", now=NOW)
    snap = snapshot if snapshot is not None else render_support().sample_snapshot()
    result = pipeline.evaluate_snapshot(config, snap, now=NOW)
    return pipeline.report_context(config, result, snap, generated_at=NOW)


def make_report(folder: Path, *, language: str = "en", snapshot: Any = None, organisation: str | None = None) -> Path:
    """A PDF report of the sample organisation, made as a run makes it."""
    from auditor.render.pdf import render_pdf

    ctx = report_context(folder, language=language, snapshot=snapshot, organisation=organisation)
    path = folder / f"report-{language}.pdf"
    path.write_bytes(render_pdf(ctx))
    return path


# --- tampering ---------------------------------------------------------------------------------


def _page_fonts(page: pikepdf.Page) -> dict[str, dict[int, str]]:
    fonts = page.obj.Resources.get("/Font", {})
    return {str(k): parse_cmap(v.ToUnicode.read_bytes()) for k, v in fonts.items() if "/ToUnicode" in v}


def edit_page_text(data: bytes, page_number: int, old: str, new: str, *, whole: bool = False) -> bytes:
    """Replace ``old`` by ``new`` (same length) in the glyphs of one page: what a hand
    edit in a PDF editor does. With ``whole``, only in a text object that shows exactly
    ``old`` (a page number, a footer). Raises if ``old`` is not found."""
    assert len(old) == len(new)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[page_number - 1]
        fonts = _page_fonts(page)
        font: dict[int, str] = {}
        changed = False
        out = []
        for instruction in pikepdf.parse_content_stream(page):
            operands, op = list(instruction.operands), instruction.operator
            if str(op) == "Tf":
                font = fonts.get(str(operands[0]), {})
            if str(op) == "TJ" and not changed:
                items = list(operands[0])
                # Kerning splits a word across the array's strings: edit the joined glyphs.
                glyphs: list[tuple[int, int]] = []  # (item, glyph position) per character
                chars: list[str] = []
                for i, item in enumerate(items):
                    if isinstance(item, pikepdf.String):
                        raw = bytes(item)
                        for j in range(0, len(raw), 2):
                            glyphs.append((i, j))
                            chars.append(font.get(int.from_bytes(raw[j : j + 2], "big"), "?"))
                joined = "".join(chars)
                at = (0 if joined.strip() == old else -1) if whole else joined.find(old)
                if at >= 0:
                    reverse = {v: k for k, v in font.items()}
                    edited = {i: bytearray(bytes(items[i])) for i in {g[0] for g in glyphs}}
                    for offset, ch in enumerate(new):
                        i, j = glyphs[at + offset]
                        edited[i][j : j + 2] = reverse[ch].to_bytes(2, "big")
                    for i, raw_bytes in edited.items():
                        items[i] = pikepdf.String(bytes(raw_bytes))
                    changed = True
                operands = [pikepdf.Array(items)]
            out.append(pikepdf.ContentStreamInstruction(operands, op))
        assert changed, f"{old!r} not found on page {page_number}"
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(out))
        buffer = io.BytesIO()
        pdf.save(buffer)
        return buffer.getvalue()


def delete_page_text(data: bytes, page_number: int, needle: str) -> bytes:
    """Remove every text object of a page whose text contains ``needle`` (a row's cells)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[page_number - 1]
        fonts = _page_fonts(page)
        font: dict[int, str] = {}
        blocks: list[list[pikepdf.ContentStreamInstruction]] = []
        current: list[pikepdf.ContentStreamInstruction] | None = None
        texts: list[str] = []
        removed = 0
        for instruction in pikepdf.parse_content_stream(page):
            op = str(instruction.operator)
            if op == "BT":
                current, texts = [instruction], []
                continue
            if current is not None:
                current.append(instruction)
                if op == "Tf":
                    font = fonts.get(str(instruction.operands[0]), {})
                if op == "TJ":
                    for item in instruction.operands[0]:
                        if isinstance(item, pikepdf.String):
                            raw = bytes(item)
                            texts.append(
                                "".join(
                                    font.get(int.from_bytes(raw[j : j + 2], "big"), "?") for j in range(0, len(raw), 2)
                                )
                            )
                if op == "ET":
                    if needle in "".join(texts):
                        removed += 1
                    else:
                        blocks.append(current)
                    current = None
                continue
            blocks.append([instruction])
        assert removed, f"{needle!r} not found on page {page_number}"
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream([i for b in blocks for i in b]))
        buffer = io.BytesIO()
        pdf.save(buffer)
        return buffer.getvalue()


def _text_blocks(pdf: pikepdf.Pdf, page_number: int) -> list[tuple[str | None, list[Any]]]:
    """The page's content as (text, instructions) blocks: each BT … ET block with the text
    it shows, and every other instruction alone with None."""
    page = pdf.pages[page_number - 1]
    fonts = _page_fonts(page)
    font: dict[int, str] = {}
    blocks: list[tuple[str | None, list[Any]]] = []
    current: list[Any] | None = None
    texts: list[str] = []
    for instruction in pikepdf.parse_content_stream(page):
        op = str(instruction.operator)
        if op == "BT":
            current, texts = [instruction], []
            continue
        if current is None:
            blocks.append((None, [instruction]))
            continue
        current.append(instruction)
        if op == "Tf":
            font = fonts.get(str(instruction.operands[0]), {})
        elif op == "TJ":
            for item in instruction.operands[0]:
                if isinstance(item, pikepdf.String):
                    raw = bytes(item)
                    texts.append(
                        "".join(font.get(int.from_bytes(raw[j : j + 2], "big"), "?") for j in range(0, len(raw), 2))
                    )
        elif op == "ET":
            blocks.append(("".join(texts), current))
            current = None
    return blocks


def _save_blocks(pdf: pikepdf.Pdf, page_number: int, blocks: list[tuple[str | None, list[Any]]]) -> bytes:
    pdf.pages[page_number - 1].obj.Contents = pdf.make_stream(
        pikepdf.unparse_content_stream([i for _, b in blocks for i in b])
    )
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def _find_block(blocks: list[tuple[str | None, list[Any]]], needle: str, page_number: int) -> int:
    for index, (text, _) in enumerate(blocks):
        if text is not None and needle in text:
            return index
    raise AssertionError(f"{needle!r} not found on page {page_number}")


def duplicate_page_text(data: bytes, page_number: int, needle: str) -> bytes:
    """A text object drawn a second time, right after the first one holding ``needle``
    (an extra run inserted on the page, where it overprints the original)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        blocks = _text_blocks(pdf, page_number)
        at = _find_block(blocks, needle, page_number)
        blocks.insert(at + 1, blocks[at])
        return _save_blocks(pdf, page_number, blocks)


def move_page_text(data: bytes, page_number: int, needle: str, after: str) -> bytes:
    """Every text object holding ``needle`` (a row's cells) drawn after the one holding
    ``after`` instead: a row moved to another place in the drawing order."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        blocks = _text_blocks(pdf, page_number)
        moved = [b for b in blocks if b[0] is not None and needle in b[0]]
        assert moved, f"{needle!r} not found on page {page_number}"
        kept = [b for b in blocks if not (b[0] is not None and needle in b[0])]
        at = _find_block(kept, after, page_number)
        return _save_blocks(pdf, page_number, kept[: at + 1] + moved + kept[at + 1 :])


def drop_first_page_text(data: bytes, page_number: int, count: int) -> bytes:
    """The page's first ``count`` text objects removed (a repeated table header)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        blocks = _text_blocks(pdf, page_number)
        texts = [i for i, b in enumerate(blocks) if b[0] is not None][:count]
        return _save_blocks(pdf, page_number, [b for i, b in enumerate(blocks) if i not in texts])


def prepend_page_text(data: bytes, from_page: int, count: int, to_page: int) -> bytes:
    """The first ``count`` text objects of one page drawn first on another too (the pages
    share their fonts): a table header repeated where no table continues."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        copied = [b for b in _text_blocks(pdf, from_page) if b[0] is not None][:count]
        target = _text_blocks(pdf, to_page)
        first = next(i for i, b in enumerate(target) if b[0] is not None)
        return _save_blocks(pdf, to_page, target[:first] + copied + target[first:])


def page_runs(data: bytes) -> list[list[str]]:
    from auditor.evidence.verify_pdf import PageReader, open_pdf

    with open_pdf(data) as pdf:
        return PageReader(pdf).pages()


def page_texts(data: bytes) -> list[str]:
    from auditor.evidence.verify_pdf import PageReader, open_pdf

    with open_pdf(data) as pdf:
        return ["".join(runs) for runs in PageReader(pdf).pages()]


def swap_page(data: bytes, other: bytes, page_number: int) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf, pikepdf.open(io.BytesIO(other)) as donor:
        pdf.pages[page_number - 1] = donor.pages[page_number - 1]
        buffer = io.BytesIO()
        pdf.save(buffer)
        return buffer.getvalue()


def replace_attachment(data: bytes, name: str, content: bytes, *, update_manifest: bool) -> bytes:
    """Replace an attachment; with ``update_manifest`` also its manifest entry and the
    digest in the document information, as a careful forger would."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        spec = pdf.attachments[name]
        spec.get_file().obj.write(content)
        if update_manifest and name == "manifest.json":
            pdf.docinfo["/auditattachmentmanifestjson"] = hashlib.sha256(content).hexdigest()
        elif update_manifest:
            manifest_spec = pdf.attachments["manifest.json"]
            manifest = json.loads(manifest_spec.get_file().read_bytes())
            digest = hashlib.sha256(content).hexdigest()
            manifest["attachments"][name].update(sha256=digest, size=len(content))
            new_manifest = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2).encode()
            manifest_spec.get_file().obj.write(new_manifest)
            key = "/auditattachment" + "".join(ch for ch in name if ch.isalnum())
            if key in pdf.docinfo:
                pdf.docinfo[key] = digest
            mkey = "/auditattachmentmanifestjson"
            if mkey in pdf.docinfo:
                pdf.docinfo[mkey] = hashlib.sha256(new_manifest).hexdigest()
        buffer = io.BytesIO()
        pdf.save(buffer)
        return buffer.getvalue()


def attachment(data: bytes, name: str) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return bytes(pdf.attachments[name].get_file().read_bytes())


def append_info_update(signed: bytes, title: str) -> bytes:
    """An incremental update after the signature, changing the document information."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    info = writer.trailer["/Info"]
    info_obj = info.get_object()
    info_obj[generic.NameObject("/Title")] = generic.TextStringObject(title)
    writer.update_container(info_obj)
    out = io.BytesIO()
    writer.write(out)
    return signed + out.getvalue()[len(signed) :] if out.getvalue().startswith(signed) else out.getvalue()
