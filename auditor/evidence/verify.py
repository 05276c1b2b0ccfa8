"""``mfa-audit verify REPORT.pdf``: does this report say what its evidence says, and who said it?

1. The evidence is there: a valid manifest listing at least the snapshot, the config
   and the findings, each attachment present with the manifest's SHA-256, size and
   relationship (and the same digest in the document information); nothing unlisted.
2. The snapshot's digest and the findings CSV agree with the manifest.
3. The snapshot, re-evaluated with the attached config at the recorded time and run
   id, gives the same findings.
4. The pages print what that evaluation gives: the report's HTML is made again from the
   evidence by the same templates, and the text of every page compared with its text,
   what layout adds (running headers, footers, repeated table headers, the contents'
   page numbers, charts, list markers) checked against what it must say
   (``auditor.evidence.verify_expected``, ``auditor.evidence.verify_text``). With
   ``layout=True`` (``verify --layout``) the report is also laid out again and compared
   page by page (``auditor.evidence.verify_pages``), which proves the pagination too.
5. With ``--previous``, the "since the last report" figures re-derived from both runs'
   evidence (``auditor.evidence.verify_since``).
6. Signatures: intact, covering the whole file, timestamp valid; trusted only through
   ``--trust`` / ``--signer-fingerprint`` (``auditor.evidence.verify_signature``).

Everything read from the file is validated first, work is bounded (size caps, visited
sets, JSON/YAML limits, a time budget on re-evaluation and re-rendering), and each
failure is a FAIL line with its reason: a file that cannot be examined at all is a
``VerifyError``; never a traceback.
"""

from __future__ import annotations

import csv
import hashlib
import io
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from auditor.evidence.attachments import SNAPSHOT_NAME
from auditor.evidence.verify_manifest import REQUIRED_FILES, Manifest, ManifestError, parse_manifest
from auditor.evidence.verify_pdf import (
    Attachment,
    MiB,
    Unreadable,
    check_object_streams,
    embedded_files,
    info_digests,
    open_pdf,
)
from auditor.evidence.verify_result import Check, SignatureState, VerifyResult
from auditor.evidence.verify_signature import SignatureOutcome, check_signatures
from auditor.evidence.verify_since import Evidence
from auditor.interfaces import AuditorError
from auditor.render.document import CONFIG_NAME, FINDINGS_NAME, MANIFEST_FORMAT, MANIFEST_NAME

__all__ = ["Check", "SignatureState", "VerifyError", "VerifyResult", "verify_report"]

MAX_FILE = 4096 * MiB
MAX_CONFIG = 1 * MiB
# Re-evaluating and re-rendering take a few seconds per 10 MB of snapshot; the budget is
# generous for real evidence and ends crafted evidence that would take minutes.
BUDGET_BASE_S = 120.0
BUDGET_PER_MIB_S = 3.0


class VerifyError(AuditorError):
    """The file cannot be examined at all (unreadable, not a PDF, not an mfa-auditor report)."""


class BudgetExceeded(Exception):
    pass


def verify_report(
    pdf_path: Path,
    *,
    trust_roots: Sequence[bytes] = (),
    signer_fingerprint: str | None = None,
    require_signature: bool = False,
    check_pages: bool = True,
    previous: Path | None = None,
    layout: bool = False,
) -> VerifyResult:
    """``previous``: the report of the run this one's "since the last report" figures are
    against; they are then re-derived from both runs' evidence (``verify_since``)."""
    from auditor.evidence.verify_signature import TrustInputError, load_trust, normalise_fingerprint

    try:
        trust = load_trust(trust_roots)
        pin = normalise_fingerprint(signer_fingerprint) if signer_fingerprint is not None else None
    except TrustInputError as exc:
        raise VerifyError(str(exc)) from None
    try:
        size = pdf_path.stat().st_size
        if size > MAX_FILE:
            raise VerifyError(f"{pdf_path}: larger than {MAX_FILE // MiB} MiB")
        data = pdf_path.read_bytes()
    except OSError as exc:
        raise VerifyError(f"{pdf_path}: cannot be read: {exc.strerror}") from None
    if not data.startswith(b"%PDF-"):
        raise VerifyError(f"{pdf_path}: not a PDF")
    try:
        check_object_streams(data)
        pdf = open_pdf(data)
    except Unreadable as exc:
        raise VerifyError(f"{pdf_path}: {exc}") from None
    earlier: Evidence | Check | None = None
    if previous is not None:
        # Before this report's budget starts: its own verification keeps its own budget.
        earlier = _previous_evidence(previous)
    with pdf:
        checks, manifest, found = _evidence_checks(pdf, pdf_path, check_pages, earlier, layout)
    try:
        with _budget(BUDGET_BASE_S):
            signatures = check_signatures(data, trust, pin)
    except BudgetExceeded:
        signatures = SignatureOutcome(checks=[Check("signature", False, "validation did not end within its budget")])
    checks.extend(signatures.checks)
    if require_signature and signatures.state is not SignatureState.TRUSTED:
        checks.append(
            Check("signature required", False, f"--require-signature: the report is {signatures.state.value}")
        )
    return VerifyResult(
        pdf_path,
        tuple(checks),
        run_id=manifest.run_id if manifest is not None else None,
        signature=signatures.state,
        signature_detail=signatures.detail,
        attachments=found,
    )


def _evidence_checks(
    pdf: Any, path: Path, check_pages: bool, previous: Evidence | Check | None = None, layout: bool = False
) -> tuple[list[Check], Manifest | None, dict[str, str]]:
    files, problems = embedded_files(pdf)
    checks = [Check("document structure", False, p) for p in problems if "no embedded files" not in p]
    if MANIFEST_NAME not in files:
        if not files and not checks:
            raise VerifyError(f"{path}: no {MANIFEST_NAME} attachment: not an mfa-auditor report")
        checks.append(Check("manifest", False, f"no {MANIFEST_NAME} attachment"))
        return checks, None, {}
    try:
        manifest = parse_manifest(files[MANIFEST_NAME].data, MANIFEST_FORMAT)
    except ManifestError as exc:
        checks.append(Check("manifest", False, f"{MANIFEST_NAME} is not a valid manifest: {exc}"))
        return checks, None, {}
    found = {name: hashlib.sha256(a.data).hexdigest() for name, a in files.items()}
    checks.extend(_attachment_checks(pdf, files, found, manifest))
    missing = [n for n in REQUIRED_FILES if n not in manifest.attachments]
    if missing:
        checks.append(
            Check("evidence", False, f"the manifest lists no {', '.join(missing)}: the report cannot be re-checked")
        )
    if SNAPSHOT_NAME in files:
        snap_ok = found[SNAPSHOT_NAME] == manifest.snapshot_sha256
        checks.append(Check("snapshot digest", snap_ok, "" if snap_ok else "differs from the run's recorded digest"))
    if FINDINGS_NAME in files:
        checks.append(_findings_csv_check(files[FINDINGS_NAME].data, manifest))
    if not all(c.ok for c in checks):
        checks.append(Check("re-evaluation", False, "not attempted: the evidence is not intact"))
        return checks, manifest, found
    checks.extend(_reevaluate_and_compare(pdf, files, manifest, path, check_pages, previous, layout))
    return checks, manifest, found


def _attachment_checks(
    pdf: Any, files: Mapping[str, Attachment], found: Mapping[str, str], manifest: Manifest
) -> list[Check]:
    checks = []
    info, info_problem = info_digests(pdf)
    if info_problem:
        checks.append(Check("document information", False, info_problem))
    for name, entry in sorted(manifest.attachments.items()):
        if name not in files:
            checks.append(Check(f"attachment {name}", False, "listed in the manifest, missing from the PDF"))
            continue
        problems = []
        if found[name] != entry.sha256:
            problems.append(f"SHA-256 {found[name][:16]}… differs from the manifest's {entry.sha256[:16]}…")
        if len(files[name].data) != entry.size:
            problems.append(f"size {len(files[name].data)} differs from the manifest's {entry.size}")
        if info.get(_sanitised(name)) not in (None, entry.sha256):
            problems.append("the document information records another digest")
        if files[name].relationship != entry.relationship:
            problems.append(f"relationship {files[name].relationship!r} instead of {entry.relationship!r}")
        checks.append(Check(f"attachment {name}", not problems, "; ".join(problems) or found[name]))
    manifest_digest = info.get(_sanitised(MANIFEST_NAME))
    same = manifest_digest in (None, found[MANIFEST_NAME])
    checks.append(
        Check(
            f"attachment {MANIFEST_NAME}",
            same,
            found[MANIFEST_NAME] if same else "differs from the digest in the document information",
        )
    )
    extra = sorted(set(files) - set(manifest.attachments) - {MANIFEST_NAME})
    if extra:
        checks.append(Check("unlisted attachments", False, ", ".join(repr(n) for n in extra[:10])))
    return checks


def _sanitised(name: str) -> str:
    # WeasyPrint keeps only letters and digits of a custom metadata key.
    return "".join(ch for ch in name if ch.isalnum())


def _findings_csv_check(data: bytes, manifest: Manifest) -> Check:
    try:
        digest = _findings_digest_from_csv(data)
    except (UnicodeDecodeError, KeyError, TypeError, csv.Error) as exc:
        return Check("findings CSV", False, f"unreadable: {type(exc).__name__} {str(exc)[:80]}")
    ok = digest == manifest.findings_digest
    return Check("findings CSV", ok, "" if ok else "does not match the run's findings digest")


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


@contextmanager
def _budget(seconds: float) -> Iterator[None]:
    """A wall-clock budget (SIGALRM, so only in the main thread; elsewhere unbounded)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expired(_signum: int, _frame: Any) -> None:
        raise BudgetExceeded

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _budget_for(files: Mapping[str, Attachment]) -> float:
    """Seconds that re-evaluating (and re-rendering) this much evidence may take."""
    return BUDGET_BASE_S + BUDGET_PER_MIB_S * sum(len(a.data) for a in files.values()) / MiB


def _reevaluate_and_compare(
    pdf: Any,
    files: Mapping[str, Attachment],
    manifest: Manifest,
    path: Path,
    check_pages: bool,
    previous: Evidence | Check | None = None,
    layout: bool = False,
) -> list[Check]:
    seconds = _budget_for(files)
    try:
        with _budget(seconds):
            return _reevaluate(pdf, files, manifest, path, check_pages, previous, layout)
    except BudgetExceeded:
        return [Check("re-evaluation", False, f"stopped after {seconds:.0f} s: more work than this evidence warrants")]
    except RecursionError:
        return [Check("re-evaluation", False, "the attached evidence is nested too deeply")]
    except MemoryError:
        return [Check("re-evaluation", False, "the attached evidence needs more memory than is available")]


def _evidence_of(files: Mapping[str, Attachment], manifest: Manifest, path: Path) -> Evidence | Check:
    """The attached snapshot re-evaluated with the attached config, at the recorded time
    and run id; or the check that says why it cannot be."""
    try:
        from auditor.config.load import parse_config
        from auditor.engine.evaluate import evaluate
    except ImportError as exc:
        return Check("re-evaluation", False, f"cannot run: {exc}")
    from auditor.evidence.run_artefacts import RunArtefacts
    from auditor.evidence.serialise import snapshot_from_json

    config_file = files[CONFIG_NAME].data
    if len(config_file) > MAX_CONFIG:
        return Check("re-evaluation", False, f"the attached config is larger than {MAX_CONFIG // MiB} MiB")
    try:
        config_text = config_file.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Check("re-evaluation", False, f"the attached config is not UTF-8 text (byte {exc.start})")
    snapshot_file = files[SNAPSHOT_NAME]
    try:
        snapshot = snapshot_from_json(snapshot_file.data)
    except (ValueError, TypeError) as exc:  # SnapshotFormatError, or bytes that are not UTF-8
        return Check("re-evaluation", False, f"attached snapshot unreadable: {str(exc)[:200]}")
    run = RunArtefacts(snapshot)
    if snapshot_file.raw is not None:
        # Its digest is known: re-rendering reuses the attached bytes instead of encoding again.
        run = RunArtefacts.stored(
            snapshot,
            size=len(snapshot_file.data),
            sha256=hashlib.sha256(snapshot_file.data).hexdigest(),
            md5=hashlib.md5(snapshot_file.data, usedforsecurity=False).hexdigest(),
            deflated=snapshot_file.raw,
        )
    config_path = path.with_name(path.stem + ".config.yaml")
    try:
        config = parse_config(config_text, config_path, now=manifest.evaluated_at)
        result = evaluate(snapshot, config.evaluation, now=manifest.evaluated_at, run_id=manifest.run_id)
    except AuditorError as exc:
        return Check("re-evaluation", False, f"attached config or snapshot cannot be evaluated: {str(exc)[:300]}")
    return Evidence(path, manifest, config.digest, config_text, run, result, config)


def _reevaluate(
    pdf: Any,
    files: Mapping[str, Attachment],
    manifest: Manifest,
    path: Path,
    check_pages: bool,
    previous: Evidence | Check | None = None,
    layout: bool = False,
) -> list[Check]:
    from auditor.config.digest import evaluation_digest
    from auditor.evidence.verify_history import HistoryDataError, history_from_data
    from auditor.render.rows import findings_digest

    evidence = _evidence_of(files, manifest, path)
    if isinstance(evidence, Check):
        return [evidence]
    config, config_text, run, result = evidence.config, evidence.config_text, evidence.run, evidence.result
    config_path = path.with_name(path.stem + ".config.yaml")
    checks: list[Check] = []
    digest = findings_digest(result.findings)
    if digest != manifest.findings_digest or len(result.findings) != manifest.findings_count:
        return [
            Check(
                "re-evaluation",
                False,
                f"the attached evidence gives {len(result.findings)} findings (digest {digest[:16]}…), "
                f"the report states {manifest.findings_count} (digest {manifest.findings_digest[:16]}…)",
            )
        ]
    checks.append(
        Check("re-evaluation", True, f"{len(result.findings)} findings reproduced from the attached evidence")
    )
    if not manifest.pseudonymised:
        cover = evaluation_digest(config_text, config_path)
        same = cover == manifest.config_sha256
        checks.append(
            Check(
                "config digest",
                same,
                "the digest of the attached config's evaluation-relevant part"
                if same
                else f"the attached config's evaluation digest is {cover[:16]}…, the report states "
                f"{manifest.config_sha256[:16]}…",
            )
        )
    try:
        history = history_from_data(manifest.history)
    except HistoryDataError as exc:
        return [*checks, Check("pages", False, f"the manifest's history is not valid: {exc}")]
    if check_pages:
        checks.extend(_page_checks(pdf, config, result, run, manifest, history, layout))
    checks.extend(_history_checks(evidence, history, previous))
    return checks


def _history_checks(evidence: Evidence, history: Mapping[str, Any], previous: Evidence | Check | None) -> list[Check]:
    from auditor.evidence.verify_since import since_last_checks

    if isinstance(previous, Check):
        return [previous]
    if previous is not None:
        return since_last_checks(evidence, previous, evidence.manifest.history)
    since = history.get("since_last")
    if since is None:
        return []
    # Said plainly: the previous run's evidence is not in this file.
    return [
        Check(
            "history",
            True,
            f"the 'since the last report' figures are those the manifest records against run "
            f"{since.previous_run_id}; they are not re-derived here (give that run's report with --previous)",
        )
    ]


def _previous_evidence(path: Path) -> Evidence | Check:
    """The previous report's evidence, re-evaluated, once that report verifies itself."""
    name = "previous report"
    outcome = verify_report(path, check_pages=False)
    if not outcome.ok:
        failed = outcome.failures[0]
        return Check(name, False, f"{path.name} does not verify ({failed.name}: {failed.detail[:200]})")
    try:
        pdf = open_pdf(path.read_bytes())
    except (OSError, Unreadable) as exc:
        return Check(name, False, f"{path.name}: {exc}")
    with pdf:
        files, _ = embedded_files(pdf)
        try:
            manifest = parse_manifest(files[MANIFEST_NAME].data, MANIFEST_FORMAT)
            with _budget(_budget_for(files)):
                found = _evidence_of(files, manifest, path)
        except (KeyError, ManifestError, BudgetExceeded, RecursionError, MemoryError) as exc:
            return Check(name, False, f"{path.name}: its evidence cannot be read again ({type(exc).__name__})")
    if isinstance(found, Check):
        return Check(name, False, f"{path.name}: {found.detail}")
    return found


def _page_checks(
    pdf: Any, config: Any, result: Any, run: Any, manifest: Manifest, history: Any, layout: bool
) -> list[Check]:
    from auditor.evidence.verify_pages import rebuild_context
    from auditor.evidence.verify_pdf import PageReader

    try:
        found = PageReader(pdf).page_texts()
    except Unreadable as exc:
        return [Check("pages", False, str(exc))]
    try:
        ctx = rebuild_context(config, result, run, manifest, history)
        if layout:
            return _layout_checks(ctx, [[r.text for r in page.runs] for page in found], manifest)
        return _text_checks(ctx, found, manifest)
    except AuditorError as exc:
        return [Check("pages", False, f"the evidence cannot be rendered again: {str(exc)[:300]}")]


def _text_checks(ctx: Any, found: Any, manifest: Manifest) -> list[Check]:
    """The default check: the pages' text against the text of the report's HTML (no layout)."""
    from auditor.evidence.verify_expected import ExpectedError, read_expected
    from auditor.evidence.verify_pages import version_note
    from auditor.evidence.verify_text import check_page_text
    from auditor.render.pdf import pdf_html

    try:
        expected = read_expected(pdf_html(ctx))
    except ExpectedError as exc:
        return [Check("pages", False, f"the report's HTML cannot be read for the page check: {exc}")]
    note = version_note(manifest)
    return [c if c.ok else Check(c.name, c.ok, c.detail + note) for c in check_page_text(expected, found)]


def _layout_checks(ctx: Any, found: list[list[str]], manifest: Manifest) -> list[Check]:
    """``--layout``: the report laid out again by WeasyPrint, page by page (proves pagination)."""
    from auditor.evidence.verify_pages import compare_pages, render_pages
    from auditor.evidence.verify_pdf import PageReader

    expected_pdf = render_pages(ctx)
    with open_pdf(expected_pdf) as expected_doc:
        expected = PageReader(expected_doc).pages()
    return compare_pages(found, expected, manifest)
