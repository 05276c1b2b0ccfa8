"""Auth0 collection against the sandbox at a set tenant rate: how close to the rate do
the per-user authentication-method calls run, what do they cost in requests against the
minimum, and how many 429s?

    .venv/bin/python benchmarks/auth0_collect.py [--users 5000] [--rate 200] [--burst 200]

The sandbox's token bucket refills at ``--rate`` requests per second (Auth0: 2 on free
and 16 on paid production tenants; raised here so the run takes seconds) and holds
``--burst``; the connector is told the same rate (``rate_limit_rps``). Above 1,000 users
the users come from the export job. Prints the request count by kind against the
minimum, the rate achieved as a share of the tenant's, and the 429 count. Figures only:
no pass/fail.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from auditor.interfaces import CollectContext
from connectors.auth0 import Auth0Connector
from connectors.sandbox.auth0 import start
from connectors.sandbox.auth0.tenant import SHARE, partners_tenant
from connectors.sandbox.sample_org import DEFAULT_NOW, generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--users", type=int, default=5000, help="users in the Auth0 tenant")
    ap.add_argument("--rate", type=float, default=200.0, help="the tenant's sustained requests per second")
    ap.add_argument("--burst", type=int, default=200, help="the tenant's bucket size")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--prefilter", action="store_true", help="multifactor_prefilter: skip users with no enrolment")
    args = ap.parse_args(argv)
    base = generate(seed=11, accounts=50)  # the period and the other fields; the tenant is replaced
    truth = partners_tenant(11, int(args.users / SHARE) + 1, DEFAULT_NOW, base.period_start)
    org = replace(base, sources={"auth0": truth})
    users = len(truth.accounts)
    with start(org, rate=args.rate, burst=args.burst, export_polls=2) as sandbox:
        os.environ.update(sandbox.environ())
        settings = {
            **sandbox.settings(),
            "max_concurrency": args.concurrency,
            "rate_limit_rps": args.rate,
            "export_poll_seconds": 0.2,
            "multifactor_prefilter": args.prefilter,
        }
        connector = Auth0Connector("auth0", settings, Path("."))
        ctx = CollectContext("auth0", org.now, org.period_start, org.period_end)
        t0 = time.perf_counter()
        snap = connector.collect(ctx)
        elapsed = time.perf_counter() - t0
        requests = [r for r in sandbox.requests if r.family not in ("token", "export")]
        throttled = sum(1 for r in requests if r.status == 429)
    by_family = Counter(r.family for r in requests)
    stats = connector.last_stats
    share = (stats.requests - 1) / stats.span / args.rate if stats.span > 0 else float("nan")
    asked = by_family["methods"]
    # The least a complete read can cost: one methods call per user asked, the users'
    # listing (pages of 100, or one export job created, one poll and the first search page).
    users_min = 3 if connector.last_users_path == "export" else max(1, -(-users // 100))
    scaling = asked + by_family["users"] + by_family["jobs"]
    print(f"auth0 users: {users} (collected {len(snap.accounts)}, complete={snap.complete})")
    print(f"users via: {connector.last_users_path}")
    print(f"tenant rate: {args.rate:g} req/s, bucket {args.burst}, concurrency {args.concurrency}")
    print(f"multifactor_prefilter: {args.prefilter}")
    print(f"total time: {elapsed:.2f} s   accounts/s: {len(snap.accounts) / elapsed:.1f}")
    print("requests by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(by_family.items())))
    print(f"scaling requests: {scaling} vs minimum {asked + users_min} ({scaling / (asked + users_min):.3f}x)")
    print(f"rate achieved: {(stats.requests - 1) / stats.span:.1f} req/s = {share:.1%} of the tenant's rate")
    print(f"429s: {throttled} ({throttled / max(len(requests), 1):.2%} of requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
