"""Kept whole on purpose: one seeded generator; its tables and the order in which it draws
from the random generator must stay together for the demo to be reproducible.

The one seeded generator of the sample organisation.

"Mutuelle Exemple", a made-up health-insurance payment provider (tiers payant). The
demo, the tests and the benchmarks all take their organisations from here, at any
size: the result is the *truth* per source, in the normalised model. Each sandbox
serves its source's truth in its vendor's shapes, and a connector's collection is
tested for equality with it.

Sources:
- ``entra``: the staff directory (employees, admins, contractors, guests, service
  accounts) and the staff-facing apps, with Conditional Access policies.
- ``google``: a Google Workspace tenant (medical advisers, finance), one portal per
  org unit, 2-Step Verification enforcement per org unit.
- ``okta``: the patient-portal operators and partner identities (pharmacies, clinics),
  with Okta authentication policies; one Entra app signs in through Okta.

Everything depends on ``seed`` only (and ``now``); nothing reads the clock.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from auditor.model import (
    Access,
    AccessVia,
    Account,
    AccountId,
    AccountKind,
    Condition,
    ConditionKind,
    Fact,
    FactRead,
    GroupId,
    Method,
    MethodAllowance,
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
    RoleId,
    Scope,
    SignIn,
    SignInFactor,
    SourceName,
    SourceSnapshot,
)

DEFAULT_NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
DOMAIN = "mutuelle-exemple.fr"
PARTNER_DOMAIN = "partenaires.mutuelle-exemple.fr"

# Share of the accounts each source holds.
SOURCE_SHARES = {"entra": 0.65, "google": 0.17, "okta": 0.18}

FIRST = [
    "Camille",
    "Lucas",
    "Léa",
    "Hugo",
    "Chloé",
    "Louis",
    "Emma",
    "Jules",
    "Inès",
    "Gabriel",
    "Manon",
    "Arthur",
    "Sarah",
    "Nathan",
    "Jade",
    "Adam",
    "Zoé",
    "Raphaël",
    "Lina",
    "Paul",
    "Alice",
    "Tom",
    "Louise",
    "Maël",
    "Anna",
    "Noah",
    "Clara",
    "Sacha",
    "Eva",
    "Ethan",
    "Rose",
    "Victor",
    "Lou",
    "Théo",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guerin",
    "Muller",
    "Henry",
    "Roussel",
]
DEPARTMENTS = ("Claims", "Customer service", "Finance", "HR", "IT", "Medical", "Legal", "Operations")

# Entra role template ids (the real ones, so the Graph sandbox can serve them as is).
GLOBAL_ADMIN = RoleId("62e90394-69f5-4237-9190-012177145e10")
PRIVILEGED_ROLE_ADMIN = RoleId("e8611ab8-c189-46e8-94e1-60213ab1f814")
USER_ADMIN = RoleId("fe930be7-5e62-47db-91af-98c3a49a38b1")
ENTRA_ADMIN_ROLES = (GLOBAL_ADMIN, PRIVILEGED_ROLE_ADMIN, USER_ADMIN)

# Weighted method profiles: (weight, kinds). Empty means no second factor at all.
METHOD_PROFILES: tuple[tuple[int, tuple[MethodKind, ...]], ...] = (
    (9, ()),
    (14, (MethodKind.SMS,)),
    (4, (MethodKind.VOICE, MethodKind.SMS)),
    (4, (MethodKind.EMAIL_OTP,)),
    (34, (MethodKind.AUTHENTICATOR_PUSH,)),
    (8, (MethodKind.AUTHENTICATOR_PUSH, MethodKind.SMS)),
    (9, (MethodKind.TOTP_SOFTWARE,)),
    (9, (MethodKind.FIDO2_SECURITY_KEY, MethodKind.AUTHENTICATOR_PUSH)),
    (6, (MethodKind.WINDOWS_HELLO,)),
    (3, (MethodKind.PASSKEY,)),
)
ADMIN_PROFILES: tuple[tuple[int, tuple[MethodKind, ...]], ...] = (
    (6, (MethodKind.FIDO2_SECURITY_KEY,)),
    (2, (MethodKind.WINDOWS_HELLO, MethodKind.AUTHENTICATOR_PUSH)),
    (2, (MethodKind.AUTHENTICATOR_PUSH,)),
    (1, (MethodKind.SMS,)),
)

# Vendor labels each source uses for a kind, so the truth carries realistic labels.
ENTRA_LABELS = {
    MethodKind.SMS: "mobilePhone",
    MethodKind.VOICE: "officePhone",
    MethodKind.EMAIL_OTP: "email",
    MethodKind.AUTHENTICATOR_PUSH: "microsoftAuthenticatorPush",
    MethodKind.TOTP_SOFTWARE: "softwareOneTimePasscode",
    MethodKind.FIDO2_SECURITY_KEY: "fido2SecurityKey",
    MethodKind.WINDOWS_HELLO: "windowsHelloForBusiness",
    MethodKind.PASSKEY: "passKeyDeviceBound",
}
OKTA_LABELS = {
    MethodKind.SMS: "sms",
    MethodKind.VOICE: "call",
    MethodKind.EMAIL_OTP: "email",
    MethodKind.AUTHENTICATOR_PUSH: "push",
    MethodKind.TOTP_SOFTWARE: "token:software:totp",
    MethodKind.FIDO2_SECURITY_KEY: "webauthn",
    MethodKind.WINDOWS_HELLO: "webauthn",
    MethodKind.PASSKEY: "webauthn",
}
OKTA_KIND_MAP = {
    # Okta cannot tell Windows Hello from a security key: both are WebAuthn.
    MethodKind.WINDOWS_HELLO: MethodKind.FIDO2_SECURITY_KEY,
    MethodKind.PASSKEY: MethodKind.FIDO2_SECURITY_KEY,
}


@dataclass(frozen=True, slots=True)
class OrgUnit:
    path: str
    name: str
    enforce_2sv: bool


@dataclass(frozen=True, slots=True)
class SampleOrg:
    seed: int
    now: datetime
    period: str
    period_start: date
    period_end: date
    sources: dict[str, SourceSnapshot]
    # Facts the sandboxes need that the model does not keep.
    group_names: dict[str, dict[str, str]] = field(default_factory=dict)  # source -> group id -> name
    role_names: dict[str, dict[str, str]] = field(default_factory=dict)  # source -> role id -> name
    org_units: tuple[OrgUnit, ...] = ()
    eligible_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)  # entra: PIM-eligible

    def truth(self, source: str) -> SourceSnapshot:
        return self.sources[source]


def _quarter(now: datetime) -> tuple[str, date, date]:
    q = (now.month - 1) // 3
    start = date(now.year, 3 * q + 1, 1)
    end = date(now.year + 1, 1, 1) if q == 3 else date(now.year, 3 * q + 4, 1)
    return f"{now.year}-Q{q + 1}", start, end - timedelta(days=1)


def _pick(rng: random.Random, profiles: tuple[tuple[int, tuple[MethodKind, ...]], ...]) -> tuple[MethodKind, ...]:
    total = sum(w for w, _ in profiles)
    x = rng.randrange(total)
    for weight, kinds in profiles:
        if x < weight:
            return kinds
        x -= weight
    raise AssertionError("unreachable")


class _Names:
    """Unique, stable principals: first.last, then first.last2 …"""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: dict[str, int] = {}

    def next(self) -> tuple[str, str]:
        first, last = self._rng.choice(FIRST), self._rng.choice(LAST)
        base = f"{first}.{last}".lower()
        n = self._seen.get(base, 0) + 1
        self._seen[base] = n
        local = base if n == 1 else f"{base}{n}"
        ascii_local = local.translate(str.maketrans("éèëïçà", "eeeica"))
        return ascii_local, f"{first} {last}"


def _methods(
    rng: random.Random,
    kinds: tuple[MethodKind, ...],
    labels: dict[MethodKind, str],
    now: datetime,
    kind_map: dict[MethodKind, MethodKind] | None = None,
) -> tuple[Method, ...]:
    out = []
    for kind in kinds:
        real = (kind_map or {}).get(kind, kind)
        # One in 25 enrolments is still pending: enrolled is not active.
        status = MethodStatus.PENDING if rng.random() < 0.04 else MethodStatus.ACTIVE
        registered = (now - timedelta(days=rng.randrange(20, 900))).replace(microsecond=0)
        out.append(Method(real, labels[kind], status, registered))
    return tuple(out)


def _last_sign_in(rng: random.Random, now: datetime) -> datetime | None:
    r = rng.random()
    if r < 0.03:
        return None
    if r < 0.09:  # dormant
        return (now - timedelta(days=rng.randrange(100, 400), minutes=rng.randrange(1440))).replace(microsecond=0)
    return (now - timedelta(days=rng.randrange(0, 30), minutes=rng.randrange(1440))).replace(microsecond=0)


def _entra(
    rng: random.Random, n: int, now: datetime, names: _Names
) -> tuple[SourceSnapshot, dict[str, str], tuple[str, ...], list[str]]:
    src = SourceName("entra")
    groups = {
        "g-all-staff": "All staff",
        "g-claims": "Claims processing team",
        "g-hr": "HR and payroll",
        "g-finance": "Finance",
        "g-it-admins": "IT administrators",
        "g-mfa-exempt": "MFA exemption (legacy devices)",
        "g-breakglass": "Break-glass accounts",
        "g-field": "Field advisers (trusted network only)",
    }
    portals = (
        Portal(src, PortalId("app-claims"), "Claims processing (tiers payant)", True, ("claims", "health-data")),
        Portal(src, PortalId("app-payroll"), "HR and payroll", True, ("hr",)),
        Portal(src, PortalId("app-intranet"), "Intranet", False, ("intranet",)),
        Portal(src, PortalId("app-m365"), "Office 365", False, ("office365",)),
        Portal(src, PortalId("app-partner-billing"), "Partner billing", True, ("billing",)),
        Portal(src, PortalId("app-admin-console"), "Patient records admin console", True, ("health-data", "admin")),
    )
    accounts: list[Account] = []
    access: list[Access] = []
    eligible: list[str] = []
    okta_linked: list[str] = []
    for i in range(n):
        aid = AccountId(f"e{i:07d}")
        r = rng.random()
        kind = AccountKind.HUMAN
        roles: tuple[RoleId, ...] = ()
        privileged = False
        attrs = {"department": rng.choice(DEPARTMENTS), "employment": "employee"}
        if r < 0.02:
            kind = AccountKind.SERVICE
            local, display = f"svc-{i:05d}", f"Service account {i}"
            attrs = {"department": "IT", "employment": "service"}
        elif r < 0.05:
            kind = AccountKind.GUEST
            local, display = names.next()
            local = f"{local}_ext#EXT#"
            attrs["employment"] = "guest"
        else:
            local, display = names.next()
            if r < 0.07:
                attrs["employment"] = "contractor"
        if kind is AccountKind.HUMAN and rng.random() < 0.02:
            roles = (rng.choice(ENTRA_ADMIN_ROLES),)
            privileged = True
            attrs["department"] = "IT"
        if kind is AccountKind.HUMAN and not roles and (rng.random() < 0.004 or (not eligible and i >= n // 2)):
            # PIM-eligible only: privileged all the same. At least one at every size.
            roles = (USER_ADMIN,)
            privileged = True
            eligible.append(aid)
        profile = ADMIN_PROFILES if privileged else METHOD_PROFILES
        kinds = () if kind is AccountKind.SERVICE else _pick(rng, profile)
        member = ["g-all-staff"] if kind is not AccountKind.GUEST else []
        dept = attrs["department"]
        if dept == "Claims" or dept == "Medical":
            member.append("g-claims")
        if dept == "HR":
            member.append("g-hr")
        if dept == "Finance":
            member.append("g-finance")
        if privileged:
            member.append("g-it-admins")
        if kind is AccountKind.HUMAN and rng.random() < 0.03:
            member.append("g-mfa-exempt")
        if kind is AccountKind.HUMAN and dept == "Customer service" and rng.random() < 0.3:
            member.append("g-field")
        if i < 2:
            kind = AccountKind.HUMAN
            attrs = {"department": "IT", "employment": "employee"}
            member = ["g-breakglass", "g-it-admins"]
            roles, privileged, kinds = (GLOBAL_ADMIN,), True, (MethodKind.FIDO2_SECURITY_KEY,)
            local, display = f"breakglass{i + 1}", f"Break-glass {i + 1}"
        principal = f"{local}@{DOMAIN}".lower()
        enabled = rng.random() > 0.03
        created = (now - timedelta(days=rng.randrange(30, 3000))).replace(microsecond=0)
        accounts.append(
            Account(
                source=src,
                id=aid,
                principal=principal,
                display_name=display,
                kind=kind,
                enabled=enabled,
                privileged=privileged,
                roles=roles,
                groups=tuple(GroupId(g) for g in sorted(member)),
                last_sign_in=_break_glass_use(_last_sign_in(rng, now), i, now),
                created=created,
                methods=_methods(rng, kinds, ENTRA_LABELS, now),
                attributes=attrs,
            )
        )
        if "g-claims" in member:
            access.append(Access(aid, PortalId("app-claims"), AccessVia.GROUP, "g-claims"))
        if "g-hr" in member or "g-finance" in member:
            g = "g-hr" if "g-hr" in member else "g-finance"
            access.append(Access(aid, PortalId("app-payroll"), AccessVia.GROUP, g))
        if kind is not AccountKind.SERVICE:
            access.append(Access(aid, PortalId("app-intranet"), AccessVia.EVERYONE))
            access.append(Access(aid, PortalId("app-m365"), AccessVia.EVERYONE))
        if privileged:
            access.append(Access(aid, PortalId("app-admin-console"), AccessVia.DIRECT))
        if kind is AccountKind.HUMAN and dept in ("Finance", "Claims") and rng.random() < 0.25:
            access.append(Access(aid, PortalId("app-partner-billing"), AccessVia.DIRECT))
            okta_linked.append(principal)
        if kind is AccountKind.SERVICE:
            access.append(Access(aid, PortalId("app-claims"), AccessVia.DIRECT))
        if "g-field" in member and "g-hr" not in member and "g-finance" not in member:
            access.append(Access(aid, PortalId("app-payroll"), AccessVia.GROUP, "g-field"))
        if kind is AccountKind.GUEST and rng.random() < 0.5:
            access.append(Access(aid, PortalId("app-claims"), AccessVia.DIRECT))
    all_users = Scope(
        include_all=True, exclude_groups=(GroupId("g-breakglass"), GroupId("g-mfa-exempt"), GroupId("g-field"))
    )
    policies = (
        Policy(
            PolicyId("ca-001"),
            "CA001 Require MFA for all users",
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "ca-001", "CA001 Require MFA for all users", all_users, PortalScope(all=True), Requirement.MFA
                ),
            ),
            "conditional_access",
        ),
        Policy(
            PolicyId("ca-002"),
            "CA002 Phishing-resistant MFA for admins",
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "ca-002",
                    "CA002 Phishing-resistant MFA for admins",
                    Scope(include_roles=ENTRA_ADMIN_ROLES, exclude_groups=(GroupId("g-breakglass"),)),
                    PortalScope(all=True),
                    Requirement.PHISHING_RESISTANT,
                ),
            ),
            "conditional_access",
        ),
        Policy(
            PolicyId("ca-003"),
            "CA003 Strong MFA for claims (pilot)",
            PolicyState.REPORT_ONLY,
            (
                PolicyRule(
                    "ca-003",
                    "CA003 Strong MFA for claims (pilot)",
                    Scope(include_all=True),
                    PortalScope(ids=(PortalId("app-claims"),)),
                    Requirement.STRONG,
                ),
            ),
            "conditional_access",
        ),
        Policy(
            PolicyId("ca-004"),
            "CA004 MFA outside the trusted network (field advisers)",
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "ca-004",
                    "CA004 MFA outside the trusted network (field advisers)",
                    Scope(include_groups=(GroupId("g-field"),)),
                    PortalScope(all=True),
                    Requirement.MFA,
                    (Condition(ConditionKind.NETWORK, "excludes location 'Head office'"),),
                ),
            ),
            "conditional_access",
        ),
        Policy(
            PolicyId("ca-005"),
            "CA005 Strong MFA for claims and payroll",
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "ca-005",
                    "CA005 Strong MFA for claims and payroll",
                    Scope(
                        include_groups=(GroupId("g-claims"), GroupId("g-hr"), GroupId("g-finance")),
                        exclude_groups=(GroupId("g-mfa-exempt"),),
                    ),
                    PortalScope(ids=(PortalId("app-claims"), PortalId("app-payroll"))),
                    Requirement.STRONG,
                ),
            ),
            "conditional_access",
        ),
        Policy(
            # A block under a condition is no second factor: the legacy-device accounts it
            # names are still not_enforced (issue #14), with this block as evidence.
            PolicyId("ca-008"),
            "CA008 Block MFA-exempt accounts outside the head office",
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "ca-008",
                    "CA008 Block MFA-exempt accounts outside the head office",
                    Scope(include_groups=(GroupId("g-mfa-exempt"),)),
                    PortalScope(all=True),
                    Requirement.BLOCK,
                    (Condition(ConditionKind.NETWORK, "excludes location 'Head office'"),),
                ),
            ),
            "conditional_access",
        ),
        Policy(
            PolicyId("ca-006"),
            "CA006 Block guests from claims and payroll",
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "ca-006",
                    "CA006 Block guests from claims and payroll",
                    Scope(include_guests=True),
                    PortalScope(ids=(PortalId("app-claims"), PortalId("app-payroll"))),
                    Requirement.BLOCK,
                ),
            ),
            "conditional_access",
        ),
    )
    snap = SourceSnapshot(
        source=src,
        connector="entra",
        collected_at=now,
        complete=True,
        accounts=tuple(accounts),
        portals=portals,
        access=tuple(access),
        policies=policies,
        legacy_auth_blocked=False,
    )
    return snap, groups, tuple(eligible), okta_linked


def _break_glass_use(drawn: datetime | None, i: int, now: datetime) -> datetime | None:
    """The first break-glass account was used three weeks ago (a lock-out drill): the
    emergency-access rule must ask for a review. Drawn first, so the generator's
    sequence, and every other account, stay as they were."""
    return now - timedelta(days=21) if i == 0 else drawn


ORG_UNITS = (
    OrgUnit("/Medical advisers", "Medical advisers", True),
    OrgUnit("/Finance", "Finance", False),
    OrgUnit("/General", "General", False),
)


# A key or passkey holder may also use any other 2SV method they registered, which Google's
# API does not name (no org unit of the sample is "Only security key").
_GOOGLE_OTHER = Method(MethodKind.UNSPECIFIED_SECOND_FACTOR, "other_2sv_methods", MethodStatus.ACTIVE, None)


def _google(rng: random.Random, n: int, now: datetime, names: _Names) -> SourceSnapshot:
    src = SourceName("google")
    portals = tuple(
        Portal(src, PortalId(f"workspace:{ou.path}"), f"Google Workspace ({ou.name})", False, (f"ou:{ou.path}",))
        for ou in ORG_UNITS
    )
    accounts: list[Account] = []
    access: list[Access] = []
    for i in range(n):
        aid = AccountId(f"1{i:011d}")
        ou = ORG_UNITS[0] if rng.random() < 0.3 else (ORG_UNITS[1] if rng.random() < 0.4 else ORG_UNITS[2])
        local, display = names.next()
        super_admin = rng.random() < 0.015
        delegated = not super_admin and rng.random() < 0.02
        roles = (RoleId("_SEED_ADMIN_ROLE"),) if super_admin else ((RoleId("delegated-admin"),) if delegated else ())
        # Google tells "2SV enrolled" and counts security keys and passkeys, nothing finer.
        r = rng.random()
        methods: tuple[Method, ...]
        if r < 0.25:
            methods = ()
        elif r < 0.4:
            methods = (Method(MethodKind.FIDO2_SECURITY_KEY, "security_key", MethodStatus.ACTIVE, None), _GOOGLE_OTHER)
        elif r < 0.45:
            methods = (Method(MethodKind.PASSKEY, "passkey", MethodStatus.ACTIVE, None), _GOOGLE_OTHER)
        else:
            methods = (Method(MethodKind.UNSPECIFIED_SECOND_FACTOR, "2sv_enrolled", MethodStatus.ACTIVE, None),)
        enforced = ou.enforce_2sv or (rng.random() < 0.1 and bool(methods))
        accounts.append(
            Account(
                source=src,
                id=aid,
                principal=f"{local}@{DOMAIN}".lower(),
                display_name=display,
                kind=AccountKind.HUMAN,
                enabled=rng.random() > 0.04,
                privileged=super_admin or delegated,
                roles=roles,
                groups=(),
                last_sign_in=_last_sign_in(rng, now),
                created=(now - timedelta(days=rng.randrange(30, 3000))).replace(microsecond=0),
                methods=methods,
                attributes={"org_unit": ou.path, "2sv_enforced": "true" if enforced else "false"},
            )
        )
        access.append(Access(aid, PortalId(f"workspace:{ou.path}"), AccessVia.EVERYONE))
    enforced_users = tuple(a.id for a in accounts if a.attributes["2sv_enforced"] == "true")
    policies = (
        Policy(
            PolicyId("2sv-enforcement"),
            "2-Step Verification enforcement",
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "2sv-enforced-users",
                    "2SV enforced (per user, as the Directory reports it)",
                    Scope(include_users=enforced_users),
                    PortalScope(all=True),
                    Requirement.MFA,
                ),
            ),
            "google_2sv",
        ),
    )
    return SourceSnapshot(src, "google_workspace", now, True, tuple(accounts), portals, tuple(access), policies)


def _okta(
    rng: random.Random, n: int, now: datetime, names: _Names, linked_principals: list[str]
) -> tuple[SourceSnapshot, dict[str, str]]:
    src = SourceName("okta")
    groups = {
        "00g-operators": "Patient portal operators",
        "00g-partners": "Partner pharmacies and clinics",
        "00g-billing": "Partner billing users",
        "00g-contractors": "Contractors",
        "00g-admins": "Okta administrators",
    }
    portals = (
        Portal(src, PortalId("0oa-patient-portal"), "Patient portal back office", True),  # Okta apps carry no tags
        Portal(src, PortalId("0oa-partner-extranet"), "Partner extranet", True),  # Okta apps carry no tags
        Portal(src, PortalId("0oa-partner-billing"), "Partner billing", True),  # Okta apps carry no tags
    )
    accounts: list[Account] = []
    access: list[Access] = []
    staff = list(linked_principals)
    for i in range(n + len(staff)):
        aid = AccountId(f"00u{i:08d}")
        attrs: dict[str, str] = {}
        if i < len(staff):
            principal = staff[i]
            display = principal.split("@")[0].replace(".", " ").title()
            member = ["00g-billing"]
            attrs["okta_status"] = "ACTIVE"
        else:
            local, display = names.next()
            partner = rng.random() < 0.6
            principal = f"{local}@{PARTNER_DOMAIN if partner else DOMAIN}".lower()
            member = ["00g-partners"] if partner else ["00g-operators"]
            if not partner and rng.random() < 0.2:
                member.append("00g-contractors")
            attrs["okta_status"] = "ACTIVE" if rng.random() > 0.05 else "SUSPENDED"
        admin = i >= len(staff) and rng.random() < 0.015
        if admin:
            member.append("00g-admins")
        kinds = _pick(rng, ADMIN_PROFILES if admin else METHOD_PROFILES)
        accounts.append(
            Account(
                source=src,
                id=aid,
                principal=principal,
                display_name=display,
                kind=AccountKind.HUMAN,
                enabled=attrs["okta_status"] == "ACTIVE",
                privileged=admin,
                roles=(RoleId("SUPER_ADMIN"),) if admin else (),
                groups=tuple(GroupId(g) for g in sorted(member)),
                last_sign_in=_last_sign_in(rng, now),
                created=(now - timedelta(days=rng.randrange(30, 2000))).replace(microsecond=0),
                methods=_methods(rng, kinds, OKTA_LABELS, now, OKTA_KIND_MAP),
                attributes=attrs,
            )
        )
        for g in member:
            portal = {
                "00g-operators": "0oa-patient-portal",
                "00g-partners": "0oa-partner-extranet",
                "00g-billing": "0oa-partner-billing",
            }.get(g)
            if portal:
                access.append(Access(aid, PortalId(portal), AccessVia.GROUP, g))
    contractors = (GroupId("00g-contractors"),)
    policies = (
        Policy(
            PolicyId("rst-patient-portal"),
            "Patient portal authentication policy",
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "rul-pp-1",
                    "Operators: phishing-resistant",
                    Scope(include_groups=(GroupId("00g-operators"),), exclude_groups=contractors),
                    PortalScope(ids=(PortalId("0oa-patient-portal"),)),
                    Requirement.PHISHING_RESISTANT,
                ),
                PolicyRule(
                    "rul-pp-2",
                    "Contractors on the office network: password only",
                    Scope(include_groups=contractors),
                    PortalScope(ids=(PortalId("0oa-patient-portal"),)),
                    Requirement.NONE,
                    (Condition(ConditionKind.NETWORK, "zone 'Office network'"),),
                ),
                PolicyRule(
                    "rul-pp-3",
                    "Catch-all: 2FA",
                    Scope(include_all=True),
                    PortalScope(ids=(PortalId("0oa-patient-portal"),)),
                    Requirement.MFA,
                ),
            ),
            "okta_access_policy",
        ),
        Policy(
            PolicyId("rst-partners"),
            "Partner apps authentication policy",
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "rul-pa-1",
                    "Partners: 2FA",
                    Scope(include_all=True),
                    PortalScope(ids=(PortalId("0oa-partner-extranet"), PortalId("0oa-partner-billing"))),
                    Requirement.MFA,
                ),
            ),
            "okta_access_policy",
        ),
        Policy(
            PolicyId("gsp-default"),
            "Global session policy",
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "gsp-rule-1",
                    "Default rule: password, any factor",
                    Scope(include_all=True),
                    PortalScope(all=True),
                    Requirement.NONE,
                ),
            ),
            "okta_global_session",
        ),
    )
    return SourceSnapshot(src, "okta", now, True, tuple(accounts), portals, tuple(access), policies), groups


def _sign_ins(
    rng: random.Random, snap: SourceSnapshot, start: date, now: datetime, sensitive: set[str], per_account: float = 0.4
) -> SourceSnapshot:
    """Sign-ins of the period to the sensitive portals; single-factor where nothing enforced MFA."""
    by_id = {a.id: a for a in snap.accounts}
    span = int((now - datetime.combine(start, datetime.min.time(), UTC)).total_seconds())
    out = []
    for acc in snap.access:
        if acc.portal_id not in sensitive or rng.random() > per_account:
            continue
        account = by_id[acc.account_id]
        if not account.enabled or account.kind is AccountKind.SERVICE:
            continue
        single = not account.methods or rng.random() < 0.05
        t = datetime.combine(start, datetime.min.time(), UTC) + timedelta(seconds=rng.randrange(max(span, 1)))
        out.append(
            SignIn(acc.account_id, acc.portal_id, t, SignInFactor.SINGLE if single else SignInFactor.MULTI, "browser")
        )
    out.sort(key=lambda s: (s.time, s.account_id))
    return replace(snap, sign_ins=tuple(out), sign_ins_collected=True)


# The method kinds Entra's authentication strengths let a user present at the second
# step (see connectors/entra/policies.py, MODE_KINDS): the built-in "Multifactor
# authentication", the sample's custom strong strength (no phone, no e-mail) and the
# built-in "Phishing-resistant MFA".
ENTRA_MFA_STRENGTH_KINDS = (
    MethodKind.WINDOWS_HELLO, MethodKind.FIDO2_SECURITY_KEY, MethodKind.PASSKEY, MethodKind.CERTIFICATE,
    MethodKind.AUTHENTICATOR_PASSWORDLESS, MethodKind.TEMPORARY_ACCESS_PASS, MethodKind.AUTHENTICATOR_PUSH,
    MethodKind.TOTP_SOFTWARE, MethodKind.HARDWARE_OTP, MethodKind.SMS, MethodKind.VOICE,
)  # fmt: skip
ENTRA_STRONG_STRENGTH_KINDS = (
    MethodKind.WINDOWS_HELLO, MethodKind.FIDO2_SECURITY_KEY, MethodKind.PASSKEY, MethodKind.CERTIFICATE,
    MethodKind.AUTHENTICATOR_PASSWORDLESS, MethodKind.AUTHENTICATOR_PUSH, MethodKind.TOTP_SOFTWARE,
    MethodKind.HARDWARE_OTP,
)  # fmt: skip
ENTRA_PHISHING_RESISTANT_KINDS = (
    MethodKind.WINDOWS_HELLO, MethodKind.FIDO2_SECURITY_KEY, MethodKind.PASSKEY, MethodKind.CERTIFICATE,
)  # fmt: skip


def entra_vendor_semantics(snap: SourceSnapshot) -> SourceSnapshot:
    """The Entra truth in Microsoft's own terms, drawn without touching the generator's
    random sequence: a member's e-mail is a password-reset method (so e-mail-only
    members exist), CA001 uses the built-in "Multifactor authentication" strength, the
    strength-based rules state the methods they accept, and CA007 excludes the
    ``Office365`` app group."""
    accounts = tuple(
        a
        if a.kind is AccountKind.GUEST
        else replace(
            a,
            methods=tuple(
                replace(m, kind=MethodKind.RECOVERY_EMAIL) if m.kind is MethodKind.EMAIL_OTP else m for m in a.methods
            ),
        )
        for a in snap.accounts
    )
    # A mobile phone takes SMS codes and voice calls: Entra's one phone is both methods.
    accounts = tuple(replace(a, methods=_entra_mobile_phones(a.methods)) for a in accounts)
    accepted = {
        "ca-001": ENTRA_MFA_STRENGTH_KINDS,
        "ca-002": ENTRA_PHISHING_RESISTANT_KINDS,
        "ca-003": ENTRA_STRONG_STRENGTH_KINDS,
        "ca-005": ENTRA_STRONG_STRENGTH_KINDS,
    }
    policies = [
        replace(p, rules=tuple(replace(r, accepted_methods=accepted.get(p.id, ())) for r in p.rules))
        for p in snap.policies
    ]
    name = "CA007 MFA for guests on every app except Office 365"
    policies.append(
        Policy(
            PolicyId("ca-007"),
            name,
            PolicyState.ENFORCED,
            (
                PolicyRule(
                    "ca-007",
                    name,
                    Scope(include_guests=True),
                    PortalScope(all=True, excluded_ids=(PortalId("app-m365"),)),
                    Requirement.MFA,
                ),
            ),
            "conditional_access",
        )
    )
    return replace(snap, accounts=accounts, policies=tuple(policies), method_policy=ENTRA_METHOD_POLICY)


def _entra_mobile_phones(methods: tuple[Method, ...]) -> tuple[Method, ...]:
    out: list[Method] = []
    for m in methods:
        out.append(m)
        if m.kind is MethodKind.SMS and m.vendor_label == ENTRA_LABELS[MethodKind.SMS]:
            out.append(replace(m, kind=MethodKind.VOICE))
    return tuple(out)


# The tenant's Authentication methods policy: every usual method on for everyone, SMS
# off for the IT administrators, hardware OATH tokens and certificates not in use.
_EVERYONE = Scope(include_all=True)
ENTRA_METHOD_POLICY = (
    MethodAllowance(MethodKind.FIDO2_SECURITY_KEY, True, _EVERYONE, "Fido2"),
    MethodAllowance(MethodKind.PASSKEY, True, _EVERYONE, "Fido2"),
    MethodAllowance(MethodKind.AUTHENTICATOR_PUSH, True, _EVERYONE, "MicrosoftAuthenticator"),
    MethodAllowance(MethodKind.AUTHENTICATOR_PASSWORDLESS, True, _EVERYONE, "MicrosoftAuthenticator"),
    MethodAllowance(MethodKind.SMS, True, Scope(include_all=True, exclude_groups=(GroupId("g-it-admins"),)), "Sms"),
    MethodAllowance(MethodKind.VOICE, True, _EVERYONE, "Voice"),
    MethodAllowance(MethodKind.EMAIL_OTP, True, Scope(include_guests=True), "Email"),
    MethodAllowance(MethodKind.TEMPORARY_ACCESS_PASS, True, _EVERYONE, "TemporaryAccessPass"),
    MethodAllowance(MethodKind.TOTP_SOFTWARE, True, _EVERYONE, "SoftwareOath"),
    MethodAllowance(MethodKind.HARDWARE_OTP, False, _EVERYONE, "HardwareOath"),
    MethodAllowance(MethodKind.CERTIFICATE, False, _EVERYONE, "X509Certificate"),
    MethodAllowance(
        MethodKind.WINDOWS_HELLO,
        True,
        _EVERYONE,
        "windowsHelloForBusiness (not governed by the authentication methods policy)",
    ),
)


def generate(seed: int = 7, accounts: int = 2000, now: datetime = DEFAULT_NOW) -> SampleOrg:
    """The sample organisation with about ``accounts`` accounts over the three sources."""
    # Millions of small immutable objects and no cycles: the cycle collector would only
    # rescan them again and again (about 40 % of the time at 1M accounts).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(seed, accounts, now)
    finally:
        if gc_was_enabled:
            gc.enable()


def _generate(seed: int, accounts: int, now: datetime) -> SampleOrg:
    rng = random.Random(seed)
    names = _Names(rng)
    period, start, end = _quarter(now)
    n_entra = max(10, int(accounts * SOURCE_SHARES["entra"]))
    n_google = max(5, int(accounts * SOURCE_SHARES["google"]))
    entra, entra_groups, eligible, linked = _entra(rng, n_entra, now, names)
    entra = entra_vendor_semantics(entra)
    google = _google(rng, n_google, now, names)
    n_okta = max(5, accounts - n_entra - n_google - len(linked))
    okta, okta_groups = _okta(rng, n_okta, now, names, linked)
    entra = _sign_ins(rng, entra, start, now, {"app-claims", "app-payroll", "app-admin-console"})
    okta = _sign_ins(rng, okta, start, now, {"0oa-patient-portal", "0oa-partner-billing"})
    sources = {"entra": entra, "google": google, "okta": okta}
    sources.update(_customer_sources(seed, accounts, now, start))
    return SampleOrg(
        seed=seed,
        now=now,
        period=period,
        period_start=start,
        period_end=end,
        sources=sources,
        group_names={"entra": entra_groups, "okta": okta_groups},
        role_names={
            "entra": {
                GLOBAL_ADMIN: "Global Administrator",
                PRIVILEGED_ROLE_ADMIN: "Privileged Role Administrator",
                USER_ADMIN: "User Administrator",
            },
            "okta": {"SUPER_ADMIN": "Super Administrator"},
            "google": {"_SEED_ADMIN_ROLE": "Super Admin", "delegated-admin": "Delegated admin"},
        },
        org_units=ORG_UNITS,
        eligible_roles={"entra": eligible},
    )


def _customer_sources(seed: int, accounts: int, now: datetime, start: date) -> dict[str, SourceSnapshot]:
    """Customer-identity sources, each generated by its own module from its own random
    stream (the staff sources above are unchanged by them)."""
    from connectors.sandbox.cognito.truth import members

    return {"cognito": members(seed, accounts, now, start)}


def iter_accounts(org: SampleOrg) -> Iterator[Account]:
    for snap in org.sources.values():
        yield from snap.accounts


# Policies introduced during the current quarter: absent from the previous one.
NEW_THIS_QUARTER = {"entra": ("ca-005",)}


def previous_quarter(org: SampleOrg) -> SampleOrg:
    """The same organisation one quarter earlier, with known differences: accounts
    created since did not exist, about one account in twelve had not yet enrolled its
    methods, the policies of ``NEW_THIS_QUARTER`` did not exist, and no sign-in log of
    the current period. Deterministic in ``org.seed``."""
    rng = random.Random(org.seed * 7919 + 1)
    now = org.now - timedelta(days=92)
    period, start, end = _quarter(now)
    sources = {}
    for name, snap in org.sources.items():
        accounts = []
        for a in snap.accounts:
            if a.created is not None and a.created > now:
                continue
            methods = a.methods
            if methods and rng.random() < 1 / 12:
                methods = ()
            last = a.last_sign_in
            if last is not None and last > now:
                last = now - (org.now - last) / 4
            accounts.append(replace(a, methods=methods, last_sign_in=last))
        kept = {a.id for a in accounts}
        dropped = set(NEW_THIS_QUARTER.get(name, ()))
        policies = tuple(_without_accounts(p, kept) for p in snap.policies if p.id not in dropped)
        sources[name] = replace(
            snap,
            collected_at=now,
            accounts=tuple(accounts),
            access=tuple(x for x in snap.access if x.account_id in kept),
            policies=policies,
            sign_ins=(),
            sign_ins_collected=False,
        )
    return replace(
        org,
        now=now,
        period=period,
        period_start=start,
        period_end=end,
        sources=sources,
        eligible_roles={k: tuple(v) for k, v in org.eligible_roles.items()},
    )


def _without_accounts(policy: Policy, kept: set[AccountId]) -> Policy:
    """Policy rules name only accounts that exist: a user list cannot hold a deleted user."""
    rules = tuple(
        replace(
            r,
            scope=replace(
                r.scope,
                include_users=tuple(u for u in r.scope.include_users if u in kept),
                exclude_users=tuple(u for u in r.scope.exclude_users if u in kept),
            ),
        )
        for r in policy.rules
    )
    return replace(policy, rules=rules)


# --- the members' extranet: a small export whose sign-in times were not read --------------

EXTRANET_PORTAL = PortalId("ext-members")


def extranet_export(org: SampleOrg) -> SourceSnapshot:
    """The members' extranet, audited from a JSON export (the ``file`` connector). The
    export carries no last sign-in time, and says so in its ``facts``: the dormancy rule
    is then "not evaluated" on it, never a finding (issue #14). A dozen accounts, all
    derived from ``org.seed``."""
    rng = random.Random(org.seed * 104729 + 3)
    src = SourceName("extranet")
    kinds = ((MethodKind.AUTHENTICATOR_PUSH,), (MethodKind.TOTP_SOFTWARE,), (MethodKind.SMS,), ())
    accounts = tuple(
        Account(
            source=src,
            id=AccountId(f"x{i:03d}"),
            principal=f"extranet.agent{i:02d}@{DOMAIN}",
            display_name=f"Extranet agent {i:02d}",
            kind=AccountKind.HUMAN,
            enabled=True,
            methods=tuple(Method(k, k.value) for k in rng.choice(kinds)),
        )
        for i in range(12)
    )
    portal = Portal(src, EXTRANET_PORTAL, "Members' extranet (back office)", True, ("members",))
    everyone = PolicyRule("x-mfa", "Require MFA", Scope(include_all=True), PortalScope(all=True), Requirement.MFA)
    return SourceSnapshot(
        source=src,
        connector="file",
        collected_at=org.now,
        complete=True,
        accounts=accounts,
        portals=(portal,),
        access=tuple(Access(a.id, EXTRANET_PORTAL) for a in accounts),
        policies=(Policy(PolicyId("x-mfa"), "Require MFA", PolicyState.ENFORCED, (everyone,)),),
        facts=(
            FactRead(Fact.SIGN_IN_TIMES, False, "the export carries no last sign-in time"),
            FactRead(Fact.SIGN_IN_LOG, False, "no sign-in log in the export"),
            FactRead(Fact.LEGACY_AUTH, False, "not applicable to the extranet"),
        ),
    )
