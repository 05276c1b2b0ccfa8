"""The PDF report: PDF/A-3a and PDF/UA-1 (tagged), with its evidence attached.

Attached (AFRelationship): the findings CSV and coverage-matrix CSV (Data), the snapshot
JSON and the effective config (Source), and a manifest of SHA-256 digests (Supplement)
that ``mfa-audit verify`` checks. Deterministic: the same context gives the same bytes
(dates come from ``generated_at``, the document id from the run id, fonts are the
packaged DejaVu, subset by HarfBuzz). WeasyPrint may fetch nothing but those fonts.
"""

from __future__ import annotations

import gc
import hashlib
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any, BinaryIO, cast

from auditor.evidence.attachments import EvidenceFile
from auditor.interfaces import RenderError, ReportContext
from auditor.render import pseudonym
from auditor.render.document import evidence_files, render_html
from auditor.render.i18n import Translator
from auditor.render.view import ReportView

SCHEME = "mfa-report:"
PACKAGED = frozenset({"fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf", "fonts/DejaVuSansMono.ttf"})
# PDF/A-3a: archival, with attachments, and tagged (structure tree, /Lang, /Alt on every
# chart, table header cells). WeasyPrint takes one variant; PDF/UA-1 is claimed beside it
# with its XMP identification (and the extension schema PDF/A asks for any namespace it
# does not predefine) and the viewer preference PDF/UA requires (``_embed``).
PDF_VARIANT = "pdf/a-3a"
PDFUA_XMP = "pdfua.xmp"  # in report_templates: the rdf:Description elements of pdfuaid:part 1 and its schema


def _with_pdfua(xmp: bytes) -> bytes:
    """WeasyPrint's XMP packet with the PDF/UA-1 identification added inside its one
    ``rdf:RDF`` (a second ``rdf:RDF`` would not be read)."""
    extra = files("report_templates").joinpath(PDFUA_XMP).read_bytes()
    marker = b"</rdf:RDF>"
    at = xmp.find(marker)
    return xmp if at < 0 or b"pdfuaid" in xmp else xmp[:at] + extra + xmp[at:]


def package_fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves the packaged fonts and refuses anything else
    (files, http, data: URLs): a display name crafted as markup cannot fetch a thing."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class PackageFetcher(URLFetcher):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(allowed_protocols=("mfa-report",), allow_redirects=False, fail_on_errors=False)
            self.served: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            name = url[len(SCHEME) :] if url.startswith(SCHEME) else None
            if name in PACKAGED:
                self.served.append(url)
                data = files("report_templates").joinpath(name).read_bytes()
                return URLFetcherResponse(url, data, {"Content-Type": "font/ttf"})
            self.refused.append(url)
            raise ValueError(f"not a packaged report resource: {url[:200]}")

    return PackageFetcher()


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def weasyprint_errors() -> Iterator[_Collect]:
    """Collects WeasyPrint's ERROR logs: a misspelt option or a failed resource is only
    logged there, and a report must not ship with one silently missing."""
    handler = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Reference counting only while WeasyPrint lays out and writes the document.

    WeasyPrint allocates hundreds of thousands of small objects (boxes, the tagged
    structure tree, pydyf objects) and keeps most of them to the end, so the cyclic
    collector runs again and again over objects that are all still alive: measured at
    100k accounts, 3-4 s of the ~18 s of CPU the tagged PDF costs, and no lower peak RSS
    with it than without (docs/scale.md). The collector is restored on the way out, and
    the cycles left (few) are collected then."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def pdf_identifier(run_id: str) -> bytes:
    return hashlib.sha256(f"mfa-auditor report {run_id}".encode()).hexdigest()[:32].encode("ascii")


def render_pdf(ctx: ReportContext, fetcher: Any | None = None) -> bytes:
    out = io.BytesIO()
    write_pdf(ctx, out, fetcher)
    return out.getvalue()


def write_pdf(ctx: ReportContext, out: BinaryIO, fetcher: Any | None = None) -> None:
    """Lay the document out with WeasyPrint, then embed the evidence with pikepdf.

    WeasyPrint reads an attachment whole and compresses it in memory, twice the size of
    a file that reaches 700 MiB at a million accounts; the evidence files are deflated
    already (``auditor.evidence.attachments``), and a ``/FlateDecode`` stream takes them as they are."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    view = ReportView(pseudonym.prepare(ctx))
    evidence = evidence_files(view)
    # A zero-width space is what WeasyPrint draws for <wbr> (html5_ua.css), without the
    # element and its ::before box per break opportunity: thousands fewer boxes to lay out.
    html = render_html(view, evidence, for_pdf=True).replace("<wbr>", "\u200b")
    fetcher = fetcher if fetcher is not None else package_fetcher()
    with weasyprint_errors() as errors, _without_cycle_collection():
        document = HTML(string=html, url_fetcher=fetcher).render(font_config=FontConfiguration())
        # No identifier asked of WeasyPrint: pydyf would serialise every object a second
        # time to hash it (tens of thousands in the structure tree); ``_embed`` sets the
        # first /ID half from the run id and qpdf derives the second from the content.
        laid_out: bytes = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_identifier=False, custom_metadata=True)
    if errors.messages:
        raise RenderError("PDF rendering failed: " + "; ".join(m[:300] for m in errors.messages[:5]))
    del document, html
    t = Translator(view.ctx.options.language)
    descriptions = {f.name: t(f.description_key) for f in evidence}
    _embed(laid_out, evidence, descriptions, ctx.generated_at, pdf_identifier(view.result.run_id), out)


class _GuardedStream(io.RawIOBase):
    """The stream pikepdf saves to, which never raises into it: an ``OSError`` from the
    real stream (a full disk) raised inside pikepdf's C++ writer, or in its final flush,
    aborts the whole process (rc 134). The first error is kept, the rest of the bytes
    are dropped, and ``_embed`` raises the error once pikepdf has returned."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__()
        self._out = out
        self.error: OSError | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = len(memoryview(data))
        if self.error is None:
            try:
                self._out.write(bytes(data))
            except OSError as exc:
                self.error = exc
        return size

    def flush(self) -> None:
        if self.error is None:
            try:
                self._out.flush()
            except OSError as exc:
                self.error = exc


def _pdf_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")


def _embed(
    laid_out: bytes,
    evidence: list[EvidenceFile],
    descriptions: dict[str, str],
    when: datetime,
    identifier: bytes,
    out: BinaryIO,
) -> None:
    """PDF/A-3 associated files: each an /EmbeddedFile stream with its MIME subtype, size,
    MD5 checksum and dates, a /Filespec with /AFRelationship, listed in the catalog's /AF
    and in the /EmbeddedFiles name tree (sorted by name, as a name tree must be)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, String

    with pikepdf.open(io.BytesIO(laid_out)) as pdf:
        date = String(_pdf_date(when))
        names = Array()
        associated = Array()
        for file in sorted(evidence, key=lambda f: f.name):
            stream = pikepdf.Stream(pdf, b"")
            stream.write(file.deflated, filter=Name.FlateDecode)
            stream.Type = Name.EmbeddedFile
            stream.Subtype = Name("/" + file.media_type)
            stream.Params = Dictionary(
                Size=file.size, CheckSum=String(bytes.fromhex(file.md5)), CreationDate=date, ModDate=date
            )
            spec = pdf.make_indirect(
                Dictionary(
                    Type=Name.Filespec,
                    F=String(file.name),
                    UF=String(file.name),
                    Desc=String(descriptions.get(file.name, file.name)),
                    EF=Dictionary(F=pdf.make_indirect(stream)),
                    AFRelationship=Name("/" + file.relationship),
                )
            )
            names.extend([String(file.name), spec])
            associated.append(spec)
        root = pdf.Root
        if Name.Names not in root:
            root.Names = Dictionary()
        root.Names.EmbeddedFiles = pdf.make_indirect(Dictionary(Names=names))
        root.AF = associated
        if Name.Metadata in root:
            root.Metadata.write(_with_pdfua(root.Metadata.read_bytes()))
        # PDF/UA-1: the title bar shows the document's title, not its file name.
        root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
        # The permanent half of the file identifier (PDF/A asks for one): the run's.
        pdf.trailer.ID = Array([String(identifier), String(identifier)])
        # Streams pass through as they are (nothing is decoded, a compressed stream is
        # not compressed again), and the second /ID half is a digest of the content: the
        # same inputs, the same bytes.
        guarded = _GuardedStream(out)
        pdf.save(
            cast(BinaryIO, guarded),
            # Compresses what has no filter yet: the object streams qpdf generates (left
            # uncompressed, they made the laid-out part of the file four times larger).
            compress_streams=True,
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
            # The structure tree of a tagged PDF is tens of thousands of small objects:
            # packed into compressed object streams, the file is a sixth of the size.
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            fix_metadata_version=False,
            deterministic_id=True,
        )
        if guarded.error is not None:
            raise guarded.error


class PdfRenderer:
    extension = "pdf"
    media_type = "application/pdf"
    signable = True  # PAdES, as an incremental update (auditor.pipeline)

    def render(self, ctx: ReportContext, out: BinaryIO) -> None:
        write_pdf(ctx, out)


def pdf_html(ctx: ReportContext) -> str:
    """The HTML ``write_pdf`` hands WeasyPrint for this context, made the same way but not
    laid out: ``mfa-audit verify`` reads its text to check the pages without layout
    (tests/auditor/test_verify_pages.py asserts the two stay the same string)."""
    view = ReportView(pseudonym.prepare(ctx))
    return render_html(view, evidence_files(view), for_pdf=True).replace("<wbr>", "\u200b")
