"""``mfa-audit serve``: the bind address and the token, clear errors, and the command
end to end (a real uvicorn in a subprocess, on a loopback port)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import main
from auditor.config.load import load_config
from auditor.web.serve import ServeError, is_loopback, settings_for
from connectors.file.export import write_json
from connectors.sandbox.demo import PORTALS
from connectors.sandbox.sample_org import generate

from . import browser as br

NOW = "2026-11-15T09:00:00+00:00"


def _config(tmp: Path, **report: Any) -> Path:
    org = generate(seed=5, accounts=120)
    sources = []
    for name, truth in org.sources.items():
        write_json(truth, tmp / f"{name}.json")
        sources.append({"name": name, "type": "file", "settings": {"path": f"{name}.json"}})
    doc = {
        "organisation": {"name": "Mutuelle Exemple", "contact": "dpo@example.org"},
        "period": org.period,
        "sources": sources,
        "portals": PORTALS,
        "report": {"formats": ["json"], "output_dir": "out", **report},
        "store": {"path": "store.sqlite3"},
    }
    path = tmp / "audit.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _load(path: Path):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return load_config(path, now=datetime.fromisoformat(NOW))


def test_loopback_needs_no_token_and_checks_the_host(tmp_path: Path) -> None:
    config = _load(_config(tmp_path))
    settings, token = settings_for(config, tmp_path / "s.sqlite3", host="127.0.0.1", port=8765, pseudonymise=False)
    assert token is None and settings.guard.token is None
    assert settings.guard.hosts is not None and "127.0.0.1:8765" in settings.guard.hosts
    assert "attacker.example:8765" not in settings.guard.hosts
    assert settings.reports_dir == tmp_path / "out"
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert is_loopback(host)
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.org"):
        assert not is_loopback(host)


def test_beyond_loopback_a_token_is_made(tmp_path: Path) -> None:
    config = _load(_config(tmp_path))
    a, token_a = settings_for(config, tmp_path / "s.sqlite3", host="0.0.0.0", port=8765, pseudonymise=False)
    _, token_b = settings_for(config, tmp_path / "s.sqlite3", host="0.0.0.0", port=8765, pseudonymise=False)
    assert token_a and token_b and token_a != token_b and len(token_a) >= 40
    assert a.guard.token == token_a and a.guard.hosts is None


def test_pseudonymise_needs_the_reports_key(tmp_path: Path) -> None:
    config = _load(_config(tmp_path))
    with pytest.raises(ServeError, match=r"report\.pseudonym_key"):
        settings_for(config, tmp_path / "s.sqlite3", host="127.0.0.1", port=8765, pseudonymise=True)
    keyed = _load(_config(tmp_path, pseudonymise=True, pseudonym_key={"env": "MFA_TEST_PSEUDO_KEY"}))
    os.environ["MFA_TEST_PSEUDO_KEY"] = "0123456789abcdef0123456789abcdef"
    try:
        settings, _ = settings_for(keyed, tmp_path / "s.sqlite3", host="127.0.0.1", port=8765, pseudonymise=False)
    finally:
        del os.environ["MFA_TEST_PSEUDO_KEY"]
    # The config pseudonymises its reports: the view does too, and its files may be offered.
    assert settings.pseudonym_key == b"0123456789abcdef0123456789abcdef"
    assert settings.reports_pseudonymised
    with pytest.raises(ServeError, match="--port"):
        settings_for(replace(config), tmp_path / "s.sqlite3", host="127.0.0.1", port=70000, pseudonymise=False)


def test_serve_without_a_store_is_a_clear_error(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    result = CliRunner().invoke(main, ["serve", "-c", str(cfg)])
    assert result.exit_code == 2
    assert "no evidence store at this path" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_serve_end_to_end(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    run = CliRunner().invoke(main, ["run", "-c", str(cfg), "--now", NOW, "--json"])
    assert run.exit_code in (0, 1), run.output
    port = br.free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "auditor", "serve", "-c", str(cfg), "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert f"http://127.0.0.1:{port}/" in line and "read-only" in line, line
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(base + "/", timeout=5) as r:
                    page = r.read().decode()
                    assert r.headers["content-security-policy"]
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        run_id = page.split('href="/runs/', 1)[1].split('"', 1)[0]
        with urllib.request.urlopen(f"{base}/runs/{run_id}/files/json", timeout=5) as r:
            assert r.headers["content-disposition"].startswith("attachment")
            assert r.read().startswith(b"{")
        post = urllib.request.Request(base + "/", data=b"x", method="POST")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(post, timeout=5)
        assert err.value.code == 405
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    cfg = _config(tmp_path)
    assert CliRunner().invoke(main, ["run", "-c", str(cfg), "--now", NOW, "--json"]).exit_code in (0, 1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "-c", str(cfg), "--port", str(port)])
    assert result.exit_code == 2
    assert "cannot listen there" in result.output and "Traceback" not in result.output


def test_banner_warns_beyond_loopback_and_carries_the_token_once() -> None:
    from auditor.web.serve import banner

    assert banner("127.0.0.1", 8765, None) == ["mfa-audit serve: http://127.0.0.1:8765/ (read-only; Ctrl+C stops)"]
    wide = banner("0.0.0.0", 9000, "Zq9-t0k3n")
    assert wide[0].startswith("warning: listening on 0.0.0.0, beyond this machine")
    assert wide[1] == "mfa-audit serve: http://0.0.0.0:9000/?token=Zq9-t0k3n (read-only; Ctrl+C stops)"
    assert "".join(wide).count("Zq9-t0k3n") == 1
    assert banner("::", 9000, "t")[1].startswith("mfa-audit serve: http://[::]:9000/?token=t")
