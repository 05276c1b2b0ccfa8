"""CSV outputs: the findings (this renderer's stream) and the coverage matrix
(``write_coverage_csv``, declared as an extra output, which the pipeline writes beside it). UTF-8, RFC 4180, CRLF; cells
that a spreadsheet would read as a formula are quoted as text.

The bytes are the PDF's attachments (``auditor.render.document``): made once per report
context and inflated here, so a run that writes the PDF and the CSV pays for the rows once."""

from __future__ import annotations

from typing import BinaryIO

from auditor.interfaces import ExtraOutput, ReportContext
from auditor.render import pseudonym
from auditor.render.document import coverage_file, findings_file
from auditor.render.view import ReportView


class CsvRenderer:
    extension = "csv"
    media_type = "text/csv"
    extra_outputs = (ExtraOutput("-coverage.csv", lambda ctx, out: write_coverage_csv(ctx, out)),)

    def render(self, ctx: ReportContext, out: BinaryIO) -> None:
        findings_file(ReportView(pseudonym.prepare(ctx))).write_to(out)


def write_coverage_csv(ctx: ReportContext, out: BinaryIO) -> None:
    """The coverage matrix: one row per (account, portal) access that was evaluated."""
    coverage_file(ReportView(pseudonym.prepare(ctx))).write_to(out)
