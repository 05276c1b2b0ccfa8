"""Collection through boto3 against the moto-based sandbox: the snapshot equals the
truth; paging, short reads, throttling and failures are handled and said."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from auditor.interfaces import AuthenticationError
from auditor.model import Fact
from connectors.sandbox.cognito.sandbox import READ_ACTIONS
from connectors.sandbox.cognito.truth import PoolSpec
from connectors.sandbox.sample_org import SampleOrg

from .conftest import collect, connector, context


def test_snapshot_equals_the_truth(small_org: SampleOrg, start_sandbox) -> None:
    truth = small_org.truth("cognito")
    assert len(truth.accounts) > 60  # more than one ListUsers page
    sandbox = start_sandbox(small_org)
    snap = collect(sandbox, small_org)
    assert snap.complete, snap.issues
    assert snap.accounts == truth.accounts
    assert snap.portals == truth.portals
    assert snap.access == truth.access
    assert snap.policies == truth.policies
    assert snap.sign_ins == truth.sign_ins and snap.sign_ins_collected
    assert snap.method_policy == truth.method_policy
    assert snap.expected_counts == {"accounts": len(truth.accounts)}
    facts = {f.fact: f.read for f in snap.facts}
    assert facts[Fact.METHODS] and facts[Fact.POLICIES] and facts[Fact.SIGN_IN_LOG]
    assert not facts[Fact.ROLES] and not facts[Fact.LEGACY_AUTH]
    assert set(facts) == set(Fact)  # every fact is stated, read or not


def test_requests_are_the_minimum(small_org: SampleOrg, start_sandbox) -> None:
    """Per pool: DescribeUserPool, GetUserPoolMfaConfig, ceil(n/60) ListUsers, one
    ListUserPoolClients, one DescribeRiskConfiguration per client, one AdminGetUser
    per user; one AdminListUserAuthEvents per enabled user with sign-ins collected."""
    n = len(small_org.truth("cognito").accounts)
    sandbox = start_sandbox(small_org)
    collect(sandbox, small_org, sign_ins=False)
    ops = Counter(r.operation for r in sandbox.requests)
    assert ops == {
        "DescribeUserPool": 1,
        "GetUserPoolMfaConfig": 1,
        "ListUsers": -(-n // 60),
        "ListUserPoolClients": 1,
        "DescribeRiskConfiguration": 1,
        "AdminGetUser": n,
    }


def test_sign_ins_off_are_facts_not_read(small_org: SampleOrg, start_sandbox) -> None:
    sandbox = start_sandbox(small_org)
    snap = collect(sandbox, small_org, sign_ins=False)
    facts = {f.fact: f for f in snap.facts}
    assert not facts[Fact.SIGN_IN_LOG].read and not facts[Fact.SIGN_IN_TIMES].read
    assert all(a.last_sign_in is None for a in snap.accounts)
    assert "AdminListUserAuthEvents" not in {r.operation for r in sandbox.requests}


def test_without_threat_protection_sign_ins_are_not_read(small_org: SampleOrg, start_sandbox) -> None:
    sandbox = start_sandbox(small_org, spec=PoolSpec(security_mode="OFF"))
    snap = collect(sandbox, small_org)
    facts = {f.fact: f for f in snap.facts}
    assert not facts[Fact.SIGN_IN_LOG].read
    assert "threat protection" in facts[Fact.SIGN_IN_LOG].reason
    assert snap.sign_ins == () and not snap.sign_ins_collected
    assert all(p.id != "adaptive-authentication" for p in snap.policies)
    assert "AdminListUserAuthEvents" not in {r.operation for r in sandbox.requests}


def test_sign_ins_not_tied_to_a_portal_when_the_pool_has_two_clients(small_org: SampleOrg, start_sandbox) -> None:
    spec = PoolSpec(clients=(("3mbrs0mobile0app0client0a1", "Members mobile app"), ("2web0client", "Members web")))
    sandbox = start_sandbox(small_org, spec=spec)
    snap = collect(sandbox, small_org)
    facts = {f.fact: f for f in snap.facts}
    assert not facts[Fact.SIGN_IN_LOG].read and "app client" in facts[Fact.SIGN_IN_LOG].reason
    assert facts[Fact.SIGN_IN_TIMES].read  # last sign-in times still come from the events
    truth = small_org.truth("cognito")
    assert {a.id: a.last_sign_in for a in snap.accounts} == {a.id: a.last_sign_in for a in truth.accounts}
    assert snap.sign_ins == ()


def test_throttling_is_retried_and_counted(small_org: SampleOrg, start_sandbox) -> None:
    """The sandbox allows 40 AdminGetUser a second; the connector, told the quota is
    far higher, runs into TooManyRequestsException, backs off and still reads all."""
    sandbox = start_sandbox(small_org, budgets={"UserRead": 40})
    c = connector(sandbox, max_attempts=20)
    snap = c.collect(context(small_org, sign_ins=False))
    assert snap.complete
    assert snap.accounts == tuple(replace(a, last_sign_in=None) for a in small_org.truth("cognito").accounts)
    assert sandbox.throttled > 0
    assert c.last_api is not None and c.last_api.pacer.stats["UserRead"].throttled == sandbox.throttled


def test_pacing_keeps_under_the_category_quota(small_org: SampleOrg, start_sandbox) -> None:
    """Paced at the sandbox's own budget, the connector is never throttled."""
    sandbox = start_sandbox(small_org, budgets={"UserRead": 200, "UserList": 30})
    snap = collect(sandbox, small_org, sign_ins=False, quotas={"UserRead": 150, "UserList": 25})
    assert snap.complete and sandbox.throttled == 0


def test_user_whose_mfa_cannot_be_read_is_unreadable_not_unenrolled(small_org: SampleOrg, start_sandbox) -> None:
    sandbox = start_sandbox(small_org, script={"AdminGetUser": ["ok", "503", "503", "503"]})
    # One request at a time, so that the three 503s strike the same user's three attempts.
    snap = collect(sandbox, small_org, sign_ins=False, max_attempts=3, max_concurrency=1)
    assert not snap.complete
    assert len(snap.unreadable) == 1 and "MFA settings not read" in snap.unreadable[0].reason
    assert len(snap.accounts) + 1 == len(small_org.truth("cognito").accounts)
    assert any(i.code == "cognito.mfa_settings_unreadable" and i.incomplete for i in snap.issues)


@pytest.mark.parametrize("script", [["drop_token"], ["ok", "loop_token"]])
def test_lost_or_looping_pagination_token_is_a_short_read(small_org: SampleOrg, start_sandbox, script) -> None:
    sandbox = start_sandbox(small_org, script={"ListUsers": script})
    snap = collect(sandbox, small_org, sign_ins=False)
    assert not snap.complete
    assert {i.code for i in snap.issues if i.incomplete} & {"cognito.users_short_read", "cognito.users_incomplete"}


def test_refused_listing_is_an_authentication_error(small_org: SampleOrg, start_sandbox) -> None:
    granted = {"DescribeUserPool", "GetUserPoolMfaConfig", "AdminGetUser", "ListUserPoolClients"}
    sandbox = start_sandbox(small_org, granted=granted)
    with pytest.raises(AuthenticationError, match="ListUsers"):
        collect(sandbox, small_org)


def test_unknown_mfa_setting_is_unknown_never_a_factor(small_org: SampleOrg, start_sandbox) -> None:
    truth = small_org.truth("cognito")
    victim = next(a for a in truth.accounts if not a.methods and a.attributes["user_status"] == "CONFIRMED")
    sandbox = start_sandbox(small_org, extra_settings={victim.attributes["username"]: ["WEB_AUTHN\x1b[31m"]})
    snap = collect(sandbox, small_org, sign_ins=False)
    got = next(a for a in snap.accounts if a.id == victim.id)
    assert [m.kind.value for m in got.methods] == ["unknown"]
    assert got.strongest_method.value == "none"
    issue = next(i for i in snap.issues if i.code == "cognito.unknown_mfa_setting")
    assert "\x1b" not in issue.message and "[U+001B]" in issue.message
    assert snap.complete  # an unknown value is said, not a failure


def test_ambient_aws_environment_is_ignored(small_org: SampleOrg, start_sandbox, monkeypatch) -> None:
    """AWS_* variables pointing elsewhere change nothing: the sandbox verifies every
    signature against its own key, so a complete read proves the configured key and
    endpoint were used."""
    sandbox = start_sandbox(small_org)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAAMBIENTAMBIENT00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ambient-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    snap = collect(sandbox, small_org, sign_ins=False)
    assert snap.complete


def test_user_deleted_during_the_run_is_left_out_and_said(small_org: SampleOrg, start_sandbox) -> None:
    sandbox = start_sandbox(small_org, script={"AdminGetUser": ["gone"]})
    snap = collect(sandbox, small_org, sign_ins=False, max_concurrency=1)
    assert snap.complete  # a deletion is not a failure to read
    assert len(snap.accounts) + 1 == len(small_org.truth("cognito").accounts) and not snap.unreadable
    assert any(i.code == "cognito.users_deleted_during_run" for i in snap.issues)


def test_refused_auth_events_are_a_fact_not_read_after_one_request(small_org: SampleOrg, start_sandbox) -> None:
    sandbox = start_sandbox(small_org, granted={*READ_ACTIONS} - {"AdminListUserAuthEvents"})
    snap = collect(sandbox, small_org)
    assert snap.complete  # the audit goes on; the sign-in rules are not evaluated here
    facts = {f.fact: f for f in snap.facts}
    assert not facts[Fact.SIGN_IN_LOG].read and "AccessDeniedException" in facts[Fact.SIGN_IN_LOG].reason
    assert any(i.code == "cognito.auth_events_refused" for i in snap.issues)
    assert sum(r.operation == "AdminListUserAuthEvents" for r in sandbox.requests) == 1


def test_progress_reports_the_pool_estimate_records_and_requests(small_org: SampleOrg, start_sandbox) -> None:
    from dataclasses import replace as _replace

    from tests.support.progress import Recorder

    sandbox = start_sandbox(small_org)
    seen = Recorder()
    conn = connector(sandbox)
    snap = conn.collect(_replace(context(small_org), progress=seen))
    assert snap.complete
    users = len(small_org.truth("cognito").accounts)
    assert seen.totals["users"] == users and seen.read_counts["users"] == users
    assert seen.read_counts["MFA settings"] == users
    assert seen.requests == sum(c.requests for c in conn.last_api.counts.values())


def test_the_same_pool_read_twice_gives_the_same_snapshot(small_org: SampleOrg, start_sandbox) -> None:
    # Page digests covered botocore's ResponseMetadata (request id, date): every read differed.
    sandbox = start_sandbox(small_org)
    assert collect(sandbox, small_org) == collect(sandbox, small_org)
