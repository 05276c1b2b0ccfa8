"""The JSON format: one source snapshot in the normalised model (``mfa-auditor.source``),
checked for the consistency the engine relies on (unique ids, references that resolve)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from auditor.evidence.serialise import SnapshotFormatError, source_snapshot_from_json
from auditor.interfaces import InputDataError
from auditor.model import Access, SignIn, SourceSnapshot

MAX_REPORTED = 20


def parse_json(raw: bytes, file: Path) -> SourceSnapshot:
    try:
        snap = source_snapshot_from_json(raw)
    except SnapshotFormatError as exc:
        raise InputDataError(f"{file}: {exc}") from None
    problems = list(consistency_problems(snap))
    if problems:
        shown = [f"{file}: {p}" for p in problems[:MAX_REPORTED]]
        more = len(problems) - len(shown)
        raise InputDataError("\n".join(shown) + (f"\n… and {more} more problems" if more > 0 else ""))
    return snap


def _duplicates(ids: Iterable[str], path: str) -> Iterable[str]:
    first: dict[str, int] = {}
    for i, value in enumerate(ids):
        if value in first:
            yield f"{path}[{i}].id: duplicate id {value!r} (first at {path}[{first[value]}])"
        else:
            first[value] = i


def consistency_problems(snap: SourceSnapshot) -> Iterable[str]:
    """Duplicate ids, and access or sign-ins naming an account or portal the document lacks."""
    yield from _duplicates((a.id for a in snap.accounts), "$.accounts")
    yield from _duplicates((p.id for p in snap.portals), "$.portals")
    yield from _duplicates((p.id for p in snap.policies), "$.policies")
    accounts = {a.id for a in snap.accounts}
    portals = {p.id for p in snap.portals}
    refs: list[tuple[str, int, Access | SignIn]] = [("access", i, row) for i, row in enumerate(snap.access)]
    refs += [("sign_ins", i, row) for i, row in enumerate(snap.sign_ins)]
    for name, i, row in refs:
        if row.account_id not in accounts:
            yield f"$.{name}[{i}].account_id: {row.account_id!r} is not an account of the document"
        if row.portal_id not in portals:
            yield f"$.{name}[{i}].portal_id: {row.portal_id!r} is not a portal of the document"
