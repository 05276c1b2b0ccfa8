"""Okta collection against the sandbox under a set request budget: how close to the
budget do the per-user factor calls run, and how many 429s does it cost?

    .venv/bin/python benchmarks/okta_collect.py [--accounts 6000] [--budget 100] [--window 2]

The sandbox allows ``--budget`` factor requests per ``--window`` seconds (Okta: 600 or
more per minute; the window is shortened so the run takes well under a minute). Prints
accounts/s, the factor request rate achieved as a fraction of the budget, and the 429
count. Target: ≥ 90 % of the budget with 429s under 1 % of requests. Figures only: no
pass/fail.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from auditor.interfaces import CollectContext
from connectors.okta import OktaConnector
from connectors.sandbox.okta import start
from connectors.sandbox.sample_org import generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=6000, help="size of the sample organisation (all sources)")
    ap.add_argument("--budget", type=int, default=100, help="factor requests allowed per window")
    ap.add_argument("--window", type=int, default=2, help="window length in seconds")
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args(argv)
    org = generate(seed=11, accounts=args.accounts)
    users = len(org.truth("okta").accounts)
    budgets = {"factors": args.budget, "users": 10_000, "groups": 10_000, "apps": 10_000, "roles": 10_000}
    with start(org, budgets=budgets, window_seconds=args.window) as sandbox:
        os.environ.update(sandbox.environ())
        settings = {**sandbox.settings(), "max_concurrency": args.concurrency}
        connector = OktaConnector("okta", settings, Path("."))
        ctx = CollectContext("okta", org.now, org.period_start, org.period_end)
        t0 = time.perf_counter()
        snap = connector.collect(ctx)
        elapsed = time.perf_counter() - t0
        factor_requests = [r for r in sandbox.requests if r.family == "factors"]
        throttled = sum(1 for r in factor_requests if r.status == 429)
    stats = connector.last_stats["factors"]
    span = (stats.last or 0.0) - (stats.first or 0.0)
    allowed_rate = args.budget / args.window
    # Requests dispatched after the first one, over the time they took: the sustained rate.
    achieved = (stats.requests - 1) / span if span > 0 else float("nan")
    print(f"okta users: {users}  (collected {len(snap.accounts)}, complete={snap.complete})")
    print(
        f"budget: {args.budget} factor requests / {args.window} s = {allowed_rate:.1f} req/s, "
        f"concurrency {args.concurrency}"
    )
    print(f"total time: {elapsed:.2f} s   accounts/s: {len(snap.accounts) / elapsed:.1f}")
    print(
        f"factor requests: {len(factor_requests)} over {span:.2f} s = {achieved:.1f} req/s "
        f"= {achieved / allowed_rate:.1%} of the budget"
    )
    # The run starts and ends mid-window: the most the touched windows could have given.
    touched = int((stats.last or 0.0) // args.window) - int((stats.first or 0.0) // args.window) + 1
    print(
        f"of the most the {touched} windows touched allowed ({touched * args.budget}): "
        f"{len(factor_requests) / (touched * args.budget):.1%}"
    )
    print(f"429s: {throttled} ({throttled / max(len(factor_requests), 1):.2%} of factor requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
