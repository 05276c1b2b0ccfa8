"""What the pages of a report must print, read from the HTML the PDF renderer lays out.

``mfa-audit verify`` rebuilds the report's HTML from the evidence (the same templates,
``auditor.render.pdf.pdf_html``) and reads here the text WeasyPrint draws from it, in
document order, without laying it out:

- the *flow*: every text node of the body, except what is not drawn (``head``, ``style``,
  ``script``, ``template``, and in an SVG anything but its ``text`` elements);
- the *deferred* items, which WeasyPrint draws after the flow text of their page, in
  document order: each inline SVG (the UA stylesheet gives ``svg`` ``overflow: hidden``,
  which makes it a stacking context) and each outside list marker (absolutely positioned);
- what layout adds, each tied to its place in the flow: the contents page's leader and
  page number after each entry (``ol.toc a::after``), a table's header (repeated at the
  top of a page while its body continues), the running strings (``string-set`` of
  ``h1``: the section, and of ``h1.cover-title``: the document title) and the page
  margin boxes' ``content``, read from the document's own ``@page`` rule.

Text is compared as a character stream: whitespace (any Unicode space, line breaks
included), zero-width spaces and soft hyphens are dropped on both sides, so line
breaking and pagination do not matter. The print stylesheet transforms no text
(``text-transform``): the templates print it as it is drawn.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Dropped from both streams: what a line break may add or remove.
_IGNORED = re.compile(r"[\s\u200b\u00ad\ufeff]+")
_NOT_DRAWN = frozenset({"head", "style", "script", "template", "title", "noscript"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_MM_TO_PT = 72 / 25.4
_UNITS_TO_PT = {"mm": _MM_TO_PT, "cm": 10 * _MM_TO_PT, "in": 72.0, "pt": 1.0, "px": 0.75}


def normalise(text: str) -> str:
    return _IGNORED.sub("", text)


class ExpectedError(Exception):
    """The report's HTML does not have what the page check relies on (said why)."""


@dataclass
class Stream:
    """A normalised character stream, and the original pieces it was made of (to quote
    a difference as it reads, spaces included)."""

    parts: list[str] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)  # original text of each piece
    starts: list[int] = field(default_factory=list)  # normalised offset of each piece
    length: int = 0
    _text: str | None = None

    def add(self, piece: str) -> None:
        norm = normalise(piece)
        if not norm:
            return
        self.pieces.append(piece)
        self.starts.append(self.length)
        self.parts.append(norm)
        self.length += len(norm)
        self._text = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "".join(self.parts)
        return self._text

    def quote(self, start: int, end: int) -> str:
        """The original text of normalised [start, end), pieces joined by a space."""
        start, end = max(0, start), min(self.length, end)
        if start >= end:
            return ""
        first = max(0, bisect_right(self.starts, start) - 1)
        last = max(0, bisect_right(self.starts, end - 1) - 1)
        out = []
        for index in range(first, last + 1):
            piece, offset = self.pieces[index], self.starts[index]
            lo, hi = start - offset, end - offset
            out.append(_slice_original(piece, lo, hi))
        return " ".join(p for p in out if p)


def _slice_original(piece: str, lo: int, hi: int) -> str:
    """The original characters of ``piece`` between normalised offsets lo and hi."""
    out = []
    seen = 0
    for ch in piece:
        kept = not _IGNORED.fullmatch(ch)
        if kept:
            if lo <= seen < hi:
                out.append(ch)
            seen += 1
        elif lo < seen < hi:
            out.append(" ")
        if seen >= hi:
            break
    return re.sub(r"\s+", " ", "".join(out)).strip()


@dataclass(frozen=True, slots=True)
class Deferred:
    """An item drawn after the flow text of its page: an SVG's text or a list marker."""

    at: int  # its place in the flow
    text: str  # normalised
    what: str  # "chart" or "list marker", for messages


@dataclass(frozen=True, slots=True)
class TableHead:
    text: str  # normalised header text, as repeated on a continuation page
    body_start: int
    body_end: int
    head_start: int  # where the header is in the flow (to quote it as it reads)


@dataclass(frozen=True, slots=True)
class ContentsEntry:
    at: int  # the flow offset after the entry's text: its leader and page number follow
    anchor: str
    label: str  # the entry's text as printed, for messages


@dataclass
class MarginContent:
    """One margin box's ``content``: literal strings, ``counter(page)``, ``counter(pages)``
    and ``string(name)``, in order."""

    parts: list[tuple[str, str]]  # (kind, value): ("text", "Page "), ("counter", "page"), ("string", "section")

    def render(self, page: int, pages: int, strings: dict[str, str]) -> str:
        out = []
        for kind, value in self.parts:
            if kind == "text":
                out.append(value)
            elif kind == "counter":
                out.append(str(page if value == "page" else pages))
            else:
                out.append(strings.get(value, ""))
        return "".join(out)


@dataclass
class Expected:
    flow: Stream
    deferred: list[Deferred]
    tables: list[TableHead]
    contents: list[ContentsEntry]
    anchors: dict[str, int]  # element id -> flow offset of its first character
    sections: list[tuple[int, str]]  # (flow offset, text) of each string-set: section
    doctitle: str
    margins: dict[str, MarginContent]  # top-left, top-right, bottom-left, bottom-right
    first_page_margins: dict[str, MarginContent]
    margin_top_pt: float
    margin_bottom_pt: float

    def margin_text(self, box_names: tuple[str, ...], page: int, pages: int, section: str) -> str:
        """What the named margin boxes of a page print, one after the other (as read)."""
        boxes = self.first_page_margins if page == 1 else self.margins
        strings = {"doctitle": self.doctitle, "section": section}
        printed = (" ".join(boxes[n].render(page, pages, strings).split()) for n in box_names if n in boxes)
        return " ".join(p for p in printed if p)


def _attrs(attrs: list[tuple[str, str | None]]) -> dict[str, str]:
    return {k: v or "" for k, v in attrs}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.flow = Stream()
        self.deferred: list[Deferred] = []
        self.tables: list[TableHead] = []
        self.contents: list[ContentsEntry] = []
        self.anchors: dict[str, int] = {}
        self.sections: list[tuple[int, str]] = []
        self.doctitle = ""
        self.styles: list[str] = []
        self._stack: list[tuple[str, dict[str, str]]] = []
        self._hidden = 0  # depth inside an element that is not drawn
        self._svg: list[str] | None = None  # the text of the SVG being read
        self._svg_depth = 0
        self._svg_text = 0  # depth inside an SVG <text>
        self._svg_at = 0
        self._style: list[str] | None = None
        self._heading: tuple[str, int, list[str]] | None = None  # (kind, offset, text)
        self._toc: tuple[str, list[str]] | None = None
        self._lists: list[str] = []  # "ul" or "ol.toc" or "ol"
        self._ol_counts: list[int] = []
        self._tables: list[dict[str, int]] = []

    # -- tags ---------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = _attrs(attrs)
        if self._svg is not None:
            if tag not in _VOID:
                self._stack.append((tag, a))
                self._svg_depth += 1
                if tag == "text" or self._svg_text:
                    self._svg_text += 1
            return
        if tag in _VOID:
            return
        self._stack.append((tag, a))
        if self._hidden or tag in _NOT_DRAWN:
            self._hidden += 1
            if tag == "style":
                self._style = []
            return
        here = self.flow.length
        if "id" in a and a["id"] not in self.anchors:
            self.anchors[a["id"]] = here
        classes = a.get("class", "").split()
        if tag == "svg":
            self._svg, self._svg_depth, self._svg_text, self._svg_at = [], 1, 0, here
        elif tag == "h1":
            self._heading = ("doctitle" if "cover-title" in classes else "section", here, [])
        elif tag in ("ul", "ol"):
            self._lists.append("ol.toc" if tag == "ol" and "toc" in classes else tag)
            self._ol_counts.append(0)
        elif tag == "li" and self._lists:
            kind = self._lists[-1]
            if kind == "ul":
                # The UA stylesheet's markers: disc, then circle, then square when nested.
                depth = self._lists.count("ul")
                marker = "•" if depth == 1 else "◦" if depth == 2 else "▪"
                self.deferred.append(Deferred(here, marker, "list marker"))
            elif kind == "ol":
                self._ol_counts[-1] += 1
                self.deferred.append(Deferred(here, f"{self._ol_counts[-1]}.", "list marker"))
        elif tag == "a" and self._lists and self._lists[-1] == "ol.toc":
            self._toc = (a.get("href", "").removeprefix("#"), [])
        elif tag == "table":
            self._tables.append({})
        elif tag in ("thead", "tbody") and self._tables:
            self._tables[-1][tag + "_start"] = here

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <rect/>, <path/>: nothing to draw as text, nothing to close.
        if self._svg is None and not self._hidden and tag not in _VOID:
            a = _attrs(attrs)
            if "id" in a and a["id"] not in self.anchors:
                self.anchors[a["id"]] = self.flow.length

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID and self._svg is None:
            return
        # Close up to the matching element (the templates close every element they open).
        while self._stack:
            name, _ = self._stack.pop()
            self._close(name)
            if name == tag:
                break

    def _close(self, tag: str) -> None:
        if self._svg is not None:
            if self._svg_text:
                self._svg_text -= 1
            self._svg_depth -= 1
            if self._svg_depth == 0:
                self.deferred.append(Deferred(self._svg_at, normalise("".join(self._svg)), "chart"))
                self._svg = None
            return
        if self._hidden:
            self._hidden -= 1
            if tag == "style" and self._style is not None:
                self.styles.append("".join(self._style))
                self._style = None
            return
        here = self.flow.length
        if tag == "h1" and self._heading is not None:
            kind, at, text = self._heading
            value = " ".join("".join(text).split())
            if kind == "doctitle":
                self.doctitle = value
            else:
                self.sections.append((at, value))
            self._heading = None
        elif tag in ("ul", "ol") and self._lists:
            self._lists.pop()
            self._ol_counts.pop()
        elif tag == "a" and self._toc is not None:
            anchor, label = self._toc
            self.contents.append(ContentsEntry(here, anchor, " ".join("".join(label).split())))
            self._toc = None
        elif tag in ("thead", "tbody") and self._tables:
            self._tables[-1][tag + "_end"] = here
        elif tag == "table" and self._tables:
            t = self._tables.pop()
            if "thead_start" in t and "tbody_start" in t:
                head = self.flow.text[t["thead_start"] : t.get("thead_end", t["tbody_start"])]
                if head:
                    self.tables.append(TableHead(head, t["tbody_start"], t.get("tbody_end", here), t["thead_start"]))

    def handle_data(self, data: str) -> None:
        if self._svg is not None:
            if self._svg_text:
                self._svg.append(data)
            return
        if self._hidden:
            if self._style is not None:
                self._style.append(data)
            return
        if self._heading is not None:
            self._heading[2].append(data)
        if self._toc is not None:
            self._toc[1].append(data)
        self.flow.add(data)


# --- the @page rule of the document's own stylesheet --------------------------------------------

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_MARGIN_BOX = re.compile(r"@(top-left|top-right|bottom-left|bottom-right)\s*\{([^{}]*)\}")
_CONTENT = re.compile(r"(?:^|;)\s*content\s*:\s*((?:\"(?:[^\"\\]|\\.)*\"|[^;\"])*)")
_TOKEN = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|counter\(\s*(page|pages)\s*\)|string\(\s*([\w-]+)\s*\)|(none)|(\S+)")
_PAGE_MARGIN = re.compile(r"(?:^|[;{\s])margin\s*:\s*([^;}]+)")


def _page_rules(css: str) -> list[tuple[str, str]]:
    """(selector, body) of each top-level @page rule, nested braces kept in the body."""
    out = []
    for match in re.finditer(r"@page\s*([^{]*)\{", css):
        depth, i = 1, match.end()
        while i < len(css) and depth:
            depth += {"{": 1, "}": -1}.get(css[i], 0)
            i += 1
        out.append((match.group(1).strip(), css[match.end() : i - 1]))
    return out


def _content(value: str) -> MarginContent | None:
    parts: list[tuple[str, str]] = []
    for text, counter, string, none, other in _TOKEN.findall(value):
        if none:
            return None
        if other:
            raise ExpectedError(f"a page margin's content uses {other[:40]!r}, which the page check does not read")
        if counter:
            parts.append(("counter", counter))
        elif string:
            parts.append(("string", string))
        else:
            parts.append(("text", re.sub(r"\\(.)", r"\1", text)))
    return MarginContent(parts)


def _length_pt(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(mm|cm|in|pt|px)", value)
    if match is None:
        raise ExpectedError(f"the page margin {value[:40]!r} is not a length the page check reads")
    return float(match.group(1)) * _UNITS_TO_PT[match.group(2)]


def _margins(styles: list[str]) -> tuple[dict[str, MarginContent], dict[str, MarginContent], float, float]:
    every: dict[str, MarginContent | None] = {}
    first: dict[str, MarginContent | None] = {}
    top = bottom = None
    for css in styles:
        for selector, body in _page_rules(_COMMENT.sub("", css)):
            if selector not in ("", ":first"):
                raise ExpectedError(f"an @page {selector[:40]} rule, which the page check does not read")
            target = every if selector == "" else first
            for name, declarations in _MARGIN_BOX.findall(body):
                found = _CONTENT.search(declarations)
                if found:
                    target[name] = _content(found.group(1))
            outer = re.sub(r"@[\w-]+\s*\{[^{}]*\}", "", body)
            margin = _PAGE_MARGIN.search(outer)
            if margin and selector == "":
                values = margin.group(1).split()
                sides = {1: (0, 0), 2: (0, 0), 3: (0, 2), 4: (0, 2)}.get(len(values))
                if sides is None:
                    raise ExpectedError("the page margin is not a margin the page check reads")
                top, bottom = _length_pt(values[sides[0]]), _length_pt(values[sides[1]])
    if top is None or bottom is None:
        raise ExpectedError("the report's stylesheet sets no page margin")
    boxes = {k: v for k, v in every.items() if v is not None}
    first_boxes = {k: v for k, v in {**every, **first}.items() if v is not None}
    return boxes, first_boxes, top, bottom


def read_expected(html: str) -> Expected:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    margins, first, top, bottom = _margins(reader.styles)
    return Expected(
        flow=reader.flow,
        deferred=reader.deferred,
        tables=sorted(reader.tables, key=lambda t: t.body_start),
        contents=reader.contents,
        anchors=reader.anchors,
        sections=reader.sections,
        doctitle=reader.doctitle,
        margins=margins,
        first_page_margins=first,
        margin_top_pt=top,
        margin_bottom_pt=bottom,
    )
