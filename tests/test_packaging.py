"""The wheel carries what a regular (non-editable) install needs: the report templates,
CSS, fonts and message catalogues, and the entry points of every built-in plugin."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds the wheel in a subprocess

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_templates_fonts_catalogues_and_entry_points(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("mfa_auditor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {n for n in names if n.startswith("report_templates/")}
    expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / "report_templates").rglob("*") if p.is_file()}
    expected = {n for n in expected if "__pycache__" not in n}
    assert expected <= shipped, f"missing from the wheel: {sorted(expected - shipped)}"
    assert any(n.endswith(".ttf") for n in shipped) and any(n.endswith("fr.json") for n in shipped)
    assert not any(n.startswith("tests/") for n in names)  # tests are not shipped inside the package
    # The web view works offline: its templates, catalogues and assets (htmx and its licence) ship.
    folders = ("templates", "static", "i18n")
    web = {p.relative_to(ROOT).as_posix() for d in folders for p in (ROOT / "auditor/web" / d).rglob("*")}
    assert web and web <= names, f"missing from the wheel: {sorted(web - names)}"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    for name in ("entra =", "google_workspace =", "okta =", "file =", "pdf =", "ocsf =", "mfa-audit ="):
        assert name in text
