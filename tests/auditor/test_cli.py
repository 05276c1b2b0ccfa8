"""The CLI end to end over file sources: exit codes, clear errors, the stored-run
commands, signing and verification. Sandbox-backed runs are tested with each connector
and in the fault matrix."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from auditor.cli import main
from connectors.file.export import write_json
from connectors.sandbox.demo import PORTALS
from connectors.sandbox.sample_org import SampleOrg, generate

NOW = "2026-11-15T09:00:00+00:00"


@pytest.fixture(scope="module")
def org() -> SampleOrg:
    return generate(seed=11, accounts=300)


def _config(tmp: Path, org: SampleOrg, *, incomplete: str | None = None, **report: Any) -> Path:
    sources = []
    for name, truth in org.sources.items():
        snap = replace(truth, complete=False) if name == incomplete else truth
        write_json(snap, tmp / f"{name}.json")
        sources.append({"name": name, "type": "file", "settings": {"path": f"{name}.json"}})
    doc = {
        "organisation": {"name": "Mutuelle Exemple", "contact": "dpo@example.org"},
        "period": org.period,
        "sources": sources,
        "portals": PORTALS,
        "policy": {"required": {"high": "strong", "sensitive": "weak", "normal": "none"}},
        "report": {"formats": ["json"], "output_dir": "out", **report},
        "store": {"path": "store.sqlite3"},
    }
    path = tmp / "audit.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_exit_codes_follow_fail_on(tmp_path: Path, org: SampleOrg) -> None:
    cfg = _config(tmp_path, org)
    failing = _run("run", "-c", cfg, "--now", NOW, "--json")
    assert failing.exit_code == 1, failing.output
    doc = json.loads(failing.stdout)
    assert doc["complete"] is True and doc["findings_by_severity"]["critical"] > 0
    report = json.loads(Path(doc["files"][0]).read_text(encoding="utf-8"))
    assert report["metrics"]["sensitive_protected"] == doc["sensitive_protected"]

    assert _run("run", "-c", cfg, "--now", NOW, "--fail-on", "never", "--no-store").exit_code == 0


def test_incomplete_source_exits_3_whatever_fail_on(tmp_path: Path, org: SampleOrg) -> None:
    cfg = _config(tmp_path, org, incomplete="okta")
    res = _run("run", "-c", cfg, "--now", NOW, "--fail-on", "never", "--no-store", "--json")
    assert res.exit_code == 3
    assert json.loads(res.stdout)["complete"] is False


def test_bad_config_is_a_clear_error_with_exit_2(tmp_path: Path, org: SampleOrg) -> None:
    cfg = _config(tmp_path, org)
    doc = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    doc["policy"]["dormant_afer_days"] = 30
    cfg.write_text(yaml.safe_dump(doc), encoding="utf-8")
    res = _run("run", "-c", cfg, "--now", NOW)
    assert res.exit_code == 2
    assert "audit.yaml" in res.stderr and "policy.dormant_afer_days" in res.stderr
    assert "dormant_after_days" in res.stderr  # did you mean
    assert "Traceback" not in res.output


def test_missing_config_and_bad_arguments_exit_2(tmp_path: Path) -> None:
    res = _run("run", "-c", tmp_path / "nope.yaml")
    assert res.exit_code == 2 and "nope.yaml" in res.stderr
    assert _run("check", "-c", tmp_path / "nope.yaml").exit_code == 2
    assert _run("run", "-c", tmp_path / "x.yaml", "--now", "yesterday").exit_code == 2


def test_stored_runs_answer_history_diff_check_and_sample(tmp_path: Path, org: SampleOrg) -> None:
    cfg = _config(tmp_path, org)
    assert _run("run", "-c", cfg, "--now", NOW, "--fail-on", "never").exit_code == 0
    assert _run("run", "-c", cfg, "--now", "2026-11-16T09:00:00+00:00", "--fail-on", "never").exit_code == 0

    runs = json.loads(_run("history", "-c", cfg, "--json").stdout)
    assert len(runs) == 2
    diff = json.loads(_run("diff", "-c", cfg, "--json").stdout)
    assert diff["new"] == [] and diff["resolved"] == []  # same data, a day later
    assert len(diff["persisting"]) > 0

    principal = next(a.principal for a in org.truth("entra").accounts if a.enabled and a.methods)
    answer = _run("check", "-c", cfg, "--account", principal.upper(), "--json", "--fail-on", "never")
    assert answer.exit_code == 0, answer.output
    assert principal in answer.stdout
    # check gates like run: a finding at or above --fail-on exits 1 (it exited 0 before).
    data = json.loads(answer.stdout)
    gated = _run("check", "-c", cfg, "--account", principal, "--json", "--fail-on", "low")
    assert gated.exit_code == (1 if data["findings"] else 0), gated.output
    unknown = _run("check", "-c", cfg, "--account", "nobody@nowhere.example")
    assert unknown.exit_code == 2 and "nobody@nowhere.example" in unknown.stderr

    first = _run("sample", "-c", cfg, "--size", "5", "--seed", "42")
    again = _run("sample", "-c", cfg, "--size", "5", "--seed", "42")
    other = _run("sample", "-c", cfg, "--size", "5", "--seed", "43")
    assert first.exit_code == 0 and first.stdout == again.stdout != other.stdout
    drawn = json.loads(first.stdout)
    assert drawn["size"] == 5
    assert all(item["verdicts"] and item["account"]["principal"] for item in drawn["sample"])


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Compliance officer (test)")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = tmp / "signer.key", tmp / "signer.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def test_signed_report_verifies_and_tampering_is_caught(tmp_path: Path, org: SampleOrg) -> None:
    key_path, cert_path = _self_signed(tmp_path)
    cfg = _config(
        tmp_path, org, formats=["pdf"], signing={"key": {"file": key_path.name}, "certificate": cert_path.name}
    )
    res = _run("run", "-c", cfg, "--now", NOW, "--fail-on", "never", "--no-store", "--json")
    assert res.exit_code == 0, res.output
    pdf = Path(json.loads(res.stdout)["files"][0])
    assert b"/ByteRange" in pdf.read_bytes()  # a signature dictionary is present
    ok = _run("verify", pdf)
    assert ok.exit_code == 0, ok.output
    assert "signature" in ok.stdout.lower()

    data = bytearray(pdf.read_bytes())
    middle = len(data) // 2
    data[middle] = (data[middle] + 1) % 256
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    bad = _run("verify", tampered)
    assert bad.exit_code != 0
    assert "Traceback" not in bad.output


def test_signing_key_must_be_a_secret_reference(tmp_path: Path, org: SampleOrg) -> None:
    cfg = _config(tmp_path, org, signing={"key": "-----BEGIN PRIVATE KEY-----abc", "certificate": "c.pem"})
    res = _run("validate", "-c", cfg, "--offline")
    assert res.exit_code == 2
    assert "report.signing.key" in res.stderr and "BEGIN PRIVATE KEY" not in res.output


def test_connectors_lists_every_builtin() -> None:
    res = _run("connectors")
    assert res.exit_code == 0
    for name in ("file", "entra", "google_workspace", "okta", "pdf", "html", "json", "csv", "ocsf"):
        assert f"  {name} " in res.stdout


def test_terminal_output_neutralises_controls_from_identity_data(tmp_path: Path, org: SampleOrg) -> None:
    entra = org.truth("entra")
    victim = next(a for a in entra.accounts if a.enabled and a.kind.value == "human")
    hostile = replace(
        victim, display_name="Eve\x1b[2J\x1b[31m\u202eexe.txt", principal="eve\x1b]0;pwned\x07@example.org"
    )
    rigged = replace(
        org,
        sources={
            **org.sources,
            "entra": replace(entra, accounts=tuple(hostile if a.id == victim.id else a for a in entra.accounts)),
        },
    )
    cfg = _config(tmp_path, rigged)
    assert _run("run", "-c", cfg, "--now", NOW, "--fail-on", "never").exit_code == 0
    res = _run("check", "-c", cfg, "--account", "eve\x1b]0;pwned\x07@example.org", "--fail-on", "never")
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output and "\u202e" not in res.output and "\x07" not in res.output
    assert "[U+001B]" in res.output  # shown, not obeyed


def test_collect_then_evaluate_gives_the_run_of_one_command(tmp_path: Path, org: SampleOrg) -> None:
    cfg = _config(tmp_path, org)
    snap = tmp_path / "snapshot.json"
    collected = _run("collect", "-c", cfg, "--now", NOW, "-o", snap)
    assert collected.exit_code == 0, collected.output
    assert not snap.with_name("snapshot.json.part").exists()
    assert json.loads(snap.read_text(encoding="utf-8"))["format"] == "mfa-auditor.snapshot"
    staged = _run("evaluate", "-c", cfg, "--now", NOW, "--snapshot", snap, "--no-store", "--json")
    whole = _run("run", "-c", cfg, "--now", NOW, "--no-store", "--json")
    assert staged.exit_code == whole.exit_code == 1
    assert json.loads(staged.stdout)["run_id"] == json.loads(whole.stdout)["run_id"]
