"""``mfa-audit verify`` benchmark: time and peak memory to verify a report of the sample
organisation at the given sizes (default 2,000 — the demo's — and 100,000 accounts).

    .venv/bin/python benchmarks/verify.py [--sizes 2000,100000] [--repeat 3] [--no-layout]

Each size: the report is made as a run makes it (pipeline: evaluate, report context,
PDF), written to a temporary file, then verified in a fresh subprocess (so its peak RSS
is verify's alone) ``--repeat`` times each way: with the default page check (the pages'
text against the report HTML's text, no layout), with ``--layout`` (the report laid out
again; skipped with ``--no-layout``), and without the page check. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 15, 9, tzinfo=UTC)


def make(size: int, folder: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from auditor import pipeline
    from auditor.config.load import parse_config
    from auditor.render.pdf import render_pdf
    from tests.support import verify as vs

    figures: dict[str, Any] = {"accounts": size}
    snapshot = vs.render_support().sample_snapshot(size)
    config = parse_config(vs.config_text(max_detail_rows=200), folder / "audit.yaml", now=NOW)
    t = time.perf_counter()
    result = pipeline.evaluate_snapshot(config, snapshot, now=NOW)
    figures["evaluate_s"] = round(time.perf_counter() - t, 2)
    ctx = pipeline.report_context(config, result, snapshot, generated_at=NOW)
    t = time.perf_counter()
    data = render_pdf(ctx)
    figures["render_s"] = round(time.perf_counter() - t, 2)
    figures["pdf_mib"] = round(len(data) / 2**20, 1)
    (folder / "report.pdf").write_bytes(data)
    return figures


def verify(path: Path, pages: bool, layout: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from auditor.evidence.verify import verify_report

    t, cpu = time.perf_counter(), time.process_time()
    result = verify_report(path, check_pages=pages, layout=layout)
    return {
        "seconds": round(time.perf_counter() - t, 2),
        # CPU time too: on a shared machine the wall clock measures the neighbours.
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "ok": result.ok,
        "pages": next((c.detail for c in result.checks if c.name == "pages"), None),
        "load_average": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,100000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-layout", action="store_true", help="skip the (slow) verify --layout runs")
    parser.add_argument("--pdf", type=Path, help="verify this report instead of making one")
    parser.add_argument("--layout", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--make", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--verify", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-pages", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        print(json.dumps(make(args.make, args.folder)))
        return
    if args.verify:
        print(json.dumps(verify(args.verify, not args.no_pages, args.layout)))
        return
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if args.pdf is not None:
        print(json.dumps({"report": str(args.pdf), **_verify_ways(args.pdf, args, env)}))
        return
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            proc = subprocess.run(
                [sys.executable, __file__, "--make", str(size), "--folder", str(folder)],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if proc.returncode != 0:
                print(f"{size}: making the report failed\n{proc.stderr[-2000:]}")
                continue
            figures = json.loads(proc.stdout.strip().splitlines()[-1])
            figures.update(_verify_ways(folder / "report.pdf", args, env))
            print(json.dumps(figures))


def _verify_ways(pdf: Path, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """Each way of verifying, ``--repeat`` times, interleaved (so a change of load on the
    machine touches every way alike)."""
    ways = {"verify": [], "verify_layout": ["--layout"], "verify_without_pages": ["--no-pages"]}
    if args.no_layout:
        del ways["verify_layout"]
    figures: dict[str, Any] = {key: [] for key in ways}
    for _ in range(args.repeat):
        for key, extra in ways.items():
            cmd = [sys.executable, __file__, "--verify", str(pdf), *extra]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            figures[key].append(json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else "failed")
    return figures


if __name__ == "__main__":
    main()
