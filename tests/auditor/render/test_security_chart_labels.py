"""Chart labels get the same neutralisation as every other text: no raw control or
bidirectional character from an identity provider reaches the SVG, the HTML or the
PDF (nor WeasyPrint's warnings on stderr)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.interfaces import ReportContext
from auditor.model import Snapshot
from auditor.render import charts
from auditor.render.html import HtmlRenderer
from auditor.render.pdf import PdfRenderer

HOSTILE = "Claims\x1b[31m red\u202eexe.pdf\x00\x07\u2066"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _charts(label: str) -> list[str]:
    seg = charts.Segment(label, 3, charts.UNKNOWN)
    return [
        charts.donut("d", label, [seg], label, label, label),
        charts.hbars("h", label, [seg], lambda v: f"{v:g} {label}"),
        charts.stacked_bars("s", label, [(label, [seg])], [seg], lambda _s: label),
        charts.trend_columns(
            "t", label, [charts.TrendBar(label, 0.5, label, True)], lambda v: f"{v} {label}", (label, label)
        ),
    ]


@given(st.text(max_size=40))
def test_no_chart_lets_a_control_character_through(label: str) -> None:
    for svg in _charts(label):
        assert not RAW.search(svg)
        assert "\t" not in svg and "\n" not in svg.replace(">\n<", "><")


def test_controls_are_shown_not_dropped() -> None:
    svg = _charts(HOSTILE)[0]
    assert "[U+001B]" in svg and "[U+202E]" in svg and "[U+0000]" in svg


def _hostile(snapshot: Snapshot) -> Snapshot:
    first = snapshot.sources[0]
    portals = (replace(first.portals[0], name=HOSTILE), *first.portals[1:])
    return replace(snapshot, sources=(replace(first, portals=portals), *snapshot.sources[1:]))


@pytest.mark.parametrize("renderer", [HtmlRenderer(), PdfRenderer()], ids=["html", "pdf"])
def test_a_hostile_portal_name_reaches_no_output_raw(
    context_factory: Callable[..., ReportContext],
    snapshot: Snapshot,
    renderer: object,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    ctx = context_factory(_hostile(snapshot))
    out = io.BytesIO()
    with caplog.at_level(logging.DEBUG):
        renderer.render(ctx, out)  # type: ignore[attr-defined]
    data = out.getvalue()
    if data.startswith(b"%PDF"):
        import pikepdf

        with pikepdf.open(io.BytesIO(data)) as pdf:
            text = b"".join(
                o.read_bytes() for o in pdf.objects if isinstance(o, pikepdf.Stream) and "/Subtype" not in o
            )
        assert b"\x1b[31m" not in text
    else:
        html = data.decode("utf-8")
        assert "[U+001B]" in html
        assert not RAW.search(html)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    err = capfd.readouterr().err
    assert "\x1b" not in logged and "\u202e" not in logged
    assert "\x1b[31m" not in err
