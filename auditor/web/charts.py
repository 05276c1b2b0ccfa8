"""The runs page's trend chart: geometry only. The template draws it as inline SVG with
presentation attributes (no ``style``, no script: the CSP allows neither inline), and
every bar carries its value as text, so nothing is said by colour alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auditor.web.queries import RunRow

WIDTH = 720
HEIGHT = 220
TOP = 16
BOTTOM = 44  # room for the period and run labels under the bars
LEFT = 44
MAX_BARS = 12


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    ratio: float | None
    label: str  # period
    sublabel: str  # short run id
    complete: bool


@dataclass(frozen=True, slots=True)
class TrendChart:
    width: int
    height: int
    left: int
    top: int
    plot_height: float
    bars: tuple[Bar, ...]
    gridlines: tuple[tuple[float, int], ...]  # (y, percent)


def trend(runs: Sequence[RunRow]) -> TrendChart:
    """The last ``MAX_BARS`` runs, oldest on the left; a run with no sensitive access has
    no bar (its ratio is not 0 %, it is undefined) but keeps its slot and label."""
    chosen = sorted(runs, key=lambda r: (r.evaluated_at, r.seq))[-MAX_BARS:]
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - 8
    slot = plot_w / max(1, len(chosen))
    bar_w = min(48.0, slot * 0.6)
    bars = []
    for i, r in enumerate(chosen):
        ratio = r.protected_ratio
        h = 0.0 if ratio is None else plot_h * ratio
        bars.append(
            Bar(
                x=LEFT + i * slot + (slot - bar_w) / 2,
                y=TOP + plot_h - h,
                width=bar_w,
                height=h,
                ratio=ratio,
                label=r.period,
                sublabel=r.short_id[-8:],
                complete=r.complete,
            )
        )
    grid = tuple((TOP + plot_h * (1 - pct / 100), pct) for pct in (0, 25, 50, 75, 100))
    return TrendChart(WIDTH, HEIGHT, LEFT, TOP, plot_h, tuple(bars), grid)
