"""Collecting the demo's sources one after the other and side by side, through the real
connectors and the loopback sandboxes, in the same run: wall time of each and whether the
snapshots are byte-identical (they must be: the pipeline keeps the config's order).

    python benchmarks/concurrent_collect.py [--accounts 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from auditor import pipeline
from auditor.config import load_config
from auditor.evidence import snapshot_sha256
from auditor.registry import Registry
from connectors.sandbox.demo import prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        prepare(Path(tmp), accounts=args.accounts, progress=lambda _m: None) as runs,
    ):
        config_path, now = next(iter(runs))
        config = load_config(config_path, now=now)
        times: dict[int, list[float]] = {1: [], len(config.sources): []}
        digests: dict[int, set[str]] = {1: set(), len(config.sources): set()}
        for _ in range(args.repeat):
            for workers in times:  # alternate, so drift on the machine hits both alike
                start = time.perf_counter()
                snapshot = pipeline.collect(config, registry=Registry(), now=now, workers=workers)
                times[workers].append(time.perf_counter() - start)
                digests[workers].add(snapshot_sha256(snapshot))
        print(f"{len(config.sources)} sources, {args.accounts} accounts, {args.repeat} runs each")
        for workers, values in times.items():
            label = "sequential" if workers == 1 else f"concurrent ({workers} at once)"
            print(
                f"  {label:26} median {statistics.median(values):6.2f} s  (min {min(values):.2f}, max {max(values):.2f})"
            )
        same = len(digests[1] | digests[len(config.sources)]) == 1
        print(
            f"  snapshots byte-identical: {'yes' if same else 'NO'} ({sorted(digests[1] | digests[len(config.sources)])[0][:16]}…)"
        )


if __name__ == "__main__":
    main()
