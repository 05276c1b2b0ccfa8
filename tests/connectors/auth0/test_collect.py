"""Collection through the real auth0-python SDK against the sandbox over loopback:
equality with the generator's truth on both users paths, paging, pacing and 429s,
retries, failures, the SDK-model fallback, read-only requests, the token's origin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from auditor.interfaces import AuthenticationError, SettingsError
from auditor.model import (
    Access,
    AccessVia,
    AccountId,
    Fact,
    MethodKind,
    MethodStatus,
    SourceSnapshot,
)
from connectors.auth0 import Auth0Connector
from connectors.sandbox.auth0 import READ_SCOPES, Auth0Sandbox
from connectors.sandbox.sample_org import SampleOrg

Collect = Callable[..., SourceSnapshot]
Factory = Callable[..., Auth0Sandbox]


def projection(snap: SourceSnapshot) -> dict[str, Any]:
    return {
        "accounts": list(snap.accounts),
        "portals": list(snap.portals),
        "access": sorted(set(snap.access), key=lambda x: (x.account_id, x.portal_id)),
        "policies": list(snap.policies),
        "sign_ins": list(snap.sign_ins),
    }


def read_only(sandbox: Auth0Sandbox) -> None:
    """GETs only, plus the token request and creating an export job (a read)."""
    for r in sandbox.requests:
        assert r.method == "GET" or (r.method == "POST" and r.path in ("/oauth/token", "/api/v2/jobs/users-exports")), r


def codes(snap: SourceSnapshot) -> list[str]:
    return [i.code for i in snap.issues]


def test_collection_equals_truth(small_org: SampleOrg, sandbox_factory: Factory, collect: Collect) -> None:
    sandbox = sandbox_factory(small_org)
    snap = collect(sandbox, small_org, sign_ins=True)
    truth = small_org.truth("auth0")
    assert snap.complete, snap.issues
    assert snap.source == "auth0" and snap.connector == "auth0"
    assert projection(snap) == projection(truth)
    assert snap.sign_ins_collected and any(s.factor.value == "single" for s in snap.sign_ins)
    assert codes(snap) == ["auth0.users_path"] and "search listing" in snap.issues[0].message
    assert snap.expected_counts == {"accounts": len(truth.accounts)}
    facts = {f.fact: f for f in snap.facts}
    assert set(facts) == set(Fact)  # every fact is stated, read or not
    assert facts[Fact.METHODS].read and facts[Fact.POLICIES].read and facts[Fact.METHODS_POLICY].read
    assert not facts[Fact.ROLES].read and facts[Fact.ROLES].reason
    allowed = {a.kind: a.enabled for a in snap.method_policy}
    assert allowed[MethodKind.TOTP_SOFTWARE] and allowed[MethodKind.SMS] and allowed[MethodKind.FIDO2_SECURITY_KEY]
    read_only(sandbox)
    # The auditor's own M2M app and the tenant's global client are no portals.
    assert len(snap.portals) == 3


def test_paging_with_a_small_page(small_org: SampleOrg, sandbox_factory: Factory, collect: Collect) -> None:
    sandbox = sandbox_factory(small_org)
    snap = collect(sandbox, small_org, page_size=7)
    assert projection(snap)["accounts"] == projection(small_org.truth("auth0"))["accounts"]
    pages = [r for r in sandbox.requests if r.path == "/api/v2/users"]
    assert len(pages) == -(-len(small_org.truth("auth0").accounts) // 7)
    assert [r.query["page"] for r in pages] == [(str(n),) for n in range(len(pages))]


def _large(org: SampleOrg, n: int) -> SampleOrg:
    """The tenant with ``n`` users (the truth's users repeated under new ids)."""
    truth = org.truth("auth0")
    base = truth.accounts
    accounts = tuple(
        sorted(
            (
                replace(base[i % len(base)], id=AccountId(f"auth0|{i:024x}"), principal=f"user{i}@example.org")
                for i in range(n)
            ),
            key=lambda a: a.id,
        )
    )
    access = tuple(Access(a.id, p.id, AccessVia.EVERYONE) for a in accounts for p in truth.portals)
    return replace(org, sources={**org.sources, "auth0": replace(truth, accounts=accounts, access=access, sign_ins=())})


def test_over_the_search_cap_the_export_job_is_used(
    small_org: SampleOrg, sandbox_factory: Factory, collect: Collect
) -> None:
    org = _large(small_org, 1005)
    sandbox = sandbox_factory(org, rate=2000, burst=2000, export_polls=2)
    snap = collect(sandbox, org, export_poll_seconds=0.01, max_concurrency=8)
    assert snap.complete, snap.issues
    assert snap.accounts == org.truth("auth0").accounts
    (path,) = [i for i in snap.issues if i.code == "auth0.users_path"]
    assert "users-export job" in path.message and "1005 users" in path.message
    reqs = sandbox.requests
    assert [r.path for r in reqs if r.method == "POST" and r.family == "jobs"] == ["/api/v2/jobs/users-exports"]
    assert sum(1 for r in reqs if r.family == "jobs" and r.method == "GET") == 3  # polled until completed
    (download,) = [r for r in reqs if r.family == "export"]
    assert not download.authorization  # the Management API token stays with the tenant's origin
    assert [r.query.get("page") for r in reqs if r.path == "/api/v2/users"] == [("0",)]  # no paging past the cap
    read_only(sandbox)


def test_export_forced_on_a_small_tenant(small_org: SampleOrg, sandbox_factory: Factory, collect: Collect) -> None:
    sandbox = sandbox_factory(small_org)
    snap = collect(sandbox, small_org, users_via="export", export_poll_seconds=0.01)
    assert snap.accounts == small_org.truth("auth0").accounts
    assert not [r for r in sandbox.requests if r.path == "/api/v2/users"]
    assert snap.expected_counts == {}


def test_truncated_export_is_incomplete(small_org: SampleOrg, sandbox_factory: Factory, collect: Collect) -> None:
    sandbox = sandbox_factory(small_org, script={"export": ["malformed"]})
    snap = collect(sandbox, small_org, users_via="export", export_poll_seconds=0.01)
    assert not snap.complete
    assert "auth0.users_export_failed" in codes(snap)


def test_search_only_over_the_cap_says_incomplete(
    small_org: SampleOrg, sandbox_factory: Factory, collect: Collect
) -> None:
    org = _large(small_org, 1003)
    sandbox = sandbox_factory(org, rate=2000, burst=2000)
    snap = collect(sandbox, org, users_via="search", max_concurrency=8)
    assert not snap.complete
    assert "auth0.users_over_search_cap" in codes(snap)
    assert len(snap.accounts) == 1000


def test_pacing_under_a_small_bucket(small_org: SampleOrg, sandbox_factory: Factory, collect: Collect) -> None:
    sandbox = sandbox_factory(small_org, rate=40, burst=5)
    snap = collect(sandbox, small_org, max_concurrency=8, rate_limit_rps=40)
    assert snap.complete
    assert sandbox.throttled <= 1  # paced at the tenant's rate: no 429 storm


def test_429s_are_waited_out(small_org: SampleOrg, sandbox_factory: Factory, collect: Collect) -> None:
    sandbox = sandbox_factory(small_org, script={"methods": ["429", "429"], "users": ["429"]})
    snap = collect(sandbox, small_org)
    assert snap.complete
    assert projection(snap)["accounts"] == projection(small_org.truth("auth0"))["accounts"]
    assert sum(1 for r in sandbox.requests if r.status == 429) == 3


def test_retry_after_is_honoured(small_org: SampleOrg, sandbox_factory: Factory, make_connector, ctx_for) -> None:
    sandbox = sandbox_factory(small_org, script={"clients": ["429"]}, retry_after=0.3)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)

    connector = Auth0Connector("auth0", sandbox.settings(), Path("."), sleep=sleep, retry_delay=0.01)
    snap = connector.collect(ctx_for(small_org))
    assert snap.complete
    assert any(0.25 <= w <= 0.31 for w in waits), waits  # the pause Retry-After asked for
    assert connector.last_stats.throttled == 1


@pytest.mark.parametrize("fault", ["500", "503", "timeout", "reset", "malformed"])
def test_transient_faults_are_retried(
    fault: str, small_org: SampleOrg, sandbox_factory: Factory, collect: Collect
) -> None:
    sandbox = sandbox_factory(small_org, script={"methods": [fault]}, timeout_delay=0.6)
    snap = collect(sandbox, small_org, request_timeout_seconds=0.3)
    assert snap.complete, snap.issues
    assert projection(snap)["accounts"] == projection(small_org.truth("auth0"))["accounts"]


def test_methods_that_cannot_be_read_are_unreadable_records(
    small_org: SampleOrg, sandbox_factory: Factory, collect: Collect
) -> None:
    sandbox = sandbox_factory(small_org, persistent={"methods": "503"})
    snap = collect(sandbox, small_org, max_attempts=2)
    assert not snap.complete
    assert snap.accounts == ()
    assert len(snap.unreadable) == len(small_org.truth("auth0").accounts)
    assert "auth0.methods_unreadable" in codes(snap)


def test_token_expired_mid_run_is_renewed(small_org: SampleOrg, sandbox_factory: Factory, collect: Collect) -> None:
    sandbox = sandbox_factory(small_org, script={"methods": ["ok", "401"]})
    snap = collect(sandbox, small_org)
    assert snap.complete
    assert sum(1 for r in sandbox.requests if r.family == "token") == 2


def test_wrong_secret_is_a_clear_authentication_error(
    small_org: SampleOrg, sandbox_factory: Factory, collect: Collect, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = sandbox_factory(small_org)
    monkeypatch.setenv("MFA_AUDITOR_AUTH0_CLIENT_SECRET", "not-the-secret-4711")
    with pytest.raises(AuthenticationError, match="refused the client credentials") as err:
        collect(sandbox, small_org)
    assert "not-the-secret-4711" not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_unknown_method_type_is_a_coded_issue(small_org: SampleOrg, sandbox_factory: Factory, collect: Collect) -> None:
    uid = small_org.truth("auth0").accounts[0].id
    raw = [
        {
            "id": "sms|dev_1",
            "type": "phone",
            "confirmed": True,
            "created_at": "2026-01-02T03:04:05.000Z",
            "preferred_authentication_method": "voice",
        },
        {"id": "x|dev_2", "type": "telepathy", "confirmed": True, "created_at": "2026-01-02T03:04:05.000Z"},
        {"id": "rc|dev_3", "type": "recovery-code", "confirmed": True, "created_at": "2026-01-02T03:04:05.000Z"},
    ]
    sandbox = sandbox_factory(small_org, methods={uid: raw})
    snap = collect(sandbox, small_org)
    (account,) = [a for a in snap.accounts if a.id == uid]
    assert [(m.kind, m.vendor_label) for m in account.methods] == [
        (MethodKind.VOICE, "phone:voice"),
        (MethodKind.UNKNOWN, "telepathy"),
    ]
    assert account.strongest_method.value == "weak"
    assert "auth0.unknown_method_type" in codes(snap)


def test_model_rejection_falls_back_to_raw_json(
    small_org: SampleOrg, sandbox_factory: Factory, collect: Collect
) -> None:
    uid = small_org.truth("auth0").accounts[0].id
    raw = [{"id": "totp|dev_1", "type": "totp", "confirmed": True}]  # no created_at: the SDK's model requires it
    sandbox = sandbox_factory(small_org, methods={uid: raw})
    snap = collect(sandbox, small_org)
    assert snap.complete
    (account,) = [a for a in snap.accounts if a.id == uid]
    assert [(m.kind, m.status, m.registered_at) for m in account.methods] == [
        (MethodKind.TOTP_SOFTWARE, MethodStatus.ACTIVE, None)
    ]
    assert "auth0.schema_rejected" in codes(snap)


def test_logs_refused_means_sign_ins_not_read(small_org: SampleOrg, sandbox_factory: Factory, collect: Collect) -> None:
    sandbox = sandbox_factory(small_org, granted_scopes=[s for s in READ_SCOPES if s != "read:logs"])
    snap = collect(sandbox, small_org, sign_ins=True)
    assert snap.complete and not snap.sign_ins_collected and snap.sign_ins == ()
    (fact,) = [f for f in snap.facts if f.fact is Fact.SIGN_IN_LOG]
    assert not fact.read and "read:logs" in fact.reason


def test_logs_follow_checkpoints(small_org: SampleOrg, sandbox_factory: Factory, collect: Collect) -> None:
    sandbox = sandbox_factory(small_org)
    snap = collect(sandbox, small_org, sign_ins=True)
    logs = [r for r in sandbox.requests if r.path == "/api/v2/logs"]
    assert "q" in logs[0].query and all("from" in r.query and r.query["take"] == ("100",) for r in logs[1:])
    assert len(logs) >= 2
    assert snap.sign_ins == small_org.truth("auth0").sign_ins


def test_multifactor_prefilter_skips_users_without_enrolment(
    small_org: SampleOrg, sandbox_factory: Factory, collect: Collect
) -> None:
    sandbox = sandbox_factory(small_org)
    snap = collect(sandbox, small_org, multifactor_prefilter=True)
    asked = [r for r in sandbox.requests if r.family == "methods"]
    assert 0 < len(asked) < len(small_org.truth("auth0").accounts)
    assert "auth0.methods_prefiltered" in codes(snap)
    # The pre-filter can only lose methods the profile does not list (e-mail, WebAuthn,
    # passkeys): it never adds protection.
    truth = {a.id: a for a in small_org.truth("auth0").accounts}
    for a in snap.accounts:
        assert set(a.methods) <= set(truth[a.id].methods)


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"domain": "https://x.auth0.com"}, "domain"),
        ({"users_via": "scim"}, "users_via"),
        ({"rate_limit_rps": 0}, "rate_limit_rps"),
        ({"client_secret": "plain-text"}, "client_secret"),
        ({"allow_insecure_http": True, "domain": "tenant.auth0.com"}, "allow_insecure_http"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_settings_name_the_key(settings: dict[str, Any], key: str, make_connector) -> None:
    base = {"domain": "tenant.eu.auth0.com", "client_id": "abc", "client_secret": {"env": "X"}}
    with pytest.raises(SettingsError) as err:
        make_connector(base, **settings)
    assert err.value.key == key


def test_a_total_above_what_was_read_is_incomplete(
    small_org: SampleOrg, sandbox_factory: Factory, collect: Collect
) -> None:
    sandbox = sandbox_factory(small_org, persistent={"users": "short_total"})
    snap = collect(sandbox, small_org, page_size=20)
    assert not snap.complete
    (short,) = [i for i in snap.issues if i.code == "auth0.users_short"]
    n = len(small_org.truth("auth0").accounts)
    assert f"reports {n + 1} users, {n} were read" in short.message


def test_access_follows_the_connections(small_org: SampleOrg, sandbox_factory: Factory, collect: Collect) -> None:
    from connectors.sandbox.auth0.tenant import CLAIMS, DOCS, EXTRANET

    sandbox = sandbox_factory(small_org)
    snap = collect(sandbox, small_org)
    assert {x.portal_id for x in snap.access} == {CLAIMS, EXTRANET}  # docs: a Google-only connection
    assert next(f for f in snap.facts if f.fact is Fact.ACCESS).read
    listing = [r for r in sandbox.requests if r.path == "/api/v2/connections"]
    assert listing and all(r.query["fields"] == ("id,name",) for r in listing)  # never the options
    assert "never-read" not in repr(snap)
    assert DOCS in {p.id for p in snap.portals}


def test_connections_refused_means_every_application(
    small_org: SampleOrg, sandbox_factory: Factory, collect: Collect
) -> None:
    granted = [s for s in READ_SCOPES if s != "read:connections"]
    sandbox = sandbox_factory(small_org, granted_scopes=granted)
    snap = collect(sandbox, small_org)
    assert snap.complete
    assert len(snap.access) == len(snap.accounts) * len(snap.portals)
    (fact,) = [f for f in snap.facts if f.fact is Fact.ACCESS]
    assert not fact.read and "every application" in fact.reason
    assert "auth0.connections_unreadable" in codes(snap)


def test_progress_reports_users_methods_and_requests(
    small_org: SampleOrg, sandbox_factory: Factory, make_connector: Any, ctx_for: Any
) -> None:
    from dataclasses import replace as _replace

    from tests.support.progress import Recorder

    sandbox = sandbox_factory(small_org)
    seen = Recorder()
    snap = make_connector(sandbox.settings()).collect(_replace(ctx_for(small_org), progress=seen))
    assert snap.complete
    users = len(small_org.truth("auth0").accounts)
    assert seen.totals["users"] == seen.read_counts["users"] == users
    assert seen.totals["methods"] == seen.read_counts["methods"] == users
    assert seen.requests == sum(1 for r in sandbox.requests if r.path.startswith("/api/v2/"))
