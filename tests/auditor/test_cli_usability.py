"""The CLI as the people who run it meet it: any working directory, 80 columns, exit
codes that gate, run ids by prefix, stored-run commands that never touch a source."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from auditor.cli import main
from auditor.fitted_table import Col, fitted
from auditor.store.database import short_run_id
from connectors.file.export import write_json
from connectors.sandbox.demo import PORTALS
from connectors.sandbox.sample_org import SampleOrg, generate

NOW = "2026-11-15T09:00:00+00:00"
LATER = "2026-11-16T09:00:00+00:00"


@pytest.fixture(scope="module")
def org() -> SampleOrg:
    return generate(seed=11, accounts=300)


def _config(folder: Path, org: SampleOrg) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sources = []
    for name, truth in org.sources.items():
        write_json(truth, folder / f"{name}.json")
        sources.append({"name": name, "type": "file", "settings": {"path": f"{name}.json"}})
    doc = {
        "organisation": {"name": "Mutuelle Exemple", "contact": "dpo@example.org"},
        "period": org.period,
        "sources": sources,
        "portals": PORTALS,
        "policy": {"required": {"high": "strong", "sensitive": "weak", "normal": "none"}},
        "report": {"formats": ["json"], "output_dir": "out"},
        "store": {"path": "store.sqlite3"},
    }
    path = folder / "audit.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _run(*args: str | Path, columns: int = 80) -> Result:
    return CliRunner(env={"COLUMNS": str(columns)}).invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory, org: SampleOrg) -> Path:
    """Two stored runs of a config in ``<tmp>/audit/``, run from that folder."""
    root = tmp_path_factory.mktemp("cli")
    cfg = _config(root / "audit", org)
    with _cwd(cfg.parent):
        assert _run("run", "-c", "audit.yaml", "--now", NOW, "--fail-on", "never").exit_code == 0
        assert _run("run", "-c", "audit.yaml", "--now", LATER, "--fail-on", "never").exit_code == 0
    return cfg


@pytest.mark.parametrize("where", ["root", "elsewhere"])
def test_every_stored_run_command_finds_the_same_store_from_any_folder(
    audited: Path, tmp_path: Path, where: str
) -> None:
    # Before: store.path was joined to the config's folder twice, so from the parent folder
    # `history` opened (and created) audit/audit/store.sqlite3 and said "no run yet".
    cwd = audited.parent.parent if where == "root" else tmp_path
    cfg = os.path.relpath(audited, cwd)
    with _cwd(cwd):
        runs = json.loads(_run("history", "-c", cfg, "--json").stdout)
        assert len(runs) == 2
        assert _run("diff", "-c", cfg, "--json").exit_code == 0
        principal = "placeholder"
        answer = _run("check", "-c", cfg, "--portal", "app-claims", "--json", "--fail-on", "never")
        assert answer.exit_code == 0, answer.output
        principal = json.loads(answer.stdout)["accounts"][0]["principal"]
        assert _run("check", "-c", cfg, "--account", principal, "--fail-on", "never").exit_code == 0
        assert _run("sample", "-c", cfg, "--size", "3", "--seed", "1").exit_code == 0
        rendered = _run("report", "-c", cfg, "--run", short_run_id(runs[0]["run_id"]))
        assert rendered.exit_code == 0, rendered.output
    assert not (audited.parent / "audit").exists()  # no nested store or output folder
    assert not list(tmp_path.iterdir())  # nothing written where the command ran
    assert (audited.parent / "out").is_dir()  # reports land beside the config


def test_a_command_that_only_reads_never_creates_a_store(tmp_path: Path, org: SampleOrg) -> None:
    cfg = _config(tmp_path, org)
    for args in (
        ("history",),
        ("diff",),
        ("check", "--account", "x@example.org"),
        ("report",),
        ("sample", "--seed", "1"),
    ):
        res = _run(args[0], "-c", cfg, *args[1:])
        assert res.exit_code == 2, (args, res.output)
        assert "store.sqlite3" in res.stderr and "no evidence store" in res.stderr
    assert not (tmp_path / "store.sqlite3").exists()


def test_the_same_now_is_refused_before_collecting(audited: Path) -> None:
    res = _run("run", "-c", audited, "--now", NOW)
    assert res.exit_code == 2
    assert "already stored" in res.stderr and "--now" in res.stderr
    assert "collecting" not in res.stderr  # refused before any source was read


def test_check_exit_codes_follow_fail_on(audited: Path) -> None:
    portal = json.loads(_run("check", "-c", audited, "--portal", "app-claims", "--json", "--fail-on", "never").stdout)
    severities = {f["severity"] for f in portal["findings"]}
    assert {"critical", "high"} & severities  # the sample has serious findings on claims
    assert _run("check", "-c", audited, "--portal", "app-claims").exit_code == 1
    assert _run("check", "-c", audited, "--portal", "app-claims", "--fail-on", "never").exit_code == 0


def test_check_portal_filters(audited: Path) -> None:
    full = json.loads(_run("check", "-c", audited, "--portal", "app-claims", "--json", "--fail-on", "never").stdout)
    only = json.loads(
        _run(
            "check", "-c", audited, "--portal", "app-claims", "--status", "not_enrolled", "--json", "--fail-on", "never"
        ).stdout
    )
    assert {a["coverage"]["status"] for a in only["accounts"]} == {"not_enrolled"}
    assert len(only["accounts"]) == sum(1 for a in full["accounts"] if a["coverage"]["status"] == "not_enrolled")
    critical = json.loads(
        _run(
            "check", "-c", audited, "--portal", "app-claims", "--severity", "critical", "--json", "--fail-on", "never"
        ).stdout
    )
    assert {f["severity"] for f in critical["findings"]} == {"critical"}
    shown = _run("check", "-c", audited, "--portal", "app-claims", "--limit", "2", "--fail-on", "never")
    assert "2 of" in shown.stdout


def test_run_ids_by_unique_prefix(audited: Path) -> None:
    runs = json.loads(_run("history", "-c", audited, "--json").stdout)
    a, b = (r["run_id"] for r in runs)
    by_prefix = _run("diff", "-c", audited, a[:-4], short_run_id(b)[:8], "--json")
    assert by_prefix.exit_code == 0, by_prefix.output
    data = json.loads(by_prefix.stdout)
    assert (data["before"]["run_id"], data["after"]["run_id"]) == (a, b)
    ambiguous = _run("diff", "-c", audited, "2026-Q4", b)  # both runs start so
    assert short_run_id(a) != short_run_id(b)  # same data, same digest: the short id still differs
    assert ambiguous.exit_code == 2 and "ambiguous" in ambiguous.stderr


def test_diff_as_csv(audited: Path) -> None:
    res = _run("diff", "-c", audited, "--format", "csv")
    lines = res.stdout.splitlines()
    assert lines[0].startswith("change,severity,rule_id")
    assert {line.split(",")[0] for line in lines[1:]} <= {"new", "resolved", "persisting"}
    assert len(lines) > 1


_CUT = re.compile(r"\w…|…\w")


@pytest.mark.parametrize(
    "args",
    [
        ("history",),
        ("diff",),
        ("check", "--portal", "app-claims", "--fail-on", "never"),
        ("check", "--portal", "Partner extranet", "--fail-on", "never"),
        ("rules",),
    ],
)
def test_tables_fit_80_columns_without_cutting_a_word(audited: Path, args: tuple[str, ...]) -> None:
    cmd = (args[0], *(() if args[0] == "rules" else ("-c", str(audited))), *args[1:])
    res = _run(*cmd)
    assert res.exit_code in (0, 2), res.output  # Partner extranet may not exist: a clear error then
    for line in res.stdout.splitlines():
        assert len(line.rstrip()) <= 80, line
        assert not _CUT.search(line), line


def test_account_check_at_80_columns(audited: Path) -> None:
    portal = json.loads(_run("check", "-c", audited, "--portal", "app-claims", "--json", "--fail-on", "never").stdout)
    principal = portal["accounts"][0]["principal"]
    res = _run("check", "-c", audited, "--account", principal, "--fail-on", "never")
    assert principal in res.stdout
    assert not any(_CUT.search(line) or len(line.rstrip()) > 80 for line in res.stdout.splitlines())
    assert "not_" not in res.stdout  # statuses in words


def test_stored_run_commands_work_when_the_sources_are_gone(audited: Path) -> None:
    # The demo leaves a config pointing at sandboxes that no longer run: only commands that
    # collect need them.
    for name in ("okta.json", "google.json"):
        (audited.parent / name).rename(audited.parent / (name + ".gone"))
    try:
        assert _run("history", "-c", audited).exit_code == 0
        assert _run("diff", "-c", audited).exit_code == 0
        assert _run("report", "-c", audited).exit_code == 0
        assert _run("check", "-c", audited, "--portal", "app-claims", "--fail-on", "never").exit_code == 0
    finally:
        for name in ("okta.json", "google.json"):
            (audited.parent / (name + ".gone")).rename(audited.parent / name)


def test_validate_offline_checks_secrets(tmp_path: Path, org: SampleOrg) -> None:
    cfg = _config(tmp_path, org)
    doc = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    doc["sources"].append(
        {
            "name": "entra",
            "type": "entra",
            "settings": {
                "tenant_id": "contoso.onmicrosoft.com",
                "client_id": "c",
                "client_secret": {"env": "MFA_AUDIT_TEST_UNSET_SECRET"},
            },
        }
    )
    doc["sources"] = [s for s in doc["sources"] if not (s["name"] == "entra" and s["type"] == "file")]
    cfg.write_text(yaml.safe_dump(doc), encoding="utf-8")
    os.environ.pop("MFA_AUDIT_TEST_UNSET_SECRET", None)
    res = _run("validate", "-c", cfg, "--offline")
    assert res.exit_code == 2, res.output  # it passed before
    assert "MFA_AUDIT_TEST_UNSET_SECRET" in res.stderr and "client_secret" in res.stderr
    online = _run("validate", "-c", cfg)
    assert online.exit_code == 2  # a configuration error, not an incomplete source (3)


def test_rules_command_lists_the_catalogue() -> None:
    from auditor.engine.rules import RULES, RULESET_VERSION

    data = json.loads(_run("rules", "--json").stdout)
    assert data["rule_set_version"] == RULESET_VERSION
    assert [r["id"] for r in data["rules"]] == [r.id for r in RULES]
    assert all(r["severity"] and r["title"] for r in data["rules"])


def test_now_is_offered_only_where_it_changes_something() -> None:
    for command in ("history", "diff", "report", "sample", "validate"):
        assert "--now" not in _run(command, "--help").stdout, command
    for command in ("run", "collect", "evaluate", "check", "purge"):
        assert "--now" in _run(command, "--help").stdout, command


def test_format_help_lists_the_installed_formats() -> None:
    text = " ".join(_run("run", "--help").stdout.split())
    for fmt in ("pdf", "html", "json", "csv", "ocsf"):
        assert fmt in text


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=14),
            min_size=1,
            max_size=4,
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(min_value=40, max_value=120),
)
def test_fitted_tables_never_cut_a_word(cells: list[list[str]], width: int) -> None:
    cols = [Col(f"c{i}", priority=i) for i in range(4)]
    rows = [[Text(" ".join(words)) for words in row] + [Text("")] * (4 - len(row)) for row in cells[:5]]
    rows = [r[:4] for r in rows]
    console = Console(width=width, record=True)
    console.print(fitted(console, cols, rows))
    out = console.export_text()
    assert "…" not in out
    for row in cells:
        for words in row:
            for word in words:
                if len(word) + 4 < width:
                    assert any(word in line for line in out.splitlines()) or word in out.replace("\n", "")


def test_printed_paths_are_never_wrapped(tmp_path: Path, org: SampleOrg) -> None:
    deep = tmp_path / ("a-rather-long-folder-name-" * 3) / "audit"
    cfg = _config(deep, org)
    res = _run("run", "-c", cfg, "--now", NOW, "--fail-on", "never", columns=40)
    written = [line for line in res.stdout.splitlines() if line.startswith("wrote ")]
    assert written and all(Path(line[len("wrote ") :]).is_file() for line in written)
