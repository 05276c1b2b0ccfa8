"""End to end at scale: an organisation of N accounts spread over the three vendor
sandboxes (throttling off), audited through the real connectors: collect → evaluate →
report (json, csv and pdf), with time and memory per stage and the request economy of
each source against the least its vendor's API allows.

    .venv/bin/python benchmarks/e2e.py [--sizes 10000,100000] [--million] [--no-pdf] [--limits]

Each size runs in its own process, and the sandboxes in a child process of that one, so
the peak RSS is the auditor's alone (not the generated organisation's nor the servers'),
and the servers do not compete with the connectors for the GIL.

``--limits`` adds a short real run with the vendors' documented limits switched on in
the sandboxes (Graph's identity-reports throttle, Okta's per-family budgets) and prints
the wall time a real tenant of each size would need per source: the floor the limits
set, and that floor divided by the fraction of it the run reached.

Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 7
TARGETS = {100_000: (120.0, 2048.0), 1_000_000: (1200.0, 4096.0)}  # accounts → (seconds, MiB)

# Documented page maxima (see /work/shared/reference/idp-apis.md and docs/scale.md).
GRAPH_USERS_PAGE = 999
GOOGLE_USERS_PAGE = 500
GOOGLE_REPORTS_PAGE = 1000
OKTA_USERS_PAGE = 200

# Documented request ceilings per source, as (requests, seconds) per endpoint class.
# Graph: identity and access reports, 5 requests / 10 s per app per tenant; the rest of
# Graph (130,000 / 10 s per app) never binds at these volumes. Google Admin SDK: the
# default quota of 2,400 queries per minute per user per project (Directory and Reports;
# check the project's quota page). Okta, workforce SKU per minute: /api/v1/users 600,
# factors and most /api/v1 calls 1,200, apps 100, groups 500, logs 120.
CEILINGS: dict[str, dict[str, tuple[int, float]]] = {
    "entra": {"reports": (5, 10.0), "other": (130_000, 10.0)},
    "google": {"directory": (2400, 60.0), "reports": (2400, 60.0), "other": (2400, 60.0)},
    "okta": {
        "users": (600, 60.0),
        "factors": (1200, 60.0),
        "apps": (100, 60.0),
        "groups": (500, 60.0),
        "logs": (120, 60.0),
        "other": (1200, 60.0),
    },
}

_IDS = re.compile(r"/(00u|00g|0oa|rst|gsp|pol)[\w-]+|/[0-9a-f]{8}-[0-9a-f-]{27}|/app-[\w-]+|/g-[\w-]+|/\d{4}-\d\d-\d\d")


def _rss_now_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the sandboxes, in a child process ---------------------------------------------------


def _okta_budgets(limited: bool, budget: int, window: int) -> tuple[dict[str, int], int]:
    from connectors.sandbox.okta import DEFAULT_BUDGETS

    if limited:
        return {**dict.fromkeys(DEFAULT_BUDGETS, 10**9), "factors": budget}, window
    return dict.fromkeys(DEFAULT_BUDGETS, 10**9), 60


def _classify(source: str, path: str) -> str:
    """An endpoint class: the path with ids folded, so per-user calls count together."""
    return _IDS.sub("/{id}", path)


def _ceiling_class(source: str, cls: str) -> str:
    if source == "entra":
        return (
            "reports"
            if cls.startswith(("/v1.0/reports/", "/beta/reports/", "/v1.0/auditLogs", "/beta/auditLogs"))
            else "other"
        )
    if source == "google":
        if cls.startswith("/admin/reports/"):
            return "reports"
        return "directory" if cls.startswith("/admin/directory/") else "other"
    if cls.endswith("/factors"):
        return "factors"
    for family in ("users", "apps", "groups", "logs"):
        if cls.startswith(f"/api/v1/{family}"):
            return "users" if family == "users" and cls == "/api/v1/users" else family
    return "other"


def _minimum(source: str, truth: Any, classes: Counter[str]) -> tuple[int, int]:
    """(least requests the vendor's API allows for what scales with accounts, the same
    classes as the connector made them). Fixed listings (policies, apps, roles, tokens)
    are left out of both: they do not grow with accounts and cannot be fewer than one."""
    n = len(truth.accounts)
    if source == "entra":
        users = math.ceil(n / GRAPH_USERS_PAGE)
        # The registration report ignores $top and serves the sandbox's page (1000, as Graph does).
        report = math.ceil(n / 1000)
        observed = classes["/v1.0/users"] + classes["/v1.0/reports/authenticationMethods/userRegistrationDetails"]
        return users + report, observed
    if source == "google":
        users = math.ceil(n / GOOGLE_USERS_PAGE)
        usage = math.ceil(n / GOOGLE_REPORTS_PAGE)
        days = sum(1 for c in classes if c.startswith("/admin/reports/v1/usage/"))
        observed = classes["/admin/directory/v1/users"] + sum(v for c, v in classes.items() if "/usage/" in c)
        return users + usage * max(days, 1), observed
    live = [a for a in truth.accounts if a.attributes.get("okta_status") != "DEPROVISIONED"]
    minimum = math.ceil(len(live) / OKTA_USERS_PAGE) + len(live)
    observed = classes["/api/v1/users"] + classes["/api/v1/users/{id}/factors"]
    return minimum, observed


def _summary(source: str, truth: Any, requests: Iterable[Any]) -> dict[str, Any]:
    classes: Counter[str] = Counter()
    sub_requests = 0
    limited = 0
    throttled = 0
    for r in requests:
        if getattr(r, "in_batch", False):
            sub_requests += 1  # inside a $batch POST: not an HTTP request of its own
            continue
        cls = _classify(source, r.path)
        classes[cls] += 1
        throttled += int(r.status == 429)
    per_ceiling: Counter[str] = Counter()
    for cls, count in classes.items():
        per_ceiling[_ceiling_class(source, cls)] += count
    limited = per_ceiling.get("reports", 0) if source == "entra" else per_ceiling.get("factors", 0)
    minimum, observed_scaling = _minimum(source, truth, classes)
    return {
        "accounts": len(truth.accounts),
        "requests": sum(classes.values()),
        "batch_sub_requests": sub_requests,
        "throttled": throttled,
        "scaling_requests": observed_scaling,
        "scaling_minimum": minimum,
        "per_ceiling": dict(per_ceiling),
        "limited_requests": limited,
        "top_classes": classes.most_common(6),
    }


def _serve(conn: Connection, size: int, limited: bool, okta_budget: int, okta_window: int, graph_window: float) -> None:
    """Child process: generate the organisation, serve it, hand back the config and,
    when asked, the request logs summarised."""
    from connectors.sandbox import google, graph, okta
    from connectors.sandbox.demo import demo_config
    from connectors.sandbox.sample_org import generate

    org = generate(seed=SEED, accounts=size)
    budgets, window = _okta_budgets(limited, okta_budget, okta_window)
    sandboxes: dict[str, Any] = {
        "entra": graph.start(org, enforce_limits=limited, report_limit=(5, graph_window), retry_after=graph_window / 5),
        "google": google.start(org),
        "okta": okta.start(org, budgets=budgets, window_seconds=window),
    }
    types = {"entra": "entra", "google": "google_workspace", "okta": "okta"}
    sources = {name: (types[name], sb.settings()) for name, sb in sandboxes.items()}
    env: dict[str, str] = {}
    for sb in sandboxes.values():
        env.update(sb.environ())
    config = demo_config(org, sources)
    config["report"]["formats"] = ["json", "csv", "pdf"]
    conn.send((config, env, org.now))
    conn.recv()  # "done"
    conn.send({name: _summary(name, org.truth(name), sb.requests) for name, sb in sandboxes.items()})
    for sb in sandboxes.values():
        sb.close()


class _Sandboxes:
    def __init__(
        self,
        size: int,
        *,
        limited: bool = False,
        okta_budget: int = 0,
        okta_window: int = 1,
        graph_window: float = 10.0,
    ) -> None:
        ctx = mp.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve, args=(child, size, limited, okta_budget, okta_window, graph_window), daemon=True
        )
        self._proc.start()
        self.config, self.env, self.now = self._conn.recv()

    def finish(self) -> dict[str, Any]:
        self._conn.send("done")
        summary: dict[str, Any] = self._conn.recv()
        self._proc.join(timeout=30)
        return summary


# --- one size, in its own process --------------------------------------------------------


def one(size: int, pdf: bool) -> dict[str, Any]:
    import yaml

    sandboxes = _Sandboxes(size)  # forked before the auditor's imports: the child stays small
    from auditor import pipeline
    from auditor.config.load import load_config
    from auditor.evidence.run_artefacts import RunArtefacts
    from auditor.registry import Registry

    figures: dict[str, Any] = {"accounts": size, "rss_start_mib": round(_rss_now_mib())}
    work = Path(tempfile.mkdtemp(prefix="e2e-"))
    try:
        os.environ.update(sandboxes.env)
        if not pdf:
            sandboxes.config["report"]["formats"] = ["json", "csv"]
        (work / "config.yaml").write_text(yaml.safe_dump(sandboxes.config, sort_keys=False), encoding="utf-8")
        registry = Registry()
        config = load_config(work / "config.yaml", now=sandboxes.now)
        now = sandboxes.now
        marks: list[tuple[str, float]] = []

        def progress(message: str) -> None:
            if message.startswith("collecting "):
                marks.append((message.split()[1], time.perf_counter()))

        def stage(name: str, fn: Callable[[], Any]) -> Any:
            start = time.perf_counter()
            out = fn()
            figures[f"{name}_s"] = round(time.perf_counter() - start, 2)
            figures[f"rss_after_{name}_mib"] = round(_rss_now_mib())
            figures[f"peak_after_{name}_mib"] = round(_rss_peak_mib())
            return out

        total = time.perf_counter()
        snapshot = stage("collect", lambda: pipeline.collect(config, registry=registry, now=now, progress=progress))
        end = total + figures["collect_s"]
        for i, (name, at) in enumerate(marks):
            figures[f"collect_{name}_s"] = round((marks[i + 1][1] if i + 1 < len(marks) else end) - at, 2)
        figures["complete"] = {s.source: s.complete for s in snapshot.sources}
        run = RunArtefacts(snapshot)  # the snapshot file, encoded once for the run id and reused by the report
        result = stage("evaluate", lambda: pipeline.evaluate_snapshot(config, run, now=now))
        figures["coverage_rows"] = len(result.coverage)
        figures["findings"] = len(result.findings)
        ctx = stage("context", lambda: pipeline.report_context(config, result, run, generated_at=now))
        for fmt in config.report.formats:

            def render(fmt: str = fmt) -> list[Path]:
                return pipeline.render_all(ctx, [fmt], work / "out", registry=registry)

            stage(f"render_{fmt}", render)
        figures["total_s"] = round(time.perf_counter() - total, 2)
        figures["peak_rss_mib"] = round(_rss_peak_mib())
        figures["sources"] = sandboxes.finish()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return figures


# --- limits on: a short real run -----------------------------------------------------------


def limits_run(size: int, okta_budget: int, okta_window: int, graph_window: float) -> dict[str, Any]:
    """Collect entra and okta with the documented limits on (windows shortened so the
    run is short; the ratio to the ceiling does not depend on the window's length)."""
    import yaml

    sandboxes = _Sandboxes(
        size, limited=True, okta_budget=okta_budget, okta_window=okta_window, graph_window=graph_window
    )
    from auditor import pipeline
    from auditor.config.load import load_config
    from auditor.registry import Registry

    out: dict[str, Any] = {
        "accounts": size,
        "okta_budget": okta_budget,
        "okta_window_s": okta_window,
        "graph_limit": [5, graph_window],
    }
    work = Path(tempfile.mkdtemp(prefix="e2e-limits-"))
    try:
        os.environ.update(sandboxes.env)
        (work / "config.yaml").write_text(yaml.safe_dump(sandboxes.config, sort_keys=False), encoding="utf-8")
        config = load_config(work / "config.yaml", now=sandboxes.now)
        for name in ("entra", "okta"):
            start = time.perf_counter()
            snap = pipeline.collect(config, registry=Registry(), now=sandboxes.now, only=[name])
            out[f"{name}_s"] = round(time.perf_counter() - start, 2)
            out[f"{name}_complete"] = snap.sources[0].complete
        summary = sandboxes.finish()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # The floor: the limited class's requests at the allowed rate (the first window's
    # budget is free), the fraction: that floor over the time the run took.
    for name, (limit, window) in (("entra", (5, graph_window)), ("okta", (okta_budget, float(okta_window)))):
        limited = summary[name]["limited_requests"]
        floor = max(0.0, (limited - limit) / limit * window)
        out[f"{name}_limited_requests"] = limited
        out[f"{name}_throttled"] = summary[name]["throttled"]
        out[f"{name}_floor_s"] = round(floor, 2)
        out[f"{name}_fraction_of_ceiling"] = round(floor / out[f"{name}_s"], 3) if out[f"{name}_s"] else None
    return out


def projection(figures: dict[str, Any], fractions: dict[str, float]) -> dict[str, Any]:
    """Wall time a real tenant of this size would need per source: every ceiling class's
    requests at its documented rate (the connectors read the classes one after another,
    so the times add), and that floor over the fraction of the ceiling reached."""
    out: dict[str, Any] = {}
    for name, src in figures["sources"].items():
        floor = 0.0
        for cls, count in src["per_ceiling"].items():
            limit, window = CEILINGS[name].get(cls, CEILINGS[name]["other"])
            floor += max(0, count - limit) / limit * window
        fraction = fractions.get(name)
        out[name] = {
            "floor_s": round(floor, 1),
            "expected_s": round(floor / fraction, 1) if fraction else None,
        }
    return out


# --- driver ---------------------------------------------------------------------------------


def _print_size(f: dict[str, Any]) -> None:
    n = f["accounts"]
    target = TARGETS.get(n)
    print(f"\n=== {n:,} accounts ===")
    stages = [k for k in f if k.endswith("_s") and k not in ("total_s",)]
    for k in stages:
        rss = f.get(f"rss_after_{k[:-2]}_mib")
        print(f"  {k[:-2]:<22} {f[k]:>8.2f} s" + (f"   rss {rss:>6} MiB" if rss is not None else ""))
    verdict = ""
    if target:
        verdict = (
            f"   target < {target[0]:.0f} s and < {target[1]:.0f} MiB: "
            f"{'met' if f['total_s'] < target[0] and f['peak_rss_mib'] < target[1] else 'NOT met'}"
        )
    print(f"  total {f['total_s']:.1f} s, peak RSS {f['peak_rss_mib']} MiB{verdict}")
    print(f"  coverage rows {f['coverage_rows']:,}, findings {f['findings']:,}, complete {f['complete']}")
    for name, s in f["sources"].items():
        per_k = 1000 * s["requests"] / max(s["accounts"], 1)
        ratio = s["scaling_requests"] / max(s["scaling_minimum"], 1)
        print(
            f"  {name:<7} {s['accounts']:>8,} accounts  {s['requests']:>8,} requests = {per_k:7.2f} / 1,000 accounts"
            f"   scaling part {s['scaling_requests']:,} vs minimum {s['scaling_minimum']:,} = {ratio:.3f}x"
            + (f"   ($batch sub-requests {s['batch_sub_requests']:,})" if s["batch_sub_requests"] else "")
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--million", action="store_true", help="add 1,000,000 accounts")
    ap.add_argument("--no-pdf", action="store_true")
    ap.add_argument("--limits", action="store_true", help="also a short real run with the vendors' limits on")
    ap.add_argument("--limits-size", type=int, default=10_000)
    ap.add_argument("--okta-budget", type=int, default=100, help="factor requests per window in the limits run")
    ap.add_argument("--okta-window", type=int, default=1)
    ap.add_argument("--graph-window", type=float, default=2.0, help="Graph reports: 5 requests per this many s")
    ap.add_argument("--json", action="store_true", help="print raw figures as JSON lines too")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--limits-one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, not args.no_pdf)))
        return
    if args.limits_one:
        print(json.dumps(limits_run(args.limits_size, args.okta_budget, args.okta_window, args.graph_window)))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.million and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    results: list[dict[str, Any]] = []
    for size in sizes:
        cmd = [sys.executable, __file__, "--one", str(size)] + (["--no-pdf"] if args.no_pdf else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(f"{size}: failed\n{proc.stderr[-3000:]}")
            continue
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(figures)
        _print_size(figures)
        if args.json:
            print(json.dumps(figures))
    if len(results) >= 2:
        a, b = results[0], results[-1]
        slope = (b["rss_after_collect_mib"] - a["rss_after_collect_mib"]) / (b["accounts"] - a["accounts"])
        print(
            f"\ncollection memory: {slope * 2**20:,.0f} bytes per account "
            f"between {a['accounts']:,} and {b['accounts']:,}"
        )
    fractions: dict[str, float] = {}
    if args.limits:
        cmd = [
            sys.executable,
            __file__,
            "--limits-one",
            "--limits-size",
            str(args.limits_size),
            "--okta-budget",
            str(args.okta_budget),
            "--okta-window",
            str(args.okta_window),
            "--graph-window",
            str(args.graph_window),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(f"limits run failed\n{proc.stderr[-3000:]}")
        else:
            lim = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"\nlimits on ({lim['accounts']:,} accounts): {json.dumps(lim)}")
            fractions = {
                n: lim[f"{n}_fraction_of_ceiling"] for n in ("entra", "okta") if lim.get(f"{n}_fraction_of_ceiling")
            }
    for figures in results:
        proj = projection(figures, fractions)
        print(f"\nreal tenant of {figures['accounts']:,} accounts, at the documented limits:")
        for name, p in proj.items():
            exp = f", expected ≈ {p['expected_s'] / 60:.1f} min at the measured fraction" if p["expected_s"] else ""
            print(f"  {name:<7} floor {p['floor_s'] / 60:8.1f} min{exp}")


if __name__ == "__main__":
    main()
