"""The planted-secret and pseudonymisation searches through the whole CLI (``-vv run``,
a subprocess) on the demo variant with realistic personal data in every free-text
field (``connectors.sandbox.personal_data``): no secret in any byte written or printed,
the store included; no person in any byte of the pseudonymised reports, their PDF
streams and attachments included."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from connectors.sandbox import google as google_sandbox
from connectors.sandbox import graph as graph_sandbox
from connectors.sandbox import okta as okta_sandbox
from connectors.sandbox.demo import demo_config
from connectors.sandbox.personal_data import ADDRESSES, COMMENT, PEOPLE, add_people, with_people
from tests.faults.harness import ORG
from tests.faults.test_end_to_end import _all_bytes, _google_secrets, _okta_key_lines

GRAPH_SECRET = "GraphPlant~Realistic.51e0c7"
OKTA_TOKEN = "00OktaPlantRealistic-77ab3e"
PSEUDONYM_KEY = "PseudonymPlantKey-c4d1f09a8e"
NOW = "2026-11-15T09:00:00Z"

pytestmark = pytest.mark.slow


@dataclass(frozen=True, slots=True)
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes
    work: Path
    out: Path
    secrets: tuple[str, ...]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    org = with_people(ORG)
    work = tmp_path_factory.mktemp("realistic")
    out = work / "reports"
    with (
        graph_sandbox.start(org, client_secret=GRAPH_SECRET) as graph,
        google_sandbox.start(org) as google,
        okta_sandbox.start(org, token=OKTA_TOKEN) as okta,
    ):
        sources = {
            "entra": ("entra", {**graph.settings(), "backoff_base": 0.01, "retry_jitter": 0.0}),
            "google": ("google_workspace", google.settings()),
            "okta": ("okta", okta.settings()),
        }
        config = add_people(demo_config(org, sources), org)
        config["report"] = {
            **config["report"],
            "output_dir": str(out),
            "pseudonymise": True,
            "pseudonym_key": {"env": "MFA_PSEUDONYM_KEY"},
        }
        text = COMMENT + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
        (work / "config.yaml").write_text(text, encoding="utf-8")
        env = {
            **os.environ,
            **graph.environ(),
            **google.environ(),
            **okta.environ(),
            "MFA_PSEUDONYM_KEY": PSEUDONYM_KEY,
        }
        proc = subprocess.run(
            [sys.executable, "-m", "auditor", "-vv", "run", "-c", "config.yaml", "--now", NOW],
            cwd=work,
            env=env,
            capture_output=True,
            timeout=300,
        )
        secrets = (
            GRAPH_SECRET,
            OKTA_TOKEN,
            PSEUDONYM_KEY,
            *_google_secrets(google),
            *_okta_key_lines(okta.environ()[okta_sandbox.PRIVATE_KEY_ENV]),
            *graph._graph._tokens,
            *google._state.tokens,
            *okta._state.access_tokens,
        )
    yield Run(proc.returncode, proc.stdout, proc.stderr, work, out, secrets)


def test_the_run_went_through(run: Run) -> None:
    assert run.returncode in (0, 1), run.stderr.decode(errors="replace")[-3000:]
    assert b"Traceback" not in run.stderr
    assert sorted(p.suffix for p in run.out.iterdir()) == [".csv", ".csv", ".html", ".json", ".jsonl", ".pdf"]


def test_no_secret_in_any_byte_written_or_printed(run: Run) -> None:
    haystacks: list[tuple[str, bytes]] = [("stdout", run.stdout), ("stderr", run.stderr)]
    for f in (p for p in run.work.rglob("*") if p.is_file() and p.name != "config.yaml"):
        haystacks.extend(_all_bytes(f))
    for secret in run.secrets:
        for where, data in haystacks:
            assert secret.encode() not in data, f"a secret ({secret[:6]}…) leaked into {where}"


def test_no_person_in_any_byte_of_the_pseudonymised_reports(run: Run) -> None:
    import pikepdf

    needles = [n.casefold().encode() for n in (*PEOPLE, *ADDRESSES, "Carol", "Lefèvre", "Inès")]
    # The control: the people are really in what the reports were made from.
    source = (run.work / "config.yaml").read_text(encoding="utf-8")
    assert all(p in source for p in PEOPLE) and all(a in source for a in ADDRESSES)
    store = [data for p in run.work.glob("*.sqlite3") for _, data in _all_bytes(p)]
    assert any(b"except Carol Petit" in data for data in store), "the policies did not reach the snapshot"
    for report in run.out.iterdir():
        chunks = list(_all_bytes(report))
        if report.suffix == ".pdf":
            with pikepdf.open(report) as pdf:
                chunks += [(f"{report} {n}", s.get_file().read_bytes()) for n, s in pdf.attachments.items()]
            text = subprocess.run(["pdftotext", str(report), "-"], capture_output=True, check=True).stdout
            chunks.append((f"{report} text", text))
        for where, data in chunks:
            folded = data.decode("utf-8", errors="replace").casefold().encode()
            for needle in needles:
                assert needle not in folded, f"{needle.decode()!r} in {where}"


def test_the_pseudonymised_report_still_verifies(run: Run) -> None:
    """The edition re-written for people must still be evidence: the attached snapshot,
    re-evaluated with the attached (re-written) config, gives the attached findings."""
    pdf = next(run.out.glob("*.pdf"))
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "verify", str(pdf)], capture_output=True, timeout=300, cwd=run.work
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr).decode(errors="replace")[-3000:]
