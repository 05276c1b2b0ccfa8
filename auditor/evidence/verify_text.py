"""Do the pages print what the evidence gives? The fast page check, without layout.

The text each page of the file draws (``verify_pdf.PageReader``: runs decoded through the
fonts' ToUnicode maps, with where each starts) is compared with the text the report's
HTML gives (``verify_expected``), rebuilt from the evidence by the same templates. Both
are normalised character streams (``verify_expected.normalise``), all pages concatenated
in order, so where lines and pages break does not matter; every printed character is
accounted for exactly, and what layout adds is checked against what it must say:

- the margin boxes (the runs drawn last, in the page margins): the running header (the
  document title and the section in effect: the first ``h1`` on the page, else the last
  one before it) and the footer (run id, "Page i of n" with n the file's page count);
- after the flow text of a page, its deferred items (charts, list markers) in document
  order: those whose place in the flow is on that page;
- a table's header repeated at the top of a page, only while that table's body continues;
- each contents entry's leader and page number: the page where that chapter's text begins.

A page with nothing but its margins fails (the report has no blank page). A difference
names the page, and quotes what it prints and what the evidence gives; one at the very
top of a page says it may be the foot of the page before (where a page breaks is
layout's choice, which this check does not make). After a difference the check finds
where the next page resumes in the flow, so later pages are still checked. What it does
not prove, ``verify --layout`` does: that the same text falls on the same pages, and the
number of dots in a contents leader.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from auditor.evidence.verify_expected import ContentsEntry, Expected, Stream, normalise
from auditor.evidence.verify_pdf import PageText
from auditor.evidence.verify_result import Check

MAX_REPORTED_PAGES = 5
_CLIP = 80
_CONTEXT = 12
_PROBE = 64  # characters of a page looked up to find where it resumes after a difference
_TOP = ("top-left", "top-right")
_BOTTOM = ("bottom-left", "bottom-right")


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


@dataclass
class _Page:
    number: int
    flow: Stream  # the runs before the margin boxes
    bounds: list[int]  # normalised offset of the end of each run in ``flow``
    top: Stream
    bottom: Stream


def _split(number: int, page: PageText, expected: Expected) -> _Page:
    """The page's runs, the margin boxes apart: the runs drawn last whose start lies in
    the top or bottom page margin."""
    runs = page.runs
    top_edge = page.height - expected.margin_top_pt
    end = len(runs)
    while end > 0 and page.height > 0 and (runs[end - 1].y > top_edge or runs[end - 1].y < expected.margin_bottom_pt):
        end -= 1
    flow, top, bottom = Stream(), Stream(), Stream()
    bounds: list[int] = []
    for run in runs[:end]:
        flow.add(run.text)
        if not bounds or bounds[-1] != flow.length:
            bounds.append(flow.length)
    for run in runs[end:]:
        (top if run.y > top_edge else bottom).add(run.text)
    return _Page(number, flow, bounds, top, bottom)


@dataclass
class _Outcome:
    start: int  # the flow offset where the page begins
    end: int  # and where its flow text ends
    deferred_end: int  # index of the first deferred item not on this page or before
    toc_next: int  # index of the first contents entry whose number is not on this page or before
    numbers: list[tuple[ContentsEntry, int]] = field(default_factory=list)


@dataclass
class _Match:
    reached: int  # offset in the page's flow up to which it matched
    inserted: list[tuple[int, int]]  # (page offset, length) of what layout added
    numbers: list[tuple[ContentsEntry, int, int]]  # (entry, number printed, page offset)
    failure: tuple[int, int] | None  # (page offset, flow offset) of the first difference
    problem: str | None = None  # a difference in what layout added, said as such
    header: bool = False  # the page starts with the repeated header of a continuing table


class PageCheck:
    def __init__(self, expected: Expected, pages: Sequence[PageText]) -> None:
        self.x = expected
        self.text = expected.flow.text
        self.pages = [_split(n, p, expected) for n, p in enumerate(pages, start=1)]
        self.ats = [d.at for d in expected.deferred]
        texts = [d.text for d in expected.deferred]
        self.deferred_text = "".join(texts)
        self.deferred_offsets = [0]
        for t in texts:
            self.deferred_offsets.append(self.deferred_offsets[-1] + len(t))
        self.toc_at = sorted(expected.contents, key=lambda c: c.at)
        self.toc_positions = [c.at for c in self.toc_at]
        self.table_starts = [t.body_start for t in expected.tables]
        # What layout added that was accounted for, by kind (the tests show each is exercised).
        self.accounted: Counter[str] = Counter()

    # -- one page's flow ----------------------------------------------------------------------
    def _table_continuing(self, at: int) -> tuple[str, bool, str] | None:
        """The header of the table whose body a page starting at ``at`` continues, and
        whether it must be repeated there: inside the body, always (``thead`` is a
        table-header-group); at the body's very start the header may have been drawn
        at the foot of the page before."""
        i = bisect_right(self.table_starts, at) - 1
        if i >= 0:
            table = self.x.tables[i]
            if table.body_start <= at < table.body_end:
                quoted = self.x.flow.quote(table.head_start, table.head_start + len(table.text))
                return table.text, at > table.body_start, quoted
        return None

    def _match(self, page: _Page, start: int, toc_first: int) -> _Match:
        """The page's text matched against the flow from ``start``, a repeated table
        header and the contents' leaders and numbers taken as what layout adds."""
        found = page.flow.text
        continuing = self._table_continuing(start)
        if continuing is not None and found.startswith(continuing[0]):
            return self._match_from(found, start, toc_first, len(continuing[0]), [(0, len(continuing[0]))], True)
        rest = self._match_from(found, start, toc_first, 0, [], False)
        if continuing is not None and continuing[1] and (rest.failure is None or rest.failure[0] > 0):
            # The page's text follows on, without the header its table repeats.
            why = f"lacks the repeated header of the table it continues ({_clip(continuing[2])!r})"
            return _Match(0, [], [], (0, start), why)
        return rest

    def _match_from(
        self, found: str, e: int, toc_first: int, i: int, inserted: list[tuple[int, int]], header: bool
    ) -> _Match:
        want = self.text
        numbers: list[tuple[ContentsEntry, int, int]] = []
        while i < len(found):
            # The next contents entry whose number is not read yet, at or after here.
            t = max(toc_first, bisect_left(self.toc_positions, e))
            next_toc = self.toc_positions[t] if t < len(self.toc_positions) else None
            if next_toc == e:
                j = i
                while j < len(found) and found[j] == ".":
                    j += 1
                k = j
                while k < len(found) and found[k] in "0123456789" and k - j < 6:
                    k += 1
                if j == i or k == j:
                    entry = self.toc_at[t]
                    why = f"the contents entry {entry.label!r} has no leader and page number"
                    return _Match(i, inserted, numbers, (i, e), why, header)
                numbers.append((self.toc_at[t], int(found[j:k]), i))
                inserted.append((i, k - i))
                i, toc_first = k, t + 1
                continue
            n = len(found) - i
            if next_toc is not None:
                n = min(n, next_toc - e)
            a, b = found[i : i + n], want[e : e + n]
            if a != b:
                same = _common_prefix(a, b)
                return _Match(i + same, inserted, numbers, (i + same, e + same), header=header)
            i, e = i + n, e + n
        return _Match(i, inserted, numbers, None, header=header)

    def _flow_at(self, start: int, offset: int, inserted: list[tuple[int, int]]) -> int:
        """The flow offset a page offset corresponds to, what layout added left out."""
        skipped = 0
        for at, length in inserted:
            if at >= offset:
                break
            skipped += min(length, offset - at)
        return start + offset - skipped

    def _deferred_fits(self, found: str, bound: int, first: int, at: int) -> int | None:
        """The index past the deferred items ``found[bound:]`` is, when it is the items
        from ``first`` on that are placed before ``at`` (and maybe those placed at it).
        Lengths are compared first: a page of many runs costs one pass, not one per run."""
        low, high = max(first, bisect_left(self.ats, at)), bisect_right(self.ats, at)
        size = len(found) - bound
        offsets = self.deferred_offsets
        for k in range(high, low - 1, -1):
            if offsets[k] - offsets[first] == size and found.startswith(
                self.deferred_text[offsets[first] : offsets[k]], bound
            ):
                return k
        return None

    def _page(self, page: _Page, start: int, first: int, toc_first: int) -> tuple[_Outcome | None, str | None]:
        """The page matched from flow offset ``start`` and deferred item ``first``: its
        outcome, or why not."""
        if not page.flow.length:
            # The report has no blank page: one (margins alone) is not what it gives.
            return None, "prints nothing but its margins: the report has no blank page"
        m = self._match(page, start, toc_first)
        reached = m.reached if m.failure is not None else len(page.flow.text)
        found = page.flow.text
        for bound in sorted({0, *page.bounds}, reverse=True):
            if bound > reached:
                continue
            at = self._flow_at(start, bound, m.inserted)
            k = self._deferred_fits(found, bound, first, at)
            if k is not None:
                numbers = [(entry, n) for entry, n, where in m.numbers if where < bound]
                self.accounted["repeated table headers"] += m.header
                for item in self.x.deferred[first:k]:
                    self.accounted[item.what + "s"] += 1
                return _Outcome(start, at, k, toc_first + len(numbers), numbers), None
        why = self._describe(page, start, first, m)
        top = m.inserted[0][1] if m.header else 0
        if m.failure is not None and m.failure[0] == top and m.problem is None and page.number > 1:
            # Where a page breaks is layout's choice: text missing (or added) at the top of
            # a page may as well be missing from the foot of the one before.
            why += f" (at the top of the page: it may be the foot of page {page.number - 1} that differs)"
        return None, why

    # -- what differs, said plainly -------------------------------------------------------------
    def _describe(self, page: _Page, start: int, first: int, m: _Match) -> str:
        if m.problem is not None:
            return m.problem
        found = page.flow.text
        # A page whose flow text is all there but whose charts or markers differ.
        for bound in sorted({0, *page.bounds}, reverse=True):
            if m.failure is not None and bound > m.failure[0]:
                continue
            at = self._flow_at(start, bound, m.inserted)
            offsets = self.deferred_offsets
            high = max(bisect_right(self.ats, at), first)
            if offsets[high] > offsets[first] and len(found) - bound == offsets[high] - offsets[first]:
                want = self.deferred_text[offsets[first] : offsets[high]]
                return _difference(found[bound:], want, "in its charts or list markers ")
        if m.failure is None:
            return f"lacks the charts or list markers the evidence places on it ({_clip(found[m.reached :])!r})"
        fi, ei = m.failure
        return _flow_difference(page.flow, fi, self.x.flow, ei)

    # -- the document -----------------------------------------------------------------------------
    def _resume(self, page: _Page, low: int) -> int | None:
        """Where in the flow a page resumes after a difference: its first characters
        (a repeated table header left out) found at or after ``low``."""
        found = page.flow.text
        skips = [0] + [len(t.text) for t in self.x.tables if found.startswith(t.text)]
        for skip in skips:
            probe = found[skip : skip + _PROBE]
            if probe:
                at = self.text.find(probe, low)
                if at >= 0:
                    return at
        return None

    def run(self) -> list[Check]:
        total = len(self.pages)
        problems: dict[int, str] = {}
        outcomes: dict[int, _Outcome] = {}
        pos, first, low, toc = 0, 0, 0, 0
        for page in self.pages:
            outcome, why = self._page(page, pos, first, toc)
            if outcome is None:
                problems[page.number] = why or "differs from the evidence"
                resumed = None
                following = page.number  # the index of the next page
                if following < total:
                    resumed = self._resume(self.pages[following], max(low, pos))
                if resumed is not None:
                    low = pos = resumed
                    first = bisect_left(self.ats, resumed)
                    # An entry's number is on its entry's line: never the first thing on a page.
                    toc = bisect_right(self.toc_positions, resumed)
                continue
            outcomes[page.number] = outcome
            low = pos = outcome.end
            first = outcome.deferred_end
            toc = outcome.toc_next
        if total and total not in problems:
            if pos < len(self.text):
                rest = _clip(self.x.flow.quote(pos, pos + 60))
                problems[total] = f"the document ends where the evidence gives more: lacks {rest!r}"
            elif first < len(self.ats):
                item = self.x.deferred[first]
                problems[total] = f"the document ends before the evidence's last {item.what} ({_clip(item.text)!r})"
        if not total:
            problems[1] = "the file has no pages"
        self._margins(outcomes, problems, total)
        self._contents(outcomes, problems)
        return _report(problems, total)

    def _margins(self, outcomes: dict[int, _Outcome], problems: dict[int, str], total: int) -> None:
        sections = self.x.sections
        section_at = [at for at, _ in sections]
        for page in self.pages:
            outcome = outcomes.get(page.number)
            if outcome is None or page.number in problems:
                continue
            # string(section): the first assignment on the page, else the one in effect.
            i = bisect_left(section_at, outcome.start)
            if i < len(sections) and sections[i][0] < outcome.end:
                section = sections[i][1]
            else:
                section = sections[i - 1][1] if i > 0 else ""
            for where, stream, boxes in (("running header", page.top, _TOP), ("page footer", page.bottom, _BOTTOM)):
                want = self.x.margin_text(boxes, page.number, total, section)
                self.accounted[where + "s"] += bool(want)
                if stream.text != normalise(want):
                    printed = stream.quote(0, stream.length) or "nothing"
                    problems[page.number] = (
                        f"its {where} reads {_clip(printed)!r} where the evidence gives {_clip(want) or 'nothing'!r}"
                    )
                    break

    def _contents(self, outcomes: dict[int, _Outcome], problems: dict[int, str]) -> None:
        starts = sorted((o.start, o.end, n) for n, o in outcomes.items())

        def page_of(offset: int) -> int | None:
            for start, end, number in starts:
                if start <= offset < end:
                    return number
            return None

        for number, outcome in sorted(outcomes.items()):
            for entry, printed in outcome.numbers:
                target = self.x.anchors.get(entry.anchor)
                if target is None:
                    problems.setdefault(number, f"the contents entry {entry.label!r} points to nothing")
                    continue
                actual = page_of(target)
                self.accounted["contents page numbers"] += 1
                if actual is not None and actual != printed and number not in problems:
                    problems[number] = (
                        f"the contents give page {printed} for {_clip(entry.label)!r}, which begins on page {actual}"
                    )


def _report(problems: dict[int, str], total: int) -> list[Check]:
    checks = [Check(f"page {n}", False, problems[n]) for n in sorted(problems)[:MAX_REPORTED_PAGES]]
    if len(problems) > MAX_REPORTED_PAGES:
        checks.append(
            Check("pages", False, f"{len(problems) - MAX_REPORTED_PAGES} more pages differ from the evidence")
        )
    if not checks:
        checks.append(
            Check(
                "pages",
                True,
                f"all {total} pages print what the evidence gives (text, charts, running headers and footers, "
                "contents page numbers)",
            )
        )
    return checks


def _common_prefix(a: str, b: str) -> int:
    """The length of the common start of two strings (bisected over C comparisons)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _opcode(found: str, want: str) -> tuple[str, int, int, int, int]:
    matcher = difflib.SequenceMatcher(a=want, b=found, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            return tag, i1, i2, j1, j2
    return "equal", 0, 0, 0, 0


def _flow_difference(page: Stream, fi: int, flow: Stream, ei: int) -> str:
    """The first difference, quoted with a few characters either side as each reads."""
    _tag, i1, i2, j1, j2 = _opcode(page.text[fi : fi + _CLIP], flow.text[ei : ei + _CLIP])
    printed = page.quote(fi + j1 - _CONTEXT, fi + j2 + _CONTEXT)
    given = flow.quote(ei + i1 - _CONTEXT, ei + i2 + _CONTEXT)
    return f"prints {_clip(printed) or 'nothing'!r} where the evidence gives {_clip(given) or 'nothing'!r}"


def _difference(found: str, want: str, where: str) -> str:
    _tag, i1, i2, j1, j2 = _opcode(found, want)
    printed = found[max(0, j1 - _CONTEXT) : j2 + _CONTEXT]
    given = want[max(0, i1 - _CONTEXT) : i2 + _CONTEXT]
    return f"prints {_clip(printed)!r} {where}where the evidence gives {_clip(given)!r}"


def check_page_text(expected: Expected, pages: Sequence[PageText]) -> list[Check]:
    return PageCheck(expected, pages).run()


__all__ = ["MAX_REPORTED_PAGES", "PageCheck", "check_page_text", "normalise"]
