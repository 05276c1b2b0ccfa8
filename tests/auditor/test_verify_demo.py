"""End to end, as an organisation and its auditor would: the demo audit, re-rendered in
English and French with ``report --run``, signed with a throwaway CA's certificate and
timestamped by a loopback time-stamping authority, verifies as "signed and trusted";
one glyph changed does not. ``report --run`` refuses a config that changes the verdicts
and prints the same configuration digest whatever the language or signature."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import verify as vs

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "auditor"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    res = _cli("demo", "-o", str(out), cwd=out)
    assert res.returncode == 0, res.stderr[-2000:]
    return out


def _run_id(demo: Path) -> str:
    pdf = sorted((demo / "reports").glob("*Q4*.pdf"))[0]
    return pdf.stem.removeprefix("mfa-audit-")


def _variant(demo: Path, name: str, **report: object) -> Path:
    doc = yaml.safe_load((demo / "config.yaml").read_text(encoding="utf-8"))
    doc["report"] = {**doc.get("report", {}), **report}
    path = demo / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _manifest(pdf: Path) -> dict[str, object]:
    return json.loads(vs.attachment(pdf.read_bytes(), "manifest.json"))  # type: ignore[no-any-return]


def test_signed_and_timestamped_demo_reports_verify_in_english_and_french(demo: Path) -> None:
    ca = vs.make_ca()
    signer, tsa = vs.issue(ca, "Mutuelle Exemple compliance"), vs.issue(ca, "Loopback TSA", tsa=True)
    (demo / "signer.key").write_bytes(signer.key_pem)
    (demo / "signer.pem").write_bytes(signer.cert_pem + ca.cert_pem)
    (demo / "ca.pem").write_bytes(ca.cert_pem)
    run_id = _run_id(demo)
    unsigned = sorted((demo / "reports").glob(f"*{run_id}.pdf"))[0]
    written = {}
    with vs.loopback_tsa(tsa, ca) as url:
        for language in ("en", "fr"):
            config = _variant(
                demo,
                f"signed-{language}",
                language=language,
                formats=["pdf"],
                signing={"key": {"file": "signer.key"}, "certificate": "signer.pem", "timestamp_url": url},
            )
            res = _cli("report", "-c", str(config), "--run", run_id, "-o", str(demo / language), cwd=demo)
            assert res.returncode == 0, res.stderr[-2000:]
            written[language] = demo / language / unsigned.name
    digests = {_manifest(p)["config_sha256"] for p in (unsigned, *written.values())}
    assert len(digests) == 1  # same evaluation, whatever the language or signature
    for language, pdf in written.items():
        res = _cli("verify", str(pdf), "--trust", str(demo / "ca.pem"), "--require-signature", cwd=demo)
        assert res.returncode == 0, (language, res.stdout[-3000:])
        lines = res.stdout.splitlines()
        assert lines[0].startswith("SIGNED AND TRUSTED: signed by") and "timestamped" in lines[0]
        assert any(line.startswith("ok   pages: all") for line in lines)
        assert any(line.startswith("ok   timestamp") for line in lines)

    french = written["fr"].read_bytes()
    page, figure = next(
        (n, m.group())
        for n, t in enumerate(vs.page_texts(french), start=1)
        for m in [re.search(r"\d+,\d", t)]
        if m is not None
    )
    glyph = figure[:-1] + ("1" if figure[-1] != "1" else "2")  # one digit of a French figure
    tampered = demo / "tampered-fr.pdf"
    tampered.write_bytes(vs.edit_page_text(french, page, figure, glyph))
    res = _cli("verify", str(tampered), "--trust", str(demo / "ca.pem"), cwd=demo)
    assert res.returncode == 1
    assert "Traceback" not in res.stdout + res.stderr
    assert any(line.startswith("FAIL signature integrity") for line in res.stdout.splitlines())
    assert any(line.startswith(f"FAIL page {page}:") for line in res.stdout.splitlines())


def test_report_run_refuses_a_config_that_changes_the_verdicts(demo: Path) -> None:
    run_id = _run_id(demo)
    doc = yaml.safe_load((demo / "config.yaml").read_text(encoding="utf-8"))
    doc["policy"] = {**(doc.get("policy") or {}), "dormant_after_days": 7}
    changed = demo / "changed.yaml"
    changed.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    res = _cli("report", "-c", str(changed), "--run", run_id, "-f", "json", "-o", str(demo / "x"), cwd=demo)
    assert res.returncode == 2
    assert "policy.dormant_after_days" in res.stderr and "--re-evaluate" in res.stderr
    res = _cli(
        "report", "-c", str(changed), "--run", run_id, "--re-evaluate", "-f", "pdf", "-o", str(demo / "re"), cwd=demo,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    assert "re-evaluated as run" in res.stderr
    pdf = next((demo / "re").glob("*.pdf"))
    assert run_id not in pdf.name
    assert _cli("verify", str(pdf), cwd=demo).returncode == 0


def test_a_report_re_rendered_with_a_language_override_verifies(demo: Path) -> None:
    # The embedded config still says "en": verify renders with the language the manifest records.
    run_id = _run_id(demo)
    config = str(demo / "config.yaml")
    res = _cli(
        "report", "-c", config, "--run", run_id, "--language", "fr", "-f", "pdf", "-o", str(demo / "fr2"), cwd=demo
    )
    assert res.returncode == 0, res.stderr[-2000:]
    pdf = next((demo / "fr2").glob("*.pdf"))
    assert _manifest(pdf)["language"] == "fr"
    res = _cli("verify", str(pdf), cwd=demo)
    assert res.returncode == 0, res.stdout[-3000:]
