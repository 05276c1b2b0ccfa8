"""Reading an untrusted PDF with bounded work: the attachments, the document
information and each page's text.

Every structure comes from the file under examination, so nothing is assumed of it:
each object is type-checked before use, every tree walk keeps a visited set and a node
budget (a cyclic ``/Kids`` ends, it does not loop), and every stream is inflated here,
by ``zlib`` with an output cap, never by a library's own decoder (a 1 KB deflate bomb
stops at the cap instead of filling memory). Only ``/FlateDecode`` (or no filter) is
accepted: the reports this tool writes use nothing else.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf

MiB = 1 << 20
MAX_ATTACHMENT = 2048 * MiB  # a million-account snapshot is ~700 MiB
MAX_ATTACHMENTS_TOTAL = 3072 * MiB
MAX_TREE_NODES = 10_000  # name-tree nodes and embedded files
MAX_PAGES = 20_000
MAX_CONTENT = 64 * MiB  # one page's content streams, decoded
MAX_CONTENT_TOTAL = 1024 * MiB  # every page's
MAX_CMAP = 4 * MiB
MAX_CMAP_CODES = 1 << 17
MAX_FORM_DEPTH = 8


class Unreadable(Exception):
    """The file, or one of its structures, cannot be read as a report: the message says why."""


def check_object_streams(data: bytes) -> None:
    """Decode every object stream once through pyHanko, whose 0.38 reader bounds what a
    stream may inflate to (256 MiB, and a ratio no single Deflate reaches): a bomb hidden
    in an object stream stops there, before pikepdf (which has no such limit) reads it."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        for revision in range(min(reader.xrefs.total_revisions, 1000)):
            used = reader.xrefs.object_streams_used_in(revision)  # type: ignore[no-untyped-call]
            for ref in list(used)[:MAX_TREE_NODES]:
                stream = ref.get_object()
                if hasattr(stream, "data"):
                    stream.data  # noqa: B018 (decoding is the check)
    except (PdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise Unreadable(f"not a readable PDF ({_short(exc)})") from None


def open_pdf(data: bytes) -> pikepdf.Pdf:
    try:
        return pikepdf.open(io.BytesIO(data))
    except (pikepdf.PdfError, ValueError, OSError) as exc:
        raise Unreadable(f"not a readable PDF ({_short(exc)})") from None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def inflate(stream: Any, cap: int, what: str) -> bytes:
    """The decoded bytes of a stream, refusing filters other than Flate and output past ``cap``."""
    if not isinstance(stream, pikepdf.Stream):
        raise Unreadable(f"{what} is not a stream")
    filters: Any = stream.get("/Filter")
    if isinstance(filters, pikepdf.Array):
        listed = list(filters)
        if len(listed) > 1:
            raise Unreadable(f"{what}: more than one filter")
        filters = listed[0] if listed else None
    parms = stream.get("/DecodeParms")
    if parms is not None and not (isinstance(parms, pikepdf.Array) and all(p is None for p in parms)):
        raise Unreadable(f"{what}: decode parameters are not used by this tool's reports")
    try:
        raw = stream.read_raw_bytes()
    except pikepdf.PdfError as exc:
        raise Unreadable(f"{what}: {_short(exc)}") from None
    if filters is None:
        if len(raw) > cap:
            raise Unreadable(f"{what}: larger than the {cap // MiB} MiB limit")
        return bytes(raw)
    if filters != pikepdf.Name.FlateDecode:
        raise Unreadable(f"{what}: filter {str(filters)[:40]} is not used by this tool's reports")
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, cap + 1)
    except zlib.error as exc:
        raise Unreadable(f"{what}: damaged compressed data ({exc})") from None
    if len(out) > cap or inflater.unconsumed_tail:
        raise Unreadable(f"{what}: inflates past the {cap // MiB} MiB limit (a decompression bomb?)")
    return out


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    data: bytes
    relationship: str
    raw: bytes | None  # the deflated stream as stored, when it is one Flate stream


def _dict(value: Any) -> pikepdf.Dictionary | None:
    return value if isinstance(value, pikepdf.Dictionary) else None


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, pikepdf.String) else None


def _id(obj: Any) -> tuple[int, int] | None:
    objgen = getattr(obj, "objgen", (0, 0))
    return None if objgen == (0, 0) else (int(objgen[0]), int(objgen[1]))


def _name_tree_pairs(root: Any, problems: list[str]) -> Iterator[tuple[Any, Any]]:
    """Key/value pairs of a name tree, each node visited once, at most MAX_TREE_NODES."""
    stack = [root]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        node = stack.pop()
        node_id = _id(node)
        if node_id is not None:
            if node_id in seen:
                problems.append("the EmbeddedFiles name tree refers to one of its nodes twice (a cycle?)")
                continue
            seen.add(node_id)
        visited += 1
        if visited > MAX_TREE_NODES:
            problems.append(f"the EmbeddedFiles name tree has more than {MAX_TREE_NODES} nodes")
            return
        if not isinstance(node, pikepdf.Dictionary):
            problems.append("an EmbeddedFiles name-tree node is not a dictionary")
            continue
        kids = node.get("/Kids")
        if kids is not None:
            if not isinstance(kids, pikepdf.Array):
                problems.append("an EmbeddedFiles /Kids is not an array")
            else:
                stack.extend(reversed(list(kids)))
        names = node.get("/Names")
        if names is None:
            continue
        if not isinstance(names, pikepdf.Array) or len(names) % 2:
            problems.append("an EmbeddedFiles /Names is not an array of pairs")
            continue
        items = list(names)
        for i in range(0, len(items), 2):
            yield items[i], items[i + 1]


def embedded_files(pdf: pikepdf.Pdf) -> tuple[dict[str, Attachment], list[str]]:
    """The attachments by name, and the problems met reading them (each a reason)."""
    problems: list[str] = []
    files: dict[str, Attachment] = {}
    root = _dict(pdf.Root)
    names = _dict(root.get("/Names")) if root is not None else None
    tree = names.get("/EmbeddedFiles") if names is not None else None
    if tree is None:
        return files, ["the PDF has no embedded files"]
    total = 0
    for key, spec in _name_tree_pairs(tree, problems):
        spec_d = _dict(spec)
        if spec_d is None:
            problems.append("an embedded-file entry is not a file specification")
            continue
        name = _text(spec_d.get("/UF")) or _text(spec_d.get("/F")) or _text(key)
        if name is None:
            problems.append("an embedded file has no name")
            continue
        if name in files:
            problems.append(f"two embedded files are named {name!r}")
            continue
        ef = _dict(spec_d.get("/EF"))
        stream = ef.get("/F") if ef is not None else None
        try:
            data = inflate(stream, min(MAX_ATTACHMENT, MAX_ATTACHMENTS_TOTAL - total), f"attachment {name!r}")
        except Unreadable as exc:
            problems.append(str(exc))
            continue
        total += len(data)
        raw = None
        if isinstance(stream, pikepdf.Stream) and stream.get("/Filter") == pikepdf.Name.FlateDecode:
            raw = bytes(stream.read_raw_bytes())
        rel = spec_d.get("/AFRelationship")
        relationship = str(rel).lstrip("/") if isinstance(rel, pikepdf.Name) else ""
        files[name] = Attachment(name, data, relationship, raw)
    return files, problems


def info_digests(pdf: pikepdf.Pdf) -> tuple[dict[str, str], str | None]:
    """Attachment digests from the document information (custom metadata), and a
    problem when the information dictionary is not one."""
    info = pdf.trailer.get("/Info")
    if info is None:
        return {}, None
    if not isinstance(info, pikepdf.Dictionary):
        return {}, "the document information (/Info) is not a dictionary"
    out: dict[str, str] = {}
    for key in list(info.keys())[:1000]:
        k = str(key).lstrip("/")
        if k.startswith("auditattachment"):
            value = _text(info.get(key))
            out[k[len("auditattachment") :]] = value if value is not None else "(not text)"
    return out, None


# --- page text -----------------------------------------------------------------------------

_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_PAIR = re.compile(rb"<([0-9A-Fa-f]{1,8})>\s*<([0-9A-Fa-f]{0,64})>")
_RANGE = re.compile(rb"<([0-9A-Fa-f]{1,8})>\s*<([0-9A-Fa-f]{1,8})>\s*<([0-9A-Fa-f]{0,64})>")


def _utf16(hex_text: bytes) -> str:
    raw = bytes.fromhex(hex_text.decode("ascii")) if len(hex_text) % 2 == 0 else b""
    return raw.decode("utf-16-be", errors="replace")


def parse_cmap(data: bytes) -> dict[int, str]:
    """The code → text map of a ToUnicode CMap (bfchar and bfrange), at most MAX_CMAP_CODES codes."""
    out: dict[int, str] = {}
    for block in _BFCHAR.findall(data):
        for code, text in _PAIR.findall(block):
            out[int(code, 16)] = _utf16(text)
    for block in _BFRANGE.findall(data):
        for lo_hex, hi_hex, text in _RANGE.findall(block):
            lo, hi = int(lo_hex, 16), int(hi_hex, 16)
            base = _utf16(text)
            if hi < lo or not base or len(out) + hi - lo > MAX_CMAP_CODES:
                continue
            for i in range(hi - lo + 1):
                out[lo + i] = base[:-1] + chr(min(ord(base[-1]) + i, 0x10FFFF))
    return out


class _Codes(dict[int, str]):
    """A font's code → text map for ``str.translate``: a code its ToUnicode map lacks is
    U+FFFD (never the code itself read as a character)."""

    def __missing__(self, key: int) -> str:
        return "\ufffd"


@dataclass
class _Font:
    width: int  # bytes per code
    codes: _Codes
    wide_ok: bool = True  # no code of the map falls in the UTF-16 surrogate range


_UNKNOWN_FONT = _Font(1, _Codes())
_SURROGATE_HIGH = bytes(range(0xD8, 0xE0))
# What the text reader needs of a content stream; pikepdf makes Python objects of these only.
_TEXT_OPERATORS = "q Q cm BT ET Tm Td TD Tf Tj TJ ' \" Do"


@dataclass(frozen=True, slots=True)
class Run:
    """The text of one BT … ET block and where it starts: ``y`` is the height of its
    first glyph's origin above the page's bottom edge, in points (default user space)."""

    text: str
    y: float


@dataclass(frozen=True, slots=True)
class PageText:
    runs: list[Run]
    height: float  # of the page (MediaBox), in points


_Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _multiply(m: _Matrix, n: _Matrix) -> _Matrix:
    """m × n: m applied first, then n (PDF's row-vector convention)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _matrix(operands: Any) -> _Matrix | None:
    try:
        values = tuple(float(v) for v in list(operands)[:6])
    except (TypeError, ValueError):
        return None
    return values if len(values) == 6 else None


class PageReader:
    """Text runs of each page, in drawing order: one run per BT … ET block."""

    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self._pdf = pdf
        self._fonts: dict[tuple[int, int], _Font] = {}

    def pages(self) -> list[list[str]]:
        return [[run.text for run in page.runs] for page in self.page_texts()]

    def page_texts(self) -> list[PageText]:
        try:
            count = len(self._pdf.pages)
        except pikepdf.PdfError as exc:
            raise Unreadable(f"the page tree cannot be read ({_short(exc)})") from None
        if count > MAX_PAGES:
            raise Unreadable(f"more than {MAX_PAGES} pages")
        out = []
        total = 0
        for number in range(count):
            try:
                page = self._pdf.pages[number]
                # budget[0]: bytes counted against this page's cap, which is also what is
                # left of the whole document's.
                start = max(0, MAX_CONTENT - (MAX_CONTENT_TOTAL - total))
                budget = [start]
                runs = self._runs(page.obj, _dict(page.obj.get("/Resources")), 0, set(), budget, _IDENTITY)
                out.append(PageText(runs, _height(page)))
                total += budget[0] - start
            except pikepdf.PdfError as exc:
                raise Unreadable(f"page {number + 1} cannot be read ({_short(exc)})") from None
        return out

    def _content(self, holder: Any, budget: list[int]) -> bytes:
        if isinstance(holder, pikepdf.Stream):  # a form XObject draws its own stream
            streams: list[Any] = [holder]
        else:
            contents = holder.get("/Contents") if isinstance(holder, pikepdf.Dictionary) else None
            streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
        parts = []
        for stream in streams[:1000]:
            if stream is None:
                continue
            data = inflate(stream, MAX_CONTENT - budget[0], "a page content stream")
            budget[0] += len(data)
            parts.append(data)
        return b"\n".join(parts)

    def _font(self, resources: pikepdf.Dictionary | None, name: Any) -> _Font:
        fonts = _dict(resources.get("/Font")) if resources is not None else None
        font = _dict(fonts.get(name)) if fonts is not None and isinstance(name, pikepdf.Name) else None
        if font is None:
            return _UNKNOWN_FONT
        key = _id(font)
        if key is not None and key in self._fonts:
            return self._fonts[key]
        width = 2 if font.get("/Subtype") == pikepdf.Name.Type0 else 1
        cmap_stream = font.get("/ToUnicode")
        codes = _Codes(parse_cmap(inflate(cmap_stream, MAX_CMAP, "a font's ToUnicode map")) if cmap_stream else {})
        found = _Font(width, codes, all(not 0xD800 <= code <= 0xDFFF for code in codes))
        if key is not None:
            self._fonts[key] = found
        return found

    def _runs(
        self,
        holder: Any,
        resources: pikepdf.Dictionary | None,
        depth: int,
        seen: set[tuple[int, int]],
        budget: list[int],
        ctm: _Matrix,
    ) -> list[Run]:
        if depth > MAX_FORM_DEPTH:
            raise Unreadable("form XObjects nested too deeply")
        data = self._content(holder, budget)
        runs: list[Run] = []
        font = _UNKNOWN_FONT
        buffer: list[str] = []
        stack: list[_Matrix] = []
        line = text = _IDENTITY
        where: float | None = None  # the current run's starting height
        scratch = pikepdf.Stream(self._pdf, data)
        for instruction in pikepdf.parse_content_stream(scratch, _TEXT_OPERATORS):
            if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                continue
            operands, op = instruction.operands, str(instruction.operator)
            if op == "q":
                stack.append(ctm)
            elif op == "Q":
                if stack:
                    ctm = stack.pop()
            elif op == "TJ":
                if operands and isinstance(operands[0], pikepdf.Array):
                    if where is None:
                        where = _multiply(text, ctm)[5]
                    buffer.append(_decode_bytes(_shown(operands[0]), font))
            elif op == "cm":
                m = _matrix(operands)
                if m is not None:
                    ctm = _multiply(m, ctm)
            elif op == "Tm":
                m = _matrix(operands)
                if m is not None:
                    line = text = m
            elif op in ("Td", "TD") and len(operands) == 2:
                try:
                    tx, ty = float(operands[0]), float(operands[1])
                except (TypeError, ValueError):
                    continue
                line = text = _multiply((1.0, 0.0, 0.0, 1.0, tx, ty), line)
            elif op == "Tf" and operands:
                font = self._font(resources, operands[0])
            elif op in ("Tj", "'", '"') and operands:
                if where is None:
                    where = _multiply(text, ctm)[5]
                value = operands[-1]
                if isinstance(value, pikepdf.String):
                    buffer.append(_decode_bytes(bytes(value), font))
            elif op == "BT":
                line = text = _IDENTITY
            elif op == "ET":
                if buffer:
                    runs.append(Run("".join(buffer), where if where is not None else 0.0))
                    buffer = []
                where = None
            elif op == "Do" and operands:
                runs.extend(self._form(resources, operands[0], depth, seen, budget, ctm))
        if buffer:
            runs.append(Run("".join(buffer), where if where is not None else 0.0))
        return runs

    def _form(
        self,
        resources: pikepdf.Dictionary | None,
        name: Any,
        depth: int,
        seen: set[tuple[int, int]],
        budget: list[int],
        ctm: _Matrix,
    ) -> list[Run]:
        xobjects = _dict(resources.get("/XObject")) if resources is not None else None
        form = xobjects.get(name) if xobjects is not None and isinstance(name, pikepdf.Name) else None
        if not isinstance(form, pikepdf.Stream) or form.get("/Subtype") != pikepdf.Name.Form:
            return []
        key = _id(form)
        if key is not None:
            if key in seen:
                raise Unreadable("a form XObject draws itself (a cycle)")
            seen = seen | {key}
        inner = _dict(form.get("/Resources")) or resources
        matrix = _matrix(form.get("/Matrix")) if isinstance(form.get("/Matrix"), pikepdf.Array) else None
        return self._runs(form, inner, depth + 1, seen, budget, _multiply(matrix, ctm) if matrix else ctm)


_HEX_STRING = re.compile(rb"<([0-9A-Fa-f]*)>")


def _shown(array: pikepdf.Array) -> bytes:
    """The bytes of a TJ array's strings, joined (kerned glyphs come one string each).
    The array's own syntax, when all its strings are hex, is read in one pass; anything
    else item by item."""
    syntax = array.unparse()
    if b"(" not in syntax:
        try:
            return bytes.fromhex(b" ".join(_HEX_STRING.findall(syntax)).decode("ascii"))
        except ValueError:  # an odd-length hex string: read item by item
            pass
    return b"".join(bytes(item) for item in array if isinstance(item, pikepdf.String))


def _height(page: pikepdf.Page) -> float:
    """The page's height in points (its MediaBox, inherited from the page tree if need be);
    0 when it has none a number can be read from."""
    try:
        box = page.mediabox
    except (pikepdf.PdfError, KeyError, AttributeError, TypeError, ValueError):
        return 0.0
    if isinstance(box, pikepdf.Array) and len(box) == 4:
        try:
            return abs(float(box[3]) - float(box[1]))
        except (TypeError, ValueError):
            pass
    return 0.0


def _decode_bytes(raw: bytes, font: _Font) -> str:
    """The text of a shown string through the font's ToUnicode map (``str.translate``
    over the codes: one C call per string, not one Python call per glyph)."""
    if font.width == 1:
        codes = font.codes
        return "".join(codes.get(b, chr(b)) for b in raw) if codes else raw.decode("latin-1")
    if len(raw) % 2:
        raw = raw[:-1]
    if not font.wide_ok or len(raw[0::2].translate(None, _SURROGATE_HIGH)) * 2 != len(raw):
        codes = font.codes
        return "".join(codes[int.from_bytes(raw[i : i + 2], "big")] for i in range(0, len(raw), 2))
    return raw.decode("utf-16-be").translate(font.codes)
