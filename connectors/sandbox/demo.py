"""``mfa-audit demo``: the sample organisation served by the vendor sandboxes on
loopback, audited through the real connectors, over two quarters (so the report shows
a trend and a "since the last report" section).

Entry point ``mfa_auditor.demo: sample``. The CLI calls ``prepare(out_dir, …)`` and gets,
inside the context, an iterator of ``(config_path, now)``: one per quarter, each with
its sandboxes running and their throwaway credentials in the environment.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from auditor.evidence.serialise import source_snapshot_to_json
from auditor.model import AccountKind, MethodStatus
from connectors.sandbox.sample_org import EXTRANET_PORTAL, SampleOrg, extranet_export, generate, previous_quarter

# Source name in the demo → (connector entry point, sandbox module).
VENDORS = {
    "entra": ("entra", "connectors.sandbox.graph"),
    "google": ("google_workspace", "connectors.sandbox.google"),
    "okta": ("okta", "connectors.sandbox.okta"),
    "keycloak": ("keycloak", "connectors.sandbox.keycloak"),
    "cognito": ("cognito", "connectors.sandbox.cognito"),
    "auth0": ("auth0", "connectors.sandbox.auth0"),  # the partners' extranet tenant
}


class Sandbox(Protocol):
    def settings(self) -> dict[str, Any]: ...
    def environ(self) -> dict[str, str]: ...
    def close(self) -> None: ...


def _start(module: str, org: SampleOrg) -> Sandbox:
    sandbox: Sandbox = importlib.import_module(module).start(org)
    return sandbox


PORTALS: list[dict[str, Any]] = [
    {"match": {"source": "entra", "id": "app-claims"}, "sensitivity": "high", "data_categories": ["health", "payment"]},
    {"match": {"source": "entra", "id": "app-admin-console"}, "sensitivity": "high", "data_categories": ["health"]},
    {"match": {"source": "entra", "id": "app-payroll"}, "sensitivity": "sensitive", "data_categories": ["hr"]},
    {
        "match": {"source": "entra", "id": "app-partner-billing"},
        "sensitivity": "sensitive",
        "data_categories": ["payment"],
        "sign_in_via": "okta",
    },
    {"match": {"source": "okta", "id": "0oa-patient-portal"}, "sensitivity": "high", "data_categories": ["health"]},
    {
        "match": {"source": "okta", "name_pattern": "Partner*"},
        "sensitivity": "sensitive",
        "data_categories": ["payment"],
    },
    {
        "match": {"source": "google", "tag": "ou:/Medical advisers"},
        "sensitivity": "high",
        "data_categories": ["health"],
    },
    {"match": {"source": "google", "tag": "ou:/Finance"}, "sensitivity": "sensitive", "data_categories": ["finance"]},
    # The members' mobile app (Cognito): reimbursements and health statements.
    {
        "match": {"source": "cognito", "name": "Members mobile app"},
        "sensitivity": "high",
        "data_categories": ["health"],
    },
]


# The Keycloak realm's portals and their brokered variants ("… via Pro Santé Connect"),
# apart from PORTALS: a config may not classify a source it does not declare.
KEYCLOAK_PORTALS: list[dict[str, Any]] = [
    {
        "match": {"source": "keycloak", "name_pattern": "Espace adhérents*"},
        "sensitivity": "high",
        "data_categories": ["health"],
    },
    {
        "match": {"source": "keycloak", "name_pattern": "Portail professionnels de santé*"},
        "sensitivity": "high",
        "data_categories": ["health", "payment"],
    },
]


# The Auth0 tenant's portals (the partners' extranet), apart from PORTALS: a config may
# not classify a source it does not declare. Claims carry health data; the extranet shows
# payments.
AUTH0_PORTALS: list[dict[str, Any]] = [
    {
        "match": {"source": "auth0", "name": "Partner claims portal"},
        "sensitivity": "high",
        "data_categories": ["health", "payment"],
    },
    {
        "match": {"source": "auth0", "name": "Partner extranet"},
        "sensitivity": "sensitive",
        "data_categories": ["payment"],
    },
]


def _exceptions(org: SampleOrg) -> list[dict[str, Any]]:
    """Two register entries on real accounts of the sample: one valid, one expired."""
    entra = org.truth("entra")
    claims = {a.account_id for a in entra.access if a.portal_id == "app-claims"}
    unenrolled = [
        a.principal
        for a in entra.accounts
        if a.id in claims
        and a.enabled
        and a.kind is AccountKind.HUMAN
        and not a.privileged
        and not any(m.status is MethodStatus.ACTIVE for m in a.methods)
    ]
    out: list[dict[str, Any]] = []
    if unenrolled:
        out.append(
            {
                "id": "EXC-2026-014",
                "account": unenrolled[0],
                "portals": ["app-claims"],
                "reason": "Shared claims terminal in the Lyon branch; FIDO2 keys ordered",
                "approved_by": "RSSI (CISO), ticket SEC-4411",
                "expires": "2027-03-31",
            }
        )
    if len(unenrolled) > 1:
        out.append(
            {
                "id": "EXC-2026-003",
                "account": unenrolled[1],
                "portals": ["app-claims"],
                "reason": "Maternity leave return, enrolment pending",
                "approved_by": "DPO, ticket SEC-4102",
                "expires": "2026-09-30",
                "internal": True,  # the reason names a person's leave: kept out of the external edition
            }
        )
    return out


def _emergency_access() -> list[dict[str, Any]]:
    """The register names the first break-glass account only: the second one is the
    "possible undeclared emergency account" of the report (issue #14)."""
    return [
        {
            "account": "breakglass1@mutuelle-exemple.fr",
            "justification": "Tenant lock-out recovery (Conditional Access or IdP failure)",
            "owner": "RSSI (CISO)",
            "last_review": "2026-06-30",
            "review_every_days": 90,
        }
    ]


# The members' extranet, read from a JSON export by the ``file`` connector (sign-in times not read).
EXTRANET_CLASS: dict[str, Any] = {
    "match": {"source": "extranet", "id": str(EXTRANET_PORTAL)},
    "sensitivity": "sensitive",
    "data_categories": ["health"],
}


# Management's answers to findings (issue 18): carried from one quarter to the next.
RESPONSES: list[dict[str, Any]] = [
    {
        "id": "RESP-2026-07",
        "rule": "MFA-005",
        "portal": "app-claims",
        "owner": "DSI, identity team",
        "action": "Replace e-mailed codes with the authenticator app for claims staff; FIDO2 keys for team leads",
        "due": "2027-03-31",
        "status": "in_progress",
        "first_seen": "2026-Q3",
    },
    {
        "id": "RESP-2026-09",
        "rule": "MFA-001",
        "owner": "RSSI (CISO)",
        "action": "Enrolment campaign with branch managers; accounts not enrolled by the due date are disabled",
        "due": "2027-01-31",
        "status": "open",
        "internal": True,
    },
]

SIGNOFF: dict[str, Any] = {
    "prepared": {"name": "Claire Martin", "title": "Internal auditor", "date": "2026-11-16"},
    "reviewed": {"name": "Hugo Bernard", "title": "RSSI (CISO)", "date": "2026-11-18"},
    "approved": {"name": "Anne Lefèvre", "title": "Directrice générale", "date": "2026-11-20"},
}


def demo_config(org: SampleOrg, sources: Mapping[str, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "organisation": {"name": "Mutuelle Exemple (sample organisation)", "contact": "dpo@mutuelle-exemple.fr"},
        "period": org.period,
        "sources": [
            {"name": name, "type": ctype, "settings": settings, "collect_sign_ins": True}
            for name, (ctype, settings) in sources.items()
        ],
        # Rules for the sources configured here only (a config may not name an absent source).
        "portals": [
            p
            for p in [*PORTALS, *KEYCLOAK_PORTALS, *AUTH0_PORTALS, EXTRANET_CLASS]
            if p["match"].get("source") in sources
        ],
        "policy": {
            "required": {"high": "strong", "sensitive": "weak", "normal": "none"},
            "privileged": "phishing_resistant",
            "dormant_after_days": 90,
            "account_kinds": ["human", "guest"],
            # Below these protected shares a portal fails page one's verdict.
            "targets": {"high": 100, "sensitive": 90},
        },
        "exceptions": _exceptions(org),
        "emergency_access": _emergency_access(),
        "responses": RESPONSES,
        "report": {
            "title": "MFA coverage audit",
            "language": "en",
            "formats": ["pdf", "html", "json", "csv", "ocsf"],
            "output_dir": "reports",
            "signoff": SIGNOFF,
        },
        "store": {"path": "evidence.sqlite3"},
    }


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _quarter(org: SampleOrg, out_dir: Path, progress: Callable[[str], object]) -> Iterator[tuple[Path, datetime]]:
    with ExitStack() as stack:
        sources: dict[str, tuple[str, dict[str, Any]]] = {}
        env: dict[str, str] = {}
        for name, (ctype, module) in VENDORS.items():
            sandbox = _start(module, org)
            stack.callback(sandbox.close)
            sources[name] = (ctype, sandbox.settings())
            env.update(sandbox.environ())
        progress(f"{org.period}: sandboxes for {', '.join(VENDORS)} listening on 127.0.0.1")
        export = out_dir / "extranet.json"
        export.write_text(source_snapshot_to_json(extranet_export(org), indent=1), encoding="utf-8")
        sources["extranet"] = ("file", {"path": export.name})
        config_path = out_dir / "config.yaml"
        text = yaml.safe_dump(demo_config(org, sources), sort_keys=False, allow_unicode=True)
        config_path.write_text(
            "# Generated by `mfa-audit demo`: the sandboxes it names exist only during the demo.\n" + text,
            encoding="utf-8",
        )
        stack.enter_context(_environ(env))
        yield config_path, org.now


@contextmanager
def prepare(
    out_dir: Path, *, accounts: int = 2000, seed: int = 7, progress: Callable[[str], object] = print
) -> Iterator[Iterator[tuple[Path, datetime]]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    store = out_dir / "evidence.sqlite3"
    for leftover in (store, store.with_name(store.name + "-wal"), store.with_name(store.name + "-shm")):
        leftover.unlink(missing_ok=True)  # the demo's history is its own two quarters
    current = generate(seed=seed, accounts=accounts)
    quarters = (previous_quarter(current), current)

    def runs() -> Iterator[tuple[Path, datetime]]:
        for org in quarters:
            progress(f"auditing {org.period} of the sample organisation ({accounts} accounts)")
            yield from _quarter(org, out_dir, progress)

    yield runs()
