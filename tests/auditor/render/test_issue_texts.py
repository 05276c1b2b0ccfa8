"""Every issue code a connector can raise has a sentence in every edition: the French
report never falls back on a connector's English words for a code it ships."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from auditor.model import SourceIssue
from auditor.render.i18n import Translator, catalogue
from auditor.render.reasons import issue_text

CONNECTORS = Path(__file__).resolve().parents[3] / "connectors"
CODE = re.compile(r"^(entra|google|okta|keycloak|auth0|cognito|file)\.[a-z0-9_]+$")


def shipped_codes() -> set[str]:
    """Every ``<connector>.<code>`` string in the connectors' source (codes modules and
    the connectors that still write their codes in place)."""
    found = set()
    for path in CONNECTORS.rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
                found.add(node.value)
    return found


def test_the_scan_finds_the_codes() -> None:
    codes = shipped_codes()
    assert {"entra.ca_unknown_value", "google.2sv_other_methods", "auth0.users_short", "cognito.no_mfa_type"} <= codes


@pytest.mark.parametrize("code", sorted(shipped_codes()))
def test_every_code_reads_in_french(code: str) -> None:
    english = "the connector's own English words, which must not reach the French edition"
    text = issue_text(Translator("fr"), SourceIssue(code, english))
    assert english not in text and text.endswith(f"({code})")


def test_both_catalogues_have_the_same_issue_sentences() -> None:
    en, fr = catalogue("en"), catalogue("fr")
    assert {k for k in en if k.startswith("issue.")} == {k for k in fr if k.startswith("issue.")}
    assert not [k for k, v in fr.items() if k.startswith("issue.") and " :" in v]  # typographic space before ":"
