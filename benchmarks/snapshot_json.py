"""Benchmark of the canonical snapshot JSON: the streamed encoder against the one it replaced.

    .venv/bin/python benchmarks/snapshot_json.py                  # 200k accounts
    .venv/bin/python benchmarks/snapshot_json.py --accounts 1000000 --repeat 1

The organisation comes from the one seeded generator. Each encoder's pieces are consumed
(lengths summed, nothing kept); the best of ``--repeat`` runs is printed with its
throughput in MiB/s of UTF-8 output. A last pass hashes both outputs and prints whether
they are byte-identical. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from auditor.evidence import canonical_json, serialise
from auditor.model import Snapshot
from connectors.sandbox import sample_org


def _legacy_piece(value: Any) -> str:
    return json.dumps(serialise.to_data(value), ensure_ascii=False, sort_keys=True)


def _legacy_pieces(value: Any, depth: int) -> Iterator[str]:
    if depth <= 3 and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = sorted(f.name for f in dataclasses.fields(value))
        yield "{"
        for i, name in enumerate(names):
            yield (", " if i else "") + json.dumps(name) + ": "
            yield from _legacy_pieces(getattr(value, name), depth + 1)
        yield "}"
    elif depth <= 3 and isinstance(value, tuple):
        yield "["
        for i, item in enumerate(value):
            if i:
                yield ", "
            yield from _legacy_pieces(item, depth + 1)
        yield "]"
    else:
        yield _legacy_piece(value)


def legacy_iter_snapshot_json(snapshot: Snapshot) -> Iterator[str]:
    """The encoder before the generated writers (per-object dict, then json.dumps of it)."""
    fields = {f.name for f in dataclasses.fields(snapshot)}
    yield "{"
    for i, name in enumerate(sorted({*fields, "format"})):
        yield (", " if i else "") + json.dumps(name) + ": "
        if name == "format":
            yield json.dumps("mfa-auditor.snapshot")
        else:
            yield from _legacy_pieces(getattr(snapshot, name), 1)
    yield "}"


Encoder = Callable[[Snapshot], Iterator[str]]


def _time(encode: Encoder, snapshot: Snapshot, repeat: int) -> tuple[float, int]:
    best = float("inf")
    chars = 0
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        chars = 0
        for piece in encode(snapshot):
            chars += len(piece)
        best = min(best, time.perf_counter() - start)
    return best, chars


def _digest(encode: Encoder, snapshot: Snapshot) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    for piece in encode(snapshot):
        data = piece.encode("utf-8")
        sha.update(data)
        size += len(data)
    return sha.hexdigest(), size


def run(accounts: int, repeat: int) -> None:
    start = time.perf_counter()
    org = sample_org.generate(seed=7, accounts=accounts)
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "d" * 64, tuple(org.sources.values()))
    n_accounts = sum(len(s.accounts) for s in snapshot.sources)
    n_access = sum(len(s.access) for s in snapshot.sources)
    print(f"{n_accounts:,} accounts, {n_access:,} accesses (generated in {time.perf_counter() - start:.1f} s)")

    new_digest, size = _digest(canonical_json.iter_snapshot_json, snapshot)
    mib = size / 2**20
    timings = {}
    for label, encode in (("old", legacy_iter_snapshot_json), ("new", canonical_json.iter_snapshot_json)):
        seconds, _ = _time(encode, snapshot, repeat)
        timings[label] = seconds
        print(f"{label}: {seconds:6.2f} s  {mib / seconds:7.1f} MiB/s  ({mib:.1f} MiB)")
    print(f"speed-up: {timings['old'] / timings['new']:.2f}x")
    old_digest, _ = _digest(legacy_iter_snapshot_json, snapshot)
    print(f"byte-identical: {old_digest == new_digest} (sha256 {new_digest[:16]}…)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per encoder; the best is printed")
    args = parser.parse_args()
    run(args.accounts, args.repeat)


if __name__ == "__main__":
    main()
