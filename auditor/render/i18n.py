"""Report strings and locale formatting (en, fr).

Every string a report shows comes from a catalogue in ``report_templates/i18n/<lang>.json``;
numbers and dates are formatted here, by hand, so the output does not depend on the
host's locale database. French typography: thousands separated by a narrow no-break
space (U+202F), decimal comma, a no-break space (U+00A0) before ``%``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from importlib.resources import files

from auditor.interfaces import RenderError

LANGUAGES = ("en", "fr")
NARROW_NBSP = "\u202f"
NBSP = "\u00a0"


@cache
def catalogue(language: str) -> Mapping[str, str]:
    if language not in LANGUAGES:
        raise RenderError(f"report.language: expected one of {', '.join(LANGUAGES)}, got {language!r}")
    text = files("report_templates").joinpath("i18n", f"{language}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


@cache
def rule_texts(language: str) -> Mapping[str, Mapping[str, str]]:
    """Per-rule texts (remediation) of a language, keyed by rule id; English is the
    engine's own catalogue, so only other languages have a file."""
    if language == "en":
        return {}
    text = files("report_templates").joinpath("i18n", f"rules.{language}.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, str]] = json.loads(text)
    return data


class Translator:
    """Looks up report strings and formats numbers and dates for one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = catalogue(language)

    def __call__(self, key: str, /, **values: object) -> str:
        try:
            message = self._messages[key]
        except KeyError:
            # A missing key is a bug in the catalogue, not something to paper over.
            raise RenderError(f"report string {key!r} is missing from the {self.language} catalogue") from None
        return message.format(**values) if values else message

    def get(self, key: str, default: str) -> str:
        """For open-ended keys (rule titles of rules added later): fall back to the engine's text."""
        return self._messages.get(key, default)

    def remediation(self, rule_id: str, default: str) -> str:
        """The remediation of a rule in this language; the engine's (English) text when
        the rule is not in the catalogue (a rule added after the translation)."""
        return rule_texts(self.language).get(rule_id, {}).get("remediation", default)

    # --- numbers ---------------------------------------------------------------------

    def number(self, value: float, decimals: int = 0) -> str:
        text = f"{value:,.{decimals}f}"
        if self.language == "fr":
            text = text.replace(",", "\x00").replace(".", ",").replace("\x00", NARROW_NBSP)
        return text

    def percent(self, ratio: float | None, decimals: int = 1) -> str:
        if ratio is None:
            return self("common.not_applicable")
        text = self.number(ratio * 100, decimals)
        return f"{text}{NBSP}%" if self.language == "fr" else f"{text}%"

    # --- dates -----------------------------------------------------------------------

    def date(self, value: date) -> str:
        month = self(f"date.month.{value.month}")
        if self.language == "fr":
            day = "1er" if value.day == 1 else str(value.day)
            return f"{day} {month} {value.year}"
        return f"{value.day} {month} {value.year}"

    def datetime(self, value: datetime) -> str:
        utc = value.astimezone(UTC) if value.tzinfo is not None else value
        return f"{self.date(utc.date())}{self('date.at')} {utc:%H:%M} UTC"
