"""`mfa-audit run` on a Cognito source through the CLI in a subprocess: a planted secret
access key appears in no byte written or printed (reports, PDF streams, the evidence
store decompressed, -vv logs), and the sandbox saw only read actions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from connectors.sandbox.cognito.sandbox import READ_ACTIONS, start
from connectors.sandbox.demo import demo_config
from connectors.sandbox.sample_org import generate
from tests.faults.test_end_to_end import _all_bytes

PLANTED = "PLANTED/cognito+secret=9d2e41-never-written"
NOW = "2026-11-15T09:00:00+00:00"


@pytest.mark.slow
def test_cli_run_writes_no_secret_and_only_reads(tmp_path: Path) -> None:
    org = generate(seed=3, accounts=300)
    out = tmp_path / "out"
    with start(org, secret_access_key=PLANTED) as sandbox:
        config = demo_config(org, {"members": ("cognito", sandbox.settings())})
        config["portals"] = [
            {**p, "match": {**p["match"], "source": "members"}}
            for p in config["portals"]
            if p["match"].get("source") == "cognito"
        ]
        config["exceptions"] = []
        config["report"]["output_dir"] = str(out)
        config["report"]["formats"] = ["pdf", "html", "json", "csv"]
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        env = {**os.environ, **sandbox.environ()}
        proc = subprocess.run(
            [sys.executable, "-m", "auditor", "-vv", "run", "-c", "config.yaml", "--now", NOW, "-o", str(out)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=300,
        )
        operations = {r.operation for r in sandbox.requests}
    assert proc.returncode in (0, 1), proc.stderr.decode(errors="replace")[-3000:]
    assert b"Traceback" not in proc.stderr and b"DEBUG" in proc.stderr
    assert operations <= READ_ACTIONS and "AdminGetUser" in operations
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "config.yaml"]
    assert any(p.suffix == ".pdf" for p in files) and any(p.suffix == ".sqlite3" for p in files)
    haystacks = [("stdout", proc.stdout), ("stderr", proc.stderr)]
    for f in files:
        haystacks.extend(_all_bytes(f))
    for where, data in haystacks:
        assert PLANTED.encode() not in data, f"the secret access key leaked into {where}"
    assert PLANTED not in (tmp_path / "config.yaml").read_text(encoding="utf-8")
