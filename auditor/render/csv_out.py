"""CSV outputs: the findings (this renderer's stream) and the coverage matrix
(``write_coverage_csv``, which the CLI writes beside it). UTF-8, RFC 4180, CRLF; cells
that a spreadsheet would read as a formula are quoted as text."""

from __future__ import annotations

from typing import BinaryIO

from auditor.interfaces import ReportContext
from auditor.render import pseudonym
from auditor.render.rows import (
    COVERAGE_COLUMNS,
    FINDING_COLUMNS,
    iter_coverage_rows,
    iter_finding_rows,
    write_csv,
)
from auditor.render.view import ReportView


class CsvRenderer:
    extension = "csv"
    media_type = "text/csv"

    def render(self, ctx: ReportContext, out: BinaryIO) -> None:
        write_csv(iter_finding_rows(ReportView(pseudonym.prepare(ctx))), FINDING_COLUMNS, out)


def write_coverage_csv(ctx: ReportContext, out: BinaryIO) -> None:
    """The coverage matrix: one row per (account, portal) access that was evaluated."""
    write_csv(iter_coverage_rows(ReportView(pseudonym.prepare(ctx))), COVERAGE_COLUMNS, out)
