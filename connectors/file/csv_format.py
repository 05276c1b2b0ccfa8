"""The CSV layout: one row per account (docs/file-formats.md), parsed into a source snapshot.

Pure: text in, model out. Every bad cell is an ``InputDataError`` naming the file, the
line and the column, and what was expected; nothing is skipped. What the source
enforces for an account (column ``enforcement``) becomes one ``Policy`` per distinct
level, scoped to the accounts at that level, so the engine applies its ordinary
semantics to file sources.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from auditor.interfaces import InputDataError
from auditor.model import (
    Access,
    AccessVia,
    Account,
    AccountId,
    AccountKind,
    GroupId,
    Method,
    MethodKind,
    MethodStatus,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    Portal,
    PortalId,
    PortalScope,
    Requirement,
    RoleId,
    Scope,
    SourceName,
)

REQUIRED_COLUMNS = (
    "id",
    "principal",
    "name",
    "kind",
    "enabled",
    "privileged",
    "last_sign_in",
    "methods",
    "portals",
    "groups",
    "enforcement",
)
OPTIONAL_COLUMNS = ("roles", "created", "department")
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
LIST_SEPARATOR = ";"
STATUS_SEPARATOR = ":"
POLICY_PREFIX = "file-enforcement-"
MAX_REPORTED = 20  # problems listed in one error; the rest are counted

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CsvContents:
    accounts: tuple[Account, ...]
    portals: tuple[Portal, ...]
    access: tuple[Access, ...]
    policies: tuple[Policy, ...]


class _BadCell(ValueError):
    """What a cell should have held; the row loop adds file, line and column."""


@dataclass(frozen=True, slots=True)
class _Cells:
    """One row's cells by column name, with the line it starts on."""

    line: int
    values: Mapping[str, str]
    columns: Mapping[str, int]  # column name → 1-based position


class _Problems:
    def __init__(self, file: Path) -> None:
        self.file = file
        self.lines: list[str] = []
        self.count = 0

    def add(self, line: int | None, message: str, column: tuple[int, str] | None = None) -> None:
        self.count += 1
        if len(self.lines) < MAX_REPORTED:
            where = f"{self.file}:{line}" if line is not None else str(self.file)
            if column is not None:
                where += f": column {column[0]} ({column[1]})"
            self.lines.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.count:
            more = self.count - len(self.lines)
            raise InputDataError("\n".join(self.lines) + (f"\n… and {more} more problems" if more > 0 else ""))


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _choice(cell: str, allowed: Sequence[str], what: str) -> str:
    value = cell.strip().lower()
    if value not in allowed:
        raise _BadCell(f"expected {what}: one of {', '.join(allowed)}, got {_shown(cell)}")
    return value


def _bool(cell: str) -> bool:
    return _choice(cell, ("true", "false"), "true or false") == "true"


def _time(cell: str, *, required: bool = False) -> datetime | None:
    text = cell.strip()
    if not text:
        if required:
            raise _BadCell("expected an ISO 8601 date-time")
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _BadCell(f"expected an ISO 8601 date-time such as 2026-11-02T08:15:00Z, got {_shown(cell)}") from None
    if value.tzinfo is None:
        raise _BadCell(f"expected a date-time with its time zone (Z or +01:00), got {_shown(cell)}")
    return value


def _items(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]


_KINDS = tuple(k.value for k in MethodKind)
_STATUSES = tuple(s.value for s in MethodStatus)


def _methods(cell: str) -> tuple[Method, ...]:
    out = []
    for item in _items(cell):
        label, _, status = item.partition(STATUS_SEPARATOR)
        label = label.strip()
        if label not in _KINDS:
            raise _BadCell(f"unknown method {_shown(label)}: expected one of {', '.join(_KINDS)}")
        status = status.strip() or MethodStatus.ACTIVE.value
        if status not in _STATUSES:
            raise _BadCell(f"method {label!r}: unknown status {_shown(status)}, expected one of {', '.join(_STATUSES)}")
        out.append(Method(MethodKind(label), label, MethodStatus(status)))
    return tuple(out)


def _rows(text: str, problems: _Problems) -> Iterator[_Cells]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            problems.add(1, "expected a header line naming the columns: " + ", ".join(REQUIRED_COLUMNS))
            return
        names = [h.strip().lower() for h in header]
        columns: dict[str, int] = {}
        for position, name in enumerate(names, start=1):
            if name in columns:
                problems.add(1, f"duplicate column {name!r} (also column {columns[name]})", (position, name))
            elif name not in ALL_COLUMNS:
                problems.add(1, f"unknown column {name!r}: expected one of {', '.join(ALL_COLUMNS)}", (position, name))
            columns.setdefault(name, position)
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            problems.add(1, f"missing required column(s): {', '.join(missing)}")
        if problems.count:
            return
        previous_end = reader.line_num
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line holds no record
            if len(row) != len(names):
                problems.add(start, f"expected {len(names)} cells as in the header, got {len(row)}")
                continue
            yield _Cells(start, dict(zip(names, row, strict=True)), columns)
    except csv.Error as exc:
        problems.add(reader.line_num or None, f"not valid CSV: {exc}")


def parse_csv(text: str, file: Path, source: SourceName, portal_names: Mapping[str, str] | None = None) -> CsvContents:
    """Raises ``InputDataError`` listing every bad row (up to ``MAX_REPORTED``)."""
    problems = _Problems(file)
    accounts: list[Account] = []
    access: list[Access] = []
    levels: dict[Requirement, list[AccountId]] = {}
    seen: dict[str, int] = {}
    portal_order: dict[str, str] = dict(portal_names or {})
    for cells in _rows(text, problems):

        def cell(column: str, parse: Callable[[str], T], default: T, cells: _Cells = cells) -> T:
            raw = cells.values.get(column)
            if raw is None:
                return default  # an optional column the file does not have
            try:
                return parse(raw)
            except _BadCell as exc:
                problems.add(cells.line, str(exc), (cells.columns[column], column))
                return default

        before = problems.count
        account_id = cell("id", _nonempty("the account's id"), "")
        if account_id and account_id in seen:
            problems.add(
                cells.line,
                f"duplicate account id {_shown(account_id)} (first on line {seen[account_id]})",
                (cells.columns["id"], "id"),
            )
        principal = cell("principal", _nonempty("the principal (UPN, login or e-mail)"), "")
        kind = cell("kind", lambda c: AccountKind(_choice(c, _ACCOUNT_KINDS, "an account kind")), AccountKind.HUMAN)
        enabled = cell("enabled", _bool, False)
        privileged = cell("privileged", _bool, False)
        last = cell("last_sign_in", _time, None)
        created = cell("created", _time, None)
        no_methods: tuple[Method, ...] = ()
        methods = cell("methods", _methods, no_methods)
        portal_ids: list[str] = cell("portals", _items, [])
        enforcement = cell(
            "enforcement", lambda c: Requirement(_choice(c, _REQUIREMENTS, "the enforcement")), Requirement.NONE
        )
        for portal in portal_ids:
            if portal_names is not None and portal not in portal_names:
                problems.add(
                    cells.line,
                    f"portal {_shown(portal)} is not in settings.portals ({', '.join(portal_names)})",
                    (cells.columns["portals"], "portals"),
                )
        if problems.count > before or not account_id:
            continue
        seen[account_id] = cells.line
        aid = AccountId(account_id)
        department = cells.values.get("department", "").strip()
        accounts.append(
            Account(
                source=source,
                id=aid,
                principal=principal,
                display_name=cells.values["name"].strip(),
                kind=kind,
                enabled=enabled,
                privileged=privileged,
                roles=tuple(RoleId(r) for r in _items(cells.values.get("roles", ""))),
                groups=tuple(GroupId(g) for g in _items(cells.values["groups"])),
                last_sign_in=last,
                created=created,
                methods=methods,
                attributes={"department": department} if department else {},
            )
        )
        for portal in dict.fromkeys(portal_ids):
            portal_order.setdefault(portal, portal)
            access.append(Access(aid, PortalId(portal), AccessVia.DIRECT))
        levels.setdefault(enforcement, []).append(aid)
    problems.raise_if_any()
    portals = tuple(Portal(source, PortalId(pid), name) for pid, name in portal_order.items())
    return CsvContents(tuple(accounts), portals, tuple(access), enforcement_policies(levels))


_ACCOUNT_KINDS = tuple(k.value for k in AccountKind)
_REQUIREMENTS = tuple(r.value for r in Requirement)


def _nonempty(what: str) -> Callable[[str], str]:
    def parse(cell: str) -> str:
        if not cell.strip():
            raise _BadCell(f"expected {what}, got an empty cell")
        return cell.strip()

    return parse


def enforcement_policies(levels: Mapping[Requirement, Sequence[AccountId]]) -> tuple[Policy, ...]:
    """One enforced policy per level, scoped to its accounts, on every portal: the
    engine's ordinary rules then give each account exactly the level its row states."""
    out = []
    for level in sorted(levels, key=lambda r: r.rank):
        pid = f"{POLICY_PREFIX}{level.value}"
        rule = PolicyRule(
            id=pid,
            name=f"Enforcement '{level.value}' stated by the export",
            scope=Scope(include_users=tuple(levels[level])),
            portals=PortalScope(all=True),
            requirement=level,
        )
        out.append(
            Policy(
                PolicyId(pid), f"Export file: enforcement {level.value}", PolicyState.ENFORCED, (rule,), "file_export"
            )
        )
    return tuple(out)
