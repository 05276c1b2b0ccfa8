"""Okta Identity Engine's authenticator availability (``GET /api/v1/authenticators``) →
the snapshot's methods policy (``SourceSnapshot.method_policy``).

An authenticator whose ``status`` is INACTIVE cannot be used by anyone, so a factor the
user enrolled with it is not usable (the engine's effective strength). Availability is
org-wide: who may enrol is the enrolment policy's business, what a sign-in accepts is
the authentication policy's (``accepted_methods``). Pure; table-tested.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auditor.model import MethodAllowance, MethodKind, Scope, SourceIssue
from connectors.okta import codes

# Every authenticator ``key`` Okta documents (AuthenticatorKeyEnum) → the factor kinds
# this connector reads from the users' factors (``parse.FACTOR_KINDS``) that it serves.
# Keys serving no factor kind read here (password, identity providers, smart cards,
# temporary access codes) are known and give no allowance.
AUTHENTICATOR_KINDS: Mapping[str, tuple[MethodKind, ...]] = {
    "okta_verify": (
        MethodKind.AUTHENTICATOR_PUSH,
        MethodKind.TOTP_SOFTWARE,
        MethodKind.OKTA_FASTPASS,
        MethodKind.AUTHENTICATOR_PASSWORDLESS,
    ),
    "google_otp": (MethodKind.TOTP_SOFTWARE,),
    "phone_number": (MethodKind.SMS, MethodKind.VOICE),
    "okta_email": (MethodKind.EMAIL_OTP,),
    "security_question": (MethodKind.SECURITY_QUESTION,),
    "webauthn": (MethodKind.FIDO2_SECURITY_KEY,),
    "yubikey_token": (MethodKind.HARDWARE_OTP,),
    "rsa_token": (MethodKind.HARDWARE_OTP,),
    "symantec_vip": (MethodKind.HARDWARE_OTP,),
    "custom_otp": (MethodKind.HARDWARE_OTP,),
    "onprem_mfa": (MethodKind.HARDWARE_OTP,),
    "duo": (MethodKind.UNSPECIFIED_SECOND_FACTOR,),
    "custom_app": (MethodKind.AUTHENTICATOR_PUSH,),
    "okta_password": (),
    "external_idp": (),
    "smart_card_idp": (),
    "tac": (),
}
STATUSES = frozenset({"ACTIVE", "INACTIVE"})
# ``settings.allowedFor`` (e-mail and phone): what the authenticator may be used for.
# ``recovery`` (password recovery only) and ``none`` make it no sign-in factor, as an
# e-mail address kept for password reset is none in Entra.
SIGN_IN_USES = frozenset({"any", "sso"})
NOT_SIGN_IN_USES = frozenset({"recovery", "none"})


def method_policy(raws: Iterable[Any]) -> tuple[tuple[MethodAllowance, ...], list[SourceIssue]]:
    """One allowance per kind: enabled when any ACTIVE authenticator serves it. An
    unknown key is named and ignored; an unknown status counts as not active (never
    usable on a guess)."""
    enabled: dict[MethodKind, tuple[bool, str]] = {}
    issues: list[SourceIssue] = []
    for raw in raws:
        if not isinstance(raw, Mapping):
            continue
        key = str(raw.get("key") or "")
        status = str(raw.get("status") or "")
        kinds = AUTHENTICATOR_KINDS.get(key)
        if kinds is None:
            issues.append(
                SourceIssue(
                    codes.AUTHENTICATOR_UNKNOWN,
                    f"authenticator {str(raw.get('id') or '?')[:40]} has key {key[:40]!r}, not one this connector "
                    "knows: its factors are judged as their factor type says",
                )
            )
            continue
        if status not in STATUSES:
            issues.append(
                SourceIssue(
                    codes.AUTHENTICATOR_UNKNOWN,
                    f"authenticator {key} has status {status[:30]!r}, not ACTIVE or INACTIVE: taken as not active",
                )
            )
        active = status == "ACTIVE"
        settings = raw.get("settings")
        allowed_for = settings.get("allowedFor") if isinstance(settings, Mapping) else None
        if allowed_for is not None and allowed_for not in SIGN_IN_USES:
            if allowed_for not in NOT_SIGN_IN_USES:
                issues.append(
                    SourceIssue(
                        codes.AUTHENTICATOR_UNKNOWN,
                        f"authenticator {key} has settings.allowedFor {str(allowed_for)[:30]!r}, not one Okta "
                        "documents: taken as not usable at sign-in",
                    )
                )
            active = False
        for kind in kinds:
            previous = enabled.get(kind)
            if previous is None or (active and not previous[0]):
                enabled[kind] = (active, key)
    everyone = Scope(include_all=True)
    allowances = tuple(
        MethodAllowance(kind, on, everyone, key) for kind, (on, key) in sorted(enabled.items(), key=lambda kv: kv[0])
    )
    return allowances, issues
