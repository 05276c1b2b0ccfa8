"""Collecting the demo's sources one after the other and side by side, through the real
connectors and the loopback sandboxes, in the same run: wall time of each and whether the
snapshots are byte-identical (they must be: the pipeline keeps the config's order).

    python benchmarks/concurrent_collect.py [--accounts 2000] [--repeat 3] [--latency 0.03]

``--latency`` delays every sandbox answer as a vendor across a network would: on
loopback with none, the sandboxes and the connectors share one interpreter and the
sources' collections can only take turns on the CPU.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import yaml

from auditor import pipeline
from auditor.config.load import load_config
from auditor.evidence.attachments import snapshot_sha256
from auditor.registry import Registry
from connectors.sandbox.demo import VENDORS, demo_config
from connectors.sandbox.sample_org import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.03, help="seconds added to every sandbox answer")
    args = parser.parse_args()
    org = generate(seed=7, accounts=args.accounts)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        sources: dict[str, tuple[str, dict[str, Any]]] = {}
        for name, (ctype, module) in VENDORS.items():
            sandbox = importlib.import_module(module).start(org)
            stack.callback(sandbox.close)
            if args.latency:
                try:
                    sandbox.simulate_latency(args.latency)
                except (AttributeError, TypeError):
                    print(f"  ({name}: its sandbox cannot add latency; answered at loopback speed)")
            sources[name] = (ctype, sandbox.settings())
            os.environ.update(sandbox.environ())
        config_path = Path(tmp) / "config.yaml"
        config_path.write_text(yaml.safe_dump(demo_config(org, sources)), encoding="utf-8")
        config = load_config(config_path, now=org.now)
        n = len(config.sources)
        times: dict[int, list[float]] = {1: [], n: []}
        digests: set[str] = set()
        for _ in range(args.repeat):
            for workers in times:  # alternate, so drift on the machine hits both alike
                start = time.perf_counter()
                snapshot = pipeline.collect(config, registry=Registry(), now=org.now, workers=workers)
                times[workers].append(time.perf_counter() - start)
                digests.add(snapshot_sha256(snapshot))
        print(
            f"{n} sources, {args.accounts} accounts, {args.repeat} runs each, {args.latency * 1000:.0f} ms per answer"
        )
        for workers, values in times.items():
            label = "sequential" if workers == 1 else f"concurrent ({workers} at once)"
            med, low, high = statistics.median(values), min(values), max(values)
            print(f"  {label:26} median {med:6.2f} s  (min {low:.2f}, max {high:.2f})")
        print(f"  snapshots byte-identical: {'yes' if len(digests) == 1 else 'NO'}")


if __name__ == "__main__":
    main()
