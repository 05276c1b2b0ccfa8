"""Kept whole on purpose: the schema, its migrations and every statement that reads or
writes it, so a change to a table is seen with all of its queries.

The evidence store: every run on SQLite (standard library, no server).

One file per store, private to the user (0600, folder 0700), in WAL mode. A run is
written in one ``BEGIN IMMEDIATE`` transaction: it appears whole or not at all, and two
processes saving at once wait for each other (busy timeout) instead of corrupting the
file. Per run we keep:

- the headline metrics, per-source completeness, and coverage aggregates per source and
  per portal (``auditor.engine.metrics``): these survive retention and answer history;
- the findings, one row each with the finding key (for diffs);
- the snapshot, the full ``AuditResult`` and the config text as compressed blobs, cut
  into chunks so a run of a million accounts streams in, each with the SHA-256 of its
  uncompressed bytes, verified on every load.

The schema is versioned with ``PRAGMA user_version``; ``MIGRATIONS`` is the ordered list
of scripts that bring a file from one version to the next.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import random
import sqlite3
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import platformdirs

from auditor.engine import metrics
from auditor.engine.metrics import CoverageSummary
from auditor.evidence.attachments import EvidenceFile
from auditor.evidence.model_decode import stream_result, stream_snapshot
from auditor.evidence.run_artefacts import RunArtefacts
from auditor.evidence.serialise import (
    SnapshotFormatError,
    result_from_data,
    result_to_data,
    snapshot_from_json,
)
from auditor.interfaces import AuditorError
from auditor.model import AuditResult, Coverage, CoverageStatus, Finding, Method, Severity, Snapshot

APP_NAME = "mfa-auditor"
DEFAULT_FILENAME = "evidence.sqlite3"
BUSY_TIMEOUT_MS = 60_000
CHUNK_BYTES = 8 * 1024 * 1024  # compressed bytes per blob row: far below SQLite's 1 GB value limit
FINDINGS_BATCH = 10_000
SLICE_CHARS = 4 * 1024 * 1024
INFLATE_PIECE = 1024 * 1024  # inflated bytes handed to the decoder at a time
CODEC = "zlib"
ZLIB_LEVEL = 3  # JSON of the model compresses ~15x at level 3, twice as fast as level 6 for ~20 % more bytes

BLOB_SNAPSHOT = "snapshot"
BLOB_RESULT = "result"
BLOB_CONFIG = "config"

# Each entry brings the schema from version i to i + 1. Never edit a shipped entry:
# append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL UNIQUE,
        period TEXT NOT NULL,
        config_digest TEXT NOT NULL,
        created_at TEXT NOT NULL,
        evaluated_at TEXT NOT NULL,
        rule_set_version TEXT NOT NULL,
        complete INTEGER NOT NULL,
        accounts_read INTEGER NOT NULL,
        accounts_in_scope INTEGER NOT NULL,
        sensitive_portals INTEGER NOT NULL,
        sensitive_accesses INTEGER NOT NULL,
        sensitive_protected INTEGER NOT NULL,
        sensitive_unknown INTEGER NOT NULL,
        findings_total INTEGER NOT NULL,
        findings_by_severity TEXT NOT NULL,
        status_counts TEXT NOT NULL,
        snapshot_sha256 TEXT NOT NULL,
        purged_at TEXT
    );
    CREATE INDEX runs_config ON runs (config_digest, evaluated_at);
    CREATE TABLE run_sources (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        source TEXT NOT NULL,
        connector TEXT NOT NULL,
        collected_at TEXT NOT NULL,
        complete INTEGER NOT NULL,
        accounts INTEGER NOT NULL,
        issues TEXT NOT NULL,
        PRIMARY KEY (run_seq, source)
    );
    CREATE TABLE coverage_agg (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        scope TEXT NOT NULL CHECK (scope IN ('source', 'portal')),
        key TEXT NOT NULL,
        label TEXT NOT NULL,
        total INTEGER NOT NULL,
        protected INTEGER NOT NULL,
        by_status TEXT NOT NULL,
        PRIMARY KEY (run_seq, scope, key)
    );
    CREATE TABLE findings_agg (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        rule_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (run_seq, rule_id, severity)
    );
    CREATE TABLE findings (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        rule_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        source TEXT NOT NULL,
        account_id TEXT,
        principal TEXT,
        portal_id TEXT,
        portal_name TEXT,
        finding_key TEXT,
        PRIMARY KEY (run_seq, n)
    );
    CREATE TABLE blobs (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        codec TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        chunks INTEGER NOT NULL,
        PRIMARY KEY (run_seq, kind)
    );
    CREATE TABLE blob_chunks (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        n INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (run_seq, kind, n)
    );
    """,
    # 2: the browse tables `mfa-audit serve` pages from (auditor.web): one row per account,
    # per (portal, account) verdict and per finding's text, numbered so that a page of a
    # million-account portal is an index range, never a load of the run. Accounts are
    # numbered in principal order, so "sort by account" is the number itself; each verdict
    # row carries its rank in each order a page offers (by account, status, worst finding;
    # within its status; within its severity), so page k is a range of ranks: O(log n)
    # at any depth, where OFFSET walked every row before the page. Identities
    # (id, principal, display name) and finding texts are zlib-compressed JSON, like the
    # blobs: the file holds no account name in clear beyond the findings table's columns,
    # and principal_key is a digest (the account's history across runs).
    """
    CREATE TABLE browse_portals (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        p INTEGER NOT NULL,
        source TEXT NOT NULL,
        portal_id TEXT NOT NULL,
        name TEXT NOT NULL,
        sensitivity TEXT,
        sign_in_via TEXT,
        total INTEGER NOT NULL,
        protected INTEGER NOT NULL,
        by_status TEXT NOT NULL,
        by_severity TEXT NOT NULL,
        by_status_severity TEXT NOT NULL,
        PRIMARY KEY (run_seq, p)
    );
    CREATE TABLE browse_accounts (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        source TEXT NOT NULL,
        principal_key TEXT NOT NULL,
        ident BLOB NOT NULL,
        kind TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        privileged INTEGER NOT NULL,
        last_sign_in TEXT,
        methods TEXT NOT NULL,
        roles TEXT NOT NULL,
        PRIMARY KEY (run_seq, n)
    );
    CREATE INDEX browse_accounts_principal ON browse_accounts (principal_key, run_seq);
    CREATE TABLE browse_coverage (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        p INTEGER NOT NULL,
        n INTEGER NOT NULL,
        src INTEGER NOT NULL,
        status INTEGER NOT NULL,
        severity INTEGER NOT NULL,
        enrolled TEXT NOT NULL,
        enforced TEXT NOT NULL,
        required TEXT NOT NULL,
        conditional INTEGER NOT NULL,
        enforcement_source TEXT NOT NULL,
        policies TEXT NOT NULL,
        excluded_by TEXT NOT NULL,
        exception_id TEXT,
        reason TEXT NOT NULL,
        r_account INTEGER NOT NULL,
        r_status INTEGER NOT NULL,
        r_severity INTEGER NOT NULL,
        r_in_status INTEGER NOT NULL,
        r_in_severity INTEGER NOT NULL,
        PRIMARY KEY (run_seq, p, r_account)
    ) WITHOUT ROWID;
    CREATE INDEX browse_coverage_by_status ON browse_coverage (run_seq, p, r_status);
    CREATE INDEX browse_coverage_by_severity ON browse_coverage (run_seq, p, r_severity);
    CREATE INDEX browse_coverage_in_status ON browse_coverage (run_seq, p, status, r_in_status);
    CREATE INDEX browse_coverage_in_severity ON browse_coverage (run_seq, p, severity, r_in_severity);
    CREATE INDEX browse_coverage_account ON browse_coverage (run_seq, n);
    CREATE TABLE browse_findings (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        account_n INTEGER,
        said BLOB NOT NULL,
        PRIMARY KEY (run_seq, n)
    );
    CREATE INDEX browse_findings_account ON browse_findings (run_seq, account_n);
    CREATE TABLE browse_policies (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        source TEXT NOT NULL,
        policy_id TEXT NOT NULL,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        PRIMARY KEY (run_seq, source, policy_id)
    );
    CREATE TABLE browse_not_evaluated (
        run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
        rule_id TEXT NOT NULL,
        source TEXT NOT NULL,
        facts TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX browse_not_evaluated_run ON browse_not_evaluated (run_seq);
    CREATE INDEX findings_key ON findings (run_seq, finding_key);
    CREATE INDEX findings_rule ON findings (run_seq, rule_id, severity, n);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

# Separates the parts of Finding.key in the findings table; cannot occur in ids.
KEY_SEP = "\x1f"


# --- errors ----------------------------------------------------------------------------


class StoreError(AuditorError):
    """The evidence store cannot be opened, read or written; names the file."""


class RunNotFound(StoreError):
    def __init__(self, run_id: str, suggestions: Sequence[str] = ()) -> None:
        self.run_id = run_id
        self.suggestions = tuple(suggestions)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"no run {run_id!r} in the evidence store{hint}")


class RunPurged(StoreError):
    def __init__(self, run_id: str, purged_at: datetime) -> None:
        self.run_id = run_id
        self.purged_at = purged_at
        super().__init__(
            f"run {run_id!r} was purged on {purged_at:%Y-%m-%d} (retention): only its aggregates remain, "
            "so it cannot be re-rendered or checked"
        )


class StoreCorrupt(StoreError):
    """Stored evidence does not match its SHA-256, or cannot be decoded."""


# --- what the store hands out ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredIssue:
    """A source issue as kept with the run. After retention only code and flag remain
    (message and record may name an account)."""

    code: str
    incomplete: bool
    message: str | None = None
    record: str | None = None


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: str
    connector: str
    collected_at: datetime
    complete: bool
    accounts: int
    issues: tuple[StoredIssue, ...] = ()


def short_run_id(run_id: str) -> str:
    """What tables show: the run id without its period (``20261115T090000Z-b642ea24``).
    The digest alone is not enough: the same data evaluated twice has the same digest."""
    _period, sep, rest = run_id.partition("-Q")
    if sep and rest[:1].isdigit() and rest[1:2] == "-":
        return rest[2:]
    return run_id


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run as history sees it: everything here survives retention."""

    run_id: str
    period: str
    config_digest: str
    created_at: datetime  # when it was stored
    evaluated_at: datetime
    rule_set_version: str
    complete: bool
    accounts_read: int
    accounts_in_scope: int
    sensitive_portals: int
    sensitive_accesses: int
    sensitive_protected: int
    sensitive_unknown: int
    findings_total: int
    snapshot_sha256: str
    findings_by_severity: Mapping[Severity, int] = field(hash=False)
    findings_by_rule: Mapping[str, Mapping[Severity, int]] = field(hash=False)
    status_counts: Mapping[CoverageStatus, int] = field(hash=False)
    sources: tuple[SourceStatus, ...]
    by_source: tuple[CoverageSummary, ...]
    by_portal: tuple[CoverageSummary, ...]
    purged_at: datetime | None = None

    @property
    def protected_ratio(self) -> float | None:
        if self.sensitive_accesses == 0:
            return None
        return self.sensitive_protected / self.sensitive_accesses

    @property
    def purged(self) -> bool:
        return self.purged_at is not None


@dataclass(frozen=True, slots=True)
class StoredRun:
    summary: RunSummary
    artefacts: RunArtefacts  # the snapshot, with its file as stored (re-rendering encodes nothing)
    result: AuditResult
    config_text: str

    @property
    def snapshot(self) -> Snapshot:
        return self.artefacts.snapshot

    @property
    def run_id(self) -> str:
        return self.summary.run_id


Stage = Callable[[str], None]


def _no_stage(_: str) -> None:
    pass


def _utcnow() -> datetime:
    return datetime.now(UTC)


def default_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / DEFAULT_FILENAME


# --- the store -------------------------------------------------------------------------


class EvidenceStore:
    """``path`` None: the user's data directory. ``clock`` stamps ``created_at``;
    ``on_stage`` is told each step of a save (progress, and tests that interrupt one)."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        on_stage: Stage = _no_stage,
        chunk_bytes: int = CHUNK_BYTES,
        create: bool = True,
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._chunk_bytes = chunk_bytes
        self._clock = clock
        self._on_stage = on_stage
        if not create and not self.path.is_file():
            # A command that only reads must not leave an empty store behind a wrong path
            # (and then say "no run yet" as if the history were empty).
            raise StoreError(
                f"{self.path}: no evidence store at this path (store.path in the config); `mfa-audit run` creates it"
            )
        self._prepare_files()
        with self._connection() as conn:
            self._migrate(conn)

    def __repr__(self) -> str:
        return f"EvidenceStore({str(self.path)!r})"

    # -- files and connections --

    def _prepare_files(self) -> None:
        folder = self.path.parent
        if not folder.exists():
            try:
                folder.mkdir(mode=0o700, parents=True)
            except FileExistsError:
                pass
            except OSError as exc:
                raise StoreError(f"{folder}: cannot create the evidence store's folder: {exc.strerror}") from None
            _chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the evidence store: {exc.strerror}") from None
        else:
            os.close(fd)
        # SQLite gives -wal and -shm the main file's mode; tighten any we find wider.
        for p in (self.path, _sibling(self.path, "-wal"), _sibling(self.path, "-shm")):
            _chmod(p, 0o600)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the evidence store: {exc}") from None
        conn.row_factory = sqlite3.Row
        try:
            _setup(conn)
            yield conn
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: evidence store error: {exc}") from None
        finally:
            conn.close()

    @contextmanager
    def _write(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front (BEGIN IMMEDIATE) so two writers queue
        on the busy timeout instead of failing half-way on a lock upgrade."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: the evidence store has schema version {version}, this version of "
                f"mfa-auditor reads up to {SCHEMA_VERSION}: upgrade mfa-auditor"
            )
        with self._write(conn):
            # Re-read inside the lock: another process may have migrated meanwhile.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for i in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[i]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {i + 1}")

    # -- writing --

    def save_run(
        self, result: AuditResult, snapshot: Snapshot | RunArtefacts, config_digest: str, config_text: str
    ) -> None:
        """Record a run. Atomic: on any error, or if the process dies, nothing of it remains.
        Pass the run's ``RunArtefacts`` when the run id was made from them: the snapshot
        file is then not encoded again.

        Serialising and compressing happen before the write lock is taken (only the
        compressed chunks, about a tenth of the JSON, are held), so another process
        saving at the same time waits for the inserts only."""
        stage = self._on_stage
        stage("serialise")
        # The run's snapshot file (one zlib stream, already made for the run id when the
        # pipeline saves): the compressed chunks are held, never the whole JSON text.
        run = RunArtefacts.of(snapshot)
        snapshot = run.snapshot
        snapshot_blob = _Blob.of_file(run.snapshot_file, self._chunk_bytes)
        snapshot_sha = snapshot_blob.sha256
        # json.dumps runs the C encoder (iterencode would stream, but in pure Python).
        result_blob = _Blob.of(
            [json.dumps(result_to_data(result), ensure_ascii=False, sort_keys=True)], self._chunk_bytes
        )
        config_blob = _Blob.of([config_text], self._chunk_bytes)
        names = metrics.portal_labels(snapshot)
        aggregates = [("source", c) for c in metrics.by_source(result)]
        aggregates += [("portal", c) for c in metrics.by_portal(result, names)]
        rule_counts = Counter((f.rule_id, f.severity) for f in result.findings)
        sources = [
            (
                s.source,
                s.connector,
                s.collected_at.isoformat(),
                int(s.complete),
                len(s.accounts),
                json.dumps(
                    [
                        {"code": i.code, "incomplete": i.incomplete, "message": i.message, "record": i.record}
                        for i in s.issues
                    ],
                    ensure_ascii=False,
                ),
            )
            for s in snapshot.sources
        ]
        with self._connection() as conn, self._write(conn):
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (result.run_id,)).fetchone():
                raise StoreError(f"{self.path}: a run {result.run_id!r} is already stored")
            stage("run")
            seq = self._insert_run(conn, result, snapshot, config_digest, snapshot_sha)
            stage("sources")
            conn.executemany("INSERT INTO run_sources VALUES (?, ?, ?, ?, ?, ?, ?)", [(seq, *row) for row in sources])
            stage("aggregates")
            conn.executemany(
                "INSERT INTO coverage_agg VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (seq, scope, c.key, c.label, c.total, c.protected, _counts_json(c.by_status))
                    for scope, c in aggregates
                ],
            )
            conn.executemany(
                "INSERT INTO findings_agg VALUES (?, ?, ?, ?)",
                [(seq, rule, sev.value, n) for (rule, sev), n in sorted(rule_counts.items())],
            )
            stage("findings")
            rows = _finding_rows(seq, result.findings)
            while batch := list(islice(rows, FINDINGS_BATCH)):
                conn.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            stage("snapshot")
            self._write_blob(conn, seq, BLOB_SNAPSHOT, snapshot_blob)
            stage("result")
            self._write_blob(conn, seq, BLOB_RESULT, result_blob)
            stage("config")
            self._write_blob(conn, seq, BLOB_CONFIG, config_blob)
            stage("browse")
            _write_browse_tables(conn, seq, result, snapshot)
            stage("commit")
        stage("done")

    def _insert_run(
        self, conn: sqlite3.Connection, result: AuditResult, snapshot: Snapshot, config_digest: str, snapshot_sha: str
    ) -> int:
        m = result.metrics
        by_severity = metrics.findings_by_severity(result)
        cur = conn.execute(
            "INSERT INTO runs (run_id, period, config_digest, created_at, evaluated_at, rule_set_version, complete,"
            " accounts_read, accounts_in_scope, sensitive_portals, sensitive_accesses, sensitive_protected,"
            " sensitive_unknown, findings_total, findings_by_severity, status_counts, snapshot_sha256)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                result.run_id,
                result.period,
                config_digest,
                self._clock().isoformat(),
                result.evaluated_at.isoformat(),
                result.rule_set_version,
                int(result.complete and snapshot.complete),
                m.accounts_read,
                m.accounts_in_scope,
                m.sensitive_portals,
                m.sensitive_accesses,
                m.sensitive_protected,
                m.sensitive_unknown,
                len(result.findings),
                _counts_json(by_severity),
                _counts_json(m.status_counts),
                snapshot_sha,
            ),
        )
        seq = cur.lastrowid
        assert seq is not None
        return seq

    def _write_blob(self, conn: sqlite3.Connection, seq: int, kind: str, blob: _Blob) -> None:
        conn.executemany(
            "INSERT INTO blob_chunks VALUES (?, ?, ?, ?)", [(seq, kind, n, data) for n, data in enumerate(blob.chunks)]
        )
        conn.execute(
            "INSERT INTO blobs VALUES (?, ?, ?, ?, ?, ?)", (seq, kind, CODEC, blob.sha256, blob.size, len(blob.chunks))
        )

    # -- reading --

    def runs(self, config_digest: str | None = None) -> list[RunSummary]:
        """Every run (or those of one config), oldest first by evaluation time."""
        with self._connection() as conn:
            where, args = ("WHERE config_digest = ?", (config_digest,)) if config_digest else ("", ())
            rows = conn.execute(f"SELECT * FROM runs {where} ORDER BY evaluated_at, seq", args).fetchall()
            return [self._summary(conn, row) for row in rows]

    def summary(self, run_id: str) -> RunSummary:
        with self._connection() as conn:
            return self._summary(conn, self._run_row(conn, run_id))

    def resolve_run_id(self, ref: str) -> str:
        """The full run id for ``ref``: a whole id, a unique prefix of one (like git), or a
        unique prefix of the digest that ends it (the short id tables show)."""
        with self._connection() as conn:
            ids = [str(r[0]) for r in conn.execute("SELECT run_id FROM runs ORDER BY evaluated_at, seq")]
        if ref in ids:
            return ref
        matches = [i for i in ids if ref and (i.startswith(ref) or short_run_id(i).startswith(ref))]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise StoreError(f"run {ref!r} is ambiguous: it matches {', '.join(matches)}")
        raise self._not_found(ref, ids)

    def run_at(self, evaluated_at: datetime) -> str | None:
        """The id of a run already evaluated at exactly this time, if any: ``--now`` names a
        run, and a second collection for the same instant would be refused only at the end."""
        with self._connection() as conn:
            for run_id, at in conn.execute("SELECT run_id, evaluated_at FROM runs"):
                if datetime.fromisoformat(at) == evaluated_at:
                    return str(run_id)
        return None

    def latest(self, config_digest: str | None = None) -> RunSummary | None:
        runs = self.runs(config_digest)
        return runs[-1] if runs else None

    def previous(self, run_id: str) -> RunSummary | None:
        """The run evaluated just before this one, whatever its config: the config's
        digest changes with every edit (the period, a port), and the store already
        belongs to one config. Filter ``runs(digest)`` for the strict sense."""
        runs = self.runs()
        ids = [r.run_id for r in runs]
        if run_id not in ids:
            raise self._not_found(run_id, ids)
        i = ids.index(run_id)
        return runs[i - 1] if i > 0 else None

    def load_run(self, run_id: str) -> StoredRun:
        """The run with its snapshot, result and config text, each checked against its SHA-256.

        The snapshot and the result are decoded as their chunks are inflated (never held
        whole, as text or as a dict tree); nothing decoded is returned unless every chunk
        matched its blob's size and SHA-256. Checks fail in this order: each blob's own
        digest (snapshot, result, config), the snapshot's digest recorded with the run, then
        decoding (snapshot first)."""
        with self._connection() as conn:
            row = self._run_row(conn, run_id)
            summary = self._summary(conn, row)
            if summary.purged_at is not None:
                raise RunPurged(run_id, summary.purged_at)
            seq = row["seq"]
            snapshot_blob = _BlobReader(self.path, conn, seq, BLOB_SNAPSHOT, run_id, keep=True)
            snapshot = stream_snapshot(snapshot_blob.pieces())
            snapshot_blob.finish()
            result_blob = _BlobReader(self.path, conn, seq, BLOB_RESULT, run_id)
            result = stream_result(result_blob.pieces())
            result_blob.finish()
            config_bytes = self._read_blob(conn, seq, BLOB_CONFIG, run_id)
            if snapshot_blob.sha256 != summary.snapshot_sha256:
                raise StoreCorrupt(
                    f"{self.path}: run {run_id!r}: the snapshot does not match the digest recorded with the run"
                )
            if snapshot is None or result is None:
                # The streamed decoders stop at anything unexpected: the reference decoders,
                # on the whole text, decode it or say what is wrong and where.
                try:
                    if snapshot is None:
                        snapshot = snapshot_from_json(self._read_blob(conn, seq, BLOB_SNAPSHOT, run_id))
                    if result is None:
                        result = result_from_data(json.loads(self._read_blob(conn, seq, BLOB_RESULT, run_id)))
                except (SnapshotFormatError, ValueError) as exc:
                    raise StoreCorrupt(
                        f"{self.path}: run {run_id!r}: stored evidence cannot be decoded: {exc}"
                    ) from None
        # The stored chunks are the snapshot file a report attaches: not encoded again.
        artefacts = RunArtefacts.stored(
            snapshot,
            size=snapshot_blob.size,
            sha256=snapshot_blob.sha256,
            md5=snapshot_blob.md5,
            deflated=b"".join(snapshot_blob.compressed),
        )
        return StoredRun(summary, artefacts, result, config_bytes.decode("utf-8"))

    def stored_findings(self, run_id: str) -> list[tuple[str, str, str | None, str | None, str | None]]:
        """(rule id, severity, account id, principal, portal id) per stored finding row:
        what the findings table holds (after retention, without account columns)."""
        with self._connection() as conn:
            seq = self._run_row(conn, run_id)["seq"]
            rows = conn.execute(
                "SELECT rule_id, severity, account_id, principal, portal_id FROM findings WHERE run_seq = ? ORDER BY n",
                (seq,),
            ).fetchall()
        return [tuple(r) for r in rows]

    def _run_row(self, conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            ids = [r[0] for r in conn.execute("SELECT run_id FROM runs")]
            raise self._not_found(run_id, ids)
        return row

    @staticmethod
    def _not_found(run_id: str, ids: Sequence[str]) -> RunNotFound:
        close = difflib.get_close_matches(run_id, ids, n=3, cutoff=0.5)
        close += [i for i in ids if run_id and i.startswith(run_id) and i not in close][:3]
        return RunNotFound(run_id, close)

    def _summary(self, conn: sqlite3.Connection, row: sqlite3.Row) -> RunSummary:
        seq = row["seq"]
        sources = tuple(
            SourceStatus(
                source=r["source"],
                connector=r["connector"],
                collected_at=datetime.fromisoformat(r["collected_at"]),
                complete=bool(r["complete"]),
                accounts=r["accounts"],
                issues=tuple(
                    StoredIssue(i["code"], bool(i["incomplete"]), i.get("message"), i.get("record"))
                    for i in json.loads(r["issues"])
                ),
            )
            for r in conn.execute("SELECT * FROM run_sources WHERE run_seq = ? ORDER BY source", (seq,))
        )
        by_source: list[CoverageSummary] = []
        by_portal: list[CoverageSummary] = []
        for r in conn.execute("SELECT * FROM coverage_agg WHERE run_seq = ? ORDER BY scope, key", (seq,)):
            summary = CoverageSummary(
                r["key"],
                r["label"],
                r["total"],
                r["protected"],
                {CoverageStatus(k): v for k, v in json.loads(r["by_status"]).items()},
            )
            (by_source if r["scope"] == "source" else by_portal).append(summary)
        by_rule: dict[str, dict[Severity, int]] = {}
        for r in conn.execute("SELECT rule_id, severity, count FROM findings_agg WHERE run_seq = ?", (seq,)):
            by_rule.setdefault(r["rule_id"], {})[Severity(r["severity"])] = r["count"]
        severities = {Severity(k): v for k, v in json.loads(row["findings_by_severity"]).items()}
        return RunSummary(
            run_id=row["run_id"],
            period=row["period"],
            config_digest=row["config_digest"],
            created_at=_aware(row["created_at"]),
            evaluated_at=_aware(row["evaluated_at"]),
            rule_set_version=row["rule_set_version"],
            complete=bool(row["complete"]),
            accounts_read=row["accounts_read"],
            accounts_in_scope=row["accounts_in_scope"],
            sensitive_portals=row["sensitive_portals"],
            sensitive_accesses=row["sensitive_accesses"],
            sensitive_protected=row["sensitive_protected"],
            sensitive_unknown=row["sensitive_unknown"],
            findings_total=row["findings_total"],
            snapshot_sha256=row["snapshot_sha256"],
            findings_by_severity={s: severities.get(s, 0) for s in Severity},
            findings_by_rule=dict(sorted(by_rule.items())),
            status_counts={CoverageStatus(k): v for k, v in json.loads(row["status_counts"]).items()},
            sources=sources,
            by_source=tuple(by_source),
            by_portal=tuple(by_portal),
            purged_at=_aware(row["purged_at"]) if row["purged_at"] else None,
        )

    def _read_blob(
        self, conn: sqlite3.Connection, seq: int, kind: str, run_id: str, compressed: list[bytes] | None = None
    ) -> bytes:
        """The blob's bytes, checked; its compressed chunks are appended to ``compressed``."""
        meta = conn.execute(
            "SELECT codec, sha256, size, chunks FROM blobs WHERE run_seq = ? AND kind = ?", (seq, kind)
        ).fetchone()
        if meta is None:
            raise StoreCorrupt(f"{self.path}: run {run_id!r}: the stored {kind} is missing")
        codec, sha, size, chunks = meta
        if codec != CODEC:
            raise StoreCorrupt(f"{self.path}: run {run_id!r}: unknown compression {codec!r} for the {kind}")
        decompressor = zlib.decompressobj()
        parts: list[bytes] = []
        count = 0
        try:
            for (data,) in conn.execute(
                "SELECT data FROM blob_chunks WHERE run_seq = ? AND kind = ? ORDER BY n", (seq, kind)
            ):
                parts.append(decompressor.decompress(data))
                if compressed is not None:
                    compressed.append(data)
                count += 1
            parts.append(decompressor.flush())
        except zlib.error as exc:
            raise StoreCorrupt(
                f"{self.path}: run {run_id!r}: the stored {kind} cannot be decompressed: {exc}"
            ) from None
        raw = b"".join(parts)
        if count != chunks or len(raw) != size or hashlib.sha256(raw).hexdigest() != sha:
            raise StoreCorrupt(f"{self.path}: run {run_id!r}: the stored {kind} does not match its SHA-256")
        return raw

    # -- retention support (auditor.store.retention drives it) --

    def purge_runs(self, run_ids: Iterable[str], purged_at: datetime) -> int:
        """Remove account-level data of these runs, keep aggregates; then VACUUM and
        truncate the WAL so the identifiers are gone from the files. Returns the count."""
        ids = list(run_ids)
        if not ids:
            return 0
        with self._connection() as conn:
            with self._write(conn):
                for run_id in ids:
                    row = conn.execute("SELECT seq, purged_at FROM runs WHERE run_id = ?", (run_id,)).fetchone()
                    if row is None:
                        raise RunNotFound(run_id)
                    seq, already = row
                    if already:
                        continue
                    conn.execute("DELETE FROM blob_chunks WHERE run_seq = ?", (seq,))
                    conn.execute("DELETE FROM blobs WHERE run_seq = ?", (seq,))
                    for table in BROWSE_ACCOUNT_TABLES:
                        conn.execute(f"DELETE FROM {table} WHERE run_seq = ?", (seq,))
                    conn.execute(
                        "UPDATE findings SET account_id = NULL, principal = NULL, finding_key = NULL WHERE run_seq = ?",
                        (seq,),
                    )
                    for source, issues in conn.execute(
                        "SELECT source, issues FROM run_sources WHERE run_seq = ?", (seq,)
                    ).fetchall():
                        kept = [{"code": i["code"], "incomplete": i["incomplete"]} for i in json.loads(issues)]
                        conn.execute(
                            "UPDATE run_sources SET issues = ? WHERE run_seq = ? AND source = ?",
                            (json.dumps(kept), seq, source),
                        )
                    conn.execute("UPDATE runs SET purged_at = ? WHERE seq = ?", (purged_at.isoformat(), seq))
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(ids)

    def file_size(self) -> int:
        return sum(p.stat().st_size for p in self.files() if p.exists())

    def files(self) -> tuple[Path, ...]:
        return (self.path, _sibling(self.path, "-wal"), _sibling(self.path, "-shm"))


# --- helpers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Blob:
    """Text compressed into chunks of at most ``chunk_bytes``; ``sha256`` and ``size``
    describe the uncompressed UTF-8 bytes."""

    chunks: tuple[bytes, ...]
    sha256: str
    size: int

    @classmethod
    def of(cls, pieces: Iterable[str], chunk_bytes: int) -> _Blob:
        compressor = zlib.compressobj(ZLIB_LEVEL)
        digest = hashlib.sha256()
        size = 0
        out = bytearray()
        for text in pieces:
            # Slices, so that a long text is never held a second time as bytes.
            for start in range(0, len(text), SLICE_CHARS):
                data = text[start : start + SLICE_CHARS].encode("utf-8")
                digest.update(data)
                size += len(data)
                out += compressor.compress(data)
        out += compressor.flush()
        view = bytes(out)
        chunks = tuple(view[i : i + chunk_bytes] for i in range(0, len(view), chunk_bytes))
        return cls(chunks, digest.hexdigest(), size)

    @classmethod
    def of_file(cls, file: EvidenceFile, chunk_bytes: int) -> _Blob:
        """An evidence file is one zlib stream of the same bytes: stored as it is."""
        data = file.deflated
        chunks = tuple(data[i : i + chunk_bytes] for i in range(0, len(data), chunk_bytes))
        return cls(chunks, file.sha256, file.size)


class _BlobReader:
    """A stored blob inflated chunk by chunk (``pieces``), hashed as it goes; ``finish``
    reads what is left and raises ``StoreCorrupt`` unless the chunk count, the size and
    the SHA-256 all match. ``keep`` keeps the compressed chunks and an MD5 (the snapshot's
    evidence file)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, seq: int, kind: str, run_id: str, *, keep: bool = False):
        self._where = f"{path}: run {run_id!r}"
        self._conn = conn
        self._seq = seq
        self._kind = kind
        self._keep = keep
        self._finished = False
        self._pieces = self._inflate()
        self.compressed: list[bytes] = []
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False) if keep else None
        self.size = 0

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @property
    def md5(self) -> str:
        assert self._md5 is not None
        return self._md5.hexdigest()

    def pieces(self) -> Iterator[bytes]:
        """The inflated bytes in pieces of at most ``INFLATE_PIECE``. Raises ``StoreCorrupt``
        (missing, unknown codec, undecompressable, or not matching at the end)."""
        return self._pieces

    def _inflate(self) -> Iterator[bytes]:
        kind = self._kind
        meta = self._conn.execute(
            "SELECT codec, sha256, size, chunks FROM blobs WHERE run_seq = ? AND kind = ?", (self._seq, kind)
        ).fetchone()
        if meta is None:
            raise StoreCorrupt(f"{self._where}: the stored {kind} is missing")
        codec, sha, size, chunks = meta
        if codec != CODEC:
            raise StoreCorrupt(f"{self._where}: unknown compression {codec!r} for the {kind}")
        inflate = zlib.decompressobj()
        count = 0
        try:
            rows = self._conn.execute(
                "SELECT data FROM blob_chunks WHERE run_seq = ? AND kind = ? ORDER BY n", (self._seq, kind)
            )
            for (data,) in rows:
                count += 1
                if self._keep:
                    self.compressed.append(data)
                pending = data
                while True:
                    # Bounded output: a chunk of 8 MiB inflates to ~100 MiB of text.
                    out = inflate.decompress(pending, INFLATE_PIECE)
                    pending = inflate.unconsumed_tail
                    if out:
                        yield self._seen(out)
                    if not pending and len(out) < INFLATE_PIECE:
                        break
            tail = inflate.flush()
        except zlib.error as exc:
            raise StoreCorrupt(f"{self._where}: the stored {kind} cannot be decompressed: {exc}") from None
        if tail:
            yield self._seen(tail)
        self._finished = True
        if count != chunks or self.size != size or self._sha256.hexdigest() != sha:
            raise StoreCorrupt(f"{self._where}: the stored {kind} does not match its SHA-256")

    def _seen(self, data: bytes) -> bytes:
        self._sha256.update(data)
        if self._md5 is not None:
            self._md5.update(data)
        self.size += len(data)
        return data

    def finish(self) -> None:
        """Read (and check) whatever the decoder left: it may have stopped early."""
        for _ in self._pieces:
            pass
        if not self._finished:
            raise StoreCorrupt(f"{self._where}: the stored {self._kind} was not read to its end")


def finding_key_text(finding: Finding) -> str:
    return KEY_SEP.join(finding.key)


def _finding_rows(seq: int, findings: Iterable[Finding]) -> Iterator[tuple[Any, ...]]:
    for n, f in enumerate(findings):
        yield (
            seq,
            n,
            f.rule_id,
            f.severity.value,
            f.source,
            f.account_id,
            f.principal,
            f.portal_id,
            f.portal_name,
            finding_key_text(f),
        )


def _aware(text: str) -> datetime:
    """Times are stored with their offset; a naive one (from a hand-made result) is UTC,
    so that history can always compare them."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _counts_json(counts: Mapping[Any, int]) -> str:
    return json.dumps({str(k): v for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))})


def _setup(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Switching to WAL (and opening a WAL file another process is recovering) can
    # answer "locked" at once, without the busy handler: retry for the busy timeout.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.005, 0.05))
    conn.execute("PRAGMA foreign_keys = ON")
    # Deleted pages are zeroed, so purged identifiers do not linger in free pages.
    conn.execute("PRAGMA secure_delete = ON")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.exists() and (path.stat().st_mode & 0o777) != mode:
            path.chmod(mode)
    except OSError:
        pass  # not ours to fix (another owner, or a filesystem without modes): SQLite will say if it cannot write


# --- browse tables (`mfa-audit serve`) ------------------------------------------------------

# Browse tables emptied by retention with the blobs: they name accounts, or may (a policy
# named after the person it excludes, a reason quoting a record). browse_portals holds
# portal names and counts only and stays, like the aggregates (coverage_agg has the names).
BROWSE_ACCOUNT_TABLES = (
    "browse_coverage",
    "browse_findings",
    "browse_accounts",
    "browse_not_evaluated",
    "browse_policies",
)
# Statuses as small integers, worst first: "sort by status" is the index order.
BROWSE_STATUS_ORDER: tuple[CoverageStatus, ...] = (
    CoverageStatus.NOT_ENFORCED,
    CoverageStatus.NOT_ENROLLED,
    CoverageStatus.WEAK,
    CoverageStatus.REPORT_ONLY,
    CoverageStatus.CONDITIONAL,
    CoverageStatus.UNKNOWN,
    CoverageStatus.EXCEPTED,
    CoverageStatus.BLOCKED,
    CoverageStatus.PROTECTED,
)
BROWSE_STATUS_CODE = {s: i for i, s in enumerate(BROWSE_STATUS_ORDER)}


def browse_pack(value: Any) -> bytes:
    """A browse-table value as zlib-compressed JSON (identities, finding texts)."""
    return zlib.compress(json.dumps(value, ensure_ascii=False).encode("utf-8"), 1)


def browse_unpack(data: bytes) -> Any:
    return json.loads(zlib.decompress(data))


def browse_principal_key(source: str, principal: str) -> str:
    """The key an account's history is looked up by: its source and case-folded principal,
    hashed (equal across runs, not readable in the file)."""
    return hashlib.sha256(f"{source}\x00{principal.casefold()}".encode()).hexdigest()


def _write_browse_tables(conn: sqlite3.Connection, seq: int, result: AuditResult, snapshot: Snapshot) -> None:
    """The rows the web view pages from. Accounts are numbered in principal order (then
    source and id), portals in name order; a coverage row carries the worst severity of
    the findings on its (account, portal), 0 when none."""
    accounts = sorted(
        ((a.principal.casefold(), s.source, a.id, a) for s in snapshot.sources for a in s.accounts),
        key=lambda t: (t[0], t[1], t[2]),
    )
    account_n = {(source, account_id): n for n, (_, source, account_id, _) in enumerate(accounts)}
    # Method sets, role and policy lists repeat across accounts: each is encoded once.
    encode = json.JSONEncoder(ensure_ascii=False).encode
    ids_json: dict[tuple[str, ...], str] = {}
    methods_cache: dict[tuple[tuple[str, str, str], ...], str] = {}

    def ids(values: tuple[str, ...]) -> str:
        text = ids_json.get(values)
        if text is None:
            text = ids_json[values] = encode(list(values))
        return text

    def methods_json(methods: tuple[Method, ...]) -> str:
        key = tuple((str(m.kind), m.vendor_label, str(m.status)) for m in methods)
        text = methods_cache.get(key)
        if text is None:
            text = methods_cache[key] = encode([list(k) for k in key])
        return text

    rows = (
        (
            seq,
            n,
            a.source,
            browse_principal_key(a.source, a.principal),
            browse_pack([a.id, a.principal, a.display_name]),
            str(a.kind),
            int(a.enabled),
            int(a.privileged),
            a.last_sign_in.isoformat() if a.last_sign_in else None,
            methods_json(a.methods),
            ids(a.roles),
        )
        for n, (_, _, _, a) in enumerate(accounts)
    )
    while batch := list(islice(rows, FINDINGS_BATCH)):
        conn.executemany("INSERT INTO browse_accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)

    names = metrics.portal_labels(snapshot)
    portals = sorted(
        ((names[f"{s.source}/{p.id}"].casefold(), s.source, p.id, p) for s in snapshot.sources for p in s.portals),
        key=lambda t: (t[0], t[1], t[2]),
    )
    portal_p = {(source, pid): i for i, (_, source, pid, _) in enumerate(portals)}
    worst: dict[tuple[str, str | None, str | None], int] = {}
    for f in result.findings:
        k = (f.source, f.account_id, f.portal_id)
        worst[k] = max(worst.get(k, 0), f.severity.rank)
    # (p, n, status code, severity rank, coverage), in (portal, account) order: the
    # primary key's order, so the inserts append, and the order the ranks are counted in.
    keyed = sorted(
        (
            (
                portal_p[(c.portal_source, c.portal_id)],
                account_n[(c.source, c.account_id)],
                BROWSE_STATUS_CODE[c.status],
                worst.get((c.source, c.account_id, c.portal_id), 0),
                c,
            )
            for c in result.coverage
            if (c.portal_source, c.portal_id) in portal_p and (c.source, c.account_id) in account_n
        ),
        key=lambda t: (t[0], t[1]),
    )
    by_status: defaultdict[int, Counter[int]] = defaultdict(Counter)
    by_severity: defaultdict[int, Counter[int]] = defaultdict(Counter)
    classified: dict[int, str] = {}  # the engine's sensitivity (the snapshot's portals are unclassified)
    by_pair: defaultdict[int, Counter[str]] = defaultdict(Counter)  # "status:severity rank"
    for p, _, status, severity, c in keyed:
        by_status[p][status] += 1
        by_severity[p][severity] += 1
        by_pair[p][f"{BROWSE_STATUS_ORDER[status].value}:{severity}"] += 1
        classified[p] = c.sensitivity
    conn.executemany(
        "INSERT INTO browse_portals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                seq,
                i,
                source,
                pid,
                names[f"{source}/{pid}"],
                classified.get(i) or (portal.sensitivity.value if portal.sensitivity else None),
                portal.sign_in_via,
                sum(by_status.get(i, Counter()).values()),
                sum(v for k, v in by_status.get(i, Counter()).items() if BROWSE_STATUS_ORDER[k].is_protected),
                _counts_json({BROWSE_STATUS_ORDER[k].value: v for k, v in by_status.get(i, Counter()).items()}),
                _counts_json(by_severity.get(i, Counter())),
                _counts_json(by_pair.get(i, Counter())),
            )
            for i, (_, source, pid, portal) in enumerate(portals)
        ],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO browse_policies VALUES (?, ?, ?, ?, ?)",
        [(seq, s.source, pol.id, pol.name, pol.state.value) for s in snapshot.sources for pol in s.policies],
    )
    sources = {s.source: i for i, s in enumerate(sorted(snapshot.sources, key=lambda s: s.source))}
    # The fields after the ranks' inputs take few distinct combinations (as in the CSV writer).
    tails: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def tail(c: Coverage) -> tuple[Any, ...]:
        key = (
            c.enrolled,
            c.enforced,
            c.required,
            c.conditional,
            c.enforcement_source,
            c.policies,
            c.excluded_by,
            c.exception_id,
            c.reason,
        )
        found = tails.get(key)
        if found is None:
            found = tails[key] = (
                str(c.enrolled),
                str(c.enforced),
                str(c.required),
                int(c.conditional),
                c.enforcement_source,
                ids(c.policies),
                ids(c.excluded_by),
                c.exception_id,
                c.reason,
            )
        return found

    def verdict_rows() -> Iterator[tuple[Any, ...]]:
        current = -1
        status_before: dict[int, int] = {}
        severity_before: dict[int, int] = {}
        seen_status: Counter[int] = Counter()
        seen_severity: Counter[int] = Counter()
        r = 0
        for p, n, status, severity, c in keyed:
            if p != current:
                current, r = p, 0
                seen_status, seen_severity = Counter(), Counter()
                # Rows of this portal before each status (worst first) and each severity (worst first).
                counts = by_status[p]
                status_before = {k: sum(counts[j] for j in counts if j < k) for k in counts}
                sev = by_severity[p]
                severity_before = {k: sum(sev[j] for j in sev if j > k) for k in sev}
            in_status, in_severity = seen_status[status], seen_severity[severity]
            seen_status[status] += 1
            seen_severity[severity] += 1
            yield (
                seq,
                p,
                n,
                sources.get(c.source, -1),
                status,
                severity,
                *tail(c),
                r,
                status_before[status] + in_status,
                severity_before[severity] + in_severity,
                in_status,
                in_severity,
            )
            r += 1

    coverage = verdict_rows()
    while verdicts := list(islice(coverage, FINDINGS_BATCH)):
        conn.executemany(f"INSERT INTO browse_coverage VALUES ({', '.join('?' * 20)})", verdicts)

    texts = (
        (
            seq,
            n,
            account_n.get((f.source, f.account_id)) if f.account_id is not None else None,
            browse_pack([f.title, f.message, f.message_key, [list(kv) for kv in f.message_params]]),
        )
        for n, f in enumerate(result.findings)
    )
    while said := list(islice(texts, FINDINGS_BATCH)):
        conn.executemany("INSERT INTO browse_findings VALUES (?, ?, ?, ?)", said)

    # Rules not evaluated for want of a fact (results that carry them).
    not_evaluated: Iterable[Any] = getattr(result, "not_evaluated", ())
    conn.executemany(
        "INSERT INTO browse_not_evaluated VALUES (?, ?, ?, ?, ?)",
        [
            (
                seq,
                str(ne.rule_id),
                str(ne.source),
                json.dumps([str(x) for x in getattr(ne, "facts", ())]),
                str(getattr(ne, "reason", "")),
            )
            for ne in not_evaluated
        ],
    )
