"""Keycloak authentication flows: the executions as Keycloak lists them, rebuilt as a
tree, and walked for one user to find every way that user can get through.

Keycloak's rules (``DefaultAuthenticationFlow``): inside a flow, when any execution is
REQUIRED or CONDITIONAL, all of those must pass and the ALTERNATIVE ones are ignored;
otherwise one ALTERNATIVE must pass. DISABLED executions do nothing. A CONDITIONAL
sub-flow runs only when all its condition executions match. What is known of the user
(credentials, roles, attributes) decides conditions here; what depends on the sign-in
itself (requested client scope, level of authentication, request headers) cannot be
known, so both branches are kept and the condition is named.

A *path* is one way through: the factors it asks for and the sign-in conditions it
assumed. Pure functions only: the connector fetches, this module decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product

from auditor.model import MethodKind, Requirement

REQUIRED, ALTERNATIVE, CONDITIONAL, DISABLED = "REQUIRED", "ALTERNATIVE", "CONDITIONAL", "DISABLED"
REQUIREMENTS = frozenset({REQUIRED, ALTERNATIVE, CONDITIONAL, DISABLED})

# Authenticators → the factor they ask for. Identification-only steps ask for nothing.
PASSWORD_STEPS = frozenset(
    {
        "auth-username-password-form",
        "auth-password-form",
        "direct-grant-validate-password",
        "idp-username-password-form",
    }
)
OTP_STEPS = frozenset({"auth-otp-form", "direct-grant-validate-otp"})
WEBAUTHN_STEP = "webauthn-authenticator"
PASSKEY_STEP = "webauthn-authenticator-passwordless"
CONDITIONAL_OTP_FORM = "auth-conditional-otp-form"
COOKIE_STEP = "auth-cookie"
REDIRECTOR_STEP = "identity-provider-redirector"
DENY_STEP = "deny-access-authenticator"  # "Deny access": whoever reaches it cannot sign in
NEUTRAL_STEPS = frozenset(
    {
        "auth-username-form",
        "direct-grant-validate-username",
        "idp-review-profile",
        "idp-create-user-if-unique",
        "idp-confirm-link",
        "idp-email-verification",
        "idp-auto-link",
        "idp-detect-existing-broker-user",
        "idp-confirm-override-link",
        "allow-access-authenticator",
        "auth-spnego-disabled",
    }
)
# Conditions decided from what is read of the user.
COND_CONFIGURED = "conditional-user-configured"
COND_ROLE = "conditional-user-role"
COND_ATTRIBUTE = "conditional-user-attribute"

# The credential type each factor needs, and the method kinds it accepts. A passkey
# (WebAuthn passwordless) is two factors only when the realm's passwordless policy
# requires user verification (a PIN or biometric on the authenticator): Keycloak's
# default since its WebAuthnPolicyPasswordlessDefaults; an admin may lower it, and then
# the walk names the factor ``passkey-unverified`` (possession alone).
PASSKEY_UNVERIFIED = "passkey-unverified"
UPSTREAM = "upstream"  # the identity provider's own sign-in, before a post-broker flow
FACTOR_CREDENTIAL = {
    "otp": "otp",
    "webauthn": "webauthn",
    "passkey": "webauthn-passwordless",
    PASSKEY_UNVERIFIED: "webauthn-passwordless",
    "password": "password",
}
FACTOR_REQUIREMENT = {
    "otp": Requirement.STRONG,
    "webauthn": Requirement.PHISHING_RESISTANT,
    "passkey": Requirement.PHISHING_RESISTANT,
    PASSKEY_UNVERIFIED: Requirement.PHISHING_RESISTANT,
}
FACTOR_KINDS: Mapping[str, tuple[MethodKind, ...]] = {
    "otp": (MethodKind.TOTP_SOFTWARE,),
    "webauthn": (MethodKind.FIDO2_SECURITY_KEY,),
    "passkey": (MethodKind.PASSKEY,),
    PASSKEY_UNVERIFIED: (MethodKind.PASSKEY,),
}
# The factor types (knowledge, possession, inherence) each step proves: a way in is
# multi-factor only with two types or more, however many steps it has (an OTP after a
# username form alone is one factor). The WebAuthn two-factor policy does not require
# user verification by default: a security key there proves possession only.
KNOWLEDGE, POSSESSION, INHERENCE = "knowledge", "possession", "inherence"
FACTOR_TYPES: Mapping[str, frozenset[str]] = {
    "password": frozenset({KNOWLEDGE}),
    UPSTREAM: frozenset({KNOWLEDGE}),
    "otp": frozenset({POSSESSION}),
    "webauthn": frozenset({POSSESSION}),
    "passkey": frozenset({POSSESSION, INHERENCE}),
    PASSKEY_UNVERIFIED: frozenset({POSSESSION}),
}
# The realm's passwordless-policy value that makes a passkey two factors.
UV_REQUIRED = "required"
MAX_PATHS = 256  # a pathological flow is cut here (and said so), never walked forever


@dataclass(frozen=True, slots=True)
class Step:
    """One execution: an authenticator, a condition or a sub-flow (``children``)."""

    requirement: str
    provider: str  # providerId; "" for a sub-flow
    name: str  # displayName, for evidence
    config: Mapping[str, str] = field(default_factory=dict, hash=False)
    children: tuple[Step, ...] = ()
    is_flow: bool = False

    @property
    def is_condition(self) -> bool:
        return self.provider.startswith("conditional-")


@dataclass(frozen=True, slots=True)
class UserFacts:
    credentials: frozenset[str]  # credential types the user has
    roles: frozenset[str]  # "role" (realm) and "clientId.role" (client), as Keycloak writes them
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class Path:
    factors: frozenset[str] = frozenset()
    conditions: frozenset[str] = frozenset()  # sign-in conditions assumed; "not …" for their negation

    def join(self, other: Path) -> Path:
        return Path(self.factors | other.factors, self.conditions | other.conditions)

    @property
    def requirement(self) -> Requirement:
        """The strongest second factor of a multi-factor path; none for a path of one
        factor type (e.g. a username form then an OTP, with no password)."""
        types: set[str] = set()
        for f in self.factors:
            types |= FACTOR_TYPES.get(f, frozenset())
        if len(types) < 2:
            return Requirement.NONE
        best = Requirement.NONE
        for f in self.factors:
            r = FACTOR_REQUIREMENT.get(f, Requirement.NONE)
            if r.rank > best.rank:
                best = r
        return best

    @property
    def kinds(self) -> tuple[MethodKind, ...]:
        req = self.requirement
        return tuple(k for f in sorted(self.factors) if FACTOR_REQUIREMENT.get(f) is req for k in FACTOR_KINDS[f])

    @property
    def guarded(self) -> bool:
        """Whether the path exists only when some sign-in condition does *not* hold."""
        return any(c.startswith("not ") for c in self.conditions)


class FlowError(ValueError):
    """The executions listing cannot be read as a tree."""


def build(executions: Sequence[Mapping[str, object]]) -> tuple[Step, ...]:
    """The tree of a flow from ``GET …/flows/{alias}/executions`` (depth-first, with
    ``level``). ``configs`` are attached by the caller through ``with_configs``."""
    root: list[list[Step]] = [[]]
    stack: list[tuple[int, Mapping[str, object], list[Step]]] = []

    def close(until: int) -> None:
        while stack and stack[-1][0] >= until:
            _level, raw, kids = stack.pop()
            parent = stack[-1][2] if stack else root[0]
            parent.append(_step(raw, tuple(kids)))

    for i, raw in enumerate(executions):
        level = raw.get("level", 0)
        if not isinstance(level, int) or isinstance(level, bool) or level < 0:
            raise FlowError(f"execution {i + 1}: level {level!r} is not a whole number")
        expected = stack[-1][0] + 1 if stack else 0
        if level > expected:
            raise FlowError(f"execution {i + 1}: level {level} follows level {expected - 1}")
        close(level)
        if raw.get("authenticationFlow") is True:
            stack.append((level, raw, []))
        else:
            (stack[-1][2] if stack else root[0]).append(_step(raw, ()))
    close(0)
    return tuple(root[0])


def _step(raw: Mapping[str, object], children: tuple[Step, ...]) -> Step:
    requirement = str(raw.get("requirement") or "")
    config = raw.get("config")
    return Step(
        requirement=requirement,
        provider="" if raw.get("authenticationFlow") is True else str(raw.get("providerId") or ""),
        name=str(raw.get("displayName") or raw.get("alias") or raw.get("providerId") or "?"),
        config={str(k): str(v) for k, v in config.items()} if isinstance(config, Mapping) else {},
        children=children,
        is_flow=raw.get("authenticationFlow") is True,
    )


@dataclass(slots=True)
class Walk:
    """One walk's findings besides the paths: steps it could not interpret."""

    unknown_steps: set[str] = field(default_factory=set)
    unknown_requirements: set[str] = field(default_factory=set)
    truncated: bool = False
    # The realm's webAuthnPolicyPasswordlessUserVerificationRequirement is "required".
    passkey_verified: bool = False


def paths(steps: Sequence[Step], user: UserFacts, walk: Walk) -> list[Path]:
    """Every way ``user`` gets through a flow made of ``steps`` (empty: no way)."""
    active = [s for s in steps if not s.is_condition and s.requirement != DISABLED]
    for s in active:
        if s.requirement not in REQUIREMENTS:
            walk.unknown_requirements.add(f"{s.name}: {s.requirement or '(none)'}")
    musts = [s for s in active if s.requirement in (REQUIRED, CONDITIONAL) or s.requirement not in REQUIREMENTS]
    if musts:
        out = [Path()]
        for s in musts:
            out = _dedupe(a.join(b) for a, b in product(out, _step_paths(s, user, walk)))
            if len(out) > MAX_PATHS:
                walk.truncated = True
                out = out[:MAX_PATHS]
        return out
    alternatives = [s for s in active if s.requirement == ALTERNATIVE]
    if not alternatives:
        return [Path()]
    return _dedupe(p for s in alternatives for p in _step_paths(s, user, walk))


def _dedupe(items: Iterable[Path]) -> list[Path]:
    return list(dict.fromkeys(items))


def _step_paths(step: Step, user: UserFacts, walk: Walk) -> list[Path]:
    if step.is_flow:
        if step.requirement != CONDITIONAL:
            return paths(step.children, user, walk)
        decided, open_conditions = _conditions(step, user, walk)
        if decided is False:
            return [Path()]  # skipped
        inner = paths(step.children, user, walk)
        if not open_conditions:
            return inner
        when = " and ".join(sorted(open_conditions))
        return [
            *(p.join(Path(conditions=frozenset({when}))) for p in inner),
            Path(conditions=frozenset({f"not {when}"})),
        ]
    p = step.provider
    if p in PASSWORD_STEPS:
        return [Path(frozenset({"password"}))]
    if p in OTP_STEPS:
        return [Path(frozenset({"otp"}))]
    if p == WEBAUTHN_STEP:
        return [Path(frozenset({"webauthn"}))]
    if p == PASSKEY_STEP:
        return [Path(frozenset({"passkey" if walk.passkey_verified else PASSKEY_UNVERIFIED}))]
    if p == CONDITIONAL_OTP_FORM:
        return _conditional_otp_form(step, user)
    if p == COOKIE_STEP:
        # A session cookie only re-uses an earlier sign-in made through the other ways.
        return [] if step.requirement == ALTERNATIVE else [Path()]
    if p == REDIRECTOR_STEP:
        # Brokered sign-ins are judged on the broker portal; a local account cannot pass here.
        if step.requirement == ALTERNATIVE or step.config.get("defaultProvider"):
            return []
        return [Path()]  # without a default provider the redirector only "attempts" and lets the flow go on
    if p == DENY_STEP:
        return []
    if p in NEUTRAL_STEPS:
        return [Path()]
    walk.unknown_steps.add(p or step.name)
    return [Path(frozenset({f"unknown:{p}"}))]


def _configured(step: Step, user: UserFacts) -> bool:
    if step.is_flow:
        return _all_configured(step.children, user)
    p = step.provider
    factor = (
        "password"
        if p in PASSWORD_STEPS
        else "otp"
        if p in OTP_STEPS or p == CONDITIONAL_OTP_FORM
        else "webauthn"
        if p == WEBAUTHN_STEP
        else "passkey"
        if p == PASSKEY_STEP
        else None
    )
    if factor is None:
        return p in NEUTRAL_STEPS  # an authenticator we cannot judge is taken as not configured: the weaker reading
    return FACTOR_CREDENTIAL[factor] in user.credentials


def _all_configured(steps: Sequence[Step], user: UserFacts) -> bool:
    """Keycloak's "condition - user configured": every REQUIRED execution of the
    sub-flow is configured for the user and, when there are ALTERNATIVE ones, one is."""
    active = [s for s in steps if not s.is_condition and s.requirement in (REQUIRED, ALTERNATIVE)]
    if not active:
        return False
    required = [s for s in active if s.requirement == REQUIRED]
    alternatives = [s for s in active if s.requirement == ALTERNATIVE]
    return all(_configured(s, user) for s in required) and (
        not alternatives or any(_configured(s, user) for s in alternatives)
    )


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _conditions(flow: Step, user: UserFacts, walk: Walk) -> tuple[bool | None, list[str]]:
    """(False if a condition is known not to match, else None; the open sign-in conditions)."""
    open_conditions: list[str] = []
    conditions = [s for s in flow.children if s.is_condition and s.requirement != DISABLED]
    if not conditions:
        # Keycloak skips a CONDITIONAL sub-flow without any condition.
        return False, []
    for c in conditions:
        if c.provider == COND_CONFIGURED:
            if not _all_configured(flow.children, user):
                return False, []
        elif c.provider == COND_ROLE:
            role = c.config.get("condUserRole", "")
            has = role in user.roles
            if has == _truthy(c.config.get("negate")):
                return False, []
        elif c.provider == COND_ATTRIBUTE:
            name = c.config.get("attribute_name", "")
            expected = c.config.get("attribute_expected_value", "")
            values = user.attributes.get(name, ())
            if _truthy(c.config.get("regex")):
                try:
                    has = any(re.fullmatch(expected, v) for v in values)
                except re.error:
                    walk.unknown_steps.add(f"{c.provider} (bad regex)")
                    open_conditions.append(f"user attribute {name} matches {expected}")
                    continue
            else:
                has = expected in values
            if has == _truthy(c.config.get("not")):
                return False, []
        elif c.provider == "conditional-client-scope":
            scope = c.config.get("clientScopes") or c.config.get("clientScope") or "?"
            open_conditions.append(f"client scope {scope} requested")
        elif c.provider == "conditional-level-of-authentication":
            open_conditions.append(f"level of authentication {c.config.get('loa-condition-level', '?')} requested")
        else:
            walk.unknown_steps.add(c.provider)
            open_conditions.append(f"condition {c.provider} ({c.name})")
    return None, open_conditions


def _conditional_otp_form(step: Step, user: UserFacts) -> list[Path]:
    """The legacy "Conditional OTP Form": the user's OTP-control attribute, then the skip
    and force roles, then the request-header patterns, then the default outcome; with no
    decision at all the OTP form is shown (and an unconfigured user must set one up)."""
    otp = Path(frozenset({"otp"}))
    cfg = step.config
    attribute = cfg.get("otpControlAttribute")
    if attribute:
        values = {v.strip().lower() for v in user.attributes.get(attribute, ())}
        if "skip" in values:
            return [Path()]
        if "force" in values:
            return [otp]
    if cfg.get("skipOtpRole") and cfg["skipOtpRole"] in user.roles:
        return [Path()]
    if cfg.get("forceOtpRole") and cfg["forceOtpRole"] in user.roles:
        return [otp]
    out: list[Path] = []
    force_header, skip_header = cfg.get("forceOtpForHeaderPattern"), cfg.get("noOtpRequiredForHeaderPattern")
    if force_header:
        when = f"request header matches {force_header}"
        out.append(otp.join(Path(conditions=frozenset({when}))))
    if skip_header:
        out.append(Path(conditions=frozenset({f"not request header matches {skip_header}"})))
    default = (cfg.get("defaultOtpOutcome") or "").strip().lower()
    fallback = [Path()] if default == "skip" else [otp]
    if out:
        neither = frozenset(
            f"not request header matches {h}" if h == force_header else f"request header matches {h}"
            for h in (force_header, skip_header)
            if h
        )
        out.extend(p.join(Path(conditions=neither)) for p in fallback)
        return _dedupe(out)
    return fallback


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a way in demands of one user: the floor every sign-in meets, and the
    ceiling met only under ``conditions`` (equal to the floor when there are none)."""

    floor: Requirement
    kinds: tuple[MethodKind, ...]
    ceiling: Requirement
    conditions: tuple[str, ...] = ()


def after_upstream(found: Sequence[Path]) -> list[Path]:
    """The ways through a post-broker flow, each preceded by the identity provider's
    own sign-in (one factor, whatever it was)."""
    return [p.join(Path(frozenset({UPSTREAM}))) for p in found]


def walk_for(realm: Mapping[str, object]) -> Walk:
    """A walk that knows the realm's passwordless policy (absent: not verified)."""
    uv = realm.get("webAuthnPolicyPasswordlessUserVerificationRequirement")
    return Walk(passkey_verified=isinstance(uv, str) and uv.strip().lower() == UV_REQUIRED)


def outcome(found: Sequence[Path]) -> Outcome:
    if not found:
        return Outcome(Requirement.BLOCK, (), Requirement.BLOCK)
    floor = min((p.requirement for p in found), key=lambda r: r.rank)
    kinds: tuple[MethodKind, ...] = ()
    if floor is not Requirement.NONE:
        kinds = tuple(dict.fromkeys(k for p in found for k in p.kinds))
    unguarded = [p for p in found if not p.guarded]
    ceiling = min((p.requirement for p in unguarded), key=lambda r: r.rank) if unguarded else floor
    if ceiling.rank <= floor.rank:
        return Outcome(floor, kinds, floor)
    conditions = tuple(sorted({c for p in unguarded for c in p.conditions}))
    return Outcome(floor, kinds, ceiling, conditions)


def weakest(a: Outcome, b: Outcome) -> Outcome:
    """Two ways into the same portal (browser and direct grant): a user, or an attacker
    with the password, takes the weaker one."""
    floor = a if a.floor.rank <= b.floor.rank else b
    ceiling = min(a.ceiling, b.ceiling, key=lambda r: r.rank)
    kinds = tuple(dict.fromkeys((*a.kinds, *b.kinds))) if a.floor is b.floor else floor.kinds
    if ceiling.rank <= floor.floor.rank:
        return Outcome(floor.floor, kinds, floor.floor)
    return Outcome(floor.floor, kinds, ceiling, tuple(sorted({*a.conditions, *b.conditions})))
