"""CSV outputs: the findings (this renderer's stream) and the coverage matrix
(``write_coverage_csv``, declared as an extra output, which the pipeline writes beside it). UTF-8, RFC 4180, CRLF; cells
that a spreadsheet would read as a formula are quoted as text.

The canonical bytes are the PDF's attachments (``auditor.render.document``): made once per
report context and inflated here, so a run that writes the PDF and the CSV pays for the
rows once. A report in another language, or with another ``report.csv_delimiter``, gets
the spreadsheet form instead: headers in its language, its delimiter, and a UTF-8
byte-order mark (Excel reads accents right only with it); the attachments stay canonical,
since ``mfa-audit verify`` reads them."""

from __future__ import annotations

from typing import BinaryIO

from auditor.interfaces import ExtraOutput, ReportContext
from auditor.render import pseudonym
from auditor.render.document import coverage_file, findings_file
from auditor.render.i18n import catalogue
from auditor.render.rows import COVERAGE_COLUMNS, FINDING_COLUMNS, Codec, write_coverage_rows, write_finding_rows
from auditor.render.view import ReportView


def spreadsheet_codec(ctx: ReportContext) -> Codec | None:
    """The codec of the CSV written beside the report; None: the canonical form."""
    language, delimiter = ctx.options.language, ctx.options.csv_delimiter
    if language == "en" and delimiter == ",":
        return None
    strings = catalogue(language)
    labels = {c: strings.get(f"csv.{c}", c) for c in (*FINDING_COLUMNS, *COVERAGE_COLUMNS)}
    return Codec(delimiter, labels, bom=language != "en")


class CsvRenderer:
    extension = "csv"
    media_type = "text/csv"
    extra_outputs = (ExtraOutput("-coverage.csv", lambda ctx, out: write_coverage_csv(ctx, out)),)

    def render(self, ctx: ReportContext, out: BinaryIO) -> None:
        view = ReportView(pseudonym.prepare(ctx))
        codec = spreadsheet_codec(ctx)
        if codec is None:
            findings_file(view).write_to(out)
            return
        write_finding_rows(view, out, codec)


def write_coverage_csv(ctx: ReportContext, out: BinaryIO) -> None:
    """The coverage matrix: one row per (account, portal) access that was evaluated."""
    view = ReportView(pseudonym.prepare(ctx))
    codec = spreadsheet_codec(ctx)
    if codec is None:
        coverage_file(view).write_to(out)
        return
    write_coverage_rows(view, out, codec)
