"""The workforce connectors (Entra, Google Workspace, Okta) tell the operator what they
read: records of the main listing, every request, and the vendor's own total where the
API gives one. Run through the fault harness's sandboxes and real SDKs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.faults import harness
from tests.support.progress import Recorder


@pytest.mark.parametrize("vendor", harness.VENDORS)
def test_progress_counts_users_and_requests(vendor: str) -> None:
    seen = Recorder()
    sb = harness.start(vendor)
    try:
        with harness.environ(sb.environ()):
            snap = harness.connector(vendor, sb).collect(replace(harness.context(vendor), progress=seen))
    finally:
        sb.close()
    assert snap.complete
    people = len(snap.accounts) + len(snap.unreadable)
    assert seen.read_counts["users"] >= people > 0
    assert seen.requests > 0
    if vendor == "entra":
        assert seen.totals["users"] == snap.expected_counts["accounts"]  # Graph's $count
    if vendor == "okta":
        assert seen.totals["factors"] == seen.read_counts["factors"]
