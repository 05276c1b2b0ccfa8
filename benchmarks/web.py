"""Benchmark of the web view (`mfa-audit serve`): page latency on a large stored run.

    .venv/bin/python benchmarks/web.py                      # 100k accounts
    .venv/bin/python benchmarks/web.py --accounts 1000000   # the issue's size: minutes, GBs

The organisation comes from the seeded generator, evaluated by the real engine with the
demo's classification, saved once (the save's browse-table stage is timed apart). Then
the pages are requested through the ASGI app in-process (Starlette's test client: the
routing, the SQL, the template rendering and the middleware; no socket), each several
times, and the median and 95th percentile are printed:

- portal page, first page, last page (deep OFFSET) and a status filter, of the largest portal;
- the same sorted by status and by worst finding;
- account page (every portal, methods, policies, findings, history across runs);
- findings page (first page, and a rule filter).

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

from auditor.config_model import EvaluationConfig, PortalClass, PortalMatch
from auditor.evaluate import evaluate
from auditor.model import Sensitivity, Snapshot
from auditor.store import EvidenceStore
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

        ro = ReadOnlyStore(store.path)
        meta = ro.run("bench-web-1")
        portals = ro.portals(meta)
        big = max(portals, key=lambda p: p.total)
        last_page = max(1, -(-big.total // 50))
        account = ro.portal_page(meta, big.p, PortalFilter(sort="status"), 1, 1).rows[0].n
        rule = ro.findings_by_rule(meta)[0][0]
        web = TestClient(create_app(WebSettings(store.path, guard=Guard(hosts=frozenset({"testserver"}), token=None))))
        base = "/runs/bench-web-1"
        pages = {
            f"portal, page 1 ({big.total:,} rows)": f"{base}/portals/{big.p}",
            f"portal, last page ({last_page:,})": f"{base}/portals/{big.p}?page={last_page}",
            "portal, status filter": f"{base}/portals/{big.p}?status=not_enrolled",
            "portal, sorted by status": f"{base}/portals/{big.p}?sort=status",
            "portal, sorted by worst finding": f"{base}/portals/{big.p}?sort=severity&desc=1",
            "account page": f"{base}/accounts/{account}",
            "findings, page 1": f"{base}/findings",
            f"findings, rule {rule}": f"{base}/findings?rule={rule}",
            "run overview": base,
        }
        print(f"{'page':<40} {'median ms':>10} {'p95 ms':>10}   ({repeat} requests each)")
        for name, url in pages.items():
            response = web.get(url)
            if response.status_code != 200:
                print(f"{name}: HTTP {response.status_code}", file=sys.stderr)
                continue
            median, p95 = _time(lambda u=url: web.get(u), repeat)
            print(f"{name:<40} {median:>10.1f} {p95:>10.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    run(args.accounts, args.repeat)


if __name__ == "__main__":
    main()
