"""Method-strength profiles: which method kinds count as a second factor, and how strong.

Frameworks disagree. The default follows the project's table (docs/methodology.md);
the two others follow a text, cited on the report's methodology page:

- ``cnil``: CNIL, délibération n° 2025-019 du 20 mars 2025 portant adoption d'une
  recommandation relative à l'authentification multifacteur (JORF, 2 April 2025). A
  password followed by a code received by e-mail is two-step verification (2SV), not
  multi-factor authentication: ``email_otp`` is no second factor.
- ``nist-800-63b-4``: NIST SP 800-63B-4, Digital Identity Guidelines: Authentication and
  Authenticator Management (August 2025). Out-of-band authentication over the public
  telephone network (SMS, voice) is a *restricted* authenticator (sec. 3.1.3.3): kept,
  and weak; an e-mail address proves no possession of a specific device and is not an
  out-of-band channel (sec. 3.1.3.1): ``email_otp`` is no second factor.

``policy.method_strengths`` overrides single kinds on top of the profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from auditor.config.schema import EvaluationPolicy, MethodProfile
from auditor.model import METHOD_STRENGTH, MethodKind, Strength

_OVERRIDES: Mapping[MethodProfile, Mapping[MethodKind, Strength]] = {
    MethodProfile.DEFAULT: {},
    MethodProfile.CNIL: {MethodKind.EMAIL_OTP: Strength.NONE},
    MethodProfile.NIST_800_63B_4: {
        MethodKind.EMAIL_OTP: Strength.NONE,
        MethodKind.SMS: Strength.WEAK,
        MethodKind.VOICE: Strength.WEAK,
    },
}

CITATIONS: Mapping[MethodProfile, str] = {
    MethodProfile.DEFAULT: "the mfa-auditor method table (docs/methodology.md)",
    MethodProfile.CNIL: "CNIL, délibération n° 2025-019 du 20 mars 2025 (recommandation relative à "
    "l'authentification multifacteur): password + e-mailed code is two-step verification, not MFA",
    MethodProfile.NIST_800_63B_4: "NIST SP 800-63B-4 (August 2025): SMS and voice are restricted "
    "authenticators (sec. 3.1.3.3); e-mail is not an out-of-band authenticator (sec. 3.1.3.1)",
}


def strength_table(policy: EvaluationPolicy) -> Mapping[MethodKind, Strength]:
    """The strength of every method kind under the profile in force and its overrides."""
    table = dict(METHOD_STRENGTH)
    table.update(_OVERRIDES[policy.profile])
    table.update(policy.method_strengths)
    return MappingProxyType(table)


def describe(policy: EvaluationPolicy) -> str:
    """One line for the report: the profile, what it follows, and any overrides."""
    text = f"{policy.profile.value}: {CITATIONS[policy.profile]}"
    if policy.method_strengths:
        text += "; overrides: " + ", ".join(f"{k.value}={v.value}" for k, v in sorted(policy.method_strengths.items()))
    return text


def profile_table(profile: str) -> Mapping[MethodKind, Strength]:
    """The strengths of a profile by its stored name (``AuditResult.profile``), without
    the run's overrides (those are in the run's attached configuration)."""
    try:
        chosen = MethodProfile(profile)
    except ValueError:
        chosen = MethodProfile.DEFAULT
    return strength_table(EvaluationPolicy(profile=chosen))
