"""Keycloak collection against the sandbox: accounts per second, and the requests made
against the fewest the Admin REST API allows for the same realm and page size.

    .venv/bin/python benchmarks/keycloak_collect.py [--users 20000] [--page-size 100] [--rate 100000]

The realm: ``--users`` users (a third with OTP, a few with WebAuthn or a pending
CONFIGURE_TOTP, 10 % linked to an identity provider), two portals (one with a
forced-OTP override and the password grant), a few roles and groups. The throttle is
raised (``--rate`` requests/s, ``--concurrency``) since the sandbox is on loopback; the
default 20 requests/s of the connector is for production realms.

The minimum: one token, the realm, /users/count, ⌈n/max⌉ user pages, one credentials
request per user (Keycloak has no bulk credentials endpoint), and every structural
listing once (roles and their member pages, groups with their members and role
mappings, clients, flows with their executions and configs, identity providers with
their linked-user pages). Target ≤ 1.2×. Figures only: no pass/fail.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from auditor.interfaces import CollectContext
from connectors.keycloak import KeycloakConnector
from connectors.sandbox.keycloak import start
from connectors.sandbox.keycloak.realm import Realm, RealmBuilder, browser_flow, step

sys.setrecursionlimit(10_000)


def build(users: int) -> Realm:
    b = RealmBuilder("bench")
    b.role("professionnel")
    b.group("/Staff", roles=["staff"])
    b.flow("forced otp", browser_flow(step("auth-otp-form")))
    b.idp("psc", "Pro Santé Connect")
    b.client("espace-adherents", "Espace adhérents")
    b.client("portail-pro", "Portail professionnels", browser_override="forced otp", direct_grant=True)
    for n in range(users):
        kind = n % 12
        creds = ("password", "otp") if kind < 4 else ("password", "webauthn") if kind == 4 else ("password",)
        b.user(
            f"user{n:06d}@example.fr",
            credentials=creds,
            required_actions=("CONFIGURE_TOTP",) if kind == 5 else (),
            roles=("professionnel",) if kind in (6, 7) else (),
            groups=("/Staff",) if n % 500 == 0 else (),
            idps=("psc",) if n % 10 == 0 else (),
        )
    return b.build()


def minimum(realm: Realm, page: int) -> int:
    def pages(k: int) -> int:
        return max(1, math.ceil(k / page))

    n = len(realm.users)
    used_flows = {realm.settings["browserFlow"], realm.settings["directGrantFlow"]}
    alias = {f["id"]: f["alias"] for f in realm.flows}
    for c in realm.clients:
        used_flows.update(alias[v] for v in c["authenticationFlowBindingOverrides"].values())
    configs = sum(1 for f in used_flows for e in realm.executions[f] if "authenticationConfig" in e)
    roles = [*realm.realm_roles, *(r for rs in realm.client_roles.values() for r in rs)]
    role_pages = sum(pages(len(realm.role_members.get(r["id"], []))) for r in roles)
    composites = sum(1 for r in roles if r["composite"])
    groups = len(realm.group_roles)
    group_pages = sum(pages(len(m)) for m in realm.group_members.values()) + (groups - len(realm.group_members))
    idp_pages = sum(pages(len(v)) for v in realm.idp_links.values())
    return (
        1  # token
        + 1  # realm
        + 1  # users/count
        + math.ceil(n / page)  # user pages
        + n  # credentials
        + 1  # clients
        + 1  # realm roles
        + len(realm.client_roles)  # each client's roles
        + role_pages
        + composites
        + 1  # groups
        + groups  # role mappings per group
        + group_pages
        + 1  # flows
        + len(used_flows)  # executions
        + configs
        + 1  # identity providers
        + idp_pages
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--rate", type=float, default=10_000.0, help="the connector's requests_per_second")
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    realm = build(args.users)
    built = time.perf_counter() - t0
    with start(realm) as sandbox:
        os.environ.update(sandbox.environ())
        settings = sandbox.settings(
            requests_per_second=args.rate, max_concurrency=args.concurrency, page_size=args.page_size
        )
        connector = KeycloakConnector("keycloak", settings, Path("."))
        ctx = CollectContext("keycloak", datetime(2026, 10, 1, tzinfo=UTC), date(2026, 7, 1), date(2026, 9, 30))
        t1 = time.perf_counter()
        snap = connector.collect(ctx)
        elapsed = time.perf_counter() - t1
        made = len(sandbox.requests)
    least = minimum(realm, args.page_size)
    print(f"users                 {len(snap.accounts):>10,}  (complete: {snap.complete})")
    print(f"realm generated in    {built:>10.1f} s")
    print(f"collection            {elapsed:>10.1f} s  ({len(snap.accounts) / elapsed:,.0f} accounts/s)")
    print(f"requests made         {made:>10,}")
    print(f"API minimum           {least:>10,}")
    print(f"ratio                 {made / least:>10.3f}×  (target ≤ 1.2×)")
    print(f"at the default 20 requests/s: {made / 20 / 3600:.1f} h for this realm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
