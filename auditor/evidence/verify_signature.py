"""Who signed a report, whether it is intact, and whether the signer is trusted.

A signature proves integrity; trust comes only from what the person verifying gives:
``--trust`` (a CA or certificate bundle the chain must reach) and/or
``--signer-fingerprint`` (the SHA-256 of the one certificate allowed to have signed).
A certificate anyone can make with the same common name is therefore "signed, signer
not trusted". The signature must cover the whole file: anything appended after it
(an incremental update editing ``/Info`` or a page) fails. A timestamp inside the
signature (RFC 3161) must be intact and valid; with ``--trust`` its authority must
chain to a trusted root too.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from auditor.evidence.verify_result import Check, SignatureState

_FINGERPRINT = re.compile(r"[0-9a-f]{64}")


class TrustInputError(ValueError):
    """A --trust file or --signer-fingerprint value is unusable."""


def load_trust(pems: Sequence[bytes]) -> list[Any]:
    from pyhanko.keys import load_certs_from_pemder_data

    certs: list[Any] = []
    for i, data in enumerate(pems):
        try:
            found = list(load_certs_from_pemder_data(data))
        except (ValueError, TypeError) as exc:
            raise TrustInputError(f"--trust file {i + 1}: no certificate can be read ({type(exc).__name__})") from None
        if not found:
            raise TrustInputError(f"--trust file {i + 1}: holds no certificate")
        certs.extend(found)
    return certs


def normalise_fingerprint(value: str) -> str:
    cleaned = value.replace(":", "").replace(" ", "").lower()
    if not _FINGERPRINT.fullmatch(cleaned):
        raise TrustInputError("--signer-fingerprint: expected a SHA-256 (64 hexadecimal digits, colons allowed)")
    return cleaned


@dataclass
class SignatureOutcome:
    state: SignatureState = SignatureState.UNSIGNED
    detail: str = ""
    checks: list[Check] = field(default_factory=list)


def check_signatures(data: bytes, trust: Sequence[Any], fingerprint: str | None) -> SignatureOutcome:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception as exc:  # pyHanko raises several types on damaged files
        return SignatureOutcome(checks=[Check("signature", False, f"signatures cannot be read ({_short(exc)})")])
    if not signatures:
        return SignatureOutcome()
    outcome = SignatureOutcome()
    states = []
    for position, sig in enumerate(signatures):
        last = position == len(signatures) - 1
        state, detail, checks = _one(sig, trust, fingerprint, last)
        states.append(state)
        outcome.checks.extend(checks)
        outcome.detail = detail
    signer_trusted = all(s is SignatureState.TRUSTED for s in states)
    failed = [c for c in outcome.checks if not c.ok]
    outcome.state = SignatureState.TRUSTED if signer_trusted and not failed else SignatureState.UNTRUSTED
    if signer_trusted and failed:
        # A trusted signer, but the file is not (only) what was signed, or its timestamp fails.
        outcome.detail += f"; but {failed[0].detail}"
    return outcome


def _short(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _one(
    sig: Any, trust: Sequence[Any], fingerprint: str | None, last: bool
) -> tuple[SignatureState, str, list[Check]]:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    checks: list[Check] = []
    try:
        signer = sig.signer_cert
        subject = str(signer.subject.human_friendly)
        signer_fp = signer.sha256.hex()
    except Exception as exc:
        return SignatureState.UNTRUSTED, "unreadable signer", [Check("signature", False, f"no signer ({_short(exc)})")]
    who = f"{subject} (certificate SHA-256 {signer_fp})"
    # Without trust roots the signer's own certificate anchors the check: integrity only.
    roots = list(trust) or [signer]
    try:
        status = validate_pdf_signature(
            sig,
            signer_validation_context=ValidationContext(trust_roots=roots, allow_fetching=False),
            ts_validation_context=ValidationContext(trust_roots=roots, allow_fetching=False),
        )
    except Exception as exc:
        return SignatureState.UNTRUSTED, who, [Check("signature", False, f"cannot be validated ({_short(exc)})")]
    intact = bool(status.intact and status.valid)
    checks.append(
        Check(
            "signature integrity",
            intact,
            f"signed by {who}" if intact else f"the signed bytes were changed or the signature is broken ({who})",
        )
    )
    if last and status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        checks.append(Check("signature coverage", False, "content was added to the file after it was signed"))
    chain_ok = bool(trust) and bool(status.trusted)
    pin_ok = fingerprint is not None and signer_fp == fingerprint
    if trust:
        checks.append(
            Check(
                "signer trust",
                chain_ok,
                "the signer's certificate chains to a --trust root"
                if chain_ok
                else "the signer's certificate does not chain to any --trust root (or is not valid for signing)",
            )
        )
    if fingerprint is not None:
        checks.append(
            Check(
                "signer fingerprint",
                pin_ok,
                "the signer's certificate is the pinned one"
                if pin_ok
                else f"signed by another certificate: {signer_fp}",
            )
        )
    ts = status.timestamp_validity
    ts_text = ""
    if ts is not None:
        ts_ok = bool(ts.intact and ts.valid) and (not trust or bool(ts.trusted))
        when = ts.timestamp.isoformat() if getattr(ts, "timestamp", None) else "?"
        ts_text = f"; timestamped {when}"
        checks.append(
            Check(
                "timestamp",
                ts_ok,
                f"RFC 3161 timestamp {when}"
                + ("" if ts_ok else " is not valid (token altered, or its authority untrusted or expired)"),
            )
        )
    if not intact:
        return SignatureState.UNTRUSTED, f"the signature of {who} does not match the file{ts_text}", checks
    trusted = (bool(trust) or fingerprint is not None) and (chain_ok or not trust)
    trusted = trusted and (pin_ok or fingerprint is None)
    if trusted:
        how = " and ".join(
            p for p, on in (("chain to a --trust root", bool(trust)), ("pinned fingerprint", fingerprint)) if on
        )
        return SignatureState.TRUSTED, f"signed by {who}, trusted by {how}{ts_text}", checks
    if not trust and fingerprint is None:
        why = "no --trust or --signer-fingerprint was given, so anyone could have made this certificate"
    else:
        why = "the signer does not match what --trust / --signer-fingerprint allow"
    return SignatureState.UNTRUSTED, f"signed by {who}; {why}{ts_text}", checks
