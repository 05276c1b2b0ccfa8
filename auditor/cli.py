"""Kept whole on purpose: every command is a thin wrapper over the library, and this is the
one module that turns errors into exit codes, so the table below stays beside every
place that applies it.

``mfa-audit``: a thin layer over the library. Only this module turns errors into
exit codes:

0  nothing at or above ``--fail-on``
1  findings at or above ``--fail-on``
2  usage, configuration or input-data error
3  a source could not be read in full (coverage on it is unknown)
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.markup import escape
from rich.text import Text

from auditor import __version__
from auditor.config.schema import AuditConfig
from auditor.evidence.run_artefacts import RunArtefacts
from auditor.interfaces import AuditorError
from auditor.model import AuditResult, CoverageStatus, Severity, Snapshot
from auditor.registry import CONNECTOR_GROUP, RENDERER_GROUP, Registry
from auditor.text import SafeConsole as Console

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3

F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True, highlight=False)


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    # The message may quote the user's input: escaped, so "[...]" in it is never read as markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    sys.exit(code)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Every error a user can cause becomes a message and an exit code, never a traceback."""
    try:
        yield
    except AuditorError as exc:  # config, input data, plugins, store, verification, signing, secrets
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--now: expected an ISO 8601 date-time such as 2026-11-15T09:00:00Z, got {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _clock() -> datetime:
    """For commands that only read the store: the time changes nothing they print."""
    return datetime.now(UTC).replace(microsecond=0)


def _run_ref(store: Any, ref: str | None) -> str:
    """A full run id from a prefix (or the latest run when none is given)."""
    if ref is None:
        latest = store.latest()
        if latest is None:
            _fail("the evidence store holds no run for this config yet: run `mfa-audit run` first")
        return str(latest.run_id)
    return str(store.resolve_run_id(ref))


def _severity_exit(severities: list[Severity], fail_on: str, *, complete: bool) -> int:
    """The README's exit codes for an answer built from stored findings."""
    if not complete:
        return EXIT_INCOMPLETE
    if fail_on != "never" and any(s.rank >= Severity(fail_on).rank for s in severities):
        return EXIT_FINDINGS
    return EXIT_OK


def _load(config_path: Path, now: datetime) -> AuditConfig:
    from auditor.config.load import load_config

    return load_config(config_path, now=now)


def _exit_code(result: AuditResult, fail_on: str) -> int:
    if not result.complete:
        return EXIT_INCOMPLETE
    if fail_on == "never":
        return EXIT_OK
    threshold = Severity(fail_on).rank
    if any(f.severity.rank >= threshold for f in result.findings):
        return EXIT_FINDINGS
    return EXIT_OK


config_option = click.option(
    "-c",
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The audit configuration (YAML).",
)
now_option = click.option(
    "--now",
    "now_text",
    default=None,
    metavar="ISO-TIME",
    help="Evaluate as of this time instead of the clock (reproducible runs).",
)
fail_on_option = click.option(
    "--fail-on",
    type=click.Choice(["critical", "high", "medium", "low", "never"]),
    default="high",
    show_default=True,
    help="Exit 1 when a finding at or above this severity exists.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of tables.")


def _format_help() -> str:
    try:
        names = ", ".join(sorted(Registry().names(RENDERER_GROUP)))
    except Exception:  # the help text must never fail: an unlistable registry names nothing
        names = "pdf, html, json, csv, ocsf"
    return f"Output format, repeatable: {names} (default: the config's report.formats)."


formats_option = click.option("-f", "--format", "formats", multiple=True, metavar="FORMAT", help=_format_help())
jobs_option = click.option(
    "--jobs",
    type=click.IntRange(1, 16),
    default=4,
    show_default=True,
    help="Sources collected at the same time (each keeps its own rate limits).",
)


def _quiet_requested() -> bool:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if isinstance(ctx.obj, dict) and ctx.obj.get("quiet"):
            return True
        ctx = ctx.parent
    return False


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mfa-audit")
@click.option("-v", "--verbose", count=True, help="More log output (to stderr).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output; errors and results only.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """MFA-coverage compliance auditor: which accounts can reach sensitive data
    without a second factor, per account and per portal."""
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet
    level = logging.WARNING if verbose == 0 else (logging.INFO if verbose == 1 else logging.DEBUG)
    if quiet:
        level = logging.ERROR
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


# --- run ---------------------------------------------------------------------------------


def _store(config: AuditConfig, *, create: bool = False) -> Any:
    """The config's evidence store. Only commands that record a run create it; the others
    fail with the path when it is missing. ``store.path`` was resolved at load."""
    from auditor.store.database import EvidenceStore

    return EvidenceStore(config.store.path, create=create)


def _history_extra(config: AuditConfig, store: Any, run_id: str) -> dict[str, object]:
    """Trend and "since the last report" for the PDF, from the evidence store."""
    from auditor.queries import history

    extra: dict[str, object] = {}
    try:
        runs = store.runs()
        extra["trend"] = history.trend(runs)
        current = store.load_run(run_id)
        prev = store.previous(run_id)
        if prev is not None:
            diff = history.diff_runs(store.load_run(prev.run_id), current)
            extra["since_last"] = history.since_last(diff)
            # For each finding's "first seen" in the report: the ones the previous run had too.
            extra["persisting_keys"] = frozenset(p.after.key for p in diff.persisting)
    except AuditorError as exc:  # history is a bonus: never fail a report on it
        logging.getLogger("mfa_auditor").warning("history unavailable: %s", exc)
    return extra


def _board(quiet: bool) -> Any:
    """Progress bars on a terminal, a plain line every 10 s elsewhere (cron, CI)."""
    from auditor.collect_progress import ProgressBoard

    return ProgressBoard(err_console, live=err_console.is_terminal, quiet=quiet or _quiet_requested())


def run_audit(
    config: AuditConfig,
    *,
    now: datetime,
    formats: tuple[str, ...] | None,
    out: Path | None,
    store: bool,
    console: Console,
    quiet: bool = False,
    jobs: int = 4,
) -> tuple[AuditResult, list[Path]]:
    from auditor import pipeline
    from auditor.render.terminal import print_summary

    registry = Registry()
    progress = (lambda _m: None) if quiet else (lambda m: err_console.print(m, markup=False, highlight=False))
    ev = _store(config, create=True) if store else None
    if ev is not None:
        # ``--now`` names the run: refuse a second one for the same instant before an hour
        # of collection, not at the end when the store would reject it.
        existing = ev.run_at(now)
        if existing is not None:
            _fail(f"a run evaluated at {now.isoformat()} is already stored ({existing}): give another --now")
    board = _board(quiet)
    with board.running():
        snapshot = pipeline.collect(config, registry=registry, now=now, progress=progress, board=board, workers=jobs)
    # The run's snapshot file is encoded once, for the run id, and reused by the store and the report.
    run = RunArtefacts(snapshot)
    result = pipeline.evaluate_snapshot(config, run, now=now)
    extra: dict[str, object] = {}
    if ev is not None:
        ev.save_run(result, run, config.digest, config.text)
        extra = _history_extra(config, ev, result.run_id)
    ctx = pipeline.report_context(config, result, run, generated_at=now, extra=extra)
    files = pipeline.render_all(
        ctx,
        formats or config.report.formats,
        pipeline.output_dir(config, out),
        registry=registry,
        progress=progress,
        stored=store,
    )
    if not quiet:
        print_summary(ctx, console)
    return result, files


@main.command()
@config_option
@fail_on_option
@now_option
@formats_option
@click.option("-o", "--output", type=click.Path(path_type=Path, file_okay=False), help="Output directory.")
@click.option("--no-store", is_flag=True, help="Do not record the run in the evidence store.")
@jobs_option
@json_option
def run(
    config_path: Path,
    fail_on: str,
    now_text: str | None,
    formats: tuple[str, ...],
    output: Path | None,
    no_store: bool,
    jobs: int,
    as_json: bool,
) -> None:
    """Collect, evaluate and report: the full audit."""
    now = _now(now_text)
    console = Console()
    with _user_errors():
        config = _load(config_path, now)
        result, files = run_audit(
            config,
            now=now,
            formats=formats or None,
            out=output,
            store=not no_store,
            console=console,
            quiet=as_json or _quiet_requested(),
            jobs=jobs,
        )
    if as_json:
        click.echo(json.dumps(_run_json(result, files), indent=2, sort_keys=True))
    else:
        for f in files:
            console.print(f"wrote {f}", markup=False, highlight=False, soft_wrap=True)  # a path is never wrapped
    sys.exit(_exit_code(result, fail_on))


def _run_json(result: AuditResult, files: list[Path]) -> dict[str, Any]:
    m = result.metrics
    return {
        "run_id": result.run_id,
        "complete": result.complete,
        "accounts_in_scope": m.accounts_in_scope,
        "sensitive_accesses": m.sensitive_accesses,
        "sensitive_protected": m.sensitive_protected,
        "protected_ratio": m.protected_ratio,
        "findings_by_severity": {str(k): v for k, v in m.findings_by_severity.items()},
        "files": [str(f) for f in files],
    }


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo-output"),
    show_default=True,
    help="Where the demo writes its config, store and reports.",
)
@click.option("--accounts", type=click.IntRange(50, 2_000_000), default=2000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
def demo(output: Path, accounts: int, seed: int) -> None:
    """Audit the bundled sample organisation (served by local sandboxes) and write the PDF."""
    from importlib.metadata import entry_points

    points = {ep.name: ep for ep in entry_points(group="mfa_auditor.demo")}
    if "sample" not in points:
        _fail("the sample organisation is not installed (entry point mfa_auditor.demo:sample)")
    prepare = points["sample"].load()
    console = Console()
    with _user_errors(), prepare(output.resolve(), accounts=accounts, seed=seed, progress=err_console.print) as runs:
        result: AuditResult | None = None
        files: list[Path] = []
        for config_path, now in runs:
            config = _load(config_path, now)
            result, files = run_audit(config, now=now, formats=None, out=None, store=True, console=console, quiet=True)
    assert result is not None
    from auditor import pipeline
    from auditor.render.terminal import print_summary

    print_summary(pipeline.report_context(config, result, _stored_run(config, result), generated_at=now), console)
    console.print(
        f"\nReports written to {output.resolve() / 'reports'}:", markup=False, highlight=False, soft_wrap=True
    )
    for f in files:
        console.print(f"  {f}", markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"\nBrowse the evidence store: mfa-audit serve -c {config_path}", markup=False, highlight=False, soft_wrap=True
    )


def _stored_run(config: AuditConfig, result: AuditResult) -> RunArtefacts:
    stored = _store(config).load_run(result.run_id)
    artefacts: RunArtefacts = stored.artefacts
    return artefacts


# --- stages ------------------------------------------------------------------------------


@main.command()
@config_option
@now_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Where to write the snapshot JSON.",
)
@click.option("--source", "sources", multiple=True, help="Collect only these sources.")
@jobs_option
def collect(config_path: Path, now_text: str | None, output: Path, sources: tuple[str, ...], jobs: int) -> None:
    """Collect the sources into a snapshot file (no evaluation)."""
    from auditor import pipeline
    from auditor.evidence.attachments import snapshot_json_chunks

    now = _now(now_text)
    with _user_errors():
        config = _load(config_path, now)
        board = _board(False)
        with board.running():
            snapshot = pipeline.collect(
                config, registry=Registry(), now=now, only=sources or None, board=board, workers=jobs
            )
    # Streamed to a temporary name, then renamed: at a million accounts the text is 700 MiB,
    # and an interrupted write must not leave a truncated snapshot behind.
    partial = output.with_name(output.name + ".part")
    with partial.open("wb") as fh:
        for chunk in snapshot_json_chunks(snapshot):
            fh.write(chunk)
    partial.replace(output)
    click.echo(f"wrote {output}")
    sys.exit(EXIT_OK if snapshot.complete else EXIT_INCOMPLETE)


def _read_snapshot(path: Path) -> Snapshot:
    from auditor.evidence.serialise import SnapshotFormatError, snapshot_from_json

    try:
        return snapshot_from_json(path.read_bytes())
    except OSError as exc:
        _fail(f"{path}: cannot read the snapshot: {exc.strerror}")
    except SnapshotFormatError as exc:
        _fail(f"{path}: not a valid snapshot: {exc}")


@main.command()
@config_option
@now_option
@fail_on_option
@click.option("--snapshot", "snapshot_path", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--store/--no-store", default=True, help="Record the run in the evidence store.")
@json_option
def evaluate(
    config_path: Path, now_text: str | None, fail_on: str, snapshot_path: Path, store: bool, as_json: bool
) -> None:
    """Evaluate a collected snapshot against the config's rules."""
    from auditor import pipeline
    from auditor.render.terminal import print_summary

    now = _now(now_text)
    with _user_errors():
        config = _load(config_path, now)
        run = RunArtefacts(_read_snapshot(snapshot_path))
        result = pipeline.evaluate_snapshot(config, run, now=now)
        if store:
            _store(config, create=True).save_run(result, run, config.digest, config.text)
    if as_json:
        click.echo(json.dumps(_run_json(result, []), indent=2, sort_keys=True))
    else:
        print_summary(pipeline.report_context(config, result, run, generated_at=now), Console())
        click.echo(f"run id: {result.run_id}")
    sys.exit(_exit_code(result, fail_on))


@main.command()
@config_option
@click.option("--run", "run_id", default=None, help="A stored run id or a unique prefix of it (default: the latest).")
@formats_option
@click.option("-o", "--output", type=click.Path(path_type=Path, file_okay=False), help="Output directory.")
@click.option(
    "--language", type=click.Choice(["en", "fr"]), default=None, help="Report language (default: the config's)."
)
@click.option(
    "--re-evaluate",
    is_flag=True,
    help="Evaluate the stored snapshot again under this config, now (a new run id), when it changes the verdicts.",
)
def report(
    config_path: Path,
    run_id: str | None,
    formats: tuple[str, ...],
    output: Path | None,
    language: str | None,
    re_evaluate: bool,
) -> None:
    """Re-render a stored run without collecting again, with the configuration it was
    evaluated with: the config given may change only the presentation (language, title,
    formats, signing, pseudonymisation)."""
    from dataclasses import replace

    from auditor import pipeline

    now = _clock()
    with _user_errors():
        config = _load(config_path, now)
        if language is not None:
            config = replace(
                config, report=replace(config.report, options=replace(config.report.options, language=language))
            )
        ev = _store(config)
        run_id = _run_ref(ev, run_id)
        stored = ev.load_run(run_id)
        result = stored.result
        differing = _evaluation_differences(config, stored.config_text, run_id)
        if differing and not re_evaluate:
            _fail(
                f"{config_path}: differs from the configuration run {run_id} was evaluated with in "
                f"{', '.join(differing)}: these change the verdicts. Give the run's configuration (only language, "
                "title, formats, signing and pseudonymisation may change), or --re-evaluate to evaluate the "
                "stored snapshot again under a new run id"
            )
        if differing:
            result = pipeline.evaluate_snapshot(config, stored.artefacts, now=now)
            if result.run_id == run_id:
                _fail(f"--re-evaluate: the new run would reuse the id {run_id}: try again in a second")
            ev.save_run(result, stored.artefacts, config.digest, config.text)
            err_console.print(f"re-evaluated as run {result.run_id}", markup=False, highlight=False)
        extra = _history_extra(config, ev, result.run_id)
        ctx = pipeline.report_context(config, result, stored.artefacts, generated_at=result.evaluated_at, extra=extra)
        files = pipeline.render_all(
            ctx, formats or config.report.formats, pipeline.output_dir(config, output), registry=Registry(), stored=True
        )
    for f in files:
        click.echo(f"wrote {f}")


def _evaluation_differences(config: AuditConfig, stored_text: str, run_id: str) -> list[str]:
    """Evaluation-relevant keys where ``config`` differs from the run's stored config."""
    from auditor.config.digest import differing_keys
    from auditor.config.load import yaml_data

    if not stored_text:
        _fail(
            f"run {run_id}: its configuration is no longer stored (purged by retention, or recorded by an older "
            "version): it cannot be re-rendered faithfully"
        )
    return differing_keys(yaml_data(stored_text, config.path), yaml_data(config.text, config.path))


# --- questions ---------------------------------------------------------------------------


@main.command()
@config_option
@now_option
@click.option("--account", default=None, help="A principal (UPN, login or e-mail).")
@click.option("--portal", default=None, help="A portal name or id.")
@click.option("--run", "run_id", default=None, help="A stored run id or a unique prefix of it (default: the latest).")
@click.option("--live", is_flag=True, help="Collect now instead of answering from the latest stored run.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in CoverageStatus]),
    help="--portal: only accounts with this status (repeatable).",
)
@click.option(
    "--severity",
    type=click.Choice([s.value for s in Severity]),
    default=None,
    help="--portal: only accounts with a finding at or above this severity.",
)
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=50, show_default=True, help="Rows shown.")
@fail_on_option
@json_option
def check(
    config_path: Path,
    now_text: str | None,
    account: str | None,
    portal: str | None,
    run_id: str | None,
    live: bool,
    statuses: tuple[str, ...],
    severity: str | None,
    limit: int,
    fail_on: str,
    as_json: bool,
) -> None:
    """Answer for one account or one portal: which access, methods, policies, and why."""
    from auditor import pipeline
    from auditor.queries import check as checks
    from auditor.queries import check_output

    if (account is None) == (portal is None):
        _fail("give exactly one of --account or --portal")
    now = _now(now_text)
    console = Console()
    with _user_errors():
        config = _load(config_path, now)
        ev = _store(config, create=live)
        if live:
            run = RunArtefacts(pipeline.collect(config, registry=Registry(), now=now))
            result = pipeline.evaluate_snapshot(config, run, now=now)
            ev.save_run(result, run, config.digest, config.text)
            stored = ev.load_run(result.run_id)
        else:
            stored = ev.load_run(_run_ref(ev, run_id))
        if account is not None:
            a_answer = checks.check_account(stored, account, config.evaluation.identity_links)
            if as_json:
                click.echo(json.dumps(check_output.account_to_data(a_answer), indent=2, sort_keys=True))
            else:
                check_output.print_account(a_answer, console)
            found = [f.severity for f in a_answer.findings]
        else:
            assert portal is not None
            p_answer = checks.filter_portal(
                checks.check_portal(stored, portal),
                statuses=frozenset(CoverageStatus(x) for x in statuses),
                severity=Severity(severity) if severity else None,
            )
            if as_json:
                click.echo(json.dumps(check_output.portal_to_data(p_answer), indent=2, sort_keys=True))
            else:
                check_output.print_portal(p_answer, console, limit=limit)
            found = [f.severity for f in p_answer.findings]
    sys.exit(_severity_exit(found, fail_on, complete=stored.result.complete))


@main.command()
@config_option
@json_option
def history(config_path: Path, as_json: bool) -> None:
    """The stored runs of this config, with headline coverage and findings by severity."""
    from auditor.queries import history as hist
    from auditor.queries import history_output as hist_output

    with _user_errors():
        config = _load(config_path, _clock())
        runs = _store(config).runs()
    if as_json:
        click.echo(json.dumps([hist.summary_to_data(r) for r in runs], indent=2, sort_keys=True))
    else:
        hist_output.history_table(runs, Console())


@main.command()
@config_option
@click.argument("run_a", required=False)
@click.argument("run_b", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="csv: one row per finding with its change (new / resolved / persisting).",
)
@json_option
def diff(config_path: Path, run_a: str | None, run_b: str | None, fmt: str, as_json: bool) -> None:
    """New, resolved and persisting findings between two runs (default: the last two).
    RUN_A and RUN_B are run ids or unique prefixes of them."""
    from auditor.queries import history as hist
    from auditor.queries import history_output as hist_output

    with _user_errors():
        config = _load(config_path, _clock())
        ev = _store(config)
        if run_a is None or run_b is None:
            runs = ev.runs()
            if len(runs) < 2:
                _fail("the evidence store holds fewer than two runs of this config: nothing to compare")
            run_a, run_b = runs[-2].run_id, runs[-1].run_id
        d = hist.diff_runs(ev.load_run(_run_ref(ev, run_a)), ev.load_run(_run_ref(ev, run_b)))
    if as_json or fmt == "json":
        click.echo(json.dumps(hist.diff_to_data(d), indent=2, sort_keys=True))
    elif fmt == "csv":
        sys.stdout.write(hist_output.diff_to_csv(d))
    else:
        hist_output.print_diff(d, Console())


@main.command()
@config_option
@now_option
@click.option("--dry-run", is_flag=True, help="Say what would be purged, change nothing.")
def purge(config_path: Path, now_text: str | None, dry_run: bool) -> None:
    """Remove account-level data of runs past the retention, keeping their aggregates."""
    from auditor.store import retention

    now = _now(now_text)
    with _user_errors():
        config = _load(config_path, now)
        if config.store.retention_days is None:
            _fail(f"{config.path}: store.retention_days is not set: nothing to purge by")
        rep = retention.purge(_store(config), config.store.retention_days, now, dry_run)
    click.echo(retention.describe(rep))


@main.command()
@click.argument("report_pdf", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--trust",
    "trust_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    metavar="CERT_OR_BUNDLE",
    help="A CA certificate or bundle (PEM/DER) the signer's chain must reach. Repeatable.",
)
@click.option(
    "--signer-fingerprint",
    default=None,
    metavar="SHA256",
    help="The SHA-256 of the only certificate allowed to have signed (colons allowed).",
)
@click.option("--require-signature", is_flag=True, help="Fail unless the report is signed by a trusted signer.")
@click.option(
    "--previous",
    "previous",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="The previous run's report: re-derive the 'since the last report' figures from both runs' evidence.",
)
@click.option(
    "--layout",
    is_flag=True,
    help="Also lay the report out again (WeasyPrint) and compare page by page: proves the pagination "
    "too, and takes about as long as rendering the report.",
)
@json_option
def verify(
    report_pdf: Path,
    trust_files: tuple[Path, ...],
    signer_fingerprint: str | None,
    require_signature: bool,
    previous: Path | None,
    layout: bool,
    as_json: bool,
) -> None:
    """Check a report: its evidence, the pages against the evidence, and who signed it.

    The pages' text is compared with the text the evidence gives through the report's own
    templates, character by character, with the running headers, footers and contents page
    numbers checked page by page; --layout re-renders the whole report to compare pagination too."""
    from auditor.evidence.verify import verify_report

    with _user_errors():
        try:
            trust = [f.read_bytes() for f in trust_files]
        except OSError as exc:
            _fail(f"--trust: {exc.filename}: {exc.strerror}")
        outcome = verify_report(
            report_pdf,
            trust_roots=trust,
            signer_fingerprint=signer_fingerprint,
            require_signature=require_signature,
            previous=previous,
            layout=layout,
        )
    if as_json:
        click.echo(json.dumps(outcome.to_data(), indent=2, sort_keys=True))
    else:
        for line in outcome.lines():
            click.echo(line)
    sys.exit(EXIT_OK if outcome.ok else EXIT_FINDINGS)


@main.command()
@config_option
@click.option("--size", type=click.IntRange(1, 10_000), default=25, show_default=True)
@click.option("--seed", type=int, required=True, help="Seed of the draw: the same seed gives the same sample.")
@click.option("--run", "run_id", default=None, help="A stored run id (default: the latest).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the sample as JSON here (default: stdout).",
)
def sample(config_path: Path, size: int, seed: int, run_id: str | None, output: Path | None) -> None:
    """Draw a reproducible random sample of accounts with the raw evidence behind each verdict."""
    from auditor.queries.audit_sample import draw_sample

    with _user_errors():
        config = _load(config_path, _clock())
        ev = _store(config)
        stored = ev.load_run(_run_ref(ev, run_id))
        doc = draw_sample(stored.snapshot, stored.result, size=size, seed=seed)
    text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}")


# --- setup -------------------------------------------------------------------------------


def _secret_problems(config: AuditConfig) -> list[str]:
    """Every secret reference of the config that cannot be resolved now (variable unset,
    file unreadable), named by its key; the value itself is never read into a message."""
    from auditor.interfaces import Secret, SecretError

    problems: list[str] = []

    def walk(value: Any, key: str) -> None:
        if isinstance(value, Secret):
            try:
                value.reveal()
            except SecretError as exc:
                problems.append(f"{key}: {exc}")
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, f"{key}.{k}")
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(v, f"{key}[{i}]")

    for i, source in enumerate(config.sources):
        walk(dict(source.settings), f"sources[{i}].settings")
    for name in ("signing_key", "pseudonym_key"):
        walk(getattr(config.report.options, name, None), f"report.{name}")
    return problems


@main.command()
@config_option
@click.option("--offline", is_flag=True, help="Check config, settings and secrets only; contact no source.")
def validate(config_path: Path, offline: bool) -> None:
    """Check the config, the credentials and each source's API permissions."""
    from auditor import pipeline
    from auditor.interfaces import SecretError

    console = Console()
    registry = Registry()
    with _user_errors():
        config = _load(config_path, _clock())
        connectors = [(s, pipeline.build_connector(config, s, registry)) for s in config.sources]
    secrets = _secret_problems(config)
    if secrets:
        # A secret that cannot be resolved is a configuration error (exit 2), online or not.
        _fail(f"{config_path}: " + "; ".join(secrets))
    console.print(
        f"config {config_path}: valid ({len(config.sources)} sources)", markup=False, highlight=False, soft_wrap=True
    )
    if offline:
        return
    problems = 0
    for source, connector in connectors:
        console.print(f"\n{source.name} ({source.type})", markup=False, highlight=False, style="bold")
        try:
            checks = connector.check_access()
        except SecretError as exc:
            _fail(f"{config_path}: sources: {source.name}: {exc}")
        except AuditorError as exc:
            console.print(f"  cannot connect: {exc}", markup=False, highlight=False)
            problems += 1
            continue
        for c in checks:
            mark = "granted" if c.granted else ("MISSING" if c.granted is False else "unknown")
            optional = c.only_for_sign_ins and not source.collect_sign_ins
            if c.granted is not True and not optional:
                problems += 1
            detail = f" ({c.detail})" if c.detail else ""
            if optional and c.granted is not True:
                detail += " (needed only with collect_sign_ins: true)"
            console.print(f"  {mark:8} {c.name}: {c.purpose}{detail}", markup=False, highlight=False)
    sys.exit(EXIT_OK if problems == 0 else EXIT_INCOMPLETE)


@main.command()
@config_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on; beyond loopback a token is required."
)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option(
    "--pseudonymise", is_flag=True, help="Show keyed tokens instead of account identifiers (report.pseudonym_key)."
)
def serve(config_path: Path, host: str, port: int, pseudonymise: bool) -> None:
    """Browse the evidence store in a web browser: read-only, local by default."""
    from auditor.web.serve import banner, run_server, settings_for

    with _user_errors():
        config = _load(config_path, _clock())
        # Opening it as the other commands do brings an older store's schema up to date
        # (adds the browse tables); the server then opens it read-only.
        store = _store(config)
        settings, token = settings_for(config, store.path, host=host, port=port, pseudonymise=pseudonymise)

        def announce() -> None:
            for line in banner(host, port, token):
                err_console.print(line, markup=False, highlight=False, soft_wrap=True)

        run_server(settings, host, port, announce)


@main.command(name="rules")
@json_option
def list_rules(as_json: bool) -> None:
    """The rule catalogue: id, severity, frameworks, facts each rule needs, what it flags."""
    from auditor.engine.rules import RULES, RULESET_VERSION
    from auditor.fitted_table import Col, fitted

    def facts(r: Any) -> list[str]:
        return [str(getattr(x, "value", x)) for x in r.requires]

    if as_json:
        data = {
            "rule_set_version": RULESET_VERSION,
            "rules": [
                {
                    "id": r.id,
                    "title": r.title,
                    "severity": r.severity.value,
                    "severity_on_high": r.severity_on_high.value if r.severity_on_high else None,
                    "requires": facts(r),
                    "references": [{"framework": x.framework, "reference": x.reference} for x in r.references],
                    "rationale": r.rationale,
                }
                for r in RULES
            ],
        }
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
        return
    console = Console()
    cols = (
        Col("rule"),
        Col("severity"),
        Col("flags"),
        Col("needs", priority=1),
        Col("frameworks", priority=2),
    )
    rows = [
        (
            Text(r.id),
            Text(r.severity.value + (f" ({r.severity_on_high.value} on high)" if r.severity_on_high else "")),
            Text(r.title),
            Text(", ".join(facts(r)).replace("_", " ")),
            Text(", ".join(sorted({x.framework for x in r.references}))),
        )
        for r in RULES
    ]
    console.print(fitted(console, cols, rows, title=f"Rule set {RULESET_VERSION}"))


@main.command(name="connectors")
def list_plugins() -> None:
    """The installed connectors and renderers, with their versions."""
    registry = Registry()
    for title, group in (("connectors", CONNECTOR_GROUP), ("renderers", RENDERER_GROUP)):
        click.echo(f"{title}:")
        for info in registry.describe(group):
            click.echo(f"  {info.name:18} {info.distribution} {info.version}  ({info.target})")
