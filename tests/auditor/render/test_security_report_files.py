"""Report files are private to the user (0600 in a 0700 folder) unless
``report.file_mode`` says otherwise, whatever the umask; a planted ``.part`` symlink is
not followed; a failed write (a full disk) is a clear error naming the file and the
stored run, with no partial file left and no abort."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from auditor import pipeline
from auditor.interfaces import ReportContext
from auditor.registry import RENDERER_GROUP, Registry
from auditor.report_files import ReportWriteError, folder_mode


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default: files 0644, folders 0755
    yield
    os.umask(old)


@pytest.mark.usefixtures("loose_umask")
def test_reports_are_private_by_default(context: ReportContext, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "q4"
    files = pipeline.render_all(context, ["json", "csv", "ocsf"], out, registry=Registry())
    assert len(files) == 4
    for f in files:
        assert _mode(f) == 0o600, f
    assert _mode(out) == 0o700
    assert not list(out.glob("*.part"))


@pytest.mark.usefixtures("loose_umask")
def test_file_mode_widens_on_purpose(context: ReportContext, tmp_path: Path) -> None:
    ctx = replace(context, options=replace(context.options, file_mode=0o640))
    out = tmp_path / "shared"
    files = pipeline.render_all(ctx, ["json"], out, registry=Registry())
    assert _mode(files[0]) == 0o640 and _mode(out) == 0o750


@pytest.mark.parametrize(("file_mode", "folder"), [(0o600, 0o700), (0o640, 0o750), (0o644, 0o755), (0o660, 0o770)])
def test_folder_mode(file_mode: int, folder: int) -> None:
    assert folder_mode(file_mode) == folder


def test_a_planted_part_symlink_is_not_followed(context: ReportContext, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / f"mfa-audit-{context.result.run_id}.json.part").symlink_to(victim)
    pipeline.render_all(context, ["json"], out, registry=Registry())
    assert victim.read_text(encoding="utf-8") == "keep me"


class _DiskFull:
    extension = "json"
    media_type = "application/json"

    def render(self, ctx: ReportContext, out: BinaryIO) -> None:
        out.write(b"{" * 1000)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_names_the_file_and_the_stored_run(context: ReportContext, tmp_path: Path) -> None:
    registry = Registry((EntryPoint("full", f"{__name__}:_DiskFull", RENDERER_GROUP),))
    with pytest.raises(ReportWriteError) as err:
        pipeline.render_all(context, ["full"], tmp_path, registry=registry, stored=True)
    message = str(err.value)
    run_id = context.result.run_id
    assert "No space left on device" in message and f"mfa-audit-{run_id}.json" in message
    assert f"mfa-audit report --run {run_id}" in message
    assert list(tmp_path.iterdir()) == []  # no .part, no half report


def test_config_file_mode(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from auditor.config.load import ConfigError, load_config

    def load(mode: str) -> Any:
        path = tmp_path / "c.yaml"
        path.write_text(
            textwrap.dedent(
                f"""\
                organisation: {{name: Org, contact: dpo@example.org}}
                sources: [{{name: f, type: file, settings: {{path: f.json}}}}]
                report: {{file_mode: {mode}}}
                """
            ),
            encoding="utf-8",
        )
        return load_config(path, now=datetime(2026, 11, 15, tzinfo=UTC))

    assert load("'0640'").report.options.file_mode == 0o640
    assert load("'600'").report.options.file_mode == 0o600
    for bad in ("0640", "'0666'", "'0700'", "'0400'", "'rw-r-----'"):
        with pytest.raises(ConfigError, match=r"report\.file_mode"):
            load(bad)


_PDF_TO_DEV_FULL = """
import sys
sys.path.insert(0, {root!r})
from tests.support.reports import make_context, sample_snapshot
from auditor.render.pdf import write_pdf
ctx = make_context(sample_snapshot(60))
fh = open("/dev/full", "wb")  # buffered: the error surfaces in a flush inside pikepdf
try:
    write_pdf(ctx, fh)
except OSError as exc:
    print("clean error:", exc.strerror)
try:
    fh.close()
except OSError:
    pass
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_during_the_pdf_save_does_not_abort() -> None:
    script = _PDF_TO_DEV_FULL.format(root=str(Path(__file__).resolve().parents[3]))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]  # before the fix: 134, "terminate called…"
    assert "clean error: No space left on device" in proc.stdout


def test_the_cli_exits_2_and_names_the_stored_run(tmp_path: Path) -> None:
    """Through the CLI: the run is stored, the reports cannot be written (the output
    folder's parent is a file): exit 2, the run named for `report --run`, no traceback."""
    import json

    import yaml
    from click.testing import CliRunner

    from auditor.cli import main
    from connectors.file.export import write_json
    from connectors.sandbox.sample_org import generate

    org = generate(seed=11, accounts=300)  # as tests/auditor/test_cli.py
    sources = []
    for name, truth in org.sources.items():
        if name not in ("google", "okta"):
            continue  # two file sources are enough to reach the writing of the reports
        write_json(truth, tmp_path / f"{name}.json")
        sources.append({"name": name, "type": "file", "settings": {"path": f"{name}.json"}})
    doc = {
        "organisation": {"name": "Org", "contact": "dpo@example.org"},
        "period": org.period,
        "sources": sources,
        "report": {"formats": ["json"], "output_dir": "blocked/out"},
        "store": {"path": "store.sqlite3"},
    }
    (tmp_path / "blocked").write_text("a file where the folder should be", encoding="utf-8")
    (tmp_path / "audit.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    cfg = str(tmp_path / "audit.yaml")
    result = CliRunner().invoke(main, ["run", "-c", cfg, "--now", "2026-11-15T09:00:00+00:00"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Not a directory" in result.output
    history = CliRunner().invoke(main, ["history", "-c", cfg, "--json"])
    run_id = json.loads(history.output)[-1]["run_id"]
    assert f"mfa-audit report --run {run_id}" in " ".join(result.output.split())
