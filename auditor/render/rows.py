"""Flat rows shared by the CSV files, the JSON report and the PDF's attachments.

One definition of the columns, so the findings CSV attached to the PDF, the CSV written
beside it and the JSON's arrays carry the same fields in the same order.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from operator import attrgetter
from typing import Any, Protocol

from auditor.findings import FINDING_FIELDS, finding_fields
from auditor.model import Account, AccountKind, Coverage, Finding, FrameworkRef
from auditor.render.view import ReportView

# C0/C1 controls (terminal escapes, NUL, BEL…) and bidi embeddings, overrides, isolates and
# marks: shown as their code point in a cell, never obeyed by whatever displays the CSV.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A text cell needs work when it holds one of those, or one of the characters that make the
# csv module quote a field (delimiter, quote, CR, LF), or opens like a formula (see ``_cell``).
# Most cells hold none, and then the text is the field as it is.
_NEEDS_WORK = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069,"\n\r]')
_FORMULA_OPENERS = frozenset(("=", "+", "-", "@", "\t", "\r"))
_CHUNK_BYTES = 256 * 1024
_CACHE_LIMIT = 50_000  # entries per cache: repeated cells are few; unique ones are not kept
_EVIDENCE_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


class ByteSink(Protocol):
    """Where the CSV goes: a file, or the lead's hashing/deflating sink. Only ``write`` is used."""

    def write(self, data: bytes, /) -> object: ...


FINDING_COLUMNS = (*FINDING_FIELDS, "references", "evidence")
COVERAGE_COLUMNS = (
    "source",
    "account_id",
    "principal",
    "display_name",
    "account_kind",
    "privileged",
    "portal_source",
    "portal_id",
    "portal_name",
    "sensitivity",
    "status",
    "enrolled",
    "enforced",
    "required",
    "conditional",
    "enforcement_source",
    "policies",
    "excluded_by",
    "exception_id",
    "reason",
)


def finding_row(f: Finding) -> dict[str, Any]:
    row = finding_fields(f)
    row["references"] = [f"{r.framework} {r.reference}" for r in f.references]
    row["evidence"] = dict(sorted(f.evidence.items()))
    return row


def coverage_row(c: Coverage, account: Account | None, portal_names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "source": c.source,
        "account_id": c.account_id,
        "principal": account.principal if account else None,
        "display_name": account.display_name if account else None,
        "account_kind": account.kind.value if account else None,
        "privileged": account.privileged if account else None,
        "portal_source": c.portal_source,
        "portal_id": c.portal_id,
        "portal_name": portal_names.get(f"{c.portal_source}/{c.portal_id}"),
        "sensitivity": c.sensitivity.value,
        "status": c.status.value,
        "enrolled": c.enrolled.value,
        "enforced": c.enforced.value,
        "required": c.required.value,
        "conditional": c.conditional,
        "enforcement_source": c.enforcement_source,
        "policies": list(c.policies),
        "excluded_by": list(c.excluded_by),
        "exception_id": c.exception_id,
        "reason": c.reason,
    }


def iter_finding_rows(view: ReportView) -> Iterator[dict[str, Any]]:
    for f in view.findings_sorted:
        yield finding_row(f)


def iter_coverage_rows(view: ReportView) -> Iterator[dict[str, Any]]:
    accounts = view.accounts
    names = view.portal_names
    for c in view.result.coverage:
        yield coverage_row(c, accounts.get((c.source, c.account_id)), names)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        text = "; ".join(str(v) for v in value)  # policy ids and names come from the IdP too
    elif isinstance(value, dict):
        text = _EVIDENCE_JSON.encode(value)  # JSON escapes C0 controls, not C1 or bidi marks
    else:
        text = str(value)
    text = _UNSAFE.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
    # A cell opening with = + - @ is a formula to a spreadsheet: a display name crafted as
    # "=HYPERLINK(...)" must stay text (OWASP CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_cell(value: Any) -> str:
    """A value as a guarded CSV cell (controls shown, formula openers quoted), for the
    other CSV writers of the tool (``diff --format csv``)."""
    return _cell(value)


def _quote(text: str) -> str:
    """The field ``csv.writer`` (excel dialect, QUOTE_MINIMAL, CRLF) writes for ``text``."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _field(value: Any) -> str:
    """One value as its CSV field: ``_cell``'s text, quoted as the csv module would."""
    if type(value) is str and _NEEDS_WORK.search(value) is None and value[:1] not in _FORMULA_OPENERS:
        return value
    return _quote(_cell(value))


def _fields(values: Iterable[Any]) -> str:
    return ",".join([_field(v) for v in values])


class Codec:
    """How a CSV's fields are written: the delimiter and the header line. The evidence files
    the PDF carries are always the canonical form (``CANONICAL``: comma, machine column
    names, no byte-order mark), which ``mfa-audit verify`` reads; the CSV files written
    beside the report may follow the reader's spreadsheet (``report.csv_delimiter``,
    headers in the report's language, a UTF-8 byte-order mark so Excel reads the accents)."""

    __slots__ = ("bom", "delimiter", "field", "fields", "labels")

    def __init__(self, delimiter: str = ",", labels: Mapping[str, str] | None = None, bom: bool = False) -> None:
        self.delimiter = delimiter
        self.labels = dict(labels or {})
        self.bom = bom
        if delimiter == ",":
            self.field, self.fields = _field, _fields
            return
        needs_work = re.compile(
            "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
            + re.escape(delimiter)
            + '"\n\r]'
        )

        def quote(text: str) -> str:
            if delimiter in text or '"' in text or "\n" in text or "\r" in text:
                return '"' + text.replace('"', '""') + '"'
            return text

        def field(value: Any) -> str:
            if type(value) is str and needs_work.search(value) is None and value[:1] not in _FORMULA_OPENERS:
                return value
            return quote(_cell(value))

        def fields(values: Iterable[Any]) -> str:
            return delimiter.join([field(v) for v in values])

        self.field, self.fields = field, fields

    def header(self, columns: tuple[str, ...]) -> str:
        line = self.fields([self.labels.get(c, c) for c in columns]) + "\r\n"
        return "\ufeff" + line if self.bom else line


CANONICAL = Codec()


class _Chunks:
    """Collects rows as text, writes them in chunks of about ``_CHUNK_BYTES`` (memory stays
    flat, the sink sees few calls) and hashes what was written."""

    __slots__ = ("_digest", "_out", "limit", "lines")

    def __init__(self, out: ByteSink, header: str) -> None:
        self._out = out
        self._digest = hashlib.sha256()
        self.lines = [header]
        self.limit = 256  # rows before the first write; then sized from the rows seen

    def flush(self) -> None:
        data = "".join(self.lines).encode("utf-8")
        rows = len(self.lines)
        self.lines.clear()  # in place: callers hold ``lines.append``
        if data:
            self._digest.update(data)
            self._out.write(data)
            self.limit = max(16, min(16_384, _CHUNK_BYTES * rows // len(data)))

    def hexdigest(self) -> str:
        self.flush()
        return self._digest.hexdigest()


def write_csv(rows: Iterator[dict[str, Any]], columns: tuple[str, ...], out: ByteSink) -> str:
    """Write UTF-8 CSV (RFC 4180, CRLF) and return its SHA-256."""
    chunks = _Chunks(out, _fields(columns) + "\r\n")
    append = chunks.lines.append
    for row in rows:
        append(_fields([row[c] for c in columns]) + "\r\n")
        if len(chunks.lines) >= chunks.limit:
            chunks.flush()
    return chunks.hexdigest()


_coverage_account_key = attrgetter("source", "account_id")
_coverage_portal_key = attrgetter("portal_source", "portal_id")
# Every field after portal_name. Their combinations are few (a status, its reason, the
# policies), so each combination's fields are built once. The key holds the values themselves
# (StrEnum members hash and compare as their text), so equal keys give equal fields.
_coverage_tail_key = attrgetter(
    "sensitivity",
    "status",
    "enrolled",
    "enforced",
    "required",
    "conditional",
    "enforcement_source",
    "policies",
    "excluded_by",
    "exception_id",
    "reason",
)


def _coverage_tail(c: Coverage, fields: Any = _fields) -> str:
    return str(
        fields(
            (
                c.sensitivity.value,
                c.status.value,
                c.enrolled.value,
                c.enforced.value,
                c.required.value,
                c.conditional,
                c.enforcement_source,
                list(c.policies),
                list(c.excluded_by),
                c.exception_id,
                c.reason,
            )
        )
    )


def write_coverage_rows(view: ReportView, out: ByteSink, codec: Codec = CANONICAL) -> str:
    """The coverage matrix as CSV, byte for byte what ``write_csv(iter_coverage_rows(view), ...)``
    writes, and its SHA-256.

    A row is three cached pieces: the account's fields (rows of one account are adjacent, so
    the last account is remembered, not every account: no million-entry cache), the portal's
    and the verdict's."""
    accounts = view.accounts
    names = view.portal_names
    portal_fields: dict[tuple[str, str], str] = {}
    tail_fields: dict[tuple[Any, ...], str] = {}
    small: dict[str, str] = {}
    kinds: dict[tuple[AccountKind, bool], str] = {}
    last_account: tuple[str, str] | None = None
    account = ""
    _field, _fields, d = codec.field, codec.fields, codec.delimiter  # the module's, or the codec's
    chunks = _Chunks(out, codec.header(COVERAGE_COLUMNS))
    lines = chunks.lines
    append = lines.append
    for c in view.result.coverage:
        key = _coverage_account_key(c)
        if key != last_account:
            last_account = key
            a = accounts.get(key)
            if a is None:
                account = _fields((c.source, c.account_id, None, None, None, None))
            else:
                # source, kind and privileged take a handful of values: their fields are cached.
                source = small.get(c.source)
                if source is None:
                    source = small[c.source] = _field(c.source)
                kind = kinds.get((a.kind, a.privileged))
                if kind is None:
                    kind = kinds[a.kind, a.privileged] = _fields((a.kind.value, a.privileged))
                ident = f"{_field(c.account_id)}{d}{_field(a.principal)}{d}{_field(a.display_name)}"
                account = f"{source}{d}{ident}{d}{kind}"
        pkey = _coverage_portal_key(c)
        portal = portal_fields.get(pkey)
        if portal is None:
            portal = _fields((c.portal_source, c.portal_id, names.get(f"{c.portal_source}/{c.portal_id}")))
            portal_fields[pkey] = portal
        tkey = _coverage_tail_key(c)
        tail = tail_fields.get(tkey)
        if tail is None:
            tail = _coverage_tail(c, _fields)
            if len(tail_fields) < _CACHE_LIMIT:
                tail_fields[tkey] = tail
        append(f"{account}{d}{portal}{d}{tail}\r\n")
        if len(lines) >= chunks.limit:
            chunks.flush()
    return chunks.hexdigest()


_finding_head_key = attrgetter("rule_id", "severity", "title", "source")
_finding_portal_key = attrgetter("portal_id", "portal_name")


def _evidence_field(
    evidence: Mapping[str, str], cache: dict[tuple[tuple[str, str], ...], str], quote: Any = None
) -> str:
    """The evidence cell (sorted JSON). Many findings carry the same evidence (a status, its
    reason, the policies), so the JSON is built once per distinct evidence."""
    if quote is None:
        quote = _quote
    try:
        key = tuple(evidence.items())
        found = cache.get(key)
    except TypeError:  # an unhashable value: no caching, same field
        return str(quote(_cell(dict(sorted(evidence.items())))))
    if found is None:
        found = str(quote(_cell(dict(sorted(evidence.items())))))
        if len(cache) < _CACHE_LIMIT:
            cache[key] = found
    return found


def write_finding_rows(view: ReportView, out: ByteSink, codec: Codec = CANONICAL) -> str:
    """The findings as CSV, byte for byte what ``write_csv(iter_finding_rows(view), ...)``
    writes, and its SHA-256."""
    heads: dict[tuple[Any, ...], str] = {}
    portals: dict[tuple[Any, ...], str] = {}
    texts: dict[str, str] = {}  # messages and remediations repeat; principals and account ids rarely
    # A rule's references are one shared tuple: keyed by identity (every finding, hence its
    # tuple, stays alive while this runs, so an id is never reused) and checked with ``is``.
    references: dict[int, tuple[tuple[FrameworkRef, ...], str]] = {}
    evidence: dict[tuple[tuple[str, str], ...], str] = {}
    _field, _fields, d = codec.field, codec.fields, codec.delimiter  # the module's, or the codec's
    quote = _quote if d == "," else codec.field
    chunks = _Chunks(out, codec.header(FINDING_COLUMNS))
    lines = chunks.lines
    append = lines.append
    for f in view.findings_sorted:
        key = _finding_head_key(f)
        head = heads.get(key)
        if head is None:
            head = _fields((f.rule_id, f.severity.value, f.title, f.source))
            if len(heads) < _CACHE_LIMIT:
                heads[key] = head
        pkey = _finding_portal_key(f)
        portal = portals.get(pkey)
        if portal is None:
            portal = _fields(pkey)
            if len(portals) < _CACHE_LIMIT:
                portals[pkey] = portal
        message = texts.get(f.message)
        if message is None:
            message = _field(f.message)
            if len(texts) < _CACHE_LIMIT:
                texts[f.message] = message
        remediation = texts.get(f.remediation)
        if remediation is None:
            remediation = _field(f.remediation)
            if len(texts) < _CACHE_LIMIT:
                texts[f.remediation] = remediation
        refs = f.references
        cached = references.get(id(refs))
        if cached is not None and cached[0] is refs:
            ref_field = cached[1]
        else:
            ref_field = _field([f"{r.framework} {r.reference}" for r in refs])
            if len(references) < _CACHE_LIMIT:
                references[id(refs)] = (refs, ref_field)
        append(
            f"{head}{d}{_field(f.account_id)}{d}{_field(f.principal)}{d}{portal}{d}{message}{d}{remediation}{d}"
            f"{ref_field}{d}{_evidence_field(f.evidence, evidence, quote)}\r\n"
        )
        if len(lines) >= chunks.limit:
            chunks.flush()
    return chunks.hexdigest()


def findings_digest(findings: tuple[Finding, ...] | list[Finding]) -> str:
    """Digest of what a finding asserts (rule, severity, source, account, portal), order-free.

    ``mfa-audit verify`` recomputes it from a fresh evaluation of the attached snapshot."""
    keys = sorted(
        f"{f.rule_id}\t{f.severity.value}\t{f.source}\t{f.account_id or ''}\t{f.portal_id or ''}" for f in findings
    )
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()
