"""Benchmark of the evaluation engine (coverage, rules, reconciliation, metrics).

    .venv/bin/python benchmarks/engine.py                 # 100k and 1M accounts, each in its own process
    .venv/bin/python benchmarks/engine.py --accounts 200000
    .venv/bin/python benchmarks/engine.py --accounts 100000 --method-policy

The organisation comes from the one seeded generator (``sample_org.generate``), over
its three sources. Its accounts reach about two portals each; the benchmark adds
"everyone" apps to each source (normal sensitivity, covered by the sources' all-app
policies) until the accesses reach five per account, so the work is comparable to
"N accounts × 5 portals". Generation and evaluation are timed apart; peak memory is
the process's maximum resident set (``getrusage``), which includes the generated
organisation. Figures are printed, never asserted.

``--method-policy`` gives every source a tenant methods policy (SMS and voice off for
the IT administrators' group, e-mail codes off, the rest on for everyone) read in
full, so the per-account allowance path of the engine is measured too.
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
import time
from dataclasses import replace

from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch
from auditor.engine.evaluate import evaluate
from auditor.model import (
    Access,
    AccessVia,
    AccountKind,
    Fact,
    FactRead,
    GroupId,
    MethodAllowance,
    MethodKind,
    Portal,
    PortalId,
    Scope,
    Sensitivity,
    Snapshot,
    SourceSnapshot,
)
from connectors.sandbox import sample_org

PORTALS_PER_ACCOUNT = 5
H, S = Sensitivity.HIGH, Sensitivity.SENSITIVE
CONFIG = EvaluationConfig(
    portals=(
        PortalClass(PortalMatch(source="entra", id="app-claims"), H),
        PortalClass(PortalMatch(source="entra", id="app-admin-console"), H),
        PortalClass(PortalMatch(source="okta", id="0oa-patient-portal"), H),
        PortalClass(PortalMatch(source="google", tag="ou:/Medical advisers"), H),
        PortalClass(PortalMatch(source="entra", id="app-payroll"), S),
        PortalClass(PortalMatch(source="okta", name_pattern="partner*"), S),
        PortalClass(PortalMatch(source="entra", id="app-partner-billing"), S, sign_in_via="okta"),
        PortalClass(PortalMatch(source="google", tag="ou:/Finance"), S),
    )
)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def widen(snap: SourceSnapshot) -> SourceSnapshot:
    """Add "everyone" apps until the source has about PORTALS_PER_ACCOUNT accesses per account."""
    humans = [a.id for a in snap.accounts if a.kind is not AccountKind.SERVICE]
    missing = PORTALS_PER_ACCOUNT * len(snap.accounts) - len(snap.access)
    extra_portals = max(0, round(missing / max(len(humans), 1)))
    portals = tuple(
        Portal(snap.source, PortalId(f"bench-app-{k}"), f"Benchmark app {k}", False) for k in range(extra_portals)
    )
    access = [Access(aid, p.id, AccessVia.EVERYONE) for p in portals for aid in humans]
    return replace(snap, portals=snap.portals + portals, access=snap.access + tuple(access))


def with_method_policy(snap: SourceSnapshot) -> SourceSnapshot:
    """A tenant methods policy read in full: phone methods off for the admins' group."""
    admins = Scope(include_all=True, exclude_groups=(GroupId("g-it-admins"),))
    everyone = Scope(include_all=True)
    allowances = tuple(
        MethodAllowance(
            kind, kind is not MethodKind.EMAIL_OTP, admins if kind in (MethodKind.SMS, MethodKind.VOICE) else everyone
        )
        for kind in MethodKind
    )
    return replace(snap, method_policy=allowances, facts=(*snap.facts, FactRead(Fact.METHODS_POLICY, True)))


def run_one(n: int, method_policy: bool = False) -> None:
    t0 = time.perf_counter()
    org = sample_org.generate(seed=7, accounts=n)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    gc.disable()  # millions of acyclic objects: the collector would only rescan them
    sources = tuple(widen(org.truth(s)) for s in ("entra", "google", "okta"))
    if method_policy:
        sources = tuple(with_method_policy(s) for s in sources)
    gc.enable()
    snapshot = Snapshot(org.period, org.period_start, org.period_end, "bench", sources)
    t_widen = time.perf_counter() - t0
    accounts = sum(len(s.accounts) for s in sources)
    accesses = sum(len(s.access) for s in sources)
    gc.collect()
    rss_before = _peak_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    result = evaluate(snapshot, CONFIG, now=org.now, run_id="bench")
    t_eval, c_eval = time.perf_counter() - t0, time.process_time() - c0
    peak = _peak_mib()
    print(
        f"accounts={accounts:,} accesses={accesses:,} rows={len(result.coverage):,} findings={len(result.findings):,}"
    )
    print(f"  generation        {t_gen:8.2f} s   (+ widening to {PORTALS_PER_ACCOUNT} portals: {t_widen:.2f} s)")
    rate = f"{accounts / t_eval:,.0f} accounts/s   {len(result.coverage) / t_eval:,.0f} rows/s"
    print(f"  evaluation        {t_eval:8.2f} s   {rate}   (CPU time {c_eval:.2f} s)")
    print(f"  peak RSS          {peak:8.0f} MiB (after generation: {rss_before:.0f} MiB)")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, action="append", help="size(s) to run; default 100000 and 1000000")
    parser.add_argument("--method-policy", action="store_true", help="give every source a tenant methods policy")
    args = parser.parse_args()
    sizes = args.accounts or [100_000, 1_000_000]
    if len(sizes) == 1:
        run_one(sizes[0], args.method_policy)
        return
    # One process per size, so that each peak is its own.
    extra = ["--method-policy"] if args.method_policy else []
    for n in sizes:
        subprocess.run([sys.executable, __file__, "--accounts", str(n), *extra], check=True)


if __name__ == "__main__":
    main()
