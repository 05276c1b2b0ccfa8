"""The PDF report: PDF/A-3b with its evidence attached.

Attached (AFRelationship): the findings CSV and coverage-matrix CSV (Data), the snapshot
JSON and the effective config (Source), and a manifest of SHA-256 digests (Supplement)
that ``mfa-audit verify`` checks. Deterministic: the same context gives the same bytes
(dates come from ``generated_at``, the document id from the run id, fonts are the
packaged DejaVu, subset by HarfBuzz). WeasyPrint may fetch nothing but those fonts.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any, BinaryIO

from auditor.interfaces import RenderError, ReportContext
from auditor.render import pseudonym
from auditor.render.document import evidence_files, render_html
from auditor.render.view import ReportView

SCHEME = "mfa-report:"
PACKAGED = frozenset({"fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf", "fonts/DejaVuSansMono.ttf"})
PDF_VARIANT = "pdf/a-3b"


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


def pdf_identifier(run_id: str) -> bytes:
    return hashlib.sha256(f"mfa-auditor report {run_id}".encode()).hexdigest()[:32].encode("ascii")


def render_pdf(ctx: ReportContext, fetcher: Any | None = None) -> bytes:
    from weasyprint import HTML, Attachment
    from weasyprint.text.fonts import FontConfiguration

    view = ReportView(pseudonym.prepare(ctx))
    evidence = evidence_files(view)
    html = render_html(view, evidence, for_pdf=True)
    fetcher = fetcher if fetcher is not None else package_fetcher()
    fonts = FontConfiguration()
    when = ctx.generated_at
    attachments = [
        Attachment(
            string=a.data, name=a.name, description=a.name, created=when, modified=when, relationship=a.relationship
        )
        for a in evidence
    ]
    with weasyprint_errors() as errors:
        document = HTML(string=html, url_fetcher=fetcher).render(font_config=fonts)
        data: bytes = document.write_pdf(
            attachments=attachments,
            pdf_variant=PDF_VARIANT,
            pdf_identifier=pdf_identifier(view.result.run_id),
            custom_metadata=True,
        )
    if errors.messages:
        raise RenderError("PDF rendering failed: " + "; ".join(m[:300] for m in errors.messages[:5]))
    return data


class PdfRenderer:
    extension = "pdf"
    media_type = "application/pdf"

    def render(self, ctx: ReportContext, out: BinaryIO) -> None:
        out.write(render_pdf(ctx))
