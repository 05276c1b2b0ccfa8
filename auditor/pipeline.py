"""The audit as library calls: collect → evaluate → render. The CLI is a thin layer over
these; tests and benchmarks call them directly."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from auditor.collect_progress import ProgressBoard, SourceProgress
from auditor.config.load import source_settings_error
from auditor.config.schema import AuditConfig, SourceConfig
from auditor.engine.evaluate import evaluate
from auditor.evidence.run_artefacts import RunArtefacts
from auditor.interfaces import (
    NO_PROGRESS,
    CollectContext,
    CollectProgress,
    Connector,
    ConnectorError,
    InputDataError,
    ReportContext,
    SettingsError,
    renderer_extra_outputs,
    renderer_signable,
)
from auditor.model import AuditResult, Snapshot, SourceIssue, SourceName, SourceSnapshot
from auditor.registry import Registry
from auditor.render.pseudonym import prepare as pseudonymise_if_asked

log = logging.getLogger("mfa_auditor")

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def build_connector(config: AuditConfig, source: SourceConfig, registry: Registry) -> Connector:
    factory = registry.connector(source.type)
    try:
        return factory(source.name, source.settings, config.path.parent.absolute())
    except SettingsError as exc:
        raise source_settings_error(config, source, exc) from None


def collect_source(
    config: AuditConfig,
    source: SourceConfig,
    registry: Registry,
    now: datetime,
    previous: SourceSnapshot | None,
    progress: CollectProgress = NO_PROGRESS,
) -> SourceSnapshot:
    connector = build_connector(config, source, registry)
    ctx = CollectContext(
        source=source.name,
        now=now,
        period_start=config.period_start,
        period_end=config.period_end,
        collect_sign_ins=source.collect_sign_ins,
        previous=previous,
        progress=progress,
    )
    try:
        snap = connector.collect(ctx)
    except SettingsError as exc:
        raise source_settings_error(config, source, exc) from None
    except InputDataError:
        raise  # the user's input is wrong: a clear error, not an incomplete source
    except ConnectorError as exc:
        # Nothing could be read (unreachable, credentials refused…): the source is in the
        # snapshot, empty and incomplete, so the report says so on page one and nothing
        # is counted over it.
        log.warning("source %s could not be read: %s", source.name, exc)
        return SourceSnapshot(
            source=SourceName(source.name),
            connector=source.type,
            collected_at=now,
            complete=False,
            issues=(SourceIssue(f"source.{type(exc).__name__}", str(exc), incomplete=True),),
        )
    # Names are the config's, whatever a connector put there. Page digests in a fixed
    # order: a connector reading pages concurrently (Okta's factor calls) records them as
    # they arrive, and the same data must give the same snapshot.
    digests = tuple(sorted(snap.raw_digests, key=lambda d: (d.endpoint, d.sha256, d.records)))
    return replace(snap, source=SourceName(source.name), connector=source.type, raw_digests=digests)


# Sources are independent (each its own vendor, credentials and rate limits), so they are
# read side by side; a few at a time, as each already keeps its vendor busy.
DEFAULT_WORKERS = 4


def collect(
    config: AuditConfig,
    *,
    registry: Registry,
    now: datetime,
    previous: Snapshot | None = None,
    progress: Progress = _quiet,
    only: Iterable[str] | None = None,
    workers: int = DEFAULT_WORKERS,
    board: ProgressBoard | None = None,
) -> Snapshot:
    """Read every source of the config (or those named in ``only``), up to ``workers``
    at a time. The snapshot lists them in the config's order whatever finished first,
    so a concurrent collection gives the same snapshot as a sequential one."""
    wanted = set(only) if only is not None else None
    chosen = [s for s in config.sources if wanted is None or s.name in wanted]

    def one(source: SourceConfig) -> SourceSnapshot:
        prev = None
        if previous is not None:
            prev = next((s for s in previous.sources if s.source == source.name), None)
        if board is not None:
            sink: CollectProgress = board.source(source.name)
        else:
            progress(f"collecting {source.name} ({source.type})")
            sink = NO_PROGRESS
        snap = collect_source(config, source, registry, now, prev, sink)
        state = "complete" if snap.complete else "INCOMPLETE"
        summary = f"{len(snap.accounts)} accounts, {len(snap.portals)} portals, {state}"
        if board is not None and isinstance(sink, SourceProgress):
            board.finished(sink, summary)
        else:
            progress(f"  {source.name}: {summary}")
        return snap

    if workers <= 1 or len(chosen) <= 1:
        sources = [one(s) for s in chosen]
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(chosen)), thread_name_prefix="collect") as pool:
            sources = list(pool.map(one, chosen))  # map keeps the config's order; errors re-raise here
    return Snapshot(
        period=config.period,
        period_start=config.period_start,
        period_end=config.period_end,
        config_digest=config.digest,
        sources=tuple(sources),
    )


def snapshot_digest(snapshot: Snapshot | RunArtefacts) -> str:
    """SHA-256 of the snapshot's canonical JSON. At a million accounts it costs seconds:
    pass the run's ``RunArtefacts`` (the run id, the store and the report all need it)."""
    return RunArtefacts.of(snapshot).snapshot_sha256


def make_run_id(snapshot: Snapshot | RunArtefacts, now: datetime) -> str:
    """Stable for the same snapshot and time: the report's document id derives from it."""
    run = RunArtefacts.of(snapshot)
    return f"{run.snapshot.period}-{now.strftime('%Y%m%dT%H%M%SZ')}-{run.snapshot_sha256[:8]}"


def evaluate_snapshot(
    config: AuditConfig, snapshot: Snapshot | RunArtefacts, *, now: datetime, run_id: str | None = None
) -> AuditResult:
    run = RunArtefacts.of(snapshot)
    return evaluate(run.snapshot, config.evaluation, now=now, run_id=run_id or make_run_id(run, now))


def report_context(
    config: AuditConfig,
    result: AuditResult,
    snapshot: Snapshot | RunArtefacts,
    *,
    generated_at: datetime,
    extra: dict[str, object] | None = None,
) -> ReportContext:
    run = RunArtefacts.of(snapshot)
    ctx = ReportContext(
        organisation=config.organisation,
        contact=config.contact,
        result=result,
        snapshot=run.snapshot,
        options=config.report.options,
        generated_at=generated_at,
        config_digest=cover_digest(config),
        config_text=config.text,
        extra={"snapshot_sha256": run.snapshot_sha256, **(extra or {})},
        artefacts=run,
    )
    # Pseudonymised once, here, so that every format carries the same tokens.
    return pseudonymise_if_asked(ctx)


def cover_digest(config: AuditConfig) -> str:
    """The configuration digest a report prints: of the evaluation-relevant part only, so
    the same audit in another language, title or signature prints the same digest."""
    from auditor.config.digest import evaluation_digest

    return evaluation_digest(config.text, config.path) if config.text else config.digest


def output_dir(config: AuditConfig, override: Path | None = None) -> Path:
    """The reports' folder: ``override`` (a command-line path, relative to the working
    directory) or the config's ``report.output_dir``, already resolved against the
    config's folder when the config was loaded."""
    if override is not None:
        return override
    return config.report.output_dir


def render_all(
    ctx: ReportContext,
    formats: Iterable[str],
    out_dir: Path,
    *,
    registry: Registry,
    progress: Progress = _quiet,
    stored: bool = False,
) -> list[Path]:
    """Write each format to ``out_dir`` and return the paths. Each file is written to a
    temporary name first and renamed, so a failed render leaves no half-written report;
    files are private to the user unless ``report.file_mode`` says otherwise
    (``auditor.report_files``). ``stored``: the run is in the evidence store, so a
    failed write can name it for ``mfa-audit report --run``."""
    from auditor.report_files import make_output_dir, write_atomically

    mode = ctx.options.file_mode
    run_id = ctx.result.run_id
    make_output_dir(out_dir, mode, run_id=run_id, stored=stored)
    stem = f"mfa-audit-{run_id}"
    written = []
    for fmt in formats:
        renderer = registry.renderer(fmt)
        target = out_dir / f"{stem}.{renderer.extension}"
        progress(f"rendering {fmt}")
        sign = renderer_signable(renderer) and ctx.options.signing_key is not None
        with write_atomically(target, mode, run_id=run_id, stored=stored) as fh:
            renderer.render(ctx, fh)
            if sign:
                _sign_in_place(fh, ctx)
        written.append(target)
        # What else the renderer writes beside it (the CSV's coverage matrix), declared by it.
        for extra in renderer_extra_outputs(renderer):
            path = out_dir / f"{stem}{extra.suffix}"
            with write_atomically(path, mode, run_id=run_id, stored=stored) as fh:
                extra.write(ctx, fh)
            written.append(path)
    return written


def _sign_in_place(pdf: BinaryIO, ctx: ReportContext) -> None:
    """PAdES signature as an incremental update: the unsigned PDF stays a byte prefix."""
    from auditor.evidence.signing import SigningError, sign_pdf

    assert ctx.options.signing_key is not None and ctx.options.signing_certificate is not None
    try:
        cert = ctx.options.signing_certificate.read_bytes()
    except OSError as exc:
        raise SigningError(f"report.signing.certificate: {ctx.options.signing_certificate}: {exc.strerror}") from None
    key = ctx.options.signing_key.reveal().encode("utf-8")
    pdf.flush()
    pdf.seek(0)
    signed = sign_pdf(pdf.read(), key, cert, timestamp_url=ctx.options.signing_timestamp_url)
    pdf.seek(0)
    pdf.truncate()
    pdf.write(signed)
