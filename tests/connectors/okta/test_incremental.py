"""Incremental factor collection: building on a previous snapshot of the same org gives
the same snapshot as a full collection, with far fewer factor requests; an unusable
previous snapshot falls back to a full collection and says why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from auditor.interfaces import CollectContext
from auditor.model import Method, MethodKind, MethodStatus, SourceSnapshot
from connectors.okta import OktaConnector
from connectors.okta.incremental import ORG_ENDPOINT
from connectors.sandbox.okta import OktaSandbox
from connectors.sandbox.sample_org import SampleOrg

FACTORS = "/factors"


def _ctx(org: SampleOrg, now: datetime, previous: SourceSnapshot | None) -> CollectContext:
    return CollectContext("okta", now, org.period_start, org.period_end, previous=previous)


def _collect(sandbox: OktaSandbox, org: SampleOrg, now: datetime, previous: SourceSnapshot | None) -> SourceSnapshot:
    connector = OktaConnector("okta", sandbox.settings(), Path("."), retry_delay=0.01)
    return connector.collect(_ctx(org, now, previous))


def _factor_requests(sandbox: OktaSandbox, since: int) -> int:
    return sum(1 for r in sandbox.requests[since:] if r.path.endswith(FACTORS))


def _comparable(snap: SourceSnapshot) -> SourceSnapshot:
    """What must not depend on how the factors were read: all but the time, the page
    digests and the note on how the collection went."""
    return replace(
        snap,
        collected_at=datetime.min.replace(tzinfo=UTC),
        raw_digests=(),
        issues=tuple(i for i in snap.issues if i.code != "okta.incremental"),
    )


def _note(snap: SourceSnapshot) -> str:
    return next(i.message for i in snap.issues if i.code == "okta.incremental")


def test_incremental_equals_full_after_factor_changes(
    small_org: SampleOrg, sandbox_factory: Callable[..., OktaSandbox]
) -> None:
    sandbox = sandbox_factory(small_org)
    first_at = small_org.now
    previous = _collect(sandbox, small_org, first_at, None)
    assert previous.complete
    live = [a for a in previous.accounts if a.attributes.get("okta_status") != "DEPROVISIONED"]
    assert len(live) > 20
    key = Method(MethodKind.FIDO2_SECURITY_KEY, "webauthn", MethodStatus.ACTIVE, first_at)
    changed_at = first_at + timedelta(hours=1)
    # Signalled by the System Log only: a factor enrolled, every factor reset.
    sandbox.change_factors(live[0].id, (*live[0].methods, key), changed_at)
    sandbox.change_factors(live[1].id, (), changed_at)
    # Signalled by lastUpdated only (a status / profile change that replaced the factors).
    sandbox.change_factors(live[2].id, (key,), changed_at, log=False, touch=True)

    mark = len(sandbox.requests)
    incremental = _collect(sandbox, small_org, first_at + timedelta(hours=2), previous)
    incremental_factor_requests = _factor_requests(sandbox, mark)
    mark = len(sandbox.requests)
    full = _collect(sandbox, small_org, first_at + timedelta(hours=2), None)
    full_factor_requests = _factor_requests(sandbox, mark)

    assert _comparable(incremental) == _comparable(full)
    by_id = {a.id: a for a in incremental.accounts}
    assert key in by_id[live[0].id].methods
    assert by_id[live[1].id].methods == ()
    assert by_id[live[2].id].methods == (key,)
    assert incremental_factor_requests == 3
    assert full_factor_requests == len(live)
    assert "re-read for 3 of" in _note(incremental)


def test_an_unchanged_org_needs_no_factor_request(
    small_org: SampleOrg, sandbox_factory: Callable[..., OktaSandbox]
) -> None:
    sandbox = sandbox_factory(small_org)
    previous = _collect(sandbox, small_org, small_org.now, None)
    mark = len(sandbox.requests)
    again = _collect(sandbox, small_org, small_org.now + timedelta(days=1), previous)
    assert _factor_requests(sandbox, mark) == 0
    assert _comparable(again) == _comparable(previous)


def test_unusable_previous_snapshots_fall_back_to_full(
    small_org: SampleOrg, sandbox_factory: Callable[..., OktaSandbox]
) -> None:
    sandbox = sandbox_factory(small_org)
    previous = _collect(sandbox, small_org, small_org.now, None)
    live = sum(1 for a in previous.accounts if a.attributes.get("okta_status") != "DEPROVISIONED")
    other_org = replace(
        previous,
        raw_digests=tuple(
            replace(d, sha256="0" * 64) if d.endpoint == ORG_ENDPOINT else d for d in previous.raw_digests
        ),
    )
    cases = {
        "incomplete": replace(previous, complete=False),
        "another org": other_org,
        "older than the System Log keeps": replace(previous, collected_at=small_org.now - timedelta(days=120)),
        "from connector 'entra'": replace(previous, connector="entra"),
    }
    for reason, prev in cases.items():
        mark = len(sandbox.requests)
        snap = _collect(sandbox, small_org, small_org.now + timedelta(hours=1), prev)
        assert _factor_requests(sandbox, mark) == live, reason
        assert "full factor collection" in _note(snap) and reason in _note(snap), reason
