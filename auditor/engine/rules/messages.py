"""The sentences findings say, written once: ``report_templates/i18n/rules.<lang>.json``.

A rule names its sentence (``key``, "MFA-007.excluded_one") and the values it inserts
(``params``); the English message of the finding is the English text with the params
inserted (``english_message``), and the reports say it again in their language from the
same params. No rule writes a sentence of its own (``tests/auditor/test_rule_texts.py``
checks the rule modules), so the English a finding carries and the text translators
work from cannot drift apart.

The English message is written in the findings CSV a report attaches, whose size and
SHA-256 the report prints; ``mfa-audit verify`` re-evaluates the attached snapshot with the
engine installed and re-renders the pages, so an English sentence changed here makes every
earlier report that says it fail verification (tried: one word more in MFA-001's sentence,
and the demo's report fails on the page that prints the CSV's digest).
Say something new with a new message id instead (``tests/auditor/test_rule_texts.py``
holds every message written so far and checks each is written again byte for byte).

Two ids may share one English sentence: MFA-007 ``excluded_one``/``excluded_many`` and
MFA-011 ``sign_ins_one``/``sign_ins_many`` differ in French, which agrees in number, while
English keeps the sentence it always wrote ("sign-in(s)", "excluded from {policies}") so
that its messages, and the digests of the reports that carry them, stay as they were.

The engine reads the packaged JSON as a resource; the renderers (``auditor.render.i18n``)
read it through ``rule_file`` and format with ``MessageFormatter``, so both parse the
texts the same way.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

# The values a message inserts, as (name, value) pairs: see ``Finding.message_params``.
Params = tuple[tuple[str, str], ...]

TEXTS_PACKAGE = "report_templates"


class MessageTextError(ValueError):
    """A rule asked for a sentence the English file lacks, or left out a value it names."""


@cache
def rule_file(language: str) -> Mapping[str, Mapping[str, Any]]:
    """``rules.<language>.json`` as it is: per rule id, its ``messages`` (and, in the
    translations, the rule's texts)."""
    text = files(TEXTS_PACKAGE).joinpath("i18n", f"rules.{language}.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, Any]] = json.loads(text)
    return data


@cache
def message_texts(language: str) -> Mapping[str, str]:
    """The sentences of a language keyed by message id ("MFA-001.not_enrolled")."""
    return {
        f"{rule_id}.{name}": text
        for rule_id, texts in rule_file(language).items()
        for name, text in texts.get("messages", {}).items()
    }


def placeholders(text: str) -> frozenset[str]:
    """The names a sentence inserts ("{policies}" → "policies")."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


class MessageFormatter(string.Formatter):
    """``str.format`` over a sentence and its params, by plain name only: no attribute or
    index lookups ("{x.__class__}", "{0}"). Only the sentence is parsed: braces or markup
    in a value (a policy name, a display name) are inserted as they are."""

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[Any, str]:
        if not field_name.isidentifier():
            raise KeyError(field_name)
        return kwargs[field_name], field_name


def _plain(key: str, text: str) -> tuple[str, frozenset[str]]:
    """An English sentence as the engine can say it, with the names it inserts: plain
    ``{name}`` fields only. The reports' specs (``{x:date}``, ``{x:number}``) format for a
    reader and belong in the translations; the English message is the one a report
    attaches and ``verify`` renders again, written as is."""
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is not None and (not name.isidentifier() or spec or conversion):
            raise MessageTextError(f"rules.en.json: {key}: field {{{name}}} must be a plain name")
    return text, placeholders(text)


@cache
def _english() -> Mapping[str, tuple[str, frozenset[str]]]:
    return {key: _plain(key, text) for key, text in message_texts("en").items()}


_FORMATTER = MessageFormatter()  # holds no state


def english_message(key: str, params: Params = ()) -> str:
    """The English message ``key`` says with ``params``. Not cached on purpose: params
    name people and policies, and formatting costs ~2 µs a finding (0.06 s of CPU for the
    32k findings of 100k accounts); a sentence without params is returned as one shared
    string."""
    try:
        text, names = _english()[key]
    except KeyError:
        raise MessageTextError(f"message {key!r} is missing from report_templates/i18n/rules.en.json") from None
    if not names:
        return text
    values = dict(params)
    missing = names - values.keys()
    if missing:
        raise MessageTextError(f"message {key}: no value given for {', '.join(sorted(missing))}")
    return _FORMATTER.vformat(text, (), values)
