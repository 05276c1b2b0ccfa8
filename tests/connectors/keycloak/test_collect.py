"""Collection through the real python-keycloak against the sandbox over loopback:
accounts and methods, paging against /users/count, retries, failures, sign-ins, secrets."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta

import pytest

from auditor.config.schema import EvaluationConfig, PortalClass, PortalMatch
from auditor.engine.evaluate import evaluate
from auditor.interfaces import AuthenticationError
from auditor.model import (
    CoverageStatus,
    Fact,
    MethodKind,
    MethodStatus,
    Sensitivity,
    SignInFactor,
    Snapshot,
)
from connectors.sandbox.keycloak import SECRET_ENV, KeycloakSandbox, RealmBuilder
from connectors.sandbox.keycloak.realm import Realm

from .conftest import NOW, PERIOD, connector, context

Factory = Callable[..., KeycloakSandbox]


def small_realm(users: int = 7, events: bool = False) -> Realm:
    b = RealmBuilder("members")
    b.client("espace-adherents", "Espace adhérents")
    b.client("api", "Partner API", direct_grant=True)
    b.client("backend", "Backend", bearer_only=True)  # nobody signs in: not a portal
    b.group("/Staff", roles=["staff"])
    b.group("/Staff/Support")
    b.role("auditor-role", composite_of=("staff",))
    b.user("admin@example.fr", credentials=("password", "webauthn"), roles=["realm-management.realm-admin"])
    b.user("staff@example.fr", credentials=("password", "otp"), groups=["/Staff/Support"])
    b.user("odd@example.fr", credentials=("password", "sms-authenticator-plugin"), roles=["auditor-role"])
    b.user("svc", service_client="api")
    b.user("off@example.fr", enabled=False, required_actions=("webauthn-register",))
    for n in range(users - 5):
        b.user(f"member{n}@example.fr", credentials=("password", "otp") if n % 2 else ("password",))
    if events:
        b.realm.settings["eventsEnabled"] = True
        staff = b.realm.users[1]["id"]
        member = b.realm.users[5]["id"]
        day = NOW - timedelta(days=20)
        b.login_event(staff, "espace-adherents", day)  # OTP configured, conditional OTP: a second factor ran
        b.login_event(member, "espace-adherents", day)  # password only
        b.login_event(member, "espace-adherents", day, {"credential_type": "otp"})
        b.login_event(member, "espace-adherents", NOW - timedelta(days=200))  # before the period
    return b.build()


def test_accounts_methods_roles_and_portals(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm())
    snap = connector(sandbox).collect(context())
    assert snap.complete and snap.connector == "keycloak"
    by = {a.principal: a for a in snap.accounts}
    assert len(by) == 7 and snap.expected_counts == {"accounts": 7}
    assert by["admin@example.fr"].privileged
    assert [m.kind for m in by["admin@example.fr"].methods] == [MethodKind.PASSWORD, MethodKind.FIDO2_SECURITY_KEY]
    assert "staff" in by["staff@example.fr"].roles  # from the parent group /Staff
    assert by["staff@example.fr"].groups == ("/Staff/Support",)
    assert "staff" in by["odd@example.fr"].roles  # composite role expanded
    assert MethodKind.UNKNOWN in [m.kind for m in by["odd@example.fr"].methods]
    assert by["svc"].kind.value == "service"
    pending = by["off@example.fr"].methods
    assert [(m.kind, m.status) for m in pending][-1] == (MethodKind.FIDO2_SECURITY_KEY, MethodStatus.PENDING)
    assert {p.id for p in snap.portals} == {"espace-adherents", "api"}
    assert {i.code for i in snap.issues} == {"keycloak.credential_unknown"}
    facts = {f.fact: f for f in snap.facts}
    assert facts[Fact.METHODS].read and facts[Fact.POLICIES].read and not facts[Fact.SIGN_IN_LOG].read
    assert all(r.method == "GET" or r.family == "token" for r in sandbox.requests)


def test_users_paged_to_the_count_without_an_extra_page(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm(users=10))
    snap = connector(sandbox, page_size=3).collect(context())
    assert snap.complete and len(snap.accounts) == 10
    pages = [r for r in sandbox.requests if r.path == "/admin/realms/members/users" and "idpAlias" not in r.query]
    assert [r.query["first"] for r in pages] == [("0",), ("3",), ("6",), ("9",)]
    assert sum(1 for r in sandbox.requests if r.path.endswith("/users/count")) == 1


def test_short_pages_are_a_short_read_not_a_smaller_realm(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm(users=10), persistent={"users": "short"})
    snap = connector(sandbox, page_size=4).collect(context())
    assert not snap.complete
    assert "keycloak.users_short_read" in {i.code for i in snap.issues if i.incomplete}


def test_transient_errors_are_retried(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm(), script={"credentials": ["503", "500", "429"], "users": ["502"]})
    snap = connector(sandbox).collect(context())
    assert snap.complete and len(snap.accounts) == 7


def test_unread_credentials_are_unreadable_and_never_protected(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm(), persistent={"credentials": "503"})
    snap = connector(sandbox, max_attempts=2).collect(context())
    assert not snap.complete and not snap.accounts and len(snap.unreadable) == 7
    config = EvaluationConfig(
        portals=(PortalClass(PortalMatch(source="keycloak", name_pattern="*"), Sensitivity.HIGH),)
    )
    result = evaluate(Snapshot("2026-Q3", PERIOD[0], PERIOD[1], "t", (snap,)), config, now=NOW, run_id="t")
    assert not any(row.status.is_protected for row in result.coverage)


def test_unread_flows_make_coverage_unknown(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm(), persistent={"flows": "500"})
    snap = connector(sandbox, max_attempts=2).collect(context())
    assert not snap.complete
    config = EvaluationConfig(
        portals=(PortalClass(PortalMatch(source="keycloak", name_pattern="*"), Sensitivity.HIGH),)
    )
    result = evaluate(Snapshot("2026-Q3", PERIOD[0], PERIOD[1], "t", (snap,)), config, now=NOW, run_id="t")
    assert result.coverage and {row.status for row in result.coverage} == {CoverageStatus.UNKNOWN}


def test_without_view_users_the_source_cannot_be_read(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm(), granted_roles={"view-realm", "view-clients"})
    with pytest.raises(AuthenticationError, match="validate"):
        connector(sandbox).collect(context())


def test_a_wrong_secret_is_refused_and_never_shown(sandbox_factory: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = sandbox_factory(small_realm())
    monkeypatch.setenv(SECRET_ENV, "planted-wrong-secret-3f9a")
    c = connector(sandbox)
    with pytest.raises(AuthenticationError) as info:
        c.collect(context())
    assert "planted-wrong-secret-3f9a" not in str(info.value) + repr(c)


def test_the_secret_never_reaches_the_snapshot(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm())
    snap = connector(sandbox).collect(context())
    assert os.environ[SECRET_ENV] not in repr(snap)


def test_events_disabled_record_the_sign_in_log_as_not_read(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm())
    snap = connector(sandbox).collect(context(sign_ins=True))
    log = snap.fact_read(Fact.SIGN_IN_LOG)
    assert log is not None and not log.read and "eventsEnabled" in log.reason
    assert not snap.sign_ins_collected and not any(r.path.endswith("/events") for r in sandbox.requests)


def test_login_events_become_sign_ins(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm(events=True))
    snap = connector(sandbox).collect(context(sign_ins=True))
    log = snap.fact_read(Fact.SIGN_IN_LOG)
    assert snap.sign_ins_collected and log is not None and log.read
    assert len(snap.sign_ins) == 3  # the one before the period is left out
    assert sorted(s.factor for s in snap.sign_ins) == [SignInFactor.MULTI, SignInFactor.MULTI, SignInFactor.SINGLE]
    single = next(s for s in snap.sign_ins if s.factor is SignInFactor.SINGLE)
    assert next(a for a in snap.accounts if a.id == single.account_id).principal == "member0@example.fr"


def test_events_without_view_events_are_not_read(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm(events=True), granted_roles={"view-users", "view-realm", "view-clients"})
    snap = connector(sandbox).collect(context(sign_ins=True))
    log = snap.fact_read(Fact.SIGN_IN_LOG)
    assert snap.complete and log is not None and not log.read and "view-events" in log.reason


def test_validate_names_the_missing_role(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm(), granted_roles={"view-users", "view-realm"})
    checks = {c.name: c for c in connector(sandbox).check_access()}
    assert checks["service-account client"].granted is True
    assert checks["realm-management view-users"].granted is True
    assert checks["realm-management view-clients"].granted is False
    assert checks["realm-management view-events"].granted is False
    assert checks["realm-management view-events"].only_for_sign_ins


def test_validate_with_a_wrong_secret(sandbox_factory: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = sandbox_factory(small_realm())
    monkeypatch.setenv(SECRET_ENV, "nope")
    checks = connector(sandbox).check_access()
    assert len(checks) == 1 and checks[0].granted is False


def test_the_secret_never_reaches_the_log(sandbox_factory: Factory, caplog: pytest.LogCaptureFixture) -> None:
    sandbox = sandbox_factory(small_realm(events=True))
    with caplog.at_level("DEBUG"):
        connector(sandbox).collect(context(sign_ins=True))
        connector(sandbox).check_access()
    assert caplog.records and os.environ[SECRET_ENV] not in caplog.text


def test_a_server_under_auth_as_before_keycloak_17(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(small_realm(), path_prefix="/auth")
    assert sandbox.settings()["server_url"].endswith("/auth")
    snap = connector(sandbox).collect(context())
    assert snap.complete and len(snap.accounts) == 7
    assert all(r.status != 404 for r in sandbox.requests)
