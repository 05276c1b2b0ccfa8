"""Benchmark of the evidence store: save, list, load and purge a large run.

    .venv/bin/python benchmarks/store.py                  # 100k and 1M accounts, each in its own process
    .venv/bin/python benchmarks/store.py --accounts 200000

The organisation comes from the one seeded generator and is evaluated by the real
engine with the demo's portal classification. Timed apart: save (serialise, compress,
insert in one transaction), runs() (the history listing), load (decompress, verify the
SHA-256s, rebuild the model) and purge (with VACUUM). Also printed: the store's size and
the peak resident set of the process. Figures are printed, never asserted.

Loading is also measured on its own, in a fresh process per decoder (peak RSS is per
process): ``streamed`` is ``EvidenceStore.load_run``; ``reference`` is what it did before
(whole blobs joined, ``json.loads``, the generic ``from_data``). Printed: the time, the
resident set once the run is decoded (about the model itself) and the peak.

    .venv/bin/python benchmarks/store.py --accounts 100000 --skip-reference
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch
from auditor.engine.evaluate import evaluate
from auditor.evidence import serialise
from auditor.model import AuditResult, Sensitivity, Snapshot
from auditor.store import retention
from auditor.store.database import BLOB_CONFIG, BLOB_RESULT, BLOB_SNAPSHOT, EvidenceStore
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


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _hwm_mb() -> float:
    """This process's peak resident set (ru_maxrss may keep the parent's across fork and exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return _peak_mb()


def _reference_load(store: EvidenceStore, run_id: str) -> tuple[Snapshot, AuditResult]:
    """``load_run`` as it was: every blob whole, ``json.loads`` and the generic ``from_data``."""
    with store._connection() as conn:
        row = store._run_row(conn, run_id)
        snapshot_bytes = store._read_blob(conn, row["seq"], BLOB_SNAPSHOT, run_id)
        result_bytes = store._read_blob(conn, row["seq"], BLOB_RESULT, run_id)
        store._read_blob(conn, row["seq"], BLOB_CONFIG, run_id)
    hashlib.sha256(snapshot_bytes).hexdigest()
    hashlib.md5(snapshot_bytes, usedforsecurity=False).hexdigest()  # what remember_snapshot_file hashed
    snapshot = serialise._snapshot_from_json_reference(snapshot_bytes)
    result = serialise.from_data(AuditResult, json.loads(result_bytes))
    return snapshot, result


def load_only(path: Path, decoder: str) -> None:
    store = EvidenceStore(path)
    before = _rss_mb()
    t = time.perf_counter()
    if decoder == "streamed":
        loaded = store.load_run("bench-1")
        n = sum(len(s.accounts) for s in loaded.snapshot.sources)
    else:
        snapshot, _ = _reference_load(store, "bench-1")
        n = sum(len(s.accounts) for s in snapshot.sources)
    elapsed = time.perf_counter() - t
    print(
        f"  load ({decoder:>9}, {n:,} accounts) {elapsed:6.1f} s   RSS before {before:6,.0f} MB, "
        f"after {_rss_mb():6,.0f} MB, peak {_hwm_mb():6,.0f} MB",
        flush=True,
    )


def run(accounts: int, reference: bool = True) -> None:
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

        def stage(name: str) -> None:
            marks.setdefault(name, time.perf_counter())

        store = EvidenceStore(Path(tmp) / "ev.sqlite3", on_stage=stage)
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
        for decoder in ("streamed", "reference") if reference else ("streamed",):
            subprocess.run([sys.executable, __file__, "--load", str(store.path), "--decoder", decoder], check=True)
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
    parser.add_argument("--skip-reference", action="store_true", help="do not time the reference decoder")
    parser.add_argument("--load", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--decoder", choices=("streamed", "reference"), default="streamed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load is not None:
        load_only(args.load, args.decoder)
        return
    if args.accounts is not None:
        run(args.accounts, reference=not args.skip_reference)
        return
    for n in (100_000, 1_000_000):  # own process each: peak RSS is per size
        command = [sys.executable, __file__, "--accounts", str(n)]
        subprocess.run(command + (["--skip-reference"] if args.skip_reference else []), check=True)


if __name__ == "__main__":
    main()
