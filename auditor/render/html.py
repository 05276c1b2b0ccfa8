"""The report as one self-contained HTML page: the PDF's template, CSS and SVG charts
inline, nothing fetched. The evidence files are not embedded; their digests are printed
(the CSV renderer writes the same bytes)."""

from __future__ import annotations

from typing import BinaryIO

from auditor.interfaces import ReportContext
from auditor.render import pseudonym
from auditor.render.document import evidence_files, render_html
from auditor.render.view import ReportView


class HtmlRenderer:
    extension = "html"
    media_type = "text/html"

    def render(self, ctx: ReportContext, out: BinaryIO) -> None:
        view = ReportView(pseudonym.prepare(ctx))
        out.write(render_html(view, evidence_files(view), for_pdf=False).encode("utf-8"))
