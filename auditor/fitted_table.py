"""Terminal tables that fit the terminal: columns carry a priority, and the least
important ones are dropped until every cell can be shown whole, wrapped only between
words. A table that would need a cell cut mid-word at 80 columns is a bug here, not
in the reader's terminal.

Rich wraps cells at spaces but cuts a word longer than its column (or ends it with
"…"); so a column may shrink only down to its longest word. The table is measured with
rich's own measurement and columns are dropped, lowest priority first, until the
narrowest layout fits. Priority 0 columns are never dropped: with those alone too
wide, the long words are allowed to fold (the content stays whole, on two lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from auditor.model import Severity

Justify = Literal["left", "right", "center"]


@dataclass(frozen=True, slots=True)
class Col:
    header: str
    priority: int = 0  # 0: always shown; higher numbers are dropped first
    justify: Justify = "left"
    style: str | None = None


def words(value: str) -> str:
    """An enum value as a reader says it: ``not_enforced`` → ``not enforced``."""
    return value.replace("_", " ")


def _build(
    title: str | None,
    cols: Sequence[Col],
    rows: Sequence[Sequence[RenderableType]],
    keep: Sequence[int],
    caption: str | None,
    fold: bool,
) -> Table:
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, caption=caption, caption_justify="left", pad_edge=False
    )
    for i in keep:
        c = cols[i]
        table.add_column(c.header, justify=c.justify, style=c.style, overflow="fold" if fold else "ellipsis")
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    return table


def _layout(console: Console, table: Table) -> list[int] | None:
    """Content widths for the table's columns that fit the console with no column below
    its longest word; None when even that does not fit. Rich's own layout shrinks the
    widest columns first, below their longest word: so the widths are set here."""
    unbounded = console.options.update_width(1_000_000)
    ranges = [table._measure_column(console, unbounded, c) for c in table.columns]
    pads = [table._get_padding_width(i) for i in range(len(table.columns))]
    available = console.width - table._extra_width
    low = [r.minimum for r in ranges]
    high = [max(r.maximum, r.minimum) for r in ranges]
    if sum(low) > available:
        return None
    if sum(high) <= available:
        widths = high
    else:
        # Share the room left above the minimums in proportion to what each column wants.
        room = available - sum(low)
        wants = [h - lo for h, lo in zip(high, low, strict=True)]
        total = sum(wants) or 1
        widths = [lo + (room * w) // total for lo, w in zip(low, wants, strict=True)]
    return [max(1, w - p) for w, p in zip(widths, pads, strict=True)]


def fitted(
    console: Console,
    cols: Sequence[Col],
    rows: Sequence[Sequence[RenderableType]],
    *,
    title: str | None = None,
    caption: str | None = None,
) -> Table:
    """The table with as many columns as fit ``console.width`` without cutting a word,
    dropping the highest ``priority`` numbers first; the dropped headers are named in
    the caption so the reader knows where to look (``--json`` has every field)."""
    order = sorted(range(len(cols)), key=lambda i: cols[i].priority)
    keep = list(range(len(cols)))
    dropped: list[str] = []
    while True:
        table = _build(title, cols, rows, keep, caption, fold=False)
        widths = _layout(console, table)
        droppable = [i for i in reversed(order) if i in keep and cols[i].priority > 0]
        if widths is not None or not droppable:
            break
        victim = droppable[0]
        keep.remove(victim)
        dropped.append(cols[victim].header)
    note = f"not shown at this width: {', '.join(reversed(dropped))} (--json has them)" if dropped else None
    full_caption = "\n".join(x for x in (caption, note) if x) or None
    table = _build(title, cols, rows, keep, full_caption, fold=widths is None)
    if widths is not None:
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
    return table


def text(value: str, style: str | None = None) -> Text:
    """User data as Text: rich would read "[...]" in a plain str as markup."""
    return Text(value, style=style or "")


# --- severity cells, the same colours in every table -------------------------------------

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}


def severity_text(severity: Severity) -> Text:
    return Text(severity.value, style=SEVERITY_STYLE[severity])
