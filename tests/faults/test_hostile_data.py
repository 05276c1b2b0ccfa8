"""Hostile identity data served by the Okta sandbox (display names, logins, group names
with markup, CSS, control characters, bidi overrides, 10 kB strings and non-Latin
scripts), audited through the CLI into every format: each output is well-formed, no
markup from the data is live, nothing is fetched, and non-Latin names read unchanged."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.sandbox import okta as okta_sandbox
from connectors.sandbox.demo import demo_config
from connectors.sandbox.sample_org import SampleOrg

from .harness import ORG

pytestmark = pytest.mark.slow  # end to end: the CLI in a subprocess

SCRIPT = "<script>alert('pwned')</script>"
IMG = '<img src="file:///etc/passwd" onerror="alert(1)">'
CSS = "<style>body{background:url(https://attacker.invalid/x.png)}</style>"
CONTROL = "Eve\x1b[31mRED\x07\x00bell"
BIDI = "Mallory\u202egnp.exe"
FORMULA = '=HYPERLINK("https://attacker.invalid","click")'
LONG = "L" * 10_000
ARABIC = "سارة العتيبي"
CJK = "山田太郎"
CYRILLIC = "Дмитрий Иванов"
LEGIBLE = (ARABIC, CJK, CYRILLIC)
HOSTILE_NAMES = (SCRIPT, IMG, CSS, CONTROL, BIDI, FORMULA, LONG, ARABIC, CJK, CYRILLIC)


def hostile_org(org: SampleOrg) -> SampleOrg:
    """The org with Okta's accounts and first groups renamed; ids and facts unchanged."""
    truth = org.truth("okta")
    # Every account gets one (so findings, which name principals, carry them all); logins
    # stay e-mail shaped, as Okta requires, with the hostile text as their local part.
    accounts = [
        replace(a, display_name=name, principal=f"{name}.{i}@example.org")
        for i, a in enumerate(truth.accounts)
        for name in (HOSTILE_NAMES[i % len(HOSTILE_NAMES)],)
    ]
    groups = dict(org.group_names.get("okta", {}))
    groups.update(zip(list(groups), (IMG, CSS, CYRILLIC), strict=False))
    sources = {**org.sources, "okta": replace(truth, accounts=tuple(accounts))}
    return replace(org, sources=sources, group_names={**org.group_names, "okta": groups})


@dataclass(frozen=True, slots=True)
class Rendered:
    returncode: int
    stderr: str
    files: dict[str, Path]

    @property
    def named(self) -> tuple[str, ...]:
        """The non-Latin names that the findings (every format lists them) carry."""
        doc = json.loads(self.files["json"].read_text(encoding="utf-8"))
        principals = " ".join(str(f.get("principal")) for f in doc["findings"])
        found = tuple(n for n in LEGIBLE if n in principals)
        assert found, "no finding on a non-Latin account: the test would prove nothing"
        return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    work = tmp_path_factory.mktemp("hostile")
    out = work / "out"
    org = hostile_org(ORG)
    with okta_sandbox.start(org) as okta:
        config = demo_config(org, {"okta": ("okta", okta.settings())})
        config["portals"] = [p for p in config["portals"] if p["match"]["source"] == "okta"]
        config.pop("exceptions", None)
        config["report"]["output_dir"] = str(out)
        (work / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "auditor", "-v", "run", "-c", "config.yaml", "--now", "2026-11-15T09:00:00Z"],
            cwd=work,
            env={**os.environ, **okta.environ()},
            capture_output=True,
            timeout=300,
        )
    files = {p.suffix.lstrip("."): p for p in out.rglob("*") if p.is_file()}
    return Rendered(proc.returncode, proc.stderr.decode("utf-8", "replace"), files)


def test_the_run_completes_without_a_traceback(rendered: Rendered) -> None:
    assert rendered.returncode in (0, 1), rendered.stderr[-3000:]
    assert "Traceback" not in rendered.stderr
    assert {"pdf", "html", "json", "csv"} <= set(rendered.files), rendered.files


def _strings(doc: Any) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in _strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in _strings(v)]
    return []


def test_json_parses_and_names_read_unchanged(rendered: Rendered) -> None:
    doc = json.loads(rendered.files["json"].read_text(encoding="utf-8"))
    values = set(_strings(doc))
    for name in LEGIBLE:
        assert name in values, name
    assert LONG in values  # a 10 kB name is kept whole, not cut


def test_csv_parses_is_legible_and_neutralised(rendered: Rendered) -> None:
    text = rendered.files["csv"].read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) > 1 and all(len(r) == len(rows[0]) for r in rows)
    cells = [c for r in rows for c in r]
    for name in rendered.named:
        assert any(name in c for c in cells), name
    # No cell a spreadsheet would evaluate, no terminal escape, no bidi override.
    assert not any(c[:1] in ("=", "+", "-", "@") and c[1:2] not in ("", " ") and not c[1:2].isdigit() for c in cells)
    assert not any("\x1b" in c or "\u202e" in c or "\x00" in c for c in cells)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text.append(data)


def test_html_has_no_live_tag_from_the_data(rendered: Rendered) -> None:
    html = rendered.files["html"].read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert not any(v and "passwd" in v for v in attrs.values()), (tag, attrs)
        assert "onerror" not in attrs, (tag, attrs)
    assert not any("pwned" in s for s in parser.script_text)
    assert "attacker.invalid" not in "".join(v or "" for _, a in parser.tags for v in a.values())
    assert "<script>alert" not in html and '<img src="file:' not in html
    for name in rendered.named:
        assert name in html, name


def test_pdf_renders_fetches_nothing_and_is_legible(rendered: Rendered) -> None:
    assert "passwd" not in rendered.stderr and "attacker.invalid" not in rendered.stderr
    assert "weasyprint" not in rendered.stderr.lower() or "error" not in rendered.stderr.lower()
    text = subprocess.run(
        ["pdftotext", str(rendered.files["pdf"]), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert text.strip()
    # Arabic is shaped (extraction reorders it); CJK and Cyrillic must read back as written.
    for name in (n for n in rendered.named if n != ARABIC):
        assert name.split()[0] in text, name
