"""The sample organisation's Keycloak realm: the insurer's patient and
health-professional portals, which do not sit behind the workforce IdPs.

- "Espace adhérents" (members' portal) uses the realm's default browser flow: OTP only
  for members who configured one (opt-in); some members sign in through FranceConnect,
  which no source of the demo audits.
- "Portail professionnels de santé" (third-party payment) overrides the browser flow
  to force OTP; professionals mostly sign in through Pro Santé Connect, with a
  post-broker flow that asks for Keycloak's own OTP after it.
- Login events are stored, so the quarter's sign-ins are read.

Generated from the organisation's seed and period: the same quarter is always the
same realm, and the later quarter has more members enrolled.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from connectors.sandbox.keycloak.realm import CONDITIONAL, Realm, RealmBuilder, browser_flow, step, sub
from connectors.sandbox.sample_org import SampleOrg

MEMBERS_PORTAL = "espace-adherents"
PRO_PORTAL = "portail-pro-sante"
FIRST = ("Camille", "Louis", "Léa", "Hugo", "Chloé", "Jules", "Manon", "Arthur", "Inès", "Nathan", "Sarah", "Paul")
LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau")


def demo_realm(org: SampleOrg, members: int = 60, professionals: int = 24) -> Realm:
    rng = random.Random(f"keycloak-{org.seed}")
    # The later quarter: more members have turned the opt-in OTP on.
    q = int(org.period[-1])
    enrol = 0.25 + 0.1 * (q % 2)
    b = RealmBuilder("mutuelle", created=datetime(2024, 3, 4, tzinfo=UTC))
    b.realm.settings["eventsEnabled"] = True
    b.realm.settings["enabledEventTypes"] = ["LOGIN", "LOGIN_ERROR"]
    b.role("professionnel")
    # Forced OTP, and only professionals get through ("Deny access" for everyone else).
    professionals_only = sub(
        "Professionals only",
        CONDITIONAL,
        step("conditional-user-role", config={"condUserRole": "professionnel", "negate": "true"}),
        step("deny-access-authenticator"),
    )
    b.flow("browser forced OTP", browser_flow(professionals_only, step("auth-otp-form")))
    b.flow("post-broker OTP", (step("auth-otp-form"),))
    b.idp("psc", "Pro Santé Connect", post_broker_flow="post-broker OTP")
    b.idp("franceconnect", "FranceConnect")
    b.client(MEMBERS_PORTAL, "Espace adhérents")
    b.client(PRO_PORTAL, "Portail professionnels de santé", browser_override="browser forced OTP")
    b.user(
        "admin.keycloak@mutuelle-exemple.fr",
        credentials=("password", "otp"),
        roles=["realm-management.realm-admin"],
        first="Admin",
        last="Keycloak",
    )
    b.user("service-account-mfa-auditor", credentials=(), service_client="mfa-auditor")
    logins: list[tuple[str, str, dict[str, str]]] = []
    for n in range(members):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        creds = ["password"]
        pending: list[str] = []
        r = rng.random()
        if r < enrol:
            creds.append("otp")
        elif r < enrol + 0.05:
            creds.append("webauthn")
        elif r < enrol + 0.12:
            pending.append("CONFIGURE_TOTP")
        fc = rng.random() < 0.08
        uid = b.user(
            f"adherent{n:03d}@exemple-adherent.fr",
            credentials=creds,
            required_actions=pending,
            idps=["franceconnect"] if fc else [],
            first=first,
            last=last,
        )
        if rng.random() < 0.5:
            logins.append((uid, MEMBERS_PORTAL, {"credential_type": "otp"} if "otp" in creds else {}))
    for n in range(professionals):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        brokered = rng.random() < 0.75
        creds = [] if brokered else ["password"]
        if rng.random() < 0.7:
            creds.append("otp")
        uid = b.user(
            f"pro{n:03d}@sante-exemple.fr",
            credentials=creds,
            roles=["professionnel"],
            idps=["psc"] if brokered else [],
            first=f"Dr {first}",
            last=last,
        )
        if not brokered and rng.random() < 0.6:
            logins.append((uid, PRO_PORTAL, {"credential_type": "otp"} if "otp" in creds else {}))
    days = max(1, (org.period_end - org.period_start).days)
    start = datetime.combine(org.period_start, datetime.min.time(), UTC)
    for uid, client, details in logins:
        at = start + timedelta(days=rng.randrange(days), minutes=rng.randrange(24 * 60))
        if at < org.now:
            b.login_event(uid, client, at, details)
    return b.build()
