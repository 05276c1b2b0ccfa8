"""Benchmark of the evidence store: save, list, load and purge a large run.

    .venv/bin/python benchmarks/store.py                  # 100k and 1M accounts, each in its own process
    .venv/bin/python benchmarks/store.py --accounts 200000

The organisation comes from the one seeded generator and is evaluated by the real
engine with the demo's portal classification. Timed apart: save (serialise, compress,
insert in one transaction), runs() (the history listing), load (decompress, verify the
SHA-256s, rebuild the model) and purge (with VACUUM). Also printed: the store's size and
the peak resident set of the process. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from auditor import retention
from auditor.config_model import EvaluationConfig, PortalClass, PortalMatch
from auditor.evaluate import evaluate
from auditor.model import Sensitivity, Snapshot
from auditor.store import EvidenceStore
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


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(accounts: int) -> None:
    t = time.perf_counter()
    org = sample_org.generate(seed=7, accounts=accounts)
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "d" * 64, tuple(org.sources.values()))
    result = evaluate(snapshot, _config(), now=org.now, run_id="bench-1")
    prepared = time.perf_counter() - t
    n_accounts = sum(len(s.accounts) for s in snapshot.sources)
    print(
        f"{n_accounts:>9,} accounts, {len(result.coverage):,} coverage rows, {len(result.findings):,} findings "
        f"(generated and evaluated in {prepared:.1f} s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        marks: dict[str, float] = {}
        store = EvidenceStore(
            Path(tmp) / "ev.sqlite3", on_stage=lambda name: marks.setdefault(name, time.perf_counter())
        )
        t = time.perf_counter()
        store.save_run(result, snapshot, "d" * 64, "config")
        saved = time.perf_counter() - t
        locked = marks["done"] - marks["run"]  # from the first insert to the commit
        size = store.file_size()
        t = time.perf_counter()
        store.runs()
        listed = time.perf_counter() - t
        t = time.perf_counter()
        loaded = store.load_run("bench-1")
        load_s = time.perf_counter() - t
        assert loaded.result.findings == result.findings
        del loaded
        t = time.perf_counter()
        retention.purge(store, 0, org.now.replace(year=org.now.year + 1), dry_run=False)
        purged = time.perf_counter() - t
        print(
            f"  save {saved:6.1f} s (write lock held {locked:.1f} s)   runs() {listed * 1000:6.1f} ms   "
            f"load+verify {load_s:6.1f} s   "
            f"purge+vacuum {purged:6.1f} s"
        )
        print(
            f"  store {size / 1e6:8.1f} MB before purge, {store.file_size() / 1e6:8.1f} MB after;"
            f" peak RSS {_peak_mb():,.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=None)
    args = parser.parse_args()
    if args.accounts is not None:
        run(args.accounts)
        return
    for n in (100_000, 1_000_000):  # own process each: peak RSS is per size
        subprocess.run([sys.executable, __file__, "--accounts", str(n)], check=True)


if __name__ == "__main__":
    main()
