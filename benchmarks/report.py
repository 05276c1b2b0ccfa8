"""Renderer benchmark: time and peak memory to write every report format for a sample
organisation of 10k, 100k and 1M accounts.

    .venv/bin/python benchmarks/report.py [--sizes 10000,100000,1000000] [--no-pdf]

Each size runs in its own subprocess so peak RSS figures do not mix. Inputs (generation
and evaluation) are timed apart from rendering. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Counting(io.RawIOBase):
    """A sink that counts bytes: measures the renderers, not the disk."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = len(data)
        self.size += n
        return n


def one(size: int, pdf: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from auditor.engine.evaluate import evaluate
    from auditor.evidence.run_artefacts import RunArtefacts
    from auditor.interfaces import ReportContext, ReportOptions
    from auditor.model import Snapshot
    from auditor.render.csv_out import CsvRenderer, write_coverage_csv
    from auditor.render.json_out import JsonRenderer
    from auditor.render.ocsf import OcsfRenderer
    from auditor.render.pdf import PdfRenderer
    from connectors.sandbox.sample_org import generate

    sys.path.insert(0, str(ROOT / "tests" / "auditor" / "render"))
    figures: dict[str, Any] = {"accounts": size}
    t = time.perf_counter()
    org = generate(seed=7, accounts=size)
    snapshot = Snapshot(
        org.period,
        org.period_start,
        org.period_end,
        "0" * 64,
        tuple(org.sources[s] for s in ("entra", "google", "okta")),
    )
    figures["generate_s"] = round(time.perf_counter() - t, 2)
    from conftest import evaluation_config  # the demo's classification, as the tests use it

    t = time.perf_counter()
    result = evaluate(snapshot, evaluation_config(), now=org.now, run_id=f"bench-{size}")
    figures["evaluate_s"] = round(time.perf_counter() - t, 2)
    figures["coverage_rows"] = len(result.coverage)
    figures["findings"] = len(result.findings)
    figures["rss_after_inputs_mib"] = round(_rss_mib())
    # The pipeline encodes the snapshot once per run, for the run id's digest; the store
    # and every report reuse that file (the run's RunArtefacts). Timed here as the run pays it.
    t = time.perf_counter()
    run = RunArtefacts(snapshot)
    figures["snapshot_sha256"] = run.snapshot_sha256[:16]
    figures["snapshot_file_s"] = round(time.perf_counter() - t, 2)
    figures["rss_after_snapshot_file_mib"] = round(_rss_mib())
    ctx = ReportContext(
        "Mutuelle Exemple",
        "rssi@example.org",
        result,
        snapshot,
        ReportOptions(),
        datetime(2026, 11, 15, 9, tzinfo=UTC),
        "0" * 64,
        "organisation: {name: x}\n",
        artefacts=run,
    )

    def timed(name: str, write: Any) -> None:
        sink = _Counting()
        start, cpu = time.perf_counter(), time.process_time()
        write(sink)
        figures[f"{name}_s"] = round(time.perf_counter() - start, 2)
        # CPU seconds of this process: on a shared machine the wall time also counts the
        # other processes' turns; the CPU time is what the renderer itself costs.
        figures[f"{name}_cpu_s"] = round(time.process_time() - cpu, 2)
        figures[f"{name}_mib"] = round(sink.size / 2**20, 1)
        figures[f"rss_after_{name}_mib"] = round(_rss_mib())

    total = time.perf_counter()
    # The CLI's order: the PDF first; the CSV files then inflate the PDF's attachments.
    if pdf:
        timed("pdf", lambda out: PdfRenderer().render(ctx, out))
    timed("findings_csv", lambda out: CsvRenderer().render(ctx, out))
    timed("coverage_csv", lambda out: write_coverage_csv(ctx, out))
    timed("json", lambda out: JsonRenderer().render(ctx, out))
    timed("ocsf", lambda out: OcsfRenderer().render(ctx, out))
    figures["render_total_s"] = round(time.perf_counter() - total, 2)
    figures["peak_rss_mib"] = round(_rss_mib())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--no-pdf", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, not args.no_pdf)))
        return
    for size in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--one", str(size)] + (["--no-pdf"] if args.no_pdf else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        if proc.returncode != 0:
            print(f"{size}: failed\n{proc.stderr[-2000:]}")
            continue
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
