"""The connector against the Google sandbox over loopback: real googleapiclient +
google-auth, token exchange included. Fixtures in conftest.py."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from auditor.interfaces import AuthenticationError, SettingsError, SourceUnavailable
from auditor.model import SignIn, SignInFactor, SourceSnapshot
from connectors.google_workspace import GoogleWorkspaceConnector, codes
from connectors.sandbox import google as google_sandbox
from connectors.sandbox.google import KEY_ENV

USERS_PATH = "/admin/directory/v1/users"


def _codes(snap: object) -> list[str]:
    """The snapshot's issue codes but the note every key holder brings (tested on its own)."""
    return [i.code for i in snap.issues if i.code != codes.OTHER_2SV_METHODS]  # type: ignore[attr-defined]


def _projection(snap: SourceSnapshot) -> dict[str, Any]:
    """What the truth states and the vendor can express (not collected_at, digests, issues)."""
    return {
        "accounts": snap.accounts,
        "portals": snap.portals,
        "access": snap.access,
        "policies": snap.policies,
        "source": snap.source,
        "connector": snap.connector,
    }


def _sign_in_key(s: SignIn) -> tuple[str, str, object, SignInFactor]:
    return (s.account_id, s.portal_id, s.time, s.factor)


def test_collection_equals_the_generators_truth(demo_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(demo_org)
    snap = make_connector(sandbox).collect(make_ctx(demo_org))
    truth = demo_org.truth("google")
    # The sample holds what the mapping must get right: admins of both kinds, disabled
    # and never-signed-in accounts, every method kind.
    assert any(a.roles == ("_SEED_ADMIN_ROLE",) for a in truth.accounts)
    assert any(a.roles == ("delegated-admin",) for a in truth.accounts)
    assert any(not a.enabled for a in truth.accounts)
    assert any(a.last_sign_in is None for a in truth.accounts)
    assert snap.complete
    assert _codes(snap) == []
    assert snap.unreadable == ()
    assert _projection(snap) == _projection(truth)
    assert snap.raw_digests and all(len(d.sha256) == 64 for d in snap.raw_digests)


def test_login_audit_gives_sign_ins_per_ou_portal(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org)
    snap = make_connector(sandbox).collect(make_ctx(small_org, sign_ins=True))
    assert snap.sign_ins_collected
    assert {SignInFactor.SINGLE, SignInFactor.MULTI} <= {s.factor for s in sandbox.sign_ins}
    assert [_sign_in_key(s) for s in snap.sign_ins] == [_sign_in_key(s) for s in sandbox.sign_ins]
    login = [r for r in sandbox.requests if r.endpoint == "login"]
    assert login and login[0].query["eventName"] == ("login_success",)
    assert login[0].query["startTime"] == (f"{small_org.period_start.isoformat()}T00:00:00.000Z",)


def test_sign_ins_are_not_read_unless_asked(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org)
    snap = make_connector(sandbox).collect(make_ctx(small_org))
    assert not snap.sign_ins_collected and snap.sign_ins == ()
    assert not any(r.endpoint == "login" for r in sandbox.requests)


def test_multi_page_at_the_maximum_page_size(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org, page_size=7)
    snap = make_connector(sandbox).collect(make_ctx(small_org, sign_ins=True))
    truth = small_org.truth("google")
    assert snap.complete
    assert _projection(snap) == _projection(truth)
    users = [r for r in sandbox.requests if r.path == USERS_PATH]
    assert len(users) == -(-len(truth.accounts) // 7)
    assert {r.query["maxResults"] for r in users} == {("500",)}
    assert "pageToken" not in users[0].query and all("pageToken" in r.query for r in users[1:])
    usage = [r for r in sandbox.requests if r.endpoint == "usage"]
    assert len(usage) > 1 and {r.query["maxResults"] for r in usage} == {("1000",)}
    assert len([r for r in sandbox.requests if r.endpoint == "login"]) > 1


@pytest.mark.parametrize("fault", ["429", "rate_limit", "user_rate_limit", "500", "503"])
def test_quota_and_server_errors_are_retried_then_recover(
    fault, small_org, start_sandbox, make_connector, make_ctx, sleep_log
) -> None:
    sandbox = start_sandbox(small_org, page_size=10, script={"users": ["ok", fault, fault], "usage": [fault]})
    snap = make_connector(sandbox).collect(make_ctx(small_org))
    assert snap.complete, snap.issues
    assert _projection(snap) == _projection(small_org.truth("google"))
    assert len(sleep_log.delays) == 3
    # No Retry-After: bounded exponential backoff on the same page; quota errors start
    # at 10 s so that the retries outlast a per-minute quota window (10 + 20 + 40 + 60 s).
    quota = fault in ("429", "rate_limit", "user_rate_limit")
    assert sleep_log.delays[:2] == ([10.0, 20.0] if quota else [1.0, 2.0])


def test_retry_after_is_honoured(small_org, start_sandbox, make_connector, make_ctx, sleep_log) -> None:
    sandbox = start_sandbox(small_org, script={"users": ["429"]}, retry_after=7)
    assert make_connector(sandbox).collect(make_ctx(small_org)).complete
    assert sleep_log.delays == [7.0]


def test_persistent_failure_marks_the_source_incomplete(
    small_org, start_sandbox, make_connector, make_ctx, sleep_log
) -> None:
    sandbox = start_sandbox(small_org, page_size=10, script={"users": ["ok"]}, persistent={"users": "503"})
    snap = make_connector(sandbox, max_attempts=3).collect(make_ctx(small_org))
    assert not snap.complete
    issue = next(i for i in snap.issues if i.incomplete)
    assert issue.code == "google.users_incomplete"
    assert "users.list page 2" in issue.message and "503" in issue.message
    assert len(snap.accounts) == 10  # what was read is kept, and the gap is recorded
    assert len(sleep_log.delays) == 2  # bounded: three attempts, two waits
    assert len([r for r in sandbox.requests if r.path == USERS_PATH]) == 4


def test_malformed_page_marks_the_source_incomplete(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org, page_size=10, script={"users": ["ok", "malformed"]})
    snap = make_connector(sandbox).collect(make_ctx(small_org))
    assert not snap.complete
    assert any(i.incomplete and "malformed" in i.message and "page 2" in i.message for i in snap.issues)


def test_usage_report_failure_marks_the_source_incomplete(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org, persistent={"usage": "500"})
    snap = make_connector(sandbox, max_attempts=2).collect(make_ctx(small_org))
    assert not snap.complete
    assert any(i.code == "google.usage_report_unreadable" and i.incomplete for i in snap.issues)


def test_usage_report_lag_steps_back_and_says_so(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org, report_lag_days=4)
    snap = make_connector(sandbox).collect(make_ctx(small_org))
    assert snap.complete
    assert snap.accounts == small_org.truth("google").accounts
    dates = [r.path.rsplit("/", 1)[-1] for r in sandbox.requests if r.endpoint == "usage"]
    assert dates == ["2026-11-13", "2026-11-12", "2026-11-11"]
    assert _codes(snap) == ["google.usage_report_lag"]


def test_no_usage_report_within_the_bound_falls_back_to_unspecified(
    small_org, start_sandbox, make_connector, make_ctx
) -> None:
    sandbox = start_sandbox(small_org, report_lag_days=30)
    snap = make_connector(sandbox, max_report_lag_days=3).collect(make_ctx(small_org))
    assert len([r for r in sandbox.requests if r.endpoint == "usage"]) == 3
    assert _codes(snap) == ["google.usage_report_unavailable"]
    kinds = {m.kind.value for a in snap.accounts for m in a.methods}
    assert kinds == {"unspecified_second_factor"}  # never stronger than the source shows


def test_only_get_reaches_the_apis(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org, page_size=10, script={"users": ["ok", "429"]}, retry_after=0)
    connector = make_connector(sandbox)
    connector.collect(make_ctx(small_org, sign_ins=True))
    connector.check_access()
    requests = sandbox.requests
    assert {r.endpoint for r in requests} == {
        "token",
        "users",
        "orgunits",
        "roles",
        "roleassignments",
        "usage",
        "login",
    }
    for r in requests:
        assert (r.method, r.path) == ("POST", "/token") if r.endpoint == "token" else r.method == "GET", r


def test_refused_delegation_is_an_authentication_error(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org, refuse_scopes=["admin.reports.usage.readonly"])
    with pytest.raises(AuthenticationError, match="unauthorized_client"):
        make_connector(sandbox).collect(make_ctx(small_org))


def test_wrong_subject_is_an_authentication_error(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org)
    with pytest.raises(AuthenticationError, match="invalid_grant"):
        make_connector(sandbox, delegated_admin="nobody@example.org").collect(make_ctx(small_org))


def test_directory_refusing_the_admin_is_an_authentication_error(
    small_org, start_sandbox, make_connector, make_ctx
) -> None:
    sandbox = start_sandbox(small_org, persistent={"users": "forbidden"})
    with pytest.raises(AuthenticationError, match="Not Authorized"):
        make_connector(sandbox).collect(make_ctx(small_org))


def test_missing_audit_grant_costs_only_the_sign_ins(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org, refuse_scopes=["admin.reports.audit.readonly"])
    snap = make_connector(sandbox).collect(make_ctx(small_org, sign_ins=True))
    assert snap.complete and not snap.sign_ins_collected
    assert _codes(snap) == ["google.login_audit_refused"]
    assert snap.accounts == small_org.truth("google").accounts


def test_a_key_signed_by_another_key_is_refused(small_org, start_sandbox, make_connector, make_ctx, monkeypatch):
    sandbox = start_sandbox(small_org)
    other = start_sandbox(small_org)  # its own throwaway key
    monkeypatch.setenv(KEY_ENV, other.key_json())
    with pytest.raises(AuthenticationError, match="invalid_grant"):
        make_connector(sandbox).collect(make_ctx(small_org))


def test_application_default_credentials(small_org, start_sandbox, make_ctx, tmp_path, monkeypatch, sleep_log):
    sandbox = start_sandbox(small_org)
    key = tmp_path / "key.json"
    key.write_text(sandbox.key_json(), encoding="utf-8")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    settings = {
        "application_default": True,
        "delegated_admin": sandbox.admin,
        "api_endpoint": sandbox.base_url,
        "allow_insecure_http": True,
    }
    snap = GoogleWorkspaceConnector("google", settings, tmp_path, sleep=sleep_log).collect(make_ctx(small_org))
    assert snap.complete and snap.accounts == small_org.truth("google").accounts


def test_key_from_a_file_relative_to_the_config(small_org, start_sandbox, make_ctx, tmp_path, sleep_log) -> None:
    sandbox = start_sandbox(small_org)
    (tmp_path / "key.json").write_text(sandbox.key_json(), encoding="utf-8")
    settings = {**sandbox.settings(), "credentials": {"file": "key.json"}}
    snap = GoogleWorkspaceConnector("google", settings, tmp_path, sleep=sleep_log).collect(make_ctx(small_org))
    assert snap.complete


def test_the_key_never_leaks(small_org, start_sandbox, make_connector, make_ctx) -> None:
    sandbox = start_sandbox(small_org, persistent={"usage": "503"})
    connector = make_connector(sandbox, max_attempts=1)
    private = json.loads(sandbox.key_json())["private_key"]
    marker = private.splitlines()[1]
    snap = connector.collect(make_ctx(small_org))
    assert not snap.complete
    assert marker not in repr(snap) and marker not in repr(connector)
    with pytest.raises(AuthenticationError) as err:
        make_connector(sandbox, delegated_admin="nobody@example.org").collect(make_ctx(small_org))
    assert marker not in str(err.value) and marker not in repr(err.value.__cause__)
    assert marker not in repr(sandbox.key) and marker not in repr(sandbox)


def test_a_key_that_is_not_json_is_a_settings_error(small_org, start_sandbox, make_connector, make_ctx, monkeypatch):
    sandbox = start_sandbox(small_org)
    monkeypatch.setenv(KEY_ENV, "-----BEGIN PRIVATE KEY----- not json")
    with pytest.raises(SettingsError) as err:
        make_connector(sandbox).collect(make_ctx(small_org))
    assert err.value.key == "credentials" and "BEGIN" not in str(err.value)


def test_nothing_readable_is_source_unavailable(small_org, start_sandbox, make_connector, make_ctx, sleep_log):
    sandbox = start_sandbox(small_org, persistent={"users": "503"})
    with pytest.raises(SourceUnavailable, match=r"users\.list page 1"):
        make_connector(sandbox, max_attempts=3).collect(make_ctx(small_org))
    assert len(sleep_log.delays) == 2


def test_unreachable_api_is_retried_then_unavailable(small_org, start_sandbox, make_connector, make_ctx, sleep_log):
    sandbox = start_sandbox(small_org)
    closed = google_sandbox.start(small_org)
    closed.close()  # a port nobody listens on any more
    connector = make_connector(sandbox, api_endpoint=closed.base_url + "/", max_attempts=2)
    with pytest.raises(SourceUnavailable):
        connector.collect(make_ctx(small_org))
    assert len(sleep_log.delays) == 1


def test_partial_usage_report_steps_back_to_a_complete_day(small_org, start_sandbox, make_connector, make_ctx):
    sandbox = start_sandbox(small_org, partial_report_days=1)
    snap = make_connector(sandbox).collect(make_ctx(small_org))
    assert snap.accounts == small_org.truth("google").accounts
    assert _codes(snap) == ["google.usage_report_lag"]


def test_only_partial_usage_reports_are_used_conservatively(small_org, start_sandbox, make_connector, make_ctx):
    sandbox = start_sandbox(small_org, partial_report_days=30)
    snap = make_connector(sandbox, max_report_lag_days=2).collect(make_ctx(small_org))
    assert snap.complete
    assert _codes(snap) == ["google.usage_report_partial", "google.usage_report_missing_users"]
    truth = {a.id: a for a in small_org.truth("google").accounts}
    for account in snap.accounts:
        # Never stronger than the truth: users missing from the partial report are "unspecified".
        assert account.strongest_method.rank <= truth[account.id].strongest_method.rank
    assert any(a.methods != truth[a.id].methods for a in snap.accounts)


def test_facts_say_what_was_read_and_why_not(small_org, start_sandbox, make_connector, make_ctx) -> None:
    from auditor.model import Fact

    sandbox = start_sandbox(small_org)
    snap = make_connector(sandbox).collect(make_ctx(small_org, sign_ins=True))
    facts = {f.fact: f for f in snap.facts}
    assert set(facts) == set(Fact)
    for fact in (Fact.ACCOUNTS, Fact.METHODS, Fact.POLICIES, Fact.ROLES, Fact.ACCESS, Fact.SIGN_IN_TIMES,
                 Fact.SIGN_IN_LOG):  # fmt: skip
        assert facts[fact].read, fact
    # What the Admin SDK does not expose is never claimed as read.
    assert not facts[Fact.METHODS_POLICY].read and "Admin SDK" in facts[Fact.METHODS_POLICY].reason
    assert not facts[Fact.LEGACY_AUTH].read and facts[Fact.LEGACY_AUTH].reason
    quiet = make_connector(start_sandbox(small_org)).collect(make_ctx(small_org))
    log = next(f for f in quiet.facts if f.fact is Fact.SIGN_IN_LOG)
    assert not log.read and "not requested" in log.reason


def test_saml_sign_ins_are_left_out_of_the_evidence_and_counted(
    small_org, start_sandbox, make_connector, make_ctx
) -> None:
    """A sign-in at a SAML identity provider with no second step at Google says nothing of
    its factors: left out of the sign-in evidence (never a single-factor sign-in for
    MFA-011), counted in a coded issue. One with a second step at Google stays multi-factor."""
    truth = small_org.truth("google")
    enrolled = next(a for a in truth.accounts if a.enabled and a.methods)
    portal = next(x.portal_id for x in truth.access if x.account_id == enrolled.id)
    when = small_org.now - timedelta(days=3)
    saml_single = SignIn(enrolled.id, portal, when, SignInFactor.SINGLE, "saml")
    saml_multi = SignIn(enrolled.id, portal, when + timedelta(hours=1), SignInFactor.MULTI, "saml")
    org = replace(
        small_org, sources={**small_org.sources, "google": replace(truth, sign_ins=(saml_single, saml_multi))}
    )
    sandbox = start_sandbox(org)
    snap = make_connector(sandbox).collect(make_ctx(org, sign_ins=True))
    assert snap.sign_ins_collected
    assert [(s.account_id, s.time, s.factor) for s in snap.sign_ins] == [
        (enrolled.id, saml_multi.time, SignInFactor.MULTI)
    ]
    unstated = [i for i in snap.issues if i.code == "google.sign_in_factor_unstated"]
    assert [(i.record, i.incomplete) for i in unstated] == [("saml", False)]
    assert unstated[0].message.startswith("1 sign-ins (login_type 'saml') left out")
