"""The sample organisation's Cognito user pool: the members of "Mutuelle Exemple" and
their mobile app ("Mon espace adhérent"), in the normalised model, plus the pool's
configuration as Cognito states it (``PoolSpec``).

Self-contained: its own random stream (so adding it changes nothing in the other
sources), hooked into ``sample_org.generate`` by one call.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from auditor.model import (
    Access,
    AccessVia,
    Account,
    AccountId,
    AccountKind,
    Condition,
    ConditionKind,
    Method,
    MethodAllowance,
    MethodKind,
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

SOURCE = SourceName("cognito")
MEMBERS_DOMAIN = "adherents.example.org"
MOBILE_CLIENT = "3mbrs0mobile0app0client0a1"  # 26 characters, like a Cognito client id
KIND_OF_SETTING = {
    "SMS_MFA": MethodKind.SMS,
    "SOFTWARE_TOKEN_MFA": MethodKind.TOTP_SOFTWARE,
    "EMAIL_OTP": MethodKind.EMAIL_OTP,
}
SETTING_OF_KIND = {v: k for k, v in KIND_OF_SETTING.items()}
SHARE = 0.10  # members in the pool, as a share of the organisation's account count


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """A user pool's configuration, in Cognito's own terms."""

    name: str = "mutuelle-members"
    mfa: str = "OPTIONAL"  # MfaConfiguration
    sms: bool = True
    totp: bool = True
    email: bool = True
    webauthn_factor: str | None = None  # SINGLE_FACTOR / MULTI_FACTOR_WITH_USER_VERIFICATION / None
    security_mode: str = "ENFORCED"  # AdvancedSecurityMode
    # Risk actions per app client (None key: the pool-level configuration).
    risk_actions: Mapping[str | None, Mapping[str, str]] = field(
        default_factory=lambda: {None: {"Low": "NO_ACTION", "Medium": "MFA_IF_CONFIGURED", "High": "MFA_REQUIRED"}}
    )
    device_tracking: bool = False
    first_factors: tuple[str, ...] = ("PASSWORD",)
    # A DefineAuthChallenge Lambda (the custom authentication flow), by ARN; None: none.
    define_auth_challenge: str | None = None
    # App clients (ids) whose ExplicitAuthFlows allow ALLOW_CUSTOM_AUTH.
    custom_auth_clients: tuple[str, ...] = ()
    clients: tuple[tuple[str, str], ...] = ((MOBILE_CLIENT, "Members mobile app"),)


MEMBERS_POOL = PoolSpec()

# Members' MFA, by weight: most have none (the pool makes MFA opt-in).
PROFILES: tuple[tuple[int, tuple[str, ...]], ...] = (
    (45, ()),
    (25, ("SMS_MFA",)),
    (14, ("SOFTWARE_TOKEN_MFA",)),
    (10, ("EMAIL_OTP",)),
    (6, ("SMS_MFA", "SOFTWARE_TOKEN_MFA")),
)
FIRST = ("Camille", "Léa", "Hugo", "Nour", "Jules", "Inès", "Lucas", "Chloé", "Yanis", "Manon", "Adam", "Zoé")
LAST = ("Martin", "Bernard", "Petit", "Durand", "Leroy", "Moreau", "Garnier", "Faure", "Rousseau", "Blanc")


def _pick(rng: random.Random) -> tuple[str, ...]:
    x = rng.randrange(sum(w for w, _ in PROFILES))
    for weight, settings in PROFILES:
        if x < weight:
            return settings
        x -= weight
    raise AssertionError("unreachable")


def members(seed: int, accounts: int, now: datetime, period_start: date) -> SourceSnapshot:
    """The pool's truth for an organisation of ``accounts`` accounts."""
    rng = random.Random(seed * 104729 + 21)
    n = max(12, int(accounts * SHARE))
    out: list[Account] = []
    sign_ins: list[SignIn] = []
    start = datetime.combine(period_start, datetime.min.time(), UTC)
    span = max(1, int((now - start).total_seconds()))
    for i in range(n):
        sub = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{last.lower()}.{i}@{MEMBERS_DOMAIN}".translate(str.maketrans("éèëïçà", "eeeica"))
        r = rng.random()
        status = "EXTERNAL_PROVIDER" if r < 0.05 else "UNCONFIRMED" if r < 0.07 else "CONFIRMED"
        username = f"franceconnect_{sub[:8]}" if status == "EXTERNAL_PROVIDER" else sub
        settings = () if status == "EXTERNAL_PROVIDER" else _pick(rng)
        preferred = settings[-1] if settings and rng.random() < 0.7 else ""
        enabled = rng.random() > 0.03
        created = (now - timedelta(days=rng.randrange(30, 1500))).replace(microsecond=0)
        attributes = {"username": username, "user_status": status, "email_verified": "true"}
        if preferred:
            attributes["preferred_mfa"] = preferred
        last_seen = None
        if enabled and status != "UNCONFIRMED" and rng.random() < 0.6:
            t = (start + timedelta(seconds=rng.randrange(span))).replace(microsecond=0)
            factor = SignInFactor.MULTI if settings else SignInFactor.SINGLE
            sign_ins.append(SignIn(AccountId(sub), PortalId(MOBILE_CLIENT), t, factor, "cognito"))
            last_seen = t
        out.append(
            Account(
                source=SOURCE,
                id=AccountId(sub),
                principal=email,
                display_name=f"{first} {last}",
                kind=AccountKind.HUMAN,
                enabled=enabled,
                created=created,
                last_sign_in=last_seen,
                methods=tuple(sorted((Method(KIND_OF_SETTING[s], s) for s in settings), key=lambda m: m.kind.value)),
                attributes=attributes,
            )
        )
    accounts_t = tuple(sorted(out, key=lambda a: a.id))
    return truth_snapshot(MEMBERS_POOL, accounts_t, tuple(sorted(sign_ins, key=lambda s: (s.time, s.account_id))), now)


def truth_snapshot(
    spec: PoolSpec, accounts: tuple[Account, ...], sign_ins: tuple[SignIn, ...], now: datetime
) -> SourceSnapshot:
    """What a faithful read of ``spec`` with ``accounts`` gives, written out by hand for
    the members' pool shape (OPTIONAL MFA, threat protection ENFORCED, one client)."""
    portals = tuple(
        Portal(SOURCE, PortalId(cid), name, assignment_required=False, tags=("cognito:app_client",))
        for cid, name in spec.clients
    )
    access = tuple(
        sorted(
            (Access(a.id, p.id, AccessVia.EVERYONE) for a in accounts if a.enabled for p in portals),
            key=lambda x: (x.account_id, x.portal_id),
        )
    )
    federated = tuple(sorted(a.id for a in accounts if a.attributes.get("user_status") == "EXTERNAL_PROVIDER"))
    accepted = tuple(
        k
        for on, k in (
            (spec.sms, MethodKind.SMS),
            (spec.totp, MethodKind.TOTP_SOFTWARE),
            (spec.email, MethodKind.EMAIL_OTP),
        )
        if on
    )
    opted = tuple(
        sorted(a.id for a in accounts if a.id not in federated and any(m.kind in accepted for m in a.methods))
    )
    pool = Policy(
        PolicyId("pool-mfa"),
        "User pool MFA (OPTIONAL)",
        PolicyState.ENFORCED,
        (
            PolicyRule(
                "pool-mfa",
                "MfaConfiguration OPTIONAL (users who activated MFA)",
                Scope(include_users=opted),
                PortalScope(all=True),
                Requirement.MFA,
                accepted_methods=accepted,
            ),
        ),
        "cognito_pool_mfa",
    )
    actions = spec.risk_actions[None]
    adaptive = Policy(
        PolicyId("adaptive-authentication"),
        "Adaptive authentication (threat protection ENFORCED)",
        PolicyState.ENFORCED,
        (
            PolicyRule(
                "adaptive-1",
                "Adaptive authentication ("
                + "; ".join(f"{lv}: {actions[lv]}" for lv in ("Low", "Medium", "High"))
                + ")",
                Scope(include_all=True, exclude_users=federated),
                PortalScope(ids=tuple(PortalId(c) for c, _ in spec.clients)),
                Requirement.MFA,
                (Condition(ConditionKind.RISK, "sign-in risk Medium: MFA_IF_CONFIGURED, High: MFA_REQUIRED"),),
                accepted,
            ),
        ),
        "cognito_adaptive_authentication",
    )
    everyone = Scope(include_all=True)
    return SourceSnapshot(
        SOURCE,
        "cognito",
        now,
        True,
        accounts,
        portals,
        access,
        (pool, adaptive),
        sign_ins,
        sign_ins_collected=True,
        expected_counts={"accounts": len(accounts)},
        method_policy=(
            MethodAllowance(MethodKind.SMS, spec.sms, everyone, "SmsMfaConfiguration"),
            MethodAllowance(MethodKind.TOTP_SOFTWARE, spec.totp, everyone, "SoftwareTokenMfaConfiguration"),
            MethodAllowance(MethodKind.EMAIL_OTP, spec.email, everyone, "EmailMfaConfiguration"),
            MethodAllowance(
                MethodKind.PASSKEY,
                spec.webauthn_factor == "MULTI_FACTOR_WITH_USER_VERIFICATION",
                everyone,
                "WebAuthnConfiguration",
            ),
        ),
    )
