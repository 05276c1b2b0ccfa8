"""Settings, access checks, JSON input errors, and a file source through the real engine."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.config.load import parse_config
from auditor.engine.evaluate import evaluate
from auditor.evidence.serialise import source_snapshot_to_json
from auditor.interfaces import CollectContext, InputDataError, Secret, SettingsError, SourceUnavailable
from auditor.model import CoverageStatus, PortalId, Snapshot
from connectors.file import FileConnector
from connectors.file.export import write_json
from connectors.file.settings import FileFormat
from connectors.sandbox.sample_org import SampleOrg

Ctx = Callable[..., CollectContext]


@pytest.mark.parametrize(
    ("settings", "key", "expected"),
    [
        ({}, "path", "the path of a .csv or .json export file"),
        ({"path": {"env": "X"}}, "path", "the path of a .csv or .json export file"),
        ({"path": Secret(env="X")}, "path", "the path of a .csv or .json export file"),
        ({"path": "export.xlsx"}, "format", "csv or json (the file name does not end in .csv or .json)"),
        ({"path": "export.csv", "format": "xml"}, "format", "csv or json"),
        ({"path": "export.json", "portals": {"a": "A"}}, "portals", "nothing: a JSON export names its portals"),
        ({"path": "export.csv", "portals": ["a"]}, "portals", "a mapping of portal id to portal name"),
        ({"path": "export.csv", "portals": {"a": ""}}, "portals.a", "the portal's name (text)"),
        ({"path": "export.csv", "encoding": "latin-1"}, "encoding", "one of format, path, portals"),
    ],
)
def test_bad_settings(settings: dict[str, object], key: str, expected: str) -> None:
    with pytest.raises(SettingsError) as info:
        FileConnector("s", settings, Path("/cfg"))
    assert info.value.key == key and info.value.expected.startswith(expected)


def test_settings_resolve_relative_paths_and_format() -> None:
    connector = FileConnector(
        "s", {"path": "exports/hr.DATA", "format": "CSV", "portals": {12: "Payroll"}}, Path("/cfg")
    )
    assert connector.settings.path == Path("/cfg/exports/hr.DATA")
    assert connector.settings.format is FileFormat.CSV and connector.settings.portals == {"12": "Payroll"}
    assert FileConnector("s", {"path": "/abs/x.json"}, Path("/cfg")).settings.format is FileFormat.JSON


def test_check_access(tmp_path: Path) -> None:
    (missing,) = FileConnector("s", {"path": "nope.csv"}, tmp_path).check_access()
    assert missing.granted is False and missing.detail == "the file does not exist"
    (tmp_path / "ok.csv").write_text("id\n", encoding="utf-8")
    (ok,) = FileConnector("s", {"path": "ok.csv"}, tmp_path).check_access()
    assert ok.granted is True and ok.name == f"read {tmp_path / 'ok.csv'}"
    (folder,) = FileConnector("s", {"path": str(tmp_path), "format": "csv"}, tmp_path).check_access()
    assert folder.granted is False
    if os.geteuid() != 0:  # root reads anything
        (tmp_path / "ok.csv").chmod(0)
        (denied,) = FileConnector("s", {"path": "ok.csv"}, tmp_path).check_access()
        assert denied.granted is False


def test_missing_file_makes_the_source_unavailable(tmp_path: Path, make_ctx: Ctx) -> None:
    with pytest.raises(SourceUnavailable, match=r"nope\.json: export file not found"):
        FileConnector("s", {"path": "nope.json"}, tmp_path).collect(make_ctx())


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t.replace('"format": "mfa-auditor.source"', '"format": "other"'), "$.format: expected"),
        (lambda t: t.replace('"schema_version": 1', '"schema_version": 9'), "$.schema_version: this version reads 1"),
        (lambda t: t[: len(t) // 2], "not JSON:"),
        (lambda t: t.replace('"kind": "human"', '"kind": "robot"', 1), "$.accounts[0].kind: 'robot' is not a valid"),
        (lambda t: t.replace('"enabled": true', '"enabled": "yes"', 1), "$.accounts[0].enabled: expected bool"),
        (lambda t: t.replace('"complete": true', '"complete": true, "colour": 1'), "$.colour: not a field"),
    ],
)
def test_bad_json_documents(
    org: SampleOrg, make_ctx: Ctx, tmp_path: Path, mutate: Callable[[str], str], expected: str
) -> None:
    (tmp_path / "okta.json").write_text(mutate(source_snapshot_to_json(org.truth("okta"))), encoding="utf-8")
    with pytest.raises(InputDataError) as info:
        FileConnector("okta", {"path": "okta.json"}, tmp_path).collect(make_ctx())
    assert str(info.value).startswith(f"{tmp_path / 'okta.json'}: ") and expected in str(info.value)


def test_inconsistent_json_is_refused(org: SampleOrg, make_ctx: Ctx, tmp_path: Path) -> None:
    from dataclasses import replace

    truth = org.truth("okta")
    broken = replace(
        truth,
        accounts=(*truth.accounts, truth.accounts[0]),
        access=(*truth.access, replace(truth.access[0], portal_id=PortalId("0oa-ghost"))),
    )
    write_json(broken, tmp_path / "okta.json")
    with pytest.raises(InputDataError) as info:
        FileConnector("okta", {"path": "okta.json"}, tmp_path).collect(make_ctx())
    message = str(info.value)
    assert f"$.accounts[{len(truth.accounts)}].id: duplicate id '{truth.accounts[0].id}' (first at $.accounts[0])" in (
        message
    )
    assert f"$.access[{len(truth.access)}].portal_id: '0oa-ghost' is not a portal of the document" in message


CONFIG = """\
organisation: {name: Test}
period: 2026-Q4
sources:
  - {name: hr-export, type: file, settings: {path: hr.csv}}
portals:
  - match: {source: hr-export, id: payroll}
    sensitivity: high
policy:
  required: {high: strong}
"""
ROWS = """\
id,principal,name,kind,enabled,privileged,last_sign_in,methods,portals,groups,enforcement
u1,a@x,A,human,true,false,2026-11-01T10:00:00Z,totp_software,payroll,,strong
u2,b@x,B,human,true,false,2026-11-01T10:00:00Z,totp_software,payroll,,none
u3,c@x,C,human,true,false,2026-11-01T10:00:00Z,,payroll,,strong
u4,d@x,D,human,true,false,2026-11-01T10:00:00Z,totp_software,payroll,,block
"""


def test_a_csv_source_needs_nothing_special_from_the_engine(tmp_path: Path, make_ctx: Ctx) -> None:
    now = datetime(2026, 11, 15, tzinfo=UTC)
    config = parse_config(CONFIG, tmp_path / "config.yaml", now=now)
    (tmp_path / "hr.csv").write_text(ROWS, encoding="utf-8")
    source = config.sources[0]
    snap = FileConnector(source.name, source.settings, config.path.parent).collect(make_ctx(source.name))
    snapshot = Snapshot(config.period, config.period_start, config.period_end, config.digest, (snap,))
    result = evaluate(snapshot, config.evaluation, now=now, run_id="t")
    status = {c.account_id: c.status for c in result.coverage}
    assert status == {
        "u1": CoverageStatus.PROTECTED,
        "u2": CoverageStatus.NOT_ENFORCED,
        "u3": CoverageStatus.NOT_ENROLLED,
        "u4": CoverageStatus.BLOCKED,
    }


def test_facts_of_a_csv_export(tmp_path: Path, make_ctx: Ctx) -> None:
    """What a CSV export holds is read; what it cannot hold is said, with the reason."""
    from auditor.model import Fact

    (tmp_path / "hr.csv").write_text(ROWS, encoding="utf-8")
    snap = FileConnector("hr", {"path": "hr.csv"}, tmp_path).collect(make_ctx("hr"))
    facts = {f.fact: f for f in snap.facts}
    assert set(facts) == set(Fact)
    assert facts[Fact.METHODS].read and facts[Fact.POLICIES].read and facts[Fact.SIGN_IN_TIMES].read
    for fact in (Fact.METHODS_POLICY, Fact.SIGN_IN_LOG, Fact.LEGACY_AUTH):
        assert not facts[fact].read and "export file" in facts[fact].reason


def test_facts_of_a_json_export(org: SampleOrg, make_ctx: Ctx, tmp_path: Path) -> None:
    from auditor.model import Fact

    truth = org.truth("okta")
    (tmp_path / "okta.json").write_text(source_snapshot_to_json(truth), encoding="utf-8")
    snap = FileConnector("okta", {"path": "okta.json"}, tmp_path).collect(make_ctx("okta"))
    facts = {f.fact: f for f in snap.facts}
    assert facts[Fact.ACCOUNTS].read and not facts[Fact.METHODS_POLICY].read
    assert facts[Fact.SIGN_IN_LOG].read is False  # not asked for this run
