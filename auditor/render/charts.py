"""Charts as hand-written SVG: deterministic (no random ids, no dates, fixed rounding),
no browser, readable in greyscale.

Every status has a colour *and* a fill pattern, and every chart carries a legend with
the figures, so a photocopy still reads. Ids are derived from the caller's chart name,
so several charts can live inline in one HTML page. All text is escaped, after its
control and bidirectional characters are made visible (``auditor.text``): the SVG is
marked safe before the template sees it, so the template's own neutralisation never
reaches a chart label.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup
from markupsafe import escape as _markup_escape

from auditor.model import CoverageStatus, Severity, Strength
from auditor.text import visible_controls

FONT = "DejaVu Sans, sans-serif"


def escape(value: object) -> Markup:
    """Every text of a chart: controls (ESC, NUL, U+202E…) shown as ``[U+XXXX]``, then
    XML-escaped. Tab and newline too: SVG text has no use for them."""
    text = visible_controls(str(value)).replace("\t", "[U+0009]").replace("\n", "[U+000A]")
    return _markup_escape(text)


@dataclass(frozen=True, slots=True)
class Style:
    colour: str
    pattern: str  # solid, diag, rdiag, dots, hlines, cross
    ink: str = "#ffffff"  # colour of the pattern's marks


STATUS_STYLE: dict[CoverageStatus, Style] = {
    CoverageStatus.PROTECTED: Style("#2e7d32", "solid"),
    CoverageStatus.BLOCKED: Style("#455a64", "hlines"),
    CoverageStatus.EXCEPTED: Style("#bdbdbd", "diag", "#424242"),
    CoverageStatus.CONDITIONAL: Style("#f9a825", "dots", "#5d4037"),
    CoverageStatus.WEAK: Style("#ef6c00", "cross"),
    CoverageStatus.REPORT_ONLY: Style("#8e24aa", "rdiag"),
    CoverageStatus.NOT_ENFORCED: Style("#c62828", "diag"),
    CoverageStatus.NOT_ENROLLED: Style("#6d0000", "cross", "#ff8a80"),
    CoverageStatus.UNKNOWN: Style("#ffffff", "dots", "#616161"),
}
STRENGTH_STYLE: dict[Strength, Style] = {
    Strength.PHISHING_RESISTANT: Style("#1b5e20", "solid"),
    Strength.STRONG: Style("#66bb6a", "hlines", "#1b5e20"),
    Strength.WEAK: Style("#ffb300", "dots", "#5d4037"),
    Strength.NONE: Style("#c62828", "diag"),
}
SEVERITY_STYLE: dict[Severity, Style] = {
    Severity.CRITICAL: Style("#6d0000", "solid"),
    Severity.HIGH: Style("#c62828", "diag"),
    Severity.MEDIUM: Style("#ef6c00", "dots"),
    Severity.LOW: Style("#fdd835", "hlines", "#5d4037"),
}
NOT_PROTECTED = Style("#c62828", "diag")
UNKNOWN = STATUS_STYLE[CoverageStatus.UNKNOWN]


@dataclass(frozen=True, slots=True)
class Segment:
    label: str
    value: int
    style: Style


def _n(value: float) -> str:
    """Fixed rounding so the same figures always give the same bytes."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _pattern_defs(prefix: str, styles: Sequence[Style]) -> str:
    out = []
    for i, style in enumerate(styles):
        pid = f"{prefix}-p{i}"
        marks = {
            "solid": "",
            "diag": f'<path d="M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2" stroke="{style.ink}" stroke-width="1.2"/>',
            "rdiag": f'<path d="M-1,5 l2,2 M0,0 l6,6 M5,-1 l2,2" stroke="{style.ink}" stroke-width="1.2"/>',
            "hlines": f'<path d="M0,1.5 h6 M0,4.5 h6" stroke="{style.ink}" stroke-width="1"/>',
            "dots": f'<circle cx="1.5" cy="1.5" r="0.9" fill="{style.ink}"/>'
            f'<circle cx="4.5" cy="4.5" r="0.9" fill="{style.ink}"/>',
            "cross": f'<path d="M0,0 l6,6 M6,0 l-6,6" stroke="{style.ink}" stroke-width="0.9"/>',
        }[style.pattern]
        out.append(
            f'<pattern id="{pid}" patternUnits="userSpaceOnUse" width="6" height="6">'
            f'<rect width="6" height="6" fill="{style.colour}"/>{marks}</pattern>'
        )
    return "<defs>" + "".join(out) + "</defs>"


class _Fills:
    """Pattern ids for the styles a chart uses, in first-use order (deterministic)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.styles: list[Style] = []

    def __call__(self, style: Style) -> str:
        if style.pattern == "solid":
            return style.colour
        if style not in self.styles:
            self.styles.append(style)
        return f"url(#{self.prefix}-p{self.styles.index(style)})"

    def defs(self) -> str:
        return _pattern_defs(self.prefix, self.styles)


def _svg(width: float, height: float, title: str, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}pt" height="{_n(height)}pt" role="img" font-family="{FONT}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _swatch(fills: _Fills, style: Style, x: float, y: float, size: float = 9) -> str:
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(size)}" height="{_n(size)}" fill="{fills(style)}" '
        f'stroke="#212121" stroke-width="0.5"/>'
    )


def donut(
    name: str, title: str, segments: Sequence[Segment], centre: str, caption: str = "", empty_label: str = ""
) -> Markup:
    """A ring of segments with the headline figure in the middle and a legend beside it."""
    fills = _Fills(name)
    total = sum(s.value for s in segments)
    cx, cy, r_out, r_in = 60.0, 60.0, 54.0, 34.0
    parts: list[str] = []
    if total == 0:
        parts.append(
            f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n((r_out + r_in) / 2)}" fill="none" stroke="#bdbdbd" '
            f'stroke-width="{_n(r_out - r_in)}"/>'
        )
    else:
        angle = -math.pi / 2
        for seg in segments:
            if seg.value == 0:
                continue
            sweep = 2 * math.pi * seg.value / total
            if seg.value == total:
                # A full ring cannot be drawn as one arc: two half circles.
                parts.append(
                    f'<path d="M{_n(cx)},{_n(cy - r_out)} A{_n(r_out)},{_n(r_out)} 0 1 1 {_n(cx)},{_n(cy + r_out)} '
                    f"A{_n(r_out)},{_n(r_out)} 0 1 1 {_n(cx)},{_n(cy - r_out)} Z "
                    f"M{_n(cx)},{_n(cy - r_in)} A{_n(r_in)},{_n(r_in)} 0 1 0 {_n(cx)},{_n(cy + r_in)} "
                    f'A{_n(r_in)},{_n(r_in)} 0 1 0 {_n(cx)},{_n(cy - r_in)} Z" fill="{fills(seg.style)}" '
                    f'fill-rule="evenodd" stroke="#212121" stroke-width="0.6"/>'
                )
                break
            end = angle + sweep
            large = 1 if sweep > math.pi else 0
            x1, y1 = cx + r_out * math.cos(angle), cy + r_out * math.sin(angle)
            x2, y2 = cx + r_out * math.cos(end), cy + r_out * math.sin(end)
            x3, y3 = cx + r_in * math.cos(end), cy + r_in * math.sin(end)
            x4, y4 = cx + r_in * math.cos(angle), cy + r_in * math.sin(angle)
            parts.append(
                f'<path d="M{_n(x1)},{_n(y1)} A{_n(r_out)},{_n(r_out)} 0 {large} 1 {_n(x2)},{_n(y2)} '
                f'L{_n(x3)},{_n(y3)} A{_n(r_in)},{_n(r_in)} 0 {large} 0 {_n(x4)},{_n(y4)} Z" '
                f'fill="{fills(seg.style)}" stroke="#212121" stroke-width="0.6"/>'
            )
            angle = end
    parts.append(
        f'<text x="{_n(cx)}" y="{_n(cy + 5)}" text-anchor="middle" font-size="15" font-weight="bold" '
        f'fill="#212121">{escape(centre if total else empty_label or centre)}</text>'
    )
    legend_y = 14.0
    for seg in segments:
        parts.append(_swatch(fills, seg.style, 128, legend_y - 8))
        parts.append(f'<text x="142" y="{_n(legend_y)}" font-size="9" fill="#212121">{escape(seg.label)}</text>')
        legend_y += 14
    if caption:
        parts.append(
            f'<text x="{_n(cx)}" y="128" text-anchor="middle" font-size="10" font-weight="bold" '
            f'fill="#212121">{escape(caption)}</text>'
        )
    height = max(132.0, legend_y)
    return _svg(260, height, title, fills.defs() + "".join(parts))


def hbars(
    name: str,
    title: str,
    rows: Sequence[Segment],
    value_text: Callable[[int], str],
    label_w: float = 150.0,
    bar_w: float = 260.0,
) -> Markup:
    """One horizontal bar per row, its figure written at its end."""
    fills = _Fills(name)
    row_h = 18.0
    top = max((r.value for r in rows), default=0)
    parts: list[str] = []
    for i, row in enumerate(rows):
        y = 4 + i * row_h
        width = 0.0 if top == 0 else bar_w * row.value / top
        parts.append(
            f'<text x="{_n(label_w - 6)}" y="{_n(y + 11)}" text-anchor="end" font-size="9" '
            f'fill="#212121">{escape(row.label)}</text>'
        )
        if width > 0:
            parts.append(
                f'<rect x="{_n(label_w)}" y="{_n(y)}" width="{_n(width)}" height="13" fill="{fills(row.style)}" '
                f'stroke="#212121" stroke-width="0.5"/>'
            )
        parts.append(
            f'<text x="{_n(label_w + width + 5)}" y="{_n(y + 11)}" font-size="9" '
            f'fill="#212121">{escape(value_text(row.value))}</text>'
        )
    height = 8 + len(rows) * row_h
    return _svg(
        label_w + bar_w + 40 + 5 * max((len(value_text(r.value)) for r in rows), default=0),
        height,
        title,
        fills.defs() + "".join(parts),
    )


def wrap_label(label: str, width: int = 30, lines: int = 3) -> list[str]:
    """A chart label on at most ``lines`` lines of about ``width`` characters, cut at
    spaces (a single word longer than a line is kept whole); only what still does not fit
    ends in "…" (the full name is in the table under the chart)."""
    words = label.split()
    out: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if current and len(candidate) > width:
            out.append(current)
            current = word
        else:
            current = candidate
    if current:
        out.append(current)
    if len(out) > lines:
        rest = " ".join(out[lines - 1 :])
        out = [*out[: lines - 1], rest[: width - 1] + "…"]
    return out or [""]


def stacked_bars(
    name: str,
    title: str,
    rows: Sequence[tuple[str, Sequence[Segment]]],
    legend: Sequence[Segment],
    ratio_text: Callable[[Sequence[Segment]], str],
) -> Markup:
    """One 100 % bar per row (a portal), split by status; legend underneath. Labels wrap
    onto a second line rather than being cut."""
    fills = _Fills(name)
    label_w, bar_w, line_h = 170.0, 250.0, 10.0
    parts: list[str] = []
    y = 4.0
    for label, segments in rows:
        lines = wrap_label(label)
        row_h = 17.0 + line_h * (len(lines) - 1)
        bar_y = y + (row_h - 17.0) / 2
        total = sum(s.value for s in segments)
        for j, line in enumerate(lines):
            parts.append(
                f'<text x="{_n(label_w - 6)}" y="{_n(y + 10 + j * line_h)}" text-anchor="end" font-size="8.5" '
                f'fill="#212121">{escape(line)}</text>'
            )
        x = label_w
        for seg in segments:
            if seg.value == 0 or total == 0:
                continue
            width = bar_w * seg.value / total
            parts.append(
                f'<rect x="{_n(x)}" y="{_n(bar_y)}" width="{_n(width)}" height="12" fill="{fills(seg.style)}" '
                f'stroke="#212121" stroke-width="0.4"/>'
            )
            x += width
        parts.append(
            f'<text x="{_n(label_w + bar_w + 6)}" y="{_n(bar_y + 10)}" font-size="8.5" '
            f'fill="#212121">{escape(ratio_text(segments))}</text>'
        )
        y += row_h
    y += 6
    x = 10.0
    for seg in legend:
        width = 16 + 5.2 * len(seg.label)
        if x + width > label_w + bar_w + 60:
            x = 10.0
            y += 14
        parts.append(_swatch(fills, seg.style, x, y - 8))
        parts.append(f'<text x="{_n(x + 12)}" y="{_n(y)}" font-size="8" fill="#212121">{escape(seg.label)}</text>')
        x += width
    return _svg(label_w + bar_w + 60, y + 6, title, fills.defs() + "".join(parts))


@dataclass(frozen=True, slots=True)
class TrendBar:
    label: str  # the period, e.g. 2026-Q3
    ratio: float | None  # protected share of sensitive accesses; None: no sensitive access
    value_text: str  # the ratio as the reader's locale writes it
    complete: bool  # an incomplete run's bar is hatched and marked, its figure is a floor


TREND_COMPLETE = Style("#2e7d32", "solid")
TREND_INCOMPLETE = Style("#ffffff", "diag", "#616161")


def trend_columns(
    name: str,
    title: str,
    bars: Sequence[TrendBar],
    axis_text: Callable[[float], str],
    legend: tuple[str, str],
) -> Markup:
    """One column per period (oldest first), height = protected share on a 0–100 % axis,
    the figure above each column. ``legend``: labels of complete and incomplete runs."""
    fills = _Fills(name)
    left, top, plot_h, col_w, gap = 44.0, 12.0, 120.0, 56.0, 30.0
    width = left + gap + len(bars) * (col_w + gap)
    parts: list[str] = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(width - 6)}" y2="{_n(y)}" stroke="#bdbdbd" '
            f'stroke-width="{"0.8" if tick == 0 else "0.4"}"/>'
        )
        parts.append(
            f'<text x="{_n(left - 4)}" y="{_n(y + 3)}" text-anchor="end" font-size="8" '
            f'fill="#424242">{escape(axis_text(tick))}</text>'
        )
    tops: list[tuple[float, float]] = []
    for i, bar in enumerate(bars):
        x = left + gap + i * (col_w + gap)
        centre = x + col_w / 2
        style = TREND_COMPLETE if bar.complete else TREND_INCOMPLETE
        if bar.ratio is not None:
            h = plot_h * min(max(bar.ratio, 0.0), 1.0)
            y = top + plot_h - h
            if h > 0:
                parts.append(
                    f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(col_w)}" height="{_n(h)}" fill="{fills(style)}" '
                    f'stroke="#212121" stroke-width="0.6"/>'
                )
            tops.append((centre, y))
        shown = bar.value_text + ("*" if not bar.complete else "")
        label_y = (top + plot_h - plot_h * min(max(bar.ratio, 0.0), 1.0) if bar.ratio is not None else top + plot_h) - 4
        parts.append(
            f'<text x="{_n(centre)}" y="{_n(max(label_y, 8))}" text-anchor="middle" font-size="9" '
            f'font-weight="bold" fill="#212121">{escape(shown)}</text>'
        )
        parts.append(
            f'<text x="{_n(centre)}" y="{_n(top + plot_h + 13)}" text-anchor="middle" font-size="9" '
            f'fill="#212121">{escape(bar.label)}</text>'
        )
    if len(tops) > 1:
        path = " ".join(f"{'M' if i == 0 else 'L'}{_n(x)},{_n(y)}" for i, (x, y) in enumerate(tops))
        parts.append(f'<path d="{path}" fill="none" stroke="#0d3b66" stroke-width="1.2" stroke-dasharray="3,2"/>')
    legend_y = top + plot_h + 30
    x = left
    for style, text in ((TREND_COMPLETE, legend[0]), (TREND_INCOMPLETE, legend[1])):
        if style is TREND_INCOMPLETE and all(b.complete for b in bars):
            break
        parts.append(_swatch(fills, style, x, legend_y - 8))
        parts.append(f'<text x="{_n(x + 12)}" y="{_n(legend_y)}" font-size="8" fill="#212121">{escape(text)}</text>')
        x += 30 + 5.2 * len(text)
    return _svg(max(width, x), legend_y + 6, title, fills.defs() + "".join(parts))


def scaled(svg: Markup, factor: float) -> Markup:
    """A chart drawn at ``factor`` of its size (its viewBox is unchanged): 1 unit becomes
    ``factor`` pt, so the smallest text of a chart (8 or 9 units) must stay at 7 pt or more."""
    text = str(svg)  # plain text: Markup would escape what is added to it
    match = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', text)
    if match is None:
        return svg
    width, height = float(match.group(1)) * factor, float(match.group(2)) * factor
    return Markup(text[: match.start()] + f'width="{_n(width)}pt" height="{_n(height)}pt"' + text[match.end() :])
