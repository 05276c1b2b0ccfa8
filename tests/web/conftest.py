"""A store with two evaluated runs of the sample organisation (the real engine), its
Okta accounts renamed with the fault suite's hostile names, and report files beside it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from auditor.store.database import EvidenceStore
from connectors.sandbox.sample_org import SampleOrg
from tests.support import store as store_support

# The kinds of name tests/faults/test_hostile_data.py plants in the IdP data.
SCRIPT = "<script>alert('pwned')</script>"
IMG = '<img src="file:///etc/passwd" onerror="alert(1)">'
CSS = "<style>body{background:url(https://attacker.invalid/x.png)}</style>"
CONTROL = "Eve\x1b[31mRED\x07\x00bell"
BIDI = "Mallory\u202egnp.exe"
FORMULA = '=HYPERLINK("https://attacker.invalid","click")'
LONG = "L" * 2_000
ARABIC = "سارة العتيبي"
CJK = "山田太郎"
HOSTILE = (SCRIPT, IMG, CSS, CONTROL, BIDI, FORMULA, LONG, ARABIC, CJK)

NOW_A = datetime(2026, 8, 15, 9, 0, tzinfo=UTC)
NOW_B = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)


def support() -> ModuleType:
    """The store tests' helpers (organisations, configs, stored runs)."""
    return store_support


def hostile(org: SampleOrg) -> SampleOrg:
    truth = org.sources["okta"]
    accounts = tuple(
        replace(a, display_name=name, principal=f"{name[:40]}.{i}@example.org")
        for i, a in enumerate(truth.accounts)
        for name in (HOSTILE[i % len(HOSTILE)],)
    )
    return replace(org, sources={**org.sources, "okta": replace(truth, accounts=accounts)})


@dataclass(frozen=True)
class Built:
    path: Path
    reports: Path
    run_a: str
    run_b: str


def build_store(folder: Path, accounts: int = 300) -> Built:
    sup = support()
    org = hostile(sup.base_org(seed=11, accounts=accounts))
    later = sup.quarter(org, 3)
    # Between the runs some accounts enrol (resolved findings) and some lose their methods (new).
    fixed = sup.sensitive_unenrolled(org, "entra")[:5]
    broken = sup.sensitive_enrolled(org, "entra")[:3]
    later = sup.with_methods(later, "entra", {**dict.fromkeys(fixed, (sup.PUSH,)), **dict.fromkeys(broken, ())})
    store = EvidenceStore(folder / "evidence.sqlite3")
    ids = []
    for o, now, digest in ((org, NOW_A, "a" * 64), (later, NOW_B, "b" * 64)):
        snapshot = sup.snapshot_of(o, digest)
        run_id = f"{snapshot.period}-{now:%Y%m%dT%H%M%SZ}-{digest[:8]}"
        result = sup.real_evaluate(snapshot, run_id, now)
        store.save_run(result, snapshot, digest, "organisation:\n  name: Test\n")
        ids.append(run_id)
    reports = folder / "reports"
    reports.mkdir()
    (reports / f"mfa-audit-{ids[1]}.pdf").write_bytes(b"%PDF-1.7 test\n")
    (reports / f"mfa-audit-{ids[1]}.html").write_text("<script>alert(1)</script>")
    (reports / f"mfa-audit-{ids[1]}-coverage.csv").write_text("source\r\n")
    (reports / f"mfa-audit-{ids[1]}.ocsf.jsonl").write_text("{}\n")
    return Built(store.path, reports, ids[0], ids[1])


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_store(tmp_path_factory.mktemp("web-store"))
