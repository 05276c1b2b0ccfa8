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
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

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
        # Measured unconstrained: rich clamps a measurement to the width it is given.
        needed = Measurement.get(console, console.options.update_width(1_000_000), table).minimum
        droppable = [i for i in reversed(order) if i in keep and cols[i].priority > 0]
        if needed <= console.width or not droppable:
            break
        victim = droppable[0]
        keep.remove(victim)
        dropped.append(cols[victim].header)
    fold = needed > console.width
    note = f"not shown at this width: {', '.join(reversed(dropped))} (--json has them)" if dropped else None
    full_caption = "\n".join(x for x in (caption, note) if x) or None
    return _build(title, cols, rows, keep, full_caption, fold=fold)


def text(value: str, style: str | None = None) -> Text:
    """User data as Text: rich would read "[...]" in a plain str as markup."""
    return Text(value, style=style or "")
