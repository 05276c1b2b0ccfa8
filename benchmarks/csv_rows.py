"""CSV rows benchmark: the coverage matrix and the findings as CSV, the original row-dict
path (csv.writer over one dict per row, kept here verbatim as the baseline) against
``write_csv`` today and the direct writers ``write_coverage_rows`` / ``write_finding_rows``.

    .venv/bin/python benchmarks/csv_rows.py [--accounts 100000] [--repeat 1]

The sink counts bytes and hashes nothing beyond what each path hashes itself, so the figures
measure the rows, not the disk. Also checks the bytes are identical. Prints figures; asserts
nothing about time.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "auditor" / "render"))

from auditor.render import rows  # noqa: E402
from auditor.render.view import ReportView  # noqa: E402


class _Sink:
    """Counts bytes; keeps a digest so identical output can be checked without keeping it."""

    def __init__(self) -> None:
        self.size = 0
        self.writes = 0
        self.biggest = 0
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.size += len(data)
        self.writes += 1
        self.biggest = max(self.biggest, len(data))
        self.sha.update(data)
        return len(data)


# --- the original path (rows.py before the fast writers), the baseline ------------------------


def _old_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = rows._UNSAFE.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(value))
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _old_write_csv(rows_: Iterator[dict[str, Any]], columns: tuple[str, ...], out: _Sink) -> str:
    digest = hashlib.sha256()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for count, row in enumerate(rows_, 1):
        writer.writerow([_old_cell(row[c]) for c in columns])
        if count % 2000 == 0:
            data = buffer.getvalue().encode("utf-8")
            digest.update(data)
            out.write(data)
            buffer.seek(0)
            buffer.truncate()
    data = buffer.getvalue().encode("utf-8")
    digest.update(data)
    out.write(data)
    return digest.hexdigest()


def _time(label: str, count: int, fn: Callable[[_Sink], str], repeat: int) -> tuple[float, str]:
    best = float("inf")
    sink = _Sink()
    digest = ""
    for _ in range(repeat):
        sink = _Sink()
        t = time.perf_counter()
        digest = fn(sink)
        best = min(best, time.perf_counter() - t)
    assert digest == sink.sha.hexdigest(), f"{label}: returned digest differs from the bytes written"
    print(
        f"  {label:<34} {best:8.2f} s  {count / best:>12,.0f} rows/s  "
        f"{sink.size / 1e6:8.1f} MB in {sink.writes} writes (largest {sink.biggest / 1e3:.0f} KB)"
    )
    return best, digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per path")
    parser.add_argument("--no-old", action="store_true", help="skip the (slow) original path")
    args = parser.parse_args()

    from conftest import evaluation_config  # the demo's classification, as the tests use it

    from auditor.engine.evaluate import evaluate
    from auditor.interfaces import ReportContext, ReportOptions
    from auditor.model import Snapshot
    from connectors.sandbox.sample_org import generate

    t = time.perf_counter()
    org = generate(seed=7, accounts=args.accounts)
    snapshot = Snapshot(
        org.period,
        org.period_start,
        org.period_end,
        "0" * 64,
        tuple(org.sources[s] for s in ("entra", "google", "okta")),
    )
    result = evaluate(snapshot, evaluation_config(), now=org.now, run_id=f"bench-{args.accounts}")
    ctx = ReportContext("Mutuelle Exemple", "rssi@example.org", result, snapshot, ReportOptions(), org.now, "0" * 64)
    view = ReportView(ctx)
    # Both are cached on the view and shared by every renderer: built before timing.
    _ = view.accounts, view.portal_names, view.findings_sorted
    print(f"inputs for {args.accounts:,} accounts: {time.perf_counter() - t:.1f} s")

    _compare("coverage", view, rows.COVERAGE_COLUMNS, rows.iter_coverage_rows, rows.write_coverage_rows, args)
    _compare("findings", view, rows.FINDING_COLUMNS, rows.iter_finding_rows, rows.write_finding_rows, args)


def _compare(
    name: str,
    view: ReportView,
    columns: tuple[str, ...],
    iter_rows: Callable[[ReportView], Iterator[dict[str, Any]]],
    fast: Callable[[ReportView, _Sink], str],
    args: argparse.Namespace,
) -> None:
    count = len(view.result.findings) if name == "findings" else len(view.result.coverage)
    print(f"{name}: {count:,} rows")
    digests = {}
    old = None
    if not args.no_old:
        old, digests["old"] = _time(
            "old: dict rows + csv.writer", count, lambda s: _old_write_csv(iter_rows(view), columns, s), args.repeat
        )
    _, digests["write_csv"] = _time(
        "write_csv(dict rows)", count, lambda s: rows.write_csv(iter_rows(view), columns, s), args.repeat
    )
    new, digests["fast"] = _time(f"{fast.__name__}(view)", count, lambda s: fast(view, s), args.repeat)
    same = len(set(digests.values())) == 1
    speedup = f", speed-up x{old / new:.1f}" if old else ""
    print(f"  identical bytes: {same}{speedup}")


if __name__ == "__main__":
    main()
