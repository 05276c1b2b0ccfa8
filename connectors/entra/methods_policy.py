"""The tenant's Authentication methods policy (``/policies/authenticationMethodsPolicy``)
→ the model's ``MethodAllowance`` list. Pure; table-tested.

Each method configuration has a ``state`` (enabled / disabled) and targets: groups (the
keyword ``all_users`` for everyone) or users, included and excluded. A method a user
registered is usable only when an enabled configuration of its kind targets that user.

Two things this policy does not say, both stated in what it returns:
- Windows Hello for Business is not governed by it (it is configured through Intune and
  group policy): listed as allowed to everyone.
- Until the tenant's migration to this policy is complete (``policyMigrationState``),
  the legacy MFA and SSPR policies still allow methods Graph does not expose: the
  allowances are kept as evidence, but the fact is "not read".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from auditor.model import AccountId, GroupId, MethodAllowance, MethodKind, Scope, SourceIssue
from connectors.entra import codes

ALL_USERS = "all_users"
PATH = "/policies/authenticationMethodsPolicy"

# ``@odata.type`` of each configuration → the method kinds it governs. QR code + PIN is a
# first factor (no kind of ours); the external method is a second factor Entra cannot
# describe.
CONFIGURATION_KINDS: Mapping[str, tuple[MethodKind, ...]] = {
    "fido2AuthenticationMethodConfiguration": (MethodKind.FIDO2_SECURITY_KEY, MethodKind.PASSKEY),
    "microsoftAuthenticatorAuthenticationMethodConfiguration": (
        MethodKind.AUTHENTICATOR_PUSH,
        MethodKind.AUTHENTICATOR_PASSWORDLESS,
    ),
    "smsAuthenticationMethodConfiguration": (MethodKind.SMS,),
    "voiceAuthenticationMethodConfiguration": (MethodKind.VOICE,),
    "emailAuthenticationMethodConfiguration": (MethodKind.EMAIL_OTP,),
    "temporaryAccessPassAuthenticationMethodConfiguration": (MethodKind.TEMPORARY_ACCESS_PASS,),
    "softwareOathAuthenticationMethodConfiguration": (MethodKind.TOTP_SOFTWARE,),
    "hardwareOathAuthenticationMethodConfiguration": (MethodKind.HARDWARE_OTP,),
    "x509CertificateAuthenticationMethodConfiguration": (MethodKind.CERTIFICATE,),
    "externalAuthenticationMethodConfiguration": (MethodKind.UNSPECIFIED_SECOND_FACTOR,),
    "qrCodePinAuthenticationMethodConfiguration": (),
}
# Microsoft Authenticator's ``authenticationMode`` per include target.
_AUTHENTICATOR_MODES: Mapping[str, frozenset[MethodKind]] = {
    "any": frozenset({MethodKind.AUTHENTICATOR_PUSH, MethodKind.AUTHENTICATOR_PASSWORDLESS}),
    "push": frozenset({MethodKind.AUTHENTICATOR_PUSH}),
    "deviceBasedPush": frozenset({MethodKind.AUTHENTICATOR_PASSWORDLESS}),
}
# Kinds this policy does not govern: usable wherever registered.
NOT_GOVERNED: tuple[tuple[MethodKind, str], ...] = (
    (MethodKind.WINDOWS_HELLO, "windowsHelloForBusiness (not governed by the authentication methods policy)"),
)
_TYPE_PREFIX = "#microsoft.graph."


@dataclass(frozen=True, slots=True)
class MethodsPolicyRead:
    allowances: tuple[MethodAllowance, ...]
    groups: tuple[str, ...]  # the groups the targets name (their members must be resolved)
    issues: tuple[SourceIssue, ...]
    complete: bool  # the policy alone decides which methods are usable
    reason: str = ""  # why not, when not complete


def _targets(value: Any) -> list[Mapping[str, Any]]:
    return [t for t in value if isinstance(t, Mapping)] if isinstance(value, list) else []


# ``targetType`` of an include or exclude target (authenticationMethodTarget).
TARGET_TYPES = frozenset({"user", "group"})


def unknown_targets(targets: list[Mapping[str, Any]]) -> list[str]:
    """The target types (``targetType``) this connector does not know, in order."""
    return list(dict.fromkeys(str(t.get("targetType")) for t in targets if t.get("targetType") not in TARGET_TYPES))


def _scope(include: list[Mapping[str, Any]], exclude: list[Mapping[str, Any]]) -> Scope:
    def split(targets: list[Mapping[str, Any]]) -> tuple[bool, list[GroupId], list[AccountId]]:
        everyone, groups, users = False, [], []
        for t in targets:
            tid = str(t.get("id") or "")
            if not tid or t.get("targetType") not in TARGET_TYPES:
                continue  # an unknown target type: see ``unknown_targets``
            if t.get("targetType") == "user":
                users.append(AccountId(tid))
            elif tid == ALL_USERS:
                everyone = True
            else:
                groups.append(GroupId(tid))
        return everyone, groups, users

    inc_all, inc_groups, inc_users = split(include)
    _, exc_groups, exc_users = split(exclude)
    return Scope(
        include_all=inc_all,
        include_users=tuple(inc_users),
        include_groups=tuple(inc_groups),
        exclude_users=tuple(exc_users),
        exclude_groups=tuple(exc_groups),
    )


def _configuration(obj: Mapping[str, Any], issues: list[SourceIssue]) -> list[MethodAllowance]:
    odata = str(obj.get("@odata.type") or "").removeprefix(_TYPE_PREFIX)
    label = str(obj.get("id") or odata)
    kinds = CONFIGURATION_KINDS.get(odata)
    if kinds is None:
        issues.append(
            SourceIssue(
                codes.METHODS_POLICY_UNKNOWN,
                f"authentication methods policy: configuration {label!r} ({odata or 'no @odata.type'}) is not "
                "one this connector knows; the methods it governs are not counted as allowed by it",
                label,
            )
        )
        return []
    state = obj.get("state")
    if state not in ("enabled", "disabled"):
        issues.append(
            SourceIssue(
                codes.METHODS_POLICY_STATE,
                f"authentication methods policy: configuration {label!r} has state {state!r}; counted as disabled",
                label,
            )
        )
    enabled = state == "enabled"
    include = _targets(obj.get("includeTargets"))
    exclude = _targets(obj.get("excludeTargets"))
    odd_in, odd_out = unknown_targets(include), unknown_targets(exclude)
    if odd_in or odd_out:
        issues.append(
            SourceIssue(
                codes.METHODS_POLICY_TARGET,
                f"authentication methods policy: configuration {label!r} targets of type "
                f"{', '.join(dict.fromkeys(odd_in + odd_out))} this connector does not know; "
                + (
                    "who they exclude cannot be told, so the method counts as allowed to no one"
                    if odd_out
                    else "they are not counted as allowing the method to anyone"
                ),
                label,
            )
        )
    if odd_out:
        enabled = False  # never over-claim: the unknown exclusion may cover anyone
    restrictions = obj.get("keyRestrictions")
    restricted = isinstance(restrictions, Mapping) and restrictions.get("isEnforced") is True
    if odata == "fido2AuthenticationMethodConfiguration" and enabled and restricted:
        # The model of each registered key (its AAGUID) is not read: a key of a blocked
        # model still counts as usable, so the restriction is named.
        kind = restrictions.get("enforcementType") if isinstance(restrictions, Mapping) else None
        issues.append(
            SourceIssue(
                codes.METHODS_POLICY_KEY_RESTRICTIONS,
                f"authentication methods policy: configuration {label!r} restricts security keys by model "
                f"({kind!r} list); the model of each registered key is not read, "
                "so every registered key is counted as usable",
                label,
            )
        )
    if odata == "voiceAuthenticationMethodConfiguration" and enabled and obj.get("isOfficePhoneAllowed") is False:
        # Office and alternate mobile phones are one model kind (voice): the allowance
        # cannot exclude office phones alone, so the gap is named.
        issues.append(
            SourceIssue(
                codes.METHODS_POLICY_OFFICE_PHONE,
                f"authentication methods policy: configuration {label!r} does not allow office phones; a registered "
                "office phone is still counted as a usable voice method (the model's kinds do not tell the two "
                "phones apart)",
                label,
            )
        )
    out = []
    for kind in kinds:
        targets = include
        if odata == "microsoftAuthenticatorAuthenticationMethodConfiguration":
            # A target in push mode does not allow passwordless sign-in, and the reverse.
            targets = [t for t in include if kind in _AUTHENTICATOR_MODES.get(str(t.get("authenticationMode")), ())]
        scope = _scope(targets, exclude)
        if kind is MethodKind.EMAIL_OTP and obj.get("allowExternalIdToUseEmailOtp") in ("enabled", "default"):
            # Guests' e-mail one-time passcode: "default" has meant enabled since October 2021.
            scope = replace(scope, include_guests=True)
        out.append(
            MethodAllowance(
                kind,
                enabled
                and bool(scope.include_all or scope.include_groups or scope.include_users or scope.include_guests),
                scope,
                label,
            )
        )
    return out


def parse_methods_policy(obj: Mapping[str, Any]) -> MethodsPolicyRead:
    issues: list[SourceIssue] = []
    allowances: list[MethodAllowance] = []
    configs = obj.get("authenticationMethodConfigurations")
    for c in configs if isinstance(configs, list) else ():
        if isinstance(c, Mapping):
            allowances.extend(_configuration(c, issues))
    for kind, label in NOT_GOVERNED:
        allowances.append(MethodAllowance(kind, True, Scope(include_all=True), label))
    groups = tuple(dict.fromkeys(g for a in allowances for g in (*a.scope.include_groups, *a.scope.exclude_groups)))
    migration = obj.get("policyMigrationState")
    complete, reason = True, ""
    if migration != "migrationComplete":
        complete = False
        reason = (
            f"the tenant's migration to the authentication methods policy is {migration or 'not stated'}: "
            "the legacy MFA and SSPR policies may still allow methods that Graph does not expose"
        )
    if not isinstance(configs, list):
        complete, reason = False, "the authentication methods policy lists no method configuration"
    return MethodsPolicyRead(tuple(allowances), groups, tuple(issues), complete, reason)
