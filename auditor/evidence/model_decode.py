"""Kept whole on purpose: the generated decoders and the streamed reader keep one contract
(exactly what ``from_data`` gives, or a logged fall-back to it), tested together.

Fast decoding of the model from JSON: per-class decoders generated from the type hints,
and streamed readers for a whole snapshot or result.

``auditor.evidence.decode_reference.from_data`` is the definition. A stored run of a million accounts is
millions of objects and 700 MiB of text, so the decoders here go faster and the readers
never hold the whole text or its dict tree; whenever they meet anything unexpected they
give way to ``from_data`` (or to ``serialise``'s reference reader), which decodes it or
raises the error naming the path. Equal results, tested.
"""

from __future__ import annotations

import codecs
import dataclasses
import itertools
import json
import logging
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

from auditor.evidence.codegen import GeneratedSource, Lazy
from auditor.evidence.decode_reference import _hints, from_data
from auditor.model import SNAPSHOT_SCHEMA_VERSION, AuditResult, Snapshot, SourceSnapshot

T = TypeVar("T")

# Every fallback to the reference decoder is logged here (DEBUG). On a document this
# version wrote none happens (a test holds that): one would mean a generated decoder no
# longer matches the model, and a million-account run quietly several times slower.
log = logging.getLogger(__name__)


def _fell_back(what: str, path: str, exc: BaseException | None = None) -> None:
    if log.isEnabledFor(logging.DEBUG):
        reason = f": {type(exc).__name__} {exc}" if exc is not None else ""
        log.debug("slow path: %s at %s%s", what, path, reason)

# --- decoding, fast -------------------------------------------------------------------------
#
# ``from_data`` is the reference decoder: it walks the type hints for every value. A stored
# run of a million accounts is millions of objects, so each dataclass also gets a decoder
# generated from its type hints (as ``canonical_json`` generates writers). A generated
# decoder only ever succeeds with exactly what ``from_data`` would return: anything it does
# not expect (another JSON type, an unknown enum value, a missing field) raises, and the
# caller asks ``from_data`` instead, which decodes it or raises the error naming the path.


class _Slow(Exception):
    """The generated decoder met a value it does not handle: ``from_data`` decides."""


def _slow() -> Any:
    raise _Slow


_MISSING = object()

# Equal strings (and tuples of strings) decoded in one document are shared: a source name,
# a portal id or a coverage reason recurs millions of times in a large run, and JSON gives
# a new string for each. Cleared after each document (``_shared_done``).
_shared: dict[Any, Any] = {}


def _share(value: Any) -> Any:
    return _shared.setdefault(value, value)


def shared_done() -> None:
    _shared.clear()


class _DecoderSource(GeneratedSource):
    """Generated Python source for the decoders, and the names it refers to."""

    label = "auditor.evidence.model_decode"

    def __init__(self) -> None:
        super().__init__(
            {
                "S": _slow,
                "M": _MISSING,
                "SH": _shared.setdefault,
                "SHARE": _share,
                "type": type,
                "tuple": tuple,
                "frozenset": frozenset,
                "list": list,
                "dict": dict,
                "str": str,
                "int": int,
                "bool": bool,
                "float": float,
                "DT": datetime.fromisoformat,
                "D": date.fromisoformat,
            }
        )

    def expr(self, tp: Any, var: str) -> str:
        """A Python expression decoding the JSON value in ``var`` as ``from_data(tp, ...)`` does."""
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            non_null = [a for a in get_args(tp) if a is not type(None)]
            return f"(None if {var} is None else {self.expr(non_null[0], var)})"
        if tp is Any:
            return var
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            decode = self.constant(Lazy(_decoder, tp) if tp in _building else _decoder(tp), "F")
            return f"{decode}({var})"
        if origin is tuple or origin is frozenset:
            args = get_args(tp)
            if not args:
                return "S()"
            if origin is frozenset:
                item = self.fresh("i")
                return f"(frozenset([{self.expr(args[0], item)} for {item} in {var}]) if type({var}) is list else S())"
            if len(args) == 2 and args[1] is Ellipsis:
                item = self.fresh("i")
                items = f"tuple([{self.expr(args[0], item)} for {item} in {var}])"
                share = _base(args[0]) is str
                check = f"type({var}) is list"
            else:  # fixed length, a type per position
                items = f"({''.join(self.expr(t, f'{var}[{n}]') + ', ' for n, t in enumerate(args))})"
                share = all(_base(t) is str for t in args)
                check = f"type({var}) is list and len({var}) == {len(args)}"
            if share:
                items = f"SHARE({items})"
            return f"({items} if {check} else S())"
        if origin in (Mapping, dict):
            key_t, val_t = get_args(tp)
            k, v = self.fresh("k"), self.fresh("v")
            body = f"{{{self.expr(key_t, k)}: {self.expr(val_t, v)} for {k}, {v} in {var}.items()}}"
            return f"({body} if type({var}) is dict else S())"
        supertype = getattr(tp, "__supertype__", None)  # NewType
        if supertype is not None:
            return self.expr(supertype, var)
        if isinstance(tp, type) and issubclass(tp, Enum):
            # By value, as ``tp(data)`` looks it up; a miss raises KeyError (or TypeError).
            return f"{self.constant({m.value: m for m in tp}, 'T')}[{var}]"
        if tp is datetime:
            return f"(DT({var}) if type({var}) is str else S())"
        if tp is date:
            return f"(D({var}) if type({var}) is str else S())"
        if tp is str:
            return f"(SH({var}, {var}) if type({var}) is str else S())"
        if tp in (int, bool, float):
            return f"({var} if type({var}) is {tp.__name__} else S())"
        return "S()"


Decoder = Callable[[Any], Any]


def _base(tp: Any) -> Any:
    while getattr(tp, "__supertype__", None) is not None:  # NewType
        tp = tp.__supertype__
    return tp


_building: set[type] = set()


@cache
def _decoder(cls: type) -> Decoder:
    """Decodes plain data into exactly ``cls``, or raises (any exception) when ``from_data``
    must decide. Missing fields take their defaults, unknown keys are ignored, as there."""
    _building.add(cls)
    try:
        src = _DecoderSource()
        fields = dataclasses.fields(cls)
        if not all(f.init for f in fields):  # from_data would pass them and fail: let it say so
            return typing.cast(Decoder, src.compile("decode", "def decode(d):\n    S()"))
        hints = _hints(cls)
        lines = ["def decode(d):", "    if type(d) is not dict:", "        S()"]
        # Positional arguments are faster; keyword ones when a field is keyword-only.
        positional = not any(f.kw_only is True for f in fields)
        args = []
        for i, f in enumerate(fields):
            expr = src.expr(hints[f.name], "x")
            if f.default is not dataclasses.MISSING:
                default = src.constant(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                default = f"{src.constant(f.default_factory)}()"
            else:
                lines += [f"    x = d[{f.name!r}]", f"    a{i} = {expr}"]
                args.append(f"a{i}" if positional else f"{f.name}=a{i}")
                continue
            lines += [f"    x = d.get({f.name!r}, M)", f"    a{i} = {default} if x is M else {expr}"]
            args.append(f"a{i}" if positional else f"{f.name}=a{i}")
        lines.append(f"    return {src.constant(cls, 'C')}({', '.join(args)})")
        return typing.cast(Decoder, src.compile("decode", "\n".join(lines)))
    finally:
        _building.discard(cls)


@cache
def _field_decoder(tp: Any) -> Decoder:
    """Decodes one value declared as ``tp`` (raises when ``from_data`` must decide)."""
    src = _DecoderSource()
    return typing.cast(Decoder, src.compile("decode", f"def decode(x):\n    return {src.expr(tp, 'x')}"))


def decode(tp: Any, data: Any, path: str) -> Any:
    """``from_data(tp, data, path)``, through the generated decoder when it can."""
    try:
        return _field_decoder(tp)(data)
    except Exception as exc:
        _fell_back(f"{tp!r}", path, exc)
        return from_data(tp, data, path)


# --- decoding, streamed ---------------------------------------------------------------------
#
# A stored snapshot of a million accounts is 700 MiB of JSON: ``json.loads`` makes a dict
# tree several times that size before a single model object exists. The streamed decoder
# reads the text piece by piece and turns each element of the big arrays into its model
# object at once, so the tree of one element is all that ever exists. Values are read by
# the ``json`` module's own scanner (strings, numbers, and each array element whole); only
# the punctuation of the objects and arrays around them is read here, by the JSON grammar.
#
# It gives either exactly what the reference decoder (``json.loads`` + ``from_data``) gives
# or nothing: on anything unexpected (malformed text, a value ``from_data`` rejects, a
# document cut short) it stops and the caller runs the reference decoder, whose error names
# the path. Errors are rare, so they may be slow; a decoded model is never a guess.

# Classes whose objects are read member by member (they hold the big arrays); the items of
# their tuple fields are read one at a time. Any other value is read whole by the scanner.
_STREAMED: frozenset[type] = frozenset({Snapshot, SourceSnapshot, AuditResult})
_PIECE_CHARS = 1 << 20  # text appended to the window at a time
_LOW_CHARS = 1 << 16  # refill the window when less than this is left to read
# What json.loads runs (the C scanner), one value at a time; undeclared in typeshed.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_skip_ws: Callable[[str, int], re.Match[str]] = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]


class _Stop(Exception):
    """The streamed decoder cannot go on: the reference decoder will tell why."""


class _Window:
    """A sliding window over the text: ``buf[pos:]`` is what is left to read of what has
    arrived. Failures of the source itself (a corrupt store) are marked and passed on."""

    __slots__ = ("_decode", "_pieces", "buf", "done", "pos", "source_failed")

    def __init__(self, pieces: Iterator[Any], decode: Callable[[bytes, bool], str] | None) -> None:
        self.buf = ""
        self.pos = 0
        self._pieces = pieces
        self._decode = decode
        self.done = False
        self.source_failed = False

    def _next(self) -> str | None:
        """The next piece of text; None at the end."""
        while not self.done:
            try:
                piece = next(self._pieces)
            except StopIteration:
                self.done = True
                piece = self._decode(b"", True) if self._decode is not None else ""
            except BaseException:
                self.source_failed = True
                raise
            else:
                if self._decode is not None:
                    piece = self._decode(piece, False)
            if piece:
                return typing.cast(str, piece)
        return None

    def grow(self) -> bool:
        """Append at least a piece, and at least double the unread text (a value longer than
        the window is read again from its start); drop what was read. False at the end."""
        want = 2 * (len(self.buf) - self.pos) + _PIECE_CHARS
        pieces = [self.buf[self.pos :]]
        held = 0
        while held < want:
            piece = self._next()
            if piece is None:
                break
            pieces.append(piece)
            held += len(piece)
        if not held:
            return False
        self.buf = "".join(pieces)
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character after whitespace ("" at the end of the text), not consumed."""
        while True:
            pos = _skip_ws(self.buf, self.pos).end()
            self.pos = pos
            if pos < len(self.buf):
                return self.buf[pos]
            if not self.grow():
                return ""

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise _Stop
        self.pos += 1

    def value(self) -> Any:
        """The next JSON value, whole, as ``json.loads`` reads it."""
        if len(self.buf) - self.pos < _LOW_CHARS:
            self.grow()
        while True:
            self.peek()
            try:
                obj, end = _scan(self.buf, self.pos)
            except (StopIteration, ValueError):
                if self.grow():
                    continue  # cut by the end of the window
                raise _Stop from None
            if end == len(self.buf) and self.grow():
                continue  # a number may go on in the next piece
            self.pos = end
            return obj

    def key(self) -> str:
        """An object member's name and its colon."""
        if self.peek() != '"':
            raise _Stop
        while True:
            try:
                name, end = _scanstring(self.buf, self.pos + 1)
                break
            except ValueError:
                if not self.grow():
                    raise _Stop from None
        self.pos = end
        self.take(":")
        return name

    def members(self) -> Iterator[str]:
        """The names of an object's members; the caller reads each value before the next."""
        self.take("{")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            yield self.key()
            char = self.peek()
            self.pos += 1
            if char == "}":
                return
            if char != ",":
                raise _Stop

    def items(self, cls: type, path: str) -> tuple[Any, ...]:
        """An array of ``cls`` objects, each decoded as soon as it is read."""
        self.take("[")
        if self.peek() == "]":
            self.pos += 1
            return ()
        decode = _decoder(cls)
        out: list[Any] = []
        append = out.append
        while True:
            if len(self.buf) - self.pos < _LOW_CHARS:
                self.grow()
            buf, pos = self.buf, self.pos
            try:
                data, end = _scan(buf, pos)
            except (StopIteration, ValueError):
                data = self.value()  # whitespace first, or cut by the end of the window
            else:
                if end == len(buf):
                    data = self.value()
                else:
                    self.pos = end
            try:
                append(decode(data))
            except Exception as exc:
                where = f"{path}[{len(out)}]"
                _fell_back(cls.__name__, where, exc)
                append(from_data(cls, data, where))
            if self.buf.startswith(", ", self.pos):  # the canonical separator
                self.pos += 2
                continue
            char = self.peek()
            self.pos += 1
            if char == "]":
                return tuple(out)
            if char != ",":
                raise _Stop

    def dataclass(self, cls: type, path: str) -> Any:
        """An object of ``cls``, member by member (as ``from_data`` reads it from a dict)."""
        values = self.fields(cls, path)
        return _construct(cls, values)

    def fields(self, cls: type, path: str) -> dict[str, Any]:
        """The members of an object of ``cls``: its fields decoded, any other member as JSON."""
        hints = _hints(cls)
        known = _field_names(cls)
        values: dict[str, Any] = {}
        for name in self.members():
            where = f"{path}.{name}"
            if name not in known:
                values[name] = self.value()
                continue
            tp = hints[name]
            item = _streamed_item(tp)
            if item is None:
                values[name] = decode(tp, self.value(), where)
            elif item in _STREAMED:
                values[name] = self.objects(item, where)
            else:
                values[name] = self.items(item, where)
        return values

    def objects(self, cls: type, path: str) -> tuple[Any, ...]:
        """An array of objects of a streamed class, each read member by member."""
        self.take("[")
        if self.peek() == "]":
            self.pos += 1
            return ()
        out: list[Any] = []
        while True:
            out.append(self.dataclass(cls, f"{path}[{len(out)}]"))
            char = self.peek()
            self.pos += 1
            if char == "]":
                return tuple(out)
            if char != ",":
                raise _Stop

    def end(self) -> None:
        """Only whitespace may follow the document."""
        if self.peek() != "":
            raise _Stop


@cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


@cache
def _streamed_item(tp: Any) -> type | None:
    """The item class of a ``tuple[<dataclass>, ...]`` field, read item by item."""
    args = get_args(tp)
    if get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if isinstance(item, type) and dataclasses.is_dataclass(item):
            return item
    return None


def _construct(cls: type, values: Mapping[str, Any]) -> Any:
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in values:
            kwargs[f.name] = values[f.name]
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _Stop
    return cls(**kwargs)


def _utf8_decoder() -> Callable[[bytes, bool], str]:
    # As json.loads decodes bytes it has found to be UTF-8 (lone surrogates pass).
    return typing.cast(Callable[[bytes, bool], str], codecs.getincrementaldecoder("utf-8")("surrogatepass").decode)


def _stream(
    cls: type, chunks: Iterable[bytes] | Iterable[str], check: Callable[[dict[str, Any]], bool] | None = None
) -> Any | None:
    """Decode a JSON object of ``cls`` from its text in pieces (bytes or str); None when the
    reference decoder must decide. Exceptions of the source itself go through."""
    pieces: Iterator[Any] = iter(chunks)
    head: Any = next(pieces, None)
    if head is None:
        return None
    decode = None
    if isinstance(head, bytes | bytearray | memoryview):
        head = bytes(head)
        while len(head) < 4:  # json.loads reads the encoding from the first four bytes
            nxt = next(pieces, None)
            if nxt is None:
                return None
            head += bytes(nxt)
        if json.detect_encoding(head) != "utf-8":
            _fell_back(f"{cls.__name__} document", "$", None)  # UTF-16/32: json.loads reads it
            return None
        decode = _utf8_decoder()
    window = _Window(itertools.chain([head], pieces), decode)
    try:
        values = window.fields(cls, "$")
        window.end()
        if check is not None and not check(values):
            _fell_back(f"{cls.__name__} document", "$.format", None)
            return None
        return _construct(cls, values)
    except Exception as exc:
        if window.source_failed:
            raise
        _fell_back(f"{cls.__name__} document", f"character {window.pos}", exc)
        return None
    finally:
        shared_done()


def _is_snapshot_document(values: dict[str, Any]) -> bool:
    version = values.get("schema_version")
    return (
        values.pop("format", None) == "mfa-auditor.snapshot"
        and type(version) is int
        and version == SNAPSHOT_SCHEMA_VERSION
    )


def stream_snapshot(chunks: Iterable[bytes] | Iterable[str]) -> Snapshot | None:
    """The snapshot in a document read piece by piece (``snapshot_from_json`` of the joined
    pieces), without ever holding the whole text or its dict tree. None when it cannot be
    decoded that way: ``snapshot_from_json`` of the whole text then gives the answer (the
    error naming the path). Exceptions raised by ``chunks`` itself are passed on."""
    snapshot: Snapshot | None = _stream(Snapshot, chunks, _is_snapshot_document)
    return snapshot


def stream_result(chunks: Iterable[bytes] | Iterable[str]) -> AuditResult | None:
    """``result_from_data(json.loads(<the joined pieces>))``, streamed; None as above."""
    result: AuditResult | None = _stream(AuditResult, chunks)
    return result


def text_pieces(text: str | bytes | bytearray) -> Iterator[Any]:
    view = text if isinstance(text, str) else memoryview(text)
    for start in range(0, len(text), _PIECE_CHARS):
        yield view[start : start + _PIECE_CHARS]
