"""What an Okta authentication-policy rule's ``verificationMethod`` demands: the strength
of the weakest way to satisfy it. Pure; table-tested.

ASSURANCE with factor mode 2FA: ``constraints`` is a list of OR-branches (Okta's own
examples sometimes give a single object: read as one branch); a branch's
``possession`` constraint narrows the possession factor by method, type, authenticator
or characteristic (phishing-resistant, hardware-protected, device-bound). The weakest
branch wins, and within a branch the weakest possession it still allows.

AUTH_METHOD_CHAIN: ``chains`` are OR-branches; each step's ``authenticationMethods`` are
alternatives and its ``next`` chains continue it. Every path is judged by the factor
types of its steps (knowledge, possession, inherence through user verification): two
types or more is multi-factor, as strong as its strongest possession step; one type is
single-factor however many steps. The weakest path wins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.model import MethodKind, Requirement, Strength, requirement_for_strength

KNOWLEDGE, POSSESSION, INHERENCE = "knowledge", "possession", "inherence"

# Possession ``methods`` (AuthenticatorMethodType, upper case in constraints) → strength.
# DUO may be a push, an SMS or a call; IDP is a factor an external IdP vouches for.
CONSTRAINT_METHODS: Mapping[str, Strength | None] = {
    "SMS": Strength.WEAK,
    "VOICE": Strength.WEAK,
    "EMAIL": Strength.WEAK,
    "DUO": Strength.WEAK,
    "IDP": Strength.WEAK,
    "PUSH": Strength.STRONG,
    "OTP": Strength.STRONG,
    "TOTP": Strength.STRONG,
    "SIGNED_NONCE": Strength.STRONG,
    "WEBAUTHN": Strength.PHISHING_RESISTANT,
    "CERT": Strength.PHISHING_RESISTANT,
    # Knowledge methods name no possession: they do not narrow it.
    "PASSWORD": None,
    "SECURITY_QUESTION": None,
}
# Possession ``types`` (AuthenticatorType).
CONSTRAINT_TYPES: Mapping[str, Strength | None] = {
    "PHONE": Strength.WEAK,
    "EMAIL": Strength.WEAK,
    "FEDERATED": Strength.WEAK,
    "APP": Strength.STRONG,
    # Security keys include YubiKey OTP (a one-time code), not only WebAuthn: strong at least.
    "SECURITY_KEY": Strength.STRONG,
    "PASSWORD": None,
    "SECURITY_QUESTION": None,
}
# Chain and constraint ``authenticationMethods[].method`` (lower case) → (factor types,
# strength as a possession). Password and security question are knowledge; an external
# IdP's factor is not described, so it counts as none.
STEP_METHODS: Mapping[str, tuple[frozenset[str], Strength]] = {
    "password": (frozenset({KNOWLEDGE}), Strength.NONE),
    "security_question": (frozenset({KNOWLEDGE}), Strength.NONE),
    "sms": (frozenset({POSSESSION}), Strength.WEAK),
    "voice": (frozenset({POSSESSION}), Strength.WEAK),
    "email": (frozenset({POSSESSION}), Strength.WEAK),
    "duo": (frozenset({POSSESSION}), Strength.WEAK),
    "push": (frozenset({POSSESSION}), Strength.STRONG),
    "totp": (frozenset({POSSESSION}), Strength.STRONG),
    "otp": (frozenset({POSSESSION}), Strength.STRONG),
    "signed_nonce": (frozenset({POSSESSION}), Strength.STRONG),
    "webauthn": (frozenset({POSSESSION}), Strength.PHISHING_RESISTANT),
    "cert": (frozenset({POSSESSION}), Strength.PHISHING_RESISTANT),
    "idp": (frozenset(), Strength.NONE),
}
# Past this many paths a chain is not enumerated (never met in practice): counted as none.
MAX_PATHS = 10_000


@dataclass(frozen=True, slots=True)
class Judgement:
    requirement: Requirement
    unknown: tuple[str, ...] = ()  # values this module does not know (counted as none)


def _weakest(values: Sequence[Strength]) -> Strength:
    return min(values, key=lambda s: s.rank)


# --- ASSURANCE ---------------------------------------------------------------------------


def constraint_branches(constraints: Any) -> list[Any]:
    """``constraints`` as a list of branches: an object is one branch."""
    if isinstance(constraints, Mapping):
        return [constraints]
    if isinstance(constraints, list):
        return constraints
    return []


def _possession_strength(poss: Mapping[str, Any], unknown: list[str]) -> Strength:
    """The weakest possession factor a branch's possession constraint still allows."""
    before = len(unknown)
    floor = Strength.WEAK  # any possession factor, SMS and e-mail included
    if poss.get("phishingResistant") == "REQUIRED":
        floor = Strength.PHISHING_RESISTANT
    elif poss.get("hardwareProtection") == "REQUIRED" or poss.get("deviceBound") == "REQUIRED":
        floor = Strength.STRONG
    allowed: list[Strength] = []
    for key, table in (("methods", CONSTRAINT_METHODS), ("types", CONSTRAINT_TYPES)):
        values = poss.get(key)
        for v in values if isinstance(values, list) else ():
            if str(v) not in table:
                unknown.append(f"possession {key} {v}")
                allowed.append(Strength.NONE)
            elif table[str(v)] is not None:
                s = table[str(v)]
                assert s is not None
                allowed.append(s)
    methods = poss.get("authenticationMethods")
    for m in methods if isinstance(methods, list) else ():
        name = str(m.get("method")) if isinstance(m, Mapping) else "?"
        if name not in STEP_METHODS:
            unknown.append(f"possession method {name}")
            allowed.append(Strength.NONE)
        elif POSSESSION in STEP_METHODS[name][0]:
            allowed.append(STEP_METHODS[name][1])
    if len(unknown) > before:
        return Strength.NONE  # a value we cannot judge is never protected
    if not allowed:
        return floor
    # A list names what is allowed; a characteristic excludes what falls below it.
    narrowest = _weakest(allowed)
    return narrowest if narrowest.rank >= floor.rank else floor


def judge_assurance(method: Mapping[str, Any]) -> Judgement:
    if method.get("factorMode") != "2FA":
        return Judgement(Requirement.NONE)  # 1FA: one factor of any kind may be enough
    branches = constraint_branches(method.get("constraints"))
    if not branches:
        return Judgement(Requirement.MFA)
    unknown: list[str] = []
    strengths = []
    for branch in branches:
        poss = branch.get("possession") if isinstance(branch, Mapping) else None
        strengths.append(_possession_strength(poss, unknown) if isinstance(poss, Mapping) else Strength.WEAK)
    weakest = _weakest(strengths)
    return Judgement(requirement_for_strength(weakest), tuple(unknown))


# --- AUTH_METHOD_CHAIN ---------------------------------------------------------------------


def _step_options(step: Mapping[str, Any], unknown: list[str]) -> list[tuple[frozenset[str], Strength]]:
    options: list[tuple[frozenset[str], Strength]] = []
    methods = step.get("authenticationMethods")
    for m in methods if isinstance(methods, list) else ():
        if not isinstance(m, Mapping):
            continue
        name = str(m.get("method"))
        if name not in STEP_METHODS:
            unknown.append(f"{m.get('key')}/{name}")
            options.append((frozenset(), Strength.NONE))
            continue
        types, strength = STEP_METHODS[name]
        if POSSESSION in types and m.get("userVerification") == "REQUIRED":
            types = types | {INHERENCE}  # a biometric or PIN on the authenticator
        options.append((types, strength))
    return options or [(frozenset(), Strength.NONE)]


def _paths(chain: Any, unknown: list[str]) -> Iterator[list[tuple[frozenset[str], Strength]]]:
    if not isinstance(chain, Mapping):
        yield []
        return
    nexts = (
        [n for n in chain.get("next") or () if isinstance(n, Mapping)] if isinstance(chain.get("next"), list) else []
    )
    for option in _step_options(chain, unknown):
        if not nexts:
            yield [option]
            continue
        for n in nexts:
            for rest in _paths(n, unknown):
                yield [option, *rest]


def _path_strength(path: list[tuple[frozenset[str], Strength]]) -> Strength:
    types: set[str] = set()
    for t, _ in path:
        types |= t
    if len(types) < 2:
        return Strength.NONE  # one factor type, however many steps
    possession = [s for t, s in path if POSSESSION in t]
    return max(possession, key=lambda s: s.rank) if possession else Strength.WEAK


def judge_chain(method: Mapping[str, Any]) -> Judgement:
    chains = method.get("chains")
    if not isinstance(chains, list) or not chains:
        return Judgement(Requirement.NONE)
    unknown: list[str] = []
    weakest = Strength.PHISHING_RESISTANT
    count = 0
    for chain in chains:
        for path in _paths(chain, unknown):
            count += 1
            if count > MAX_PATHS:
                return Judgement(Requirement.NONE, (*unknown, f"more than {MAX_PATHS} paths"))
            s = _path_strength(path)
            if s.rank < weakest.rank:
                weakest = s
    if unknown:
        weakest = Strength.NONE  # a path through an unknown method is never protected
    return Judgement(requirement_for_strength(weakest), tuple(dict.fromkeys(unknown)))


# --- the methods a rule accepts (PolicyRule.accepted_methods) -------------------------------

# What each possession method lets a user present, as model kinds (Okta's factor kinds).
METHOD_KINDS: Mapping[str, tuple[MethodKind, ...]] = {
    "sms": (MethodKind.SMS,),
    "voice": (MethodKind.VOICE,),
    "email": (MethodKind.EMAIL_OTP,),
    "push": (MethodKind.AUTHENTICATOR_PUSH,),
    "totp": (MethodKind.TOTP_SOFTWARE,),
    "otp": (MethodKind.TOTP_SOFTWARE, MethodKind.HARDWARE_OTP),
    "signed_nonce": (MethodKind.OKTA_FASTPASS, MethodKind.AUTHENTICATOR_PASSWORDLESS),
    "webauthn": (MethodKind.FIDO2_SECURITY_KEY,),
    "cert": (MethodKind.CERTIFICATE,),
    "duo": (MethodKind.UNSPECIFIED_SECOND_FACTOR,),
}
_TYPE_METHODS: Mapping[str, tuple[str, ...]] = {
    "PHONE": ("sms", "voice"),
    "EMAIL": ("email",),
    "APP": ("push", "totp", "signed_nonce"),
    "SECURITY_KEY": ("webauthn", "otp"),
}


def _branch_methods(poss: Mapping[str, Any]) -> set[str] | None:
    """The possession methods a branch names, lower case; None when it names none (any)."""
    named: set[str] = set()
    listed = False
    for v in poss.get("methods") or () if isinstance(poss.get("methods"), list) else ():
        listed = True
        named.add(str(v).lower())
    for v in poss.get("types") or () if isinstance(poss.get("types"), list) else ():
        listed = True
        named.update(_TYPE_METHODS.get(str(v), ()))
    for m in poss.get("authenticationMethods") or () if isinstance(poss.get("authenticationMethods"), list) else ():
        if isinstance(m, Mapping):
            listed = True
            named.add(str(m.get("method")))
    return named if listed else None


def _kinds(methods: set[str]) -> tuple[MethodKind, ...]:
    out: dict[MethodKind, None] = {}
    for m in sorted(methods):
        out.update(dict.fromkeys(METHOD_KINDS.get(m, ())))
    return tuple(out)


def accepted_kinds(method: Mapping[str, Any]) -> tuple[MethodKind, ...]:
    """The kinds a 2FA rule lets a user present as the possession factor, when every
    branch names them; empty (any kind reaching the requirement) otherwise."""
    vtype = method.get("type", "ASSURANCE")
    names: set[str] = set()
    if vtype == "ASSURANCE":
        if method.get("factorMode") != "2FA":
            return ()
        branches = constraint_branches(method.get("constraints"))
        if not branches:
            return ()
        for branch in branches:
            poss = branch.get("possession") if isinstance(branch, Mapping) else None
            named = _branch_methods(poss) if isinstance(poss, Mapping) else None
            if named is None:
                return ()  # this branch takes any possession factor
            names |= named
        return _kinds(names)
    if vtype == "AUTH_METHOD_CHAIN":
        # Every possession step of every chain: what a user may present somewhere.
        for chain in method.get("chains") or () if isinstance(method.get("chains"), list) else ():
            names |= _chain_methods(chain)
        return _kinds(names)
    return ()


def _chain_methods(chain: Any) -> set[str]:
    if not isinstance(chain, Mapping):
        return set()
    out = {
        str(m.get("method"))
        for m in chain.get("authenticationMethods") or ()
        if isinstance(m, Mapping) and POSSESSION in STEP_METHODS.get(str(m.get("method")), (frozenset(), None))[0]
    }
    for n in chain.get("next") or () if isinstance(chain.get("next"), list) else ():
        out |= _chain_methods(n)
    return out
