"""The Auth0 tenant of the sample organisation: the partners' extranet (pharmacies,
clinics and brokers signing in to the partner portals), generated as truth in the
normalised model, plus the tenant settings the model does not keep (the MFA policy,
the factors, the post-login Actions), and the rendering of both into Auth0's JSON.

Self-contained: the sandbox builds the tenant from the organisation's seed and period
(``demo_tenant``) when the organisation carries no ``auth0`` truth, drawing from its own
random stream, so the other sources of the sample organisation are unchanged. The same
seed gives the same users, methods and settings in every quarter; the dates follow the
quarter.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from auditor.model import (
    Access,
    AccessVia,
    Account,
    AccountId,
    AccountKind,
    Method,
    MethodKind,
    MethodStatus,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    Portal,
    PortalId,
    PortalScope,
    Requirement,
    Scope,
    SignIn,
    SignInFactor,
    SourceName,
    SourceSnapshot,
)
from connectors.sandbox.sample_org import SampleOrg

SOURCE = "auth0"
SHARE = 0.08  # the tenant's users, as a share of the sample's accounts (on top of them)
CONNECTION = "Username-Password-Authentication"
PARTNER_DOMAINS = ("pharmacie-exemple.fr", "clinique-exemple.fr", "courtage-exemple.fr", "gmail.com")

CLAIMS = PortalId("a0PartnerClaimsPortal000000000001")
EXTRANET = PortalId("a0PartnerExtranet000000000000002")
DOCS = PortalId("a0PartnerDocumentation0000000003")
M2M = "a0MfaAuditorReadOnly000000000004"  # the auditor's own machine-to-machine app: no portal
CLIENTS: tuple[dict[str, Any], ...] = (
    {"client_id": CLAIMS, "name": "Partner claims portal", "app_type": "regular_web"},
    {"client_id": EXTRANET, "name": "Partner extranet", "app_type": "spa"},
    {"client_id": DOCS, "name": "Partner documentation", "app_type": "regular_web"},
    {"client_id": M2M, "name": "MFA auditor (read-only)", "app_type": "non_interactive"},
    {"client_id": "a0AllApplications000000000000000", "name": "All Applications", "global": True},
)

# Auth0 authentication-method type per kind (phone carries its channel).
TYPES: Mapping[MethodKind, str] = {
    MethodKind.TOTP_SOFTWARE: "totp",
    MethodKind.AUTHENTICATOR_PUSH: "push",
    MethodKind.SMS: "phone",
    MethodKind.VOICE: "phone",
    MethodKind.EMAIL_OTP: "email",
    MethodKind.FIDO2_SECURITY_KEY: "webauthn-roaming",
    MethodKind.PLATFORM_AUTHENTICATOR: "webauthn-platform",
    MethodKind.PASSKEY: "passkey",
    MethodKind.UNSPECIFIED_SECOND_FACTOR: "guardian",
}
LABELS: Mapping[MethodKind, str] = {**TYPES, MethodKind.SMS: "phone:sms", MethodKind.VOICE: "phone:voice"}
GUARDIAN_KINDS = frozenset({MethodKind.TOTP_SOFTWARE, MethodKind.AUTHENTICATOR_PUSH, MethodKind.SMS, MethodKind.VOICE})

# Partners' enrolment mix: many on SMS or e-mail, some on an app, few keys, a third none.
PROFILES: tuple[tuple[int, tuple[MethodKind, ...]], ...] = (
    (30, ()),
    (22, (MethodKind.SMS,)),
    (10, (MethodKind.EMAIL_OTP,)),
    (14, (MethodKind.TOTP_SOFTWARE,)),
    (10, (MethodKind.AUTHENTICATOR_PUSH,)),
    (5, (MethodKind.SMS, MethodKind.TOTP_SOFTWARE)),
    (3, (MethodKind.VOICE,)),
    (3, (MethodKind.FIDO2_SECURITY_KEY,)),
    (2, (MethodKind.PASSKEY,)),
    (1, (MethodKind.PLATFORM_AUTHENTICATOR, MethodKind.TOTP_SOFTWARE)),
)


@dataclass(frozen=True, slots=True)
class RawAction:
    """A post-login Action as Auth0 keeps it; ``deployed``: the code has a deployed version."""

    id: str
    name: str
    code: str
    deployed: bool = True


@dataclass(frozen=True, slots=True)
class TenantSettings:
    """What the tenant enforces, in Auth0's own terms (bound actions in order)."""

    mfa_policies: tuple[str, ...] = ()
    factors: tuple[tuple[str, bool], ...] = (
        ("sms", True),
        ("push-notification", True),
        ("otp", True),
        ("email", True),
        ("duo", False),
        ("webauthn-roaming", True),
        ("webauthn-platform", True),
        ("recovery-code", True),
    )
    actions: tuple[RawAction, ...] = ()
    extra_clients: tuple[dict[str, Any], ...] = field(default=())
    # (connection id, name, the client ids it is enabled for)
    connections: tuple[tuple[str, str, tuple[str, ...]], ...] = (
        ("con_0000000000000001", CONNECTION, (CLAIMS, EXTRANET)),
        # Partners' documentation signs in with Google only: no database user reaches it.
        ("con_0000000000000002", "google-oauth2", (DOCS,)),
    )


CLAIMS_ACTION = RawAction(
    "a1b2c3d4-0000-4000-8000-00000000c1a1",
    "Require MFA on the claims portal",
    "/** Partners submitting claims handle health data: always ask for a second factor. */\n"
    "exports.onExecutePostLogin = async (event, api) => {\n"
    f"  if (event.client.client_id === '{CLAIMS}') {{\n"
    "    api.multifactor.enable('any', { allowRememberBrowser: false });\n"
    "  }\n"
    "};\n",
)
CLAIMS_CLAIM = RawAction(
    "a1b2c3d4-0000-4000-8000-00000000c1a2",
    "Add partner organisation claim",
    "exports.onExecutePostLogin = async (event, api) => {\n"
    "  const org = event.user.app_metadata && event.user.app_metadata.partner_org;\n"
    "  if (org) { api.idToken.setCustomClaim('https://mutuelle-exemple.fr/partner_org', org); }\n"
    "};\n",
)
# The demo tenant: no tenant-wide MFA policy, MFA required on the claims portal by an Action.
DEMO_SETTINGS = TenantSettings(actions=(CLAIMS_CLAIM, CLAIMS_ACTION))


def demo_policies() -> tuple[Policy, ...]:
    """The normalised policies ``DEMO_SETTINGS`` amounts to (written out by hand: the truth
    the connector's reading of the Action is tested against)."""
    rule = PolicyRule(
        f"action:{CLAIMS_ACTION.id}",
        f"Post-login action {CLAIMS_ACTION.name}",
        Scope(include_all=True),
        PortalScope(ids=(CLAIMS,)),
        Requirement.MFA,
    )
    return (
        Policy(
            PolicyId(f"action:{CLAIMS_ACTION.id}"),
            f"Post-login action {CLAIMS_ACTION.name}",
            PolicyState.ENFORCED,
            (rule,),
            "auth0_post_login_action",
        ),
    )


def _pick(rng: random.Random) -> tuple[MethodKind, ...]:
    total = sum(w for w, _ in PROFILES)
    x = rng.randrange(total)
    for weight, kinds in PROFILES:
        if x < weight:
            return kinds
        x -= weight
    raise AssertionError("unreachable")


def _ms(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def demo_tenant(org: SampleOrg) -> SourceSnapshot:
    """The organisation's Auth0 truth: its own when it carries one (tests replace it),
    otherwise the partners' tenant drawn from its seed, sized on its other sources."""
    if SOURCE in org.sources:
        return org.sources[SOURCE]
    accounts = sum(len(s.accounts) for s in org.sources.values())
    return partners_tenant(org.seed, accounts, org.now, org.period_start)


def with_tenant(org: SampleOrg) -> SampleOrg:
    """``org`` with its Auth0 truth among its sources (for tests that compare with it)."""
    return replace(org, sources={**org.sources, SOURCE: demo_tenant(org)})


def partners_tenant(seed: int, accounts: int, now: datetime, period_start: date) -> SourceSnapshot:
    """The truth: about ``SHARE × accounts`` partner users (at least 5), the three partner
    portals, the demo policies and the period's sign-ins."""
    rng = random.Random(f"auth0-partners-{seed}")
    src = SourceName(SOURCE)
    n = max(5, int(accounts * SHARE))
    portals = tuple(
        sorted(
            (Portal(src, PortalId(c["client_id"]), c["name"], False) for c in CLIENTS if _is_portal(c)),
            key=lambda p: p.id,
        )
    )
    out: list[Account] = []
    for i in range(n):
        uid = AccountId("auth0|" + hashlib.sha256(f"{seed}-{i}".encode()).hexdigest()[:24])
        first = rng.choice(("camille", "dominique", "claude", "sacha", "alix", "morgan", "yannick", "maxime"))
        last = rng.choice(("martin", "bernard", "roux", "fontaine", "garnier", "chevalier", "lambert", "faure"))
        principal = f"{first}.{last}{i}@{rng.choice(PARTNER_DOMAINS)}"
        created = (now - timedelta(days=rng.randrange(10, 1500), seconds=rng.randrange(86400))).replace(microsecond=0)
        r = rng.random()
        last_login = (
            None
            if r < 0.04
            else (
                now
                - timedelta(
                    days=rng.randrange(0, 30) if r > 0.12 else rng.randrange(120, 500), seconds=rng.randrange(86400)
                )
            ).replace(microsecond=0)
        )
        methods = []
        for kind in _pick(rng):
            status = MethodStatus.PENDING if rng.random() < 0.05 else MethodStatus.ACTIVE
            when = (now - timedelta(days=rng.randrange(5, 900), seconds=rng.randrange(86400))).replace(microsecond=0)
            methods.append(Method(kind, LABELS[kind], status, when))
        methods.sort(key=lambda m: (m.registered_at is None, m.registered_at or datetime.min, m.vendor_label))
        out.append(
            Account(
                source=src,
                id=uid,
                principal=principal,
                display_name=f"{first.title()} {last.title()}",
                kind=AccountKind.HUMAN,
                enabled=rng.random() > 0.03,
                last_sign_in=last_login,
                created=created,
                methods=tuple(methods),
                attributes={"connection": CONNECTION},
            )
        )
    out.sort(key=lambda a: a.id)
    enabled = {c: ids for _, c, ids in TenantSettings().connections}
    access = tuple(
        Access(a.id, p.id, AccessVia.EVERYONE)
        for a in out
        for p in portals
        if p.id in enabled[a.attributes["connection"]]
    )
    sign_ins = _sign_ins(rng, out, now, period_start)
    return SourceSnapshot(
        src,
        SOURCE,
        now,
        True,
        tuple(out),
        portals,
        access,
        demo_policies(),
        sign_ins=sign_ins,
        sign_ins_collected=True,
    )


def _is_portal(client: Mapping[str, Any]) -> bool:
    return client.get("global") is not True and client.get("app_type") != "non_interactive"


def _sign_ins(rng: random.Random, accounts: Sequence[Account], now: datetime, start: date) -> tuple[SignIn, ...]:
    begin = datetime.combine(start, datetime.min.time(), UTC)
    span = max(int((now - begin).total_seconds()) - 3600, 1)
    out = []
    for a in accounts:
        if not a.enabled or rng.random() > 0.5:
            continue
        portal = CLAIMS if rng.random() < 0.6 else EXTRANET
        when = begin + timedelta(seconds=60 + rng.randrange(span))
        enrolled = any(m.status is MethodStatus.ACTIVE for m in a.methods)
        factor = SignInFactor.MULTI if portal == CLAIMS and enrolled else SignInFactor.SINGLE
        out.append(SignIn(a.id, portal, when, factor))
    out.sort(key=lambda s: (s.time, s.account_id))
    return tuple(out)


# --- rendering into Auth0's JSON ---------------------------------------------------------


def user_json(a: Account) -> dict[str, Any]:
    guardian = sorted({"guardian" for m in a.methods if m.kind in GUARDIAN_KINDS and m.status is MethodStatus.ACTIVE})
    body: dict[str, Any] = {
        "user_id": a.id,
        "email": a.principal,
        # Verified where the partner enrolled e-mail MFA: with the e-mail factor on, a
        # verified address is itself usable for MFA (Auth0's documented behaviour, applied
        # by the connector), so the truth's methods stay the ones listed here.
        "email_verified": any(m.kind is MethodKind.EMAIL_OTP for m in a.methods),
        "name": a.display_name,
        "created_at": _ms(a.created) if a.created else None,
        "updated_at": _ms(a.created) if a.created else None,
        "identities": [
            {
                "connection": a.attributes.get("connection", CONNECTION),
                "provider": "auth0",
                "user_id": a.id[6:],
                "isSocial": False,
            }
        ],
        "multifactor": guardian,
        "logins_count": 0 if a.last_sign_in is None else 1 + len(a.id) % 40,
    }
    if a.last_sign_in is not None:
        body["last_login"] = _ms(a.last_sign_in)
    if not a.enabled:
        body["blocked"] = True
    return {k: v for k, v in body.items() if v is not None}


def methods_json(a: Account) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n, m in enumerate(a.methods):
        mtype = TYPES[m.kind]
        body: dict[str, Any] = {
            "id": f"{mtype}|dev_{hashlib.sha256(f'{a.id}{n}'.encode()).hexdigest()[:16]}",
            "type": mtype,
            "confirmed": m.status is MethodStatus.ACTIVE,
        }
        if m.registered_at is not None:
            body["created_at"] = _ms(m.registered_at)
        if mtype == "phone":
            body["phone_number"] = "+33 6XXXXXX" + f"{n:02d}"
            body["preferred_authentication_method"] = "voice" if m.kind is MethodKind.VOICE else "sms"
        out.append(body)
    if any(m.kind in GUARDIAN_KINDS for m in a.methods):
        first = min((m.registered_at for m in a.methods if m.registered_at is not None), default=None)
        code: dict[str, Any] = {"id": f"recovery-code|dev_{a.id[-8:]}", "type": "recovery-code", "confirmed": True}
        if first is not None:
            code["created_at"] = _ms(first)
        out.append(code)
    return out


def logs_json(sign_ins: Sequence[SignIn], portals: Mapping[str, str]) -> list[dict[str, Any]]:
    """The tenant log of the sign-ins: an MFA success 20 s before each multi-factor login,
    a failed login now and then, log ids ascending with time."""
    events: list[tuple[datetime, str, str, str]] = []
    for n, s in enumerate(sign_ins):
        if s.factor is SignInFactor.MULTI:
            events.append((s.time - timedelta(seconds=20), "gd_auth_succeed", s.account_id, s.portal_id))
        if n % 7 == 0:
            events.append((s.time - timedelta(seconds=90), "fp", s.account_id, s.portal_id))
        events.append((s.time, "s", s.account_id, s.portal_id))
    events.sort(key=lambda e: (e[0], e[1]))
    return [
        {
            "log_id": f"90020{n + 1:020d}",
            "date": _ms(when),
            "type": kind,
            "user_id": uid,
            "client_id": cid,
            "client_name": portals.get(cid, ""),
            "connection": CONNECTION,
            "ip": "192.0.2.10",
        }
        for n, (when, kind, uid, cid) in enumerate(events)
    ]
