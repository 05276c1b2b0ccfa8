"""Benchmark of the web view (`mfa-audit serve`): page latency on a large stored run.

    .venv/bin/python benchmarks/web.py                      # 100k accounts
    .venv/bin/python benchmarks/web.py --accounts 1000000   # the issue's size: minutes, GBs
    .venv/bin/python benchmarks/web.py --synthetic 1000000  # one portal of 1M accounts, browse tables only

The organisation comes from the seeded generator, evaluated by the real engine with the
demo's classification, saved once (the save's browse-table stage is timed apart). Then
the pages are requested through the ASGI app in-process (Starlette's test client: the
routing, the SQL, the template rendering and the middleware; no socket), each several
times, and the median and 95th percentile are printed:

- portal page, first page, last page (deep OFFSET) and a status filter, of the largest portal;
- the same sorted by status and by worst finding;
- account page (every portal, methods, policies, findings, history across runs);
- findings page (first page, and a rule filter).

``--synthetic N`` skips the engine and the blobs: one source, one portal that all N
accounts reach, verdicts and findings drawn from a seeded generator, written by the
store's own browse-table writer into a run row; then the same page timings. It measures
the page queries at a size the whole pipeline would take far longer to reach.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from starlette.testclient import TestClient

from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch
from auditor.engine.evaluate import evaluate
from auditor.model import Sensitivity, Snapshot
from auditor.store.database import EvidenceStore
from auditor.web.app import WebSettings, create_app
from auditor.web.queries import PortalFilter, ReadOnlyStore
from auditor.web.security import Guard
from connectors.sandbox import sample_org
from connectors.sandbox.demo import PORTALS


def _config() -> EvaluationConfig:
    return EvaluationConfig(
        portals=tuple(
            PortalClass(
                PortalMatch(**p["match"]),
                Sensitivity(p["sensitivity"]),
                tuple(p["data_categories"]),
                p.get("sign_in_via"),
            )
            for p in PORTALS
        )
    )


def _time(get: Callable[[], object], repeat: int) -> tuple[float, float]:
    get()  # warm: templates compiled, pages of the file in the OS cache
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        get()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def _pages(path: Path, run_id: str, repeat: int) -> None:
    ro = ReadOnlyStore(path)
    meta = ro.run(run_id)
    portals = ro.portals(meta)
    big = max(portals, key=lambda p: p.total)
    last_page = max(1, -(-big.total // 50))
    account = ro.portal_page(meta, big.p, PortalFilter(sort="status"), 1, 1).rows[0].n
    rule = ro.findings_by_rule(meta)[0][0]
    web = TestClient(create_app(WebSettings(path, guard=Guard(hosts=frozenset({"testserver"}), token=None))))
    base = f"/runs/{run_id}"
    pages = {
        f"portal, page 1 ({big.total:,} rows)": f"{base}/portals/{big.p}",
        f"portal, last page ({last_page:,})": f"{base}/portals/{big.p}?page={last_page}",
        "portal, status filter": f"{base}/portals/{big.p}?status=not_enrolled",
        "portal, status filter, page 1,000": f"{base}/portals/{big.p}?status=not_enrolled&page=1000",
        "portal, sorted by status": f"{base}/portals/{big.p}?sort=status",
        "portal, sorted by worst finding, desc": f"{base}/portals/{big.p}?sort=severity&desc=1",
        "portal, status + severity (no rank)": f"{base}/portals/{big.p}?status=not_enrolled&severity=high",
        "account page": f"{base}/accounts/{account}",
        "findings, page 1": f"{base}/findings",
        f"findings, rule {rule}": f"{base}/findings?rule={rule}",
        "run overview": base,
    }
    print(f"{'page':<42} {'median ms':>10} {'p95 ms':>10}   ({repeat} requests each)")
    for name, url in pages.items():
        response = web.get(url)
        if response.status_code != 200:
            print(f"{name}: HTTP {response.status_code}", file=sys.stderr)
            continue
        median, p95 = _time(lambda u=url: web.get(u), repeat)
        print(f"{name:<42} {median:>10.1f} {p95:>10.1f}", flush=True)


def synthetic(accounts: int, repeat: int) -> None:
    import random
    from datetime import UTC, date, datetime

    from auditor.model import (
        Access,
        Account,
        AccountId,
        AccountKind,
        AuditResult,
        Coverage,
        CoverageStatus,
        Finding,
        Metrics,
        Portal,
        PortalId,
        Requirement,
        Severity,
        SourceName,
        SourceSnapshot,
        Strength,
    )
    from auditor.store import database as store_module

    rng = random.Random(7)
    now = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
    src = SourceName("synthetic")
    portal = Portal(src, PortalId("everyone"), "Everyone", sensitivity=Sensitivity.SENSITIVE)
    t = time.perf_counter()
    people = tuple(
        Account(src, AccountId(f"u{i:07d}"), f"user{i:07d}@example.org", f"User {i}", AccountKind.HUMAN, True)
        for i in range(accounts)
    )
    statuses = (CoverageStatus.PROTECTED,) * 6 + (
        CoverageStatus.NOT_ENROLLED,
        CoverageStatus.WEAK,
        CoverageStatus.CONDITIONAL,
        CoverageStatus.UNKNOWN,
    )
    coverage = []
    findings = []
    for a in people:
        status = rng.choice(statuses)
        coverage.append(
            Coverage(
                src,
                a.id,
                src,
                portal.id,
                status,
                Sensitivity.SENSITIVE,
                Strength.WEAK,
                Requirement.MFA,
                Strength.WEAK,
                False,
                "synthetic",
                src,
            )
        )
        if status is not CoverageStatus.PROTECTED:
            severity = Severity.HIGH if status is CoverageStatus.NOT_ENROLLED else Severity.MEDIUM
            findings.append(
                Finding(
                    "MFA-001",
                    severity,
                    "Not enrolled",
                    src,
                    a.id,
                    a.principal,
                    portal.id,
                    portal.name,
                    "no active second factor",
                )
            )
    source = SourceSnapshot(
        src,
        "synthetic",
        now,
        True,
        accounts=people,
        portals=(portal,),
        access=tuple(Access(a.id, portal.id) for a in people),
    )
    snapshot = Snapshot("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "d" * 64, (source,))
    result = AuditResult(
        "synthetic-1",
        "1",
        now,
        "2026-Q4",
        True,
        tuple(coverage),
        tuple(findings),
        (),
        (),
        Metrics(accounts, accounts, 1, accounts, 0, 0),
    )
    print(
        f"{accounts:,} synthetic accounts on one portal, {len(findings):,} findings "
        f"(built in {time.perf_counter() - t:.1f} s)",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = EvidenceStore(Path(tmp) / "ev.sqlite3")
        with store._connection() as conn, store._write(conn):
            conn.execute(
                "INSERT INTO runs (seq, run_id, period, config_digest, created_at, evaluated_at, rule_set_version,"
                " complete, accounts_read, accounts_in_scope, sensitive_portals, sensitive_accesses,"
                " sensitive_protected, sensitive_unknown, findings_total, findings_by_severity, status_counts,"
                " snapshot_sha256) VALUES (1, 'synthetic-1', '2026-Q4', 'd', ?, ?, '1', 1, ?, ?, 1, ?, 0, 0, ?,"
                " '{}', '{}', 's')",
                (now.isoformat(), now.isoformat(), accounts, accounts, accounts, len(findings)),
            )
            conn.executemany(
                "INSERT INTO findings VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        n,
                        f.rule_id,
                        f.severity.value,
                        f.source,
                        f.account_id,
                        f.principal,
                        f.portal_id,
                        f.portal_name,
                        store_module.finding_key_text(f),
                    )
                    for n, f in enumerate(findings)
                ),
            )
            conn.executemany(
                "INSERT INTO findings_agg VALUES (1, 'MFA-001', ?, ?)",
                [(s.value, sum(1 for f in findings if f.severity is s)) for s in (Severity.HIGH, Severity.MEDIUM)],
            )
            t = time.perf_counter()
            store_module._write_browse_tables(conn, 1, result, snapshot)
            print(f"browse tables written in {time.perf_counter() - t:.1f} s", flush=True)
        del people, coverage, findings, source, snapshot, result
        print(f"store {store.file_size() / 2**20:,.0f} MB", flush=True)
        _pages(store.path, "synthetic-1", repeat)


def run(accounts: int, repeat: int) -> None:
    t = time.perf_counter()
    org = sample_org.generate(seed=7, accounts=accounts)
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "d" * 64, tuple(org.sources.values()))
    result = evaluate(snapshot, _config(), now=org.now, run_id="bench-web-1")
    n_accounts = sum(len(s.accounts) for s in snapshot.sources)
    print(
        f"{n_accounts:,} accounts, {len(result.coverage):,} coverage rows, {len(result.findings):,} findings "
        f"(generated and evaluated in {time.perf_counter() - t:.1f} s)",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        marks: dict[str, float] = {}

        def stage(name: str) -> None:
            marks.setdefault(name, time.perf_counter())

        store = EvidenceStore(Path(tmp) / "ev.sqlite3", on_stage=stage)
        t = time.perf_counter()
        store.save_run(result, snapshot, "d" * 64, "config")
        saved = time.perf_counter() - t
        browse = marks["commit"] - marks["browse"]
        print(
            f"save {saved:.1f} s, of which browse tables {browse:.1f} s; store {store.file_size() / 2**20:,.0f} MB",
            flush=True,
        )
        del result, snapshot, org

        _pages(store.path, "bench-web-1", repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument(
        "--synthetic", type=int, default=0, help="one portal of this many accounts (browse tables only)"
    )
    args = parser.parse_args()
    if args.synthetic:
        synthetic(args.synthetic, args.repeat)
    else:
        run(args.accounts, args.repeat)


if __name__ == "__main__":
    main()
