"""``verify_report``: a fresh report verifies; a changed attachment or a broken signature
does not."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from types import ModuleType

import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from auditor.render.pdf import render_pdf
from auditor.signing import SigningError, sign_pdf
from auditor.verify import VerifyError, verify_report
from tests.support import reports


def _support() -> ModuleType:
    return reports


ENGINE_READY = (
    importlib.util.find_spec("auditor.config") is not None
    and importlib.util.find_spec("auditor.evaluate") is not None
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    support = _support()
    ctx = support.make_context(support.sample_snapshot(), max_detail_rows=5)
    path = tmp_path_factory.mktemp("verify") / "report.pdf"
    path.write_bytes(render_pdf(ctx))
    return path


def _attachment_checks_ok(result: object) -> bool:
    checks = result.checks  # type: ignore[attr-defined]
    return all(c.ok for c in checks if c.name != "re-evaluation")


def test_a_fresh_report_verifies(report: Path) -> None:
    result = verify_report(report)
    assert _attachment_checks_ok(result), result.lines()
    names = {c.name for c in result.checks}
    assert {"attachment findings.csv", "attachment snapshot.json", "snapshot digest", "findings CSV"} <= names
    reeval = next(c for c in result.checks if c.name == "re-evaluation")
    if ENGINE_READY:
        assert result.ok, result.lines()
    else:
        assert not reeval.ok and "cannot run" in reeval.detail
    assert result.to_data()["run_id"] == result.run_id


def test_one_changed_byte_in_an_attachment_fails(report: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.pdf"
    with pikepdf.open(report) as pdf:
        spec = pdf.attachments["findings.csv"]
        data = bytearray(spec.get_file().read_bytes())
        data[-3] = ord("X") if data[-3] != ord("X") else ord("Y")
        spec.get_file().obj.write(bytes(data))
        pdf.save(tampered)
    result = verify_report(tampered)
    assert not result.ok
    failed = {c.name for c in result.failures}
    assert "attachment findings.csv" in failed
    assert "re-evaluation" in failed  # not attempted on tampered evidence
    assert any("NOT VERIFIED" in line for line in result.lines())


def test_not_a_report_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.pdf"
    bogus.write_bytes(b"hello")
    with pytest.raises(VerifyError, match=r"x\.pdf"):
        verify_report(bogus)


def _rsa_identity() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test auditor")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def test_signature_is_checked_and_tampering_breaks_it(report: Path, tmp_path: Path) -> None:
    key_pem, cert_pem = _rsa_identity()
    unsigned = report.read_bytes()
    signed = sign_pdf(unsigned, key_pem, cert_pem)
    assert signed.startswith(unsigned)  # incremental update
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    result = verify_report(path, trust_roots=[cert_pem])
    assert result.signed
    sig = next(c for c in result.checks if c.name == "signature")
    assert sig.ok, sig.detail
    assert _attachment_checks_ok(result)

    position = signed.index(b"WeasyPrint")
    broken = bytearray(signed)
    broken[position] = ord("w")
    path.write_bytes(bytes(broken))
    sig = next(c for c in verify_report(path, trust_roots=[cert_pem]).checks if c.name == "signature")
    assert not sig.ok


def test_signing_refuses_unreadable_keys_without_echoing_them(report: Path) -> None:
    with pytest.raises(SigningError) as info:
        sign_pdf(report.read_bytes(), b"-----BEGIN PRIVATE KEY-----\nsecretstuff\n", b"")
    assert "secretstuff" not in str(info.value)
