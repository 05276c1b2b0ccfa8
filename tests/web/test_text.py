"""Language negotiation and the web catalogues."""

from __future__ import annotations

import json
import string
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from auditor.web.text import WebText, negotiate

ROOT = Path(__file__).resolve().parents[2]


def test_accept_language_by_q_value() -> None:
    assert negotiate(None) == "en"
    assert negotiate("") == "en"
    assert negotiate("fr-FR,fr;q=0.9,en-US;q=0.8") == "fr"
    assert negotiate("de-DE, en;q=0.3, fr;q=0.7") == "fr"
    assert negotiate("de, it") == "en"
    assert negotiate("fr;q=0, en;q=0.1") == "en"  # q=0 means "not this one"
    assert negotiate("FR") == "fr"
    assert negotiate("fr;q=banana") == "en"


@given(st.text(alphabet=string.printable, max_size=80))
def test_any_header_gives_a_supported_language(header: str) -> None:
    assert negotiate(header) in ("en", "fr")


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    en = json.loads((ROOT / "auditor/web/i18n/en.json").read_text(encoding="utf-8"))
    fr = json.loads((ROOT / "auditor/web/i18n/fr.json").read_text(encoding="utf-8"))
    assert en.keys() == fr.keys()
    fields = string.Formatter()
    for key in en:
        assert {f for _, f, _, _ in fields.parse(en[key]) if f} == {f for _, f, _, _ in fields.parse(fr[key]) if f}, key


def test_web_strings_fall_back_to_the_report_catalogue() -> None:
    fr = WebText("fr")
    assert fr("run.verdict") == "Verdict par portail"  # the web's own
    assert fr("status.not_enrolled") != "status.not_enrolled"  # the report's
    assert WebText("de").language == "en"
