"""Retention (GDPR storage limitation): runs older than the retention lose their
account-level data, and keep their aggregates.

Removed: the snapshot, the stored ``AuditResult`` (with its coverage matrix), the config
text (its exceptions register names people), the findings' account ids, principals and
keys, and the messages and records of source issues. Kept: the headline metrics,
coverage per source and per portal, findings counts by rule and severity (and each
finding's rule, severity and portal), per-source completeness. The run is marked purged
and the file is vacuumed, so the identifiers are gone from its bytes, not just hidden.

A run's age is counted from its evaluation time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from auditor.interfaces import AuditorError
from auditor.store.database import EvidenceStore, RunSummary


class RetentionError(AuditorError):
    pass


@dataclass(frozen=True, slots=True)
class PurgeReport:
    cutoff: datetime
    retention_days: int
    dry_run: bool
    purged: tuple[str, ...]  # run ids purged (or that would be)
    already_purged: int
    kept: int  # runs within the retention
    size_before: int  # bytes of the store's files
    size_after: int


def due(runs: list[RunSummary], retention_days: int, now: datetime) -> tuple[list[RunSummary], datetime]:
    """The runs past the retention and not yet purged, and the cutoff."""
    if retention_days < 0:
        raise RetentionError(f"store.retention_days: expected a number of days ≥ 0, got {retention_days}")
    if now.tzinfo is None:
        raise RetentionError("purge: 'now' must carry a time zone")
    cutoff = now - timedelta(days=retention_days)
    return [r for r in runs if r.evaluated_at < cutoff and not r.purged], cutoff


def purge(store: EvidenceStore, retention_days: int, now: datetime, dry_run: bool) -> PurgeReport:
    runs = store.runs()
    todo, cutoff = due(runs, retention_days, now)
    before = store.file_size()
    if not dry_run:
        store.purge_runs((r.run_id for r in todo), purged_at=now)
    return PurgeReport(
        cutoff=cutoff,
        retention_days=retention_days,
        dry_run=dry_run,
        purged=tuple(r.run_id for r in todo),
        already_purged=sum(1 for r in runs if r.purged),
        kept=sum(1 for r in runs if r.evaluated_at >= cutoff),
        size_before=before,
        size_after=before if dry_run else store.file_size(),
    )


def describe(report: PurgeReport) -> str:
    """One paragraph for the terminal."""
    verb = "would purge" if report.dry_run else "purged"
    lines = [
        f"Retention {report.retention_days} days: runs evaluated before {report.cutoff:%Y-%m-%d %H:%M %Z} are past it.",
        f"{verb} the account-level data of {len(report.purged)} run(s); "
        f"{report.already_purged} already purged, {report.kept} within the retention. Aggregates are kept.",
    ]
    lines += [f"  {run_id}" for run_id in report.purged]
    if not report.dry_run and report.purged:
        lines.append(f"Store size {report.size_before:,} → {report.size_after:,} bytes (vacuumed).")
    if report.dry_run:
        lines.append("Dry run: nothing was changed.")
    return "\n".join(lines)
