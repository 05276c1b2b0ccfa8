"""What a source did not read, and why, in the report's language.

Connectors say it in English: ``SourceIssue.message`` beside its code (``<connector>.<code>``)
and ``FactRead.reason``. The English edition prints their words. Another edition prints
the catalogue's sentence for the issue's code (``issue.<code>``, or the family the code's
ending names, ``issue_family.<ending>``) followed by the code, so the connector's exact
words stay one look-up away in the snapshot and the JSON. A fact's reason is translated as
the issue it repeats (connectors give the failed phase's issue message as the reason), or
as one of the catalogue's ``reason_text.*`` sentences, whose English text is the connector's
own with ``{placeholders}`` for the data it inserts. Only an unknown code or an unknown
reason is printed in English: nothing is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from auditor.model import SourceIssue
from auditor.render.i18n import Translator, catalogue

# Code endings shared by every connector (``okta.factors_unreadable``); "unknown" is also a
# prefix (``auth0.unknown_method_type``).
FAMILIES = ("unreadable", "incomplete", "unread", "refused", "partial", "short_read", "limited", "unknown")
_ISSUE = "issue."
_FAMILY = "issue_family."
_REASON = "reason_text."
_OBJECT = "issue_object."
_FIELD = re.compile(r"\{([a-z_]+)\}")


def _pattern(template: str) -> re.Pattern[str]:
    """The English template as a whole-text pattern, each ``{field}`` matching any text."""
    parts: list[str] = []
    at = 0
    for m in _FIELD.finditer(template):
        parts.append(re.escape(template[at : m.start()]))
        parts.append(f"(?P<{m.group(1)}>.+?)")
        at = m.end()
    parts.append(re.escape(template[at:]))
    return re.compile("".join(parts), re.DOTALL)


@cache
def _reason_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(catalogue key, pattern) of every known English reason, constant ones first."""
    english = catalogue("en")
    keys = sorted((k for k in english if k.startswith(_REASON)), key=lambda k: ("{" in english[k], k))
    return tuple((k, _pattern(english[k])) for k in keys)


def _family(name: str) -> tuple[str, str] | None:
    """(family, the thing it is about) of a code's name: ``users_unread`` → (unread, users)."""
    if name.startswith("unknown_"):
        return "unknown", name.removeprefix("unknown_")
    for family in FAMILIES:
        if name == family:
            return family, ""
        if name.endswith("_" + family):
            return family, name.removesuffix("_" + family)
    return None


def issue_text(t: Translator, issue: SourceIssue) -> str:
    """The issue in the report's language: its words when the catalogue knows them as a
    template, else the sentence for its code, else for its code's family."""
    if t.language == "en":
        return issue.message
    known = _template_text(t, issue.message)
    if known is not None:
        return known
    _, _, name = issue.code.partition(".")
    text = t.get(_ISSUE + name, "")
    family = _family(name)
    if not text and family is not None:
        what = t.get(_OBJECT + family[1], "")
        text = t(_FAMILY + family[0] + ".of", object=what) if what else t.get(_FAMILY + family[0], "")
    if not text:
        return issue.message  # a code the catalogue does not know yet: the connector's words
    return f"{text} ({issue.code})"


def _template_text(t: Translator, text: str) -> str | None:
    for key, pattern in _reason_patterns():
        m = pattern.fullmatch(text)
        if m is not None:
            return t(key, **m.groupdict())
    return None


def _one_reason(t: Translator, reason: str, issues: Iterable[SourceIssue]) -> str | None:
    for issue in issues:
        if issue.message == reason:
            return issue_text(t, issue)
    return _template_text(t, reason)


def reason_text(t: Translator, reason: str, issues: Iterable[SourceIssue] = ()) -> str:
    """A ``FactRead.reason`` (or several joined by "; ") in the report's language; the
    connector's words for a reason, or a part of one, that the catalogue does not know."""
    if t.language == "en" or not reason:
        return reason
    issues = tuple(issues)
    whole = _one_reason(t, reason, issues)
    if whole is not None:
        return whole
    parts = [_one_reason(t, p, issues) or p for p in reason.split("; ")]
    return t("common.sep").join(parts) if len(parts) > 1 else parts[0]
