"""Locale formatting, catalogues and the SVG charts."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from importlib.resources import files

import pytest

from auditor.engine.rules import RULES
from auditor.interfaces import RenderError
from auditor.model import CoverageStatus
from auditor.render import charts
from auditor.render.charts import Segment
from auditor.render.i18n import Translator, catalogue


def test_french_numbers_dates_and_percentages() -> None:
    t = Translator("fr")
    assert t.percent(12.345) == "1\u202f234,5\u00a0%"
    assert t.number(1234567) == "1\u202f234\u202f567"
    assert t.date(date(2026, 11, 15)) == "15 novembre 2026"
    assert t.date(date(2026, 10, 1)) == "1er octobre 2026"
    assert t.datetime(datetime(2026, 11, 15, 9, 0, tzinfo=UTC)) == "15 novembre 2026 à 09:00 UTC"
    assert t("footer.page", page=1, pages=2) == "Page 1 sur 2"


def test_english_formatting() -> None:
    t = Translator("en")
    assert t.percent(12.345) == "1,234.5%"
    assert t.percent(None) == "n/a"
    assert t.date(date(2026, 11, 15)) == "15 November 2026"


def test_catalogues_have_the_same_keys_and_unknown_language_is_refused() -> None:
    en, fr = catalogue("en"), catalogue("fr")
    assert set(en) == set(fr)
    assert all(v.strip() for v in fr.values())
    with pytest.raises(RenderError, match=r"report\.language"):
        Translator("de")


def test_every_status_has_a_label_description_and_chart_style() -> None:
    t = Translator("fr")
    for status in CoverageStatus:
        assert t(f"status.{status.value}")
        assert t(f"status_desc.{status.value}")
        assert status in charts.STATUS_STYLE
    # Greyscale: no two statuses share both colour and pattern.
    assert len({(s.colour, s.pattern) for s in charts.STATUS_STYLE.values()}) == len(CoverageStatus)


def test_charts_are_deterministic_escaped_and_labelled() -> None:
    segments = [
        Segment("protected: 5", 5, charts.STATUS_STYLE[CoverageStatus.PROTECTED]),
        Segment("<script>alert(1)</script>", 3, charts.NOT_PROTECTED),
        Segment("unknown: 0", 0, charts.UNKNOWN),
    ]
    a = charts.donut("d1", "title & more", segments, "62.5%", caption="entra")
    b = charts.donut("d1", "title & more", segments, "62.5%", caption="entra")
    assert a == b
    assert "<script>" not in a and "&lt;script&gt;" in a
    assert "title &amp; more" in a
    ids = re.findall(r'id="([^"]+)"', str(a))
    assert ids and all(i.startswith("d1-") for i in ids)
    assert "<pattern" in a  # not colour alone
    empty = charts.donut("d2", "none", [Segment("x", 0, charts.UNKNOWN)], "0%", empty_label="n/a")
    assert "n/a" in empty
    full = charts.donut("d3", "all", [Segment("all", 4, charts.NOT_PROTECTED)], "0%")
    assert "fill-rule" in full


def test_english_rule_titles_come_from_the_rule_catalogue_only() -> None:
    root = files("report_templates").joinpath("i18n")
    en_file = json.loads(root.joinpath("en.json").read_text(encoding="utf-8"))
    assert not [key for key in en_file if key.startswith("rule.")]  # written once, in auditor.engine.rules
    assert {key: catalogue("en")[key] for key in catalogue("en") if key.startswith("rule.")} == {
        f"rule.{r.id}": r.title for r in RULES
    }
    assert all(catalogue("fr")[f"rule.{r.id}"].strip() for r in RULES)
