"""A user pool's MFA configuration → policies, the pool's method switches, issues.

What Cognito enforces (Amazon Cognito developer guide, "Adding MFA to a user pool",
"Working with adaptive authentication"):
- ``MfaConfiguration`` ON: every local user must pass a second factor of a type the pool
  enables; a user without one is made to set one up at sign-in (so an attacker holding
  the password enrols their own: ``not_enrolled``).
- OPTIONAL: only users who activated an MFA type are challenged, at every sign-in; the
  others sign in with the password alone (opt-in).
- OFF: no second factor.
- Federated users (status EXTERNAL_PROVIDER) are authenticated by their IdP; the pool's
  MFA never applies to them.
- Device tracking: a remembered device skips the MFA challenge (a condition).
- Passwordless first factors (e-mail or SMS one-time code) sign in without the pool's MFA
  (an alternative to it); a passkey counts as MFA only with
  ``FactorConfiguration: MULTI_FACTOR_WITH_USER_VERIFICATION``.
- Custom authentication (a ``DefineAuthChallenge`` Lambda in ``LambdaConfig``): the
  Lambda declares which challenges run and when tokens are issued; the pool's MFA is not
  applied by Cognito there, and the Lambda's code is not read (an alternative way in).
- Adaptive authentication (threat protection ``ENFORCED``): per app client and risk level
  Low / Medium / High, ``MFA_IF_CONFIGURED`` / ``MFA_REQUIRED`` / ``BLOCK`` /
  ``NO_ACTION``: a second factor only at some risk levels, i.e. conditional. In ``AUDIT``
  mode nothing is acted on (report-only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.model import (
    AccountId,
    Condition,
    ConditionKind,
    MethodAllowance,
    MethodKind,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    PortalId,
    PortalScope,
    Requirement,
    Scope,
    SourceIssue,
    Strength,
    requirement_for_strength,
)
from auditor.text import visible_controls

POOL_POLICY = PolicyId("pool-mfa")
ADAPTIVE_POLICY = PolicyId("adaptive-authentication")
POOL_KIND = "cognito_pool_mfa"
ADAPTIVE_KIND = "cognito_adaptive_authentication"
MODES = frozenset({"OFF", "ON", "OPTIONAL"})
SECURITY_MODES = frozenset({"OFF", "AUDIT", "ENFORCED"})
RISK_LEVELS = ("Low", "Medium", "High")
RISK_ACTIONS = {
    "NO_ACTION": Requirement.NONE,
    "MFA_IF_CONFIGURED": Requirement.MFA,
    "MFA_REQUIRED": Requirement.MFA,
    "BLOCK": Requirement.BLOCK,
}
PASSWORDLESS_FACTORS = ("EMAIL_OTP", "SMS_OTP")


@dataclass(frozen=True, slots=True)
class PoolMfa:
    """The pool's MFA switches as read."""

    mode: str  # OFF / ON / OPTIONAL (anything else: unknown)
    sms: bool
    totp: bool
    email: bool
    passkey_mfa: bool  # WebAuthn FactorConfiguration MULTI_FACTOR_WITH_USER_VERIFICATION
    webauthn: bool  # passkeys configured at all (first factor or MFA)
    security_mode: str  # threat protection: OFF / AUDIT / ENFORCED
    device_tracking: bool
    passwordless: tuple[str, ...]  # passwordless first factors allowed
    # A DefineAuthChallenge Lambda: the custom authentication flow, whose challenges (and
    # whether tokens are issued) the Lambda's code decides, not the pool's MFA setting.
    custom_auth: bool = False

    @property
    def accepted(self) -> tuple[MethodKind, ...]:
        flags = (
            (self.sms, MethodKind.SMS),
            (self.totp, MethodKind.TOTP_SOFTWARE),
            (self.email, MethodKind.EMAIL_OTP),
            (self.passkey_mfa, MethodKind.PASSKEY),
        )
        return tuple(kind for on, kind in flags if on)

    @property
    def requirement(self) -> Requirement:
        """What a challenge demands: the weakest type a user may answer it with."""
        kinds = self.accepted
        if not kinds:
            return Requirement.NONE
        weakest = min((k.strength for k in kinds), key=lambda s: s.rank)
        return requirement_for_strength(weakest) if weakest is not Strength.NONE else Requirement.NONE


def read_pool_mfa(pool: Mapping[str, Any], mfa: Mapping[str, Any]) -> PoolMfa:
    """``DescribeUserPool``'s ``UserPool`` and ``GetUserPoolMfaConfig`` → the switches."""
    token = mfa.get("SoftwareTokenMfaConfiguration")
    webauthn = mfa.get("WebAuthnConfiguration")
    addons = pool.get("UserPoolAddOns")
    policies = pool.get("Policies")
    sign_in = policies.get("SignInPolicy") if isinstance(policies, Mapping) else None
    first = sign_in.get("AllowedFirstAuthFactors") if isinstance(sign_in, Mapping) else None
    first_factors = [f for f in first if isinstance(f, str)] if isinstance(first, list) else []
    device = pool.get("DeviceConfiguration")
    lambdas = pool.get("LambdaConfig")
    return PoolMfa(
        mode=str(mfa.get("MfaConfiguration") or pool.get("MfaConfiguration") or ""),
        sms=isinstance(mfa.get("SmsMfaConfiguration"), Mapping) and bool(mfa["SmsMfaConfiguration"]),
        totp=isinstance(token, Mapping) and token.get("Enabled") is True,
        email=isinstance(mfa.get("EmailMfaConfiguration"), Mapping) and bool(mfa["EmailMfaConfiguration"]),
        passkey_mfa=isinstance(webauthn, Mapping)
        and webauthn.get("FactorConfiguration") == "MULTI_FACTOR_WITH_USER_VERIFICATION",
        webauthn=(isinstance(webauthn, Mapping) and bool(webauthn)) or "WEB_AUTHN" in first_factors,
        security_mode=str(addons.get("AdvancedSecurityMode") or "OFF") if isinstance(addons, Mapping) else "OFF",
        device_tracking=isinstance(device, Mapping) and bool(device),
        passwordless=tuple(f for f in PASSWORDLESS_FACTORS if f in first_factors),
        custom_auth=isinstance(lambdas, Mapping) and bool(lambdas.get("DefineAuthChallenge")),
    )


def method_policy(cfg: PoolMfa) -> tuple[MethodAllowance, ...]:
    everyone = Scope(include_all=True)
    return (
        MethodAllowance(MethodKind.SMS, cfg.sms, everyone, "SmsMfaConfiguration"),
        MethodAllowance(MethodKind.TOTP_SOFTWARE, cfg.totp, everyone, "SoftwareTokenMfaConfiguration"),
        MethodAllowance(MethodKind.EMAIL_OTP, cfg.email, everyone, "EmailMfaConfiguration"),
        MethodAllowance(MethodKind.PASSKEY, cfg.passkey_mfa, everyone, "WebAuthnConfiguration"),
    )


CUSTOM_AUTH_FLOWS = frozenset({"ALLOW_CUSTOM_AUTH", "CUSTOM_AUTH_FLOW_ONLY"})


def allows_custom_auth(client: Mapping[str, Any]) -> bool:
    """A ``DescribeUserPoolClient`` answer's ``UserPoolClient``: whether its
    ``ExplicitAuthFlows`` allow the custom authentication flow (``ALLOW_CUSTOM_AUTH``, or
    the legacy ``CUSTOM_AUTH_FLOW_ONLY``)."""
    flows = client.get("ExplicitAuthFlows")
    return isinstance(flows, list) and any(f in CUSTOM_AUTH_FLOWS for f in flows)


def _conditions(cfg: PoolMfa, custom: bool = True) -> tuple[Condition, ...]:
    out = []
    if cfg.device_tracking:
        out.append(Condition(ConditionKind.DEVICE, "device tracking: a remembered device skips the MFA challenge"))
    if cfg.passwordless:
        out.append(
            Condition(
                ConditionKind.ALTERNATIVE_CONTROL,
                f"passwordless first factor allowed ({', '.join(cfg.passwordless)}): sign-in without the pool's MFA",
            )
        )
    if cfg.custom_auth and custom:
        out.append(
            Condition(
                ConditionKind.ALTERNATIVE_CONTROL,
                "custom authentication (DefineAuthChallenge Lambda): an app client allowing ALLOW_CUSTOM_AUTH signs "
                "users in with the challenges the Lambda chooses, not the pool's MFA",
            )
        )
    return tuple(out)


def pool_policy(
    cfg: PoolMfa,
    opted_in: Iterable[AccountId],
    federated: Sequence[AccountId],
    custom_clients: Sequence[PortalId] | None = None,
) -> tuple[Policy | None, list[SourceIssue]]:
    """The pool's own MFA setting as one policy: one rule, or with a custom-authentication
    Lambda and ``custom_clients`` known (the app clients allowing the custom flow), a
    rule for those clients under the custom-flow condition and one for the others.
    ``custom_clients`` None: not known, every client is taken to allow it."""
    issues: list[SourceIssue] = []
    if cfg.mode not in MODES:
        shown = visible_controls(cfg.mode)[:40]
        issues.append(
            SourceIssue(
                "cognito.unknown_mfa_mode",
                f"MfaConfiguration {shown!r} is not OFF, ON or OPTIONAL: enforcement unknown",
                incomplete=True,
            )
        )
        return None, issues
    if cfg.mode != "OFF" and not cfg.accepted:
        issues.append(
            SourceIssue("cognito.no_mfa_type", f"MfaConfiguration {cfg.mode} but no MFA type is enabled in the pool")
        )
    excluded = tuple(sorted(federated))
    if cfg.mode == "OFF":
        scope, requirement = Scope(include_all=True), Requirement.NONE
    elif cfg.mode == "ON":
        scope, requirement = Scope(include_all=True, exclude_users=excluded), cfg.requirement
    else:
        skip = set(federated)
        scope = Scope(include_users=tuple(sorted(u for u in opted_in if u not in skip)))
        requirement = cfg.requirement
    if excluded:
        issues.append(
            SourceIssue(
                "cognito.federated_users",
                f"{len(excluded)} federated user(s) (EXTERNAL_PROVIDER) sign in through their IdP: the pool's MFA "
                "does not apply to them",
            )
        )
    name = f"MfaConfiguration {cfg.mode}" + (" (users who activated MFA)" if cfg.mode == "OPTIONAL" else "")
    enforcing = requirement is not Requirement.NONE

    def rule(rid: str, portals: PortalScope, custom: bool, suffix: str = "") -> PolicyRule:
        return PolicyRule(
            id=rid,
            name=name + suffix,
            scope=scope,
            portals=portals,
            requirement=requirement,
            conditions=_conditions(cfg, custom) if enforcing else (),
            accepted_methods=cfg.accepted if enforcing else (),
        )

    rules: list[PolicyRule] = []
    if cfg.custom_auth and custom_clients is not None:
        custom_ids = tuple(sorted(set(custom_clients)))
        rules.append(rule("pool-mfa", PortalScope(all=True, excluded_ids=custom_ids), False))
        if custom_ids:
            suffix = " (clients allowing custom auth)"
            rules.append(rule("pool-mfa-custom-auth", PortalScope(ids=custom_ids), True, suffix))
    else:
        rules.append(rule("pool-mfa", PortalScope(all=True), True))
    return Policy(POOL_POLICY, f"User pool MFA ({cfg.mode})", PolicyState.ENFORCED, tuple(rules), POOL_KIND), issues


def _actions(risk: Mapping[str, Any] | None) -> dict[str, str]:
    takeover = risk.get("AccountTakeoverRiskConfiguration") if isinstance(risk, Mapping) else None
    actions = takeover.get("Actions") if isinstance(takeover, Mapping) else None
    out = {}
    for level in RISK_LEVELS:
        entry = actions.get(f"{level}Action") if isinstance(actions, Mapping) else None
        action = entry.get("EventAction") if isinstance(entry, Mapping) else None
        out[level] = action if isinstance(action, str) else "NO_ACTION"
    return out


def adaptive_policy(
    cfg: PoolMfa, risks: Mapping[PortalId, Mapping[str, Any] | None], federated: Sequence[AccountId]
) -> tuple[Policy | None, list[SourceIssue]]:
    """Adaptive authentication, one rule per distinct set of actions (app clients may
    carry their own risk configuration). ``risks``: per app client, the
    ``DescribeRiskConfiguration`` answer (None: none configured)."""
    issues: list[SourceIssue] = []
    if cfg.security_mode not in SECURITY_MODES:
        shown = visible_controls(cfg.security_mode)[:40]
        issues.append(
            SourceIssue(
                "cognito.unknown_security_mode", f"AdvancedSecurityMode {shown!r}: adaptive authentication unknown"
            )
        )
        return None, issues
    if cfg.security_mode == "OFF":
        return None, issues
    groups: dict[tuple[tuple[str, str], ...], list[PortalId]] = {}
    for client, risk in sorted(risks.items()):
        groups.setdefault(tuple(_actions(risk).items()), []).append(client)
    rules = []
    for n, (actions, clients) in enumerate(sorted(groups.items(), key=lambda g: g[1][0])):
        unknown = sorted({a for _, a in actions if a not in RISK_ACTIONS})
        if unknown:
            issues.append(
                SourceIssue(
                    "cognito.unknown_risk_action",
                    "risk action(s) "
                    + ", ".join(visible_controls(a)[:30] for a in unknown)
                    + " not known; read as no action",
                )
            )
        levels = {level: RISK_ACTIONS.get(action, Requirement.NONE) for level, action in actions}
        strictest = max(levels.values(), key=lambda r: r.rank)
        if strictest is Requirement.MFA and cfg.mode == "OFF":
            issues.append(
                SourceIssue(
                    "cognito.adaptive_mfa_without_mfa",
                    "adaptive authentication asks for MFA, but the pool's MfaConfiguration is OFF: no MFA type to use",
                )
            )
            strictest = Requirement.NONE
        acting = [f"{level}: {action}" for level, action in actions if levels[level] is not Requirement.NONE]
        conditions = (
            (Condition(ConditionKind.RISK, "sign-in risk " + ", ".join(acting)),)
            if strictest is not Requirement.NONE
            else ()
        )
        rules.append(
            PolicyRule(
                id=f"adaptive-{n + 1}",
                name="Adaptive authentication (" + ("; ".join(f"{lv}: {a}" for lv, a in actions)) + ")",
                scope=Scope(include_all=True, exclude_users=tuple(sorted(federated))),
                portals=PortalScope(ids=tuple(clients)),
                requirement=cfg.requirement if strictest is Requirement.MFA else strictest,
                conditions=conditions,
                accepted_methods=cfg.accepted if strictest is Requirement.MFA else (),
            )
        )
    state = PolicyState.ENFORCED if cfg.security_mode == "ENFORCED" else PolicyState.REPORT_ONLY
    name = f"Adaptive authentication (threat protection {cfg.security_mode})"
    return Policy(ADAPTIVE_POLICY, name, state, tuple(rules), ADAPTIVE_KIND), issues
