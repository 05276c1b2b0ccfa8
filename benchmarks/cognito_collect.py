"""Cognito collection against the moto-based sandbox: requests sent vs the minimum, and
how close the paced AdminGetUser calls run to the rate the connector allows itself.

    .venv/bin/python benchmarks/cognito_collect.py [--members 5000] [--user-read 200] [--sign-ins]

The connector is told the UserRead quota is ``--user-read`` requests per second (the
real default is 120, of which it takes ``quota_share``; here the share is 1.0) and the
sandbox throttles above ``--sandbox-budget`` per second. Prints the request count per
operation against the minimum (one ListUsers per 60 users, one AdminGetUser per user,
a fixed handful per pool), the time, the achieved UserRead rate as a fraction of the
paced rate, and the TooManyRequestsException count; then the real-tenant floor at the
documented quotas. Figures only: no pass/fail.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from auditor.interfaces import CollectContext
from connectors.cognito import CognitoConnector
from connectors.cognito.settings import DEFAULT_QUOTA_SHARE, DEFAULT_QUOTAS
from connectors.sandbox.cognito.sandbox import start
from connectors.sandbox.cognito.truth import SHARE, members
from connectors.sandbox.sample_org import generate

HOUR = 3600.0


def floor_seconds(users: int, share: float, sign_ins: bool) -> dict[str, float]:
    """Seconds the documented quotas impose on a pool of ``users`` per call family (the
    listing, one AdminGetUser per user, auth events one request per user at least)."""
    out = {
        "ListUsers (UserList 30 rps)": -(-users // 60) / (DEFAULT_QUOTAS["UserList"] * share),
        "AdminGetUser (UserRead 120 rps)": users / (DEFAULT_QUOTAS["UserRead"] * share),
    }
    if sign_ins:
        out["AdminListUserAuthEvents (UserResourceRead 50 rps)"] = users / (DEFAULT_QUOTAS["UserResourceRead"] * share)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--members", type=int, default=5000, help="users in the pool")
    ap.add_argument("--user-read", type=float, default=200.0, help="UserRead quota the connector paces to (rps)")
    ap.add_argument("--sandbox-budget", type=int, default=220, help="UserRead requests the sandbox allows per second")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--sign-ins", action="store_true", help="also read auth events (one call per user)")
    args = ap.parse_args(argv)
    org = generate(seed=11, accounts=50)
    truth = members(11, int(args.members / SHARE), org.now, org.period_start)
    n = len(truth.accounts)
    fast = dict.fromkeys(DEFAULT_QUOTAS, 100000.0)
    with start(org, truth=truth, budgets={"UserRead": args.sandbox_budget}) as sandbox:
        os.environ.update(sandbox.environ())
        settings = {
            **sandbox.settings(),
            "quota_share": 1.0,
            "quotas": {**fast, "UserRead": args.user_read},
            "max_concurrency": args.concurrency,
        }
        connector = CognitoConnector("cognito", settings, Path("."))
        ctx = CollectContext("cognito", org.now, org.period_start, org.period_end, collect_sign_ins=args.sign_ins)
        t0 = time.perf_counter()
        snap = connector.collect(ctx)
        elapsed = time.perf_counter() - t0
        requests = list(sandbox.requests)
        throttled = sandbox.throttled
    ops = Counter(r.operation for r in requests)
    reads = sorted(r.time for r in requests if r.operation == "AdminGetUser")
    span = reads[-1] - reads[0] if len(reads) > 1 else float("nan")
    achieved = (len(reads) - 1) / span if span > 0 else float("nan")
    minimum = {"ListUsers": -(-n // 60), "AdminGetUser": n}
    if args.sign_ins:
        minimum["AdminListUserAuthEvents"] = sum(1 for a in truth.accounts if a.enabled)
    print(f"cognito users: {n} (collected {len(snap.accounts)}, complete={snap.complete})")
    print(f"total time: {elapsed:.2f} s   accounts/s: {len(snap.accounts) / elapsed:.1f}")
    scaling = sum(ops[k] for k in minimum)
    print(f"scaling requests: {scaling} vs minimum {sum(minimum.values())} ({scaling / sum(minimum.values()):.4f}x)")
    for op, count in sorted(ops.items()):
        print(f"  {op:28} {count:8}" + (f"  (minimum {minimum[op]})" if op in minimum else "  (fixed)"))
    print(
        f"AdminGetUser: {achieved:.1f} req/s = {achieved / args.user_read:.1%} of the paced {args.user_read:.0f} rps; "
        f"TooManyRequestsException: {throttled} ({throttled / max(1, len(requests)):.2%} of requests)"
    )
    for share in (1.0, DEFAULT_QUOTA_SHARE):
        for users in (100_000, 1_000_000):
            parts = floor_seconds(users, share, sign_ins=True)
            detail = ", ".join(f"{k}: {v / HOUR:.2f} h" for k, v in parts.items())
            # The AdminGetUser calls overlap the listing: the slower of the two sets the pace.
            base = max(v for k, v in parts.items() if "AuthEvents" not in k)
            print(f"real-tenant floor, quota share {share:.0%}, {users:,} users: {base / HOUR:.2f} h ({detail})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
