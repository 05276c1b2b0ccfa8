"""The audit through the CLI (a subprocess, ``-vv``) against the Auth0 sandbox with a
planted client secret: no secret and no minted access token in any byte written or
printed (reports, PDF streams, store rows decompressed, stdout, stderr), and the
sandbox saw only reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from connectors.sandbox import auth0 as auth0_sandbox
from connectors.sandbox.demo import demo_config

from .harness import ORG
from .test_end_to_end import NOW, _all_bytes

PLANTED = "Auth0Plant~ClientSecret.5d2b8e7f1a"


@pytest.mark.slow
def test_auth0_run_leaks_no_secret_and_only_reads(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with auth0_sandbox.start(ORG, client_secret=PLANTED) as sandbox:
        config = demo_config(ORG, {"auth0": ("auth0", sandbox.settings())})
        config["portals"] = [p for p in config["portals"] if p["match"]["source"] == "auth0"]
        assert config["portals"]  # the tenant's classes are there when it is a source
        config.pop("exceptions", None)
        config["report"]["output_dir"] = str(out)
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "auditor", "-vv", "run", "-c", "config.yaml", "--now", NOW, "-o", str(out)],
            cwd=tmp_path,
            env={**os.environ, **sandbox.environ()},
            capture_output=True,
            timeout=300,
        )
        minted = list(sandbox._state.access_tokens)
        requests = sandbox.requests
    assert proc.returncode in (0, 1), proc.stderr.decode(errors="replace")[-3000:]
    assert b"Traceback" not in proc.stderr and b"DEBUG" in proc.stderr
    secrets = [PLANTED, *minted]
    assert len(minted) >= 1
    haystacks = [("stdout", proc.stdout), ("stderr", proc.stderr)]
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "config.yaml"]
    assert any(p.suffix == ".pdf" for p in files) and any(p.suffix == ".sqlite3" for p in files)
    for f in files:
        haystacks.extend(_all_bytes(f))
    for secret in secrets:
        for where, data in haystacks:
            assert secret.encode() not in data, f"a secret ({secret[:6]}…) leaked into {where}"
    assert PLANTED not in (tmp_path / "config.yaml").read_text(encoding="utf-8")
    assert {r.family for r in requests} >= {"users", "methods", "clients", "guardian", "actions", "logs", "token"}
    for r in requests:
        assert r.method == "GET" or (r.method == "POST" and r.path == "/oauth/token"), r
