"""Report strings and locale formatting (en, fr).

Every string a report shows comes from a catalogue in ``report_templates/i18n/<lang>.json``;
numbers and dates are formatted here, by hand, so the output does not depend on the
host's locale database. French typography: thousands separated by a narrow no-break
space (U+202F), decimal comma, a no-break space (U+00A0) before ``%``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from auditor.engine.rules.messages import MessageFormatter, MessageTextError, english_message, message_texts, rule_file
from auditor.interfaces import RenderError
from auditor.model import Finding

LANGUAGES = ("en", "fr")
NARROW_NBSP = "\u202f"
NBSP = "\u00a0"


@cache
def catalogue(language: str) -> Mapping[str, str]:
    if language not in LANGUAGES:
        raise RenderError(f"report.language: expected one of {', '.join(LANGUAGES)}, got {language!r}")
    text = files("report_templates").joinpath("i18n", f"{language}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    if language == "en":
        # English rule titles are the catalogue's own (``auditor.engine.rules``), written once
        # there; the other languages translate them in their file.
        from auditor.engine.rules import RULES

        data = {**data, **{f"rule.{r.id}": r.title for r in RULES}}
    return data


@cache
def _rule_file(language: str) -> Mapping[str, Mapping[str, Any]]:
    if language not in LANGUAGES:
        raise RenderError(f"report.language: expected one of {', '.join(LANGUAGES)}, got {language!r}")
    return rule_file(language)  # the engine's: one reader of the sentences


@cache
def rule_texts(language: str) -> Mapping[str, Mapping[str, str]]:
    """Per-rule texts (remediation) of a language, keyed by rule id. English remediation
    is the engine's own text, so ``rules.en.json`` holds only the finding messages."""
    return {
        rule_id: {name: value for name, value in texts.items() if isinstance(value, str)}
        for rule_id, texts in _rule_file(language).items()
    }


@cache
def finding_messages(language: str) -> Mapping[str, str]:
    """The texts of the findings' messages, keyed by message id ("MFA-001.not_enrolled"):
    the ``messages`` of each rule in ``rules.<language>.json``."""
    _rule_file(language)  # the language is checked
    return message_texts(language)


# Format specs a message text may give a parameter whose value is an enum value: the
# value is said through the catalogue key "<spec>.<value>" ("{status:status}").
_ENUM_SPECS = frozenset({"status", "strength", "method", "severity", "sensitivity"})


class _MessageFormatter(MessageFormatter):
    """The engine's formatter (plain names only, values inserted as they are) with the
    report's formatting: ``{x:date}`` (ISO date), ``{x:number}`` and the enum specs above.
    The template escapes braces or markup of a value later."""

    def __init__(self, translator: Translator) -> None:
        self._t = translator

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec in _ENUM_SPECS:
            return self._t.get(f"{format_spec}.{value}", str(value))
        if format_spec == "date":
            return self._t.date(date.fromisoformat(str(value)))
        if format_spec == "number":
            return self._t.number(int(value))
        text: str = super().format_field(value, format_spec)
        return text


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

    def message(self, key: str, params: Sequence[tuple[str, str]]) -> str | None:
        """The finding message ``key`` in this language with ``params`` inserted; None
        when the catalogue has no such message or the text names a parameter that
        ``params`` lacks (or cannot format it)."""
        template = finding_messages(self.language).get(key)
        return None if template is None else self.fill(template, params)

    def fill(self, template: str, params: Sequence[tuple[str, str]]) -> str | None:
        """A message text with ``params`` inserted (``{name}``, ``{name:date}``,
        ``{name:number}``, ``{name:status}``…); None when it names a parameter that
        ``params`` lacks or cannot format one."""
        try:
            return _MessageFormatter(self).vformat(template, (), dict(params))
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            return None

    def finding_message(self, finding: Finding) -> str:
        """A finding's message in this language; its English ``message`` when it cannot
        be said again (a result from before message ids, an id added after the
        translation, a missing parameter). Never raises: a report is always written."""
        if self.language == "en" or not finding.message_key:
            return finding.message
        # The parameters must still be what ``message`` was written from. Pseudonymisation
        # rewrites ``message`` and not the parameters: a text built from those would put
        # back the identifiers it removed, so a changed message is shown as it is.
        try:
            said = english_message(finding.message_key, tuple((k, v) for k, v in finding.message_params))
        except (MessageTextError, TypeError, ValueError):
            return finding.message  # an id added later, a missing or malformed parameter
        if said != finding.message:
            return finding.message
        translated = self.message(finding.message_key, finding.message_params)
        return finding.message if translated is None else translated

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

    def period(self, value: str) -> str:
        """A quarter as the reader writes it: "Q4 2026", « T4 2026 »; anything else as it is."""
        year, sep, quarter = value.partition("-Q")
        if not sep or not year.isdigit() or quarter not in ("1", "2", "3", "4"):
            return value
        return self("date.quarter", quarter=quarter, year=year)

    def date(self, value: date) -> str:
        month = self(f"date.month.{value.month}")
        if self.language == "fr":
            day = "1er" if value.day == 1 else str(value.day)
            return f"{day} {month} {value.year}"
        return f"{value.day} {month} {value.year}"

    def datetime(self, value: datetime) -> str:
        utc = value.astimezone(UTC) if value.tzinfo is not None else value
        return f"{self.date(utc.date())}{self('date.at')} {utc:%H:%M} UTC"
