"""Kept whole on purpose: every SQL the pages run sits in one place, next to the indexes it
relies on, so a query plan can be reviewed at once.

What the pages read, straight from the store's tables over a read-only connection.

Every query is bounded by an index range of one run (``browse_*`` tables, numbered at
save time): a page of a million-account portal reads the page's rows and a count, never
the run's blobs. The store is opened with SQLite's ``mode=ro`` URI, so a bug here cannot
write; each request opens its own connection (SQLite connections are per thread).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from auditor.interfaces import AuditorError
from auditor.model import CoverageStatus, Severity
from auditor.store.database import (
    BROWSE_STATUS_CODE,
    BROWSE_STATUS_ORDER,
    browse_principal_key,
    browse_unpack,
    short_run_id,
)

PAGE_SIZES = (25, 50, 100, 200)
SEVERITY_BY_RANK = {s.rank: s for s in Severity}
T = TypeVar("T")


class NotFound(AuditorError):
    """A run, portal or account the URL names is not in the store. ``key`` and ``values``
    say it again in the page's language (``error.<key>`` in the web catalogue)."""

    def __init__(self, message: str, key: str = "", **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


class StoreUnavailable(AuditorError):
    """The store cannot be opened read-only, or predates the browse tables."""


@dataclass(frozen=True, slots=True)
class RunRow:
    seq: int
    run_id: str
    period: str
    evaluated_at: datetime
    complete: bool
    accounts_read: int
    accounts_in_scope: int
    sensitive_accesses: int
    sensitive_protected: int
    sensitive_unknown: int
    findings_total: int
    findings_by_severity: dict[str, int]
    status_counts: dict[str, int]
    purged: bool
    browsable: bool  # stored with the browse tables (after their migration, not purged)

    @property
    def short_id(self) -> str:
        return short_run_id(self.run_id)

    @property
    def ref(self) -> str:
        """The run in a URL path."""
        return quote(self.run_id, safe="")

    @property
    def protected_ratio(self) -> float | None:
        return None if self.sensitive_accesses == 0 else self.sensitive_protected / self.sensitive_accesses


@dataclass(frozen=True, slots=True)
class SourceRow:
    source: str
    connector: str
    collected_at: datetime
    complete: bool
    accounts: int
    issues: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class PortalRow:
    p: int
    source: str
    portal_id: str
    name: str
    sensitivity: str | None
    sign_in_via: str | None
    total: int
    protected: int
    by_status: dict[str, int]
    by_severity: dict[str, int]  # worst severity rank ("0" none … "4" critical) -> rows
    by_status_severity: dict[str, int]  # "status:severity rank" -> rows

    @property
    def ratio(self) -> float | None:
        return None if self.total == 0 else self.protected / self.total

    @property
    def verdict(self) -> str:
        """Page one's verdict: unknown anywhere is not a pass."""
        if self.total == 0:
            return "no_access"
        if self.protected == self.total:
            return "protected"
        if self.by_status.get("unknown", 0) and self.protected + self.by_status.get("unknown", 0) == self.total:
            return "unknown"
        return "gaps"


@dataclass(frozen=True, slots=True)
class AccountRow:
    n: int
    source: str
    account_id: str
    principal: str
    display_name: str
    kind: str
    enabled: bool
    privileged: bool
    last_sign_in: str | None
    methods: tuple[tuple[str, str, str], ...]
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CoverageRow:
    p: int
    n: int
    status: CoverageStatus
    severity: Severity | None
    enrolled: str
    enforced: str
    required: str
    conditional: bool
    enforcement_source: str
    policies: tuple[str, ...]
    excluded_by: tuple[str, ...]
    exception_id: str | None
    reason: str
    account: AccountRow | None = None
    portal: PortalRow | None = None


@dataclass(frozen=True, slots=True)
class FindingRow:
    n: int
    rule_id: str
    severity: Severity
    source: str
    account_id: str | None
    principal: str | None
    portal_id: str | None
    portal_name: str | None
    title: str
    message: str
    message_key: str
    message_params: tuple[tuple[str, str], ...]
    account_n: int | None
    display_name: str | None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: tuple[T, ...]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.size)


@dataclass(frozen=True, slots=True)
class PortalFilter:
    status: CoverageStatus | None = None
    severity: Severity | None = None
    source: str | None = None
    sort: str = "account"  # account | status | severity
    descending: bool = False


@dataclass(frozen=True, slots=True)
class FindingFilter:
    rule_id: str | None = None
    severity: Severity | None = None
    source: str | None = None


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ReadOnlyStore:
    """The evidence store as the web view sees it: read-only, one connection per call."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreUnavailable(f"{self.path}: no evidence store at this path (store.path in the config)")
        with self.connect() as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "browse_coverage" not in tables:
            raise StoreUnavailable(
                f"{self.path}: this evidence store predates the web view's tables; "
                "any `mfa-audit` command that opens it (history, run) upgrades it"
            )

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=10, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{self.path}: cannot open the evidence store read-only: {exc}") from None
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA query_only = ON")  # a second lock on writing, whatever the URI
            yield conn
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailable(f"{self.path}: evidence store error: {exc}") from None
        finally:
            conn.close()

    # -- runs --

    def runs(self) -> list[RunRow]:
        """Every run, newest first."""
        with self.connect() as conn:
            browsable = {r[0] for r in conn.execute("SELECT DISTINCT run_seq FROM browse_portals")}
            rows = conn.execute("SELECT * FROM runs ORDER BY evaluated_at DESC, seq DESC").fetchall()
        return [self._run(r, r["seq"] in browsable) for r in rows]

    def run(self, run_id: str) -> RunRow:
        with self.connect() as conn:
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                raise NotFound(f"no run {run_id!r} in the evidence store", "no_run", run=run_id)
            browsable = conn.execute("SELECT 1 FROM browse_portals WHERE run_seq = ? LIMIT 1", (row["seq"],)).fetchone()
        return self._run(row, browsable is not None)

    @staticmethod
    def _run(r: sqlite3.Row, browsable: bool) -> RunRow:
        return RunRow(
            seq=r["seq"],
            run_id=r["run_id"],
            period=r["period"],
            evaluated_at=_aware(r["evaluated_at"]),
            complete=bool(r["complete"]),
            accounts_read=r["accounts_read"],
            accounts_in_scope=r["accounts_in_scope"],
            sensitive_accesses=r["sensitive_accesses"],
            sensitive_protected=r["sensitive_protected"],
            sensitive_unknown=r["sensitive_unknown"],
            findings_total=r["findings_total"],
            findings_by_severity=json.loads(r["findings_by_severity"]),
            status_counts=json.loads(r["status_counts"]),
            purged=r["purged_at"] is not None,
            browsable=browsable and r["purged_at"] is None,
        )

    def sources(self, run: RunRow) -> list[SourceRow]:
        with self.connect() as conn:
            rows = conn.execute("SELECT * FROM run_sources WHERE run_seq = ? ORDER BY source", (run.seq,)).fetchall()
        return [
            SourceRow(
                r["source"],
                r["connector"],
                _aware(r["collected_at"]),
                bool(r["complete"]),
                r["accounts"],
                tuple(json.loads(r["issues"])),
            )
            for r in rows
        ]

    def not_evaluated(self, run: RunRow) -> list[tuple[str, str, tuple[str, ...], str]]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT rule_id, source, facts, reason FROM browse_not_evaluated WHERE run_seq = ?"
                " ORDER BY rule_id, source",
                (run.seq,),
            ).fetchall()
        return [(r[0], r[1], tuple(json.loads(r[2])), r[3]) for r in rows]

    def findings_by_rule(self, run: RunRow) -> list[tuple[str, Severity, int]]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT rule_id, severity, count FROM findings_agg WHERE run_seq = ?", (run.seq,)
            ).fetchall()
        out = [(r[0], Severity(r[1]), r[2]) for r in rows]
        return sorted(out, key=lambda t: (-t[1].rank, t[0]))

    # -- portals --

    def portals(self, run: RunRow) -> list[PortalRow]:
        with self.connect() as conn:
            rows = conn.execute("SELECT * FROM browse_portals WHERE run_seq = ? ORDER BY p", (run.seq,)).fetchall()
        return [self._portal(r) for r in rows]

    def portal(self, run: RunRow, p: int) -> PortalRow:
        with self.connect() as conn:
            row = conn.execute("SELECT * FROM browse_portals WHERE run_seq = ? AND p = ?", (run.seq, p)).fetchone()
        if row is None:
            raise NotFound(f"run {run.run_id!r} has no portal number {p}", "no_portal", run=run.run_id, n=p)
        return self._portal(row)

    @staticmethod
    def _portal(r: sqlite3.Row) -> PortalRow:
        return PortalRow(
            r["p"],
            r["source"],
            r["portal_id"],
            r["name"],
            r["sensitivity"],
            r["sign_in_via"],
            r["total"],
            r["protected"],
            json.loads(r["by_status"]),
            json.loads(r["by_severity"]),
            json.loads(r["by_status_severity"]),
        )

    def portal_page(self, run: RunRow, p: int, flt: PortalFilter, page: int, size: int) -> Page[CoverageRow]:
        """One page of a portal's (account, verdict) rows.

        Every order the page offers, alone or within one status or one severity, has its
        rank column, so the page is ``rank BETWEEN a AND b`` on an index: as fast on page
        10,000 as on page 1, and the total comes from the portal's counts. Other
        combinations (status and severity together, a source) filter a rank index and
        count: they read the rows they skip."""
        portal = self.portal(run, p)
        where = ["c.run_seq = ?", "c.p = ?"]
        args: list[Any] = [run.seq, p]
        sort_rank = {"status": "r_status", "severity": "r_severity"}.get(flt.sort, "r_account")
        rank: str | None = None
        total = 0
        if flt.source is None and flt.status is None and flt.severity is None:
            rank, total = sort_rank, portal.total
        elif flt.source is None and flt.severity is None and flt.status is not None and flt.sort != "severity":
            where.append("c.status = ?")
            args.append(BROWSE_STATUS_CODE[flt.status])
            rank, total = "r_in_status", portal.by_status.get(flt.status.value, 0)
        elif flt.source is None and flt.status is None and flt.severity is not None and flt.sort != "status":
            where.append("c.severity = ?")
            args.append(flt.severity.rank)
            rank, total = "r_in_severity", portal.by_severity.get(str(flt.severity.rank), 0)
        direction = "DESC" if flt.descending else "ASC"
        offset = (page - 1) * size
        if rank is not None:
            first, last = (total - offset - size, total - 1 - offset) if flt.descending else (offset, offset + size - 1)
            sql_where = " AND ".join([*where, f"c.{rank} BETWEEN ? AND ?"])
            sql_args = [*args, first, last]
            limit = ""
        else:
            # Walk the narrowest index whose order is the one asked: within the status
            # (or the severity) when the sort does not cross it, else the sort's rank.
            rank = sort_rank
            if flt.status is not None:
                where.append("c.status = ?")
                args.append(BROWSE_STATUS_CODE[flt.status])
                if flt.sort != "severity":
                    rank = "r_in_status"
            if flt.severity is not None:
                where.append("c.severity = ?")
                args.append(flt.severity.rank)
                if flt.sort != "status" and rank == sort_rank:
                    rank = "r_in_severity"
            if flt.source is not None:
                names = self.finding_sources(run)
                where.append("c.src = ?")
                args.append(names.index(flt.source) if flt.source in names else -2)
            sql_where = " AND ".join(where)
            if flt.source is None and flt.status is not None and flt.severity is not None:
                total = portal.by_status_severity.get(f"{flt.status.value}:{flt.severity.rank}", 0)
            else:
                with self.connect() as conn:
                    total = conn.execute(f"SELECT count(*) FROM browse_coverage c WHERE {sql_where}", args).fetchone()[
                        0
                    ]
            sql_args = [*args, size, offset]
            limit = " LIMIT ? OFFSET ?"
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT c.*, a.source AS a_source, a.ident, a.kind, a.enabled, a.privileged, a.last_sign_in,"
                " a.methods, a.roles"
                " FROM browse_coverage c JOIN browse_accounts a ON a.run_seq = c.run_seq AND a.n = c.n"
                f" WHERE {sql_where} ORDER BY c.{rank} {direction}{limit}",
                sql_args,
            ).fetchall()
        return Page(tuple(self._coverage(r, account=self._account(r, prefix="a_")) for r in rows), total, page, size)

    # -- accounts --

    def account(self, run: RunRow, n: int) -> AccountRow:
        with self.connect() as conn:
            row = conn.execute("SELECT * FROM browse_accounts WHERE run_seq = ? AND n = ?", (run.seq, n)).fetchone()
        if row is None:
            raise NotFound(f"run {run.run_id!r} has no account number {n}", "no_account", run=run.run_id, n=n)
        return self._account(row)

    def account_coverage(self, run: RunRow, n: int) -> list[CoverageRow]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT c.*, p.source AS p_source, p.portal_id, p.name, p.sensitivity, p.sign_in_via, p.total,"
                " p.protected, p.by_status, p.by_severity, p.by_status_severity"
                # INDEXED BY: without statistics SQLite prefers the primary key's (run) prefix,
                # which is a scan of the whole run.
                " FROM browse_coverage c INDEXED BY browse_coverage_account"
                " JOIN browse_portals p ON p.run_seq = c.run_seq AND p.p = c.p"
                " WHERE c.run_seq = ? AND c.n = ? ORDER BY c.p",
                (run.seq, n),
            ).fetchall()
        return [
            self._coverage(
                r,
                portal=PortalRow(
                    r["p"],
                    r["p_source"],
                    r["portal_id"],
                    r["name"],
                    r["sensitivity"],
                    r["sign_in_via"],
                    r["total"],
                    r["protected"],
                    json.loads(r["by_status"]),
                    json.loads(r["by_severity"]),
                    json.loads(r["by_status_severity"]),
                ),
            )
            for r in rows
        ]

    def policy_names(self, run: RunRow, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Policy id -> (name, state), for the ids given."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        with self.connect() as conn:
            rows = conn.execute(
                f"SELECT policy_id, name, state FROM browse_policies WHERE run_seq = ? AND policy_id IN ({marks})",
                [run.seq, *wanted],
            ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def account_history(self, account: AccountRow) -> list[tuple[RunRow, int, dict[str, int]]]:
        """This principal in every browsable run, newest first: (run, its number there,
        its verdicts by status)."""
        key = browse_principal_key(account.source, account.principal)
        with self.connect() as conn:
            hits = conn.execute(
                "SELECT a.run_seq, a.n, r.run_id FROM browse_accounts a JOIN runs r ON r.seq = a.run_seq"
                " WHERE a.principal_key = ? ORDER BY r.evaluated_at DESC, r.seq DESC",
                (key,),
            ).fetchall()
            out = []
            for seq, n, run_id in hits:
                counts: dict[str, int] = {}
                for (status,) in conn.execute(
                    "SELECT status FROM browse_coverage INDEXED BY browse_coverage_account WHERE run_seq = ? AND n = ?",
                    (seq, n),
                ):
                    name = BROWSE_STATUS_ORDER[status].value
                    counts[name] = counts.get(name, 0) + 1
                out.append((run_id, n, counts))
        return [(self.run(run_id), n, counts) for run_id, n, counts in out]

    # -- findings --

    def findings_page(self, run: RunRow, flt: FindingFilter, page: int, size: int) -> Page[FindingRow]:
        where, args = self._finding_where(run, flt)
        # A rule filter walks its (run, rule, severity, n) index; otherwise the run's findings in order.
        indexed = "INDEXED BY findings_rule" if flt.rule_id is not None else ""
        with self.connect() as conn:
            if flt.source is None:
                # The counts by rule and severity are stored with the run: no count of rows.
                total = sum(
                    n
                    for rule_id, severity, n in self.findings_by_rule(run)
                    if flt.rule_id in (None, rule_id) and flt.severity in (None, severity)
                )
            else:
                total = conn.execute(f"SELECT count(*) FROM findings f {indexed} WHERE {where}", args).fetchone()[0]
            rows = _findings_by_number(conn, run.seq, f"FROM findings f {indexed} WHERE {where}", args, page, size)
        return Page(tuple(self._finding(r) for r in rows), total, page, size)

    def iter_findings(self, run: RunRow, flt: FindingFilter) -> Iterator[FindingRow]:
        """Every finding of the filter, in batches (the CSV export streams them)."""
        where, args = self._finding_where(run, flt)
        last = -1
        while True:
            with self.connect() as conn:
                rows = conn.execute(
                    f"{_FINDING_SELECT} WHERE {where} AND f.n > ? ORDER BY f.n LIMIT 5000", [*args, last]
                ).fetchall()
            if not rows:
                return
            for r in rows:
                yield self._finding(r)
            last = rows[-1]["n"]

    def account_findings(self, run: RunRow, n: int) -> list[FindingRow]:
        with self.connect() as conn:
            # Driven by the (run, account) index of the texts, then each finding by its key:
            # from the findings side SQLite would scan the whole run.
            rows = conn.execute(
                "SELECT f.n, f.rule_id, f.severity, f.source, f.account_id, f.principal, f.portal_id, f.portal_name,"
                " b.said, b.account_n, a.ident"
                " FROM browse_findings b"
                " CROSS JOIN findings f ON f.run_seq = b.run_seq AND f.n = b.n"
                " LEFT JOIN browse_accounts a ON a.run_seq = b.run_seq AND a.n = b.account_n"
                " WHERE b.run_seq = ? AND b.account_n = ? ORDER BY f.n",
                (run.seq, n),
            ).fetchall()
        return [self._finding(r) for r in rows]

    def finding_sources(self, run: RunRow) -> list[str]:
        with self.connect() as conn:
            rows = conn.execute("SELECT source FROM run_sources WHERE run_seq = ? ORDER BY source", (run.seq,))
            return [r[0] for r in rows]

    @staticmethod
    def _finding_where(run: RunRow, flt: FindingFilter) -> tuple[str, list[Any]]:
        where = ["f.run_seq = ?"]
        args: list[Any] = [run.seq]
        if flt.rule_id is not None:
            where.append("f.rule_id = ?")
            args.append(flt.rule_id)
        if flt.severity is not None:
            where.append("f.severity = ?")
            args.append(flt.severity.value)
        if flt.source is not None:
            where.append("f.source = ?")
            args.append(flt.source)
        return " AND ".join(where), args

    # -- diff --

    def diff(self, a: RunRow, b: RunRow, change: str, page: int, size: int) -> Page[FindingRow]:
        """Findings ``new`` in b, ``resolved`` since a, or ``persisting`` (b's rows), by
        finding key through the (run, finding_key) index."""
        if change == "resolved":
            base, other = a, b
            clause = "NOT EXISTS"
        else:
            base, other = b, a
            clause = "NOT EXISTS" if change == "new" else "EXISTS"
        where = (
            f"f.run_seq = ? AND f.finding_key IS NOT NULL AND {clause} "
            "(SELECT 1 FROM findings o WHERE o.run_seq = ? AND o.finding_key = f.finding_key)"
        )
        args = [base.seq, other.seq]
        with self.connect() as conn:
            total = conn.execute(f"SELECT count(*) FROM findings f WHERE {where}", args).fetchone()[0]
            rows = _findings_by_number(conn, base.seq, f"FROM findings f WHERE {where}", args, page, size)
        return Page(tuple(self._finding(r) for r in rows), total, page, size)

    def diff_counts(self, a: RunRow, b: RunRow) -> dict[str, int]:
        return {change: self.diff(a, b, change, 1, 1).total for change in ("new", "resolved", "persisting")}

    # -- row decoding --

    @staticmethod
    def _account(r: sqlite3.Row, prefix: str = "") -> AccountRow:
        account_id, principal, display_name = browse_unpack(r["ident"])
        return AccountRow(
            n=r["n"],
            source=r[f"{prefix}source"] if prefix else r["source"],
            account_id=account_id,
            principal=principal,
            display_name=display_name,
            kind=r["kind"],
            enabled=bool(r["enabled"]),
            privileged=bool(r["privileged"]),
            last_sign_in=r["last_sign_in"],
            methods=tuple((m[0], m[1], m[2]) for m in json.loads(r["methods"])),
            roles=tuple(json.loads(r["roles"])),
        )

    @staticmethod
    def _coverage(r: sqlite3.Row, *, account: AccountRow | None = None, portal: PortalRow | None = None) -> CoverageRow:
        return CoverageRow(
            p=r["p"],
            n=r["n"],
            status=BROWSE_STATUS_ORDER[r["status"]],
            severity=SEVERITY_BY_RANK.get(r["severity"]),
            enrolled=r["enrolled"],
            enforced=r["enforced"],
            required=r["required"],
            conditional=bool(r["conditional"]),
            enforcement_source=r["enforcement_source"],
            policies=tuple(json.loads(r["policies"])),
            excluded_by=tuple(json.loads(r["excluded_by"])),
            exception_id=r["exception_id"],
            reason=r["reason"],
            account=account,
            portal=portal,
        )

    @staticmethod
    def _finding(r: sqlite3.Row) -> FindingRow:
        # Findings of a run stored before the browse tables have no text row.
        title, message, key, params = browse_unpack(r["said"]) if r["said"] else (r["rule_id"], "", "", [])
        display_name = browse_unpack(r["ident"])[2] if r["ident"] else None
        return FindingRow(
            n=r["n"],
            rule_id=r["rule_id"],
            severity=Severity(r["severity"]),
            source=r["source"],
            account_id=r["account_id"],
            principal=r["principal"],
            portal_id=r["portal_id"],
            portal_name=r["portal_name"],
            title=title or r["rule_id"],
            message=message,
            message_key=key,
            message_params=tuple((str(k), str(v)) for k, v in params),
            account_n=r["account_n"],
            display_name=display_name,
        )


_FINDING_SELECT = (
    "SELECT f.n, f.rule_id, f.severity, f.source, f.account_id, f.principal, f.portal_id, f.portal_name,"
    " b.said, b.account_n, a.ident"
    " FROM findings f"
    " LEFT JOIN browse_findings b ON b.run_seq = f.run_seq AND b.n = f.n"
    " LEFT JOIN browse_accounts a ON a.run_seq = f.run_seq AND a.n = b.account_n"
)


def _findings_by_number(
    conn: sqlite3.Connection, seq: int, source: str, args: Sequence[Any], page: int, size: int
) -> list[sqlite3.Row]:
    """A page of findings in two steps: the page's numbers from the index alone (the
    rows skipped by OFFSET are never joined), then those rows with their texts."""
    numbers = [
        r[0]
        for r in conn.execute(f"SELECT f.n {source} ORDER BY f.n LIMIT ? OFFSET ?", [*args, size, (page - 1) * size])
    ]
    if not numbers:
        return []
    marks = ", ".join("?" for _ in numbers)
    return conn.execute(
        f"{_FINDING_SELECT} WHERE f.run_seq = ? AND f.n IN ({marks}) ORDER BY f.n", [seq, *numbers]
    ).fetchall()
