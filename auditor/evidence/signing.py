"""Optional PAdES signature of the PDF report (pyHanko).

The signature is an incremental update: the unsigned report stays a byte prefix of the
signed one. The key must be RSA: an ECDSA key makes pyHanko raise the PDF version to
2.0, which PDF/A-3 forbids. Never rewrite a signed file (qpdf, pikepdf): it breaks the
signature.
"""

from __future__ import annotations

import io
from typing import Any

from auditor.interfaces import AuditorError

FIELD_NAME = "MFAAuditReport"


class SigningError(AuditorError):
    """The report could not be signed (unreadable key or certificate, wrong key type)."""


def sign_pdf(
    in_bytes: bytes,
    key_pem: bytes,
    cert_pem: bytes,
    *,
    passphrase: bytes | None = None,
    reason: str = "MFA coverage audit report",
    timestamp_url: str | None = None,
    timestamper: Any = None,
) -> bytes:
    """Sign ``in_bytes`` (PAdES, SHA-256). With ``timestamp_url`` (or a ready
    ``timestamper``, for tests) the signature carries an RFC 3161 timestamp from that
    authority: proof the report existed at that time, whatever the signer's clock says."""
    from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.timestamps import TimestampRequestError
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    try:
        key = load_private_key_from_pemder_data(key_pem, passphrase)
        certs = list(load_certs_from_pemder_data(cert_pem))
    except (ValueError, TypeError, OSError) as exc:
        # Never echo the key material: only say which input is wrong.
        raise SigningError(f"report.signing: the key or certificate cannot be read ({type(exc).__name__})") from None
    if not certs:
        raise SigningError("report.signing.certificate: no certificate found in the file")
    if key.algorithm != "rsa":
        raise SigningError(f"report.signing.key: expected an RSA key (PDF/A-3 keeps PDF 1.7), got {key.algorithm}")
    signer = signers.SimpleSigner(
        signing_cert=certs[0],
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs(certs),  # type: ignore[no-untyped-call]
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES, reason=reason
    )
    if timestamper is None and timestamp_url is not None:
        timestamper = _http_timestamper(timestamp_url)
    writer = IncrementalPdfFileWriter(io.BytesIO(in_bytes))
    try:
        out = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper)
    except TimestampRequestError as exc:
        raise SigningError(f"report.signing.timestamp_url: the time-stamping authority failed ({exc})") from None
    data: bytes = out.getvalue()
    return data


def _http_timestamper(url: str) -> Any:
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    if not url.startswith(("https://", "http://")):
        raise SigningError(f"report.signing.timestamp_url: expected an http(s) URL, got {url[:100]!r}")
    return RequestsHTTPTimeStamper(url, timeout=30)  # type: ignore[no-untyped-call]
