"""Enforcement mapping: Google's 2-Step Verification enforcement → the model's Policy.

Google enforces 2SV per org unit or group, but the Directory reports the outcome per
user (``isEnforcedIn2Sv``), which already folds in inheritance and group overrides. So
the source's one policy is a single unconditional rule naming exactly the enforced
users with requirement MFA: Google's enforcement accepts any second factor (unless an
admin restricts it to security keys, which the Directory does not report, hence MFA,
the conservative reading). A user enrolled but not enforced is in no rule: coverage
says "not enforced".
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.model import (
    AccountId,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    PortalScope,
    Requirement,
    Scope,
)

POLICY_ID = PolicyId("2sv-enforcement")
RULE_ID = "2sv-enforced-users"
VENDOR_KIND = "google_2sv"


def two_step_policy(enforced_users: Iterable[AccountId]) -> Policy:
    return Policy(
        POLICY_ID,
        "2-Step Verification enforcement",
        PolicyState.ENFORCED,
        (
            PolicyRule(
                RULE_ID,
                "2SV enforced (per user, as the Directory reports it)",
                Scope(include_users=tuple(enforced_users)),
                PortalScope(all=True),
                Requirement.MFA,
            ),
        ),
        VENDOR_KIND,
    )
