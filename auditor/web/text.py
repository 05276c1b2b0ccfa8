"""The web view's strings (en, fr) on top of the report's catalogue.

Status, severity, strength, method and table words come from the report's catalogue
(``report_templates/i18n``), so the page and the PDF say the same thing; only what the
report has no word for lives in ``auditor/web/i18n/<lang>.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files

from auditor.render.i18n import LANGUAGES, Translator

DEFAULT_LANGUAGE = "en"


@cache
def _web_catalogue(language: str) -> Mapping[str, str]:
    text = files("auditor.web").joinpath("i18n", f"{language}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


class WebText:
    """``t(key, **values)``: a web string, else a report string; numbers and dates as the
    report formats them."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self.report = Translator(self.language)
        self._web = _web_catalogue(self.language)

    def __call__(self, key: str, /, **values: object) -> str:
        message = self._web.get(key)
        if message is None:
            return self.report(key, **values)
        return message.format(**values) if values else message

    def get(self, key: str, default: str) -> str:
        return self._web.get(key) or self.report.get(key, default)


def negotiate(accept_language: str | None) -> str:
    """The first supported language of an ``Accept-Language`` header, by its q-values."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().split("-", 1)[0].lower()
        if primary in LANGUAGES and q > 0:
            ranked.append((-q, i, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
