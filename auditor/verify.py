"""``mfa-audit verify REPORT.pdf``: is this report what the evidence says?

1. Every attachment the manifest lists is present and has the SHA-256 the manifest
   records; the same digests are in the PDF's document information (custom metadata).
2. The snapshot's digest and the findings CSV agree with the manifest.
3. The attached snapshot, re-evaluated with the attached configuration at the recorded
   time and run id, gives the same findings (rule, severity, source, account, portal).
4. When the PDF is signed, every signature's ``bottom_line`` holds (integrity, and trust
   in the signer: the embedded certificate unless trust roots are given).

A failed check is reported, never skipped silently; a check that cannot run (engine or
config loader missing) fails too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from auditor.evidence import SNAPSHOT_NAME
from auditor.interfaces import AuditorError
from auditor.render.document import CONFIG_NAME, FINDINGS_NAME, MANIFEST_FORMAT, MANIFEST_NAME


class VerifyError(AuditorError):
    """The file cannot be examined at all (not a PDF, not an mfa-auditor report)."""


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class VerifyResult:
    path: Path
    checks: tuple[Check, ...]
    run_id: str | None = None
    signed: bool = False
    attachments: Mapping[str, str] = field(default_factory=dict, hash=False)  # name -> sha256 found

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def lines(self) -> list[str]:
        out = [f"report: {self.path}", f"run id: {self.run_id or '?'}"]
        out += [f"{'ok  ' if c.ok else 'FAIL'} {c.name}" + (f": {c.detail}" if c.detail else "") for c in self.checks]
        out.append("VERIFIED" if self.ok else f"NOT VERIFIED: {len(self.failures)} check(s) failed")
        return out

    def to_data(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "run_id": self.run_id,
            "ok": self.ok,
            "signed": self.signed,
            "attachments": dict(self.attachments),
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


# --- reading the PDF ---------------------------------------------------------------------


def _obj(value: Any) -> Any:
    return value.get_object() if hasattr(value, "get_object") else value


def _embedded_files(reader: Any) -> tuple[dict[str, bytes], dict[str, str]]:
    """Attachments by name, and their /AFRelationship, from the EmbeddedFiles name tree."""
    files: dict[str, bytes] = {}
    relationships: dict[str, str] = {}
    root = _obj(reader.root)
    names = _obj(root.get("/Names"))
    if names is None or "/EmbeddedFiles" not in names:
        return files, relationships
    stack = [_obj(names["/EmbeddedFiles"])]
    while stack:
        node = stack.pop()
        stack.extend(_obj(kid) for kid in node.get("/Kids", ()))
        pairs = list(node.get("/Names", ()))
        for i in range(0, len(pairs) - 1, 2):
            spec = _obj(pairs[i + 1])
            name = str(_obj(spec.get("/UF", spec.get("/F", pairs[i]))))
            stream = _obj(_obj(spec["/EF"])["/F"])
            files[name] = bytes(stream.data)
            rel = spec.get("/AFRelationship")
            relationships[name] = str(_obj(rel)).lstrip("/") if rel is not None else ""
    return files, relationships


def _info_digests(reader: Any) -> dict[str, str]:
    """Attachment digests from the document information (custom metadata)."""
    info = _obj(reader.trailer_view.get("/Info")) if hasattr(reader, "trailer_view") else None
    out: dict[str, str] = {}
    if info is None:
        return out
    for key, value in info.items():
        k = str(key).lstrip("/")
        if k.startswith("auditattachment"):
            out[k[len("auditattachment") :]] = str(_obj(value))
    return out


def _sanitised(name: str) -> str:
    # WeasyPrint keeps only letters and digits of a custom metadata key.
    return "".join(ch for ch in name if ch.isalnum())


# --- checks ------------------------------------------------------------------------------


def _findings_digest_from_csv(data: bytes) -> str:
    rows = csv.DictReader(io.StringIO(data.decode("utf-8")))

    def plain(value: str) -> str:
        # The CSV quotes cells a spreadsheet would read as formulas with a leading '.
        return value[1:] if value[:2] in ("'=", "'+", "'-", "'@") else value

    keys = sorted(
        "\t".join((r["rule_id"], r["severity"], r["source"], plain(r["account_id"]), plain(r["portal_id"])))
        for r in rows
    )
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()


def _snapshot_json(files: Mapping[str, bytes]) -> bytes:
    return files[SNAPSHOT_NAME]


def _reevaluate(files: Mapping[str, bytes], manifest: Mapping[str, Any], path: Path) -> Check:
    try:
        from auditor.config import parse_config  # type: ignore[import-not-found,unused-ignore]
        from auditor.evaluate import evaluate
    except ImportError as exc:
        return Check("re-evaluation", False, f"cannot run: {exc}")
    from auditor.render.rows import findings_digest
    from auditor.serialise import snapshot_from_json

    try:
        snapshot = snapshot_from_json(_snapshot_json(files))
    except ValueError as exc:  # SnapshotFormatError, or bytes that are not UTF-8
        return Check("re-evaluation", False, f"attached snapshot unreadable: {exc}")
    evaluated_at = datetime.fromisoformat(str(manifest["evaluated_at"]))
    try:
        config = parse_config(
            files[CONFIG_NAME].decode("utf-8"), path.with_name(path.stem + ".config.yaml"), now=evaluated_at
        )
        result = evaluate(snapshot, config.evaluation, now=evaluated_at, run_id=str(manifest["run_id"]))
    except AuditorError as exc:
        return Check("re-evaluation", False, f"attached config or snapshot cannot be evaluated: {exc}")
    digest = findings_digest(result.findings)
    expected = manifest.get("findings_digest")
    if digest != expected:
        return Check(
            "re-evaluation",
            False,
            f"the attached evidence gives {len(result.findings)} findings (digest {digest[:16]}…), "
            f"the report states {manifest.get('findings_count')} (digest {str(expected)[:16]}…)",
        )
    return Check("re-evaluation", True, f"{len(result.findings)} findings reproduced from the attached evidence")


def _signatures(reader: Any, trust_roots: Sequence[bytes]) -> list[Check]:
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    checks = []
    for sig in reader.embedded_signatures:
        roots = [c for pem in trust_roots for c in load_certs_from_pemder_data(pem)]
        signer = sig.signer_cert
        if not roots:
            roots = [signer]  # integrity and signer identity only: reported as such
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=roots))
        subject = signer.subject.human_friendly
        fingerprint = signer.sha256.hex()
        trust = "trusted root" if trust_roots else "signer certificate (no trust root given)"
        detail = f"{sig.field_name}: signed by {subject} (cert SHA-256 {fingerprint[:16]}…), checked against {trust}"
        if not status.bottom_line:
            detail += f"; {status.summary()}"
        checks.append(Check("signature", bool(status.bottom_line), detail))
    return checks


def verify_report(pdf_path: Path, *, trust_roots: Sequence[bytes] = ()) -> VerifyResult:
    """Verify a report. A file that cannot be decoded where it should be (a compressed
    stream whose checksum fails, a broken cross-reference) has been altered: that is a
    failed verification, not an error of the tool."""
    import zlib

    from pyhanko.pdf_utils.misc import PdfReadError

    try:
        return _verify(pdf_path, trust_roots)
    except (zlib.error, PdfReadError) as exc:
        return VerifyResult(pdf_path, (Check("document structure", False, f"the PDF is damaged or altered ({exc})"),))


def _verify(pdf_path: Path, trust_roots: Sequence[bytes]) -> VerifyResult:
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        data = pdf_path.read_bytes()
    except OSError as exc:
        raise VerifyError(f"{pdf_path}: cannot be read: {exc.strerror}") from None
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        files, relationships = _embedded_files(reader)
    except (PdfReadError, KeyError, ValueError) as exc:
        raise VerifyError(f"{pdf_path}: not a readable PDF ({exc})") from None
    checks: list[Check] = []
    if MANIFEST_NAME not in files:
        raise VerifyError(f"{pdf_path}: no {MANIFEST_NAME} attachment: not an mfa-auditor report")
    try:
        manifest = json.loads(files[MANIFEST_NAME])
        if manifest.get("format") != MANIFEST_FORMAT:
            raise ValueError("format")
        listed: dict[str, Any] = manifest["attachments"]
    except (ValueError, KeyError, TypeError):
        return VerifyResult(pdf_path, (Check("manifest", False, f"{MANIFEST_NAME} is not a valid manifest"),))
    found = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    info = _info_digests(reader)
    for name, entry in sorted(listed.items()):
        if name not in files:
            checks.append(Check(f"attachment {name}", False, "listed in the manifest, missing from the PDF"))
            continue
        problems = []
        if found[name] != entry.get("sha256"):
            problems.append(f"SHA-256 {found[name][:16]}… differs from the manifest's {str(entry.get('sha256'))[:16]}…")
        if len(files[name]) != entry.get("size"):
            problems.append(f"size {len(files[name])} differs from the manifest's {entry.get('size')}")
        if info.get(_sanitised(name)) not in (None, entry.get("sha256")):
            problems.append("the document information records another digest")
        if relationships.get(name) != entry.get("relationship"):
            problems.append(f"relationship {relationships.get(name)!r} instead of {entry.get('relationship')!r}")
        checks.append(Check(f"attachment {name}", not problems, "; ".join(problems) or found[name]))
    manifest_digest = info.get(_sanitised(MANIFEST_NAME))
    checks.append(
        Check(
            f"attachment {MANIFEST_NAME}",
            manifest_digest in (None, found[MANIFEST_NAME]),
            found[MANIFEST_NAME]
            if manifest_digest in (None, found[MANIFEST_NAME])
            else "differs from the digest in the document information",
        )
    )
    extra = sorted(set(files) - set(listed) - {MANIFEST_NAME})
    if extra:
        checks.append(Check("unlisted attachments", False, ", ".join(extra)))
    if SNAPSHOT_NAME in files:
        snap_ok = hashlib.sha256(_snapshot_json(files)).hexdigest() == manifest.get("snapshot_sha256")
        checks.append(Check("snapshot digest", snap_ok, "" if snap_ok else "differs from the run's recorded digest"))
    if FINDINGS_NAME in files:
        try:
            csv_digest = _findings_digest_from_csv(files[FINDINGS_NAME])
            csv_ok = csv_digest == manifest.get("findings_digest")
            checks.append(Check("findings CSV", csv_ok, "" if csv_ok else "does not match the run's findings digest"))
        except (UnicodeDecodeError, KeyError, csv.Error) as exc:
            checks.append(Check("findings CSV", False, f"unreadable: {exc}"))
    if SNAPSHOT_NAME in files and CONFIG_NAME in files and all(c.ok for c in checks):
        checks.append(_reevaluate(files, manifest, pdf_path))
    elif not all(c.ok for c in checks):
        checks.append(Check("re-evaluation", False, "not attempted: the attachments are not intact"))
    signatures = _signatures(reader, trust_roots)
    checks.extend(signatures)
    return VerifyResult(
        pdf_path, tuple(checks), run_id=manifest.get("run_id"), signed=bool(signatures), attachments=found
    )
